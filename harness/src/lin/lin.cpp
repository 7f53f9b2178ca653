// Linearizability checking (lockstep/lin.hpp): a scenario's executions under
// the checker, the history of each, and the check of that history against
// the specification.
//
// The check is Wing & Gong's search with Lowe's memoisation, breadth first:
// the configurations are (linearized operations, specification state), kept
// without duplicates. Walking the history in real-time order, a call makes
// its operation available; at a return, every available operation that can
// go next (its result under the specification is the one it returned) is
// added to every configuration, as often as that gives new ones, and then
// only the configurations that contain the returning operation survive. When
// none does, the history up to that return cannot be linearized, and the
// configurations before the cut are the states the specification could have
// been in.
#include <algorithm>
#include <bit>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lockstep/lin/core.hpp"
#include "lockstep/mc/atomic.hpp"
#include "lockstep/mc/thread.hpp"

namespace lockstep::lin::detail {

namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// A call (ret = false) or a return, in real-time order.
struct entry {
  std::uint32_t op = 0;
  bool ret = false;
  result r;
};

// An operation of the scenario as the history knows it.
struct op_ref {
  const bound_op* b = nullptr;
  int thread = 0;  // 0 the initial part, 1..T the threads, T+1 the final part
};

// Specification states, owned.
struct state_ptr {
  const erased_type* t = nullptr;
  void* p = nullptr;
  state_ptr() = default;
  state_ptr(const erased_type& ty, void* s) : t(&ty), p(s) {}
  state_ptr(const state_ptr&) = delete;
  state_ptr& operator=(const state_ptr&) = delete;
  state_ptr(state_ptr&& o) noexcept : t(o.t), p(std::exchange(o.p, nullptr)) {}
  state_ptr& operator=(state_ptr&& o) noexcept {
    std::swap(t, o.t);
    std::swap(p, o.p);
    return *this;
  }
  ~state_ptr() {
    if (p != nullptr) t->drop(p);
  }
};

struct config {
  std::uint64_t mask = 0;  // linearized operations
  state_ptr state;
};

// Configurations without duplicates (bucketed by mask; states compared
// with the model's operator==).
class config_set {
 public:
  explicit config_set(const erased_type& t) : t_(t) {}
  bool add(std::uint64_t mask, state_ptr&& s) {
    std::vector<std::size_t>& b = by_mask_[mask];
    for (std::size_t i : b)
      if (t_.equal(v_[i].state.p, s.p)) return false;
    b.push_back(v_.size());
    v_.push_back({mask, std::move(s)});
    return true;
  }
  [[nodiscard]] std::vector<config>& items() noexcept { return v_; }
  void keep_if_contains(std::uint32_t op) {
    std::vector<config> kept;
    for (config& c : v_)
      if ((c.mask >> op) & 1) kept.push_back(std::move(c));
    v_.clear();
    by_mask_.clear();
    for (config& c : kept) add(c.mask, std::move(c.state));
  }

 private:
  const erased_type& t_;
  std::vector<config> v_;
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> by_mask_;
};

std::string thread_name(int thread, int nthreads) {
  if (thread == 0) return "init";
  if (thread == nthreads + 1) return "post";
  return "t" + std::to_string(thread);
}

// "t1", "t2", ...: names that outlive every execution (mc::this_thread::set_name).
const char* thread_label(int th) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (int i = 0; i <= 64; ++i) v.push_back("t" + std::to_string(i));
    return v;
  }();
  return names[static_cast<std::size_t>(th)].c_str();
}

class runner {
 public:
  runner(const erased_type& t, const scenario& s) : t_(t), s_(s) {
    const int T = static_cast<int>(s.threads.size());
    // The initial part runs on its own: an operation there that the
    // specification says would wait is left out (it would wait forever).
    state_ptr st(t, t.initial());
    for (const bound_op& b : s.init) {
      state_ptr probe(t, t.copy(st.p));
      if (b.apply(probe.p, nullptr).is_blocked()) continue;
      st = std::move(probe);
      init_.push_back(static_cast<std::uint32_t>(ops_.size()));
      ops_.push_back({&b, 0});
    }
    for (int th = 0; th < T; ++th) {
      first_.push_back(static_cast<std::uint32_t>(ops_.size()));
      for (const bound_op& b : s.threads[static_cast<std::size_t>(th)]) ops_.push_back({&b, th + 1});
    }
    first_.push_back(static_cast<std::uint32_t>(ops_.size()));
    for (const bound_op& b : s.post) ops_.push_back({&b, T + 1});
    if (ops_.size() > 64)
      throw std::invalid_argument("lin: a scenario holds at most 64 operations (threads x ops + init + post)");
  }

  void body();
  [[nodiscard]] double check_seconds() const noexcept { return check_seconds_; }
  [[nodiscard]] std::uint64_t histories() const noexcept { return histories_; }

 private:
  void call(std::uint32_t op, void* obj) {
    hist_.push_back({op, false, {}});
    result r = ops_[op].b->run(obj);
    hist_.push_back({op, true, std::move(r)});
  }
  void run_thread(int th, void* obj, mc::atomic<std::uint32_t>* done, int nthreads);
  // Empty when the history is linearizable; else why not.
  std::string judge();
  std::string explain_return(std::size_t pos, config_set& before) const;
  std::string explain_pending(config_set& configs, std::uint64_t pending) const;
  std::string explain_regular(std::uint32_t op, config_set& configs) const;
  std::string table() const;
  std::string real_time(std::size_t upto) const;
  void closure(config_set& cs, std::uint64_t active, std::uint64_t known) const;
  std::string op_label(std::uint32_t op) const {
    return thread_name(ops_[op].thread, static_cast<int>(s_.threads.size())) + "'s " + ops_[op].b->text;
  }
  [[nodiscard]] const result& result_of(std::uint32_t op) const { return *res_[op]; }
  std::string check();
  std::string check_regular(std::uint32_t op);
  std::string state_text(const void* st) const { return t_.show != nullptr ? t_.show(st) : "(a state)"; }
  std::string mask_text(std::uint64_t mask) const;

  const erased_type& t_;
  const scenario& s_;
  std::vector<op_ref> ops_;
  std::vector<std::uint32_t> init_;   // the initial part's operations that run
  std::vector<std::uint32_t> first_;  // each thread's first operation (and the final part's)
  std::vector<entry> hist_;
  std::vector<bool> finished_;  // the running part's threads that are done
  std::vector<std::size_t> call_pos_, ret_pos_;
  std::vector<const result*> res_;
  std::uint64_t known_ = 0;  // operations that returned
  std::uint64_t regular_ = 0;  // operations with the regular contract
  std::unordered_set<std::string> passed_;  // histories already found linearizable
  double check_seconds_ = 0;
  std::uint64_t histories_ = 0;
};

void runner::run_thread(int th, void* obj, mc::atomic<std::uint32_t>* done, int nthreads) {
  const std::uint32_t begin = first_[static_cast<std::size_t>(th)];
  const std::uint32_t end = first_[static_cast<std::size_t>(th) + 1];
  // The history's real-time order must be one the object could see and an
  // exhaustive search tells apart. A call is recorded in the step of its one
  // load of a return counter, a return in the step of its update of it, so
  // each (return, call) pair of two threads is a race whose both orders dpor
  // tries, even where the object itself does not order the two operations;
  // and a return recorded before a call happened-before it (the counter is
  // seq_cst), so under rc11 the call sees what the return did. (Recorded
  // where the operation's own steps are, two interleavings that dpor counts
  // as one could show two histories.) A call recorded that early and a
  // return that late are real: the thread does nothing else in between.
  // Two threads: each reads the other's counter, so two returns do not race.
  // More: one shared counter (one load per call; with one load per other
  // thread, a return could fall between two of a call's loads, recorded
  // before the call but not happening-before it).
  mc::atomic<std::uint32_t>& shared = done[nthreads];
  for (std::uint32_t op = begin; op < end; ++op) {
    if (nthreads == 2) (void)done[1 - th].load();
    else if (nthreads > 2) (void)shared.load();
    hist_.push_back({op, false, {}});
    result r = ops_[op].b->run(obj);
    if (nthreads > 2) shared.fetch_add(1);
    else done[th].store(op - begin + 1);
    hist_.push_back({op, true, std::move(r)});
  }
  finished_[static_cast<std::size_t>(th)] = true;
}

void runner::body() {
  hist_.clear();
  std::unique_ptr<void, void (*)(void*) noexcept> obj(t_.make(), t_.destroy);
  for (std::uint32_t op : init_) call(op, obj.get());
  const int T = static_cast<int>(s_.threads.size());
  // The return counters: one a thread, and one shared (see run_thread).
  std::unique_ptr<mc::atomic<std::uint32_t>[]> done(new mc::atomic<std::uint32_t>[static_cast<std::size_t>(T) + 1]);
  for (int i = 0; i <= T; ++i) mc::detail::named(&done[static_cast<std::size_t>(i)], "history");
  finished_.assign(static_cast<std::size_t>(T), false);
  std::vector<mc::thread> threads;
  threads.reserve(static_cast<std::size_t>(T) + 1);
  const std::source_location here = std::source_location::current();
  for (int th = 0; th < T; ++th)
    threads.emplace_back(here, [this, th, o = obj.get(), d = done.get(), T] {
      mc::detail::name_thread(thread_label(th + 1));
      run_thread(th, o, d, T);
    });
  // Blocked: the scenario's threads that have not finished (the object's
  // own threads, a pool's idle workers, wait as they should).
  const auto unfinished = [&] {
    return static_cast<std::uint32_t>(std::count(finished_.begin(), finished_.end(), false));
  };
  (void)mc::detail::await_quiescence();
  std::uint32_t blocked = unfinished();
  if (blocked == 0) {
    for (mc::thread& x : threads) x.join();
    threads.clear();
    if (!s_.post.empty()) {
      finished_.assign(1, false);
      threads.emplace_back(here, [this, o = obj.get()] {
        mc::detail::name_thread("post");
        for (std::uint32_t op = first_.back(); op < ops_.size(); ++op) call(op, o);
        finished_[0] = true;
      });
      (void)mc::detail::await_quiescence();
      blocked = unfinished();
      if (blocked == 0) threads.back().join();
    }
  }
  std::string why = judge();
  while (!why.empty() && why.back() == '\n') why.pop_back();
  if (!why.empty()) mc::detail::assert_failed_msg("", why, std::source_location::current());
  if (blocked != 0) {
    for (mc::thread& x : threads)
      if (x.joinable()) x.detach();
    mc::detail::end_execution();  // the waiting threads unwind, then this one
  }
}

void runner::closure(config_set& cs, std::uint64_t avail, std::uint64_t known) const {
  // A growing list: each configuration, once, tries every available operation.
  for (std::size_t i = 0; i < cs.items().size(); ++i) {
    const std::uint64_t free = avail & ~cs.items()[i].mask;
    for (std::uint32_t op = 0; op < ops_.size(); ++op) {
      if (((free >> op) & 1) == 0) continue;
      state_ptr next(t_, t_.copy(cs.items()[i].state.p));
      const result r = ops_[op].b->apply(next.p, ((known >> op) & 1) != 0 ? res_[op] : nullptr);
      if (r.is_blocked()) continue;
      if (((known >> op) & 1) != 0 && !(r == result_of(op))) continue;
      cs.add(cs.items()[i].mask | (std::uint64_t{1} << op), std::move(next));
    }
  }
}

std::string runner::judge() {
  const std::size_t n = ops_.size();
  call_pos_.assign(n, npos);
  ret_pos_.assign(n, npos);
  res_.assign(n, nullptr);
  known_ = 0;
  for (std::size_t i = 0; i < hist_.size(); ++i) {
    const entry& e = hist_[i];
    if (e.ret) {
      ret_pos_[e.op] = i;
      res_[e.op] = &e.r;
      known_ |= std::uint64_t{1} << e.op;
    } else {
      call_pos_[e.op] = i;
    }
  }
  // What linearizability sees of a history: each operation's result (or
  // that it never returned, or never began) and which operations returned
  // before it was called. Histories that differ only in the order of two
  // calls or two returns are the same to it (and dpor need not tell them
  // apart).
  std::string key;
  for (std::uint32_t op = 0; op < n; ++op) {
    std::uint64_t before = 0;
    for (std::uint32_t o = 0; o < n && call_pos_[op] != npos; ++o)
      if (ret_pos_[o] != npos && ret_pos_[o] < call_pos_[op]) before |= std::uint64_t{1} << o;
    key.append(reinterpret_cast<const char*>(&before), sizeof before);
    key += call_pos_[op] == npos ? "\1" : ret_pos_[op] == npos ? "\2" : res_[op]->text();
    key += '\0';
  }
  if (passed_.contains(key)) return {};
  const double start = now_seconds();
  ++histories_;
  std::string why = check();
  if (why.empty()) passed_.insert(std::move(key));
  check_seconds_ += now_seconds() - start;
  return why;
}

std::string runner::check() {
  // judge() found the positions.
  const std::size_t n = ops_.size();
  regular_ = 0;
  for (std::uint32_t op = 0; op < n; ++op)
    if (ops_[op].b->c == contract::regular) regular_ |= std::uint64_t{1} << op;

  config_set cs(t_);
  cs.add(0, state_ptr(t_, t_.initial()));
  std::uint64_t active = 0;
  for (std::size_t pos = 0; pos < hist_.size(); ++pos) {
    const entry& e = hist_[pos];
    const std::uint64_t bit = std::uint64_t{1} << e.op;
    if ((regular_ & bit) != 0) continue;
    if (!e.ret) {
      active |= bit;
      continue;
    }
    closure(cs, active & known_, known_);
    bool any = false;
    for (const config& c : cs.items()) any = any || (c.mask & bit) != 0;
    if (!any) return explain_return(pos, cs);
    cs.keep_if_contains(e.op);
  }
  // Calls that never returned had no effect, and must wait in the state
  // the history ends in: a regular read's too (it waits forever, and no
  // operation it might see is left to wake it).
  std::uint64_t pending_regular = 0;
  for (std::uint32_t op = 0; op < n; ++op)
    if ((((regular_ & ~known_) >> op) & 1) != 0 && call_pos_[op] != npos)
      pending_regular |= std::uint64_t{1} << op;
  if (const std::uint64_t pend = (active & ~known_) | pending_regular; pend != 0) {
    bool fine = false;
    for (const config& c : cs.items()) {
      bool all_wait = true;
      for (std::uint32_t op = 0; op < n && all_wait; ++op) {
        if (((pend >> op) & 1) == 0) continue;
        state_ptr probe(t_, t_.copy(c.state.p));
        all_wait = ops_[op].b->apply(probe.p, nullptr).is_blocked();
      }
      fine = fine || all_wait;
    }
    if (!fine) return explain_pending(cs, pend);
  }
  for (std::uint32_t op = 0; op < n; ++op)
    if (((regular_ & known_) >> op) & 1)
      if (std::string why = check_regular(op); !why.empty()) return why;
  return {};
}

std::string runner::check_regular(std::uint32_t r) {
  const std::size_t cr = call_pos_[r], rr = ret_pos_[r];
  std::uint64_t before = 0, during = 0;
  for (std::uint32_t op = 0; op < ops_.size(); ++op) {
    const std::uint64_t bit = std::uint64_t{1} << op;
    if ((regular_ & bit) != 0 || call_pos_[op] == npos) continue;
    // (A call that never returned had no effect: not even one a regular
    // read may see.)
    if (ret_pos_[op] != npos && ret_pos_[op] < cr) before |= bit;
    else if (call_pos_[op] < rr && ret_pos_[op] != npos) during |= bit;
  }
  config_set cs(t_);
  cs.add(0, state_ptr(t_, t_.initial()));
  std::uint64_t active = 0;
  for (std::size_t pos = 0; pos < rr; ++pos) {
    const entry& e = hist_[pos];
    const std::uint64_t bit = std::uint64_t{1} << e.op;
    if (((before | during) & bit) == 0) continue;
    if (!e.ret) {
      active |= bit;
    } else if ((before & bit) != 0) {
      closure(cs, active, known_);
      cs.keep_if_contains(e.op);
    }
  }
  closure(cs, active, known_);
  for (const config& c : cs.items()) {
    if ((c.mask & before) != before) continue;
    state_ptr probe(t_, t_.copy(c.state.p));
    if (ops_[r].b->apply(probe.p, res_[r]) == result_of(r)) return {};
  }
  return explain_regular(r, cs);
}

std::string runner::mask_text(std::uint64_t mask) const {
  std::string out;
  for (std::uint32_t op = 0; op < ops_.size(); ++op)
    if ((mask >> op) & 1) out += (out.empty() ? "" : ", ") + op_label(op);
  return out.empty() ? "the start" : out;
}

std::string runner::table() const {
  const int T = static_cast<int>(s_.threads.size());
  std::string out = "  history (a row per thread, in program order):\n";
  for (int th = 0; th <= T + 1; ++th) {
    std::string row;
    for (std::uint32_t op = 0; op < ops_.size(); ++op) {
      if (ops_[op].thread != th) continue;
      row += row.empty() ? "" : "  |  ";
      row += ops_[op].b->text;
      if (ret_pos_[op] != npos) row += " -> " + res_[op]->text();
      else if (call_pos_[op] != npos) row += " waits forever";
      else row += " (never called)";
    }
    if (row.empty()) continue;
    std::string name = thread_name(th, T);
    name.resize(6, ' ');
    out += "    " + name + row + "\n";
  }
  return out;
}

std::string runner::real_time(std::size_t upto) const {
  std::string out = "  in real time:";
  const int T = static_cast<int>(s_.threads.size());
  for (std::size_t pos = 0; pos <= upto && pos < hist_.size(); ++pos) {
    const entry& e = hist_[pos];
    const std::string who = thread_name(ops_[e.op].thread, T);
    out += pos == 0 ? " " : "; ";
    out += e.ret ? who + " " + ops_[e.op].b->text + " -> " + e.r.text() : who + " calls " + ops_[e.op].b->text;
  }
  return out + "\n";
}

std::string runner::explain_return(std::size_t pos, config_set& cs) const {
  const entry& e = hist_[pos];
  std::string out = "not linearizable: " + op_label(e.op) + " -> " + e.r.text() +
                    " follows from no sequential order of what happened before it returned\n";
  out += table();
  out += real_time(pos);
  out += "  before that return the specification could be in:\n";
  std::size_t shown = 0;
  for (const config& c : cs.items()) {
    if (shown == 4) {
      out += "    ... and " + std::to_string(cs.items().size() - shown) + " more\n";
      break;
    }
    state_ptr probe(t_, t_.copy(c.state.p));
    const result r = ops_[e.op].b->apply(probe.p, &e.r);
    out += "    " + state_text(c.state.p) + " (after " + mask_text(c.mask) + "), where " + ops_[e.op].b->text +
           (r.is_blocked() ? " must wait" : " -> " + r.text()) + "\n";
    ++shown;
  }
  return out;
}

std::string runner::explain_pending(config_set& cs, std::uint64_t pend) const {
  std::string who;
  for (std::uint32_t op = 0; op < ops_.size(); ++op)
    if ((pend >> op) & 1) who += (who.empty() ? "" : " and ") + op_label(op);
  std::string out = "not linearizable: " + who + (std::popcount(pend) == 1 ? " waits" : " wait") +
                    " forever, although the specification lets " +
                    (std::popcount(pend) == 1 ? "it" : "one of them") + " proceed in every state the history can end in\n";
  out += table();
  out += real_time(hist_.size());
  out += "  the states it can end in:\n";
  std::size_t shown = 0;
  for (const config& c : cs.items()) {
    if (shown++ == 4) break;
    out += "    " + state_text(c.state.p) + ":";
    for (std::uint32_t op = 0; op < ops_.size(); ++op) {
      if (((pend >> op) & 1) == 0) continue;
      state_ptr probe(t_, t_.copy(c.state.p));
      const result r = ops_[op].b->apply(probe.p, nullptr);
      out += " " + ops_[op].b->text + (r.is_blocked() ? " must wait" : " -> " + r.text());
    }
    out += "\n";
  }
  return out;
}

std::string runner::explain_regular(std::uint32_t r, config_set& cs) const {
  std::string out = "not regular: " + op_label(r) + " -> " + result_of(r).text() +
                    " matches no state made of every operation that returned before it was called and any of "
                    "those running meanwhile\n";
  out += table();
  out += real_time(ret_pos_[r]);
  out += "  the states those give:";
  std::size_t shown = 0;
  for (const config& c : cs.items()) {
    if (shown++ == 6) {
      out += " ...";
      break;
    }
    state_ptr probe(t_, t_.copy(c.state.p));
    out += " " + state_text(c.state.p) + " (" + ops_[r].b->text + " -> " + ops_[r].b->apply(probe.p, res_[r]).text() + ")";
  }
  return out + "\n";
}

}  // namespace

std::uint64_t seed_from_env(std::uint64_t seed, bool honour) {
  if (!honour) return seed;
  const char* e = std::getenv("LOCKSTEP_SEED");
  if (e == nullptr || *e == '\0') return seed;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(e, &end, 10);
  if (end == e || *end != '\0') throw std::invalid_argument(std::string("LOCKSTEP_SEED is not a number: ") + e);
  return v;
}

double now_seconds() noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

scenario_run run_scenario(const erased_type& t, const scenario& s, const mc::options& o) {
  runner run(t, s);
  scenario_run out;
  out.r = mc::explore(o, [&run] { run.body(); });
  out.check_seconds = run.check_seconds();
  out.histories = run.histories();
  return out;
}

namespace {
std::string grouped(std::uint64_t n) {
  std::string d = std::to_string(n), out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i != 0 && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return out;
}
std::string secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.2f s" : "%.1f s", s);
  return buf;
}
}  // namespace

std::string summary(const outcome& o, const settings& st) {
  const bool sampled = mc::is_sampling(st.strategy.k);
  std::string out = "lincheck " + o.name + ": ";
  const std::string shape = std::to_string(st.threads) + (st.threads == 1 ? " thread" : " threads") + " x " +
                            std::to_string(st.ops) + (st.ops == 1 ? " operation" : " operations");
  if (o.failed && o.failure.empty()) {
    out += "NOT linearizable: a counterexample in scenario " + std::to_string(o.failing_scenario) + " (" + shape + ")";
  } else if (o.failed) {
    out += "failed: " + o.failure + " in scenario " + std::to_string(o.failing_scenario) + " (" + shape +
           "), not a history the specification rules out";
  } else if (!st.replay.empty() || (st.honour_env && std::getenv("LOCKSTEP_REPLAY") != nullptr)) {
    out += "the replay did not fail";
  } else {
    out += "linearizable in " + grouped(o.scenarios) + (o.scenarios == 1 ? " scenario" : " scenarios") + " of " +
           shape + ", ";
    if (sampled) {
      out += "sampled (" + std::string(mc::strategy_label(st.strategy)) + ", up to " + grouped(st.max_executions) +
             " executions a scenario)";
    } else if (o.complete == o.scenarios) {
      out += std::string(o.fair_only ? "every fair interleaving of each (" : "every interleaving of each (") +
             mc::strategy_label(st.strategy) +
             (o.spurious_bound >= 0 ? ", spurious wake-up bound " + std::to_string(o.spurious_bound) : std::string()) +
             ")";
    } else {
      out += grouped(o.complete) + " explored completely, " + grouped(o.scenarios - o.complete) + " stopped (" +
             (o.bound_hit.empty() ? "at a bound" : o.bound_hit) + "; " + mc::strategy_label(st.strategy) + ")";
    }
  }
  out += "; " + grouped(o.executions) + " executions, " + grouped(o.histories) + " distinct histories, " +
         secs(o.seconds) + " (checking histories " + secs(o.check_seconds) + ")";
  return out;
}

replay_spec replay_from(const settings& st) {
  std::string text = st.replay;
  if (st.honour_env) {
    if (const char* e = std::getenv("LOCKSTEP_REPLAY"); e != nullptr && *e != '\0') text = e;
  }
  replay_spec r;
  if (text.empty()) return r;
  const auto bad = [&] {
    return mc::replay_error("not a lincheck replay string (SCENARIO.SHRINK...:SCHEDULE): " + text);
  };
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) throw bad();
  r.schedule = text.substr(colon + 1);
  std::vector<std::size_t> nums;
  std::size_t pos = 0;
  while (pos <= colon) {
    std::size_t end = text.find('.', pos);
    if (end == std::string::npos || end > colon) end = colon;
    const std::string part = text.substr(pos, end - pos);
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || part.size() > 9) throw bad();
    nums.push_back(std::stoul(part));
    pos = end + 1;
  }
  if (nums.empty() || nums[0] == 0 || r.schedule.empty()) throw bad();
  r.on = true;
  r.scenario = static_cast<unsigned>(nums[0]);
  r.path.assign(nums.begin() + 1, nums.end());
  return r;
}

std::string scenario_text(const scenario& s) {
  std::string out = "  the scenario (a row per thread, in program order):\n";
  const int T = static_cast<int>(s.threads.size());
  auto row = [&](int th, const std::vector<bound_op>& ops) {
    if (ops.empty()) return;
    std::string name = thread_name(th, T);
    name.resize(6, ' ');
    out += "    " + name;
    for (std::size_t i = 0; i < ops.size(); ++i) out += (i == 0 ? "" : "  |  ") + ops[i].text;
    out += "\n";
  };
  row(0, s.init);
  for (int th = 0; th < T; ++th) row(th + 1, s.threads[static_cast<std::size_t>(th)]);
  row(T + 1, s.post);
  return out;
}

bool judged(const mc::result& r) {
  return r.found.has_value() && r.found->message.find("history (a row per thread") != std::string::npos;
}

std::string failure_report(const outcome& o, const scenario& s, const scenario_run& run, const settings& st) {
  std::string out = "lincheck " + o.name + ": a counterexample in scenario " + std::to_string(o.failing_scenario) +
                    " (seed " + std::to_string(o.seed) + ")";
  if (o.first_executions != 0)
    out += ", found after " + grouped(o.first_executions) + (o.first_executions == 1 ? " execution, " : " executions, ") +
           secs(o.first_seconds);
  if (o.shrink_steps > 0)
    out += ", shrunk " + std::to_string(o.shrink_steps) + (o.shrink_steps == 1 ? " time" : " times") + " (" +
           std::to_string(o.shrink_tries) + " smaller scenarios explored)";
  out += "\n";
  // A failure that is not a history's (a race, a deadlock, a crash) does not
  // show the operations: the scenario does.
  if (!judged(run.r)) out += scenario_text(s);
  std::string rep = run.r.report();
  // The schedule alone replays nothing here: the replay string names the
  // scenario too.
  if (const std::size_t at = rep.find("  replay: LOCKSTEP_REPLAY="); at != std::string::npos) rep.resize(at);
  // Nor does the trace file (a record of the execution, written where
  // trace_dir or LOCKSTEP_TRACE_DIR says): the replay string below does.
  for (std::size_t at = rep.find("  replay: "); at != std::string::npos; at = rep.find("  replay: ", at)) {
    const std::size_t end = rep.find('\n', at);
    rep.replace(at, end == std::string::npos ? std::string::npos : end + 1 - at,
                "          (a record of the execution; the replay string below replays it)\n");
  }
  out += rep;
  std::string replay = std::to_string(o.failing_scenario);
  for (std::size_t step : o.path) replay += "." + std::to_string(step);
  replay += ":" + run.r.found->schedule;
  out += "  replay: " + replay + "\n";
  std::string cmd = st.replay_command;
  if (cmd.empty()) cmd = "set LOCKSTEP_SEED={seed} LOCKSTEP_REPLAY={} and run this test again";
  if (const std::size_t at = cmd.find("{seed}"); at != std::string::npos) cmd.replace(at, 6, std::to_string(o.seed));
  if (const std::size_t at = cmd.find("{}"); at != std::string::npos) cmd.replace(at, 2, replay);
  out += "  run:    " + cmd + "\n";
  return out;
}

}  // namespace lockstep::lin::detail

namespace lockstep::lin {

namespace {
std::vector<gate>& gate_list() {
  static std::vector<gate> v;
  return v;
}
}  // namespace

gate_registrar::gate_registrar(const gate& g) {
  std::vector<gate>& v = gate_list();
  for (const gate& o : v)
    if (std::string_view(o.name) == g.name) {
      std::fprintf(stderr, "lockstep: two lincheck gates are named %s\n", g.name);
      std::abort();
    }
  auto at = std::find_if(v.begin(), v.end(), [&](const gate& o) { return std::string_view(g.name) < o.name; });
  v.insert(at, g);
}

std::span<const gate> gates() { return gate_list(); }

const gate* find_gate(std::string_view name) {
  for (const gate& g : gate_list())
    if (name == g.name) return &g;
  return nullptr;
}

}  // namespace lockstep::lin
