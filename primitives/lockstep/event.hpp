// lockstep/event.hpp — a manual-reset event.
//
// Contract: an event is set or clear. set() makes it set and wakes every
// waiter; it stays set (every later wait() returns at once) until clear().
// wait() blocks until it is set; wait_for/wait_until give up at the timeout
// (virtual time under the checker) and return whether it was set.
//
// Memory ordering: set() is a release operation; a wait() or is_set() that
// sees the event set is an acquire operation: whatever the setter did before
// set() happens-before whatever the waiter does after. clear() orders
// nothing.
//
// Who may call what: any thread may call anything.
//
// Lifetime: no thread may be waiting when it is destroyed.
//
// Algorithm: one 32-bit futex word: bit 0 set/clear, bit 1 "someone may
// sleep". set() swaps in "set" and makes the wake-up syscall only when the
// sleeper bit was on; a woken waiter may destroy the event at once, so set()
// touches nothing but the futex address after the swap.
#pragma once

#include <chrono>
#include <cstdint>
#include <source_location>

#include "lockstep/detail/deadline.hpp"
#include "lockstep/platform.hpp"

namespace lockstep {

template <class P = os_platform>
class basic_event {
 public:
  using loc = std::source_location;

  explicit basic_event(bool initially_set = false) noexcept : state_(initially_set ? kSet : 0u) {}
  explicit basic_event(const char* name, bool initially_set = false) noexcept
      : basic_event(initially_set) {
    P::named(this, name);
  }
  basic_event(const basic_event&) = delete;
  basic_event& operator=(const basic_event&) = delete;
  ~basic_event() { P::destroyed(this); }

  void set(const loc& where = loc::current()) {
    const typename P::release_scope releasing;  // often in a destructor
    P::notified(this, where);
    if ((state_.exchange(kSet, std::memory_order_seq_cst) & kSleepers) != 0) P::wake_all(state_);
  }
  void clear(const loc& = loc::current()) {
    // Keeps the sleeper bit: threads may sleep on it already.
    state_.fetch_and(~kSet, std::memory_order_relaxed);
  }
  [[nodiscard]] bool is_set() const { return (state_.load(std::memory_order_acquire) & kSet) != 0; }

  void wait(const loc& where = loc::current()) {
    for (;;) {
      const std::uint32_t s = announce();
      if (s == kSet) return;
      P::wait(state_, s, where);  // sleeps only while clear with the bit on
    }
  }

  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(const std::chrono::duration<Rep, Period>& d,
                              const loc& where = loc::current()) {
    return wait_until_deadline(detail::deadline_after<P>(d), where);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool wait_until(const std::chrono::time_point<Clock, Duration>& t,
                                const loc& where = loc::current()) {
    return wait_until_deadline(detail::deadline_at<P>(t), where);
  }

 private:
  static constexpr std::uint32_t kSet = 1, kSleepers = 2;

  // Returns kSet if the event is set; otherwise makes sure the sleeper bit is
  // on and returns the word to sleep on.
  std::uint32_t announce() {
    std::uint32_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if ((s & kSet) != 0) return kSet;
      if ((s & kSleepers) != 0) return s;
      if (state_.compare_exchange_weak(s, s | kSleepers, std::memory_order_acquire,
                                       std::memory_order_acquire))
        return s | kSleepers;
    }
  }

  bool wait_until_deadline(typename P::clock::time_point deadline, const loc& where) {
    for (;;) {
      const std::uint32_t s = announce();
      if (s == kSet) return true;
      if (!P::wait_until(state_, s, deadline, where)) return is_set();
    }
  }

  // The futex word (first member: it carries the event's name).
  mutable typename P::template atomic<std::uint32_t> state_;
};

extern template class basic_event<os_platform>;
using event = basic_event<>;

}  // namespace lockstep
