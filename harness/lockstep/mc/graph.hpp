// lockstep/mc/graph.hpp — pictures of a failure.
//
// to_dot() renders a bug's wait-for graph as Graphviz DOT: threads
// (ellipses) and resources (boxes) as nodes; "waits for" edges from a thread
// to the resource or thread it waits for (dashed), "held by" edges from a
// resource to each holder; the edges of a deadlock cycle in red. Render it
// with `dot -Tsvg F.dot -o F.svg` (`lockstep check MODEL --graph-out F.dot
// --svg` does both).
//
// timeline_text() is the per-thread column timeline every report shows;
// timeline_dot() the same events as a DOT table (one column per thread, one
// row per step).
//
// All functions are pure: they only read their arguments.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lockstep/mc/explore.hpp"

namespace lockstep::mc {

// The wait-for graph as a DOT digraph titled `title` (shown as its label).
std::string to_dot(const wait_graph& g, std::string_view title);
// The bug's wait-for graph, titled with its kind and message.
std::string to_dot(const bug& b, std::string_view model_name = {});

// One event in a few words: "cas mutex A = 1", "wait ready_cv", "spawn thread 1".
std::string event_text(const trace_event& e);
// The last `per_thread` events of each thread (all of them when 0), one row a
// step and one column a thread, under `heading`. Threads are numbered
// 0..nthreads-1 (0 is main); events of higher-numbered threads widen the table.
std::string timeline_text(const std::vector<trace_event>& events, std::size_t nthreads,
                          std::string_view heading, std::size_t per_thread = 0);
// The last `last` events as a DOT table (one column per thread).
std::string timeline_dot(const std::vector<trace_event>& events, std::string_view title,
                         std::size_t last = 40);

}  // namespace lockstep::mc
