// Shared by the benchmark programs that compare lockstep's production
// primitives with their std counterparts (bench_mutex, bench_primitives).
//
// glibc's pthread_mutex_lock/unlock skip their atomic instructions while the
// process has never created a thread, so std::mutex (and everything built on
// it) is much cheaper in a single-threaded process. run_benchmarks() therefore
// starts and joins one thread before it runs anything (the usual situation of
// a program that needs a mutex); --single_threaded_process skips that, to see
// glibc's shortcut. report_ns_per_op() adds an "mt_process" counter that says
// which case a result was measured in.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/single_threaded.h>

#include <cstring>
#include <thread>

namespace lockstep::bench {

// Every thread runs the same number of iterations over about the same wall
// time; averaging elapsed / (iterations * threads) over the threads gives
// the wall time per operation of the whole group.
inline void report_ns_per_op(benchmark::State& state, double ns) {
  const double ops = static_cast<double>(state.iterations()) * state.threads();
  state.counters["ns/op"] = benchmark::Counter(ns / ops, benchmark::Counter::kAvgThreads);
  state.counters["mt_process"] =
      benchmark::Counter(__libc_single_threaded ? 0 : 1, benchmark::Counter::kAvgThreads);
}

// main() of a benchmark program (see the comment at the top).
inline int run_benchmarks(int argc, char** argv) {
  bool single_threaded = false;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--single_threaded_process") == 0) {
      single_threaded = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (!single_threaded) std::thread([] {}).join();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace lockstep::bench
