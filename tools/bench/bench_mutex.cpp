// bench_mutex — lockstep::mutex (production platform) against std::mutex, and
// against plain_futex_mutex: the same three-state futex algorithm written by
// hand directly on std::atomic and the futex system call, with no platform
// seam, no annotations and no source_location parameters. lockstep::mutex
// costing the same as plain_futex_mutex is the benchmark half of "the
// production instantiation pays nothing for the seam"; seam_asm.sh compares
// their machine code (the seam_* functions below).
//
// main() starts and joins one thread before running the benchmarks (see
// bench_util.hpp); pass --single_threaded_process to skip that and see
// glibc's single-threaded shortcut (run the uncontended benchmarks only, or
// they follow the contended ones, which create threads). The "mt_process"
// counter shows which case a result was measured in.
//
// "ns/op" is wall-clock nanoseconds per lock+unlock pair over all threads
// (for the 2-thread runs the Time column is the same quantity: benchmark
// divides each thread's wall time by the iterations of all threads).
#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "lockstep/mutex.hpp"

#include "bench_util.hpp"
#include "stopwatch.hpp"

namespace lockstep::bench {

// Drepper's three-state futex mutex (0 unlocked, 1 locked, 2 locked and
// maybe contended), the algorithm of lockstep/detail/futex_lock.hpp with the
// same spin (SpinLimit x pause; os_platform::lock_spin_limit is 0) before
// sleeping, written the way one would without lockstep: std::atomic, raw
// futex calls, nothing else. plain_futex_mutex is the seam comparison;
// spinning_futex_mutex (100 spins, what lockstep::mutex did before) is a
// diagnostic for the contended benchmarks, see README.md.
template <int SpinLimit>
class basic_plain_futex_mutex {
 public:
  void lock() {
    std::uint32_t c = 0;
    if (!w_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed))
      lock_contended(c);
  }
  void unlock() {
    const std::uint32_t prev = w_.exchange(0, std::memory_order_release);
    if (prev == 2) {
      ::syscall(SYS_futex, &w_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    } else if (prev == 0) {
      misuse(this, "unlock of a mutex that is not locked");
    }
  }

 private:
  [[noreturn, gnu::noinline]] static void misuse(const void* m, const char* what) {
    std::fprintf(stderr, "plain_futex_mutex %p: %s\n", m, what);
    std::abort();
  }
  void lock_contended(std::uint32_t c) {
    for (int spins = 0; spins < SpinLimit && c != 0; ++spins) {
      __builtin_ia32_pause();
      c = w_.load(std::memory_order_relaxed);
      if (c == 0 &&
          w_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed))
        return;
    }
    if (c != 2) c = w_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      ::syscall(SYS_futex, &w_, FUTEX_WAIT_PRIVATE, 2, nullptr, nullptr, 0);
      c = w_.exchange(2, std::memory_order_acquire);
    }
  }

  std::atomic<std::uint32_t> w_{0};
};
using plain_futex_mutex = basic_plain_futex_mutex<lockstep::os_platform::lock_spin_limit>;
using spinning_futex_mutex = basic_plain_futex_mutex<100>;

// Out-of-line copies of the two uncontended paths, kept (gnu::used) only so
// that seam_asm.sh can put their machine code side by side.
[[gnu::noinline, gnu::used]] void seam_lock_lockstep(lockstep::mutex& m) { m.lock(); }
[[gnu::noinline, gnu::used]] void seam_unlock_lockstep(lockstep::mutex& m) { m.unlock(); }
[[gnu::noinline, gnu::used]] void seam_lock_plain(plain_futex_mutex& m) { m.lock(); }
[[gnu::noinline, gnu::used]] void seam_unlock_plain(plain_futex_mutex& m) { m.unlock(); }

}  // namespace lockstep::bench

namespace {

using lockstep::bench::cpu_pin;
using lockstep::bench::spinning_futex_mutex;
using lockstep::bench::plain_futex_mutex;
using lockstep::bench::report_ns_per_op;
using lockstep::bench::stopwatch;

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
BENCHMARK_TEMPLATE(BM_uncontended, plain_futex_mutex);

// Two threads hammer one mutex around a tiny critical section. The mutex and
// the counter it guards share one cache line and nothing else does: contended
// figures depend on that layout (with the counter on another line, or an
// unrelated hot variable on the mutex's line, the ratios change), so it is
// fixed here rather than left to the linker.
template <class M>
struct alignas(128) shared_state {
  M m;
  std::uint64_t counter = 0;
};
template <class M>
shared_state<M> shared;

template <class M>
void contended_loop(benchmark::State& state) {
  shared_state<M>& s = shared<M>;
  const stopwatch sw;
  for (auto _ : state) {
    s.m.lock();
    benchmark::DoNotOptimize(++s.counter);
    s.m.unlock();
  }
  report_ns_per_op(state, sw.ns());
}

// Placement left to the kernel: bimodal (see bench_util.hpp).
template <class M>
void BM_contended(benchmark::State& state) {
  contended_loop<M>(state);
}

// Thread i on CPU i: both threads run at once, real contention.
template <class M>
void BM_contended_2cpu(benchmark::State& state) {
  const cpu_pin pin(state.thread_index());
  if (!pin.ok()) state.SkipWithError("needs 2 CPUs");
  contended_loop<M>(state);
}

// Both threads on one CPU: time-sliced, contended only when a thread is
// preempted inside its critical section.
template <class M>
void BM_contended_1cpu(benchmark::State& state) {
  const cpu_pin pin(0);
  if (!pin.ok()) state.SkipWithError("cannot pin");
  contended_loop<M>(state);
}

BENCHMARK_TEMPLATE(BM_contended, std::mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended, lockstep::mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended, plain_futex_mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended, spinning_futex_mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended_2cpu, std::mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended_2cpu, lockstep::mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended_2cpu, plain_futex_mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended_2cpu, spinning_futex_mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended_1cpu, std::mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended_1cpu, lockstep::mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended_1cpu, plain_futex_mutex)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_contended_1cpu, spinning_futex_mutex)->Threads(2)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return lockstep::bench::run_benchmarks(argc, argv); }
