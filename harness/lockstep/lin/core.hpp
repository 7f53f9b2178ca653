// lockstep/lin/core.hpp — the part of lockstep/lin.hpp that needs no
// RapidCheck: results, bound operations and scenarios, settings, outcomes,
// and the calls into the library (harness/src/lin/lin.cpp). Include
// lockstep/lin.hpp.
#pragma once

#include <array>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "lockstep/mc/explore.hpp"

namespace lockstep::lin {

// ---------------------------------------------------------------------------
// Results

struct blocked_t {
  explicit constexpr blocked_t(int) {}
};
// What a specification returns where the call must wait.
inline constexpr blocked_t blocked{0};

template <class T>
std::string text(const T& v);

namespace detail {
template <class T>
concept streamable = requires(std::ostream& o, const T& v) { o << v; };
template <class T>
concept optional_like = requires { typename T::value_type; } &&
                        std::same_as<T, std::optional<typename T::value_type>>;
template <class T>
concept tuple_like = requires { std::tuple_size<T>::value; };
template <class T>
concept range_like = requires(const T& v) {
  v.begin();
  v.end();
};
template <class Tuple, std::size_t... I>
std::string tuple_text(const Tuple& t, std::index_sequence<I...>) {
  std::string out = "(";
  ((out += (I == 0 ? "" : ", ") + lin::text(std::get<I>(t))), ...);
  return out + ")";
}
}  // namespace detail

// The text results are compared and shown by.
template <class T>
std::string text(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    // The shortest text that reads back as the same value: two results
    // that differ in their last bit differ here too.
    std::array<char, 64> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return std::string(buf.data(), r.ptr);
  } else if constexpr (std::is_enum_v<T>) {
    return std::to_string(static_cast<std::underlying_type_t<T>>(v));
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string(std::string_view(v));
  } else if constexpr (detail::optional_like<T>) {
    return v.has_value() ? lin::text(*v) : std::string("none");
  } else if constexpr (detail::streamable<T>) {
    std::ostringstream o;
    o.precision(std::numeric_limits<long double>::max_digits10);  // floating-point members in full
    o << v;
    return o.str();
  } else if constexpr (detail::tuple_like<T>) {
    return detail::tuple_text(v, std::make_index_sequence<std::tuple_size_v<T>>{});
  } else if constexpr (detail::range_like<T>) {
    std::string out = "[";
    bool first = true;
    for (const auto& x : v) {
      out += (first ? "" : ", ") + lin::text(x);
      first = false;
    }
    return out + "]";
  } else {
    static_assert(sizeof(T) == 0, "lin::text: give the type an operator<<");
  }
}

// What an operation returned, or what the specification says it returns.
class result {
 public:
  result() = default;  // a void operation: "ok"
  result(blocked_t) : blocked_(true), text_("blocks") {}  // NOLINT: implicit on purpose
  template <class T>
    requires(!std::is_same_v<std::remove_cvref_t<T>, result> &&
             !std::is_same_v<std::remove_cvref_t<T>, blocked_t>)
  result(const T& v) : text_(lin::text(v)) {}  // NOLINT: implicit on purpose
  static result raised(std::string what) {
    result r;
    r.text_ = "throws " + std::move(what);
    return r;
  }
  [[nodiscard]] bool is_blocked() const noexcept { return blocked_; }
  [[nodiscard]] const std::string& text() const noexcept { return text_; }
  bool operator==(const result&) const = default;

 private:
  bool blocked_ = false;
  std::string text_ = "ok";
};

// A specification's "this call throws": compared with what() of what the
// operation threw.
inline result raises(std::string what) { return result::raised(std::move(what)); }

enum class contract : std::uint8_t { linearizable, regular };
inline constexpr contract linearizable = contract::linearizable;
inline constexpr contract regular = contract::regular;

// ---------------------------------------------------------------------------
// The type-erased core (harness/src/lin/lin.cpp)

namespace detail {

// One operation of a scenario, its argument bound.
struct bound_op {
  std::string text;                          // "put(1)"
  std::function<result(void* obj)> run;      // on the object under test
  // On a specification state; `seen`: the result the call returned
  // (nullptr: none, it never returned, or the result is not known yet).
  std::function<result(void* state, const result* seen)> apply;
  contract c = contract::linearizable;
};

struct scenario {
  std::vector<bound_op> init;
  std::vector<std::vector<bound_op>> threads;
  std::vector<bound_op> post;
};

// The type under test and its specification, erased.
struct erased_type {
  std::string name;
  std::function<void*()> make;  // a new object
  void (*destroy)(void*) noexcept = nullptr;
  std::function<void*()> initial;  // a new specification state
  void* (*copy)(const void*) = nullptr;
  void (*drop)(void*) noexcept = nullptr;
  bool (*equal)(const void*, const void*) = nullptr;
  std::string (*show)(const void*) = nullptr;  // nullptr: not printable
};

// One scenario explored: the explore() result (its bug, for a history that
// is not linearizable, an assertion whose message explains why), the
// linearizability checker's own time, and how many histories it checked.
struct scenario_run {
  mc::result r;
  double check_seconds = 0;
  std::uint64_t histories = 0;
};
scenario_run run_scenario(const erased_type& t, const scenario& s, const mc::options& o);

// The scenario as a table, a row per thread (for a failure that is not a
// linearizability one: a race, a deadlock, a crash).
std::string scenario_text(const scenario& s);

}  // namespace detail

// ---------------------------------------------------------------------------
// Checking

struct settings {
  unsigned scenarios = 100;  // generated scenarios
  unsigned threads = 2;      // T: threads of the parallel part
  unsigned ops = 3;          // K: operations per thread
  unsigned init_ops = 2;     // at most, before the threads start
  unsigned post_ops = 1;     // at most, after they end
  std::uint64_t seed = 1;    // LOCKSTEP_SEED overrides it (with honour_env)
  // How each scenario's interleavings are explored: dpor (every one, each
  // class of equivalent ones once: the default, for small scenarios), dfs,
  // pct or random (sampled: max_executions each).
  mc::strategy_spec strategy = mc::dpor();
  // Per scenario: an exhaustive search stopped here is incomplete (the
  // outcome counts it); a sampling one runs this many.
  std::uint64_t max_executions = 200000;
  bool shrink = true;
  bool honour_env = true;
  // Replays one failing execution: "SCENARIO.SHRINK...:SCHEDULE", the
  // string a report prints (the scenario's number, the shrink steps that led
  // to the minimal one, its schedule). LOCKSTEP_REPLAY overrides it (with
  // honour_env). Runs that one execution only.
  std::string replay{};
  // How to run a failure again, printed at the end of its report: {seed}
  // is the seed and {} the replay string, e.g. "lockstep lincheck
  // bounded_queue --seed {seed} --replay {}". Empty: with LOCKSTEP_SEED and
  // LOCKSTEP_REPLAY set, run this program again.
  std::string replay_command{};
  // The rest of what each exploration runs with (memory model, bounds,
  // trace_dir, ...); strategy, max_executions, name and shrink come from
  // above.
  mc::options explore{};
};

struct outcome {
  std::string name;
  bool failed = false;
  std::string report;                 // "" when every scenario passed
  unsigned scenarios = 0;             // scenarios checked
  unsigned complete = 0;              // of which every interleaving ran
  // One of those left out what only an unfair system does (a thread going
  // on right after its yield, a stale read after one): mc::result::fair_only.
  // settings::explore.fair_scheduling = false (--unfair) covers it.
  bool fair_only = false;
  // One of those met the spurious wake-up bound (mc::result::spurious_bound):
  // the largest such bound, -1 when none did.
  int spurious_bound = -1;
  unsigned failing_scenario = 0;      // 1-based; 0 when none failed
  // Empty when a history broke the contract; else the bug that ended the
  // failing execution first (a deadlock, a crash, an endless loop, a data
  // race, an assertion of the object's own): mc::bug_kind_name.
  std::string failure;
  std::string bound_hit;              // what stopped the first incomplete scenario
  unsigned shrink_steps = 0;          // smaller scenarios that still failed
  unsigned shrink_tries = 0;          // candidates explored while shrinking
  std::uint64_t executions = 0;       // over all scenarios, shrinking included
  std::uint64_t histories = 0;        // distinct histories checked: results, and which
                                      // operation returned before which was called
  double seconds = 0;                 // wall clock, all of it
  double first_seconds = 0;           // until the first counterexample (before shrinking)
  std::uint64_t first_executions = 0;  // executions until then
  double check_seconds = 0;           // of which in the linearizability checker
  std::uint64_t seed = 1;
  std::vector<std::size_t> path;      // the shrink steps to the minimal scenario
  [[nodiscard]] bool ok() const noexcept { return !failed; }
};

// ---------------------------------------------------------------------------
// Registered gates: `lockstep lincheck --list` and `lockstep lincheck NAME`
// (link their objects whole, as models').
//
//   LOCKSTEP_LIN_GATE(bounded_queue, "put/get/try/timed, task_done, join, close") {
//     return lockstep::lin::check(queue_spec(), s);   // s: the settings
//   }
struct gate {
  const char* name;
  const char* description;
  outcome (*check)(const settings& s);
};
struct gate_registrar {
  explicit gate_registrar(const gate& g);
};
// Every registered gate, sorted by name.
std::span<const gate> gates();
const gate* find_gate(std::string_view name);

namespace detail {
// LOCKSTEP_SEED when set (and honoured), else `seed`.
std::uint64_t seed_from_env(std::uint64_t seed, bool honour);
// A failing execution's bug is a history the contract rules out (not one
// of the object's own).
bool judged(const mc::result& r);
// The report of a failed check: the minimal history, why, the checker's
// report of the execution, how to run it again.
std::string failure_report(const outcome& o, const scenario& s, const scenario_run& run,
                           const settings& st);
// One line: the verdict, the scenarios, whether each was explored
// exhaustively, executions, time (and the checker's share).
std::string summary(const outcome& o, const settings& st);
// settings::replay, or LOCKSTEP_REPLAY when honoured, parsed.
struct replay_spec {
  bool on = false;
  unsigned scenario = 0;
  std::vector<std::size_t> path;
  std::string schedule;
};
replay_spec replay_from(const settings& st);
// Seconds on a steady clock.
double now_seconds() noexcept;
}  // namespace detail

}  // namespace lockstep::lin

#define LOCKSTEP_LIN_GATE(ident, description)                                            \
  static ::lockstep::lin::outcome lockstep_gate_##ident(const ::lockstep::lin::settings& s); \
  static const ::lockstep::lin::gate_registrar lockstep_gate_reg_##ident{                  \
      ::lockstep::lin::gate{#ident, description, &lockstep_gate_##ident}};                \
  static ::lockstep::lin::outcome lockstep_gate_##ident([[maybe_unused]] const ::lockstep::lin::settings& s)
