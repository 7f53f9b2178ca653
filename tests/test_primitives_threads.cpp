// The production primitives (lockstep::X = basic_X<os_platform>) on real OS
// threads: each primitive's contract, one behaviour at a time, then at least
// one stress test per primitive with more threads than cores (8) that checks
// an invariant, then the misuse the primitives detect in production (death
// tests).
//
// Rules these tests keep:
//   - No sleep is what makes a test pass. Sleeps appear only to make a timeout
//     meaningful, or to give a thread time to block before an assertion that
//     holds whether or not it did.
//   - "Thread T is blocked in primitive X" is established by asking the
//     kernel: /proc/self/task/<tid>/syscall names the futex address a thread
//     sleeps on (see blocked_on()). Where that matters for the assertion and
//     /proc does not say, the test is skipped rather than guessed.
//   - Waits that a bug could turn into a hang take a timeout of seconds
//     (kPatience) wherever the API offers one, so a lost wake-up fails an
//     assertion; the untimed calls (wait(), acquire(), get()) are exercised
//     too, and there meson's test timeout is the backstop.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lockstep/bounded_queue.hpp"
#include "lockstep/condition_variable.hpp"
#include "lockstep/counters.hpp"
#include "lockstep/event.hpp"
#include "lockstep/future.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/recursive_mutex.hpp"
#include "lockstep/semaphore.hpp"
#include "lockstep/shared_mutex.hpp"
#include "lockstep/thread_pool.hpp"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

// More threads than the machine has cores (the CI machine has 2).
constexpr int kThreads = 8;
// How long a wait may take before the test calls it a lost wake-up.
constexpr auto kPatience = 10s;

// ---------------------------------------------------------------------------
// Helpers

// Runs f(i) on n threads that start together; returns when all are done.
template <class F>
void run_threads(int n, F f) {
  std::latch go(n);
  std::vector<std::jthread> ts;
  ts.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    ts.emplace_back([&go, &f, i] {
      go.arrive_and_wait();
      f(i);
    });
}

pid_t this_tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// A thread's kernel id, published by the thread itself.
class tid_slot {
 public:
  void publish() { tid_.store(this_tid(), std::memory_order_release); }
  pid_t get() const {
    pid_t t;
    while ((t = tid_.load(std::memory_order_acquire)) == 0) std::this_thread::yield();
    return t;
  }

 private:
  std::atomic<pid_t> tid_{0};
};

// What the kernel says thread `tid` of this process is doing: the syscall
// number and first argument while it is in a syscall, nullopt otherwise (or
// when /proc does not say).
std::optional<std::pair<long, std::uintptr_t>> current_syscall(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long nr = 0;
  std::string arg;
  if (!(f >> nr >> arg)) return std::nullopt;  // "running", or no such file
  return std::pair{nr, static_cast<std::uintptr_t>(std::stoull(arg, nullptr, 16))};
}

// Whether /proc/self/task/<tid>/syscall works here at all.
bool kernel_reports_syscalls() {
  static const bool ok = [] {
    std::ifstream f("/proc/self/task/" + std::to_string(this_tid()) + "/syscall");
    long nr = -1;
    return static_cast<bool>(f >> nr) && nr >= 0;
  }();
  return ok;
}

// True once thread `tid` sleeps in a futex wait on `word` (polls for up to
// kPatience). If /proc cannot tell, sleeps a little and returns true: the
// callers' assertions hold either way, only their meaning is weaker.
bool blocked_on(pid_t tid, const void* word) {
  if (!kernel_reports_syscalls()) {
    std::this_thread::sleep_for(30ms);
    return true;
  }
  const auto until = clk::now() + kPatience;
  while (clk::now() < until) {
    const auto s = current_syscall(tid);
    if (s && s->first == SYS_futex && s->second == reinterpret_cast<std::uintptr_t>(word))
      return true;
    std::this_thread::sleep_for(200us);
  }
  return false;
}

template <class D>
auto elapsed_since(clk::time_point t0) {
  return std::chrono::duration_cast<D>(clk::now() - t0);
}

// Polls `pred` (backing off 200us) until it holds or kPatience passes.
template <class Pred>
bool eventually(Pred pred) {
  const auto until = clk::now() + kPatience;
  while (!pred()) {
    if (clk::now() >= until) return false;
    std::this_thread::sleep_for(200us);
  }
  return true;
}

// Runs f on a fresh thread and returns its result.
template <class F>
auto on_other_thread(F f) {
  decltype(f()) r{};
  std::thread([&] { r = f(); }).join();
  return r;
}

// ===========================================================================
// recursive_mutex

TEST(RecursiveMutexThreads, OwnerNestsAndOthersGetItOnlyAfterTheLastUnlock) {
  lockstep::recursive_mutex m;
  auto other_try = [&] {
    return on_other_thread([&] {
      const bool got = m.try_lock();
      if (got) m.unlock();
      return got;
    });
  };
  m.lock();
  m.lock();
  EXPECT_TRUE(m.try_lock());  // the owner's try_lock always succeeds
  EXPECT_EQ(m.depth(), 3u);
  EXPECT_FALSE(other_try());
  m.unlock();
  EXPECT_EQ(m.depth(), 2u);
  m.unlock();
  EXPECT_EQ(m.depth(), 1u);
  EXPECT_FALSE(other_try());
  m.unlock();
  EXPECT_EQ(m.depth(), 0u);
  EXPECT_TRUE(other_try());
  EXPECT_TRUE(m.try_lock());
  EXPECT_EQ(m.depth(), 1u);
  m.unlock();
}

TEST(RecursiveMutexThreads, DepthIsZeroOnAThreadThatDoesNotOwnIt) {
  lockstep::recursive_mutex m;
  m.lock();
  m.lock();
  EXPECT_EQ(on_other_thread([&] { return m.depth(); }), 0u);
  m.unlock();
  m.unlock();
}

TEST(RecursiveMutexThreads, ABlockedLockerEntersOnlyAfterTheOuterUnlock) {
  lockstep::recursive_mutex m;
  std::atomic<bool> entered{false};
  tid_slot tid;
  m.lock();
  m.lock();
  std::jthread t([&] {
    tid.publish();
    m.lock();
    entered = true;
    EXPECT_EQ(m.depth(), 1u);
    m.unlock();
  });
  // The lock word is the recursive mutex's first member.
  ASSERT_TRUE(blocked_on(tid.get(), &m));
  m.unlock();
  EXPECT_FALSE(entered.load());  // depth 1 still holds it
  m.unlock();
  t.join();
  EXPECT_TRUE(entered.load());
}

TEST(RecursiveMutexThreads, StressNestedLockingIsMutuallyExclusive) {
  lockstep::recursive_mutex m;
  long counter = 0;  // plain memory: only the mutex protects it
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0}, wrong_depth{0};
  constexpr int kIters = 30000;
  run_threads(kThreads, [&](int id) {
    for (int i = 0; i < kIters; ++i) {
      if ((i + id) % 3 == 0) {
        if (!m.try_lock()) m.lock();
      } else {
        m.lock();
      }
      if (inside.fetch_add(1) != 0) ++overlaps;
      {
        std::scoped_lock nested(m);
        if (m.depth() != 2) ++wrong_depth;
        ++counter;
      }
      if (m.depth() != 1) ++wrong_depth;
      inside.fetch_sub(1);
      m.unlock();
      if (m.depth() != 0) ++wrong_depth;
    }
  });
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(wrong_depth.load(), 0);
  EXPECT_EQ(counter, long{kThreads} * kIters);
}

// ===========================================================================
// counting_semaphore / binary_semaphore

TEST(SemaphoreThreads, CountsFromTheInitialValue) {
  lockstep::counting_semaphore<4> s(2);
  EXPECT_EQ(s.max(), 4);
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_FALSE(s.try_acquire());
  s.release(3);
  s.release(0);  // no-op
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.try_acquire()) << i;
  EXPECT_FALSE(s.try_acquire());
  s.release(4);  // exactly up to max() is fine
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(s.try_acquire()) << i;
  EXPECT_FALSE(s.try_acquire());
}

TEST(SemaphoreThreads, TryAcquireForTimesOutWhenNothingIsReleased) {
  lockstep::binary_semaphore s(0);
  auto t0 = clk::now();
  EXPECT_FALSE(s.try_acquire_for(30ms));
  EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 30ms);
  t0 = clk::now();
  EXPECT_FALSE(s.try_acquire_until(clk::now() + 20ms));
  EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 20ms);
  // A deadline in the past, and one on another clock.
  EXPECT_FALSE(s.try_acquire_until(clk::now() - 1s));
  t0 = clk::now();
  EXPECT_FALSE(s.try_acquire_until(std::chrono::system_clock::now() + 20ms));
  EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 19ms);  // clocks differ by a tick
  // A timed-out acquire took nothing: the next release is still there.
  s.release();
  EXPECT_TRUE(s.try_acquire_for(0ms));
}

TEST(SemaphoreThreads, TryAcquireForSucceedsWhenAnotherThreadReleases) {
  lockstep::binary_semaphore s(0);
  int data = 0;  // published by release(), read after acquire
  tid_slot tid;
  std::jthread waiter([&] {
    tid.publish();
    const auto t0 = clk::now();
    EXPECT_TRUE(s.try_acquire_for(kPatience));
    EXPECT_LT(elapsed_since<std::chrono::milliseconds>(t0), kPatience);
    EXPECT_EQ(data, 42);
  });
  ASSERT_TRUE(blocked_on(tid.get(), &s));  // the count is the first member
  data = 42;
  s.release();
}

TEST(SemaphoreThreads, ReleaseOfNServesNBlockedWaiters) {
  lockstep::counting_semaphore<> s(0);
  std::atomic<int> got{0};
  std::array<tid_slot, 6> tids;
  {
    std::vector<std::jthread> ts;
    for (auto& t : tids)
      ts.emplace_back([&] {
        t.publish();
        if (s.try_acquire_for(kPatience)) ++got;
      });
    for (auto& t : tids) ASSERT_TRUE(blocked_on(t.get(), &s));
    s.release(6);
  }
  EXPECT_EQ(got.load(), 6);
  EXPECT_FALSE(s.try_acquire());
}

TEST(SemaphoreThreads, BinarySemaphoresPingPongInStrictAlternation) {
  lockstep::binary_semaphore ping(0), pong(0);
  int turn = 0;  // plain memory: the hand-offs order it
  constexpr int kRounds = 10000;
  std::atomic<int> bad{0};
  std::jthread other([&] {
    for (int i = 0; i < kRounds; ++i) {
      if (!ping.try_acquire_for(kPatience)) return;
      if (turn != 2 * i + 1) ++bad;
      ++turn;
      pong.release();
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    if (turn != 2 * i) ++bad;
    ++turn;
    ping.release();
    ASSERT_TRUE(pong.try_acquire_for(kPatience)) << "lost wake-up at round " << i;
  }
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(turn, 2 * kRounds);
}

TEST(SemaphoreThreads, StressNeverAdmitsMoreThanItsCount) {
  constexpr int kPermits = 3, kIters = 10000;
  lockstep::counting_semaphore<kPermits> s(kPermits);
  std::atomic<int> inside{0}, max_inside{0}, entries{0}, timeouts{0};
  run_threads(kThreads, [&](int id) {
    for (int i = 0; i < kIters; ++i) {
      switch ((i + id) % 3) {
        case 0:
          s.acquire();
          break;
        case 1:
          if (!s.try_acquire()) s.acquire();
          break;
        default:
          if (!s.try_acquire_for(kPatience)) {
            ++timeouts;
            return;
          }
      }
      const int now = inside.fetch_add(1) + 1;
      int seen = max_inside.load();
      while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
      }
      ++entries;
      inside.fetch_sub(1);
      s.release();
    }
  });
  EXPECT_EQ(timeouts.load(), 0);
  EXPECT_LE(max_inside.load(), kPermits);
  EXPECT_EQ(entries.load(), kThreads * kIters);
  for (int i = 0; i < kPermits; ++i) EXPECT_TRUE(s.try_acquire());  // none lost
  EXPECT_FALSE(s.try_acquire());                                      // none made up
}

TEST(SemaphoreThreads, StressEveryReleasedUnitIsAcquiredExactlyOnce) {
  // 4 releasers and 4 acquirers; acquirers each take an exact quota, so a
  // lost wake-up shows as a timeout and a double count as a leftover/deficit.
  constexpr int kPairs = kThreads / 2, kUnits = 15000;  // per releaser
  lockstep::counting_semaphore<> s(0);
  std::atomic<int> timeouts{0}, acquired{0};
  run_threads(kThreads, [&](int id) {
    if (id < kPairs) {
      for (int released = 0; released < kUnits;) {
        const int n = (released % 7 == 0 && released + 2 <= kUnits) ? 2 : 1;
        s.release(n);
        released += n;
      }
    } else {
      for (int i = 0; i < kUnits; ++i) {
        bool ok = true;
        switch (i % 3) {
          case 0:
            s.acquire();
            break;
          case 1:
            ok = s.try_acquire_for(kPatience);
            break;
          default:
            ok = s.try_acquire() || s.try_acquire_until(clk::now() + kPatience);
        }
        if (!ok) {
          ++timeouts;
          return;
        }
        ++acquired;
      }
    }
  });
  EXPECT_EQ(timeouts.load(), 0);
  EXPECT_EQ(acquired.load(), kPairs * kUnits);
  EXPECT_FALSE(s.try_acquire());
}

// ===========================================================================
// condition_variable / condition_variable_any

TEST(ConditionVariableThreads, WaitForTimesOutAndHoldsTheLockAgain) {
  lockstep::mutex m;
  lockstep::condition_variable cv;
  std::unique_lock lk(m);
  auto t0 = clk::now();
  EXPECT_EQ(cv.wait_for(lk, 30ms), std::cv_status::timeout);
  EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 30ms);
  EXPECT_TRUE(lk.owns_lock());
  EXPECT_FALSE(on_other_thread([&] {
    const bool got = m.try_lock();
    if (got) m.unlock();
    return got;
  }));
  t0 = clk::now();
  EXPECT_FALSE(cv.wait_for(lk, 20ms, [] { return false; }));
  EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 20ms);
  EXPECT_EQ(cv.wait_until(lk, clk::now() - 1ms), std::cv_status::timeout);
  EXPECT_FALSE(cv.wait_until(lk, std::chrono::system_clock::now() + 5ms, [] { return false; }));
  EXPECT_TRUE(cv.wait_for(lk, 0ms, [] { return true; }));  // pred first: no wait
  EXPECT_TRUE(lk.owns_lock());
}

// A waiter that has announced itself under the lock is inside wait(): the
// announcement is made with the lock held, and wait() releases it atomically.
TEST(ConditionVariableThreads, NotifyOneWakesAWaiterWithoutAPredicate) {
  lockstep::mutex m;
  lockstep::condition_variable cv;
  bool waiting = false;
  std::cv_status st = std::cv_status::timeout;
  std::jthread waiter([&] {
    std::unique_lock lk(m);
    waiting = true;
    st = cv.wait_for(lk, kPatience);
    EXPECT_TRUE(lk.owns_lock());
  });
  ASSERT_TRUE(eventually([&] {
    std::scoped_lock g(m);
    return waiting;
  }));
  {
    std::scoped_lock g(m);
    cv.notify_one();
  }
  waiter.join();
  EXPECT_EQ(st, std::cv_status::no_timeout);
}

TEST(ConditionVariableThreads, NotifyWithoutTheLockReachesAThreadAlreadyWaiting) {
  lockstep::mutex m;
  lockstep::condition_variable cv;
  bool waiting = false;
  std::cv_status st = std::cv_status::timeout;
  std::jthread waiter([&] {
    std::unique_lock lk(m);
    waiting = true;
    st = cv.wait_until(lk, clk::now() + kPatience);
  });
  ASSERT_TRUE(eventually([&] {
    std::scoped_lock g(m);
    return waiting;
  }));
  cv.notify_all();  // without the lock
  waiter.join();
  EXPECT_EQ(st, std::cv_status::no_timeout);
}

TEST(ConditionVariableThreads, NotifyAllWakesEveryPredicateWaiterAndPublishes) {
  lockstep::mutex m;
  lockstep::condition_variable cv;
  int waiting = 0, data = 0;
  bool go = false;
  std::atomic<int> woke{0};
  {
    std::vector<std::jthread> ts;
    for (int i = 0; i < 6; ++i)
      ts.emplace_back([&] {
        std::unique_lock lk(m);
        ++waiting;
        if (cv.wait_for(lk, kPatience, [&] { return go; }) && data == 42) ++woke;
      });
    ASSERT_TRUE(eventually([&] {
      std::scoped_lock g(m);
      return waiting == 6;
    }));
    {
      std::scoped_lock g(m);
      data = 42;
      go = true;
    }
    cv.notify_all();
  }
  EXPECT_EQ(woke.load(), 6);
}

TEST(ConditionVariableAnyThreads, WorksWithStdMutexRecursiveMutexAndSharedLocks) {
  lockstep::condition_variable_any cv;
  {  // std::mutex
    std::mutex m;
    bool ready = false;
    std::jthread t([&] {
      std::scoped_lock g(m);
      ready = true;
      cv.notify_one();
    });
    std::unique_lock lk(m);
    EXPECT_TRUE(cv.wait_for(lk, kPatience, [&] { return ready; }));
  }
  {  // lockstep::recursive_mutex held once: wait releases it for the notifier
    lockstep::recursive_mutex m;
    bool ready = false;
    std::unique_lock lk(m);
    std::jthread t([&] {
      std::scoped_lock g(m);
      ready = true;
      cv.notify_all();
    });
    EXPECT_TRUE(cv.wait_for(lk, kPatience, [&] { return ready; }));
    EXPECT_EQ(m.depth(), 1u);
  }
  {  // a reader waits with a shared lock on a lockstep::shared_mutex
    lockstep::shared_mutex<> m;
    bool ready = false;
    std::shared_lock lk(m);
    std::jthread t([&] {
      std::scoped_lock g(m);  // needs the reader to have released it
      ready = true;
      cv.notify_all();
    });
    EXPECT_TRUE(cv.wait_for(lk, kPatience, [&] { return ready; }));
    EXPECT_TRUE(lk.owns_lock());
  }
  {  // timeout with an arbitrary lock
    std::mutex m;
    std::unique_lock lk(m);
    const auto t0 = clk::now();
    EXPECT_EQ(cv.wait_for(lk, 20ms), std::cv_status::timeout);
    EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 20ms);
    EXPECT_TRUE(lk.owns_lock());
  }
}

// A bounded buffer built from a mutex and two condition variables with
// notify_one: every item is consumed exactly once and nobody sleeps forever.
template <class CV, class Mutex>
void bounded_buffer_stress() {
  constexpr int kProducers = kThreads / 2, kItems = 10000, kCap = 4;
  constexpr int kTotal = kProducers * kItems;
  Mutex m;
  CV not_empty, not_full;
  std::deque<int> q;
  int taken = 0;
  std::vector<std::atomic<int>> seen(kTotal);
  std::atomic<int> stuck{0}, out_of_order{0};
  run_threads(kThreads, [&](int id) {
    if (id < kProducers) {
      for (int k = 0; k < kItems; ++k) {
        std::unique_lock lk(m);
        if (!not_full.wait_for(lk, kPatience, [&] { return q.size() < kCap; })) {
          ++stuck;
          return;
        }
        q.push_back(id * kItems + k);
        if (k % 2 == 0) {
          not_empty.notify_one();  // under the lock
        } else {
          lk.unlock();
          not_empty.notify_one();  // after it
        }
      }
    } else {
      std::vector<int> last(kProducers, -1);  // per-producer FIFO
      for (;;) {
        std::unique_lock lk(m);
        if (!not_empty.wait_for(lk, kPatience, [&] { return !q.empty() || taken == kTotal; })) {
          ++stuck;
          return;
        }
        if (q.empty()) return;  // everything was taken
        const int item = q.front();
        q.pop_front();
        const bool all = ++taken == kTotal;
        lk.unlock();
        not_full.notify_one();
        if (all) not_empty.notify_all();
        seen[static_cast<std::size_t>(item)].fetch_add(1);
        const int p = item / kItems, k = item % kItems;
        if (k <= last[static_cast<std::size_t>(p)]) ++out_of_order;
        last[static_cast<std::size_t>(p)] = k;
      }
    }
  });
  EXPECT_EQ(stuck.load(), 0);
  EXPECT_EQ(out_of_order.load(), 0);
  EXPECT_EQ(taken, kTotal);
  int once = 0;
  for (auto& s : seen) once += s.load() == 1;
  EXPECT_EQ(once, kTotal);
}

TEST(ConditionVariableThreads, StressBoundedBufferConsumesEveryItemOnce) {
  bounded_buffer_stress<lockstep::condition_variable, lockstep::mutex>();
}

TEST(ConditionVariableAnyThreads, StressBoundedBufferConsumesEveryItemOnce) {
  bounded_buffer_stress<lockstep::condition_variable_any, std::mutex>();
}

// ===========================================================================
// event

TEST(EventThreads, WaitForIsFalseUntilSetThenTrueUntilCleared) {
  lockstep::event e;
  EXPECT_FALSE(e.is_set());
  auto t0 = clk::now();
  EXPECT_FALSE(e.wait_for(30ms));
  EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 30ms);
  EXPECT_FALSE(e.wait_until(clk::now() - 1ms));
  EXPECT_FALSE(e.wait_until(std::chrono::system_clock::now() + 5ms));
  e.set();
  EXPECT_TRUE(e.is_set());
  EXPECT_TRUE(e.wait_for(0ms));
  t0 = clk::now();
  EXPECT_TRUE(e.wait_for(kPatience));
  e.wait();  // returns at once while set
  EXPECT_LT(elapsed_since<std::chrono::milliseconds>(t0), 1s);
  e.set();  // setting twice is fine
  EXPECT_TRUE(e.is_set());
  e.clear();
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.wait_for(10ms));
  lockstep::event initially(true);
  EXPECT_TRUE(initially.is_set());
  EXPECT_TRUE(initially.wait_for(0ms));
}

TEST(EventThreads, SetFromAnotherThreadWakesEveryWaiterAndPublishes) {
  lockstep::event e;
  int data = 0;
  std::atomic<int> woke{0};
  std::array<tid_slot, 6> tids;
  {
    std::vector<std::jthread> ts;
    for (std::size_t i = 0; i < tids.size(); ++i)
      ts.emplace_back([&, i] {
        tids[i].publish();
        bool ok = true;
        if (i % 2 == 0) {
          e.wait();
        } else {
          ok = e.wait_for(kPatience);
        }
        if (ok && data == 42) ++woke;
      });
    for (auto& t : tids) ASSERT_TRUE(blocked_on(t.get(), &e));
    data = 42;
    e.set();
  }
  EXPECT_EQ(woke.load(), 6);
}

TEST(EventThreads, ClearWhileAThreadSleepsKeepsItAsleepUntilTheNextSet) {
  lockstep::event e;
  tid_slot tid;
  std::atomic<bool> returned{false};
  std::jthread waiter([&] {
    tid.publish();
    EXPECT_TRUE(e.wait_for(kPatience));
    returned = true;
  });
  ASSERT_TRUE(blocked_on(tid.get(), &e));
  e.clear();  // the waiter's sleeper bit survives a clear
  std::this_thread::sleep_for(10ms);  // the waiter may not return: it is not set
  EXPECT_FALSE(returned.load());
  e.set();
  waiter.join();
  EXPECT_TRUE(returned.load());
}

TEST(EventThreads, StressTokenRingOfEightThreads) {
  // Thread i waits for its event, clears it, checks and bumps a plain counter
  // (ordered only by set -> wait), then sets the next thread's event.
  constexpr int kRounds = 3000;
  std::array<lockstep::event, kThreads> ev;
  long counter = 0;
  std::atomic<int> bad{0}, timeouts{0};
  std::vector<std::jthread> ts;
  for (int i = 0; i < kThreads; ++i)
    ts.emplace_back([&, i] {
      for (int r = 0; r < kRounds; ++r) {
        if (!ev[static_cast<std::size_t>(i)].wait_for(kPatience)) {
          ++timeouts;
          return;
        }
        ev[static_cast<std::size_t>(i)].clear();
        if (counter != long{r} * kThreads + i) ++bad;
        ++counter;
        ev[static_cast<std::size_t>((i + 1) % kThreads)].set();
      }
    });
  ev[0].set();
  ts.clear();  // joins
  EXPECT_EQ(timeouts.load(), 0);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(counter, long{kRounds} * kThreads);
}

TEST(EventThreads, StressAWaiterMayDestroyTheEventAsSoonAsWaitReturns) {
  // The header's promise: set() touches nothing of the event after the swap,
  // so the woken waiter may delete it at once. Four waiter/setter pairs; ASan
  // checks the claim.
  constexpr int kRounds = 6000;
  std::atomic<int> timeouts{0};
  struct pair_state {
    lockstep::binary_semaphore handed{0};
    std::atomic<lockstep::event*> slot{nullptr};
  };
  std::array<pair_state, kThreads / 2> pairs;
  run_threads(kThreads, [&](int id) {
    pair_state& p = pairs[static_cast<std::size_t>(id / 2)];
    for (int r = 0; r < kRounds; ++r) {
      if (id % 2 == 0) {  // waiter
        auto* e = new lockstep::event;
        p.slot.store(e, std::memory_order_relaxed);
        p.handed.release();
        if (r % 2 == 0) {
          e->wait();
        } else if (!e->wait_for(kPatience)) {
          ++timeouts;
        }
        delete e;
      } else {  // setter
        if (!p.handed.try_acquire_for(kPatience)) {
          ++timeouts;
          return;
        }
        p.slot.load(std::memory_order_relaxed)->set();
      }
    }
  });
  EXPECT_EQ(timeouts.load(), 0);
}

// ===========================================================================
// shared_mutex<Policy>

template <class Policy>
class SharedMutexThreads : public ::testing::Test {};
using Policies = ::testing::Types<lockstep::reader_preferring, lockstep::writer_preferring, lockstep::fair>;
struct PolicyName {
  template <class Policy>
  static std::string GetName(int) {
    return Policy::name;
  }
};
TYPED_TEST_SUITE(SharedMutexThreads, Policies, PolicyName);

// Where readers and writers sleep: the shared mutex's first two members are
// the readers' and the writers' futex words (see shared_mutex.hpp).
template <class M>
const void* readers_word(const M& m) {
  return &m;
}
template <class M>
const void* writers_word(const M& m) {
  return reinterpret_cast<const char*>(&m) + sizeof(std::atomic<std::uint32_t>);
}

TYPED_TEST(SharedMutexThreads, AWriterExcludesReadersAndWriters) {
  lockstep::shared_mutex<TypeParam> m;
  auto try_both = [&] {
    return on_other_thread([&] {
      int got = 0;
      if (m.try_lock()) {
        got |= 1;
        m.unlock();
      }
      if (m.try_lock_shared()) {
        got |= 2;
        m.unlock_shared();
      }
      return got;
    });
  };
  m.lock();
  EXPECT_EQ(try_both(), 0);
  m.unlock();
  EXPECT_EQ(try_both(), 3);
}

TYPED_TEST(SharedMutexThreads, ReadersShareAndExcludeAWriter) {
  lockstep::shared_mutex<TypeParam> m;
  std::shared_lock r1(m);
  EXPECT_TRUE(on_other_thread([&] {
    std::shared_lock r2(m, std::try_to_lock);
    return r2.owns_lock() && !m.try_lock();
  }));
  EXPECT_FALSE(on_other_thread([&] {
    std::unique_lock w(m, std::try_to_lock);
    return w.owns_lock();
  }));
  r1.unlock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TYPED_TEST(SharedMutexThreads, ABlockedWriterEntersWhenTheLastReaderLeaves) {
  lockstep::shared_mutex<TypeParam> m;
  std::atomic<bool> entered{false};
  tid_slot tid;
  m.lock_shared();
  m.lock_shared();  // two read holds (no owner tracking: any thread may)
  std::jthread writer([&] {
    tid.publish();
    std::unique_lock w(m);
    entered = true;
  });
  ASSERT_TRUE(blocked_on(tid.get(), writers_word(m)));
  m.unlock_shared();
  std::this_thread::sleep_for(5ms);  // room for a wrong wake-up to let it in
  EXPECT_FALSE(entered.load());
  m.unlock_shared();
  writer.join();
  EXPECT_TRUE(entered.load());
}

// While a reader holds the lock and a writer waits for it, may a new reader
// come in? reader_preferring: yes; writer_preferring and fair: no.
TYPED_TEST(SharedMutexThreads, NewReadersVersusAWaitingWriter) {
  lockstep::shared_mutex<TypeParam> m;
  std::atomic<bool> writer_in{false};
  tid_slot tid;
  m.lock_shared();
  std::jthread writer([&] {
    tid.publish();
    m.lock();
    writer_in = true;
    m.unlock();
  });
  ASSERT_TRUE(blocked_on(tid.get(), writers_word(m)));
  const bool new_reader_admitted = on_other_thread([&] {
    const bool got = m.try_lock_shared();
    if (got) m.unlock_shared();
    return got;
  });
  if constexpr (std::is_same_v<TypeParam, lockstep::reader_preferring>) {
    EXPECT_TRUE(new_reader_admitted);
  } else {
    EXPECT_FALSE(new_reader_admitted);
  }
  EXPECT_FALSE(writer_in.load());
  m.unlock_shared();
  writer.join();
  EXPECT_TRUE(writer_in.load());
}

// A writer holds the lock; a reader and a second writer wait. When the writer
// leaves: fair admits the waiting reader before the next writer (phase-fair),
// writer_preferring the writer first; reader_preferring promises no order.
TYPED_TEST(SharedMutexThreads, WhoGoesFirstWhenAWriterLeaves) {
  if (!kernel_reports_syscalls()) GTEST_SKIP() << "needs /proc/self/task/<tid>/syscall";
  lockstep::shared_mutex<TypeParam> m;
  std::mutex order_m;
  std::vector<char> order;
  auto record = [&](char c) {
    std::scoped_lock g(order_m);
    order.push_back(c);
  };
  tid_slot rtid, wtid;
  m.lock();
  std::jthread reader([&] {
    rtid.publish();
    std::shared_lock r(m);
    record('r');
  });
  std::jthread writer([&] {
    wtid.publish();
    std::unique_lock w(m);
    record('w');
  });
  ASSERT_TRUE(blocked_on(rtid.get(), readers_word(m)));
  ASSERT_TRUE(blocked_on(wtid.get(), writers_word(m)));
  m.unlock();
  reader.join();
  writer.join();
  ASSERT_EQ(order.size(), 2u);
  if constexpr (std::is_same_v<TypeParam, lockstep::fair>) {
    EXPECT_EQ(order[0], 'r');
  } else if constexpr (std::is_same_v<TypeParam, lockstep::writer_preferring>) {
    EXPECT_EQ(order[0], 'w');
  }
}

// Writers are exclusive against readers and each other, readers see a
// consistent pair, and no write is lost: 2 writer threads, 6 reader threads
// (every thread also does some of the other's work), each path exercised.
TYPED_TEST(SharedMutexThreads, StressWritersAreExclusiveAgainstReaders) {
  lockstep::shared_mutex<TypeParam> m;
  long a = 0, b = 0;  // plain memory: invariant a == b outside a write
  std::atomic<int> readers_in{0}, writers_in{0};
  std::atomic<long> violations{0}, writes{0}, reads{0};
  constexpr int kIters = 10000;
  run_threads(kThreads, [&](int id) {
    for (int i = 0; i < kIters; ++i) {
      const bool write = id < 2 ? (i % 4 != 3) : (i % 16 == 0);
      if (write) {
        if (i % 3 == 0) {
          if (!m.try_lock()) m.lock();
        } else {
          m.lock();
        }
        if (writers_in.fetch_add(1) != 0 || readers_in.load() != 0) ++violations;
        ++a;
        ++b;
        ++writes;
        writers_in.fetch_sub(1);
        m.unlock();
      } else {
        if (i % 3 == 0) {
          if (!m.try_lock_shared()) m.lock_shared();
        } else {
          m.lock_shared();
        }
        readers_in.fetch_add(1);
        if (writers_in.load() != 0) ++violations;
        if (a != b) ++violations;
        ++reads;
        readers_in.fetch_sub(1);
        m.unlock_shared();
      }
    }
  });
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(a, writes.load());
  EXPECT_EQ(b, writes.load());
  EXPECT_EQ(writes.load() + reads.load(), long{kThreads} * kIters);
  EXPECT_TRUE(m.try_lock());  // left unlocked
  m.unlock();
}

// ===========================================================================
// counters

template <class C>
class CounterThreads : public ::testing::Test {};
using Counters = ::testing::Types<lockstep::atomic_counter, lockstep::locked_counter,
                                  lockstep::striped_counter, lockstep::owned_counter>;
struct CounterName {
  template <class C>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<C, lockstep::atomic_counter>) return "atomic";
    if constexpr (std::is_same_v<C, lockstep::locked_counter>) return "locked";
    if constexpr (std::is_same_v<C, lockstep::striped_counter>) return "striped";
    return "owned";
  }
};
TYPED_TEST_SUITE(CounterThreads, Counters, CounterName);

TYPED_TEST(CounterThreads, AddsAndNegativeAddsOnOneThread) {
  TypeParam c;
  EXPECT_EQ(c.value(), 0);
  c.add();
  c.add(5);
  c.add(-2);
  EXPECT_EQ(c.value(), 4);
  c.add(-10);
  EXPECT_EQ(c.value(), -6);
}

// Exact once the adders are joined; meanwhile every value() a thread reads is
// at least its own adds so far, and (with only non-negative adds) never
// smaller than the previous value() it read.
TYPED_TEST(CounterThreads, StressExactTotalAndMonotoneReads) {
  TypeParam c;
  constexpr int kAdds = 20000, kReadEvery = 250;
  std::atomic<int> below_own{0}, went_down{0};
  run_threads(kThreads, [&](int id) {
    const std::int64_t n = id + 1;
    std::int64_t own = 0, last = 0;
    for (int i = 0; i < kAdds; ++i) {
      c.add(n);
      own += n;
      if (i % kReadEvery == 0) {
        const std::int64_t v = c.value();
        if (v < own) ++below_own;
        if (v < last) ++went_down;
        last = v;
      }
    }
  });
  EXPECT_EQ(below_own.load(), 0);
  EXPECT_EQ(went_down.load(), 0);
  std::int64_t expect = 0;
  for (int id = 0; id < kThreads; ++id) expect += std::int64_t{id + 1} * kAdds;
  EXPECT_EQ(c.value(), expect);
}

TYPED_TEST(CounterThreads, StressOppositeAddsCancelExactly) {
  TypeParam c;
  constexpr int kAdds = 15000;
  run_threads(kThreads, [&](int id) {
    for (int i = 0; i < kAdds; ++i) c.add(id % 2 == 0 ? 3 : -3);
  });
  EXPECT_EQ(c.value(), 0);
}

TEST(OwnedCounterThreads, ATinyQueueBlocksAddersButLosesNothing) {
  lockstep::owned_counter c(2);
  constexpr int kAdds = 3000;
  run_threads(kThreads, [&](int) {
    for (int i = 0; i < kAdds; ++i) c.add();
  });
  EXPECT_EQ(c.value(), std::int64_t{kThreads} * kAdds);
}

TEST(OwnedCounterThreads, DestroyingItWithAddsInFlightIsClean) {
  for (int round = 0; round < 50; ++round) {
    lockstep::owned_counter c(4);
    for (int i = 0; i < 100; ++i) c.add(i);
  }  // the owner drains the queue and exits
}

// ===========================================================================
// bounded_queue

TEST(BoundedQueueThreads, FifoCapacityAndTheNonBlockingCalls) {
  lockstep::bounded_queue<int> q(3);
  EXPECT_EQ(q.capacity(), 3u);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.try_get().has_value());
  EXPECT_TRUE(q.put(1));
  EXPECT_TRUE(q.try_put(2));
  EXPECT_TRUE(q.put_for(3, 0ms));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_FALSE(q.try_put(4));
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.try_get(), 2);
  EXPECT_EQ(q.get_for(0ms), 3);
  EXPECT_FALSE(q.try_get().has_value());
  EXPECT_FALSE(q.closed());
}

TEST(BoundedQueueThreads, TimedCallsTimeOutAndAFailedPutLeavesItsArgument) {
  lockstep::bounded_queue<std::unique_ptr<int>> q(1);
  EXPECT_TRUE(q.put(std::make_unique<int>(1)));
  auto v = std::make_unique<int>(2);
  auto t0 = clk::now();
  EXPECT_FALSE(q.put_for(std::move(v), 30ms));
  EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 30ms);
  ASSERT_NE(v, nullptr);  // not moved from
  EXPECT_FALSE(q.try_put(std::move(v)));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*q.get().value(), 1);
  t0 = clk::now();
  EXPECT_FALSE(q.get_for(30ms).has_value());
  EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 30ms);
  q.close();
  EXPECT_FALSE(q.put(std::move(v)));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, 2);
}

TEST(BoundedQueueThreads, CloseFailsPutsAndLetsGetsDrainThenFail) {
  lockstep::bounded_queue<std::string> q(4);
  ASSERT_TRUE(q.put("a"));
  ASSERT_TRUE(q.put("b"));
  q.close();
  EXPECT_TRUE(q.closed());
  EXPECT_FALSE(q.put("c"));
  EXPECT_FALSE(q.try_put("c"));
  EXPECT_FALSE(q.put_for("c", kPatience));  // fails at once, no wait
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get_for(kPatience), "b");
  const auto t0 = clk::now();
  EXPECT_FALSE(q.get().has_value());
  EXPECT_FALSE(q.get_for(kPatience).has_value());
  EXPECT_FALSE(q.try_get().has_value());
  EXPECT_LT(elapsed_since<std::chrono::milliseconds>(t0), 1s);
  q.close();  // twice is fine
}

TEST(BoundedQueueThreads, CloseReleasesBlockedGettersAndPutters) {
  lockstep::bounded_queue<int> empty(2), full(1);
  ASSERT_TRUE(full.put(0));
  std::atomic<int> getters_failed{0}, putters_failed{0};
  std::array<tid_slot, 3> gtids, ptids;
  {
    std::vector<std::jthread> ts;
    for (auto& t : gtids)
      ts.emplace_back([&] {
        t.publish();
        if (!empty.get().has_value()) ++getters_failed;
      });
    for (std::size_t i = 0; i < ptids.size(); ++i)
      ts.emplace_back([&, i] {
        ptids[i].publish();
        bool ok = i == 0 ? full.put(1) : full.put_for(1, kPatience);
        if (!ok) ++putters_failed;
      });
    // Wait until they all sleep (in the queues' condition variables).
    for (auto& t : gtids) ASSERT_TRUE(eventually([&] {
      const auto s = current_syscall(t.get());
      return !kernel_reports_syscalls() || (s && s->first == SYS_futex);
    }));
    for (auto& t : ptids) ASSERT_TRUE(eventually([&] {
      const auto s = current_syscall(t.get());
      return !kernel_reports_syscalls() || (s && s->first == SYS_futex);
    }));
    empty.close();
    full.close();
  }
  EXPECT_EQ(getters_failed.load(), 3);
  EXPECT_EQ(putters_failed.load(), 3);
  EXPECT_EQ(full.size(), 1u);  // the blocked puts added nothing
  EXPECT_EQ(full.get(), 0);
}

TEST(BoundedQueueThreads, JoinReturnsOnlyOnceEveryItemIsDone) {
  lockstep::bounded_queue<int> q(8);
  q.join();  // nothing put: returns at once
  constexpr int kItems = 200;
  std::atomic<int> processed{0};
  std::vector<std::jthread> consumers;
  for (int i = 0; i < 3; ++i)
    consumers.emplace_back([&] {
      while (auto v = q.get()) {
        if (*v % 20 == 0) std::this_thread::sleep_for(1ms);  // some slow items
        processed.fetch_add(1);
        q.task_done();
      }
    });
  for (int i = 0; i < kItems; ++i) ASSERT_TRUE(q.put(i));
  q.join();
  EXPECT_EQ(processed.load(), kItems);
  // join is reusable: a second batch
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.put(i));
  q.join();
  EXPECT_EQ(processed.load(), kItems + 10);
  q.close();
}

TEST(BoundedQueueThreads, StressEveryItemIsConsumedExactlyOnceInProducerOrder) {
  constexpr int kProducers = kThreads / 2, kItems = 15000, kTotal = kProducers * kItems;
  lockstep::bounded_queue<int> q(8);
  std::vector<std::atomic<int>> seen(kTotal);
  std::atomic<int> failed_puts{0}, out_of_order{0}, stalls{0}, producers_left{kProducers};
  run_threads(kThreads, [&](int id) {
    if (id < kProducers) {
      for (int k = 0; k < kItems; ++k) {
        const int item = id * kItems + k;
        bool ok;
        switch (k % 3) {
          case 0:
            ok = q.put(item);
            break;
          case 1:
            ok = q.try_put(item) || q.put_for(item, kPatience);
            break;
          default:
            ok = q.put_for(item, kPatience);
        }
        if (!ok) ++failed_puts;
      }
      if (producers_left.fetch_sub(1) == 1) q.close();  // the last producer closes
    } else {
      std::vector<int> last(kProducers, -1);
      for (int n = 0;; ++n) {
        std::optional<int> v;
        switch (n % 3) {
          case 0:
            v = q.get();
            break;
          case 1:
            v = q.try_get();
            if (!v) v = q.get();
            break;
          default: {
            const auto t0 = clk::now();
            v = q.get_for(kPatience);
            if (!v && clk::now() - t0 >= kPatience) ++stalls;  // a timeout, not "closed"
          }
        }
        if (!v) break;  // closed and drained
        seen[static_cast<std::size_t>(*v)].fetch_add(1);
        const std::size_t p = static_cast<std::size_t>(*v / kItems);
        if (*v % kItems <= last[p]) ++out_of_order;
        last[p] = *v % kItems;
        q.task_done();
      }
    }
  });
  EXPECT_EQ(failed_puts.load(), 0);
  EXPECT_EQ(stalls.load(), 0);
  EXPECT_EQ(out_of_order.load(), 0);
  int once = 0;
  for (auto& s : seen) once += s.load() == 1;
  EXPECT_EQ(once, kTotal);
  EXPECT_TRUE(q.closed());
  EXPECT_EQ(q.size(), 0u);
  q.join();  // every item was marked done
}

// ===========================================================================
// promise / future / as_completed

TEST(FutureThreads, GetWaitsForTheValueFromAnotherThread) {
  lockstep::promise<std::string> p;
  lockstep::future<std::string> f = p.get_future();
  EXPECT_TRUE(f.valid());
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(lockstep::future<int>().valid());
  std::jthread t([&] { p.set_value(std::string("hello")); });
  EXPECT_EQ(f.get(), "hello");
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
}

TEST(FutureThreads, GetForTimesOutWithoutConsumingTheResult) {
  lockstep::promise<std::unique_ptr<int>> p;
  auto f = p.get_future();
  auto t0 = clk::now();
  EXPECT_FALSE(f.get_for(30ms).has_value());
  EXPECT_GE(elapsed_since<std::chrono::microseconds>(t0), 30ms);
  EXPECT_FALSE(f.wait_for(5ms));
  EXPECT_FALSE(f.done());
  p.set_value(std::make_unique<int>(7));
  EXPECT_TRUE(f.wait_for(0ms));
  f.wait();
  EXPECT_TRUE(f.done());
  // The timed-out get_for took nothing: the result is still there.
  auto v = f.get_for(kPatience);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(**v, 7);
}

TEST(FutureThreads, VoidFuturesReportTimeoutAsFalse) {
  lockstep::promise<void> p;
  auto f = p.get_future();
  EXPECT_FALSE(f.get_for(10ms));
  std::jthread t([&] { p.set_value(); });
  EXPECT_TRUE(f.get_for(kPatience));
}

TEST(FutureThreads, ExceptionsAreCarriedToGet) {
  lockstep::promise<int> p;
  auto f = p.get_future();
  std::jthread t([&] { p.set_exception(std::make_exception_ptr(std::out_of_range("nope"))); });
  try {
    (void)f.get();
    ADD_FAILURE() << "get() returned";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "nope");
  }
  EXPECT_TRUE(f.done());
}

TEST(FutureThreads, ADestroyedPromiseBreaksItsFutureEvenForABlockedGetter) {
  {
    lockstep::future<int> f;
    {
      lockstep::promise<int> p;
      f = p.get_future();
    }
    EXPECT_TRUE(f.done());
    try {
      (void)f.get();
      ADD_FAILURE() << "get() returned";
    } catch (const std::future_error& e) {
      EXPECT_EQ(e.code(), std::future_errc::broken_promise);
    }
  }
  {
    auto p = std::make_unique<lockstep::promise<int>>();
    auto f = p->get_future();
    std::atomic<bool> broken{false};
    tid_slot tid;
    std::jthread getter([&] {
      tid.publish();
      try {
        (void)f.get();
      } catch (const std::future_error& e) {
        broken = e.code() == std::future_errc::broken_promise;
      }
    });
    ASSERT_TRUE(eventually([&] {
      const auto s = current_syscall(tid.get());
      return !kernel_reports_syscalls() || (s && s->first == SYS_futex);
    }));
    p.reset();
    getter.join();
    EXPECT_TRUE(broken.load());
  }
  {  // move-assigning over a promise abandons the old one
    lockstep::promise<int> p;
    auto f = p.get_future();
    p = lockstep::promise<int>();
    EXPECT_TRUE(f.done());
    EXPECT_THROW((void)f.get(), std::future_error);
  }
}

TEST(FutureThreads, ADoneCallbackRunsOnceOnTheCompletingThreadOrAtOnce) {
  lockstep::promise<int> p;
  auto f = p.get_future();
  std::atomic<int> before{0}, after{0};
  std::thread::id ran_on, completer_id;
  f.add_done_callback([&] {
    ++before;
    ran_on = std::this_thread::get_id();
  });
  f.add_done_callback([&] { ++before; });
  EXPECT_EQ(before.load(), 0);
  std::jthread t([&] {
    completer_id = std::this_thread::get_id();
    p.set_value(1);
  });
  t.join();
  EXPECT_EQ(before.load(), 2);
  EXPECT_EQ(ran_on, completer_id);
  // Already done: runs at once, on this thread, before add_done_callback returns.
  std::thread::id late_on;
  f.add_done_callback([&] {
    ++after;
    late_on = std::this_thread::get_id();
  });
  EXPECT_EQ(after.load(), 1);
  EXPECT_EQ(late_on, std::this_thread::get_id());
  EXPECT_EQ(f.get(), 1);
  EXPECT_EQ(before.load(), 2);  // never again
}

// A callback added while another thread completes the future runs exactly
// once whichever wins, and the future is done when it runs. Four
// adder/completer pairs race many times.
TEST(FutureThreads, StressCallbackRacingCompletionRunsExactlyOnce) {
  constexpr int kRounds = 5000;
  struct pair_state {
    lockstep::binary_semaphore handed{0}, completed{0};
    lockstep::promise<int>* slot = nullptr;  // ordered by `handed`
  };
  std::array<pair_state, kThreads / 2> pairs;
  std::atomic<int> wrong_calls{0}, not_done_in_callback{0}, timeouts{0};
  run_threads(kThreads, [&](int id) {
    pair_state& s = pairs[static_cast<std::size_t>(id / 2)];
    for (int r = 0; r < kRounds; ++r) {
      if (id % 2 == 0) {  // adder
        lockstep::promise<int> p;
        auto f = p.get_future();
        std::atomic<int> calls{0};
        s.slot = &p;
        s.handed.release();
        f.add_done_callback([&] {
          ++calls;
          if (!f.done()) ++not_done_in_callback;
        });
        if (!s.completed.try_acquire_for(kPatience)) {
          ++timeouts;
          return;
        }
        if (calls.load() != 1) ++wrong_calls;
        if (f.get() != r) ++wrong_calls;
      } else {  // completer
        if (!s.handed.try_acquire_for(kPatience)) {
          ++timeouts;
          return;
        }
        s.slot->set_value(r);
        s.completed.release();
      }
    }
  });
  EXPECT_EQ(timeouts.load(), 0);
  EXPECT_EQ(wrong_calls.load(), 0);
  EXPECT_EQ(not_done_in_callback.load(), 0);
}

// The tight version of the race above: two threads start each round together
// (spinning on a shared counter), one completes, one adds a callback. A
// callback that add_done_callback runs at once ("already done") must find
// the future done; before the fix in future_state::finish (ready_ set only
// after the state's lock was released) some rounds in a hundred thousand did not.
TEST(FutureThreads, ACallbackRunAtOnceFindsTheFutureDone) {
  constexpr int kRounds = 100000;
  std::atomic<int> go{-1}, arrived{0}, completed{-1};
  lockstep::promise<int>* slot = nullptr;  // ordered by `go`
  std::atomic<int> wrong_calls{0}, not_done_in_callback{0};
  auto spin_until = [](auto pred) {
    for (int i = 0; !pred(); ++i)
      if (i % 1024 == 1023) std::this_thread::yield();  // in case we share a core
  };
  std::jthread completer([&] {
    for (int r = 0; r < kRounds; ++r) {
      spin_until([&] { return go.load(std::memory_order_acquire) == r; });
      arrived.fetch_add(1);
      spin_until([&] { return arrived.load() >= 2 * (r + 1); });
      slot->set_value(r);
      completed.store(r, std::memory_order_release);
    }
  });
  for (int r = 0; r < kRounds; ++r) {
    lockstep::promise<int> p;
    auto f = p.get_future();
    std::atomic<int> calls{0};
    slot = &p;
    go.store(r, std::memory_order_release);
    arrived.fetch_add(1);
    spin_until([&] { return arrived.load() >= 2 * (r + 1); });
    f.add_done_callback([&] {
      ++calls;
      if (!f.done()) ++not_done_in_callback;
    });
    spin_until([&] { return completed.load(std::memory_order_acquire) == r; });
    if (calls.load() != 1 || f.get() != r) ++wrong_calls;
  }
  EXPECT_EQ(wrong_calls.load(), 0);
  EXPECT_EQ(not_done_in_callback.load(), 0);
}

TEST(FutureThreads, AsCompletedVisitsInCompletionOrder) {
  constexpr std::array<std::size_t, 6> kOrder{3, 0, 5, 1, 4, 2};
  std::vector<lockstep::promise<int>> ps(kOrder.size());
  std::vector<lockstep::future<int>> fs;
  for (auto& p : ps) fs.push_back(p.get_future());
  // Two are done before the call (visited first, in index order); the others
  // complete after it, in kOrder.
  ps[kOrder[0]].set_value(static_cast<int>(kOrder[0]) * 10);
  ps[kOrder[1]].set_value(static_cast<int>(kOrder[1]) * 10);
  auto order = lockstep::as_completed(fs);
  std::jthread completer([&] {
    for (std::size_t k = 2; k < kOrder.size(); ++k) {
      std::this_thread::sleep_for(1ms);  // let the iteration block sometimes
      ps[kOrder[k]].set_value(static_cast<int>(kOrder[k]) * 10);
    }
  });
  std::vector<std::size_t> visited;
  for (auto& f : order) {
    const auto i = static_cast<std::size_t>(&f - fs.data());
    visited.push_back(i);
    EXPECT_EQ(f.get(), static_cast<int>(i) * 10);
  }
  const std::vector<std::size_t> expect{0, 3, 5, 1, 4, 2};  // {3, 0} were done at once
  EXPECT_EQ(visited, expect);
}

// Futures completing while as_completed() itself runs. One thread completes
// them one after the other in a known order, racing the call; the visit order
// must be explained by one moment (the call): the futures done by then in
// index order, then each other one in the order it completed.
TEST(FutureThreads, StressAsCompletedRacingCompletionsKeepsCompletionOrder) {
  constexpr std::size_t kN = 32;
  constexpr int kRounds = 10000;
  struct round_data {
    std::vector<lockstep::promise<int>> ps = std::vector<lockstep::promise<int>>(kN);
    std::vector<std::size_t> pre, seq;  // done before the call; the completer's order
  };
  round_data* current = nullptr;  // handed over by `go`
  std::atomic<int> go{-1}, finished{-1};
  auto spin_until = [](auto pred) {
    for (int i = 1; !pred(); ++i)
      if (i % 1024 == 0) std::this_thread::yield();  // in case we share a core
  };
  std::jthread completer([&] {
    for (int r = 0; r < kRounds; ++r) {
      spin_until([&] { return go.load(std::memory_order_acquire) == r; });
      for (std::size_t i : current->seq) current->ps[i].set_value(static_cast<int>(i));
      finished.store(r, std::memory_order_release);
    }
  });
  int unexplained = 0;
  std::string example;
  for (int round = 0; round < kRounds; ++round) {
    round_data rd;
    std::vector<lockstep::future<int>> fs;
    for (auto& p : rd.ps) fs.push_back(p.get_future());
    for (std::size_t i = 0; i < kN; ++i) (i % 4 == 1 ? rd.pre : rd.seq).push_back(i);
    if (round % 2 == 0) {
      std::reverse(rd.seq.begin(), rd.seq.end());
    } else {  // a shuffle that differs by round (a small LCG)
      std::uint32_t x = static_cast<std::uint32_t>(round) * 2654435761u + 1;
      for (std::size_t i = rd.seq.size() - 1; i > 0; --i) {
        x = x * 1664525u + 1013904223u;
        std::swap(rd.seq[i], rd.seq[(x >> 8) % (i + 1)]);
      }
    }
    for (std::size_t i : rd.pre) rd.ps[i].set_value(static_cast<int>(i));
    current = &rd;
    go.store(round, std::memory_order_release);
    std::vector<std::size_t> visited;
    for (auto& f : lockstep::as_completed(fs)) visited.push_back(static_cast<std::size_t>(&f - fs.data()));
    spin_until([&] { return finished.load(std::memory_order_acquire) == round; });
    bool explained = false;
    for (std::size_t k = 0; k <= rd.seq.size() && !explained; ++k) {
      const auto split = rd.seq.begin() + static_cast<std::ptrdiff_t>(k);
      std::vector<std::size_t> expect(rd.pre);
      expect.insert(expect.end(), rd.seq.begin(), split);
      std::sort(expect.begin(), expect.end());
      expect.insert(expect.end(), split, rd.seq.end());
      explained = expect == visited;
    }
    if (!explained && unexplained++ == 0) {
      example = "completed (after the done ones):";
      for (std::size_t i : rd.seq) example += " " + std::to_string(i);
      example += "; visited:";
      for (std::size_t i : visited) example += " " + std::to_string(i);
    }
  }
  EXPECT_EQ(unexplained, 0) << example;
}

TEST(FutureThreads, AsCompletedOfNothingIsEmpty) {
  std::vector<lockstep::future<int>> none;
  int n = 0;
  for (auto& f : lockstep::as_completed(none)) {
    (void)f;
    ++n;
  }
  EXPECT_EQ(n, 0);
}

// ===========================================================================
// thread_pool

TEST(ThreadPoolThreads, SubmitRunsTheTaskWithDecayCopiedArguments) {
  lockstep::thread_pool pool(2);
  EXPECT_EQ(pool.size(), 2u);
  auto sum = pool.submit([](int a, int b) { return a + b; }, 2, 3);
  EXPECT_EQ(sum.get(), 5);
  // The argument is copied at submit: a change after it is not seen.
  lockstep::thread_pool one(1);
  lockstep::event release;
  auto blocker = one.submit([&] { return release.wait_for(kPatience); });
  std::string s = "original";
  auto echoed = one.submit([](const std::string& x) { return x; }, s);
  s = "changed";
  release.set();
  EXPECT_TRUE(blocker.get());
  EXPECT_EQ(echoed.get(), "original");
  auto v = pool.submit([] {});
  v.get();
  EXPECT_TRUE(v.done());
}

TEST(ThreadPoolThreads, ATaskExceptionIsCarriedToGet) {
  lockstep::thread_pool pool(2);
  auto f = pool.submit([]() -> int { throw std::logic_error("task failed"); });
  try {
    (void)f.get();
    ADD_FAILURE() << "get() returned";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "task failed");
  }
  auto g = pool.submit([] { throw 7; });
  EXPECT_THROW(g.get(), int);
}

TEST(ThreadPoolThreads, MapKeepsTheRangesOrder) {
  lockstep::thread_pool pool(4);
  std::vector<int> in(500);
  std::iota(in.begin(), in.end(), 0);
  const std::vector<long> out = pool.map(
      [](int x) {
        if (x < 8) std::this_thread::sleep_for(2ms);  // early elements finish late
        return long{x} * x;
      },
      in);
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], long(i) * long(i)) << i;
  EXPECT_TRUE(pool.map([](int x) { return x; }, std::vector<int>{}).empty());
}

TEST(ThreadPoolThreads, MapRethrowsTheFirstExceptionInRangeOrder) {
  lockstep::thread_pool pool(3);
  std::vector<int> in{0, 1, 2, 3, 4, 5, 6, 7};
  try {
    (void)pool.map(
        [](int x) {
          if (x == 2) {
            std::this_thread::sleep_for(20ms);  // fails last in time, first in order
            throw std::runtime_error("two");
          }
          if (x == 6) throw std::runtime_error("six");
          return x;
        },
        in);
    ADD_FAILURE() << "map() returned";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "two");
  }
}

// map's tasks call the function object it was given by reference; so map may
// not return (or throw) while any of them can still run, or a temporary
// function object (and what it refers to) would be used after its lifetime.
TEST(ThreadPoolThreads, MapThrowsOnlyAfterEveryTaskItSubmittedHasFinished) {
  lockstep::thread_pool pool(2);
  std::atomic<int> finished{0};
  std::vector<int> in{0, 1, 2, 3, 4, 5, 6, 7};
  try {
    (void)pool.map(
        [&finished, pad = std::vector<int>(16, 1)](int x) {
          if (x == 0) throw std::runtime_error("zero");
          std::this_thread::sleep_for(3ms);  // still running when element 0 fails
          finished += pad[static_cast<std::size_t>(x)];
          return x;
        },
        in);
    ADD_FAILURE() << "map() returned";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "zero");
  }
  EXPECT_EQ(finished.load(), 7);
}

TEST(ThreadPoolThreads, CancelSucceedsOnlyBeforeTheTaskStarts) {
  lockstep::thread_pool pool(1);
  lockstep::event started, release;
  std::atomic<bool> second_ran{false};
  auto running = pool.submit([&] {
    started.set();
    return release.wait_for(kPatience);
  });
  auto queued = pool.submit([&] { second_ran = true; });
  ASSERT_TRUE(started.wait_for(kPatience));
  EXPECT_FALSE(running.cancel());  // started
  EXPECT_FALSE(running.cancelled());
  std::atomic<int> callbacks{0};
  queued.add_done_callback([&] { ++callbacks; });
  EXPECT_TRUE(queued.cancel());
  EXPECT_EQ(callbacks.load(), 1);  // ran on this (the cancelling) thread
  EXPECT_TRUE(queued.cancel());    // cancelling again still reports cancelled
  EXPECT_TRUE(queued.cancelled());
  EXPECT_TRUE(queued.done());
  release.set();
  EXPECT_TRUE(running.get());
  EXPECT_FALSE(running.cancel());  // done
  EXPECT_THROW(queued.get(), lockstep::cancelled_error);
  pool.shutdown();
  EXPECT_FALSE(second_ran.load());
  EXPECT_EQ(callbacks.load(), 1);
}

TEST(ThreadPoolThreads, ShutdownWaitsForEveryQueuedTaskUnlessCancelled) {
  {  // shutdown(wait=true, cancel_pending=false): everything queued runs
    lockstep::thread_pool pool(2);
    std::atomic<int> ran{0};
    std::vector<lockstep::future<void>> fs;
    for (int i = 0; i < 300; ++i) fs.push_back(pool.submit([&] { ++ran; }));
    pool.shutdown(true, false);
    EXPECT_EQ(ran.load(), 300);
    for (auto& f : fs) EXPECT_FALSE(f.cancelled());
    EXPECT_THROW(pool.submit([] {}), lockstep::pool_closed);
    pool.shutdown();  // idempotent
  }
  {  // shutdown(wait=false, cancel_pending=true) while the only worker is busy
    lockstep::thread_pool pool(1);
    lockstep::event started, release;
    auto busy = pool.submit([&] {
      started.set();
      return release.wait_for(kPatience);
    });
    ASSERT_TRUE(started.wait_for(kPatience));
    std::atomic<int> ran{0};
    std::vector<lockstep::future<int>> fs;
    for (int i = 0; i < 100; ++i) fs.push_back(pool.submit([&ran, i] { ++ran; return i; }));
    pool.shutdown(false, true);  // returns at once
    for (auto& f : fs) {
      EXPECT_TRUE(f.done());
      EXPECT_TRUE(f.cancelled());
      EXPECT_THROW((void)f.get(), lockstep::cancelled_error);
    }
    EXPECT_THROW(pool.submit([] { return 0; }), lockstep::pool_closed);
    release.set();
    EXPECT_TRUE(busy.get());  // the running task was not cancelled
    pool.shutdown(true, false);
    EXPECT_EQ(ran.load(), 0);
  }
}

TEST(ThreadPoolThreads, FuturesOutliveThePool) {
  std::vector<lockstep::future<int>> fs;
  {
    lockstep::thread_pool pool(3);
    for (int i = 0; i < 50; ++i) fs.push_back(pool.submit([i] { return i * 2; }));
  }  // destructor: shutdown(true, false)
  for (int i = 0; i < 50; ++i) EXPECT_EQ(fs[static_cast<std::size_t>(i)].get(), i * 2);
}

TEST(ThreadPoolThreads, StressSubmittersFromEightThreadsGetExactResults) {
  lockstep::thread_pool pool(4);
  constexpr int kPerThread = 3000;
  std::atomic<long> total{0};
  std::atomic<int> ran{0};
  run_threads(kThreads, [&](int id) {
    std::vector<lockstep::future<long>> fs;
    fs.reserve(kPerThread);
    for (int i = 0; i < kPerThread; ++i)
      fs.push_back(pool.submit([&ran](long a, long b) { ++ran; return a * 100000 + b; }, long{id}, long{i}));
    long sum = 0;
    for (auto& f : fs) sum += f.get();
    total += sum;
  });
  long expect = 0;
  for (long id = 0; id < kThreads; ++id)
    for (long i = 0; i < kPerThread; ++i) expect += id * 100000 + i;
  EXPECT_EQ(total.load(), expect);
  EXPECT_EQ(ran.load(), kThreads * kPerThread);
}

// shutdown(wait=true, cancel_pending=true) while 8 workers drain and 4
// threads keep submitting: every task that was accepted either ran exactly
// once or was cancelled (and never ran); none was lost.
// Two threads shutting one pool down at once: each returns once the
// workers are joined, and no worker is joined twice (with two plain
// joinable()-then-join() callers both could see a worker joinable and join
// it: undefined for std::jthread, in practice a hang in pthread_join).
TEST(ThreadPoolThreads, ConcurrentShutdownsJoinEachWorkerOnce) {
  for (int round = 0; round < 300; ++round) {
    lockstep::thread_pool pool(2);
    auto f = pool.submit([] { return 7; });
    std::atomic<int> go{0};
    auto shut = [&] {
      go.fetch_add(1);
      while (go.load() < 2) {
      }
      pool.shutdown(true, false);
    };
    std::thread a(shut), b(shut);
    a.join();
    b.join();
    EXPECT_EQ(f.get(), 7);
  }
}

TEST(ThreadPoolThreads, StressShutdownWithCancelLosesNoTaskAndRunsNoneTwice) {
  for (int round = 0; round < 5; ++round) {
    constexpr int kSubmitters = 4, kMaxPerSubmitter = 10000;
    auto pool = std::make_unique<lockstep::thread_pool>(kThreads);
    std::vector<std::vector<std::atomic<int>>> runs;
    for (int s = 0; s < kSubmitters; ++s) runs.emplace_back(kMaxPerSubmitter);
    std::vector<std::vector<lockstep::future<int>>> fs(kSubmitters);
    std::atomic<int> accepted{0};
    std::atomic<int> refused{0};
    {
      std::vector<std::jthread> submitters;
      for (int s = 0; s < kSubmitters; ++s)
        submitters.emplace_back([&, s] {
          auto& mine = runs[static_cast<std::size_t>(s)];
          for (int i = 0; i < kMaxPerSubmitter; ++i) {
            try {
              fs[static_cast<std::size_t>(s)].push_back(pool->submit(
                  [&mine, i] {
                    mine[static_cast<std::size_t>(i)].fetch_add(1);
                    return i;
                  }));
              ++accepted;
            } catch (const lockstep::pool_closed&) {
              ++refused;
              return;
            }
          }
        });
      ASSERT_TRUE(eventually([&] { return accepted.load() >= 2000; }));
      pool->shutdown(true, true);
    }
    int ran = 0, cancelled = 0, bad = 0;
    for (std::size_t s = 0; s < fs.size(); ++s) {
      for (std::size_t i = 0; i < fs[s].size(); ++i) {
        auto& f = fs[s][i];
        const int r = runs[s][i].load();
        if (!f.done()) {
          ++bad;
        } else if (f.cancelled()) {
          ++cancelled;
          if (r != 0) ++bad;
          EXPECT_THROW((void)f.get(), lockstep::cancelled_error);
        } else {
          ++ran;
          if (r != 1 || f.get() != static_cast<int>(i)) ++bad;
        }
      }
      // Tasks never accepted never ran.
      for (std::size_t i = fs[s].size(); i < runs[s].size(); ++i) bad += runs[s][i].load() != 0;
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(ran + cancelled, accepted.load());
    // Submitters that were still going when the pool closed were refused.
    EXPECT_LE(refused.load(), kSubmitters);
    pool.reset();  // the destructor's shutdown after ours is a no-op
  }
}

// ===========================================================================
// Timeouts at the ends of the duration range: duration::max() is the usual
// way to say "no timeout" and must wait until the event (before the fix in
// detail/deadline.hpp, now + max overflowed: undefined behaviour, and in
// practice an immediate timeout); duration::min() times out at once.

TEST(TimeoutThreads, AMaximalTimeoutWaitsUntilTheThingHappens) {
  lockstep::event e;
  lockstep::counting_semaphore<> s(0);
  lockstep::promise<int> p;
  auto f = p.get_future();
  lockstep::bounded_queue<int> q(1);
  lockstep::mutex m;
  lockstep::condition_variable cv;
  bool flag = false;
  tid_slot tid;
  std::atomic<int> stage{0};
  std::jthread waiter([&] {
    tid.publish();
    EXPECT_TRUE(e.wait_for(std::chrono::nanoseconds::max()));
    stage = 1;
    EXPECT_TRUE(s.try_acquire_for(std::chrono::hours::max()));
    stage = 2;
    EXPECT_EQ(f.get_for(std::chrono::seconds::max()), 7);
    stage = 3;
    EXPECT_EQ(q.get_for(std::chrono::milliseconds::max()), 8);
    stage = 4;
    std::unique_lock lk(m);
    EXPECT_TRUE(cv.wait_for(lk, std::chrono::microseconds::max(), [&] { return flag; }));
    lk.unlock();
    EXPECT_TRUE(s.try_acquire_until(std::chrono::system_clock::time_point::max()));
  });
  // What lets the waiter go on, step by step; whatever a failed assertion
  // skips is done on the way out, so the waiter never hangs the test.
  const std::array<std::function<void()>, 6> steps{
      [&] { e.set(); },
      [&] { s.release(); },
      [&] { p.set_value(7); },
      [&] { (void)q.put(8); },
      [&] {
        {
          std::scoped_lock g(m);
          flag = true;
        }
        cv.notify_one();
      },
      [&] { s.release(); },
  };
  std::size_t next = 0;
  auto step = [&] { steps[next++](); };
  struct at_exit {
    std::function<void()> f;
    ~at_exit() { f(); }
  } finish{[&] {
    while (next < steps.size()) step();
  }};

  ASSERT_TRUE(blocked_on(tid.get(), &e));
  EXPECT_EQ(stage.load(), 0);
  step();
  ASSERT_TRUE(eventually([&] { return stage.load() == 1; }));
  ASSERT_TRUE(blocked_on(tid.get(), &s));
  step();
  ASSERT_TRUE(eventually([&] { return stage.load() == 2; }));
  step();
  ASSERT_TRUE(eventually([&] { return stage.load() == 3; }));
  step();
  ASSERT_TRUE(eventually([&] { return stage.load() == 4; }));
}

TEST(TimeoutThreads, AMinimalTimeoutTimesOutAtOnce) {
  lockstep::event e;
  lockstep::binary_semaphore s(0);
  lockstep::bounded_queue<int> q(1);
  lockstep::mutex m;
  lockstep::condition_variable cv;
  const auto t0 = clk::now();
  EXPECT_FALSE(e.wait_for(std::chrono::nanoseconds::min()));
  EXPECT_FALSE(s.try_acquire_for(std::chrono::hours::min()));
  EXPECT_FALSE(q.get_for(std::chrono::seconds::min()).has_value());
  std::unique_lock lk(m);
  EXPECT_EQ(cv.wait_for(lk, std::chrono::milliseconds::min()), std::cv_status::timeout);
  EXPECT_LT(elapsed_since<std::chrono::milliseconds>(t0), 1s);
}

// ===========================================================================
// Misuse aborts in production with one line on stderr. Death tests run in a
// re-executed child ("threadsafe" style: the parent has threads).

class PrimitivesDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(PrimitivesDeathTest, RecursiveMutexUnlockFromANonOwnerThreadAborts) {
  EXPECT_DEATH(
      {
        lockstep::recursive_mutex m;
        m.lock();
        std::thread([&] { m.unlock(); }).join();
      },
      "lockstep: misuse of .*unlock of a recursive mutex by a thread that does not own it");
}

TEST_F(PrimitivesDeathTest, RecursiveMutexUnlockOfAnUnlockedMutexAborts) {
  EXPECT_DEATH(
      {
        lockstep::recursive_mutex m;
        m.lock();
        m.unlock();
        m.unlock();
      },
      "does not own it");
}

TEST_F(PrimitivesDeathTest, SemaphoreReleasePastMaxAborts) {
  EXPECT_DEATH(
      {
        lockstep::binary_semaphore s(1);
        s.release();
      },
      "semaphore released past its max");
  EXPECT_DEATH(
      {
        lockstep::counting_semaphore<4> s(2);
        s.release(3);
      },
      "semaphore released past its max");
}

TEST_F(PrimitivesDeathTest, SemaphoreNegativeReleaseAndBadInitialValueAbort) {
  EXPECT_DEATH(
      {
        lockstep::counting_semaphore<4> s(0);
        s.release(-1);
      },
      "negative count");
  EXPECT_DEATH({ lockstep::counting_semaphore<2> s(3); }, "initialised outside");
}

TEST_F(PrimitivesDeathTest, SharedMutexUnlockWithoutHoldingAborts) {
  EXPECT_DEATH(
      {
        lockstep::shared_mutex<lockstep::fair> m;
        m.unlock_shared();
      },
      "no reader holds");
  EXPECT_DEATH(
      {
        lockstep::shared_mutex<lockstep::writer_preferring> m;
        m.lock_shared();
        m.unlock();
      },
      "not locked exclusively");
}

TEST_F(PrimitivesDeathTest, QueueTaskDoneMoreOftenThanPutAborts) {
  EXPECT_DEATH(
      {
        lockstep::bounded_queue<int> q(2);
        (void)q.put(1);
        (void)q.get();
        q.task_done();
        q.task_done();
      },
      "task_done\\(\\) called more times than items were put");
}

TEST_F(PrimitivesDeathTest, FutureGetTwiceAndPromiseSetTwiceAbort) {
  EXPECT_DEATH(
      {
        lockstep::promise<int> p;
        auto f = p.get_future();
        p.set_value(1);
        (void)f.get();
        (void)f.get();
      },
      "result was already taken");
  EXPECT_DEATH(
      {
        lockstep::promise<int> p;
        auto f = p.get_future();
        p.set_value(1);
        p.set_value(2);
      },
      "satisfied twice");
}

}  // namespace
