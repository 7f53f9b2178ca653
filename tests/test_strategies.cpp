// Preemption bounding, iterative context bounding and PCT, through the
// public explore() API.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "lockstep/lockstep.hpp"

namespace {

namespace mc = lockstep::mc;
using mc::bug_kind;

mc::options with(mc::strategy_spec s) {
  mc::options o;
  o.strategy = std::move(s);
  o.honour_env = false;
  return o;
}

void abba() {
  mc::mutex a("A"), b("B");
  mc::thread t([&] {
    a.lock();
    b.lock();
    b.unlock();
    a.unlock();
  });
  b.lock();
  a.lock();
  a.unlock();
  b.unlock();
  t.join();
}

void lost_update() {
  mc::atomic<int> n{0};
  auto inc = [&] { n.store(n.load() + 1); };
  mc::thread t(inc);
  inc();
  t.join();
  LOCKSTEP_ASSERT(n.load() == 2);
}

// -- preemption bounding ---------------------------------------------------------

TEST(PreemptionBound, ZeroPreemptionsCannotLoseAnUpdateAndSaysItWasCut) {
  mc::options o = with(mc::dfs());
  o.preemption_bound = 0;
  const auto r = mc::explore(o, lost_update);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.verdict(), mc::verdict::incomplete);
  EXPECT_NE(r.bound_hit.find("preemption bound (0)"), std::string::npos) << r.bound_hit;
}

TEST(PreemptionBound, OnePreemptionFindsTheLostUpdate) {
  mc::options o = with(mc::dfs());
  o.preemption_bound = 1;
  const auto r = mc::explore(o, lost_update);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::assertion);
  EXPECT_LE(r.found->preemptions, 1u);
}

TEST(PreemptionBound, BoundedSearchExploresFewerSchedules) {
  mc::options unbounded = with(mc::dfs());
  mc::options bounded = with(mc::dfs());
  bounded.preemption_bound = 1;
  auto body = [] {
    mc::atomic<int> x{0};
    mc::thread t([&] {
      for (int i = 0; i < 3; ++i) x.fetch_add(1);
    });
    for (int i = 0; i < 3; ++i) x.fetch_add(1);
    t.join();
  };
  const auto all = mc::explore(unbounded, body);
  const auto some = mc::explore(bounded, body);
  EXPECT_TRUE(all.complete);
  EXPECT_FALSE(some.complete);
  EXPECT_LT(some.executions, all.executions);
}

TEST(IterativeBounding, AbbaDeadlockIsFoundAtBoundOneWithOnePreemption) {
  mc::options o = with(mc::dfs());
  o.iterative_bounding = true;
  const auto r = mc::explore(o, abba);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
  EXPECT_EQ(r.preemption_bound, 1);
  EXPECT_EQ(r.found->preemptions, 1u);
  EXPECT_NE(r.report().find("the schedule has 1 preemption"), std::string::npos) << r.report();
}

TEST(IterativeBounding, ACorrectProgramEndsCompleteWhenNoBoundCutsAnything) {
  mc::options o = with(mc::dfs());
  o.iterative_bounding = true;
  const auto r = mc::explore(o, [] {
    mc::mutex m;
    mc::atomic<int> n{0};
    mc::thread t([&] {
      std::scoped_lock g(m);
      n.store(n.load() + 1);
    });
    {
      std::scoped_lock g(m);
      n.store(n.load() + 1);
    }
    t.join();
    LOCKSTEP_ASSERT(n.load() == 2);
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete) << r.report();
  EXPECT_EQ(r.verdict(), mc::verdict::pass);
}

TEST(IterativeBounding, AMaximumBoundStopsTheIteration) {
  mc::options o = with(mc::dfs());
  o.iterative_bounding = true;
  o.preemption_bound = 0;
  const auto r = mc::explore(o, abba);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.preemption_bound, 0);
}

// -- PCT ------------------------------------------------------------------------------

// Ordering bugs of a known depth among three threads (main and two workers);
// each worker pads its interesting steps with loads of a private atomic. No
// serial order of the workers hits either bug: both need interleaving.
//   depth 2: t2 reads x between t1's x = 1 and x = 0 (2 ordering constraints)
//   depth 3: as above, and t1 reads y between t2's y = 1 and y = 0 (3)
struct ordering_bug {
  int depth;
  int hits = 0;
  void operator()() {
    mc::atomic<int> x{0}, y{0}, pad1{0}, pad2{0};
    int r1 = -1, r2 = -1;
    auto pad = [](mc::atomic<int>& p) {
      for (int i = 0; i < 3; ++i) (void)p.load();
    };
    mc::thread t1([&] {
      pad(pad1);
      x.store(1);
      pad(pad1);
      if (depth == 3) r1 = y.load();
      pad(pad1);
      x.store(0);
    });
    mc::thread t2([&] {
      pad(pad2);
      r2 = x.load();
      pad(pad2);
      y.store(1);
      pad(pad2);
      y.store(0);
    });
    t1.join();
    t2.join();
    const bool bug = r2 == 1 && (depth == 2 || r1 == 1);
    hits += bug ? 1 : 0;
  }
};

double pct_hit_rate(int depth, std::uint64_t executions, double& bound) {
  ordering_bug prog{depth};
  mc::options o = with(mc::pct(12345, static_cast<unsigned>(depth)));
  o.max_executions = executions;
  const auto r = mc::explore(o, [&] { prog(); });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_EQ(r.executions, executions);
  // The guarantee is 1/(n k^(d-1)) with k the scheduling decisions per
  // execution; steps per execution bound k from above, so this bound is safe.
  const double n = 3;
  const double k = static_cast<double>(r.steps) / static_cast<double>(r.executions);
  bound = 1.0;
  for (int i = 1; i < depth; ++i) bound /= k;
  bound /= n;
  return static_cast<double>(prog.hits) / static_cast<double>(executions);
}

TEST(Pct, FindsADepthTwoBugAtLeastAsOftenAsItsGuarantee) {
  double bound = 0;
  const double rate = pct_hit_rate(2, 20000, bound);
  EXPECT_GT(rate, 0.0);
  EXPECT_GE(rate, bound) << "hit rate " << rate << " below the PCT bound " << bound;
  std::printf("depth 2: hit rate %.4f, PCT bound %.4f\n", rate, bound);
}

TEST(Pct, FindsADepthThreeBugAtLeastAsOftenAsItsGuarantee) {
  double bound = 0;
  const double rate = pct_hit_rate(3, 20000, bound);
  EXPECT_GE(rate, bound) << "hit rate " << rate << " below the PCT bound " << bound;
  EXPECT_GT(rate, 0.0);
  std::printf("depth 3: hit rate %.4f, PCT bound %.5f\n", rate, bound);
}

TEST(Pct, TheSameSeedGivesTheSameRun) {
  auto run = [] {
    mc::options o = with(mc::pct(99, 2));
    o.max_executions = 10000;
    return mc::explore(o, lost_update);
  };
  const auto r1 = run();
  const auto r2 = run();
  ASSERT_FALSE(r1.ok());
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r1.found->execution, r2.found->execution);
  EXPECT_EQ(r1.found->schedule, r2.found->schedule);
}

TEST(Pct, ItsFailingScheduleReplays) {
  mc::options o = with(mc::pct(3, 2));
  o.max_executions = 10000;
  const auto r = mc::explore(o, abba);
  ASSERT_FALSE(r.ok());
  const auto again = mc::explore(with(mc::replay(r.found->schedule)), abba);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.found->kind, bug_kind::deadlock);
}

}  // namespace
