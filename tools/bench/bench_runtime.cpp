// bench_runtime — the model checker's costs, next to a bare Boost.Context
// switch measured in the same program (see README.md for the numbers).
//
// Counters named "ns/<unit>" are wall-clock nanoseconds per unit, timed
// around the benchmark loop (the Time column is per iteration, and an
// iteration is many units).
#include <benchmark/benchmark.h>

#include <boost/context/detail/fcontext.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"

#include "stopwatch.hpp"

namespace {

namespace mc = lockstep::mc;
namespace bctx = boost::context::detail;

using lockstep::bench::stopwatch;

mc::options base_options(mc::strategy_spec s, std::uint64_t max_executions) {
  mc::options o;
  o.strategy = std::move(s);
  o.max_executions = max_executions;
  o.honour_env = false;
  o.shrink = false;    // the search itself; BM_abort_path_shrink measures shrinking
  o.trace_dir = "-";   // no trace files, even with LOCKSTEP_TRACE_DIR set
  return o;
}

// ---------------------------------------------------------------------------
// A bare switch: the host and one fiber ping-pong through jump_fcontext, the
// way the runtime's jump_raw() does it (the resumed side records where the
// other one stopped). One jump = one switch; an iteration is two.

struct slot {
  bctx::fcontext_t ctx = nullptr;
};

slot g_host, g_fiber;

void bare_jump(slot& from, slot& to) {
  bctx::transfer_t t = bctx::jump_fcontext(to.ctx, &from);
  static_cast<slot*>(t.data)->ctx = t.fctx;
}

void bare_entry(bctx::transfer_t t) {
  static_cast<slot*>(t.data)->ctx = t.fctx;
  for (;;) bare_jump(g_fiber, g_host);
}

void BM_bare_fcontext_switch(benchmark::State& state) {
  constexpr std::size_t kStack = 64 * 1024;
  auto stack = std::make_unique<std::byte[]>(kStack);
  g_fiber.ctx = bctx::make_fcontext(stack.get() + kStack, kStack, &bare_entry);
  const stopwatch sw;
  for (auto _ : state) bare_jump(g_host, g_fiber);
  const double ns = sw.ns();
  // The fiber stays suspended in its loop (no live destructors): drop it.
  const double switches = 2.0 * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(switches));
  state.counters["ns/switch"] = ns / switches;
}
BENCHMARK(BM_bare_fcontext_switch);

// Diagnostic: the same two contexts, but each step switches only when a coin
// flip says so (about every other step, like the random strategy with two
// runnable threads). The switch is no longer predictable, which the
// ping-pong above is: this is the floor for a random scheduler.

constexpr std::int64_t kCoinSteps = 1 << 16;
std::int64_t g_left = 0;
std::uint64_t g_coin_state = 0x9e3779b97f4a7c15ULL;
std::uint64_t g_coin_switches = 0;

bool coin() {  // xorshift64
  g_coin_state ^= g_coin_state << 13;
  g_coin_state ^= g_coin_state >> 7;
  g_coin_state ^= g_coin_state << 17;
  return (g_coin_state >> 32) & 1;
}

void coin_steps(slot& self, slot& other) {
  while (g_left > 0) {
    --g_left;
    if (coin()) {
      ++g_coin_switches;
      bare_jump(self, other);
    }
  }
}

void coin_entry(bctx::transfer_t t) {
  static_cast<slot*>(t.data)->ctx = t.fctx;
  for (;;) {
    coin_steps(g_fiber, g_host);
    bare_jump(g_fiber, g_host);  // out of steps: the host ends the iteration
  }
}

void BM_bare_fcontext_random(benchmark::State& state) {
  constexpr std::size_t kStack = 64 * 1024;
  auto stack = std::make_unique<std::byte[]>(kStack);
  g_fiber.ctx = bctx::make_fcontext(stack.get() + kStack, kStack, &coin_entry);
  g_coin_switches = 0;
  const stopwatch sw;
  for (auto _ : state) {
    g_left = kCoinSteps;
    coin_steps(g_host, g_fiber);
  }
  const double ns = sw.ns();
  const double steps = static_cast<double>(kCoinSteps) * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(steps));
  state.counters["ns/step"] = ns / steps;
  state.counters["switch/step"] = static_cast<double>(g_coin_switches) / steps;
  state.counters["ns/switch"] = ns / static_cast<double>(g_coin_switches);
}
BENCHMARK(BM_bare_fcontext_random);

// ---------------------------------------------------------------------------
// Scheduling points: the body spawns two threads that each do kOps
// fetch_adds; every operation is a scheduling point and the random strategy
// picks between the two workers at each one (about every other point is a
// switch). Arg: executions per explore() call (1 shows the per-call setup).

constexpr int kOps = 1000;
int g_last_worker = 0;
std::uint64_t g_worker_switches = 0;

std::memory_order g_adder_order = std::memory_order_relaxed;

void two_adders() {
  mc::atomic<int> x{0};
  auto work = [&x](int me) {
    for (int i = 0; i < kOps; ++i) {
      x.fetch_add(1, g_adder_order);
      if (g_last_worker != me) {  // plain memory: counts worker-to-worker switches
        g_last_worker = me;
        ++g_worker_switches;
      }
    }
  };
  mc::thread a(work, 1);
  mc::thread b(work, 2);
  a.join();
  b.join();
  LOCKSTEP_ASSERT(x.load() == 2 * kOps);
}

void scheduling_points(benchmark::State& state, mc::strategy_spec strategy) {
  const auto opts = base_options(std::move(strategy), static_cast<std::uint64_t>(state.range(0)));
  std::uint64_t steps = 0, executions = 0;
  g_worker_switches = 0;
  const stopwatch sw;
  for (auto _ : state) {
    const mc::result r = mc::explore(opts, &two_adders);
    if (!r.ok()) {
      state.SkipWithError(r.report().c_str());
      return;
    }
    steps += r.steps;
    executions += r.executions;
  }
  const double ns = sw.ns();
  state.SetItemsProcessed(static_cast<std::int64_t>(steps));
  state.counters["ns/step"] = ns / static_cast<double>(steps);
  state.counters["steps/exec"] = static_cast<double>(steps) / static_cast<double>(executions);
  state.counters["switch/step"] = static_cast<double>(g_worker_switches) / static_cast<double>(steps);
}
void BM_scheduling_point(benchmark::State& state) { scheduling_points(state, mc::random(7)); }
BENCHMARK(BM_scheduling_point)->ArgName("executions")->Arg(1)->Arg(100);

// The memory model's cost: the same two adders (100 executions a call,
// random), their fetch_adds seq_cst or relaxed, under memory_model sc or
// rc11. seq_cst under rc11 should cost what it costs under sc (an execution
// that has run only seq_cst keeps no views); relaxed under rc11 pays for
// the views, the modification order and the choices.
void BM_memory_model(benchmark::State& state) {
  g_adder_order = state.range(0) != 0 ? std::memory_order_seq_cst : std::memory_order_relaxed;
  auto opts = base_options(mc::random(7), 100);
  opts.memory_model = state.range(1) != 0 ? mc::memory_model::rc11 : mc::memory_model::sc;
  std::uint64_t steps = 0;
  const stopwatch sw;
  for (auto _ : state) {
    const mc::result r = mc::explore(opts, &two_adders);
    if (!r.ok()) {
      state.SkipWithError(r.report().c_str());
      break;
    }
    steps += r.steps;
  }
  g_adder_order = std::memory_order_relaxed;
  state.SetItemsProcessed(static_cast<std::int64_t>(steps));
  state.counters["ns/step"] = sw.ns() / static_cast<double>(steps);
}
BENCHMARK(BM_memory_model)->ArgNames({"seq_cst", "rc11"})->Args({1, 0})->Args({1, 1})->Args({0, 0})->Args({0, 1});

// Diagnostic: dfs keeps running the current thread except near the end of
// each execution, so almost no point switches: the bookkeeping alone.
void BM_scheduling_point_dfs(benchmark::State& state) { scheduling_points(state, mc::dfs()); }
BENCHMARK(BM_scheduling_point_dfs)->ArgName("executions")->Arg(100);

// ---------------------------------------------------------------------------
// Many threads: executions of N threads that each do a fetch_add and a
// critical section under one mutex (the body spawns them all, then joins
// them all). Args: N, executions per explore() call. A decision costs
// O(log N); what still grows with N is memory: each explore() call maps a
// fiber stack for every thread beyond the 256 its pool keeps (so the first
// execution pays ~10 us a thread; 16 executions a call spread it), and a
// switch to one of N stacks misses the caches and the TLB more often.
// BM_threads_yield_dfs: each thread also yields once while thousands are
// runnable and have not run (fair scheduling: each such yield defers to all
// of them, so a yield costs O(N)).

void many_threads(int n, bool yield) {
  mc::mutex m;
  mc::atomic<int> hits{0};
  int total = 0;
  std::vector<mc::thread> ts;
  ts.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    ts.emplace_back([&, yield] {
      hits.fetch_add(1);
      if (yield) mc::this_thread::yield();
      std::scoped_lock g(m);
      ++total;
    });
  for (auto& t : ts) t.join();
  LOCKSTEP_ASSERT(hits.load() == n && total == n);
}

void threads_steps(benchmark::State& state, mc::strategy_spec s, bool yield) {
  const int n = static_cast<int>(state.range(0));
  auto opts = base_options(std::move(s), static_cast<std::uint64_t>(state.range(1)));
  opts.max_steps = 20ull * static_cast<std::uint64_t>(n) + 100;
  opts.stack_size = 64 * 1024;
  std::uint64_t steps = 0;
  const stopwatch sw;
  for (auto _ : state) {
    const mc::result r = mc::explore(opts, [n, yield] { many_threads(n, yield); });
    if (!r.ok()) {
      state.SkipWithError(r.report().c_str());
      return;
    }
    steps += r.steps;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(steps));
  state.counters["ns/step"] = sw.ns() / static_cast<double>(steps);
}
// The memory floor of the above: N bare fibers on 64 KB stacks, each step
// jumps into a random one, which touches its stack and jumps back (two
// switches, no runtime). What this costs at N threads no scheduler can beat.
std::vector<slot> g_many;
std::size_t g_many_cur = 0;

void many_entry(bctx::transfer_t t) {
  static_cast<slot*>(t.data)->ctx = t.fctx;
  for (;;) {
    volatile char touch[256];  // a little of its own stack, as a thread's frame would
    touch[0] = 1;
    (void)touch[0];
    bare_jump(g_many[g_many_cur], g_host);
  }
}

void BM_bare_fcontext_many(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t kStack = 64 * 1024;
  std::vector<std::unique_ptr<std::byte[]>> stacks;
  g_many.assign(n, slot{});
  for (std::size_t i = 0; i < n; ++i) {
    stacks.push_back(std::make_unique<std::byte[]>(kStack));
    g_many[i].ctx = bctx::make_fcontext(stacks.back().get() + kStack, kStack, &many_entry);
  }
  std::uint64_t rng = 0x9e3779b97f4a7c15ULL;
  std::uint64_t steps = 0;
  const stopwatch sw;
  for (auto _ : state) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    g_many_cur = static_cast<std::size_t>(rng % n);
    bare_jump(g_host, g_many[g_many_cur]);
    ++steps;
  }
  state.counters["ns/step"] = sw.ns() / static_cast<double>(steps);
}
BENCHMARK(BM_bare_fcontext_many)->ArgName("fibers")->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);

void threads_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"threads", "executions"})->Unit(benchmark::kMillisecond);
  for (int n : {10, 100, 1000, 10000}) b->Args({n, 16});
}
void BM_threads_random(benchmark::State& state) { threads_steps(state, mc::random(7), false); }
BENCHMARK(BM_threads_random)->Apply(threads_args);
void BM_threads_dfs(benchmark::State& state) { threads_steps(state, mc::dfs(), false); }
BENCHMARK(BM_threads_dfs)->Apply(threads_args);
void BM_threads_yield_dfs(benchmark::State& state) { threads_steps(state, mc::dfs(), true); }
BENCHMARK(BM_threads_yield_dfs)
    ->ArgNames({"threads", "executions"})
    ->Args({10, 1})->Args({100, 1})->Args({1000, 1})->Args({10000, 1})
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// counter_mutex: the registered model (2 threads, one increment each under a
// mutex), and an inline 3-thread version of it.

void counter_mutex_3() {
  mc::mutex m("m");
  mc::atomic<int> count{0};
  mc::name(&count, "count");
  auto increment = [&] {
    std::scoped_lock guard(m);
    count.store(count.load() + 1);
  };
  mc::thread t1(increment);
  mc::thread t2(increment);
  increment();
  t1.join();
  t2.join();
  LOCKSTEP_ASSERT(count.load() == 3);
}

void report_executions(benchmark::State& state, double ns, std::uint64_t executions,
                       std::uint64_t steps) {
  state.SetItemsProcessed(static_cast<std::int64_t>(executions));
  state.counters["exec/s"] = benchmark::Counter(static_cast<double>(executions), benchmark::Counter::kIsRate);
  state.counters["ns/exec"] = ns / static_cast<double>(executions);
  state.counters["ns/step"] = ns / static_cast<double>(steps);
  state.counters["steps/exec"] = static_cast<double>(steps) / static_cast<double>(executions);
}

// One explore() per iteration; for dfs that is the whole space, each time.
void run_counter(benchmark::State& state, void (*body)(), const mc::options& opts) {
  std::uint64_t executions = 0, steps = 0;
  const stopwatch sw;
  for (auto _ : state) {
    const mc::result r = mc::explore(opts, body);
    if (!r.ok()) {
      state.SkipWithError(r.report().c_str());
      return;
    }
    executions += r.executions;
    steps += r.steps;
  }
  report_executions(state, sw.ns(), executions, steps);
}

// A registered model's body; null (the benchmark then skips) if none has the name.
void (*model_body(const char* name))() {
  const mc::model* m = mc::find_model(name);
  return m != nullptr ? m->body : nullptr;
}

void BM_counter_mutex_random(benchmark::State& state) {
  auto* body = model_body("counter_mutex");
  if (body == nullptr) return state.SkipWithError("model counter_mutex is not registered");
  run_counter(state, body, base_options(mc::random(42), 100000));
}
BENCHMARK(BM_counter_mutex_random)->Unit(benchmark::kMillisecond);

// The same with every execution in full (options::lean_sampling off): what
// the lean path saves.
void BM_counter_mutex_random_full(benchmark::State& state) {
  auto* body = model_body("counter_mutex");
  if (body == nullptr) return state.SkipWithError("model counter_mutex is not registered");
  mc::options o = base_options(mc::random(42), 100000);
  o.lean_sampling = false;
  run_counter(state, body, o);
}
BENCHMARK(BM_counter_mutex_random_full)->Unit(benchmark::kMillisecond);

void BM_counter_mutex_dfs(benchmark::State& state) {
  auto* body = model_body("counter_mutex");
  if (body == nullptr) return state.SkipWithError("model counter_mutex is not registered");
  const auto opts = base_options(mc::dfs(), 0);
  const mc::result probe = mc::explore(opts, body);
  if (!probe.complete) return state.SkipWithError("the dfs of counter_mutex did not complete");
  state.counters["space"] = static_cast<double>(probe.executions);
  run_counter(state, body, opts);
}
BENCHMARK(BM_counter_mutex_dfs)->Unit(benchmark::kMicrosecond);

void BM_counter_mutex3_random(benchmark::State& state) {
  run_counter(state, counter_mutex_3, base_options(mc::random(42), 100000));
}
BENCHMARK(BM_counter_mutex3_random)->Unit(benchmark::kMillisecond);

// Relacy's counter_ok in lockstep's words, the registered counter_plain_locked:
// the count is plain memory (mc::shared, as Relacy's rl::var), so its accesses
// are no scheduling points, and the race detector checks each of them against
// the mutex's clocks.
void BM_counter_shared_random(benchmark::State& state) {
  auto* body = model_body("counter_plain_locked");
  if (body == nullptr) return state.SkipWithError("model counter_plain_locked is not registered");
  run_counter(state, body, base_options(mc::random(42), 100000));
}
BENCHMARK(BM_counter_shared_random)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// What an execution of counter_mutex is made of, part by part: random
// sampling of a body that is only that part, so ns/exec is the part's cost
// plus BM_part_empty's (the execution itself: the strategy's seeding, the
// engine's reset, thread 0's fiber and its start and exit). One thread, so
// no decision is made: each part is its fixed cost. counter_mutex is an
// empty execution, a spawn and join, two lock/unlock pairs and five atomic
// operations, plus the decisions and switches between its two threads.

void part_empty() {}

void part_spawn_join() {
  mc::thread t([] {});
  t.join();
}

void part_lock_unlock() {
  mc::mutex m("m");
  m.lock();
  m.unlock();
}

void part_two_stores() {
  mc::atomic<int> x{0};
  x.store(1);
  x.store(2);
}

template <void (*Body)()>
void BM_part(benchmark::State& state) {
  run_counter(state, Body, base_options(mc::random(42), 100000));
}
BENCHMARK_TEMPLATE(BM_part, part_empty)->Name("BM_part_empty")->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_part, part_spawn_join)->Name("BM_part_spawn_join")->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_part, part_lock_unlock)->Name("BM_part_lock_unlock")->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_part, part_two_stores)->Name("BM_part_two_stores")->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// The abort path. Under dfs the first execution is fixed: main locks m and
// spawns t1, t2 (which block on m) and a waker; main joins the waker, so t1
// and t2 are blocked in the futex wait when main resumes. BM_abort_path then
// fails an assertion: the bug report is built and the three fibers still
// inside their tasks unwind by exception. BM_abort_path_baseline unlocks and
// joins instead (same setup, a few more steps, no bug). Each explore() is one
// execution, so both include the per-call setup that BM_explore_empty shows.

template <bool Fail>
void blocked_then_assert() {
  mc::mutex m("m");
  m.lock();
  auto locker = [&m] { std::scoped_lock g(m); };
  mc::thread t1(locker);
  mc::thread t2(locker);
  mc::thread waker([] {});
  waker.join();
  if constexpr (Fail) {
    LOCKSTEP_ASSERT(false);
  } else {
    m.unlock();
    t1.join();
    t2.join();
  }
}

void BM_abort_path(benchmark::State& state) {
  const auto opts = base_options(mc::dfs(), 1);
  const mc::result probe = mc::explore(opts, &blocked_then_assert<true>);
  // The report must show t1 and t2 blocked (so that they unwind from a wait).
  std::size_t blocked = 0;
  if (probe.found)
    for (auto p = probe.found->details.find(": blocked at"); p != std::string::npos;
         p = probe.found->details.find(": blocked at", p + 1))
      ++blocked;
  if (!probe.found || probe.found->kind != mc::bug_kind::assertion || blocked != 2)
    return state.SkipWithError(("unexpected result:\n" + probe.report()).c_str());
  std::uint64_t executions = 0, steps = 0;
  const stopwatch sw;
  for (auto _ : state) {
    const mc::result r = mc::explore(opts, &blocked_then_assert<true>);
    executions += r.executions;
    steps += r.steps;
  }
  report_executions(state, sw.ns(), executions, steps);
}
BENCHMARK(BM_abort_path);

void BM_abort_path_baseline(benchmark::State& state) {
  run_counter(state, blocked_then_assert<false>, base_options(mc::dfs(), 1));
}
BENCHMARK(BM_abort_path_baseline);

// Finding and shrinking the ABBA deadlock from a random schedule (with
// needless preemptions) to its one-preemption form: the cost a failing check
// pays before it reports, per explore() call.
void BM_abort_path_shrink(benchmark::State& state) {
  const mc::model* m = mc::find_model("deadlock_abba");
  if (m == nullptr) return state.SkipWithError("deadlock_abba is not linked in");
  auto opts = base_options(mc::random(2), 1000);
  opts.shrink = true;
  std::uint64_t calls = 0, replays = 0;
  const stopwatch sw;
  for (auto _ : state) {
    const mc::result r = mc::explore(opts, m->body);
    if (!r.found || r.found->preemptions != 1) return state.SkipWithError("abba did not shrink to 1 preemption");
    ++calls;
    replays += r.shrink.replays;
  }
  state.counters["us/call"] = static_cast<double>(sw.ns()) / 1000.0 / static_cast<double>(calls);
  state.counters["replays/call"] = static_cast<double>(replays) / static_cast<double>(calls);
}
BENCHMARK(BM_abort_path_shrink);

void BM_explore_empty(benchmark::State& state) {
  run_counter(state, [] {}, base_options(mc::dfs(), 1));
}
BENCHMARK(BM_explore_empty);

}  // namespace

BENCHMARK_MAIN();
