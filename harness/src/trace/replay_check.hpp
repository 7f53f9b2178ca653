// Internal: the one comparison of a replayed step with the trace's step,
// for the fiber engine (options::expect_events) and the OS-thread turnstile
// alike. A step is compared twice: when it is made (thread, operation and
// object; a compare-exchange's outcome and a spawn's child are not known
// yet) and once it is complete (its value too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lockstep/mc/trace.hpp"

namespace lockstep::mc::rt {

enum class step_stage : std::uint8_t { made, complete };

struct step_seen {
  std::uint32_t thread = 0;
  op o = op::start;
  std::uint32_t object = 0;
  std::uint64_t value = 0;
};

// Operations whose value a replay does not compare: how many a wake woke
// depends on who waits on the futex itself.
inline bool valued_op(op o) noexcept { return o != op::wake && o != op::yield && o != op::start && o != op::exit; }

inline bool same_step(const trace_event& want, const step_seen& got, step_stage stage) noexcept {
  const bool made = stage == step_stage::made;
  const bool cas_open = made && got.o == op::cas_ok && want.o == op::cas_fail;
  const bool object_late = made && got.o == op::spawn;  // the child's id is set after the point
  if (got.thread != want.thread || (got.o != want.o && !cas_open) || (got.object != want.object && !object_late))
    return false;
  return made || !valued_op(got.o) || got.value == want.value;
}

// Why step i (0-based) `got` (described as an event: thread, operation, object name,
// location) is not the trace's `want`: one line for a report.
std::string step_divergence(std::size_t i, const trace_event& want, const trace_event& got, step_stage stage);

}  // namespace lockstep::mc::rt
