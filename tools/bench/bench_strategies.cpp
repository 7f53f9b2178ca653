// bench_strategies — what each exploration strategy costs and buys, on the
// registered models (see README.md for the numbers and the command).
//
//   rate/<strategy>/<model>        executions per second (counter exec/s)
//   completion/<strategy>/<model>  executions dfs and dpor need to cover a
//                                  model (counters executions, complete)
//   first_bug/<strategy>/<model>   executions and time to the first bug,
//                                  averaged over 20 seeds for random and pct
//   jobs/random/queue_producer_consumer/<n>
//                                  random with n worker threads (exec/s)
//   jobs/<strategy>/<program>/<n>  one complete source-dpor or dpor search
//                                  of redis_lock_fenced under fair scheduling
//                                  (its own setting is off: its search is
//                                  small then) or of sections(4, 3), and
//                                  dfs on semaphore_pool (2,000,000
//                                  executions), on n worker threads (time per
//                                  search; counters executions, complete)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"
#include "sections.hpp"

namespace {

namespace mc = lockstep::mc;

mc::options opts(const mc::model& m, mc::strategy_spec s, std::uint64_t max_executions) {
  mc::options o;
  o.strategy = std::move(s);
  o.max_executions = max_executions;
  o.honour_env = false;
  o.name = m.name;
  if (m.settings.max_steps != 0) o.max_steps = m.settings.max_steps;
  o.fair_scheduling = m.settings.fair_scheduling;
  return o;
}

mc::strategy_spec spec(const std::string& name, std::uint64_t seed) {
  if (name == "dfs") return mc::dfs();
  if (name == "dpor") return mc::dpor();
  if (name == "pct") return mc::pct(seed, 3);
  return mc::random(seed);
}

void rate(benchmark::State& state, const mc::model* m, std::string strategy) {
  std::uint64_t executions = 0;
  double seconds = 0;
  for (auto _ : state) {
    const auto r = mc::explore(opts(*m, spec(strategy, 1), 5000), m->body);
    executions += r.executions;
    seconds += r.seconds;
  }
  state.counters["exec/s"] = static_cast<double>(executions) / seconds;
}

void completion(benchmark::State& state, const mc::model* m, std::string strategy) {
  mc::result r;
  for (auto _ : state) r = mc::explore(opts(*m, spec(strategy, 1), 2000000), m->body);
  state.counters["executions"] = static_cast<double>(r.executions);
  state.counters["complete"] = r.complete ? 1 : 0;
}

void first_bug(benchmark::State& state, const mc::model* m, std::string strategy) {
  const bool sampled = strategy == "random" || strategy == "pct";
  const int seeds = sampled ? 20 : 1;
  double executions = 0, found = 0, seconds = 0;
  for (auto _ : state) {
    for (int s = 1; s <= seeds; ++s) {
      const auto r = mc::explore(opts(*m, spec(strategy, static_cast<std::uint64_t>(s)), 1000000), m->body);
      executions += static_cast<double>(r.found ? r.found->execution : r.executions);
      found += r.found ? 1 : 0;
      seconds += r.seconds;
    }
  }
  const double runs = static_cast<double>(state.iterations()) * seeds;
  state.counters["executions"] = executions / runs;
  state.counters["found"] = found / runs;
  state.counters["us/search"] = 1e6 * seconds / runs;
}

void jobs(benchmark::State& state, const mc::model* m) {
  std::uint64_t executions = 0;
  double seconds = 0;
  for (auto _ : state) {
    mc::options o = opts(*m, mc::random(1), 20000);
    o.jobs = static_cast<unsigned>(state.range(0));
    const auto r = mc::explore(o, m->body);
    executions += r.executions;
    seconds += r.seconds;
  }
  state.counters["exec/s"] = static_cast<double>(executions) / seconds;
}

mc::strategy_spec exhaustive(const std::string& name) {
  if (name == "dfs") return mc::dfs();
  if (name == "source-dpor") return mc::source_dpor();
  return mc::dpor();
}

using lockstep::testing::sections;  // tests/sections.hpp

// One complete search per iteration, on range(0) jobs.
void jobs_search(benchmark::State& state, mc::options o, void (*body)(const void*), const void* arg) {
  mc::result r;
  o.jobs = static_cast<unsigned>(state.range(0));
  for (auto _ : state) r = mc::explore(o, [&] { body(arg); });
  state.counters["executions"] = static_cast<double>(r.executions);
  state.counters["complete"] = r.complete ? 1 : 0;
}

struct sections_args {
  int threads, each;
};

void register_jobs() {
  if (const mc::model* q = mc::find_model("queue_producer_consumer"))
    benchmark::RegisterBenchmark("jobs/random/queue_producer_consumer", jobs, q)
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  static const sections_args four_by_three{4, 3};
  for (const char* s : {"source-dpor", "dpor"}) {
    for (const char* name : {"redis_lock_fenced"}) {
      const mc::model* m = mc::find_model(name);
      if (m == nullptr) continue;
      mc::options fair = opts(*m, exhaustive(s), 100000000);
      fair.fair_scheduling = true;
      benchmark::RegisterBenchmark((std::string("jobs/") + s + "/" + name + "_fair").c_str(), jobs_search, fair,
                                   [](const void* a) { static_cast<const mc::model*>(a)->body(); }, m)
          ->Arg(1)
          ->Arg(2)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
    mc::options o;
    o.strategy = exhaustive(s);
    o.max_executions = 100000000;
    o.honour_env = false;
    benchmark::RegisterBenchmark((std::string("jobs/") + s + "/sections_4x3").c_str(), jobs_search, o,
                                 [](const void* a) {
                                   const auto* p = static_cast<const sections_args*>(a);
                                   sections(p->threads, p->each);
                                 },
                                 &four_by_three)
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  if (const mc::model* m = mc::find_model("semaphore_pool"))
    benchmark::RegisterBenchmark("jobs/dfs/semaphore_pool", jobs_search, opts(*m, mc::dfs(), 2000000),
                                 [](const void* a) { static_cast<const mc::model*>(a)->body(); }, m)
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
}

void register_all() {
  for (const mc::model& m : mc::models()) {
    // A bug that ends the process (a crash, a stack overflow, a hang the
    // watchdog ends) would end the benchmark program with it.
    if (m.settings.ends_process) continue;
    for (const char* s : {"random", "pct", "dfs", "dpor"})
      benchmark::RegisterBenchmark((std::string("rate/") + s + "/" + m.name).c_str(), rate, &m, s)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    if (!m.expected.bug) {
      for (const char* s : {"dfs", "dpor"})
        benchmark::RegisterBenchmark((std::string("completion/") + s + "/" + m.name).c_str(), completion,
                                     &m, s)
            ->Unit(benchmark::kMillisecond)
            ->Iterations(1)
            ->UseRealTime();
    } else {
      for (const char* s : {"random", "pct", "dfs", "dpor"})
        benchmark::RegisterBenchmark((std::string("first_bug/") + s + "/" + m.name).c_str(), first_bug,
                                     &m, s)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    }
  }
  register_jobs();
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
