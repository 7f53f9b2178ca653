// lockstep/mc/model.hpp — registered, checkable scenarios.
//
// A model has a name, a group, a one-line description, a body (run as
// thread 0 of every execution) and the verdict it must get: pass, or the bug
// kind the checker must find. `lockstep check --all` and the test suite hold
// every registered model to its verdict.
//
//   LOCKSTEP_MODEL(deadlock_abba, "classic", lockstep::mc::expect_bug(bug_kind::deadlock),
//                  "two threads take two mutexes in opposite orders") { ... }
//
// An optional last argument holds model_settings fields, e.g.
//   LOCKSTEP_MODEL(big, "g", expect_pass(), "...", .exhaustive = false) { ... }
//
// Registration happens during static initialisation; link model objects
// whole (meson: link_whole) or they are dropped. Define a group's models in
// one file, each fix right after the bug it fixes: `lockstep list` and
// `check --all` show them in that order.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "lockstep/mc/explore.hpp"

namespace lockstep::mc {

struct expectation {
  std::optional<bug_kind> bug;  // nullopt: the model must pass
};
inline constexpr expectation expect_pass() { return {}; }
inline constexpr expectation expect_bug(bug_kind k) { return {k}; }

// How a model is checked by default (`lockstep check`, the test suite).
struct model_settings {
  // Small enough for an exhaustive search: the default strategy is dpor
  // (every schedule, one per class of equivalent ones). When false, the
  // default is random with `executions` executions (dpor and dfs still run
  // when asked for, and stop at their bounds).
  bool exhaustive = true;
  std::uint64_t executions = 50000;
  std::uint64_t max_steps = 0;  // 0: the default bound
  // Whether random sampling is expected to find the model's bug. False for a
  // bug that only an adversarial infinite schedule shows (a livelock in lock
  // step: random choices break the symmetry almost surely); dfs and dpor
  // still must find it, and sampling must not find a different bug.
  bool found_by_sampling = true;
  // The model's bug ends the process (a crash, a stack overflow, or a step
  // the watchdog ends; see options::on_fatal): `lockstep check --all` and the
  // test suites check it in a child process.
  bool ends_process = false;
  // options::step_timeout for this model (0: the default).
  std::chrono::milliseconds step_timeout{0};
  // options::fair_scheduling for this model. False for a model whose every
  // loop is bounded (a retry that gives up): every execution ends without
  // fairness, and the search covers every schedule, not only the fair ones
  // (the CLI's --unfair turns it off for any model).
  bool fair_scheduling = true;
};

struct model {
  const char* name;
  const char* group;
  expectation expected;
  const char* description;
  void (*body)();
  model_settings settings{};
};

// Registers `m`; names must be unique (a duplicate aborts at start-up).
struct model_registrar {
  explicit model_registrar(const model& m);
};

// Every registered model, sorted by group; within a group in the order
// they were registered (a file's definition order: each bug before its fix).
std::span<const model> models();
const model* find_model(std::string_view name);
// "pass" or "bug: <kind>".
std::string expectation_name(const expectation& e);

// The options `lockstep check NAME` checks a model with when no flag says
// otherwise, for the CLI and the tests alike: dpor for an exhaustive model,
// else random (seed 1) over settings.executions; the model's step bound,
// step timeout and fair scheduling; its name. honour_env stays as options has it.
options default_options(const model& m);

}  // namespace lockstep::mc

#define LOCKSTEP_MODEL(ident, group, expected, description, ...)                     \
  static void lockstep_model_##ident();                                              \
  static const ::lockstep::mc::model_registrar lockstep_model_reg_##ident{           \
      ::lockstep::mc::model{#ident, group, expected, description, &lockstep_model_##ident, \
                            ::lockstep::mc::model_settings{__VA_ARGS__}}};          \
  static void lockstep_model_##ident()
