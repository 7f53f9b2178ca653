// lockstep::mutex on real OS threads.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "lockstep/mutex.hpp"

namespace {

TEST(MutexThreads, StressMoreThreadsThanCoresLosesNoIncrement) {
  lockstep::mutex m;
  long counter = 0;  // plain memory: only the mutex protects it
  constexpr int kThreads = 8, kIters = 20000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) {
        std::scoped_lock g(m);
        ++counter;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, long{kThreads} * kIters);
}

TEST(MutexThreads, TryLockFailsWhileAnotherThreadHoldsIt) {
  lockstep::mutex m;
  m.lock();
  bool got = true;
  std::thread([&] { got = m.try_lock(); }).join();
  EXPECT_FALSE(got);
  m.unlock();
  std::thread([&] {
    got = m.try_lock();
    if (got) m.unlock();
  }).join();
  EXPECT_TRUE(got);
}

TEST(MutexThreads, ScopedLockOnTwoMutexesInOppositeOrdersDoesNotDeadlock) {
  lockstep::mutex a, b;
  int shared = 0;
  std::thread t([&] {
    for (int i = 0; i < 20000; ++i) {
      std::scoped_lock g(a, b);
      ++shared;
    }
  });
  for (int i = 0; i < 20000; ++i) {
    std::scoped_lock g(b, a);
    ++shared;
  }
  t.join();
  EXPECT_EQ(shared, 40000);
}

TEST(MutexThreads, WorksWithConditionVariableAny) {
  lockstep::mutex m;
  std::condition_variable_any cv;
  bool ready = false;
  std::thread t([&] {
    std::unique_lock lk(m);
    ready = true;
    cv.notify_one();
  });
  {
    std::unique_lock lk(m);
    cv.wait(lk, [&] { return ready; });
  }
  t.join();
  EXPECT_TRUE(ready);
}

TEST(MutexThreadsDeathTest, UnlockOfAnUnlockedMutexAbortsWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        lockstep::mutex m;
        m.unlock();
      },
      "unlock of a mutex that is not locked");
}

}  // namespace
