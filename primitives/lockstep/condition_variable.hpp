// lockstep/condition_variable.hpp — condition variables.
//
// Contract: std::condition_variable's and std::condition_variable_any's.
// `basic_condition_variable<P>` waits with a std::unique_lock on a
// basic_mutex<P>; `basic_condition_variable_any<P>` with any BasicLockable.
// wait(lock) atomically releases the lock and blocks until notified (or
// spuriously), then re-takes the lock; wait(lock, pred) loops until pred()
// holds. wait_for/wait_until give up at the timeout (virtual time under the
// checker) and return std::cv_status (or, with a predicate, pred()).
//
// Spurious wake-ups: in production a wait may return without a notify (as
// std allows). Under the checker each wait is a scheduling choice — woken
// spuriously or not — while the thread has spurious wake-ups left
// (mc::options::spurious_wakeups, 1 by default), so code that waits without
// a predicate loop is caught.
//
// Memory ordering: the ordering comes from the lock: everything the notifier
// did before it released the lock happens-before the waiter's return from
// wait(). A notify without holding the lock reaches only threads already
// waiting (or about to: those that released the lock before the notify).
//
// Who may call what: wait requires the calling thread to hold the lock (the
// mutex's own checks catch an unlock it does not own). notify may be called
// with or without the lock.
//
// Lifetime: no thread may be inside wait() when it is destroyed: notify_all,
// then let the waiters return. (Stricter than std, which allows destroying
// it as soon as every waiter is notified: a waiter here takes itself off the
// waiter count after it re-takes the lock.)
//
// Algorithm: a 32-bit futex sequence word: wait counts itself as a waiter,
// reads the word, releases the lock and sleeps only while the word is
// unchanged; notify bumps it and wakes one or all sleepers. With no waiter
// counted, notify returns at once (no atomic write, no syscall).
//
// A platform may supply its own condition variable instead (cond_platform
// in lockstep/platform_concept.hpp): the checker's platform does, so that a
// wait is three steps (enqueue under the lock, unlock, relock once
// notified) and a notify one, and schedules do not differ in where a notify
// falls between a waiter's unlock and its sleep. The protocol itself is
// checked on its own (tests: the condition variable on mc::futex_platform).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <source_location>
#include <type_traits>

#include "lockstep/detail/deadline.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/platform.hpp"
#include "lockstep/platform_concept.hpp"

namespace lockstep {
namespace detail {

// The shared machinery. AnyLock: accept any BasicLockable, not only
// std::unique_lock<basic_mutex<P>>. Spurious: explore spurious wake-ups under
// the checker (off for waits inside lockstep's own primitives, which always
// loop on their predicate, so the choice would only repeat schedules).
template <class P, bool AnyLock, bool Spurious = true>
class condition_core {
 public:
  using loc = std::source_location;
  using unique_lock = std::unique_lock<basic_mutex<P>>;
  template <class Lock>
  static constexpr bool accepts = AnyLock || std::is_same_v<Lock, unique_lock>;

  condition_core() noexcept = default;
  explicit condition_core(const char* name) noexcept { P::named(this, name); }
  condition_core(const condition_core&) = delete;
  condition_core& operator=(const condition_core&) = delete;
  ~condition_core() { P::destroyed(this); }

  // With nobody waiting a notify does nothing, not even the bump: a waiter
  // counts itself before it releases the lock, so one that the notify must
  // reach (it released the lock before the notify) is seen here.
  void notify_one(const loc& where = loc::current()) {
    const typename P::release_scope releasing;  // may run in a destructor
    P::notified(this, where);
    if constexpr (native) return P::cond_notify(seq_, false, where);
    if (waiters_.load(std::memory_order_seq_cst) == 0) return;
    seq_.fetch_add(1, std::memory_order_seq_cst);
    P::wake_one(seq_);
  }
  void notify_all(const loc& where = loc::current()) {
    const typename P::release_scope releasing;
    P::notified(this, where);
    if constexpr (native) return P::cond_notify(seq_, true, where);
    if (waiters_.load(std::memory_order_seq_cst) == 0) return;
    seq_.fetch_add(1, std::memory_order_seq_cst);
    P::wake_all(seq_);
  }

  template <class Lock>
    requires accepts<Lock>
  void wait(Lock& lock, const loc& where = loc::current()) {
    block(lock, nullptr, where);
  }

  template <class Lock, class Pred>
    requires accepts<Lock>
  void wait(Lock& lock, Pred pred, const loc& where = loc::current()) {
    while (!pred()) block(lock, nullptr, where);
  }

  template <class Lock, class Clock, class Duration>
    requires accepts<Lock>
  std::cv_status wait_until(Lock& lock, const std::chrono::time_point<Clock, Duration>& t,
                            const loc& where = loc::current()) {
    const auto deadline = deadline_at<P>(t);
    return block(lock, &deadline, where) ? std::cv_status::no_timeout : std::cv_status::timeout;
  }

  template <class Lock, class Clock, class Duration, class Pred>
    requires accepts<Lock>
  bool wait_until(Lock& lock, const std::chrono::time_point<Clock, Duration>& t, Pred pred,
                  const loc& where = loc::current()) {
    const auto deadline = deadline_at<P>(t);
    while (!pred())
      if (!block(lock, &deadline, where)) return pred();
    return true;
  }

  template <class Lock, class Rep, class Period>
    requires accepts<Lock>
  std::cv_status wait_for(Lock& lock, const std::chrono::duration<Rep, Period>& d,
                          const loc& where = loc::current()) {
    const auto deadline = deadline_after<P>(d);
    return block(lock, &deadline, where) ? std::cv_status::no_timeout : std::cv_status::timeout;
  }

  template <class Lock, class Rep, class Period, class Pred>
    requires accepts<Lock>
  bool wait_for(Lock& lock, const std::chrono::duration<Rep, Period>& d, Pred pred,
                const loc& where = loc::current()) {
    const auto deadline = deadline_after<P>(d);
    while (!pred())
      if (!block(lock, &deadline, where)) return pred();
    return true;
  }

 private:
  using time_point = typename P::clock::time_point;
  static constexpr bool native = cond_platform<P>;

  // Releases the lock, sleeps until notified (or spuriously, or the
  // deadline), re-takes the lock. Returns false when the deadline passed.
  // If the checker unwinds a failed execution while this thread sleeps, the
  // lock is left released and the caller's lock object knows it (it does not
  // unlock again in its destructor).
  template <class Lock>
  bool block(Lock& lock, const time_point* deadline, const loc& where) {
    if constexpr (Spurious) {
      if (P::spurious_wakeup(this, where)) {
        auto* m = unlock(lock, where);
        relock(lock, m, where);
        return true;
      }
    }
    if constexpr (native) {
      const bool timed = deadline != nullptr;
      const time_point d = timed ? *deadline : time_point{};
      const bool waiting = P::cond_enqueue(seq_, timed, d, where);
      auto* m = unlock(lock, where);
      const bool woke = waiting && P::cond_block(seq_, timed, d, where);
      relock(lock, m, where);
      return woke;
    }
    const std::uint32_t s = seq_.load(std::memory_order_relaxed);
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    auto* m = unlock(lock, where);
    const bool woke = deadline == nullptr ? (P::wait(seq_, s, where), true)
                                          : P::wait_until(seq_, s, *deadline, where);
    relock(lock, m, where);
    // After re-locking: a notifier may destroy the condition variable once
    // every waiter is notified, but not while one still holds its lock in
    // wait() (std's rule); so touch it only with the lock held again.
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    return woke;
  }

  // Our own mutex takes the caller's location for its annotations.
  template <class Lock>
  static auto* unlock(Lock& lock, const loc& where) {
    if constexpr (std::is_same_v<Lock, unique_lock>) {
      basic_mutex<P>* m = lock.release();
      m->unlock(where);
      return m;
    } else {
      lock.unlock();
      return &lock;
    }
  }
  template <class Lock, class M>
  static void relock(Lock& lock, M* m, const loc& where) {
    if constexpr (std::is_same_v<Lock, unique_lock>) {
      m->lock(where);
      lock = unique_lock(*m, std::adopt_lock);
    } else {
      lock.lock();
    }
  }

  // first member: the futex word carries the condition variable's name
  typename P::template atomic<std::uint32_t> seq_{0};
  typename P::template atomic<std::uint32_t> waiters_{0};
};

}  // namespace detail

template <class P = os_platform>
class basic_condition_variable : public detail::condition_core<P, false> {
  using detail::condition_core<P, false>::condition_core;
};

template <class P = os_platform>
class basic_condition_variable_any : public detail::condition_core<P, true> {
  using detail::condition_core<P, true>::condition_core;
};

extern template class detail::condition_core<os_platform, false>;
extern template class detail::condition_core<os_platform, true>;
using condition_variable = basic_condition_variable<>;
using condition_variable_any = basic_condition_variable_any<>;

}  // namespace lockstep
