// Internal: the one comparison of a replayed step with the trace's step,
// for the fiber engine (options::expect_events) and the OS-thread turnstile
// alike. A step is compared twice: when it is made (thread, operation and
// object; a compare-exchange's outcome and a spawn's child are not known
// yet) and once it is complete (its value too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
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

// Why a trace whose bug (if any) is `kind` at step `bug_step` of its `n`
// events replays on fibers only, or null when OS threads can replay it too.
// A stack overflow: OS threads have stacks of their own size. A step the
// watchdog ended (its bug at the last event; the step bound's is past it):
// on OS threads nothing could stop it. The OS-thread replay refuses such a
// trace with this reason, and a report offers the OS-thread replay only
// when this is null.
inline const char* fibers_only_reason(std::optional<bug_kind> kind, std::uint64_t bug_step, std::size_t n) noexcept {
  if (kind == bug_kind::stack_overflow)
    return "a stack overflow replays on fibers only (they have the stack size it overflowed; OS threads do not)";
  if (kind == bug_kind::non_termination && bug_step == n)
    return "a step that never reached its next scheduling point (the watchdog ended it) replays on fibers only: on "
           "OS threads nothing could stop it";
  return nullptr;
}

// Why step i (0-based) `got` (described as an event: thread, operation, object name,
// location) is not the trace's `want`: one line for a report.
std::string step_divergence(std::size_t i, const trace_event& want, const trace_event& got, step_stage stage);

}  // namespace lockstep::mc::rt
