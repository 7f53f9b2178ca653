// lockstep/recursive_mutex.hpp — a mutex its owner may lock again.
//
// Contract: std::recursive_mutex's. The owner may lock it any number of times
// and must unlock it as many times; it is released when the depth returns to
// zero. try_lock by the owner always succeeds.
//
// Memory ordering: the first lock (depth 0 -> 1) is acquire; the last unlock
// (1 -> 0) is release. Nested locks and unlocks touch only the owner's own
// fields.
//
// Who may call what: only the owner may unlock. An unlock by any other thread,
// or with depth zero, is misuse: reported by the checker, and in production
// one line on stderr and abort — never undefined behaviour, because the owner
// is recorded and checked in every build.
//
// Lifetime: must be unlocked when destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <source_location>

#include "lockstep/detail/futex_lock.hpp"
#include "lockstep/platform.hpp"

namespace lockstep {

template <class P = os_platform>
class basic_recursive_mutex {
 public:
  using loc = std::source_location;

  basic_recursive_mutex() noexcept = default;
  explicit basic_recursive_mutex(const char* name) noexcept { P::named(this, name); }
  basic_recursive_mutex(const basic_recursive_mutex&) = delete;
  basic_recursive_mutex& operator=(const basic_recursive_mutex&) = delete;
  ~basic_recursive_mutex() { P::destroyed(this); }

  void lock(const loc& where = loc::current()) {
    const std::uintptr_t me = P::thread_id();
    if (owner_.load(std::memory_order_relaxed) == me) {
      ++depth_;
      return;
    }
    P::acquiring(this, lock_kind::recursive_mutex, acquire_flags::blocking, where);
    lock_word::lock(state_, where);
    take(me, where);
  }

  [[nodiscard]] bool try_lock(const loc& where = loc::current()) {
    const std::uintptr_t me = P::thread_id();
    if (owner_.load(std::memory_order_relaxed) == me) {
      ++depth_;
      return true;
    }
    if (!lock_word::try_lock(state_, where)) return false;
    take(me, where);
    return true;
  }

  void unlock(const loc& where = loc::current()) {
    // owner_ == me implies depth_ > 0: the owner is cleared when depth hits 0.
    if (owner_.load(std::memory_order_relaxed) != P::thread_id())
      return P::misuse(this, "unlock of a recursive mutex by a thread that does not own it", where);
    if (--depth_ > 0) return;
    owner_.store(0, std::memory_order_relaxed);
    P::released(this, lock_mode::exclusive, where);
    lock_word::unlock(state_, where);
  }

  // The calling thread's lock depth (0 when it does not own the mutex).
  [[nodiscard]] std::uint32_t depth() const noexcept {
    return owner_.load(std::memory_order_relaxed) == P::thread_id() ? depth_ : 0;
  }

 private:
  using lock_word = detail::futex_lock<P>;

  void take(std::uintptr_t me, const loc& where) {
    owner_.store(me, std::memory_order_relaxed);
    depth_ = 1;
    P::acquired(this, lock_mode::exclusive, where);
  }

  typename lock_word::word state_{lock_word::kUnlocked};
  // Written only by the owner while it holds state_; other threads read it
  // only to learn that they are not the owner, so relaxed is enough, and it is
  // a plain std::atomic under every platform (not a scheduling point).
  std::atomic<std::uintptr_t> owner_{0};
  std::uint32_t depth_ = 0;  // touched only by the owner
};

extern template class basic_recursive_mutex<os_platform>;
using recursive_mutex = basic_recursive_mutex<>;

}  // namespace lockstep
