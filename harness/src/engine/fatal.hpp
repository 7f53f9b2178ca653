// Internal: bugs that end the process. A fatal signal in checked code (a
// crash, a stack overflow) and a step the watchdog finds running far too long
// cannot be returned from explore(): the execution cannot go on. They are
// reported from a signal handler on the failing OS thread, on an alternate
// signal stack — the replay string first, with async-signal-safe code only,
// then (best effort, under a timer) the details and the trace file — and the
// process ends with the signal (the watchdog: exit code 124).
//
// One watchdog thread per process watches every runtime's step counter while
// it runs an execution; it sleeps while no runtime exists.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "lockstep/mc/explore.hpp"

namespace lockstep::mc::rt {

struct watch_slot;

// The exit code of a process whose step the watchdog ended (as timeout(1)).
inline constexpr int kWatchdogExitCode = 124;
// The exit code of a process that checked code ended (std::exit(),
// std::quick_exit()) in an execution: a report with its schedule, then this.
inline constexpr int kCheckedExitCode = 125;
// runtime::fatal_signal's `sig` for such an end (no signal).
inline constexpr int kExitCalled = 0;

// The watchdog's limit for one step under `o` (options::step_timeout);
// zero: no watchdog.
std::chrono::milliseconds effective_step_timeout(const options& o) noexcept;

// For one runtime's lifetime, on its OS thread: the fatal-signal handlers
// (installed once per process), an alternate signal stack for this thread
// (set up once, kept until the thread ends), and the runtime's watchdog slot.
class fatal_scope {
 public:
  fatal_scope(const std::atomic<std::uint64_t>& steps, const options& o);
  ~fatal_scope();
  fatal_scope(const fatal_scope&) = delete;
  fatal_scope& operator=(const fatal_scope&) = delete;

  // The runtime is (or is no longer) running an execution: the watchdog
  // times its steps only then. (Inline: it is called twice an execution.)
  void executing(bool on) noexcept {
    if (live_ == nullptr) return;
    // A signal the last execution just escaped is ignored. Stored only when
    // set: a sequentially consistent store is a full fence.
    if (on && fired_->load(std::memory_order_relaxed) != 0) [[unlikely]]
      fired_->store(0);
    live_->store(on, std::memory_order_relaxed);
  }
  // The step the watchdog ended (the report says how long it ran), or 0.
  std::int64_t fired_ms() const noexcept;
  // Whether it ended because its thread was blocked in the OS when the
  // limit of wall-clock time had passed (else: it used the limit of CPU time).
  bool fired_blocked() const noexcept;

 private:
  watch_slot* slot_ = nullptr;
  // slot_'s two words executing() writes (null without a slot).
  std::atomic<bool>* live_ = nullptr;
  std::atomic<std::int64_t>* fired_ = nullptr;
};

// The GoogleTest test explore() runs in ("" outside one), kept for a report
// made in a signal handler: its run line then runs that test alone.
void set_fatal_test(const std::string& test) noexcept;

}  // namespace lockstep::mc::rt

namespace lockstep::mc::detail {
// Whether a bug's trace file is asked for (search/explore.cpp): trace_dir names a
// directory, or is "" and LOCKSTEP_TRACE_DIR is set (see options::trace_dir).
bool trace_asked(const std::string& trace_dir);
}  // namespace lockstep::mc::detail
