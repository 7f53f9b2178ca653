// bench_mutex — lockstep::mutex (production platform) against std::mutex.
//
// glibc's pthread_mutex_lock/unlock skip the atomic instructions while the
// process has never created a thread, so std::mutex is much cheaper in a
// single-threaded process. main() therefore starts and joins one thread
// before running the benchmarks (the usual situation of a program that needs
// a mutex); pass --single_threaded_process to skip that and see glibc's
// shortcut (run the uncontended benchmarks only, or they follow the
// contended ones, which create threads). The "mt_process" counter shows
// which case a result was measured in.
//
// "ns/op" is wall-clock nanoseconds per lock+unlock pair over all threads
// (for the 2-thread runs the Time column is the same quantity: benchmark
// divides each thread's wall time by the iterations of all threads).
#include <benchmark/benchmark.h>
#include <sys/single_threaded.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>

#include "lockstep/mutex.hpp"

#include "stopwatch.hpp"

namespace {

using lockstep::bench::stopwatch;

// Every thread runs the same number of iterations over about the same wall
// time; averaging elapsed / (iterations * threads) over the threads gives
// the wall time per operation of the whole group.
void report_ns_per_op(benchmark::State& state, double ns) {
  const double ops = static_cast<double>(state.iterations()) * state.threads();
  state.counters["ns/op"] = benchmark::Counter(ns / ops, benchmark::Counter::kAvgThreads);
  state.counters["mt_process"] =
      benchmark::Counter(__libc_single_threaded ? 0 : 1, benchmark::Counter::kAvgThreads);
}

template <class M>
void BM_uncontended(benchmark::State& state) {
  M m;
  benchmark::DoNotOptimize(&m);
  const stopwatch sw;
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
  report_ns_per_op(state, sw.ns());
}
BENCHMARK_TEMPLATE(BM_uncontended, std::mutex);
BENCHMARK_TEMPLATE(BM_uncontended, lockstep::mutex);

// Two threads hammer one mutex around a tiny critical section.
template <class M>
struct shared_state {
  static inline M m;
  static inline std::uint64_t counter = 0;
};

template <class M>
void BM_contended(benchmark::State& state) {
  using S = shared_state<M>;
  const stopwatch sw;
  for (auto _ : state) {
    S::m.lock();
    benchmark::DoNotOptimize(++S::counter);
    S::m.unlock();
  }
  report_ns_per_op(state, sw.ns());
}
BENCHMARK_TEMPLATE(BM_contended, std::mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended, lockstep::mutex)->Threads(2)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
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
