// lockstep/lin.hpp: the linearizability checker finds what is wrong with
// broken queues — a lost notify, a get that does not wait, a double-delivered
// item, a size read without the lock — each with a shrunk history, and the
// bounded_queue gate passes. The other gates are in test_lin_sync.cpp and
// test_lin_async.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include <lockstep/lin.hpp>
#include <lockstep/lin/gtest.hpp>
#include <lockstep/lockstep.hpp>

#include "gates/queue.hpp"
#include "lin_broken_queues.hpp"
#include "lin_testing.hpp"

namespace lin = lockstep::lin;
namespace mc = lockstep::mc;
using lockstep::gates::queue_spec;
using lockstep::broken::impatient_queue;
using lockstep::broken::loose_size_queue;
using lockstep::broken::lost_notify_queue;
using lockstep::broken::ring_queue;

namespace {

using namespace lockstep::lin_testing;

TEST(Lin, BoundedQueueGatePasses) {
  const lin::gate* g = lin::find_gate("bounded_queue");
  ASSERT_NE(g, nullptr);
  const lin::outcome o = g->check(quick(40));
  EXPECT_TRUE(o.ok()) << o.report;
  EXPECT_EQ(o.scenarios, 40u);
  EXPECT_EQ(o.complete, o.scenarios) << "every scenario's interleavings explored";
  EXPECT_GT(o.histories, 40u);
}

TEST(Lin, LostNotifyIsCaughtWithAShortHistory) {
  lin::settings s = quick(100);
  s.threads = 3;
  s.ops = 2;
  s.explore.trace_dir = ::testing::TempDir();  // the minimal execution's trace file, as a record
  const lin::outcome o = lin::check(queue_spec<lost_notify_queue, false>("lost_notify_queue", 2), s);
  EXPECT_NE(o.report.find("  trace:  "), std::string::npos) << o.report;
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.report.find("waits forever, although the specification lets it proceed"), std::string::npos)
      << o.report;
  // Two gets waiting and two puts: nothing smaller shows it.
  const std::vector<std::string> rows = history_rows(o.report);
  EXPECT_EQ(rows.size(), 3u) << o.report;
  EXPECT_LE(operations_in(rows), 4u) << o.report;
  EXPECT_GT(o.shrink_steps, 0u);

  // The replay string runs exactly that execution again.
  lin::settings r = s;
  r.replay = replay_string(o.report);
  ASSERT_FALSE(r.replay.empty()) << o.report;
  const lin::outcome again = lin::check(queue_spec<lost_notify_queue, false>("lost_notify_queue", 2), r);
  ASSERT_FALSE(again.ok()) << again.report;
  EXPECT_EQ(again.scenarios, 1u);
  EXPECT_EQ(history_rows(again.report), rows);
}

TEST(Lin, DoubleDeliveryIsCaught) {
  const lin::outcome o = lin::check(queue_spec<ring_queue, false>("ring_queue", 2), quick(100));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.report.find("not linearizable: "), std::string::npos) << o.report;
  EXPECT_NE(o.report.find("follows from no sequential order"), std::string::npos) << o.report;
  EXPECT_LE(operations_in(history_rows(o.report)), 4u) << o.report;
}

TEST(Lin, AGetThatDoesNotWaitIsCaught) {
  const lin::outcome o = lin::check(queue_spec<impatient_queue, false>("impatient_queue", 2), quick(100));
  ASSERT_FALSE(o.ok());
  // One get on an empty queue is the whole story.
  EXPECT_NE(o.report.find("get() -> none follows from no sequential order"), std::string::npos) << o.report;
  EXPECT_NE(o.report.find("where get() must wait"), std::string::npos) << o.report;
  EXPECT_EQ(operations_in(history_rows(o.report)), 1u) << o.report;
}

TEST(Lin, ASizeKeptApartIsCaught) {
  const lin::outcome o = lin::check(queue_spec<loose_size_queue, false>("loose_size_queue", 2), quick(100));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.report.find("size() -> "), std::string::npos) << o.report;
  EXPECT_LE(operations_in(history_rows(o.report)), 4u) << o.report;
}

// A type whose operations deadlock is reported as a deadlock, not as a
// linearizability failure, and still shrunk.
struct two_locks {
  mc::mutex a, b;
};
struct no_state {
  bool operator==(const no_state&) const = default;
};

TEST(Lin, ADeadlockInTheTypeIsReportedAsSuch) {
  lin::spec<two_locks, no_state> s("two_locks");
  s.op("ab", [](two_locks& l) { std::scoped_lock g(l.a); std::scoped_lock h(l.b); },
       [](no_state&) { return lin::result(); });
  s.op("ba", [](two_locks& l) { std::scoped_lock g(l.b); std::scoped_lock h(l.a); },
       [](no_state&) { return lin::result(); });
  const lin::outcome o = lin::check(s, quick(50));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.report.find("deadlock"), std::string::npos) << o.report;
  // Not a history's failure: the report shows the scenario instead.
  EXPECT_NE(o.report.find("the scenario (a row per thread"), std::string::npos) << o.report;
  EXPECT_NE(o.report.find("ab()"), std::string::npos) << o.report;
  // Nor does the summary call it a linearizability failure.
  const std::string line = lin::detail::summary(o, quick(50));
  EXPECT_NE(line.find("failed: deadlock in scenario"), std::string::npos) << line;
  EXPECT_EQ(line.find("NOT linearizable"), std::string::npos) << line;
}

// A counter whose value() waits while an add is under way; the broken add
// forgets to notify, so a value() can wait forever. The specification never
// lets value() wait: a value() that never returns breaks every contract,
// the regular one too (it was judged by nothing: it never returned).
template <bool Notify>
struct waiting_counter {
  mc::mutex m;
  mc::condition_variable cv;
  int writers = 0;
  long n = 0;
  void add(int v) {
    {
      std::scoped_lock g(m);
      ++writers;
    }
    {
      std::scoped_lock g(m);
      n += v;
      --writers;
    }
    if constexpr (Notify) cv.notify_all();
  }
  long value() {
    std::unique_lock g(m);
    while (writers > 0) cv.wait(g);
    return n;
  }
};
struct sum_model {
  long sum = 0;
  bool operator==(const sum_model&) const = default;
};
template <class T>
lin::spec<T, sum_model> waiting_counter_spec(const char* name, lin::contract c) {
  lin::spec<T, sum_model> s(name);
  s.op("add", rc::gen::inRange(1, 4), [](T& t, int v) { t.add(v); },
       [](sum_model& m, int v) {
         m.sum += v;
         return lin::result();
       });
  s.op("value", [](T& t) { return t.value(); }, [](sum_model& m) { return m.sum; }, c);
  return s;
}

TEST(Lin, ARegularReadThatWaitsForeverIsCaught) {
  for (const lin::contract c : {lin::linearizable, lin::regular}) {
    const lin::outcome bad = lin::check(waiting_counter_spec<waiting_counter<false>>("no_notify", c), quick(30));
    ASSERT_FALSE(bad.ok()) << bad.report;
    EXPECT_NE(bad.report.find("value() waits forever, although the specification lets it proceed"), std::string::npos)
        << bad.report;
    const lin::outcome good = lin::check(waiting_counter_spec<waiting_counter<true>>("notify", c), quick(10));
    EXPECT_TRUE(good.ok()) << good.report;
  }
}

// Results are compared by their text: a floating-point one in full. A sum
// kept in a double, updated by a load and a store, loses an add; near 1e8
// the sums differ only past the sixth digit.
struct double_sum {
  mc::atomic<double> v{1e8};
  void add(int d) { v.store(v.load() + d); }
};
struct double_model {
  double v = 1e8;
  bool operator==(const double_model&) const = default;
};

TEST(Lin, FloatingPointResultsAreComparedInFull) {
  EXPECT_NE(lin::text(100000001.0), lin::text(100000002.0));
  EXPECT_EQ(lin::text(0.5), "0.5");
  EXPECT_NE(lin::text(std::optional<double>(1.0 + 1e-15)), lin::text(std::optional<double>(1.0)));
  lin::spec<double_sum, double_model> s("double_sum");
  s.op("add", rc::gen::inRange(1, 3), [](double_sum& x, int d) { x.add(d); },
       [](double_model& m, int d) {
         m.v += d;
         return lin::result();
       });
  s.op("value", [](double_sum& x) { return x.v.load(); }, [](double_model& m) { return m.v; });
  const lin::outcome o = lin::check(s, quick(30));
  ASSERT_FALSE(o.ok()) << o.report;
  EXPECT_NE(o.report.find("not linearizable: "), std::string::npos) << o.report;
}

// dpor explores fewer interleavings than dfs, but must meet every history
// dfs meets (every operation's result, and which returned before which was
// called): the return counters each call reads make each (return, call)
// pair of two threads a race. With a correct type every history passes and
// is counted once per scenario, so the counts must agree.
template <class Spec>
void dpor_meets_what_dfs_meets(const Spec& spec, unsigned scenarios, unsigned ops, unsigned post,
                               unsigned threads = 2, mc::memory_model mm = mc::memory_model::rc11) {
  lin::settings s = quick(scenarios);
  s.explore.memory_model = mm;
  s.threads = threads;
  s.ops = ops;
  s.post_ops = post;
  s.strategy = mc::dfs();
  const lin::outcome dfs = lin::check(spec, s);
  s.strategy = mc::dpor();
  const lin::outcome dpor = lin::check(spec, s);
  ASSERT_TRUE(dfs.ok()) << dfs.report;
  ASSERT_TRUE(dpor.ok()) << dpor.report;
  ASSERT_EQ(dfs.complete, dfs.scenarios) << "dfs must cover the scenarios for the comparison to mean anything";
  EXPECT_EQ(dpor.complete, dpor.scenarios);
  EXPECT_EQ(dpor.histories, dfs.histories);
  EXPECT_LT(dpor.executions, dfs.executions);
}

// A semaphore in a few steps: a count in a futex word.
struct futex_semaphore {
  mc::atomic<std::uint32_t> count{0};
  bool try_acquire() {
    std::uint32_t c = count.load(std::memory_order_relaxed);
    return c != 0 && count.compare_exchange_strong(c, c - 1, std::memory_order_acquire);
  }
  void acquire() {
    while (!try_acquire()) mc::platform::wait(count, 0);
  }
  void release() {
    count.fetch_add(1, std::memory_order_release);
    mc::platform::wake_one(count);
  }
};

// An atomic register: small steps, so dfs covers three operations a thread.
struct reg {
  mc::atomic<int> v{0};
};
struct reg_model {
  int v = 0;
  bool operator==(const reg_model&) const = default;
};

TEST(Lin, DporMeetsEveryHistoryDfsMeets) {
  // The queue's whole interface, one operation a thread.
  dpor_meets_what_dfs_meets(queue_spec<mc::bounded_queue<int>>("bounded_queue"), 40, 1, 1);
  // A small semaphore: calls that wait forever, or are woken. (Three
  // threads are out of dfs's reach: 3 x 7 steps interleave in 4e8 ways.)
  struct permits {
    int n = 0;
    bool operator==(const permits&) const = default;
  };
  lin::spec<futex_semaphore, permits> sem("futex_semaphore");
  sem.op("acquire", [](futex_semaphore& x) { x.acquire(); },
         [](permits& m) -> lin::result {
           if (m.n == 0) return lin::blocked;
           --m.n;
           return {};
         });
  sem.op("release", [](futex_semaphore& x) { x.release(); }, [](permits& m) {
    ++m.n;
    return lin::result();
  });
  // std's try_acquire may fail spuriously: the specification accepts a
  // false at any count.
  sem.op("try_acquire", [](futex_semaphore& x) { return x.try_acquire(); },
         [](permits& m, const lin::result& seen) -> lin::result {
           if (seen == lin::result(false) || m.n == 0) return false;
           --m.n;
           return true;
         });
  dpor_meets_what_dfs_meets(sem, 40, 1, 1);
  // A register: two operations a thread.
  lin::spec<reg, reg_model> r("register");
  r.op("load", [](reg& x) { return x.v.load(); }, [](reg_model& m) { return m.v; });
  r.op("store", rc::gen::inRange(0, 3), [](reg& x, int v) { x.v.store(v); }, [](reg_model& m, int v) {
    m.v = v;
    return lin::result();
  });
  r.op("exchange", rc::gen::inRange(0, 3), [](reg& x, int v) { return x.v.exchange(v); },
       [](reg_model& m, int v) { return std::exchange(m.v, v); });
  dpor_meets_what_dfs_meets(r, 40, 2, 1);
}

// as_completed's order is not a linearizable operation (its result depends
// on completions after the call), so it is checked against its own contract,
// stated in real time: the futures done when it is called come first, in
// index order; then the others, in the order they complete. With a clock
// ticked around each set_value and around the call: the first group holds
// every future whose set_value returned before the call began and only
// futures whose set_value began before the call ended; after it, a future
// whose set_value returned before another's began comes first.
// `index_order`: a broken as_completed that waits for each future in turn.
mc::result check_as_completed(bool index_order) {
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.trace_dir = "-";
  return mc::explore(o, [index_order] {
    constexpr int n = 3;
    std::array<mc::promise<int>, n> ps;
    std::vector<mc::future<int>> fs;
    for (auto& p : ps) fs.push_back(p.get_future());
    mc::atomic<int> clock{0};
    std::array<int, n> begin{}, end{};
    auto set = [&](int i) {
      begin[i] = clock.fetch_add(1);
      ps[i].set_value(i);
      end[i] = clock.fetch_add(1);
    };
    mc::thread a(set, 1), b(set, 2);
    set(0);
    const int call_begin = clock.fetch_add(1);
    auto order = lockstep::as_completed(fs);
    const int call_end = clock.fetch_add(1);
    std::vector<int> seen;
    if (index_order) {
      for (auto& f : fs) seen.push_back(f.get());
    } else {
      for (auto& f : order) seen.push_back(f.get());
    }
    a.join();
    b.join();
    LOCKSTEP_ASSERT(seen.size() == n);
    // Some split k: seen[0..k) in index order, each one begun before the
    // call ended, holding every one done before the call began.
    bool explained = false;
    for (std::size_t k = 0; k <= seen.size() && !explained; ++k) {
      bool ok = std::is_sorted(seen.begin(), seen.begin() + static_cast<std::ptrdiff_t>(k));
      for (std::size_t i = 0; i < seen.size(); ++i) {
        const int f = seen[i];
        if (i < k) ok = ok && begin[f] < call_end;
        else ok = ok && !(end[f] < call_begin);
        for (std::size_t j = i + 1; j < seen.size() && i >= k; ++j) ok = ok && !(end[seen[j]] < begin[f]);
      }
      explained = ok;
    }
    LOCKSTEP_ASSERT_MSG(explained, "as_completed visited " + lin::text(seen) + " against its contract");
  });
}

TEST(Lin, AsCompletedVisitsInItsContractsOrder) {
  const mc::result r = check_as_completed(false);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete) << r.executions;
  const mc::result broken = check_as_completed(true);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.report().find("against its contract"), std::string::npos) << broken.report();
}

TEST(Lin, TextOfResults) {
  EXPECT_EQ(lin::text(true), "true");
  EXPECT_EQ(lin::text(std::optional<int>()), "none");
  EXPECT_EQ(lin::text(std::optional<int>(3)), "3");
  EXPECT_EQ(lin::text(std::vector<int>{1, 2}), "[1, 2]");
  EXPECT_EQ(lin::text(std::make_tuple(1, std::string("a"))), "(1, a)");
  EXPECT_EQ(lin::result().text(), "ok");
  EXPECT_TRUE(lin::result(lin::blocked).is_blocked());
  EXPECT_EQ(lin::raises("closed").text(), "throws closed");
}

TEST(Lin, BadReplayStringsAreRefused) {
  lin::settings s = quick(1);
  for (const char* bad : {"x", "1", "0:AA", "1.a:AA", "1:"}) {
    s.replay = bad;
    EXPECT_THROW((void)lin::check(queue_spec<lost_notify_queue, false>("q", 2), s), mc::replay_error) << bad;
  }
}

}  // namespace

// expect_linearizable's replay line runs this test alone, in this program.
TEST(LinGtest, ReplayCommandNamesThisProgramAndThisTest) {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(lockstep::lin::detail::gtest_replay_command(),
            "LOCKSTEP_SEED={seed} LOCKSTEP_REPLAY={} " + std::string(exe, static_cast<std::size_t>(n)) +
                " --gtest_filter=LinGtest.ReplayCommandNamesThisProgramAndThisTest");
}
