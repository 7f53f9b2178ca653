// Traces from results and replays from traces (the file format is trace.cpp).
#include <string>
#include <utility>

#include "lockstep/mc/trace.hpp"
#include "strategy.hpp"

#ifndef LOCKSTEP_VERSION
#define LOCKSTEP_VERSION "unknown"
#endif

namespace lockstep::mc {

namespace {

// The options that shape a schedule, which a trace records: one list for
// writing them into a trace and for reading them back.
template <class Options, class Trace, class Copy>
void shaping_options(Options& o, Trace& t, Copy copy) {
  copy(o.spurious_wakeups, t.spurious_wakeups);
  copy(o.max_steps, t.max_steps);
  copy(o.fair_scheduling, t.fair_scheduling);
  copy(o.livelock_window, t.livelock_window);
  copy(o.busy_wait_bound, t.busy_wait_bound);
  copy(o.bypass_bound, t.bypass_bound);
}

}  // namespace

trace trace_of(const result& r, const options& o) {
  trace t;
  t.model = o.name;
  t.lockstep_version = LOCKSTEP_VERSION;
  t.strategy = r.strategy;
  t.seed = o.strategy.seed;
  shaping_options(o, t, [](const auto& from, auto& to) { to = from; });
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
  shaping_options(base, t, [](auto& to, const auto& from) { to = from; });
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
