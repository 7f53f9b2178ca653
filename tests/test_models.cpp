// Every registered model gets its expected verdict under dpor, dfs and
// random; exhaustive models are covered completely by dpor.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"

namespace {

namespace mc = lockstep::mc;

struct case_t {
  const mc::model* m;
  mc::strategy_spec strategy;
};

std::vector<case_t> cases() {
  std::vector<case_t> out;
  for (const mc::model& m : mc::models()) {
    out.push_back({&m, mc::dpor()});
    out.push_back({&m, mc::dfs()});
    out.push_back({&m, mc::random(1)});
  }
  return out;
}

class Models : public ::testing::TestWithParam<case_t> {};

TEST_P(Models, GetsItsExpectedVerdict) {
  const mc::model& m = *GetParam().m;
  mc::options o = mc::default_options(m);
  o.strategy = GetParam().strategy;
  o.max_executions = 0;
  o.honour_env = false;
  if (o.strategy.k == mc::strategy_spec::kind::random) o.max_executions = 5000;
  // dpor must cover an exhaustive model completely. dfs, and dpor on a model
  // too big to cover, still must not find a bug in a passing model (or must
  // find the bug in a buggy one) within their bound.
  const bool must_complete = o.strategy.k == mc::strategy_spec::kind::dpor && m.settings.exhaustive;
  if (!must_complete && o.strategy.k != mc::strategy_spec::kind::random) o.max_executions = 50000;
  if (m.settings.ends_process) {
    // The bug ends the process (a crash, a stack overflow, the watchdog):
    // the child must die of it, reporting it with its replay string.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    o.trace_dir = "-";  // the report is expected: no trace file for it
    const bool watchdog = m.expected.bug == mc::bug_kind::non_termination;
    EXPECT_EXIT((void)mc::explore(o, m.body),
                [watchdog](int status) {
                  return watchdog ? WIFEXITED(status) && WEXITSTATUS(status) == 124 : WIFSIGNALED(status);
                },
                std::string(m.name) + ": " + mc::bug_kind_name(*m.expected.bug) + ": .*LOCKSTEP_REPLAY=L1");
    return;
  }
  const mc::result r = mc::explore(o, m.body);
  const bool sampling = o.strategy.k == mc::strategy_spec::kind::random;
  if (m.expected.bug && sampling && !m.settings.found_by_sampling) {
    if (r.found) {
      EXPECT_EQ(r.found->kind, *m.expected.bug) << r.report();
    }
  } else if (m.expected.bug) {
    ASSERT_TRUE(r.found.has_value()) << m.name << " must find " << mc::bug_kind_name(*m.expected.bug)
                                     << "\n" << r.report();
    EXPECT_EQ(r.found->kind, *m.expected.bug) << r.report();
  } else {
    EXPECT_TRUE(r.ok()) << r.report();
    if (must_complete) {
      EXPECT_TRUE(r.complete) << m.name << ": dpor must cover every schedule\n" << r.report();
      EXPECT_EQ(r.verdict(), mc::verdict::pass);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, Models, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<case_t>& info) {
                           return std::string(info.param.m->name) + "_" +
                                  mc::strategy_name(info.param.strategy.k);
                         });

TEST(ModelRegistry, HasTheClassicModels) {
  for (const char* name : {"counter_unsynchronized", "counter_mutex", "deadlock_abba", "deadlock_ordered",
                           "withdraw_check_then_act", "withdraw_locked", "condvar_no_predicate",
                           "condvar_predicate", "semaphore_pool", "queue_producer_consumer",
                           "queue_unbounded_wait", "counter_locked", "counter_striped", "counter_owned",
                           "counter_atomic", "rwlock_readers_writer_reader_preferring",
                           "rwlock_readers_writer_writer_preferring", "rwlock_readers_writer_fair",
                           "future_callback_once", "pool_shutdown", "recursive_unlock_foreign",
                           "livelock_polite", "livelock_polite_ordered", "busy_wait_spin", "busy_wait_relax",
                           "rwlock_reader_preferring_starvation", "rwlock_writer_preferring_no_starvation",
                           "rwlock_fair_no_starvation", "counter_plain_race", "counter_plain_locked"})
    EXPECT_NE(mc::find_model(name), nullptr) << name;
}

}  // namespace

namespace {

// Every model (but those whose bug ends the process) under dfs and dpor, one
// job, at most 100,000 executions each: run once, read by the tests below.
struct model_run {
  const mc::model* m;
  mc::result dfs, dpor;
};

// A search of model m with strategy s, up to max_executions, on one job.
mc::options search_options(const mc::model& m, mc::strategy_spec s, std::uint64_t max_executions) {
  mc::options o;
  o.strategy = std::move(s);
  o.honour_env = false;
  o.max_executions = max_executions;
  o.jobs = 1;
  if (m.settings.max_steps != 0) o.max_steps = m.settings.max_steps;
  o.fair_scheduling = m.settings.fair_scheduling;
  return o;
}

const std::vector<model_run>& model_runs() {
  static const std::vector<model_run> runs = [] {
    std::vector<model_run> out;
    for (const mc::model& m : mc::models()) {
      if (m.settings.ends_process) continue;  // checked in a child by Models.GetsItsExpectedVerdict
      auto run = [&](mc::strategy_spec s) { return mc::explore(search_options(m, std::move(s), 100000), m.body); };
      out.push_back({&m, run(mc::dfs()), run(mc::dpor())});
    }
    return out;
  }();
  return runs;
}

// dpor and dfs agree on every verdict of every registered model, and when
// both cover a model completely, dpor never needs more executions.
TEST(DporAgreesWithDfs, OnEveryRegisteredModel) {
  for (const model_run& run : model_runs()) {
    const mc::result& a = run.dfs;
    const mc::result& b = run.dpor;
    const char* name = run.m->name;
    EXPECT_EQ(a.found.has_value(), b.found.has_value()) << name << "\n" << a.report() << b.report();
    if (a.found && b.found) {
      EXPECT_EQ(a.found->kind, b.found->kind) << name;
    }
    if (a.complete && !a.found) {
      EXPECT_TRUE(b.complete) << name;
      EXPECT_LE(b.executions, a.executions) << name;
    }
  }
}

// The verdicts and execution counts above, as recorded in
// tests/model_counts.txt: a change to how the checker is built inside must
// leave every one as it is. A change meant to alter them (a new model, a
// stronger reduction) records the table anew and says why in its commit:
//   LOCKSTEP_RECORD_COUNTS=1 ./build/tests/test_models --gtest_filter=ModelCounts.*
std::string count_line(const char* model, const char* strategy, const mc::result& r) {
  return std::string(model) + " " + strategy + " " + (r.found ? mc::bug_kind_name(r.found->kind) : "pass") + " " +
         (r.complete ? "complete" : "incomplete") + " " + std::to_string(r.executions);
}

TEST(ModelCounts, EveryModelKeepsItsRecordedVerdictAndExecutionCount) {
  const std::string path = std::string(LOCKSTEP_TESTS_DIR) + "/model_counts.txt";
  std::vector<std::string> now;
  for (const model_run& run : model_runs()) {
    now.push_back(count_line(run.m->name, "dfs", run.dfs));
    now.push_back(count_line(run.m->name, "dpor", run.dpor));
  }
  if (std::getenv("LOCKSTEP_RECORD_COUNTS") != nullptr) {
    std::ofstream out(path);
    out << "# model strategy verdict coverage executions (dfs and dpor, one job, at most 100,000 executions)\n";
    for (const std::string& l : now) out << l << "\n";
    ASSERT_TRUE(out.good()) << "cannot write " << path;
    GTEST_SKIP() << "recorded " << now.size() << " lines in " << path;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "cannot read " << path;
  std::vector<std::string> recorded;
  for (std::string l; std::getline(in, l);)
    if (!l.empty() && l[0] != '#') recorded.push_back(l);
  std::string diff;
  for (const std::string& l : now)
    if (std::find(recorded.begin(), recorded.end(), l) == recorded.end()) diff += "  now:      " + l + "\n";
  for (const std::string& l : recorded)
    if (std::find(now.begin(), now.end(), l) == now.end()) diff += "  recorded: " + l + "\n";
  EXPECT_TRUE(diff.empty()) << "verdicts or execution counts changed:\n" << diff;
}

// dpor split shallow (options::split_depth), on 2 jobs and as 3 shards
// (the third on 2 jobs), reaches dpor's one-job verdict on every model it
// covers: the split then falls inside the models' steps, waits, crashes and
// value choices, where the default depth leaves most of them in the top.
TEST(SplitSearches, ReachTheVerdictOfOneJobOnEveryModel) {
  for (const model_run& run : model_runs()) {
    const mc::result& one = run.dpor;
    if (!one.complete && !one.found) continue;  // not covered on one job
    const char* name = run.m->name;
    for (const std::size_t depth : {1, 3}) {
      mc::options o = search_options(*run.m, mc::dpor(), 400000);
      o.split_depth = depth;
      o.trace_dir = "-";
      const std::string at = std::string(name) + ", split " + std::to_string(depth) + " deep";
      o.jobs = 2;
      const mc::result two = mc::explore(o, run.m->body);
      ASSERT_EQ(two.found.has_value(), one.found.has_value()) << at << " on 2 jobs\n" << two.report();
      if (one.found) {
        EXPECT_EQ(two.found->kind, one.found->kind) << at << " on 2 jobs\n" << two.report();
      } else {
        EXPECT_TRUE(two.complete) << at << " on 2 jobs\n" << two.report();
      }
      bool found = false, covered = true;
      for (unsigned i = 0; i < 3; ++i) {
        o.shard_index = i;
        o.shard_count = 3;
        o.jobs = i == 2 ? 2 : 1;
        const mc::result r = mc::explore(o, run.m->body);
        if (r.found) {
          found = true;
          EXPECT_TRUE(one.found && r.found->kind == one.found->kind) << at << ", shard " << i << "\n" << r.report();
        }
        covered = covered && r.shard_complete;
      }
      EXPECT_EQ(found, one.found.has_value()) << at << " as 3 shards";
      if (!one.found) {
        EXPECT_TRUE(covered) << at << " as 3 shards";
      }
    }
  }
}

// Random sampling with lean executions (options::lean_sampling) runs what
// it runs with every execution in full, on every model: the same executions
// and steps, the same first bug with the same report, on one job and on two.
// (A model whose bug ends the process is checked by the Models tests, whose
// random runs are lean where they can be.)
TEST(LeanSampling, RunsWhatFullSamplingRunsOnEveryModel) {
  for (const mc::model& m : mc::models()) {
    if (m.settings.ends_process) continue;
    for (const unsigned jobs : {1u, 2u}) {
      const std::string at = std::string(m.name) + " on " + std::to_string(jobs) + " job(s)";
      auto run = [&](bool lean) {
        mc::options o = search_options(m, mc::random(11), 3000);
        o.jobs = jobs;
        o.trace_dir = "-";
        o.lean_sampling = lean;
        return mc::explore(o, m.body);
      };
      const mc::result full = run(false);
      const mc::result lean = run(true);
      EXPECT_EQ(lean.executions, full.executions) << at;
      EXPECT_EQ(lean.steps, full.steps) << at;
      ASSERT_EQ(lean.found.has_value(), full.found.has_value()) << at << "\n" << lean.report();
      if (full.found) {
        EXPECT_EQ(lean.found->kind, full.found->kind) << at;
        EXPECT_EQ(lean.found->execution, full.found->execution) << at;
        EXPECT_EQ(lean.found->schedule, full.found->schedule) << at;
        EXPECT_EQ(lean.found->message, full.found->message) << at;
        EXPECT_EQ(lean.found->details, full.found->details) << at;
      }
    }
  }
}

// Random sampling of `executions` from `seed`, lean or every execution in
// full, with no environment, shrinking or trace files.
mc::options sampling(std::uint64_t seed, std::uint64_t executions, bool keep_going, bool lean) {
  mc::options o;
  o.strategy = mc::random(seed);
  o.max_executions = executions;
  o.keep_going = keep_going;
  o.honour_env = false;
  o.shrink = false;
  o.trace_dir = "-";
  o.lean_sampling = lean;
  return o;
}

// A lean execution keeps the names given and the locks held in lists of
// fixed room; one that needs more stops and runs in full. Here 120 names
// and 40 locks held at once (and a lost update on some schedules): the
// search must still end as with every execution in full.
TEST(LeanSampling, AnExecutionThatOutgrowsItsListsRunsInFull) {
  const auto body = [] {
    std::vector<std::unique_ptr<mc::atomic<int>>> counts;
    for (int i = 0; i < 80; ++i) {
      counts.push_back(std::make_unique<mc::atomic<int>>(0));
      mc::name(counts.back().get(), "count");
    }
    std::vector<std::unique_ptr<mc::mutex>> locks;
    for (int i = 0; i < 40; ++i) locks.push_back(std::make_unique<mc::mutex>("lock"));
    mc::thread t([&] { counts[0]->store(counts[0]->load() + 1); });
    counts[0]->store(counts[0]->load() + 1);
    for (auto& l : locks) l->lock();
    for (auto l = locks.rbegin(); l != locks.rend(); ++l) (*l)->unlock();
    t.join();
    LOCKSTEP_ASSERT(counts[0]->load() == 2);
  };
  for (const bool keep_going : {false, true}) {
    auto run = [&](bool lean) {
      mc::options o = sampling(5, 400, keep_going, lean);
      std::uint64_t bugs = 0;
      o.on_execution = [&](const mc::bug* b) { bugs += b != nullptr; };
      mc::result r = mc::explore(o, body);
      return std::pair{std::move(r), bugs};
    };
    const auto [full, full_bugs] = run(false);
    const auto [lean, lean_bugs] = run(true);
    ASSERT_TRUE(full.found.has_value()) << "the lost update should show up in 400 random executions";
    EXPECT_GT(full_bugs, 0u);
    EXPECT_EQ(lean_bugs, full_bugs);
    EXPECT_EQ(lean.executions, full.executions);
    EXPECT_EQ(lean.steps, full.steps);
    ASSERT_TRUE(lean.found.has_value());
    EXPECT_EQ(lean.found->kind, full.found->kind);
    EXPECT_EQ(lean.found->execution, full.found->execution);
    EXPECT_EQ(lean.found->schedule, full.found->schedule);
    EXPECT_EQ(lean.found->message, full.found->message);
    EXPECT_EQ(lean.found->details, full.found->details);
  }
}

// A lean execution checks plain memory for races with its own clocks, which
// must never order more than a full execution's do. Here `data` is written
// by a before its seq_cst store of 1 to x, and read by main when it loads 2,
// b's store: under rc11 a load synchronises with the store it reads (and
// the read-modify-writes after it), not with the stores before that one,
// so after a's store, b's and main's load the read races with a's write.
// Clocks kept per atomic object, joined at every store, would order it and
// pass those executions. Execution by execution, lean sampling must find
// what full sampling finds; also with more plain locations than a lean
// execution has room for (those executions run in full).
TEST(LeanSampling, FindsTheRacesFullSamplingFinds) {
  for (const int extra : {0, 70}) {
    const auto body = [extra] {
      std::vector<std::unique_ptr<mc::shared<int>>> more;
      for (int i = 0; i < extra; ++i) more.push_back(std::make_unique<mc::shared<int>>(0));
      mc::shared<int> data{0};
      mc::atomic<int> x{0};
      mc::thread a([&] {
        for (auto& p : more) p->store(1);
        data.store(1);
        x.store(1);
      });
      mc::thread b([&] { x.store(2); });
      if (x.load() == 2) (void)data.load();
      a.join();
      b.join();
    };
    auto run = [&](bool lean) {
      mc::options o = sampling(3, 600, true, lean);
      std::vector<bool> bugs;
      o.on_execution = [&](const mc::bug* b) { bugs.push_back(b != nullptr && b->kind == mc::bug_kind::data_race); };
      mc::result r = mc::explore(o, body);
      return std::pair{std::move(r), bugs};
    };
    const auto [full, full_bugs] = run(false);
    const auto [lean, lean_bugs] = run(true);
    const std::string at = std::to_string(extra) + " more plain locations";
    ASSERT_TRUE(full.found.has_value()) << at;
    EXPECT_EQ(full.found->kind, mc::bug_kind::data_race) << at;
    EXPECT_GT(std::count(full_bugs.begin(), full_bugs.end(), true), 10) << at;
    EXPECT_EQ(lean_bugs, full_bugs) << at;
    EXPECT_EQ(lean.executions, full.executions) << at;
    EXPECT_EQ(lean.steps, full.steps) << at;
    ASSERT_TRUE(lean.found.has_value()) << at;
    EXPECT_EQ(lean.found->execution, full.found->execution) << at;
    EXPECT_EQ(lean.found->message, full.found->message) << at;
    EXPECT_EQ(lean.found->details, full.found->details) << at;
  }
}

// Where the lean and full paths part most, each execution must still end as
// in full. Under rc11 an atomic made where another one was is a new
// location, whose first message orders nothing (lean clocks kept by address
// alone carried the old atomic's over, and hid the race on p). With the
// race detector on, a full execution keeps the memory model from its first
// step, where a weak compare-exchange that may fail spuriously is a choice
// (a lean one made none, and followed other choices from there).
template <class Body>
std::pair<std::vector<std::string>, std::uint64_t> ends_of(const Body& body, bool lean,
                                                           std::uint32_t spurious = 0) {
  mc::options o = sampling(7, 200, true, lean);
  o.spurious_cas_failures = spurious;
  std::vector<std::string> ends;
  o.on_execution = [&](const mc::bug* b) { ends.push_back(b == nullptr ? "pass" : mc::bug_kind_name(b->kind)); };
  const mc::result r = mc::explore(o, body);
  return {ends, r.steps};
}

template <bool Plain>
void expect_weak_cas_choice_on_both_paths() {
  const auto weak_cas = [] {
    if constexpr (Plain) {
      mc::shared<int> d{0};
      d.store(1);  // the race detector is on from here
    }
    mc::atomic<int> x{0};
    int expected = 0;
    LOCKSTEP_ASSERT(x.compare_exchange_weak(expected, 1));
  };
  const auto full = ends_of(weak_cas, false, 1);
  EXPECT_GT(std::count(full.first.begin(), full.first.end(), "assertion"), 50) << "plain memory: " << Plain;
  EXPECT_GT(std::count(full.first.begin(), full.first.end(), "pass"), 50) << "plain memory: " << Plain;
  EXPECT_EQ(ends_of(weak_cas, true, 1), full) << "plain memory: " << Plain;
}

TEST(LeanSampling, EndsEachExecutionAsFullSamplingWhereThePathsPart) {
  alignas(mc::atomic<int>) static unsigned char place[sizeof(mc::atomic<int>)];
  const auto reused = [] {
    mc::shared<int> p{0};
    mc::thread a([&] {
      p.store(1);
      auto* x = new (place) mc::atomic<int>(0);
      x->store(1);
      x->~atomic();
    });
    mc::thread b([&] {
      auto* y = new (place) mc::atomic<int>(0);
      (void)y->load();
      (void)p.load();
      y->~atomic();
    });
    a.join();
    b.join();
  };
  const auto full = ends_of(reused, false);
  EXPECT_EQ(std::count(full.first.begin(), full.first.end(), "data_race"), 200);
  EXPECT_EQ(ends_of(reused, true), full);

  // A spurious weak-CAS failure is a choice on both paths, with plain memory
  // touched (the race detector on) and without it (a full execution builds
  // its views at the weak CAS, where the choice is made; a lean one, not
  // stopping, made none and passed every time).
  expect_weak_cas_choice_on_both_paths<true>();
  expect_weak_cas_choice_on_both_paths<false>();
}

}  // namespace
