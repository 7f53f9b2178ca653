// Internal: what a report says about an execution, as pure functions of a
// read-only view of it: thread and object names, the threads' states, the
// deadlock cycle, the wait-for graph, the events and the timeline, and the
// words of a data race and a blocked wait. Detectors find; these say.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "detectors/races.hpp"
#include "engine/backend.hpp"
#include "detectors/wait_for.hpp"
#include "engine/objects.hpp"
#include "lockstep/mc/graph.hpp"
#include "lockstep/mc/trace.hpp"

namespace lockstep::mc::rt {

struct thread_rec;
struct event;

// One execution as the engine holds it, read-only.
struct execution_view {
  const std::vector<std::unique_ptr<thread_rec>>& threads;  // [0, nthreads) live
  std::uint32_t nthreads;
  std::uint32_t cur;                  // the running thread
  const event_log& events;   // the steps so far
  const object_store& objects;
  const wait_for& waits;              // announced acquisitions, the cycle being reported
};

// "thread 1 (producer)".
std::string thread_label(const execution_view& v, std::uint32_t tid);
// An object's name, its resource label, or "object #N" (N: its event id, 0 for none).
std::string object_label(const execution_view& v, const void* addr, std::uint32_t object);
// "mutex m", "shared mutex #2".
std::string resource_label(const object_store& objects, const object_rec& r);
// The deadlock cycle (vertices as wait_for::find_cycle gives them).
std::string describe_cycle(const execution_view& v, const std::vector<std::size_t>& cycle);
// Every thread: state, what it holds and waits for.
std::string describe_threads(const execution_view& v);
trace_event export_event(const execution_view& v, std::size_t i);
std::vector<trace_event> export_events(const execution_view& v);
// The timeline of the last `per_thread` events of each thread.
std::string describe_last_events(const execution_view& v, std::size_t per_thread);
// The wait-for graph at a failure (the cycle in v.waits marked).
wait_graph build_graph(const execution_view& v);
// The word a blocked thread waits on, and why nobody will wake it.
std::string waited_label(const execution_view& v, const thread_rec& t);
std::string describe_blocked_wait(const execution_view& v, const thread_rec& t);
void describe_race(const execution_view& v, const data_race& r, std::string& msg, std::string& details);

}  // namespace lockstep::mc::rt
