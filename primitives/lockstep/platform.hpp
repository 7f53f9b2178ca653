// lockstep/platform.hpp — the seam between a primitive and the machine.
//
// Every primitive in lockstep is a template `basic_X<P>` on a *platform* P.
// A platform supplies exactly what a primitive needs from the machine:
//
//   P::atomic<T>                 an atomic with the std::atomic interface
//   P::wait(word, expected, loc) block while `word == expected` (futex wait);
//                                may return spuriously
//   P::wait_until(word, expected, deadline, loc)
//                                as wait, gives up at `deadline` (returns false
//                                on timeout)
//   P::wake_one(word) / P::wake_all(word)
//                                wake waiters blocked on `word` (futex wake)
//   P::relax()                   a spin-loop hint / yield point
//   P::thread_id()               a non-zero id of the calling thread (owners)
//   P::spurious_wakeup(obj, loc) whether a condition wait wakes spuriously
//                                now: never in production (futex wake-ups
//                                that are spurious still happen there), a
//                                scheduler choice under the checker
//   P::clock                     the clock deadlines are measured on
//   P::thread                    the thread type models and pools spawn
//   P::spin_limit                how many times a primitive may spin before it
//                                blocks (a tuning knob, never a semantic one)
//   P::lock_spin_limit           the same for a contended lock word
//   P::release_scope             an RAII marker a primitive puts around a
//                                release path (unlock, release, set, notify,
//                                ...), which may run in a destructor: the
//                                checker then never throws a failed
//                                execution's abort out of it (empty here)
//   annotations                  acquiring / acquired / released / destroyed /
//                                named / misuse: ownership facts that feed the
//                                checker's wait-for graph and misuse checks
//                                (acquiring(obj, kind, flags, loc, mode), the
//                                mode optional, says which mode a thread
//                                waits for: a shared acquisition overtakes no
//                                thread waiting for shared mode); notified: a
//                                notify / release / set happened (lost
//                                wake-up reports name the one missed)
//
// The same contract in code is `concept platform` (and `lock_word_platform`
// for an optional native lock word), in lockstep/platform_concept.hpp.
//
// `os_platform` (this file) is the production platform: std::atomic, Linux
// futexes, steady_clock, std::jthread. Its annotations are empty inline
// functions and compile away; `misuse` prints one line and aborts, so misuse
// is never undefined behaviour. The checker's platform, `lockstep::mc::platform`,
// lives in harness/ and is never included from here.
//
// Lifetime: a platform is a bag of static functions; it has no state.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <source_location>
#include <thread>

#include <pthread.h>

namespace lockstep {

// What kind of resource an ownership annotation talks about (reports use it).
enum class lock_kind : std::uint8_t {
  mutex,
  recursive_mutex,
  shared_mutex,
  semaphore,
  condition,
  event,
  other,
};

// How a resource is held.
enum class lock_mode : std::uint8_t { exclusive, shared };

// Annotation flags for acquiring(): a `try_` acquisition never waits, so it
// can never be part of a deadlock; a `timed` one gives up at a deadline.
enum class acquire_flags : std::uint8_t { blocking = 0, try_ = 1, timed = 2 };

namespace detail {
[[noreturn]] void os_misuse(const void* object, const char* what,
                            const std::source_location& loc) noexcept;
void os_futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept;
// Returns false when the deadline passed.
bool os_futex_wait_until(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                         std::chrono::steady_clock::time_point deadline) noexcept;
void os_futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept;
}  // namespace detail

// A native monitor's step, as its probe sees the monitor now: whether it
// can happen (`ready`), and which of the monitor's fields (bits 0..2, the
// monitor's to number) it reads and writes if it does, or the ones its
// blocked attempt read if it does not (a step that writes one of those may
// make it ready).
//
// Which fields a ready step names may hang on the value of a field it
// writes (a try_get of the empty queue only reads the items), never on the
// value of another field alone: dpor takes a step's fields as fixed by the
// step, and a step whose fields shrink because another thread wrote a
// field (a put that finds the queue closed) would look independent of a
// third thread's step (a try_get) that it conflicts with in the order
// where it comes first: that order would never be tried. Such a step names
// the fields it would have touched, whether it touches them or not.
struct monitor_state {
  bool ready = false;
  std::uint8_t reads = 0;
  std::uint8_t writes = 0;
  // Of `reads` and `writes`, the fields whose last write made the ready
  // step possible: before that write the step would not have been ready,
  // whatever else the monitor held (a closed flag for a get of the empty
  // queue; the items a put has just made non-empty, for a get; the count of
  // unfinished items the last task_done brought to 0, for a join). An
  // untimed step comes after that write, never in a race with it: run
  // before it, the step would have waited for it.
  std::uint8_t needs = 0;
  // Of `writes`, the fields this write makes a step wait on that would not
  // have waited just before it (the queue's put raising the count of
  // unfinished items from 0: a join could have returned before it).
  std::uint8_t raises = 0;
  // Of `reads`: the fields where the step could have come first only
  // before the last raising write, whatever was written since (a join:
  // between that put and now the count never was 0). That write is its
  // race; the writes since only order it. A step that is not ready names
  // them when their last write did not make it wait (a task_done that left
  // items unfinished); a ready one, whichever write before the last one
  // was (a join after the task_done that brought the count to 0).
  std::uint8_t stale = 0;
  // What the monitor holds, in one word (a queue: how many items, and the
  // closed flag). The checker compares it at the first step of each
  // execution: a monitor that outlives the executions must not carry what
  // one left into the next.
  std::uint64_t held = 0;
};
using monitor_probe = monitor_state (*)(const void* ctx) noexcept;

struct os_platform {
  template <class T>
  using atomic = std::atomic<T>;
  using clock = std::chrono::steady_clock;
  using thread = std::jthread;
  using loc = std::source_location;

  // Spin this many times (with relax()) before blocking in the kernel: a
  // handed-off permit or event usually arrives within a few hundred cycles,
  // and sleeping costs a wake-up on another CPU (tens of microseconds here).
  static constexpr int spin_limit = 100;
  // A contended lock word does not spin (as glibc's default mutex): a spinner
  // that wins keeps both threads running and the lock's cache line moving
  // between cores on every operation; letting the loser sleep lets the
  // winner run alone from its own cache (tools/bench/README.md).
  static constexpr int lock_spin_limit = 0;

  static void wait(atomic<std::uint32_t>& word, std::uint32_t expected,
                   const loc& = loc::current()) noexcept {
    detail::os_futex_wait(word, expected);
  }
  static bool wait_until(atomic<std::uint32_t>& word, std::uint32_t expected,
                         clock::time_point deadline, const loc& = loc::current()) noexcept {
    return detail::os_futex_wait_until(word, expected, deadline);
  }
  static void wake_one(atomic<std::uint32_t>& word) noexcept { detail::os_futex_wake(word, 1); }
  static void wake_all(atomic<std::uint32_t>& word) noexcept {
    detail::os_futex_wake(word, 0x7fffffff);
  }

  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#else
    std::this_thread::yield();
#endif
  }

  static std::uintptr_t thread_id() noexcept {
    return static_cast<std::uintptr_t>(::pthread_self());
  }
  static constexpr bool spurious_wakeup(const void*, const loc& = loc::current()) noexcept {
    return false;
  }

  // Marks a release path (see above); nothing in production.
  struct release_scope {
    release_scope() noexcept {}  // user-provided: no unused-variable warning
  };

  // Ownership annotations: free in production.
  static void named(const void*, const char*) noexcept {}
  static void acquiring(const void*, lock_kind, acquire_flags = acquire_flags::blocking,
                        const loc& = loc::current(), lock_mode = lock_mode::exclusive) noexcept {}
  static void acquired(const void*, lock_mode, const loc& = loc::current()) noexcept {}
  static void released(const void*, lock_mode, const loc& = loc::current()) noexcept {}
  static void destroyed(const void*) noexcept {}
  static void notified(const void*, const loc& = loc::current()) noexcept {}

  // A misuse the primitive detected by itself (e.g. unlocking an unlocked
  // mutex): one line on stderr, then abort. Never undefined behaviour.
  // Primitives call it as `return P::misuse(...)`: the checker's platform
  // records the bug and returns (the thread stops at its next scheduling
  // point), so nothing after the call may rely on it not returning.
  [[noreturn]] static void misuse(const void* object, const char* what,
                                  const loc& where = loc::current()) noexcept {
    detail::os_misuse(object, what, where);
  }
};

}  // namespace lockstep
