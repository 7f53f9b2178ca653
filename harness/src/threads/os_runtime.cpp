// The OS-thread backend: turnstile replay and free runs (see os_threads.hpp).
//
// Turnstile: `turn_` is the index of the next recorded event. A thread at a
// scheduling point waits (futex on turn_) until the event at turn_ is its
// own, checks that it is about to do what the trace says, does it, and passes
// the turn on. Operations performed by the caller after the hook returns
// (mc::atomic's load, store, read-modify-write) are settled at the thread's
// next hook: their value is checked then and the turn passed. Once the
// schedule is used up the threads run free on real futexes.
#include "threads/os_runtime.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <new>

#include "lockstep/mc/replay_string.hpp"
#include "report/messages.hpp"
#include "threads/os_words.hpp"
#include "trace/replay_check.hpp"
#include "report/text.hpp"

namespace lockstep::mc::os {

constinit thread_local os_runtime* tl_os = nullptr;

namespace {

constinit thread_local std::uint32_t tl_tid = 0;
constinit thread_local std::size_t tl_pending = static_cast<std::size_t>(-1);
constinit thread_local rt::event tl_slot{};
constinit thread_local std::uint32_t tl_spurious = 0;
constinit thread_local std::uint64_t tl_rng = 0;
// Inside a releasing operation (store, read-modify-write, wake, unlock),
// which often runs in a destructor: an abort does not throw there (that
// would terminate); the operation completes and the thread unwinds from a
// later point. tl_grace bounds how many it may still run.
constinit thread_local bool tl_releasing = false;
// An mc::thread's OS thread being made (spawn()): the one pthread_create a
// model thread may call.
constinit thread_local bool tl_spawning = false;
constinit thread_local std::uint32_t tl_grace = 0;

// Inside a primitive's release path (detail::release_scope): an abort is
// handled as while unwinding, except that locks are still taken for real
// (their holder is running and lets go soon) and a join waits for its target.
constinit thread_local std::uint32_t tl_release_depth = 0;

// This thread threw the abort (unwind()) and has not caught it yet: how
// terminating() knows it where the compiler calls std::terminate with no
// exception active (GCC does in a noexcept function inlined into another).
constinit thread_local bool tl_abort_thrown = false;

struct releasing_scope {
  bool saved = tl_releasing;
  explicit releasing_scope(bool on) { tl_releasing = saved || on; }
  ~releasing_scope() { tl_releasing = saved; }
};

// Object-handle epochs of OS runs: far from the fiber runtime's, so a handle
// never mistakes one for the other.
std::atomic<std::uint32_t> g_epoch{0x80000000u};

using os_words::futex;

void futex_wake_all(const void* word) noexcept { os_words::wake(word, 0x7fffffff); }

// Waits while *word == expected, at most `ns`. Returns after a wake, a value
// change, a timeout or a signal alike.
void futex_wait_for(const void* word, std::uint32_t expected, std::int64_t ns) noexcept {
  if (ns <= 0) return;
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  futex(word, FUTEX_WAIT_PRIVATE, expected, &ts);
}

constexpr std::int64_t kPollNs = 20'000'000;  // blocked threads look for an abort this often

std::uint32_t load_word(const std::uint32_t* w) noexcept { return os_words::ref(w).load(std::memory_order_acquire); }

bool history_kind(bug_kind k) noexcept {
  switch (k) {
    case bug_kind::data_race:
    case bug_kind::livelock:
    case bug_kind::starvation:
    case bug_kind::busy_wait:
    case bug_kind::non_termination: return true;
    default: return false;
  }
}

bool has_object(op o) noexcept {
  switch (o) {
    case op::start:
    case op::exit:
    case op::yield:
    case op::choose:
    case op::spawn:  // the object field holds the child's thread id
    case op::join:
    case op::fence: return false;
    default: return true;
  }
}

// What the fiber replay checks as it follows a trace, checked before any
// thread starts: the turnstile lets the trace's events say which thread goes
// and which object is which, so a trace that no execution could have made
// is refused here rather than followed. Returns why ("" if it can be
// followed) and sets introduces[k] for each event that names its object
// first. Memory and time are linear in the number of events.
// A load of an rc11 trace that read an older store than the latest one made
// before it, and so another value: replayed one step at a time, the hardware returns the latest
// (x86-64 is TSO, and the turnstile's hand-over is a full fence), so no run
// on threads can show it. "" when there is none.
std::string weak_read(const trace& t) {
  if (t.memory_model != memory_model::rc11) return {};
  const std::vector<trace_event>& ev = t.events;
  std::vector<std::uint64_t> latest;  // per object: the step of its latest store so far (0: none)
  // Per object: an atomic of the memory model (a load, a store, or an RMW
  // that read a store), not a native word, whose steps read no message
  // (their rf is always 0).
  std::vector<std::uint8_t> modelled;
  // The steps' rf say what they read only once the execution kept views
  // (its first step weaker than seq_cst, or the race detector on): before,
  // each is 0, and every read was of the latest store anyway. Some step
  // with an rf shows the views were kept (or built, which sets the rf of
  // the steps before).
  const bool rf_known = std::any_of(ev.begin(), ev.end(), [](const trace_event& e) { return e.rf != 0; });
  for (std::size_t k = 0; k < ev.size(); ++k) {
    const trace_event& e = ev[k];
    if (e.object == 0 || !has_object(e.o)) continue;
    if (latest.size() <= e.object) {
      latest.resize(e.object + 1, 0);
      modelled.resize(e.object + 1, 0);
    }
    const bool writes_read = rf_known && (e.o == op::rmw || e.o == op::cas_ok);
    if (e.o == op::load || e.o == op::store || (writes_read && e.rf != 0)) modelled[e.object] = 1;
    // A load or a failed CAS records the value it read: one the latest
    // store holds too is what the hardware returns anyway. An RMW or a CAS
    // that wrote records what it wrote: it must have read the latest store.
    const bool reads = e.o == op::load || e.o == op::cas_fail;
    const bool old = latest[e.object] != e.rf && latest[e.object] != 0;
    if ((reads && old && ev[latest[e.object] - 1].value != e.value) || (writes_read && old && modelled[e.object] != 0)) {
      const std::uint64_t newer = latest[e.object];
      return "step " + std::to_string(k + 1) + " (thread " + std::to_string(e.thread) + " " + op_name(e.o) + " " +
             (e.object_name.empty() ? "object " + std::to_string(e.object) : e.object_name) +
             (e.file.empty() ? "" : " at " + e.file + ":" + std::to_string(e.line)) + ") read " +
             (e.rf == 0 ? std::string("the value from before the execution") : "the store of step " + std::to_string(e.rf)) +
             ", older than the store of step " + std::to_string(newer) +
             ": a weak memory behaviour the hardware cannot be made to return on OS threads (x86-64 is TSO); "
             "replay it on fibers";
    }
    if (e.o == op::store || e.o == op::rmw || e.o == op::cas_ok) latest[e.object] = k + 1;
  }
  return {};
}

std::string check_structure(const trace& t, std::vector<std::uint8_t>& introduces) {
  const std::vector<trace_event>& ev = t.events;
  const std::size_t n = ev.size();
  const auto at = [](std::size_t k) { return "step " + std::to_string(k + 1) + " "; };
  std::vector<schedule_run> runs;
  std::string error;
  if (!decode_schedule_runs(t.schedule, runs, error)) return "the trace's schedule: " + error;
  // (A run stopped by the step bound records its non-termination at the
  // step after its last.)
  const bool past_bound = t.kind == bug_kind::non_termination && t.bug_step == n + 1;
  if (t.kind && t.bug_step != n && !past_bound)
    return "the trace records its " + std::string(bug_kind_name(*t.kind)) + " at step " + std::to_string(t.bug_step) +
           ", but its events end at step " + std::to_string(n);
  if (const char* why = rt::fibers_only_reason(t.kind, t.bug_step, n)) return why;
  // Threads: 0 starts first; thread i appears after the i-th spawn made it,
  // starts, and has no step after its exit.
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::vector<std::size_t> last{none};  // per thread: its latest step so far
  std::vector<std::size_t> prev(n, none);  // per step: its thread's previous step
  std::vector<std::uint8_t> exited{0};
  for (std::size_t k = 0; k < n; ++k) {
    const trace_event& e = ev[k];
    if (e.thread >= last.size())
      return at(k) + "is thread " + std::to_string(e.thread) + "'s, which no earlier step spawned";
    if (exited[e.thread] != 0) return at(k) + "is thread " + std::to_string(e.thread) + "'s, which had exited";
    if ((last[e.thread] == none) != (e.o == op::start))
      return at(k) + (e.o == op::start ? "starts thread " + std::to_string(e.thread) + " again"
                                        : "is thread " + std::to_string(e.thread) + "'s, which has not started");
    if (e.o == op::spawn) {
      if (e.value != last.size() || e.object != e.value)
        return at(k) + "spawns thread " + std::to_string(e.value) + ", but the next thread is " +
               std::to_string(last.size());
      last.push_back(none);
      exited.push_back(0);
    }
    if (e.o == op::exit) exited[e.thread] = 1;
    prev[k] = last[e.thread];
    last[e.thread] = k;
  }
  // Objects: the fiber runtime numbers them 1, 2, 3, ... as threads reach
  // their first use, and a thread reaches its next step right after its
  // previous one. In that order (the steps sorted by their thread's previous
  // step) a new id is larger than the ids before it, and at most one more
  // than the steps so far (some reached steps are never recorded: a run
  // stops at its bug).
  std::vector<std::size_t> reached_after(n, none);  // step k: the step whose thread reached its next after k
  for (std::size_t k = 0; k < n; ++k)
    if (prev[k] != none) reached_after[prev[k]] = k;
  std::vector<std::uint8_t> seen(n + 2, 0);
  std::uint64_t newest = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t k = reached_after[r];
    if (k == none || !has_object(ev[k].o)) continue;
    const std::uint32_t x = ev[k].object;
    if (x == 0) return at(k) + "(a " + op_name(ev[k].o) + ") names no object";
    if (x < seen.size() && seen[x] != 0) continue;
    if (x <= newest || x > r + 1)
      return at(k) + "names object " + std::to_string(x) +
             ", but objects are numbered 1, 2, 3, ... in the order threads reach them: there it would be " +
             (x <= newest ? "above " + std::to_string(newest) : "at most " + std::to_string(r + 1));
    seen[x] = 1;
    newest = x;
  }
  // Bound to objects in step order: the first step that names an id binds it.
  introduces.assign(n, 0);
  std::fill(seen.begin(), seen.end(), 0);
  for (std::size_t k = 0; k < n; ++k)
    if (has_object(ev[k].o) && seen[ev[k].object] == 0) {
      seen[ev[k].object] = 1;
      introduces[k] = 1;
    }
  return {};
}

}  // namespace

// Whether a trace can be followed on OS threads: "" or why not.
std::string check_trace(const trace& t, std::vector<std::uint8_t>& introduces) {
  std::string why = check_structure(t, introduces);
  return why.empty() ? weak_read(t) : why;
}

namespace {

std::terminate_handler previous_terminate = nullptr;

// Threads stopped for good so far in this process (terminating()): each
// keeps an OS thread, and the process's threads are few (a loop of free runs
// that each stopped one ran out of them). Past this many the process ends
// instead, saying why.
constexpr unsigned kMaxStopped = 256;
std::atomic<unsigned> g_stopped{0};

[[noreturn]] void on_terminate() {
  if (os_runtime* r = tl_os; r != nullptr) r->terminating();
  if (previous_terminate != nullptr) previous_terminate();
  std::abort();
}

}  // namespace

os_runtime::os_runtime(const trace* follow, const thread_run_options& o)
    : follow_(follow),
      nevents_(follow != nullptr ? follow->events.size() : 0),
      opts_(o),
      epoch_(g_epoch.fetch_add(1, std::memory_order_relaxed)) {
  if (follow_ != nullptr) invalid_ = check_trace(*follow_, introduces_);
  static const bool terminate_installed = [] {
    previous_terminate = std::set_terminate(&on_terminate);
    return true;
  }();
  (void)terminate_installed;
}

os_runtime::~os_runtime() = default;

// An abort thrown from a scheduling point inside a function that may not
// throw (most often a destructor that takes a lock, run where nothing
// unwinds yet) cannot leave it: the C++ runtime calls std::terminate, which
// would end the process and hide the run's bug. The thread stops there for
// good instead: it counts as finished (its parent unwinds once its children
// have), its frames are never unwound, and its OS thread is left parked
// (run() detaches it).
void os_runtime::terminating() noexcept {
  if (!abort_.load(std::memory_order_acquire)) return;
  if (!rt::end_terminating_abort() && !tl_abort_thrown) return;
  if (g_stopped.fetch_add(1) >= kMaxStopped) {
    std::fprintf(stderr,
                 "lockstep: %u OS threads are already stopped for good where an abort could not unwind them "
                 "(inside a destructor); ending the process instead of stopping another\n",
                 kMaxStopped);
    std::abort();
  }
  thread_slot* self = nullptr;
  try {
    std::lock_guard g(mu_);
    if (tl_tid >= threads_.size()) return;
    self = &threads_[tl_tid];
    self->stopped = true;
    result_.notes += "  " + label_of(*self) +
                     " was at a scheduling point inside a function that may not throw (a destructor, most often) "
                     "when the run aborted: it was stopped there, its frames not unwound.\n";
  } catch (...) {
    if (self == nullptr) return;
  }
  tl_os = nullptr;
  self->finished.store(1, std::memory_order_release);
  futex_wake_all(&self->finished);
  live_.fetch_sub(1, std::memory_order_acq_rel);
  futex_wake_all(&live_);
  static const std::uint32_t never = 0;
  for (;;) futex_wait_for(&never, 0, 3'600'000'000'000);
}

std::string os_runtime::thread_label(std::uint32_t tid) const {
  std::lock_guard g(mu_);
  return label_held(tid);
}

std::string os_runtime::label_held(std::uint32_t tid) const {
  return tid < threads_.size() ? label_of(threads_[tid]) : rt::thread_text(tid, nullptr);
}

std::string os_runtime::label_of(const thread_slot& s) {
  return rt::thread_text(s.id, s.label.load(std::memory_order_relaxed));
}

void os_runtime::name_thread(const char* name) noexcept {
  std::lock_guard g(mu_);
  if (tl_tid < threads_.size()) threads_[tl_tid].label.store(name, std::memory_order_relaxed);
}

std::uint32_t os_runtime::current_thread() const noexcept { return tl_tid; }

void os_runtime::release_enter() noexcept { ++tl_release_depth; }
void os_runtime::release_exit() noexcept { --tl_release_depth; }

std::int64_t os_runtime::now() const noexcept {
  const std::int64_t since = free_since_.load(std::memory_order_acquire);
  const std::int64_t v = vtime_.load(std::memory_order_relaxed);
  // Replaying a recorded bug, virtual time stays where the trace left it:
  // the threads only run on to the failure, whose conditions (a lease still
  // valid, a key not yet expired) must not depend on how fast they get there.
  if (since < 0 || (follow_ != nullptr && follow_->kind)) return v;
  const auto el = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
  return v + (el - since);
}

// ---------------------------------------------------------------------------
// Results and aborting

void os_runtime::found(bug_kind k, std::string message) {
  std::lock_guard g(mu_);
  if (!result_.kind && result_.divergence.empty()) {
    result_.kind = k;
    result_.message = std::move(message);
  }
}

void os_runtime::stop() {
  abort_.store(true, std::memory_order_release);
  futex_wake_all(&turn_);
}

void os_runtime::unwind() {
  // A thread's frames hold what its children use (the body's locals above
  // all): it unwinds only once they have finished, as a join would have.
  for (;;) {
    const std::atomic<std::uint32_t>* running = nullptr;
    {
      std::lock_guard g(mu_);
      for (const thread_slot& s : threads_)
        if (s.parent == tl_tid && s.id != tl_tid && s.finished.load(std::memory_order_acquire) == 0) {
          running = &s.finished;
          break;
        }
    }
    if (running == nullptr) break;
    futex_wait_for(running, 0, kPollNs);
  }
  tl_abort_thrown = true;
  throw rt::abort_execution{};
}

void os_runtime::check_abort() {
  if (!abort_.load(std::memory_order_acquire) || std::uncaught_exceptions() != 0) return;
  if (tl_release_depth > 0) return;
  if (tl_releasing && tl_grace++ < 1000) return;
  unwind();
}

bool os_runtime::aborting_unwind() const noexcept {
  return abort_.load(std::memory_order_acquire) && (std::uncaught_exceptions() > 0 || tl_release_depth > 0);
}

void os_runtime::diverge(std::string why) {
  {
    std::lock_guard g(mu_);
    if (result_.divergence.empty() && !result_.kind) result_.divergence = std::move(why);
  }
  stop();
  if (!tl_releasing && tl_release_depth == 0) unwind();
}

// ---------------------------------------------------------------------------
// The turnstile

std::size_t os_runtime::gate() {
  settle();
  check_abort();
  progress_.fetch_add(1, std::memory_order_relaxed);
  if (follow_ == nullptr) return npos;
  for (;;) {
    if (abort_.load(std::memory_order_acquire)) return npos;  // only inside a release
    const std::uint32_t t = turn_.load(std::memory_order_acquire);
    if (t >= nevents_) return npos;
    if (follow_->events[t].thread == tl_tid) return t;
    futex_wait_for(&turn_, t, kPollNs);
    check_abort();
  }
}

void os_runtime::pass_turn(std::size_t k) {
  if (k + 1 == nevents_) {  // the schedule is used up: from here on, run free
    const auto el = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
    free_since_.store(el, std::memory_order_release);
    {
      std::lock_guard g(mu_);
      result_.schedule_done = true;
    }
    if (follow_->kind && history_kind(*follow_->kind)) {
      found(*follow_->kind, "the recorded " + std::string(bug_kind_name(*follow_->kind)) + " history (" +
                                std::to_string(nevents_) + " steps) ran to its end on OS threads");
      stop();
    }
  }
  turn_.store(static_cast<std::uint32_t>(k + 1), std::memory_order_release);
  futex_wake_all(&turn_);
}

void os_runtime::settle() {
  if (tl_pending == npos) return;
  const std::size_t k = tl_pending;
  tl_pending = npos;
  check_value(k, tl_slot.o, tl_slot.value);
  pass_turn(k);
}

// The turnstile compares each step with the trace's (replay_check.hpp) when
// it is made and, after check_event() passed, once its value is known.
void os_runtime::check_event(std::size_t k, op o, std::uint32_t object, const std::source_location& loc) {
  const trace_event& want = follow_->events[k];
  if (rt::same_step(want, rt::step_seen{tl_tid, o, object, 0}, rt::step_stage::made)) return;
  trace_event got;
  got.thread = tl_tid;
  got.o = o;
  got.object = object;
  got.file = rt::source_path(loc);
  got.line = loc.line();
  diverge(rt::step_divergence(k, want, got, rt::step_stage::made));
}

void os_runtime::check_value(std::size_t k, op o, std::uint64_t value) {
  const trace_event& want = follow_->events[k];
  if (rt::same_step(want, rt::step_seen{tl_tid, o, want.object, value}, rt::step_stage::complete)) return;
  trace_event got = want;  // object and location as check_event() found them
  got.thread = tl_tid;
  got.o = o;
  got.value = value;
  diverge(rt::step_divergence(k, want, got, rt::step_stage::complete));
}

std::uint32_t os_runtime::bind_object(std::size_t k, detail::object_handle& h, const std::source_location& loc,
                                      op o) {
  if (h.epoch == epoch_) return h.id;
  // An object used for the first time is the one the trace names first here
  // (check_trace made sure the trace numbers objects as the fiber runtime does).
  const trace_event& e = follow_->events[k];
  if (introduces_[k] == 0)
    diverge("replay diverged at step " + std::to_string(k + 1) + ": the trace has " + rt::describe_event(e) +
            ", the code did thread " + std::to_string(tl_tid) + " " + op_name(o) + " on an object it had not used before at " +
            rt::loc_text(loc));
  h.epoch = epoch_;
  h.id = e.object;
  return e.object;
}

// ---------------------------------------------------------------------------
// Hooks

std::uint64_t* os_runtime::point(op o, const void* addr, detail::object_handle& h, const std::source_location& loc) {
  if (aborting_unwind()) return nullptr;
  releasing_scope rs(o == op::store || o == op::rmw || o == op::wake);
  const std::size_t k = gate();
  if (k == npos) return nullptr;  // free: the caller operates on real atomics
  const std::uint32_t obj = o == op::yield || o == op::fence ? 0 : bind_object(k, h, loc, o);
  check_event(k, o, obj, loc);
  tl_slot = rt::event{0, addr, loc, tl_tid, obj, o};
  tl_pending = k;
  return &tl_slot.value;
}

namespace {

// The operation on memory, with a real atomic of the value's size.
template <class U>
int real_atomic_as(op o, void* addr, const detail::atomic_access& a, std::uint64_t& read, std::uint64_t& wrote) {
  std::atomic_ref<U> ref(*static_cast<U*>(addr));
  switch (o) {
    case op::load: read = wrote = ref.load(); return 1;
    case op::store: ref.store(static_cast<U>(a.operand)); wrote = static_cast<U>(a.operand); return 1;
    case op::rmw: {
      U old = ref.load();
      while (!ref.compare_exchange_weak(old, static_cast<U>(a.apply(old, a.operand)))) {
      }
      read = old;
      wrote = static_cast<U>(a.apply(old, a.operand));
      return 1;
    }
    default: {
      U expected = static_cast<U>(a.expected);
      if (ref.compare_exchange_strong(expected, static_cast<U>(a.operand))) {
        wrote = static_cast<U>(a.operand);
        return 1;
      }
      read = wrote = expected;
      return 0;
    }
  }
}

// A value of 3, 5, 6 or 7 bytes has no atomic of its size: its operations
// take one lock and copy exactly its bytes (a wider atomic would write past
// the value, over what lies beside it).
std::mutex g_odd_atomics;

int real_atomic_odd(op o, void* addr, const detail::atomic_access& a, std::uint64_t& read, std::uint64_t& wrote) {
  std::lock_guard g(g_odd_atomics);
  std::uint64_t cur = 0;
  std::memcpy(&cur, addr, a.size);  // the low bytes, as the fiber runtime reads them (little-endian)
  const auto put = [&](std::uint64_t v) {
    std::memcpy(addr, &v, a.size);
    wrote = rt::low_bytes(v, a);
  };
  switch (o) {
    case op::load: read = wrote = cur; return 1;
    case op::store: put(a.operand); return 1;
    case op::rmw: read = cur; put(a.apply(cur, a.operand)); return 1;
    default:
      if (cur == rt::low_bytes(a.expected, a)) {
        put(a.operand);
        return 1;
      }
      read = wrote = cur;
      return 0;
  }
}

int real_atomic(op o, void* addr, const detail::atomic_access& a, std::uint64_t& read, std::uint64_t& wrote) {
  switch (a.size) {
    case 1: return real_atomic_as<std::uint8_t>(o, addr, a, read, wrote);
    case 2: return real_atomic_as<std::uint16_t>(o, addr, a, read, wrote);
    case 4: return real_atomic_as<std::uint32_t>(o, addr, a, read, wrote);
    case 8: return real_atomic_as<std::uint64_t>(o, addr, a, read, wrote);
    default: return real_atomic_odd(o, addr, a, read, wrote);
  }
}

}  // namespace

int os_runtime::atomic_op(op o, void* addr, detail::object_handle& h, const detail::atomic_access& a,
                          std::uint64_t& read, const std::source_location& loc) {
  std::uint64_t* rec = point(o, addr, h, loc);
  std::uint64_t wrote = 0;
  // A weak CAS the trace has failing may have failed spuriously there (a
  // choice under rc11, options::spurious_cas_failures): it fails here too,
  // reading the value, as compare_exchange_weak may on any hardware.
  const bool fails = rec != nullptr && o == op::cas_ok && a.weak && follow_->events[tl_pending].o == op::cas_fail;
  const int r = fails ? (real_atomic(op::load, addr, a, read, wrote), 0) : real_atomic(o, addr, a, read, wrote);
  read = rt::low_bytes(read, a);
  wrote = rt::low_bytes(wrote, a);
  if (rec != nullptr) {
    *rec = wrote;
    if (r == 0) reinterpret_cast<rt::event*>(rec)->o = op::cas_fail;
  }
  return r;
}

void os_runtime::atomic_fence(std::memory_order order, const std::source_location& loc) {
  if (order != std::memory_order_relaxed) {
    detail::object_handle none;
    // Its event's value is its order, as on fibers.
    if (std::uint64_t* rec = point(op::fence, nullptr, none, loc)) *rec = static_cast<std::uint64_t>(order);
  }
  std::atomic_thread_fence(order);
}

bool os_runtime::real_wait(const std::uint32_t* word, std::uint32_t expected, std::int64_t deadline_ns,
                           const std::source_location& loc, bool lock) {
  thread_slot* me;
  {
    std::lock_guard g(mu_);
    me = &threads_[tl_tid];
    me->blocked_loc = loc;
    me->blocked_lock = lock;
    me->blocked_word = word;
    me->blocked_expected = expected;
    me->blocked_timed = deadline_ns >= 0;
  }
  me->blocked.store(true, std::memory_order_release);
  struct unblock {
    thread_slot* s;
    ~unblock() { s->blocked.store(false, std::memory_order_release); }
  } u{me};
  for (;;) {
    if (load_word(word) != expected) return true;
    if (abort_.load(std::memory_order_acquire)) {
      if (std::uncaught_exceptions() == 0 && tl_release_depth == 0) unwind();
      return true;
    }
    std::int64_t wait = kPollNs;
    if (deadline_ns >= 0) {
      const std::int64_t left = deadline_ns - now();
      if (left <= 0) return false;
      wait = std::min(wait, left);
    }
    const timespec ts{static_cast<time_t>(wait / 1000000000), static_cast<long>(wait % 1000000000)};
    const long r = futex(word, FUTEX_WAIT_PRIVATE, expected, &ts);
    if (r == 0) return true;  // woken (possibly spuriously: callers re-check)
  }
}

bool os_runtime::futex_wait(const std::uint32_t* word, detail::object_handle& h, std::uint32_t expected, bool timed,
                            std::int64_t deadline, const std::source_location& loc) {
  if (aborting_unwind()) {
    // In a release path a wait that need not block completes; one that
    // would block cannot, and unwinds.
    if (std::uncaught_exceptions() > 0 || load_word(word) != expected) return true;
    if (timed) return false;
    unwind();
  }
  std::size_t k = gate();
  if (k == npos) return real_wait(word, expected, timed ? deadline : -1, loc);
  const std::uint32_t obj = bind_object(k, h, loc, op::wait);
  const std::uint32_t cur = load_word(word);
  const op o = cur != expected                                                         ? op::wait_skip
               : timed && deadline <= vtime_.load(std::memory_order_relaxed) ? op::timeout
                                                                                       : op::wait;
  check_event(k, o, obj, loc);
  check_value(k, o, cur);
  pass_turn(k);
  if (o == op::wait_skip) return true;
  if (o == op::timeout) return false;
  // Blocked: the thread's next recorded event is its wake-up or its timeout.
  // With none left (the schedule ran to its end), nothing woke it in the
  // recorded execution: it sleeps until a wake that comes now, as a kernel
  // sleeper does, not until the word changes (a lost wake-up's waiter
  // returned at once, and the replay passed).
  k = gate();
  if (k == npos) return real_wait(word, load_word(word), timed ? deadline : -1, loc);
  const op o2 = follow_->events[k].o == op::timeout ? op::timeout : op::wake_return;
  check_event(k, o2, obj, loc);
  if (o2 == op::timeout && deadline > vtime_.load(std::memory_order_relaxed))
    vtime_.store(deadline, std::memory_order_relaxed);
  check_value(k, o2, load_word(word));
  pass_turn(k);
  return o2 == op::wake_return;
}

void os_runtime::futex_wake(const std::uint32_t* word, detail::object_handle& h, int count,
                            const std::source_location& loc) {
  releasing_scope rs(true);
  std::uint64_t* rec = point(op::wake, word, h, loc);
  futex(word, FUTEX_WAKE_PRIVATE, static_cast<std::uint32_t>(count), nullptr);
  if (rec != nullptr) *rec = 0;
}

void os_runtime::real_lock(std::uint32_t* word, const std::source_location& loc) {
  os_words::lock(word, [&] { real_wait(word, 2, -1, loc, true); });
}

void os_runtime::lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  if (aborting_unwind()) {
    if (std::uncaught_exceptions() > 0) return;
    return real_lock(word, loc);  // a release path: the holder runs and lets go soon
  }
  const std::size_t k = gate();
  if (k == npos) return real_lock(word, loc);
  const std::uint32_t obj = bind_object(k, h, loc, op::cas_ok);
  check_event(k, op::cas_ok, obj, loc);
  if (load_word(word) != 0)
    diverge("replay diverged at step " + std::to_string(k + 1) + ": " + rt::describe_event(follow_->events[k]) +
            " finds the lock held");
  os_words::ref(word).store(1, std::memory_order_release);
  check_value(k, op::cas_ok, 1);
  pass_turn(k);
}

bool os_runtime::try_lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  if (aborting_unwind()) return false;
  const std::size_t k = gate();
  std::uint32_t c = 0;
  if (k == npos) return os_words::try_lock(word, c);
  const std::uint32_t obj = bind_object(k, h, loc, op::cas_ok);
  const bool ok = os_words::try_lock(word, c);
  const op o = ok ? op::cas_ok : op::cas_fail;
  check_event(k, o, obj, loc);
  check_value(k, o, ok ? 1 : c);
  pass_turn(k);
  return ok;
}

std::uint32_t os_runtime::unlock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  releasing_scope rs(true);
  std::size_t k = npos;
  if (!aborting_unwind()) k = gate();
  if (k != npos) check_event(k, op::rmw, bind_object(k, h, loc, op::rmw), loc);
  const std::uint32_t held = os_words::unlock(word);
  if (k != npos) {
    check_value(k, op::rmw, 0);
    pass_turn(k);
  }
  return held;
}

// The native count word: an acquisition is one event (cas_ok, the count it
// left), a timeout one event (timeout); a blocked attempt is none, unless
// timed (wait).
bool os_runtime::count_acquire(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                               const std::source_location& loc) {
  const auto real = [&] {
    return os_words::count_acquire(word, [&] { return real_wait(word, 0, timed ? deadline : -1, loc); });
  };
  if (aborting_unwind()) {
    std::uint32_t seen;
    if (std::uncaught_exceptions() > 0 || timed) return os_words::count_try(word, seen);
    return real();  // a release path: a unit comes soon or the run stops
  }
  std::size_t k = gate();
  if (k == npos) return real();
  // A timed acquire blocked: its timeout or its unit is next, or (woken by a
  // release whose unit another thread took first) it blocked again.
  while (follow_->events[k].o == op::wait) {
    check_event(k, op::wait, bind_object(k, h, loc, op::wait), loc);
    check_value(k, op::wait, load_word(word));
    pass_turn(k);
    k = gate();
    if (k == npos) return real();
  }
  const op o = follow_->events[k].o == op::timeout ? op::timeout : op::cas_ok;
  const std::uint32_t obj = bind_object(k, h, loc, o);
  check_event(k, o, obj, loc);
  if (o == op::timeout) {
    if (deadline > vtime_.load(std::memory_order_relaxed)) vtime_.store(deadline, std::memory_order_relaxed);
    check_value(k, o, load_word(word));
    pass_turn(k);
    return false;
  }
  std::uint32_t seen = 0;
  if (!os_words::count_try(word, seen))
    diverge("replay diverged at step " + std::to_string(k + 1) + ": " + rt::describe_event(follow_->events[k]) +
            " finds the count at 0");
  check_value(k, o, seen - 1);
  pass_turn(k);
  return true;
}

bool os_runtime::count_try_acquire(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  std::uint32_t seen = 0;
  if (aborting_unwind()) return os_words::count_try(word, seen);
  const std::size_t k = gate();
  if (k == npos) return os_words::count_try(word, seen);
  const std::uint32_t obj = bind_object(k, h, loc, op::cas_ok);
  const bool ok = os_words::count_try(word, seen);
  const op o = ok ? op::cas_ok : op::cas_fail;
  check_event(k, o, obj, loc);
  check_value(k, o, ok ? seen - 1 : seen);
  pass_turn(k);
  return ok;
}

std::uint32_t os_runtime::count_release(std::uint32_t* word, detail::object_handle& h, std::uint32_t n,
                                        std::uint32_t limit, const std::source_location& loc) {
  releasing_scope rs(true);
  std::size_t k = npos;
  if (!aborting_unwind()) k = gate();
  if (k != npos) check_event(k, op::rmw, bind_object(k, h, loc, op::rmw), loc);
  const std::uint32_t prev = os_words::count_release(word, n, limit);
  if (k != npos) {
    check_value(k, op::rmw, load_word(word));
    pass_turn(k);
  }
  return prev;
}

// The native condition variable: enqueue is one event (wait, or an
// immediate timeout), a notify one (wake); the waiter's wake-up is none (its
// relock is next), a timeout firing one (timeout). Running free, it is the
// futex protocol of a sequence word: the waiter sleeps while the word still
// has the value it saw when it enqueued; a notify bumps it and wakes all.
namespace {
thread_local std::uint32_t tl_cond_seq = 0;
thread_local bool tl_cond_recorded = false;  // the enqueue was a step of the replayed schedule
}

bool os_runtime::cond_enqueue(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                              const std::source_location& loc) {
  if (aborting_unwind()) return false;
  const std::size_t k = gate();
  tl_cond_seq = load_word(word);
  tl_cond_recorded = k != npos;
  if (k == npos) return !timed || deadline > vtime_.load(std::memory_order_relaxed);
  const op o = follow_->events[k].o == op::timeout ? op::timeout : op::wait;
  const std::uint32_t obj = bind_object(k, h, loc, o);
  check_event(k, o, obj, loc);
  check_value(k, o, 0);
  pass_turn(k);
  return o == op::wait;
}

bool os_runtime::cond_block(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                            const std::source_location& loc) {
  if (aborting_unwind()) return !timed;
  const std::size_t k = gate();
  // Running free, a notify since the enqueue wakes it (tl_cond_seq). An
  // enqueue the replayed schedule recorded, whose schedule then ran to its
  // end, was not notified in the recorded execution: it sleeps until a
  // notify that comes now (one that went to another waiter there must not
  // wake it here, or a lost wake-up replays as a pass).
  if (k == npos) return real_wait(word, tl_cond_recorded ? load_word(word) : tl_cond_seq, timed ? deadline : -1, loc);
  if (follow_->events[k].o != op::timeout) return true;  // notified: the relock comes next
  check_event(k, op::timeout, bind_object(k, h, loc, op::timeout), loc);
  if (deadline > vtime_.load(std::memory_order_relaxed)) vtime_.store(deadline, std::memory_order_relaxed);
  check_value(k, op::timeout, 0);
  pass_turn(k);
  return false;
}

void os_runtime::cond_notify(std::uint32_t* word, detail::object_handle& h, bool all, const std::source_location& loc) {
  (void)all;  // every sleeper wakes and re-checks (as after a spurious wake-up)
  releasing_scope rs(true);
  std::size_t k = npos;
  if (!aborting_unwind()) k = gate();
  if (k != npos) check_event(k, op::wake, bind_object(k, h, loc, op::wake), loc);
  os_words::ref(word).fetch_add(1, std::memory_order_seq_cst);
  os_words::wake(word, 0x7fffffff);
  if (k != npos) {
    check_value(k, op::wake, follow_->events[k].value);  // how many woke is the fiber runtime's count
    pass_turn(k);
  }
}

// The native monitor: a ready step is one event (cas); a timed step that
// blocks is one more (wait) before it, a timeout firing one instead. The
// step's turn passes at its exit, once its body ran. Running free, it is
// the lock and sequence word of os_words::monitor_step.
namespace {
constexpr std::size_t kNoTurn = static_cast<std::size_t>(-1);
thread_local std::size_t tl_monitor_turn = kNoTurn;
}

bool os_runtime::monitor_step(std::uint32_t* lock, detail::object_handle& h, std::uint32_t* seq,
                              monitor_probe probe, const void* ctx, const void* waits_on, bool timed,
                              std::int64_t deadline, const std::source_location& loc) {
  (void)waits_on;
  tl_monitor_turn = kNoTurn;
  const auto real = [&] {
    return os_words::monitor_step(
        lock, seq, probe, ctx, [&](std::uint32_t* w) { real_lock(w, loc); },
        [&](std::uint32_t* s, std::uint32_t seen) { return real_wait(s, seen, timed ? deadline : -1, loc); });
  };
  if (aborting_unwind()) {
    if (std::uncaught_exceptions() > 0) {  // unwinding: never block
      real_lock(lock, loc);
      if (probe(ctx).ready) return true;
      (void)os_words::unlock(lock);
      return false;
    }
    return real();  // a release path: what it waits for comes soon or the run stops
  }
  std::size_t k = gate();
  if (k == npos) return real();
  // A timed step blocked: its timeout or the step is next, or (woken, and
  // unable to proceed once more) it blocked again.
  while (follow_->events[k].o == op::wait) {
    check_event(k, op::wait, bind_object(k, h, loc, op::wait), loc);
    check_value(k, op::wait, 0);
    pass_turn(k);
    k = gate();
    if (k == npos) return real();
  }
  if (follow_->events[k].o == op::timeout) {
    check_event(k, op::timeout, bind_object(k, h, loc, op::timeout), loc);
    if (deadline > vtime_.load(std::memory_order_relaxed)) vtime_.store(deadline, std::memory_order_relaxed);
    check_value(k, op::timeout, 0);
    pass_turn(k);
    return false;
  }
  check_event(k, op::cas_ok, bind_object(k, h, loc, op::cas_ok), loc);
  real_lock(lock, loc);
  const monitor_state st = probe(ctx);
  if (!st.ready) {
    (void)os_words::unlock(lock);
    diverge("replay diverged at step " + std::to_string(k + 1) + ": " + rt::describe_event(follow_->events[k]) +
            " finds its operation unable to proceed");
    return false;
  }
  check_value(k, op::cas_ok, static_cast<std::uint64_t>(st.reads | (st.writes << 4)));
  tl_monitor_turn = k;
  return true;
}

void os_runtime::monitor_exit(std::uint32_t* lock, detail::object_handle& h, std::uint32_t* seq,
                              const std::source_location& loc) {
  (void)h;
  (void)loc;
  releasing_scope rs(true);
  os_words::monitor_exit(lock, seq);
  if (tl_monitor_turn != kNoTurn) {
    const std::size_t k = tl_monitor_turn;
    tl_monitor_turn = kNoTurn;
    pass_turn(k);
  }
}

std::uint32_t os_runtime::choose(std::uint32_t n, const std::source_location& loc) {
  if (aborting_unwind()) return 0;
  const std::size_t k = gate();
  if (k == npos) {
    if (follow_ != nullptr || n <= 1) return 0;
    tl_rng ^= tl_rng << 13;  // xorshift64
    tl_rng ^= tl_rng >> 7;
    tl_rng ^= tl_rng << 17;
    return static_cast<std::uint32_t>(tl_rng % n);
  }
  check_event(k, op::choose, 0, loc);
  const std::uint64_t v = follow_->events[k].value;
  if (v >= std::max<std::uint32_t>(n, 1))
    diverge("replay diverged at step " + std::to_string(k + 1) + ": the trace chose " + std::to_string(v) +
            " among " + std::to_string(n) + " alternatives");
  pass_turn(k);
  return static_cast<std::uint32_t>(v);
}

bool os_runtime::spurious_wakeup(const void* obj, const std::source_location& loc) {
  (void)obj;
  if (follow_ == nullptr || tl_spurious >= follow_->spurious_wakeups) return false;
  if (turn_.load(std::memory_order_acquire) >= nevents_) return false;
  if (choose(2, loc) == 0) return false;
  ++tl_spurious;
  return true;
}

void os_runtime::misuse(const void*, const char* what, const std::source_location& loc) {
  found(bug_kind::misuse, rt::misuse_text(thread_label(tl_tid), what, loc));
  stop();  // deferred like the fiber runtime's: the thread stops at its next point
}

// The labels name the lock by its kind and place: object ids are the
// trace's, and a free run has none.
void os_runtime::acquired(const void* obj, lock_mode mode, const std::source_location& loc) noexcept {
  if (abort_.load(std::memory_order_acquire)) return;
  std::lock_guard g(mu_);
  holders_.push_back({obj, tl_tid, mode, loc});
}

void os_runtime::released(const void* obj, lock_mode mode, const std::source_location& loc) noexcept {
  if (abort_.load(std::memory_order_acquire)) return;  // unwinding: locks are let go as they come
  std::string message;
  {
    std::lock_guard g(mu_);
    const holder* other = nullptr;
    for (auto it = holders_.begin(); it != holders_.end(); ++it) {
      if (it->obj != obj) continue;
      if (it->thread == tl_tid && it->mode == mode) {
        holders_.erase(it);
        return;
      }
      if (other == nullptr) other = &*it;
    }
    message = label_held(tl_tid) + " unlocked a lock at " + rt::loc_text(loc);
    if (other != nullptr) {
      message += ", but " + label_held(other->thread) + " holds it (locked at " + rt::loc_text(other->loc) + ")";
    } else {
      message += ", which is not locked (a double unlock?)";
    }
  }
  misuse_found(message);
}

void os_runtime::destroyed(const void* obj) noexcept {
  std::string message;
  {
    std::lock_guard g(mu_);
    const auto held = std::find_if(holders_.begin(), holders_.end(), [&](const holder& h) { return h.obj == obj; });
    if (held == holders_.end()) return;
    if (!abort_.load(std::memory_order_acquire))
      message = "a lock was destroyed by " + label_held(tl_tid) + " while " + label_held(held->thread) +
                " holds it (locked at " + rt::loc_text(held->loc) + ")";
    // A later lock may live at the same address.
    std::erase_if(holders_, [&](const holder& h) { return h.obj == obj; });
  }
  if (!message.empty()) misuse_found(message);
}

void os_runtime::misuse_found(const std::string& message) noexcept {
  try {
    found(bug_kind::misuse, message);
  } catch (...) {  // out of memory for the message: the run still stops
  }
  stop();
}

bool os_runtime::refuse_os_thread() noexcept {
  if (tl_spawning) return false;
  std::string who;
  try {
    who = thread_label(tl_tid);
  } catch (...) {
  }
  misuse_found(rt::os_thread_text(who));
  return true;
}

void os_runtime::assert_failed(const char* expr, const std::source_location& loc, const std::string* message) {
  found(bug_kind::assertion, rt::assertion_text(expr, thread_label(tl_tid), loc, message));
  stop();
  unwind();
}

// ---------------------------------------------------------------------------
// Threads

std::uint32_t os_runtime::spawn(const detail::task_vtable& vt, void* callable, const std::source_location& loc) {
  if (abort_.load(std::memory_order_acquire)) unwind();  // no spawning while unwinding
  const std::size_t k = gate();
  if (k != npos) {
    // Checked before the child exists: a divergence unwinds this thread,
    // which waits for its children, and a child that never started would
    // never finish.
    std::uint32_t id;
    {
      std::lock_guard g(mu_);
      id = static_cast<std::uint32_t>(threads_.size());
    }
    check_event(k, op::spawn, id, loc);
    check_value(k, op::spawn, id);
  }
  void* task = ::operator new(vt.size, std::align_val_t(vt.align));
  try {
    vt.move_to(task, callable);
  } catch (...) {
    ::operator delete(task, std::align_val_t(vt.align));
    throw;
  }
  thread_slot* t;
  {
    std::lock_guard g(mu_);
    t = &threads_.emplace_back();
    t->id = static_cast<std::uint32_t>(threads_.size() - 1);
    t->parent = tl_tid;
  }
  t->spawn_loc = loc;
  t->task = task;
  t->vt = &vt;
  live_.fetch_add(1, std::memory_order_acq_rel);
  try {
    tl_spawning = true;
    t->th = std::thread([this, t] { thread_main(*t); });
    tl_spawning = false;
  } catch (...) {  // no thread to be had: the child counts as finished
    tl_spawning = false;
    destroy_task(*t);
    t->joined = true;
    t->finished.store(1, std::memory_order_release);
    live_.fetch_sub(1, std::memory_order_acq_rel);
    throw;
  }
  if (k != npos) pass_turn(k);
  return t->id;
}

void os_runtime::join(std::uint32_t tid, const std::source_location& loc) {
  if (aborting_unwind()) {
    if (std::uncaught_exceptions() > 0) return;
    // A release path (a pool's destructor): the target unwinds by itself;
    // what it uses must outlive it, so wait for it as unwind() does.
    thread_slot* t = nullptr;
    {
      std::lock_guard g(mu_);
      if (tid < threads_.size() && tid != tl_tid) t = &threads_[tid];
    }
    if (t == nullptr) return;
    t->joined = true;
    while (t->finished.load(std::memory_order_acquire) == 0) futex_wait_for(&t->finished, 0, kPollNs);
    return;
  }
  const std::size_t k = gate();
  thread_slot* t = nullptr;
  {
    std::lock_guard g(mu_);
    if (tid < threads_.size() && tid != tl_tid) t = &threads_[tid];
  }
  if (t == nullptr) {
    misuse(nullptr, "join() of a thread that is not a joinable thread of this run", loc);
    unwind();
  }
  t->joined = true;
  while (t->finished.load(std::memory_order_acquire) == 0)
    real_wait(reinterpret_cast<const std::uint32_t*>(&t->finished), 0, -1, loc);
  if (k != npos) {
    check_event(k, op::join, tid, loc);
    check_value(k, op::join, tid);
    pass_turn(k);
  }
}

void os_runtime::detach(std::uint32_t tid) noexcept {
  std::lock_guard g(mu_);
  if (tid < threads_.size()) threads_[tid].detached = true;
}

void os_runtime::dropped_joinable(std::uint32_t tid, const std::source_location&) noexcept {
  std::source_location spawned;
  {
    std::lock_guard g(mu_);
    if (tid >= threads_.size()) return;
    threads_[tid].joined = true;
    spawned = threads_[tid].spawn_loc;
  }
  if (abort_.load(std::memory_order_acquire)) return;
  try {
    found(bug_kind::leaked_thread, rt::leak_text(thread_label(tid), &spawned));
  } catch (...) {
  }
  stop();
}

void os_runtime::destroy_task(thread_slot& t) noexcept {
  if (t.task == nullptr) return;
  // Taken first: a thread stopped inside the callable's destructor
  // (terminating()) must not have it destroyed again by run(); its storage
  // then stays with its frames.
  void* const task = t.task;
  t.task = nullptr;
  t.vt->destroy(task);
  ::operator delete(task, std::align_val_t(t.vt->align));
}

void os_runtime::thread_main(thread_slot& self) {
  tl_os = this;
  tl_tid = self.id;
  tl_pending = npos;
  tl_spurious = 0;
  tl_rng = (opts_.seed + 1) * 0x9e3779b97f4a7c15ull + self.id * 0xbf58476d1ce4e5b9ull + 1;
  tl_abort_thrown = false;
  try {
    if (const std::size_t k = gate(); k != npos) {
      check_event(k, op::start, 0, self.spawn_loc);
      pass_turn(k);
    }
    self.vt->invoke(self.task);
  } catch (const rt::abort_execution&) {
    tl_abort_thrown = false;
  } catch (const std::exception& e) {
    found(bug_kind::uncaught_exception, rt::uncaught_text(thread_label(self.id), &e));
    stop();
  } catch (...) {
    found(bug_kind::uncaught_exception, rt::uncaught_text(thread_label(self.id), nullptr));
    stop();
  }
  destroy_task(self);
  try {
    if (const std::size_t k = gate(); k != npos) {
      check_event(k, op::exit, 0, self.spawn_loc);
      pass_turn(k);
    }
  } catch (const rt::abort_execution&) {
    tl_abort_thrown = false;
  }
  self.finished.store(1, std::memory_order_release);
  futex_wake_all(&self.finished);
  live_.fetch_sub(1, std::memory_order_acq_rel);
  futex_wake_all(&live_);
  tl_os = nullptr;
}

// Every live thread is in a real wait whose word still holds the value it
// waits on: none can return without a wake, and nobody is left to send one.
// (The word check keeps a thread that was just woken, and has not run yet to
// clear its flag, from counting as blocked.)
bool os_runtime::all_blocked() const {
  std::lock_guard g(mu_);
  for (const thread_slot& s : threads_) {
    if (s.finished.load(std::memory_order_acquire) != 0) continue;
    if (!s.blocked.load(std::memory_order_acquire) || s.blocked_timed) return false;  // a timeout will come
    if (load_word(s.blocked_word) != s.blocked_expected) return false;
  }
  return true;
}

thread_run os_runtime::run(detail::body_ref body) {
  using clock = std::chrono::steady_clock;
  start_ = clock::now();
  if (!invalid_.empty()) {
    result_.divergence = "the trace cannot be replayed: " + invalid_;
    return result_;
  }
  if (follow_ == nullptr) free_since_.store(0);
  thread_slot* main;
  {
    std::lock_guard g(mu_);
    main = &threads_.emplace_back();
  }
  main->joined = true;
  main->task = ::operator new(rt::body_vtable.size, std::align_val_t(rt::body_vtable.align));
  rt::body_vtable.move_to(main->task, &body);
  main->vt = &rt::body_vtable;
  live_.store(1);
  main->th = std::thread([this, main] { thread_main(*main); });

  std::uint64_t last = progress_.load();
  auto last_change = clock::now();
  clock::time_point abort_seen{};
  for (;;) {
    const std::uint32_t n = live_.load(std::memory_order_acquire);
    if (n == 0) break;
    futex_wait_for(&live_, n, 5'000'000);
    const auto now = clock::now();
    if (const std::uint64_t p = progress_.load(std::memory_order_relaxed); p != last) {
      last = p;
      last_change = now;
    }
    if (abort_.load(std::memory_order_acquire)) {
      if (abort_seen == clock::time_point{}) abort_seen = now;
      if (now - abort_seen > std::chrono::seconds(5)) {
        std::fprintf(stderr,
                     "lockstep: the threads of an aborted run did not stop within 5 s (code that never "
                     "reaches a scheduling point?); exiting\n");
        std::_Exit(kStuckThreadsExitCode);
      }
      continue;
    }
    if (follow_ == nullptr && now - start_ > opts_.timeout) {
      found(bug_kind::non_termination, "the run did not finish within " + std::to_string(opts_.timeout.count()) +
                                           " ms (an endless loop, busy waiting or a livelock?)");
      stop();
      continue;
    }
    // Every live thread blocked in a real wait, and nobody moved for a while:
    // a deadlock (a short wait suffices); otherwise only a long silence is a hang.
    const bool quiet_briefly = now - last_change >= std::chrono::milliseconds(10);
    if (!quiet_briefly) continue;
    const std::uint32_t t = turn_.load(std::memory_order_acquire);
    const bool following = follow_ != nullptr && t < nevents_;
    if (!following && !all_blocked() && now - last_change < opts_.hang) continue;
    if (following) {
      if (now - last_change < opts_.hang) continue;
      {
        std::lock_guard g(mu_);
        if (result_.divergence.empty() && !result_.kind)
          result_.divergence = "replay stalled at step " + std::to_string(t + 1) + ": " +
                               rt::describe_event(follow_->events[t]) + " was not reached within " +
                               std::to_string(opts_.hang.count()) + " ms";
      }
      stop();
      continue;
    }
    // Nobody reached a scheduling point for a while: who is blocked where?
    std::string where;
    bool on_lock = false;
    const bool stuck = all_blocked();
    {
      std::lock_guard g(mu_);
      for (const thread_slot& s : threads_) {
        if (s.finished.load(std::memory_order_acquire) != 0 || !s.blocked.load(std::memory_order_acquire)) continue;
        on_lock = on_lock || s.blocked_lock;
        where += (where.empty() ? "" : ", ") + label_of(s) + " at " + rt::loc_text(s.blocked_loc);
      }
    }
    if (stuck && follow_ != nullptr && (follow_->kind == bug_kind::deadlock || follow_->kind == bug_kind::lost_wakeup)) {
      // The replayed schedule ran to its end and left every thread blocked
      // for good, as recorded: the fiber runtime's words say which of the
      // two it is and why (its wait-for graph names the cycle, or the
      // wake-up nobody is left to send), which blocked OS threads cannot.
      found(*follow_->kind, follow_->message);
    } else if (stuck) {
      // Someone waits for a lock: a lock cycle (a deadlock). Otherwise every
      // thread waits for a wake-up that no thread is left to send.
      const bug_kind k = on_lock ? bug_kind::deadlock : bug_kind::lost_wakeup;
      found(k, "every thread is blocked for good (" + where + ")" +
                   (on_lock ? "" : ": none waits for a lock, so nobody is left to wake them"));
    } else {
      found(bug_kind::non_termination, "no thread reached a scheduling point for " +
                                           std::to_string(opts_.hang.count()) + " ms");
    }
    stop();
  }
  {
    std::lock_guard g(mu_);
    for (thread_slot& s : threads_) {
      if (!s.th.joinable()) continue;
      if (s.stopped) s.th.detach();  // parked for good (terminating())
      else s.th.join();
    }
    for (thread_slot& s : threads_) destroy_task(s);
    if (!result_.kind && result_.divergence.empty())
      for (const thread_slot& s : threads_)
        if (!s.joined && !s.detached) {
          result_.kind = bug_kind::leaked_thread;
          result_.message = rt::unjoined_text(label_of(s), s.spawn_loc);
          break;
        }
  }
  result_.steps = progress_.load();
  result_.seconds = std::chrono::duration<double>(clock::now() - start_).count();
  return result_;
}

}  // namespace lockstep::mc::os

namespace lockstep::mc::detail {

thread_run run_on_threads(const trace* follow, const thread_run_options& o, body_ref body) {
  if (active())
    throw std::logic_error("lockstep: run_on_threads() called from inside a checked execution");
  os::os_runtime r(follow, o);
  return r.run(body);
}

}  // namespace lockstep::mc::detail
