// Ownership annotations, the wait-for graph (Boost.Graph) and the deadlock
// detector, and the thread/event descriptions used by every report.
//
// The wait-for graph has a vertex per thread and per resource: thread ->
// resource it is acquiring (blocking), resource -> each thread holding it.
// A cycle can only form when a thread announces a blocking acquisition, so
// the detector runs there, and only when some holder of the resource is
// itself waiting (or is the acquiring thread): otherwise no cycle can pass
// through the new edge and the graph is not built at all.
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime.hpp"
#include "text.hpp"

namespace lockstep::mc::rt {

namespace {

using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using vertex = boost::graph_traits<graph>::vertex_descriptor;
using edge = boost::graph_traits<graph>::edge_descriptor;

struct cycle_found {
  std::vector<std::size_t> cycle;
};

// DFS visitor: remembers tree parents; the first back edge closes a cycle.
class cycle_visitor : public boost::default_dfs_visitor {
 public:
  explicit cycle_visitor(std::vector<vertex>& parent) : parent_(&parent) {}
  void tree_edge(edge e, const graph& g) const { (*parent_)[boost::target(e, g)] = boost::source(e, g); }
  void back_edge(edge e, const graph& g) const {
    const vertex from = boost::source(e, g);
    const vertex to = boost::target(e, g);
    cycle_found c;
    for (vertex v = from; v != to; v = (*parent_)[v]) c.cycle.push_back(v);
    c.cycle.push_back(to);
    std::reverse(c.cycle.begin(), c.cycle.end());
    throw c;
  }

 private:
  std::vector<vertex>* parent_;
};

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

resource* runtime::find_resource(const void* addr) noexcept {
  for (std::size_t i = 0; i < nres_; ++i)
    if (resources_[i].addr == addr) return &resources_[i];
  return nullptr;
}

resource& runtime::resource_for(const void* addr, lock_kind kind) {
  if (resource* r = find_resource(addr)) {
    if (r->kind == lock_kind::other) r->kind = kind;
    return *r;
  }
  if (nres_ == resources_.size()) resources_.emplace_back();
  resource& r = resources_[nres_++];
  r.addr = addr;
  r.kind = kind;
  r.ordinal = ++res_ordinal_;
  r.holders.clear();
  return r;
}

void runtime::named(const void* obj, const char* name) {
  for (auto& [a, n] : names_) {
    if (a == obj) {
      n = name;
      return;
    }
  }
  names_.emplace_back(obj, name);
}

void runtime::acquiring(const void* obj, lock_kind kind, acquire_flags flags,
                        const std::source_location& loc) {
  if (aborting_) return;
  resource& r = resource_for(obj, kind);
  if (flags != acquire_flags::blocking) return;  // a try or a timed attempt never deadlocks
  thread_rec& me = *threads_[cur_];
  me.waiting_for = obj;
  me.waiting_loc = loc;
  bool may_close_cycle = false;
  for (const holder& h : r.holders)
    may_close_cycle = may_close_cycle || h.thread == cur_ || threads_[h.thread]->waiting_for != nullptr;
  if (may_close_cycle) check_deadlock_cycle();
}

void runtime::acquired(const void* obj, lock_mode mode, const std::source_location& loc) {
  if (aborting_) return;
  resource& r = resource_for(obj, lock_kind::other);
  threads_[cur_]->waiting_for = nullptr;
  r.holders.push_back(holder{cur_, mode, loc});
}

void runtime::released(const void* obj, lock_mode mode, const std::source_location& loc) {
  if (aborting_) return;
  resource* r = find_resource(obj);
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
  resource* r = find_resource(obj);
  if (r != nullptr) {
    if (!aborting_ && !r->holders.empty()) {
      const holder& h = r->holders.front();
      try {
        fail(bug_kind::misuse, resource_label(*r) + " was destroyed by " + thread_label(cur_) +
                                   " while " + thread_label(h.thread) + " holds it (locked at " +
                                   loc_text(h.loc) + ")");
      } catch (...) {
      }
    }
    // Forget it: a later object may live at the same address.
    const std::size_t i = static_cast<std::size_t>(r - resources_.data());
    std::swap(resources_[i], resources_[nres_ - 1]);
    resources_[--nres_].holders.clear();
  }
  for (auto it = names_.begin(); it != names_.end(); ++it) {
    if (it->first == obj) {
      names_.erase(it);
      break;
    }
  }
}

// ---------------------------------------------------------------------------
// The wait-for graph

std::vector<std::size_t> runtime::find_cycle(bool from_current) const {
  const std::size_t n = nthreads_;
  graph g(n + nres_);
  for (std::size_t t = 0; t < n; ++t) {
    const thread_rec& th = *threads_[t];
    if (th.waiting_for == nullptr || th.st == tstate::finished) continue;
    for (std::size_t i = 0; i < nres_; ++i)
      if (resources_[i].addr == th.waiting_for) boost::add_edge(t, n + i, g);
  }
  for (std::size_t i = 0; i < nres_; ++i)
    for (const holder& h : resources_[i].holders) boost::add_edge(n + i, h.thread, g);

  std::vector<vertex> parent(boost::num_vertices(g));
  std::vector<boost::default_color_type> color(boost::num_vertices(g), boost::white_color);
  auto cmap = boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g));
  cycle_visitor vis(parent);
  try {
    if (from_current) {
      boost::depth_first_visit(g, cur_, vis, cmap);
    } else {
      boost::depth_first_search(g, boost::visitor(vis).color_map(cmap));
    }
  } catch (cycle_found& c) {
    return std::move(c.cycle);
  }
  return {};
}

void runtime::check_deadlock_cycle() {
  std::vector<std::size_t> cycle = find_cycle(true);
  if (cycle.empty()) return;
  std::size_t threads_in_cycle = 0;
  for (std::size_t v : cycle) threads_in_cycle += v < nthreads_ ? 1 : 0;
  std::string msg = threads_in_cycle == 1
                        ? thread_label(cur_) + " waits for a lock it already holds"
                        : std::to_string(threads_in_cycle) +
                              " threads wait for each other in a cycle";
  fail_and_unwind(bug_kind::deadlock, std::move(msg), describe_cycle(cycle));
}

void runtime::global_deadlock() {
  std::vector<std::size_t> cycle = find_cycle(false);
  std::string details;
  if (!cycle.empty()) details = describe_cycle(cycle);
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
  if (tid == 0) return "thread 0 (main)";
  return "thread " + std::to_string(tid);
}

std::string runtime::object_label(const void* addr, std::uint32_t object) const {
  for (const auto& [a, n] : names_)
    if (a == addr && addr != nullptr) return n;
  for (std::size_t i = 0; i < nres_; ++i)
    if (resources_[i].addr == addr && addr != nullptr) return resource_label(resources_[i]);
  if (object != 0) return "object#" + std::to_string(object);
  return "object";
}

std::string runtime::resource_label(const resource& r) const {
  for (const auto& [a, n] : names_)
    if (a == r.addr) return std::string(kind_word(r.kind)) + " " + n;
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
      const resource& r = resources_[held_v - nthreads_];
      for (const holder& h : r.holders)
        if (h.thread == t.id) out += " holds " + resource_label(r) + " (" + loc_text(h.loc) + "),";
    }
    const std::size_t want_v = cycle[(i + 1) % cycle.size()];
    if (want_v >= nthreads_)
      out += " waits for " + resource_label(resources_[want_v - nthreads_]) + " (" +
             loc_text(t.waiting_loc) + ")";
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
    for (std::size_t r = 0; r < nres_; ++r)
      for (const holder& h : resources_[r].holders)
        if (h.thread == i) held += (held.empty() ? "" : ", ") + resource_label(resources_[r]) + " (" + loc_text(h.loc) + ")";
    if (!held.empty()) out += "; holds " + held;
    if (t.waiting_for != nullptr && t.st != tstate::finished) {
      for (std::size_t r = 0; r < nres_; ++r)
        if (resources_[r].addr == t.waiting_for)
          out += "; waits for " + resource_label(resources_[r]) + " (" + loc_text(t.waiting_loc) + ")";
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
    std::string_view f = e.loc.file_name();
    while (f.substr(0, 3) == "../") f.remove_prefix(3);
    t.file = f;
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

// Replay checks: thread, operation and object as soon as the event is
// recorded; its value (and a compare-exchange's outcome) once it is complete.
bool runtime::same_event(std::size_t i, bool complete, std::string& why) const {
  const event& e = events_[i];
  const trace_event& x = (*expect_)[i];
  const bool cas_open = !complete && e.o == op::cas_ok && x.o == op::cas_fail;
  const bool object_late = !complete && e.o == op::spawn;  // the child's id is set after the point
  bool same = e.thread == x.thread && (e.o == x.o || cas_open) && (e.object == x.object || object_late);
  const bool valued = e.o != op::wake && e.o != op::yield && e.o != op::start && e.o != op::exit;
  if (same && complete && valued) same = e.value == x.value;
  if (same) return true;
  why = "replay diverged at step " + std::to_string(i + 1) + ": the trace has " + describe_event(x) +
        ", the execution did " + describe_event(export_event(i), complete) +
        "; the code changed since the trace was recorded";
  return false;
}

void runtime::expected_mismatch(std::string why) {
  internal_error_ = std::move(why);
  aborting_ = true;
  throw abort_execution{};
}

void runtime::check_expected() {
  const std::size_t n = events_.size();
  std::string why;
  if (n >= 2 && !same_event(n - 2, true, why)) expected_mismatch(std::move(why));
  if (n > expect_->size())
    expected_mismatch("replay diverged: the trace ends at step " + std::to_string(expect_->size()) +
                      ", but the execution went on: " + describe_event(export_event(n - 1)));
  if (!same_event(n - 1, false, why)) expected_mismatch(std::move(why));
}

std::string runtime::describe_last_events(std::size_t per_thread) const {
  // The last few events of every thread, in execution order.
  std::vector<std::size_t> count(nthreads_, 0);
  std::vector<std::size_t> picked;
  for (std::size_t i = events_.size(); i-- > 0;) {
    const event& e = events_[i];
    if (e.thread < count.size() && count[e.thread] < per_thread) {
      ++count[e.thread];
      picked.push_back(i);
    }
  }
  std::reverse(picked.begin(), picked.end());
  std::string out = "  last events (step, thread, operation):\n";
  for (std::size_t i : picked) {
    const event& e = events_[i];
    out.append("    ").append(std::to_string(i + 1)).append("\tthread ").append(std::to_string(e.thread));
    out.append("\t").append(op_name(e.o));
    switch (e.o) {
      case op::spawn:
      case op::join: out.append(" thread ").append(std::to_string(e.value)); break;
      case op::start:
      case op::exit:
      case op::yield: break;
      case op::choose:
        out.append(e.addr != nullptr ? " spurious wake-up of " + object_label(e.addr, 0) + ": " : " ")
            .append(std::to_string(e.value));
        break;
      default:
        out.append(" ").append(object_label(e.addr, e.object)).append(" -> ").append(std::to_string(static_cast<std::int64_t>(e.value)));
        break;
    }
    const bool lifecycle = e.o == op::start || e.o == op::exit;
    if (!(lifecycle && e.thread == 0)) out.append("\t").append(loc_text(e.loc));
    out += "\n";
  }
  return out;
}

}  // namespace lockstep::mc::rt
