// Captured traces replay: on fibers (the same bug at the same step, or a
// divergence error naming the step) and on OS threads through the turnstile
// (the bug every time); free runs on OS threads detect hangs; shrinking keeps
// the bug and drops preemptions.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"
#include "lockstep/mc/os_threads.hpp"
#include "lockstep/mc/trace.hpp"
#include "destructor_waits.hpp"

namespace {

namespace mc = lockstep::mc;

mc::options model_options(const mc::model& m) {
  mc::options o = mc::default_options(m);
  o.honour_env = false;
  return o;
}

std::vector<const mc::model*> bug_models() {
  std::vector<const mc::model*> out;
  for (const mc::model& m : mc::models())
    if (m.expected.bug && !m.settings.ends_process) out.push_back(&m);  // those end the process
  return out;
}

class BugModels : public ::testing::TestWithParam<const mc::model*> {};

TEST_P(BugModels, TraceReplaysOnFibersAndOnThreads) {
  const mc::model& m = *GetParam();
  const mc::options o = model_options(m);
  const mc::result r = mc::explore(o, m.body);
  ASSERT_TRUE(r.found) << r.report();
  const mc::trace t = mc::trace_of(r, o);
  ASSERT_EQ(t.events.size(), r.found->step);

  // Fibers: the same bug at the same step, every event as recorded.
  const mc::result again = mc::explore(mc::replay_options(t), m.body);
  EXPECT_EQ(mc::verdict_mismatch(t, again), "") << again.report();

#if LOCKSTEP_UNDER_TSAN
  // On OS threads the replayed race really happens, and ThreadSanitizer
  // rightly reports it: the reproduction is checked in the plain build.
  if (*t.kind == mc::bug_kind::data_race) return;
#endif
  // OS threads through the turnstile: the bug every time, or, for a bug that
  // needed a weak memory behaviour, one line naming the load the hardware
  // cannot be made to return.
  for (int i = 0; i < 100; ++i) {
    const mc::thread_run run = mc::replay_on_threads(t, m.body);
    if (std::string(m.group) == "memory" && !run.divergence.empty()) {
      EXPECT_NE(run.divergence.find("a weak memory behaviour the hardware cannot be made to return"),
                std::string::npos) << run.divergence;
      EXPECT_EQ(run.divergence.find('\n'), std::string::npos) << run.divergence;
      return;
    }
    ASSERT_EQ(run.divergence, "") << m.name << " run " << i;
    ASSERT_TRUE(run.kind) << m.name << " run " << i << ": no bug on threads";
    ASSERT_EQ(*run.kind, *t.kind) << m.name << " run " << i << ": " << run.message;
  }
}

INSTANTIATE_TEST_SUITE_P(All, BugModels, ::testing::ValuesIn(bug_models()),
                         [](const auto& info) { return std::string(info.param->name); });

const mc::model& model(const char* name) {
  const mc::model* m = mc::find_model(name);
  if (m == nullptr) throw std::runtime_error(std::string("no model ") + name);
  return *m;
}

TEST(Shrink, AbbaShrinksToOnePreemption) {
  const mc::model& m = model("deadlock_abba");
  // dfs without a bound finds a schedule with needless preemptions first.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    mc::options o = model_options(m);
    o.strategy = mc::random(seed);
    const mc::result r = mc::explore(o, m.body);
    ASSERT_TRUE(r.found) << r.report();
    ASSERT_TRUE(r.shrink.done);
    EXPECT_EQ(r.found->preemptions, 1u) << "seed " << seed << "\n" << r.report();
    EXPECT_LE(r.shrink.steps_after, r.shrink.steps_before);
  }
}

TEST(Shrink, NeverReturnsAScheduleThatDoesNotFail) {
  for (const mc::model* m : bug_models()) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      mc::options o = model_options(*m);
      o.strategy = mc::random(seed);
      o.max_executions = 20000;
      const mc::result r = mc::explore(o, m->body);
      if (!r.found) continue;  // random may miss it; dpor's own test covers finding it
      EXPECT_LE(r.shrink.preemptions_after, r.shrink.preemptions_before) << m->name;
      // A strict replay of the shrunk schedule fails the same way.
      mc::options ro = model_options(*m);
      ro.strategy = mc::replay(r.found->schedule);
      const mc::result again = mc::explore(ro, m->body);
      ASSERT_TRUE(again.found) << m->name << " seed " << seed << ": the shrunk schedule passes\n" << r.report();
      EXPECT_EQ(again.found->kind, r.found->kind) << m->name;
      EXPECT_EQ(again.found->step, r.found->step) << m->name;
    }
  }
}

TEST(Shrink, CanBeTurnedOff) {
  const mc::model& m = model("deadlock_abba");
  mc::options o = model_options(m);
  o.strategy = mc::random(3);
  o.shrink = false;
  const mc::result r = mc::explore(o, m.body);
  ASSERT_TRUE(r.found);
  EXPECT_FALSE(r.shrink.done);
}

mc::trace abba_trace() {
  const mc::model& m = model("deadlock_abba");
  const mc::options o = model_options(m);
  return mc::trace_of(mc::explore(o, m.body), o);
}

// One message for both backends: an assertion in a named thread reads the
// same on fibers and replayed on OS threads, the thread's name included.
TEST(ThreadReplayChecks, ReportsNameThreadsAsFiberReportsDo) {
  auto body = [] {
    mc::atomic<int> x{0};
    mc::thread t([&] {
      mc::this_thread::set_name("writer");
      x.store(1);
      LOCKSTEP_ASSERT(x.load() == 0);
    });
    t.join();
  };
  mc::options o;
  o.strategy = mc::dfs();
  o.honour_env = false;
  o.trace_dir = "-";
  const mc::result r = mc::explore(o, body);
  ASSERT_TRUE(r.found);
  EXPECT_NE(r.found->message.find("thread 1 (writer)"), std::string::npos) << r.found->message;
  const mc::thread_run run = mc::replay_on_threads(mc::trace_of(r, o), body);
  ASSERT_EQ(run.divergence, "");
  ASSERT_TRUE(run.kind);
  EXPECT_EQ(run.message, r.found->message);
}

// Fibers and OS threads agree on these traces, or the OS replay refuses the
// trace up front with one line; each once diverged, or passed where the
// fibers failed. `body` (a callable, or a plain function) fails on fibers
// (dfs) with a trace.
template <class Body>
std::pair<mc::result, mc::thread_run> both_ways(Body&& body, mc::options o = {}) {
  o.strategy = mc::dfs();
  o.honour_env = false;
  o.trace_dir = "-";
  mc::result r = mc::explore(o, body);
  EXPECT_TRUE(r.found) << r.report();
  if (!r.found) return {std::move(r), {}};
  mc::thread_run run = mc::replay_on_threads(mc::trace_of(r, o), body);
  return {std::move(r), std::move(run)};
}

void expect_same(const mc::result& r, const mc::thread_run& run) {
  EXPECT_EQ(run.divergence, "");
  ASSERT_TRUE(run.kind) << r.report();
  EXPECT_EQ(*run.kind, r.found->kind);
  EXPECT_EQ(run.message, r.found->message);
}

// A spurious failure of compare_exchange_weak (a choice under rc11 with
// options::spurious_cas_failures) replays on OS threads as on fibers: the
// weak CAS the trace has failing fails there too (it was followed as a
// strong one, which succeeded, and the replay said the code had changed).
TEST(ThreadReplayChecks, ASpuriousWeakCasFailureReplays) {
  mc::options o;
  o.spurious_cas_failures = 1;
  const auto [r, run] = both_ways(
      [] {
        mc::atomic<int> x{0};
        int expected = 0;
        LOCKSTEP_ASSERT(x.compare_exchange_weak(expected, 1));
      },
      o);
  ASSERT_EQ(r.found->kind, mc::bug_kind::assertion);
  expect_same(r, run);
}

// A fence is a step with no object, its order its value (it was refused as
// a step that names no object).
TEST(ThreadReplayChecks, AFenceReplays) {
  const auto [r, run] = both_ways([] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1, std::memory_order_relaxed); });
    mc::atomic_thread_fence(std::memory_order_seq_cst);
    LOCKSTEP_ASSERT(x.load(std::memory_order_relaxed) == 0);
    t.join();
  });
  expect_same(r, run);
}

// A thread destroyed while joinable: the message names where it was
// spawned on threads too.
TEST(ThreadReplayChecks, ALeakedThreadReadsAsOnFibers) {
  const auto [r, run] = both_ways([] {
    mc::atomic<int> x{0};
    {
      mc::thread t([&] { x.store(1); });
      x.store(2);
    }
  });
  ASSERT_EQ(r.found->kind, mc::bug_kind::leaked_thread);
  expect_same(r, run);
}

// A thread that waits for a lock in a destructor when the run aborts (the
// main thread failed an assertion while holding it) cannot throw the abort
// out of the destructor: on fibers it is stopped there (the runtime's
// std::terminate handler), and on OS threads too, where the process used
// to end in std::terminate and the assertion went unreported.
TEST(ThreadReplayChecks, AThreadWaitingInADestructorIsStoppedThereNotTerminated) {
  const auto [r, run] = both_ways(&lockstep::testing::member_waits_while_the_body_fails);
  ASSERT_EQ(r.found->kind, mc::bug_kind::assertion) << r.report();
  const std::string stopped = "thread 1 was at a scheduling point inside a function that may not throw";
  EXPECT_NE(r.found->details.find(stopped), std::string::npos) << r.report();
  expect_same(r, run);
  EXPECT_NE(run.notes.find(stopped), std::string::npos) << run.notes;
}

// The same when the point is inside the thread's callable's destructor
// (destructor_waits.hpp): the callable is destroyed once.
TEST(ThreadReplayChecks, ACallableStoppedInItsDestructorIsDestroyedOnce) {
  int destroyed = 0;
  auto body = [&destroyed] { lockstep::testing::capture_waits_while_the_body_fails(destroyed); };
  mc::options o;
  o.strategy = mc::dfs();
  o.honour_env = false;
  o.trace_dir = "-";
  const mc::result r = mc::explore(o, body);
  ASSERT_TRUE(r.found) << r.report();
  ASSERT_EQ(r.found->kind, mc::bug_kind::assertion) << r.report();
  destroyed = 0;
  const mc::thread_run run = mc::replay_on_threads(mc::trace_of(r, o), body);
  expect_same(r, run);
  EXPECT_NE(run.notes.find("thread 1 was at a scheduling point inside a function that may not throw"),
            std::string::npos)
      << run.notes;
  EXPECT_EQ(destroyed, 1);
}

// Under rc11 an exchange may read an older store than the latest (it is
// placed before it in modification order); the hardware, one step at a
// time, returns the latest. The replay refuses the trace up front, as for
// a load (it ran the exchange, wrote the same value, and passed).
TEST(ThreadReplayChecks, AnRmwThatReadAnOlderStoreIsRefused) {
  const auto [r, run] = both_ways([] {
    mc::atomic<int> x{0}, flag{0};
    mc::thread a([&] {
      x.store(1, std::memory_order_relaxed);
      flag.store(1, std::memory_order_relaxed);
    });
    if (flag.load(std::memory_order_relaxed) == 1) LOCKSTEP_ASSERT(x.exchange(2, std::memory_order_relaxed) == 1);
    a.join();
  });
  EXPECT_FALSE(run.kind);
  EXPECT_NE(run.divergence.find("a weak memory behaviour the hardware cannot be made to return"), std::string::npos)
      << run.divergence;
}

// A run stopped by the step bound records its non-termination at the step
// after its last: the OS replay follows the steps (it refused the trace as
// malformed).
TEST(ThreadReplayChecks, AStepBoundTraceIsFollowed) {
  mc::options o;
  o.max_steps = 50;
  const auto [r, run] = both_ways(
      [] {
        mc::atomic<int> x{0};
        mc::thread t([&] {
          for (;;) {
            x.fetch_add(1);
            mc::this_thread::yield();
          }
        });
        t.join();
      },
      o);
  ASSERT_EQ(r.found->kind, mc::bug_kind::non_termination);
  EXPECT_EQ(run.divergence, "");
  ASSERT_TRUE(run.kind);
  EXPECT_EQ(*run.kind, mc::bug_kind::non_termination);
  EXPECT_TRUE(run.schedule_done);
}

// A lost wake-up: two threads wait, one notify (one futex wake) reaches one
// of them, and the other waits forever. Replayed on OS threads, the second
// waiter, whose recorded wait nothing answered, returned at once when the
// schedule ended (the word had changed since it blocked), and the replay
// passed. It now sleeps until a wake that comes then: none does.
TEST(ThreadReplayChecks, ALostWakeUpReplaysAsOne) {
  mc::options o;
  o.spurious_wakeups = 0;
  const auto [r, run] = both_ways(
      [] {
        mc::mutex m("m");
        mc::condition_variable cv;
        int waiting = 0;
        const auto waiter = [&] {
          std::unique_lock g(m);
          ++waiting;
          cv.wait(g);
        };
        mc::thread a(waiter), b(waiter);
        for (;;) {
          std::unique_lock g(m);
          if (waiting == 2) {
            cv.notify_one();
            break;
          }
          g.unlock();
          mc::this_thread::yield();
        }
        a.join();
        b.join();
      },
      o);
  ASSERT_EQ(r.found->kind, mc::bug_kind::lost_wakeup);
  ASSERT_TRUE(run.kind) << "the replay passed";
  expect_same(r, run);

  const auto [r2, run2] = both_ways([] {
    mc::atomic<std::uint32_t> word{0};
    mc::atomic<int> waiting{0};
    const auto waiter = [&] {
      waiting.fetch_add(1);
      mc::platform::wait(word, 0);
    };
    mc::thread a(waiter), b(waiter);
    while (waiting.load() != 2) mc::this_thread::yield();
    word.store(1);
    mc::platform::wake_one(word);
    a.join();
    b.join();
  });
  ASSERT_EQ(r2.found->kind, mc::bug_kind::lost_wakeup);
  ASSERT_TRUE(run2.kind) << "the replay passed";
  expect_same(r2, run2);
}

// A timed acquire (a semaphore's try_acquire_for, a queue's get_for) that
// blocks, is woken by a release whose unit another thread takes first, and
// blocks again records two waits in a row; the OS replay expected its unit
// or its timeout after the first, and said the code had changed. Random
// seeds until a failing trace has that shape, then both replays.
bool blocks_twice(const mc::trace& t) {
  for (std::size_t i = 0; i < t.events.size(); ++i) {
    if (t.events[i].o != mc::op::wait) continue;
    for (std::size_t j = i + 1; j < t.events.size(); ++j) {
      if (t.events[j].thread != t.events[i].thread) continue;
      if (t.events[j].o == mc::op::wait && t.events[j].object == t.events[i].object) return true;
      break;
    }
  }
  return false;
}

template <class Body>
void expect_blocking_twice_replays(Body body) {
  mc::options o;
  o.honour_env = false;
  o.trace_dir = "-";
  o.shrink = false;
  for (std::uint64_t seed = 1; seed <= 500; ++seed) {
    o.strategy = mc::random(seed);
    const mc::result r = mc::explore(o, body);
    if (!r.found || !blocks_twice(mc::trace_of(r, o))) continue;
    const mc::thread_run run = mc::replay_on_threads(mc::trace_of(r, o), body);
    expect_same(r, run);
    return;
  }
  ADD_FAILURE() << "no seed gave a failing trace whose thread blocks twice";
}

// Thread a takes with a timeout, b gives one, c tries to take it first;
// a's timeout after c took the unit is the bug (so the trace has a's
// second wait). `make` makes the object (a semaphore or a queue).
template <class Make, class TimedTake, class Give, class TryTake>
auto taken_by_another(Make make, TimedTake timed_take, Give give, TryTake try_take) {
  return [=] {
    auto x = make();
    mc::atomic<int> other_took{0};
    bool got = true;
    int seen = 0;
    mc::thread a([&] {
      got = timed_take(x);
      seen = other_took.load();
    });
    mc::thread b([&] { give(x); });
    mc::thread c([&] {
      if (try_take(x)) other_took.store(1);
    });
    a.join();
    b.join();
    c.join();
    LOCKSTEP_ASSERT(got || seen == 0);
  };
}

TEST(ThreadReplayChecks, ATimedAcquireThatBlocksTwiceReplays) {
  using namespace std::chrono_literals;
  expect_blocking_twice_replays(taken_by_another([] { return mc::counting_semaphore<4>{0}; },
                                                 [](auto& s) { return s.try_acquire_for(10us); },
                                                 [](auto& s) { s.release(); }, [](auto& s) { return s.try_acquire(); }));
  expect_blocking_twice_replays(taken_by_another([] { return mc::bounded_queue<int>{1}; },
                                                 [](auto& q) { return q.get_for(10us).has_value(); },
                                                 [](auto& q) { (void)q.try_put(1); },
                                                 [](auto& q) { return q.try_get().has_value(); }));
}

// A step the watchdog ended (its bug at the last event; the step bound's
// comes after it) would run on OS threads with nothing to stop it, and the
// process would exit: such a trace is refused, in one line.
TEST(ThreadReplayChecks, AStepTheWatchdogEndedIsRefused) {
  mc::trace t = abba_trace();
  t.kind = mc::bug_kind::non_termination;
  t.bug_step = t.events.size();
  const mc::thread_run run = mc::replay_on_threads(t, model("deadlock_abba").body);
  EXPECT_FALSE(run.kind);
  EXPECT_NE(run.divergence.find("the watchdog ended it"), std::string::npos) << run.divergence;
}

// Every thread blocked for good at the end of the replayed schedule is the
// recorded deadlock or lost wake-up, in the fiber runtime's words (they
// said \"every thread is blocked for good\" for both, and called a thread
// holding a lock while it waited on a semaphore a deadlock where the
// fibers, seeing no cycle, said lost wake-up).
TEST(ThreadReplayChecks, ADeadlockOrALostWakeUpReadsAsOnFibers) {
  const auto [r, run] = both_ways(model("deadlock_abba").body);
  ASSERT_EQ(r.found->kind, mc::bug_kind::deadlock);
  expect_same(r, run);

  const auto [r2, run2] = both_ways([] {
    mc::mutex m("m");
    mc::binary_semaphore s{0};
    mc::thread t([&] {
      std::scoped_lock g(m);
      s.release();
    });
    std::scoped_lock g(m);
    s.acquire();
    t.join();
  });
  ASSERT_TRUE(r2.found);
  expect_same(r2, run2);
}

// A lock's misuse replays on OS threads as the misuse it is: a mutex
// destroyed while held (also by an exception that unwinds past its guard's
// owner), unlocked by a thread that does not hold it, or unlocked twice.
// The threads once ran past all of them: the first two passed, the third
// ended in the exception.
TEST(ThreadReplayChecks, ALocksMisuseReplaysAsMisuse) {
  const auto misuse = [](auto body, const char* words) {
    const auto [r, run] = both_ways(body);
    ASSERT_TRUE(r.found);
    ASSERT_EQ(r.found->kind, mc::bug_kind::misuse) << r.report();
    EXPECT_EQ(run.divergence, "");
    ASSERT_TRUE(run.kind) << words << ": the run on threads passed";
    EXPECT_EQ(*run.kind, mc::bug_kind::misuse) << run.message;
    EXPECT_NE(run.message.find(words), std::string::npos) << run.message;
  };
  misuse(
      [] {
        auto* m = new mc::mutex;
        m->lock();
        delete m;
      },
      "a lock was destroyed by thread 0 (main) while thread 0 (main) holds it (locked at ");
  misuse(
      [] {
        mc::mutex m;
        m.lock();
        mc::thread t([&] { m.unlock(); });
        t.join();
      },
      "thread 1 unlocked a lock at ");
  misuse(
      [] {
        mc::mutex m;
        m.lock();
        m.unlock();
        m.unlock();
      },
      "which is not locked (a double unlock?)");
  misuse(
      [] {
        mc::shared_mutex<> m;
        m.lock_shared();
        mc::thread t([&] { m.unlock_shared(); });
        t.join();
        m.unlock_shared();
      },
      "but thread 0 (main) holds it");
  misuse(
      [] {
        mc::mutex m;
        m.lock();
        throw std::runtime_error("leaves the lock held");
      },
      "a lock was destroyed by");
}

// A std::thread started in the body is refused on OS threads as on fibers
// (misuse, in the same words); it once ran there, unchecked, and the replay
// passed. A free run refuses it too.
TEST(ThreadReplayChecks, AnOSThreadStartedInTheBodyIsMisuseOnThreadsToo) {
  const auto body = [] {
    mc::atomic<int> x{0};
    std::thread t([&] { x.store(1); });
    t.join();
  };
  const auto [r, run] = both_ways(body);
  ASSERT_TRUE(r.found);
  ASSERT_EQ(r.found->kind, mc::bug_kind::misuse) << r.report();
  expect_same(r, run);
  const mc::thread_run free = mc::run_free(body);
  ASSERT_TRUE(free.kind);
  EXPECT_EQ(*free.kind, mc::bug_kind::misuse) << free.message;
  // mc::thread's own OS threads are not refused.
  EXPECT_FALSE(mc::run_free(model("counter_mutex").body).kind);
}

// OS threads have stacks of their own size, where the overflow need not
// come (a replay passed): such a trace is refused, in one line.
TEST(ThreadReplayChecks, AStackOverflowIsRefused) {
  mc::trace t = abba_trace();
  t.kind = mc::bug_kind::stack_overflow;
  const mc::thread_run run = mc::replay_on_threads(t, model("deadlock_abba").body);
  EXPECT_FALSE(run.kind);
  EXPECT_NE(run.divergence.find("a stack overflow replays on fibers only"), std::string::npos) << run.divergence;
}

TEST(Divergence, FibersNameTheStepAndBothEvents) {
  mc::trace t = abba_trace();
  ASSERT_GE(t.events.size(), 4u);
  // Pretend the code used to take another lock at step 3.
  t.events[2].object += 7;
  t.events[2].object_name = "mutex C";
  try {
    mc::explore(mc::replay_options(t), model("deadlock_abba").body);
    FAIL() << "the replay did not notice the changed event";
  } catch (const mc::replay_error& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("step 3"), std::string::npos) << w;
    EXPECT_NE(w.find("mutex C"), std::string::npos) << w;
    EXPECT_NE(w.find("did thread 0 cas B"), std::string::npos) << w;
  }
}

TEST(Divergence, ThreadsNameTheStep) {
  mc::trace t = abba_trace();
  ASSERT_EQ(t.events[2].o, mc::op::cas_ok);
  t.events[2].o = mc::op::load;  // the code used to read there
  const mc::thread_run run = mc::replay_on_threads(t, model("deadlock_abba").body);
  EXPECT_NE(run.divergence.find("step 3"), std::string::npos) << run.divergence;
  EXPECT_FALSE(run.kind);
}

TEST(Divergence, AChangedValueIsCaught) {
  mc::trace t = abba_trace();
  for (auto& e : t.events)
    if (e.o == mc::op::cas_ok) {
      e.value = 5;
      break;
    }
  EXPECT_THROW(mc::explore(mc::replay_options(t), model("deadlock_abba").body), mc::replay_error);
  const mc::thread_run run = mc::replay_on_threads(t, model("deadlock_abba").body);
  EXPECT_NE(run.divergence, "");
}

// What the fiber replay checks, the OS-thread replay checks too, before any
// thread runs: a trace no execution could have made is refused with one
// line, never followed to a "reproduced".
std::string thread_replay_refusal(const mc::trace& t) {
  const mc::thread_run run = mc::replay_on_threads(t, model("deadlock_abba").body);
  EXPECT_FALSE(run.kind) << run.message;
  EXPECT_EQ(run.divergence.find('\n'), std::string::npos) << run.divergence;
  EXPECT_EQ(run.divergence.rfind("the trace cannot be replayed: ", 0), 0u) << run.divergence;
  return run.divergence;
}

TEST(ThreadReplayChecks, AnObjectIdTheFiberRuntimeCannotGiveIsRefused) {
  mc::trace t = abba_trace();
  ASSERT_EQ(t.events[4].object, 2u);
  for (const std::uint32_t id : {5u, 1000u, 4294967295u}) {
    t.events[4].object = id;  // the fibers number objects 1, 2, ...: they diverge here
    try {
      (void)mc::explore(mc::replay_options(t), model("deadlock_abba").body);
      ADD_FAILURE() << "object " << id << " replayed on fibers";
    } catch (const mc::replay_error& e) {  // both objects are "A": the ids tell them apart
      EXPECT_NE(std::string(e.what()).find("(object " + std::to_string(id) + " in the trace, 2 here)"),
                std::string::npos)
          << e.what();
    }
    const std::string why = thread_replay_refusal(t);
    EXPECT_NE(why.find("step 5 names object " + std::to_string(id)), std::string::npos) << why;
  }
}

TEST(ThreadReplayChecks, ABugStepOtherThanTheLastEventIsRefused) {
  mc::trace t = abba_trace();
  t.bug_step = 3;
  EXPECT_NE(mc::verdict_mismatch(t, mc::explore(mc::replay_options(t), model("deadlock_abba").body)), "");
  const std::string why = thread_replay_refusal(t);
  EXPECT_NE(why.find("records its deadlock at step 3, but its events end at step 5"), std::string::npos) << why;
}

TEST(ThreadReplayChecks, AScheduleThatIsNotAReplayStringIsRefused) {
  mc::trace t = abba_trace();
  t.schedule = "L1garbage";
  EXPECT_THROW(mc::explore(mc::replay_options(t), model("deadlock_abba").body), mc::replay_error);
  const std::string why = thread_replay_refusal(t);
  EXPECT_NE(why.find("the trace's schedule: "), std::string::npos) << why;
}

TEST(ThreadReplayChecks, ThreadsComeFromSpawnsInOrder) {
  mc::trace t = abba_trace();
  ASSERT_EQ(t.events[1].o, mc::op::spawn);
  t.events[1].object = t.events[1].value = 2;
  EXPECT_NE(thread_replay_refusal(t).find("step 2 spawns thread 2, but the next thread is 1"), std::string::npos);
  t = abba_trace();
  t.events[1].o = mc::op::yield;
  t.events[1].object = t.events[1].value = 0;
  EXPECT_NE(thread_replay_refusal(t).find("step 4 is thread 1's, which no earlier step spawned"),
            std::string::npos);
}

// Every trace the checker writes passes those checks: bugs found by random
// schedules in every bug model replay on threads without a refusal, except
// a bug that needed a weak memory behaviour (a load that read an older store
// than the latest), which the hardware cannot show: that refusal is one
// line naming the load.
TEST(ThreadReplayChecks, EveryRecordedTraceIsAccepted) {
  for (const mc::model* m : bug_models()) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      mc::options o = model_options(*m);
      o.strategy = mc::random(seed);
      o.max_executions = 2000;
      o.trace_dir = "-";
      const mc::result r = mc::explore(o, m->body);
      if (!r.found) continue;
      const mc::trace t = mc::trace_of(r, o);
#if LOCKSTEP_UNDER_TSAN
      if (*t.kind == mc::bug_kind::data_race) continue;  // the race really happens (see above)
#endif
      const mc::thread_run run = mc::replay_on_threads(t, m->body);
      if (std::string(m->group) == "memory" && !run.divergence.empty()) {
        EXPECT_NE(run.divergence.find("a weak memory behaviour the hardware cannot be made to return"),
                  std::string::npos) << run.divergence;
        EXPECT_EQ(run.divergence.find('\n'), std::string::npos) << run.divergence;
        continue;
      }
      EXPECT_EQ(run.divergence, "") << m->name << " seed " << seed;
    }
  }
}

// The code spawns where the trace has another step: one line naming the
// step, at once. (The child used to be registered before the check, and
// the diverging parent then waited for a child that never started: the
// process exited with status 3 after 5 s.)
TEST(Divergence, ASpawnWhereTheTraceHasAnotherStepIsOneLine) {
  mc::trace t = abba_trace();
  t.kind.reset();  // a pass trace: its events end where the execution leaves them
  t.events.resize(2);
  t.events[1].o = mc::op::load;  // the trace says: a load of a new object
  t.events[1].object = 1;
  t.events[1].value = 0;
  const mc::thread_run run = mc::replay_on_threads(t, model("deadlock_abba").body);
  EXPECT_NE(run.divergence.find("replay diverged at step 2: the trace has thread 0 load"), std::string::npos)
      << run.divergence;
  EXPECT_NE(run.divergence.find("the code did thread 0 spawn"), std::string::npos) << run.divergence;
}

// A new object where the trace names one already used: a divergence that
// says so (the runtime binds an id to the object that first uses it).
TEST(Divergence, ANewObjectWhereTheTraceHasAnOldOneIsOneLine) {
  mc::trace t = abba_trace();
  t.events[4].object = 1;  // thread 1 would lock B, which thread 0 holds
  t.events[4].object_name = "B";
  const mc::thread_run run = mc::replay_on_threads(t, model("deadlock_abba").body);
  EXPECT_NE(run.divergence.find("replay diverged at step 5"), std::string::npos) << run.divergence;
  EXPECT_NE(run.divergence.find("on an object it had not used before"), std::string::npos) << run.divergence;
}

// On free OS threads a deadlock that every schedule reaches is detected by
// the watchdog, reported, and the threads are released.
TEST(FreeRun, ACertainDeadlockIsReportedNotHung) {
  auto body = [] {
    mc::mutex a, b;
    mc::atomic<int> ready{0};
    mc::thread t([&] {
      a.lock();
      ready.fetch_add(1);
      while (ready.load() != 2) mc::this_thread::yield();
      b.lock();
      b.unlock();
      a.unlock();
    });
    b.lock();
    ready.fetch_add(1);
    while (ready.load() != 2) mc::this_thread::yield();
    a.lock();
    a.unlock();
    b.unlock();
    t.join();
  };
  for (int i = 0; i < 3; ++i) {
    const mc::thread_run run = mc::run_free(body);
    ASSERT_TRUE(run.kind);
    EXPECT_EQ(*run.kind, mc::bug_kind::deadlock) << run.message;
  }
}

// Free runs on OS threads raise no false alarm on a correct model: the
// watchdog only calls a run blocked when every thread waits on a word that
// still holds the value it waits for.
TEST(FreeRun, NoFalseAlarmOnAnyPassingModel) {
  for (const mc::model& m : mc::models()) {
    if (m.expected.bug) continue;
    for (std::uint64_t i = 0; i < 20; ++i) {
      mc::thread_run_options ro;
      ro.seed = i + 1;
      const mc::thread_run run = mc::run_free(m.body, ro);
      EXPECT_FALSE(run.kind) << m.name << " run " << i << ": " << run.message;
    }
  }
}

// Threads that all wait with a deadline are not stuck: their timeouts come.
TEST(FreeRun, TimedWaitsAreNotAHang) {
  const mc::thread_run run = mc::run_free([] {
    mc::mutex m;
    mc::condition_variable cv;
    auto waiter = [&] {
      std::unique_lock g(m);
      (void)cv.wait_for(g, std::chrono::milliseconds(40), [] { return false; });
    };
    mc::thread t(waiter);
    waiter();
    t.join();
  });
  EXPECT_FALSE(run.kind) << run.message;
}

TEST(FreeRun, CorrectCodePassesAndAssertionsAreCaught) {
  auto ok = [] {
    mc::mutex m;
    int n = 0;
    mc::thread t([&] {
      for (int i = 0; i < 1000; ++i) {
        std::lock_guard g(m);
        ++n;
      }
    });
    for (int i = 0; i < 1000; ++i) {
      std::lock_guard g(m);
      ++n;
    }
    t.join();
    LOCKSTEP_ASSERT(n == 2000);
  };
  for (int i = 0; i < 20; ++i) {
    const mc::thread_run run = mc::run_free(ok);
    EXPECT_FALSE(run.kind) << run.message;
  }
  const mc::thread_run bad = mc::run_free([] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1); });
    t.join();
    LOCKSTEP_ASSERT(x.load() == 2);
  });
  ASSERT_TRUE(bad.kind);
  EXPECT_EQ(*bad.kind, mc::bug_kind::assertion);
}

// A thread preempted inside a lock_guard's destructor (an unlock) when
// another thread fails must not be made to throw there (that would call
// std::terminate): the unlock completes and the thread unwinds later.
TEST(Abort, InsideADestructorUnwindsCleanlyOnFibers) {
  int found = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    mc::options o;
    o.strategy = mc::random(seed);
    o.max_executions = 50;
    o.honour_env = false;
    o.shrink = false;
    o.trace_dir = "-";
    const mc::result r = mc::explore(o, [] {
      mc::mutex m;
      mc::atomic<int> x{0};
      mc::thread t([&] {
        for (int k = 0; k < 5; ++k) {
          std::lock_guard g(m);
          x.store(k);
        }
      });
      x.load();
      LOCKSTEP_ASSERT(x.load() == 0);
      t.join();
    });
    found += r.found && r.found->kind == mc::bug_kind::assertion ? 1 : 0;
  }
  EXPECT_GT(found, 100);
}

TEST(Abort, InsideADestructorUnwindsCleanlyOnThreads) {
  for (int i = 0; i < 100; ++i) {
    const mc::thread_run run = mc::run_free([] {
      mc::mutex m;
      mc::atomic<int> x{0};
      mc::thread t([&] {
        for (int k = 0; k < 1000; ++k) {
          std::lock_guard g(m);
          x.store(1);
        }
      });
      while (x.load() == 0) {
      }
      LOCKSTEP_ASSERT(x.load() == 0);
      t.join();
    });
    ASSERT_TRUE(run.kind);
    EXPECT_EQ(*run.kind, mc::bug_kind::assertion);
  }
}

// A failing check in a test that asks for traces (options.trace_dir, or
// LOCKSTEP_TRACE_DIR): explore() writes the trace file, the report names it
// and says how to replay it; LOCKSTEP_TRACE replays it (on fibers, or on OS
// threads).
void racy_increment() {
  mc::atomic<int> x{0};
  mc::thread t([&] { x.store(x.load() + 1); });
  x.store(x.load() + 1);
  t.join();
  LOCKSTEP_ASSERT(x.load() == 2);
}

// A plain function is a body to every entry point, as a lambda is.
TEST(ThreadReplayChecks, APlainFunctionIsABodyForEveryRun) {
  const auto [r, run_traced] = both_ways(racy_increment);
  ASSERT_TRUE(r.found);
  expect_same(r, run_traced);
  mc::thread_run_options free;
  free.seed = 7;
  const mc::thread_run run = mc::run_free(racy_increment, free);
  EXPECT_EQ(run.divergence, "");
  EXPECT_GT(run.steps, 0u);
}

TEST(TestTrace, AFailingCheckWritesATraceThatLockstepTraceReplays) {
  const std::string dir = ::testing::TempDir() + "lockstep-traces";
  mc::options o;
  o.name = "TestTrace.Body";
  o.honour_env = false;
  o.trace_dir = dir;
  mc::result r = mc::explore(o, racy_increment);
  ASSERT_TRUE(r.found);
  const std::string report = r.report();
  const auto at = report.find("trace:  ");
  ASSERT_NE(at, std::string::npos) << report;
  const std::string file = report.substr(at + 8, report.find('\n', at) - at - 8);
  EXPECT_NE(report.find("LOCKSTEP_TRACE=" + file), std::string::npos) << report;
  EXPECT_EQ(r.write_trace(), file);  // written once, by explore()
  const mc::trace t = mc::read_trace_file(file);
  EXPECT_EQ(t.model, "TestTrace.Body");
  EXPECT_EQ(t.kind, mc::bug_kind::assertion);

  mc::options env_run;  // what the printed command does
  ::setenv("LOCKSTEP_TRACE", file.c_str(), 1);
  const mc::result fibers = mc::explore(env_run, racy_increment);
  ::setenv("LOCKSTEP_TRACE_THREADS", "1", 1);
  const mc::result threads = mc::explore(env_run, racy_increment);
  ::unsetenv("LOCKSTEP_TRACE");
  ::unsetenv("LOCKSTEP_TRACE_THREADS");
  ASSERT_TRUE(fibers.found);
  EXPECT_EQ(fibers.found->kind, mc::bug_kind::assertion);
  EXPECT_EQ(fibers.found->step, r.found->step);
  ASSERT_TRUE(threads.found);
  EXPECT_EQ(threads.found->kind, mc::bug_kind::assertion);
  EXPECT_EQ(threads.strategy, "replay on OS threads");
}

// Sets (or, with nullptr, unsets) LOCKSTEP_TRACE_DIR for a scope.
class trace_dir_env {
 public:
  explicit trace_dir_env(const char* value) {
    if (const char* v = std::getenv("LOCKSTEP_TRACE_DIR")) saved_ = v;
    set(value);
  }
  ~trace_dir_env() { set(saved_ ? saved_->c_str() : nullptr); }
  trace_dir_env(const trace_dir_env&) = delete;
  trace_dir_env& operator=(const trace_dir_env&) = delete;
  static void set(const char* value) {
    if (value != nullptr) ::setenv("LOCKSTEP_TRACE_DIR", value, 1);
    else ::unsetenv("LOCKSTEP_TRACE_DIR");
  }

 private:
  std::optional<std::string> saved_;
};

// Without trace_dir or LOCKSTEP_TRACE_DIR nobody asked for a trace: explore()
// writes none and report() does no I/O. write_trace() writes it on demand
// (into LOCKSTEP_TRACE_DIR as it is then), once; the report then names it.
TEST(TestTrace, ReportWritesNothingAndWriteTraceWritesOnDemand) {
  const std::string dir = ::testing::TempDir() + "lockstep-traces-on-demand";
  std::filesystem::remove_all(dir);
  const trace_dir_env env(nullptr);
  mc::options o;
  o.name = "TestTrace.OnDemand";
  o.honour_env = false;
  mc::result r = mc::explore(o, racy_increment);
  ASSERT_TRUE(r.found);
  trace_dir_env::set(dir.c_str());
  const std::string before = r.report();
  EXPECT_EQ(before.find("trace:"), std::string::npos) << before;
  EXPECT_FALSE(std::filesystem::exists(dir));

  const std::string file = r.write_trace();
  ASSERT_FALSE(file.empty()) << r.report();
  EXPECT_EQ(std::filesystem::path(file).parent_path(), std::filesystem::path(dir));
  EXPECT_EQ(mc::read_trace_file(file), *r.trace);
  const std::string after = r.report();
  EXPECT_NE(after.find("  trace:  " + file + "\n"), std::string::npos) << after;
  EXPECT_NE(after.find("  replay: LOCKSTEP_TRACE=" + file + " "), std::string::npos) << after;
  EXPECT_EQ(after.substr(0, after.find("  trace:  ")), before.substr(0, before.find("  replay: ")))
      << "the trace lines come after the details, before the replay string";

  std::filesystem::remove(file);
  EXPECT_EQ(r.write_trace(), file);  // once: not again
  EXPECT_FALSE(std::filesystem::exists(file));
  std::filesystem::remove_all(dir);
}

// trace_dir "-" turns traces off, LOCKSTEP_TRACE_DIR or not; a trace that
// cannot be written is not written, and the report says why.
TEST(TestTrace, NoTraceWithADashAndAReasonWhenItCannotBeWritten) {
  const trace_dir_env env(::testing::TempDir().c_str());
  mc::options o;
  o.name = "TestTrace.Off";
  o.honour_env = false;
  o.trace_dir = "-";
  mc::result off = mc::explore(o, racy_increment);
  ASSERT_TRUE(off.found);
  EXPECT_EQ(off.write_trace(), "");
  EXPECT_EQ(off.report().find("trace:"), std::string::npos) << off.report();

  o.trace_dir = "/dev/null/lockstep-traces";  // under a file: cannot be made
  mc::result bad = mc::explore(o, racy_increment);
  ASSERT_TRUE(bad.found);
  EXPECT_EQ(bad.write_trace(), "");
  const std::string report = bad.report();
  EXPECT_NE(report.find("  trace:  not written: cannot write trace /dev/null/lockstep-traces/TestTrace_Off-"),
            std::string::npos)
      << report;
  EXPECT_EQ(report.find("LOCKSTEP_TRACE="), std::string::npos) << report;
}

// Shrinking replays candidate schedules; those that fail too are not the bug
// reported: the one trace file is the shrunk bug's.
TEST(TestTrace, OneTraceFileForTheShrunkBugAndNoneForTheCandidates) {
  const std::string dir = ::testing::TempDir() + "lockstep-traces-shrunk";
  std::filesystem::remove_all(dir);
  mc::options o;
  o.name = "TestTrace.Shrunk";
  o.honour_env = false;
  o.strategy = mc::random(1);
  o.trace_dir = dir;
  mc::result r = mc::explore(o, [] {
    mc::atomic<int> x{0};
    mc::thread t([&] {
      for (int i = 0; i < 3; ++i) x.store(x.load() + 1);
    });
    for (int i = 0; i < 3; ++i) x.store(x.load() + 1);
    t.join();
    LOCKSTEP_ASSERT(x.load() == 6);
  });
  ASSERT_TRUE(r.found);
  ASSERT_TRUE(r.shrink.done);
  // Some candidate failed the same way and was kept (each was an explore()).
  ASSERT_TRUE(r.shrink.preemptions_after < r.shrink.preemptions_before ||
              r.shrink.steps_after < r.shrink.steps_before)
      << r.report();
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path().string());
  ASSERT_EQ(files.size(), 1u) << r.report();
  EXPECT_EQ(files[0], r.write_trace());
  EXPECT_EQ(mc::read_trace_file(files[0]).schedule, r.found->schedule);
  std::filesystem::remove_all(dir);
}

// The caller that knows how its trace files are replayed says so (the
// lockstep tool: `lockstep replay FILE`, for the models it registers).
TEST(TestTrace, TheReplayCommandOfATraceIsTheCallers) {
  const std::string dir = ::testing::TempDir() + "lockstep-traces-command";
  mc::options o;
  o.name = "TestTrace.Command";
  o.honour_env = false;
  o.trace_dir = dir;
  o.trace_replay_command = "lockstep replay {} [--threads]";
  mc::result r = mc::explore(o, racy_increment);
  ASSERT_TRUE(r.found);
  const std::string file = r.write_trace();
  ASSERT_FALSE(file.empty()) << r.report();
  const std::string report = r.report();
  EXPECT_NE(report.find("  replay: lockstep replay " + file + " [--threads]\n"), std::string::npos) << report;
  EXPECT_EQ(report.find("LOCKSTEP_TRACE="), std::string::npos) << report;
  std::filesystem::remove_all(dir);
}

// A search that goes on after bugs (keep_going) records a data race and
// runs the execution on; its trace ends at the race. Replayed with the same
// options, the execution ends there too, under every strategy it was found
// with (it ran past the trace's end, "replay diverged", when replays also
// went on).
void race_then_more() {
  mc::shared<int> x{0};
  mc::atomic<int> a{0};
  mc::thread t([&] { x.store(1); });
  x.store(2);
  a.store(1);
  a.store(2);
  t.join();
}

TEST(Replay, ADeferredBugReplaysWithKeepGoing) {
  for (const mc::strategy_spec& s : {mc::dfs(), mc::dpor(), mc::random(7)}) {
    mc::options o;
    o.strategy = s;
    o.honour_env = false;
    o.keep_going = true;
    o.max_executions = 20;
    o.shrink = false;
    o.trace_dir = "-";
    const mc::result r = mc::explore(o, race_then_more);
    ASSERT_TRUE(r.found) << r.report();
    ASSERT_EQ(r.found->kind, mc::bug_kind::data_race);
    const mc::trace t = mc::trace_of(r, o);
    for (bool keep : {false, true}) {
      mc::options base;
      base.keep_going = keep;
      const mc::result again = mc::explore(mc::replay_options(t, base), race_then_more);
      EXPECT_EQ(mc::verdict_mismatch(t, again), "") << mc::strategy_name(s.k) << " keep_going " << keep;
    }
  }
}

}  // namespace
