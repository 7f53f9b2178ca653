// lockstep/lin.hpp on shared_mutex, future/promise and thread_pool: the gates
// pass, and the same specifications (gates/*.hpp) catch broken versions of
// each type, built here on checked primitives, with a short history:
//   a reader-writer lock whose lock_shared checks and enters in two steps
//   (a reader inside with the writer), one whose unlock forgets the waiting
//   readers (a lost wake-up), one whose try_lock ignores the readers inside,
//   one whose try_lock_shared always fails;
//   a promise whose set_value wakes nobody, a future whose callbacks can run
//   twice; a pool whose shutdown drops the queued tasks, one that takes
//   tasks after its shutdown.
// Each broken type also comes without its flaw, checked against the same
// specification, so that what fails is the flaw, not the toy.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <lockstep/lin.hpp>
#include <lockstep/lockstep.hpp>

#include "gates/future.hpp"
#include "gates/shared_mutex.hpp"
#include "gates/thread_pool.hpp"
#include "lin_testing.hpp"

namespace lin = lockstep::lin;
namespace mc = lockstep::mc;
namespace gates = lockstep::gates;

namespace {

using namespace lockstep::lin_testing;


// ---------------------------------------------------------------------------
// shared_mutex

TEST(LinSharedMutex, GatesPass) {
  // Two threads of two sections, and three threads of one (a holder and two
  // waiters: where the policies differ, a phase-fair hand-over among them).
  for (const char* name :
       {"shared_mutex", "shared_mutex_reader_preferring", "shared_mutex_writer_preferring"}) {
    expect_gate_passes(name, quick(40, 2, 2));
    // Some of these scenarios take dpor more than 200,000 executions since
    // it lets a step cross a yield into the yielder's next window
    // (frame::yield_wakes, dpor.cpp): shared_mutex's 25 take 2.6 million.
    lockstep::lin::settings three = quick(25, 3, 1);
    three.max_executions = 3000000;
    expect_gate_passes(name, three);
  }
}

enum class rw_flaw { none, check_then_act, lost_wakeup, try_ignores_readers, try_shared_fails };

// A reader-preferring lock on a mutex and two condition variables, with
// std::shared_mutex's interface, and one flaw.
template <rw_flaw F>
class toy_rwlock {
 public:
  void lock() {
    std::unique_lock g(m_);
    writers_cv_.wait(g, [&] { return !writer_ && readers_ == 0; });
    writer_ = true;
  }
  bool try_lock() {
    std::scoped_lock g(m_);
    if (writer_ || (F != rw_flaw::try_ignores_readers && readers_ != 0)) return false;
    writer_ = true;
    return true;
  }
  // A release path, as the production locks' are: it often runs in a guard's
  // destructor, where the abort of a failed execution must not throw.
  void unlock() {
    const mc::platform::release_scope releasing;
    {
      std::scoped_lock g(m_);
      writer_ = false;
    }
    writers_cv_.notify_one();
    if constexpr (F != rw_flaw::lost_wakeup) readers_cv_.notify_all();  // the flaw: readers stay asleep
  }
  void lock_shared() {
    std::unique_lock g(m_);
    readers_cv_.wait(g, [&] { return !writer_; });
    if constexpr (F == rw_flaw::check_then_act) {
      // The flaw: the check and the entry in two critical sections; a writer
      // may get in between.
      g.unlock();
      g.lock();
    }
    ++readers_;
  }
  bool try_lock_shared() {
    std::scoped_lock g(m_);
    if (writer_ || F == rw_flaw::try_shared_fails) return false;  // the flaw: never succeeds
    ++readers_;
    return true;
  }
  void unlock_shared() {
    const mc::platform::release_scope releasing;
    bool last = false;
    {
      std::scoped_lock g(m_);
      last = --readers_ == 0;
    }
    if (last) writers_cv_.notify_one();
  }

 private:
  mc::mutex m_;
  mc::condition_variable writers_cv_, readers_cv_;
  bool writer_ = false;
  int readers_ = 0;
};

// With mc::atomic cells every access is a scheduling point: the history shows
// the overlap. (With the gates' mc::shared cells the race detector reports it
// first: see CheckThenActReaderIsARace.)
template <rw_flaw F>
using toy_rw = gates::rw_object<toy_rwlock<F>, mc::atomic<int>>;

TEST(LinSharedMutex, ToyWithoutFlawPasses) {
  // With atomic cells, and (much cheaper: no scheduling points in the
  // sections) with the gates' plain ones.
  const auto spec = gates::shared_mutex_spec<toy_rw<rw_flaw::none>>("toy_rwlock");
  const lin::outcome o = lin::check(spec, quick(4, 2, 2));
  EXPECT_TRUE(o.ok()) << o.report;
  const auto plain = gates::shared_mutex_spec<gates::rw_object<toy_rwlock<rw_flaw::none>>>("toy_rwlock");
  const lin::outcome o2 = lin::check(plain, quick(30, 2, 2));
  EXPECT_TRUE(o2.ok()) << o2.report;
  const lin::outcome o3 = lin::check(plain, quick(8, 3, 1));
  EXPECT_TRUE(o3.ok()) << o3.report;
  std::printf("  %s\n  %s\n  %s\n", lin::detail::summary(o, quick(4, 2, 2)).c_str(),
              lin::detail::summary(o2, quick(30, 2, 2)).c_str(),
              lin::detail::summary(o3, quick(8, 3, 1)).c_str());
}

TEST(LinSharedMutex, CheckThenActReaderIsCaught) {
  const auto spec = gates::shared_mutex_spec<toy_rw<rw_flaw::check_then_act>>("check_then_act_rwlock");
  const lin::outcome o = lin::check(spec, quick(100));
  expect_caught(o, "not linearizable: ", 3);
  // A reader inside with the writer sees one cell written and not the other,
  // or the value from before a write that returned.
  EXPECT_NE(o.report.find("read() -> "), std::string::npos) << o.report;
}

TEST(LinSharedMutex, CheckThenActReaderIsARace) {
  // The gates' own object type: the protected cells are plain memory.
  using obj = gates::rw_object<toy_rwlock<rw_flaw::check_then_act>>;
  const lin::outcome o = lin::check(gates::shared_mutex_spec<obj>("check_then_act_rwlock"), quick(100));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.report.find("data_race"), std::string::npos) << o.report;
  EXPECT_NE(o.report.find("shared_mutex.hpp"), std::string::npos) << o.report;
}

TEST(LinSharedMutex, LostWakeupIsCaught) {
  using obj = gates::rw_object<toy_rwlock<rw_flaw::lost_wakeup>>;
  const lin::outcome o = lin::check(gates::shared_mutex_spec<obj>("lost_wakeup_rwlock"), quick(100));
  expect_caught(o, "waits forever, although the specification lets it proceed", 3);
  EXPECT_NE(o.report.find("read() waits forever"), std::string::npos) << o.report;
}

TEST(LinSharedMutex, TryLockIgnoringReadersIsCaught) {
  const auto spec = gates::shared_mutex_spec<toy_rw<rw_flaw::try_ignores_readers>>("try_ignores_readers");
  const lin::outcome o = lin::check(spec, quick(100));
  expect_caught(o, "not linearizable: ", 3);
  EXPECT_NE(o.report.find("try_write("), std::string::npos) << o.report;
}

TEST(LinSharedMutex, TryLockSharedThatAlwaysFailsIsCaught) {
  // std lets a try fail spuriously, but not consistently on a free lock: the
  // gate's try_read retries after a yield, and under fair scheduling a retry
  // that never succeeds is a livelock (not a history: nothing returns).
  using obj = gates::rw_object<toy_rwlock<rw_flaw::try_shared_fails>>;
  const lin::outcome o = lin::check(gates::shared_mutex_spec<obj>("try_shared_fails"), quick(100));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.report.find("livelock"), std::string::npos) << o.report;
  EXPECT_NE(o.report.find("shared_mutex.hpp"), std::string::npos) << o.report;  // the retry loop
}

// ---------------------------------------------------------------------------
// future and promise

TEST(LinFuture, GatePasses) {
  // One of these scenarios takes dpor more than 200,000 executions since it
  // lets a step cross a yield into the yielder's next window
  // (frame::yield_wakes, dpor.cpp): the 80 take 315,136.
  lockstep::lin::settings two_by_three = quick(80);
  two_by_three.max_executions = 1000000;
  expect_gate_passes("future", two_by_three);
  expect_gate_passes("future", quick(60, 3, 1));  // e.g. two callbacks added while a third thread completes
}

enum class future_flaw { none, lost_notify, double_callback };

// A promise and future in one object, on a mutex and a condition variable,
// with promise_future's interface (gates/future.hpp), and one flaw.
template <future_flaw F>
class toy_future {
 public:
  bool set_value(int v) { return settle(state::value, v); }
  bool set_exception() { return settle(state::error, 0); }
  bool abandon() { return settle(state::broken, 0); }

  int get() {
    std::unique_lock g(m_);
    ready_.wait(g, [&] { return st_ != state::pending; });
    return take();
  }
  std::optional<int> get_for() {
    std::unique_lock g(m_);
    if (taken_) throw gates::already_taken();
    if (!ready_.wait_for(g, std::chrono::milliseconds(1), [&] { return st_ != state::pending; })) return {};
    return take();
  }
  bool cancel() {
    std::unique_lock g(m_);
    if (st_ == state::cancelled) return true;
    if (st_ != state::pending) return false;
    st_ = state::cancelled;
    finish(g);
    return true;
  }
  bool done() {
    std::scoped_lock g(m_);
    return st_ != state::pending;
  }
  bool cancelled() {
    std::scoped_lock g(m_);
    return st_ == state::cancelled;
  }
  void add_callback() {
    registered_.fetch_add(1);
    std::function<void()> f = [this] { runs_.fetch_add(1); };
    if constexpr (F == future_flaw::double_callback) {
      // The flaw: registered, then the state checked in a second critical
      // section: a completion in between runs it, and so does this call.
      {
        std::scoped_lock g(m_);
        callbacks_.push_back(f);
      }
      bool finished = false;
      {
        std::scoped_lock g(m_);
        finished = st_ != state::pending;
      }
      if (finished) f();
    } else {
      {
        std::scoped_lock g(m_);
        if (st_ == state::pending) {
          callbacks_.push_back(std::move(f));
          return;
        }
      }
      f();
    }
  }
  int callbacks() {
    {
      std::unique_lock g(m_);
      ready_.wait(g, [&] { return st_ != state::pending; });
    }
    for (;;) {
      const int runs = runs_.load();
      if (runs >= registered_.load()) return runs;
      mc::this_thread::yield();
    }
  }

 private:
  enum class state { pending, value, error, broken, cancelled };

  bool settle(state s, int v) {
    std::unique_lock g(m_);
    if (std::exchange(promised_, true)) return false;
    if (st_ != state::pending) return true;  // cancelled: dropped
    st_ = s;
    value_ = v;
    finish(g);
    return true;
  }
  // Wakes the waiters (unless the flaw is a lost notify and a value came),
  // then runs the callbacks outside the lock.
  void finish(std::unique_lock<mc::mutex>& g) {
    std::vector<std::function<void()>> cbs = std::move(callbacks_);
    callbacks_.clear();
    const bool wake = F != future_flaw::lost_notify || st_ == state::cancelled;
    g.unlock();
    if (wake) ready_.notify_all();
    for (auto& f : cbs) f();
  }
  int take() {
    if (std::exchange(taken_, true)) throw gates::already_taken();
    switch (st_) {
      case state::value: return value_;
      case state::error: throw std::runtime_error("boom");
      case state::broken: throw std::future_error(std::future_errc::broken_promise);
      default: throw lockstep::cancelled_error();
    }
  }

  mc::atomic<int> registered_{0}, runs_{0};
  mc::mutex m_;
  mc::condition_variable ready_;
  state st_ = state::pending;
  int value_ = 0;
  bool promised_ = false, taken_ = false;
  std::vector<std::function<void()>> callbacks_;
};

TEST(LinFuture, ToyWithoutFlawPasses) {
  const lin::outcome o =
      lin::check(gates::future_spec<toy_future<future_flaw::none>>("toy_future"), quick(30));
  EXPECT_TRUE(o.ok()) << o.report;
}

TEST(LinFuture, LostNotifyIsCaught) {
  const lin::outcome o =
      lin::check(gates::future_spec<toy_future<future_flaw::lost_notify>>("lost_notify_future"), quick(100));
  expect_caught(o, "waits forever, although the specification lets it proceed", 3);
  EXPECT_NE(o.report.find("set_value("), std::string::npos) << o.report;
}

TEST(LinFuture, DoubleCallbackIsCaught) {
  const auto spec = gates::future_spec<toy_future<future_flaw::double_callback>>("double_callback_future");
  const lin::outcome o = lin::check(spec, quick(100));
  expect_caught(o, "not linearizable: ", 4);
  EXPECT_NE(o.report.find("callbacks() -> 2"), std::string::npos) << o.report;
}

// ---------------------------------------------------------------------------
// thread_pool

TEST(LinThreadPool, GatePasses) {
  // A pool is expensive to explore (its worker, queue and futures): two
  // threads of two operations already take tens of thousands of executions.
  lin::settings st = quick(8, 2, 2);
  st.init_ops = 1;
  expect_gate_passes("thread_pool", st);
}

TEST(LinThreadPool, TwoWorkersBounded) {
  // Two workers taking tasks from one queue: every interleaving is out of
  // reach (three submit_waits in a row already pass 200,000 executions), so
  // the schedules with at most one preemption.
  using obj = gates::pool_object<mc::thread_pool>;
  lin::settings st = quick(20, 2, 2);
  st.explore.preemption_bound = 1;
  const lin::outcome o = lin::check(gates::thread_pool_spec<obj>("thread_pool_2_workers", 2), st);
  EXPECT_TRUE(o.ok()) << o.report;
  std::printf("  %s\n", lin::detail::summary(o, st).c_str());
}

enum class pool_flaw { none, drops_queued, accepts_after_close };

// A pool on a mutex, a condition variable and a deque of jobs, with
// thread_pool's submit and shutdown (for tasks returning int), and one flaw.
template <pool_flaw F>
class toy_pool {
 public:
  explicit toy_pool(std::size_t workers) {
    for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
  }
  toy_pool(const toy_pool&) = delete;
  toy_pool& operator=(const toy_pool&) = delete;
  ~toy_pool() { shutdown(true, false); }

  template <class Fn>
  mc::future<int> submit(Fn fn) {
    auto j = std::make_unique<job>();
    j->fn = std::move(fn);
    mc::future<int> f = j->p.get_future();
    {
      std::scoped_lock g(m_);
      // The flaw: no check.
      if (closed_ && F != pool_flaw::accepts_after_close) throw lockstep::pool_closed();
      queue_.push_back(std::move(j));
    }
    cv_.notify_one();
    return f;
  }

  void shutdown(bool wait, bool cancel_pending) {
    const mc::platform::release_scope releasing;  // also the destructor's path
    std::deque<std::unique_ptr<job>> taken;
    {
      std::scoped_lock g(m_);
      closed_ = true;
      // The flaw: the queued jobs go whether cancel_pending says so or not.
      if (cancel_pending || F == pool_flaw::drops_queued) taken.swap(queue_);
    }
    cv_.notify_all();
    if (cancel_pending)
      for (auto& j : taken) j->p.state()->cancel(std::source_location::current());
    taken.clear();  // a job dropped uncancelled breaks its promise
    if (wait)
      for (auto& w : workers_)
        if (w.joinable()) w.join();
  }

 private:
  struct job {
    mc::promise<int> p;
    std::function<int()> fn;
  };

  void work() {
    for (;;) {
      std::unique_ptr<job> j;
      {
        std::unique_lock g(m_);
        cv_.wait(g, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        j = std::move(queue_.front());
        queue_.pop_front();
      }
      if (j->p.state()->start(std::source_location::current())) j->p.set_value(j->fn());
    }
  }

  mc::mutex m_;
  mc::condition_variable cv_;
  std::deque<std::unique_ptr<job>> queue_;
  bool closed_ = false;
  std::vector<mc::thread> workers_;
};

// The broken pools' checks stop each scenario at 20,000 executions: the toy
// pool, on a condition variable that may wake spuriously, takes more than the
// production one, and a failure found early is shrunk through candidates
// that pass (each explored to the bound).
lin::settings toy_pool_settings(unsigned scenarios) {
  lin::settings st = quick(scenarios, 2, 2);
  st.init_ops = 1;
  st.max_executions = 20000;
  return st;
}

TEST(LinThreadPool, ToyWithoutFlawPasses) {
  const lin::settings st = toy_pool_settings(8);
  const lin::outcome o =
      lin::check(gates::thread_pool_spec<gates::pool_object<toy_pool<pool_flaw::none>>>("toy_pool"), st);
  EXPECT_TRUE(o.ok()) << o.report;
}

TEST(LinThreadPool, ShutdownDroppingQueuedTasksIsCaught) {
  const lin::settings st = toy_pool_settings(50);
  using obj = gates::pool_object<toy_pool<pool_flaw::drops_queued>>;
  const lin::outcome o = lin::check(gates::thread_pool_spec<obj>("drops_queued_pool"), st);
  expect_caught(o, "not linearizable: ", 3);
  // A dropped task's promise is broken.
  const std::string broken = std::future_error(std::future_errc::broken_promise).what();
  EXPECT_NE(o.report.find(broken), std::string::npos) << o.report;
}

TEST(LinThreadPool, SubmitAfterShutdownIsCaught) {
  const lin::settings st = toy_pool_settings(50);
  using obj = gates::pool_object<toy_pool<pool_flaw::accepts_after_close>>;
  const lin::outcome o = lin::check(gates::thread_pool_spec<obj>("open_after_close_pool"), st);
  expect_caught(o, "not linearizable: ", 3);
  // The submit is accepted where the specification refuses it.
  EXPECT_NE(o.report.find("throws lockstep: submit() to a thread_pool that was shut down"), std::string::npos)
      << o.report;
}

}  // namespace
