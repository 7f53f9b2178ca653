// dpor: the number of executions on classic programs from the DPOR
// literature, the mutex program dfs cannot finish, the futex protocol on the
// step-by-step platform, and soundness checks (bugs still found).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <mutex>
#include <utility>
#include <optional>
#include <set>
#include <vector>

#include <unistd.h>

#include "abba.hpp"
#include "sections.hpp"
#include "lockstep/lockstep.hpp"
#include "yield_window.hpp"

namespace {

namespace mc = lockstep::mc;
using mc::bug_kind;
using namespace std::chrono_literals;

template <class F>
mc::result dpor(F&& body, std::uint64_t cap = 1000000) {
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.max_executions = cap;
  return mc::explore(o, std::forward<F>(body));
}

// Executions that ran to their end; the rest were sleep-set blocked
// (source-DPOR may start those; they stop being counted as schedules).
std::uint64_t complete_runs(const mc::result& r) { return r.executions - r.abandoned; }

// -- programs from the literature -------------------------------------------------

// readers(N): one writer of x, N readers of x: 2^N traces.
void readers(int n) {
  mc::atomic<int> x{0};
  std::vector<mc::thread> ts;
  ts.emplace_back([&] { x.store(1); });
  for (int i = 0; i < n; ++i) ts.emplace_back([&] { (void)x.load(); });
  for (auto& t : ts) t.join();
}

TEST(DporCounts, ReadersExploresTwoToTheNTraces) {
  for (int n = 1; n <= 6; ++n) {
    const auto r = dpor([n] { readers(n); });
    EXPECT_TRUE(r.complete) << r.report();
    EXPECT_EQ(r.executions, 1u << n) << "readers(" << n << ")";
    EXPECT_EQ(r.abandoned, 0u);
  }
}

// lastzero(N) (Abdulla et al., POPL 2014): thread 0 scans array[N..0] for the
// last zero; thread j sets array[j] = array[j-1] + 1. lastzero(5) has 64
// Mazurkiewicz traces (the optimal-DPOR count; source-DPOR in the paper: 79).
void lastzero(int n) {
  std::array<mc::atomic<int>, 8> a{};
  std::vector<mc::thread> ts;
  ts.emplace_back([&] {
    for (int i = n; a[static_cast<std::size_t>(i)].load() != 0; --i) {
    }
  });
  for (int j = 1; j <= n; ++j)
    ts.emplace_back([&, j] {
      a[static_cast<std::size_t>(j)].store(a[static_cast<std::size_t>(j - 1)].load() + 1);
    });
  for (auto& t : ts) t.join();
}

TEST(DporCounts, LastzeroFiveRunsEachOfItsSixtyFourTracesOnce) {
  const auto r = dpor([] { lastzero(5); });
  EXPECT_TRUE(r.complete) << r.report();
  EXPECT_EQ(r.executions, 64u);  // every trace exactly once (optimal dpor)
  EXPECT_EQ(r.abandoned, 0u);    // and no execution a sleep set stops
}

// Source-DPOR (source sets instead of wakeup trees) runs the same 64 traces
// and starts 7 executions that sleep sets then stop (79 in the paper).
TEST(DporCounts, SourceDporStartsSevenRedundantLastzeroExecutions) {
  mc::options o;
  o.strategy = mc::source_dpor();
  o.honour_env = false;
  const auto r = mc::explore(o, [] { lastzero(5); });
  EXPECT_TRUE(r.complete) << r.report();
  EXPECT_EQ(complete_runs(r), 64u);
  EXPECT_EQ(r.executions, 71u);
  // The report names the search: it is not the optimal one.
  EXPECT_EQ(r.strategy, "source-dpor");
  EXPECT_NE(r.report().find("(source-dpor, complete; 7 of them stopped as redundant by sleep sets)"), std::string::npos)
      << r.report();
}

// indexer(N) (Flanagan & Godefroid, POPL 2005): N threads insert 4 values
// each into a 128-slot hash table with compare-and-swap and linear probing.
// Threads only collide from N = 12 on: 1 trace below, then 8, 64, 512 ...
void indexer(int n) {
  std::array<mc::atomic<int>, 128> table{};
  std::vector<mc::thread> ts;
  for (int tid = 0; tid < n; ++tid) {
    ts.emplace_back([&table, tid] {
      for (int m = 1; m <= 4; ++m) {
        const int w = m * 11 + tid;
        int h = (w * 7) % 128;
        int zero = 0;
        while (!table[static_cast<std::size_t>(h)].compare_exchange_strong(zero, w)) {
          zero = 0;
          h = (h + 1) % 128;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
}

TEST(DporCounts, IndexerTracesMatchThePublishedCounts) {
  const std::uint64_t expected[] = {1, 8, 64};
  for (int n = 11; n <= 13; ++n) {
    const auto r = dpor([n] { indexer(n); });
    EXPECT_TRUE(r.complete) << r.report();
    EXPECT_EQ(complete_runs(r), expected[n - 11]) << "indexer(" << n << ")";
    // At n = 13 the colliding threads first touch the table's slots in a
    // different order in different executions, which numbers the slots
    // differently; the wakeup trees' independence checks compare those
    // numbers across executions, err, and an execution is sleep-set
    // blocked: the search starts over with source sets after 11 executions.
    EXPECT_EQ(r.executions, n == 13 ? 75u : expected[n - 11]) << "indexer(" << n << ")";
    EXPECT_EQ(r.abandoned, n == 13 ? 11u : 0u) << "indexer(" << n << ")";
    // The report says how many of the executions were redundant.
    const std::string text = r.report();
    EXPECT_EQ(text.find("stopped as redundant") != std::string::npos, n == 13) << text;
    if (n == 13) {
      EXPECT_NE(text.find("(dpor, complete; 11 of them stopped as redundant by sleep sets)"), std::string::npos)
          << text;
    }
  }
}

// A consumer drains the queue until it is closed; the producer's one item
// and the close leave two traces: every ready step takes the monitor, so
// the consumer's first get (the item) and the close race, and their order
// decides what happens before what (the get that finds the queue closed
// comes after the close: it would have waited for it). Neither search
// starts an execution that sleep sets stop.
TEST(DporCounts, AConsumerThatDrainsTheQueueHasOneTrace) {
  for (auto s : {mc::dpor(), mc::source_dpor()}) {
    mc::options o;
    o.strategy = s;
    o.honour_env = false;
    const auto r = mc::explore(o, [] {
      mc::bounded_queue<int> q(4);
      mc::thread c([&] {
        while (q.get()) {
        }
      });
      mc::thread p([&] { (void)q.put(1); });
      p.join();
      q.close();
      c.join();
    });
    EXPECT_TRUE(r.complete) << r.report();
    EXPECT_EQ(r.executions, 2u) << r.report();
    EXPECT_EQ(r.abandoned, 0u) << r.report();
  }
}

// Producers and consumers on a queue of capacity 1, the shape the primitive
// models have. Both searches run the same number of executions and start
// nothing that sleep sets stop: 24, 4 and 4. (Counted with the steps on
// different fields taken to commute, plain dfs reached 10, 4 and 4 traces;
// but any two ready steps race, since each takes the monitor, see
// Differential.MonitorStepsOnDifferentFieldsStillSynchronise.) Before, a thread
// resumed from a park took its step only at a second decision, so its
// resumption was a step of its own that did nothing (optimal dpor ran a
// program of 84 traces 91 times), and a get was reversed with the put it
// took the item of, or a put with the get that made its room, which the step
// cannot go before (it would have waited): each such reversal parked the
// step, the execution was stopped by sleep sets, and optimal dpor started
// over with source sets. With two producers, a put into the room a get made
// raced with the other producer's put before, and the wakeup sequence kept
// that get's order: it started with the consumer, whose get then found the
// queue empty, and the producer that could have gone first was asleep
// (10 executions, 6 stopped, for 4 traces).
void put_and_consume(int producers, int items, int consumers) {
  mc::bounded_queue<int> q(1);
  std::vector<mc::thread> ps, cs;
  for (int i = 0; i < producers; ++i)
    ps.emplace_back([&q, items] {
      for (int k = 0; k < items; ++k) (void)q.put(k);
    });
  for (int i = 0; i < consumers; ++i)
    cs.emplace_back([&q] {
      while (q.get()) q.task_done();
    });
  for (auto& t : ps) t.join();
  q.join();
  q.close();
  for (auto& t : cs) t.join();
}

TEST(DporCounts, QueueProgramsRunOneExecutionPerTrace) {
  struct program {
    int producers, items, consumers;
    std::uint64_t traces;
  };
  for (const program p : {program{1, 2, 2, 24}, program{1, 3, 1, 4}, program{2, 1, 1, 4}}) {
    SCOPED_TRACE(std::to_string(p.producers) + " producers x " + std::to_string(p.items) + " items, " +
                 std::to_string(p.consumers) + " consumers");
    for (auto s : {mc::dpor(), mc::source_dpor()}) {
      mc::options o;
      o.strategy = s;
      o.honour_env = false;
      const auto r = mc::explore(o, [&] { put_and_consume(p.producers, p.items, p.consumers); });
      EXPECT_TRUE(r.complete) << r.report();
      EXPECT_TRUE(r.ok()) << r.report();
      EXPECT_EQ(r.executions, p.traces) << r.report();
      EXPECT_EQ(r.abandoned, 0u) << r.report();
    }
  }
}

// A join waits while items are unfinished. It could have returned only
// before the put that raised the count from 0 (here main's own try_put),
// not before a task_done that left the count above 0: racing the join (or
// its parked attempt) with that task_done, as with any last or earlier
// write, started executions where it parked again behind a sleeping
// consumer (optimal dpor: 295 executions, 49 abandoned, then over again
// with source sets). Both searches run 354 executions, none stopped by
// sleep sets (246 while steps on different fields were taken to commute).
TEST(DporCounts, AJoinRacesWithThePutThatRaisedTheCountFromZero) {
  const auto body = [] {
    mc::bounded_queue<int> q(2);
    std::vector<mc::thread> ps, cs;
    ps.emplace_back([&q] {
      (void)q.put(1);
      (void)q.try_put(1);
    });
    ps.emplace_back([&q] { (void)q.size(); });
    cs.emplace_back([&q] {
      while (q.get()) q.task_done();
    });
    (void)q.try_put(2);
    for (auto& t : ps) t.join();
    q.join();
    q.close();
    for (auto& t : cs) t.join();
  };
  for (const bool optimal : {true, false}) {
    mc::options o;
    o.strategy = optimal ? mc::dpor() : mc::source_dpor();
    o.honour_env = false;
    const auto r = mc::explore(o, body);
    EXPECT_TRUE(r.complete) << r.report();
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_EQ(r.executions - r.abandoned, 354u) << r.report();
    EXPECT_EQ(r.abandoned, 0u) << r.report();
  }
}

// A thread that makes no step between its start and its end writes its end
// (what a join reads) in its first transition. The spawn wrote the thread's
// key too, but that is program order, not a race: taken for one, its
// reversal put the spawning thread to sleep before a spawn nothing else
// wakes (optimal dpor: 6 executions, 4 abandoned, then over again with
// source sets; source dpor 3, 1 abandoned).
TEST(DporCounts, AThreadThatMakesNoStepIsNoRaceWithItsSpawn) {
  struct program {
    bool three_writes;
    std::uint64_t traces;
  };
  for (const program p : {program{false, 2}, program{true, 12}}) {
    SCOPED_TRACE(p.three_writes ? "three writes and a load" : "a store and a load");
    const auto body = [&] {
      mc::atomic<int> x{0};
      mc::thread a([&] {
        x.store(1);
        if (p.three_writes) x.store(3);
      });
      mc::thread idle([] {});
      std::optional<mc::thread> c;
      if (p.three_writes) c.emplace([&] { (void)x.load(); });
      if (p.three_writes) x.store(2);
      else (void)x.load();
      a.join();
      idle.join();
      if (c) c->join();
    };
    for (auto s : {mc::dpor(), mc::source_dpor()}) {
      mc::options o;
      o.strategy = s;
      o.honour_env = false;
      const auto r = mc::explore(o, body);
      EXPECT_TRUE(r.complete) << r.report();
      EXPECT_TRUE(r.ok()) << r.report();
      EXPECT_EQ(r.executions, p.traces) << r.report();
      EXPECT_EQ(r.abandoned, 0u) << r.report();
    }
  }
}

// A seq_cst fence (rc11) reads and publishes the fence view and every
// location's latest seq_cst store: it is ordered against every read and
// write. A weaker fence touches only its own thread's views, and a thread's
// start only takes its spawner's: both commute with it. Taken for races
// with it, they cost executions, and optimal dpor, whose wakeup trees knew
// them independent, ran into sleep-set blocked ones and started over with
// source sets (message passing below: 23 executions, 10 abandoned; source
// dpor 15, 2 abandoned). Both still reach every outcome dfs does.
TEST(DporCounts, ASeqCstFenceCommutesWithAWeakerFenceAndAThreadStart) {
  struct program {
    const char* what;
    bool message_passing;
    std::uint64_t executions;
  };
  for (const program p : {program{"message passing, a release fence against a seq_cst one", true, 10},
                          program{"a seq_cst fence before a thread's start", false, 5}}) {
    SCOPED_TRACE(p.what);
    std::set<std::pair<int, int>> seen;
    const auto body = [&] {
      mc::atomic<int> x{0}, y{0};
      int r1 = -1, r2 = -1;
      if (p.message_passing) {
        mc::thread t([&] {
          x.store(1, std::memory_order_relaxed);
          mc::atomic_thread_fence(std::memory_order_release);
          y.store(1, std::memory_order_relaxed);
        });
        r1 = y.load(std::memory_order_relaxed);
        mc::atomic_thread_fence(std::memory_order_seq_cst);
        r2 = x.load(std::memory_order_relaxed);
        t.join();
      } else {
        mc::thread t([&] {
          mc::atomic_thread_fence(std::memory_order_release);
          x.store(1, std::memory_order_relaxed);
        });
        mc::atomic_thread_fence(std::memory_order_seq_cst);
        r1 = x.load(std::memory_order_relaxed);
        t.join();
      }
      seen.emplace(r1, r2);
    };
    mc::options o;
    o.honour_env = false;
    o.strategy = mc::dfs();
    ASSERT_TRUE(mc::explore(o, body).complete);
    const auto all = seen;
    // Message passing: the seq_cst fence acquires, so y = 1 then x = 0 is
    // never seen.
    if (p.message_passing) {
      EXPECT_EQ(all.count({1, 0}), 0u);
    }
    for (auto s : {mc::dpor(), mc::source_dpor()}) {
      seen.clear();
      o.strategy = s;
      const auto r = mc::explore(o, body);
      EXPECT_TRUE(r.complete) << r.report();
      EXPECT_EQ(seen, all) << mc::strategy_name(s.k);
      EXPECT_EQ(r.executions, p.executions) << mc::strategy_name(s.k);
      EXPECT_EQ(r.abandoned, 0u) << mc::strategy_name(s.k);
    }
  }
}

// Three threads each increment a counter twice under one mutex: 90 orders
// of the six critical sections. Relacy's exhaustive search needs 279,810
// executions; dfs here does not finish in a million.
void three_threads_two_sections() {
  mc::mutex m;
  int count = 0;
  auto inc = [&] {
    for (int i = 0; i < 2; ++i) {
      std::scoped_lock g(m);
      ++count;
    }
  };
  mc::thread a(inc), b(inc), c(inc);
  a.join();
  b.join();
  c.join();
  LOCKSTEP_ASSERT(count == 6);
}

TEST(DporCounts, ThreeThreadsTwoCriticalSectionsEachRunTheNinetyOrders) {
  const auto r = dpor(three_threads_two_sections);
  EXPECT_TRUE(r.complete) << r.report();
  EXPECT_EQ(r.executions, 90u);
  EXPECT_LE(r.executions, 2800u);
}

// A split dpor (jobs, shards) runs every trace once too, whatever the number
// of shards and each shard's job count: the same complete executions as one
// dpor, and the same total for 2, 4 or 8 shards (on 1, 2 or 3 jobs each).
// Where every frame the split expands is one dpor would expand anyway (all
// critical sections of one mutex race), not one execution more.
TEST(DporCounts, ShardsTogetherRunEachTraceOnce) {
  const std::pair<void (*)(), std::uint64_t> programs[] = {{[] { lastzero(5); }, 64},
                                                            {three_threads_two_sections, 90}};
  for (const auto& [body, traces] : programs) {
    std::uint64_t first_total = 0;
    for (unsigned shards : {2u, 4u, 8u}) {
      std::uint64_t runs = 0, total = 0;
      for (unsigned i = 0; i < shards; ++i) {
        mc::options o;
        o.strategy = mc::dpor();
        o.honour_env = false;
        o.shard_index = i;
        o.shard_count = shards;
        o.jobs = 1 + (i + shards) % 3;
        const auto r = mc::explore(o, body);
        EXPECT_FALSE(r.complete);
        EXPECT_TRUE(r.shard_complete) << r.report();
        runs += complete_runs(r);
        total += r.executions;
      }
      EXPECT_EQ(runs, traces) << shards << " shards";
      if (first_total == 0) first_total = total;
      EXPECT_EQ(total, first_total) << shards << " shards";
    }
  }
}

// 3 threads x n critical sections under one mutex: (3n)!/(n!)^3 orders, run
// exactly once each on one job, on two and three, and as two shards, with
// and without fair scheduling. A split frame tries every thread that runs a
// step, the spawns and starts too, and sleep sets stop the executions that
// add nothing there (abandoned: not counted here).
TEST(DporCounts, ThreeThreadsOfNSectionsTakeExactlyTheirOrdersOnAnySplit) {
  const std::uint64_t orders[] = {6, 90, 1680};
  for (const bool fair : {true, false}) {
    for (int n = 1; n <= 3; ++n) {
      auto body = [n] { lockstep::testing::sections(3, n); };
      mc::options o;
      o.strategy = mc::dpor();
      o.honour_env = false;
      o.fair_scheduling = fair;
      const std::string what = "n = " + std::to_string(n) + (fair ? ", fair" : ", unfair");
      const auto one = mc::explore(o, body);
      EXPECT_EQ(one.executions, orders[n - 1]) << what;
      EXPECT_EQ(one.abandoned, 0u) << what;
      for (const unsigned jobs : {2u, 3u}) {
        o.jobs = jobs;
        const auto r = mc::explore(o, body);
        EXPECT_TRUE(r.complete) << what;
        EXPECT_EQ(r.executions - r.abandoned, orders[n - 1]) << what << " on " << jobs << " jobs";
      }
      std::uint64_t sharded = 0;
      for (unsigned i = 0; i < 2; ++i) {
        o.shard_index = i;
        o.shard_count = 2;
        o.jobs = 1 + i;
        const auto r = mc::explore(o, body);
        EXPECT_TRUE(r.shard_complete) << what;
        sharded += r.executions - r.abandoned;
      }
      EXPECT_EQ(sharded, orders[n - 1]) << what << " as 2 shards";
    }
  }
}

// A split shares the work out by the first branching decisions. Where
// those are among threads that only start (or spawn, or join), nearly every
// execution used to fall into one subtree: the starts commute, sleep sets
// keep one order of them, and the other orders' subtrees end at once. Such
// decisions are part of the top but do not count toward its depth now, so
// the orders of the critical sections decide the subtrees. 4 threads x 2
// sections, 2,520 orders, as four shards (a hash of the subtree: the same
// split at every run): no shard keeps half of them. (With the starts
// counted, two subtrees held them all, 1,890 and 630.)
TEST(DporSplit, ThreadsThatStartInAnyOrderStillShareTheWork) {
  auto body = [] { lockstep::testing::sections(4, 2); };
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.shard_count = 4;
  std::uint64_t total = 0, most = 0;
  for (unsigned i = 0; i < 4; ++i) {
    o.shard_index = i;
    const auto r = mc::explore(o, body);
    EXPECT_TRUE(r.shard_complete);
    total += r.executions - r.abandoned;
    most = std::max(most, r.executions - r.abandoned);
  }
  EXPECT_EQ(total, 2520u);
  EXPECT_LT(most, total / 2);
}

// Under fair scheduling a yield defers to the threads that have not run
// since the yielder's previous one, and a thread blocked in an attempt that
// took no step is no longer among them: whether thread 1 tried its join
// before thread 2 yielded decides whether thread 2 may try m0 while thread
// 0 holds it. The top of a split tried every thread but one whose next step
// would only block, so thread 1 never tried its join while thread 2 waited
// for it there, and a search on 2 jobs or in shards reached only the
// outcome where both try_locks succeed (found by the differential test,
// seed 1618). Once a thread has yielded, such an attempt is tried too.
TEST(DporSplit, AnAttemptThatOnlyBlocksIsTriedOnceAThreadYielded) {
  std::set<std::pair<int, int>> seen;
  std::mutex seen_m;  // the workers of a split search run on OS threads
  const auto body = [&] {
    mc::mutex m0, m1;
    int r0 = -1, r2 = -1;
    mc::thread t1([&] {
      mc::thread t2([&] {
        mc::this_thread::yield();
        r2 = m0.try_lock() ? 1 : 0;
        if (r2 == 1) m0.unlock();
      });
      t2.join();
    });
    {
      std::scoped_lock g(m1);
      r0 = m0.try_lock() ? 1 : 0;
      if (r0 == 1) m0.unlock();
    }
    t1.join();
    std::scoped_lock g(seen_m);
    seen.emplace(r0, r2);
  };
  mc::options o;
  o.honour_env = false;
  o.strategy = mc::dfs();
  ASSERT_TRUE(mc::explore(o, body).complete);
  const std::set<std::pair<int, int>> all{{0, 1}, {1, 0}, {1, 1}};
  ASSERT_EQ(seen, all);
  for (auto s : {mc::dpor(), mc::source_dpor()}) {
    SCOPED_TRACE(mc::strategy_name(s.k));
    o.strategy = s;
    seen.clear();
    o.jobs = 2;
    EXPECT_TRUE(mc::explore(o, body).complete);
    EXPECT_EQ(seen, all) << "on 2 jobs";
    seen.clear();
    o.jobs = 1;
    o.shard_count = 3;
    for (unsigned i = 0; i < 3; ++i) {
      o.shard_index = i;
      EXPECT_TRUE(mc::explore(o, body).shard_complete);
    }
    o.shard_count = 1;
    o.shard_index = 0;
    EXPECT_EQ(seen, all) << "in 3 shards";
  }
}

// -- the futex protocol itself -----------------------------------------------------

using futex_mutex = lockstep::basic_mutex<mc::futex_platform>;

TEST(FutexProtocol, TwoThreadsTwoSectionsEachAreMutuallyExclusiveInEveryTrace) {
  const auto r = dpor([] {
    futex_mutex m;
    int inside = 0;
    auto body = [&] {
      for (int i = 0; i < 2; ++i) {
        std::scoped_lock g(m);
        LOCKSTEP_ASSERT(++inside == 1);
        mc::this_thread::yield();
        --inside;
      }
    };
    mc::thread t(body);
    body();
    t.join();
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete) << r.report();
  EXPECT_GT(r.executions, 6u);  // the protocol's steps: many more than the 6 orders
}

TEST(FutexProtocol, AnUnlockThatNeverWakesIsALostWakeUp) {
  // Drepper's protocol with the wake in unlock forgotten: a contended locker
  // sleeps forever.
  struct broken {
    mc::atomic<std::uint32_t> s{0};
    void lock() {
      std::uint32_t c = 0;
      if (s.compare_exchange_strong(c, 1)) return;
      if (c != 2) c = s.exchange(2);
      while (c != 0) {
        mc::futex_platform::wait(s, 2);
        c = s.exchange(2);
      }
    }
    void unlock() { (void)s.exchange(0); }  // BUG: no wake when it was 2
  };
  const auto r = dpor([] {
    broken m;
    mc::thread t([&] {
      m.lock();
      m.unlock();
    });
    m.lock();
    m.unlock();
    t.join();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::lost_wakeup);
}

// -- soundness: what dpor must still find ------------------------------------------

TEST(DporFinds, TheAbbaDeadlock) {
  const auto r = dpor([] {
    mc::mutex a, b;
    lockstep::testing::abba(a, b);
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::deadlock);
}

TEST(DporFinds, AMissingPredicateLoopThroughASpuriousWakeUp) {
  const auto r = dpor([] {
    mc::mutex m;
    mc::condition_variable cv;
    bool ready = false;
    mc::thread t([&] {
      std::unique_lock lk(m);
      if (!ready) cv.wait(lk);
      LOCKSTEP_ASSERT(ready);
    });
    {
      std::scoped_lock g(m);
      ready = true;
    }
    cv.notify_one();
    t.join();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.found->kind, bug_kind::assertion);
}

TEST(DporFinds, BothOutcomesOfATimedWait) {
  int acquired = 0, timed_out = 0;
  const auto r = dpor([&] {
    mc::counting_semaphore<1> s(0);
    mc::thread t([&] { s.release(); });
    const bool got = s.try_acquire_for(1ms);
    t.join();
    (got ? acquired : timed_out)++;
  });
  EXPECT_TRUE(r.complete) << r.report();
  EXPECT_GT(acquired, 0);
  EXPECT_GT(timed_out, 0);
}

TEST(DporFinds, ALostUpdateAndItsScheduleReplays) {
  auto body = [] {
    mc::atomic<int> n{0};
    auto inc = [&] { n.store(n.load() + 1); };
    mc::thread t(inc);
    inc();
    t.join();
    LOCKSTEP_ASSERT(n.load() == 2);
  };
  const auto r = dpor(body);
  ASSERT_FALSE(r.ok());
  mc::options o;
  o.strategy = mc::replay(r.found->schedule);
  o.honour_env = false;
  const auto again = mc::explore(o, body);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.found->kind, bug_kind::assertion);
}

// -- checkpoints -----------------------------------------------------------------------

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("lockstep-") + name + "-" +
                                                    std::to_string(::getpid())))
      .string();
}

// A search resumed from its checkpoint until a run completes: each run
// explores up to `per_run` executions, the first from a fresh checkpoint
// at temp_path(name) (o.checkpoint from then on); `each` sees every run's
// result. The last result; `runs` says how many it took. A run that fails
// what `each` checks, or `max_runs` runs without one that completes, fails
// the test and stops there.
template <class Body, class Each>
mc::result resume_until_complete(mc::options& o, const char* name, std::uint64_t per_run, std::uint64_t max_runs,
                                 Body&& body, Each&& each, std::uint64_t& runs) {
  o.checkpoint = temp_path(name);
  std::filesystem::remove(o.checkpoint);
  o.max_executions = per_run;
  for (runs = 1;; ++runs) {
    mc::result r = mc::explore(o, body);
    each(r);
    if (r.complete || ::testing::Test::HasFailure()) return r;
    if (runs == max_runs) {
      ADD_FAILURE() << o.name << ": not complete after " << runs << " resumed runs";
      return r;
    }
  }
}
constexpr auto kNothingToCheck = [](const mc::result&) {};

// A checkpoint file's bytes.
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void two_by_two() {
  mc::mutex m;
  mc::atomic<int> x{0};
  auto body = [&] {
    for (int i = 0; i < 2; ++i) {
      std::scoped_lock g(m);
      x.store(x.load() + 1);
    }
  };
  mc::thread a(body);
  body();
  a.join();
}

TEST(Checkpoint, AnInterruptedSearchResumesWhereItStopped) {
  for (const auto& spec : {mc::dfs(), mc::dpor()}) {
    mc::options o;
    o.strategy = spec;
    o.honour_env = false;
    o.name = "two_by_two";
    const auto whole = mc::explore(o, two_by_two);
    ASSERT_TRUE(whole.complete);
    std::uint64_t rounds = 0;  // three interrupted runs, then the last one completes
    const mc::result r = resume_until_complete(o, "resume", whole.executions / 3, 9, two_by_two, kNothingToCheck, rounds);
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.executions, whole.executions) << mc::strategy_name(spec.k);
    EXPECT_GE(rounds, 3u);
    EXPECT_FALSE(std::filesystem::exists(o.checkpoint)) << "a complete search removes its checkpoint";
  }
}

// A checkpoint cut short at any line, or with one byte changed, is refused:
// a truncated state once resumed at its end and said "complete" with most
// of the search (and its bug) never run.
TEST(Checkpoint, ACutOrDamagedCheckpointIsRefusedNeverResumed) {
  for (const auto& spec : {mc::dfs(), mc::dpor()}) {
    mc::options o;
    o.strategy = spec;
    o.honour_env = false;
    o.name = "two_by_two";
    o.checkpoint = temp_path("cut");
    std::filesystem::remove(o.checkpoint);
    o.max_executions = 5;
    ASSERT_FALSE(mc::explore(o, two_by_two).complete);
    const std::string whole = read_file(o.checkpoint);
    ASSERT_NE(whole.find("\ncheck "), std::string::npos) << whole;
    std::vector<std::string> bad;
    for (std::size_t at = whole.find('\n'); at + 1 < whole.size(); at = whole.find('\n', at + 1))
      bad.push_back(whole.substr(0, at + 1));  // cut after a line
    for (std::size_t at = 0; at < whole.size(); at += 7) {
      std::string damaged = whole;
      damaged[at] = damaged[at] == '0' ? '1' : '0';
      bad.push_back(damaged);
    }
    for (const std::string& content : bad) {
      if (content.rfind("lockstep-checkpoint 4\n", 0) != 0) continue;  // the magic line's own errors: above
      std::ofstream(o.checkpoint, std::ios::binary | std::ios::trunc) << content;
      try {
        const auto r = mc::explore(o, two_by_two);
        ADD_FAILURE() << "resumed from a damaged checkpoint (" << r.executions << " executions):\n" << content;
      } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("damaged or cut short"), std::string::npos) << e.what();
      }
    }
    std::filesystem::remove(o.checkpoint);
  }
}

// Optimal dpor's wakeup trees go into the checkpoint too: lastzero(5) resumed
// every 10 executions still runs its 64 traces once each, none abandoned.
TEST(Checkpoint, WakeupTreesSurviveAResume) {
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.name = "lastzero";
  std::uint64_t rounds = 0;
  const mc::result r = resume_until_complete(o, "wakeup", 10, 19, [] { lastzero(5); }, kNothingToCheck, rounds);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.executions, 64u);
  EXPECT_EQ(r.abandoned, 0u);
  EXPECT_GE(rounds, 7u);
}

// An execution ended while another thread still waits: dpor records the
// last step (a semaphore release, announced as a monitor step with its
// fields) as a global access in its frame, so that sibling branches wake it
// at any step. Saved with the monitor's fields still on it, the frame was
// refused when the search resumed ("bad dpor frame"). And optimal dpor,
// which such an ending sends back to the start with source sets, was saved
// as if it went on with source sets from where it was, without the races
// of the execution that sent it back: resumed, it ran 3 of the 4
// executions.
TEST(Checkpoint, AStepWidenedAtTheEndOfAnExecutionSurvivesAResume) {
  auto body = [] {
    mc::atomic<int> x{0};
    mc::counting_semaphore<8> sem(0);
    mc::event ev;
    mc::thread t([&] {
      x.store(2);
      ev.wait();  // never set: waiting when the execution ends
    });
    x.store(1);
    sem.release();
    mc::detail::end_execution();
  };
  for (const auto& spec : {mc::dpor(), mc::source_dpor()}) {
    mc::options o;
    o.strategy = spec;
    o.honour_env = false;
    o.name = "ended_with_a_waiter";
    const auto whole = mc::explore(o, body);
    ASSERT_TRUE(whole.complete) << whole.report();
    ASSERT_TRUE(whole.ok()) << whole.report();
    ASSERT_GE(whole.executions, 2u);
    std::uint64_t rounds = 0;  // one execution a run, each resumed from the last one's checkpoint
    const mc::result r = resume_until_complete(
        o, "widened", 1, 19, body, [](const mc::result& run) { EXPECT_TRUE(run.ok()) << run.report(); }, rounds);
    ASSERT_TRUE(r.complete && r.ok());
    EXPECT_EQ(r.executions, whole.executions) << mc::strategy_name(spec.k);
    EXPECT_EQ(r.abandoned, whole.abandoned) << mc::strategy_name(spec.k);
    EXPECT_GE(rounds, 2u);
  }
}

// A checkpoint's last line: "check " and the FNV-1a hash of the bytes before.
std::string checked(const std::string& body) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : body) h = (h ^ c) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return body + "check " + hex + "\n";
}

// Whether the search so far left out what only an unfair system does
// (result::fair_only) is saved, and a resumed search that left nothing out
// itself still says so. A version 2 checkpoint, from before the line, is
// read as one whose search did.
TEST(Checkpoint, WhatFairSchedulingLeftOutSurvivesAResume) {
  const auto yields = [] {
    mc::atomic<int> x{0};
    mc::thread t([&] {
      mc::this_thread::yield();
      x.store(1);
    });
    (void)x.load();
    t.join();
  };
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.name = "fair";
  bool saved_cut = false;  // a checkpoint said so before the last run
  std::uint64_t rounds = 0;
  const mc::result last = resume_until_complete(
      o, "fair", 1, 20, yields,
      [&](const mc::result& r) {
        if (!r.complete)
          saved_cut = saved_cut || read_file(o.checkpoint).find("\nfair-cut 1\n") != std::string::npos;
      },
      rounds);
  ASSERT_TRUE(last.complete);
  EXPECT_TRUE(last.fair_only) << last.report();
  EXPECT_TRUE(saved_cut);

  // two_by_two never yields: its own search is plainly complete.
  o.name = "two_by_two";
  o.max_executions = 3;
  ASSERT_FALSE(mc::explore(o, two_by_two).complete);
  const std::string saved = read_file(o.checkpoint);
  const std::size_t at = saved.find("\nfair-cut 0\n");
  ASSERT_NE(at, std::string::npos) << saved;
  const std::string body = saved.substr(0, saved.find("check "));
  ASSERT_EQ(saved.find("\nfair-cut 0\nspurious-cut 0\n"), at) << saved;
  for (const bool v2 : {false, true}) {
    std::string edited = body;
    if (v2) {
      edited.erase(at + 1, std::string("fair-cut 0\nspurious-cut 0\n").size());
      edited.replace(0, std::string("lockstep-checkpoint 4").size(), "lockstep-checkpoint 2");
    } else {
      edited[at + std::string("\nfair-cut ").size()] = '1';
    }
    std::ofstream(o.checkpoint, std::ios::binary | std::ios::trunc) << checked(edited);
    o.max_executions = 0;
    const auto r = mc::explore(o, two_by_two);
    EXPECT_TRUE(r.complete && r.fair_only) << (v2 ? "version 2: " : "fair-cut 1: ") << r.report();
  }
  o.max_executions = 0;
  EXPECT_FALSE(mc::explore(o, two_by_two).fair_only);  // the checkpoint is gone: a fresh search
}

// Whether a condition-variable wait met the spurious wake-up bound
// (result::spurious_bound) survives a resume the same way: the search whose
// last run met no wait still names the bound an earlier run met. A version 3
// checkpoint, from before the line, is read as one whose search did.
TEST(Checkpoint, TheSpuriousWakeupBoundAWaitMetSurvivesAResume) {
  const auto waits = [] {
    mc::mutex m;
    mc::condition_variable cv;
    mc::atomic<bool> ready{false};
    mc::thread t([&] {
      std::unique_lock lk(m);
      cv.wait(lk, [&] { return ready.load(); });
    });
    {
      std::scoped_lock g(m);
      ready.store(true);
    }
    cv.notify_one();
    t.join();
  };
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.name = "spurious";
  bool saved_cut = false;
  std::uint64_t rounds = 0;
  const mc::result whole = mc::explore(o, waits);  // not checkpointed: resume_until_complete() names the file
  ASSERT_TRUE(whole.complete);
  ASSERT_EQ(whole.spurious_bound, 1) << whole.report();
  const mc::result last = resume_until_complete(
      o, "spurious", 1, 200, waits,
      [&](const mc::result& r) {
        if (!r.complete)
          saved_cut = saved_cut || read_file(o.checkpoint).find("\nspurious-cut 1\n") != std::string::npos;
      },
      rounds);
  ASSERT_TRUE(last.complete);
  EXPECT_EQ(last.executions, whole.executions);
  EXPECT_EQ(last.spurious_bound, 1) << last.report();
  EXPECT_TRUE(saved_cut);

  // two_by_two has no wait: plainly complete, but for a version 3 checkpoint.
  o.name = "two_by_two";
  o.max_executions = 3;
  ASSERT_FALSE(mc::explore(o, two_by_two).complete);
  const std::string saved = read_file(o.checkpoint);
  const std::size_t at = saved.find("\nspurious-cut 0\n");
  ASSERT_NE(at, std::string::npos) << saved;
  std::string v3 = saved.substr(0, saved.find("check "));
  v3.erase(at + 1, std::string("spurious-cut 0\n").size());
  v3.replace(0, std::string("lockstep-checkpoint 4").size(), "lockstep-checkpoint 3");
  std::ofstream(o.checkpoint, std::ios::binary | std::ios::trunc) << checked(v3);
  o.max_executions = 0;
  const auto r = mc::explore(o, two_by_two);
  EXPECT_TRUE(r.complete && r.spurious_bound == 1) << "version 3: " << r.report();
  EXPECT_EQ(mc::explore(o, two_by_two).spurious_bound, -1);  // the checkpoint is gone: a fresh search
}

// The steps a yield must wake in the branch that reverses a window race
// (frame::yield_wakes, and the sleepers tagged with them) go into the
// checkpoint: resumed after every execution, dpor still runs the body's lock
// between the thread's yield and its failed try_lock (1, 0, 2; see
// Fairness.DporRunsAStepAfterAYieldThatMovesItIntoTheNextWindow in
// test_soundness.cpp).
TEST(Checkpoint, TheStepsAYieldMustWakeSurviveAResume) {
  bool reached = false;
  auto body = [&] { lockstep::testing::yield_then_try(reached); };
  for (const auto& spec : {mc::dpor(), mc::source_dpor()}) {
    mc::options o;
    o.strategy = spec;
    o.honour_env = false;
    o.name = "yield_wakes";
    o.skip_abandoned = true;
    bool kept = false;  // reached by an execution the search relies on
    o.on_execution = [&](const mc::bug*) { kept = kept || reached; };
    std::uint64_t rounds = 0;
    const mc::result r = resume_until_complete(
        o, "yield-wakes", 1, 99,
        [&] {
          reached = false;
          body();
        },
        kNothingToCheck, rounds);
    ASSERT_TRUE(r.complete);
    EXPECT_TRUE(kept) << mc::strategy_name(spec.k) << ", " << rounds << " rounds";
  }
}

// A checkpoint that could never be saved is refused before the search (it
// used to fail at the first save, as an internal error, losing the search).
TEST(Checkpoint, APathThatCannotBeWrittenIsRefusedBeforeTheSearch) {
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.name = "m";
  o.checkpoint = temp_path("missing-dir") + "/ck";
  int executions = 0;
  try {
    (void)mc::explore(o, [&] {
      ++executions;
      two_by_two();
    });
    ADD_FAILURE() << "searched with a checkpoint in a missing directory";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
  EXPECT_EQ(executions, 0);
}

// A save that fails during the search (here the directory is removed by the
// first execution) does not stop it or lose its result: the result and the
// report say why the last save failed.
TEST(Checkpoint, ASaveThatFailsDuringTheSearchKeepsTheResult) {
  const std::string dir = temp_path("vanishing-dir");
  std::filesystem::create_directories(dir);
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.name = "m";
  o.max_executions = 5;
  o.checkpoint = dir + "/ck";
  const auto r = mc::explore(o, [&] {
    std::filesystem::remove_all(dir);
    three_threads_two_sections();
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.executions, 5u);
  EXPECT_NE(r.checkpoint_error.find("cannot write checkpoint " + o.checkpoint), std::string::npos)
      << r.checkpoint_error;
  EXPECT_NE(r.report().find("checkpoint: not written: "), std::string::npos) << r.report();
  // Where it can be written, the same search saves and says nothing.
  std::filesystem::create_directories(dir);
  const auto saved = mc::explore(o, three_threads_two_sections);
  EXPECT_TRUE(saved.checkpoint_error.empty()) << saved.checkpoint_error;
  EXPECT_TRUE(std::filesystem::exists(o.checkpoint));
  std::filesystem::remove_all(dir);
}

// A checkpoint is read as hostile input: a huge file of zeros is refused at
// its first line, after one buffer, not read into memory.
TEST(Checkpoint, AHugeFileOfZerosIsRefusedAtOnce) {
  const std::string path = temp_path("zeros");
  std::filesystem::remove(path);
  std::ofstream(path, std::ios::binary).close();
  std::filesystem::resize_file(path, std::uintmax_t{16} << 30);  // sparse: costs no disk
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.name = "m";
  o.checkpoint = path;
  try {
    (void)mc::explore(o, two_by_two);
    ADD_FAILURE() << "accepted 16 GiB of zeros";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("line 1: not a lockstep checkpoint"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

// The parser behind the check: forged files whose check line is right.
TEST(Checkpoint, DamagedOrForeignFilesAreRefusedWithTheLine) {
  const std::string path = temp_path("bad");
  auto refuse = [&](const std::string& content, const std::string& words) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        << (content.rfind("lockstep-checkpoint 2\n", 0) == 0 || content.rfind("lockstep-checkpoint 3\n", 0) == 0 ||
                    content.rfind("lockstep-checkpoint 4\n", 0) == 0
                ? checked(content)
                : content);
    mc::options o;
    o.strategy = mc::dpor();
    o.honour_env = false;
    o.name = "m";
    o.checkpoint = path;
    try {
      (void)mc::explore(o, two_by_two);
      ADD_FAILURE() << "accepted: " << content;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refuse("", "line 1: empty file");
  refuse("lockstep-checkpoint 5\n", "newer lockstep");
  refuse("lockstep-checkpoint 4\nstrategy dpor\nname m\nexecutions 3\nfair-cut 0\nstate\n", "expected 'spurious-cut '");
  refuse("lockstep-checkpoint 4\nstrategy dpor\nname m\nexecutions 3\nfair-cut 0\nspurious-cut x\nstate\n",
         "spurious-cut is 'x'");
  refuse("lockstep-checkpoint 3\nstrategy dpor\nname m\nexecutions 3\nstate\n", "expected 'fair-cut '");
  refuse("lockstep-checkpoint 3\nstrategy dpor\nname m\nexecutions 3\nfair-cut 2\nstate\n", "fair-cut is '2'");
  refuse("lockstep-checkpoint 3\nstrategy dpor\nname m\nexecutions 3\nfair-cut 1\nstate\nabandoned 0\n"
         "t 0 | c 0:1:3:0 | b 0 | d 0 | s | y 1\n",
         "bad dpor frame");
  refuse("lockstep-checkpoint 3\nstrategy dpor\nname m\nexecutions 3\nfair-cut 1\nstate\nabandoned 0\n"
         "t 0 | c 0:1:3:0 | b 0 | d 0 | s | z 1:0\n",
         "bad dpor frame");  // a tag for a thread that does not sleep there
  refuse("lockstep-checkpoint 1\nstrategy dpor\n", "older lockstep");
  refuse("\x7f" "ELF\x01\x02", "not a lockstep checkpoint");
  refuse("lockstep-checkpoint 2\nstrategy dfs\n", "a dfs search");
  refuse("lockstep-checkpoint 2\nstrategy dpor\nname other\n", "belongs to 'other'");
  refuse("lockstep-checkpoint 2\nstrategy dpor\nname m\nexecutions 12\n", "line 5: ends early");
  refuse("lockstep-checkpoint 2\nstrategy dpor\nname m\nexecutions x\nstate\n", "bad execution count");
  refuse("lockstep-checkpoint 2\nstrategy dpor\nname m\nexecutions 3\nstate\nabandoned 0\nq 1\n",
         "unknown dpor frame");
  // A value frame's alternatives are allocated: a forged count is refused
  // before (4294967295 of them took 16 GiB).
  refuse("lockstep-checkpoint 2\nstrategy dpor\nname m\nexecutions 3\nstate\nabandoned 0\nv 4294967295 0 | 0\n",
         "bad value frame");
  refuse("lockstep-checkpoint 2\nstrategy dpor\nname m\nexecutions 3\nstate\nabandoned 0\n"
         "t 0 | c 0:1:3:9 | b 0 | d 0 | s\n",
         "bad dpor frame");
  std::filesystem::remove(path);
}

}  // namespace
