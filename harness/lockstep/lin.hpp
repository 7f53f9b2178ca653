// lockstep/lin.hpp — gate a concurrent type: generated scenarios, every
// interleaving explored, every history checked against a sequential
// specification (linearizability, Herlihy & Wing 1990).
//
//   struct model {                      // the sequential specification
//     std::deque<int> items;
//     bool operator==(const model&) const = default;
//   };
//   lin::spec<mc::bounded_queue<int>, model> s(
//       "bounded_queue", [] { return std::make_unique<mc::bounded_queue<int>>(2); });
//   s.op("put", rc::gen::inRange(0, 3),
//        [](auto& q, int v) { return q.put(v); },
//        [](model& m, int v) -> lin::result {
//          if (m.items.size() == 2) return lin::blocked;   // put waits while full
//          m.items.push_back(v);
//          return true;
//        });
//   s.op("get", [](auto& q) { return q.get(); },
//        [](model& m) -> lin::result {
//          if (m.items.empty()) return lin::blocked;
//          int v = m.items.front(); m.items.pop_front();
//          return std::optional<int>(v);
//        });
//   lin::outcome o = lin::check(s);     // 100 scenarios, 2 threads x 3 operations
//   EXPECT_TRUE(o.ok()) << o.report;
//
// A scenario is an initial sequential part (run by the body before any
// thread starts), T threads of K operations each, and a final sequential
// part (run by one thread after those ended). check() generates scenarios
// with RapidCheck (the operation and its argument: a RapidCheck generator),
// explores each one's interleavings under the checker (dpor by default:
// every interleaving, each class of equivalent ones once), records each
// execution's history — the order in which operations were called and
// returned, with their results — and checks that some sequential order of
// the operations, consistent with that real-time order, gives every result
// under the specification (Wing & Gong's search, with the memoisation of
// Lowe's "Testing for linearizability": a set of (linearized operations,
// specification state) pairs, extended one return at a time).
//
// Blocking: a specification returns lin::blocked where the call must wait.
// An operation that returns where every state the specification could be in
// says it must wait is a bug; an execution that ends with operations waiting
// forever passes only if, in some state the history can reach, the
// specification says every one of them must wait (otherwise it is a lost
// wake-up: the call waits although it could proceed). A call that never
// returned had no effect.
//
// Several allowed results: a specification may take the result the call
// returned as its last parameter (`const lin::result& seen`; a call that
// never returned is seen as lin::blocked) and return it where the contract
// allows it — std::counting_semaphore::try_acquire may fail spuriously:
//   [](permits& m, const lin::result& seen) -> lin::result {
//     if (seen == lin::result(false)) return false;  // allowed at any count
//     if (m.n == 0) return false;
//     --m.n;
//     return true;
//   }
//
// Per-operation contracts: lin::contract::linearizable (the default) or
// lin::contract::regular, for a read that is not a snapshot (a striped
// counter's value()): its result must come from some state reached by every
// operation that returned before it was called, none called after it
// returned, and any subset of those running meanwhile; it does not take part
// in the others' order, so two such reads need not agree on one.
//
// Failures are shrunk: fewer threads, fewer operations, then simpler
// operations and arguments (RapidCheck's shrinks of the generators), each
// candidate explored again; the schedule of the minimal one is shrunk as
// every failing schedule is. The report shows the minimal history as a
// per-thread table, says why no sequential order explains it (the shortest
// prefix that cannot be linearized, with the states the specification could
// be in), then the checker's report of that execution, and how to run the
// same check again (the seed makes it deterministic).
//
// The object is built by the factory in every execution; it and everything
// it uses must be checked types (lockstep::mc::..., mc::atomic, a user type
// on mc::platform). Results are compared by their text (lin::text): any
// type with operator<<, integers, bool, strings, std::optional, pairs,
// tuples and ranges. An exception thrown by an operation is its result
// ("throws <what()>"); a specification says the same with lin::raises(what).
// The model must be copyable and equality-comparable; with operator<< the
// report can print its states.
#pragma once

#include <rapidcheck.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "lockstep/lin/core.hpp"

namespace lockstep::lin {

// ---------------------------------------------------------------------------
// Declaring a type

template <class Obj, class Model>
class spec {
 public:
  using object_type = Obj;
  using model_type = Model;

  explicit spec(std::string name, std::function<std::unique_ptr<Obj>()> make = nullptr,
                Model initial = Model{})
      : name_(std::move(name)), make_(std::move(make)), initial_(std::move(initial)) {
    if constexpr (std::is_default_constructible_v<Obj>) {
      if (!make_) make_ = [] { return std::make_unique<Obj>(); };
    }
    if (!make_) throw std::invalid_argument("lin::spec " + name_ + ": give a factory for a type that cannot be built from nothing");
  }

  // An operation without argument: call(Obj&) and apply(Model&) (which
  // returns the result, or lin::blocked where the call must wait).
  template <class Call, class Apply>
    requires std::is_invocable_v<Call&, Obj&> &&
             (std::is_invocable_v<Apply&, Model&> || std::is_invocable_v<Apply&, Model&, const result&>)
  spec& op(std::string name, Call call, Apply apply, contract c = contract::linearizable) {
    detail::bound_op b;
    b.text = name + "()";
    b.run = [call](void* o) mutable { return run_one(call, *static_cast<Obj*>(o)); };
    b.apply = [apply](void* m, const result* seen) mutable { return apply_one(apply, *static_cast<Model*>(m), seen); };
    b.c = c;
    gens_.push_back(rc::gen::just(std::move(b)));
    return *this;
  }

  // An operation with one argument drawn from `gen` (a tuple or a struct
  // for several): call(Obj&, A) and apply(Model&, A).
  template <class A, class Call, class Apply>
    requires std::is_invocable_v<Call&, Obj&, const A&> &&
             (std::is_invocable_v<Apply&, Model&, const A&> || std::is_invocable_v<Apply&, Model&, const A&, const result&>)
  spec& op(std::string name, rc::Gen<A> gen, Call call, Apply apply, contract c = contract::linearizable) {
    gens_.push_back(rc::gen::map(std::move(gen), [name, call, apply, c](const A& a) {
      detail::bound_op b;
      b.text = name + "(" + lin::text(a) + ")";
      b.run = [call, a](void* o) mutable { return run_one(call, *static_cast<Obj*>(o), a); };
      b.apply = [apply, a](void* m, const result* seen) mutable {
        return apply_one(apply, *static_cast<Model*>(m), seen, a);
      };
      b.c = c;
      return b;
    }));
    return *this;
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] std::size_t size() const noexcept { return gens_.size(); }

  // Internal: the generator of one operation of a scenario, and the erased type.
  [[nodiscard]] rc::Gen<detail::bound_op> op_gen() const;
  [[nodiscard]] detail::erased_type erased() const;

 private:
  template <class Call, class... A>
  static result run_one(Call& call, Obj& obj, const A&... a) {
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<Call&, Obj&, const A&...>>) {
        call(obj, a...);
        return result();
      } else {
        return result(call(obj, a...));
      }
    } catch (const std::exception& e) {
      return result::raised(e.what());
    }
  }

  // A specification that takes the result the call returned (the last
  // parameter) gets it, or a blocked result for a call that never returned.
  template <class Apply, class... A>
  static result apply_one(Apply& f, Model& m, const result* seen, const A&... a) {
    if constexpr (std::is_invocable_v<Apply&, Model&, const A&..., const result&>) {
      static const result never(blocked);
      return result(f(m, a..., seen != nullptr ? *seen : never));
    } else {
      return result(f(m, a...));
    }
  }

  std::string name_;
  std::function<std::unique_ptr<Obj>()> make_;
  Model initial_;
  std::vector<rc::Gen<detail::bound_op>> gens_;
};

template <class Obj, class Model>
rc::Gen<detail::bound_op> spec<Obj, Model>::op_gen() const {
  if (gens_.empty()) throw std::invalid_argument("lin::spec " + name_ + " declares no operation");
  // The index shrinks toward the first operation declared.
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, gens_.size()),
                         [gens = gens_](std::size_t i) { return gens[i]; });
}

template <class Obj, class Model>
detail::erased_type spec<Obj, Model>::erased() const {
  detail::erased_type t;
  t.name = name_;
  t.make = [make = make_]() -> void* { return make().release(); };
  t.destroy = [](void* o) noexcept { delete static_cast<Obj*>(o); };
  t.initial = [m = initial_]() -> void* { return new Model(m); };
  t.copy = [](const void* m) -> void* { return new Model(*static_cast<const Model*>(m)); };
  t.drop = [](void* m) noexcept { delete static_cast<Model*>(m); };
  t.equal = [](const void* a, const void* b) {
    return *static_cast<const Model*>(a) == *static_cast<const Model*>(b);
  };
  if constexpr (detail::streamable<Model> || detail::range_like<Model>)
    t.show = [](const void* m) { return lin::text(*static_cast<const Model*>(m)); };
  return t;
}

namespace detail {

// A generated scenario: each operation's Shrinkable, so that its argument
// shrinks the way its generator says.
struct shrinkable_scenario {
  std::vector<rc::Shrinkable<bound_op>> init;
  std::vector<std::vector<rc::Shrinkable<bound_op>>> threads;
  std::vector<rc::Shrinkable<bound_op>> post;
  [[nodiscard]] scenario value() const;
  // Smaller candidates, most aggressive first.
  [[nodiscard]] std::vector<shrinkable_scenario> candidates() const;
};

shrinkable_scenario generate(const rc::Gen<bound_op>& g, const settings& s, std::uint64_t seed,
                             unsigned index);

inline scenario shrinkable_scenario::value() const {
  scenario s;
  for (const auto& o : init) s.init.push_back(o.value());
  for (const auto& t : threads) {
    s.threads.emplace_back();
    for (const auto& o : t) s.threads.back().push_back(o.value());
  }
  for (const auto& o : post) s.post.push_back(o.value());
  return s;
}

inline std::vector<shrinkable_scenario> shrinkable_scenario::candidates() const {
  // The operation lists: 0 the initial part, 1..T the threads, T+1 the final part.
  const std::size_t lists = threads.size() + 2;
  auto list = [&](shrinkable_scenario& c, std::size_t k) -> std::vector<rc::Shrinkable<bound_op>>& {
    return k == 0 ? c.init : k == lists - 1 ? c.post : c.threads[k - 1];
  };
  std::vector<shrinkable_scenario> out;
  // Most aggressive first: a whole thread, a sequential part, one
  // operation; then each operation's own shrinks (an operation declared
  // earlier, a simpler argument).
  for (std::size_t t = 0; t < threads.size() && threads.size() > 1; ++t) {
    out.push_back(*this);
    out.back().threads.erase(out.back().threads.begin() + static_cast<std::ptrdiff_t>(t));
  }
  for (std::size_t k : {std::size_t{0}, lists - 1}) {
    if (list(const_cast<shrinkable_scenario&>(*this), k).empty()) continue;
    out.push_back(*this);
    list(out.back(), k).clear();
  }
  shrinkable_scenario self = *this;
  for (std::size_t k = 0; k < lists; ++k) {
    const std::size_t n = list(self, k).size();
    const bool thread = k != 0 && k != lists - 1;
    for (std::size_t i = 0; i < n && !(thread && n == 1); ++i) {  // a thread keeps one operation
      out.push_back(*this);
      auto& l = list(out.back(), k);
      l.erase(l.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  for (std::size_t k = 0; k < lists; ++k) {
    for (std::size_t i = 0; i < list(self, k).size(); ++i) {
      auto shrinks = list(self, k)[i].shrinks();
      while (auto next = shrinks.next()) {
        out.push_back(*this);
        list(out.back(), k)[i] = std::move(*next);
      }
    }
  }
  return out;
}

inline shrinkable_scenario generate(const rc::Gen<bound_op>& g, const settings& s, std::uint64_t seed,
                                    unsigned index) {
  rc::Random r(seed * 0x9e3779b97f4a7c15ULL + index + 1);
  shrinkable_scenario sc;
  auto draw = [&](unsigned n, std::vector<rc::Shrinkable<bound_op>>& into) {
    for (unsigned i = 0; i < n; ++i) into.push_back(g(r.split(), rc::kNominalSize));
  };
  const unsigned init = s.init_ops == 0 ? 0 : static_cast<unsigned>(r.split().next() % (s.init_ops + 1));
  const unsigned post = s.post_ops == 0 ? 0 : static_cast<unsigned>(r.split().next() % (s.post_ops + 1));
  draw(init, sc.init);
  for (unsigned t = 0; t < s.threads; ++t) {
    sc.threads.emplace_back();
    draw(s.ops, sc.threads.back());
  }
  draw(post, sc.post);
  return sc;
}

inline outcome check_erased(const erased_type& t, const rc::Gen<bound_op>& g, const settings& st) {
  outcome out;
  out.name = t.name;
  out.seed = seed_from_env(st.seed, st.honour_env);
  const replay_spec rp = replay_from(st);
  const double start = now_seconds();
  mc::options o = st.explore;
  o.strategy = st.strategy;
  o.max_executions = st.max_executions;
  o.name = t.name;
  o.honour_env = false;  // LOCKSTEP_REPLAY names a scenario and a schedule here (replay_from)
  o.shrink = false;      // the minimal scenario's schedule is shrunk at the end
  const std::string trace_dir = o.trace_dir;
  o.trace_dir = "-";
  auto explore = [&](const scenario& sc) {
    scenario_run r = run_scenario(t, sc, o);
    out.executions += r.r.executions;
    out.histories += r.histories;
    out.check_seconds += r.check_seconds;
    return r;
  };
  // The minimal scenario once more (or the one a replay names), its
  // schedule shrunk and its trace file written where asked.
  auto finish = [&](const shrinkable_scenario& sc, std::vector<std::size_t> path) {
    o.shrink = st.explore.shrink;
    o.trace_dir = trace_dir;
    if (rp.on) o.strategy = mc::replay(rp.schedule);
    const scenario minimal = sc.value();
    scenario_run fin = explore(minimal);
    out.seconds = now_seconds() - start;
    out.failed = !fin.r.ok();
    if (out.failed && !judged(fin.r)) out.failure = mc::bug_kind_name(fin.r.found->kind);
    out.path = std::move(path);
    out.report = out.failed ? failure_report(out, minimal, fin, st)
                            : "lincheck " + out.name + ": the replay did not fail (" + fin.r.report() + ")";
    return out;
  };
  if (rp.on) {  // straight to the scenario and schedule it names
    out.failing_scenario = rp.scenario;
    shrinkable_scenario sc = generate(g, st, out.seed, rp.scenario - 1);
    for (std::size_t step : rp.path) {
      std::vector<shrinkable_scenario> cands = sc.candidates();
      if (step >= cands.size()) throw mc::replay_error("LOCKSTEP_REPLAY names a shrink step that does not exist");
      sc = std::move(cands[step]);
    }
    out.scenarios = 1;
    return finish(sc, rp.path);
  }
  for (unsigned i = 0; i < st.scenarios; ++i) {
    shrinkable_scenario sc = generate(g, st, out.seed, i);
    scenario_run r = explore(sc.value());
    ++out.scenarios;
    out.complete += r.r.complete ? 1 : 0;
    out.fair_only = out.fair_only || (r.r.complete && r.r.fair_only);
    if (r.r.complete && r.r.spurious_bound > out.spurious_bound) out.spurious_bound = r.r.spurious_bound;
    if (!r.r.complete && out.bound_hit.empty()) out.bound_hit = r.r.bound_hit;
    if (r.r.ok()) continue;
    out.failing_scenario = i + 1;
    out.first_seconds = now_seconds() - start;
    out.first_executions = out.executions;
    // Shrink: take the first smaller scenario that fails the same way, and
    // start again from it, until none does. The path of candidates taken
    // lets a replay find the minimal scenario again without searching.
    const mc::bug_kind kind = r.r.found->kind;
    std::vector<std::size_t> path;
    for (bool smaller = st.shrink; smaller && out.shrink_tries < 2000;) {
      smaller = false;
      std::vector<shrinkable_scenario> cands = sc.candidates();
      for (std::size_t c = 0; c < cands.size(); ++c) {
        ++out.shrink_tries;
        scenario_run cr = explore(cands[c].value());
        if (cr.r.ok() || cr.r.found->kind != kind) continue;
        sc = std::move(cands[c]);
        path.push_back(c);
        ++out.shrink_steps;
        smaller = true;
        break;
      }
    }
    return finish(sc, std::move(path));
  }
  out.seconds = now_seconds() - start;
  return out;
}

}  // namespace detail

// Generates settings.scenarios scenarios and checks each; stops at the first
// that is not linearizable, shrinks it and reports it.
template <class Obj, class Model>
outcome check(const spec<Obj, Model>& s, const settings& st = settings{}) {
  return detail::check_erased(s.erased(), s.op_gen(), st);
}

}  // namespace lockstep::lin
