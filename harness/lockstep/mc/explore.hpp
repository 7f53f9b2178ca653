// lockstep/mc/explore.hpp — run a body under the model checker.
//
//   auto r = lockstep::mc::explore(lockstep::mc::dfs(), [] {
//     ... mc::thread, mc::mutex, mc::atomic, LOCKSTEP_ASSERT ...
//   });
//   EXPECT_TRUE(r.ok()) << r.report();
//
// explore() runs the body many times (executions), each time under a schedule
// the strategy picks, until it finds a bug, the strategy is exhausted, or a
// bound is hit. The body is thread 0 of every execution; it must be
// re-runnable (build all shared state inside it).
//
// Environment: LOCKSTEP_SEED overrides the seed of a random strategy;
// LOCKSTEP_REPLAY=<string> replaces the strategy by a replay of that schedule
// (the string every bug report ends with); LOCKSTEP_TRACE=<file> by a replay
// of a trace file (every event checked), on OS threads when
// LOCKSTEP_TRACE_THREADS=1 is set too. A trace file written inside a
// GoogleTest test replays only in that test (and only in the explore() of
// its name): another explore() says so in one line on stderr and runs as
// usual. Set options.honour_env = false to ignore all of them.
//
// Trace files: when it finds a bug, explore() writes the bug's trace file as
// its last step if asked to (options.trace_dir names a directory, or
// LOCKSTEP_TRACE_DIR is set), and r.report() names it and says how to replay
// it; r.write_trace() writes it on demand. report() itself does no I/O.
//
// explore() is not reentrant and runs on the calling OS thread; different OS
// threads may explore concurrently.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <cstdint>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lockstep/mc/hooks.hpp"

namespace lockstep::mc {

// The closed set of bugs the checker reports.
enum class bug_kind : std::uint8_t {
  assertion,           // LOCKSTEP_ASSERT failed
  deadlock,            // a wait-for cycle, or no thread can ever run again
  misuse,              // a primitive used against its contract
  uncaught_exception,  // a thread ended with an exception
  leaked_thread,       // a thread never joined nor detached
  non_termination,     // an execution exceeded the step bound
  livelock,            // threads keep stepping, none makes progress (fair schedules)
  busy_wait,           // a thread spins on shared state without relax()
  starvation,          // a waiter bypassed more than the bound allows
  lost_wakeup,         // a thread blocked forever that nobody left can wake
  data_race,           // two unordered accesses to plain memory, one a write
  crash,               // a fatal signal in checked code: SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL
  stack_overflow,      // a checked thread ran past the end of its stack (options::stack_size)
};
const char* bug_kind_name(bug_kind) noexcept;
// Parses the names bug_kind_name() prints; nullopt if unknown.
std::optional<bug_kind> parse_bug_kind(std::string_view) noexcept;

// How to pick schedules. Build one with random(), pct(), dfs() or replay().
// The memory model atomic operations follow (see lockstep/mc/atomic.hpp).
//   rc11  the C++ memory model as RC11 repairs it (Lahav et al., PLDI 2017):
//         memory_order arguments count; a load may read any store coherence
//         allows, and which one is a choice the strategy explores; only a
//         release read by an acquire (and fences, spawn, join, locks)
//         orders threads for the data-race detector.
//   sc    every atomic operation is sequentially consistent whatever its
//         memory_order says: one total order, the schedule's.
enum class memory_model : std::uint8_t { sc, rc11 };
const char* memory_model_name(memory_model) noexcept;
// Parses the names memory_model_name() prints.
std::optional<memory_model> parse_memory_model(std::string_view) noexcept;

struct strategy_spec {
  enum class kind : std::uint8_t { random, dfs, replay, pct, dpor, pos, delay };
  kind k = kind::dfs;
  std::uint64_t seed = 1;
  std::string schedule{};  // replay only
  unsigned depth = 3;    // pct only: the bug depth it aims at
  bool lenient = false;  // replay only: see replay()
  int max_delays = -1;   // delay only: the last delay bound searched (-1: none)
  bool source = false;   // dpor only: source sets instead of wakeup trees (see source_dpor())
};
// Uniformly random choices; execution i uses a seed derived from (seed, i).
inline strategy_spec random(std::uint64_t seed = 1) { return {strategy_spec::kind::random, seed, {}}; }
// Exhaustive depth-first search over all schedules (up to the bounds).
inline strategy_spec dfs() { return {strategy_spec::kind::dfs, 1, {}}; }
// Exhaustive like dfs, but explores one execution per class of equivalent
// executions (those that differ only in the order of independent steps):
// optimal DPOR with wakeup trees and sleep sets (Abdulla, Aronis, Jonsson,
// Sagonas, POPL 2014): no execution is started that a sleep set then
// stops. Under a preemption bound it is source-DPOR (below).
inline strategy_spec dpor() { return {strategy_spec::kind::dpor, 1, {}, 3}; }
// The same search with source sets instead of wakeup trees (Algorithm 1 of
// the same paper): less bookkeeping per race, but it may start executions
// that sleep sets then abandon (result::abandoned).
inline strategy_spec source_dpor() {
  strategy_spec s = dpor();
  s.source = true;
  return s;
}
// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random
// thread priorities plus depth-1 priority change points; finds a bug of depth
// `depth` with probability at least 1/(threads * steps^(depth-1)) per
// execution. Seeded like random().
inline strategy_spec pct(std::uint64_t seed = 1, unsigned depth = 3) {
  return {strategy_spec::kind::pct, seed, {}, depth};
}
// Partial order sampling (Yuan, Yang, Gu, CAV 2018): every thread's next
// step has a random priority and the highest runs; the step that runs gives
// its thread's next step, and every waiting step that races with it (same
// object, one writes), fresh priorities. It samples the orders of racing
// steps, not of whole interleavings, close to uniformly, and found more of
// SCTBench's bugs than PCT. Seeded like random().
inline strategy_spec pos(std::uint64_t seed = 1) { return {strategy_spec::kind::pos, seed, {}}; }
// Iterative delay bounding (Emmi, Qadeer, Rakamaric, POPL 2011): a
// deterministic round-robin scheduler (the running thread goes on until it
// blocks, yields or ends; then the next thread by id) that may be delayed —
// a delay skips the thread it would run next. Every schedule with at most 0
// delays, then at most 1, ... (up to `max_delays`; -1: until a bound cuts
// nothing, which makes the search complete). The first bug found has the
// fewest delays; result::preemption_bound is the delay bound it was found
// at. Thomson et al. (PPoPP 2014) found it the strongest systematic
// technique on SCTBench.
inline strategy_spec delay_bounding(int max_delays = -1) {
  strategy_spec s{strategy_spec::kind::delay, 1, {}};
  s.max_delays = max_delays;
  return s;
}
// Sampling strategies run independent executions (random, pct, pos): their
// verdict of pass is a sample, never a proof.
constexpr bool is_sampling(strategy_spec::kind k) noexcept {
  return k == strategy_spec::kind::random || k == strategy_spec::kind::pct || k == strategy_spec::kind::pos;
}
// Exactly one execution following a recorded schedule (a replay string).
// With `lenient`, a recorded choice that cannot be taken is replaced by the
// nearest one that can (and choices past the end continue the running
// thread): the schedule is a guide, not a contract (shrinking uses it).
inline strategy_spec replay(std::string schedule, bool lenient = false) {
  strategy_spec s{strategy_spec::kind::replay, 1, std::move(schedule)};
  s.lenient = lenient;
  return s;
}
const char* strategy_name(strategy_spec::kind) noexcept;
// The name reports give a search: strategy_name, or "source-dpor" for dpor
// with source sets (a different tree: shards of the two do not combine).
const char* strategy_label(const strategy_spec&) noexcept;
// Parses the names strategy_name() prints; nullopt if unknown.
std::optional<strategy_spec::kind> parse_strategy(std::string_view) noexcept;

// One event of an execution, as reports and trace files show it.
struct trace_event {
  std::uint64_t step = 0;      // 1-based position in the execution
  std::uint32_t thread = 0;    // checked thread id (0: the body)
  op o = op::start;
  std::uint32_t object = 0;    // per-execution object id (0: none)
  std::uint64_t value = 0;     // the value the operation produced (see op)
  std::string object_name;     // a label for reports ("" when none)
  std::string file;            // source location of the operation
  std::uint32_t line = 0;
  // Under the memory model, a load, read-modify-write or CAS: the step whose
  // store it read (0: the value from before the execution).
  std::uint64_t rf = 0;

  friend bool operator==(const trace_event&, const trace_event&) = default;
};

// The wait-for graph at a failure: threads and resources as nodes; a thread
// waits for a resource, a resource is held by a thread.
struct wait_graph {
  struct node {
    std::string id;      // stable and DOT-safe: "t1", "r3"
    std::string label;   // "thread 1", "mutex A"
    bool thread = false;
    std::string detail;  // e.g. "blocked at models/classic.cpp:57"
    friend bool operator==(const node&, const node&) = default;
  };
  struct edge {
    std::size_t from = 0;  // indexes into nodes
    std::size_t to = 0;
    bool waits = false;    // thread -> resource it waits for; else resource -> holder
    bool in_cycle = false;
    std::string label;     // e.g. the source location
    friend bool operator==(const edge&, const edge&) = default;
  };
  std::vector<node> nodes;
  std::vector<edge> edges;
  friend bool operator==(const wait_graph&, const wait_graph&) = default;
};

struct bug;
struct result;

// The largest options::max_steps (explore() refuses more).
inline constexpr std::uint64_t kMaxStepsBound = 1000000;
// The smallest options::stack_size.
inline constexpr std::size_t kMinStackSize = 16 * 1024;
// The most options::jobs may be.
inline constexpr unsigned kMaxJobs = 1024;

struct options {
  strategy_spec strategy = dfs();
  // Bound: executions. 0 means the strategy's default (random: 1000,
  // dfs: 1,000,000). Hitting it ends an exhaustive search incomplete.
  std::uint64_t max_executions = 0;
  // Bound: scheduling points in one execution. Hitting it is a
  // non_termination bug (usually a spin loop that never yields, or a thread
  // that waits for something that never comes). At most kMaxStepsBound
  // (an execution keeps a record of each step: about 1 KB).
  std::uint64_t max_steps = 20000;
  // dfs and dpor: at most this many preemptions per execution (a preemption is a
  // switch away from a thread that could have continued; switching from a
  // blocked, finished or yielding thread is free). -1: no bound. A bounded
  // search that covered every schedule within the bound is not `complete`.
  int preemption_bound = -1;
  // dfs and dpor: iterative context bounding: search with 0 preemptions, then 1,
  // 2, ... (up to preemption_bound, if set), so the first bug found has the
  // fewest preemptions; result::preemption_bound says at which bound.
  bool iterative_bounding = false;
  // Spurious wake-ups a condition-variable wait may take, per thread and
  // execution: each wait while some are left is a choice (woken spuriously or
  // not), so a wait without a predicate loop is caught. 0 turns them off.
  std::uint32_t spurious_wakeups = 1;
  // The memory model (see mc::memory_model). Code that uses only seq_cst
  // explores the same executions under both.
  mc::memory_model memory_model = mc::memory_model::rc11;
  // rc11: spurious failures a compare_exchange_weak may take, per thread and
  // execution: each weak CAS that would succeed while some are left is a
  // choice (fails or not). Off by default: inside the usual retry loop a
  // spurious failure is one more turn of the loop, which multiplies the
  // executions (a semaphore's two-thread test: 15 times) and finds nothing
  // new; set it to 1 to check code that uses compare_exchange_weak outside
  // a loop (where a spurious failure must be harmless).
  std::uint32_t spurious_cas_failures = 0;
  // Fair scheduling (CHESS; Musuvathi & Qadeer, PLDI 2008). A thread that
  // yields — relax() / this_thread::yield(), a failed try_lock, a timed wait
  // that expired — lets every thread that was
  // runnable and has not run since its previous yield go first. Spin-then-
  // yield loops then terminate in every schedule, and the schedules where a
  // spinner starves the thread it waits for are not explored (they are not
  // bugs). dfs and dpor explore every fair schedule; with dpor the fairness
  // constraint acts like a thread being disabled (see README, "Liveness and
  // races"). Turning it off restores the unconstrained search; livelocks are
  // then reported as non_termination.
  bool fair_scheduling = true;
  // Bound: steps without progress (LOCKSTEP_PROGRESS() or a thread finishing)
  // after which a fair execution whose recent steps repeat with a period is a
  // `livelock`. Raise it when a model legitimately works longer between
  // progress marks.
  std::uint64_t livelock_window = 1000;
  // Bound: consecutive read-only steps (loads, failed compare-exchanges) of
  // one thread without a yield; more is `busy_wait` (a spin loop without
  // relax()).
  std::uint32_t busy_wait_bound = 100;
  // Bound (bounded bypass): how often other threads may acquire a lock while
  // a thread is blocked waiting for it; more is `starvation`.
  std::uint32_t bypass_bound = 2;
  // Bound: wall-clock time for the whole exploration; zero means none.
  std::chrono::milliseconds time_budget{0};
  // Name shown in reports (a model or test name).
  std::string name{};
  // How to re-run this check, printed after the replay string, e.g.
  // "lockstep check deadlock_abba --replay {}" ({} is the replay string).
  std::string replay_command{};
  // How to replay the bug's trace file, printed after its name ({} is the
  // file), e.g. "lockstep replay {} [--threads]": the lockstep tool sets it
  // for the models it registers. Empty: LOCKSTEP_TRACE={} and this program.
  std::string trace_replay_command{};
  // Read LOCKSTEP_SEED and LOCKSTEP_REPLAY.
  bool honour_env = true;
  // Stack size of each checked thread's fiber (at least kMinStackSize, 16 KiB). A thread
  // that runs past it is a `stack_overflow` bug; below the stack lies a
  // guard region of 1 MiB, and code built with -fstack-clash-protection
  // (the lockstep dependency adds it) probes every page of a larger frame.
  std::size_t stack_size = 256 * 1024;
  // Watchdog: one step (the code a thread runs between two scheduling
  // points) that runs longer than this is a `non_termination` bug: a loop
  // that never reaches a scheduling point (it spins on a std::atomic or a
  // plain variable instead of an mc:: one), or a real blocking call. A step
  // is ended when its OS thread has used this much CPU time in it, or when
  // this much wall-clock time has passed and the thread is blocked in the OS
  // (a real lock, sleep or read); a thread merely starved of CPU is never
  // ended. Zero means the default: 10 s, or the time budget when that is
  // shorter (but at least 1 s); a negative value turns the watchdog off. The step cannot be
  // interrupted safely, so the report is printed and the process ends
  // (exit code 124), like a crash (see on_fatal).
  std::chrono::milliseconds step_timeout{0};
  // A bug that ends the process — a `crash`, a `stack_overflow`, a step the
  // watchdog ends — cannot be returned: explore() prints its report on
  // stderr (the replay string first-hand, in a signal handler), writes its
  // trace file when asked to (as explore() would: see trace_dir) and that is
  // safe, calls on_fatal if set, and ends the process with the signal (or
  // exit code 124). on_fatal gets the result so far (found, name, strategy,
  // trace), on the failing thread, in a signal handler: for tools that write
  // files of their own (the CLI's --trace-out, --report-json). It must not
  // throw.
  void (*on_fatal)(const result&) = nullptr;
  // A live progress line on stderr (executions, executions/s, and for an
  // exhaustive search an estimate of the fraction done), refreshed every
  // second once the run has taken a second, erased at the end. The CLI turns
  // it on when stderr is a terminal and --quiet is not given.
  bool progress = false;
  // random: run each execution first on the engine's lean path, which keeps
  // only what a passing execution needs (no object store, no wait-for
  // graph, no memory-model views). The lean path takes seq_cst atomics, native
  // mutexes, spawn, join, yields, value choices and plain memory
  // (race-checked with clocks that order no more than a full execution's,
  // so a race it finds only stops it); anything else (a wait, a condition
  // variable, a weaker atomic) or any bug sends
  // the execution back to its first step, run again in full with the same
  // seed: the schedules, verdicts and reports are the same either way, only
  // faster for the models the lean path takes. A search whose executions
  // keep leaving it stops trying it. Off: every execution runs in full.
  bool lean_sampling = true;
  // Worker OS threads (0: one per core). random and pct give the same result
  // for a seed whatever the number (execution i always gets the schedule
  // seeded by (seed, i), and the reported bug is the one with the smallest
  // i); dfs and dpor split their tree between the workers (dfs exploring
  // the same set of executions whatever the number), and the bug reported is
  // the first in a fixed order of the executions (subtree by subtree, see
  // split_depth), so it and the counts are the same on any number of jobs
  // from 2 on. Iterative bounding, dpor with a preemption bound, delay
  // bounding, checkpointed searches and replay run on one. With more than one job the body
  // runs on several OS threads at once: it must not share unsynchronised
  // state outside itself. At most kMaxJobs; a worker that cannot start
  // (no memory for its thread) is done without.
  unsigned jobs = 1;
  // Sharding across processes or machines: this run explores only shard
  // `shard_index` of `shard_count`; the shards together explore exactly what
  // one unsharded run does, whatever each shard's job count (random and pct:
  // executions i with i % count == index; dfs, dpor: subtrees by their first
  // choices). A shard is never `complete` (see result::shard_complete);
  // `lockstep merge` combines shard reports into one verdict, and
  // lockstep/mc/gtest.hpp spreads a check over GoogleTest instances, one a
  // shard. Bounded and iterative searches do not shard.
  unsigned shard_index = 0;
  unsigned shard_count = 1;
  // dfs and dpor on several jobs or shards: how many choices deep (dfs) or
  // branching decisions deep (dpor) the tree splits into the subtrees that
  // jobs and shards share out (0: the default, 8 for dfs and 7 for dpor).
  // Deeper gives more, smaller subtrees. Every shard of one search must use
  // the same (nothing checks it: shards that differ overlap and leave
  // gaps). Tests set it small, so that the split falls inside small
  // programs.
  std::size_t split_depth = 0;
  // dfs and dpor: keep the search position in this file (rewritten every
  // second and when a bound stops the search; removed when the search
  // completes or finds a bug). If it exists when explore() starts, the search
  // resumes from it, so an interrupted exhaustive run loses at most a second.
  // A file from another model or strategy, or a damaged one, is refused
  // (std::invalid_argument naming the line). Runs on one job.
  std::string checkpoint{};
  // Shrink a failing schedule before reporting it: fewer preemptions first,
  // then fewer steps, keeping the bug kind (result::shrink says what it did).
  bool shrink = true;
  // Replay checks: the events a replay must produce, in order (from a trace
  // file). The first step whose thread, operation, object or value differs
  // stops the replay with a replay_error naming the step, the recorded event
  // and the actual one. Not owned; must outlive explore().
  const std::vector<trace_event>* expect_events = nullptr;
  // For tools that test the checker itself (the differential tests): with
  // keep_going a search runs on after a bug (result::found keeps the first
  // one found), and on_execution, when set, is called after every counted
  // execution with its bug (nullptr when none), on the OS thread that ran it
  // (one per job). Sampling strategies (random, pct, pos) call it after
  // every execution they run: without keep_going, on several jobs, that
  // includes the few that ran past the first bug and do not count.
  // With keep_going, whatever the strategy, a deadlock cycle, a data race
  // or a starvation found inside a step is recorded and the execution goes
  // on (the cycle's threads block for good) until nothing can run, so every
  // thread's next step is known to dpor; the execution's bug is the first
  // one recorded, with the kinds of the later ones (bug::later).
  bool keep_going = false;
  std::function<void(const bug*)> on_execution{};
  // With skip_abandoned, on_execution is not called for an execution dpor
  // abandoned (its sleep set blocked it: every way on from there is
  // equivalent to an execution explored elsewhere; it ran on to its end on
  // first choices). A test that collects outcomes then sees only those of
  // the executions dpor relies on, so an outcome such a run reaches by
  // chance cannot hide one dpor misses. A bug such a run finds is still
  // reported. (Optimal dpor that meets what its wakeup trees cannot order
  // starts over with source sets: the run that sent it back is skipped,
  // but its runs before that one were reported as they ran. The search
  // with source sets then covers every outcome on its own; a test that
  // also runs source_dpor() sees any it misses.)
  bool skip_abandoned = false;
  // Where the trace file of a bug goes (result::write_trace): "" means the
  // directory in LOCKSTEP_TRACE_DIR, else the working directory; "-" means
  // none. explore() writes it itself, as its last step, only when asked to:
  // when trace_dir names a directory, or is "" and LOCKSTEP_TRACE_DIR is set.
  // The report then names it and says how to replay it (see LOCKSTEP_TRACE).
  std::string trace_dir{};
};

struct bug {
  bug_kind kind{};
  std::string message;  // one sentence
  std::string details;  // threads involved, cycle, last events
  std::uint32_t thread = 0;
  std::uint64_t execution = 0;  // 1-based index of the failing execution
  std::uint64_t step = 0;       // the step (event count) at which it was found
  std::uint32_t preemptions = 0;  // preemptions in the failing schedule
  std::string schedule;         // the replay string
  std::vector<trace_event> events;  // the failing execution, up to the failure
  std::vector<std::uint32_t> preempted_at;  // indexes of the choices that were preemptions
  wait_graph graph;             // wait-for graph at the failure (may be empty)
  // With options::keep_going: the kinds of the bugs the execution recorded
  // after this one and went on from (deadlock cycles, data races,
  // starvation), and of the bug that then stopped it, if one did (an
  // assertion, a misuse, ...), each kind once, in the order found. Two such bugs in
  // independent steps may come in either order in an equivalent execution:
  // only the set of kinds, `kind` with these, is the same in every one.
  std::vector<bug_kind> later;
};

struct trace;

namespace detail {
// The report's lines about the trace file (harness/src/search/explore.cpp).
std::string trace_lines(const result& r);
}  // namespace detail

enum class verdict : std::uint8_t { pass, bug, incomplete };
const char* verdict_name(verdict) noexcept;

// What shrinking did to a failing schedule.
struct shrink_info {
  bool done = false;               // shrinking ran
  std::uint32_t preemptions_before = 0, preemptions_after = 0;
  std::uint64_t steps_before = 0, steps_after = 0;
  std::uint64_t replays = 0;       // candidate schedules tried
  // It stopped at a candidate that started otherwise than the execution:
  // the execution changed something that outlives it (a static built in
  // the body, say), so no candidate runs from its state.
  bool other_start = false;
};

struct result {
  std::optional<mc::bug> found;
  shrink_info shrink;
  bool complete = false;         // an exhaustive strategy covered every schedule
  // A sharded run (options::shard_count > 1) covers only its part of the
  // space: it is never `complete`; shard_complete says its part was covered
  // (then the report says "shard i of N complete"). `lockstep merge`
  // combines the shards' reports into one verdict.
  bool shard_complete = false;
  // An exhaustive search (dfs, dpor, source-dpor, delay) that left out
  // behaviours only an unfair system has: a thread going on right after its
  // yield while another thread could run (options::fair_scheduling defers
  // it), or a load after a yield reading older than the latest store of an
  // atomic the thread spun on (rc11's eventual visibility). complete then
  // means every fair execution; the report says so ("complete over fair
  // schedules"). A bug that needs such a behaviour is found with
  // fair_scheduling off (--unfair: no eventual visibility either), for code
  // without unbounded spins. False for a search that never met either.
  bool fair_only = false;
  // An exhaustive search in which some condition-variable wait could not
  // wake spuriously because its thread had taken options::spurious_wakeups
  // in that execution already: the bound it met (0 when spurious wake-ups
  // were off). complete then means every schedule with at most that many
  // spurious wake-ups a thread an execution; the report names the bound
  // ("spurious wake-up bound 1"). -1 when no wait met it, and for a sample.
  int spurious_bound = -1;
  unsigned shard_index = 0, shard_count = 1;
  std::string bound_hit;         // which bound stopped the search, if any
  std::string strategy;          // name of the strategy that ran
  std::string name;              // options.name
  // The GoogleTest test that ran explore() ("Suite.Name"; "" outside one, or
  // when no file of the program included lockstep/mc/gtest.hpp): the report's
  // replay commands run this test alone, and the trace file records it.
  std::string test;
  std::string replay_command;    // options.replay_command
  std::string trace_replay_command;  // options.trace_replay_command
  std::uint64_t executions = 0;
  std::uint64_t steps = 0;       // over all executions
  double seconds = 0;
  int preemption_bound = -1;     // dfs, dpor: the preemption bound in force at the end (-1: none); delay: the delay bound
  std::uint64_t abandoned = 0;   // dpor: executions stopped as redundant (sleep-set blocked)
  // The bug's trace, and where write_trace() writes it (options::trace_dir).
  std::shared_ptr<const mc::trace> trace;
  std::string trace_dir;
  // options::checkpoint: why the last save of the search's position failed
  // ("" once one succeeds, or when none was asked for). The search goes on
  // when a save fails, and its result stands; the report says it.
  std::string checkpoint_error;

  // No bug found (the search may still be incomplete: see complete/verdict).
  [[nodiscard]] bool ok() const noexcept { return !found.has_value(); }
  // bug if one was found; incomplete if an exhaustive search stopped at a
  // bound before covering every schedule; pass otherwise.
  [[nodiscard]] mc::verdict verdict() const noexcept;
  // A readable report ending with the replay string and command, made from
  // the result alone (no I/O). Once the bug's trace file is written (by
  // explore() when asked to, or by write_trace()) it names the file and how
  // to replay it.
  [[nodiscard]] std::string report() const;
  // Writes the bug's trace file, once, into options::trace_dir (see there;
  // the name is the test or model name, the bug kind and a hash of the
  // schedule; a file of that name already there is the same failure and is
  // kept as it is) and returns its path; "" when there is no bug, trace_dir is
  // "-", or the file cannot be written (the report then says why). A test
  // that wants the file of a failure calls it, or sets trace_dir or
  // LOCKSTEP_TRACE_DIR so that explore() writes it.
  std::string write_trace();

 private:
  friend std::string detail::trace_lines(const result& r);
  std::string trace_file_;   // written by write_trace()
  std::string trace_error_;  // why it could not be
  std::string program_;      // the program that wrote it (LOCKSTEP_TRACE replays)
};

// Thrown by explore() when a replay string is malformed or the code no longer
// follows the recorded schedule.
class replay_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Thrown by explore() when the body made other choices on the same schedule
// than in an earlier execution (it depends on time, addresses or state kept
// between executions): the checked code's fault, not the checker's.
class nondeterministic_body : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
// Where explore() learns the running test's name ("Suite.Name", "" when no
// test runs): lockstep/mc/gtest.hpp sets GoogleTest's; nullptr: none.
using test_name_source = std::string (*)();
void set_test_name_source(test_name_source) noexcept;
std::string current_test_name();
// The command that runs the running test alone: "/path/to/program
// --gtest_filter=Suite.Name" ("/path/to/program" outside a test).
std::string this_test_command();

struct body_ref {
  void* obj;
  void (*call)(void*);
};
result explore(const options& opts, body_ref body);

// A callable, or a plain function, as a body_ref; the callable must outlive it.
// (A function's address travels as the pointer itself, as POSIX allows.)
template <class F>
body_ref as_body(F& body) noexcept {
  using Fn = std::remove_reference_t<F>;
  if constexpr (std::is_function_v<Fn>) {
    return body_ref{reinterpret_cast<void*>(&body), [](void* p) { reinterpret_cast<Fn*>(p)(); }};
  } else {
    return body_ref{const_cast<void*>(static_cast<const void*>(&body)), [](void* p) { (*static_cast<Fn*>(p))(); }};
  }
}
}  // namespace detail

template <class F>
result explore(const options& opts, F&& body) {
  return detail::explore(opts, detail::as_body(body));
}

// explore() with default options and strategy `s`: mc::explore(mc::dpor(), body).
template <class F>
result explore(strategy_spec s, F&& body) {
  options o;
  o.strategy = std::move(s);
  return explore(o, std::forward<F>(body));
}

}  // namespace lockstep::mc

// Checks `cond` in model code. Under the checker a failure ends the
// execution and is reported with the expression, thread and source line;
// outside the checker it prints one line and aborts. Never compiled out.
#define LOCKSTEP_ASSERT(cond)                                                            \
  ((cond) ? static_cast<void>(0)                                                         \
          : ::lockstep::mc::detail::assert_failed(#cond, std::source_location::current()))

// LOCKSTEP_ASSERT with a message in words: `message` (anything a std::string
// can be built from) is evaluated only when `cond` fails, and leads the
// report: "client 1 and client 2 both hold the lock (assertion `...` failed
// in thread 2 at ...)". On OS threads (replay, stress) and outside the
// checker it works the same way.
#define LOCKSTEP_ASSERT_MSG(cond, message)                                               \
  ((cond) ? static_cast<void>(0)                                                         \
          : ::lockstep::mc::detail::assert_failed_msg(#cond, std::string(message),       \
                                                      std::source_location::current()))

// Marks progress in model code (a completed unit of work): the livelock
// detector only reports a fair execution that goes livelock_window steps
// without one (or without a thread finishing, or an acquisition of a lock
// declared with mc::progress_on_acquire()).
#define LOCKSTEP_PROGRESS() ::lockstep::mc::detail::progress()
