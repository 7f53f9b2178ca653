#include "report/describe.hpp"

#include <string>

#include "report/messages.hpp"
#include "engine/runtime.hpp"
#include "report/text.hpp"

namespace lockstep::mc::rt {

namespace {

const char* kind_word(lock_kind k) {
  switch (k) {
    case lock_kind::mutex: return "mutex";
    case lock_kind::recursive_mutex: return "recursive mutex";
    case lock_kind::shared_mutex: return "shared mutex";
    case lock_kind::semaphore: return "semaphore";
    case lock_kind::condition: return "condition";
    case lock_kind::event: return "event";
    case lock_kind::other: return "lock";
  }
  return "lock";
}

// A thread of the deadlock cycle being reported: it waits for a resource
// another thread of the cycle holds, so it is blocked for good even when the
// engine has not parked it yet (the running thread that closed the cycle,
// or one that announced the acquisition and was preempted before blocking).
bool deadlocked(const execution_view& v, std::uint32_t t) {
  for (std::size_t at : v.waits.cycle)
    if (at == t) return true;
  return false;
}

// "blocked on mutex A (deadlocked)", with `at` "blocked on mutex A at f.cpp:9
// (deadlocked)": what a thread of the cycle waits for.
std::string deadlocked_text(const execution_view& v, std::uint32_t t, bool at) {
  const object_rec* r = v.objects.get(v.waits[t].waiting_for);
  return "blocked on " + (r != nullptr && r->resource ? resource_label(v.objects, *r) : std::string("a lock")) +
         (at ? " at " + loc_text(v.waits[t].waiting_loc) : std::string()) + " (deadlocked)";
}

}  // namespace

std::string thread_label(const execution_view& v, std::uint32_t tid) {
  return thread_text(tid, tid < v.nthreads ? v.threads[tid]->label : nullptr);
}

std::string object_label(const execution_view& v, const void* addr, std::uint32_t object) {
  if (addr != nullptr) {
    if (const char* name = v.objects.name_of(addr)) return name;
    if (const object_rec* r = v.objects.get(addr); r != nullptr && r->resource) return resource_label(v.objects, *r);
  }
  if (object != 0) return "object #" + std::to_string(object);
  return "object";
}

std::string resource_label(const object_store& objects, const object_rec& r) {
  if (const char* name = objects.name_of(r.addr)) return std::string(kind_word(r.kind)) + " " + name;
  return std::string(kind_word(r.kind)) + " #" + std::to_string(r.ordinal);
}

std::string describe_cycle(const execution_view& v, const std::vector<std::size_t>& cycle) {
  // cycle alternates thread, resource, thread, resource ... (starting anywhere)
  std::string out = "  cycle:\n";
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    const std::size_t at = cycle[i];
    if (at >= v.nthreads) continue;
    const thread_rec& t = *v.threads[at];
    out += "    " + thread_label(v, t.id);
    // what it holds that the previous thread in the cycle waits for
    const std::size_t held_v = cycle[(i + cycle.size() - 1) % cycle.size()];
    if (held_v >= v.nthreads) {
      const object_rec& r = v.objects[static_cast<std::uint32_t>(held_v - v.nthreads + 1)];
      for (const holder& h : r.holders)
        if (h.thread == t.id) out += " holds " + resource_label(v.objects, r) + " (" + loc_text(h.loc) + "),";
    }
    const std::size_t want_v = cycle[(i + 1) % cycle.size()];
    if (want_v >= v.nthreads)
      out += " waits for " + resource_label(v.objects, v.objects[static_cast<std::uint32_t>(want_v - v.nthreads + 1)]) + " (" +
             loc_text(v.waits[t.id].waiting_loc) + ")";
    out += "\n";
  }
  return out;
}

std::string describe_threads(const execution_view& v) {
  std::string out = "  threads:\n";
  for (std::uint32_t i = 0; i < v.nthreads; ++i) {
    const thread_rec& t = *v.threads[i];
    out += "    " + thread_label(v, i);
    if (i != 0) out += " (spawned at " + loc_text(t.spawn_loc) + ")";
    const bool stuck = t.st != tstate::finished && deadlocked(v, i);
    if (stuck) out += ": " + deadlocked_text(v, i, true);
    else switch (t.st) {
      case tstate::runnable: out += i == v.cur ? ": running" : ": runnable"; break;
      case tstate::finished: out += ": finished"; break;
      case tstate::blocked_join:
        out += ": blocked joining " + thread_label(v, t.join_target) + " at " + loc_text(t.block_loc);
        break;
      case tstate::blocked_quiescent:
        out += ": waits at " + loc_text(t.block_loc) + " until the others finish or block";
        break;
      case tstate::blocked_futex:
        out += std::string(": blocked") + (t.timed ? " (with a timeout)" : "") + " at " + loc_text(t.block_loc);
        break;
    }
    std::string held;
    for (std::uint32_t id = 1; id <= v.objects.size(); ++id)
      for (const holder& h : v.objects[id].holders)
        if (h.thread == i) held += (held.empty() ? "" : ", ") + resource_label(v.objects, v.objects[id]) + " (" + loc_text(h.loc) + ")";
    if (!held.empty()) out += "; holds " + held;
    if (v.waits[t.id].waiting_for != nullptr && t.st != tstate::finished && !stuck) {
      if (const object_rec* r = v.objects.get(v.waits[t.id].waiting_for); r != nullptr && r->resource)
        out += "; waits for " + resource_label(v.objects, *r) + " (" + loc_text(v.waits[t.id].waiting_loc) + ")";
    }
    out += "\n";
  }
  return out;
}

trace_event export_event(const execution_view& v, std::size_t i) {
  const event& e = v.events[i];
  trace_event t;
  t.step = i + 1;
  t.thread = e.thread;
  t.o = e.o;
  t.object = e.object;
  t.value = e.value;
  t.rf = e.rf;
  if (e.addr != nullptr && e.o != op::spawn && e.o != op::join) t.object_name = object_label(v, e.addr, e.object);
  const bool lifecycle = e.o == op::start || e.o == op::exit;
  if (!(lifecycle && e.thread == 0) && e.loc.line() != 0) {
    t.file = source_path(e.loc);
    t.line = e.loc.line();
  }
  return t;
}

std::vector<trace_event> export_events(const execution_view& v) {
  std::vector<trace_event> out;
  out.reserve(v.events.size());
  for (std::size_t i = 0; i < v.events.size(); ++i) out.push_back(export_event(v, i));
  return out;
}

std::string describe_last_events(const execution_view& v, std::size_t per_thread) {
  return timeline_text(export_events(v), v.nthreads,
                       "last events (the last " + std::to_string(per_thread) + " of each thread), one column per thread",
                       per_thread);
}

// The wait-for graph at a failure: every thread still alive (or holding
// something), every resource held or waited for, and what blocked threads
// wait on (a futex word of a condition, semaphore, event or queue; a thread
// they join). The edges of the deadlock cycle being reported are marked.
wait_graph build_graph(const execution_view& v) {
  wait_graph g;
  std::vector<std::size_t> thread_node(v.nthreads, SIZE_MAX);
  std::vector<std::size_t> res_node(v.objects.size() + 1, SIZE_MAX);  // by object id
  auto add_thread = [&](std::uint32_t t) {
    if (thread_node[t] != SIZE_MAX) return thread_node[t];
    const thread_rec& th = *v.threads[t];
    wait_graph::node n;
    n.id = "t" + std::to_string(t);
    n.label = thread_label(v, t);
    n.thread = true;
    if (th.st != tstate::finished && deadlocked(v, t)) n.detail = deadlocked_text(v, t, false);
    else switch (th.st) {
      case tstate::runnable: n.detail = t == v.cur ? "running" : "runnable"; break;
      case tstate::finished: n.detail = "finished"; break;
      case tstate::blocked_join: n.detail = "blocked at " + loc_text(th.block_loc); break;
      case tstate::blocked_futex:
      case tstate::blocked_quiescent: n.detail = "blocked at " + loc_text(th.block_loc); break;
    }
    thread_node[t] = g.nodes.size();
    g.nodes.push_back(std::move(n));
    return thread_node[t];
  };
  auto add_resource = [&](std::uint32_t i) {
    if (res_node[i] != SIZE_MAX) return res_node[i];
    wait_graph::node n;
    n.id = "r" + std::to_string(v.objects[i].ordinal);
    n.label = resource_label(v.objects, v.objects[i]);
    res_node[i] = g.nodes.size();
    g.nodes.push_back(std::move(n));
    return res_node[i];
  };
  auto on_cycle = [&](std::size_t from_v, std::size_t to_v) {
    const std::vector<std::size_t>& cycle = v.waits.cycle;
    for (std::size_t k = 0; k < cycle.size(); ++k)
      if (cycle[k] == from_v && cycle[(k + 1) % cycle.size()] == to_v) return true;
    return false;
  };
  for (std::uint32_t t = 0; t < v.nthreads; ++t)
    if (v.threads[t]->st != tstate::finished) add_thread(t);
  // Holds: resource -> holder.
  for (std::uint32_t i = 1; i <= v.objects.size(); ++i) {
    for (const holder& h : v.objects[i].holders) {
      wait_graph::edge e;
      e.from = add_resource(i);
      e.to = add_thread(h.thread);
      e.label = (h.mode == lock_mode::shared ? "shared, " : "") + loc_text(h.loc);
      e.in_cycle = on_cycle(v.nthreads + i - 1, h.thread);
      g.edges.push_back(std::move(e));
    }
  }
  // Waits: thread -> resource, futex object or joined thread.
  std::vector<std::pair<std::uint32_t, std::size_t>> queues;  // (wait queue's object id, node)
  for (std::uint32_t t = 0; t < v.nthreads; ++t) {
    const thread_rec& th = *v.threads[t];
    if (th.st == tstate::finished) continue;
    if (v.waits[th.id].waiting_for != nullptr) {
      if (const std::uint32_t i = v.objects.find(v.waits[th.id].waiting_for); i != 0 && v.objects[i].resource) {
        wait_graph::edge e;
        e.from = add_thread(t);
        e.to = add_resource(i);
        e.waits = true;
        e.label = loc_text(v.waits[th.id].waiting_loc);
        e.in_cycle = on_cycle(t, v.nthreads + i - 1);
        g.edges.push_back(std::move(e));
      }
    } else if (th.st == tstate::blocked_futex && th.wait_addr != nullptr) {
      std::size_t node = SIZE_MAX;
      for (const auto& [q, n] : queues)
        if (q == th.wq_obj) node = n;
      if (node == SIZE_MAX) {
        wait_graph::node n;
        n.id = "w" + std::to_string(queues.size() + 1);
        n.label = waited_label(v, th);
        n.detail = th.lock_wait ? "lock word" : "wait queue";
        node = g.nodes.size();
        g.nodes.push_back(std::move(n));
        queues.emplace_back(th.wq_obj, node);
      }
      wait_graph::edge e;
      e.from = add_thread(t);
      e.to = node;
      e.waits = true;
      e.label = loc_text(th.block_loc);
      g.edges.push_back(std::move(e));
    } else if (th.st == tstate::blocked_join) {
      wait_graph::edge e;
      e.from = add_thread(t);
      e.to = add_thread(th.join_target);
      e.waits = true;
      e.label = "join, " + loc_text(th.block_loc);
      g.edges.push_back(std::move(e));
    }
  }
  return g;
}

std::string waited_label(const execution_view& v, const thread_rec& t) {
  for (std::size_t i = v.events.size(); i-- > 0;) {
    const event& e = v.events[i];
    if (e.thread == t.id && e.addr == t.wait_addr) return object_label(v, e.addr, e.object);
  }
  return object_label(v, t.wait_addr, 0);
}

std::string describe_blocked_wait(const execution_view& v, const thread_rec& t) {
  const std::string what = waited_label(v, t);
  std::string out = "  " + thread_label(v, t.id) + " began waiting on " + what + " at " + loc_text(t.block_loc) +
                    " (step " + std::to_string(t.block_step) + ").\n";
  const notify_rec* before = nullptr;
  if (const object_rec* r = v.objects.get(t.wait_addr))
    for (const notify_rec& n : r->notifies)
      if (n.step <= t.block_step && n.thread != t.id) before = &n;
  if (before != nullptr) {
    out += "  It missed a notification: " + thread_label(v, before->thread) + " notified " + what + " at " +
           loc_text(before->loc) + " (step " + std::to_string(before->step) +
           "), before the wait began, and nobody notified it after. A wait must check its condition "
           "first (wait(lock, predicate), or a while loop around wait()) so an earlier "
           "notification is not lost.\n";
  } else {
    out += "  Nobody notified it before the wait or after: the thread that should wake it finished "
           "or blocks elsewhere without doing so (a missing notify, release, set or close?).\n";
  }
  return out;
}

void describe_race(const execution_view& v, const data_race& r, std::string& msg, std::string& details) {
  const std::string what = object_label(v, r.addr, 0);
  const std::string name = what == "object" ? std::string("plain memory") : what;
  auto line = [](const std::source_location& l, const char* unknown) {
    return l.line() != 0 ? loc_text(l) : std::string(unknown);
  };
  auto access_text = [&](std::uint32_t t, const std::source_location& l, bool w) {
    return thread_label(v, t) + (w ? " wrote " : " read ") + name + " at " +
           line(l, "an unknown line (an implicit read: use load())");
  };
  details = "  first:  " + access_text(r.other, r.other_loc, r.other_write) + "\n" +
            "  second: " + access_text(r.thread, r.loc, r.write) + "\n" +
            "  Nothing orders the two accesses: no lock held by both, no atomic or "
            "join between them. Protect the data with one mutex, make it an "
            "mc::atomic, or order the threads (join, a release/acquire flag).\n";
  msg = "data race on " + name + ": " + thread_label(v, r.thread) + (r.write ? " writes" : " reads") + " it at " +
        line(r.loc, "an unknown line") + " while " + thread_label(v, r.other) + (r.other_write ? " wrote" : " read") +
        " it at " + line(r.other_loc, "an unknown line") + " with no happens-before between them";
}

}  // namespace lockstep::mc::rt
