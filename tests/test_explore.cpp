// The runtime and the detectors, through the public explore() API.
#include <gtest/gtest.h>

#include <atomic>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "abba.hpp"
#include "asan.hpp"
#include "lockstep/lockstep.hpp"

#ifdef LOCKSTEP_TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace {

namespace mc = lockstep::mc;
using mc::bug_kind;
using lockstep::testing::abba;

mc::options with(mc::strategy_spec s) {
  mc::options o;
  o.strategy = std::move(s);
  o.honour_env = false;
  return o;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// -- exploration ------------------------------------------------------------

// Each of two threads appends its id twice to a shared history: there are
// C(4,2) = 6 orders, and an exhaustive search must see every one of them.
std::string two_by_two_history() {
  mc::atomic<int> history{0};
  auto append = [&](int id) {
    for (int i = 0; i < 2; ++i) {
      int h = history.load();
      while (!history.compare_exchange_strong(h, h * 3 + id)) {
      }
    }
  };
  mc::thread t(append, 2);
  append(1);
  t.join();
  return std::to_string(history.load());
}

TEST(Explore, DfsSeesEveryInterleavingAndSaysItIsComplete) {
  std::set<std::string> seen;
  const auto r = mc::explore(with(mc::dfs()), [&] { seen.insert(two_by_two_history()); });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.verdict(), mc::verdict::pass);
  EXPECT_EQ(seen.size(), 6u);
}

TEST(Explore, DfsExecutionCountOfATinyProgramIsPinned) {
  // main: spawn, store, join; child: start+store. At main's store the
  // scheduler may run main (then, at the join, main or the child; if the
  // child, at its store again the child or main: 3 schedules) or the child
  // (then, at its store, the child or main; if main, at the join main or the
  // child: 3 schedules). Six in all; a search without reduction runs each.
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1); });
    x.store(2);
    t.join();
  });
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.executions, 6u);
}

// A body whose choices depend on state kept between executions (here a
// static counter) is the checked code's fault: explore() says so with its
// own exception type (the CLI: one line, exit 2), on one job and on two.
TEST(Explore, ABodyThatIsNotDeterministicIsRefusedAsSuch) {
  for (const unsigned jobs : {1u, 2u}) {
    SCOPED_TRACE(jobs);
    static std::atomic<int> runs{0};
    runs = 0;
    mc::options o;
    o.honour_env = false;
    o.strategy = mc::dfs();
    o.jobs = jobs;
    try {
      (void)mc::explore(o, [] {
        mc::atomic<int> x{0};
        mc::thread t([&] { x.store(1); });
        if (runs.fetch_add(1) % 2 == 0) {  // a thread more in every other execution
          mc::thread u([&] { x.store(2); });
          u.join();
        }
        (void)x.load();
        t.join();
      });
      ADD_FAILURE() << "no error";
    } catch (const mc::nondeterministic_body& e) {
      EXPECT_NE(std::string(e.what()).find("the body is not deterministic"), std::string::npos) << e.what();
    }
  }
}

TEST(Explore, MoreJobsThanTheMostIsRefused) {
  mc::options o;
  o.honour_env = false;
  o.jobs = mc::kMaxJobs + 1;
  EXPECT_THROW((void)mc::explore(o, [] {}), std::invalid_argument);
  o.jobs = mc::kMaxJobs;
  o.max_executions = 1;
  EXPECT_TRUE(mc::explore(o, [] {}).ok());
}

TEST(Explore, RandomFindsEveryInterleavingToo) {
  std::set<std::string> seen;
  auto o = with(mc::random(3));
  o.max_executions = 2000;
  const auto r = mc::explore(o, [&] { seen.insert(two_by_two_history()); });
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.executions, 2000u);
  EXPECT_EQ(seen.size(), 6u);
}

TEST(Explore, SameSeedSameSchedulesByteForByte) {
  auto run = [](std::uint64_t seed) {
    std::vector<std::string> histories;
    auto o = with(mc::random(seed));
    o.max_executions = 300;
    mc::explore(o, [&] { histories.push_back(two_by_two_history()); });
    return histories;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(Explore, SixtyFourThreads) {
  auto o = with(mc::random(9));
  o.max_executions = 50;
  const auto r = mc::explore(o, [] {
    mc::atomic<int> n{0};
    std::vector<mc::thread> ts;
    for (int i = 0; i < 64; ++i) ts.emplace_back([&] { n.fetch_add(1); });
    for (auto& t : ts) t.join();
    LOCKSTEP_ASSERT(n.load() == 64);
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_EQ(r.executions, 50u);
}

TEST(Explore, ThreadArgumentsAreDecayCopied) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::atomic<int> sum{0};
    int a = 20;
    mc::thread t([&sum](int x, int y) { sum.fetch_add(x + y); }, a, 22);
    a = 0;
    t.join();
    LOCKSTEP_ASSERT(sum.load() == 42);
  });
  EXPECT_TRUE(r.ok()) << r.report();
}

TEST(Explore, ExecutionBoundMakesAnExhaustiveSearchIncomplete) {
  auto o = with(mc::dfs());
  o.max_executions = 3;
  const auto r = mc::explore(o, [] { (void)two_by_two_history(); });
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.verdict(), mc::verdict::incomplete);
  EXPECT_TRUE(contains(r.bound_hit, "max_executions")) << r.bound_hit;
}

TEST(Explore, TimeBudgetStopsTheSearch) {
  auto o = with(mc::random(1));
  o.max_executions = ~0ull;
  o.time_budget = std::chrono::milliseconds(50);
  const auto r = mc::explore(o, [] { (void)two_by_two_history(); });
  EXPECT_TRUE(contains(r.bound_hit, "time budget")) << r.bound_hit;
  EXPECT_LT(r.seconds, 5.0);
}

// A budget shorter than the setup: a sampled verdict still rests on one
// execution (and only one, each taking longer than the budget), never none.
TEST(Explore, ASampledSearchRunsOneExecutionHoweverShortItsTime) {
  auto o = with(mc::random(1));
  o.max_executions = ~0ull;
  o.time_budget = std::chrono::milliseconds(1);
  const auto r = mc::explore(o, [] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    while (std::chrono::steady_clock::now() < until) {
    }
  });
  EXPECT_EQ(r.executions, 1u) << r.bound_hit;
  EXPECT_TRUE(contains(r.bound_hit, "ran out after 1 execution")) << r.bound_hit;
}

void plain_function_body() {
  mc::atomic<int> x{0};
  mc::thread t([&] { x.fetch_add(1); });
  x.fetch_add(1);
  t.join();
  LOCKSTEP_ASSERT(x.load() == 2);
}

TEST(Explore, TakesAPlainFunctionAsTheBody) {
  const auto r = mc::explore(with(mc::dfs()), plain_function_body);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
}

TEST(Explore, ManyExploreCallsOnOneThreadReuseTheirStacks) {
  // Each call returns its stacks to a per-thread pool; results stay the same.
  for (int i = 0; i < 200; ++i) {
    const auto r = mc::explore(with(mc::dfs()), plain_function_body);
    ASSERT_TRUE(r.ok()) << r.report();
    ASSERT_EQ(r.executions, 6u);
  }
}

TEST(Explore, ExceptionsInFlightSurviveFiberSwitches) {
  // Each thread switches while inside a catch block; a rethrow must see its
  // own exception, not the other fiber's (the C++ runtime keeps the caught
  // exceptions per OS thread, so the checker swaps them per fiber).
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::atomic<int> x{0};
    auto body = [&](int id) {
      try {
        throw id;
      } catch (int) {
        x.fetch_add(1);  // a scheduling point with this exception caught
        try {
          throw;
        } catch (int v) {
          LOCKSTEP_ASSERT(v == id);
        }
      }
    };
    mc::thread t(body, 1);
    body(2);
    t.join();
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
}

TEST(Explore, AtomicsWorkOutsideAnExecution) {
  mc::atomic<int> x{1};
  x.fetch_add(2);
  int e = 3;
  EXPECT_TRUE(x.compare_exchange_strong(e, 7));
  EXPECT_EQ(x.load(), 7);
}

// An object that outlives a search (a static, as in code under test that
// several tests check) keeps the handle its last execution gave it. The
// next search's executions must not take that handle for one of their own:
// they once numbered their executions from 1 again, and the static, used
// after another atomic in the second search's first execution, got that
// atomic's id and read its store.
mc::atomic<int> outlives_searches{7};

TEST(Explore, AnAtomicThatOutlivesASearchIsNotTakenForAnotherInTheNext) {
  mc::options o;
  o.honour_env = false;
  o.strategy = mc::dfs();
  o.memory_model = mc::memory_model::rc11;  // a relaxed load reads from the object's stores
  ASSERT_TRUE(mc::explore(o, [] { (void)outlives_searches.load(std::memory_order_relaxed); }).ok());
  int seen = 0;
  const mc::result r = mc::explore(o, [&] {
    mc::atomic<int> other{0};
    other.store(5, std::memory_order_relaxed);
    seen = outlives_searches.load(std::memory_order_relaxed);
  });
  EXPECT_TRUE(r.ok()) << (r.found ? r.found->message : "");
  EXPECT_EQ(seen, 7);
}

// f(T{}) for every integer type of 1, 2, 4 and 8 bytes, signed and not.
template <class F>
void each_width(F f) {
  f(std::int8_t{});
  f(std::uint8_t{});
  f(std::int16_t{});
  f(std::uint16_t{});
  f(std::int32_t{});
  f(std::uint32_t{});
  f(std::int64_t{});
  f(std::uint64_t{});
}

// Narrow atomics keep their width and sign through every operation, under
// both memory models: values wrap as in std::atomic, negative ones stay
// negative, and a CAS compares them as the type does.
template <class T>
void narrow_atomic_ops() {
  using L = std::numeric_limits<T>;
  mc::atomic<T> x{static_cast<T>(L::max())};
  LOCKSTEP_ASSERT(x.fetch_add(1) == L::max());
  LOCKSTEP_ASSERT(x.load() == L::min());  // wrapped (as std::atomic<T> does)
  x.store(static_cast<T>(L::is_signed ? -2 : 0xfe));
  LOCKSTEP_ASSERT(x.load() == static_cast<T>(L::is_signed ? -2 : 0xfe));
  T e = static_cast<T>(L::is_signed ? -2 : 0xfe);
  LOCKSTEP_ASSERT(x.compare_exchange_strong(e, static_cast<T>(L::is_signed ? -1 : 1)));
  e = static_cast<T>(L::is_signed ? -2 : 0xfe);
  LOCKSTEP_ASSERT(!x.compare_exchange_strong(e, 5));
  LOCKSTEP_ASSERT(e == static_cast<T>(L::is_signed ? -1 : 1));  // what it read
  LOCKSTEP_ASSERT(x.exchange(L::min()) == static_cast<T>(L::is_signed ? -1 : 1));
  LOCKSTEP_ASSERT(x.fetch_sub(1) == L::min());
  LOCKSTEP_ASSERT(x.load() == L::max());
  // The operators return the new value wrapped the same way (no signed
  // overflow on the way: UBSan runs this suite).
  LOCKSTEP_ASSERT(++x == L::min());
  LOCKSTEP_ASSERT(--x == L::max());
  LOCKSTEP_ASSERT((x += 1) == L::min());
  LOCKSTEP_ASSERT((x -= 1) == L::max());
}

// A pointer's fetch_add, fetch_sub and operators count elements, as
// std::atomic<T*>'s do (they once took a pointer as the addend).
void pointer_atomic_ops() {
  static long cells[8] = {};
  mc::atomic<long*> p{cells};
  static_assert(std::is_same_v<mc::atomic<long*>::difference_type, std::ptrdiff_t>);
  LOCKSTEP_ASSERT(p.fetch_add(3) == cells);
  LOCKSTEP_ASSERT(p.load() == cells + 3);
  LOCKSTEP_ASSERT(p.fetch_sub(1, std::memory_order_relaxed) == cells + 3);
  LOCKSTEP_ASSERT(++p == cells + 3);
  LOCKSTEP_ASSERT(p++ == cells + 3);
  LOCKSTEP_ASSERT((p += 4) == cells + 8);
  LOCKSTEP_ASSERT((p -= 6) == cells + 2);
  LOCKSTEP_ASSERT(--p == cells + 1);
  LOCKSTEP_ASSERT(p.fetch_add(-1) == cells + 1);
  LOCKSTEP_ASSERT(p.load() == cells);
}

TEST(Explore, APointerAtomicCountsElementsInAndOutOfAnExecution) {
  pointer_atomic_ops();  // no execution: the real atomic
  for (const mc::memory_model m : {mc::memory_model::sc, mc::memory_model::rc11}) {
    for (const bool lean : {false, true}) {
      mc::options o = with(mc::random(3));
      o.memory_model = m;
      o.lean_sampling = lean;
      o.max_executions = 3;
      const auto r = mc::explore(o, pointer_atomic_ops);
      EXPECT_TRUE(r.ok()) << mc::memory_model_name(m) << ", lean " << lean << ": " << r.report();
    }
  }
}

// Under dfs, and sampled with lean executions and without them (a lean
// execution's atomics take their own path: runtime::lean_atomic).
TEST(Explore, NarrowAtomicsKeepTheirWidthAndSign) {
  for (const mc::memory_model m : {mc::memory_model::sc, mc::memory_model::rc11}) {
    for (const int search : {0, 1, 2}) {
      mc::options o = with(search == 0 ? mc::dfs() : mc::random(7));
      o.memory_model = m;
      o.lean_sampling = search == 1;
      if (search != 0) o.max_executions = 40;
      const auto r = mc::explore(o, [] {
        each_width([](auto v) { narrow_atomic_ops<decltype(v)>(); });
        mc::atomic<std::int32_t> y{-5};
        mc::thread t([&] { y.fetch_add(-3, std::memory_order_relaxed); });
        const std::int32_t seen = y.load(std::memory_order_relaxed);
        LOCKSTEP_ASSERT(seen == -5 || seen == -8);
        t.join();
        LOCKSTEP_ASSERT(y.load() == -8);
      });
      EXPECT_TRUE(r.ok()) << mc::memory_model_name(m) << ", search " << search << ": " << r.report();
      EXPECT_EQ(r.complete, search == 0);
      if (search != 0) {
        EXPECT_EQ(r.executions, 40u);
      }
    }
  }
}

// A lean execution's own atomic operations (runtime::lean_atomic) must see
// what was written, at every width: one that misread a value could pass an
// execution the full one fails (a lean execution that fails runs again in
// full, so only that direction can hide a bug). Each body fails its first
// execution, when every value read back is the one written: wrapped by
// fetch_add, stored, swapped in by a CAS, and read by a CAS that fails.
template <class T>
void reads_back_what_it_wrote() {
  using L = std::numeric_limits<T>;
  const auto v = static_cast<T>(L::is_signed ? -2 : 0xfe);
  mc::atomic<T> x{L::max()};
  x.fetch_add(1);
  const T wrapped = x.load();
  x.store(v);
  const T stored = x.load();
  T expected = v;
  const bool swapped = x.compare_exchange_strong(expected, L::max());
  T seen = v;
  const bool failed = !x.compare_exchange_strong(seen, v);
  LOCKSTEP_ASSERT(!(wrapped == L::min() && stored == v && swapped && failed && seen == L::max() &&
                    x.load() == L::max()));
}

template <class T>
void lean_reads_back() {
  mc::options o = with(mc::random(7));
  o.memory_model = mc::memory_model::sc;
  o.max_executions = 5;
  const auto r = mc::explore(o, [] { reads_back_what_it_wrote<T>(); });
  ASSERT_TRUE(r.found.has_value()) << sizeof(T) << " bytes, signed " << std::is_signed_v<T>;
  EXPECT_EQ(r.found->kind, bug_kind::assertion);
  EXPECT_EQ(r.found->execution, 1u);
}

TEST(Explore, LeanLoadsAndStoresSeeTheValuesAtEveryWidth) {
  each_width([](auto v) { lean_reads_back<decltype(v)>(); });
}

TEST(Explore, VirtualTimeAdvancesOnlyWhenATimeoutFires) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::atomic<std::uint32_t> word{0};
    const auto t0 = mc::virtual_clock::now();
    LOCKSTEP_ASSERT(t0.time_since_epoch().count() == 0);
    const auto deadline = t0 + std::chrono::milliseconds(10);
    const bool woke = mc::platform::wait_until(word, 0, deadline);
    LOCKSTEP_ASSERT(!woke);
    LOCKSTEP_ASSERT(mc::virtual_clock::now() >= deadline);
  });
  EXPECT_TRUE(r.ok()) << r.report();
}

// -- detectors --------------------------------------------------------------

TEST(Detectors, AssertionNamesTheExpressionThreadAndLine) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::atomic<int> x{0};
    mc::thread t([&] { LOCKSTEP_ASSERT(x.load() == 0); });
    x.store(1);
    t.join();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::assertion);
  EXPECT_TRUE(contains(r.found->message, "x.load() == 0")) << r.found->message;
  EXPECT_TRUE(contains(r.found->message, "thread 1")) << r.found->message;
  EXPECT_TRUE(contains(r.found->message, "test_explore.cpp:")) << r.found->message;
  EXPECT_TRUE(contains(r.report(), "LOCKSTEP_REPLAY=" + r.found->schedule));
}

TEST(Detectors, ReplayReproducesTheSameBugAtTheSameStep) {
  auto body = [] {
    mc::atomic<int> count{0};
    auto inc = [&] { count.store(count.load() + 1); };
    mc::thread t(inc);
    mc::thread u(inc);
    inc();
    t.join();
    u.join();
    LOCKSTEP_ASSERT(count.load() == 3);
  };
  auto o = with(mc::random(5));
  const auto found = mc::explore(o, body);
  ASSERT_FALSE(found.ok());
  const auto again = mc::explore(with(mc::replay(found.found->schedule)), body);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.executions, 1u);
  EXPECT_EQ(again.found->kind, found.found->kind);
  EXPECT_EQ(again.found->step, found.found->step);
  EXPECT_EQ(again.found->message, found.found->message);
  EXPECT_EQ(again.found->details, found.found->details);
}

TEST(Detectors, ReplayOfChangedCodeReportsDivergence) {
  auto body_a = [] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1); });
    mc::thread u([&] { x.store(2); });
    LOCKSTEP_ASSERT(x.load() != 2);
    t.join();
    u.join();
  };
  const auto r = mc::explore(with(mc::dfs()), body_a);
  ASSERT_FALSE(r.ok());
  // The same schedule against a body with a single thread cannot be followed.
  auto body_b = [] {
    mc::atomic<int> x{0};
    x.store(1);
    x.store(2);
  };
  EXPECT_THROW(mc::explore(with(mc::replay(r.found->schedule)), body_b), mc::replay_error);
  EXPECT_THROW(mc::explore(with(mc::replay("L1nonsense")), body_b), mc::replay_error);
}

TEST(Detectors, UncaughtExceptionInAThread) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::thread t([] { throw std::runtime_error("disk on fire"); });
    t.join();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::uncaught_exception);
  EXPECT_TRUE(contains(r.found->message, "disk on fire")) << r.found->message;
}

TEST(Detectors, UnlockByANonOwnerIsMisuse) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::mutex m("M");
    m.lock();
    mc::thread t([&] { m.unlock(); });
    t.join();
    m.unlock();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::misuse);
  EXPECT_TRUE(contains(r.found->message, "thread 1 unlocked mutex M")) << r.found->message;
  EXPECT_TRUE(contains(r.found->message, "thread 0 (main) holds it")) << r.found->message;
}

TEST(Detectors, DoubleUnlockIsMisuse) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::mutex m("M");
    m.lock();
    m.unlock();
    m.unlock();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::misuse);
  EXPECT_TRUE(contains(r.found->message, "not locked")) << r.found->message;
}

// A misuse returns to its caller (it is often found in a destructor): from
// then on the execution is failing, a store or read-modify-write at the
// thread's next point still completes, and a later point unwinds.
TEST(Detectors, AfterAMisuseTheThreadStopsAtItsNextPoint) {
  bool before = true, after = false;
  int added = -1, seen = -1;
  const auto r = mc::explore(with(mc::dfs()), [&] {
    mc::mutex m("M");
    mc::atomic<int> a{0};
    before = mc::detail::failing();
    m.lock();
    m.unlock();
    m.unlock();
    after = mc::detail::failing();
    added = a.fetch_add(1) + 1;
    seen = a.load();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::misuse);
  EXPECT_FALSE(before);
  EXPECT_TRUE(after);
  EXPECT_EQ(added, 1);
  EXPECT_EQ(seen, -1);
  EXPECT_FALSE(mc::detail::failing());  // outside an execution
}

TEST(Detectors, DestroyingAHeldMutexIsMisuse) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    auto m = std::make_unique<mc::mutex>("M");
    m->lock();
    m.reset();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::misuse);
  EXPECT_TRUE(contains(r.found->message, "destroyed")) << r.found->message;
}

// A mutex that outlives the execution (a static, or one from outside the
// body) and is still held at its end: the next execution would find it
// held (before: a deadlock there, whose replay passed). Reported at the end
// of the execution that left it, under every strategy, the lean random one
// too, and its replay string reproduces the report.
TEST(Detectors, AMutexStillHeldAtTheEndOfTheExecutionIsMisuse) {
  for (const char* s : {"dfs", "dpor", "random"}) {
    SCOPED_TRACE(s);
    mc::mutex m("M");
    mc::shared_mutex<> rw("RW");
    mc::options o = with(std::string(s) == "dfs" ? mc::dfs() : std::string(s) == "dpor" ? mc::dpor() : mc::random());
    o.max_executions = 200;
    for (bool shared : {false, true}) {
      const auto body = [&] {
        mc::atomic<int> x{0};
        mc::thread t([&] { x.store(1); });
        if (x.load() == 1) {  // only in some executions
          if (shared) rw.lock_shared();
          else m.lock();
        }
        t.join();
      };
      const auto release = [&] {
        if (shared) rw.unlock_shared();
        else m.unlock();
      };
      const auto r = mc::explore(o, body);
      ASSERT_FALSE(r.ok());
      release();
      EXPECT_EQ(r.found->kind, bug_kind::misuse);
      EXPECT_TRUE(contains(r.found->message, shared ? "thread 0 (main) still holds shared mutex #1 (locked at "
                                                    : "thread 0 (main) still holds mutex #1 (locked at "))
          << r.found->message;
      EXPECT_TRUE(contains(r.found->message, "at the end of the execution")) << r.found->message;
      const auto replayed = mc::explore(with(mc::replay(r.found->schedule)), body);
      ASSERT_FALSE(replayed.ok()) << "the replay passed";
      release();
      EXPECT_EQ(replayed.found->message, r.found->message);
    }
  }
  // Taken and given back in every execution: nothing to report.
  mc::mutex kept("K");
  EXPECT_TRUE(mc::explore(with(mc::dfs()), [&] {
    mc::thread t([&] { std::lock_guard g(kept); });
    {
      std::lock_guard g(kept);
    }
    t.join();
  }).ok());
}

// An atomic that outlives the execution (a static, or one from outside the
// body) and starts the next one holding what the last left: that execution
// is about its predecessor's leftovers (before: the assertion below failed
// in the second execution, a bug no schedule of one execution has, and its
// replay in a new process passed). Reported where the next execution first
// reads it, under every strategy and memory model, the lean random path
// too; a semaphore's permits likewise. Statics that start every execution
// alike are not reported: one the body resets with a store first, one only
// read, one given back, a permit given back.
TEST(Detectors, AnAtomicCarryingItsValueIntoTheNextExecutionIsMisuse) {
  for (const mc::memory_model mm : {mc::memory_model::sc, mc::memory_model::rc11}) {
    for (const char* s : {"dfs", "dpor", "random"}) {
      SCOPED_TRACE(std::string(s) + (mm == mc::memory_model::sc ? " sc" : " rc11"));
      mc::options o = with(std::string(s) == "dfs"    ? mc::dfs()
                           : std::string(s) == "dpor" ? mc::dpor()
                                                      : mc::random());
      o.memory_model = mm;
      o.max_executions = 200;
      mc::atomic<int> count{0};
      const auto r = mc::explore(o, [&] {
        mc::thread t([&] { count.fetch_add(1); });
        count.fetch_add(1);
        t.join();
        LOCKSTEP_ASSERT(count.load() <= 2);
      });
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.found->kind, bug_kind::misuse) << r.found->message;
      EXPECT_EQ(r.found->execution, 2u);
      EXPECT_TRUE(contains(r.found->message, "starts execution 2 holding 2, left by an earlier one; it held 0 "
                                             "when the first execution that used it began"))
          << r.found->message;
      EXPECT_TRUE(contains(r.found->message, "test_explore.cpp:")) << r.found->message;

      // The same after 70 other atomics: still the second execution.
      mc::atomic<int> late{0};
      const auto after_many = mc::explore(o, [&] {
        mc::atomic<int> many[70];
        for (mc::atomic<int>& a : many) (void)a.load();
        mc::thread t([&] { late.fetch_add(1); });
        late.fetch_add(1);
        t.join();
      });
      ASSERT_FALSE(after_many.ok());
      EXPECT_EQ(after_many.found->kind, bug_kind::misuse) << after_many.found->message;
      EXPECT_EQ(after_many.found->execution, 2u) << after_many.found->message;

      // A semaphore's permits alike (one taken and not given back).
      mc::counting_semaphore<> permits{1};
      const auto kept = mc::explore(o, [&] {
        mc::thread t([&] { (void)permits.try_acquire(); });
        (void)permits.try_acquire();
        t.join();
      });
      ASSERT_FALSE(kept.ok());
      EXPECT_EQ(kept.found->kind, bug_kind::misuse) << kept.found->message;
      EXPECT_TRUE(contains(kept.found->message, "reads a semaphore at ")) << kept.found->message;
      EXPECT_TRUE(contains(kept.found->message, "starts execution 2 with 0 permits, left by an earlier one; it "
                                                "had 1 when the first execution that used it began"))
          << kept.found->message;

      // A queue's items alike (put and not taken).
      mc::bounded_queue<int> left{4};
      const auto items = mc::explore(o, [&] {
        mc::thread t([&] { (void)left.put(1); });
        (void)left.put(2);
        t.join();
      });
      ASSERT_FALSE(items.ok());
      EXPECT_EQ(items.found->kind, bug_kind::misuse) << items.found->message;
      EXPECT_EQ(items.found->execution, 2u) << items.found->message;
      EXPECT_TRUE(contains(items.found->message, "reads a queue at ")) << items.found->message;
      EXPECT_TRUE(contains(items.found->message, "starts execution 2 holding 2 items, left by an earlier one; it "
                                                 "held 0 items when the first execution that used it began"))
          << items.found->message;

      // What a run that is to run again changes while it unwinds (a lean
      // run stops at the queue's first step; the put fails, the thread goes
      // on to the increment) is put back for the run again: fine.
      mc::bounded_queue<int> relay{4};
      mc::atomic<int> after{0};
      const auto unwound = mc::explore(o, [&] {
        mc::thread t([&] {
          (void)relay.put(1);
          after.fetch_add(1);
        });
        mc::thread u([&] {
          (void)relay.put(2);
          after.fetch_add(1);
        });
        (void)relay.get();
        (void)relay.get();
        t.join();
        u.join();
        after.store(0);
      });
      EXPECT_TRUE(unwound.ok()) << unwound.found->message;

      mc::bounded_queue<int> passed{4};  // taken again in every execution: fine
      mc::atomic<int> reset{5};
      static mc::atomic<bool> flag{true};
      mc::atomic<int> given_back{0};
      mc::counting_semaphore<> lent{1};
      const auto fine = mc::explore(o, [&] {
        reset.store(0);
        mc::thread t([&] {
          reset.fetch_add(1);
          given_back.fetch_add(1);
          if (lent.try_acquire()) lent.release();
          (void)passed.put(2);
        });
        if (flag.load()) reset.fetch_add(1);
        t.join();
        LOCKSTEP_ASSERT(reset.load() == 2);
        given_back.fetch_sub(1);
        LOCKSTEP_ASSERT(passed.get() == 2);
      });
      EXPECT_TRUE(fine.ok()) << fine.found->message;
    }
  }
}

// A sampled execution that needs more bookkeeping than its lean run kept
// runs again from its first step, with the same seed: it must take the
// same steps. A first run that changed what outlives it (here memory from
// outside the body; a static built in the body is the same: a thread
// pool's workers are spawned once, in the first run) makes the run again
// another execution, whose bug (or pass) is no execution of the body.
TEST(Detectors, AnExecutionRunAgainThatStartsOtherwiseIsRefused) {
  int runs = 0;
  mc::options o = with(mc::random());
  o.max_executions = 50;
  try {
    (void)mc::explore(o, [&] {
      mc::atomic<int> x{0};
      if (runs++ == 0) x.store(1);  // the first run only
      mc::thread t([&] { x.fetch_add(1); });
      mc::counting_semaphore<> s{1};  // a lean run stops here: it runs again, in full
      s.acquire();
      s.release();
      t.join();
    });
    ADD_FAILURE() << "no error";
  } catch (const mc::nondeterministic_body& e) {
    EXPECT_TRUE(contains(e.what(), "the body is not deterministic: execution 1, run again from its first step, "
                                   "took thread 0 spawn"))
        << e.what();
    EXPECT_TRUE(contains(e.what(), "where its first run took thread 0 store")) << e.what();
    EXPECT_TRUE(contains(e.what(), "test_explore.cpp:")) << e.what();
  }
  EXPECT_EQ(runs, 2);

  // The same body, the same in every run: no error.
  const auto fine = mc::explore(o, [&] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.fetch_add(1); });
    mc::counting_semaphore<> s{1};
    s.acquire();
    s.release();
    t.join();
  });
  EXPECT_TRUE(fine.ok());
  EXPECT_EQ(fine.executions, 50u);
}

// Shrinking replays smaller schedules in this process, after the
// execution: one that changed what outlives it (an object built in its
// first execution, as a static in the body is) has candidates that start
// otherwise. None is taken: the report keeps the execution as it ran.
TEST(Detectors, ShrinkingTakesNoScheduleThatStartsOtherwise) {
  std::optional<mc::atomic<int>> made;  // built once, in the first execution
  const auto r = mc::explore(with(mc::dfs()), [&] {
    if (!made) {
      made.emplace(0);
      made->store(1);
    }
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1); });
    x.store(2);
    t.join();
    LOCKSTEP_ASSERT(x.load() == 3);
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->execution, 1u);
  EXPECT_TRUE(r.shrink.other_start);
  EXPECT_TRUE(contains(r.report(), "not shrunk: a smaller schedule tried did not start as the execution did"))
      << r.report();
  ASSERT_GE(r.found->events.size(), 2u);
  EXPECT_EQ(r.found->events[1].o, mc::op::store);  // made->store(1), as the execution ran

  // A body that starts alike every time is shrunk as usual.
  const auto usual = mc::explore(with(mc::dfs()), [&] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1); });
    x.store(2);
    t.join();
    LOCKSTEP_ASSERT(x.load() == 3);
  });
  ASSERT_FALSE(usual.ok());
  EXPECT_FALSE(usual.shrink.other_start);
}

// join() or detach() of a thread that is not joinable names the caller's
// line, not the header's.
TEST(Detectors, ASecondJoinOrDetachIsMisuseAtItsLine) {
  for (bool detach : {false, true}) {
    int line = 0;
    const auto r = mc::explore(with(mc::dfs()), [&] {
      mc::thread t([] {});
      t.join();
      line = __LINE__ + 1;
      if (detach) t.detach(); else t.join();
    });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.found->kind, bug_kind::misuse);
    EXPECT_TRUE(contains(r.found->message, detach ? "detach() of a thread that is not joinable"
                                                  : "join() of a thread that is not joinable"))
        << r.found->message;
    EXPECT_TRUE(contains(r.found->message, "test_explore.cpp:" + std::to_string(line))) << r.found->message;
  }
}

// An mc::thread kept past its execution and joined outside one: its thread
// ended with the execution, and the join is refused, not passed.
TEST(Detectors, AJoinOutsideAnExecutionIsRefused) {
  mc::thread* kept = nullptr;
  const auto r = mc::explore(with(mc::dfs()), [&] { kept = new mc::thread([] {}); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::leaked_thread);
  ASSERT_NE(kept, nullptr);
  ASSERT_TRUE(kept->joinable());
  try {
    kept->join();
    ADD_FAILURE() << "the join passed";
  } catch (const std::logic_error& e) {
    EXPECT_TRUE(contains(e.what(), "join() of an mc::thread outside a checked execution, at ")) << e.what();
    EXPECT_TRUE(contains(e.what(), "test_explore.cpp:")) << e.what();
  }
  EXPECT_FALSE(kept->joinable());
  delete kept;
}

TEST(Detectors, DeadlockReportNamesTheCycle) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::mutex a("A"), b("B");
    abba(a, b);
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
  const std::string& d = r.found->details;
  EXPECT_TRUE(contains(d, "thread 1 holds mutex A")) << d;
  EXPECT_TRUE(contains(d, "waits for mutex B")) << d;
  EXPECT_TRUE(contains(d, "thread 0 (main) holds mutex B")) << d;
  EXPECT_TRUE(contains(d, "waits for mutex A")) << d;
}

TEST(Detectors, PartialDeadlockIsReportedWhileAnotherThreadStillRuns) {
  // The bystander spins until main is done, so it is alive whenever the
  // cycle forms: the deadlock must be reported without waiting for it.
  const auto r = mc::explore(with(mc::random(1)), [] {
    mc::mutex a("A"), b("B");
    mc::atomic<bool> done{false};
    mc::thread bystander([&] {
      while (!done.load()) mc::this_thread::yield();
    });
    abba(a, b);
    done.store(true);
    bystander.join();
  });
  ASSERT_FALSE(r.ok()) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
  EXPECT_TRUE(contains(r.found->message, "cycle")) << r.found->message;
  // The bystander (thread 1) is still alive and outside the cycle.
  const std::string& d = r.found->details;
  const auto at = d.find("    thread 1 (spawned at");
  ASSERT_NE(at, std::string::npos) << d;
  const std::string line = d.substr(at, d.find('\n', at) - at);
  EXPECT_TRUE(contains(line, ": runnable") || contains(line, ": running")) << line;
  EXPECT_FALSE(contains(line, "holds")) << line;
}

TEST(Detectors, LockingTwiceIsASelfDeadlock) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::mutex m("M");
    m.lock();
    m.lock();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
  EXPECT_TRUE(contains(r.found->message, "already holds")) << r.found->message;
}

TEST(Detectors, NoRunnableThreadIsAGlobalDeadlock) {
  // main holds m and joins t; t waits for m: no lock cycle, but no thread can run.
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::mutex m("M");
    std::scoped_lock g(m);
    mc::thread t([&] { std::scoped_lock g2(m); });
    t.join();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
  EXPECT_TRUE(contains(r.found->message, "no thread can run")) << r.found->message;
}

TEST(Detectors, StepBoundNamesItselfAndTheUsualCause) {
  auto o = with(mc::random(1));
  o.max_steps = 500;
  const auto r = mc::explore(o, [] {
    mc::atomic<int> ticks{0};
    mc::thread t([&] {
      while (ticks.fetch_add(1) >= 0) {  // never ends, and writes: no busy wait, a runaway loop
      }
    });
    t.join();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::non_termination);
  EXPECT_TRUE(contains(r.found->message, "max_steps = 500")) << r.found->message;
  EXPECT_TRUE(contains(r.found->details, "spin loop")) << r.found->details;
  // Found at the step past the bound, which is not recorded.
  EXPECT_EQ(r.found->step, 501u);
  EXPECT_EQ(r.found->events.size(), 500u);
}

TEST(Detectors, AThreadNeverJoinedIsLeaked) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::thread t([] {});
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::leaked_thread);
  EXPECT_TRUE(contains(r.found->message, "never joined")) << r.found->message;
}

TEST(Detectors, ADetachedThreadIsNotLeakedAndRunsToTheEnd) {
  int finished = 0;
  const auto r = mc::explore(with(mc::dfs()), [&] {
    // Shared, not on the body's stack: the detached thread may run after the
    // body returned (AddressSanitizer reports the stack use after return).
    auto x = std::make_shared<mc::atomic<int>>(0);
    mc::thread([x] { x->store(1); }).detach();
    finished += 0;
  });
  EXPECT_TRUE(r.ok()) << r.report();
}

// -- aborting unwinds ---------------------------------------------------------

struct counted {
  static inline int alive = 0;
  counted() { ++alive; }
  ~counted() { --alive; }
};

TEST(Abort, FailedExecutionsRunEveryDestructor) {
  counted::alive = 0;
  const auto r = mc::explore(with(mc::dfs()), [] {
    counted in_main;
    mc::mutex m("M");
    std::scoped_lock g(m);
    mc::thread t1([&] {
      counted in_t1;
      std::scoped_lock g1(m);  // blocks: main holds m
    });
    mc::thread t2([&] {
      counted in_t2;
      std::scoped_lock g2(m);
    });
    mc::atomic<int> step{0};
    step.store(1);  // a scheduling point: the others get to block
    step.store(2);
    LOCKSTEP_ASSERT(step.load() == 3);
    t1.join();
    t2.join();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::assertion);
  EXPECT_EQ(counted::alive, 0);
}

TEST(Abort, UserCatchAllDoesNotSwallowTheAbort) {
  const auto r = mc::explore(with(mc::dfs()), [] {
    mc::atomic<int> x{0};
    mc::thread t([&] {
      try {
        x.store(1);
        x.store(2);
      } catch (...) {
      }
      x.store(3);
    });
    LOCKSTEP_ASSERT(x.load() != 1);
    t.join();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::assertion);
}

}  // namespace

namespace {

// -- split searches: the same report on every run -----------------------------

// Three threads each add 1 twice with a separate load and store; only the
// schedules that lose four updates fail: rare among many executions, so
// each job of a split search has its own executions before the bug.
void lose_four_updates() {
  mc::atomic<int> count{0};
  auto add = [&] {
    for (int i = 0; i < 2; ++i) count.store(count.load() + 1);
  };
  mc::thread a(add), b(add), c(add);
  a.join();
  b.join();
  c.join();
  LOCKSTEP_ASSERT(count.load() != 2);
}

// With several jobs, dfs and dpor report the first bug in a fixed order of
// the jobs' executions and count the executions up to it: for a job count,
// every run prints the same bug, schedule and numbers, and "found in
// execution K" is the count "after K executions".
TEST(SplitSearch, TheBugAndItsNumbersAreTheSameOnEveryRun) {
  for (auto spec : {mc::dpor(), mc::dfs()}) {
    for (unsigned jobs : {2u, 3u}) {
      mc::options o = with(spec);
      o.jobs = jobs;
      o.shrink = false;
      std::set<std::string> seen;
      for (int run = 0; run < 6; ++run) {
        const mc::result r = mc::explore(o, lose_four_updates);
        ASSERT_TRUE(r.found) << r.report();
        EXPECT_EQ(r.found->execution, r.executions) << r.report();
        EXPECT_TRUE(contains(r.report(), "found in execution " + std::to_string(r.executions) + " at step"))
            << r.report();
        seen.insert(std::to_string(r.executions) + " " + std::to_string(r.steps) + " " +
                    std::to_string(r.found->step) + " " + r.found->schedule);
      }
      EXPECT_EQ(seen.size(), 1u) << mc::strategy_name(spec.k) << " on " << jobs << " jobs: " << *seen.begin() << " and "
                                 << *seen.rbegin();
    }
  }
}

// The jobs share the subtrees out as they get free, and the search's order
// is the subtrees' own: the bug and its numbers do not depend on the job
// count either (from 2 jobs on; one job is the plain search).
TEST(SplitSearch, TheBugAndItsNumbersAreTheSameOnAnyJobCount) {
  for (auto spec : {mc::dpor(), mc::dfs()}) {
    std::set<std::string> seen;
    for (unsigned jobs : {2u, 3u, 4u}) {
      mc::options o = with(spec);
      o.jobs = jobs;
      o.shrink = false;
      const mc::result r = mc::explore(o, lose_four_updates);
      ASSERT_TRUE(r.found) << r.report();
      seen.insert(std::to_string(r.executions) + " " + std::to_string(r.steps) + " " +
                  std::to_string(r.found->step) + " " + r.found->schedule);
    }
    EXPECT_EQ(seen.size(), 1u) << mc::strategy_name(spec.k) << ": " << *seen.begin() << " and " << *seen.rbegin();
  }
}

// -- fiber stacks -------------------------------------------------------------

// An OS thread's fiber stacks are unmapped when it ends. A fiber that left
// for good left its last frames poisoned on its stack, and AddressSanitizer
// does not clear the shadow of memory that is unmapped or mapped again (clang
// 16's runtime): memory mapped there next (libbacktrace's buffers, in a
// report made after a search on several jobs) was taken for a stack and its
// use reported as a stack buffer underflow.
TEST(FiberStacks, MemoryMappedWhereAnEndedThreadsStackWasIsNotPoisoned) {
#ifndef LOCKSTEP_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer builds only";
#else
  constexpr std::size_t kStack = 256 * 1024;
  std::uintptr_t lo = 0;
  std::thread([&] {
    mc::options o = with(mc::dfs());
    o.stack_size = kStack;
    std::uintptr_t frame = 0;
    const auto r = mc::explore(o, [&] {
      // The real frame (a local may live on ASan's fake stack).
      frame = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
      mc::thread t([] {});
      t.join();
    });
    ASSERT_TRUE(r.ok()) << r.report();
    // The stack's usable part: the mapping that holds the body's frame
    // (below it the guard region, which is not readable, so the two are
    // never merged into one).
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
      std::uintptr_t b = 0, e = 0;
      char dash = 0;
      std::istringstream in(line);
      if (in >> std::hex >> b >> dash >> e && b <= frame && frame < e) lo = b;
    }
  }).join();
  ASSERT_NE(lo, 0u);
  void* p = ::mmap(reinterpret_cast<void*>(lo), kStack, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) GTEST_SKIP() << "the stack's place was taken again";
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p), lo);
  const void* poisoned = __asan_region_is_poisoned(p, kStack);
  EXPECT_EQ(poisoned, nullptr) << "at " << (static_cast<const char*>(poisoned) - static_cast<const char*>(p))
                               << " bytes into the unmapped stack";
  ::munmap(p, kStack);
#endif
}

}  // namespace
