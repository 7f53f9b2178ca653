// Internal: 32-bit words on real OS threads — the futex call and Drepper's
// three-state lock (0 free, 1 held, 2 held with sleepers: the production
// mutex's algorithm). Shared by the plain operations outside any execution
// (hooks.cpp) and the OS-thread backend (os_runtime.cpp).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <ctime>

#include "lockstep/platform.hpp"

namespace lockstep::mc::os_words {

inline long futex(const void* word, int op, std::uint32_t val, const timespec* ts) noexcept {
  return ::syscall(SYS_futex, word, op, val, ts, nullptr, 0);
}

inline std::atomic_ref<std::uint32_t> ref(const std::uint32_t* w) noexcept {
  return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(w));
}

inline void wake(const void* word, std::uint32_t count) noexcept { futex(word, FUTEX_WAKE_PRIVATE, count, nullptr); }

// `sleep()` waits while the word is 2 (a futex wait, or one that also looks
// for an abort).
template <class Sleep>
void lock(std::uint32_t* word, Sleep&& sleep) {
  auto w = ref(word);
  std::uint32_t c = 0;
  if (w.compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
  if (c != 2) c = w.exchange(2, std::memory_order_acquire);
  while (c != 0) {
    sleep();
    c = w.exchange(2, std::memory_order_acquire);
  }
}

// The word's value before a failed try is in `seen`.
inline bool try_lock(std::uint32_t* word, std::uint32_t& seen) noexcept {
  seen = 0;
  return ref(word).compare_exchange_strong(seen, 1, std::memory_order_acquire);
}

// 1 if the lock was held, else 0 (mc::platform::lock_word_unlock's result).
inline std::uint32_t unlock(std::uint32_t* word) noexcept {
  const std::uint32_t prev = ref(word).exchange(0, std::memory_order_release);
  if (prev == 2) wake(word, 1);
  return prev != 0 ? 1 : 0;
}

// A count word (the native semaphore's): take one unit if there is one; the
// count seen last is in `seen`.
inline bool count_try(std::uint32_t* word, std::uint32_t& seen) noexcept {
  auto w = ref(word);
  seen = w.load(std::memory_order_relaxed);
  while (seen != 0)
    if (w.compare_exchange_weak(seen, seen - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
  return false;
}

// Takes one unit, sleeping while there is none; `sleep` returns false when
// the deadline passed (then one last try decides).
template <class Sleep>
bool count_acquire(std::uint32_t* word, Sleep&& sleep) {
  std::uint32_t seen = 0;
  while (!count_try(word, seen))
    if (!sleep()) return count_try(word, seen);
  return true;
}

// Adds n unless the count would pass `limit`; returns the previous count.
// Wakes every sleeper (each tries again).
inline std::uint32_t count_release(std::uint32_t* word, std::uint32_t n, std::uint32_t limit) noexcept {
  auto w = ref(word);
  std::uint32_t c = w.load(std::memory_order_relaxed);
  do {
    if (n > limit - c) return c;
  } while (!w.compare_exchange_weak(c, c + n, std::memory_order_seq_cst, std::memory_order_relaxed));
  wake(word, 0x7fffffff);
  return c;
}

// A native monitor running free (lockstep::monitor_platform): `lock` is a
// three-state lock held from a ready step to its exit, `seq` a sequence word
// every exit bumps and wakes; a waiter that finds its step not ready lets
// the lock go and sleeps while `seq` keeps the value it saw under the lock.
// `lk(word)` locks, `sleep(seq, seen)` waits (false: the deadline passed;
// then one last look decides). True: the step is ready and the lock held.
template <class Lock, class Sleep>
bool monitor_step(std::uint32_t* lock_w, std::uint32_t* seq, lockstep::monitor_probe probe, const void* ctx,
                  Lock&& lk, Sleep&& sleep) {
  lk(lock_w);
  for (;;) {
    if (probe(ctx).ready) return true;
    const std::uint32_t seen = ref(seq).load(std::memory_order_relaxed);
    (void)unlock(lock_w);
    const bool more = sleep(seq, seen);
    lk(lock_w);
    if (!more) {
      if (probe(ctx).ready) return true;
      (void)unlock(lock_w);
      return false;
    }
  }
}

inline void monitor_exit(std::uint32_t* lock_w, std::uint32_t* seq) noexcept {
  ref(seq).fetch_add(1, std::memory_order_relaxed);
  (void)unlock(lock_w);
  wake(seq, 0x7fffffff);
}

}  // namespace lockstep::mc::os_words
