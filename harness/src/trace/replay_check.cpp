#include "trace/replay_check.hpp"

#include "report/text.hpp"

namespace lockstep::mc::rt {

std::string step_divergence(std::size_t i, const trace_event& want, const trace_event& got, step_stage stage) {
  std::string why = "replay diverged at step " + std::to_string(i + 1) + ": the trace has " + describe_event(want) +
                    ", the code did " + describe_event(got, stage == step_stage::complete);
  const bool object_late = stage == step_stage::made && got.o == op::spawn;
  if (got.object != want.object && !object_late && got.o != op::spawn && got.o != op::join)  // names may not tell them apart
    why += " (object " + std::to_string(want.object) + " in the trace, " + std::to_string(got.object) + " here)";
  return why + "; the code changed since the trace was recorded";
}

}  // namespace lockstep::mc::rt
