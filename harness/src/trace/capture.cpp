// Traces from results and replays from traces (the file format is trace.cpp).
#include <string>
#include <utility>

#include "lockstep/mc/trace.hpp"
#include "engine/fatal.hpp"
#include "trace/replay_options.hpp"
#include "strategies/strategy.hpp"

#ifndef LOCKSTEP_VERSION
#define LOCKSTEP_VERSION "unknown"
#endif

namespace lockstep::mc {

trace trace_of(const result& r, const options& o) {
  trace t;
  t.model = o.name;
  t.test = r.test;
  t.lockstep_version = LOCKSTEP_VERSION;
  t.strategy = r.strategy;
  t.seed = o.strategy.seed;
  detail::for_each_shaping_option([&](const auto&, auto in_options, auto in_trace) { t.*in_trace = o.*in_options; });
  t.stack_size = o.stack_size;
  // The watchdog's limit the run had (the default depends on its time
  // budget, which a replay has not).
  const std::int64_t limit = rt::effective_step_timeout(o).count();
  t.step_timeout_ms = limit == 0 ? -1 : limit;
  if (r.found) {
    const bug& b = *r.found;
    t.schedule = b.schedule;
    t.kind = b.kind;
    t.bug_step = b.step;
    t.bug_thread = b.thread;
    t.message = b.message;
    t.events = b.events;
  }
  return t;
}

options replay_options(const trace& t, options base) {
  // A recorded bug is replayed strictly; a recorded pass (a bug since fixed,
  // so the code no longer makes the recorded events) leniently.
  base.strategy = replay(t.schedule, !t.kind.has_value());
  base.expect_events = t.kind ? &t.events : nullptr;
  detail::for_each_shaping_option([&](const auto&, auto in_options, auto in_trace) { base.*in_options = t.*in_trace; });
  // Whether a step ends the process: as in the recorded run (a trace from
  // before version 4 says 256 KiB and 0: `base` keeps its step timeout).
  base.stack_size = t.stack_size;
  if (t.step_timeout_ms != 0) base.step_timeout = std::chrono::milliseconds(t.step_timeout_ms);
  if (base.name.empty()) base.name = t.model;
  return rt::alone(std::move(base));
}

std::string verdict_mismatch(const trace& t, const result& r) {
  const std::string want = t.kind ? bug_kind_name(*t.kind) : "pass";
  if (!r.found) return t.kind ? "the trace records a " + want + " bug; the replay found none" : "";
  const std::string got = bug_kind_name(r.found->kind);
  if (!t.kind) return "the trace records a pass; the replay found a " + got + " bug: " + r.found->message;
  if (r.found->kind != *t.kind) return "the trace records a " + want + " bug; the replay found a " + got + " bug: " + r.found->message;
  if (r.found->step != t.bug_step)
    return "the trace records the " + want + " at step " + std::to_string(t.bug_step) + "; the replay found it at step " +
           std::to_string(r.found->step);
  return "";
}

}  // namespace lockstep::mc
