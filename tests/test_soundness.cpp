// Soundness: each test is a program on which a verdict once was wrong ("complete,
// no bug" while a schedule had the bug, a shard that lost part of the search,
// a trace run twice). Named after the bug; the verdict is checked against
// plain dfs where dfs can finish.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/gtest.hpp"
#include "yield_window.hpp"

namespace {

namespace mc = lockstep::mc;
using mc::bug_kind;

mc::options with(mc::strategy_spec s) {
  mc::options o;
  o.strategy = std::move(s);
  o.honour_env = false;
  o.shrink = false;
  return o;
}

// A search of `body`, which sets `flag` when it reaches what a test looks
// for. `flag` is left true only if an execution the search keeps reached
// it: one that dpor abandoned (a sleep set blocked it; it runs on to its
// end on first choices) may reach it by chance, and would hide a miss.
template <class Body>
mc::result explore_kept(mc::options o, Body& body, bool& flag) {
  bool reached = false;
  o.skip_abandoned = true;
  o.on_execution = [&reached, &flag, then = o.on_execution](const mc::bug* b) {
    reached = reached || flag;
    if (then) then(b);
  };
  auto each = [&] {
    flag = false;
    body();
  };
  mc::result r = mc::explore(o, each);
  flag = reached;
  return r;
}

// -- a successful try_lock is not an acquisition after the last release ---------------

// The try can land inside the other thread's critical section and fail.
template <class Mutex>
void try_lock_inside_a_section() {
  Mutex m;
  mc::thread t([&] {
    m.lock();
    m.unlock();
  });
  const bool ok = m.try_lock();
  if (ok) m.unlock();
  t.join();
  LOCKSTEP_ASSERT(ok);
}

TEST(TryLock, DporFindsTheTryThatLandsInsideTheOtherSection) {
  const auto dfs = mc::explore(with(mc::dfs()), try_lock_inside_a_section<mc::mutex>);
  ASSERT_FALSE(dfs.ok());
  const auto r = mc::explore(with(mc::dpor()), try_lock_inside_a_section<mc::mutex>);
  ASSERT_FALSE(r.ok()) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::assertion);
}

// The same for the shared mutex's writer try and the recursive mutex.
TEST(TryLock, DporFindsAFailedTryOnEveryLockKind) {
  for (auto r : {mc::explore(with(mc::dpor()), try_lock_inside_a_section<mc::shared_mutex<>>),
                 mc::explore(with(mc::dpor()), try_lock_inside_a_section<mc::recursive_mutex>)}) {
    ASSERT_FALSE(r.ok()) << r.report();
    EXPECT_EQ(r.found->kind, bug_kind::assertion);
  }
}

// Polite threads without a yield between taking the first lock and trying
// the second: the livelock hides behind a try that succeeds in the first
// schedules dpor runs.
void polite_no_work(mc::mutex& first, mc::mutex& second) {
  for (;;) {
    first.lock();
    if (second.try_lock()) {
      LOCKSTEP_PROGRESS();
      second.unlock();
      first.unlock();
      return;
    }
    first.unlock();
    mc::this_thread::yield();
  }
}

TEST(TryLock, DporFindsTheLivelockBehindASucceedingTry) {
  auto body = [] {
    mc::mutex a, b;
    mc::thread t([&] { polite_no_work(a, b); });
    polite_no_work(b, a);
    t.join();
  };
  const auto r = mc::explore(with(mc::dpor()), body);
  ASSERT_FALSE(r.ok()) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::livelock);
}


// -- a timeout firing is reversible with a thread's start ---------------------------------

// Found by the differential test: the body's timed wait expires before the
// thread starts; the timeout (dependent with everything) was taken to order
// the start after it for good, which hid the race between the two try_locks
// behind it: dpor never ran the thread's try first.
TEST(Timeouts, DporRunsTheStartBeforeATimeoutThatPrecededIt) {
  bool seen_thread_first = false;
  auto body = [&] {
    mc::mutex m;
    mc::counting_semaphore<8> sem(0);
    bool mine = false;
    mc::thread t([&] {
      if (m.try_lock()) {
        mine = true;
        m.unlock();
      }
    });
    const bool ok = m.try_lock();
    if (ok) {
      (void)sem.try_acquire_for(std::chrono::milliseconds(1));
      m.unlock();
    }
    t.join();
    if (!ok && mine) seen_thread_first = true;
  };
  const auto r = explore_kept(with(mc::dpor()), body, seen_thread_first);
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(seen_thread_first) << "dpor never let the thread's try_lock go first (" << r.executions
                                 << " executions)";
}

// A read of virtual time is no point: it rides on the thread's step before
// it (here the store of x). Announced as that store alone, the step looked
// independent of the thread's timeout, so once it had run first, sleep sets
// kept the body asleep past the timeout: dpor never read the time after the
// timeout and before the thread's next step. (A sleep-set-blocked execution
// runs on to its end on first choices: the thread's next step before the
// body's, so it does not reach that outcome either.)
TEST(Timeouts, DporReadsTheTimeBetweenATimeoutAndTheThreadsNextStep) {
  std::int64_t seen = -1;
  int y_seen = -1;
  auto body = [&] {
    mc::counting_semaphore<1> sem(0);
    mc::atomic<int> x{0}, y{0};
    mc::thread t([&] {
      (void)sem.try_acquire_for(std::chrono::milliseconds(1));
      y.store(1);
    });
    x.store(1);
    seen = mc::virtual_clock::now().time_since_epoch().count();
    y_seen = y.load();
    t.join();
  };
  for (const mc::strategy_spec& s : {mc::dfs(), mc::dpor(), mc::source_dpor()}) {
    bool before = false, between = false;
    mc::options o = with(s);
    o.fair_scheduling = false;
    o.skip_abandoned = true;
    o.on_execution = [&](const mc::bug*) {
      before = before || seen == 0;
      between = between || (seen > 0 && y_seen == 0);
    };
    const auto r = mc::explore(o, body);
    EXPECT_TRUE(r.complete);
    EXPECT_TRUE(before);
    EXPECT_TRUE(between) << "the time was never read between the timeout and the thread's store (" << r.executions
                         << " executions)";
  }
}

// -- a thread's first yield counts from its spawn -------------------------------------------

// Found by the long form of the differential test (after 4930 programs): the
// thread's first yield (its timed wait expiring) defers to the threads that
// did not run since it was spawned. The body's try_lock between that yield
// and the thread's own failed try is what lets the thread go on and take m1
// first; dpor counted the window from the start of the execution, so the
// body's spawn seemed to be in it and that order was never tried.
TEST(Fairness, DporOrdersAThreadsFirstYieldAgainstStepsSinceItsSpawn) {
  bool body_lost_m1 = false;
  auto body = [&] {
    mc::mutex m0, m1;
    mc::event ev;
    mc::thread t([&] {
      (void)ev.wait_for(std::chrono::milliseconds(1));
      if (m0.try_lock()) m0.unlock();
      std::scoped_lock g(m1);
    });
    if (m0.try_lock()) {
      if (m1.try_lock()) m1.unlock();
      else body_lost_m1 = true;
      m0.unlock();
    }
    t.join();
  };
  const auto dfs = mc::explore(with(mc::dfs()), body);
  ASSERT_TRUE(dfs.complete);
  ASSERT_TRUE(body_lost_m1) << "dfs reaches it";
  const auto r = explore_kept(with(mc::dpor()), body, body_lost_m1);
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(body_lost_m1) << "dpor never let the thread take m1 first (" << r.executions << " executions)";
}

// -- a try_lock that failed can succeed after a release ---------------------------------

// Found by the long form of the differential test (after 13230 programs): the
// thread's try on m0 sleeps (its branch was explored) while the body holds
// m0 inside a condition-variable wait; the wait's unlock is a release the
// try reads, so it must wake the sleeper. Recorded as a plain write of m0,
// the try looked independent of the release, and the schedule where the
// thread's try succeeds and the body's own try then lands inside the
// thread's section and fails was never run.
TEST(TryLock, DporWakesASleepingTryAtTheReleaseItWouldRead) {
  bool body_lost_thread_won = false;
  auto body = [&] {
    mc::mutex m0;
    mc::condition_variable cv;
    mc::atomic<int> a{0};
    bool thread_ok = false;
    mc::thread t([&] {
      a.fetch_add(1);
      thread_ok = m0.try_lock();
      if (thread_ok) m0.unlock();
    });
    {
      std::unique_lock lk(m0);
      cv.wait(lk, [&] { return a.load() >= 1; });
    }
    const bool ok = m0.try_lock();
    if (ok) m0.unlock();
    t.join();
    if (!ok && thread_ok) body_lost_thread_won = true;
  };
  // Without a notify the body may wait forever (a lost wake-up): both
  // searches go on past it, as the differential test does.
  auto o = with(mc::dfs());
  o.keep_going = true;
  const auto dfs = mc::explore(o, body);
  ASSERT_TRUE(dfs.complete);
  ASSERT_TRUE(body_lost_thread_won) << "dfs reaches it";
  o.strategy = mc::dpor();
  const auto r = explore_kept(o, body, body_lost_thread_won);
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(body_lost_thread_won) << "dpor never ran the body's try inside the thread's section ("
                                    << r.executions << " executions)";
}

// -- a blocked lock attempt reads the lock word ------------------------------------------

// Found by the long differential test (after 18,773 programs): the thread's
// lock attempt blocked on the body's m1 and recorded nothing; woken after the
// body's unlock, its wake-up step was ordered after the body's expired timed
// wait (a yield), and through it after the body's lock, which hid the race
// between the two acquisitions: dpor never let the thread take m1 first (and
// release the semaphore before the body's timed acquire).
TEST(LockWait, DporLetsABlockedAttemptGoBeforeTheHoldersAcquisition) {
  bool acquired_after_release = false;
  auto body = [&] {
    mc::mutex m1;
    mc::counting_semaphore<8> sem(0);
    mc::event ev;
    mc::thread t([&] {
      std::scoped_lock g(m1);
      sem.release();
    });
    {
      std::scoped_lock g(m1);
      (void)ev.wait_for(std::chrono::milliseconds(1));
      if (sem.try_acquire_for(std::chrono::milliseconds(1))) acquired_after_release = true;
    }
    t.join();
  };
  const auto dfs = mc::explore(with(mc::dfs()), body);
  ASSERT_TRUE(dfs.complete);
  ASSERT_TRUE(acquired_after_release) << "dfs reaches it";
  const auto r = explore_kept(with(mc::dpor()), body, acquired_after_release);
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(acquired_after_release) << "dpor never let the thread take m1 first (" << r.executions
                                      << " executions)";
}

// -- a step that crosses a yield of another thread -----------------------------------------

// Found by the long differential test (after 24,185 programs): the thread's
// failed try_lock is a yield; whom its later expired timed acquire (another
// yield) defers to depends on whether the body's step before that try
// (reading the semaphore inside sem.release()) ran before or after the try.
// dpor ordered a yield only against each thread's first step in its window,
// took the two orders for equivalent and never let the thread's timed
// acquire fail while the body was inside its section. When a yield closes
// its window, the steps that would cross the previous yield are now races
// (window_races in dpor.cpp).
TEST(Fairness, DporOrdersAYieldAgainstTheStepsThatCrossItsWindow) {
  bool timed_out_inside = false;
  auto body = [&] {
    mc::mutex m0;
    mc::counting_semaphore<8> sem(0);
    bool thread_try = false, thread_acquired = true;
    mc::thread t([&] {
      thread_try = m0.try_lock();
      if (thread_try) m0.unlock();
      thread_acquired = sem.try_acquire_for(std::chrono::milliseconds(1));
    });
    const bool ok = m0.try_lock();
    if (ok) {
      sem.release();
      m0.unlock();
    }
    t.join();
    if (ok && !thread_try && !thread_acquired) timed_out_inside = true;
  };
  const auto dfs = mc::explore(with(mc::dfs()), body);
  ASSERT_TRUE(dfs.complete);
  ASSERT_TRUE(timed_out_inside) << "dfs reaches it";
  const auto r = explore_kept(with(mc::dpor()), body, timed_out_inside);
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(timed_out_inside) << "dpor never let the thread's timed acquire fail (" << r.executions
                                << " executions)";
}

// Found by comparing dfs and dpor with runs on OS threads (random programs,
// seeds 301547 and 3220): a yield by thread t, between two steps of the body,
// puts the body's second step (here the lock) into the window before t's
// next yield (its failed try_lock), so that yield defers to nobody and t
// runs on to its fetch_add before the body's load: 1, 0, 2. dpor explored the
// lock before t's load first; in the branch where t's load and yield ran
// first, the lock slept through the yield (it was not the body's first step
// in t's window, the one case a yield woke a sleeper for), so it never ran
// right after the yield, and dpor and source-dpor said complete without
// reaching 1, 0, 2. A yield now wakes every sleeper. The same with t's first
// yield a sleep that expires (the second body).
TEST(Fairness, DporRunsAStepAfterAYieldThatMovesItIntoTheNextWindow) {
  bool reached = false;
  auto yield_then_try = [&] { lockstep::testing::yield_then_try(reached); };
  auto sleep_then_yield = [&] {
    mc::atomic<int> a{0};
    mc::mutex m;
    std::int64_t now = -1;
    mc::thread t([&] {
      mc::sleep_for(std::chrono::microseconds(20));  // its expiry is a yield
      {
        std::scoped_lock g(m);
        mc::this_thread::yield();
      }
      a.fetch_add(1);
    });
    {
      std::scoped_lock g(m);
      now = mc::virtual_clock::now().time_since_epoch().count();
    }
    int expected = 0;
    const bool swapped = a.compare_exchange_strong(expected, 1);
    t.join();
    if (now == 0 && !swapped) reached = true;
  };
  const std::function<void()> bodies[] = {yield_then_try, sleep_then_yield};
  for (const auto& body : bodies) {
    reached = false;
    const auto dfs = mc::explore(with(mc::dfs()), body);
    ASSERT_TRUE(dfs.complete);
    ASSERT_TRUE(reached) << "dfs reaches it";
    for (const mc::strategy_spec& s : {mc::dpor(), mc::source_dpor()}) {
      const auto r = explore_kept(with(s), body, reached);
      EXPECT_TRUE(r.complete) << r.report();
      EXPECT_TRUE(reached) << r.strategy << " never ran the step after the yield (" << r.executions << " executions)";
    }
  }
}

// -- a search that goes on after a deadlock -------------------------------------------------

// Found by the long form of the differential test (after 7979 programs): the
// deadlock (the body holds m1 and asks for m0, the thread holds m0 and asks
// for m1) was found inside the step that closed the cycle, the execution
// stopped there, and what that thread would do next was unknown; taken as
// racing with everything, it left dpor stuck short of the order where the
// thread takes m1 first and the body's try fails. With keep_going the
// execution now goes on until nothing can run.
TEST(KeepGoing, DporReachesTheOrdersBeforeADeadlockCycle) {
  bool try_failed = false;
  auto body = [&] {
    mc::mutex m0, m1;
    mc::condition_variable cv;
    mc::counting_semaphore<8> sem(0);
    mc::atomic<int> a{0};
    mc::thread t([&] {
      std::scoped_lock g(m0);
      cv.notify_all();
      std::scoped_lock g1(m1);
    });
    (void)sem.try_acquire();
    const bool ok = m1.try_lock();
    if (ok) {
      (void)a.load();
      { std::scoped_lock g(m0); }
      m1.unlock();
    } else {
      try_failed = true;
    }
    t.join();
  };
  auto o = with(mc::dfs());
  o.keep_going = true;
  std::size_t deadlocks = 0;
  o.on_execution = [&](const mc::bug* b) { deadlocks += b != nullptr && b->kind == bug_kind::deadlock ? 1 : 0; };
  const auto dfs = mc::explore(o, body);
  ASSERT_TRUE(dfs.complete);
  ASSERT_TRUE(try_failed) << "dfs reaches it";
  ASSERT_GT(deadlocks, 0u);
  deadlocks = 0;
  o.strategy = mc::dpor();
  const auto r = explore_kept(o, body, try_failed);
  EXPECT_TRUE(r.complete);
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
  EXPECT_GT(deadlocks, 0u);
  EXPECT_TRUE(try_failed) << "dpor never let the thread take m1 first (" << r.executions << " executions)";
}

// Dfs, dpor and source dpor each go on after bugs (keep_going) and count
// only the executions they keep: each is complete, and the values of
// `state` (which the body keeps) at which an assertion stopped an
// execution are exactly `want`.
template <class Body>
void expect_stops_at(Body& body, const int& state, const std::set<int>& want, const char* what) {
  const std::pair<const char*, mc::strategy_spec> searches[] = {
      {"dfs", mc::dfs()}, {"dpor", mc::dpor()}, {"source-dpor", mc::source_dpor()}};
  for (const auto& [name, s] : searches) {
    std::set<int> seen;
    mc::options o = with(s);
    o.keep_going = true;
    o.skip_abandoned = true;
    o.on_execution = [&](const mc::bug* b) {
      if (b != nullptr && b->kind == bug_kind::assertion) seen.insert(state);
    };
    const auto r = mc::explore(o, body);
    EXPECT_TRUE(r.complete) << name << ", " << what;
    EXPECT_EQ(seen, want) << name << ", " << what << ", " << r.executions << " executions";
  }
}

// A step that stops the execution (an assertion fails after it) ends what
// every other thread would have done, whatever those threads touch. Asleep
// at its frame with the access it announced (a store to y), it slept
// through the other thread's loads of x in the sibling branch that ran
// them first: dpor picked that thread on to its end, the branch was
// abandoned, and a stop between the two loads was never reached.
// Found by the differential test once it counted only the executions dpor
// keeps (options::skip_abandoned).
TEST(KeepGoing, DporStopsBetweenTheStepsOfAnotherThread) {
  int steps = 0;  // the other thread's steps before the stop (test bookkeeping)
  for (const bool stopper_first : {true, false}) {
    auto body = [&] {
      steps = 0;
      mc::atomic<int> x{0}, y{0};
      auto stopper = [&] {
        y.store(1);
        LOCKSTEP_ASSERT(false);  // rides on the store: it stops the execution there
      };
      auto other = [&] {  // loads: a store would still complete once the stop unwinds it
        (void)x.load();
        steps = 1;
        (void)x.load();
        steps = 2;
      };
      std::optional<mc::thread> a, b;  // spawned in either order: first choices differ
      if (stopper_first) a.emplace(stopper);
      b.emplace(other);
      if (!stopper_first) a.emplace(stopper);
      a->join();
      b->join();
    };
    expect_stops_at(body, steps, {0, 1, 2}, stopper_first ? "stopper spawned first" : "stopper spawned second");
  }
}

// The same stop, after a step that parks another thread: the body's put
// fills the queue while the parked thread is at its own put, so its attempt
// is placed after the body's step, and the widening first looked at that
// attempt (which has no frame of its own) and left the body's put asleep
// with the access it announced.
TEST(KeepGoing, DporStopsAfterAStepThatParksAnotherThread) {
  // Test bookkeeping: 10 once the putter waits at its put, plus the
  // loader's steps before the stop.
  int state = 0;
  auto body = [&] {
    state = 0;
    mc::bounded_queue<int> q{1};
    mc::atomic<int> x{0};
    mc::thread putter([&] {
      state += 10;
      (void)q.put(2);  // parked if the body's put fills the queue first
    });
    mc::thread loader([&] {
      (void)x.load();
      state += 1;
      (void)x.load();
      state += 1;
    });
    (void)q.put(1);
    LOCKSTEP_ASSERT(false);  // rides on the put
    putter.join();
    loader.join();
  };
  expect_stops_at(body, state, {0, 1, 2, 10, 11, 12}, "putter and loader");
}

// -- a monitor's step that cannot happen is no candidate -----------------------------------

// dpor and source-dpor reach what dfs reaches in `body` under `o`: every
// search is complete, dfs sets `flag` and gets `verdict` (with a bug, the
// dpor searches get one of the same kind), and so does each dpor search;
// `never` says what it missed otherwise.
enum class verdict { pass, bug };
template <class Body>
void expect_dpor_reaches(mc::options o, Body& body, bool& flag, verdict v, const char* never) {
  o.strategy = mc::dfs();
  flag = false;
  const auto dfs = mc::explore(o, body);
  ASSERT_TRUE(dfs.complete);
  ASSERT_TRUE(flag) << "dfs reaches it";
  if (v == verdict::pass) {
    ASSERT_TRUE(dfs.ok()) << dfs.report();
  } else {
    ASSERT_TRUE(dfs.found);
  }
  for (auto s : {mc::dpor(), mc::source_dpor()}) {
    o.strategy = s;
    const auto r = explore_kept(o, body, flag);
    EXPECT_TRUE(r.complete);
    if (v == verdict::pass) {
      EXPECT_TRUE(r.ok()) << r.report();
    } else {
      EXPECT_TRUE(r.found);
      if (r.found) {
        EXPECT_EQ(r.found->kind, dfs.found->kind);
      }
    }
    EXPECT_TRUE(flag) << "dpor never " << never << " (" << r.executions << " executions)";
  }
}

// Found by the differential test with the bounded queue as a native monitor:
// a put on the full queue was still a candidate that only blocked, and a
// reversal that picked it there ran nothing, so dpor never ran the order
// where the second thread's load reads the third thread's add and that
// thread's put then wins the queue (the body's put waits forever). A thread
// whose monitor step cannot happen is now disabled, not a candidate.
TEST(Monitor, DporLetsAPutWinTheQueueAfterAnotherThreadsStep) {
  bool won_after_add = false;
  auto body = [&] {
    mc::bounded_queue<int> q{1};
    mc::atomic<int> a{0};
    mc::thread t1([&] {
      const int seen = a.load();
      if (q.put(1) && seen == 1) won_after_add = true;
    });
    mc::thread t2([&] { a.fetch_add(1); });
    (void)q.put(0);
    t1.join();
    t2.join();
  };
  auto o = with(mc::dfs());
  o.keep_going = true;
  // The body's put or the thread's waits forever: a bug in every search.
  expect_dpor_reaches(o, body, won_after_add, verdict::bug, "let the thread's put win after the add");
}

// Found by the long differential run: a get that arrived at the empty queue
// was parked without telling dpor what its attempt read, so the put that
// the body's try_put made (and that kept the thread's later put from
// fitting) never raced with it, and dpor never ran the thread's put first:
// the body's try_put failing was missed. A parked attempt now notes the
// fields it read, in the transition it ends.
TEST(Monitor, DporSeesTheReadOfAnAttemptThatParks) {
  bool try_put_failed = false;
  auto body = [&] {
    mc::bounded_queue<int> q{1};
    mc::mutex m;
    mc::thread t([&] {
      std::scoped_lock g(m);
      (void)q.put(0);
    });
    if (!q.try_put(1)) try_put_failed = true;
    (void)q.try_get();
    t.join();
  };
  expect_dpor_reaches(with(mc::dfs()), body, try_put_failed, verdict::pass, "let the thread's put come first");
}

// Found by the differential test: a get made ready by a put was a
// candidate until another thread's get took the item; that get's exit
// parked it, but dpor was not told that the step took the first get's
// away, so it never ran the first get before the second. Parking a
// candidate from an exit now tells the strategy (on_disabled).
TEST(Monitor, DporTriesAGetThatAnotherGetTookAway) {
  bool body_got_the_put = false;
  auto body = [&] {
    mc::bounded_queue<int> q{1};
    mc::atomic<int> a{0};
    mc::thread t([&] {
      (void)q.put(7);
      (void)q.get();  // waits forever once the body took the 7
      a.fetch_add(1, std::memory_order_relaxed);
      (void)q.try_put(8);
    });
    int zero = 0;
    (void)a.compare_exchange_strong(zero, 0);
    if (q.get() == 7) body_got_the_put = true;  // before the thread's own get
    (void)q.get_for(std::chrono::milliseconds(1));
    t.join();
  };
  auto o = with(mc::dfs());
  o.keep_going = true;
  // The thread's get waits forever once the body took the 7: a bug in every search.
  expect_dpor_reaches(o, body, body_got_the_put, verdict::bug, "let the body's get come before the thread's");
}

// A get that finds the queue empty and closed reads the closed flag after
// the close, never in a race with it (untimed, it would have waited for the
// close: monitor_state::needs). The outcomes that order still decides are
// reached through the other races: here the put that the close made fail
// (its read of the flag is a race, which dpor reverses). A timed get's read
// stays a race: before the close it could have timed out.
TEST(Monitor, DporStillRunsThePutBeforeTheClose) {
  bool got_item = false;
  auto put_get_close = [&] {
    mc::bounded_queue<int> q{1};
    mc::thread c([&] {
      if (q.get()) got_item = true;
    });
    mc::thread p([&] { (void)q.put(1); });
    q.close();  // the first execution closes first: the put fails, the get finds nothing
    p.join();
    c.join();
  };
  expect_dpor_reaches(with(mc::dfs()), put_get_close, got_item, verdict::pass, "let the put come before the close");
}

// A timed get keeps its read of the closed flag a race, unlike an untimed
// one: before the close it would not have waited for it but timed out, and
// returned with the queue still open. The first execution closes first (the
// closer is spawned first), so only reversing the close with the get's read
// reaches the timeout; main only joins, so once it blocks the timeout can
// fire before the closer runs.
TEST(Monitor, DporRunsATimedGetsTimeoutBeforeAndAfterTheClose) {
  bool timed_out_open = false;
  bool saw_closed = false;
  auto timed_get_close = [&] {
    mc::bounded_queue<int> q{1};
    mc::thread closer([&] { q.close(); });
    mc::thread c([&] {
      if (!q.get_for(std::chrono::milliseconds(5))) (q.closed() ? saw_closed : timed_out_open) = true;
    });
    closer.join();
    c.join();
  };
  expect_dpor_reaches(with(mc::dfs()), timed_get_close, timed_out_open, verdict::pass,
                      "let the timeout fire before the close");
  expect_dpor_reaches(with(mc::dfs()), timed_get_close, saw_closed, verdict::pass,
                      "let the close come before the get returned");
}

// A get that takes the item a put has just added to the empty queue comes
// after that put, never in a race with it (before it, it would have
// waited), and a put into the room a get has just made in the full queue
// comes after that get. The order through those steps does not keep a late
// get from going before the get before: here the second consumer, spawned
// last, takes the first item (before the first consumer's get, whose room
// the second put needed). Without that race dpor reached half the traces.
TEST(Monitor, DporLetsALateConsumerTakeTheFirstItem) {
  bool late_took_first = false;
  auto body = [&] {
    mc::bounded_queue<int> q{1};
    int first = 0;  // the second consumer's first item (only it writes it)
    mc::thread p([&] {
      (void)q.put(1);
      (void)q.put(2);
    });
    mc::thread c1([&] { while (q.get()) {} });
    mc::thread c2([&] {
      std::optional<int> v = q.get();
      if (v) first = *v;
      while (q.get()) {}
    });
    p.join();
    q.close();
    c1.join();
    c2.join();
    if (first == 1) late_took_first = true;
  };
  expect_dpor_reaches(with(mc::dfs()), body, late_took_first, verdict::pass,
                      "let the late consumer take the first item");
}

// The same for a join that finds every item done: it comes after the
// task_done that brought the count to 0, but could have gone before the put
// that raised it (the count was 0 then), which the order through the get
// and the task_done does not show. The joiner, spawned last, then takes the
// item itself.
TEST(Monitor, DporRunsAJoinBeforeThePutItWouldNowWaitFor) {
  bool joined_before_put = false;
  auto body = [&] {
    mc::bounded_queue<int> q{1};
    mc::thread p([&] { (void)q.put(1); });
    mc::thread c([&] {
      if (q.get()) q.task_done();
    });
    mc::thread j([&] {
      q.join();
      if (q.try_get()) {  // the put came after the join
        joined_before_put = true;
        q.task_done();
      }
    });
    p.join();
    j.join();
    q.close();  // lets the consumer go if the joiner took the item
    c.join();
  };
  expect_dpor_reaches(with(mc::dfs()), body, joined_before_put, verdict::pass,
                      "let the join come before the put");
}

// -- a step that touches nothing shared is still a step of the wakeup sequence ------------

// Found by comparing searches on random litmus programs: a thread's first
// step is a fence (or, without fair scheduling, a yield), which touches no
// object. Optimal dpor dropped it from the wakeup sequence that reverses the
// race between the thread's load and the exchange, so following the
// sequence ran the exchange right after the fence, before the load: the
// serial order t3, t2, t1 was never run, and dpor said complete.
enum class first_step { acquire_fence, seq_cst_fence, yield };

void first_step_touches_nothing(first_step first) {
  mc::atomic<int> x{0};
  int r0 = -1, r1 = -1, r2 = -1, r3 = -1;
  mc::thread t1([&] {
    r0 = x.load();
    x.store(2);
  });
  mc::thread t2([&] { r1 = x.exchange(4); });
  mc::thread t3([&] {
    if (first == first_step::acquire_fence) mc::atomic_thread_fence(std::memory_order_acquire);
    else if (first == first_step::seq_cst_fence) mc::atomic_thread_fence(std::memory_order_seq_cst);
    else mc::this_thread::yield();
    r2 = x.load();
    r3 = x.load();
  });
  t1.join();
  t2.join();
  t3.join();
  LOCKSTEP_ASSERT(!(r0 == 4 && r1 == 0 && r2 == 0 && r3 == 0));  // t3, t2, t1 in turn
}

TEST(WakeupSequence, DporRunsTheStepsAfterAStepThatTouchesNothing) {
  struct shape {
    first_step first;
    mc::memory_model mm;
    bool fair;
  };
  for (const shape s : {shape{first_step::acquire_fence, mc::memory_model::rc11, true},
                        shape{first_step::seq_cst_fence, mc::memory_model::sc, true},
                        shape{first_step::yield, mc::memory_model::sc, false}}) {
    for (auto spec : {mc::dfs(), mc::dpor(), mc::source_dpor()}) {
      mc::options o = with(spec);
      o.memory_model = s.mm;
      o.fair_scheduling = s.fair;
      o.max_executions = 100000;
      const auto r = mc::explore(o, [&] { first_step_touches_nothing(s.first); });
      ASSERT_FALSE(r.ok()) << mc::strategy_name(spec.k) << " first step " << static_cast<int>(s.first) << "\n"
                           << r.report();
      EXPECT_EQ(r.found->kind, bug_kind::assertion);
    }
  }
}

// -- a failing thread unwinds after the threads that use its frames ---------------------

// Found under AddressSanitizer: the body failed while a thread it spawned
// was suspended with a guard on the body's mutex; the body unwound at once,
// destroying its locals, and the thread's guard then unlocked a mutex in a
// dead frame (a write into the body fiber's stack). The failing thread now
// waits for the threads above it to unwind first.
bool body_locals_gone = false;
bool used_after_gone = false;
struct body_local {
  ~body_local() { body_locals_gone = true; }
};
struct thread_local_guard {
  ~thread_local_guard() {
    if (body_locals_gone) used_after_gone = true;
  }
};

TEST(Abort, AFailingBodyUnwindsAfterTheThreadsThatUseItsLocals) {
  auto body = [] {
    body_locals_gone = false;
    body_local mine;
    mc::atomic<int> x{0};
    mc::thread t([&] {
      thread_local_guard g;
      x.store(1);
      x.store(2);
    });
    LOCKSTEP_ASSERT(x.load() != 1);  // fails while the thread is between its stores
    t.join();
  };
  auto o = with(mc::dfs());
  o.trace_dir = "-";
  const auto r = mc::explore(o, body);
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.found->kind, bug_kind::assertion);
  EXPECT_FALSE(used_after_gone) << "a thread unwound after the body's locals were destroyed";
}

// -- the spurious wake-up bound ----------------------------------------------------

// A waiter that counts its wake-ups fails on the third: one real wake-up and
// two spurious ones. Within the default bound (1 a thread an execution) every
// search passes, complete: complete within that bound, which the result
// names; with a bound of 2 each finds the bug. A wait that never meets the
// bound leaves it unnamed.
TEST(SpuriousWakeups, ACompleteSearchNamesTheBoundAWaitMet) {
  const auto counts_wakeups = [] {
    mc::mutex m;
    mc::condition_variable cv;
    mc::shared<bool> ready{false};
    mc::thread t([&] {
      std::unique_lock lk(m);
      int wakeups = 0;
      while (!ready.load()) {
        cv.wait(lk);
        ++wakeups;
      }
      LOCKSTEP_ASSERT(wakeups <= 2);
    });
    {
      std::scoped_lock g(m);
      ready.store(true);
    }
    cv.notify_one();
    t.join();
  };
  for (const auto& s : {mc::dfs(), mc::dpor(), mc::source_dpor()}) {
    mc::options o = with(s);
    const auto within = mc::explore(o, counts_wakeups);
    EXPECT_TRUE(within.ok() && within.complete) << within.report();
    EXPECT_EQ(within.spurious_bound, 1) << within.report();
    EXPECT_NE(within.report().find(", spurious wake-up bound 1, complete"), std::string::npos) << within.report();
    o.spurious_wakeups = 2;
    const auto more = mc::explore(o, counts_wakeups);
    ASSERT_TRUE(more.found) << more.report();
    EXPECT_EQ(more.found->kind, bug_kind::assertion);
    o.spurious_wakeups = 0;
    const auto none = mc::explore(o, counts_wakeups);
    EXPECT_TRUE(none.ok() && none.complete) << none.report();
    EXPECT_EQ(none.spurious_bound, 0) << none.report();
  }
  // Without a condition-variable wait, or sampled: nothing to name.
  const auto sections = [] {
    mc::mutex m;
    mc::thread t([&] { std::scoped_lock g(m); });
    { std::scoped_lock g(m); }
    t.join();
  };
  const auto no_wait = mc::explore(with(mc::dpor()), sections);
  EXPECT_TRUE(no_wait.complete);
  EXPECT_EQ(no_wait.spurious_bound, -1) << no_wait.report();
  EXPECT_EQ(no_wait.report().find("spurious"), std::string::npos) << no_wait.report();
  mc::options sampled = with(mc::random());
  sampled.max_executions = 200;
  const auto r = mc::explore(sampled, counts_wakeups);
  EXPECT_EQ(r.spurious_bound, -1) << r.report();
}

// -- a check spread over GoogleTest instances ------------------------------------------

// Three threads, two critical sections each: 90 orders. Run as three
// instances, one a shard; GoogleTest's own sharding (GTEST_TOTAL_SHARDS)
// gives each instance to one runner (tests/sharded_gtest_test.sh runs them
// so and adds up the executions). No instance claims the whole space.
void three_by_two() {
  mc::mutex m;
  auto inc = [&] {
    for (int i = 0; i < 2; ++i) std::scoped_lock g(m);
  };
  mc::thread a(inc), b(inc), c(inc);
  a.join();
  b.join();
  c.join();
}

LOCKSTEP_SHARDED_TEST(ShardedCheck, ThreeThreadsTwoSections, 3) {
  const auto r = mc::explore(shard_options(with(mc::dpor())), three_by_two);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_FALSE(r.complete) << r.report();
  EXPECT_TRUE(r.shard_complete) << r.report();
  EXPECT_EQ(r.shard_index, shard_index());
  EXPECT_EQ(r.shard_count, 3u);
  EXPECT_NE(r.report().find("shard " + std::to_string(shard_index()) + " of 3 complete"), std::string::npos)
      << r.report();
  // The executions sleep sets did not abandon: one for each order (the
  // shards' split frames start a few more at the spawns, which sleep sets
  // stop; see DporCounts.ThreeThreadsOfNSectionsTakeExactlyTheirOrdersOnAnySplit).
  std::printf("lockstep-shard %u of 3: %llu executions\n", shard_index(),
              static_cast<unsigned long long>(r.executions - r.abandoned));
}

}  // namespace
