// lockstep — the command-line tool: list and check the registered models.
//
// Exit codes: 0 no bug found (for --all: every model got its expected
// verdict), 1 bug found (for --all: some model did not), 2 bad usage or bad
// input, or output that could not be written (stdout too), 3 internal error.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <iostream>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/graph.hpp"
#include "lockstep/mc/model.hpp"
#include "lockstep/mc/numbers.hpp"
#include "lockstep/mc/os_threads.hpp"
#include "lockstep/mc/trace.hpp"
#include "cli.hpp"
#include "src/trace/replay_options.hpp"

namespace {

namespace mc = lockstep::mc;

using namespace lockstep::cli;

// "execution" for one, "executions" otherwise.
const char* noun(unsigned long long n, const char* one, const char* many) { return n == 1 ? one : many; }

const char* const kMainHelp =
    "usage: lockstep <command> [options]\n"
    "\n"
    "commands:\n"
    "  list                 the registered models by group: name, expected verdict,\n"
    "                       default search, description\n"
    "  check MODEL|--all    explore a model's schedules and report what was found\n"
    "  replay TRACE         run a trace file again (on fibers, or --threads on OS threads)\n"
    "  graph TRACE          the wait-for graph (or timeline) of a trace's failure as DOT\n"
    "  stress MODEL         run a model free on OS threads, many times: how often\n"
    "                       does the bug show up without controlled scheduling?\n"
    "  lincheck TYPE|--all  generated scenarios of a gated type, every history\n"
    "                       checked for linearizability (lincheck --list: the types)\n"
    "  merge SHARD.json...  the reports of a check's shards (check --shard I/N\n"
    "                       --report-json F) combined into one verdict\n"
    "  help [COMMAND]       this text, or a command's options\n"
    "\n"
    "exit codes: 0 no bug found, 1 bug found (or, with --all, a model missed its\n"
    "verdict), 2 bad usage or input (or output that could not be written),\n"
    "3 internal error\n";

const char* const kListHelp =
    "usage: lockstep list\n"
    "\n"
    "Prints every registered model by group, each fix right after its bug: name,\n"
    "the verdict it must get (pass, or the bug kind the checker must find), how\n"
    "check searches it by default (dpor over every schedule, or a number of\n"
    "random schedules: a sample, no proof) and, below, what it models.\n";

const char* const kCheckHelp =
    "usage: lockstep check MODEL|--all [options]\n"
    "\n"
    "Explores the schedules of MODEL (or of every model with --all).\n"
    "\n"
    "options:\n"
    "  --strategy S        dfs (exhaustive depth-first), dpor (exhaustive, one\n"
    "                      execution per class of equivalent ones: optimal dpor\n"
    "                      with wakeup trees), source-dpor (the same with source\n"
    "                      sets: may also start executions it then abandons), delay\n"
    "                      (iterative delay bounding: round-robin schedules with\n"
    "                      0 delays, then 1, ...), random, pct (probabilistic\n"
    "                      concurrency testing), pos (partial order sampling) or\n"
    "                      replay (with --replay STRING). Default: the model's\n"
    "                      own: dpor for models small enough to cover every\n"
    "                      schedule, random (50000 executions) for the rest\n"
    "  --depth D           pct: the bug depth aimed at (default 3)\n"
    "  --delays K          delay: stop after the search with at most K delays\n"
    "                      (default: raise the bound until it cuts nothing)\n"
    "  --preemptions K     dfs/dpor: at most K preemptions per schedule\n"
    "  --iterative         dfs/dpor: search with 0 preemptions, then 1, 2, ... (up to K):\n"
    "                      the bug found first has the fewest preemptions\n"
    "  --jobs N, -j N      worker threads (default: one per core). random and pct\n"
    "                      give the same result for a seed whatever N; dfs and\n"
    "                      dpor split their tree between them (the same result\n"
    "                      for the same N)\n"
    "  --shard I/N         explore only shard I of N (dfs, dpor, random, pct): the N\n"
    "                      shards together are exactly the unsharded search,\n"
    "                      whatever each one's --jobs. A shard says 'shard I of\n"
    "                      N complete', never complete: lockstep merge combines\n"
    "                      the shards' --report-json files into one verdict\n"
    "  --checkpoint FILE   dfs/dpor: keep the search position in FILE (every second\n"
    "                      and at the end); an interrupted run given the same FILE\n"
    "                      resumes where it stopped\n"
    "  --seed N            seed of random and pct (default 1; LOCKSTEP_SEED\n"
    "                      overrides it when this flag is absent)\n"
    "  --budget B          stop after B: a time (30s, 500ms, 2m) or a number of\n"
    "                      executions (10000). Default: 30s and the strategy's\n"
    "                      execution bound (random 1000, dfs 1000000)\n"
    "  --max-steps N       bound on scheduling points per execution (default 20000,\n"
    "                      at most 1000000)\n"
    "  --stack-size SIZE   stack of each checked thread: bytes, or 512K, 1M (default\n"
    "                      256K); a thread that runs past it is a stack_overflow\n"
    "  --step-timeout T    watchdog: a step (the code between two scheduling points)\n"
    "                      that runs longer than T (10s, 500ms, 2m, or off) is\n"
    "                      non_termination: it used T of CPU time, or T passed and\n"
    "                      it is blocked in the OS (a step starved of CPU is not\n"
    "                      ended). Default 10s, or the time budget when shorter\n"
    "                      (at least 1s)\n"
    "  --replay STRING     run exactly the schedule a bug report printed\n"
    "  --report-json FILE  write the result as JSON (with the bug's wait-for graph\n"
    "                      and per-thread events)\n"
    "  --junit FILE        write JUnit XML for CI: a testcase per model (classname\n"
    "                      its group); a model that missed its expected verdict\n"
    "                      is a failure with the report as its text\n"
    "  --graph-out F.dot   write the wait-for graph at the failure as Graphviz DOT\n"
    "  --timeline-out F.dot  write the failing execution's last steps as a DOT\n"
    "                      table, one column per thread\n"
    "  --svg               with --graph-out/--timeline-out: also render F.svg\n"
    "                      with dot, when Graphviz is installed\n"
    "  --unfair            turn fair scheduling off: no schedule and no stale read\n"
    "                      is left out for fairness (livelocks then show up as\n"
    "                      non_termination)\n"
    "  --memory-model M    rc11 (default): memory_order arguments count, a load may\n"
    "                      read any store coherence allows; sc: every atomic\n"
    "                      operation sequentially consistent\n"
    "  --spurious-cas-failures N  rc11: each thread's compare_exchange_weak may\n"
    "                      fail spuriously N times (default 0)\n"
    "  --spurious-wakeups N each thread's condition-variable waits may wake\n"
    "                      spuriously N times an execution (default 1)\n"
    "  --livelock-window N steps without progress before a repeating fair\n"
    "                      execution is a livelock (default 1000)\n"
    "  --busy-wait-bound N read-only steps in a row without relax() before a\n"
    "                      thread is busy waiting (default 100)\n"
    "  --bypass-bound K    how often others may take a lock a thread is blocked\n"
    "                      on before it starves (default 2)\n"
    "  --trace-out FILE    write the failing execution as a trace file (see\n"
    "                      lockstep help replay); FILE, if it exists, must be\n"
    "                      a regular file\n"
    "  --no-shrink         report the failing schedule as found, without first\n"
    "                      minimising it (fewer preemptions, then fewer steps)\n"
    "  --quiet             print only the verdict line (or the --all table)\n"
    "\n"
    "A single model exits 0 when no bug was found and 1 when one was. With --all\n"
    "the tool prints a table (model, expected, got, executions, time) and exits 0\n"
    "only if every model got its expected verdict. A pass says what it rests on:\n"
    "'pass (complete)' when every schedule was explored, 'pass (complete over\n"
    "fair schedules)' when every fair one was (fair scheduling left out a thread\n"
    "going on right after its yield while another could run, or a load after a\n"
    "yield reading a stale value: --unfair explores those), with ', spurious\n"
    "wake-up bound N' when a condition-variable wait met --spurious-wakeups N\n"
    "(complete within it), 'pass (50,000 random schedules)' when they were\n"
    "sampled (no proof).\n"
    "\n"
    "Which bug dfs and dpor report, and the execution counts, depend on --jobs\n"
    "(each job searches its own part of the tree) but not on timing: the bug\n"
    "is the first in a fixed order of the jobs' executions, and the count is\n"
    "of the executions up to it in that order. random and pct do not depend on\n"
    "--jobs. Times, and a search a time budget stops, depend on the machine.\n"
    "\n"
    "A crash in checked code (SIGSEGV, SIGABRT, ...) or a stack overflow is\n"
    "reported on stderr with its replay string and the process ends with the\n"
    "signal (exit status 128+N in a shell: 139, 134); a step the watchdog ends\n"
    "exits 124, and an exit() in checked code 125. --trace-out, --report-json\n"
    "and --junit are still written. --all checks each model in a child\n"
    "process: one that crashes unexpectedly is a missed verdict, and the run\n"
    "goes on.\n";

const char* const kReplayHelp =
    "usage: lockstep replay TRACE [--threads] [--runs N] [--quiet]\n"
    "\n"
    "Runs the execution recorded in TRACE (written by check --trace-out or by a\n"
    "failing test) again and checks every step against the recorded one: if the\n"
    "code changed so that an event differs, the replay stops and names the step,\n"
    "the recorded event and the actual one (exit 2).\n"
    "\n"
    "options:\n"
    "  --threads           replay on real OS threads: each scheduling point waits\n"
    "                      for its turn in the recorded schedule (a turnstile),\n"
    "                      then the threads run free; the bug reproduces on the\n"
    "                      hardware, with real stacks, under a debugger\n"
    "  --runs N            --threads: replay N times (default 1) and count\n"
    "                      (a crash trace's crash happens for real on OS\n"
    "                      threads: said on stderr first, then the process\n"
    "                      ends with the signal, as the recorded one did)\n"
    "  --quiet             print only the verdict line\n"
    "\n"
    "A trace whose verdict is pass (a bug since fixed) is replayed leniently: the\n"
    "schedule guides the run, and the run must not fail.\n"
    "exit codes: 1 the recorded bug reproduced, 0 the trace passes as recorded,\n"
    "2 bad trace file, divergence, or a verdict other than the recorded one\n";

const char* const kGraphHelp =
    "usage: lockstep graph TRACE [--timeline] [-o F.dot [--svg]]\n"
    "\n"
    "Replays TRACE on fibers and prints the wait-for graph at its failure as\n"
    "Graphviz DOT (threads and resources as nodes, holds and waits as edges, a\n"
    "deadlock cycle in red), or with --timeline the last steps as a table with\n"
    "one column per thread. -o writes it to a file; --svg then also renders\n"
    "F.svg with dot when Graphviz is installed. A trace whose bug ends the\n"
    "process (a crash, a stack overflow, a step the watchdog ends) ends this\n"
    "replay too: the picture is written first, then the process ends as the\n"
    "recorded one did (SIGSEGV: 139, SIGABRT: 134, the watchdog: 124, exit(): 125).\n"
    "exit codes: 0 written, 2 bad trace file or divergence (or the recorded\n"
    "bug's, above)\n";

const char* const kStressHelp =
    "usage: lockstep stress MODEL [--runs N] [--timeout MS] [--quiet]\n"
    "\n"
    "Runs MODEL N times (default 1000) on real OS threads with no control over\n"
    "the schedule and counts how often each bug shows up. A run in which every\n"
    "thread blocks is a deadlock (detected by a watchdog, then released); one\n"
    "that takes longer than MS milliseconds (default 10000) is reported as not\n"
    "terminating. The runs go on in a child process: a run whose code ends the\n"
    "process (a crash, abort(), exit(), threads the abort cannot stop) counts as\n"
    "that run's bug, and the rest run in a new child. Compare with lockstep check\n"
    "MODEL, which finds the bug by controlled scheduling.\n"
    "exit codes: 1 some run showed a bug, 0 none did\n";

// Numbers as lockstep reads them everywhere (lockstep/mc/numbers.hpp).
std::uint64_t parse_u64(std::string_view flag, std::string_view v) {
  if (v.empty()) throw usage_error{std::string(flag) + " needs a number"};
  std::string why;
  const std::optional<std::uint64_t> x = mc::parse_number(v, &why);
  if (!x) throw usage_error{std::string(flag) + ": '" + std::string(v) + "' is " + why};
  return *x;
}

struct check_args {
  std::string model;
  bool all = false;
  std::optional<mc::strategy_spec::kind> strategy;  // unset: the model's default
  bool source_dpor = false;  // --strategy source-dpor: dpor with source sets
  std::optional<std::uint64_t> seed;
  std::chrono::milliseconds time_budget{30000};
  std::uint64_t max_executions = 0;
  std::uint64_t max_steps = 20000;
  std::optional<std::string> replay;
  std::optional<std::string> json_path;
  std::optional<std::string> junit_path;  // --junit
  bool quiet = false;
  unsigned depth = 3;     // pct
  unsigned jobs = 0;      // 0: one per core
  unsigned shard_index = 0, shard_count = 1;
  std::string checkpoint;
  int preemptions = -1;   // dfs bound
  int delays = -1;        // delay: the last delay bound (-1: until complete)
  bool iterative = false; // dfs: iterative bounding
  std::optional<std::string> trace_out;
  bool shrink = true;
  std::optional<std::string> graph_path;     // --graph-out
  std::optional<std::string> timeline_path;  // --timeline-out
  bool svg = false;
  bool unfair = false;
  mc::memory_model memory_model = mc::memory_model::rc11;
  std::uint32_t spurious_cas_failures = 0;
  std::uint32_t spurious_wakeups = 1;
  std::uint64_t livelock_window = 1000;
  std::uint32_t busy_wait_bound = 100;
  std::uint32_t bypass_bound = 2;
  std::optional<std::size_t> stack_size;                    // --stack-size
  std::optional<std::chrono::milliseconds> step_timeout;   // --step-timeout (negative: off)
  std::optional<std::string> stack_size_text, step_timeout_text;  // as given, for the replay command
};

// "256K", "1M", "262144" -> bytes.
std::size_t parse_size(std::string_view flag, std::string_view v) {
  std::uint64_t scale = 1;
  std::string_view digits = v;
  if (!v.empty() && (v.back() == 'K' || v.back() == 'k')) scale = 1024;
  if (!v.empty() && (v.back() == 'M' || v.back() == 'm')) scale = 1024 * 1024;
  if (!v.empty() && (v.back() == 'G' || v.back() == 'g')) scale = 1024 * 1024 * 1024;
  if (scale != 1) digits.remove_suffix(1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
    throw usage_error{std::string(flag) + ": '" + std::string(v) + "' is not a size (bytes, or 512K, 1M)"};
  const std::uint64_t n = parse_u64(flag, digits);
  if (n > (std::uint64_t{1} << 40) / scale) throw usage_error{std::string(flag) + ": '" + std::string(v) + "' is too large"};
  return static_cast<std::size_t>(n * scale);
}

// "10s", "500ms", "2m" -> milliseconds; "off" -> -1.
std::chrono::milliseconds parse_duration(std::string_view flag, std::string_view v) {
  if (v == "off") return std::chrono::milliseconds(-1);
  for (auto [unit, scale] : {std::pair<std::string_view, std::uint64_t>{"ms", 1}, {"s", 1000}, {"m", 60000}}) {
    if (v.size() > unit.size() && v.substr(v.size() - unit.size()) == unit &&
        v.substr(0, v.size() - unit.size()).find_first_not_of("0123456789") == std::string_view::npos) {
      const std::uint64_t n = parse_u64(flag, v.substr(0, v.size() - unit.size()));
      if (n == 0) throw usage_error{std::string(flag) + " must be positive (or off)"};
      if (n > 1000000000) throw usage_error{std::string(flag) + ": '" + std::string(v) + "' is too long"};
      return std::chrono::milliseconds(n * scale);
    }
  }
  throw usage_error{std::string(flag) + ": '" + std::string(v) + "' is not a time (10s, 500ms, 2m) or off"};
}

void parse_budget(std::string_view v, check_args& a) {
  if (!v.empty() && (v.back() < '0' || v.back() > '9')) {  // a time
    std::string why;
    const std::optional<std::chrono::milliseconds> t = mc::parse_duration(v, &why);
    if (!t && why.rfind("not a duration", 0) == 0)
      throw usage_error{"--budget: '" + std::string(v) + "' is neither a time (30s, 500ms, 2m) nor an execution count"};
    if (!t) throw usage_error{"--budget: '" + std::string(v) + "' is " + why};
    if (t->count() == 0) throw usage_error{"--budget must be positive"};
    a.time_budget = *t;
    return;
  }
  a.max_executions = parse_u64("--budget", v);
  if (a.max_executions == 0) throw usage_error{"--budget must be positive"};
  a.time_budget = std::chrono::milliseconds(0);
}

check_args parse_check(const std::vector<std::string_view>& args) {
  check_args a;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) throw usage_error{std::string(arg) + " needs a value"};
      return args[++i];
    };
    // A file name or a replay string: an empty one is a mistake (a shell
    // variable that was not set), not "none".
    auto name = [&]() -> std::string {
      const std::string_view v = value();
      if (v.empty()) throw usage_error{std::string(arg) + " needs a non-empty value"};
      return std::string(v);
    };
    if (arg == "--all") {
      a.all = true;
    } else if (arg == "--strategy") {
      const std::string_view s = value();
      if (s == "dfs") a.strategy = mc::strategy_spec::kind::dfs;
      else if (s == "random") a.strategy = mc::strategy_spec::kind::random;
      else if (s == "pct") a.strategy = mc::strategy_spec::kind::pct;
      else if (s == "dpor") a.strategy = mc::strategy_spec::kind::dpor;
      else if (s == "source-dpor") {
        a.strategy = mc::strategy_spec::kind::dpor;
        a.source_dpor = true;
      }
      else if (s == "replay") a.strategy = mc::strategy_spec::kind::replay;
      else if (s == "pos") a.strategy = mc::strategy_spec::kind::pos;
      else if (s == "delay") a.strategy = mc::strategy_spec::kind::delay;
      else throw usage_error{"unknown strategy '" + std::string(s) +
                             "' (use dfs, dpor, source-dpor, delay, random, pct, pos or replay)"};
    } else if (arg == "--depth") {
      const std::uint64_t d = parse_u64("--depth", value());
      if (d == 0 || d > 100) throw usage_error{"--depth must be between 1 and 100"};
      a.depth = static_cast<unsigned>(d);
    } else if (arg == "--delays") {
      const std::uint64_t k = parse_u64("--delays", value());
      if (k > 1000) throw usage_error{"--delays must be at most 1000"};
      a.delays = static_cast<int>(k);
    } else if (arg == "--preemptions") {
      const std::uint64_t k = parse_u64("--preemptions", value());
      if (k > 1000) throw usage_error{"--preemptions must be at most 1000"};
      a.preemptions = static_cast<int>(k);
    } else if (arg == "--iterative") {
      a.iterative = true;
    } else if (arg == "--jobs" || arg == "-j") {
      const std::uint64_t j = parse_u64("--jobs", value());
      if (j == 0 || j > mc::kMaxJobs) throw usage_error{"--jobs must be between 1 and " + std::to_string(mc::kMaxJobs)};
      a.jobs = static_cast<unsigned>(j);
    } else if (arg == "--checkpoint") {
      a.checkpoint = name();
    } else if (arg == "--shard") {
      const std::string_view v = value();
      const auto slash = v.find('/');
      if (slash == std::string_view::npos) throw usage_error{"--shard takes I/N, e.g. 0/4"};
      const std::uint64_t i = parse_u64("--shard", v.substr(0, slash));
      const std::uint64_t n = parse_u64("--shard", v.substr(slash + 1));
      if (n == 0 || n > kMaxShards || i >= n)
        throw usage_error{"--shard " + std::string(v) + ": needs 0 <= I < N <= " + std::to_string(kMaxShards)};
      a.shard_index = static_cast<unsigned>(i);
      a.shard_count = static_cast<unsigned>(n);
    } else if (arg == "--seed") {
      a.seed = parse_u64("--seed", value());
    } else if (arg == "--budget") {
      parse_budget(value(), a);
    } else if (arg == "--max-steps") {
      a.max_steps = parse_u64("--max-steps", value());
      if (a.max_steps == 0 || a.max_steps > mc::kMaxStepsBound)
        throw usage_error{"--max-steps must be between 1 and " + std::to_string(mc::kMaxStepsBound)};
    } else if (arg == "--stack-size") {
      const std::string_view v = value();
      const std::size_t n = parse_size("--stack-size", v);
      if (n < mc::kMinStackSize || n > (std::size_t{1} << 30))
        throw usage_error{"--stack-size must be between 16K and 1G"};
      a.stack_size = n;
      a.stack_size_text = std::string(v);
    } else if (arg == "--step-timeout") {
      const std::string_view v = value();
      a.step_timeout = parse_duration("--step-timeout", v);
      a.step_timeout_text = std::string(v);
    } else if (arg == "--replay") {
      a.replay = name();
    } else if (arg == "--report-json") {
      a.json_path = name();
    } else if (arg == "--junit") {
      a.junit_path = name();
    } else if (arg == "--trace-out") {
      a.trace_out = name();
    } else if (arg == "--no-shrink") {
      a.shrink = false;
    } else if (arg == "--graph-out") {
      a.graph_path = name();
    } else if (arg == "--timeline-out") {
      a.timeline_path = name();
    } else if (arg == "--svg") {
      a.svg = true;
    } else if (arg == "--unfair") {
      a.unfair = true;
    } else if (arg == "--memory-model") {
      const std::string_view v = value();
      const auto m = mc::parse_memory_model(v);
      if (!m) throw usage_error{"--memory-model must be sc or rc11, not '" + std::string(v) + "'"};
      a.memory_model = *m;
    } else if (arg == "--spurious-cas-failures") {
      const std::uint64_t n = parse_u64("--spurious-cas-failures", value());
      if (n > 1000) throw usage_error{"--spurious-cas-failures must be at most 1000"};
      a.spurious_cas_failures = static_cast<std::uint32_t>(n);
    } else if (arg == "--spurious-wakeups") {
      const std::uint64_t n = parse_u64("--spurious-wakeups", value());
      if (n > 1000) throw usage_error{"--spurious-wakeups must be at most 1000"};
      a.spurious_wakeups = static_cast<std::uint32_t>(n);
    } else if (arg == "--livelock-window") {
      a.livelock_window = parse_u64("--livelock-window", value());
      if (a.livelock_window < 2) throw usage_error{"--livelock-window must be at least 2"};
    } else if (arg == "--busy-wait-bound") {
      const std::uint64_t b = parse_u64("--busy-wait-bound", value());
      if (b == 0 || b > 100000000) throw usage_error{"--busy-wait-bound must be between 1 and 100000000"};
      a.busy_wait_bound = static_cast<std::uint32_t>(b);
    } else if (arg == "--bypass-bound") {
      const std::uint64_t b = parse_u64("--bypass-bound", value());
      if (b > 100000000) throw usage_error{"--bypass-bound must be at most 100000000"};
      a.bypass_bound = static_cast<std::uint32_t>(b);
    } else if (arg == "--quiet" || arg == "-q") {
      a.quiet = true;
    } else if (!arg.empty() && arg[0] == '-') {
      throw usage_error{"unknown option '" + std::string(arg) + "' for check (see lockstep help check)"};
    } else if (a.model.empty()) {
      a.model = std::string(arg);
    } else {
      throw usage_error{"check takes one model, got '" + a.model + "' and '" + std::string(arg) + "'"};
    }
  }
  if (a.all && !a.model.empty()) throw usage_error{"give a model or --all, not both"};
  if (!a.all && a.model.empty()) throw usage_error{"check needs a model name or --all (see lockstep list)"};
  if (a.all && a.replay) throw usage_error{"--replay replays one model's schedule; it cannot go with --all"};
  if (a.all && a.trace_out) throw usage_error{"--trace-out writes one model's failing execution; not with --all"};
  if (a.strategy == mc::strategy_spec::kind::replay && !a.replay)
    throw usage_error{"--strategy replay needs --replay STRING (the string a bug report printed)"};
  if (a.replay && a.strategy && *a.strategy != mc::strategy_spec::kind::replay)
    throw usage_error{"--replay runs one recorded schedule; it cannot go with --strategy " +
                      std::string(mc::strategy_name(*a.strategy))};
  const bool bounded = a.preemptions >= 0 || a.iterative;
  if (bounded && a.strategy && *a.strategy != mc::strategy_spec::kind::dfs &&
      *a.strategy != mc::strategy_spec::kind::dpor)
    throw usage_error{"--preemptions and --iterative bound the dfs and dpor strategies only"};
  if (bounded && !a.strategy) a.strategy = mc::strategy_spec::kind::dpor;
  if (a.shard_count > 1 && (a.iterative || a.preemptions >= 0 || a.replay || a.strategy == mc::strategy_spec::kind::delay))
    throw usage_error{"--shard splits unbounded dfs, dpor, random, pct and pos searches"};
  if (!a.checkpoint.empty() && a.all) throw usage_error{"--checkpoint resumes one model's search; not with --all"};
  if (!a.checkpoint.empty() && (a.replay || a.shard_count > 1 || a.iterative ||
                                (a.strategy && (mc::is_sampling(*a.strategy) ||
                                                a.strategy == mc::strategy_spec::kind::delay))))
    throw usage_error{"--checkpoint is for a dfs or dpor search (unsharded, not iterative)"};
  if ((a.graph_path || a.timeline_path) && a.all)
    throw usage_error{"--graph-out and --timeline-out draw one model's failure; not with --all"};
  if (a.svg && !a.graph_path && !a.timeline_path)
    throw usage_error{"--svg renders the file of --graph-out or --timeline-out"};
  if (a.depth != 3 && a.strategy != mc::strategy_spec::kind::pct)
    throw usage_error{"--depth is the bug depth of --strategy pct"};
  if (a.delays >= 0 && a.strategy != mc::strategy_spec::kind::delay)
    throw usage_error{"--delays bounds --strategy delay"};
  if (!a.all && mc::find_model(a.model) == nullptr)
    throw usage_error{"unknown model '" + a.model + "' (lockstep list shows the registered ones)"};
  return a;
}


// The wait-for graph: nodes (id, label, kind, detail) and edges (from and
// to as node ids, kind waits or holds, in_cycle, label).
std::string graph_json(const mc::wait_graph& g) {
  std::string o = "{\"nodes\": [";
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    o += std::string(i == 0 ? "" : ", ") + "{\"id\": " + q(n.id) + ", \"label\": " + q(n.label) +
         ", \"kind\": " + q(n.thread ? "thread" : "resource") + ", \"detail\": " + q(n.detail) + "}";
  }
  o += "], \"edges\": [";
  bool first = true;
  for (const auto& e : g.edges) {
    if (e.from >= g.nodes.size() || e.to >= g.nodes.size()) continue;
    o += std::string(first ? "" : ", ") + "{\"from\": " + q(g.nodes[e.from].id) + ", \"to\": " +
         q(g.nodes[e.to].id) + ", \"kind\": " + q(e.waits ? "waits" : "holds") +
         ", \"in_cycle\": " + (e.in_cycle ? "true" : "false") + ", \"label\": " + q(e.label) + "}";
    first = false;
  }
  return o + "]}";
}

// The failing execution's events, one object a step.
std::string events_json(const std::vector<mc::trace_event>& events, const std::string& indent) {
  std::string o = "[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    o += std::string(i == 0 ? "\n" : ",\n") + indent + "  {\"step\": " + std::to_string(e.step) +
         ", \"thread\": " + std::to_string(e.thread) + ", \"op\": " + q(mc::op_name(e.o)) +
         ", \"object\": " + std::to_string(e.object) + ", \"object_name\": " + q(e.object_name) +
         ", \"value\": " + std::to_string(e.value) + ", \"text\": " + q(mc::event_text(e)) +
         ", \"file\": " + q(e.file) + ", \"line\": " + std::to_string(e.line) + "}";
  }
  return o + (events.empty() ? "]" : "\n" + indent + "]");
}

mc::options model_options(const mc::model& m, const check_args& a) {
  mc::options o = mc::default_options(m);
  if (a.replay) o.strategy = mc::replay(*a.replay);
  else if (a.strategy == mc::strategy_spec::kind::random || (!a.strategy && !m.settings.exhaustive))
    o.strategy = mc::random(a.seed.value_or(1));
  else if (a.strategy == mc::strategy_spec::kind::pct) o.strategy = mc::pct(a.seed.value_or(1), a.depth);
  else if (a.strategy == mc::strategy_spec::kind::pos) o.strategy = mc::pos(a.seed.value_or(1));
  else if (a.strategy == mc::strategy_spec::kind::delay) o.strategy = mc::delay_bounding(a.delays);
  else if (a.strategy == mc::strategy_spec::kind::dpor) o.strategy = a.source_dpor ? mc::source_dpor() : mc::dpor();
  else if (a.strategy) o.strategy = mc::dfs();
  o.preemption_bound = a.preemptions;
  o.iterative_bounding = a.iterative;
  o.jobs = a.jobs;
  o.shard_index = a.shard_index;
  o.shard_count = a.shard_count;
  o.checkpoint = a.checkpoint;
  // An explicit --seed wins over LOCKSTEP_SEED; --replay over LOCKSTEP_REPLAY.
  o.honour_env = !a.seed && !a.replay;
  // The model's own bound for random sampling, unless the flags set one.
  if (a.max_executions != 0 || a.strategy) o.max_executions = a.max_executions;
  o.time_budget = a.time_budget;
  if (a.max_steps != 20000) o.max_steps = a.max_steps;
  o.name = m.name;
  o.progress = !a.quiet && ::isatty(2) != 0;
  if (a.unfair) o.fair_scheduling = false;  // else the model's own (model_settings)
  o.memory_model = a.memory_model;
  o.spurious_cas_failures = a.spurious_cas_failures;
  o.spurious_wakeups = a.spurious_wakeups;
  o.livelock_window = a.livelock_window;
  o.busy_wait_bound = a.busy_wait_bound;
  o.bypass_bound = a.bypass_bound;
  if (a.stack_size) o.stack_size = *a.stack_size;
  if (a.step_timeout) o.step_timeout = *a.step_timeout;
  o.replay_command = std::string("lockstep check ") + m.name + " --replay {}";
  // The options that shape the schedule, as flags where they differ from the
  // defaults (a bool's flag alone turns its default over).
  const mc::options defaults;
  mc::detail::for_each_shaping_option([&](const mc::detail::shaping_option_names& n, auto member, auto) {
    if (*n.flag == '\0' || o.*member == defaults.*member) return;
    o.replay_command += std::string(" ") + n.flag;
    if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(o.*member)>, bool>)
      o.replay_command += " " + mc::detail::option_text(o.*member);
  });
  if (a.stack_size_text) o.replay_command += " --stack-size " + *a.stack_size_text;
  if (a.step_timeout_text) o.replay_command += " --step-timeout " + *a.step_timeout_text;
  o.shrink = a.shrink;
  o.trace_dir = "-";  // traces only with --trace-out
  // The model is registered here, so this tool replays its trace files.
  o.trace_replay_command = "lockstep replay {} [--threads]";
  return o;
}

// The command that replays the bug a check found.
std::string run_command(const mc::result& r) {
  std::string cmd = r.replay_command;
  if (!r.found) return {};
  if (auto pos = cmd.find("{}"); pos != std::string::npos) cmd.replace(pos, 2, r.found->schedule);
  return cmd;
}

// What decides which executions a check explores, beside the model: the
// report carries it, and `lockstep merge` combines only shards that agree on
// it (the job count, the execution and time budgets do not matter: they
// decide how far a shard got, which its `complete` says).
std::string options_json(const mc::options& o) {
  std::string j = "{\"strategy\": " + q(mc::strategy_label(o.strategy));
  if (mc::is_sampling(o.strategy.k)) j += ", \"seed\": " + std::to_string(o.strategy.seed);
  if (o.strategy.k == mc::strategy_spec::kind::pct) j += ", \"depth\": " + std::to_string(o.strategy.depth);
  if (o.strategy.k == mc::strategy_spec::kind::delay) j += ", \"max_delays\": " + std::to_string(o.strategy.max_delays);
  j += ", \"preemption_bound\": " + std::to_string(o.preemption_bound) +
       ", \"iterative\": " + (o.iterative_bounding ? "true" : "false");
  mc::detail::for_each_shaping_option([&](const mc::detail::shaping_option_names& n, auto member, auto) {
    j += std::string(", \"") + n.json + "\": ";
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(o.*member)>, bool>)
      j += o.*member ? "true" : "false";
    else if constexpr (std::is_same_v<std::remove_cvref_t<decltype(o.*member)>, mc::memory_model>)
      j += q(mc::memory_model_name(o.*member));
    else
      j += std::to_string(o.*member);
  });
  return j + ", \"stack_size\": " + std::to_string(o.stack_size) + ", \"lockstep\": " + q(LOCKSTEP_CLI_VERSION) + "}";
}

std::string to_json(const mc::model& m, const mc::result& r, const check_args& a, const std::string& indent) {
  std::string o = "{\n";
  const std::string in = indent + "  ";
  o += in + "\"model\": " + q(m.name) + ",\n";
  o += in + "\"expected\": " + q(mc::expectation_name(m.expected)) + ",\n";
  o += in + "\"verdict\": " + q(mc::verdict_name(r.verdict())) + ",\n";
  if (r.found) {
    o += in + "\"bug\": {\"kind\": " + q(mc::bug_kind_name(r.found->kind)) +
         ", \"message\": " + q(r.found->message) + ", \"details\": " + q(r.found->details) +
         ", \"execution\": " + std::to_string(r.found->execution) +
         ", \"step\": " + std::to_string(r.found->step) + ", \"run\": " + q(run_command(r)) + ",\n" + in +
         "  \"graph\": " +
         graph_json(r.found->graph) + ",\n" + in + "  \"events\": " + events_json(r.found->events, in + "  ") +
         "},\n";
  } else {
    o += in + "\"bug\": null,\n";
  }
  o += in + "\"strategy\": " + q(r.strategy) + ",\n";
  o += in + "\"options\": " + options_json(model_options(m, a)) + ",\n";
  o += in + "\"shard\": {\"index\": " + std::to_string(r.shard_index) + ", \"count\": " +
       std::to_string(r.shard_count) + ", \"complete\": " + (r.shard_complete ? "true" : "false") + "},\n";
  o += in + "\"complete\": " + (r.complete ? "true" : "false") + ",\n";
  o += in + "\"fair_only\": " + (r.fair_only ? "true" : "false") + ",\n";  // see mc::result::fair_only
  o += in + "\"spurious_bound\": " + (r.spurious_bound < 0 ? "null" : std::to_string(r.spurious_bound)) +
       ",\n";  // see mc::result::spurious_bound
  o += in + "\"bound\": " + (r.bound_hit.empty() ? "null" : q(r.bound_hit)) + ",\n";
  o += in + "\"executions\": " + std::to_string(r.executions) + ",\n";
  o += in + "\"abandoned\": " + std::to_string(r.abandoned) + ",\n";  // dpor: of the executions, sleep-set blocked
  o += in + "\"steps\": " + std::to_string(r.steps) + ",\n";
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.6f", r.seconds);
  o += in + "\"seconds\": " + secs + ",\n";
  o += in + "\"schedule\": " + (r.found ? q(r.found->schedule) : "null") + "\n";
  o += indent + "}";
  return o;
}

bool got_expected(const mc::model& m, const mc::result& r) {
  // A bug only an adversarial schedule shows: sampling may miss it, but must
  // not find another.
  const bool sampled = sampled_strategy(r.strategy);
  if (m.expected.bug && sampled && !m.settings.found_by_sampling)
    return !r.found || r.found->kind == *m.expected.bug;
  if (m.expected.bug) return r.found && r.found->kind == *m.expected.bug;
  return r.verdict() == mc::verdict::pass;
}

std::string got_name(const mc::result& r) {
  if (r.found) return std::string("bug: ") + mc::bug_kind_name(r.found->kind);
  return mc::verdict_name(r.verdict());
}

// The verdict with what a pass rests on: "pass (complete)" when every
// schedule was explored, "pass (complete over fair schedules)" when every
// fair one was (mc::result::fair_only), with ", spurious wake-up bound N"
// when a wait met that bound (mc::result::spurious_bound), "pass (50,000
// random schedules)" when they were sampled (a sample is no proof).
std::string got_label(const mc::model& m, const mc::result& r) {
  std::string g = got_name(r);
  if (r.found || r.verdict() != mc::verdict::pass) return g;
  if (sampled_strategy(r.strategy)) {
    g += " (" + thousands(r.executions) + " " + r.strategy + (r.executions == 1 ? " schedule" : " schedules");
    if (m.expected.bug && !m.settings.found_by_sampling) g += "; needs dfs/dpor";
    return g + ")";
  }
  const std::string complete =
      std::string(r.fair_only ? "complete over fair schedules" : "complete") +
      (r.spurious_bound >= 0 ? ", spurious wake-up bound " + std::to_string(r.spurious_bound) : std::string());
  if (r.complete) return g + " (" + complete + ")";
  if (r.shard_complete)
    return g + " (shard " + std::to_string(r.shard_index) + " of " + std::to_string(r.shard_count) + " " + complete +
           ")";
  if (r.strategy == "replay") return g + " (one replayed schedule)";
  return g;
}

// One model's outcome in a JUnit file.
struct junit_case {
  const mc::model* m = nullptr;
  bool ok = false;           // it got its expected verdict
  std::string got;           // got_label()
  std::string strategy;
  std::uint64_t executions = 0;
  double seconds = 0;
  std::string report;        // what check printed for it
};

// JUnit XML as CI systems read it: one testcase per model (classname its
// group, name the model); a model that missed its expected verdict is a
// failure whose text is the report; each testcase's properties say what the
// verdict rests on (coverage: complete, sampled or a bug found).
std::string junit_xml(const std::vector<junit_case>& cases, double seconds) {
  std::size_t failures = 0;
  for (const junit_case& c : cases) failures += c.ok ? 0 : 1;
  char t[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
  auto secs = [](double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", x);
    return std::string(b);
  };
  std::string o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o += "<testsuites name=\"lockstep check\" tests=\"" + std::to_string(cases.size()) + "\" failures=\"" +
       std::to_string(failures) + "\" errors=\"0\" time=\"" + secs(seconds) + "\">\n";
  o += "  <testsuite name=\"lockstep check\" tests=\"" + std::to_string(cases.size()) + "\" failures=\"" +
       std::to_string(failures) + "\" errors=\"0\" skipped=\"0\" time=\"" + secs(seconds) +
       "\" timestamp=\"" + t + "\">\n";
  for (const junit_case& c : cases) {
    const std::string expected = mc::expectation_name(c.m->expected);
    const bool sampled = sampled_strategy(c.strategy);
    // A complete pass's coverage is got_label()'s words in parentheses
    // ("complete over fair schedules, spurious wake-up bound 1"), a shard's
    // without its number ("shard complete": its part only).
    std::string complete;
    if (c.got.rfind("pass (", 0) == 0 && !sampled && c.got.back() == ')') {
      complete = c.got.substr(6, c.got.size() - 7);
      if (complete.rfind("shard ", 0) == 0) {
        const std::size_t of = complete.find(" of ");
        const std::size_t end = of == std::string::npos ? of : complete.find(' ', of + 4);
        complete = end == std::string::npos ? std::string() : "shard " + complete.substr(end + 1);
      }
      if (complete.rfind("complete", 0) != 0 && complete.rfind("shard complete", 0) != 0) complete.clear();
    }
    const std::string coverage = c.got.rfind("bug: ", 0) == 0 ? "bug found"
                                 : !complete.empty()          ? complete
                                 : sampled                    ? "sampled"
                                                              : "incomplete";
    o += "    <testcase classname=\"" + xml_attr(c.m->group) + "\" name=\"" + xml_attr(c.m->name) +
         "\" time=\"" + secs(c.seconds) + "\">\n";
    o += "      <properties>\n";
    for (const auto& [k, v] : {std::pair<std::string, std::string>{"expected", expected},
                               {"got", c.got},
                               {"coverage", coverage},
                               {"strategy", c.strategy},
                               {"executions", std::to_string(c.executions)}})
      o += "        <property name=\"" + k + "\" value=\"" + xml_attr(v) + "\"/>\n";
    o += "      </properties>\n";
    if (!c.ok)
      o += "      <failure message=\"" + xml_attr("expected " + expected + ", got " + c.got) + "\" type=\"" +
           xml_attr(c.got) + "\">" + xml_cdata(c.report) + "</failure>\n";
    o += "      <system-out>" +
         xml_cdata(std::string(c.m->name) + ": " + c.got + " (expected " + expected + ")" +
                   (sampled && c.got.rfind("pass", 0) == 0 ? ": sampled, not a proof" : "") + "\n" + c.report) +
         "</system-out>\n";
    o += "    </testcase>\n";
  }
  o += "  </testsuite>\n</testsuites>\n";
  return o;
}

junit_case junit_of(const mc::model& m, const mc::result& r, std::string report) {
  return {&m, got_expected(m, r), got_label(m, r), r.strategy, r.executions, r.seconds, std::move(report)};
}


mc::result run_model(const mc::model& m, const check_args& a) { return mc::explore(model_options(m, a), m.body); }


// Refuses at once an output file that write_file could not write: checked
// before the search, so that a bad path does not cost the bug it finds.
void check_output(std::string_view flag, const std::string& path) {
  const std::string what = std::string(flag) + ": cannot write " + path + ": ";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw usage_error{what + errno_text(EISDIR)};
    if (::access(path.c_str(), W_OK) != 0) throw usage_error{what + errno_text(errno)};
    return;
  }
  if (errno != ENOENT) throw usage_error{what + errno_text(errno)};
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (::access(dir.c_str(), W_OK | X_OK) != 0) throw usage_error{what + errno_text(errno)};
}

void check_outputs(const check_args& a) {
  if (a.json_path) check_output("--report-json", *a.json_path);
  if (a.junit_path) check_output("--junit", *a.junit_path);
  if (a.graph_path) check_output("--graph-out", *a.graph_path);
  if (a.timeline_path) check_output("--timeline-out", *a.timeline_path);
  if (a.trace_out) {
    try {
      mc::check_trace_path(*a.trace_out);
    } catch (const std::runtime_error& e) {
      throw usage_error{std::string("--trace-out: ") + e.what()};
    }
  }
}

// The `dot` program on PATH, or "" when Graphviz is not installed.
std::string find_dot() {
  const char* path = std::getenv("PATH");
  std::string_view p = path != nullptr ? path : "/usr/bin:/bin";
  while (!p.empty()) {
    const auto colon = p.find(':');
    std::string dir(p.substr(0, colon));
    p = colon == std::string_view::npos ? std::string_view() : p.substr(colon + 1);
    if (dir.empty()) dir = ".";
    const std::string cand = dir + "/dot";
    struct stat st {};
    if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(cand.c_str(), X_OK) == 0) return cand;
  }
  return {};
}

// Renders F.dot as F.svg with dot; says why not when it cannot (the exit
// code stays the verdict's).
void render_svg(const std::string& dot_path) {
  const bool has_ext = dot_path.size() > 4 && dot_path.substr(dot_path.size() - 4) == ".dot";
  const std::string svg = (has_ext ? dot_path.substr(0, dot_path.size() - 4) : dot_path) + ".svg";
  const std::string dot = find_dot();
  if (dot.empty()) {
    std::fprintf(stderr, "lockstep: Graphviz is not installed (no dot on PATH): wrote %s, not %s\n",
                 dot_path.c_str(), svg.c_str());
    return;
  }
  std::vector<std::string> args{dot, "-Tsvg", dot_path, "-o", svg};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int status = 0;
  if (::posix_spawn(&pid, dot.c_str(), nullptr, nullptr, argv.data(), environ) != 0 ||
      ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "lockstep: dot could not render %s\n", dot_path.c_str());
    return;
  }
  std::fprintf(stderr, "lockstep: wrote %s\n", svg.c_str());
}

void write_pictures(const mc::model& m, const mc::result& r, const check_args& a) {
  const std::string title = std::string(m.name) + ": no bug found";
  if (a.graph_path) {
    write_file(*a.graph_path, r.found ? mc::to_dot(*r.found, m.name) : mc::to_dot(mc::wait_graph{}, title));
    if (a.svg) render_svg(*a.graph_path);
  }
  if (a.timeline_path) {
    write_file(*a.timeline_path,
               r.found ? mc::timeline_dot(r.found->events,
                                          std::string(m.name) + ": " + mc::bug_kind_name(r.found->kind))
                       : mc::timeline_dot({}, title));
    if (a.svg) render_svg(*a.timeline_path);
  }
}

// How `check MODEL` searches a model when no flag says otherwise.
std::string default_search(const mc::model& m) {
  const mc::options o = mc::default_options(m);
  if (o.strategy.k == mc::strategy_spec::kind::dpor) return "dpor: every schedule";
  return std::string(mc::strategy_name(o.strategy.k)) + ": " + thousands(o.max_executions) + " schedules";
}

// `text` in lines of at most `width` columns, each after `indent` spaces.
std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out, line;
  auto flush = [&] {
    if (!line.empty()) out += std::string(indent, ' ') + line + "\n";
    line.clear();
  };
  while (!text.empty()) {
    const std::size_t sp = text.find(' ');
    const std::string_view word = text.substr(0, sp);
    text = sp == std::string_view::npos ? std::string_view() : text.substr(sp + 1);
    if (word.empty()) continue;
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) flush();
    line += (line.empty() ? "" : " ") + std::string(word);
  }
  flush();
  return out;
}

// The list: a header row, then each group under its heading, its models in
// the order their file defines them (each fix after its bug), every line
// within 100 columns.
int cmd_list() {
  constexpr std::size_t kWidth = 100;
  int name_w = 5, expected_w = 8;
  for (const mc::model& m : mc::models()) {
    name_w = std::max(name_w, static_cast<int>(std::strlen(m.name)));
    expected_w = std::max(expected_w, static_cast<int>(mc::expectation_name(m.expected).size()));
  }
  std::printf("  %-*s  %-*s  %s\n", name_w, "model (what it models below)", expected_w, "expected",
              "checked by default");
  std::string_view group;
  for (const mc::model& m : mc::models()) {
    if (group != m.group) {
      group = m.group;
      std::printf("\n%s:\n", m.group);
    }
    std::printf("  %-*s  %-*s  %s\n", name_w, m.name, expected_w, mc::expectation_name(m.expected).c_str(),
                default_search(m).c_str());
    std::fputs(wrap(m.description, 6, kWidth).c_str(), stdout);
  }
  return kOk;
}

// A bug that ends the process (mc::options::on_fatal): the check's files and
// its verdict line, written from the signal handler before the process ends
// (the report itself is on stderr already).
struct fatal_check {
  const mc::model* m = nullptr;
  const check_args* a = nullptr;
  std::chrono::steady_clock::time_point t0;
};
fatal_check g_fatal;

void on_fatal(const mc::result& found) {
  if (g_fatal.m == nullptr) return;
  const mc::model& m = *g_fatal.m;
  const check_args& a = *g_fatal.a;
  mc::result r = found;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_fatal.t0).count();
  try {
    if (a.json_path) write_file(*a.json_path, to_json(m, r, a, "") + "\n");
    if (a.junit_path) write_file(*a.junit_path, junit_xml({junit_of(m, r, r.report())}, r.seconds));
    if (a.trace_out && r.trace) {
      mc::write_trace_file(*r.trace, *a.trace_out);
      if (!a.quiet) std::printf("trace written to %s (lockstep replay %s)\n", a.trace_out->c_str(), a.trace_out->c_str());
    }
    write_pictures(m, r, a);
  } catch (const usage_error& e) {
    print_error(e.what);
  } catch (const std::exception& e) {
    print_error(e.what());
  }
  if (a.quiet)
    std::printf("%s: %s\n", m.name, got_label(m, r).c_str());
  else
    std::printf("%s: %s (expected %s) after %llu %s in %.2fs\n", m.name, got_label(m, r).c_str(),
                mc::expectation_name(m.expected).c_str(), static_cast<unsigned long long>(r.executions),
                noun(r.executions, "execution", "executions"), r.seconds);
  std::fflush(stdout);
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The string value of "key": "..." in the JSON a check wrote ("" if none).
std::string json_string(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\": \"";
  const auto at = json.find(k);
  if (at == std::string::npos) return {};
  const auto end = json.find('"', at + k.size());
  return end == std::string::npos ? std::string() : json.substr(at + k.size(), end - at - k.size());
}

// --all: a model whose bug ends the process is checked by this program in a
// child process (`check MODEL --quiet --report-json FILE` with the other
// options given); its JSON says what it found. `output` gets the child's
// stdout and stderr, `json` its JSON object ("" when it wrote none).
// Where the children's directories go: TMPDIR, or /tmp.
std::string temp_root() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
}

mc::result run_model_in_child(const mc::model& m, const std::vector<std::string_view>& args,
                              std::string& output, std::string& json) {
  std::string dir = temp_root() + "/lockstep-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) throw std::runtime_error("cannot make a temporary directory in " + dir);
  const std::string out_path = dir + "/out", err_path = dir + "/err", json_path = dir + "/report.json";
  std::vector<std::string> argv_s{"lockstep", "check", m.name, "--quiet", "--report-json", json_path};
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--all" || args[i] == "--quiet" || args[i] == "-q") continue;
    if (args[i] == "--report-json" || args[i] == "--junit") {  // this process writes them
      ++i;
      continue;
    }
    argv_s.emplace_back(args[i]);
  }
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int status = 0;
  const int err = ::posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  if (err == 0) ::waitpid(pid, &status, 0);
  mc::result r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  output = read_text(out_path) + read_text(err_path);
  json = read_text(json_path);
  for (const auto& f : {out_path, err_path, json_path}) std::remove(f.c_str());
  ::rmdir(dir.c_str());
  if (err != 0) throw std::runtime_error(std::string("cannot run a child lockstep: ") + std::strerror(err));
  while (!json.empty() && json.back() == '\n') json.pop_back();
  r.strategy = json_string(json, "strategy");
  if (const auto at = json.find("\"executions\": "); at != std::string::npos)
    r.executions = std::strtoull(json.c_str() + at + 14, nullptr, 10);
  r.complete = json.find("\n  \"complete\": true") != std::string::npos;  // the report's, not its shard's
  r.fair_only = json.find("\n  \"fair_only\": true") != std::string::npos;
  if (const auto at = json.find("\n  \"spurious_bound\": "); at != std::string::npos && json[at + 21] != 'n')
    r.spurious_bound = std::atoi(json.c_str() + at + 21);
  const std::string verdict = json_string(json, "verdict");
  if (verdict == "bug") {
    r.found.emplace();
    r.found->kind = mc::parse_bug_kind(json_string(json, "kind")).value_or(mc::bug_kind::crash);
    r.found->message = json_string(json, "message");
  } else if (verdict == "incomplete") {
    r.bound_hit = "a bound";
  } else if (verdict != "pass") {  // no report: it died before writing one
    r.found.emplace();
    r.found->kind = mc::bug_kind::crash;
    r.strategy = "?";
    r.found->message = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) + " without a report"
                                           : "exit code " + std::to_string(WEXITSTATUS(status)) + " without a report";
    output += r.found->message + "\n";
    json.clear();
  }
  return r;
}

// What --all keeps of one model's check: its table row, its report, its
// JSON and its JUnit case.
struct model_outcome {
  bool ok = false;  // it got its expected verdict
  std::string label, strategy, report, json;
  std::uint64_t executions = 0;
  double seconds = 0;
};

model_outcome outcome_of(const mc::model& m, const mc::result& r, const check_args& a, std::string report) {
  return {got_expected(m, r), got_label(m, r), r.strategy, std::move(report), to_json(m, r, a, "    "),
          r.executions, r.seconds};
}

// --all checks a model that is not marked ends_process in a forked child, in
// process as a check of it alone does: a crash the model does not expect
// (a throw from a noexcept destructor, say) then costs that model only, and
// the table, the JSON and the JUnit file still cover every model. The child
// sends back the outcome, or the error that stops the whole run (the same
// exception here); one that dies without sending is a crash, its report
// what it printed.
model_outcome run_model_forked(const mc::model& m, const check_args& a) {
  std::string dir = temp_root() + "/lockstep-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) throw std::runtime_error("cannot make a temporary directory in " + dir);
  const std::string rec_path = dir + "/outcome", err_path = dir + "/err";
  const auto clean = [&] {
    std::remove(rec_path.c_str());
    std::remove(err_path.c_str());
    ::rmdir(dir.c_str());
  };
  std::fflush(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    clean();
    throw std::runtime_error(std::string("cannot fork to check ") + m.name + ": " + std::strerror(err));
  }
  if (pid == 0) {
    if (const int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600); fd >= 0) {
      ::dup2(fd, 2);
      ::close(fd);
    }
    std::string rec;
    const auto put = [&](const std::string& field) { rec += std::to_string(field.size()) + "\n" + field; };
    try {
      const mc::result r = run_model(m, a);
      const model_outcome o = outcome_of(m, r, a, r.report());
      char secs[64];
      std::snprintf(secs, sizeof secs, "%.17g", o.seconds);
      rec = "outcome\n";
      for (const std::string& f : {std::string(o.ok ? "1" : "0"), o.label, o.strategy, o.report, o.json,
                                   std::to_string(o.executions), std::string(secs)})
        put(f);
    } catch (const mc::nondeterministic_body& e) {
      rec = "nondeterministic\n";
      put(e.what());
    } catch (const std::invalid_argument& e) {  // replay_error too
      rec = "invalid\n";
      put(e.what());
    } catch (const std::bad_alloc&) {
      rec = "memory\n";
    } catch (const std::exception& e) {
      rec = "error\n";
      put(e.what());
    }
    std::ofstream(rec_path, std::ios::binary) << rec;
    std::exit(0);  // (exit, not _exit: a profiling build writes its counts at exit)
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string rec = read_text(rec_path), err = read_text(err_path);
  clean();
  std::vector<std::string> fields;
  std::string kind;
  if (const auto nl = rec.find('\n'); nl != std::string::npos) {
    kind = rec.substr(0, nl);
    for (std::size_t at = nl + 1; at < rec.size();) {
      const auto end = rec.find('\n', at);
      if (end == std::string::npos) break;
      const std::size_t n = std::strtoull(rec.c_str() + at, nullptr, 10);
      if (end + 1 + n > rec.size()) break;
      fields.push_back(rec.substr(end + 1, n));
      at = end + 1 + n;
    }
  }
  const std::string what = fields.empty() ? std::string() : fields[0];
  if (kind == "outcome" && fields.size() == 7)
    return {fields[0] == "1", fields[1], fields[2], fields[3], fields[4], std::strtoull(fields[5].c_str(), nullptr, 10),
            std::strtod(fields[6].c_str(), nullptr)};
  if (kind == "nondeterministic") throw mc::nondeterministic_body(what);
  if (kind == "invalid") throw std::invalid_argument(what);
  if (kind == "memory") throw std::bad_alloc();
  if (kind == "error") throw std::runtime_error(what);
  // It died without sending: a crash whose report is what it printed.
  mc::result r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.strategy = "?";
  r.found.emplace();
  r.found->kind = mc::bug_kind::crash;
  const std::string head = std::string(m.name) + ": ";
  if (const auto at = err.find("\n" + head); at != std::string::npos) {  // the report's bug line
    const auto from = at + 1 + head.size(), end = err.find('\n', from);
    auto start = from;
    if (const auto colon = err.find(": ", from); colon != std::string::npos && colon < end) {
      if (const auto k = mc::parse_bug_kind(err.substr(from, colon - from))) r.found->kind = *k;
      start = colon + 2;
    }
    r.found->message = err.substr(start, end == std::string::npos ? std::string::npos : end - start);
  } else {
    r.found->message = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) + " without a report"
                                           : "exit code " + std::to_string(WEXITSTATUS(status)) + " without a report";
  }
  return outcome_of(m, r, a, err.empty() ? r.found->message + "\n" : err);
}

// What --all needs of the environment, checked before the first model (a
// bad value found at the 24th would lose the table and the JUnit file): a
// LOCKSTEP_SEED the sampled models read, and a directory for the children
// that run the models whose bug ends the process.
void check_all_environment(const check_args& a) {
  // (The seed is read only by a sampling search, and not under a replay.)
  using kind = mc::strategy_spec::kind;
  const bool samples = !a.strategy || *a.strategy == kind::random || *a.strategy == kind::pct || *a.strategy == kind::pos;
  const char* replay = std::getenv("LOCKSTEP_REPLAY");
  if (const char* v = std::getenv("LOCKSTEP_SEED");
      v != nullptr && *v != '\0' && !a.seed && samples && (replay == nullptr || *replay == '\0')) {
    std::string why;
    if (!mc::parse_number(v, &why)) {
      std::string shown = std::string(v).substr(0, 40);
      for (char& c : shown)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      throw usage_error{"LOCKSTEP_SEED=" + shown + ": " + why};
    }
  }
  std::string dir = temp_root() + "/lockstep-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr)
    throw usage_error{"cannot make a temporary directory in " + temp_root() + " (TMPDIR): " + errno_text(errno)};
  ::rmdir(dir.c_str());
}

int cmd_check(const std::vector<std::string_view>& args) {
  const check_args a = parse_check(args);
  check_outputs(a);
  if (a.all) check_all_environment(a);
  // After the search an output that cannot be written is reported after the
  // report, which is printed whatever happens: a found bug is never lost.
  std::string failed;
  auto output = [&](auto&& write) {
    try {
      write();
    } catch (const usage_error& e) {
      if (failed.empty()) failed = e.what;
    }
  };
  if (!a.all) {
    const mc::model& m = *mc::find_model(a.model);
    mc::options o = model_options(m, a);
    g_fatal = {&m, &a, std::chrono::steady_clock::now()};
    o.on_fatal = &on_fatal;
    const mc::result r = mc::explore(o, m.body);
    if (a.json_path) output([&] { write_file(*a.json_path, to_json(m, r, a, "") + "\n"); });
    if (a.junit_path) output([&] { write_file(*a.junit_path, junit_xml({junit_of(m, r, r.report())}, r.seconds)); });
    if (a.trace_out && r.found) {
      output([&] {
        try {
          mc::write_trace_file(mc::trace_of(r, o), *a.trace_out);
        } catch (const std::runtime_error& e) {
          throw usage_error{e.what()};
        }
        if (!a.quiet)
          std::printf("trace written to %s (lockstep replay %s [--threads])\n", a.trace_out->c_str(),
                      a.trace_out->c_str());
      });
    } else if (a.trace_out && !a.quiet) {
      std::printf("no bug found: no trace written to %s\n", a.trace_out->c_str());
    }
    output([&] { write_pictures(m, r, a); });
    if (a.quiet) {
      std::printf("%s: %s\n", m.name, got_label(m, r).c_str());
    } else {
      std::fputs(r.report().c_str(), stdout);
      std::printf("%s: %s (expected %s) after %llu %s in %.2fs\n", m.name, got_label(m, r).c_str(),
                  mc::expectation_name(m.expected).c_str(), static_cast<unsigned long long>(r.executions),
                  noun(r.executions, "execution", "executions"), r.seconds);
    }
    if (failed.empty() && !r.checkpoint_error.empty()) failed = r.checkpoint_error;
    if (!failed.empty()) throw usage_error{failed};
    return r.found ? kBug : kOk;
  }
  int name_w = 5, expected_w = 8;
  for (const mc::model& m : mc::models()) {
    name_w = std::max(name_w, static_cast<int>(std::strlen(m.name)));
    expected_w = std::max(expected_w, static_cast<int>(mc::expectation_name(m.expected).size()));
  }
  std::printf("%-*s  %-*s  %-42s %10s %8s\n", name_w, "model", expected_w, "expected", "got", "executions", "time");
  const auto t_all = std::chrono::steady_clock::now();
  int missed = 0;
  std::string json = "{\n  \"results\": [\n";
  std::string reports;
  std::vector<junit_case> cases;
  bool first = true;
  for (const mc::model& m : mc::models()) {
    model_outcome o;
    if (m.settings.ends_process) {
      std::string child_output, child_json;
      const mc::result r = run_model_in_child(m, args, child_output, child_json);
      o = outcome_of(m, r, a, child_output);
      if (!child_json.empty()) {
        o.json.clear();
        for (char c : child_json) o.json += c == '\n' ? std::string("\n    ") : std::string(1, c);
      }
    } else {
      o = run_model_forked(m, a);
    }
    missed += o.ok ? 0 : 1;
    std::printf("%-*s  %-*s  %-42s %10llu %7.2fs%s\n", name_w, m.name, expected_w,
                mc::expectation_name(m.expected).c_str(), o.label.c_str(),
                static_cast<unsigned long long>(o.executions), o.seconds, o.ok ? "" : "  <-- MISSED");
    std::fflush(stdout);
    if (!o.ok) reports += o.report;
    if (a.junit_path) cases.push_back({&m, o.ok, o.label, o.strategy, o.executions, o.seconds, o.report});
    json += std::string(first ? "" : ",\n") + "    " + o.json;
    first = false;
  }
  json += "\n  ],\n  \"ok\": " + std::string(missed == 0 ? "true" : "false") + "\n}\n";
  if (a.json_path) output([&] { write_file(*a.json_path, json); });
  if (a.junit_path) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
    output([&] { write_file(*a.junit_path, junit_xml(cases, secs)); });
  }
  if (!a.quiet && !reports.empty()) std::printf("\n%s", reports.c_str());
  const std::size_t total = mc::models().size();
  std::printf("%zu models: %zu got their expected verdict, %d missed\n", total,
              total - static_cast<std::size_t>(missed), missed);
  if (!failed.empty()) throw usage_error{failed};
  return missed == 0 ? kOk : kBug;
}

// The registered model a trace file names.
const mc::model& traced_model(const mc::trace& t, const std::string& path) {
  const mc::model* m = mc::find_model(t.model);
  if (m == nullptr)
    throw usage_error{path + ": model '" + t.model + "' is not registered in this lockstep (lockstep list)"};
  return *m;
}

// The trace replayed on fibers (strictly when it records a bug).
mc::result replay_on_fibers(const mc::trace& t, const mc::model& m, const std::string& path,
                            void (*on_fatal)(const mc::result&) = nullptr) {
  mc::options o;
  o.on_fatal = on_fatal;
  o.name = m.name;
  o.trace_dir = "-";
  // The model's watchdog limit, as its check had (a step it lets run long
  // would be ended at the default's 10 s and replay as non_termination).
  if (m.settings.step_timeout.count() != 0) o.step_timeout = m.settings.step_timeout;
  // The report's "run:" line: the trace file is the replay.
  std::string shown = path;
  if (shown.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-+=,:") !=
      std::string::npos) {  // quoted for a POSIX shell
    shown = "'";
    for (char c : path) shown += c == '\'' ? std::string("'\\''") : std::string(1, c);
    shown += "'";
  }
  o.replay_command = "lockstep replay " + shown;
  return mc::explore(mc::replay_options(t, o), m.body);
}

// lockstep replay TRACE [--threads] [--runs N] [--quiet]
int cmd_replay(const std::vector<std::string_view>& args) {
  std::string path;
  bool threads = false, quiet = false;
  std::uint64_t runs = 1;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--threads") {
      threads = true;
    } else if (arg == "--runs") {
      if (i + 1 >= args.size()) throw usage_error{"--runs needs a value"};
      runs = parse_u64("--runs", args[++i]);
      if (runs == 0) throw usage_error{"--runs must be positive"};
    } else if (arg == "--quiet" || arg == "-q") {
      quiet = true;
    } else if (!arg.empty() && arg[0] == '-') {
      throw usage_error{"unknown option '" + std::string(arg) + "' for replay (see lockstep help replay)"};
    } else if (path.empty()) {
      path = std::string(arg);
    } else {
      throw usage_error{"replay takes one trace file, got '" + path + "' and '" + std::string(arg) + "'"};
    }
  }
  if (path.empty()) throw usage_error{"replay needs a trace file (written by check --trace-out)"};
  if (runs != 1 && !threads) throw usage_error{"--runs counts replays on OS threads: use it with --threads"};
  const mc::trace t = mc::read_trace_file(path);  // trace_error: exit 2
  const mc::model* m = &traced_model(t, path);
  const std::string want = t.kind ? std::string("bug: ") + mc::bug_kind_name(*t.kind) : "pass";
  if (!threads) {
    const mc::result r = replay_on_fibers(t, *m, path);  // replay_error: exit 2
    const std::string mismatch = mc::verdict_mismatch(t, r);
    if (!quiet) std::fputs(r.report().c_str(), stdout);
    if (!mismatch.empty()) throw usage_error{path + ": " + mismatch};
    std::printf("%s: replayed on fibers: %s (as recorded, %zu %s)\n", path.c_str(), want.c_str(),
                t.events.size(), noun(t.events.size(), "step", "steps"));
    return r.found ? kBug : kOk;
  }
  if (t.kind == mc::bug_kind::crash) {  // said first: the crash ends this process, as it did the recorded one
    std::fprintf(stderr, "lockstep: %s: the recorded bug is a crash (%s); on OS threads it happens for real "
                 "and ends this process with its signal\n", path.c_str(), t.message.substr(0, 80).c_str());
    std::fflush(stderr);
  }
  std::uint64_t same = 0;
  for (std::uint64_t i = 0; i < runs; ++i) {
    const mc::thread_run run = mc::replay_on_threads(t, m->body);
    if (!run.divergence.empty()) throw usage_error{path + ": " + run.divergence};
    const bool reproduced = run.kind == t.kind;
    if (!quiet && (i == 0 || !reproduced))
      std::printf("run %llu: %s%s%s\n%s", static_cast<unsigned long long>(i + 1),
                  run.kind ? mc::bug_kind_name(*run.kind) : "pass", run.message.empty() ? "" : ": ",
                  run.message.c_str(), run.notes.c_str());
    same += reproduced ? 1 : 0;
  }
  std::printf("%s: replayed on OS threads %llu %s: %s reproduced %llu %s\n", path.c_str(),
              static_cast<unsigned long long>(runs), noun(runs, "time", "times"), want.c_str(),
              static_cast<unsigned long long>(same), noun(same, "time", "times"));
  if (same != runs) throw usage_error{path + ": the recorded verdict did not reproduce on every run"};
  return t.kind ? kBug : kOk;
}

// The DOT text of a replayed trace's failure (or of no bug).
std::string graph_dot(const mc::result& r, const char* model, bool timeline) {
  const std::string title = std::string(model) + ": no bug";
  return timeline ? (r.found ? mc::timeline_dot(r.found->events, std::string(model) + ": " + mc::bug_kind_name(r.found->kind))
                             : mc::timeline_dot({}, title))
                  : (r.found ? mc::to_dot(*r.found, model) : mc::to_dot(mc::wait_graph{}, title));
}

// A trace whose bug ends the process (a crash, a stack overflow, a step the
// watchdog ends) ends graph's replay too: its picture is written from there
// (mc::options::on_fatal), before the process ends with the signal.
struct fatal_graph {
  const char* model = nullptr;
  const std::string* out = nullptr;
  bool timeline = false, svg = false;
};
fatal_graph g_graph;

// graph's output: on stdout, or in the file (rendered too with --svg).
void emit_dot(const std::string& dot, const std::string& out, bool svg) {
  if (out.empty()) {
    std::fputs(dot.c_str(), stdout);
    return;
  }
  write_file(out, dot);
  if (svg) render_svg(out);
}

void on_graph_fatal(const mc::result& found) {
  if (g_graph.model == nullptr) return;
  try {
    emit_dot(graph_dot(found, g_graph.model, g_graph.timeline), *g_graph.out, g_graph.svg);
  } catch (const usage_error& e) {
    print_error(e.what);
  } catch (const std::exception& e) {
    print_error(e.what());
  }
  std::fflush(stdout);
}

// lockstep graph TRACE [--timeline] [-o F.dot [--svg]]
int cmd_graph(const std::vector<std::string_view>& args) {
  std::string path, out;
  bool timeline = false, svg = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--timeline") {
      timeline = true;
    } else if (arg == "--svg") {
      svg = true;
    } else if (arg == "-o" || arg == "--out") {
      if (i + 1 >= args.size() || args[i + 1].empty()) throw usage_error{std::string(arg) + " needs a file name"};
      out = std::string(args[++i]);
    } else if (!arg.empty() && arg[0] == '-') {
      throw usage_error{"unknown option '" + std::string(arg) + "' for graph (see lockstep help graph)"};
    } else if (path.empty()) {
      path = std::string(arg);
    } else {
      throw usage_error{"graph takes one trace file, got '" + path + "' and '" + std::string(arg) + "'"};
    }
  }
  if (path.empty()) throw usage_error{"graph needs a trace file (written by check --trace-out)"};
  if (svg && out.empty()) throw usage_error{"--svg renders the file given with -o F.dot"};
  if (!out.empty()) check_output("-o", out);
  const mc::trace t = mc::read_trace_file(path);
  const mc::model* m = &traced_model(t, path);
  g_graph = {m->name, &out, timeline, svg};
  const mc::result r = replay_on_fibers(t, *m, path, &on_graph_fatal);
  g_graph = {};
  if (const std::string mismatch = mc::verdict_mismatch(t, r); !mismatch.empty())
    throw usage_error{path + ": " + mismatch};
  emit_dot(graph_dot(r, m->name, timeline), out, svg);
  return kOk;
}

// lockstep stress MODEL [--runs N] [--timeout MS] [--quiet]
int cmd_stress(const std::vector<std::string_view>& args) {
  std::string name;
  std::uint64_t runs = 1000;
  mc::thread_run_options ro;
  bool quiet = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) throw usage_error{std::string(arg) + " needs a value"};
      return args[++i];
    };
    if (arg == "--runs") {
      runs = parse_u64("--runs", value());
      if (runs == 0) throw usage_error{"--runs must be positive"};
    } else if (arg == "--timeout") {
      const std::string_view v = value();
      std::string why;  // milliseconds, as many as a duration may have
      const auto ms = mc::parse_number(v, &why, static_cast<std::uint64_t>(mc::max_duration.count()));
      if (!ms) throw usage_error{"--timeout: '" + std::string(v) + "' is " + why + " (milliseconds)"};
      if (*ms == 0) throw usage_error{"--timeout must be positive"};
      ro.timeout = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(*ms));
    } else if (arg == "--quiet" || arg == "-q") {
      quiet = true;
    } else if (!arg.empty() && arg[0] == '-') {
      throw usage_error{"unknown option '" + std::string(arg) + "' for stress (see lockstep help stress)"};
    } else if (name.empty()) {
      name = std::string(arg);
    } else {
      throw usage_error{"stress takes one model, got '" + name + "' and '" + std::string(arg) + "'"};
    }
  }
  if (name.empty()) throw usage_error{"stress needs a model name (see lockstep list)"};
  const mc::model* m = mc::find_model(name);
  if (m == nullptr) throw usage_error{"unknown model '" + name + "' (lockstep list shows the registered ones)"};
  const mc::stress_tally t = mc::stress(m->body, runs, ro);
  if (!quiet) {
    std::printf("%s on OS threads, %llu free %s in %.2fs:\n", m->name, static_cast<unsigned long long>(runs),
                noun(runs, "run", "runs"), t.seconds);
    for (const auto& [v, n] : t.verdicts)
      std::printf("  %-24s %8llu %-4s  %6.2f%%\n", v.c_str(), static_cast<unsigned long long>(n), noun(n, "run", "runs"),
                  100.0 * static_cast<double>(n) / static_cast<double>(runs));
    if (!t.first.empty()) std::printf("  first: %s\n", t.first.c_str());
  }
  std::printf("%s: the bug showed up in %llu of %llu free %s (expected %s)\n", m->name,
              static_cast<unsigned long long>(t.bugs), static_cast<unsigned long long>(runs), noun(runs, "run", "runs"),
              mc::expectation_name(m->expected).c_str());
  return t.bugs > 0 ? kBug : kOk;
}

}  // namespace

namespace {

int run(const std::vector<std::string_view>& args) {
  try {
    if (args.empty()) throw usage_error{"no command given (try lockstep help)"};
    const std::string_view cmd = args[0];
    std::vector<std::string_view> rest(args.begin() + 1, args.end());
    const bool wants_help = !rest.empty() && (rest[0] == "--help" || rest[0] == "-h");
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
      const std::string_view topic = rest.empty() ? "" : rest[0];
      if (topic == "check") std::fputs(kCheckHelp, stdout);
      else if (topic == "replay") std::fputs(kReplayHelp, stdout);
      else if (topic == "stress") std::fputs(kStressHelp, stdout);
      else if (topic == "graph") std::fputs(kGraphHelp, stdout);
      else if (topic == "list") std::fputs(kListHelp, stdout);
      else if (topic == "merge") std::fputs(kMergeHelp, stdout);
      else if (topic == "lincheck") std::fputs(kLincheckHelp, stdout);
      else if (topic.empty()) std::fputs(kMainHelp, stdout);
      else throw usage_error{"no help for unknown command '" + std::string(topic) + "'"};
      return kOk;
    }
    if (cmd == "--version") {
      std::printf("lockstep %s\n", LOCKSTEP_CLI_VERSION);
      return kOk;
    }
    if (cmd == "list") {
      if (wants_help) return std::fputs(kListHelp, stdout), kOk;
      if (!rest.empty()) throw usage_error{"list takes no arguments, got '" + std::string(rest[0]) + "'"};
      return cmd_list();
    }
    if (cmd == "check") {
      for (auto r : rest)
        if (r == "--help" || r == "-h") return std::fputs(kCheckHelp, stdout), kOk;
      return cmd_check(rest);
    }
    if (cmd == "replay") {
      for (auto r : rest)
        if (r == "--help" || r == "-h") return std::fputs(kReplayHelp, stdout), kOk;
      return cmd_replay(rest);
    }
    if (cmd == "graph") {
      for (auto r : rest)
        if (r == "--help" || r == "-h") return std::fputs(kGraphHelp, stdout), kOk;
      return cmd_graph(rest);
    }
    if (cmd == "merge") {
      for (auto r : rest)
        if (r == "--help" || r == "-h") return std::fputs(kMergeHelp, stdout), kOk;
      return cmd_merge(rest);
    }
    if (cmd == "lincheck") {
      for (auto r : rest)
        if (r == "--help" || r == "-h") return std::fputs(kLincheckHelp, stdout), kOk;
      return cmd_lincheck(rest);
    }
    if (cmd == "stress") {
      for (auto r : rest)
        if (r == "--help" || r == "-h") return std::fputs(kStressHelp, stdout), kOk;
      return cmd_stress(rest);
    }
    throw usage_error{"unknown command '" + std::string(cmd) + "' (try lockstep help)"};
  } catch (const usage_error& e) {
    print_error(e.what);
    return kUsage;
  } catch (const mc::replay_error& e) {
    print_error(e.what());
    return kUsage;
  } catch (const std::invalid_argument& e) {  // a damaged checkpoint, an impossible shard
    print_error(e.what());
    return kUsage;
  } catch (const mc::nondeterministic_body& e) {  // the model's fault
    print_error(e.what());
    return kUsage;
  } catch (const std::bad_alloc&) {  // the checker's own memory (checked code's is a bug it reports)
    print_error("out of memory: fewer --jobs or a smaller --stack-size need less");
    return kUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lockstep: internal error (a bug in lockstep itself): %s\n", e.what());
    return kInternal;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int code = run(std::vector<std::string_view>(argv + 1, argv + argc));
  // Output that did not reach stdout (a full disk, a closed pipe) is an
  // error, whatever the command found.
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    const int err = errno;
    std::fprintf(stderr, "lockstep: cannot write to standard output%s%s\n", err != 0 ? ": " : "",
                 err != 0 ? errno_text(err).c_str() : "");
    return kUsage;
  }
  return code;
}
