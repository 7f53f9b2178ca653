// lockstep/mutex.hpp — a futex-based mutual-exclusion lock.
//
// Contract: `basic_mutex<P>` meets the standard Lockable requirements
// (lock, try_lock, unlock), so std::scoped_lock, std::lock_guard,
// std::unique_lock and std::condition_variable_any work with it. It is not
// recursive: locking it twice from one thread deadlocks (the checker reports
// it as a one-thread cycle).
//
// Memory ordering: a successful lock()/try_lock() is an acquire operation; an
// unlock() is a release operation; every critical section happens-before the
// next one on the same mutex.
//
// Who may call what: only the owner may unlock. Unlocking an unlocked mutex is
// detected in production too (one line on stderr, then abort); unlock by a
// non-owner and destroying a held mutex are detected under the checker, where
// ownership is tracked.
//
// Lifetime: the mutex must outlive every thread that uses it and must be
// unlocked when destroyed.
//
// Algorithm: the three-state futex mutex (0 unlocked, 1 locked, 2 locked and
// maybe contended) from Drepper, "Futexes Are Tricky": the uncontended paths
// are one compare-exchange to lock and one exchange to unlock, no syscall.
// A contended locker spins up to P::spin_limit times before it sleeps.
#pragma once

#include <cstdint>
#include <source_location>

#include "lockstep/platform.hpp"

namespace lockstep {

template <class P = os_platform>
class basic_mutex {
 public:
  using loc = std::source_location;

  basic_mutex() noexcept = default;
  // A name for reports under the checker; free in production.
  explicit basic_mutex(const char* name) noexcept { P::named(this, name); }
  basic_mutex(const basic_mutex&) = delete;
  basic_mutex& operator=(const basic_mutex&) = delete;
  ~basic_mutex() { P::destroyed(this); }

  void lock(const loc& where = loc::current()) {
    P::acquiring(this, lock_kind::mutex, acquire_flags::blocking, where);
    std::uint32_t c = kUnlocked;
    if (!state_.compare_exchange_strong(c, kLocked, std::memory_order_acquire,
                                        std::memory_order_relaxed))
      lock_contended(c, where);
    P::acquired(this, lock_mode::exclusive, where);
  }

  [[nodiscard]] bool try_lock(const loc& where = loc::current()) {
    // A try never waits, so it is never announced as "acquiring".
    std::uint32_t c = kUnlocked;
    if (!state_.compare_exchange_strong(c, kLocked, std::memory_order_acquire,
                                        std::memory_order_relaxed))
      return false;
    P::acquired(this, lock_mode::exclusive, where);
    return true;
  }

  void unlock(const loc& where = loc::current()) {
    P::released(this, lock_mode::exclusive, where);
    const std::uint32_t prev = state_.exchange(kUnlocked, std::memory_order_release);
    if (prev == kUnlocked) P::misuse(this, "unlock of a mutex that is not locked", where);
    if (prev == kContended) P::wake_one(state_);
  }

 private:
  static constexpr std::uint32_t kUnlocked = 0, kLocked = 1, kContended = 2;

  void lock_contended(std::uint32_t c, const loc& where) {
    for (int spins = 0; spins < P::spin_limit && c != kUnlocked; ++spins) {
      P::relax();
      c = state_.load(std::memory_order_relaxed);
      if (c == kUnlocked &&
          state_.compare_exchange_strong(c, kLocked, std::memory_order_acquire,
                                         std::memory_order_relaxed))
        return;
    }
    // From here on we say "contended" so the unlocker knows to wake someone.
    if (c != kContended) c = state_.exchange(kContended, std::memory_order_acquire);
    while (c != kUnlocked) {
      P::wait(state_, kContended, where);
      c = state_.exchange(kContended, std::memory_order_acquire);
    }
  }

  // invariant: 0 unlocked, 1 locked with no sleeper, 2 locked and sleepers may exist
  typename P::template atomic<std::uint32_t> state_{kUnlocked};
};

extern template class basic_mutex<os_platform>;
using mutex = basic_mutex<>;

}  // namespace lockstep
