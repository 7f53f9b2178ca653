// The words of reports: deadlocked threads called blocked, the user's line
// of an operation made through std::unique_lock or std::scoped_lock (this
// file is built with debug info, tests/meson.build), singular counts, an
// unnamed assertion, the names of unnamed objects.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "abba.hpp"
#include "lockstep/lockstep.hpp"
#include "lockstep/mc/graph.hpp"

namespace {

namespace mc = lockstep::mc;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

#define EXPECT_HAS(text, part) EXPECT_TRUE(contains(text, part)) << "missing: " << (part) << "\n" << (text)
#define EXPECT_LACKS(text, part) EXPECT_FALSE(contains(text, part)) << "present: " << (part) << "\n" << (text)

mc::options dpor() {
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.trace_dir = "-";
  return o;
}

// This file as reports name it ("tests/test_reports.cpp").
std::string here() {
  std::string f = std::source_location::current().file_name();
  while (f.rfind("../", 0) == 0) f.erase(0, 3);
  return f;
}

// The lines of the deadlock below: each thread's first lock and its second.
int a_first = 0, b_second = 0, b_first = 0, a_second = 0;

// A then B against B then A, every lock through std::unique_lock or
// std::scoped_lock: the locations the primitives see are in <mutex> and
// unique_lock.h.
void abba() {
  mc::mutex a, b;
  mc::name(&a, "A");
  mc::name(&b, "B");
  mc::thread t([&] {
    a_first = __LINE__ + 1;
    std::unique_lock la(a);
    b_second = __LINE__ + 1;
    std::unique_lock lb(b);
  });
  {
    b_first = __LINE__ + 1;
    std::scoped_lock lb(b);
    a_second = __LINE__ + 1;
    std::unique_lock la(a);
  }
  t.join();
}

TEST(Reports, DeadlockedThreadsAreBlockedNotRunnable) {
  const auto r = mc::explore(dpor(), abba);
  ASSERT_TRUE(r.found);
  ASSERT_EQ(r.found->kind, mc::bug_kind::deadlock) << r.report();
  const std::string report = r.report();
  EXPECT_HAS(report, "thread 0 (main): blocked on mutex A at ");
  EXPECT_HAS(report, "thread 1 (spawned at ");
  EXPECT_HAS(report, "): blocked on mutex B at ");
  EXPECT_HAS(report, " (deadlocked); holds mutex B (");
  EXPECT_HAS(report, " (deadlocked); holds mutex A (");
  EXPECT_LACKS(report, ": runnable");
  EXPECT_LACKS(report, ": running");
  // The wait-for graph says the same.
  const std::string dot = mc::to_dot(*r.found, "abba");
  EXPECT_HAS(dot, "thread 0 (main)\\nblocked on mutex A (deadlocked)");
  EXPECT_HAS(dot, "thread 1\\nblocked on mutex B (deadlocked)");
  EXPECT_LACKS(dot, "runnable");
  EXPECT_LACKS(dot, "running");
  for (const mc::wait_graph::node& n : r.found->graph.nodes) {
    if (n.thread) {
      EXPECT_TRUE(n.detail.ends_with("(deadlocked)")) << n.label << ": " << n.detail;
    }
  }
}

TEST(Reports, LocksTakenThroughStdLockTypesNameTheUsersLine) {
  const auto r = mc::explore(dpor(), abba);
  ASSERT_TRUE(r.found);
  const std::string report = r.report();
  // Every lock of the cycle at its line in this file, not in a header.
  const std::string f = here();
  EXPECT_HAS(report, "holds mutex A (" + f + ":" + std::to_string(a_first) + ")");
  EXPECT_HAS(report, "waits for mutex B (" + f + ":" + std::to_string(b_second) + ")");
  EXPECT_HAS(report, "holds mutex B (" + f + ":" + std::to_string(b_first) + ")");
  EXPECT_HAS(report, "waits for mutex A (" + f + ":" + std::to_string(a_second) + ")");
  EXPECT_HAS(report, "blocked on mutex A at " + f + ":" + std::to_string(a_second) + " (deadlocked)");
  EXPECT_LACKS(report, "unique_lock.h");
  EXPECT_LACKS(report, "mutex.hpp");
  // The events (the timeline, trace files) too.
  for (const mc::trace_event& e : r.found->events) {
    if (e.o == mc::op::start || e.o == mc::op::exit || e.o == mc::op::spawn || e.o == mc::op::join) continue;
    EXPECT_TRUE(e.file.ends_with("tests/test_reports.cpp")) << e.file << ":" << e.line;
  }
  // And the same bug as before: its schedule replays it, with the same lines
  // (a replay looks them up as it runs).
  mc::options o = dpor();
  o.strategy = mc::replay(r.found->schedule);
  const auto again = mc::explore(o, abba);
  ASSERT_TRUE(again.found);
  EXPECT_EQ(again.found->step, r.found->step);
  EXPECT_HAS(again.report(), "waits for mutex A (" + f + ":" + std::to_string(a_second) + ")");
  EXPECT_LACKS(again.report(), "unique_lock.h");
}

TEST(Reports, AReplayRunsTheBodyOnce) {
  int runs = 0;
  mc::options o = dpor();
  const auto body = [&] {
    ++runs;
    abba();
  };
  const auto r = mc::explore(o, body);
  ASSERT_TRUE(r.found);
  o.strategy = mc::replay(r.found->schedule);
  o.shrink = false;
  runs = 0;
  const auto again = mc::explore(o, body);
  ASSERT_TRUE(again.found);
  EXPECT_EQ(runs, 1);
  EXPECT_LACKS(again.report(), "unique_lock.h");
}

TEST(Reports, AnUnnamedAssertionSaysWhatFailed) {
  int line = 0;
  const auto r = mc::explore(dpor(), [&] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(x.load() + 1); });
    x.store(x.load() + 1);
    t.join();
    line = __LINE__ + 1;
    LOCKSTEP_ASSERT(x.load() == 2);
  });
  ASSERT_TRUE(r.found);
  const std::string report = r.report();
  EXPECT_EQ(report.substr(0, report.find('\n')),
            "assertion: `x.load() == 2` failed in thread 0 (main) at " + here() + ":" + std::to_string(line));
  EXPECT_LACKS(report, "assertion: assertion");
}

TEST(Reports, OneIsSingular) {
  // No thread, no choice: one execution covers it.
  const auto pass = mc::explore(dpor(), [] {
    mc::atomic<int> x{0};
    x.store(1);
  });
  ASSERT_FALSE(pass.found);
  EXPECT_EQ(pass.report(), "no bug found in 1 execution (dpor, complete)\n");
  // A deadlock needs one preemption.
  const auto r = mc::explore(dpor(), abba);
  ASSERT_TRUE(r.found);
  EXPECT_HAS(r.report(), "the schedule has 1 preemption)");
  EXPECT_LACKS(r.report(), " 1 preemptions");
  EXPECT_LACKS(r.report(), " 1 schedules");
}

TEST(Reports, UnnamedObjectsAreNamedLikeUnnamedLocks) {
  const auto r = mc::explore(dpor(), [] {
    mc::mutex m;
    mc::atomic<int> x{0};
    mc::thread t([&] {
      std::scoped_lock g(m);
      x.store(x.load() + 1);
    });
    x.store(x.load() + 1);
    t.join();
    LOCKSTEP_ASSERT(x.load() == 2);
  });
  ASSERT_TRUE(r.found);
  const std::string report = r.report();
  EXPECT_HAS(report, "store object #");
  EXPECT_HAS(report, " mutex #1 = ");
  EXPECT_LACKS(report, "object#");
}

// A name goes with its object: a mutex made later at the same address has
// none, and the report numbers it by the order locks were first taken (the
// first mutex #1, other #2, the second at the address #3).
TEST(Reports, ANameEndsWithItsObject) {
  const auto r = mc::explore(dpor(), [] {
    std::optional<mc::mutex> m;
    m.emplace();
    mc::name(&*m, "first");
    m->lock();
    m->unlock();
    m.reset();
    m.emplace();
    mc::mutex other("other");
    lockstep::testing::abba(*m, other);
  });
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.found->kind, mc::bug_kind::deadlock);
  const std::string report = r.report();
  EXPECT_HAS(report, "mutex other");
  EXPECT_HAS(report, "holds mutex #3");
  EXPECT_LACKS(report, "first");
}

// The same with hundreds of names (kept in a table that grows while they are
// given), the first half destroyed in the order they were made, one renamed:
// a mutex made again where a named one was has no name, and the renamed one
// has its latest.
TEST(Reports, ManyNamesEachWithItsObject) {
  static const std::array<std::string, 300> labels = [] {
    std::array<std::string, 300> a;
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = "lock " + std::to_string(i);
    return a;
  }();
  const auto r = mc::explore(dpor(), [] {
    auto locks = std::make_unique<std::array<std::optional<mc::mutex>, 300>>();
    for (std::size_t i = 0; i < labels.size(); ++i) mc::name(&(*locks)[i].emplace(), labels[i].c_str());
    mc::name(&*(*locks)[160], "renamed");
    for (std::size_t i = 0; i < 150; ++i) (*locks)[i].reset();
    (*locks)[10].emplace();
    lockstep::testing::abba(*(*locks)[10], *(*locks)[160]);
  });
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.found->kind, mc::bug_kind::deadlock);
  const std::string report = r.report();
  EXPECT_HAS(report, "mutex renamed");
  EXPECT_HAS(report, "holds mutex #2");  // renamed is #1: it was locked first
  EXPECT_LACKS(report, "lock 160");
  EXPECT_LACKS(report, "lock 10");
}

}  // namespace
