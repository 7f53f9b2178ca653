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
//
// Thread placement: with 2 threads on 2 vCPUs, the kernel sometimes runs both
// benchmark threads on one vCPU for a whole run (time-sliced: the lock is
// almost never contended, ~10 ns per lock+unlock for any mutex) and sometimes
// on both (real contention, 25-40 ns), so unpinned 2-thread results are
// bimodal and a ratio between two runs can compare different situations.
// cpu_pin fixes the placement: the *_2cpu / pinned benchmarks put thread i on
// the i-th allowed CPU, the *_1cpu ones put every thread on the first.
#pragma once

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
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

// The index-th CPU of the process's affinity mask as it was at start-up
// (run_benchmarks() records it), or -1 when there are not that many.
inline cpu_set_t& startup_cpus() {
  static cpu_set_t set = [] {
    cpu_set_t s;
    CPU_ZERO(&s);
    if (sched_getaffinity(0, sizeof s, &s) != 0) CPU_SET(0, &s);
    return s;
  }();
  return set;
}
inline int nth_cpu(int index) {
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &startup_cpus()) && index-- == 0) return cpu;
  return -1;
}

// Pins the calling thread to the index-th start-up CPU while it lives, then
// restores the thread's previous mask (thread 0 of a benchmark is the main
// thread). ok() is false, and nothing changed, when there is no such CPU.
class cpu_pin {
 public:
  explicit cpu_pin(int index) {
    const int cpu = nth_cpu(index);
    if (cpu < 0 || pthread_getaffinity_np(pthread_self(), sizeof old_, &old_) != 0) return;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    ok_ = pthread_setaffinity_np(pthread_self(), sizeof s, &s) == 0;
  }
  cpu_pin(const cpu_pin&) = delete;
  cpu_pin& operator=(const cpu_pin&) = delete;
  ~cpu_pin() {
    if (ok_) pthread_setaffinity_np(pthread_self(), sizeof old_, &old_);
  }
  bool ok() const { return ok_; }

 private:
  cpu_set_t old_;
  bool ok_ = false;
};

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
  startup_cpus();
  if (!single_threaded) std::thread([] {}).join();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace lockstep::bench
