// Differential testing of the checker: RapidCheck generates small programs
// over the checked API (2-3 threads; loads, stores, read-modify-writes and
// compare-exchanges on up to three atomics; lock, unlock and try_lock on two
// mutexes (the second, in a third of the programs, on mc::futex_platform:
// the lock protocol's own steps); a recursive mutex, taken again while held; shared, exclusive,
// try-shared and try-exclusive sections of a reader-writer lock of each
// policy; semaphore acquire, try_acquire and release; condition-variable
// waits with a predicate and notifies; event set and wait; choose; a bounded
// queue of capacity 1: put, get, their try_ and timed forms, task_done, join
// and close; threads spawned by any thread, joined when their spawner's code
// ends; a fifth of the programs are litmus programs of atomics, fences
// and yields alone), and every search must reach exactly the outcomes plain dfs
// reaches: dpor on one job, on two, and the union of shards run with
// different job counts; dfs split over jobs and shards too; iterative delay
// bounding, when it completes.
// Bounded searches (a preemption bound, a delay bound, an execution bound)
// must reach a subset. On programs with many reader-writer sections, which
// dfs cannot finish, dpor must reach every outcome that random, PCT and POS
// sampling reach.
//
// An outcome is what the execution ended with: the values every thread (and
// every spawned one) read and the final atomics, or the bug kind (with the
// state, for a lost wake-up, which only ever ends a run with every thread
// stopped; with the failing thread's state, for a misuse).
//
// The test command runs a few hundred programs; the long form runs as many as
// you ask for:
//   RC_PARAMS="max_success=100000" ./build/tests/test_differential
// A difference is shrunk by RapidCheck to a smallest program and printed; it
// becomes a fixed test here or in tests/test_soundness.cpp.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <string>
#include <vector>

#include "lockstep/lockstep.hpp"

namespace {

namespace mc = lockstep::mc;

// -- programs ------------------------------------------------------------------------

enum class code : std::uint8_t {
  load,             // out <- a[x]
  store,            // a[x] <- v
  fetch_add,        // out <- a[x]; a[x] += v
  exchange,         // out <- a[x]; a[x] = v
  cas,              // out <- (a[x] == v ? a[x] = w, 1 : 0)
  locked,           // lock m[x]; body; unlock
  try_locked,       // out <- try_lock m[x]; if so: body; unlock
  sem_acquire,      // s.acquire()
  sem_try_acquire,  // out <- s.try_acquire()
  sem_release,      // s.release()
  cv_wait,          // lock m[0]; cv.wait(lk, a[x] >= 1); out <- a[x]
  cv_notify_one,
  cv_notify_all,
  cv_signal,        // lock m[0]; a[x] <- 1; unlock; notify_all
  event_set,
  event_wait,
  choose,           // out <- choose(2)
  yield,            // this_thread::yield(): a fair-scheduling yield
  sem_acquire_for,  // out <- s.try_acquire_for(1ms) (virtual time)
  event_wait_for,   // out <- ev.wait_for(1ms)
  plain_read,       // out <- p (plain memory: the race detector watches it)
  plain_write,      // p <- v
  fence,            // atomic_thread_fence
  q_put,            // out <- q.put(v)
  q_try_put,        // out <- q.try_put(v)
  q_put_for,        // out <- q.put_for(v, 1ms)
  q_get,            // out <- q.get() (-1: closed and drained)
  q_try_get,        // out <- q.try_get() (-1: empty)
  q_get_for,        // out <- q.get_for(1ms) (-1: none)
  q_task_done,
  q_join,
  q_close,
  rw_read,          // shared_lock rw; body
  rw_write,         // unique_lock rw; body
  rw_try_read,      // out <- rw.try_lock_shared(); if so: body; unlock_shared
  rw_try_write,     // out <- rw.try_lock(); if so: body; unlock
  rec_locked,       // lock r (a recursive mutex, perhaps held already); body; unlock
  now,              // out <- virtual_clock::now() in ms (no point: it rides on the step before)
  check,            // assert: the thread's last out is not v (no point; a failure stops the execution)
  spawn,            // start a thread that runs body (its outputs: slot x); joined when the spawner's code ends
};

struct instr {
  code c = code::load;
  int x = 0, v = 0, w = 0;
  // Atomics and fences: the memory order (see order_of): 0 relaxed, 1
  // acquire / release / acq_rel as fits, 2 seq_cst.
  int o = 2;
  std::vector<instr> body;  // the blocks (locked, try_locked, rw_*, rec_locked) and spawn
};

struct program {
  int atomics = 1;
  int sem_initial = 0;
  int rw_policy = 2;  // 0 reader_preferring, 1 writer_preferring, 2 fair
  bool fair = true;   // options::fair_scheduling, for every search of it
  // m[1] is a mutex on mc::futex_platform: its lock, try_lock and unlock are
  // the futex protocol's own steps (compare-exchanges, exchanges, futex
  // waits and wakes), searched like the program's.
  bool futex_m1 = false;
  std::vector<std::vector<instr>> threads;  // [0] runs in the body, between spawns and joins
  // Whose outputs the outcome shows: the threads, then one per spawn
  // instruction (its x). 0: threads.size().
  int slots = 0;
  std::size_t slot_count() const { return slots == 0 ? threads.size() : static_cast<std::size_t>(slots); }
};

void show_instr(const instr& i, std::ostream& os) {
  static const char* names[] = {"load",        "store",         "fetch_add",     "exchange",     "cas",
                                "locked",      "try_locked",    "sem_acquire",   "sem_try_acquire",
                                "sem_release", "cv_wait",       "cv_notify_one", "cv_notify_all",
                                "cv_signal",   "event_set",     "event_wait",    "choose",
                                "yield",       "sem_acquire_for", "event_wait_for", "plain_read",
                                "plain_write", "fence",         "q_put",         "q_try_put",    "q_put_for",
                                "q_get",       "q_try_get",     "q_get_for",     "q_task_done",  "q_join",
                                "q_close",     "rw_read",       "rw_write",      "rw_try_read",  "rw_try_write",
                                "rec_locked",  "now",           "check",         "spawn"};
  static const char* orders[] = {".rlx", ".ra", ""};
  os << names[static_cast<int>(i.c)] << orders[i.o] << "(" << i.x << "," << i.v << "," << i.w;
  if (!i.body.empty()) {
    os << " {";
    for (const instr& b : i.body) {
      os << " ";
      show_instr(b, os);
    }
    os << " }";
  }
  os << ")";
}

void showValue(const program& p, std::ostream& os) {
  os << "program{atomics=" << p.atomics << " sem=" << p.sem_initial << " rw=" << p.rw_policy;
  if (!p.fair) os << " unfair";
  if (p.futex_m1) os << " futex-m1";
  for (std::size_t t = 0; t < p.threads.size(); ++t) {
    os << "\n  thread " << t << ":";
    for (const instr& i : p.threads[t]) {
      os << " ";
      show_instr(i, os);
    }
  }
  os << "}";
}

// What the enclosing blocks hold, one bit each: m[0], m[1], the
// reader-writer lock, the recursive mutex.
constexpr int kHoldsRw = 4, kHoldsRec = 8;

// Blocks nest two deep at most. An inner block takes a lock its outer ones
// do not hold (the recursive mutex excepted: taking it again is its point);
// condition-variable work takes m[0] itself and stays outside blocks.
// How often the generator picks some instructions (weights; most are 1).
// Yield-heavy programs put many fair-scheduling windows and thread starts
// side by side: two split-search holes showed only with yields twelve times
// and spawns three times as likely.
struct mix {
  int rw = 1;     // each reader-writer section
  int yield = 1;
  int spawn = 1;
  // Mostly what a lean execution takes (seq_cst atomics, mutexes, choose,
  // spawn, yields, plain memory; see options::lean_sampling): the rest a
  // fortieth as often.
  bool lean = false;
  // Litmus programs: atomics, fences and yields only, fences four times as
  // likely (a fence is a step that touches nothing shared: optimal dpor
  // once dropped it from a wakeup sequence).
  bool litmus = false;
};

bool lean_code(code c) {
  return c <= code::cas || c == code::locked || c == code::try_locked || c == code::choose || c == code::now ||
         c == code::check || c == code::spawn || c == code::plain_read || c == code::plain_write ||
         c == code::yield;
}

rc::Gen<instr> gen_instr(int atomics, int held, int depth, mix w) {
  return rc::gen::exec([=] {
    instr i;
    for (;;) {
      // Mostly shared-memory and lock steps, where the orders matter.
      i.c = *rc::gen::weightedElement<code>({{4, code::load},
                                             {4, code::store},
                                             {2, code::fetch_add},
                                             {1, code::exchange},
                                             {2, code::cas},
                                             {4, code::locked},
                                             {2, code::try_locked},
                                             {1, code::sem_acquire},
                                             {1, code::sem_try_acquire},
                                             {2, code::sem_release},
                                             {1, code::cv_wait},
                                             {1, code::cv_notify_one},
                                             {1, code::cv_notify_all},
                                             {1, code::cv_signal},
                                             {1, code::event_set},
                                             {1, code::event_wait},
                                             {1, code::choose},
                                             {w.yield, code::yield},
                                             {1, code::sem_acquire_for},
                                             {1, code::event_wait_for},
                                             {1, code::plain_read},
                                             {1, code::plain_write},
                                             {w.litmus ? 4 : 1, code::fence},
                                             {2, code::q_put},
                                             {1, code::q_try_put},
                                             {1, code::q_put_for},
                                             {2, code::q_get},
                                             {1, code::q_try_get},
                                             {1, code::q_get_for},
                                             {1, code::q_task_done},
                                             {1, code::q_join},
                                             {1, code::q_close},
                                             {w.rw, code::rw_read},
                                             {w.rw, code::rw_write},
                                             {1, code::rw_try_read},
                                             {1, code::rw_try_write},
                                             {1, code::rec_locked},
                                             {1, code::now},
                                             {1, code::check},
                                             {w.spawn, code::spawn}});
      const bool rw = i.c == code::rw_read || i.c == code::rw_write || i.c == code::rw_try_read ||
                      i.c == code::rw_try_write;
      const bool nests = i.c == code::locked || i.c == code::try_locked || rw || i.c == code::rec_locked;
      if (held != 0 && (i.c == code::cv_wait || i.c == code::cv_signal)) continue;
      if (nests && depth >= 2) continue;
      if ((i.c == code::locked || i.c == code::try_locked) && (held & 3) == 3) continue;
      if (rw && (held & kHoldsRw) != 0) continue;
      if (i.c == code::spawn && depth != 0) continue;  // a thread's own code, outside blocks
      if (w.lean && !lean_code(i.c) && *rc::gen::inRange(0, 40) != 0) continue;
      if (w.litmus && !(i.c <= code::cas || i.c == code::fence || i.c == code::yield)) continue;
      break;
    }
    i.x = *rc::gen::inRange(0, atomics);
    i.v = *rc::gen::inRange(0, 3);
    i.w = *rc::gen::inRange(0, 3);
    // Memory orders: weak ones as often as seq_cst.
    if (i.c <= code::cas || i.c == code::fence)
      i.o = *rc::gen::weightedElement<int>({{1, 0}, {1, 1}, {w.lean ? 16 : 2, 2}});
    int holds = 0;  // what the block takes
    switch (i.c) {
      case code::locked:
      case code::try_locked:
        i.x = (held & 3) == 0 ? *rc::gen::inRange(0, 2) : (held & 1) != 0 ? 1 : 0;
        holds = 1 << i.x;
        break;
      case code::rw_read:
      case code::rw_write:
      case code::rw_try_read:
      case code::rw_try_write: holds = kHoldsRw; break;
      case code::rec_locked: holds = kHoldsRec; break;
      default: break;
    }
    if (holds != 0) {
      const int n = *rc::gen::inRange(0, depth == 0 ? 3 : 2);
      for (int k = 0; k < n; ++k) i.body.push_back(*gen_instr(atomics, held | holds, depth + 1, w));
    }
    if (i.c == code::spawn) {  // the child's code: one or two steps, no spawn of its own
      const int n = *rc::gen::inRange(1, 3);
      for (int k = 0; k < n; ++k) i.body.push_back(*gen_instr(atomics, 0, 1, w));
    }
    return i;
  });
}

// Gives each spawn instruction its output slot, after the threads'.
void number_spawns(program& p) {
  int next = static_cast<int>(p.threads.size());
  for (auto& code : p.threads)
    for (instr& i : code)
      if (i.c == code::spawn) i.x = next++;
  p.slots = next;
}

rc::Gen<program> gen_program(mix w = {}) {
  return rc::gen::exec([=] {
    program p;
    p.atomics = *rc::gen::weightedElement<int>({{4, 1}, {3, 2}, {1, 3}});
    p.sem_initial = *rc::gen::inRange(0, 2);
    p.rw_policy = *rc::gen::inRange(0, 3);
    // Fair scheduling changes whom a yield defers to, and what dpor must
    // order (the steps in a yielder's window): a quarter of the programs
    // run without it.
    p.fair = *rc::gen::weightedElement<int>({{3, 1}, {1, 0}}) != 0;
    p.futex_m1 = *rc::gen::weightedElement<int>({{2, 0}, {1, 1}}) != 0;
    // Litmus programs: three threads as often as two, up to three steps
    // each, and one or two atomics, so that the threads race.
    if (w.litmus) p.atomics = *rc::gen::weightedElement<int>({{2, 1}, {1, 2}});
    const int threads = *rc::gen::inRange(2, 4);
    for (int t = 0; t < threads; ++t) {
      const int n = *rc::gen::inRange(1, threads == 3 && !w.litmus ? 3 : threads == 3 ? 4 : 5);
      std::vector<instr> code;
      for (int k = 0; k < n; ++k) code.push_back(*gen_instr(p.atomics, 0, 0, w));
      p.threads.push_back(std::move(code));
    }
    number_spawns(p);
    return p;
  });
}

// -- running one ---------------------------------------------------------------------

// What the running execution did so far, kept beside it on the OS thread
// that explores (fibers of one execution share it; jobs have their own), up
// to the bug if one is found: what threads do while they stop after it (a
// store or read-modify-write at a thread's next point completes) comes after
// the bug, no part of the trace, and is left out (see record()).
struct snapshot {
  std::vector<std::vector<int>> outs;  // per slot: values produced
  std::vector<int> pc;                 // per slot: instructions done
  std::array<int, 3> atoms{};
  // The slot of each of the execution's thread ids: a spawned thread's id
  // depends on the order of the spawns, its slot does not.
  std::vector<std::size_t> slot_of;
};
thread_local snapshot tl_snap;

// Whether the snapshot still follows the execution (no bug found yet).
bool record() { return !mc::detail::failing(); }

struct world {
  explicit world(const program& p) : rw_policy(p.rw_policy), futex_m1(p.futex_m1), sem(p.sem_initial) {}
  std::array<mc::atomic<int>, 3> a{};
  int rw_policy;
  bool futex_m1;
  mc::mutex m0;  // condition-variable work takes it too
  mc::mutex m1;
  lockstep::basic_mutex<mc::futex_platform> m1_futex;
  // f(m[x]): m0, or m1 on the program's platform
  template <class F>
  void with_m(int x, F&& f) {
    if (x == 0) f(m0);
    else if (futex_m1) f(m1_futex);
    else f(m1);
  }
  mc::recursive_mutex rec;
  mc::shared_mutex<lockstep::reader_preferring> rw_reader;
  mc::shared_mutex<lockstep::writer_preferring> rw_writer;
  mc::shared_mutex<lockstep::fair> rw_fair;
  // f(the reader-writer lock of the program's policy)
  template <class F>
  void with_rw(F&& f) {
    if (rw_policy == 0) f(rw_reader);
    else if (rw_policy == 1) f(rw_writer);
    else f(rw_fair);
  }
  mc::counting_semaphore<8> sem;
  mc::condition_variable cv;
  mc::event ev;
  mc::shared<int> plain{0};
  mc::bounded_queue<int> q{1};
};

std::memory_order order_of(const instr& i) {
  if (i.o == 0) return std::memory_order_relaxed;
  if (i.o == 2) return std::memory_order_seq_cst;
  switch (i.c) {
    case code::load: return std::memory_order_acquire;
    case code::store: return std::memory_order_release;
    case code::fence: return std::memory_order_acq_rel;
    default: return std::memory_order_acq_rel;
  }
}

// The running thread's outputs go to `slot`.
void enter_slot(int slot) {
  const std::size_t id = mc::this_thread::get_id();
  if (tl_snap.slot_of.size() <= id) tl_snap.slot_of.resize(id + 1);
  tl_snap.slot_of[id] = static_cast<std::size_t>(slot);
}

void run_code(world& w, const std::vector<instr>& code, int t) {
  auto out = [t](int v) {
    if (record()) tl_snap.outs[static_cast<std::size_t>(t)].push_back(v);
  };
  auto atom = [&w](int x) -> mc::atomic<int>& { return w.a[static_cast<std::size_t>(x)]; };
  auto set_atom = [](int x, int v) {
    if (record()) tl_snap.atoms[static_cast<std::size_t>(x)] = v;
  };
  auto mirror = [&](int x) { set_atom(x, atom(x).load()); };
  std::vector<mc::thread> children;  // joined when this code ends
  for (const instr& i : code) {
    switch (i.c) {
      case code::load: out(atom(i.x).load(order_of(i))); break;
      case code::store:
        atom(i.x).store(i.v, order_of(i));
        set_atom(i.x, i.v);
        break;
      case code::fetch_add: {
        const int old = atom(i.x).fetch_add(i.v, order_of(i));
        set_atom(i.x, old + i.v);
        out(old);
        break;
      }
      case code::exchange: {
        const int old = atom(i.x).exchange(i.v, order_of(i));
        set_atom(i.x, i.v);
        out(old);
        break;
      }
      case code::cas: {
        int expected = i.v;
        const bool ok = atom(i.x).compare_exchange_strong(expected, i.w, order_of(i));
        if (ok) set_atom(i.x, i.w);
        out(ok ? 1 : 0);
        break;
      }
      case code::locked:
        w.with_m(i.x, [&](auto& m) {
          std::scoped_lock g(m);
          run_code(w, i.body, t);
        });
        break;
      case code::try_locked:
        w.with_m(i.x, [&](auto& m) {
          const bool ok = m.try_lock();
          out(ok ? 1 : 0);
          if (ok) {
            std::scoped_lock g(std::adopt_lock, m);
            run_code(w, i.body, t);
          }
        });
        break;
      case code::sem_acquire: w.sem.acquire(); break;
      case code::sem_try_acquire: out(w.sem.try_acquire() ? 1 : 0); break;
      case code::sem_release: w.sem.release(); break;
      case code::cv_wait: {
        std::unique_lock lk(w.m0);
        w.cv.wait(lk, [&] { return atom(i.x).load() >= 1; });
        out(atom(i.x).load());
        break;
      }
      case code::cv_notify_one: w.cv.notify_one(); break;
      case code::cv_notify_all: w.cv.notify_all(); break;
      case code::cv_signal: {
        {
          std::scoped_lock g(w.m0);
          atom(i.x).store(1);
          mirror(i.x);
        }
        w.cv.notify_all();
        break;
      }
      case code::event_set: w.ev.set(); break;
      case code::event_wait: w.ev.wait(); break;
      case code::choose: out(static_cast<int>(mc::choose(2))); break;
      case code::yield: mc::this_thread::yield(); break;
      case code::sem_acquire_for: out(w.sem.try_acquire_for(std::chrono::milliseconds(1)) ? 1 : 0); break;
      case code::event_wait_for: out(w.ev.wait_for(std::chrono::milliseconds(1)) ? 1 : 0); break;
      case code::now:
        out(static_cast<int>(mc::virtual_clock::now().time_since_epoch() / std::chrono::milliseconds(1)));
        break;
      case code::check: {
        const std::vector<int>& mine = tl_snap.outs[static_cast<std::size_t>(t)];
        LOCKSTEP_ASSERT(mine.empty() || mine.back() != i.v);
        break;
      }
      case code::plain_read: out(w.plain.load()); break;
      case code::plain_write: w.plain.store(i.v); break;
      case code::fence: mc::atomic_thread_fence(order_of(i)); break;
      case code::q_put: out(w.q.put(i.v) ? 1 : 0); break;
      case code::q_try_put: out(w.q.try_put(i.v) ? 1 : 0); break;
      case code::q_put_for: out(w.q.put_for(i.v, std::chrono::milliseconds(1)) ? 1 : 0); break;
      case code::q_get: out(w.q.get().value_or(-1)); break;
      case code::q_try_get: out(w.q.try_get().value_or(-1)); break;
      case code::q_get_for: out(w.q.get_for(std::chrono::milliseconds(1)).value_or(-1)); break;
      case code::q_task_done: w.q.task_done(); break;
      case code::q_join: w.q.join(); break;
      case code::q_close: w.q.close(); break;
      case code::rw_read:
        w.with_rw([&](auto& rw) {
          std::shared_lock g(rw);
          run_code(w, i.body, t);
        });
        break;
      case code::rw_write:
        w.with_rw([&](auto& rw) {
          std::unique_lock g(rw);
          run_code(w, i.body, t);
        });
        break;
      case code::rw_try_read:
      case code::rw_try_write:
        w.with_rw([&](auto& rw) {
          const auto section = [&](const auto& g) {
            out(g.owns_lock() ? 1 : 0);
            if (g.owns_lock()) run_code(w, i.body, t);
          };
          if (i.c == code::rw_try_read) section(std::shared_lock(rw, std::try_to_lock));
          else section(std::unique_lock(rw, std::try_to_lock));
        });
        break;
      case code::rec_locked: {
        std::scoped_lock g(w.rec);
        run_code(w, i.body, t);
        break;
      }
      case code::spawn:
        children.emplace_back([&w, &i] {
          enter_slot(i.x);
          run_code(w, i.body, i.x);
        });
        break;
    }
    if (record()) ++tl_snap.pc[static_cast<std::size_t>(t)];
  }
  for (auto& c : children) c.join();
}

void run_program(const program& p) {
  tl_snap.outs.assign(p.slot_count(), {});
  tl_snap.pc.assign(p.slot_count(), 0);
  tl_snap.atoms = {};
  tl_snap.slot_of.clear();
  enter_slot(0);
  world w(p);
  std::vector<mc::thread> ts;
  for (std::size_t t = 1; t < p.threads.size(); ++t)
    ts.emplace_back([&w, &p, t] {
      enter_slot(static_cast<int>(t));
      run_code(w, p.threads[t], static_cast<int>(t));
    });
  run_code(w, p.threads[0], 0);
  for (auto& t : ts) t.join();
}

std::string thread_text(std::size_t t) {
  std::string s = " t" + std::to_string(t) + "@" + std::to_string(tl_snap.pc[t]) + ":";
  for (int v : tl_snap.outs[t]) s += std::to_string(v);
  return s;
}

std::string state_text() {
  std::string s;
  for (std::size_t t = 0; t < tl_snap.outs.size(); ++t) s += thread_text(t);
  s += " a=";
  for (int v : tl_snap.atoms) s += std::to_string(v);
  return s;
}

std::string outcome(const mc::bug* b) {
  if (b == nullptr) return "end" + state_text();
  // A deadlock cycle is reported when it closes and a data race at its
  // second access, while other threads may still run: only the kind is the
  // same in every equivalent execution.
  // So is starvation, reported when a waiter is bypassed once too often.
  // The execution goes on after them (keep_going), and two of them in
  // independent steps come in either order in equivalent executions: the
  // outcome is every kind it recorded, in a fixed order.
  if (b->kind == mc::bug_kind::deadlock || b->kind == mc::bug_kind::data_race ||
      b->kind == mc::bug_kind::starvation) {
    std::set<std::string> kinds{mc::bug_kind_name(b->kind)};
    for (mc::bug_kind k : b->later) kinds.insert(mc::bug_kind_name(k));
    std::string s;
    for (const std::string& k : kinds) s += (s.empty() ? "" : "+") + k;
    return s;
  }
  // A misuse is found inside the failing thread's step: what the others did
  // by then (a step independent of it, even a thread's start) may come before
  // or after it in an equivalent execution, so only the failing thread's own
  // state up to the bug is the same in every one.
  if (b->kind == mc::bug_kind::misuse && b->thread < tl_snap.slot_of.size())
    return std::string(mc::bug_kind_name(b->kind)) + thread_text(tl_snap.slot_of[b->thread]);
  return std::string(mc::bug_kind_name(b->kind)) + state_text();
}

struct search_result {
  std::set<std::string> outcomes;
  bool complete = false;
  std::uint64_t executions = 0;
  std::string what;
};

constexpr std::uint64_t kDfsCap = 20000;

search_result search(const program& p, mc::options o, const std::string& what,
                     std::uint32_t bypass = std::numeric_limits<std::uint32_t>::max()) {
  o.honour_env = false;
  o.shrink = false;
  o.keep_going = true;
  o.fair_scheduling = p.fair;
  o.skip_abandoned = true;  // only the executions dpor relies on count (see mc::options)
  o.trace_dir = "-";
  // Starvation (a waiter bypassed more than `bypass` times): no bound
  // unless asked (see DporReachesWhatSamplingReaches), since a
  // reader-preferring lock reaches it in many programs and would hide the
  // outcomes after it.
  o.bypass_bound = bypass;
  // The reference dfs stops at kDfsCap; the others get room to spare (a
  // job's share of a split search is not an even one).
  if (o.max_executions == 0) o.max_executions = what == "dfs" ? kDfsCap : 8 * kDfsCap;
  std::mutex m;
  search_result out;
  out.what = what;
  o.on_execution = [&](const mc::bug* b) {
    std::string s = outcome(b);
    std::scoped_lock g(m);
    out.outcomes.insert(std::move(s));
  };
  const mc::result r = mc::explore(o, [&p] { run_program(p); });
  out.complete = r.complete || r.shard_complete;
  out.executions = r.executions;
  return out;
}

mc::options with(mc::strategy_spec s) {
  mc::options o;
  o.strategy = std::move(s);
  return o;
}

std::string diff(const std::set<std::string>& want, const std::set<std::string>& got) {
  std::string s;
  for (const auto& x : want)
    if (!got.count(x)) s += "\n    missing: " + x;
  for (const auto& x : got)
    if (!want.count(x)) s += "\n    extra:   " + x;
  return s;
}

// The union of `shards` shards, shard i on 1 + i % 2 jobs.
search_result sharded(const program& p, mc::strategy_spec s, unsigned shards, std::size_t split_depth = 0) {
  search_result all;
  all.what = std::string(mc::strategy_name(s.k)) + " as " + std::to_string(shards) + " shards";
  if (split_depth != 0) all.what += ", split " + std::to_string(split_depth) + " deep";
  all.complete = true;
  for (unsigned i = 0; i < shards; ++i) {
    mc::options o = with(s);
    o.shard_index = i;
    o.shard_count = shards;
    o.split_depth = split_depth;
    o.jobs = 1 + i % 2;
    search_result r = search(p, o, all.what);
    all.complete = all.complete && r.complete;
    all.executions += r.executions;
    all.outcomes.insert(r.outcomes.begin(), r.outcomes.end());
  }
  return all;
}

RC_GTEST_PROP(Differential, EverySearchReachesTheOutcomesOfPlainDfs, ()) {
  // A fifth of the programs yield and spawn often, a fifth are litmus
  // programs (see mix).
  const int kind = *rc::gen::weightedElement<int>({{3, 0}, {1, 1}, {1, 2}});
  const bool yield_heavy = kind == 1;
  const program p = *gen_program(kind == 1 ? mix{.yield = 12, .spawn = 3} : kind == 2 ? mix{.litmus = true} : mix{});
  const search_result base = search(p, with(mc::dfs()), "dfs");
  RC_PRE(base.complete);  // too large for plain dfs: not a usable reference
  RC_TAG(base.outcomes.size() > 1 ? "several outcomes" : "one outcome");
  if (yield_heavy) RC_TAG("yield-heavy");
  if (kind == 2) RC_TAG("litmus");
  for (const auto& x : base.outcomes) RC_TAG(x.substr(0, x.find(" ")));

  std::vector<search_result> same;
  same.push_back(search(p, with(mc::dpor()), "dpor"));
  same.push_back(search(p, with(mc::source_dpor()), "source-dpor"));
  {
    mc::options o = with(mc::dpor());
    o.jobs = 2;
    same.push_back(search(p, o, "dpor on 2 jobs"));
  }
  same.push_back(sharded(p, mc::dpor(), 2));
  same.push_back(sharded(p, mc::dpor(), 3));
  {
    mc::options o = with(mc::dfs());
    o.jobs = 2;
    same.push_back(search(p, o, "dfs on 2 jobs"));
  }
  same.push_back(sharded(p, mc::dfs(), 3));
  {
    // The default split depths are past the end of most programs small
    // enough for plain dfs: their executions are all top. A shallow split
    // falls inside them, at any kind of decision.
    const std::size_t depth = *rc::gen::inRange<std::size_t>(1, 5);
    mc::options o = with(mc::dpor());
    o.jobs = 2;
    o.split_depth = depth;
    same.push_back(search(p, o, "dpor on 2 jobs, split " + std::to_string(depth) + " deep"));
    same.push_back(sharded(p, mc::dpor(), 3, depth));
    same.push_back(sharded(p, mc::dfs(), 2, depth));
  }
  {
    // Iterative delay bounding repeats the schedules of every smaller bound:
    // it may run out of room before it completes, and then reaches a subset.
    const search_result delay = search(p, with(mc::delay_bounding()), "delay bounding");
    if (delay.complete) same.push_back(delay);
    else RC_TAG("delay bounding incomplete");
  }
  for (const search_result& r : same) {
    if (!r.complete) RC_FAIL(r.what + " did not complete after " + std::to_string(r.executions) + " executions");
    if (r.outcomes != base.outcomes)
      RC_FAIL(r.what + " reached other outcomes than dfs:" + diff(base.outcomes, r.outcomes));
  }

  std::vector<search_result> subsets;
  for (int bound : {0, 1}) {
    mc::options o = with(mc::dfs());
    o.preemption_bound = bound;
    subsets.push_back(search(p, o, "dfs with preemption bound " + std::to_string(bound)));
    o.strategy = mc::dpor();
    subsets.push_back(search(p, o, "dpor with preemption bound " + std::to_string(bound)));
  }
  for (int bound : {0, 1, 2}) {
    mc::options o = with(mc::delay_bounding(bound));
    subsets.push_back(search(p, o, "delay bounding up to " + std::to_string(bound) + " delays"));
  }
  {
    mc::options o = with(mc::dpor());
    o.max_executions = 3;
    subsets.push_back(search(p, o, "dpor stopped after 3 executions"));
  }
  for (const search_result& r : subsets)
    for (const std::string& x : r.outcomes)
      if (!base.outcomes.count(x)) RC_FAIL(r.what + " reached an outcome dfs never reaches: " + x);
}

// Dfs cannot finish most programs with reader-writer sections (each takes
// a dozen steps of the lock's own), so the property above rarely keeps one
// with a waiter the lock keeps blocked. Here dpor is checked against what
// random, PCT and POS sampling reach on such programs: every outcome a
// sampled execution ends with, dpor must reach too. Reader-writer sections
// are ten times as likely, and the starvation bound is 0 to 2, so that a
// reader-preferring lock's bypassed writer is reported (as a kind: see
// outcome()), a finding dpor must not lose by taking one execution of
// several equivalent ones.
RC_GTEST_PROP(Differential, DporReachesWhatSamplingReaches, ()) {
  const program p = *gen_program(mix{.rw = 10});
  const auto bypass = *rc::gen::inRange<std::uint32_t>(0, 3);
  mc::options d = with(mc::dpor());
  d.max_executions = kDfsCap;  // a larger program costs more than it adds
  const search_result dpor = search(p, d, "dpor", bypass);
  RC_PRE(dpor.complete);
  RC_CLASSIFY(std::any_of(dpor.outcomes.begin(), dpor.outcomes.end(),
                          [](const std::string& x) { return x.find("starvation") != std::string::npos; }),
              "dpor finds starvation");
  {
    // Split shallow, so that it falls inside the program (see above).
    const std::size_t depth = *rc::gen::inRange<std::size_t>(1, 5);
    d.jobs = 2;
    d.split_depth = depth;
    // (Source sets and the split's expanded top run more executions than
    // dpor on one job.)
    d.max_executions = 8 * kDfsCap;
    const search_result split = search(p, d, "dpor on 2 jobs, split " + std::to_string(depth) + " deep", bypass);
    if (!split.complete) RC_FAIL(split.what + " did not complete");
    if (split.outcomes != dpor.outcomes)
      RC_FAIL(split.what + " reached other outcomes than dpor on one job:" + diff(dpor.outcomes, split.outcomes));
  }
  const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1u << 30);
  for (const mc::strategy_spec& s : {mc::random(seed), mc::pct(seed, 3), mc::pos(seed)}) {
    mc::options o = with(s);
    o.max_executions = 2000;
    const search_result r = search(p, o, std::string(mc::strategy_name(s.k)), bypass);
    for (const std::string& x : r.outcomes)
      if (!dpor.outcomes.count(x))
        RC_FAIL(r.what + " reached an outcome dpor never reaches (starvation bound " + std::to_string(bypass) +
                "): " + x);
  }
}

// Random sampling runs an execution lean when it can and again in full
// when it must (options::lean_sampling): execution by execution it must end
// as it does with every execution in full, and the counts, the first bug and
// its report must be the same. Most programs keep to what a lean execution
// takes, the rest stop it now and then; with a bug, the search either stops
// at the first (its report compared) or goes on (keep_going).
struct sampled_run {
  std::vector<std::string> outcomes;  // in the order of the executions (one job)
  mc::result r;
};

sampled_run sample(const program& p, std::uint64_t seed, bool lean, bool keep_going) {
  mc::options o = with(mc::random(seed));
  o.honour_env = false;
  o.shrink = false;
  o.keep_going = keep_going;
  o.fair_scheduling = p.fair;
  o.trace_dir = "-";
  o.max_executions = 300;
  o.lean_sampling = lean;
  sampled_run out;
  o.on_execution = [&](const mc::bug* b) { out.outcomes.push_back(outcome(b)); };
  out.r = mc::explore(o, [&p] { run_program(p); });
  return out;
}

RC_GTEST_PROP(Differential, LeanSamplingRunsWhatFullSamplingRuns, ()) {
  const bool lean_heavy = *rc::gen::weightedElement<int>({{1, 0}, {3, 1}}) != 0;
  const program p = *gen_program(mix{.lean = lean_heavy});
  const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1u << 30);
  const bool keep_going = *rc::gen::arbitrary<bool>();
  const sampled_run full = sample(p, seed, false, keep_going);
  const sampled_run lean = sample(p, seed, true, keep_going);
  RC_TAG(full.r.found ? "a bug" : "no bug");
  RC_ASSERT(lean.r.executions == full.r.executions);
  RC_ASSERT(lean.r.steps == full.r.steps);
  RC_ASSERT(lean.outcomes == full.outcomes);
  RC_ASSERT(lean.r.found.has_value() == full.r.found.has_value());
  if (full.r.found) {
    const mc::bug& a = *full.r.found;
    const mc::bug& b = *lean.r.found;
    RC_ASSERT(b.kind == a.kind);
    RC_ASSERT(b.execution == a.execution);
    RC_ASSERT(b.step == a.step);
    RC_ASSERT(b.schedule == a.schedule);
    RC_ASSERT(b.message == a.message);
    RC_ASSERT(b.details == a.details);
  }
}

instr op(code c, int order = 2) {
  instr i;
  i.c = c;
  i.o = order;
  return i;
}

// Found by the property above: after a misuse, the failing thread's
// fetch_add completes at its next point and reads whatever the store it
// does not wait for left. Taken into the outcome, that value made dpor on 2
// jobs (whose split frame runs the failing thread first, then lets it sleep)
// look as if it missed an outcome of dfs. The outcome is the failing thread's
// state at the bug: the task_done, with nothing done yet, in every search.
TEST(Differential, AMisuseEndsTheOutcomeAtTheBug) {
  program p;
  p.threads = {{op(code::load), op(code::cv_signal)},
               {op(code::q_task_done), op(code::sem_release)},
               {op(code::q_task_done), op(code::fetch_add, 0)}};
  const std::set<std::string> want = {"misuse t1@0:", "misuse t2@0:"};
  const search_result dfs = search(p, with(mc::dfs()), "dfs");
  ASSERT_TRUE(dfs.complete);
  EXPECT_EQ(dfs.outcomes, want);
  mc::options o = with(mc::dpor());
  o.jobs = 2;
  const search_result dpor2 = search(p, o, "dpor on 2 jobs");
  EXPECT_TRUE(dpor2.complete);
  EXPECT_EQ(dpor2.outcomes, want);
}

// Plain dfs completes, and dpor, source-dpor and dpor on 2 jobs complete with
// its outcomes; dfs's result is returned for the test's own checks of them.
search_result dfs_and_dpor_agree(const program& p) {
  const search_result dfs = search(p, with(mc::dfs()), "dfs");
  EXPECT_TRUE(dfs.complete);
  if (!dfs.complete) return dfs;
  mc::options two = with(mc::dpor());
  two.jobs = 2;
  for (const search_result& r : {search(p, with(mc::dpor()), "dpor"), search(p, with(mc::source_dpor()), "source-dpor"),
                                 search(p, two, "dpor on 2 jobs")}) {
    EXPECT_TRUE(r.complete) << r.what;
    EXPECT_EQ(r.outcomes, dfs.outcomes) << r.what << diff(dfs.outcomes, r.outcomes);
  }
  return dfs;
}

// Dpor as 2 and 3 shards (see sharded()), and on 2 jobs if asked, completes
// with the outcomes `want`.
void splits_agree(const program& p, const std::set<std::string>& want, bool two_jobs) {
  std::vector<search_result> splits{sharded(p, mc::dpor(), 2), sharded(p, mc::dpor(), 3)};
  if (two_jobs) {
    mc::options two = with(mc::dpor());
    two.jobs = 2;
    splits.push_back(search(p, two, "dpor on 2 jobs"));
  }
  for (const search_result& r : splits) {
    EXPECT_TRUE(r.complete) << r.what;
    EXPECT_EQ(r.outcomes, want) << r.what << diff(want, r.outcomes);
  }
}

// Found by the property above: a put that finds the queue closed touched no
// item, so it looked independent of the try_get after it, and no search with
// sleep sets tried the try_get, the put, then the close (the put succeeds,
// the try_get finds the queue empty): each counted on the other's branch.
TEST(Differential, ATryGetBeforeAPutThatBeatsTheClose) {
  program p;
  p.threads = {{op(code::q_put)}, {op(code::q_close)}, {op(code::q_try_get)}};
  const search_result dfs = dfs_and_dpor_agree(p);
  EXPECT_TRUE(dfs.outcomes.count("end t0@1:1 t1@1: t2@1:-1 a=000"));
}

// Found by the property above: a put that finds the queue closed names the
// items and the count of unfinished ones as written (kPutOnClosed), so it
// was the count's last write, and a join that returned after it took it for
// the write it had waited for (monitor_state::needs): never in a race with
// it. But the join could have returned before it (the count was 0), and
// which of the two takes the monitor first decides what happens before what.
// Here thread 1's rw_try_read section holds that order, and only with the
// join first does thread 1 take m0 before thread 0's try_lock, which fails.
TEST(Differential, AJoinNeedsNoPutThatFoundTheQueueClosed) {
  program p;
  p.rw_policy = 0;
  instr tl = op(code::try_locked);
  tl.body = {op(code::q_put)};
  instr tr = op(code::rw_try_read);
  tr.body = {op(code::q_join)};
  p.threads = {{op(code::q_close), tl}, {tr, op(code::locked)}};
  const search_result dfs = dfs_and_dpor_agree(p);
  EXPECT_TRUE(dfs.outcomes.count("end t0@2:0 t1@3:1 a=000"));
}

// The same for a get: the item it takes was put into the empty queue, but
// a put that found the queue closed came since, and the get could have
// come before it. Only then does thread 1's plain read race with thread
// 0's plain write.
TEST(Differential, AGetNeedsNoPutThatFoundTheQueueClosed) {
  program p;
  p.threads = {{op(code::q_put), op(code::q_close), op(code::plain_write), op(code::q_put)},
               {op(code::q_get), op(code::plain_read)}};
  const search_result dfs = dfs_and_dpor_agree(p);
  EXPECT_TRUE(dfs.outcomes.count("data_race"));
}

// Thread ids are given in the order threads are spawned, so reversing a race
// can give a thread another id than it had in the execution the race was
// found in: here the child of thread 1 is thread 3 when thread 0 stores and
// spawns first, and thread 2 when it runs before thread 0's store. Only the
// second order ends with a[0] = 1.
TEST(Differential, ARaceWithAThreadSpawnedAfterTheOther) {
  program p;
  instr child = op(code::spawn);
  instr store2 = op(code::store);
  store2.v = 2;
  child.body = {store2};
  instr quiet = op(code::spawn);
  quiet.body = {op(code::load)};
  instr store1 = op(code::store);
  store1.v = 1;
  p.threads = {{store1, quiet}, {child}};
  number_spawns(p);
  const search_result dfs = dfs_and_dpor_agree(p);
  // The load of thread 0's child sees 1 or 2; a[0] ends 1 only after both.
  EXPECT_EQ(dfs.outcomes, (std::set<std::string>{"end t0@2: t1@1: t2@1:1 t3@1: a=100",
                                                "end t0@2: t1@1: t2@1:1 t3@1: a=200",
                                                "end t0@2: t1@1: t2@1:2 t3@1: a=200"}));
}

// Found by the property above: the body's last spawn looks like a step no
// other step races with, and a split search (jobs, shards) took it alone at
// its top. But the body reads the time at once, riding on that step, so the
// spawn races with thread 1's timeout. That race is found below the split,
// by one worker only, and adds nothing to the top: dpor on 2 jobs never ran
// the timeout first, and missed the body reading 1 ms. In the second
// program the body makes six choices on that step before it reads the
// time: with a split of five counted decisions the sixth decided the split
// inside the step. Now no split frame takes a thread alone. The third
// program makes eight choices: with the split seven deep, the eighth fell
// past it, and 2 jobs sometimes stopped with "workers saw different
// trees": the split was decided at that value choice, the other workers
// stopped recording there, and the time read widened the step's
// announcement in the owner's top only. Now a split is decided at thread
// decisions only. The first program is small enough to compare with plain
// dfs; the others are compared with dpor on one job. (Without fair
// scheduling: under it, the search never took a step alone.)
TEST(Differential, ASplitStepThatReadsTheTimeRacesWithATimeout) {
  for (const std::size_t choices : {0, 6, 8}) {
    program p;
    p.fair = false;
    p.sem_initial = 1;
    p.threads = {{op(code::now)}, {op(code::sem_acquire), op(code::event_wait_for)}, {op(code::choose)}};
    p.threads[0].insert(p.threads[0].begin(), choices, op(code::choose));
    const search_result one = choices == 0 ? dfs_and_dpor_agree(p) : search(p, with(mc::dpor()), "dpor");
    ASSERT_TRUE(one.complete);
    splits_agree(p, one.outcomes, choices != 0);  // (dfs_and_dpor_agree ran 2 jobs on the first)
    // Deciding at the value choice, 2 jobs alone failed about one run in
    // twenty-five here (it takes a worker that owns none of the step's
    // subtrees); as 64 shards, half of them on 2 jobs, every run did.
    if (choices == 8) {
      const search_result r = sharded(p, mc::dpor(), 64);
      EXPECT_TRUE(r.complete) << r.what;
      EXPECT_EQ(r.outcomes, one.outcomes) << r.what << diff(one.outcomes, r.outcomes);
    }
    const std::string late = "end t0@" + std::to_string(choices + 1) + ":" + std::string(choices, '0') + "1 t1@2:0";
    EXPECT_TRUE(std::any_of(one.outcomes.begin(), one.outcomes.end(),
                            [&](const std::string& x) { return x.starts_with(late); }))
        << "the body reads the time after thread 1's timeout";
  }
}

// Found by the property above with yields ten times as likely: under fair
// scheduling, a thread's start is no step that races with nothing. It
// counts as the thread's run in the fairness window of thread 2, which
// yields and then fails a try_lock (a yield too); whether thread 1 ran in
// that window decides whom thread 2 defers to. A split search took the
// start alone at its top, the race was found below the split, and dpor on 2
// jobs missed the orders where both try_locks fail or thread 2's succeeds.
// The same search without fair scheduling then missed thread 1's failed
// check between thread 0's yield and its put (second program).
// Found by the long form of DporReachesWhatSamplingReaches: a thread's first
// fairness window begins at its spawn, another thread's step, and a step of
// a third thread that crosses the spawn changes whom the first yield defers
// to. Here thread 1's child times out in its get (a yield) and closes the
// queue: only when thread 0's read lock has its second step after the
// spawn (inside the window, so the timeout does not defer to it) does the
// close come before thread 0's put, which fails. Dpor added races only for
// windows that began at the thread's own previous yield, and completed
// without that outcome.
TEST(Differential, AStepCrossingTheSpawnThatOpensAWindowRaces) {
  program p;
  p.rw_policy = 0;
  instr read = op(code::rw_read);
  read.body = {op(code::q_put)};
  instr spawn = op(code::spawn);
  spawn.body = {op(code::q_get_for), op(code::q_close)};
  p.threads = {{read}, {spawn}};
  number_spawns(p);
  const search_result dfs = dfs_and_dpor_agree(p);
  EXPECT_TRUE(dfs.outcomes.count("end t0@2:0 t1@1: t2@2:-1 a=000"));
}

TEST(Differential, AStartCountsInAFairnessWindowOnAnySplit) {
  program p;
  p.rw_policy = 0;
  instr first = op(code::try_locked);
  first.x = 1;
  instr second = first;
  p.threads = {{op(code::plain_read)}, {first, op(code::rec_locked)}, {op(code::yield), second}};
  const search_result dfs = dfs_and_dpor_agree(p);
  splits_agree(p, dfs.outcomes, false);
  EXPECT_TRUE(dfs.outcomes.count("end t0@1:0 t1@2:0 t2@2:1 a=000"));
  EXPECT_TRUE(dfs.outcomes.count("end t0@1:0 t1@2:1 t2@2:0 a=000"));

  program q;
  q.fair = false;
  q.rw_policy = 0;
  q.threads = {{op(code::yield), op(code::q_put)}, {op(code::load), op(code::check)}};
  const search_result unfair = dfs_and_dpor_agree(q);
  splits_agree(q, unfair.outcomes, false);
  EXPECT_TRUE(unfair.outcomes.count("assertion t0@1: t1@1:0 a=000"));
}

// Dpor and source-dpor must complete and reach every outcome that 2,000
// random executions reach (starvation bound `bypass`), `must` among them.
void reaches_sampled(const program& p, std::uint32_t bypass, const std::string& must) {
  mc::options o = with(mc::random(1));
  o.max_executions = 2000;
  const search_result sampled = search(p, o, "random", bypass);
  ASSERT_TRUE(sampled.outcomes.count(must)) << "random sampling did not reach " << must;
  for (const search_result& r : {search(p, with(mc::dpor()), "dpor", bypass),
                                 search(p, with(mc::source_dpor()), "source-dpor", bypass)}) {
    EXPECT_TRUE(r.complete) << r.what;
    for (const std::string& x : sampled.outcomes) EXPECT_TRUE(r.outcomes.count(x)) << r.what << " misses " << x;
  }
}

void reaches_sampled_starvation(const program& p) { reaches_sampled(p, 0, "starvation"); }

// Found by DporReachesWhatSamplingReaches: a writer-preferring lock lets the
// writer (thread 0) overtake reader thread 1, which blocked before thread 0
// asked. Whether thread 0 asked before or after thread 1 blocked was the
// order of two steps dpor took to be independent (thread 0's announcement
// rode on its semaphore release), so dpor ran only executions where it asked
// first and never reported the starvation that random sampling found. (The
// child took the lock to read when this was found, which then counted as
// overtaking reader 1; a shared acquisition no longer overtakes a reader, so
// the child takes it to write.)
TEST(Differential, AnOvertakingDependsOnWhenTheWaiterBlocked) {
  program p;
  p.atomics = 2;
  p.rw_policy = 1;
  instr child = op(code::spawn);
  child.body = {op(code::store, 1), op(code::rw_write)};
  p.threads = {{op(code::sem_release), op(code::rw_write)}, {op(code::rw_read)}, {child}};
  number_spawns(p);
  reaches_sampled_starvation(p);
}

// Found the same way: the writer (thread 1) blocks while the main thread
// reads, is woken by its unlock_shared, and blocks again because the main
// thread took the lock to write before the writer ran; the main thread's next
// step counts the overtaking. A woken waiter's first step came after the
// last write of the futex's wait queue, here the wake in the main thread's
// unlock that found nobody to wake, so dpor never ran the woken writer
// before that unlock, the one order that starves it.
TEST(Differential, AWokenWaiterComesAfterItsOwnWake) {
  program p;
  p.atomics = 1;
  p.rw_policy = 0;
  p.threads = {{op(code::rw_read), op(code::rw_write)}, {op(code::rw_write)}};
  number_spawns(p);
  reaches_sampled_starvation(p);
}

// Found by DporReachesWhatSamplingReaches (a reader-preferring lock, no
// starvation bound): main reads plain memory, then takes the lock to write;
// thread 1 takes it, yields inside, and after its unlock writes the plain
// memory. Fair scheduling counts a pick of main at the lock's guard while
// thread 1 holds it as a run of main, though main only blocks there with no
// step; thread 1's yield then does not defer to main, and thread 1 finishes
// its write section and its plain write before main takes the lock: a data
// race. No race leads dpor to such a pick, so it completed without it.
TEST(Differential, DporTriesAPickThatOnlyBlocksInAYieldsWindow) {
  program p;
  p.rw_policy = 0;
  instr section = op(code::rw_write);
  section.body = {op(code::yield)};
  p.threads = {{op(code::plain_read), op(code::rw_write)}, {section, op(code::cas, 0), op(code::plain_write)}};
  number_spawns(p);
  const search_result dfs = dfs_and_dpor_agree(p);
  EXPECT_FALSE(dfs.outcomes.count("data_race")) << "main takes the lock before thread 1 goes on from its yield";
  mc::options o = with(mc::random(1));
  o.max_executions = 2000;
  const search_result sampled = search(p, o, "random");
  for (const std::string& x : sampled.outcomes) EXPECT_TRUE(dfs.outcomes.count(x)) << "random reached " << x;
}

// The same with a timeout as the yield: main blocks at the guard of the
// shared lock while thread 2 holds it, and thread 2's timed-out get then
// does not defer to main, so thread 2 finishes its write section before
// main takes the read lock (main then waits for an event nobody sets).
// After the blocked pick, thread 2's unlock must not sleep: it is what
// lets main's pick become a step.
TEST(Differential, DporTriesAPickThatOnlyBlocksBeforeATimeout) {
  program p;
  p.rw_policy = 0;
  instr reader = op(code::rw_read);
  reader.body = {op(code::event_wait)};
  instr timed_reader = op(code::rw_read);
  timed_reader.body = {op(code::q_get_for)};
  p.threads = {{op(code::plain_read), reader},
               {op(code::sem_release), op(code::store)},
               {timed_reader, op(code::rw_write)}};
  number_spawns(p);
  mc::options o = with(mc::random(1));
  o.max_executions = 2000;
  const search_result sampled = search(p, o, "random");
  EXPECT_FALSE(sampled.outcomes.count("lost_wakeup t0@1:0 t1@2: t2@3:-1 a=000"))
      << "main takes the read lock before thread 2 goes on from its timeout";
  for (const search_result& r : {search(p, with(mc::dpor()), "dpor"), search(p, with(mc::source_dpor()), "source-dpor")}) {
    EXPECT_TRUE(r.complete) << r.what;
    for (const std::string& x : sampled.outcomes) EXPECT_TRUE(r.outcomes.count(x)) << r.what << " misses " << x;
  }
}

// Found by DporReachesWhatSamplingReaches: a queue's close and its join
// touch different fields of the monitor, so dpor took them to commute; but
// every ready step of the monitor acquires and releases it, for the race
// detector and the memory model, as the lock of the futex platform's queue
// would. Thread 1's plain write happens before main's plain read only when
// the close comes first, and dpor ran only the other order: it reported the
// data race and never reached the end without one.
TEST(Differential, MonitorStepsOnDifferentFieldsStillSynchronise) {
  program p;
  p.threads = {{op(code::q_join), op(code::plain_read)}, {op(code::plain_write), op(code::q_close)}};
  number_spawns(p);
  const search_result dfs = dfs_and_dpor_agree(p);
  EXPECT_EQ(dfs.outcomes, (std::set<std::string>{"data_race", "end t0@2:0 t1@2: a=000"}));
}

}  // namespace




// Two bugs the execution goes on from (keep_going), found in independent
// steps, come in either order in equivalent executions. Found by
// DporReachesWhatSamplingReaches: a starvation (since seen to be a false
// one, see Starvation.ATryOvertakesNoWaiterThatBlockedAfterIt) and a data
// race; dfs and random sampling, which stopped at the first bug, reached
// the starvation first, and optimal dpor, which runs one execution of each
// and took the execution's first bug as its outcome, only the race. Now
// every strategy goes on after such a bug and the outcome is every kind
// the execution recorded. Here: main and thread 1 take two locks in
// opposite orders, and thread 2's plain write races with main's.
TEST(Differential, TwoBugsInIndependentStepsAreOneOutcome) {
  program p;
  instr ab = op(code::locked);
  ab.x = 0;
  ab.body = {op(code::locked)};
  ab.body[0].x = 1;
  instr ba = op(code::locked);
  ba.x = 1;
  ba.body = {op(code::locked)};
  ba.body[0].x = 0;
  p.threads = {{op(code::plain_write), ab}, {ba}, {op(code::plain_write)}};
  const search_result dfs = dfs_and_dpor_agree(p);
  EXPECT_EQ(dfs.outcomes, (std::set<std::string>{"data_race", "data_race+deadlock"}));
}

// Found by DporReachesWhatSamplingReaches once the generator had exclusive
// try_locks (the program shrank to a plain mutex): thread 1 takes m and
// waits for the semaphore with a timeout; main has taken and released m
// before, then releases the semaphore and swaps the atomic. A release writes
// the semaphore's word and its wait queue, but its thread announced only the
// word: it looked independent of the waiter's timeout (which leaves the
// queue), so after the timeout main stayed asleep, and no search ran the
// timeout, then main's release and swap, then thread 1's fetch_add (the swap
// reads 0, the timed acquire fails, the fetch_add reads 0).
TEST(Differential, AReleaseAfterATimeoutStillRacesWithTheWaitersNextStep) {
  instr waiter = op(code::locked);
  waiter.body = {op(code::sem_acquire_for), op(code::fetch_add)};
  waiter.body[1].v = 1;
  for (const code first : {code::locked, code::try_locked}) {
    program p;
    p.threads = {{op(first), op(code::sem_release), op(code::exchange)}, {waiter}};
    const search_result dfs = dfs_and_dpor_agree(p);
    EXPECT_TRUE(dfs.outcomes.count(first == code::locked ? "end t0@3:0 t1@3:00 a=100" : "end t0@3:10 t1@3:00 a=100"));
  }
}
