// Livelock: no progress mark and no thread finishing for livelock_window
// steps, while the latest steps repeat with a period. A detector component:
// its state, reset(), on_* calls, and the period as its finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/backend.hpp"

namespace lockstep::mc::rt {

class livelock {
 public:
  void reset(const options& o) noexcept {
    window_ = o.livelock_window;
    last_progress_ = 0;
    next_check_ = 0;
  }
  // A progress mark (LOCKSTEP_PROGRESS(), a progress lock, a thread that
  // finishes) at `step`.
  void progress(std::uint64_t step) noexcept { last_progress_ = step; }
  // Whether a yield at `step` should look for a cycle.
  [[nodiscard]] bool due(std::uint64_t step) const noexcept {
    return step >= next_check_ && step - last_progress_ >= window_;
  }
  // The period with which the last steps of `events` repeat, 0 if they do
  // not (yet); schedules the next look.
  std::size_t period(const event_log& events, std::uint64_t step);
  [[nodiscard]] std::uint64_t window() const noexcept { return window_; }

 private:
  std::uint64_t window_ = 0;
  std::uint64_t last_progress_ = 0;  // step of the latest progress mark or exit
  std::uint64_t next_check_ = 0;
};

}  // namespace lockstep::mc::rt
