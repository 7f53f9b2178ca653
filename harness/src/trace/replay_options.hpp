// Internal: the options that shape a replay, in one table. A trace records
// them (and a replay of it runs with them): they decide which schedules
// exist and which executions are bugs, so a replay under other values may
// not take the recorded steps or end in the recorded verdict.
//
// Everything that lists them walks this table: the trace file's writer and
// reader (trace.cpp), trace_of and replay_options (capture.cpp), and the
// lockstep tool's replay command and JSON report (tools/lockstep.cpp). A new
// option added here is recorded, read back, replayed and reported.
#pragma once

#include <string>
#include <type_traits>

#include "lockstep/mc/explore.hpp"
#include "lockstep/mc/trace.hpp"

namespace lockstep::mc::detail {

struct shaping_option_names {
  // The trace file's header line (also the reader's name for the value in
  // error messages). The table's order is the header lines' order.
  const char* header;
  // The flag of `lockstep check` that sets it, "" when there is none. A bool
  // option's flag takes no value and turns the default over.
  const char* flag;
  // Its key among the "options" of `lockstep check --report-json`.
  const char* json;
};

// One row: deducing T from both member pointers makes a row whose members
// differ in type a compile error.
template <class F, class T>
void shaping_option(F& f, shaping_option_names names, T options::*in_options, T trace::*in_trace) {
  f(names, in_options, in_trace);
}

// Calls f(names, &options::member, &trace::member) for each option, in the
// order of the trace header.
template <class F>
void for_each_shaping_option(F&& f) {
  shaping_option(f, {"spurious-wakeups", "--spurious-wakeups", "spurious_wakeups"}, &options::spurious_wakeups,
                 &trace::spurious_wakeups);
  shaping_option(f, {"memory-model", "--memory-model", "memory_model"}, &options::memory_model,
                 &trace::memory_model);
  shaping_option(f, {"spurious-cas-failures", "--spurious-cas-failures", "spurious_cas_failures"}, &options::spurious_cas_failures,
                 &trace::spurious_cas_failures);
  shaping_option(f, {"max-steps", "--max-steps", "max_steps"}, &options::max_steps, &trace::max_steps);
  shaping_option(f, {"fair-scheduling", "--unfair", "fair_scheduling"}, &options::fair_scheduling,
                 &trace::fair_scheduling);
  shaping_option(f, {"livelock-window", "--livelock-window", "livelock_window"}, &options::livelock_window,
                 &trace::livelock_window);
  shaping_option(f, {"busy-wait-bound", "--busy-wait-bound", "busy_wait_bound"}, &options::busy_wait_bound,
                 &trace::busy_wait_bound);
  shaping_option(f, {"bypass-bound", "--bypass-bound", "bypass_bound"}, &options::bypass_bound,
                 &trace::bypass_bound);
}

// An option's value as text (trace header, flag argument): numbers in
// decimal, bools as 1 / 0, the memory model by name.
template <class T>
std::string option_text(const T& v) {
  if constexpr (std::is_same_v<T, bool>) return v ? "1" : "0";
  else if constexpr (std::is_same_v<T, memory_model>) return memory_model_name(v);
  else return std::to_string(v);
}

}  // namespace lockstep::mc::detail
