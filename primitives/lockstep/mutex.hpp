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
// Algorithm: the three-state futex lock of lockstep/detail/futex_lock.hpp
// (Drepper, "Futexes Are Tricky"): one compare-exchange to lock and one
// exchange to unlock when uncontended; a contended locker sleeps on the
// futex at once in production (P::lock_spin_limit = 0: measured faster than
// spinning on 2 CPUs, see tools/bench/README.md).
#pragma once

#include <cstdint>
#include <source_location>

#include "lockstep/detail/futex_lock.hpp"
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
    if constexpr (owned_lock_word_platform<P>) {
      P::lock_word_lock_owned(state_, this, where);
    } else {
      P::acquiring(this, lock_kind::mutex, acquire_flags::blocking, where);
      lock_word::lock(state_, where);
      P::acquired(this, lock_mode::exclusive, where);
    }
  }

  [[nodiscard]] bool try_lock(const loc& where = loc::current()) {
    // A try never waits, so it is never announced as "acquiring".
    if (!lock_word::try_lock(state_, where)) return false;
    P::acquired(this, lock_mode::exclusive, where);
    return true;
  }

  void unlock(const loc& where = loc::current()) {
    std::uint32_t prev;
    if constexpr (owned_lock_word_platform<P>) {
      prev = P::lock_word_unlock_owned(state_, this, where);
    } else {
      P::released(this, lock_mode::exclusive, where);
      prev = lock_word::unlock(state_, where);
    }
    if (prev == lock_word::kUnlocked) P::misuse(this, "unlock of a mutex that is not locked", where);
  }

 private:
  using lock_word = detail::futex_lock<P>;
  // invariant: 0 unlocked, 1 locked with no sleeper, 2 locked and sleepers may exist
  typename lock_word::word state_{lock_word::kUnlocked};
};

extern template class basic_mutex<os_platform>;
using mutex = basic_mutex<>;

}  // namespace lockstep
