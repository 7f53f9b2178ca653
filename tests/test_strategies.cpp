// Preemption bounding, iterative context bounding and PCT, through the
// public explore() API.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

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

void lost_update_free() {
  mc::atomic<int> n{0};
  mc::thread t([&] { n.fetch_add(1); });
  n.fetch_add(1);
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

// Three threads append to a history; a rare order is the "bug".
void rare_order() {
  mc::atomic<int> h{0};
  auto step = [&](int id) {
    for (int i = 0; i < 2; ++i) h.store(h.load() * 4 + id);
  };
  mc::thread a(step, 1), b(step, 2);
  step(3);
  a.join();
  b.join();
  LOCKSTEP_ASSERT(h.load() % 64 != 1 * 16 + 2 * 4 + 3);
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

TEST(IterativeBounding, DporFindsTheAbbaDeadlockAtBoundOneToo) {
  mc::options o = with(mc::dpor());
  o.iterative_bounding = true;
  const auto r = mc::explore(o, abba);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
  EXPECT_EQ(r.preemption_bound, 1);
  EXPECT_EQ(r.found->preemptions, 1u);
}

// Within the same bound, bounded dpor finds a bug exactly when bounded dfs does.
TEST(PreemptionBound, DporAndDfsAgreeUnderEachBound) {
  const std::pair<const char*, void (*)()> bodies[] = {
      {"abba", abba}, {"lost_update", lost_update}, {"rare_order", rare_order}};
  for (const auto& [name, body] : bodies) {
    for (int bound = 0; bound <= 2; ++bound) {
      mc::options d = with(mc::dfs());
      d.preemption_bound = bound;
      d.max_executions = 2000000;
      mc::options p = with(mc::dpor());
      p.preemption_bound = bound;
      const auto rd = mc::explore(d, body);
      const auto rp = mc::explore(p, body);
      EXPECT_EQ(rd.ok(), rp.ok()) << name << " bound " << bound << "\n" << rd.report() << rp.report();
      if (rp.found) {
        EXPECT_LE(rp.found->preemptions, static_cast<std::uint32_t>(bound));
      }
      if (rd.ok() && rd.complete) {
        EXPECT_LE(rp.executions, rd.executions) << name;
      }
    }
  }
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

// -- partial order sampling ----------------------------------------------------------

TEST(Pos, FindsTheClassicBugsAndTheSameSeedGivesTheSameRun) {
  for (void (*body)() : {lost_update, abba}) {
    mc::options o = with(mc::pos(5));
    o.max_executions = 1000;
    const auto r1 = mc::explore(o, body);
    const auto r2 = mc::explore(o, body);
    ASSERT_FALSE(r1.ok());
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(r1.strategy, "pos");
    EXPECT_EQ(r1.found->execution, r2.found->execution);
    EXPECT_EQ(r1.found->schedule, r2.found->schedule);
    const auto again = mc::explore(with(mc::replay(r1.found->schedule)), body);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.found->kind, r1.found->kind);
  }
}

// One thread makes `kLocal` steps on its own atomic, then writes x; the other
// writes x once. The order that ends with the other's write first and the
// long thread's last (x == 1) needs the short thread's one step to wait out
// all of the long one's. A random walk almost never does (2^-(kLocal+1));
// POS keeps a waiting step's priority while the steps that pass it do not
// race with it, so it waits them out with probability 1/(kLocal + 2).
constexpr int kLocal = 20;
int last_writer_rate(mc::strategy_spec s, std::uint64_t executions, int& hits) {
  hits = 0;
  mc::options o = with(std::move(s));
  o.max_executions = executions;
  const auto r = mc::explore(o, [&] {
    mc::atomic<int> x{0}, mine{0};
    mc::thread t([&] { x.store(2); });
    for (int i = 0; i < kLocal; ++i) mine.store(i);
    x.store(1);
    t.join();
    if (x.load() == 2) ++hits;
  });
  EXPECT_TRUE(r.ok()) << r.report();
  return static_cast<int>(r.executions);
}

TEST(Pos, WaitsOutStepsThatDoNotRaceWithIt) {
  int pos_hits = 0, random_hits = 0;
  const int n = last_writer_rate(mc::pos(7), 2000, pos_hits);
  last_writer_rate(mc::random(7), 2000, random_hits);
  // 1/(kLocal + 2) of 2000 is 91; allow for the sample's spread.
  EXPECT_GE(pos_hits, n / (kLocal + 2) / 2) << pos_hits << " of " << n;
  EXPECT_LE(random_hits, 2) << random_hits << " of " << n;
}

// -- delay bounding -------------------------------------------------------------------

TEST(DelayBounding, ZeroDelaysIsTheRoundRobinScheduleAlone) {
  const auto r = mc::explore(with(mc::delay_bounding(0)), rare_order);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_EQ(r.executions, 1u);
  EXPECT_FALSE(r.complete);  // bound 0 cut every other schedule
  EXPECT_EQ(r.verdict(), mc::verdict::incomplete);
  EXPECT_NE(r.report().find("(delay, delay bound 0, not exhaustive)"), std::string::npos) << r.report();
}

TEST(DelayBounding, FindsTheAbbaDeadlockWithOneDelay) {
  const auto r = mc::explore(with(mc::delay_bounding()), abba);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
  EXPECT_EQ(r.preemption_bound, 1);
  EXPECT_NE(r.report().find("(delay, delay bound 1;"), std::string::npos) << r.report();
}

// Every final history of three threads' unlocked appends, as dfs reaches them: delay bounding
// reaches a growing subset as its bound grows, and all of them once no bound
// cuts anything (then it is complete).
TEST(DelayBounding, ReachesWhatDfsReachesBoundByBound) {
  auto histories = [](mc::strategy_spec s, mc::result& r) {
    std::set<int> seen;
    r = mc::explore(with(std::move(s)), [&] {
      mc::atomic<int> h{0};
      auto step = [&](int id) { h.store(h.load() * 4 + id); };
      mc::thread a(step, 1), b(step, 2);
      step(3);
      a.join();
      b.join();
      seen.insert(h.load());
    });
    return seen;
  };
  mc::result dfs, r;
  const std::set<int> all = histories(mc::dfs(), dfs);
  ASSERT_TRUE(dfs.complete);
  std::size_t before = 0;
  for (int bound = 0; bound <= 3; ++bound) {
    const std::set<int> got = histories(mc::delay_bounding(bound), r);
    EXPECT_GE(got.size(), before) << "bound " << bound;
    for (int h : got) EXPECT_TRUE(all.count(h)) << h << " at bound " << bound;
    before = got.size();
  }
  EXPECT_LT(histories(mc::delay_bounding(1), r).size(), all.size());
  EXPECT_EQ(histories(mc::delay_bounding(), r), all);
  EXPECT_TRUE(r.complete) << r.report();
}

// -- jobs and shards ------------------------------------------------------------------

// Random's choices of two take one bit each of a word drawn for 63 of them
// (others a full draw): every position of a long run of choices, those
// around each new word included, is a fair coin, independent of the one
// before it, and a choice of three is uniform. The bounds are five standard
// deviations wide (the run is deterministic: seed 1).
TEST(Random, ChoicesAreUniformAndIndependentAcrossDrawnWords) {
  constexpr int kChoices = 140;  // past two refills of 63
  constexpr int kRuns = 4000;
  static std::vector<std::array<std::uint8_t, kChoices>> seen;
  static std::array<int, 3> threes{};
  seen.clear();
  threes = {};
  auto o = with(mc::random(1));
  o.max_executions = kRuns;
  const auto r = mc::explore(o, [] {
    std::array<std::uint8_t, kChoices> c{};
    for (int i = 0; i < kChoices; ++i) {
      c[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(mc::choose(2));
      if (i == 70) ++threes[mc::choose(3)];  // a full draw between two bits of one word
    }
    seen.push_back(c);
  });
  ASSERT_TRUE(r.ok()) << r.report();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kRuns));
  const double n = kRuns;
  for (int i = 0; i < kChoices; ++i) {
    double ones = 0;
    std::array<double, 4> pairs{};
    for (const auto& c : seen) {
      ones += c[static_cast<std::size_t>(i)];
      if (i > 0) pairs[static_cast<std::size_t>(c[static_cast<std::size_t>(i - 1)] * 2 + c[static_cast<std::size_t>(i)])] += 1;
    }
    EXPECT_NEAR(ones / n, 0.5, 5 * std::sqrt(0.25 / n)) << "choice " << i;
    if (i == 0) continue;
    for (double p : pairs) EXPECT_NEAR(p / n, 0.25, 5 * std::sqrt(0.25 * 0.75 / n)) << "choices " << i - 1 << ", " << i;
  }
  for (int k : threes) EXPECT_NEAR(k / n, 1.0 / 3, 5 * std::sqrt(2.0 / 9 / n));
}

TEST(Jobs, SamplingGivesTheSameResultForASeedWhateverTheJobs) {
  for (const auto& spec : {mc::random(17), mc::pct(17, 3), mc::pos(17)}) {
    std::string schedule;
    std::uint64_t execution = 0;
    for (unsigned jobs : {1u, 2u, 3u}) {
      mc::options o = with(spec);
      o.jobs = jobs;
      o.max_executions = 200000;
      const auto r = mc::explore(o, rare_order);
      ASSERT_FALSE(r.ok()) << mc::strategy_name(spec.k) << " jobs=" << jobs;
      if (jobs == 1) {
        schedule = r.found->schedule;
        execution = r.found->execution;
      } else {
        EXPECT_EQ(r.found->schedule, schedule) << mc::strategy_name(spec.k) << " jobs=" << jobs;
        EXPECT_EQ(r.found->execution, execution);
        EXPECT_EQ(r.executions, execution);
      }
    }
  }
}

// With keep_going a sampling search runs every execution it was given and
// tells on_execution of each (on the OS thread that ran it); the bug it
// keeps is that of the smallest index, as without keep_going.
TEST(Jobs, SamplingWithKeepGoingRunsOnAndReportsEveryExecution) {
  for (const auto& spec : {mc::random(17), mc::pct(17, 3), mc::pos(17)}) {
    for (unsigned jobs : {1u, 2u}) {
      mc::options first = with(spec);
      first.jobs = jobs;
      const auto stop = mc::explore(first, lost_update);
      ASSERT_FALSE(stop.ok()) << mc::strategy_name(spec.k);
      mc::options o = with(spec);
      o.jobs = jobs;
      o.max_executions = 3000;
      o.keep_going = true;
      o.shrink = false;
      std::mutex m;
      std::uint64_t calls = 0, bugs = 0;
      o.on_execution = [&](const mc::bug* b) {
        std::scoped_lock g(m);
        ++calls;
        bugs += b != nullptr ? 1 : 0;
      };
      const auto r = mc::explore(o, lost_update);
      const std::string what = std::string(mc::strategy_name(spec.k)) + " jobs=" + std::to_string(jobs);
      EXPECT_EQ(r.executions, 3000u) << what;
      EXPECT_EQ(calls, 3000u) << what;
      EXPECT_GT(bugs, 1u) << what;
      EXPECT_LT(bugs, calls) << what;
      ASSERT_FALSE(r.ok()) << what;
      EXPECT_EQ(r.found->execution, stop.found->execution) << what;
    }
  }
}

// The outcomes of two threads appending twice, recorded thread-safely (with
// jobs > 1 the body runs on several OS threads at once). A set, not a count:
// a worker also runs, uncounted, the first execution of each subtree it
// leaves to another worker.
struct histories {
  std::mutex m;
  std::set<int> seen;
  void operator()() {
    mc::atomic<int> h{0};
    auto step = [&](int id) {
      for (int i = 0; i < 2; ++i) h.store(h.load() * 4 + id);
    };
    mc::thread t(step, 1);
    step(2);
    t.join();
    std::scoped_lock g(m);
    seen.insert(h.load());
  }
};

TEST(Jobs, DfsOnTwoJobsExploresTheSameExecutionsAsOnOne) {
  histories one, two;
  mc::options o = with(mc::dfs());
  const auto r1 = mc::explore(o, [&] { one(); });
  o.jobs = 2;
  const auto r2 = mc::explore(o, [&] { two(); });
  EXPECT_TRUE(r1.complete);
  EXPECT_TRUE(r2.complete) << r2.report();
  EXPECT_EQ(r1.executions, r2.executions);
  EXPECT_EQ(one.seen, two.seen);
}

TEST(Shards, TheShardsOfADfsTogetherAreExactlyTheUnshardedSearch) {
  histories all;
  mc::options o = with(mc::dfs());
  const auto whole = mc::explore(o, [&] { all(); });
  ASSERT_TRUE(whole.complete);
  std::set<int> united;
  std::uint64_t executions = 0;
  for (unsigned i = 0; i < 3; ++i) {
    histories part;
    mc::options s = with(mc::dfs());
    s.shard_index = i;
    s.shard_count = 3;
    const auto r = mc::explore(s, [&] { part(); });
    EXPECT_FALSE(r.complete) << "a shard covers its part, never the whole space";
    EXPECT_TRUE(r.shard_complete) << r.report();
    EXPECT_GT(r.executions, 0u) << "shard " << i << " got nothing";
    executions += r.executions;
    united.insert(part.seen.begin(), part.seen.end());
  }
  EXPECT_EQ(executions, whole.executions);
  EXPECT_EQ(united, all.seen);  // the same outcomes (and, above, as many executions)
}

TEST(Shards, RandomShardsSplitTheExecutionIndices) {
  std::uint64_t total = 0;
  for (unsigned i = 0; i < 4; ++i) {
    mc::options s = with(mc::random(5));
    s.max_executions = 1001;
    s.shard_index = i;
    s.shard_count = 4;
    total += mc::explore(s, [] { lost_update_free(); }).executions;
  }
  EXPECT_EQ(total, 1001u);
}

TEST(Shards, ABoundedSearchRefusesToShard) {
  mc::options s = with(mc::dpor());
  s.shard_count = 2;
  s.preemption_bound = 1;
  EXPECT_THROW((void)mc::explore(s, [] { lost_update_free(); }), std::invalid_argument);
}

// Three threads, two of them appending twice: enough branching to split.
struct three_histories {
  std::mutex m;
  std::set<int> seen;
  void operator()() {
    mc::atomic<int> h{0};
    auto step = [&](int id) {
      for (int i = 0; i < 2; ++i) h.store(h.load() * 4 + id);
    };
    mc::thread a(step, 1), b(step, 2);
    step(3);
    a.join();
    b.join();
    std::scoped_lock g(m);
    seen.insert(h.load());
  }
};

TEST(Shards, DporShardsAndJobsCoverEveryTraceOnceLikeOneDpor) {
  three_histories plain_h;
  const auto plain = mc::explore(with(mc::dpor()), [&] { plain_h(); });
  ASSERT_TRUE(plain.complete);
  // Two shards of one job each, and one run of two jobs: the same partition.
  three_histories shard_h;
  std::uint64_t shard_runs = 0, shard_execs = 0;
  for (unsigned i = 0; i < 2; ++i) {
    mc::options s = with(mc::dpor());
    s.shard_index = i;
    s.shard_count = 2;
    const auto r = mc::explore(s, [&] { shard_h(); });
    EXPECT_TRUE(r.shard_complete) << r.report();
    EXPECT_GT(r.executions - r.abandoned, 0u) << "shard " << i << " got nothing";
    shard_runs += r.executions - r.abandoned;
    shard_execs += r.executions;
  }
  three_histories jobs_h;
  mc::options j = with(mc::dpor());
  j.jobs = 2;
  const auto two = mc::explore(j, [&] { jobs_h(); });
  EXPECT_TRUE(two.complete);
  // Each trace once: as many complete executions as the plain search (the
  // split only adds sleep-set-blocked starts), and the same outcomes.
  EXPECT_EQ(shard_runs, plain.executions - plain.abandoned);
  EXPECT_EQ(two.executions, shard_execs);
  EXPECT_EQ(two.executions - two.abandoned, shard_runs);
  EXPECT_EQ(shard_h.seen, plain_h.seen);
  EXPECT_EQ(jobs_h.seen, plain_h.seen);
}

}  // namespace
