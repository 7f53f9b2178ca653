// Ownership annotations, the wait-for graph (Boost.Graph) and the deadlock
// detector, and the thread/event descriptions used by every report.
//
// The wait-for graph has a vertex per thread and per resource: thread ->
// resource it is acquiring (blocking), resource -> each thread holding it.
// A cycle can only form when a thread announces a blocking acquisition, so
// the detector runs there, and only when some holder of the resource is
// itself waiting (or is the acquiring thread): otherwise no cycle can pass
// through the new edge and the graph is not built at all.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "lockstep/mc/graph.hpp"
#include "replay_check.hpp"
#include "runtime.hpp"
#include "messages.hpp"
#include "text.hpp"

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

}  // namespace

// ---------------------------------------------------------------------------
// Resources

object_rec* runtime::find_resource(const void* addr) noexcept {
  object_rec* r = objects_.get(addr);
  return r != nullptr && r->resource ? r : nullptr;
}

object_rec& runtime::resource_for(const void* addr, lock_kind kind) {
  object_rec& r = objects_[objects_.intern(addr)];
  objects_.make_resource(r, kind);
  return r;
}

void runtime::named(const void* obj, const char* name) noexcept {
  try {
    objects_[objects_.intern(obj)].name = name;
  } catch (...) {  // out of memory: the object keeps its number
  }
}

void runtime::acquiring(const void* obj, lock_kind kind, acquire_flags flags,
                        const std::source_location& loc) {
  if (aborting_) return;
  object_rec& r = resource_for(obj, kind);
  if (flags != acquire_flags::blocking) return;  // a try or a timed attempt never deadlocks
  thread_rec& me = *threads_[cur_];
  if (waits_of(me).waiting_for != obj) stop_waiting(me);
  waits_of(me).waiting_for = obj;
  waits_of(me).waiting_loc = loc;
  waits_of(me).acquiring_step = exec_steps_;
  waits_of(me).acquiring_order = detector<wait_for>().next_order();
  waits_of(me).bypass.clear();
  bool may_close_cycle = false;
  for (const holder& h : r.holders)
    may_close_cycle = may_close_cycle || h.thread == cur_ || detector<wait_for>()[h.thread].waiting_for != nullptr;
  if (may_close_cycle) check_deadlock_cycle();
}

void runtime::acquired(const void* obj, lock_mode mode, const std::source_location& loc) {
  if (aborting_) return;
  object_rec& r = resource_for(obj, lock_kind::other);
  thread_rec& me = *threads_[cur_];
  const std::uint64_t asked = waits_of(me).waiting_for == obj ? waits_of(me).acquiring_order : detector<wait_for>().next_order();
  if (waits_of(me).waiter_pos != kNoThread && waits_of(me).waiting_for == obj) leave_waiters(r, me);  // the usual case
  stop_waiting(me);
  r.holders.push_back(holder{cur_, mode, loc});
  if (r.progress_mark) progress();
  count_bypass(obj, r, asked);
}

// A thread that announced a blocking acquisition and then blocks in a futex
// wait joins the resource's waiters (the threads count_bypass looks at); a
// native lock word's waiters never do (the lock grants no order to bypass).
void runtime::join_waiters(thread_rec& t) {
  if (waits_of(t).waiting_for == nullptr || waits_of(t).waiter_pos != kNoThread) return;
  if (object_rec* r = find_resource(waits_of(t).waiting_for)) {
    waits_of(t).waiter_pos = static_cast<std::uint32_t>(r->waiters.size());
    r->waiters.push_back(t.id);
  }
}

void runtime::leave_waiters(object_rec& r, thread_rec& t) noexcept {
  const std::uint32_t pos = waits_of(t).waiter_pos;
  waits_of(t).waiter_pos = kNoThread;
  if (pos >= r.waiters.size() || r.waiters[pos] != t.id) return;  // not there (a resource since destroyed)
  r.waiters[pos] = r.waiters.back();
  detector<wait_for>()[r.waiters[pos]].waiter_pos = pos;
  r.waiters.pop_back();
}

void runtime::stop_waiting(thread_rec& t) noexcept {
  if (waits_of(t).waiter_pos != kNoThread) {
    if (object_rec* r = find_resource(waits_of(t).waiting_for)) leave_waiters(*r, t);
    waits_of(t).waiter_pos = kNoThread;
  }
  waits_of(t).waiting_for = nullptr;
}

void runtime::released(const void* obj, lock_mode mode, const std::source_location& loc) {
  if (aborting_) return;
  object_rec* r = find_resource(obj);
  if (r != nullptr) {
    for (auto it = r->holders.begin(); it != r->holders.end(); ++it) {
      if (it->thread == cur_ && it->mode == mode) {
        r->holders.erase(it);
        return;
      }
    }
  }
  const std::string what = r != nullptr ? resource_label(*r) : object_label(obj, 0);
  if (r != nullptr && !r->holders.empty()) {
    const holder& h = r->holders.front();
    fail(bug_kind::misuse, thread_label(cur_) + " unlocked " + what + " at " + loc_text(loc) +
                               ", but " + thread_label(h.thread) + " holds it (locked at " +
                               loc_text(h.loc) + ")");
    return;  // deferred: unlock often runs in a destructor (see misuse())
  }
  fail(bug_kind::misuse, thread_label(cur_) + " unlocked " + what + " at " +
                                        loc_text(loc) + ", which is not locked (a double unlock?)");
}

void runtime::destroyed(const void* obj) noexcept {
  object_rec* r = objects_.get(obj);
  if (r == nullptr) return;
  if (r->resource) {
    if (!aborting_ && !r->holders.empty()) {
      const holder& h = r->holders.front();
      try {
        fail(bug_kind::misuse, resource_label(*r) + " was destroyed by " + thread_label(cur_) +
                                   " while " + thread_label(h.thread) + " holds it (locked at " +
                                   loc_text(h.loc) + ")");
      } catch (...) {
      }
    }
    object_store::end_resource(*r);  // a later object may live at the same address
  }
  r->name = nullptr;
}

// ---------------------------------------------------------------------------
// The wait-for graph

std::vector<std::size_t> runtime::find_cycle(bool from_current) const {
  return detector<wait_for>().find_cycle(
      objects_, nthreads_, [&](std::uint32_t t) { return threads_[t]->st != tstate::finished; },
      from_current ? cur_ : kNoThread);
}

void runtime::check_deadlock_cycle() {
  std::vector<std::size_t> cycle = find_cycle(true);
  if (cycle.empty()) return;
  detector<wait_for>().cycle = cycle;
  std::size_t threads_in_cycle = 0;
  for (std::size_t v : cycle) threads_in_cycle += v < nthreads_ ? 1 : 0;
  std::string msg = threads_in_cycle == 1
                        ? thread_label(cur_) + " waits for a lock it already holds"
                        : std::to_string(threads_in_cycle) +
                              " threads wait for each other in a cycle";
  std::string details = describe_cycle(cycle);
  if (defer_bug(bug_kind::deadlock, msg, details)) return;
  fail_and_unwind(bug_kind::deadlock, std::move(msg), std::move(details));
}

void runtime::global_deadlock() {
  std::vector<std::size_t> cycle = find_cycle(false);
  std::string details;
  if (!cycle.empty()) details = describe_cycle(cycle);
  detector<wait_for>().cycle = cycle;
  if (cycle.empty() && lost_wakeup()) return;
  std::size_t blocked = 0;
  for (std::uint32_t i = 0; i < nthreads_; ++i) blocked += threads_[i]->st != tstate::finished ? 1 : 0;
  fail(bug_kind::deadlock,
       "no thread can run: " + std::to_string(blocked) +
           (blocked == 1 ? " thread is" : " threads are") + " blocked forever and no timeout is pending",
       std::move(details));
}

// ---------------------------------------------------------------------------
// Descriptions

std::string runtime::thread_label(std::uint32_t tid) const {
  return thread_text(tid, tid < nthreads_ ? threads_[tid]->label : nullptr);
}

std::string runtime::object_label(const void* addr, std::uint32_t object) const {
  if (const object_rec* r = addr != nullptr ? objects_.get(addr) : nullptr) {
    if (r->name != nullptr) return r->name;
    if (r->resource) return resource_label(*r);
  }
  if (object != 0) return "object#" + std::to_string(object);
  return "object";
}

std::string runtime::resource_label(const object_rec& r) const {
  if (r.name != nullptr) return std::string(kind_word(r.kind)) + " " + r.name;
  return std::string(kind_word(r.kind)) + " #" + std::to_string(r.ordinal);
}

std::string runtime::describe_cycle(const std::vector<std::size_t>& cycle) const {
  // cycle alternates thread, resource, thread, resource ... (starting anywhere)
  std::string out = "  cycle:\n";
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    const std::size_t v = cycle[i];
    if (v >= nthreads_) continue;
    const thread_rec& t = *threads_[v];
    out += "    " + thread_label(t.id);
    // what it holds that the previous thread in the cycle waits for
    const std::size_t held_v = cycle[(i + cycle.size() - 1) % cycle.size()];
    if (held_v >= nthreads_) {
      const object_rec& r = objects_[static_cast<std::uint32_t>(held_v - nthreads_ + 1)];
      for (const holder& h : r.holders)
        if (h.thread == t.id) out += " holds " + resource_label(r) + " (" + loc_text(h.loc) + "),";
    }
    const std::size_t want_v = cycle[(i + 1) % cycle.size()];
    if (want_v >= nthreads_)
      out += " waits for " + resource_label(objects_[static_cast<std::uint32_t>(want_v - nthreads_ + 1)]) + " (" +
             loc_text(waits_of(t).waiting_loc) + ")";
    out += "\n";
  }
  return out;
}

std::string runtime::describe_threads() const {
  std::string out = "  threads:\n";
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    const thread_rec& t = *threads_[i];
    out += "    " + thread_label(i);
    if (i != 0) out += " (spawned at " + loc_text(t.spawn_loc) + ")";
    switch (t.st) {
      case tstate::runnable: out += i == cur_ ? ": running" : ": runnable"; break;
      case tstate::finished: out += ": finished"; break;
      case tstate::blocked_join:
        out += ": blocked joining " + thread_label(t.join_target) + " at " + loc_text(t.block_loc);
        break;
      case tstate::blocked_futex:
        out += std::string(": blocked") + (t.timed ? " (with a timeout)" : "") + " at " + loc_text(t.block_loc);
        break;
    }
    std::string held;
    for (std::uint32_t id = 1; id <= objects_.size(); ++id)
      for (const holder& h : objects_[id].holders)
        if (h.thread == i) held += (held.empty() ? "" : ", ") + resource_label(objects_[id]) + " (" + loc_text(h.loc) + ")";
    if (!held.empty()) out += "; holds " + held;
    if (waits_of(t).waiting_for != nullptr && t.st != tstate::finished) {
      if (const object_rec* r = objects_.get(waits_of(t).waiting_for); r != nullptr && r->resource)
        out += "; waits for " + resource_label(*r) + " (" + loc_text(waits_of(t).waiting_loc) + ")";
    }
    out += "\n";
  }
  return out;
}

trace_event runtime::export_event(std::size_t i) const {
  const event& e = events_[i];
  trace_event t;
  t.step = i + 1;
  t.thread = e.thread;
  t.o = e.o;
  t.object = e.object;
  t.value = e.value;
  if (e.addr != nullptr && e.o != op::spawn && e.o != op::join) t.object_name = object_label(e.addr, e.object);
  const bool lifecycle = e.o == op::start || e.o == op::exit;
  if (!(lifecycle && e.thread == 0) && e.loc.line() != 0) {
    t.file = source_path(e.loc);
    t.line = e.loc.line();
  }
  return t;
}

std::vector<trace_event> runtime::export_events() const {
  std::vector<trace_event> out;
  out.reserve(events_.size());
  for (std::size_t i = 0; i < events_.size(); ++i) out.push_back(export_event(i));
  return out;
}

// Replay checks (replay_check.hpp): thread, operation and object as soon as
// the event is recorded; its value (and a compare-exchange's outcome) once it
// is complete.
bool runtime::same_event(std::size_t i, step_stage stage, std::string& why) const {
  const event& e = events_[i];
  const trace_event& want = (*expect_)[i];
  if (same_step(want, step_seen{e.thread, e.o, e.object, e.value}, stage)) return true;
  why = step_divergence(i, want, export_event(i), stage);
  return false;
}

void runtime::expected_mismatch(std::string why) {
  if (internal_error_.empty()) internal_error_ = std::move(why);
  aborting_ = true;
  if (!releasing_op(events_.back().o) && !no_throw()) unwind_now();
}

void runtime::check_expected() {
  const std::size_t n = events_.size();
  std::string why;
  if (n >= 2 && !same_event(n - 2, step_stage::complete, why)) return expected_mismatch(std::move(why));
  if (n > expect_->size())
    return expected_mismatch("replay diverged: the trace ends at step " + std::to_string(expect_->size()) +
                      ", but the execution went on: " + describe_event(export_event(n - 1)));
  if (!same_event(n - 1, step_stage::made, why)) expected_mismatch(std::move(why));
}

std::string runtime::describe_last_events(std::size_t per_thread) const {
  return timeline_text(export_events(), nthreads_,
                       "last events (the last " + std::to_string(per_thread) + " of each thread), one column per thread",
                       per_thread);
}

// The wait-for graph at a failure: every thread still alive (or holding
// something), every resource held or waited for, and what blocked threads
// wait on (a futex word of a condition, semaphore, event or queue; a thread
// they join). The edges of the deadlock cycle being reported are marked.
wait_graph runtime::build_graph() const {
  wait_graph g;
  std::vector<std::size_t> thread_node(nthreads_, SIZE_MAX);
  std::vector<std::size_t> res_node(objects_.size() + 1, SIZE_MAX);  // by object id
  auto add_thread = [&](std::uint32_t t) {
    if (thread_node[t] != SIZE_MAX) return thread_node[t];
    const thread_rec& th = *threads_[t];
    wait_graph::node n;
    n.id = "t" + std::to_string(t);
    n.label = thread_label(t);
    n.thread = true;
    switch (th.st) {
      case tstate::runnable: n.detail = t == cur_ ? "running" : "runnable"; break;
      case tstate::finished: n.detail = "finished"; break;
      case tstate::blocked_join: n.detail = "blocked at " + loc_text(th.block_loc); break;
      case tstate::blocked_futex: n.detail = "blocked at " + loc_text(th.block_loc); break;
    }
    thread_node[t] = g.nodes.size();
    g.nodes.push_back(std::move(n));
    return thread_node[t];
  };
  auto add_resource = [&](std::uint32_t i) {
    if (res_node[i] != SIZE_MAX) return res_node[i];
    wait_graph::node n;
    n.id = "r" + std::to_string(objects_[i].ordinal);
    n.label = resource_label(objects_[i]);
    res_node[i] = g.nodes.size();
    g.nodes.push_back(std::move(n));
    return res_node[i];
  };
  auto on_cycle = [&](std::size_t from_v, std::size_t to_v) {
    const std::vector<std::size_t>& cycle = detector<wait_for>().cycle;
    for (std::size_t k = 0; k < cycle.size(); ++k)
      if (cycle[k] == from_v && cycle[(k + 1) % cycle.size()] == to_v) return true;
    return false;
  };
  for (std::uint32_t t = 0; t < nthreads_; ++t)
    if (threads_[t]->st != tstate::finished) add_thread(t);
  // Holds: resource -> holder.
  for (std::uint32_t i = 1; i <= objects_.size(); ++i) {
    for (const holder& h : objects_[i].holders) {
      wait_graph::edge e;
      e.from = add_resource(i);
      e.to = add_thread(h.thread);
      e.label = (h.mode == lock_mode::shared ? "shared, " : "") + loc_text(h.loc);
      e.in_cycle = on_cycle(nthreads_ + i - 1, h.thread);
      g.edges.push_back(std::move(e));
    }
  }
  // Waits: thread -> resource, futex object or joined thread.
  std::vector<std::pair<std::uint32_t, std::size_t>> queues;  // (wait queue's object id, node)
  for (std::uint32_t t = 0; t < nthreads_; ++t) {
    const thread_rec& th = *threads_[t];
    if (th.st == tstate::finished) continue;
    if (waits_of(th).waiting_for != nullptr) {
      if (const std::uint32_t i = objects_.find(waits_of(th).waiting_for); i != 0 && objects_[i].resource) {
        wait_graph::edge e;
        e.from = add_thread(t);
        e.to = add_resource(i);
        e.waits = true;
        e.label = loc_text(waits_of(th).waiting_loc);
        e.in_cycle = on_cycle(t, nthreads_ + i - 1);
        g.edges.push_back(std::move(e));
      }
    } else if (th.st == tstate::blocked_futex && th.wait_addr != nullptr) {
      std::size_t node = SIZE_MAX;
      for (const auto& [q, n] : queues)
        if (q == th.wq_obj) node = n;
      if (node == SIZE_MAX) {
        wait_graph::node n;
        n.id = "w" + std::to_string(queues.size() + 1);
        n.label = waited_label(th);
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

}  // namespace lockstep::mc::rt
