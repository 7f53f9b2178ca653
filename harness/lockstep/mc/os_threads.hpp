// lockstep/mc/os_threads.hpp — run a model on real OS threads.
//
// The same body that explore() runs on fibers runs here on one OS thread per
// mc::thread, with mc::atomic operating on real memory and the platform's
// waits being real futex waits. Two modes:
//
//  - replay (turnstile): each scheduling point waits (a futex on a shared
//    turn counter) until the recorded schedule names its thread, checks that
//    it performs the recorded event (operation, object, value), performs it,
//    and passes the turn on. Once the schedule is used up, the threads run
//    free: a recorded deadlock then blocks for real, a recorded assertion
//    fails for real. The failure reproduces on hardware, with real stacks,
//    under a debugger. Bugs that are properties of the history (a data race,
//    livelock, starvation, busy waiting, a step bound) reproduce when the
//    whole recorded history has run on the threads; the run then stops.
//  - free (stress): no turnstile; the OS schedules the threads. How often a
//    bug shows up this way is the case for controlled scheduling.
//
// A hang (every live thread blocked in a real wait on a word that still
// holds the value it waits for, for 10 ms; or no scheduling point for
// `hang`) is detected by a watchdog, reported (as a deadlock when every
// thread is blocked), and the threads are released by aborting the run:
// each throws the checker's internal abort exception from its next
// scheduling point and unwinds. Code that never reaches one cannot be
// stopped: after a grace period the process exits with status 3
// (kStuckThreadsExitCode).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lockstep/mc/explore.hpp"
#include "lockstep/mc/trace.hpp"

namespace lockstep::mc {

// The exit code of a process whose aborted run's threads did not stop.
inline constexpr int kStuckThreadsExitCode = 3;

struct thread_run_options {
  // No scheduling point at all, or every thread blocked, for this long: a hang.
  std::chrono::milliseconds hang{250};
  // The whole run: longer is reported as non-termination (free runs only).
  std::chrono::milliseconds timeout{10000};
  // Free runs: seed for mc::choose (random values).
  std::uint64_t seed = 1;
};

struct thread_run {
  std::optional<bug_kind> kind;  // what the run showed (nullopt: it passed)
  std::string message;           // one sentence about it
  std::string divergence;        // replay: why the code left the schedule, or why the trace
                                 // cannot be followed ("" if neither)
  std::string notes;             // more of what happened, indented lines as in bug::details
                                 // ("" if nothing): a thread the abort stopped where it could
                                 // not unwind
  std::uint64_t steps = 0;       // scheduling points run
  bool schedule_done = false;    // replay: every recorded event was replayed
  double seconds = 0;
};

// What many free runs showed (stress()).
struct stress_tally {
  std::uint64_t runs = 0;
  std::uint64_t bugs = 0;  // runs that showed a bug
  // "pass" or "bug: KIND", and how many runs had it; in the order first seen.
  std::vector<std::pair<std::string, std::uint64_t>> verdicts;
  std::string first;  // the first bug: "run N: what it was" ("" if none)
  double seconds = 0;
};

namespace detail {
thread_run run_on_threads(const trace* follow, const thread_run_options& o, body_ref body);
stress_tally stress_runs(body_ref body, std::uint64_t runs, thread_run_options o);
}

// Replays `t` on OS threads with the turnstile. A trace the fiber replay
// would refuse (a schedule that is not a replay string, a bug recorded
// before its last step, a thread that no spawn made, an object id the
// checker would not have given) is refused before any thread runs:
// `divergence` says why, in one line.
template <class F>
thread_run replay_on_threads(const trace& t, F&& body, const thread_run_options& o = {}) {
  return detail::run_on_threads(&t, o, detail::as_body(body));
}
// One free run on OS threads.
template <class F>
thread_run run_free(F&& body, const thread_run_options& o = {}) {
  return detail::run_on_threads(nullptr, o, detail::as_body(body));
}

// `runs` free runs on OS threads (lockstep stress), run i (from 0) with seed
// i + 1, in a child process: a run whose code ends the process (a crash, a
// stack overflow, abort(), exit(), or threads its abort cannot stop, see
// above) ends the child, not the caller. That run counts as a crash (as
// non_termination for the threads that would not stop), and the runs after
// it go on in a new child. The caller must not be running other threads
// that the child would need (a fork copies only the calling one). Throws
// std::runtime_error when no child can be made.
template <class F>
stress_tally stress(F&& body, std::uint64_t runs, const thread_run_options& o = {}) {
  return detail::stress_runs(detail::as_body(body), runs, o);
}

}  // namespace lockstep::mc
