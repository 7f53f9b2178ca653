// explore(): the loop over executions, bounds, environment overrides, and
// the result's report.
#include "lockstep/mc/explore.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cctype>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <barrier>
#include <exception>
#include <filesystem>
#include <iterator>
#include <memory>
#include <sstream>
#include <string_view>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include "input/files.hpp"
#include "lockstep/lockstep.hpp"
#include "lockstep/mc/numbers.hpp"
#include "lockstep/mc/os_threads.hpp"
#include "lockstep/mc/replay_string.hpp"
#include "lockstep/mc/trace.hpp"
#include "engine/fatal.hpp"
#include "engine/runtime.hpp"
#include "report/places.hpp"
#include "report/text.hpp"
#include "trace/replay_check.hpp"
#include "strategies/strategy.hpp"

namespace lockstep::mc {

const char* bug_kind_name(bug_kind k) noexcept {
  switch (k) {
    case bug_kind::assertion: return "assertion";
    case bug_kind::deadlock: return "deadlock";
    case bug_kind::misuse: return "misuse";
    case bug_kind::uncaught_exception: return "uncaught_exception";
    case bug_kind::leaked_thread: return "leaked_thread";
    case bug_kind::non_termination: return "non_termination";
    case bug_kind::livelock: return "livelock";
    case bug_kind::busy_wait: return "busy_wait";
    case bug_kind::starvation: return "starvation";
    case bug_kind::lost_wakeup: return "lost_wakeup";
    case bug_kind::data_race: return "data_race";
    case bug_kind::crash: return "crash";
    case bug_kind::stack_overflow: return "stack_overflow";
  }
  return "?";
}

std::optional<bug_kind> parse_bug_kind(std::string_view s) noexcept {
  for (auto k : {bug_kind::assertion, bug_kind::deadlock, bug_kind::misuse, bug_kind::uncaught_exception,
                 bug_kind::leaked_thread, bug_kind::non_termination, bug_kind::livelock,
                 bug_kind::busy_wait, bug_kind::starvation, bug_kind::lost_wakeup, bug_kind::data_race,
                 bug_kind::crash, bug_kind::stack_overflow})
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
    case strategy_spec::kind::pos: return "pos";
    case strategy_spec::kind::delay: return "delay";
  }
  return "?";
}

const char* strategy_label(const strategy_spec& s) noexcept {
  return s.k == strategy_spec::kind::dpor && s.source ? "source-dpor" : strategy_name(s.k);
}

std::optional<strategy_spec::kind> parse_strategy(std::string_view s) noexcept {
  using k = strategy_spec::kind;
  for (k x : {k::random, k::dfs, k::replay, k::pct, k::dpor, k::pos, k::delay})
    if (s == strategy_name(x)) return x;
  return std::nullopt;
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
  if (!bound_hit.empty() && (strategy == "dfs" || strategy == "dpor" || strategy == "source-dpor" || strategy == "delay")) return verdict::incomplete;
  return verdict::pass;
}

namespace detail {

namespace {
std::atomic<test_name_source> g_test_name{nullptr};

// " --gtest_filter=Suite.Name", or "" outside a test.
std::string test_filter(const std::string& test) {
  return test.empty() ? std::string() : " --gtest_filter=" + test;
}
std::string self_program() {  // the running program's path
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  return n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : "<this test>";
}
}  // namespace

void set_test_name_source(test_name_source f) noexcept { g_test_name.store(f); }

std::string current_test_name() {
  const test_name_source f = g_test_name.load();
  return f == nullptr ? std::string() : f();
}

std::string this_test_command() { return self_program() + test_filter(current_test_name()); }


bool trace_asked(const std::string& trace_dir) {
  if (trace_dir == "-") return false;
  if (!trace_dir.empty()) return true;
  const char* env = std::getenv("LOCKSTEP_TRACE_DIR");
  return env != nullptr && *env != '\0';
}

std::string trace_lines(const result& r) {
  std::string out;
  if (!r.trace_error_.empty()) out += "  trace:  not written: " + r.trace_error_ + "\n";
  if (r.trace_file_.empty()) return out;
  out += "  trace:  " + r.trace_file_ + "\n";
  if (!r.trace_replay_command.empty()) {
    std::string cmd = r.trace_replay_command;
    if (auto pos = cmd.find("{}"); pos != std::string::npos) cmd.replace(pos, 2, r.trace_file_);
    out += "  replay: " + cmd + "\n";
  } else {
    const bool threads =
        !(r.found && rt::fibers_only_reason(r.found->kind, r.found->step, r.found->events.size()));
    out += "  replay: LOCKSTEP_TRACE=" + r.trace_file_ + " " + r.program_ + test_filter(r.test) +
           (threads ? " (LOCKSTEP_TRACE_THREADS=1 too: on OS threads)\n" : "\n");
  }
  return out;
}

}  // namespace detail

namespace {

// FNV-1a, 64 bits: checks a checkpoint, names a failure's trace file.
constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ull;
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t basis = kFnvBasis) noexcept {
  std::uint64_t h = basis;
  for (const unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::string result::write_trace() {
  if (!trace_file_.empty() || !found || !trace || trace_dir == "-") return trace_file_;
  std::string dir = trace_dir;
  if (dir.empty()) {
    const char* env = std::getenv("LOCKSTEP_TRACE_DIR");
    dir = env != nullptr && *env != '\0' ? env : ".";
  }
  std::string base = name.empty() ? "lockstep" : name;
  for (char& c : base)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  // One file per failure. (The basis trace names have always used, a digit
  // short of FNV's: kept, so a failure keeps its file name.)
  const std::uint64_t h = fnv1a(found->schedule, 1469598103934665603ull);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%08llx", static_cast<unsigned long long>(h & 0xffffffffull));
  const std::string path = dir + "/" + base + "-" + bug_kind_name(found->kind) + "-" + hex + ".trace";
  try {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    // The same failure (model, kind, schedule) has its file already, perhaps
    // the very trace being replayed now: it is kept as it is.
    if (!std::filesystem::exists(path, ec)) write_trace_file(*trace, path);
  } catch (const std::exception& e) {
    trace_error_ = e.what();
    return {};
  }
  trace_file_ = path;
  trace_error_.clear();
  program_ = detail::self_program();
  return trace_file_;
}

namespace {
// ", preemption bound N" (", delay bound N" for delay bounding), or "".
std::string bound_text(const result& r) {
  if (r.preemption_bound < 0) return {};
  return (r.strategy == "delay" ? ", delay bound " : ", preemption bound ") + std::to_string(r.preemption_bound);
}
}  // namespace

std::string result::report() const {
  std::string out;
  const std::string who = name.empty() ? std::string() : name + ": ";
  if (!found) {
    out = who + "no bug found in " + rt::count_text(executions, "execution") + " (" + strategy +
          bound_text(*this) +
          (spurious_bound >= 0 ? ", spurious wake-up bound " + std::to_string(spurious_bound) : std::string()) +
          (complete         ? std::string(fair_only ? ", complete over fair schedules" : ", complete")
           : shard_complete ? ", shard " + std::to_string(shard_index) + " of " + std::to_string(shard_count) +
                                  (fair_only ? " complete over fair schedules" : " complete")
           : shard_count > 1 ? ", shard " + std::to_string(shard_index) + " of " + std::to_string(shard_count) +
                                   ", not exhaustive"
                             : ", not exhaustive") +
          (abandoned > 0 ? "; " + std::to_string(abandoned) + " of them stopped as redundant by sleep sets" : "") +
          ")\n";
    if (!bound_hit.empty()) out += "  stopped: " + bound_hit + "\n";
    if (fair_only && (complete || shard_complete))
      out += "  fair: left out what only an unfair system does (a thread going on right after its yield while "
             "another could run; a load after a yield reading older than the latest store it spun on); "
             "fair_scheduling off (--unfair) explores it, for code without unbounded spins\n";
    if (spurious_bound > 0 && (complete || shard_complete))
      out += "  spurious wake-ups: at most " + std::to_string(spurious_bound) +
             " a thread an execution (a condition-variable wait met that bound); --spurious-wakeups N "
             "(options.spurious_wakeups) allows more\n";
    if (spurious_bound == 0 && (complete || shard_complete))
      out += "  spurious wake-ups: none (turned off) at the condition-variable waits; --spurious-wakeups N "
             "(options.spurious_wakeups) allows some\n";
    if (!checkpoint_error.empty()) out += "  checkpoint: not written: " + checkpoint_error + "\n";
    return out;
  }
  const bug& b = *found;
  out = who + bug_kind_name(b.kind) + ": " + b.message + "\n";
  out += "  found in execution " + std::to_string(b.execution) + " at step " + std::to_string(b.step) +
         " (" + strategy +
         bound_text(*this) +
         "; the schedule has " + rt::count_text(b.preemptions, "preemption") + ")\n";
  if (shrink.done) {
    const bool smaller = shrink.preemptions_after < shrink.preemptions_before || shrink.steps_after < shrink.steps_before;
    out += shrink.other_start && !smaller
               ? "  not shrunk: a smaller schedule tried did not start as the execution did (thread 0's steps up to "
                 "its first spawn differ): the execution changed something that outlives it (a static built in the "
                 "body, or memory from outside it), so no smaller schedule runs from its state\n"
           : smaller ? "  shrunk from " + rt::count_text(shrink.preemptions_before, "preemption") + " and " +
                         rt::count_text(shrink.steps_before, "step") + " to " + std::to_string(shrink.preemptions_after) +
                         " and " + std::to_string(shrink.steps_after) + " (" +
                         rt::count_text(shrink.replays, "schedule") + " tried)\n"
                   : shrink.replays == 1 ? "  not shrunk: the one smaller schedule tried does not fail the same way\n"
                   : "  not shrunk: none of the " + std::to_string(shrink.replays) +
                         " smaller schedules tried fails the same way\n";
  }
  out += b.details;
  out += detail::trace_lines(*this);
  out += "  replay: LOCKSTEP_REPLAY=" + b.schedule + "\n";
  if (!replay_command.empty()) {
    std::string cmd = replay_command;
    if (auto pos = cmd.find("{}"); pos != std::string::npos) cmd.replace(pos, 2, b.schedule);
    out += "  run:    " + cmd + "\n";
  } else if (!test.empty()) {
    out += "  run:    LOCKSTEP_REPLAY=" + b.schedule + " " + detail::self_program() + detail::test_filter(test) + "\n";
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
  std::string why;
  const std::optional<std::uint64_t> x = parse_number(v, &why);
  if (x) return *x;
  std::string shown = std::string(v).substr(0, 40);  // the message stays one short line
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  throw std::invalid_argument(std::string("lockstep: ") + name + "=" + shown + (shown.size() < std::strlen(v) ? "...: " : ": ") + why);
}

std::string describe_budget(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + "s";
  return std::to_string(ms.count()) + "ms";
}

std::unique_ptr<rt::strategy> make_strategy(const options& opts) {
  switch (opts.strategy.k) {
    case strategy_spec::kind::random: return rt::make_random(opts.strategy.seed);
    case strategy_spec::kind::pct: return rt::make_pct(opts.strategy.seed, opts.strategy.depth);
    case strategy_spec::kind::pos: return rt::make_pos(opts.strategy.seed);
    case strategy_spec::kind::delay: return rt::make_delay_bounding(opts.strategy.max_delays);
    case strategy_spec::kind::dpor:
      return opts.iterative_bounding
                 ? rt::make_iterative([](int b) { return rt::make_dpor(b); }, opts.preemption_bound)
                 : rt::make_dpor(opts.preemption_bound, !opts.strategy.source);
    case strategy_spec::kind::dfs:
      return opts.iterative_bounding ? rt::make_iterative_dfs(opts.preemption_bound)
                                     : rt::make_dfs(opts.preemption_bound);
    case strategy_spec::kind::replay: {
      std::vector<schedule_run> runs;
      std::string error;
      if (!decode_schedule_runs(opts.strategy.schedule, runs, error))
        throw replay_error("malformed replay string: " + error);
      return rt::make_replay(std::move(runs), opts.strategy.lenient);
    }
  }
  return nullptr;
}

std::string execution_bound_text(std::uint64_t max_exec) {
  return "the execution bound (max_executions = " + std::to_string(max_exec) +
         ") was reached; raise it with --budget N or options.max_executions (the number of "
         "schedules grows exponentially with threads and steps: a smaller model, or "
         "--strategy random, is usually the better answer)";
}

// Runs execution `index`, and again from its first step after
// strategy::restart() as long as the runtime asks (a lean execution that
// stopped, see options::lean_sampling; then perhaps the race detector turning
// on): the last run is the execution. Returns the steps it took.
std::uint64_t run_one(rt::runtime& runtime, rt::strategy& strat, body_ref body, std::uint64_t index) {
  std::uint64_t before = runtime.steps();
  runtime.run_execution(body, index);
  while (runtime.restart_needed()) {
    strat.restart();
    before = runtime.steps();
    runtime.run_execution(body, index);
  }
  return runtime.steps() - before;
}

std::string time_ran_out(std::chrono::milliseconds budget, std::uint64_t n) {
  return "the time budget (" + describe_budget(budget) + ") ran out after " + rt::count_text(n, "execution");
}

std::string time_bound_text(std::chrono::milliseconds budget, std::uint64_t n) {
  return time_ran_out(budget, n) +
         "; raise it with --budget or options.time_budget (a large exhaustive "
         "search usually means the model has more threads or steps than it needs)";
}

// A sampled search (random, pct, pos) ends at its budget by design: the
// advice for an exhaustive one (a smaller model, or sampling) does not fit.
// `reached`: the budget that ran out; `raise`: how to give more.
std::string sampled_end_text(const std::string& reached, const char* raise) {
  return reached + ": a sampled search proves nothing about the schedules it did not run; raise it with " + raise +
         ", or check exhaustively (dfs, dpor) for a proof";
}

std::string sample_bound_text(std::uint64_t max_exec) {
  return sampled_end_text("the sample size (max_executions = " + std::to_string(max_exec) + ") was reached",
                          "--budget N or options.max_executions");
}

std::string sample_time_text(std::chrono::milliseconds budget, std::uint64_t n) {
  return sampled_end_text(time_ran_out(budget, n), "--budget");
}

// The live progress line (options::progress).
class progress_line {
 public:
  progress_line(const options& o, std::chrono::steady_clock::time_point t0, const std::string& strategy)
      : on_(o.progress), t0_(t0), next_(t0 + std::chrono::seconds(1)),
        label_((o.name.empty() ? std::string() : o.name + " ") + strategy) {}
  ~progress_line() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }
  void tick(std::uint64_t n, double fraction) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) return;
    next_ = now + std::chrono::seconds(1);
    const double secs = std::chrono::duration<double>(now - t0_).count();
    std::fprintf(stderr, "\r\033[K%s: %llu executions, %.0f/s", label_.c_str(),
                 static_cast<unsigned long long>(n), static_cast<double>(n) / secs);
    if (fraction >= 0) std::fprintf(stderr, ", ~%.1f%% of the tree", 100.0 * fraction);
    std::fflush(stderr);
    shown_ = true;
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point t0_, next_;
  std::string label_;
  bool shown_ = false;
};

void check_internal_error(const options& opts, const rt::runtime& runtime) {
  if (runtime.internal_error().empty()) return;
  if (opts.strategy.k == strategy_spec::kind::replay) throw replay_error(runtime.internal_error());
  if (runtime.internal_error().starts_with("the body is not deterministic"))
    throw nondeterministic_body("lockstep: " + runtime.internal_error());
  throw std::runtime_error("lockstep: " + runtime.internal_error());
}

// One worker's search over executions with its own strategy and runtime
// (dfs, dpor, replay). `stop` lets parallel workers end together.
struct search_outcome {
  std::optional<bug> found;
  bool complete = false;
  bool fair_cut = false;  // see result::fair_only
  bool spurious_cut = false;  // see result::spurious_bound
  std::string bound_hit;
  bool execution_bound = false;  // bound_hit is the execution bound
  bool time_bound = false;       // bound_hit is the time budget
  std::uint64_t executions = 0;
  std::uint64_t steps = 0;
  std::uint64_t abandoned = 0;
  int preemption_bound = -1;
  std::string checkpoint_error;  // see result::checkpoint_error
  // Split searches (see split_order): after each counted execution, the
  // counted executions' steps and abandoned executions so far; the runs of
  // them that are one subtree each (ordinal, index of its first); the
  // subtrees of the shard the walk met; the first bug's subtree and its
  // number in it (from 1).
  struct subtree_run {
    std::uint64_t ordinal = 0;
    std::size_t first = 0;
  };
  std::vector<std::pair<std::uint64_t, std::uint64_t>> so_far;
  std::vector<subtree_run> subtrees;
  std::uint64_t walked = 0;
  std::uint64_t found_ordinal = 0, found_index = 0;
};

// A split search's order of executions (dfs and dpor over several jobs and
// shards): subtree by subtree in the order of their ordinals (see
// rt::split_owner), each subtree's executions in the order its worker ran
// them. It does not depend on the job count or on which worker ran what.
// The bug reported is the first in that order: a worker that finds a bug
// lowers `cutoff` to its subtree's ordinal and stops, and the others stop
// once they claimed a subtree past the cutoff (the subtrees before it are
// all claimed, and each is run to its end: a bug there comes first). The
// workers share the execution bound: they stop once `counted` reaches it.
struct split_order {
  std::atomic<std::uint64_t>* cutoff = nullptr;   // the smallest ordinal with a bug (~0: none)
  std::atomic<std::uint64_t>* counted = nullptr;  // counted executions of every worker
};

// Checkpoint files: "lockstep-checkpoint 4", then "strategy S", "name N",
// "executions E", "fair-cut F" (1 when the executions so far left out a
// behaviour only an unfair system has: result::fair_only; version 2 had no
// such line, and its search is taken to have), "spurious-cut W" (1 when a
// condition-variable wait met the spurious wake-up bound:
// result::spurious_bound; versions 2 and 3 had no such line, and their
// searches are taken to have), "state", the strategy's own lines, and last
// "check H":
// H the FNV-1a hash (16 hex digits) of every byte before that line. A file
// cut short or damaged is refused by its check, before a strategy reads a
// state that could resume the search in the wrong place (a truncated state
// once resumed at its end: "complete", a bug never reached).
constexpr const char* kCheckpointMagic = "lockstep-checkpoint 4";
constexpr const char* kCheckpointMagicV3 = "lockstep-checkpoint 3";
constexpr const char* kCheckpointMagicV2 = "lockstep-checkpoint 2";

// What the executions a checkpoint covers left out (search_outcome's cuts).
struct checkpoint_cuts {
  bool fair = false;
  bool spurious = false;
};

std::string checkpoint_check(std::string_view body) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(body)));
  return std::string("check ") + hex;
}

// The executions the checkpoint's search ran, and what they left out.
std::uint64_t load_checkpoint(const options& opts, rt::strategy& strat, checkpoint_cuts& cuts) {
  // The checkpoint is replaced as the search goes: a path where it cannot
  // be is refused now, before the search, not when its first save fails.
  try {
    rt::check_replaceable(opts.checkpoint);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument("lockstep: checkpoint " + opts.checkpoint + ": " + e.what());
  }
  if (::access(opts.checkpoint.c_str(), F_OK) != 0) return 0;  // nothing to resume
  const rt::text_file file = rt::read_text_file(opts.checkpoint, "lockstep-checkpoint ", std::size_t{1} << 30);
  if (!file.error.empty()) throw std::invalid_argument("lockstep: checkpoint " + opts.checkpoint + ": " + file.error);
  if (file.too_large) throw std::invalid_argument("lockstep: checkpoint " + opts.checkpoint + ": larger than 1 GiB");
  std::string_view text = file.text;
  std::istringstream f(file.text.substr(0, std::min<std::size_t>(file.text.size(), 256)));
  std::string line;
  int no = 0;
  auto bad = [&](const std::string& what) {
    return std::invalid_argument("lockstep: checkpoint " + opts.checkpoint + ": line " + std::to_string(no) +
                                 ": " + what);
  };
  ++no;
  if (!std::getline(f, line)) throw bad("empty file");
  if (line == "lockstep-checkpoint 1")
    throw bad("written by an older lockstep (version 1, without a check line); delete it to start the search over");
  const bool v2 = line == kCheckpointMagicV2;
  const bool v3 = line == kCheckpointMagicV3;
  if (line.rfind("lockstep-checkpoint ", 0) == 0 && line != kCheckpointMagic && !v2 && !v3)
    throw bad("written by a newer lockstep ('" + line.substr(0, 60) + "'); this one reads versions 2 to 4");
  if (line != kCheckpointMagic && !v2 && !v3) throw bad("not a lockstep checkpoint");
  // Its last line checks every byte before it.
  {
    const std::size_t end = text.size() > 0 && text.back() == '\n' ? text.size() - 1 : text.size();
    const std::size_t last = text.rfind('\n', end == 0 ? 0 : end - 1);
    const std::size_t start = last == std::string_view::npos ? 0 : last + 1;
    if (text.substr(start, end - start) != checkpoint_check(text.substr(0, start))) {
      no = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(start), '\n')) + 1;
      throw bad("the file is damaged or cut short: its last line is not the check of what comes before "
                "(delete it to start the search over)");
    }
    text = text.substr(0, start);
  }
  f = std::istringstream(std::string(text));
  no = 0;
  auto next = [&](const std::string& key) {
    ++no;
    if (!std::getline(f, line)) throw bad("ends early (truncated?), expected '" + key + "'");
    if (line.rfind(key, 0) != 0) throw bad("expected '" + key + "', found '" + line.substr(0, 60) + "'");
    return line.substr(key.size());
  };
  ++no;
  std::getline(f, line);  // the first line, read above
  const std::string strategy = next("strategy ");
  if (strategy != strategy_name(opts.strategy.k))
    throw bad("it is a " + strategy + " search, this one is " + strategy_name(opts.strategy.k));
  const std::string name = next("name ");
  if (name != opts.name) throw bad("it belongs to '" + name + "', this is '" + opts.name + "'");
  const std::string execs = next("executions ");
  const std::optional<std::uint64_t> n = parse_number(execs);
  if (!n) throw bad("bad execution count '" + execs.substr(0, 60) + "'");
  const auto flag = [&](const std::string& key) {
    const std::string v = next(key + " ");
    if (v != "0" && v != "1") throw bad(key + " is '" + v.substr(0, 60) + "', not 0 or 1");
    return v == "1";
  };
  cuts.fair = v2 || flag("fair-cut");              // version 2 did not say
  cuts.spurious = v2 || v3 || flag("spurious-cut");  // nor did 3
  next("state");
  std::string state((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (std::string err = strat.load(state); !err.empty()) throw bad("after 'state': " + err);
  return *n;
}

void save_checkpoint(const options& opts, const rt::strategy& strat, std::uint64_t n, checkpoint_cuts cuts) {
  std::string text = std::string(kCheckpointMagic) + "\nstrategy " + strategy_name(opts.strategy.k) + "\nname " +
                     opts.name + "\nexecutions " + std::to_string(n) + "\nfair-cut " + (cuts.fair ? "1" : "0") +
                     "\nspurious-cut " + (cuts.spurious ? "1" : "0") + "\nstate\n" + strat.save();
  if (text.back() != '\n') text += '\n';
  text += checkpoint_check(text) + "\n";
  try {
    rt::replace_file(opts.checkpoint, text);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("lockstep: cannot write checkpoint " + opts.checkpoint + ": " + e.what());
  }
}

search_outcome search(const options& opts, body_ref body, rt::strategy& strat, std::uint64_t max_exec,
                      std::chrono::steady_clock::time_point t0, std::atomic<bool>* stop,
                      progress_line* progress, const split_order* split = nullptr, bool user_places = false) {
  search_outcome out;
  const bool checkpointing = !opts.checkpoint.empty();
  checkpoint_cuts resumed_cuts;  // the checkpointed executions' (result::fair_only, spurious_bound)
  std::uint64_t n = checkpointing ? load_checkpoint(opts, strat, resumed_cuts) : 0;
  const std::uint64_t resumed = n;
  rt::runtime runtime(opts, strat);
  runtime.set_user_places(user_places);
  const bool timed = opts.time_budget.count() > 0;
  const auto deadline = t0 + opts.time_budget;
  auto next_save = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  std::uint64_t runs = 0;
  // Split searches: the split's state, the counted executions' steps, and
  // whether the workers' counted executions together reached the bound.
  const rt::split_owner* owner = split != nullptr ? strat.split() : nullptr;
  std::uint64_t counted_steps = 0;
  bool past_bound = false;
  // A save that fails does not stop the search (the next is tried a second
  // later): the result says why the last one failed.
  const auto save = [&] {
    try {
      save_checkpoint(opts, strat, n,
                      {resumed_cuts.fair || runtime.fair_cut(), resumed_cuts.spurious || runtime.spurious_cut()});
      out.checkpoint_error.clear();
    } catch (const std::runtime_error& e) {
      out.checkpoint_error = e.what();
    }
  };
  for (;;) {
    if (progress != nullptr && (runs & 255) == 0)
      progress->tick(split != nullptr ? split->counted->load(std::memory_order_relaxed) : n, strat.progress());
    if (checkpointing && (runs & 255) == 0 && std::chrono::steady_clock::now() >= next_save) {
      save();
      next_save = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) break;
    if (split != nullptr && split->counted->load(std::memory_order_relaxed) >= max_exec) past_bound = true;
    if (past_bound) {  // the workers' executions together reached the bound
      out.bound_hit = execution_bound_text(max_exec);
      out.execution_bound = true;
      break;
    }
    // Every execution from here on comes after a bug already found.
    if (split != nullptr && owner != nullptr && owner->claimed() != rt::split_owner::kNone &&
        owner->claimed() > split->cutoff->load(std::memory_order_relaxed))
      break;
    if (n - resumed >= max_exec) {
      if (opts.strategy.k != strategy_spec::kind::replay) {
        out.bound_hit = execution_bound_text(max_exec);
        out.execution_bound = true;
      }
      break;
    }
    if (timed && (runs & 15) == 0 && std::chrono::steady_clock::now() >= deadline) {
      out.bound_hit = time_bound_text(opts.time_budget, n);
      out.time_bound = true;
      break;
    }
    if (!strat.begin()) {
      out.complete = strat.exhaustive() && !strat.bound_limited();
      if (strat.bound_limited()) {
        const char* what = opts.strategy.k == strategy_spec::kind::delay ? "delay" : "preemption";
        out.bound_hit = std::string("the ") + what + " bound (" + std::to_string(strat.preemption_bound()) +
                        ") cut some schedules: every schedule with at most that many " + what +
                        "s was covered; raise or drop the bound to cover the rest";
      }
      break;
    }
    const std::uint64_t steps = run_one(runtime, strat, body, n);
    ++runs;
    check_internal_error(opts, runtime);  // a replay check names the step: it goes first
    if (!strat.end()) throw replay_error(strat.error());
    if (strat.foreign()) continue;  // another worker's subtree: not counted
    ++n;
    std::uint64_t in_subtree = 0;  // split: this execution's number in its subtree
    if (split != nullptr && owner != nullptr) {
      counted_steps += steps;
      const std::uint64_t ord = owner->ordinal();
      if (out.subtrees.empty() || out.subtrees.back().ordinal != ord) out.subtrees.push_back({ord, out.so_far.size()});
      out.so_far.emplace_back(counted_steps, strat.abandoned());
      in_subtree = out.so_far.size() - out.subtrees.back().first;
      if (split->counted->fetch_add(1, std::memory_order_relaxed) + 1 >= max_exec) past_bound = true;
    }
    if (opts.on_execution && !(opts.skip_abandoned && strat.blocked()))
      opts.on_execution(runtime.found() ? &*runtime.found() : nullptr);
    if (runtime.found()) {
      if (!out.found) {
        out.found = runtime.found();
        if (owner != nullptr) {
          out.found_ordinal = owner->ordinal();
          out.found_index = in_subtree;
        }
      }
      if (opts.keep_going) continue;
      if (split != nullptr && owner != nullptr) {  // the others go on up to this subtree (see split_order)
        const std::uint64_t ord = owner->ordinal();
        std::uint64_t cur = split->cutoff->load();
        while (ord < cur && !split->cutoff->compare_exchange_weak(cur, ord)) {
        }
      } else if (stop != nullptr) {
        stop->store(true);
      }
      break;
    }
  }
  if (checkpointing) {
    if (out.complete || out.found) {
      std::remove(opts.checkpoint.c_str());
      out.checkpoint_error.clear();  // nothing left to resume
    } else {
      save();
    }
  }
  out.executions = n;
  out.fair_cut = resumed_cuts.fair || runtime.fair_cut();
  out.spurious_cut = resumed_cuts.spurious || runtime.spurious_cut();
  out.steps = runtime.steps();
  out.abandoned = strat.abandoned();
  out.preemption_bound = strat.preemption_bound();
  if (split != nullptr && owner != nullptr) {
    out.steps = counted_steps;  // not those of the executions run to walk past others' subtrees
    out.walked = owner->subtrees();
  }
  return out;
}

// random and pct: executions are numbered; execution i is seeded by
// (seed, i) and pct's k comes from the executions of earlier blocks, so the
// outcome does not depend on how many workers run or in which order. Blocks
// of executions run in parallel; the bug reported is the one of the smallest
// index, and executions counts those up to it. With keep_going every
// execution runs and counts, and the bug kept is still the one of the
// smallest index.
search_outcome sample(const options& opts, body_ref body, std::uint64_t max_exec, unsigned jobs,
                      unsigned shard, unsigned shards, std::chrono::steady_clock::time_point t0,
                      progress_line* progress) {
  constexpr std::uint64_t kBlock = 256;
  search_outcome out;
  const bool timed = opts.time_budget.count() > 0;
  const auto deadline = t0 + opts.time_budget;
  // This shard's indices: shard, shard + shards, ... below max_exec.
  const std::uint64_t total = max_exec > shard ? (max_exec - shard + shards - 1) / shards : 0;

  struct slot {
    std::optional<bug> found;
    std::uint64_t steps = 0;
    std::uint64_t decisions = 0;
  };
  // The block being run (written by this thread between the barriers).
  std::vector<slot> slots;
  std::uint64_t block_begin = 0, block_len = 0;
  std::uint64_t k = 1;  // pct: decisions per execution, from earlier blocks
  bool done = false;
  std::atomic<std::uint64_t> next{0};
  // The smallest failing position in the block so far: later positions need
  // not run (every earlier one still does, so the result does not change).
  std::atomic<std::uint64_t> first_fail{~std::uint64_t{0}};
  std::exception_ptr error;
  std::mutex error_m;
  const unsigned workers = static_cast<unsigned>(std::min<std::uint64_t>(jobs, std::max<std::uint64_t>(total, 1)));
  std::barrier sync(static_cast<std::ptrdiff_t>(workers));

  // Each worker keeps its strategy and runtime (fibers, stacks) across blocks.
  // One worker takes the positions without an atomic read-modify-write.
  const auto take = [&] {
    if (workers == 1) {
      const std::uint64_t j = next.load(std::memory_order_relaxed);
      next.store(j + 1, std::memory_order_relaxed);
      return j;
    }
    return next.fetch_add(1);
  };
  auto run_block = [&](rt::strategy& strat, rt::runtime& runtime) {
    try {
      for (std::uint64_t j; (j = take()) < block_len;) {
        if (j > first_fail.load(std::memory_order_relaxed)) break;
        const std::uint64_t index = shard + (block_begin + j) * shards;
        strat.seek(index, k);
        strat.begin();
        const std::uint64_t steps = run_one(runtime, strat, body, index);
        strat.end();
        check_internal_error(opts, runtime);
        slots[j].steps = steps;
        slots[j].decisions = strat.decisions();
        if (opts.on_execution) opts.on_execution(runtime.found() ? &*runtime.found() : nullptr);
        if (runtime.found()) {
          slots[j].found = runtime.found();
          if (opts.keep_going) continue;
          std::uint64_t cur = first_fail.load();
          while (j < cur && !first_fail.compare_exchange_weak(cur, j)) {
          }
        }
      }
    } catch (...) {
      std::scoped_lock g(error_m);
      if (!error) error = std::current_exception();
    }
  };
  auto helper = [&] {
    std::unique_ptr<rt::strategy> strat;
    std::unique_ptr<rt::runtime> runtime;
    try {
      strat = make_strategy(opts);
      runtime = std::make_unique<rt::runtime>(opts, *strat);
    } catch (...) {
      std::scoped_lock g(error_m);
      if (!error) error = std::current_exception();
    }
    for (;;) {
      sync.arrive_and_wait();  // a block is ready (or we are done)
      if (done) return;
      if (runtime) run_block(*strat, *runtime);
      sync.arrive_and_wait();  // the block is finished
    }
  };
  std::vector<std::thread> threads;
  // A helper that cannot start (no memory for its stack, a thread limit):
  // the others share the blocks out without it (the executions are the same).
  try {
    for (unsigned h = 1; h < workers; ++h) threads.emplace_back(helper);
  } catch (const std::system_error&) {
    for (std::size_t h = threads.size() + 1; h < workers; ++h) sync.arrive_and_drop();
  }

  {
    auto strat = make_strategy(opts);
    rt::runtime runtime(opts, *strat);
    std::uint64_t pos = 0, steps = 0;
    while (pos < total && !error) {
      if (progress != nullptr) progress->tick(pos, -1);
      // The first block (one execution) runs whatever the time: a sampled
      // verdict rests on at least one execution.
      if (timed && pos != 0 && std::chrono::steady_clock::now() >= deadline) {
        out.bound_hit = sample_time_text(opts.time_budget, pos);
        break;
      }
      // The first block is a single execution: it calibrates pct's k.
      block_begin = pos;
      block_len = std::min<std::uint64_t>(pos == 0 ? 1 : kBlock, total - pos);
      slots.assign(block_len, slot{});
      next.store(0);
      first_fail.store(~std::uint64_t{0});
      sync.arrive_and_wait();
      run_block(*strat, runtime);
      sync.arrive_and_wait();
      bool found = false;
      for (std::uint64_t j = 0; j < block_len && !found; ++j) {
        steps += slots[j].steps;
        k = std::max(k, slots[j].decisions);
        if (slots[j].found && !out.found) {
          out.found = std::move(slots[j].found);
          out.executions = pos + j + 1;
          found = !opts.keep_going;
        }
      }
      out.steps = steps;
      if (found) break;
      pos += block_len;
      out.executions = pos;
    }
    if (!out.found && out.bound_hit.empty() && !error) out.bound_hit = sample_bound_text(max_exec);
    done = true;
    sync.arrive_and_wait();
  }
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

// dfs and dpor over several workers (and shards): the workers share out
// their shard's subtrees as they get free (see rt::split_owner), the shard's
// part being the same whatever the job count. The outcome is that of the
// split's order (see split_order): the bug reported is the first in it, and
// the executions counted are those up to it (its execution number); for a
// shard, the same on every run and on any job count. (A search the bound or
// the time budget stopped covered what the workers reached: the bound
// keeps the first max_exec executions run, in that order.)
search_outcome split_dfs(const options& opts, body_ref body, std::uint64_t max_exec, unsigned jobs,
                         unsigned shard, unsigned shards, std::chrono::steady_clock::time_point t0,
                         progress_line* progress) {
  std::vector<search_outcome> outs(jobs);
  std::vector<std::unique_ptr<rt::strategy>> strats(jobs);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> cutoff{~std::uint64_t{0}}, counted{0};
  rt::split_claims claims;
  std::exception_ptr error;
  std::mutex error_m;
  auto work = [&](unsigned w) {
    try {
      strats[w] = make_strategy(opts);
      const bool dpor = opts.strategy.k == strategy_spec::kind::dpor;
      const std::size_t depth =
          opts.split_depth != 0 ? opts.split_depth : dpor ? rt::kDporSplitDepth : rt::kSplitDepth;
      strats[w]->own(
          {shards, shard, jobs > 1 ? &claims : nullptr, depth, dpor ? rt::kDporSplitFree : 0, opts.fair_scheduling});
      const split_order order{&cutoff, &counted};
      outs[w] = search(opts, body, *strats[w], max_exec, t0, &stop, w == 0 ? progress : nullptr, &order);
    } catch (...) {
      std::scoped_lock g(error_m);
      if (!error) error = std::current_exception();
      stop.store(true);
    }
  };
  std::vector<std::thread> threads;
  // A worker that cannot start (no memory for its stack, a thread limit):
  // the others share the subtrees out without it (the result is the same).
  try {
    for (unsigned w = 1; w < jobs; ++w) threads.emplace_back(work, w);
  } catch (const std::system_error&) {
  }
  work(0);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  jobs = static_cast<unsigned>(threads.size()) + 1;
  outs.resize(jobs);

  search_outcome out;
  out.complete = true;
  bool time_bound = false, execution_bound = false;
  for (const auto& o : outs) {
    out.complete = out.complete && o.complete;
    out.fair_cut = out.fair_cut || o.fair_cut;
    out.spurious_cut = out.spurious_cut || o.spurious_cut;
    time_bound = time_bound || o.time_bound;
    execution_bound = execution_bound || o.execution_bound;
    out.preemption_bound = std::max(out.preemption_bound, o.preemption_bound);
  }
  // Every subtree run, in the split's order. Each was claimed once; in a
  // complete search every worker walked the shard's every subtree, and
  // those run are all of them.
  struct piece {
    std::uint64_t ordinal;
    unsigned worker;
    std::size_t first, end;  // its executions in the worker's so_far
  };
  std::vector<piece> pieces;
  for (unsigned w = 0; w < jobs; ++w) {
    const auto& runs = outs[w].subtrees;
    for (std::size_t i = 0; i < runs.size(); ++i)
      pieces.push_back({runs[i].ordinal, w, runs[i].first, i + 1 < runs.size() ? runs[i + 1].first : outs[w].so_far.size()});
  }
  std::sort(pieces.begin(), pieces.end(), [](const piece& a, const piece& b) { return a.ordinal < b.ordinal; });
  for (std::size_t i = 0; i + 1 < pieces.size(); ++i)
    if (pieces[i].ordinal == pieces[i + 1].ordinal)
      throw std::logic_error("lockstep: a split search ran a subtree twice");  // not reached
  if (out.complete) {
    for (std::size_t i = 0; i < pieces.size(); ++i)
      if (pieces[i].ordinal != i) throw std::logic_error("lockstep: a split search lost a subtree");  // not reached
    for (const auto& o : outs)
      if (o.walked != pieces.size())
        throw nondeterministic_body(
            "lockstep: the body is not deterministic: the workers of a split search saw different trees "
            "(does it depend on time, addresses or state kept between executions?)");
  }
  // The first bug: the smallest subtree with one (each worker's first bug is
  // in its smallest, and no two workers ran one subtree).
  unsigned winner = jobs;
  for (unsigned w = 0; w < jobs; ++w)
    if (outs[w].found && (winner == jobs || outs[w].found_ordinal < outs[winner].found_ordinal)) winner = w;
  // The executions in order up to the first bug, or the first max_exec run
  // (the workers stop together a few executions past the bound; a time
  // budget counts every execution run).
  std::uint64_t pos = 0, bug_pos = 0;
  bool cut = false, found = false;
  for (const piece& p : pieces) {
    const auto& so_far = outs[p.worker].so_far;
    std::size_t end = p.end;
    const bool bug_here = winner != jobs && p.worker == winner && p.ordinal == outs[winner].found_ordinal;
    if (bug_here) {
      bug_pos = pos + outs[winner].found_index;
      if (!opts.keep_going) end = p.first + outs[winner].found_index;
    }
    if (!time_bound && pos + (end - p.first) > max_exec) {
      end = p.first + (max_exec - pos);
      cut = true;
    }
    if (end > p.first) {
      const auto base = p.first == 0 ? std::pair<std::uint64_t, std::uint64_t>{0, 0} : so_far[p.first - 1];
      out.steps += so_far[end - 1].first - base.first;
      out.abandoned += so_far[end - 1].second - base.second;
    }
    pos += end - p.first;
    if (bug_here && bug_pos <= pos) found = true;
    if (cut || (found && !opts.keep_going)) break;
  }
  out.executions = pos;
  if (found) {
    out.found = std::move(outs[winner].found);
    out.found->execution = bug_pos;
    if (!opts.keep_going) {
      out.complete = false;
      out.bound_hit.clear();
      return out;
    }
  }
  if (out.complete) return out;
  if (time_bound) {
    out.bound_hit = time_bound_text(opts.time_budget, out.executions);  // every job's executions
    out.time_bound = true;
  } else if (cut || execution_bound || pos >= max_exec) {
    out.bound_hit = execution_bound_text(max_exec);
    out.execution_bound = true;
  } else {
    for (const auto& o : outs)
      if (!o.bound_hit.empty()) out.bound_hit = o.bound_hit;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Shrinking: delta debugging over the choice sequence, replayed leniently.

namespace {

constexpr std::uint32_t kStay = 0xffffffffu;  // lenient replay: continue the running thread

// Set while the shrinker's candidates run on this thread: their reports are
// never shown, so they look up no user places (name_user_places).
thread_local bool tl_shrinking = false;
struct shrinking_scope {
  bool was = tl_shrinking;
  shrinking_scope() noexcept { tl_shrinking = true; }
  ~shrinking_scope() { tl_shrinking = was; }
  shrinking_scope(const shrinking_scope&) = delete;
  shrinking_scope& operator=(const shrinking_scope&) = delete;
};

class shrinker {
 public:
  shrinker(const options& base, body_ref body) : body_(body) {
    o_ = rt::alone(base);
    o_.max_executions = 1;
    o_.iterative_bounding = false;
    o_.preemption_bound = -1;
    o_.time_budget = std::chrono::milliseconds(0);
    o_.expect_events = nullptr;
    o_.trace_dir = "-";  // a candidate's bug is not the one reported: no trace file for it
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  }

  // Shrinks `b` in place; returns the number of candidate replays.
  std::uint64_t run(bug& b) {
    other_start_ = false;
    cur_ = b;
    // The schedules shrunk here are the runtime's own: as long as it made them.
    if (!decode_schedule(cur_.schedule, choices_, error_, UINT64_MAX)) return 0;
    // Fewer preemptions first: make each preemption continue the running
    // thread instead (the rest of the schedule as it was, or left to run on).
    for (bool changed = true; changed && budget_left();) {
      changed = false;
      const std::vector<std::uint32_t> at = cur_.preempted_at;
      for (auto it = at.rbegin(); it != at.rend() && !changed && budget_left(); ++it) {
        std::vector<std::uint32_t> cut(choices_.begin(), choices_.begin() + *it);
        cut.push_back(kStay);
        std::vector<std::uint32_t> kept = choices_;
        kept[*it] = kStay;
        std::vector<std::uint32_t> later = choices_;  // the same switch, one decision later
        later.insert(later.begin() + *it, kStay);
        changed = attempt(cut) || attempt(kept) || attempt(later);
      }
    }
    // A bug often needs its preemptions elsewhere than where a random or
    // unbounded search put them: look for the same kind of bug among the
    // schedules with fewer preemptions (iterative context bounding, a
    // bounded number of executions per bound).
    for (int bound = 0; bound < static_cast<int>(cur_.preemptions) && budget_left(); ++bound) {
      options o = o_;
      o.strategy = dfs();
      o.preemption_bound = bound;
      o.max_executions = 2000;
      ++replays_;
      result r;
      try {
        const shrinking_scope scope;
        r = detail::explore(o, body_);
      } catch (const std::exception&) {
        break;
      }
      replays_ += r.executions - 1;
      if (r.found && r.found->kind == cur_.kind && adopt(*r.found)) break;
    }
    // Then fewer steps: drop chunks of choices, halving the chunk size.
    for (std::size_t chunk = std::max<std::size_t>(choices_.size() / 2, 1); chunk >= 1 && budget_left();) {
      bool changed = false;
      for (std::size_t start = 0; start < choices_.size() && budget_left();) {
        std::vector<std::uint32_t> cand(choices_.begin(), choices_.begin() + start);
        cand.insert(cand.end(), choices_.begin() + std::min(choices_.size(), start + chunk), choices_.end());
        if (attempt(cand)) {
          changed = true;
        } else {
          start += chunk;
        }
      }
      if (!changed) {
        if (chunk == 1) break;
        chunk /= 2;
      }
    }
    b = std::move(cur_);
    return replays_;
  }

  bool other_start() const noexcept { return other_start_; }

 private:
  bool budget_left() const {
    return !other_start_ && replays_ < 2000 && std::chrono::steady_clock::now() < deadline_;
  }
  static bool better(const bug& x, const bug& y) {
    return x.preemptions < y.preemptions || (x.preemptions == y.preemptions && x.step < y.step);
  }
  // Replays `cand`; keeps it if it fails with the same kind of bug and is smaller.
  bool attempt(const std::vector<std::uint32_t>& cand) {
    ++replays_;
    o_.strategy = replay(encode_schedule(cand), true);
    result r;
    try {
      const shrinking_scope scope;
      r = detail::explore(o_, body_);
    } catch (const std::exception&) {
      return false;
    }
    if (!r.found || r.found->kind != cur_.kind) return false;
    return adopt(*r.found);
  }
  // Every schedule of a body starts alike: the body alone up to its first
  // spawn. A candidate that starts otherwise than the execution did ran
  // from another state: the execution changed something that outlives it
  // (a static built in the body is built once, in the execution), and no
  // candidate says anything about it.
  static bool same_start(const std::vector<trace_event>& was, const std::vector<trace_event>& now) {
    for (std::size_t i = 0; i < was.size() && i < now.size(); ++i) {
      const trace_event& a = was[i];
      const trace_event& b = now[i];
      if (a.thread != b.thread || a.o != b.o || a.object != b.object || a.line != b.line || a.file != b.file)
        return false;
      if (a.o == op::spawn || a.thread != 0) break;
    }
    return true;
  }
  // Takes `b` (a bug of the same kind) if it is smaller.
  bool adopt(bug& b) {
    if (!same_start(cur_.events, b.events)) {
      other_start_ = true;  // (ends the budget)
      return false;
    }
    if (!better(b, cur_)) return false;
    std::vector<std::uint32_t> next;
    if (!decode_schedule(b.schedule, next, error_, UINT64_MAX)) return false;
    const std::uint64_t execution = cur_.execution;
    cur_ = std::move(b);
    cur_.execution = execution;
    choices_ = std::move(next);
    return true;
  }

  options o_;
  body_ref body_;
  bug cur_;
  std::vector<std::uint32_t> choices_;
  std::string error_;
  std::uint64_t replays_ = 0;
  bool other_start_ = false;
  std::chrono::steady_clock::time_point deadline_;
};

// Why the trace file `t` is not for the explore() named `name` running in
// `test` (one line; "" when it is): it was written in another test, or by
// another explore() of this one.
std::string trace_elsewhere(const mc::trace& t, const std::string& test, const std::string& name) {
  const std::string here = test.empty() ? "this check" : test;
  if (!t.test.empty() && !test.empty() && t.test != test)
    return "was recorded in " + t.test + "; " + here + " explores as usual";
  if (!t.model.empty() && !name.empty() && t.model != name)
    return "was recorded by the check " + t.model + "; " + name + (test.empty() ? "" : " in " + test) +
           " explores as usual";
  return {};
}

// The report's execution replayed once more with user places on (report/
// places.hpp): operations made inside headers (std::unique_lock, a
// primitive's lock()) then name the user's line instead. The replay's bug
// replaces `b` when it is the same one (kind and step) and keeps `b`'s
// place in the search; otherwise, or when no place can be looked up, `b`
// stays as it is.
void name_user_places(const options& opts, body_ref body, bug& b) {
  if (!rt::user_places_supported()) return;
  bool foreign = false;
  for (const trace_event& e : b.events) foreign = foreign || rt::foreign_file(e.file);
  if (!foreign) return;
  options o = rt::alone(opts);
  o.strategy = replay(b.schedule);
  o.max_executions = 1;
  o.keep_going = false;
  o.expect_events = nullptr;
  o.trace_dir = "-";
  try {
    auto strat = make_strategy(o);
    rt::runtime runtime(o, *strat);
    runtime.set_user_places(true);
    if (!strat->begin()) return;
    const std::uint64_t index = b.execution > 0 ? b.execution - 1 : 0;
    (void)run_one(runtime, *strat, body, index);
    if (!strat->end() || !runtime.internal_error().empty()) return;
    const std::optional<bug>& again = runtime.found();
    if (!again || again->kind != b.kind || again->step != b.step || again->schedule != b.schedule) return;
    const std::uint64_t execution = b.execution;
    b = *again;
    b.execution = execution;
  } catch (const std::exception&) {  // the replay went elsewhere: the report stays as found
  }
}

}  // namespace

result explore(const options& opts_in, body_ref body) {
  const auto t0 = std::chrono::steady_clock::now();
  options opts = opts_in;
  const std::string test = current_test_name();
  rt::set_fatal_test(test);
  mc::trace replayed;  // LOCKSTEP_TRACE: kept alive for the replay's event checks
  const char* f = opts.honour_env ? std::getenv("LOCKSTEP_TRACE") : nullptr;
  if (f != nullptr && *f != '\0') {
    replayed = read_trace_file(f);
    if (const std::string elsewhere = trace_elsewhere(replayed, test, opts.name); !elsewhere.empty()) {
      std::fprintf(stderr, "lockstep: LOCKSTEP_TRACE=%s %s\n", f, elsewhere.c_str());
      std::fflush(stderr);
      f = nullptr;
    }
  }
  if (opts.honour_env) {
    if (f != nullptr && *f != '\0') {
      const char* th = std::getenv("LOCKSTEP_TRACE_THREADS");
      if (th != nullptr && std::string_view(th) == "1") {
        const thread_run run = detail::run_on_threads(&replayed, {}, body);
        if (!run.divergence.empty()) throw replay_error(run.divergence);
        result res;
        res.strategy = "replay on OS threads";
        res.name = opts.name;
        res.test = test;
        res.executions = 1;
        res.steps = run.steps;
        res.seconds = run.seconds;
        if (run.kind) {
          res.found.emplace();
          res.found->kind = *run.kind;
          res.found->message = run.message;
          res.found->details = run.notes;
          res.found->execution = 1;
          res.found->schedule = replayed.schedule;
        }
        return res;
      }
      opts = replay_options(replayed, opts);
      opts.honour_env = false;
    } else if (const char* r = std::getenv("LOCKSTEP_REPLAY"); r != nullptr && *r != '\0') {
      opts.strategy = replay(r);
    } else if (is_sampling(opts.strategy.k)) {
      bool present = false;
      const std::uint64_t s = env_u64("LOCKSTEP_SEED", present);
      if (present) opts.strategy.seed = s;
    }
  }
  // An execution keeps a record of each of its steps (close to 1 KB each
  // with the report's and the detectors' state): past this bound one would
  // take gigabytes before it ended.
  if (opts.max_steps == 0 || opts.max_steps > kMaxStepsBound)
    throw std::invalid_argument("lockstep: options.max_steps is " + std::to_string(opts.max_steps) +
                                "; it must be between 1 and " + std::to_string(kMaxStepsBound));
  if (opts.shard_count == 0 || opts.shard_index >= opts.shard_count)
    throw std::invalid_argument("lockstep: shard " + std::to_string(opts.shard_index) + " of " +
                                std::to_string(opts.shard_count) + " does not exist");
  if (opts.jobs > kMaxJobs)
    throw std::invalid_argument("lockstep: options.jobs is " + std::to_string(opts.jobs) + "; it must be at most " +
                                std::to_string(kMaxJobs) + " (0: one per CPU)");
  unsigned jobs = opts.jobs == 0 ? std::max(1u, std::thread::hardware_concurrency()) : opts.jobs;
  const auto k = opts.strategy.k;
  const bool sampling = is_sampling(k);
  const bool splits = (k == strategy_spec::kind::dfs && !opts.iterative_bounding) ||
                      (k == strategy_spec::kind::dpor && !opts.iterative_bounding && opts.preemption_bound < 0);
  if (opts.shard_count > 1 && !sampling && !splits)
    throw std::invalid_argument(std::string("lockstep: ") + strategy_name(k) +
                                (opts.iterative_bounding ? " with iterative bounding"
                                 : opts.preemption_bound >= 0 ? " with a preemption bound" : "") +
                                " does not shard; use dfs, dpor, random or pct");
  if (!opts.checkpoint.empty() && k != strategy_spec::kind::dfs && k != strategy_spec::kind::dpor)
    throw std::invalid_argument("lockstep: checkpoints are for dfs and dpor searches");
  if (!opts.checkpoint.empty() && (opts.shard_count > 1 || opts.iterative_bounding))
    throw std::invalid_argument("lockstep: a checkpointed search runs unsharded and without iterative bounding");
  if (!sampling && !splits) jobs = 1;
  if (!opts.checkpoint.empty()) jobs = 1;

  std::uint64_t max_exec = opts.max_executions;
  const bool exhaustive_kind =
      k == strategy_spec::kind::dfs || k == strategy_spec::kind::dpor || k == strategy_spec::kind::delay;
  if (max_exec == 0) max_exec = exhaustive_kind ? 1000000 : 1000;

  result res;
  res.strategy = strategy_label(opts.strategy);
  res.name = opts.name;
  res.test = test;
  res.replay_command = opts.replay_command;
  res.trace_replay_command = opts.trace_replay_command;
  progress_line progress(opts, t0, res.strategy);
  search_outcome out;
  if (sampling) {
    out = sample(opts, body, max_exec, jobs, opts.shard_index, opts.shard_count, t0, &progress);
  } else if (splits && (jobs > 1 || opts.shard_count > 1)) {
    out = split_dfs(opts, body, max_exec, jobs, opts.shard_index, opts.shard_count, t0, &progress);
  } else {
    auto strat = make_strategy(opts);
    // A replay is one execution: it looks up user places as it goes (see
    // name_user_places), and the body runs no more often than it asks.
    out = search(opts, body, *strat, max_exec, t0, nullptr, &progress, nullptr,
                 k == strategy_spec::kind::replay && !tl_shrinking && rt::user_places_supported());
  }
  res.found = std::move(out.found);
  res.shard_index = opts.shard_index;
  res.shard_count = opts.shard_count;
  // A shard covers its part only: never the whole space.
  res.complete = out.complete && opts.shard_count == 1;
  res.shard_complete = out.complete && opts.shard_count > 1;
  res.fair_only = out.fair_cut && !sampling;
  res.spurious_bound =
      out.spurious_cut && !sampling ? static_cast<int>(std::min<std::uint32_t>(opts.spurious_wakeups, INT32_MAX)) : -1;
  res.bound_hit = std::move(out.bound_hit);
  res.executions = out.executions;
  res.steps = out.steps;
  res.abandoned = out.abandoned;
  res.preemption_bound = out.preemption_bound;
  res.checkpoint_error = std::move(out.checkpoint_error);
  if (res.found && opts.shrink && k != strategy_spec::kind::replay) {
    shrink_info& si = res.shrink;
    si.done = true;
    si.preemptions_before = res.found->preemptions;
    si.steps_before = res.found->step;
    shrinker sh(opts, body);
    si.replays = sh.run(*res.found);
    si.other_start = sh.other_start();
    si.preemptions_after = res.found->preemptions;
    si.steps_after = res.found->step;
  }
  if (res.found) {
    if (k != strategy_spec::kind::replay && !tl_shrinking) name_user_places(opts, body, *res.found);
    res.trace = std::make_shared<const mc::trace>(trace_of(res, opts));
    res.trace_dir = opts.trace_dir;
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The last step: the bug's trace file, when the caller asked for traces.
  if (res.found && trace_asked(opts.trace_dir)) res.write_trace();
  return res;
}

}  // namespace detail
}  // namespace lockstep::mc
