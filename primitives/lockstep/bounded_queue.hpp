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
// (not empty, not full, all done). Waits loop on their predicate. A
// platform with a native monitor (monitor_platform in
// lockstep/platform_concept.hpp: the checker's) runs each operation as one
// step of it instead, told which of the queue's fields it reads and writes
// (items, unfinished count, closed flag), so the checker knows which earlier
// operation a step waited for; the mutex and condition variables then go
// unused.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <type_traits>
#include <source_location>
#include <utility>

#include "lockstep/condition_variable.hpp"
#include "lockstep/detail/deadline.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/platform.hpp"
#include "lockstep/platform_concept.hpp"

namespace lockstep {

template <class T, class P = os_platform>
class basic_bounded_queue {
 public:
  using loc = std::source_location;
  using value_type = T;

  explicit basic_bounded_queue(std::size_t capacity, const loc& where = loc::current())
      : capacity_(capacity) {
    if (capacity == 0) P::misuse(this, "a bounded_queue needs a capacity of at least 1", where);
    if constexpr (native) P::named(&mon_.lock, "queue");  // its steps' object in reports
  }
  // The checker's monitor knows the queue by `this` (a thread at its step).
  ~basic_bounded_queue() {
    if constexpr (native) P::destroyed(this);
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
    if constexpr (native) {
      if (!step<&probe_try_get>(nullptr, nullptr, where)) return std::nullopt;
      const exit_guard g{*this, where};
      return take_native();
    } else {
      lock_t g = lock(where);
      return take(g, where);
    }
  }
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> get_for(const std::chrono::duration<Rep, Period>& d,
                                         const loc& where = loc::current()) {
    const auto deadline = detail::deadline_after<P>(d);
    return get_impl(&deadline, where);
  }

  void task_done(const loc& where = loc::current()) {
    const typename P::release_scope releasing;  // often in a destructor
    if constexpr (native) {
      if (!step<&probe_task_done>(nullptr, nullptr, where)) return;
      bool misused = false;
      {
        const exit_guard g{*this, where};
        misused = unfinished_ == 0;
        if (!misused) {
          --unfinished_;
          mon_.raised = false;
          mon_.drained = true;
        }
      }
      if (misused) P::misuse(this, "task_done() called more times than items were put", where);
      return;
    }
    lock_t g = lock(where);
    if (unfinished_ == 0)
      return unlock_then_misuse(g, "task_done() called more times than items were put", where);
    if (--unfinished_ == 0) all_done_.notify_all(where);
  }

  void join(const loc& where = loc::current()) {
    if constexpr (native) {
      if (step<&probe_join>(nullptr, &all_done_, where)) {
        const exit_guard g{*this, where};
      }
      return;
    }
    lock_t g = lock(where);
    all_done_.wait(g, [&] { return unfinished_ == 0; }, where);
  }

  void close(const loc& where = loc::current()) {
    const typename P::release_scope releasing;  // often in an owner's destructor
    if constexpr (native) {
      if (!step<&probe_close>(nullptr, nullptr, where)) return;
      const exit_guard g{*this, where};
      closed_ = true;
      return;
    }
    lock_t g = lock(where);
    closed_ = true;
    not_empty_.notify_all(where);
    not_full_.notify_all(where);
  }

  [[nodiscard]] bool closed(const loc& where = loc::current()) const {
    if constexpr (native) {
      auto& self = const_cast<basic_bounded_queue&>(*this);  // the monitor's words only
      if (!self.template step<&probe_closed>(nullptr, nullptr, where)) return closed_;
      const exit_guard g{self, where};
      return closed_;
    } else {
      lock_t g = lock(where);
      return closed_;
    }
  }
  [[nodiscard]] std::size_t size(const loc& where = loc::current()) const {
    if constexpr (native) {
      auto& self = const_cast<basic_bounded_queue&>(*this);
      if (!self.template step<&probe_size>(nullptr, nullptr, where)) return items_.size();
      const exit_guard g{self, where};
      return items_.size();
    } else {
      lock_t g = lock(where);
      return items_.size();
    }
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
    if constexpr (native) {
      if (!step<&probe_put>(deadline, &not_full_, where)) return false;
      const exit_guard g{*this, where};
      return push_native(std::forward<U>(v));
    }
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
    if constexpr (native) {
      if (!step<&probe_try_put>(nullptr, nullptr, where)) return false;
      const exit_guard g{*this, where};
      if (items_.size() >= capacity_) return false;
      return push_native(std::forward<U>(v));
    }
    lock_t g = lock(where);
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::forward<U>(v));
    ++unfinished_;
    not_empty_.notify_one(where);
    return true;
  }

  std::optional<T> get_impl(const time_point* deadline, const loc& where) {
    if constexpr (native) {
      if (!step<&probe_get>(deadline, &not_empty_, where)) return std::nullopt;
      const exit_guard g{*this, where};
      return take_native();
    }
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

  // -- the native monitor's path -------------------------------------------
  static constexpr bool native = monitor_platform<P>;
  // The fields a step reads and writes (monitor_state's bits).
  static constexpr std::uint8_t kItems = 1, kUnfinished = 2, kClosed = 4;
  static const basic_bounded_queue& of(const void* q) noexcept { return *static_cast<const basic_bounded_queue*>(q); }
  // A put (or try_put) on a closed queue changes nothing, yet names the
  // fields it would have written: which fields a step touches may not hang
  // on another field's value alone (see monitor_state).
  static constexpr monitor_state kPutOnClosed{true, kClosed | kItems, kItems | kUnfinished};
  static monitor_state probe_put(const void* p) noexcept {
    const basic_bounded_queue& q = of(p);
    if (q.closed_) return kPutOnClosed;
    // Into the room a get has just made in the full queue: before that get
    // it would have waited.
    if (q.items_.size() < q.capacity_)
      return {true, kClosed | kItems, kItems | kUnfinished, q.mon_.freed ? kItems : std::uint8_t{0}, q.raising()};
    return {false, kClosed | kItems, 0};  // full: a get or a close may let it go on
  }
  static monitor_state probe_try_put(const void* p) noexcept {
    const basic_bounded_queue& q = of(p);
    if (q.closed_) return kPutOnClosed;
    if (q.items_.size() < q.capacity_) return {true, kClosed | kItems, kItems | kUnfinished, 0, q.raising()};
    return {true, kClosed | kItems, 0};
  }
  static monitor_state probe_get(const void* p) noexcept {
    const basic_bounded_queue& q = of(p);
    // Taking the item a put has just added to the empty queue: before that
    // put it would have waited.
    if (!q.items_.empty()) return {true, kItems, kItems, q.mon_.filled ? kItems : std::uint8_t{0}};
    if (q.closed_) return {true, kItems | kClosed, 0, kClosed};  // empty and closed: it ends (open, it waits)
    return {false, kItems | kClosed, 0};  // empty and open: a put or a close may let it go on
  }
  static monitor_state probe_try_get(const void* p) noexcept {
    const basic_bounded_queue& q = of(p);
    return q.items_.empty() ? monitor_state{true, kItems, 0} : monitor_state{true, kItems, kItems};
  }
  static monitor_state probe_task_done(const void* p) noexcept {
    return of(p).unfinished_ == 0 ? monitor_state{true, kUnfinished, 0} : monitor_state{true, kUnfinished, kUnfinished};
  }
  static monitor_state probe_join(const void* p) noexcept {
    const basic_bounded_queue& q = of(p);
    // Returning: it needed the task_done that brought the count to 0, if
    // that was the count's last write; not a put that found the queue
    // closed, which names the count without changing it (it could have
    // come before that put).
    if (q.unfinished_ == 0) {
      const std::uint8_t after = q.mon_.drained ? kUnfinished : std::uint8_t{0};
      return {true, kUnfinished, 0, after, 0, after};
    }
    // Waiting: before the last put that raised the count from 0 it would
    // have returned; the task_dones and puts since changed nothing for it.
    return {false, kUnfinished, 0, 0, 0, q.mon_.raised ? std::uint8_t{0} : kUnfinished};
  }
  // A put raises the count of unfinished items from 0 (see monitor_state::raises).
  std::uint8_t raising() const noexcept { return unfinished_ == 0 ? kUnfinished : std::uint8_t{0}; }
  // Closing a closed queue changes nothing: it reads the flag.
  static monitor_state probe_close(const void* p) noexcept {
    return of(p).closed_ ? monitor_state{true, kClosed, 0} : monitor_state{true, 0, kClosed};
  }
  static monitor_state probe_closed(const void*) noexcept { return {true, kClosed, 0}; }
  static monitor_state probe_size(const void*) noexcept { return {true, kItems, 0}; }

  // One step of the monitor; the caller's body follows, then exit_guard's
  // exit. False: timed out, or the run is being abandoned.
  template <monitor_probe Probe>
  bool step(const time_point* deadline, const void* waits_on, const loc& where) {
    if (deadline == nullptr) return P::monitor_step(mon_.lock, mon_.seq, &holding<Probe>, this, waits_on, where);
    return P::monitor_step_until(mon_.lock, mon_.seq, &holding<Probe>, this, waits_on, *deadline, where);
  }
  // A step's probe, with what the queue holds (monitor_state::held).
  template <monitor_probe Probe>
  static monitor_state holding(const void* p) noexcept {
    monitor_state s = Probe(p);
    const basic_bounded_queue& q = of(p);
    s.held = std::min<std::uint64_t>(q.items_.size(), 0x7fffffff) | (q.closed_ ? std::uint64_t{1} << 31 : 0);
    return s;
  }
  struct exit_guard {
    basic_bounded_queue& q;
    const loc& where;
    exit_guard(basic_bounded_queue& queue, const loc& w) noexcept : q(queue), where(w) {}
    exit_guard(const exit_guard&) = delete;
    exit_guard& operator=(const exit_guard&) = delete;
    ~exit_guard() { P::monitor_exit(q.mon_.lock, q.mon_.seq, where); }
  };
  template <class U>
  bool push_native(U&& v) {
    if (closed_) {
      // It names the items and the count as written (kPutOnClosed), so it
      // is their last write: no step that reads them needed it.
      mon_.filled = mon_.freed = mon_.raised = mon_.drained = false;
      return false;
    }
    mon_.drained = false;
    mon_.filled = items_.empty();
    mon_.freed = false;
    mon_.raised = raising() != 0;
    items_.push_back(std::forward<U>(v));
    ++unfinished_;
    return true;
  }
  std::optional<T> take_native() {
    if (items_.empty()) return std::nullopt;
    mon_.freed = items_.size() == capacity_;
    mon_.filled = false;
    std::optional<T> v(std::move(items_.front()));
    items_.pop_front();
    return v;
  }
  struct monitor_words {
    typename P::template atomic<std::uint32_t> lock{0};
    typename P::template atomic<std::uint32_t> seq{0};
    // What the last change of the items was (see monitor_state::needs): a
    // put into the empty queue, a get from the full one.
    bool filled = false;
    bool freed = false;
    // And of the unfinished count: a put from 0 (see monitor_state::stale),
    // a task_done to 0 (what a join returning needed).
    bool raised = false;
    bool drained = false;
  };
  struct no_words {};

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
  [[no_unique_address]] std::conditional_t<native, monitor_words, no_words> mon_;
};

template <class T>
using bounded_queue = basic_bounded_queue<T>;

}  // namespace lockstep
