// bench_lin — what lincheck costs (see README.md, "Lincheck", for the
// numbers and the command).
//
//   gate/<type>/2x3        every registered gate: 10 scenarios of 2 threads
//                          x 3 operations, each explored by dpor (up to
//                          200,000 executions); counters scenarios/s,
//                          executions/s, the share of the time spent
//                          checking histories (check_pct), and how many
//                          scenarios were explored completely (complete)
//   gate/<type>/3x3-pct    the same at 3 threads x 3 operations, sampled:
//                          pct, 1,000 executions a scenario
//   broken/<variant>       a broken queue from tests/lin_broken_queues.hpp:
//                          scenarios and seconds until the first
//                          counterexample (before shrinking), and the whole
//                          run with shrinking
#include <benchmark/benchmark.h>

#include <string>

#include "gates/queue.hpp"
#include "lin_broken_queues.hpp"
#include "lockstep/lin.hpp"

namespace {

namespace lin = lockstep::lin;

lin::settings shape(unsigned threads, unsigned ops, unsigned scenarios) {
  lin::settings s;
  s.threads = threads;
  s.ops = ops;
  s.scenarios = scenarios;
  s.honour_env = false;
  return s;
}

void report(benchmark::State& state, const lin::outcome& o, double seconds) {
  state.counters["scenarios/s"] = o.scenarios / seconds;
  state.counters["exec/s"] = static_cast<double>(o.executions) / seconds;
  state.counters["check_pct"] = 100.0 * o.check_seconds / seconds;
  state.counters["complete"] = o.complete;
  state.counters["scenarios"] = o.scenarios;
}

void gate(benchmark::State& state, const lin::gate* g, unsigned threads, bool pct) {
  lin::outcome o;
  double seconds = 0;
  lin::settings st = shape(threads, 3, 10);
  if (pct) {
    st.strategy = lockstep::mc::pct();
    st.max_executions = 1000;
  }
  for (auto _ : state) {
    o = g->check(st);
    seconds += o.seconds;
    if (o.failed) state.SkipWithError(o.report.c_str());
  }
  report(state, o, seconds / static_cast<double>(state.iterations()));
}

template <class Q>
void broken(benchmark::State& state, const char* name, unsigned threads, unsigned ops) {
  lin::outcome o;
  for (auto _ : state) {
    o = lin::check(lockstep::gates::queue_spec<Q, false>(name, 2), shape(threads, ops, 1000));
    if (!o.failed) state.SkipWithError("the broken variant was not caught");
  }
  state.counters["to_first_scenario"] = o.failing_scenario;
  state.counters["to_first_s"] = o.first_seconds;
  state.counters["to_first_exec"] = static_cast<double>(o.first_executions);
  state.counters["with_shrink_s"] = o.seconds;
  state.counters["shrink_tries"] = o.shrink_tries;
}

const bool registered = [] {
  for (const lin::gate& g : lin::gates()) {
    for (bool pct : {false, true}) {
      const std::string name = std::string("gate/") + g.name + (pct ? "/3x3-pct" : "/2x3");
      benchmark::RegisterBenchmark(name.c_str(), gate, &g, pct ? 3u : 2u, pct)
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1);
    }
  }
  namespace b = lockstep::broken;
  benchmark::RegisterBenchmark("broken/lost_notify_queue/3x2", broken<b::lost_notify_queue>, "lost_notify_queue", 3u, 2u)
      ->Unit(benchmark::kMillisecond)->Iterations(1);
  benchmark::RegisterBenchmark("broken/ring_queue/2x3", broken<b::ring_queue>, "ring_queue", 2u, 3u)
      ->Unit(benchmark::kMillisecond)->Iterations(1);
  benchmark::RegisterBenchmark("broken/impatient_queue/2x3", broken<b::impatient_queue>, "impatient_queue", 2u, 3u)
      ->Unit(benchmark::kMillisecond)->Iterations(1);
  benchmark::RegisterBenchmark("broken/loose_size_queue/2x3", broken<b::loose_size_queue>, "loose_size_queue", 2u, 3u)
      ->Unit(benchmark::kMillisecond)->Iterations(1);
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
