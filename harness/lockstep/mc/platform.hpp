// lockstep/mc/platform.hpp — the checker's platform for the primitives' seam.
//
// `mc::platform` gives primitives the same members as os_platform (see
// lockstep/platform.hpp), backed by the model-checking runtime:
//   atomic<T>   mc::atomic<T>: every operation is a scheduling point
//   wait        the fiber blocks on the word; it is not enabled until woken
//               (or, for wait_until, until the scheduler fires its timeout)
//   wake_*      moves waiters on the word back to enabled (FIFO order)
//   relax()     a yield point
//   thread_id   the checked thread id + 1
//   spurious_wakeup
//               a scheduler choice while the thread has spurious wake-ups
//               left (options::spurious_wakeups, 1 by default)
//   clock       virtual time: it advances only when a timeout fires
//   thread      mc::thread
//   annotations feed the wait-for graph and the misuse checks
//   release_scope
//               a failed execution's abort never throws out of a release
//               path (see detail::release_scope)
//   spin_limit  0: primitives block at once instead of spinning, which keeps
//               the explored state space small; spinning is only a speed-up
#pragma once

#include <chrono>
#include <cstdint>
#include <source_location>

#include "lockstep/mc/atomic.hpp"
#include "lockstep/mc/hooks.hpp"
#include "lockstep/mc/thread.hpp"
#include "lockstep/platform.hpp"
#include "lockstep/platform_concept.hpp"

namespace lockstep::mc {

// Virtual time: starts at zero in every execution.
struct virtual_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<virtual_clock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept { return time_point(duration(detail::now_ns())); }
};

// Everything but the lock word (see platform and futex_platform below).
struct platform_base {
  template <class T>
  using atomic = mc::atomic<T>;
  using clock = virtual_clock;
  using thread = mc::thread;
  using loc = std::source_location;
  using release_scope = detail::release_scope;

  static constexpr int spin_limit = 0;
  static constexpr int lock_spin_limit = 0;

  static void wait(atomic<std::uint32_t>& word, std::uint32_t expected,
                   const loc& where = loc::current()) {
    detail::futex_wait(word.raw_word(), word.handle(), expected, false, 0, where);
  }
  static bool wait_until(atomic<std::uint32_t>& word, std::uint32_t expected,
                         clock::time_point deadline, const loc& where = loc::current()) {
    return detail::futex_wait(word.raw_word(), word.handle(), expected, true,
                              deadline.time_since_epoch().count(), where);
  }
  static void wake_one(atomic<std::uint32_t>& word, const loc& where = loc::current()) {
    detail::futex_wake(word.raw_word(), word.handle(), 1, where);
  }
  static void wake_all(atomic<std::uint32_t>& word, const loc& where = loc::current()) {
    detail::futex_wake(word.raw_word(), word.handle(), 0x7fffffff, where);
  }
  static void relax(const loc& where = loc::current()) { detail::relax(where); }
  static void try_begin(atomic<std::uint32_t>& w) noexcept { detail::try_begin(w.raw_word()); }
  static void try_end(bool taken) { detail::try_end(taken); }
  static void unordered_wait() noexcept { detail::unordered_wait(); }
  static std::uintptr_t thread_id() noexcept { return detail::current_thread() + 1u; }
  static bool spurious_wakeup(const void* obj, const loc& where = loc::current()) {
    return detail::spurious_wakeup(obj, where);
  }

  static void named(const void* obj, const char* name) noexcept { detail::named(obj, name); }
  static void acquiring(const void* obj, lock_kind kind,
                        acquire_flags flags = acquire_flags::blocking,
                        const loc& where = loc::current(), lock_mode mode = lock_mode::exclusive) {
    detail::acquiring(obj, kind, flags, where, mode);
  }
  static void acquired(const void* obj, lock_mode mode, const loc& where = loc::current()) {
    detail::acquired(obj, mode, where);
  }
  static void released(const void* obj, lock_mode mode, const loc& where = loc::current()) {
    detail::released(obj, mode, where);
  }
  static void destroyed(const void* obj) noexcept { detail::destroyed(obj); }
  static void notified(const void* obj, const loc& where = loc::current()) noexcept {
    detail::notified(obj, where);
  }
  // Returns under the checker (see detail::misuse): the caller returns at once
  // (the rule in lockstep/platform_concept.hpp).
  static void misuse(const void* obj, const char* what, const loc& where = loc::current()) {
    detail::misuse(obj, what, where);
  }
};

// The checker's platform with its native words: the lock word (the mutexes'
// and the internal guards'), the count word (the semaphores'), the
// condition variables' waits and notifies (see lockstep/condition_variable.hpp
// and the runtime's cond_*: a wait is enqueue, unlock, relock once
// notified; a notify one step) and the monitor (the bounded queue's: each
// operation one step, see lockstep/bounded_queue.hpp). Acquiring
// is one step that can only happen while the lock is free (the count is
// positive), releasing is one step, and a thread that finds the lock held
// (the count 0) blocks without a step. Schedules then differ only in the
// order of critical sections and acquisitions, not in the futex protocols'
// internal steps; the protocols themselves are checked on futex_platform.
struct platform : platform_base {
  static void lock_word_lock(atomic<std::uint32_t>& w, const loc& where) {
    detail::lock_word(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), where);
  }
  static bool lock_word_try_lock(atomic<std::uint32_t>& w, const loc& where) {
    return detail::try_lock_word(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), where);
  }
  static std::uint32_t lock_word_unlock(atomic<std::uint32_t>& w, const loc& where) {
    return detail::unlock_word(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), where);
  }
  static void lock_word_lock_owned(atomic<std::uint32_t>& w, const void* obj, const loc& where) {
    detail::mutex_lock(obj, const_cast<std::uint32_t*>(w.raw_word()), w.handle(), where);
  }
  static std::uint32_t lock_word_unlock_owned(atomic<std::uint32_t>& w, const void* obj, const loc& where) {
    return detail::mutex_unlock(obj, const_cast<std::uint32_t*>(w.raw_word()), w.handle(), where);
  }

  static void count_word_acquire(atomic<std::uint32_t>& w, const loc& where) {
    (void)detail::count_acquire(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), false, 0, where);
  }
  static bool count_word_acquire_until(atomic<std::uint32_t>& w, clock::time_point deadline, const loc& where) {
    return detail::count_acquire(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), true,
                                 deadline.time_since_epoch().count(), where);
  }
  static bool count_word_try_acquire(atomic<std::uint32_t>& w, const loc& where) {
    return detail::count_try_acquire(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), where);
  }
  static std::uint32_t count_word_release(atomic<std::uint32_t>& w, std::uint32_t n, std::uint32_t limit,
                                          const loc& where) {
    return detail::count_release(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), n, limit, where);
  }

  static bool cond_enqueue(atomic<std::uint32_t>& w, bool timed, clock::time_point deadline, const loc& where) {
    return detail::cond_enqueue(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), timed,
                                deadline.time_since_epoch().count(), where);
  }
  static bool cond_block(atomic<std::uint32_t>& w, bool timed, clock::time_point deadline, const loc& where) {
    return detail::cond_block(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), timed,
                              deadline.time_since_epoch().count(), where);
  }
  static void cond_notify(atomic<std::uint32_t>& w, bool all, const loc& where) {
    detail::cond_notify(const_cast<std::uint32_t*>(w.raw_word()), w.handle(), all, where);
  }

  static bool monitor_step(atomic<std::uint32_t>& lock, atomic<std::uint32_t>& seq, monitor_probe probe,
                           const void* ctx, const void* waits_on, const loc& where) {
    return detail::monitor_step(const_cast<std::uint32_t*>(lock.raw_word()), lock.handle(),
                                const_cast<std::uint32_t*>(seq.raw_word()), probe, ctx, waits_on, false, 0, where);
  }
  static bool monitor_step_until(atomic<std::uint32_t>& lock, atomic<std::uint32_t>& seq, monitor_probe probe,
                                 const void* ctx, const void* waits_on, clock::time_point deadline,
                                 const loc& where) {
    return detail::monitor_step(const_cast<std::uint32_t*>(lock.raw_word()), lock.handle(),
                                const_cast<std::uint32_t*>(seq.raw_word()), probe, ctx, waits_on, true,
                                deadline.time_since_epoch().count(), where);
  }
  static void monitor_exit(atomic<std::uint32_t>& lock, atomic<std::uint32_t>& seq, const loc& where) {
    detail::monitor_exit(const_cast<std::uint32_t*>(lock.raw_word()), lock.handle(),
                         const_cast<std::uint32_t*>(seq.raw_word()), where);
  }
};

// The checker's platform running the primitives' own futex lock protocol
// (Drepper's three-state mutex), the semaphore's count protocol, the
// condition variable's sequence-word protocol and the bounded queue's
// mutex and condition variables step by step: for checking the protocols, at the price of many more schedules
// (every failed CAS, contended exchange, futex wait and wake is a step).
struct futex_platform : platform_base {};

static_assert(lockstep::platform<platform> && lockstep::owned_lock_word_platform<platform> &&
              lockstep::count_word_platform<platform> && lockstep::cond_platform<platform> &&
              lockstep::monitor_platform<platform>);
static_assert(lockstep::platform<futex_platform> && !lockstep::lock_word_platform<futex_platform> &&
              !lockstep::owned_lock_word_platform<futex_platform> &&
              !lockstep::count_word_platform<futex_platform> && !lockstep::cond_platform<futex_platform> &&
              !lockstep::monitor_platform<futex_platform>);

// A nondeterministic choice in [0, n): the strategy explores every value
// (dfs), samples one (random) or takes the recorded one (replay).
inline std::uint32_t choose(std::uint32_t n,
                            const std::source_location& where = std::source_location::current()) {
  return detail::choose(n, where);
}

// Declares that acquiring the lock `obj` (a mutex, a shared mutex) is progress
// for the livelock detector: a completed critical section. Call it in the
// body, after the lock is constructed; it holds for the rest of the execution.
inline void progress_on_acquire(const void* obj) noexcept { detail::progress_on_acquire(obj); }

// Gives an object (a mutex, an atomic, ...) a name for reports.
inline void name(const void* obj, const char* n) noexcept { detail::named(obj, n); }

}  // namespace lockstep::mc
