// lockstep/mc/time.hpp — virtual time for protocol models: sleeps, process
// pauses, and per-node clocks that drift within a bound and may jump.
//
//   mc::sleep_for(10us);                 // lets virtual time pass
//   if (mc::pause_point(50us)) ...       // a "GC pause" the scheduler may inject
//   mc::node_clock c{2us};               // this node's clock: off by -2, 0 or +2 us
//   c.maybe_jump(30us);                  // ... and perhaps jumps 30 us ahead here
//
// Virtual time (mc::virtual_clock) starts at zero in every execution and only
// moves when a timeout fires: a sleeping thread stays a scheduling candidate,
// and when the scheduler picks it the sleep ends and the clock advances to its
// deadline (never backwards). Other threads may run meanwhile or not, so a
// sleep is "at least this long", as on a real machine. Nothing here costs
// real time under the checker.
//
// Choices: pause_point, node_clock's drift and maybe_jump are mc::choose
// decisions (dfs enumerates them, random samples them, replay and trace files
// record them), so an OS-thread replay through the turnstile takes the same
// ones. On OS threads a sleep is a real timed futex wait of the same length
// (virtual nanoseconds are real ones there): keep durations in models small
// (microseconds). Outside an execution a sleep returns at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <source_location>

#include "lockstep/mc/platform.hpp"

namespace lockstep::mc {

// Sleeps `d` of virtual time (a timed wait nobody wakes). A scheduling point;
// `d <= 0` still yields once.
inline void sleep_for(std::chrono::nanoseconds d,
                      const std::source_location& where = std::source_location::current()) {
  atomic<std::uint32_t> word{0};
  const virtual_clock::time_point deadline = virtual_clock::now() + d;
  while (platform::wait_until(word, 0, deadline, where) && detail::active() &&
         virtual_clock::now() < deadline) {
  }
}

inline void sleep_until(virtual_clock::time_point t,
                        const std::source_location& where = std::source_location::current()) {
  sleep_for(t - virtual_clock::now(), where);
}

// A marked point where the process may be paused (a stop-the-world GC pause,
// a page fault storm, a VM migration): a choice between sleeping `length` of
// virtual time (alternative 0, so dfs explores the pause first: it is where
// the bugs are) and running on. Returns whether it paused.
inline bool pause_point(std::chrono::nanoseconds length,
                        const std::source_location& where = std::source_location::current()) {
  if (choose(2, where) != 0) return false;
  sleep_for(length, where);
  return true;
}

// One node's local clock: virtual time plus an offset (drift) chosen once,
// when the clock is made, among -max_drift, 0 and +max_drift (one choice;
// none when max_drift is zero), plus the jumps taken at maybe_jump(). While
// it has not jumped, |now() - virtual_clock::now()| <= max_drift.
class node_clock {
 public:
  using duration = std::chrono::nanoseconds;
  using time_point = virtual_clock::time_point;

  explicit node_clock(duration max_drift = duration::zero(),
                      const std::source_location& where = std::source_location::current())
      : max_drift_(max_drift) {
    if (max_drift > duration::zero()) offset_ = max_drift * (static_cast<int>(choose(3, where)) - 1);
  }

  [[nodiscard]] time_point now() const noexcept { return virtual_clock::now() + offset_ + jumped_; }
  [[nodiscard]] duration drift() const noexcept { return offset_; }
  [[nodiscard]] duration max_drift() const noexcept { return max_drift_; }
  [[nodiscard]] duration jumped() const noexcept { return jumped_; }

  // A marked point where the clock may jump `by` (an operator's or NTP's
  // step; negative jumps backwards): a choice. Returns whether it jumped.
  bool maybe_jump(duration by, const std::source_location& where = std::source_location::current()) {
    if (choose(2, where) == 0) return false;
    jumped_ += by;
    return true;
  }

 private:
  duration max_drift_;
  duration offset_{0};
  duration jumped_{0};
};

}  // namespace lockstep::mc
