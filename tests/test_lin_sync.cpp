// lockstep/lin.hpp on the counters, counting_semaphore and event: the gates
// pass, and the same specifications (gates/*.hpp) catch broken versions of
// each type, built here on checked primitives, with a short history:
//   a counter whose add is a load and a store (a lost update), a striped
//   counter whose value() skips cells a racing add forgot to announce, an
//   owned counter whose value() reads the owner's count without a round trip
//   (it misses the caller's own adds); and the production striped counter
//   held to the linearizable contract its header does not promise;
//   a semaphore whose release reads the waiter count before publishing the
//   permit (a lost wake-up), one whose try_acquire checks then takes (two
//   threads take the last permit);
//   an event whose clear drops the "someone sleeps" bit (a later set wakes
//   nobody), one whose set wakes one waiter of several.
// Each toy type also comes without its flaw, checked against the same
// specification, so that what fails is the flaw, not the toy.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <lockstep/lin.hpp>
#include <lockstep/lockstep.hpp>

#include "gates/counters.hpp"
#include "gates/event.hpp"
#include "gates/semaphore.hpp"
#include "lin_testing.hpp"

namespace lin = lockstep::lin;
namespace mc = lockstep::mc;
namespace gates = lockstep::gates;

namespace {

using namespace lockstep::lin_testing;


// Three threads of one operation. (Three threads once met a false
// counterexample under rc11: a call recorded after two loads of return
// counters, one of them before a return the history showed as preceding
// the call; LinChecker.ThreeThreadsUnderRc11 keeps it fixed.)
lin::settings three_threads(unsigned scenarios, mc::memory_model mm = mc::memory_model::rc11) {
  lin::settings s = quick(scenarios, 3, 1);
  s.explore.memory_model = mm;
  return s;
}

// ---------------------------------------------------------------------------
// Counters

TEST(LinCounters, GatesPass) {
  for (const char* name : {"atomic_counter", "locked_counter", "striped_counter"}) {
    expect_gate_passes(name, quick(40));
    // Three threads: a value() and two adds it can see in either order.
    expect_gate_passes(name, three_threads(20));
  }
}

TEST(LinCounters, OwnedCounterGatePasses) {
  // The owner thread, its queue and a promise per value() make every
  // operation cost many interleavings: two adds and two value()s from two
  // threads already pass 300,000 executions. So every interleaving of small
  // scenarios, and sampled schedules of larger ones.
  lin::settings st = quick(20, 2, 1);
  st.init_ops = 0;  // an add before the threads start can take the owner past 200,000 executions
  expect_gate_passes("owned_counter", st);
  lin::settings sampled = quick(15, 2, 3);
  sampled.strategy = mc::pct();
  sampled.max_executions = 300;
  const lin::outcome o = lin::find_gate("owned_counter")->check(sampled);
  EXPECT_TRUE(o.ok()) << o.report;
  print_summary(o, sampled);
}

TEST(LinCounters, OwnedCounterIsDestroyedSafely) {
  // The gate's executions end while the owner thread waits for messages, so
  // the destructor (close the queue, join the owner) is checked here: after
  // an add and a value() from two threads and a value() once they are done,
  // every interleaving.
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  const mc::result r = mc::explore(o, [] {
    mc::owned_counter c;
    mc::thread a([&] { c.add(2); });
    mc::thread b([&] {
      const std::int64_t v = c.value();
      LOCKSTEP_ASSERT(v == 0 || v == 2);
    });
    a.join();
    b.join();
    LOCKSTEP_ASSERT(c.value() == 2);
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
  std::printf("  owned_counter destroyed after use: %llu executions\n",
              static_cast<unsigned long long>(r.executions));
}

// A counter on one atomic word; the flaw: add loads, then stores the sum, so
// two adds that load the same value lose one of the two.
template <bool Flawed>
class word_counter {
 public:
  void add(std::int64_t n) {
    if constexpr (Flawed) {
      v_.store(v_.load() + n);
    } else {
      v_.fetch_add(n);
    }
  }
  std::int64_t value() { return v_.load(); }

 private:
  mc::atomic<std::int64_t> v_{0};
};

TEST(LinCounters, ALostUpdateIsCaught) {
  expect_passes(gates::counter_spec<word_counter<false>>("word_counter"), quick(40));
  const lin::outcome o = lin::check(gates::counter_spec<word_counter<true>>("load_store_counter"), quick(60));
  // Two adds that both happened, and a value() after them that has one.
  expect_caught(o, "not linearizable: ", 3);
  EXPECT_NE(o.report.find("value() -> "), std::string::npos) << o.report;
}

// A striped counter that remembers how many cells are in use, so that value()
// sums only those: add() raises the mark after adding to its cell, value()
// reads the mark first. The flaw: the mark is raised with a load and a store,
// so an add to a low cell can lower the mark that a racing add to a high cell
// just raised, and value() never reads that cell again, not even after both
// adds returned. Cells as striped_counter's: the thread id's Fibonacci hash.
template <bool Flawed>
class high_water_counter {
 public:
  void add(std::int64_t n) {
    const std::size_t i = stripe();
    cells_[i].fetch_add(n, std::memory_order_relaxed);
    std::size_t mark = used_.load();
    if constexpr (Flawed) {
      if (mark < i + 1) used_.store(i + 1);
    } else {
      while (mark < i + 1 && !used_.compare_exchange_weak(mark, i + 1)) {
      }
    }
  }
  std::int64_t value() {
    const std::size_t n = used_.load();
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += cells_[i].load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr std::size_t stripes = 16;
  static std::size_t stripe() noexcept {
    const std::uint64_t h = static_cast<std::uint64_t>(mc::platform::thread_id()) * 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(h >> 40) & (stripes - 1);
  }
  std::array<mc::atomic<std::int64_t>, stripes> cells_{};
  mc::atomic<std::size_t> used_{0};
};

TEST(LinCounters, AStripedValueThatSkipsCellsIsCaught) {
  // value() is regular, as the striped counter's: the check that applies.
  expect_passes(gates::counter_spec<high_water_counter<false>>("high_water_counter", lin::regular), quick(40));
  const auto flawed = gates::counter_spec<high_water_counter<true>>("lowered_mark_counter", lin::regular);
  const lin::outcome o = lin::check(flawed, quick(60));
  // Two adds from two threads, and a value() after both that misses one.
  expect_caught(o, "not regular: ", 3);
  EXPECT_NE(o.report.find("matches no state made of every operation that returned before it was called"),
            std::string::npos)
      << o.report;
}

TEST(LinCounters, StripedValueIsNotLinearizable) {
  // What the header warns about, and why the gate declares value() regular:
  // a value() that reads one adder's cell before its add, and another's
  // cell after an add begun once the first had returned, sees the later add
  // without the earlier one. It takes three threads (with two, value() reads
  // the other thread's cell once: one atomic read, a linearization point).
  lin::settings st = three_threads(40);
  st.init_ops = 0;
  const lin::outcome o =
      lin::check(gates::counter_spec<mc::striped_counter>("striped_counter_linearizable"), st);
  expect_caught(o, "not linearizable: ", 3);
  // The value() began before both adds: a regular read may see either.
  const std::size_t at = o.report.find("  in real time: t");
  ASSERT_NE(at, std::string::npos) << o.report;
  EXPECT_EQ(o.report.compare(at + 19, 13, "calls value()"), 0) << o.report;
}

// An owned counter whose value() reads the count the owner thread publishes
// after each message, instead of asking it: adds still in the queue, the
// caller's own among them, are missed. (Without the flaw it is the
// production owned_counter, which the gate checks.)
class published_counter {
 public:
  published_counter() : q_(16), owner_([this] { serve(); }) {}
  published_counter(const published_counter&) = delete;
  published_counter& operator=(const published_counter&) = delete;
  ~published_counter() {
    const mc::platform::release_scope releasing;
    q_.close();
    owner_.join();
  }
  void add(std::int64_t n) { (void)q_.put(n); }
  std::int64_t value() { return published_.load(); }

 private:
  void serve() {
    std::int64_t v = 0;
    while (std::optional<std::int64_t> m = q_.get()) {
      v += *m;
      published_.store(v);
    }
  }
  mc::bounded_queue<std::int64_t> q_;
  mc::atomic<std::int64_t> published_{0};
  mc::thread owner_;
};

TEST(LinCounters, AnOwnedValueWithoutARoundTripIsCaught) {
  lin::settings st = quick(20, 2, 2);
  st.init_ops = 0;
  const lin::outcome o = lin::check(gates::counter_spec<published_counter>("published_counter"), st);
  // One thread's add, then its value() without it.
  expect_caught(o, "not linearizable: ", 2);
  EXPECT_NE(o.report.find("value() -> 0 follows from no sequential order"), std::string::npos) << o.report;
  EXPECT_GT(o.shrink_steps, 0u);
}

// ---------------------------------------------------------------------------
// counting_semaphore

TEST(LinSemaphore, GatePasses) {
  expect_gate_passes("counting_semaphore", quick(30));
  // Two waiters and a release(2) that wakes both, or one and a try. Under
  // sc: the semaphore's spin before it sleeps reads the count relaxed, and
  // under rc11 each read's choices take a scenario past 200,000 executions.
  expect_gate_passes("counting_semaphore", three_threads(15, mc::memory_model::sc));
}

enum class sem_flaw { none, waiters_read_early, check_then_act };

// The production algorithm (lockstep/semaphore.hpp) without its spinning and
// misuse checks: the count in a futex word, a waiter count that lets release
// skip the wake-up, and one flaw.
//   waiters_read_early  release reads the waiter count before it publishes
//                       the permit (the Dekker order reversed): an acquirer
//                       that counts itself and sleeps in between is never
//                       woken, though a permit is there.
//   check_then_act      try_acquire loads the count, then decrements it: two
//                       threads that load 1 both take the last permit.
template <sem_flaw F>
class futex_semaphore {
 public:
  explicit futex_semaphore(int initial) : count_(static_cast<std::uint32_t>(initial)) {}

  void release(int n) {
    const mc::platform::release_scope releasing;
    bool sleepers = false;
    if constexpr (F == sem_flaw::waiters_read_early) sleepers = waiters_.load() != 0;
    count_.fetch_add(static_cast<std::uint32_t>(n));
    if constexpr (F != sem_flaw::waiters_read_early) sleepers = waiters_.load() != 0;
    if (!sleepers) return;
    if (n == 1) {
      mc::platform::wake_one(count_);
    } else {
      mc::platform::wake_all(count_);
    }
  }
  void acquire() {
    while (!try_acquire()) {
      waiters_.fetch_add(1);
      mc::platform::wait(count_, 0);  // sleeps only while the count is zero
      waiters_.fetch_sub(1);
    }
  }
  bool try_acquire() {
    std::uint32_t c = count_.load();
    if constexpr (F == sem_flaw::check_then_act) {
      if (c == 0) return false;
      count_.fetch_sub(1);
      return true;
    } else {
      while (c != 0)
        if (count_.compare_exchange_weak(c, c - 1)) return true;
      return false;
    }
  }
  template <class Rep, class Period>
  bool try_acquire_for(const std::chrono::duration<Rep, Period>& d) {
    const auto deadline = lockstep::detail::deadline_after<mc::platform>(d);
    while (!try_acquire()) {
      waiters_.fetch_add(1);
      const bool woke = mc::platform::wait_until(count_, 0, deadline);
      waiters_.fetch_sub(1);
      if (!woke) return try_acquire();  // timed out: one last look
    }
    return true;
  }

 private:
  mc::atomic<std::uint32_t> count_;
  mc::atomic<std::uint32_t> waiters_{0};
};

TEST(LinSemaphore, ALostWakeUpIsCaught) {
  expect_passes(gates::semaphore_spec<futex_semaphore<sem_flaw::none>>("futex_semaphore", 0), quick(30));
  // Starting at 0, so an acquire sleeps.
  const lin::outcome o = lin::check(
      gates::semaphore_spec<futex_semaphore<sem_flaw::waiters_read_early>>("waiters_read_early_semaphore", 0),
      quick(60));
  expect_caught(o, "waits forever, although the specification lets it proceed", 3);
  EXPECT_NE(o.report.find("acquire() waits forever"), std::string::npos) << o.report;
}

TEST(LinSemaphore, TwoTakersOfTheLastPermitAreCaught) {
  const auto flawed =
      gates::semaphore_spec<futex_semaphore<sem_flaw::check_then_act>>("check_then_act_semaphore", 1);
  const lin::outcome o = lin::check(flawed, quick(60));
  // Two successful takes of the one permit (acquire, which shrinking
  // prefers, takes it with try_acquire).
  expect_caught(o, "not linearizable: ", 2);
  EXPECT_NE(o.report.find("0 permits (after t"), std::string::npos) << o.report;
}

// ---------------------------------------------------------------------------
// event

TEST(LinEvent, GatePasses) {
  expect_gate_passes("event", quick(40));
  // Two waiters that one set() must both wake.
  expect_gate_passes("event", three_threads(20));
}

// The production algorithm (lockstep/event.hpp): one futex word, bit 0 set,
// bit 1 "someone may sleep", so that set() makes the wake-up call only when
// a waiter announced itself. The flaw: clear() stores 0, dropping the
// sleeper bit of a waiter already asleep; a later set() sees no sleeper and
// wakes nobody, and the waiter sleeps on with the event set.
template <bool Flawed>
class futex_event {
 public:
  void set() {
    const mc::platform::release_scope releasing;
    if ((state_.exchange(kSet) & kSleepers) != 0) mc::platform::wake_all(state_);
  }
  void clear() {
    if constexpr (Flawed) {
      state_.store(0);
    } else {
      state_.fetch_and(~kSet);
    }
  }
  bool is_set() const { return (state_.load() & kSet) != 0; }
  void wait() {
    for (;;) {
      const std::uint32_t s = announce();
      if (s == kSet) return;
      mc::platform::wait(state_, s);
    }
  }
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& d) {
    const auto deadline = lockstep::detail::deadline_after<mc::platform>(d);
    for (;;) {
      const std::uint32_t s = announce();
      if (s == kSet) return true;
      if (!mc::platform::wait_until(state_, s, deadline)) return is_set();
    }
  }

 private:
  static constexpr std::uint32_t kSet = 1, kSleepers = 2;
  std::uint32_t announce() {
    std::uint32_t s = state_.load();
    for (;;) {
      if ((s & kSet) != 0) return kSet;
      if ((s & kSleepers) != 0) return s;
      if (state_.compare_exchange_weak(s, s | kSleepers)) return s | kSleepers;
    }
  }
  mutable mc::atomic<std::uint32_t> state_{0};
};

TEST(LinEvent, AClearThatForgetsTheSleepersIsCaught) {
  expect_passes(gates::event_spec<futex_event<false>>("futex_event"), quick(40));
  const lin::outcome o = lin::check(gates::event_spec<futex_event<true>>("sleeper_dropping_event"), quick(60));
  // A wait, asleep; a clear and a set from the other thread.
  expect_caught(o, "waits forever, although the specification lets it proceed", 3);
  EXPECT_NE(o.report.find("wait() waits forever"), std::string::npos) << o.report;
  EXPECT_GT(o.shrink_steps, 0u);
}

// An event on a mutex and a condition variable; the flaw: set() notifies one
// waiter, so of two waiters one sleeps on with the event set.
template <bool Flawed>
class cv_event {
 public:
  void set() {
    const mc::platform::release_scope releasing;
    std::scoped_lock g(m_);
    set_ = true;
    if constexpr (Flawed) {
      cv_.notify_one();
    } else {
      cv_.notify_all();
    }
  }
  void clear() {
    std::scoped_lock g(m_);
    set_ = false;
  }
  bool is_set() {
    std::scoped_lock g(m_);
    return set_;
  }
  void wait() {
    std::unique_lock g(m_);
    cv_.wait(g, [&] { return set_; });
  }
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& d) {
    std::unique_lock g(m_);
    return cv_.wait_for(g, d, [&] { return set_; });
  }

 private:
  mc::mutex m_;
  mc::condition_variable cv_;
  bool set_ = false;
};

TEST(LinEvent, ASetThatWakesOneWaiterIsCaught) {
  // The condition variable's spurious wake-ups (a choice at each wait) can
  // take a set and two waits past 200,000 executions; the waits loop on
  // their predicate, so they add nothing here.
  lin::settings st = quick(20, 3, 1);
  st.explore.spurious_wakeups = 0;
  expect_passes(gates::event_spec<cv_event<false>>("cv_event"), st);
  st.scenarios = 60;
  st.ops = 2;
  const lin::outcome o = lin::check(gates::event_spec<cv_event<true>>("wake_one_event"), st);
  // Two waits and a set: nothing smaller shows it.
  expect_caught(o, "waits forever, although the specification lets it proceed", 3);
  EXPECT_EQ(history_rows(o.report).size(), 3u) << o.report;
}

// ---------------------------------------------------------------------------
// The checker

// Three threads under rc11: atomic_counter's value() is a relaxed load of
// one word, linearizable under any order happens-before backs. A history
// once showed "t1 add(1) -> ok; t2 calls value(); t2 value() -> 0": the call
// was recorded after two loads of return counters, the first of them before
// t1's return, so nothing ordered the add before the value(). A call now
// reads one shared counter; a return recorded before it happens-before it.
TEST(LinChecker, ThreeThreadsUnderRc11) {
  expect_gate_passes("atomic_counter", three_threads(20));
  expect_gate_passes("striped_counter", three_threads(20));
}

}  // namespace
