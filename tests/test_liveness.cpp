// Each liveness and race detector fires on the model it must flag, with a
// report that names what happened, and stays quiet on its fix; the wait-for
// graph and the timeline every report carries.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <shared_mutex>
#include <set>
#include <string>
#include <utility>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/graph.hpp"
#include "lockstep/mc/model.hpp"

namespace {

namespace mc = lockstep::mc;
using mc::bug_kind;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

mc::options with(mc::strategy_spec s) {
  mc::options o;
  o.strategy = s;
  o.honour_env = false;
  o.max_executions = 50000;
  return o;
}

mc::result check(const char* model, mc::options o = with(mc::dfs())) {
  const mc::model* m = mc::find_model(model);
  EXPECT_NE(m, nullptr) << model;
  o.name = model;
  return mc::explore(o, m->body);
}

#define EXPECT_HAS(text, part) EXPECT_TRUE(contains(text, part)) << "missing: " << (part) << "\n" << (text)

// -- livelock ------------------------------------------------------------------

TEST(Livelock, PoliteThreadsInLockStepAreALivelockWithOnePeriodShown) {
  const auto r = check("livelock_polite");
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::livelock) << r.report();
  const std::string report = r.report();
  EXPECT_HAS(r.found->message, "thread 0 (main) and thread 1 repeat the same");
  EXPECT_HAS(r.found->message, "without progress");
  EXPECT_HAS(report, "livelock_window = 1000");
  EXPECT_HAS(report, "one period of the cycle");
  // The period shows each thread failing its try_lock on the other's lock.
  EXPECT_HAS(report, "cas-fail A");
  EXPECT_HAS(report, "cas-fail B");
  EXPECT_HAS(report, "liveness.cpp:");
}

TEST(Livelock, OrderedLockingPassesEveryFairSchedule) {
  const auto r = check("livelock_polite_ordered");
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete) << r.report();
}

TEST(Livelock, TheWindowIsABoundWithAnOverride) {
  auto o = with(mc::dfs());
  o.livelock_window = 200;
  const auto r = check("livelock_polite", o);
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::livelock);
  EXPECT_HAS(r.report(), "livelock_window = 200");
  EXPECT_LT(r.found->step, 400u);
}

TEST(Livelock, AProgressMarkResetsTheWindow) {
  // The same lock-step retrying, but every round marks progress: not a livelock
  // (it runs until the step bound instead).
  auto o = with(mc::dfs());
  o.max_steps = 3000;
  const auto r = mc::explore(o, [] {
    mc::atomic<int> rounds{0};
    mc::thread t([&] {
      for (;;) {
        rounds.fetch_add(1);
        LOCKSTEP_PROGRESS();
        mc::this_thread::yield();
      }
    });
    for (;;) {
      rounds.fetch_add(1);
      LOCKSTEP_PROGRESS();
      mc::this_thread::yield();
    }
  });
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::non_termination) << r.report();
}

// The polite threads of livelock_polite; `declare`: acquiring A is progress.
void polite_pair(bool declare) {
  mc::mutex a("A");
  mc::mutex b("B");
  if (declare) mc::progress_on_acquire(&a);
  auto polite = [](mc::mutex& first, mc::mutex& second) {
    for (;;) {
      first.lock();
      mc::this_thread::yield();
      if (second.try_lock()) {
        second.unlock();
        first.unlock();
        return;
      }
      first.unlock();
      mc::this_thread::yield();
    }
  };
  mc::thread t([&] { polite(a, b); });
  polite(b, a);
  t.join();
}

TEST(Livelock, ALockDeclaredAsProgressEndsTheSuspicion) {
  // The same first execution (lock step from the start), with and without
  // declaring that taking A, which happens every round, is the work itself.
  auto o = with(mc::dfs());
  o.max_steps = 3000;
  o.max_executions = 1;
  const auto plain = mc::explore(o, [] { polite_pair(false); });
  ASSERT_TRUE(plain.found) << plain.report();
  EXPECT_EQ(plain.found->kind, bug_kind::livelock) << plain.report();
  const auto declared = mc::explore(o, [] { polite_pair(true); });
  ASSERT_TRUE(declared.found) << declared.report();
  EXPECT_EQ(declared.found->kind, bug_kind::non_termination) << declared.report();
}

// Sampled, lean executions take yields: a livelock is looked for there on
// the same events, but a lock declared as progress is not kept, so a lean
// execution may suspect one where the full one would not, and then runs in
// full. Here main polls a flag that t sets or not (a choice), taking and
// releasing A and yielding each round: undeclared, the rounds without the
// flag are a livelock; declared, they are progress and run to the step
// bound. Execution by execution, lean and full sampling must end alike.
void poll_a_flag_under_a(bool declare) {
  mc::mutex a("A");
  if (declare) mc::progress_on_acquire(&a);
  mc::atomic<int> flag{0};
  mc::thread t([&] {
    if (mc::choose(2) == 1) flag.store(1);
  });
  while (flag.load() == 0) {
    a.lock();
    a.unlock();
    mc::this_thread::yield();
  }
  t.join();
}

TEST(Livelock, LeanSamplingEndsEachExecutionAsFullSamplingDoes) {
  for (const bool declare : {false, true}) {
    auto run = [&](bool lean) {
      auto o = with(mc::random(9));
      o.max_steps = 400;
      o.livelock_window = 40;
      o.max_executions = 200;
      o.keep_going = true;
      o.lean_sampling = lean;
      std::vector<std::string> ends;
      o.on_execution = [&](const mc::bug* b) { ends.push_back(b == nullptr ? "pass" : mc::bug_kind_name(b->kind)); };
      const auto r = mc::explore(o, [declare] { poll_a_flag_under_a(declare); });
      return std::pair{r.steps, ends};
    };
    const auto [full_steps, full] = run(false);
    const auto [lean_steps, lean] = run(true);
    const std::string bug = declare ? "non_termination" : "livelock";
    EXPECT_GT(std::count(full.begin(), full.end(), bug), 10) << "declared " << declare;
    EXPECT_GT(std::count(full.begin(), full.end(), "pass"), 10) << "declared " << declare;
    EXPECT_EQ(lean, full) << "declared " << declare;
    EXPECT_EQ(lean_steps, full_steps) << "declared " << declare;
  }
}

// Progress marks move the livelock checks (each schedules the next from
// the last progress): without them a lean execution would check at other
// steps, and here, where the spin ends a few steps after the check that
// finds its period, it would pass. Marked locks send an execution to the
// full path.
TEST(Livelock, ASampledExecutionChecksAtTheStepsAFullOneDoes) {
  const auto body = [] {
    mc::mutex m("M");
    mc::progress_on_acquire(&m);
    mc::atomic<int> a{0};
    for (int i = 0; i < 4; ++i) a.store(100 + i);
    for (int i = 0; i < 40; ++i) {
      a.store(i);
      mc::this_thread::yield();
      m.lock();
      if (i < 39) m.unlock();
    }
    for (int j = 0; j < 22; ++j) {
      (void)a.load();
      mc::this_thread::yield();
    }
    m.unlock();
  };
  for (const bool lean : {false, true}) {
    auto o = with(mc::random(7));
    o.livelock_window = 40;
    o.max_executions = 1;
    o.lean_sampling = lean;
    const auto r = mc::explore(o, body);
    ASSERT_TRUE(r.found) << "lean " << lean;
    EXPECT_EQ(r.found->kind, bug_kind::livelock) << r.report();
  }
}

// -- fair scheduling and busy waiting -----------------------------------------------

TEST(FairScheduling, MakesSpinThenYieldTerminateWhereUnfairSearchDoesNot) {
  auto fair = with(mc::dfs());
  fair.max_executions = 2000;
  const auto ok = check("busy_wait_relax", fair);
  EXPECT_TRUE(ok.ok()) << ok.report();
  auto unfair = fair;
  unfair.fair_scheduling = false;
  const auto r = check("busy_wait_relax", unfair);
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::non_termination) << r.report();
  EXPECT_HAS(r.found->details, "Fair scheduling is off");
}

// Fair scheduling does not explore a thread going on right after its yield
// while another thread could run, finite schedules included: here thread 1
// stores 1 right after its yield, and the load that must never see it passes
// under fair dfs and dpor. Such a search said "complete" as if it had covered
// every schedule; it now says it covered the fair ones (result::fair_only),
// and without fair scheduling the assertion fails. A search that never
// deferred a thread is plainly complete.
TEST(FairScheduling, ACompleteSearchThatLeftOutAScheduleAfterAYieldSaysSo) {
  const auto yield_then_store = [] {
    mc::atomic<int> x{0};
    mc::thread t([&] {
      mc::this_thread::yield();
      x.store(1);
    });
    const int seen = x.load();
    t.join();
    LOCKSTEP_ASSERT(seen == 0);
  };
  const auto no_yield = [] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1); });
    (void)x.load();
    t.join();
  };
  const auto lone_yield = [] {  // nobody else could run: nothing left out
    mc::atomic<int> x{0};
    mc::this_thread::yield();
    x.store(1);
  };
  for (const mc::strategy_spec& s : {mc::dfs(), mc::dpor(), mc::source_dpor()}) {
    const auto fair = mc::explore(with(s), yield_then_store);
    EXPECT_TRUE(fair.ok()) << fair.report();
    EXPECT_TRUE(fair.complete) << fair.report();
    EXPECT_TRUE(fair.fair_only) << fair.report();
    EXPECT_HAS(fair.report(), "complete over fair schedules");
    EXPECT_HAS(fair.report(), "--unfair");
    auto o = with(s);
    o.fair_scheduling = false;
    const auto unfair = mc::explore(o, yield_then_store);
    ASSERT_TRUE(unfair.found) << unfair.report();
    EXPECT_EQ(unfair.found->kind, bug_kind::assertion) << unfair.report();
    for (const auto& plain : {mc::explore(with(s), no_yield), mc::explore(with(s), lone_yield)}) {
      EXPECT_TRUE(plain.complete) << plain.report();
      EXPECT_FALSE(plain.fair_only) << plain.report();
      EXPECT_FALSE(contains(plain.report(), "fair")) << plain.report();
    }
  }
}

// The same for a stale read after a yield (eventual visibility, rc11): the
// reader loads data, then the flag, yields, and loads data again, all
// relaxed. C++ lets it see the flag set and data still 0 on its second look;
// under fair scheduling the yield shows it data's latest store, and the
// search says so. Without fair scheduling nothing is assumed visible and the
// stale read is found (before, the yield raised the views there too).
TEST(FairScheduling, AStaleReadAfterAYieldIsLeftOutOnlyUnderFairScheduling) {
  const auto body = [] {
    mc::atomic<int> data{0};
    mc::atomic<int> flag{0};
    mc::thread w([&] {
      data.store(1, std::memory_order_relaxed);
      flag.store(1, std::memory_order_relaxed);
    });
    (void)data.load(std::memory_order_relaxed);
    const int f = flag.load(std::memory_order_relaxed);
    mc::this_thread::yield();
    const int d = data.load(std::memory_order_relaxed);
    w.join();
    LOCKSTEP_ASSERT(f == 0 || d == 1);
  };
  for (const mc::strategy_spec& s : {mc::dfs(), mc::dpor()}) {
    const auto fair = mc::explore(with(s), body);
    EXPECT_TRUE(fair.ok()) << fair.report();
    EXPECT_TRUE(fair.complete && fair.fair_only) << fair.report();
    auto o = with(s);
    o.fair_scheduling = false;
    const auto unfair = mc::explore(o, body);
    ASSERT_TRUE(unfair.found) << unfair.report();
    EXPECT_EQ(unfair.found->kind, bug_kind::assertion) << unfair.report();
  }
}

// Under rc11 a spin that yields sees the latest stores to what it spun on
// (eventual visibility), whatever the yield: relax(), a failed try_lock, a
// timed wait that expired. The last two did not raise the views, so a loop
// polling try_lock (on mc::futex_platform, where the try is a compare-
// exchange that may read a stale 1), or polling a relaxed flag between
// expired timed waits, read the stale value forever: a livelock under dfs
// and dpor where none is. Each loop passes, completely, with the views
// built lazily and with them kept from the start (the race detector on),
// which must explore the same executions.
template <class Mutex>
void poll_try_lock() {
  Mutex m;
  mc::thread a([&] {
    m.lock();
    m.unlock();
  });
  while (!m.try_lock()) {
  }
  m.unlock();
  a.join();
}

template <class P>
void poll_a_flag_between_expired_waits() {
  lockstep::basic_counting_semaphore<1, P> sem(0);
  mc::atomic<int> flag{0};
  mc::thread a([&] { flag.store(1, std::memory_order_relaxed); });
  while (flag.load(std::memory_order_relaxed) == 0) (void)sem.try_acquire_for(std::chrono::nanoseconds(0));
  a.join();
}

TEST(FairScheduling, ASpinThatYieldsByAFailedTryOrAnExpiredWaitSeesTheLatestStores) {
  for (void (*body)() : {&poll_try_lock<mc::mutex>, &poll_try_lock<lockstep::basic_mutex<mc::futex_platform>>,
                         &poll_a_flag_between_expired_waits<mc::platform>,
                         &poll_a_flag_between_expired_waits<mc::futex_platform>}) {
    for (const mc::strategy_spec& s : {mc::dfs(), mc::dpor()}) {
      const auto lazy = mc::explore(with(s), body);
      EXPECT_TRUE(lazy.ok()) << lazy.report();
      EXPECT_TRUE(lazy.complete) << lazy.strategy;
      const auto eager = mc::explore(with(s), [&] {
        mc::shared<int> plain{0};
        plain.store(1);  // turns the race detector on: the views are kept from the start
        body();
      });
      EXPECT_TRUE(eager.ok()) << eager.report();
      EXPECT_EQ(lazy.executions, eager.executions) << lazy.strategy;
    }
  }
}

// The same yield in an execution whose views are built only at its first
// operation that is not seq_cst: thread 0 loads x (seq_cst), thread 1 stores
// 1, thread 0's timed wait expires (a yield), and its relaxed load then
// builds the views, replaying the yield: it reads 1 whenever the store came
// before the yield. With the views kept from the start (the race detector
// on), the same executions reach the same outcomes.
TEST(FairScheduling, AYieldBeforeTheViewsAreBuiltIsReplayed) {
  using outcome = std::pair<int, int>;
  const auto run = [](bool eager, std::set<outcome>& seen) {
    return mc::explore(with(mc::dfs()), [&seen, eager] {
      if (eager) {
        mc::shared<int> plain{0};
        plain.store(1);  // turns the race detector on
      }
      mc::counting_semaphore<1> sem(0);
      mc::atomic<int> x{0};
      mc::thread t([&] { x.store(1); });
      const int a = x.load();
      (void)sem.try_acquire_for(std::chrono::nanoseconds(0));
      const int b = x.load(std::memory_order_relaxed);
      t.join();
      seen.insert({a, b});
    });
  };
  std::set<outcome> lazy_seen, eager_seen;
  const auto lazy = run(false, lazy_seen);
  const auto eager = run(true, eager_seen);
  ASSERT_TRUE(lazy.ok()) << lazy.report();
  ASSERT_TRUE(eager.ok()) << eager.report();
  EXPECT_EQ(lazy_seen, eager_seen);
  EXPECT_EQ(lazy.executions, eager.executions);
  EXPECT_FALSE(lazy_seen.count({1, 0}));  // coherence: never older than what it read
}

// A yield defers only to runnable threads, not to one in a timed wait: a
// notify made after a yield can still reach a timed waiter before its
// timeout. (Deferring to timed waiters too, tried once to end a false
// livelock, forced every pending timeout first and hid this assertion:
// see README, fair scheduling.)
TEST(FairScheduling, ANotifyAfterAYieldCanReachATimedWaiterInTime) {
  const auto body = [] {
    mc::mutex m;
    mc::condition_variable cv;
    bool ready = false;
    mc::thread waiter([&] {
      std::unique_lock lk(m);
      ready = true;
      if (cv.wait_for(lk, std::chrono::milliseconds(1)) == std::cv_status::no_timeout)
        LOCKSTEP_ASSERT(false && "notified in time");
    });
    mc::thread notifier([&] {
      bool r;
      {
        std::scoped_lock g(m);
        r = ready;
      }
      if (!r) return;
      mc::this_thread::yield();
      mc::this_thread::yield();
      cv.notify_one();
    });
    notifier.join();
    waiter.join();
  };
  for (const mc::strategy_spec& s : {mc::dfs(), mc::dpor()}) {
    mc::options o = with(s);
    o.spurious_wakeups = 0;
    const auto r = mc::explore(o, body);
    ASSERT_TRUE(r.found) << r.strategy << "\n" << r.report();
    EXPECT_EQ(r.found->kind, bug_kind::assertion) << r.report();
  }
}

// A thread that polls with yields until a sleeping thread sets a flag:
// fair scheduling defers a yield to runnable threads only (see the test
// above), so the schedule in which the timeout never fires polls forever,
// and is reported as a livelock, though on a real system the timeout fires
// (README, fair scheduling: a known limitation). The report says that the
// sleeper waited with a deadline through the whole window.
TEST(Livelock, AReportNamesAThreadThatWaitedWithADeadlineThroughTheWindow) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::atomic<bool> flag{false};
    mc::thread sleeper([&] {
      mc::sleep_for(std::chrono::microseconds(10));
      flag.store(true);
    });
    while (!flag.load()) mc::this_thread::yield();
    sleeper.join();
  });
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::livelock) << r.report();
  EXPECT_HAS(r.found->details, "thread 1 has waited with a deadline (at ");
  EXPECT_HAS(r.found->details, "a known limitation of fair scheduling");
  // A livelock without a timed wait says nothing of the kind.
  const auto polite = check("livelock_polite");
  ASSERT_TRUE(polite.found) << polite.report();
  EXPECT_FALSE(contains(polite.found->details, "waited with a deadline")) << polite.report();
}

TEST(BusyWait, ASpinWithoutRelaxIsNamedWithItsLineAndAHint) {
  const auto r = check("busy_wait_spin");
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::busy_wait) << r.report();
  EXPECT_HAS(r.found->message, "thread 1 busy-waits");
  EXPECT_HAS(r.found->message, "ready");
  EXPECT_HAS(r.found->message, LOCKSTEP_SRC "models/liveness.cpp:");
  EXPECT_HAS(r.found->message, "without relax()");
  EXPECT_HAS(r.found->message, "busy_wait_bound = 100");
  EXPECT_HAS(r.found->details, "call relax()");
}

TEST(BusyWait, IsFoundBySamplingToo) {
  auto o = with(mc::random(1));
  o.max_executions = 1000;
  const auto r = check("busy_wait_spin", o);
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::busy_wait);
}

// Taking and dropping a lock is a write: loads with a lock step between them
// are not a run of read-only steps, however many there are. (The lock word is
// native to the scheduler, in lean executions and full ones alike.)
void poll_under_lock() {
  mc::mutex m("m");
  mc::atomic<int> x{0};
  mc::thread t([&] {
    std::scoped_lock g(m);
    x.store(1);
  });
  int seen = 0;
  for (int i = 0; i < 150; ++i) {
    std::scoped_lock g(m);
    seen += x.load();
  }
  t.join();
  LOCKSTEP_ASSERT(seen <= 150);
}

// Passes under each strategy (300 executions each).
void expect_no_busy_wait(void (*body)(), std::initializer_list<mc::strategy_spec> strategies) {
  for (const auto& s : strategies) {
    auto o = with(s);
    o.max_executions = 300;
    const auto r = mc::explore(o, body);
    EXPECT_TRUE(r.ok()) << r.report();
  }
}

TEST(BusyWait, LoadsWithALockStepBetweenThemAreNoRun) {
  expect_no_busy_wait(poll_under_lock, {mc::random(1), mc::dfs()});
}

// A failed try_acquire reads the count and changes nothing, like a failed
// compare-exchange: spinning on it without relax() is busy waiting (it was
// a step-bound overflow, non_termination, when the semaphore's native steps
// bypassed the run); with relax() fair scheduling lets the releaser run.
template <bool Relax>
void spin_on_try_acquire() {
  mc::binary_semaphore s{0};
  mc::thread t([&] { s.release(); });
  while (!s.try_acquire()) {
    if constexpr (Relax) mc::this_thread::yield();
  }
  t.join();
}

// A failed try_lock and an expired timed wait are yields
// (options::fair_scheduling): loads with one between them are no run either,
// whether the mutex's lock word is the checker's own (mc::mutex) or made of
// atomics (mc::futex_platform, where the try is a failed CAS).
// (Only sampling reaches the long polls: under dfs each yield lets the other
// thread go first, so the poll ends within a few turns.)
template <class Mutex>
void poll_with_try_lock() {
  Mutex m;
  mc::atomic<int> x{0};
  m.lock();
  mc::thread t([&] {
    int seen = 0;
    for (int i = 0; i < 1000; ++i) {
      seen += x.load();
      if (m.try_lock()) {
        m.unlock();
        break;
      }
    }
    LOCKSTEP_ASSERT(seen >= 0);
  });
  for (int i = 0; i < 200; ++i) x.store(i);  // each try_lock of t's lets one of these go first
  m.unlock();
  t.join();
}

void poll_with_timed_wait() {
  mc::binary_semaphore s{0};
  mc::atomic<int> x{0};
  mc::thread t([&] {
    int seen = 0;
    for (int i = 0; i < 1000; ++i) {
      seen += x.load();
      if (s.try_acquire_for(std::chrono::milliseconds(0))) break;
    }
    LOCKSTEP_ASSERT(seen >= 0);
  });
  for (int i = 0; i < 200; ++i) x.store(i);
  s.release();
  t.join();
}

TEST(BusyWait, LoadsWithAFailedTryLockBetweenThemAreNoRun) {
  expect_no_busy_wait(poll_with_try_lock<mc::mutex>, {mc::random(1)});
  expect_no_busy_wait(poll_with_try_lock<lockstep::basic_mutex<mc::futex_platform>>, {mc::random(1)});
}

TEST(BusyWait, LoadsWithAnExpiredTimedWaitBetweenThemAreNoRun) {
  expect_no_busy_wait(poll_with_timed_wait, {mc::random(1)});
}

// A queue operation that changes nothing (a try_get of an empty queue) is no
// write: a spin on a flag around it is still busy waiting.
void spin_polling_an_empty_queue() {
  mc::bounded_queue<int> q{2};
  mc::atomic<bool> ready{false};
  mc::name(&ready, "ready");
  mc::thread t([&] {
    while (!ready.load()) (void)q.try_get();
  });
  mc::atomic<int> x{0};
  for (int i = 0; i < 300; ++i) x.store(i);
  ready.store(true);
  t.join();
}

// A test-and-set spin: exchange(true) on a flag main holds, without
// relax() (`Cas`: a compare-exchange of true for true instead). Each writes
// the value already there, so it changes nothing and counts as a read,
// whatever its order and whether the memory model keeps views from the
// start (as it does once the race detector is on): the verdict once
// depended on both (an acquire exchange, or plain memory touched, and the
// spin passed), and the compare-exchange spin always passed.
template <std::memory_order Order, bool Plain, bool Cas = false>
void spin_on_exchange() {
  mc::atomic<bool> held{true};
  mc::name(&held, "held");
  mc::shared<int> data{0};
  if constexpr (Plain) data.store(1);  // the race detector is on from here
  mc::thread t([&] {
    const auto taken = [&] {
      bool expected = true;
      return Cas ? held.compare_exchange_strong(expected, true, Order) : held.exchange(true, Order);
    };
    while (taken()) {
      // BUG: no relax()
    }
    held.store(false, std::memory_order_release);
  });
  mc::atomic<int> x{0};
  for (int i = 0; i < 300; ++i) x.store(i);
  held.store(false, std::memory_order_release);
  t.join();
}

TEST(BusyWait, ASpinOnExchangeIsBusyWaitingWhateverItsOrderAndTheRaceDetector) {
  for (auto* body : {spin_on_exchange<std::memory_order_seq_cst, false>, spin_on_exchange<std::memory_order_seq_cst, true>,
                     spin_on_exchange<std::memory_order_acquire, false>, spin_on_exchange<std::memory_order_acquire, true>,
                     spin_on_exchange<std::memory_order_seq_cst, false, true>,
                     spin_on_exchange<std::memory_order_acquire, true, true>}) {
    for (const auto model : {mc::memory_model::rc11, mc::memory_model::sc}) {
      auto o = with(mc::random(1));
      o.max_executions = 1000;
      o.memory_model = model;
      const auto r = mc::explore(o, body);
      ASSERT_TRUE(r.found) << r.report();
      EXPECT_EQ(r.found->kind, bug_kind::busy_wait) << r.report();
      EXPECT_HAS(r.found->message, "thread 1 busy-waits");
    }
  }
}

// A fence touches no location, and a futex wake that finds no waiter
// changes nothing: a spin with one of them in it is still a run of reads
// (each once ended the run, and the spin passed). `Wake`: the spin wakes
// the flag's futex, else it fences.
template <bool Wake>
void spin_with_a_fence_or_a_wake() {
  mc::atomic<std::uint32_t> ready{0};
  mc::name(&ready, "ready");
  mc::thread t([&] {
    while (ready.load(std::memory_order_relaxed) == 0) {
      if constexpr (Wake) mc::platform::wake_all(ready);
      else mc::atomic_thread_fence(std::memory_order_acquire);
    }
  });
  mc::atomic<int> x{0};
  for (int i = 0; i < 300; ++i) x.store(i);
  ready.store(1, std::memory_order_release);
  t.join();
}

TEST(BusyWait, ASpinWithAFenceOrAWakeOfNobodyIsBusyWaiting) {
  for (auto* body : {spin_with_a_fence_or_a_wake<false>, spin_with_a_fence_or_a_wake<true>}) {
    auto o = with(mc::random(1));
    o.max_executions = 1000;
    const auto r = mc::explore(o, body);
    ASSERT_TRUE(r.found) << r.report();
    EXPECT_EQ(r.found->kind, bug_kind::busy_wait) << r.report();
    EXPECT_HAS(r.found->message, "thread 1 busy-waits: it read ready");  // the load, not the fence
  }
}

TEST(BusyWait, ASpinAroundAnEmptyQueuePollIsBusyWaiting) {
  auto o = with(mc::random(1));
  o.max_executions = 1000;
  const auto r = mc::explore(o, spin_polling_an_empty_queue);
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::busy_wait) << r.report();
  EXPECT_HAS(r.found->message, "thread 1 busy-waits");
}

TEST(BusyWait, ASpinOnAFailingTryAcquireIsBusyWaiting) {
  const auto r = mc::explore(with(mc::dfs()), spin_on_try_acquire<false>);
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::busy_wait) << r.report();
  EXPECT_HAS(r.found->message, "thread 0 (main) busy-waits");
  EXPECT_HAS(r.found->message, "101 times in a row");
  // As for loads, the report comes at the point after the run, and the run
  // it counts is the tries that failed (it said 101 after 102).
  const auto failed = std::count_if(r.found->events.begin(), r.found->events.end(), [](const mc::trace_event& e) {
    return e.thread == 0 && e.o == mc::op::cas_fail;
  });
  EXPECT_EQ(failed, 101) << r.report();
  auto fair = with(mc::dfs());
  fair.max_executions = 2000;
  const auto relaxed = mc::explore(fair, spin_on_try_acquire<true>);
  EXPECT_TRUE(relaxed.ok()) << relaxed.report();
}

// -- starvation -------------------------------------------------------------------

TEST(Starvation, ReportNamesTheStarvedThreadTheResourceAndWhoBypassedIt) {
  const auto r = check("rwlock_reader_preferring_starvation");
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::starvation) << r.report();
  EXPECT_HAS(r.found->message, "thread 1 starves waiting for shared mutex rw");
  EXPECT_HAS(r.found->message, "acquired it 3 times");
  EXPECT_HAS(r.found->message, "bypass_bound = 2");
  EXPECT_HAS(r.found->details, "thread 2 acquired it 3 times");
  EXPECT_HAS(r.found->details, LOCKSTEP_SRC "models/liveness.cpp:");  // where the writer asked
}

// A mutex grants no order among its waiters, so overtaking one is no
// starvation, on either platform: two threads taking it in turns while a
// third waits once. (On mc::futex_platform the waiter blocked in the lock
// protocol's futex wait was counted as overtaken, and random sampling
// reported starvation where the native lock word never does.)
template <class Mutex>
void two_hogs_and_a_waiter() {
  Mutex m;
  mc::thread w([&] {
    m.lock();
    m.unlock();
  });
  mc::thread a([&] {
    for (int i = 0; i < 4; ++i) {
      m.lock();
      m.unlock();
    }
  });
  for (int i = 0; i < 4; ++i) {
    m.lock();
    m.unlock();
  }
  w.join();
  a.join();
}

TEST(Starvation, AMutexGrantsNoOrderOnEitherPlatform) {
  for (const std::uint64_t seed : {1, 7}) {
    for (void (*body)() : {&two_hogs_and_a_waiter<mc::mutex>,
                           &two_hogs_and_a_waiter<lockstep::basic_mutex<mc::futex_platform>>,
                           &two_hogs_and_a_waiter<lockstep::basic_recursive_mutex<mc::futex_platform>>}) {
      mc::options o = with(mc::random(seed));
      o.max_executions = 2000;
      const auto r = mc::explore(o, body);
      EXPECT_TRUE(r.ok()) << "seed " << seed << ": " << r.report();
    }
  }
}

// Two shared holders do not exclude each other, so a reader never overtakes
// a waiting reader; and a thread blocked on a primitive's internal guard
// waits for a lock word, which grants no order. A writer, and two readers
// taking the lock `n` times each, with the fair and writer-preferring
// policies, where no reader overtakes a waiting writer either. Before, a
// reader blocked on a phase the writer's release had granted, and not yet
// woken, was counted as overtaken by the other reader (dpor found it on
// both platforms), and on mc::futex_platform a thread blocked on the
// internal guard's futex wait was counted as overtaken by each acquisition
// that got through the guard first (random sampling found it).
template <class SharedMutex>
void a_writer_and_two_readers(int n) {
  SharedMutex m;
  const auto reader = [&] {
    for (int i = 0; i < n; ++i) {
      m.lock_shared();
      m.unlock_shared();
    }
  };
  mc::thread w([&] {
    m.lock();
    m.unlock();
  });
  mc::thread r(reader);
  reader();
  w.join();
  r.join();
}

template <class Policy>
void no_reader_overtakes_a_reader() {
  mc::options o = with(mc::dpor());
  o.bypass_bound = 1;
  o.max_executions = 100000;
  const auto native = mc::explore(o, [] { a_writer_and_two_readers<mc::shared_mutex<Policy>>(2); });
  EXPECT_TRUE(native.ok()) << native.report();
  EXPECT_TRUE(native.complete);
  o = with(mc::random(7));
  o.bypass_bound = 1;
  o.max_executions = 5000;
  const auto futex =
      mc::explore(o, [] { a_writer_and_two_readers<lockstep::basic_shared_mutex<Policy, mc::futex_platform>>(4); });
  EXPECT_TRUE(futex.ok()) << futex.report();
}

TEST(Starvation, NoReaderOvertakesAWaitingReaderNorAThreadOnTheInternalGuard) {
  no_reader_overtakes_a_reader<lockstep::fair>();
  no_reader_overtakes_a_reader<lockstep::writer_preferring>();
}

TEST(Starvation, TheBypassBoundIsABoundWithAnOverride) {
  // The scenario has three reads after the writer blocks: with k = 3 every
  // schedule is within the bound.
  auto o = with(mc::dpor());
  o.bypass_bound = 3;
  const auto r = check("rwlock_reader_preferring_starvation", o);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
}

// The one writer may get in ahead of a reader that announced itself just
// before (the writer registered as waiting first, so the reader queues
// behind it): a bound of 0 reports that, found by dfs with one preemption.
// No reader ever overtakes a waiting writer, so 1 holds in every schedule.
TEST(Starvation, WriterPreferringAndFairPoliciesNeverLetAReaderBypass) {
  auto o = with(mc::dpor());
  o.bypass_bound = 1;
  for (const char* m : {"rwlock_writer_preferring_no_starvation", "rwlock_fair_no_starvation"}) {
    const auto r = check(m, o);
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_TRUE(r.complete) << m;
  }
}

// A reader's try_lock_shared that got the lock before the writer even asked
// overtook nobody, whenever the writer then blocks and however late the
// reader's next step comes: with a bound of 0, no schedule starves it.
TEST(Starvation, ATryOvertakesNoWaiterThatBlockedAfterIt) {
  for (const mc::strategy_spec& s : {mc::dfs(), mc::dpor()}) {
    auto o = with(s);
    o.bypass_bound = 0;
    const auto r = mc::explore(o, [] {
      mc::shared_mutex<lockstep::reader_preferring> rw("rw");
      mc::thread writer([&] { std::unique_lock g(rw); });
      if (rw.try_lock_shared()) rw.unlock_shared();
      writer.join();
    });
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_TRUE(r.complete);
  }
}

// But a try that gets in while the writer waits (another reader holds the
// lock) overtakes it, as lock_shared would.
TEST(Starvation, ATryThatGetsInWhileAWriterWaitsOvertakesIt) {
  for (const mc::strategy_spec& s : {mc::dfs(), mc::dpor()}) {
    auto o = with(s);
    o.bypass_bound = 0;
    const auto r = mc::explore(o, [] {
      mc::shared_mutex<lockstep::reader_preferring> rw("rw");
      mc::thread writer([&] { std::unique_lock g(rw); });
      mc::thread reader([&] {
        if (rw.try_lock_shared()) rw.unlock_shared();
      });
      {
        std::shared_lock g(rw);
        mc::this_thread::yield();
      }
      writer.join();
      reader.join();
    });
    ASSERT_TRUE(r.found) << r.report();
    EXPECT_EQ(r.found->kind, bug_kind::starvation) << r.report();
    EXPECT_HAS(r.found->message, "thread 1 starves waiting for shared mutex rw");
    EXPECT_HAS(r.found->details, "thread 2 acquired it 1 time");
  }
}

// A lock of the user's own, announced through the platform. A try that
// failed is forgotten at the next announcement: a later timed acquisition
// of the same lock that gets in while a waiter is blocked overtakes it
// (with the failed try's join count it did not).
struct user_lock {
  using P = lockstep::mc::platform;
  P::atomic<std::uint32_t> held{0};
  P::atomic<std::uint32_t> seq{0};
  bool attempt() {
    std::uint32_t z = 0;
    return held.compare_exchange_strong(z, 1);
  }
  bool try_lock(lockstep::acquire_flags f) {
    P::acquiring(this, lockstep::lock_kind::mutex, f);
    if (!attempt()) return false;
    P::acquired(this, lockstep::lock_mode::exclusive);
    return true;
  }
  void lock() {
    P::acquiring(this, lockstep::lock_kind::mutex, lockstep::acquire_flags::blocking);
    while (!attempt()) {
      const std::uint32_t s = seq.load();
      if (held.load() != 0) P::wait(seq, s);
    }
    P::acquired(this, lockstep::lock_mode::exclusive);
  }
  void unlock() {
    P::released(this, lockstep::lock_mode::exclusive);
    held.store(0);
    seq.fetch_add(1);
    P::wake_all(seq);
  }
};

TEST(Starvation, AFailedTryDoesNotChangeALaterTimedAcquisition) {
  for (bool try_first : {false, true}) {
    auto o = with(mc::dfs());
    o.bypass_bound = 0;
    const auto r = mc::explore(o, [try_first] {
      user_lock l;
      mc::atomic<int> ready{0};
      l.held.store(1);  // held by nobody the checker knows of
      if (try_first) (void)l.try_lock(lockstep::acquire_flags::try_);  // fails
      mc::thread w([&] {
        ready.store(1);
        l.lock();
        l.unlock();
      });
      while (ready.load() == 0) mc::this_thread::yield();
      l.held.store(0);  // no wake: w may stay blocked
      if (l.try_lock(lockstep::acquire_flags::timed)) {
        l.unlock();
      } else {
        l.seq.fetch_add(1);
        user_lock::P::wake_all(l.seq);
      }
      w.join();
    });
    ASSERT_TRUE(r.found) << "try_first " << try_first;
    EXPECT_EQ(r.found->kind, bug_kind::starvation) << "try_first " << try_first << r.report();
  }
}

// -- lost wake-up -------------------------------------------------------------------

TEST(LostWakeup, IsItsOwnVerdictAndNamesTheMissedNotify) {
  const auto r = check("condvar_no_predicate");
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::lost_wakeup) << r.report();
  EXPECT_HAS(r.found->message, "thread 1 waits forever on ready_cv at " LOCKSTEP_SRC "models/primitives.cpp:");
  EXPECT_HAS(r.found->message, "no thread left can wake it");
  EXPECT_HAS(r.found->details, "missed a notification: thread 0 (main) notified ready_cv at " LOCKSTEP_SRC "models/primitives.cpp:");
}

TEST(LostWakeup, ALockCycleStaysADeadlock) {
  const auto r = check("deadlock_abba");
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
}

TEST(LostWakeup, AWaitNobodyEverNotifiesSaysSo) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::counting_semaphore<1> permits(0, "permits");
    mc::thread t([&] { permits.acquire(); });
    t.join();
  });
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::lost_wakeup);
  EXPECT_HAS(r.found->message, "waits forever on permits");
  EXPECT_HAS(r.found->details, "Nobody notified it");
}

// -- data races ------------------------------------------------------------------------

TEST(DataRace, ReportsBothAccessesWithThreadAndLine) {
  const auto r = check("counter_plain_race");
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::data_race) << r.report();
  EXPECT_HAS(r.found->message, "data race on count");
  EXPECT_HAS(r.found->details, "thread 0 (main) wrote count at " LOCKSTEP_SRC "models/liveness.cpp:");
  EXPECT_HAS(r.found->details, "thread 1 read count at " LOCKSTEP_SRC "models/liveness.cpp:");
}

TEST(DataRace, ALockedCounterHasNoRaceInAnySchedule) {
  const auto r = check("counter_plain_locked");
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
}

TEST(DataRace, AnAtomicFlagOrdersPlainMemory) {
  // Message passing: the data is written before the flag is set and read
  // after it is seen: happens-before through the atomic, no race.
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::shared<int> data{0};
    mc::atomic<bool> ready{false};
    mc::thread t([&] {
      data.store(42);
      ready.store(true);
    });
    while (!ready.load()) mc::this_thread::yield();
    LOCKSTEP_ASSERT(data.load() == 42);
    t.join();
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
}

TEST(DataRace, AnExistingVariableCanBeMarked) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    int plain = 0;
    mc::name(&plain, "plain");
    mc::thread t([&] {
      mc::plain_write(&plain);
      plain = 1;
    });
    mc::plain_read(&plain);
    const int seen = plain;
    (void)seen;
    t.join();
  });
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::data_race);
  EXPECT_HAS(r.found->message, "data race on plain");
  EXPECT_HAS(r.found->details, "test_liveness.cpp:");
}

// A location is marked by its start and size: a write of a whole struct
// races with a read of a member at another offset, in either order and on
// the lean path (random) as on the full one; members that do not overlap
// do not race. (A location used to be its start address alone: the first
// three passed as complete.)
TEST(DataRace, AWholeAndAPartAtAnotherOffsetOverlap) {
  struct pair {
    int a, b;
  };
  enum class shape { whole_then_member, member_then_whole, array_then_element, two_members };
  for (const shape sh : {shape::whole_then_member, shape::member_then_whole, shape::array_then_element,
                         shape::two_members}) {
    SCOPED_TRACE(static_cast<int>(sh));
    const auto body = [sh] {
      pair s{0, 0};
      int arr[4] = {0, 0, 0, 0};
      mc::thread t([&] {
        switch (sh) {
          case shape::whole_then_member: mc::plain_write(&s); s = pair{1, 2}; break;
          case shape::member_then_whole: mc::plain_write(&s.b); s.b = 3; break;
          case shape::array_then_element: mc::plain_write(&arr); arr[1] = 1; break;
          case shape::two_members: mc::plain_write(&s.a); s.a = 1; break;
        }
      });
      switch (sh) {
        case shape::whole_then_member: mc::plain_read(&s.b); (void)s.b; break;
        case shape::member_then_whole: mc::plain_read(&s); (void)s.a; break;
        case shape::array_then_element: mc::plain_read(&arr[1]); (void)arr[1]; break;
        case shape::two_members: mc::plain_read(&s.b); (void)s.b; break;
      }
      t.join();
    };
    for (const auto& s : {mc::dfs(), mc::random(1)}) {
      mc::options o = with(s);
      o.max_executions = 200;
      const auto r = mc::explore(o, body);
      if (sh == shape::two_members) {
        EXPECT_TRUE(r.ok()) << r.report();
      } else {
        ASSERT_TRUE(r.found) << r.report();
        EXPECT_EQ(r.found->kind, bug_kind::data_race) << r.report();
      }
    }
  }
}

TEST(DataRace, ReadsOrderedByJoinAreNoRace) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::shared<int> x{0};
    mc::thread t([&] { x.store(1); });
    t.join();
    LOCKSTEP_ASSERT(x.load() == 1);
    mc::thread u([&] { x.store(x.load() + 1); });
    u.join();
  });
  EXPECT_TRUE(r.ok()) << r.report();
}

// -- reports and pictures ---------------------------------------------------------------

TEST(Pictures, TheDeadlockGraphHasBothThreadsBothMutexesAndTheCycle) {
  const auto r = check("deadlock_abba");
  ASSERT_TRUE(r.found);
  const mc::wait_graph& g = r.found->graph;
  auto node = [&](const std::string& label) {
    return std::find_if(g.nodes.begin(), g.nodes.end(), [&](const auto& n) { return n.label == label; }) !=
           g.nodes.end();
  };
  EXPECT_TRUE(node("thread 0 (main)"));
  EXPECT_TRUE(node("thread 1"));
  EXPECT_TRUE(node("mutex A"));
  EXPECT_TRUE(node("mutex B"));
  EXPECT_EQ(std::count_if(g.edges.begin(), g.edges.end(), [](const auto& e) { return e.in_cycle; }), 4);
  const std::string dot = mc::to_dot(*r.found, "deadlock_abba");
  EXPECT_HAS(dot, "digraph wait_for");
  EXPECT_HAS(dot, "color=red");
  EXPECT_HAS(dot, "deadlock_abba: deadlock");
}

TEST(Pictures, ALostWakeUpGraphShowsWhatEachThreadWaitsOn) {
  const auto r = check("condvar_no_predicate");
  ASSERT_TRUE(r.found);
  const std::string dot = mc::to_dot(r.found->graph, "t");
  EXPECT_HAS(dot, "ready_cv");
  EXPECT_HAS(dot, "join");
}

TEST(Pictures, EveryReportHasThreadsATimelineAndTheReplayCommand) {
  for (const char* m : {"deadlock_abba", "livelock_polite", "busy_wait_spin", "rwlock_reader_preferring_starvation",
                        "condvar_no_predicate", "counter_plain_race", "counter_unsynchronized"}) {
    auto o = with(mc::dfs());
    o.replay_command = std::string("lockstep check ") + m + " --replay {}";
    const auto r = check(m, o);
    ASSERT_TRUE(r.found) << m;
    const std::string report = r.report();
    EXPECT_HAS(report, "  threads:\n    thread 0 (main)");
    EXPECT_HAS(report, "one column per thread:\n    step  thread 0 (main)");
    EXPECT_HAS(report, "  run:    lockstep check " + std::string(m) + " --replay L1");
    EXPECT_FALSE(r.found->events.empty()) << m;
  }
}

TEST(Pictures, TheTimelinePutsEachThreadInItsOwnColumn) {
  std::vector<mc::trace_event> ev(2);
  ev[0].step = 1;
  ev[0].thread = 0;
  ev[0].o = mc::op::store;
  ev[0].object_name = "x";
  ev[0].value = 1;
  ev[1].step = 2;
  ev[1].thread = 1;
  ev[1].o = mc::op::load;
  ev[1].object_name = "x";
  ev[1].value = 1;
  const std::string t = mc::timeline_text(ev, 2, "events");
  const auto row2 = t.find("\n       2 ");
  ASSERT_NE(row2, std::string::npos) << t;
  const auto col1 = t.find("thread 1");
  const auto line_start = t.rfind('\n', col1) + 1;
  const auto load = t.find("load x = 1");
  EXPECT_EQ(load - (row2 + 1), col1 - line_start) << t;  // the load sits under "thread 1"
}

}  // namespace
