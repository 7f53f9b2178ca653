// The engine under stress: an abort that reaches a thread inside a release
// path, executions with thousands of threads, and mc:: objects or OS threads
// outside the checker's control.
#include <gtest/gtest.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include <cfenv>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/os_threads.hpp"
#include "lockstep/mc/replay_string.hpp"
#include "destructor_waits.hpp"

namespace {

namespace mc = lockstep::mc;
using mc::bug_kind;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// -- an abort while another thread releases ----------------------------------
//
// Thread 1 fails an assertion the first time it runs. Each run of a sweep
// holds thread 0 (main) on its course for its first d decisions and then
// picks thread 1, for d = 0, 1, 2, ...: the failure comes at every step of
// main in turn, including each step inside its release path (an RAII guard's
// destructor, where throwing the abort would terminate the process). Every
// run must report the assertion. Main marks where it is in g_stage.

int g_stage = 0;         // main: 0 before its release, 1 inside it, 2 after it
int g_failed_stage = 0;  // g_stage when thread 1 failed
int g_inside = 0;        // failures that came while main was inside its release

void fail_now() {
  g_failed_stage = g_stage;
  if (g_stage == 1) ++g_inside;
  LOCKSTEP_ASSERT_MSG(false, "the other thread fails");
}

// Runs f() in its destructor, between g_stage 1 and 2: the release path.
template <class F>
struct release_guard {
  F f;
  ~release_guard() {
    g_stage = 1;
    f();
    g_stage = 2;
  }
};
template <class F>
release_guard(F) -> release_guard<F>;

mc::options sweep_options(std::uint32_t d) {
  std::vector<std::uint32_t> s(d, 0);
  s.resize(d + 256, 1);
  mc::options o;
  o.strategy = mc::replay(mc::encode_schedule(s), /*lenient=*/true);
  o.honour_env = false;
  o.shrink = false;
  o.trace_dir = "-";
  return o;
}

// Returns how many runs failed while main was inside its release path. The
// sweep ends once thread 1 failed after main's release, or once a larger d
// no longer changes the schedule (main blocked for good: a forced switch
// then runs thread 1 wherever d would have let main go on).
template <class Body>
int sweep(Body body, bool on_threads = false) {
  int inside = 0, same = 0;
  std::string last;
  for (std::uint32_t d = 0; d < 1000; ++d) {
    g_stage = 0;
    g_failed_stage = -1;
    g_inside = 0;
    const mc::result r = mc::explore(sweep_options(d), body);
    const int failed_stage = g_failed_stage;
    inside += g_inside;
    if (!r.found) {
      ADD_FAILURE() << "d = " << d << ": no bug found";
      return inside;
    }
    EXPECT_TRUE(r.found->kind == bug_kind::assertion && contains(r.found->message, "the other thread fails"))
        << "d = " << d << ": " << r.report();
    if (on_threads && r.trace) {  // the same schedule on OS threads, then the threads run free
      const mc::thread_run t = mc::replay_on_threads(*r.trace, body);
      EXPECT_EQ(t.kind, bug_kind::assertion) << "d = " << d << ": " << t.message << t.divergence;
    }
    same = r.found->schedule == last ? same + 1 : 0;
    last = r.found->schedule;
    if (failed_stage == 2 || same == 10) return inside;  // every step of main was covered
  }
  ADD_FAILURE() << "the sweep did not reach the end of main's release";
  return inside;
}

template <class Policy>
void shared_lock_body() {
  mc::shared_mutex<Policy> m;
  mc::atomic<int> x{0};
  mc::thread failer(fail_now);
  {
    std::shared_lock g(m);
    x.store(1);  // a release op: resumed after the abort, main goes on into the guard's destructor
    g_stage = 1;
  }
  g_stage = 0;
  {
    std::unique_lock g(m);
    x.store(2);
    g_stage = 1;
  }
  g_stage = 2;
  failer.join();
}

TEST(AbortInRelease, SharedLockAndUniqueLockOverASharedMutex) {
  // Both guards' destructors: at least the guard's lock and its release.
  EXPECT_GE(sweep(shared_lock_body<lockstep::fair>, /*on_threads=*/true), 2);
  EXPECT_GE(sweep(shared_lock_body<lockstep::reader_preferring>), 2);
  EXPECT_GE(sweep(shared_lock_body<lockstep::writer_preferring>), 2);
}

TEST(AbortInRelease, MutexAndRecursiveMutexGuards) {
  EXPECT_GT(sweep([] {
              mc::mutex m;
              mc::recursive_mutex rm;
              mc::atomic<int> x{0};
              mc::thread failer(fail_now);
              {
                std::scoped_lock g(m, rm);
                x.store(1);
                g_stage = 1;
              }
              g_stage = 2;
              failer.join();
            }),
            0);
}

TEST(AbortInRelease, SemaphoreReleasedByAGuard) {
  EXPECT_GT(sweep([] {
              mc::counting_semaphore<4> sem(1);
              mc::atomic<int> x{0};
              mc::thread failer(fail_now);
              sem.acquire();
              {
                release_guard g{[&] { sem.release(2); }};
                x.store(1);
              }
              failer.join();
            }),
            0);
}

TEST(AbortInRelease, ConditionVariableNotifiedAndEventSetByGuards) {
  EXPECT_GT(sweep([] {
              mc::mutex m;
              mc::condition_variable cv;
              mc::event ev;
              bool ready = false;
              mc::thread failer(fail_now);
              mc::thread waiter([&] {  // so the notify has someone to wake
                std::unique_lock g(m);
                cv.wait(g, [&] { return ready; });
              });
              {
                std::scoped_lock l(m);
                ready = true;
              }
              {
                release_guard g{[&] {
                  cv.notify_all();
                  cv.notify_one();
                  ev.set();
                }};
              }
              waiter.join();
              failer.join();
            }),
            0);
}

TEST(AbortInRelease, QueuePutTaskDoneAndCloseByGuards) {
  EXPECT_GT(sweep([] {
              mc::bounded_queue<int> q(4);
              mc::thread failer(fail_now);
              (void)q.put(1);
              (void)q.get();
              {
                release_guard g{[&] {
                  (void)q.put(2);
                  (void)q.try_put(3);
                  q.task_done();
                  q.close();
                }};
              }
              failer.join();
            }),
            0);
}

TEST(AbortInRelease, PromiseSetAndAbandonedByGuards) {
  EXPECT_GT(sweep([] {
              mc::promise<int> p;
              auto f = p.get_future();
              std::optional<mc::promise<int>> dropped(std::in_place);
              auto g2 = dropped->get_future();
              mc::thread failer(fail_now);
              {
                release_guard g{[&] {
                  p.set_value(7);
                  dropped.reset();  // broken_promise, from the destructor
                }};
              }
              failer.join();
            }),
            0);
}

TEST(AbortInRelease, ThreadPoolAndOwnedCounterDestroyed) {
  EXPECT_GT(sweep([] {
              mc::thread failer(fail_now);
              {
                auto pool = std::make_unique<mc::thread_pool>(1);
                auto counter = std::make_unique<mc::owned_counter>(4);
                auto f = pool->submit([] { return 1; });
                counter->add(1);
                release_guard g{[&] {
                  counter.reset();
                  pool.reset();  // shutdown: close the queue, join the worker
                }};
              }
              failer.join();
            }),
            0);
}

// A loop of release paths: each try_put on the full queue fails. The step
// bound aborts the execution, and from then on each try_put completes
// plainly, as a release path does (it may run in a destructor, where
// throwing the abort would terminate the process): it fails at once.
// The thread never gets to a point where it could throw: it is stopped
// there. Before, the loop went on without a step until the watchdog ended
// the process (exit code 124) with a report of a step that never ended.
template <class Queue>
void spin_on_a_full_queue() {
  Queue q(1);
  (void)q.put(0);
  mc::thread t([&] {
    while (!q.try_put(1)) {
    }
  });
  t.join();
}

TEST(AbortInRelease, ALoopOfReleasePathsStillUnwinds) {
  for (const mc::strategy_spec& s : {mc::random(3), mc::dfs()}) {
    mc::options o;
    o.strategy = s;
    o.max_executions = 5;
    o.max_steps = 2000;
    o.honour_env = false;
    o.trace_dir = "-";
    const mc::result native = mc::explore(o, spin_on_a_full_queue<mc::bounded_queue<int>>);
    ASSERT_TRUE(native.found) << native.report();
    EXPECT_EQ(native.found->kind, bug_kind::non_termination) << native.report();
    EXPECT_TRUE(contains(native.report(), "exceeded the step bound")) << native.report();
    EXPECT_TRUE(contains(native.report(), "thread 1 kept starting operations after the abort")) << native.report();
    const mc::result futex =
        mc::explore(o, spin_on_a_full_queue<lockstep::basic_bounded_queue<int, mc::futex_platform>>);
    ASSERT_TRUE(futex.found) << futex.report();
    EXPECT_EQ(futex.found->kind, bug_kind::non_termination) << futex.report();
  }
}

// The frozen thread's task (its closure) is destroyed by the host after the
// others unwound, as a release path: a checked operation in a destructor
// there completes plainly. (Counted as the frozen thread's, the store froze
// the host, and the process ended with SIGSEGV.)
TEST(AbortInRelease, AFrozenThreadsTaskIsDestroyedPlainly) {
  struct stores_when_destroyed {
    std::shared_ptr<mc::atomic<int>> a;
    ~stores_when_destroyed() {
      if (a) a->store(1);
    }
  };
  mc::options o;
  o.strategy = mc::dfs();
  o.max_executions = 5;
  o.max_steps = 2000;
  o.honour_env = false;
  o.trace_dir = "-";
  const mc::result r = mc::explore(o, [] {
    auto q = std::make_shared<mc::bounded_queue<int>>(1);
    (void)q->put(0);
    mc::thread t([q, g = stores_when_destroyed{std::make_shared<mc::atomic<int>>(0)}] {
      while (!q->try_put(1)) {
      }
    });
    t.join();
  });
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::non_termination) << r.report();
  EXPECT_TRUE(contains(r.report(), "thread 1 kept starting operations after the abort")) << r.report();
}

// A destructor that takes a lock, run where nothing unwinds (a local that
// goes out of scope): a scheduling point in a noexcept function. When
// another thread's bug aborts the execution while this thread waits there,
// the abort it is resumed with cannot leave the destructor. The C++ runtime
// then called std::terminate, and the report was a SIGABRT that ended the
// process and hid the assertion; now the thread is stopped there and the
// assertion is the report, for every strategy.
TEST(AbortInRelease, AThreadWaitingInADestructorIsStoppedThereNotTerminated) {
  for (const mc::strategy_spec& s : {mc::dfs(), mc::dpor(), mc::random(7)}) {
    mc::options o;
    o.strategy = s;
    o.honour_env = false;
    o.trace_dir = "-";
    const mc::result r = mc::explore(o, &lockstep::testing::member_waits_while_the_body_fails);
    ASSERT_TRUE(r.found) << r.report();
    EXPECT_EQ(r.found->kind, bug_kind::assertion) << r.report();
    EXPECT_TRUE(contains(r.report(), "thread 1 was at a scheduling point inside a function that may not throw"))
        << r.report();
  }
}

// The same inside the thread's callable's destructor (the task is destroyed
// after the thread's function returns): the stopped thread's callable is
// not destroyed again when the execution ends (it was: a double free). Not
// an AbortInRelease test: what the stopped frames own leaks, by design, and
// those run under LeakSanitizer.
TEST(FrozenThread, ACallableStoppedInItsDestructorIsDestroyedOnce) {
  int destroyed = 0, bodies = 0;
  mc::options o;
  o.strategy = mc::dfs();
  o.honour_env = false;
  o.trace_dir = "-";
  o.shrink = false;
  const mc::result r = mc::explore(o, [&] {
    ++bodies;
    lockstep::testing::capture_waits_while_the_body_fails(destroyed);
  });
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::assertion) << r.report();
  EXPECT_EQ(destroyed, bodies);  // once an execution, never twice
}

// -- executions with thousands of threads -------------------------------------
//
// A decision picks among the enabled threads by index (O(log threads)), a
// wake finds the word's first waiter in its queue, a thread's exit finds its
// joiners, a lock acquisition looks only at that lock's waiters, and a fair
// yield's deferrals end when their target runs: one execution costs about
// linear time in its steps. Before, every decision looked at every thread
// (and at every thread's deferrals), so these took hours, not seconds.

void many_threads(int n, bool yield) {
  mc::mutex m;
  mc::atomic<int> hits{0};
  int total = 0;  // under m
  std::vector<mc::thread> ts;
  ts.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ts.emplace_back([&, yield] {
      hits.fetch_add(1);
      if (yield) mc::this_thread::yield();
      std::scoped_lock g(m);
      ++total;
    });
  }
  for (auto& t : ts) t.join();
  LOCKSTEP_ASSERT(hits.load() == n);
  LOCKSTEP_ASSERT(total == n);
}

mc::options one_execution(mc::strategy_spec s, int threads) {
  mc::options o;
  o.strategy = std::move(s);
  o.max_executions = 1;
  o.max_steps = 20ull * static_cast<std::uint64_t>(threads);
  o.honour_env = false;
  o.stack_size = 64 * 1024;
  o.trace_dir = "-";
  return o;
}

TEST(ManyThreads, ThreeThousandThreadsInOneExecution) {
  constexpr int n = 3000;
  for (auto s : {mc::dfs(), mc::random(3), mc::dpor()}) {
    const mc::result r = mc::explore(one_execution(s, n), [] { many_threads(n, false); });
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_EQ(r.executions, 1u);
    EXPECT_GE(r.steps, 6u * n);
  }
}

TEST(ManyThreads, TenThousandYieldingThreadsUnderFairScheduling) {
  // Every thread yields while thousands are runnable and have not run: each
  // yield defers to all of them.
  constexpr int n = 10000;
  for (auto s : {mc::dfs(), mc::random(5)}) {
    const mc::result r = mc::explore(one_execution(s, n), [] { many_threads(n, true); });
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_GE(r.steps, 7u * n);
  }
}

// -- the floating-point control state --------------------------------------------

// Each checked thread keeps its own rounding mode and flush-to-zero setting,
// as an OS thread does: a spawned thread starts with its creator's, the
// body of each execution with explore()'s caller's, whatever an earlier
// task on the same fiber or an earlier execution left (engine/fiber.hpp:
// fp_control).
#if defined(__x86_64__)
TEST(FloatingPointControl, EachThreadKeepsItsOwnAndAChildStartsWithItsCreators) {
  constexpr unsigned kFlushToZero = 0x8040;  // MXCSR's FTZ and DAZ bits
  constexpr unsigned kFlags = 0x3f;          // its exception flags (status, not control)
  const unsigned mxcsr = _mm_getcsr() & ~kFlags;
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  ASSERT_EQ(mxcsr & kFlushToZero, 0u);
  for (auto s : {mc::dfs(), mc::random(4)}) {
    mc::options o;
    o.strategy = s;
    o.max_executions = 4;
    o.honour_env = false;
    o.trace_dir = "-";
    const mc::result r = mc::explore(o, [] {
      LOCKSTEP_ASSERT(std::fegetround() == FE_TONEAREST);
      LOCKSTEP_ASSERT((_mm_getcsr() & kFlushToZero) == 0);
      std::fesetround(FE_UPWARD);  // the body's own, which its child inherits
      mc::thread t([] {
        LOCKSTEP_ASSERT(std::fegetround() == FE_UPWARD);
        LOCKSTEP_ASSERT((_mm_getcsr() & kFlushToZero) == 0);
        std::fesetround(FE_DOWNWARD);
        _mm_setcsr(_mm_getcsr() | kFlushToZero);
        mc::this_thread::yield();
        LOCKSTEP_ASSERT(std::fegetround() == FE_DOWNWARD);  // across a switch
      });
      mc::this_thread::yield();
      LOCKSTEP_ASSERT(std::fegetround() == FE_UPWARD);  // the child's change is its own
      LOCKSTEP_ASSERT((_mm_getcsr() & kFlushToZero) == 0);
      t.join();
      LOCKSTEP_ASSERT(std::fegetround() == FE_UPWARD);
    });
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_GE(r.executions, 2u);
    EXPECT_EQ(std::fegetround(), FE_TONEAREST);
    EXPECT_EQ(_mm_getcsr() & ~kFlags, mxcsr);
  }
}
#endif

// -- outside the checker's control ---------------------------------------------

TEST(OutsideExplore, McPrimitivesWorkOnPlainOsThreads) {
  // No execution on these threads: mc:: objects behave like the production
  // primitives (the lock word is a real futex lock, waits really wait).
  mc::mutex m;
  mc::condition_variable cv;
  mc::counting_semaphore<1000> sem(0);
  long total = 0;  // under m
  int done = 0;    // under m
  constexpr int kThreads = 4, kIters = 20000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) {
        std::scoped_lock g(m);
        ++total;
      }
      {
        std::scoped_lock g(m);
        ++done;
      }
      cv.notify_all();
      sem.release();
    });
  }
  {
    std::unique_lock g(m);
    cv.wait(g, [&] { return done == kThreads; });
  }
  for (int t = 0; t < kThreads; ++t) sem.acquire();
  for (auto& t : ts) t.join();
  EXPECT_EQ(total, long{kThreads} * kIters);
  EXPECT_FALSE(sem.try_acquire());
}

TEST(OutsideExplore, AnOsThreadStartedInsideABodyIsReportedAsMisuse) {
  mc::options o;
  o.strategy = mc::dfs();
  o.honour_env = false;
  o.trace_dir = "-";
  int ran = 0;
  const mc::result r = mc::explore(o, [&] {
    mc::atomic<int> x{0};
    std::thread t([&] {
      ++ran;
      x.store(1);
    });
    t.join();
    LOCKSTEP_ASSERT(x.load() == 1);
  });
  ASSERT_TRUE(r.found) << "a std::thread inside the body ran unchecked and the check passed";
  EXPECT_EQ(r.found->kind, bug_kind::misuse) << r.report();
  EXPECT_TRUE(contains(r.found->message, "started an OS thread")) << r.found->message;
  EXPECT_TRUE(contains(r.found->message, "mc::thread")) << r.found->message;
  EXPECT_EQ(ran, 0);
  // Outside explore() (and for the checker's own workers) threads start as usual.
  std::thread plain([&] { ++ran; });
  plain.join();
  EXPECT_EQ(ran, 1);
  o.jobs = 2;
  o.strategy = mc::random(1);
  o.max_executions = 10;
  EXPECT_TRUE(mc::explore(o, [] { mc::thread t([] {}); t.join(); }).ok());
}

TEST(OutsideExplore, AnExceptionThatDropsAJoinableThreadIsReportedByName) {
  mc::options o;
  o.strategy = mc::dfs();
  o.honour_env = false;
  o.trace_dir = "-";
  const mc::result r = mc::explore(o, [] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1); });
    throw std::runtime_error("the body gave up");
  });
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.found->kind, bug_kind::uncaught_exception) << r.report();
  EXPECT_TRUE(contains(r.found->message, "the body gave up")) << r.found->message;
  EXPECT_TRUE(contains(r.found->details, "destroyed while joinable")) << r.found->details;

  // Caught: then the leak is the bug.
  const mc::result caught = mc::explore(o, [] {
    try {
      mc::thread t([] {});
      throw std::runtime_error("caught below");
    } catch (const std::runtime_error&) {
    }
  });
  ASSERT_TRUE(caught.found);
  EXPECT_EQ(caught.found->kind, bug_kind::leaked_thread) << caught.report();
}

}  // namespace
