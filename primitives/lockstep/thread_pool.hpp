// lockstep/thread_pool.hpp — a fixed pool of worker threads with futures.
//
// Contract:
//   basic_thread_pool<P> pool(n)   starts n workers (P::thread: std::jthread
//                                  in production, mc::thread under the checker)
//   pool.submit(f, args...)        queues f(args...) (decay-copied) and
//                                  returns a basic_future of its result; the
//                                  future carries f's exception to get().
//                                  After shutdown it throws pool_closed.
//   pool.map(f, range)             f on every element, results in the
//                                  range's order (the first exception, in
//                                  that order, is rethrown). The tasks call
//                                  f by reference, so map returns or throws
//                                  only once every task it submitted has
//                                  finished (or was cancelled).
//   pool.shutdown(wait, cancel_pending)
//                                  no new tasks; cancel_pending cancels the
//                                  queued tasks that no worker has started
//                                  (their futures report cancelled); wait
//                                  joins the workers, which first finish
//                                  every task not cancelled. Idempotent.
// The destructor is shutdown(true, false).
//
// Memory ordering: submit happens-before the task runs; the task's
// completion happens-before the future observes it.
//
// Who may call what: any thread may submit; shutdown must not be called from
// a worker (it would join itself).
//
// Lifetime: every task holds only what it captured; futures outlive the pool
// safely.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <memory>
#include <source_location>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "lockstep/bounded_queue.hpp"
#include "lockstep/future.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/platform.hpp"

namespace lockstep {

class pool_closed : public std::runtime_error {
 public:
  pool_closed() : std::runtime_error("lockstep: submit() to a thread_pool that was shut down") {}
};

template <class P = os_platform>
class basic_thread_pool {
 public:
  using loc = std::source_location;

  explicit basic_thread_pool(std::size_t threads, const loc& where = loc::current())
      : queue_(static_cast<std::size_t>(-1) / 2, where) {
    if (threads == 0) P::misuse(this, "a thread_pool needs at least one thread", where);
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  basic_thread_pool(const basic_thread_pool&) = delete;
  basic_thread_pool& operator=(const basic_thread_pool&) = delete;
  ~basic_thread_pool() { shutdown(true, false); }

  template <class F, class... Args>
  auto submit(F&& f, Args&&... args) {
    using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
    auto t = std::make_unique<task<R, std::decay_t<F>, std::decay_t<Args>...>>(
        std::forward<F>(f), std::forward<Args>(args)...);
    basic_future<R, P> fut(t->state);
    if (!queue_.put(std::unique_ptr<task_base>(std::move(t)))) throw pool_closed();
    return fut;
  }

  template <class F, class Range>
  auto map(F&& f, const Range& r) {
    using E = decltype(*std::begin(r));
    using R = std::invoke_result_t<F&, E>;
    static_assert(!std::is_void_v<R>, "map() needs a function that returns a value");
    std::vector<basic_future<R, P>> fs;
    // Every task calls f through a reference: wait for all of them before
    // leaving, also when a submit throws (pool_closed) or a task failed.
    try {
      for (auto&& e : r) fs.push_back(submit(std::ref(f), e));
    } catch (...) {
      for (auto& fut : fs) fut.wait();
      throw;
    }
    for (auto& fut : fs) fut.wait();
    std::vector<R> out;
    out.reserve(fs.size());
    for (auto& fut : fs) out.push_back(fut.get());
    return out;
  }

  void shutdown(bool wait = true, bool cancel_pending = false, const loc& where = loc::current()) {
    const typename P::release_scope releasing;  // the destructor's path
    queue_.close(where);  // workers drain what is left, then stop
    if (cancel_pending) {
      while (auto t = queue_.try_get(where)) (*t)->cancel(where);
    }
    if (wait) {
      // Two shutdowns at once must not both find a worker joinable and both
      // join it (undefined for std::jthread: in practice a hang): the first
      // joins them, the others wait for it to be done.
      std::scoped_lock g(join_m_);
      for (auto& w : workers_)
        if (w.joinable()) w.join();
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return workers_.size(); }

 private:
  struct task_base {
    virtual ~task_base() = default;
    virtual void run() = 0;
    virtual void cancel(const loc& where) = 0;
  };

  template <class R, class F, class... Args>
  struct task final : task_base {
    template <class G, class... A>
    explicit task(G&& g, A&&... a)
        : state(std::make_shared<detail::future_state<R, P>>()),
          f(std::forward<G>(g)),
          args(std::forward<A>(a)...) {}

    void run() override {
      const loc here = loc::current();
      if (!state->start(here)) return;  // cancelled while queued
      std::exception_ptr error;
      try {
        if constexpr (std::is_void_v<R>) {
          std::apply(f, std::move(args));
          state->set_value(here);
        } else {
          state->set_value(here, std::apply(f, std::move(args)));
        }
        return;
      } catch (...) {
        error = std::current_exception();
      }
      // Published once the catch block has ended: this thread has let go of
      // the exception before the future's owner may see (and free) it.
      state->set_exception(std::move(error), here);
    }
    void cancel(const loc& where) override { state->cancel(where); }

    std::shared_ptr<detail::future_state<R, P>> state;
    F f;
    std::tuple<Args...> args;
  };

  void work() {
    while (auto t = queue_.get()) (*t)->run();
  }

  basic_bounded_queue<std::unique_ptr<task_base>, P> queue_;
  std::vector<typename P::thread> workers_;
  basic_mutex<P> join_m_;  // held while a shutdown joins the workers
};

extern template class basic_thread_pool<os_platform>;
using thread_pool = basic_thread_pool<>;

}  // namespace lockstep
