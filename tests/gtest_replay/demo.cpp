// A GoogleTest program as a user writes it, with a failing check among
// passing ones: gtest_replay_test.sh runs the replay commands its report
// prints, exactly as printed. Not a suite of its own (some tests fail on
// purpose).
#include <gtest/gtest.h>
#include <mutex>
#include <lockstep/lockstep.hpp>

namespace mc = lockstep::mc;

namespace {
// Two unlocked increments: a lost update.
void lost_update() {
  mc::atomic<int> x{0};
  mc::thread t([&] { x.store(x.load() + 1); });
  x.store(x.load() + 1);
  t.join();
  LOCKSTEP_ASSERT(x.load() == 2);
}
}  // namespace

TEST(Demo, LostUpdate) {
  const mc::result r = mc::explore(mc::dpor(), lost_update);
  EXPECT_TRUE(r.ok()) << r.report();
}

// Passes; it must keep passing while LOCKSTEP_TRACE names LostUpdate's trace.
TEST(Demo, Correct) {
  const mc::result r = mc::explore(mc::dpor(), [] {
    mc::mutex m;
    int x = 0;
    mc::thread t([&] { std::scoped_lock g(m); ++x; });
    { std::scoped_lock g(m); ++x; }
    t.join();
    LOCKSTEP_ASSERT(x == 2);
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
}

// Ends the process: its report is printed from a signal handler.
TEST(Demo, Crash) {
  const mc::result r = mc::explore(mc::dfs(), [] {
    mc::atomic<int*> p{nullptr};
    mc::atomic<int> seen{0};
    mc::thread t([&] { static int v = 1; p.store(&v); });
    if (p.load() == nullptr) seen.store(1);
    t.join();
    if (seen.load() == 1) {
      volatile int* q = nullptr;
      *q = 1;  // the crash, in schedules where main looked first
    }
  });
  EXPECT_TRUE(r.ok()) << r.report();
}
