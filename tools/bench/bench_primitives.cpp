// bench_primitives — each lockstep production primitive against its std
// counterpart (lockstep::mutex itself is in bench_mutex).
//
// Names are "<case>:<impl>" (Google Benchmark appends "/real_time" and
// "/threads:N"): rows of one case differ only in <impl>, and the row whose
// impl is "std" is the baseline (ratios.py divides by it). Where std has no
// such primitive (bounded queue, thread pool) the "std" row is the same
// algorithm built from std::mutex, std::condition_variable and
// std::packaged_task; counters with no std counterpart (striped, owned) have
// no "std" row.
//
// Every benchmark reports wall-clock time (UseRealTime). For the 2-thread
// runs the Time column is wall time per operation of the whole group:
// benchmark averages the threads' wall times and divides by the iterations of
// all threads. Throughput benchmarks also report items_per_second (all
// threads together). A "round trip" (ping_pong) is one iteration: the
// benchmark thread hands a token to a partner thread and gets it back.
//
// Threads(2) benchmarks share one object: thread 0 creates it before the
// loop and destroys it after (see shared<T>).
//
// Placement (see bench_util.hpp): thread i of a Threads(N) benchmark is
// pinned to CPU i, and so are the benchmark thread (CPU 0) and its partner
// or consumer thread (CPU 1) in ping_pong and queue_spsc: two threads always
// run on two CPUs at once. Threads the primitives start themselves (pool
// workers, owned_counter's owner) are not pinned.
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lockstep/bounded_queue.hpp"
#include "lockstep/condition_variable.hpp"
#include "lockstep/counters.hpp"
#include "lockstep/future.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/recursive_mutex.hpp"
#include "lockstep/semaphore.hpp"
#include "lockstep/shared_mutex.hpp"
#include "lockstep/thread_pool.hpp"

#include "bench_util.hpp"

namespace {

using lockstep::bench::cpu_pin;

// The object a Threads(N) benchmark shares (see the top comment). Thread 0
// creates it; the others wait until it is published. Thread 0 destroys it
// after the loop: benchmark's stop barrier has then passed, every thread is
// out of its loop. It lives alone on its cache lines (box), so that no
// unrelated heap object shares a line with it.
template <class T>
struct shared {
  struct alignas(128) box {
    template <class... A>
    explicit box(A&&... a) : t(std::forward<A>(a)...) {}
    T t;
  };
  static inline std::atomic<box*> p{nullptr};
  template <class... A>
  static T& setup(benchmark::State& state, A&&... a) {
    if (state.thread_index() == 0) {
      box* b = new box(std::forward<A>(a)...);
      p.store(b, std::memory_order_release);
      return b->t;
    }
    box* b;
    while ((b = p.load(std::memory_order_acquire)) == nullptr) std::this_thread::yield();
    return b->t;
  }
  static void teardown(benchmark::State& state) {
    if (state.thread_index() == 0) delete p.exchange(nullptr, std::memory_order_relaxed);
  }
};

// ---------------------------------------------------------------- recursive_mutex

template <class M>
void BM_recursive_uncontended(benchmark::State& state) {
  M m;
  benchmark::DoNotOptimize(&m);
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
}

template <class M>
void BM_recursive_nested2(benchmark::State& state) {
  M m;
  benchmark::DoNotOptimize(&m);
  for (auto _ : state) {
    m.lock();
    m.lock();
    m.unlock();
    m.unlock();
  }
}

template <class M>
void BM_recursive_contended(benchmark::State& state) {
  struct S {
    M m;
    std::uint64_t n = 0;
  };
  const cpu_pin pin(state.thread_index());
  S& s = shared<S>::setup(state);
  for (auto _ : state) {
    s.m.lock();
    benchmark::DoNotOptimize(++s.n);
    s.m.unlock();
  }
  shared<S>::teardown(state);
}

// ---------------------------------------------------------------- semaphore

// acquire + release on a semaphore that starts at 1: used as a lock.
template <class Sem>
void BM_semaphore_uncontended(benchmark::State& state) {
  Sem sem(1);
  benchmark::DoNotOptimize(&sem);
  for (auto _ : state) {
    sem.acquire();
    sem.release();
  }
}

template <class Sem>
void BM_semaphore_contended(benchmark::State& state) {
  const cpu_pin pin(state.thread_index());
  Sem& sem = shared<Sem>::setup(state, 1);
  for (auto _ : state) {
    sem.acquire();
    sem.release();
  }
  shared<Sem>::teardown(state);
}

// One round trip: release the partner's semaphore, acquire ours.
template <class Sem>
void BM_semaphore_ping_pong(benchmark::State& state) {
  Sem ping(0), pong(0);
  std::atomic<bool> stop{false};
  const cpu_pin pin(0);
  std::thread partner([&] {
    const cpu_pin partner_pin(1);
    for (;;) {
      ping.acquire();
      if (stop.load(std::memory_order_relaxed)) return;
      pong.release();
    }
  });
  for (auto _ : state) {
    ping.release();
    pong.acquire();
  }
  stop.store(true, std::memory_order_relaxed);
  ping.release();
  partner.join();
}

// ---------------------------------------------------------------- condition_variable

template <class CV>
void BM_condvar_notify_one_no_waiter(benchmark::State& state) {
  CV cv;
  benchmark::DoNotOptimize(&cv);
  for (auto _ : state) cv.notify_one();
}

template <class CV>
void BM_condvar_notify_all_no_waiter(benchmark::State& state) {
  CV cv;
  benchmark::DoNotOptimize(&cv);
  for (auto _ : state) cv.notify_all();
}

// One round trip through a mutex, a condition variable and a turn flag;
// notify under the lock, waits with a predicate.
template <class M, class CV>
void BM_condvar_ping_pong(benchmark::State& state) {
  M m;
  CV cv;
  int turn = 0;  // 1: the partner's turn
  bool stop = false;
  const cpu_pin pin(0);
  std::thread partner([&] {
    const cpu_pin partner_pin(1);
    std::unique_lock lk(m);
    for (;;) {
      cv.wait(lk, [&] { return turn == 1 || stop; });
      if (stop) return;
      turn = 0;
      cv.notify_one();
    }
  });
  for (auto _ : state) {
    std::unique_lock lk(m);
    turn = 1;
    cv.notify_one();
    cv.wait(lk, [&] { return turn == 0; });
  }
  {
    std::unique_lock lk(m);
    stop = true;
    cv.notify_one();
  }
  partner.join();
}

// ---------------------------------------------------------------- shared_mutex

template <class SM>
void BM_shared_uncontended(benchmark::State& state) {
  SM m;
  benchmark::DoNotOptimize(&m);
  for (auto _ : state) {
    m.lock_shared();
    m.unlock_shared();
  }
}

template <class SM>
void BM_exclusive_uncontended(benchmark::State& state) {
  SM m;
  benchmark::DoNotOptimize(&m);
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
}

// Both threads read.
template <class SM>
void BM_shared_contended(benchmark::State& state) {
  struct S {
    SM m;
    std::uint64_t n = 0;
  };
  const cpu_pin pin(state.thread_index());
  S& s = shared<S>::setup(state);
  for (auto _ : state) {
    s.m.lock_shared();
    benchmark::DoNotOptimize(s.n);
    s.m.unlock_shared();
  }
  shared<S>::teardown(state);
}

// Both threads write.
template <class SM>
void BM_exclusive_contended(benchmark::State& state) {
  struct S {
    SM m;
    std::uint64_t n = 0;
  };
  const cpu_pin pin(state.thread_index());
  S& s = shared<S>::setup(state);
  for (auto _ : state) {
    s.m.lock();
    benchmark::DoNotOptimize(++s.n);
    s.m.unlock();
  }
  shared<S>::teardown(state);
}

// Thread 0 writes, thread 1 reads (where the policies differ).
template <class SM>
void BM_mixed_contended(benchmark::State& state) {
  struct S {
    SM m;
    std::uint64_t n = 0;
  };
  const cpu_pin pin(state.thread_index());
  S& s = shared<S>::setup(state);
  if (state.thread_index() == 0) {
    for (auto _ : state) {
      s.m.lock();
      benchmark::DoNotOptimize(++s.n);
      s.m.unlock();
    }
  } else {
    for (auto _ : state) {
      s.m.lock_shared();
      benchmark::DoNotOptimize(s.n);
      s.m.unlock_shared();
    }
  }
  shared<S>::teardown(state);
}

// ---------------------------------------------------------------- counters

// The std counterparts of atomic_counter and locked_counter.
class std_atomic_counter {
 public:
  void add(std::int64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
};

class std_locked_counter {
 public:
  void add(std::int64_t n = 1) {
    std::lock_guard g(m_);
    v_ += n;
  }
  std::int64_t value() const {
    std::lock_guard g(m_);
    return v_;
  }

 private:
  mutable std::mutex m_;
  std::int64_t v_ = 0;
};

// add(1) by every thread; value() checked after the loop (not timed).
template <class C>
void BM_counter_add(benchmark::State& state) {
  // Created before pinning: owned_counter's owner thread inherits the mask
  // of the thread that creates it.
  C& c = shared<C>::setup(state);
  const cpu_pin pin(state.thread_index());
  for (auto _ : state) c.add(1);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    // The stop barrier has passed: every thread's adds were made.
    const auto expect = static_cast<std::int64_t>(state.iterations()) * state.threads();
    if (c.value() != expect) state.SkipWithError("counter lost adds");
  }
  shared<C>::teardown(state);
}

// ---------------------------------------------------------------- bounded queue

// lockstep::bounded_queue's algorithm (a deque, one mutex, a condition
// variable per direction, waits on a predicate, notify under the lock) on std
// primitives: std has no bounded queue.
template <class T>
class std_bounded_queue {
 public:
  explicit std_bounded_queue(std::size_t capacity) : capacity_(capacity) {}
  bool put(T v) {
    std::unique_lock g(m_);
    not_full_.wait(g, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(v));
    not_empty_.notify_one();
    return true;
  }
  std::optional<T> get() {
    std::unique_lock g(m_);
    not_empty_.wait(g, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    std::optional<T> v(std::move(items_.front()));
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }
  void close() {
    std::unique_lock g(m_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  std::size_t capacity_;
  bool closed_ = false;
};

// One producer (the benchmark thread), one consumer thread; range(0) is the
// capacity. The items the consumer still had to drain when the loop ended
// (at most the capacity) are not timed.
template <class Q>
void BM_queue_spsc(benchmark::State& state) {
  Q q(static_cast<std::size_t>(state.range(0)));
  std::uint64_t got = 0;
  const cpu_pin pin(0);
  std::thread consumer([&] {
    const cpu_pin consumer_pin(1);
    while (auto v = q.get()) got += static_cast<std::uint64_t>(*v);
  });
  for (auto _ : state) {
    if (!q.put(1)) state.SkipWithError("put failed");
  }
  q.close();
  consumer.join();
  state.SetItemsProcessed(state.iterations());
  if (got != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("items lost");
}

// ---------------------------------------------------------------- thread pool

// The std counterpart of thread_pool: workers taking std::packaged_task from
// a std::deque under std::mutex + std::condition_variable.
class std_thread_pool {
 public:
  explicit std_thread_pool(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
  }
  ~std_thread_pool() {
    {
      std::lock_guard g(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  template <class F>
  auto submit(F f) {
    std::packaged_task<std::invoke_result_t<F>()> t(std::move(f));
    auto fut = t.get_future();
    {
      std::lock_guard g(m_);
      tasks_.emplace_back(std::move(t));
    }
    cv_.notify_one();
    return fut;
  }

 private:
  void work() {
    for (;;) {
      std::packaged_task<int()> t;
      {
        std::unique_lock g(m_);
        cv_.wait(g, [&] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        t = std::move(tasks_.front());
        tasks_.pop_front();
      }
      t();
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<int()>> tasks_;  // this benchmark's tasks return int
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Submit a trivial task, get() its result: one iteration. One worker.
template <class Pool>
void BM_pool_submit_get(benchmark::State& state) {
  Pool pool(1);
  int sum = 0;
  for (auto _ : state) sum += pool.submit([] { return 1; }).get();
  if (sum != static_cast<int>(state.iterations())) state.SkipWithError("wrong results");
}

// std::async(std::launch::async): a new thread per task.
void BM_pool_submit_get_std_async(benchmark::State& state) {
  int sum = 0;
  for (auto _ : state) sum += std::async(std::launch::async, [] { return 1; }).get();
  if (sum != static_cast<int>(state.iterations())) state.SkipWithError("wrong results");
}

// ---------------------------------------------------------------- registration

benchmark::internal::Benchmark* reg(const std::string& name, void (*fn)(benchmark::State&)) {
  return benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime();
}

void register_all() {
  using lockstep::fair;
  using lockstep::reader_preferring;
  using lockstep::writer_preferring;
  using ls_rp = lockstep::shared_mutex<reader_preferring>;
  using ls_wp = lockstep::shared_mutex<writer_preferring>;
  using ls_fair = lockstep::shared_mutex<fair>;

  reg("recursive_mutex/uncontended:std", BM_recursive_uncontended<std::recursive_mutex>);
  reg("recursive_mutex/uncontended:lockstep", BM_recursive_uncontended<lockstep::recursive_mutex>);
  reg("recursive_mutex/nested2:std", BM_recursive_nested2<std::recursive_mutex>);
  reg("recursive_mutex/nested2:lockstep", BM_recursive_nested2<lockstep::recursive_mutex>);
  reg("recursive_mutex/contended:std", BM_recursive_contended<std::recursive_mutex>)->Threads(2);
  reg("recursive_mutex/contended:lockstep", BM_recursive_contended<lockstep::recursive_mutex>)
      ->Threads(2);

  using std_sem = std::counting_semaphore<>;
  using ls_sem = lockstep::counting_semaphore<>;
  reg("semaphore/uncontended:std", BM_semaphore_uncontended<std_sem>);
  reg("semaphore/uncontended:lockstep", BM_semaphore_uncontended<ls_sem>);
  reg("semaphore/contended:std", BM_semaphore_contended<std_sem>)->Threads(2);
  reg("semaphore/contended:lockstep", BM_semaphore_contended<ls_sem>)->Threads(2);
  reg("semaphore/ping_pong:std", BM_semaphore_ping_pong<std::binary_semaphore>);
  reg("semaphore/ping_pong:lockstep", BM_semaphore_ping_pong<lockstep::binary_semaphore>);

  reg("condvar/notify_one_no_waiter:std", BM_condvar_notify_one_no_waiter<std::condition_variable>);
  reg("condvar/notify_one_no_waiter:lockstep",
      BM_condvar_notify_one_no_waiter<lockstep::condition_variable>);
  reg("condvar/notify_all_no_waiter:std", BM_condvar_notify_all_no_waiter<std::condition_variable>);
  reg("condvar/notify_all_no_waiter:lockstep",
      BM_condvar_notify_all_no_waiter<lockstep::condition_variable>);
  reg("condvar/ping_pong:std", BM_condvar_ping_pong<std::mutex, std::condition_variable>);
  reg("condvar/ping_pong:lockstep",
      BM_condvar_ping_pong<lockstep::mutex, lockstep::condition_variable>);

  reg("shared_mutex/shared_uncontended:std", BM_shared_uncontended<std::shared_mutex>);
  reg("shared_mutex/shared_uncontended:lockstep_rp", BM_shared_uncontended<ls_rp>);
  reg("shared_mutex/shared_uncontended:lockstep_wp", BM_shared_uncontended<ls_wp>);
  reg("shared_mutex/shared_uncontended:lockstep_fair", BM_shared_uncontended<ls_fair>);
  reg("shared_mutex/exclusive_uncontended:std", BM_exclusive_uncontended<std::shared_mutex>);
  reg("shared_mutex/exclusive_uncontended:lockstep_rp", BM_exclusive_uncontended<ls_rp>);
  reg("shared_mutex/exclusive_uncontended:lockstep_wp", BM_exclusive_uncontended<ls_wp>);
  reg("shared_mutex/exclusive_uncontended:lockstep_fair", BM_exclusive_uncontended<ls_fair>);
  reg("shared_mutex/shared_contended:std", BM_shared_contended<std::shared_mutex>)->Threads(2);
  reg("shared_mutex/shared_contended:lockstep_rp", BM_shared_contended<ls_rp>)->Threads(2);
  reg("shared_mutex/shared_contended:lockstep_wp", BM_shared_contended<ls_wp>)->Threads(2);
  reg("shared_mutex/shared_contended:lockstep_fair", BM_shared_contended<ls_fair>)->Threads(2);
  reg("shared_mutex/exclusive_contended:std", BM_exclusive_contended<std::shared_mutex>)->Threads(2);
  reg("shared_mutex/exclusive_contended:lockstep_rp", BM_exclusive_contended<ls_rp>)->Threads(2);
  reg("shared_mutex/exclusive_contended:lockstep_wp", BM_exclusive_contended<ls_wp>)->Threads(2);
  reg("shared_mutex/exclusive_contended:lockstep_fair", BM_exclusive_contended<ls_fair>)
      ->Threads(2);
  reg("shared_mutex/mixed_1w1r:std", BM_mixed_contended<std::shared_mutex>)->Threads(2);
  reg("shared_mutex/mixed_1w1r:lockstep_rp", BM_mixed_contended<ls_rp>)->Threads(2);
  reg("shared_mutex/mixed_1w1r:lockstep_wp", BM_mixed_contended<ls_wp>)->Threads(2);
  reg("shared_mutex/mixed_1w1r:lockstep_fair", BM_mixed_contended<ls_fair>)->Threads(2);

  reg("counter_add/atomic:std", BM_counter_add<std_atomic_counter>)->Threads(1)->Threads(2);
  reg("counter_add/atomic:lockstep", BM_counter_add<lockstep::atomic_counter>)
      ->Threads(1)
      ->Threads(2);
  reg("counter_add/locked:std", BM_counter_add<std_locked_counter>)->Threads(1)->Threads(2);
  reg("counter_add/locked:lockstep", BM_counter_add<lockstep::locked_counter>)
      ->Threads(1)
      ->Threads(2);
  reg("counter_add/striped:lockstep", BM_counter_add<lockstep::striped_counter>)
      ->Threads(1)
      ->Threads(2);
  reg("counter_add/owned:lockstep", BM_counter_add<lockstep::owned_counter>)
      ->Threads(1)
      ->Threads(2);

  reg("queue_spsc:std", BM_queue_spsc<std_bounded_queue<int>>)->Arg(1024)->Arg(1)->ArgName("cap");
  reg("queue_spsc:lockstep", BM_queue_spsc<lockstep::basic_bounded_queue<int>>)
      ->Arg(1024)
      ->Arg(1)
      ->ArgName("cap");

  reg("pool_submit_get:std", BM_pool_submit_get<std_thread_pool>);
  reg("pool_submit_get:lockstep", BM_pool_submit_get<lockstep::thread_pool>);
  reg("pool_submit_get:std_async", BM_pool_submit_get_std_async);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  return lockstep::bench::run_benchmarks(argc, argv);
}
