// lockstep lincheck — the registered lincheck gates (lockstep/lin.hpp):
// generated scenarios of a concurrent type, every interleaving explored,
// every history checked against the type's sequential specification.
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "lockstep/lin/core.hpp"
#include "lockstep/mc/numbers.hpp"
#include "cli.hpp"

namespace lockstep::cli {

const char* const kLincheckHelp =
    "usage: lockstep lincheck --list\n"
    "       lockstep lincheck TYPE|--all [options]\n"
    "\n"
    "Generates scenarios of a gated type (an initial sequential part, T threads\n"
    "of K operations, a final sequential part), explores each scenario's\n"
    "interleavings and checks that every history is linearizable against the\n"
    "type's sequential specification (a call that waits forever must be one the\n"
    "specification says waits). The first counterexample is shrunk (fewer\n"
    "threads and operations, simpler arguments) and reported with its history\n"
    "and a replay string.\n"
    "\n"
    "options:\n"
    "  --list             the gated types and what each gate calls\n"
    "  --scenarios N      scenarios to generate (default 100)\n"
    "  --threads T        threads of the parallel part (default 2)\n"
    "  --ops K            operations per thread (default 3)\n"
    "  --seed S           the generator's seed (default 1; the run is deterministic)\n"
    "  --strategy S       how each scenario is explored: dpor (default: every\n"
    "                     interleaving), dfs, pct, pos or random (sampled)\n"
    "  --executions N     per scenario: the bound of an exhaustive search (default\n"
    "                     200000), or the executions of a sampling one (default 1000)\n"
    "  --memory-model M   rc11 (default) or sc: the memory model atomics follow\n"
    "  --unfair           turn fair scheduling off: no schedule and no stale read\n"
    "                     is left out for fairness (the summary's 'every fair\n"
    "                     interleaving' becomes 'every interleaving')\n"
    "  --replay R         run the one failing execution R names (SCENARIO.SHRINK...:\n"
    "                     SCHEDULE, from a report; same --seed, --threads, --ops)\n"
    "  --no-shrink        report the first failing scenario as it was generated\n"
    "  --quiet            only the verdict line (and a counterexample's report)\n"
    "\n"
    "exit codes: 0 every history linearizable, 1 a counterexample, 2 bad usage\n";

namespace {

std::uint64_t number(std::string_view flag, std::string_view v, std::uint64_t lo, std::uint64_t hi) {
  std::string why;
  const std::optional<std::uint64_t> x = lockstep::mc::parse_number(v, &why);
  if (!x) throw usage_error{std::string(flag) + ": '" + std::string(v) + "' is " + why};
  if (*x < lo || *x > hi)
    throw usage_error{std::string(flag) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi)};
  return *x;
}

}  // namespace

int cmd_lincheck(const std::vector<std::string_view>& args) {
  namespace lin = lockstep::lin;
  namespace mc = lockstep::mc;
  lin::settings st;
  st.honour_env = false;
  bool list = false, all = false, quiet = false, executions_given = false;
  std::string type;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) throw usage_error{std::string(a) + " needs a value"};
      return args[++i];
    };
    if (a == "--list") list = true;
    else if (a == "--all") all = true;
    else if (a == "--quiet") quiet = true;
    else if (a == "--no-shrink") st.shrink = false;
    else if (a == "--scenarios") st.scenarios = static_cast<unsigned>(number(a, value(), 1, 1000000));
    else if (a == "--threads") st.threads = static_cast<unsigned>(number(a, value(), 1, 8));
    else if (a == "--ops") st.ops = static_cast<unsigned>(number(a, value(), 1, 16));
    else if (a == "--seed") st.seed = number(a, value(), 0, UINT64_MAX);
    else if (a == "--executions") {
      st.max_executions = number(a, value(), 1, UINT64_MAX);
      executions_given = true;
    } else if (a == "--memory-model") {
      const std::string_view v = value();
      const std::optional<mc::memory_model> m = mc::parse_memory_model(v);
      if (!m) throw usage_error{"--memory-model must be sc or rc11, not '" + std::string(v) + "'"};
      st.explore.memory_model = *m;
    } else if (a == "--unfair") {
      st.explore.fair_scheduling = false;
    } else if (a == "--replay") {
      st.replay = std::string(value());
      if (st.replay.empty()) throw usage_error{"--replay needs a non-empty value"};
    } else if (a == "--strategy") {
      const std::string_view s = value();
      if (s == "dpor") st.strategy = mc::dpor();
      else if (s == "dfs") st.strategy = mc::dfs();
      else if (s == "pct") st.strategy = mc::pct();
      else if (s == "random") st.strategy = mc::random();
      else if (s == "pos") st.strategy = mc::pos();
      else throw usage_error{"--strategy: unknown strategy '" + std::string(s) + "' (use dpor, dfs, pct, pos or random)"};
    } else if (a.starts_with("-")) {
      throw usage_error{"unknown option '" + std::string(a) + "' for lincheck (see lockstep help lincheck)"};
    } else if (!type.empty()) {
      throw usage_error{"lincheck takes one type, got '" + type + "' and '" + std::string(a) + "'"};
    } else {
      type = std::string(a);
    }
  }
  if (st.threads * st.ops + st.init_ops + st.post_ops > 64)
    throw usage_error{"--threads x --ops must be at most 61 (a scenario holds at most 64 operations)"};
  const bool sampled = mc::is_sampling(st.strategy.k);
  if (sampled && !executions_given) st.max_executions = 1000;
  if (list) {
    if (all || !type.empty()) throw usage_error{"--list takes no type"};
    int width = 4;
    for (const lin::gate& g : lin::gates()) width = std::max(width, static_cast<int>(std::string_view(g.name).size()));
    std::printf("%-*s  %s\n", width, "TYPE", "WHAT THE GATE CALLS");
    for (const lin::gate& g : lin::gates()) std::printf("%-*s  %s\n", width, g.name, g.description);
    return kOk;
  }
  if (all == !type.empty()) throw usage_error{"lincheck needs a type or --all (see lockstep lincheck --list)"};
  if (all && !st.replay.empty()) throw usage_error{"--replay replays one type's execution; it cannot go with --all"};
  std::vector<const lin::gate*> gates;
  if (all) {
    for (const lin::gate& g : lin::gates()) gates.push_back(&g);
  } else {
    const lin::gate* g = lin::find_gate(type);
    if (g == nullptr) throw usage_error{"unknown type '" + type + "' (see lockstep lincheck --list)"};
    gates.push_back(g);
  }
  int code = kOk;
  for (const lin::gate* g : gates) {
    lin::settings s = st;
    s.replay_command = std::string("lockstep lincheck ") + g->name + " --seed {seed}" +
                       (st.threads != 2 ? " --threads " + std::to_string(st.threads) : "") +
                       (st.ops != 3 ? " --ops " + std::to_string(st.ops) : "") +
                       (st.explore.memory_model == mc::memory_model::sc ? " --memory-model sc" : "") + " --replay {}";
    const lin::outcome o = g->check(s);
    std::printf("%s\n", lin::detail::summary(o, s).c_str());
    if (o.failed) {
      std::printf("%s", o.report.c_str());
      code = kBug;
    } else if (!quiet && !o.report.empty()) {
      std::printf("%s", o.report.c_str());
    }
    std::fflush(stdout);
  }
  return code;
}

}  // namespace lockstep::cli
