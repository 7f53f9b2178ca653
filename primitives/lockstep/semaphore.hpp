// lockstep/semaphore.hpp — counting and binary semaphores.
//
// Contract: std::counting_semaphore's. The counter starts at the value given
// to the constructor; acquire() waits until it is positive and decrements it;
// release(n) adds n and wakes waiters. try_acquire never waits;
// try_acquire_for/until give up at the timeout (virtual time under the
// checker) and return whether they acquired.
//
// Memory ordering: release() is a release operation and a successful
// acquire is an acquire operation: whatever a thread did before release()
// happens-before whatever the thread that acquires that unit does after.
//
// Who may call what: any thread may release, not only one that acquired (a
// semaphore has no owner). Releasing past Max, a negative release and an
// initial value outside [0, Max] are misuse: reported by the checker, and in
// production one line on stderr and abort, never undefined behaviour.
//
// Lifetime: no thread may be inside any member when it is destroyed — that
// includes a releaser still returning from release() after the acquirer it
// woke has gone on (as for std::counting_semaphore). To signal "done, you may
// free me", use basic_event, whose set() is safe against that.
//
// Algorithm: the count lives in one 32-bit futex word; a separate waiter count
// (both sequentially consistent, the Dekker pattern) lets release() skip the
// wake-up syscall when nobody sleeps. Max is limited to 2^31 - 1.
//
// A platform may supply its own count word instead (count_word_platform in
// lockstep/platform_concept.hpp): the checker's platform does, so that
// schedules differ only in the order of acquisitions and releases, not in
// the CAS loops' retries and the futex protocol's steps. The protocol itself
// is checked on its own (tests: the semaphore on mc::futex_platform).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <source_location>

#include "lockstep/detail/deadline.hpp"
#include "lockstep/platform.hpp"
#include "lockstep/platform_concept.hpp"

namespace lockstep {

template <std::ptrdiff_t Max, class P = os_platform>
class basic_counting_semaphore {
  static_assert(Max >= 0 && Max <= 0x7fffffff, "Max must fit a 31-bit count");

 public:
  using loc = std::source_location;

  static constexpr std::ptrdiff_t max() noexcept { return Max; }

  explicit basic_counting_semaphore(std::ptrdiff_t desired, const loc& where = loc::current())
      : count_(static_cast<std::uint32_t>(desired)) {
    if (desired < 0 || desired > Max)
      P::misuse(this, "semaphore initialised outside [0, max()]", where);
  }
  basic_counting_semaphore(std::ptrdiff_t desired, const char* name,
                           const loc& where = loc::current())
      : basic_counting_semaphore(desired, where) {
    P::named(this, name);
  }
  basic_counting_semaphore(const basic_counting_semaphore&) = delete;
  basic_counting_semaphore& operator=(const basic_counting_semaphore&) = delete;
  ~basic_counting_semaphore() { P::destroyed(this); }

  void release(std::ptrdiff_t n = 1, const loc& where = loc::current()) {
    if (n < 0) return P::misuse(this, "semaphore release of a negative count", where);
    if (n == 0) return;
    const typename P::release_scope releasing;  // often in a destructor
    P::notified(&count_, where);
    if constexpr (native) {
      const std::uint32_t prev = P::count_word_release(count_, static_cast<std::uint32_t>(n),
                                                       static_cast<std::uint32_t>(Max), where);
      if (n > Max - static_cast<std::ptrdiff_t>(prev))
        P::misuse(this, "semaphore released past its max()", where);
      return;
    }
    std::uint32_t c = count_.load(std::memory_order_relaxed);
    do {
      if (n > Max - static_cast<std::ptrdiff_t>(c))
        return P::misuse(this, "semaphore released past its max()", where);
    } while (!count_.compare_exchange_weak(c, c + static_cast<std::uint32_t>(n),
                                           std::memory_order_seq_cst,
                                           std::memory_order_relaxed));
    if (waiters_.load(std::memory_order_seq_cst) != 0) {
      if (n == 1) {
        P::wake_one(count_);
      } else {
        P::wake_all(count_);
      }
    }
  }

  void acquire(const loc& where = loc::current()) {
    if constexpr (native) return P::count_word_acquire(count_, where);
    // A permit handed over by another thread usually arrives within a short
    // spin; sleeping would cost a wake-up on another CPU.
    for (int spins = 0; spins < P::spin_limit; ++spins) {
      if (try_acquire()) return;
      P::relax();
    }
    while (!try_acquire()) {
      waiters_.fetch_add(1, std::memory_order_seq_cst);
      P::wait(count_, 0, where);  // sleeps only while the count is zero
      waiters_.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  [[nodiscard]] bool try_acquire(const loc& where = loc::current()) {
    if constexpr (native) return P::count_word_try_acquire(count_, where);
    std::uint32_t c = count_.load(std::memory_order_relaxed);
    while (c != 0) {
      if (count_.compare_exchange_weak(c, c - 1, std::memory_order_acquire,
                                       std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  template <class Rep, class Period>
  [[nodiscard]] bool try_acquire_for(const std::chrono::duration<Rep, Period>& d,
                                     const loc& where = loc::current()) {
    return acquire_until(detail::deadline_after<P>(d), where);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool try_acquire_until(const std::chrono::time_point<Clock, Duration>& t,
                                       const loc& where = loc::current()) {
    return acquire_until(detail::deadline_at<P>(t), where);
  }

 private:
  using counter = typename P::template atomic<std::uint32_t>;
  static constexpr bool native = count_word_platform<P>;

  bool acquire_until(typename P::clock::time_point deadline, const loc& where) {
    if constexpr (native) return P::count_word_acquire_until(count_, deadline, where);
    while (!try_acquire()) {
      waiters_.fetch_add(1, std::memory_order_seq_cst);
      const bool woke = P::wait_until(count_, 0, deadline, where);
      waiters_.fetch_sub(1, std::memory_order_relaxed);
      if (!woke) return try_acquire();  // timed out: one last look
    }
    return true;
  }

  counter count_;  // first member: the futex word carries the semaphore's name
  typename P::template atomic<std::uint32_t> waiters_{0};
};

template <std::ptrdiff_t Max = 0x7fffffff>
using counting_semaphore = basic_counting_semaphore<Max>;
using binary_semaphore = counting_semaphore<1>;

}  // namespace lockstep
