// lockstep/bounded_queue.hpp — a blocking FIFO queue with a capacity.
//
// Contract (Python's queue.Queue, plus close):
//   put(v)           waits while the queue is full; false if it is closed
//   try_put(v)       never waits; false if full or closed
//   put_for(v, d)    waits at most d; false on timeout or when closed
//   get()            waits while the queue is empty and open; the oldest
//                    item, or nullopt once the queue is closed and drained
//   try_get()        never waits; nullopt if empty
//   get_for(d)       waits at most d; nullopt on timeout or closed and drained
//   task_done()      marks one item taken by get as processed
//   join()           waits until every item ever put has been marked done
//   close()          puts fail from now on (blocked ones too); gets drain the
//                    remaining items, then fail
//   size(), capacity(), closed()
// The value is moved into the queue only when a put succeeds: a put that
// fails leaves its argument untouched.
//
// Memory ordering: a put happens-before the get that takes its item; a
// task_done happens-before the join it releases.
//
// Who may call what: any thread anything. More task_done() calls than items
// put is misuse (reported by the checker; in production one line on stderr
// and abort).
//
// Lifetime: no thread may be blocked in it when it is destroyed (close() it,
// then let the threads leave).
//
// Algorithm: a deque under one basic_mutex<P>, three condition variables
// (not empty, not full, all done). Waits loop on their predicate.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <source_location>
#include <utility>

#include "lockstep/condition_variable.hpp"
#include "lockstep/detail/deadline.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/platform.hpp"

namespace lockstep {

template <class T, class P = os_platform>
class basic_bounded_queue {
 public:
  using loc = std::source_location;
  using value_type = T;

  explicit basic_bounded_queue(std::size_t capacity, const loc& where = loc::current())
      : capacity_(capacity) {
    if (capacity == 0) P::misuse(this, "a bounded_queue needs a capacity of at least 1", where);
  }
  basic_bounded_queue(const basic_bounded_queue&) = delete;
  basic_bounded_queue& operator=(const basic_bounded_queue&) = delete;

  [[nodiscard]] bool put(const T& v, const loc& where = loc::current()) { return put_impl(v, nullptr, where); }
  [[nodiscard]] bool put(T&& v, const loc& where = loc::current()) {
    return put_impl(std::move(v), nullptr, where);
  }
  [[nodiscard]] bool try_put(const T& v, const loc& where = loc::current()) { return try_put_impl(v, where); }
  [[nodiscard]] bool try_put(T&& v, const loc& where = loc::current()) {
    return try_put_impl(std::move(v), where);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool put_for(const T& v, const std::chrono::duration<Rep, Period>& d,
                             const loc& where = loc::current()) {
    const auto deadline = detail::deadline_after<P>(d);
    return put_impl(v, &deadline, where);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool put_for(T&& v, const std::chrono::duration<Rep, Period>& d,
                             const loc& where = loc::current()) {
    const auto deadline = detail::deadline_after<P>(d);
    return put_impl(std::move(v), &deadline, where);
  }

  [[nodiscard]] std::optional<T> get(const loc& where = loc::current()) { return get_impl(nullptr, where); }
  [[nodiscard]] std::optional<T> try_get(const loc& where = loc::current()) {
    lock_t g = lock(where);
    return take(g, where);
  }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> get_for(const std::chrono::duration<Rep, Period>& d,
                                         const loc& where = loc::current()) {
    const auto deadline = detail::deadline_after<P>(d);
    return get_impl(&deadline, where);
  }

  void task_done(const loc& where = loc::current()) {
    const typename P::release_scope releasing;  // often in a destructor
    lock_t g = lock(where);
    if (unfinished_ == 0)
      return unlock_then_misuse(g, "task_done() called more times than items were put", where);
    if (--unfinished_ == 0) all_done_.notify_all(where);
  }

  void join(const loc& where = loc::current()) {
    lock_t g = lock(where);
    all_done_.wait(g, [&] { return unfinished_ == 0; }, where);
  }

  void close(const loc& where = loc::current()) {
    const typename P::release_scope releasing;  // often in an owner's destructor
    lock_t g = lock(where);
    closed_ = true;
    not_empty_.notify_all(where);
    not_full_.notify_all(where);
  }

  [[nodiscard]] bool closed(const loc& where = loc::current()) const {
    lock_t g = lock(where);
    return closed_;
  }
  [[nodiscard]] std::size_t size(const loc& where = loc::current()) const {
    lock_t g = lock(where);
    return items_.size();
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  using mutex_t = basic_mutex<P>;
  using lock_t = std::unique_lock<mutex_t>;
  using condition = detail::condition_core<P, false, /*Spurious=*/false>;
  using time_point = typename P::clock::time_point;

  // A put is a release path (it often hands a resource back from a
  // destructor): under the checker a failed execution's abort does not throw
  // out of it, unless the queue is full and the put would have to wait.
  template <class U>
  bool put_impl(U&& v, const time_point* deadline, const loc& where) {
    const typename P::release_scope releasing;
    lock_t g = lock(where);
    const auto ready = [&] { return closed_ || items_.size() < capacity_; };
    if (deadline == nullptr) {
      not_full_.wait(g, ready, where);
    } else if (!not_full_.wait_until(g, *deadline, ready, where)) {
      return false;
    }
    if (closed_) return false;
    items_.push_back(std::forward<U>(v));
    ++unfinished_;
    not_empty_.notify_one(where);
    return true;
  }

  template <class U>
  bool try_put_impl(U&& v, const loc& where) {
    const typename P::release_scope releasing;
    lock_t g = lock(where);
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::forward<U>(v));
    ++unfinished_;
    not_empty_.notify_one(where);
    return true;
  }

  std::optional<T> get_impl(const time_point* deadline, const loc& where) {
    lock_t g = lock(where);
    const auto ready = [&] { return closed_ || !items_.empty(); };
    if (deadline == nullptr) {
      not_empty_.wait(g, ready, where);
    } else if (!not_empty_.wait_until(g, *deadline, ready, where)) {
      return std::nullopt;
    }
    return take(g, where);
  }

  std::optional<T> take(lock_t&, const loc& where) {
    if (items_.empty()) return std::nullopt;
    std::optional<T> v(std::move(items_.front()));
    items_.pop_front();
    not_full_.notify_one(where);
    return v;
  }

  // std::unique_lock's constructor takes no location: lock, then adopt.
  lock_t lock(const loc& where) const {
    m_.lock(where);
    return lock_t(m_, std::adopt_lock);
  }

  void unlock_then_misuse(lock_t& g, const char* what, const loc& where) {
    g.unlock();
    P::misuse(this, what, where);
  }

  mutable mutex_t m_;
  // Named for reports under the checker (free in production).
  condition not_empty_{"queue not_empty"}, not_full_{"queue not_full"}, all_done_{"queue all_done"};
  std::deque<T> items_;
  std::size_t capacity_;
  std::size_t unfinished_ = 0;  // put and not yet task_done
  bool closed_ = false;
};

template <class T>
using bounded_queue = basic_bounded_queue<T>;

}  // namespace lockstep
