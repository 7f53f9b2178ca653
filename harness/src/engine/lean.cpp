// The lean path of random sampling (options::lean_sampling).
//
// Much of what an execution costs is bookkeeping for its report: the object
// store (names, resource records), the wait-for graph, memory-model views,
// the detectors' per-thread state. A passing execution of a model that uses only
// seq_cst atomics, native mutexes, spawn, join, yields, value choices and
// plain memory needs none of it, so a lean execution leaves it out and runs
// the same code otherwise: the same decisions (fair scheduling and
// busy-wait runs are kept: they decide which threads are eligible and when
// a spin is a bug), the same events, the same step bound. Anything else — a
// wait, a condition variable, a weaker atomic, a fence, an annotation of
// another primitive —
// and every bug stops it (lean_stop()): it unwinds as after a bug, without a
// verdict, and the sampling loop runs the execution again, in full, after
// strategy::restart() (the same seed, so the same schedule up to the stop
// and on). The full execution then finds the bug and reports it as always.
//
// A fatal signal cannot run the execution again: its report is made from
// the lean execution's events, with the names and lock holders it kept
// (lean_to_full()); its replay string runs it in full.
//
// What a lean execution must not do is pass where the full one fails. The
// bugs a full execution finds by its bookkeeping leave a trace a lean one
// sees: a deadlock cycle blocks its threads for good (so the execution
// cannot end with every thread finished: a lean execution stops at the
// global deadlock or the step bound), a misused mutex is caught by the
// holders kept here, a leaked thread at the end; a lost wake-up waits. A
// livelock is looked for at yields as in full, on the same events and at
// the same steps (a lock marked as progress, mc::progress_on_acquire, is
// an annotation that stops a lean execution: without its marks the checks
// would fall on other steps).
//
// Plain memory (mc::shared) is checked for races here too, once a search has
// met it: the race detector keeps its clocks over the synchronisation a
// lean execution has (spawn, join, the mutexes, the atomics), its objects
// known by address (lean_race_objs_). It may order less than the full
// execution would, never more (lean_atomic_clocks): a race it finds stops
// it, and the full execution decides.
#include <algorithm>

#include "engine/runtime.hpp"

namespace lockstep::mc::rt {

bool runtime::lean_now() const noexcept {
  // A search whose executions mostly leave the lean path pays for two runs
  // of each: after a few, it stops trying.
  return lean_ok_ && !lean_retry_ && !user_places_ && lean_stops_ <= 8 + lean_runs_ / 4;
}

void runtime::lean_stop() noexcept {
  if (aborting_) return;
  aborting_ = true;
  restart_ = true;
}

void runtime::lean_begin() {
  ++lean_runs_;
  // No views and no lazy record of first values: every atomic is seq_cst.
  // (A full execution after this one clears what an earlier one left:
  // mm_dirty_ stays as it is.)
  lazy_ = false;
  mm_.turn(false);
  detector<fairness>().reset(opts_);
  detector<busy_wait>().reset(opts_);
  detector<livelock>().reset(opts_);
  detector<race_detector>().reset(opts_);
  lean_held_.clear();
  lean_names_.clear();
  lean_race_objs_.clear();
}

void runtime::lean_new_thread(thread_rec& t, std::uint32_t tid, const std::source_location& loc) noexcept {
  // What a lean execution reads of a thread: its state, its wait queue,
  // its join, abort and unwinding marks, its name and places. (The rest is
  // set before it is read, or belongs to what lean executions leave out; a
  // full execution starts every field afresh.)
  thread_exec& x = t;
  x.st = tstate::runnable;
  x.abort_grace = 0;
  x.abandoned = 0;
  x.lean_kind = lock_kind::other;
  x.wait_unordered = false;
  x.blocked_unordered = false;
  x.release_depth = 0;
  x.leaked_unwinding = kNoThread;
  x.wait_addr = nullptr;
  x.wq_obj = 0;
  x.wq_next = x.wq_prev = kNoThread;
  x.timed = false;
  x.lock_wait = false;
  x.count_wait = x.cond_wait = x.monitor_wait = false;
  x.probe = nullptr;
  x.timed_out = false;
  x.joiner = kNoThread;
  x.joiners = false;
  x.joined = false;
  x.detached = false;
  x.label = nullptr;
  x.spawn_loc = loc;
  x.block_loc = loc;
  detector<fairness>().on_thread(tid);
  detector<busy_wait>().on_thread(tid);
}

// The clocks of a lean execution's atomic operation (the race detector is
// on). Its loads read the last store, whose message is the object's clock:
// a load acquires it; a store replaces it with its thread's clock, an RMW
// (or a CAS that wrote) joins its thread's into it, as its message
// continues the one it read. A full execution orders at least this much:
// under rc11 exactly this (its messages carry these clocks), under sc more
// (every atomic operation acquires the object's clock, every write joins
// into it). So a race the full execution reports, this one finds too, and
// one it finds that the full one would not is only a stop.
void runtime::lean_atomic_clocks(op o, const void* addr, std::uint32_t id, bool wrote) {
  race_detector& races = detector<race_detector>();
  const std::uint32_t obj = lean_race_obj(addr, id);
  if (o != op::store) races.on_acquire(cur_, obj);
  if (!wrote) return;
  if (o == op::store) races.on_store(cur_, obj);
  else races.on_release(cur_, obj);
}

void runtime::lean_end() {
  if (!restart_) return;
  // Not an execution: it runs again, in full.
  lean_retry_ = true;
  ++lean_stops_;
}

// A lock's holders: a full execution's objects_ record them, and report a
// release by a thread that does not hold the lock, in that mode, as a
// misuse (the lean one stops). The usual release, of the lock taken last,
// is inline (runtime.hpp).
void runtime::lean_released_earlier(const void* obj, lock_mode mode) noexcept {
  for (std::uint32_t i = lean_held_.n; i-- > 0;) {
    const lean_hold& x = lean_held_.items[i];
    if (x.obj == obj && x.thread == cur_ && x.mode == mode) return lean_held_.erase(i);
  }
  lean_stop();
}

void runtime::lean_destroyed_held(const void* obj) noexcept {
  for (const lean_hold& x : lean_held_)
    if (x.obj == obj) return lean_stop();
}

void runtime::lean_to_full() noexcept {
  // A fatal signal in a lean execution: its report describes what a full
  // one would have recorded up to here, the objects' names and the locks'
  // holders from what the lean one kept (the replay string it prints runs
  // the execution in full).
  lean_ = false;
  try {
    objects_.reset();
    for (const auto& [obj, name] : lean_names_) {
      if (name != nullptr) objects_.name(obj, name);
      else objects_.unname(obj);
    }
    for (const lean_hold& x : lean_held_) objects_[resource_for(x.obj, x.kind)].holders.push_back({x.thread, x.mode, x.loc});
    each_detector([&](auto& d) { d.reset(opts_); });
    for (std::uint32_t i = 0; i < nthreads_; ++i) detectors_on_thread(i);
  } catch (...) {
  }
}

}  // namespace lockstep::mc::rt
