// Internal: the words of the liveness reports — livelock, busy waiting,
// starvation (bounded bypass, optimistic retries) and lost wake-ups — as
// pure functions of what the detectors found and a read-only view of the
// execution.
#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>

#include "detectors/retries.hpp"
#include "report/describe.hpp"

namespace lockstep::mc::rt {

struct report_text {
  std::string message;  // one sentence
  std::string details;
};

// The last `period` steps repeat, with no progress for `window` steps.
report_text livelock_text(const execution_view& v, std::size_t period, std::uint64_t window);
// `thread` read `run` times in a row without a yield.
report_text busy_wait_text(const execution_view& v, std::uint32_t thread, std::uint32_t run, std::uint32_t bound);
// Waiter `starved` on resource `r` was overtaken `total` times (v.waits says by whom).
report_text bypass_text(const execution_view& v, std::uint32_t starved, const object_rec& r, std::uint32_t total,
                        std::uint32_t bound);
// `thread`'s retry loop on `obj` lost `total` times, the latest at `latest`.
report_text retry_starvation_text(const execution_view& v, std::uint32_t thread, const void* obj,
                                  const retry_watch::thread_state& retry, std::uint32_t total,
                                  const std::source_location& latest, std::uint32_t bound);
// `t` waits on a word nobody left can wake.
report_text lost_wakeup_text(const execution_view& v, const thread_rec& t);

}  // namespace lockstep::mc::rt
