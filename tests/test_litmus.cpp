// The litmus tests of the C++ memory model under memory_model = rc11:
// explored exhaustively (dfs, then dpor), each must observe exactly the
// outcomes RC11 allows, every one of them and nothing else.
//
// Where the sets come from: the RC11 paper (Lahav, Vafeiadis, Kang, Hur,
// Dreyer, "Repairing sequential consistency in C/C++11", PLDI 2017: its
// axioms coherence (hb;eco irreflexive), atomicity, SC (psc acyclic) and
// no-thin-air (po ∪ rf acyclic)), worked out per test in its comment; the
// same outcomes herd7's rc11.cat gives for these shapes. Release sequences
// follow C++20 (a release store followed by read-modify-writes only; a
// relaxed store of the same thread ends it).
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "lockstep/mc/atomic.hpp"
#include "lockstep/mc/explore.hpp"
#include "lockstep/mc/platform.hpp"
#include "lockstep/mc/shared.hpp"
#include "lockstep/mc/thread.hpp"

namespace mc = lockstep::mc;

namespace {

constexpr auto rlx = std::memory_order_relaxed;
constexpr auto acq = std::memory_order_acquire;
constexpr auto rel = std::memory_order_release;
constexpr auto sc = std::memory_order_seq_cst;

using outcome = std::vector<int>;
using outcomes = std::set<outcome>;

// Runs `body` (which appends its observations to the vector it is given)
// under `strategy`, exhaustively, and returns every outcome seen.
outcomes explore_all(const std::function<void(outcome&)>& body, mc::strategy_spec strategy,
                     mc::memory_model model, std::uint64_t* executions = nullptr, int preemption_bound = -1) {
  outcomes seen;
  mc::options o;
  o.strategy = strategy;
  o.preemption_bound = preemption_bound;
  o.memory_model = model;
  o.honour_env = false;
  o.shrink = false;
  const mc::result r = mc::explore(o, [&] {
    outcome out;
    body(out);
    seen.insert(out);
  });
  EXPECT_TRUE(r.ok()) << r.report();
  // A bounded search covers every schedule within its bound (not `complete`).
  EXPECT_TRUE(r.complete || preemption_bound >= 0) << r.report();
  if (executions != nullptr) *executions = r.executions;
  return seen;
}

std::string show(const outcomes& s) {
  std::string out;
  for (const outcome& o : s) {
    out += " (";
    for (std::size_t i = 0; i < o.size(); ++i) out += (i ? "," : "") + std::to_string(o[i]);
    out += ")";
  }
  return out;
}

struct litmus {
  const char* name;
  std::function<void(outcome&)> body;
  outcomes allowed;  // exactly the outcomes RC11 allows
  // Four or five threads: plain dfs runs millions of interleavings, so it
  // searches within this many preemptions (every outcome needs at most two;
  // dpor checks them exhaustively).
  int dfs_bound = -1;
};

// Two threads; t0 and t1 write into their own slots, read after the join.
template <class A, class B>
void two(outcome& out, int n0, int n1, A a, B b) {
  std::vector<int> r0(static_cast<std::size_t>(n0)), r1(static_cast<std::size_t>(n1));
  mc::thread t0([&] { a(r0); });
  mc::thread t1([&] { b(r1); });
  t0.join();
  t1.join();
  out.insert(out.end(), r0.begin(), r0.end());
  out.insert(out.end(), r1.begin(), r1.end());
}

std::vector<litmus> cases() {
  std::vector<litmus> v;
  // MP: message passing. With relaxed flag, the data may be stale (1,0):
  // nothing orders the two threads. A release store read by an acquire load
  // (or fences around relaxed accesses) forbids it (coherence: Wx hb Rx).
  auto mp = [](std::memory_order st, std::memory_order ld, bool fences) {
    return [=](outcome& out) {
      mc::atomic<int> x{0}, y{0};
      two(out, 0, 2,
          [&](std::vector<int>&) {
            x.store(1, rlx);
            if (fences) mc::atomic_thread_fence(rel);
            y.store(1, st);
          },
          [&](std::vector<int>& r) {
            r[0] = y.load(ld);
            if (fences) mc::atomic_thread_fence(acq);
            r[1] = x.load(rlx);
          });
    };
  };
  v.push_back({"MP", mp(rlx, rlx, false), {{0, 0}, {0, 1}, {1, 0}, {1, 1}}});
  v.push_back({"MP+rel+acq", mp(rel, acq, false), {{0, 0}, {0, 1}, {1, 1}}});
  v.push_back({"MP+rel+rlx", mp(rel, rlx, false), {{0, 0}, {0, 1}, {1, 0}, {1, 1}}});
  v.push_back({"MP+fences", mp(rlx, rlx, true), {{0, 0}, {0, 1}, {1, 1}}});
  v.push_back({"MP+sc", mp(sc, sc, false), {{0, 0}, {0, 1}, {1, 1}}});

  // SB: store buffering. (0,0) is allowed unless seq_cst orders the pair:
  // seq_cst accesses, or seq_cst fences between relaxed ones (psc acyclic).
  auto sb = [](std::memory_order st, std::memory_order ld, bool fences) {
    return [=](outcome& out) {
      mc::atomic<int> x{0}, y{0};
      two(out, 1, 1,
          [&](std::vector<int>& r) {
            x.store(1, st);
            if (fences) mc::atomic_thread_fence(sc);
            r[0] = y.load(ld);
          },
          [&](std::vector<int>& r) {
            y.store(1, st);
            if (fences) mc::atomic_thread_fence(sc);
            r[0] = x.load(ld);
          });
    };
  };
  v.push_back({"SB", sb(rlx, rlx, false), {{0, 0}, {0, 1}, {1, 0}, {1, 1}}});
  v.push_back({"SB+rel+acq", sb(rel, acq, false), {{0, 0}, {0, 1}, {1, 0}, {1, 1}}});
  v.push_back({"SB+sc", sb(sc, sc, false), {{0, 1}, {1, 0}, {1, 1}}});
  v.push_back({"SB+fences", sb(rlx, rlx, true), {{0, 1}, {1, 0}, {1, 1}}});
  // seq_cst stores with relaxed loads: the loads are not in psc, (0,0) stays.
  v.push_back({"SB+sc+rlx", sb(sc, rlx, false), {{0, 0}, {0, 1}, {1, 0}, {1, 1}}});

  // LB: load buffering. (1,1) would need po ∪ rf to have a cycle (the
  // no-thin-air axiom), whatever the orders.
  v.push_back({"LB", [](outcome& out) {
                 mc::atomic<int> x{0}, y{0};
                 two(out, 1, 1,
                     [&](std::vector<int>& r) {
                       r[0] = x.load(rlx);
                       y.store(1, rlx);
                     },
                     [&](std::vector<int>& r) {
                       r[0] = y.load(rlx);
                       x.store(1, rlx);
                     });
               },
               {{0, 0}, {0, 1}, {1, 0}}});

  // IRIW: two readers see two independent writes in opposite orders. With
  // acquire loads RC11 allows it (it is not multi-copy atomic); with seq_cst
  // everywhere it does not: every other of the 16 outcomes remains.
  auto iriw = [](std::memory_order st, std::memory_order ld) {
    return [=](outcome& out) {
      mc::atomic<int> x{0}, y{0};
      int a = 0, b = 0, c = 0, d = 0;
      mc::thread w0([&] { x.store(1, st); });
      mc::thread w1([&] { y.store(1, st); });
      mc::thread r0([&] {
        a = x.load(ld);
        b = y.load(ld);
      });
      mc::thread r1([&] {
        c = y.load(ld);
        d = x.load(ld);
      });
      w0.join();
      w1.join();
      r0.join();
      r1.join();
      out = {a, b, c, d};
    };
  };
  outcomes all16;
  for (int i = 0; i < 16; ++i) all16.insert({i >> 3 & 1, i >> 2 & 1, i >> 1 & 1, i & 1});
  v.push_back({"IRIW+acq", iriw(rel, acq), all16, 2});
  outcomes iriw_sc = all16;
  iriw_sc.erase({1, 0, 1, 0});
  v.push_back({"IRIW+sc", iriw(sc, sc), iriw_sc, 2});

  // WRC: write-to-read causality. Thread 1 read x = 1 and then released y:
  // with an acquire of y, thread 2 must see x = 1 too (hb;eco irreflexive:
  // what thread 1 read travels in its release). Relaxed: anything goes.
  auto wrc = [](std::memory_order st, std::memory_order ld) {
    return [=](outcome& out) {
      mc::atomic<int> x{0}, y{0};
      int a = 0, b = 0, c = 0;
      mc::thread t0([&] { x.store(1, rlx); });
      mc::thread t1([&] {
        a = x.load(rlx);
        y.store(1, st);
      });
      mc::thread t2([&] {
        b = y.load(ld);
        c = x.load(rlx);
      });
      t0.join();
      t1.join();
      t2.join();
      out = {a, b, c};
    };
  };
  outcomes all8;
  for (int i = 0; i < 8; ++i) all8.insert({i >> 2 & 1, i >> 1 & 1, i & 1});
  // b = 1 needs y's store, which comes after a's load: (0,1,*) is possible too.
  v.push_back({"WRC", wrc(rlx, rlx), all8});
  outcomes wrc_ra = all8;
  wrc_ra.erase({1, 1, 0});
  v.push_back({"WRC+rel+acq", wrc(rel, acq), wrc_ra});

  // ISA2: a chain of three threads, release/acquire at each link: the
  // first store must be visible at the end (hb is transitive).
  auto isa2 = [](std::memory_order st, std::memory_order ld) {
    return [=](outcome& out) {
      mc::atomic<int> x{0}, y{0}, z{0};
      int a = 0, b = 0, c = 0;
      mc::thread t0([&] {
        x.store(1, rlx);
        y.store(1, st);
      });
      mc::thread t1([&] {
        a = y.load(ld);
        z.store(1, st);
      });
      mc::thread t2([&] {
        b = z.load(ld);
        c = x.load(rlx);
      });
      t0.join();
      t1.join();
      t2.join();
      out = {a, b, c};
    };
  };
  v.push_back({"ISA2", isa2(rlx, rlx), all8, 2});
  outcomes isa2_ra = all8;
  isa2_ra.erase({1, 1, 0});
  v.push_back({"ISA2+rel+acq", isa2(rel, acq), isa2_ra, 2});

  // 2+2W: each thread writes both locations, in opposite orders; the final
  // values (1,1) need mo to disagree with both threads' program order across
  // locations, which only seq_cst forbids.
  auto w22 = [](std::memory_order o) {
    return [=](outcome& out) {
      mc::atomic<int> x{0}, y{0};
      two(out, 0, 0,
          [&](std::vector<int>&) {
            x.store(1, o);
            y.store(2, o);
          },
          [&](std::vector<int>&) {
            y.store(1, o);
            x.store(2, o);
          });
      out = {x.load(), y.load()};
    };
  };
  v.push_back({"2+2W", w22(rlx), {{1, 1}, {1, 2}, {2, 1}, {2, 2}}});
  v.push_back({"2+2W+rel", w22(rel), {{1, 1}, {1, 2}, {2, 1}, {2, 2}}});
  v.push_back({"2+2W+sc", w22(sc), {{1, 2}, {2, 1}, {2, 2}}});

  // R: thread 1's store to y is mo-after thread 0's, yet its load of x
  // misses thread 0's earlier store: allowed unless seq_cst.
  auto r_test = [](std::memory_order o) {
    return [=](outcome& out) {
      mc::atomic<int> x{0}, y{0};
      two(out, 0, 1,
          [&](std::vector<int>&) {
            x.store(1, o);
            y.store(1, o);
          },
          [&](std::vector<int>& r) {
            y.store(2, o);
            r[0] = x.load(o);
          });
      out.insert(out.begin(), y.load());
    };
  };
  v.push_back({"R", r_test(rlx), {{1, 0}, {1, 1}, {2, 0}, {2, 1}}});
  v.push_back({"R+sc", r_test(sc), {{1, 0}, {1, 1}, {2, 1}}});

  // S: thread 1 acquired thread 0's release of y, so its store to x is
  // hb-after thread 0's and must be mo-after it: x ends 1. Relaxed: either.
  auto s_test = [](std::memory_order st, std::memory_order ld) {
    return [=](outcome& out) {
      mc::atomic<int> x{0}, y{0};
      two(out, 0, 1,
          [&](std::vector<int>&) {
            x.store(2, rlx);
            y.store(1, st);
          },
          [&](std::vector<int>& r) {
            r[0] = y.load(ld);
            x.store(1, rlx);
          });
      out.push_back(x.load());
    };
  };
  v.push_back({"S", s_test(rlx, rlx), {{0, 1}, {0, 2}, {1, 1}, {1, 2}}});
  v.push_back({"S+rel+acq", s_test(rel, acq), {{0, 1}, {0, 2}, {1, 1}}});

  // Coherence, relaxed: one location's reads and writes agree with mo.
  v.push_back({"CoRR", [](outcome& out) {  // a later read is no older
                 mc::atomic<int> x{0};
                 two(out, 0, 2, [&](std::vector<int>&) { x.store(1, rlx); },
                     [&](std::vector<int>& r) {
                       r[0] = x.load(rlx);
                       r[1] = x.load(rlx);
                     });
               },
               {{0, 0}, {0, 1}, {1, 1}}});
  v.push_back({"CoWR", [](outcome& out) {  // a thread reads its own store or a newer one
                 mc::atomic<int> x{0};
                 two(out, 1, 0,
                     [&](std::vector<int>& r) {
                       x.store(1, rlx);
                       r[0] = x.load(rlx);
                     },
                     [&](std::vector<int>&) { x.store(2, rlx); });
               },
               {{1}, {2}}});
  v.push_back({"CoRW", [](outcome& out) {  // a store after a read goes after what it read
                 mc::atomic<int> x{0};
                 two(out, 1, 0,
                     [&](std::vector<int>& r) {
                       r[0] = x.load(rlx);
                       x.store(1, rlx);
                     },
                     [&](std::vector<int>&) { x.store(2, rlx); });
                 out.push_back(x.load());
               },
               {{0, 1}, {0, 2}, {2, 1}}});
  v.push_back({"CoWW", [](outcome& out) {  // a thread's stores keep their order
                 mc::atomic<int> x{0};
                 two(out, 0, 1,
                     [&](std::vector<int>&) {
                       x.store(1, rlx);
                       x.store(2, rlx);
                     },
                     [&](std::vector<int>& r) { r[0] = x.load(rlx); });
                 out.push_back(x.load());
               },
               {{0, 2}, {1, 2}, {2, 2}}});

  // Atomicity: two relaxed increments never lose one.
  v.push_back({"RMW", [](outcome& out) {
                 mc::atomic<int> x{0};
                 two(out, 1, 1, [&](std::vector<int>& r) { r[0] = x.fetch_add(1, rlx); },
                     [&](std::vector<int>& r) { r[0] = x.fetch_add(1, rlx); });
                 out.push_back(x.load());
               },
               {{0, 1, 2}, {1, 0, 2}}});

  // Release sequences: thread 0 publishes data with a release store of x;
  // a relaxed read-modify-write of x by thread 1 continues the sequence, so
  // reading its value (2) with acquire still makes data visible. Reading the
  // increment that came first (x = 1 from the RMW that read 0) does not.
  auto rs = [](bool rmw) {
    return [=](outcome& out) {
      mc::atomic<int> data{0}, x{0};
      int a = 0, b = 0;
      mc::thread t0([&] {
        data.store(1, rlx);
        x.store(1, rel);
      });
      mc::thread t1([&] {
        if (rmw) x.fetch_add(1, rlx);
        else x.store(2, rlx);
      });
      mc::thread t2([&] {
        a = x.load(acq);
        b = data.load(rlx);
      });
      t0.join();
      t1.join();
      t2.join();
      out = {a, b};
    };
  };
  v.push_back({"RelSeq+RMW", rs(true), {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 1}}});
  // A relaxed store of another thread is no part of it: (2,0) is allowed.
  v.push_back({"RelSeq+store", rs(false), {{0, 0}, {0, 1}, {1, 1}, {2, 0}, {2, 1}}});

  // A futex wait compares the word's mo-latest value, as the kernel does
  // under its lock, whether it then blocks, skips (the word differs) or
  // times out at once (its deadline has passed): after a timeout that saw
  // 1, a relaxed load cannot read the older 0. ((1,0) once came out where
  // the views were built after the timeout, from the events.)
  v.push_back({"FutexTimeout+rlx",
               [](outcome& out) {
                 mc::atomic<std::uint32_t> word{0};
                 mc::thread t([&] { word.store(1); });
                 const bool timed_out = !mc::platform::wait_until(word, 1, mc::platform::clock::time_point{});
                 const auto r = static_cast<int>(word.load(rlx));
                 t.join();
                 out = {timed_out ? 1 : 0, r};
               },
               {{0, 0}, {0, 1}, {1, 1}}});
  return v;
}

class Litmus : public ::testing::TestWithParam<litmus> {};

TEST_P(Litmus, DfsObservesExactlyTheAllowedOutcomes) {
  const litmus& t = GetParam();
  std::uint64_t n = 0;
  const outcomes seen = explore_all(t.body, mc::dfs(), mc::memory_model::rc11, &n, t.dfs_bound);
  EXPECT_EQ(seen, t.allowed) << t.name << ": seen" << show(seen) << "\n  allowed" << show(t.allowed);
  RecordProperty("executions", std::to_string(n));
}

TEST_P(Litmus, DporObservesTheSameOutcomesAsDfs) {
  const litmus& t = GetParam();
  std::uint64_t n = 0;
  const outcomes seen = explore_all(t.body, mc::dpor(), mc::memory_model::rc11, &n);
  RecordProperty("executions", std::to_string(n));
  EXPECT_EQ(seen, t.allowed) << t.name << ": seen" << show(seen) << "\n  allowed" << show(t.allowed);
}

TEST_P(Litmus, RandomSamplesOnlyAllowedOutcomes) {
  const litmus& t = GetParam();
  outcomes seen;
  mc::options o;
  o.strategy = mc::random(7);
  o.max_executions = 2000;
  o.honour_env = false;
  const mc::result r = mc::explore(o, [&] {
    outcome out;
    t.body(out);
    seen.insert(out);
  });
  ASSERT_TRUE(r.ok()) << r.report();
  for (const outcome& s : seen) EXPECT_TRUE(t.allowed.count(s)) << t.name << ": forbidden outcome" << show({s});
}

// While an execution has run only seq_cst atomics the runtime keeps no
// views and builds them from the events at its first other step; with the
// race detector on (a plain access) it keeps them from the start. Both must
// explore the same executions and see the same outcomes.
TEST_P(Litmus, LazyAndEagerViewsAgree) {
  const litmus& t = GetParam();
  std::uint64_t lazy = 0, eager = 0;
  const outcomes a = explore_all(t.body, mc::dfs(), mc::memory_model::rc11, &lazy, t.dfs_bound);
  const outcomes b = explore_all(
      [&](outcome& out) {
        mc::shared<int> plain{0};
        plain.store(1);  // turns the race detector on
        t.body(out);
      },
      mc::dfs(), mc::memory_model::rc11, &eager, t.dfs_bound);
  EXPECT_EQ(a, b) << t.name;
  EXPECT_EQ(lazy, eager) << t.name;
}

// A compare_exchange_weak that would succeed may fail spuriously under rc11
// (options::spurious_cas_failures), a seq_cst one too: the choice is made
// whether the views are kept from the start (the race detector on) or
// built at the first step that needs them, and under sc it is not made.
TEST(Litmus, ASpuriousCasFailureIsAChoiceWhateverKeepsTheViews) {
  for (const bool plain : {false, true}) {
    for (const auto model : {mc::memory_model::rc11, mc::memory_model::sc}) {
      mc::options o;
      o.strategy = mc::dfs();
      o.memory_model = model;
      o.spurious_cas_failures = 1;
      o.honour_env = false;
      std::set<int> seen;
      const mc::result r = mc::explore(o, [&] {
        mc::shared<int> d{0};
        if (plain) d.store(1);  // turns the race detector on
        mc::atomic<int> x{0};
        int expected = 0;
        seen.insert(x.compare_exchange_weak(expected, 1) ? 1 : 0);
      });
      ASSERT_TRUE(r.ok() && r.complete) << r.report();
      const std::set<int> want = model == mc::memory_model::rc11 ? std::set<int>{0, 1} : std::set<int>{1};
      EXPECT_EQ(seen, want) << "plain " << plain << ", " << mc::memory_model_name(model);
      EXPECT_EQ(r.executions, want.size()) << "plain " << plain << ", " << mc::memory_model_name(model);
    }
  }
}

// Under sc every test has only its sequentially consistent outcomes: those
// of the seq_cst variant where there is one.
TEST(Litmus, UnderScOnlySequentiallyConsistentOutcomes) {
  for (const litmus& t : cases()) {
    const std::string name = t.name;
    if (name == "SB" || name == "SB+rel+acq" || name == "SB+sc+rlx") {
      EXPECT_EQ(explore_all(t.body, mc::dfs(), mc::memory_model::sc), (outcomes{{0, 1}, {1, 0}, {1, 1}})) << name;
    } else if (name == "MP" || name == "MP+rel+rlx") {
      EXPECT_EQ(explore_all(t.body, mc::dfs(), mc::memory_model::sc), (outcomes{{0, 0}, {0, 1}, {1, 1}})) << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, Litmus, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string n = info.param.name;
  for (char& c : n)
    if (c == '+') c = '_';
  return n;
});

}  // namespace
