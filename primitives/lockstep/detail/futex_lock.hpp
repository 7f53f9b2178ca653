// lockstep/detail/futex_lock.hpp — the lock-word algorithm shared by the
// mutexes and by the primitives that guard internal state with a lock.
//
// The three-state futex lock (0 unlocked, 1 locked, 2 locked and maybe
// contended) from Drepper, "Futexes Are Tricky": the uncontended paths are one
// compare-exchange to lock and one exchange to unlock, no syscall. A contended
// locker spins up to P::lock_spin_limit times (0 in production) before it
// sleeps. No annotations
// here: the callers say what the word means (a user-visible mutex annotates;
// an internal guard held for a few instructions does not).
//
// Memory ordering: lock is acquire, unlock is release.
//
// A platform may supply its own lock word instead (lock_word_platform in
// lockstep/platform_concept.hpp: P::lock_word_lock, P::lock_word_try_lock,
// P::lock_word_unlock, same states 0/1 and the same return value for unlock):
// the checker's platform does, so that schedules differ only in the order of
// critical sections and not in the futex protocol's internal steps. The
// protocol itself is checked on its own (tests: the mutex on
// mc::futex_platform).
#pragma once

#include <cstdint>
#include <source_location>

#include "lockstep/platform_concept.hpp"

namespace lockstep::detail {

template <class P>
struct futex_lock {
  using word = typename P::template atomic<std::uint32_t>;
  using loc = std::source_location;
  static constexpr std::uint32_t kUnlocked = 0, kLocked = 1, kContended = 2;

  static_assert(platform<P>, "P does not satisfy lockstep::platform");
  static constexpr bool native = lock_word_platform<P>;
  // Half a trio would silently fall back to the futex protocol.
  static_assert(native || !requires(word& w, const loc& l) { P::lock_word_lock(w, l); },
                "P has lock_word_lock but not the whole lock_word_platform trio");

  [[nodiscard]] static bool try_lock(word& w, const loc& where = loc::current()) {
    if constexpr (native) return P::lock_word_try_lock(w, where);
    std::uint32_t c = kUnlocked;
    // A platform may mark the compare-exchange as a try (P::try_begin and
    // P::try_end, optional): the checker's then counts a failure as a
    // yield, so a loop of failed tries is no busy waiting whether or not
    // the platform has its own lock word.
    constexpr bool marked = requires { P::try_begin(w); P::try_end(true); };
    if constexpr (marked) P::try_begin(w);
    const bool taken =
        w.compare_exchange_strong(c, kLocked, std::memory_order_acquire, std::memory_order_relaxed);
    if constexpr (marked) P::try_end(taken);
    return taken;
  }

  static void lock(word& w, const loc& where) {
    if constexpr (native) return P::lock_word_lock(w, where);
    std::uint32_t c = kUnlocked;
    if (!w.compare_exchange_strong(c, kLocked, std::memory_order_acquire,
                                   std::memory_order_relaxed))
      lock_contended(w, c, where);
  }

  // Returns the previous state; kUnlocked means the word was not locked (the
  // caller reports the misuse).
  static std::uint32_t unlock(word& w, const loc& where = loc::current()) {
    if constexpr (native) return P::lock_word_unlock(w, where);
    const std::uint32_t prev = w.exchange(kUnlocked, std::memory_order_release);
    if (prev == kContended) P::wake_one(w);
    return prev;
  }

 private:
  static void lock_contended(word& w, std::uint32_t c, const loc& where) {
    for (int spins = 0; spins < P::lock_spin_limit && c != kUnlocked; ++spins) {
      P::relax();
      c = w.load(std::memory_order_relaxed);
      if (c == kUnlocked &&
          w.compare_exchange_strong(c, kLocked, std::memory_order_acquire,
                                    std::memory_order_relaxed))
        return;
    }
    // From here on we say "contended" so the unlocker knows to wake someone.
    if (c != kContended) c = w.exchange(kContended, std::memory_order_acquire);
    // A platform may say that the wait grants no order (P::unordered_wait,
    // optional): the unlock wakes someone, and whoever takes the word first
    // has it. The checker's then does not count a thread blocked here as
    // overtaken by a later acquisition (starvation), as on its native word.
    constexpr bool says = requires { P::unordered_wait(); };
    while (c != kUnlocked) {
      if constexpr (says) P::unordered_wait();
      P::wait(w, kContended, where);
      c = w.exchange(kContended, std::memory_order_acquire);
    }
  }
};

// A lock word for internal state, with the Lockable interface (so
// std::unique_lock works) and no annotations.
template <class P>
class internal_lock {
 public:
  void lock(const std::source_location& where = std::source_location::current()) {
    futex_lock<P>::lock(w_, where);
  }
  bool try_lock() { return futex_lock<P>::try_lock(w_); }
  void unlock() { futex_lock<P>::unlock(w_); }

 private:
  typename futex_lock<P>::word w_{futex_lock<P>::kUnlocked};
};

}  // namespace lockstep::detail
