// explore(): the loop over executions, bounds, environment overrides, and
// the result's report.
#include "lockstep/mc/explore.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/replay_string.hpp"
#include "runtime.hpp"
#include "strategy.hpp"

namespace lockstep::mc {

const char* bug_kind_name(bug_kind k) noexcept {
  switch (k) {
    case bug_kind::assertion: return "assertion";
    case bug_kind::deadlock: return "deadlock";
    case bug_kind::misuse: return "misuse";
    case bug_kind::uncaught_exception: return "uncaught_exception";
    case bug_kind::leaked_thread: return "leaked_thread";
    case bug_kind::non_termination: return "non_termination";
  }
  return "?";
}

std::optional<bug_kind> parse_bug_kind(std::string_view s) noexcept {
  for (auto k : {bug_kind::assertion, bug_kind::deadlock, bug_kind::misuse, bug_kind::uncaught_exception,
                 bug_kind::leaked_thread, bug_kind::non_termination})
    if (s == bug_kind_name(k)) return k;
  return std::nullopt;
}

const char* strategy_name(strategy_spec::kind k) noexcept {
  switch (k) {
    case strategy_spec::kind::random: return "random";
    case strategy_spec::kind::dfs: return "dfs";
    case strategy_spec::kind::replay: return "replay";
    case strategy_spec::kind::pct: return "pct";
    case strategy_spec::kind::dpor: return "dpor";
  }
  return "?";
}

const char* verdict_name(mc::verdict v) noexcept {
  switch (v) {
    case verdict::pass: return "pass";
    case verdict::bug: return "bug";
    case verdict::incomplete: return "incomplete";
  }
  return "?";
}

mc::verdict result::verdict() const noexcept {
  if (found) return verdict::bug;
  if (!bound_hit.empty() && (strategy == "dfs" || strategy == "dpor")) return verdict::incomplete;
  return verdict::pass;
}

std::string result::report() const {
  std::string out;
  const std::string who = name.empty() ? std::string() : name + ": ";
  if (!found) {
    out = who + "no bug found in " + std::to_string(executions) + " executions (" + strategy +
          (preemption_bound >= 0 ? ", preemption bound " + std::to_string(preemption_bound) : std::string()) +
          (complete ? ", complete" : ", not exhaustive") + ")\n";
    if (!bound_hit.empty()) out += "  stopped: " + bound_hit + "\n";
    return out;
  }
  const bug& b = *found;
  out = who + bug_kind_name(b.kind) + ": " + b.message + "\n";
  out += "  found in execution " + std::to_string(b.execution) + " at step " + std::to_string(b.step) +
         " (" + strategy +
         (preemption_bound >= 0 ? ", preemption bound " + std::to_string(preemption_bound) : std::string()) +
         "; the schedule has " + std::to_string(b.preemptions) +
         (b.preemptions == 1 ? " preemption" : " preemptions") + ")\n";
  out += b.details;
  out += "  replay: LOCKSTEP_REPLAY=" + b.schedule + "\n";
  if (!replay_command.empty()) {
    std::string cmd = replay_command;
    if (auto pos = cmd.find("{}"); pos != std::string::npos) cmd.replace(pos, 2, b.schedule);
    out += "  run:    " + cmd + "\n";
  } else {
    out += "  run:    set LOCKSTEP_REPLAY=" + b.schedule + " and rerun this test\n";
  }
  return out;
}

namespace detail {

namespace {

std::uint64_t env_u64(const char* name, bool& present) {
  const char* v = std::getenv(name);
  present = v != nullptr && *v != '\0';
  if (!present) return 0;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v, &end, 0);
  if (end == v || *end != '\0')
    throw std::invalid_argument(std::string("lockstep: ") + name + "=" + v + " is not a number");
  return x;
}

std::string describe_budget(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + "s";
  return std::to_string(ms.count()) + "ms";
}

}  // namespace

result explore(const options& opts_in, body_ref body) {
  const auto t0 = std::chrono::steady_clock::now();
  options opts = opts_in;
  if (opts.honour_env) {
    if (const char* r = std::getenv("LOCKSTEP_REPLAY"); r != nullptr && *r != '\0') {
      opts.strategy = replay(r);
    } else if (opts.strategy.k == strategy_spec::kind::random ||
               opts.strategy.k == strategy_spec::kind::pct) {
      bool present = false;
      const std::uint64_t s = env_u64("LOCKSTEP_SEED", present);
      if (present) opts.strategy.seed = s;
    }
  }

  std::unique_ptr<rt::strategy> strat;
  switch (opts.strategy.k) {
    case strategy_spec::kind::random: strat = rt::make_random(opts.strategy.seed); break;
    case strategy_spec::kind::pct: strat = rt::make_pct(opts.strategy.seed, opts.strategy.depth); break;
    case strategy_spec::kind::dpor: strat = rt::make_dpor(); break;
    case strategy_spec::kind::dfs:
      strat = opts.iterative_bounding ? rt::make_iterative_dfs(opts.preemption_bound)
                                      : rt::make_dfs(opts.preemption_bound);
      break;
    case strategy_spec::kind::replay: {
      std::vector<std::uint32_t> choices;
      std::string error;
      if (!decode_schedule(opts.strategy.schedule, choices, error))
        throw replay_error("malformed replay string: " + error);
      strat = rt::make_replay(std::move(choices));
      break;
    }
  }
  std::uint64_t max_exec = opts.max_executions;
  const bool exhaustive_kind =
      opts.strategy.k == strategy_spec::kind::dfs || opts.strategy.k == strategy_spec::kind::dpor;
  if (max_exec == 0) max_exec = exhaustive_kind ? 1000000 : 1000;

  result res;
  res.strategy = strategy_name(opts.strategy.k);
  res.name = opts.name;
  res.replay_command = opts.replay_command;
  rt::runtime runtime(opts, *strat);
  const bool timed = opts.time_budget.count() > 0;
  const auto deadline = t0 + opts.time_budget;
  std::uint64_t n = 0;
  auto next_progress = t0 + std::chrono::seconds(1);
  bool progress_shown = false;
  for (;;) {
    if (opts.progress && (n & 255) == 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_progress) {
        next_progress = now + std::chrono::seconds(1);
        const double secs = std::chrono::duration<double>(now - t0).count();
        const double frac = strat->progress();
        std::fprintf(stderr, "\r\033[K%s%s: %llu executions, %.0f/s", opts.name.empty() ? "" : (opts.name + " ").c_str(),
                     res.strategy.c_str(), static_cast<unsigned long long>(n), static_cast<double>(n) / secs);
        if (frac >= 0) std::fprintf(stderr, ", ~%.1f%% of the tree", 100.0 * frac);
        std::fflush(stderr);
        progress_shown = true;
      }
    }
    if (n >= max_exec) {
      if (opts.strategy.k != strategy_spec::kind::replay)
        res.bound_hit = "the execution bound (max_executions = " + std::to_string(max_exec) +
                        ") was reached; raise it with --budget N or options.max_executions (the number of "
                        "schedules grows exponentially with threads and steps: a smaller model, or "
                        "--strategy random, is usually the better answer)";
      break;
    }
    if (timed && (n & 15) == 0 && std::chrono::steady_clock::now() >= deadline) {
      res.bound_hit = "the time budget (" + describe_budget(opts.time_budget) + ") ran out after " +
                      std::to_string(n) +
                      " executions; raise it with --budget or options.time_budget (a large exhaustive "
                      "search usually means the model has more threads or steps than it needs)";
      break;
    }
    if (!strat->begin()) {
      res.complete = strat->exhaustive() && !strat->bound_limited();
      if (strat->bound_limited())
        res.bound_hit = "the preemption bound (" + std::to_string(strat->preemption_bound()) +
                        ") cut some schedules: every schedule with at most that many preemptions "
                        "was covered; raise or drop the bound to cover the rest";
      break;
    }
    runtime.run_execution(body, n);
    ++n;
    if (!strat->end()) throw replay_error(strat->error());
    if (!runtime.internal_error().empty()) {
      if (opts.strategy.k == strategy_spec::kind::replay) throw replay_error(runtime.internal_error());
      throw std::runtime_error("lockstep: " + runtime.internal_error());
    }
    if (runtime.found()) {
      res.found = runtime.found();
      break;
    }
  }
  if (progress_shown) std::fprintf(stderr, "\r\033[K");
  res.executions = n;
  res.preemption_bound = strat->preemption_bound();
  res.abandoned = strat->abandoned();
  res.steps = runtime.steps();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace detail
}  // namespace lockstep::mc
