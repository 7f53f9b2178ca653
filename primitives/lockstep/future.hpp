// lockstep/future.hpp — promises, futures, completion callbacks.
//
// Contract: a basic_promise<T, P> sets a value or an exception once; its
// basic_future<T, P> (from get_future(), once) reads it:
//   get()              waits, then returns the value (moved out) or throws
//                      the stored exception; a second get() is misuse
//   get_for(d)         waits at most d: nullopt (void: false) on timeout,
//                      leaving the result in place for a later get
//   wait(), wait_for(d)
//   done()             a result is in, or the future was cancelled
//   cancel()           succeeds only while the work has not started (a
//                      thread_pool task still queued; a bare promise's
//                      future while no result is in); get() then throws
//                      lockstep::cancelled_error, and a result the promise
//                      sets afterwards is dropped (not misuse: the promise's
//                      owner cannot know it lost the race)
//   add_done_callback(f)
//                      f() runs exactly once: on the thread that completes
//                      or cancels the future, or at once on the caller's
//                      thread if it is already done. Callbacks must not throw.
// A promise destroyed without a result stores std::future_error
// (broken_promise), as std does. as_completed(futures) visits futures in the
// order they complete; those already done when it is called come first, in
// index order.
//
// Memory ordering: setting the result happens-before every get(), wait() or
// done() that observes it, and before each callback runs.
//
// Who may call what: one thread at a time per future object (copying is not
// offered); any thread may complete the promise.
//
// Lifetime: the shared state lives until both sides are gone; callbacks are
// destroyed with it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "lockstep/bounded_queue.hpp"
#include "lockstep/event.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/platform.hpp"

namespace lockstep {

// Thrown by get() on a cancelled future.
class cancelled_error : public std::runtime_error {
 public:
  cancelled_error() : std::runtime_error("lockstep: the future was cancelled") {}
};

namespace detail {

template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// The state a promise (or a pool task) shares with its future.
template <class T, class P>
class future_state {
 public:
  using loc = std::source_location;
  enum class status : std::uint8_t { pending, running, done, cancelled };

  // pending -> running; false if it was cancelled first.
  bool start(const loc& where) {
    std::unique_lock g = lock(where);
    if (status_ != status::pending) return false;
    status_ = status::running;
    return true;
  }

  // Setting a result is a release path (promises are often completed from
  // destructors and scope guards); so are abandon and cancel.
  template <class... V>
  void set_value(const loc& where, V&&... v) {
    const typename P::release_scope releasing;
    std::unique_lock g = lock(where);
    if (status_ == status::cancelled) return;  // dropped (see cancel())
    if (finished()) return unlock_then_misuse(g, "a promise was satisfied twice", where);
    value_.emplace(std::forward<V>(v)...);
    finish(g, status::done, where);
  }
  void set_exception(std::exception_ptr e, const loc& where) {
    const typename P::release_scope releasing;
    std::unique_lock g = lock(where);
    if (status_ == status::cancelled) return;  // dropped (see cancel())
    if (finished()) return unlock_then_misuse(g, "a promise was satisfied twice", where);
    error_ = std::move(e);
    finish(g, status::done, where);
  }
  // Stores broken_promise unless a result is in (a promise's destructor).
  void abandon(const loc& where) {
    const typename P::release_scope releasing;
    std::unique_lock g = lock(where);
    if (finished()) return;
    error_ = std::make_exception_ptr(std::future_error(std::future_errc::broken_promise));
    finish(g, status::done, where);
  }

  bool cancel(const loc& where) {
    const typename P::release_scope releasing;
    std::unique_lock g = lock(where);
    if (status_ == status::cancelled) return true;
    if (status_ != status::pending) return false;
    finish(g, status::cancelled, where);
    return true;
  }

  bool done() const { return ready_.is_set(); }
  bool cancelled(const loc& where) {
    std::unique_lock g = lock(where);
    return status_ == status::cancelled;
  }
  void wait(const loc& where) { ready_.wait(where); }
  bool wait_until(typename P::clock::time_point deadline, const loc& where) {
    return ready_.wait_until(deadline, where);
  }

  // After wait(): the value, moved out, or the stored exception thrown.
  T take(const loc& where) {
    std::unique_lock g = lock(where);
    if (status_ == status::cancelled) throw cancelled_error();
    if (retrieved_) {
      g.unlock();
      P::misuse(this, "get() on a future whose result was already taken", where);
      throw std::future_error(std::future_errc::future_already_retrieved);
    }
    retrieved_ = true;
    // Moved out like a value: the exception is then released by the thread
    // that caught it, not by whichever side drops the shared state last. (The
    // exception's reference count lives in the uninstrumented C++ runtime, so
    // ThreadSanitizer cannot see that a release there is ordered after the
    // catching thread's reads, and reports a race that is not there.)
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    if constexpr (!std::is_void_v<T>) return std::move(*value_);
  }

  void add_done_callback(std::function<void()> f, const loc& where) {
    std::unique_lock g = lock(where);
    if (!finished()) {
      callbacks_.push_back(std::move(f));
      return;
    }
    g.unlock();
    f();
  }

  // For as_completed, which locks every state it watches at once (in address
  // order) so that none can finish meanwhile: with the lock held, whether the
  // state is finished, and if not, f is kept to run when it finishes.
  // Creation order: a global lock order among states (as_completed locks
  // several). Not addresses: those differ between the checker's executions,
  // and the order must not.
  [[nodiscard]] std::uint64_t order() const noexcept { return order_; }
  void lock_for_cut(const loc& where) { m_.lock(where); }
  void unlock_after_cut(const loc& where) { m_.unlock(where); }
  [[nodiscard]] bool finished_or_keep(std::function<void()>& f) {
    if (finished()) return true;
    callbacks_.push_back(std::move(f));
    return false;
  }

 private:
  std::unique_lock<basic_mutex<P>> lock(const loc& where) {
    m_.lock(where);
    return std::unique_lock<basic_mutex<P>>(m_, std::adopt_lock);
  }
  bool finished() const noexcept { return status_ == status::done || status_ == status::cancelled; }

  // Publishes the result, then runs the callbacks outside the lock. ready_ is
  // set before the unlock: a callback added right after it runs at once on
  // its caller's thread, and done() must already be true there.
  void finish(std::unique_lock<basic_mutex<P>>& g, status s, const loc& where) {
    status_ = s;
    std::vector<std::function<void()>> cbs = std::move(callbacks_);
    callbacks_.clear();
    ready_.set(where);
    g.unlock();
    for (auto& f : cbs) f();
  }

  void unlock_then_misuse(std::unique_lock<basic_mutex<P>>& g, const char* what, const loc& where) {
    g.unlock();
    P::misuse(this, what, where);
  }

  static std::uint64_t next_order() noexcept {
    static std::atomic<std::uint64_t> n{0};
    return n.fetch_add(1, std::memory_order_relaxed);
  }

  const std::uint64_t order_ = next_order();
  basic_event<P> ready_;  // set once the result is in or the future is cancelled
  basic_mutex<P> m_;
  status status_ = status::pending;
  bool retrieved_ = false;
  std::optional<stored_t<T>> value_;
  std::exception_ptr error_;
  std::vector<std::function<void()>> callbacks_;
};

}  // namespace detail

template <class T, class P>
class completion_order;

template <class T, class P = os_platform>
class basic_future {
 public:
  using loc = std::source_location;
  using get_for_result = std::conditional_t<std::is_void_v<T>, bool, std::optional<T>>;

  basic_future() noexcept = default;
  explicit basic_future(std::shared_ptr<detail::future_state<T, P>> s) noexcept : s_(std::move(s)) {}

  [[nodiscard]] bool valid() const noexcept { return s_ != nullptr; }

  T get(const loc& where = loc::current()) {
    check(where);
    s_->wait(where);
    return s_->take(where);
  }

  template <class Rep, class Period>
  get_for_result get_for(const std::chrono::duration<Rep, Period>& d, const loc& where = loc::current()) {
    check(where);
    if (!s_->wait_until(detail::deadline_after<P>(d), where)) return get_for_result{};
    if constexpr (std::is_void_v<T>) {
      s_->take(where);
      return true;
    } else {
      return get_for_result(s_->take(where));
    }
  }

  void wait(const loc& where = loc::current()) const {
    check(where);
    s_->wait(where);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(const std::chrono::duration<Rep, Period>& d,
                              const loc& where = loc::current()) const {
    check(where);
    return s_->wait_until(detail::deadline_after<P>(d), where);
  }

  [[nodiscard]] bool done(const loc& where = loc::current()) const {
    check(where);
    return s_->done();
  }
  [[nodiscard]] bool cancelled(const loc& where = loc::current()) const {
    check(where);
    return s_->cancelled(where);
  }
  bool cancel(const loc& where = loc::current()) {
    check(where);
    return s_->cancel(where);
  }

  template <class F>
  void add_done_callback(F&& f, const loc& where = loc::current()) {
    check(where);
    s_->add_done_callback(std::function<void()>(std::forward<F>(f)), where);
  }

 private:
  friend class completion_order<T, P>;

  void check(const loc& where) const {
    if (s_ == nullptr) {
      P::misuse(this, "use of a future that has no shared state", where);
      throw std::future_error(std::future_errc::no_state);
    }
  }

  std::shared_ptr<detail::future_state<T, P>> s_;
};

template <class T, class P = os_platform>
class basic_promise {
 public:
  using loc = std::source_location;

  basic_promise() : s_(std::make_shared<detail::future_state<T, P>>()) {}
  basic_promise(basic_promise&&) noexcept = default;
  basic_promise& operator=(basic_promise&& o) noexcept {
    if (this != &o) {
      abandon();
      s_ = std::move(o.s_);
      future_taken_ = o.future_taken_;
    }
    return *this;
  }
  ~basic_promise() { abandon(); }

  basic_future<T, P> get_future(const loc& where = loc::current()) {
    if (future_taken_) {
      P::misuse(this, "get_future() called twice on one promise", where);
      throw std::future_error(std::future_errc::future_already_retrieved);
    }
    future_taken_ = true;
    return basic_future<T, P>(s_);
  }

  template <class... V>
    requires(std::is_void_v<T> ? sizeof...(V) == 0 : sizeof...(V) == 1)
  void set_value(V&&... v) {
    s_->set_value(loc::current(), std::forward<V>(v)...);
  }
  void set_exception(std::exception_ptr e, const loc& where = loc::current()) {
    s_->set_exception(std::move(e), where);
  }

  // The shared state (for executors that run the work themselves).
  const std::shared_ptr<detail::future_state<T, P>>& state() const noexcept { return s_; }

 private:
  void abandon() noexcept {
    if (s_ == nullptr || s_.use_count() == 1) return;  // no future can observe it
    try {
      s_->abandon(loc::current());
    } catch (...) {  // the checker unwinding a failed execution
    }
  }

  std::shared_ptr<detail::future_state<T, P>> s_;
  bool future_taken_ = false;
};

// Visits futures in the order they complete:
//   for (auto& f : as_completed(futures)) use(f.get());
// The futures must outlive the iteration.
//
// The call is one moment for all of them: with every shared state locked (in
// address order) none can finish, so the futures done by then are queued at
// once, in index order, and each other one queues itself from its done
// callback, in the order they finish. (Registering callbacks one future at a
// time instead lets one that finished before the call be queued after one
// that finished during it.)
template <class T, class P>
class completion_order {
 public:
  explicit completion_order(std::span<basic_future<T, P>> fs)
      : fs_(fs), done_(std::make_shared<basic_bounded_queue<std::size_t, P>>(fs.size() + 1)) {
    const auto where = std::source_location::current();
    std::vector<detail::future_state<T, P>*> states;
    states.reserve(fs.size());
    for (auto& f : fs) {
      f.check(where);
      states.push_back(f.s_.get());
    }
    std::sort(states.begin(), states.end(), [](auto* a, auto* b) { return a->order() < b->order(); });
    states.erase(std::unique(states.begin(), states.end()), states.end());
    struct unlock_held {  // also when the checker unwinds a failed execution
      std::vector<detail::future_state<T, P>*>& states;
      std::size_t held;
      const std::source_location& where;
      ~unlock_held() {
        while (held > 0) states[--held]->unlock_after_cut(where);
      }
    } cut{states, 0, where};
    for (auto* s : states) {
      s->lock_for_cut(where);
      ++cut.held;
    }
    for (std::size_t i = 0; i < fs.size(); ++i) {
      std::function<void()> report = [q = done_, i] { (void)q->try_put(i); };
      if (fs[i].s_->finished_or_keep(report)) report();
    }
  }

  class iterator {
   public:
    using value_type = basic_future<T, P>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(completion_order* o, std::size_t left) : o_(o), left_(left), at_end_(false) {
      advance();
    }
    basic_future<T, P>& operator*() const { return o_->fs_[cur_]; }
    basic_future<T, P>* operator->() const { return &o_->fs_[cur_]; }
    iterator& operator++() {
      advance();
      return *this;
    }
    bool operator==(const iterator& b) const {
      return at_end_ == b.at_end_ && (at_end_ || left_ == b.left_);
    }

   private:
    void advance() {
      if (left_ == 0) {
        at_end_ = true;
        return;
      }
      --left_;
      cur_ = *o_->done_->get();
    }
    completion_order* o_ = nullptr;
    std::size_t left_ = 0;
    std::size_t cur_ = 0;
    bool at_end_ = true;
  };

  // Single pass: begin() once.
  iterator begin() { return iterator(this, fs_.size()); }
  iterator end() { return iterator(); }

 private:
  std::span<basic_future<T, P>> fs_;
  std::shared_ptr<basic_bounded_queue<std::size_t, P>> done_;
};

template <class T, class P>
completion_order<T, P> as_completed(std::span<basic_future<T, P>> fs) {
  return completion_order<T, P>(fs);
}
template <class T, class P>
completion_order<T, P> as_completed(std::vector<basic_future<T, P>>& fs) {
  return completion_order<T, P>(std::span<basic_future<T, P>>(fs));
}

template <class T>
using future = basic_future<T>;
template <class T>
using promise = basic_promise<T>;

}  // namespace lockstep
