// lockstep/platform_concept.hpp — the platform contract, written once in code.
//
// `platform<P>` is what every primitive `basic_X<P>` may use of P (the prose
// is in lockstep/platform.hpp). It states the calls in the forms primitives
// write them, so a platform that satisfies it compiles with every primitive;
// what the calls *mean* (futex semantics, ownership facts) is the prose's.
//
// Two rules the types cannot say:
//   - wait / wait_until may return spuriously; primitives re-check the word.
//   - misuse(obj, what, loc) reports a misuse the primitive detected itself.
//     os_platform never returns from it (it aborts); the checker's platform
//     records the bug and returns, the thread stopping at its next scheduling
//     point. So a primitive calls it as `return P::misuse(...)` (or ends the
//     operation right after it) and relies on nothing after the call; that is
//     why it must return void.
//
// `lock_word_platform<P>` is the optional native lock word (see
// lockstep/detail/futex_lock.hpp): a platform that has it replaces the
// three-state futex lock protocol with three single steps.
// `count_word_platform<P>` is the optional native count word of the
// semaphore, `cond_platform<P>` the optional native condition variable, and
// `monitor_platform<P>` the optional native monitor (the bounded queue's),
// likewise. P::try_begin(word) and P::try_end(taken), optional too, are
// called around the futex lock's try_lock compare-exchange (the checker
// announces it as a try, and counts a failure as a yield); P::unordered_wait(),
// optional, before the futex lock's contended wait (it grants no order: the
// checker counts no thread blocked there as overtaken). A fifth argument of
// P::acquiring, optional, takes the lock_mode a thread waits for (the shared
// mutex's shared acquisitions pass lock_mode::shared).
#pragma once

#include <concepts>
#include <cstdint>
#include <source_location>
#include <type_traits>

#include "lockstep/platform.hpp"

namespace lockstep {

template <class P>
concept platform =
    std::same_as<typename P::loc, std::source_location> &&
    std::default_initializable<typename P::release_scope> &&
    std::destructible<typename P::release_scope> &&
    std::movable<typename P::thread> && std::constructible_from<typename P::thread, void (*)()> &&
    requires(typename P::template atomic<std::uint32_t>& word, std::uint32_t v,
             typename P::clock::time_point deadline, typename P::thread& t, const void* obj,
             const char* text, const std::source_location& where) {
      // Compile-time tuning knobs (0 means block at once).
      typename std::integral_constant<int, P::spin_limit>;
      typename std::integral_constant<int, P::lock_spin_limit>;

      // The clock deadlines are measured on.
      { P::clock::now() } -> std::same_as<typename P::clock::time_point>;
      typename P::clock::duration;

      // The word: an atomic with the std::atomic interface.
      { word.load(std::memory_order_relaxed) } -> std::same_as<std::uint32_t>;
      word.store(v, std::memory_order_relaxed);
      { word.exchange(v, std::memory_order_acquire) } -> std::same_as<std::uint32_t>;
      { word.fetch_add(v, std::memory_order_release) } -> std::same_as<std::uint32_t>;
      {
        word.compare_exchange_strong(v, v, std::memory_order_acquire, std::memory_order_relaxed)
      } -> std::same_as<bool>;

      // Futex operations on the word.
      P::wait(word, v, where);
      { P::wait_until(word, v, deadline, where) } -> std::same_as<bool>;
      P::wake_one(word);
      P::wake_all(word);
      P::relax();
      { P::thread_id() } -> std::same_as<std::uintptr_t>;
      { P::spurious_wakeup(obj, where) } -> std::convertible_to<bool>;

      t.join();
      { t.joinable() } -> std::convertible_to<bool>;

      // Annotations (the location argument is defaulted at every call site
      // that omits it).
      P::named(obj, text);
      P::acquiring(obj, lock_kind::mutex, acquire_flags::blocking, where);
      P::acquired(obj, lock_mode::exclusive, where);
      P::released(obj, lock_mode::exclusive, where);
      P::destroyed(obj);
      P::notified(obj, where);
      { P::misuse(obj, text, where) } -> std::same_as<void>;
    };

// The optional lock word: states 0 (unlocked) / 1 (locked); unlock returns
// the previous state, 0 meaning the word was not locked (a misuse the caller
// reports).
template <class P>
concept lock_word_platform =
    platform<P> && requires(typename P::template atomic<std::uint32_t>& word,
                            const std::source_location& where) {
      { P::lock_word_lock(word, where) } -> std::same_as<void>;
      { P::lock_word_try_lock(word, where) } -> std::same_as<bool>;
      { P::lock_word_unlock(word, where) } -> std::same_as<std::uint32_t>;
    };

// The optional lock word with its owner's annotations in the same call (a
// mutex's lock and unlock, one call each instead of three and two):
// lock_word_lock_owned(word, obj, where) is acquiring(obj, lock_kind::mutex,
// acquire_flags::blocking) + lock_word_lock + acquired(obj,
// lock_mode::exclusive); lock_word_unlock_owned is released(obj,
// lock_mode::exclusive) + lock_word_unlock.
template <class P>
concept owned_lock_word_platform =
    lock_word_platform<P> && requires(typename P::template atomic<std::uint32_t>& word, const void* obj,
                                      const std::source_location& where) {
      { P::lock_word_lock_owned(word, obj, where) } -> std::same_as<void>;
      { P::lock_word_unlock_owned(word, obj, where) } -> std::same_as<std::uint32_t>;
    };

// The optional count word (a semaphore's count, see lockstep/semaphore.hpp):
// acquire takes one unit, blocking while the count is 0 (acquire_until: up
// to the deadline; false when it passed without a unit); try_acquire never
// blocks; release adds n unless the count would pass `limit` (then it
// changes nothing) and returns the previous count, waking the waiters.
template <class P>
concept count_word_platform =
    platform<P> && requires(typename P::template atomic<std::uint32_t>& word, std::uint32_t n,
                            typename P::clock::time_point deadline, const std::source_location& where) {
      { P::count_word_acquire(word, where) } -> std::same_as<void>;
      { P::count_word_acquire_until(word, deadline, where) } -> std::same_as<bool>;
      { P::count_word_try_acquire(word, where) } -> std::same_as<bool>;
      { P::count_word_release(word, n, n, where) } -> std::same_as<std::uint32_t>;
    };

// The optional native condition variable on its sequence word (see
// lockstep/condition_variable.hpp): a wait is cond_enqueue while the caller
// holds its lock (false: the deadline already passed, no wait), the caller's
// unlock, cond_block (true: notified, false: the deadline passed), the
// caller's relock; cond_notify wakes the earliest waiter or all of them.
template <class P>
concept cond_platform =
    platform<P> && requires(typename P::template atomic<std::uint32_t>& word, bool flag,
                            typename P::clock::time_point deadline, const std::source_location& where) {
      { P::cond_enqueue(word, flag, deadline, where) } -> std::same_as<bool>;
      { P::cond_block(word, flag, deadline, where) } -> std::same_as<bool>;
      { P::cond_notify(word, flag, where) } -> std::same_as<void>;
    };

// The optional native monitor: a data structure whose every operation is one
// step under the platform's control. `monitor_step(lock, seq, probe, ctx,
// waits_on, where)` returns once `probe(ctx)` is ready, with the monitor to
// the caller alone until it calls `monitor_exit(lock, seq, where)` (the
// step's body runs in between, without scheduling points); while not ready
// it blocks (`waits_on` names what it waits for). `monitor_step_until`
// gives up at the deadline (false: the caller does not own the monitor); so
// does either while the run is being abandoned. `lock` and `seq` are the
// monitor's two words (a lock and a sequence for its waiters, where the
// platform needs them).
template <class P>
concept monitor_platform =
    platform<P> && requires(typename P::template atomic<std::uint32_t>& word, monitor_probe probe, const void* ctx,
                            typename P::clock::time_point deadline, const std::source_location& where) {
      { P::monitor_step(word, word, probe, ctx, ctx, where) } -> std::same_as<bool>;
      { P::monitor_step_until(word, word, probe, ctx, ctx, deadline, where) } -> std::same_as<bool>;
      { P::monitor_exit(word, word, where) } -> std::same_as<void>;
    };

static_assert(platform<os_platform>);
static_assert(!monitor_platform<os_platform>);
static_assert(!lock_word_platform<os_platform>);
static_assert(!owned_lock_word_platform<os_platform>);
static_assert(!cond_platform<os_platform>);
static_assert(!count_word_platform<os_platform>);

}  // namespace lockstep
