// The protocol-model additions — virtual-time sleeps and pauses, node clocks
// with drift and jumps, node crashes, lossy reordering channels, optimistic
// retry starvation, assertions with a message — and the bank models' reports,
// which must name the two holders, the deadlock's two accounts and the
// starved transfer in words.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"

namespace {

namespace mc = lockstep::mc;
using mc::bug_kind;
using namespace std::chrono_literals;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
#define EXPECT_HAS(text, part) EXPECT_TRUE(contains(text, part)) << "missing: " << (part) << "\n" << (text)

mc::options with(mc::strategy_spec s) {
  mc::options o;
  o.strategy = s;
  o.honour_env = false;
  o.max_executions = 100000;
  o.trace_dir = "-";
  return o;
}

std::int64_t vnow() { return mc::virtual_clock::now().time_since_epoch().count(); }

// -- virtual time --------------------------------------------------------------

TEST(SleepFor, AdvancesVirtualTimeOnly) {
  const auto wall = std::chrono::steady_clock::now();
  std::set<std::int64_t> ends;
  auto r = mc::explore(with(mc::dfs()), [&] {
    const std::int64_t t0 = vnow();
    mc::sleep_for(1h);  // an hour of virtual time costs nothing real
    LOCKSTEP_ASSERT(vnow() - t0 >= std::chrono::nanoseconds(1h).count());
    ends.insert(vnow());
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(ends, (std::set<std::int64_t>{std::chrono::nanoseconds(1h).count()}));
  EXPECT_LT(std::chrono::steady_clock::now() - wall, 10s);
}

TEST(SleepFor, OtherThreadsMayRunMeanwhileOrNot) {
  // A sleeping thread stays a candidate: in some schedules the other thread
  // runs during the sleep, in others after it.
  std::set<bool> saw_flag_after_sleep;
  auto r = mc::explore(with(mc::dfs()), [&] {
    mc::atomic<int> flag{0};
    mc::thread t([&] { flag.store(1); });
    mc::sleep_for(5us);
    saw_flag_after_sleep.insert(flag.load() == 1);
    t.join();
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_EQ(saw_flag_after_sleep, (std::set<bool>{false, true}));
}

TEST(PausePoint, IsAChoiceThatAdvancesTime) {
  std::set<std::pair<bool, std::int64_t>> seen;
  auto r = mc::explore(with(mc::dfs()), [&] {
    const bool paused = mc::pause_point(50us);
    seen.insert({paused, vnow()});
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_EQ(r.executions, 2u);
  EXPECT_EQ(seen, (std::set<std::pair<bool, std::int64_t>>{{false, 0}, {true, 50000}}));
}

TEST(NodeClock, DriftsWithinItsBoundAndMayJump) {
  std::set<std::int64_t> drifts;
  std::set<std::int64_t> jumps;
  auto r = mc::explore(with(mc::dfs()), [&] {
    mc::node_clock c{2us};
    const auto off = c.now() - mc::virtual_clock::now();
    LOCKSTEP_ASSERT(off <= c.max_drift() && off >= -c.max_drift());
    drifts.insert(c.drift().count());
    mc::sleep_for(3us);
    LOCKSTEP_ASSERT(c.now() - mc::virtual_clock::now() == c.drift());  // drift is an offset
    c.maybe_jump(30us);
    jumps.insert((c.now() - mc::virtual_clock::now() - c.drift()).count());
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_EQ(drifts, (std::set<std::int64_t>{-2000, 0, 2000}));
  EXPECT_EQ(jumps, (std::set<std::int64_t>{0, 30000}));
  EXPECT_EQ(r.executions, 6u);  // 3 drifts x 2 jump choices
}

// -- nodes and channels -------------------------------------------------------------

struct kv {
  int value = 0;
};

TEST(Node, CrashLosesVolatileStateAndRestarts) {
  std::set<std::pair<int, unsigned>> seen;  // (value after the crash point, restarts)
  auto r = mc::explore(with(mc::dfs()), [&] {
    mc::node<kv> n("node", kv{7});
    n.serve([](kv& s) { s.value = 42; });
    n.crash_point();
    n.crash_point();  // one crash at most: the second point is no choice after a crash
    const int v = n.serve([](kv& s) { return s.value; });
    seen.insert({v, n.restarts()});
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_EQ(seen, (std::set<std::pair<int, unsigned>>{{42, 0}, {7, 1}}));
  EXPECT_EQ(r.executions, 3u);  // crash at the first point, at the second, never
}

TEST(Node, CrashingWhileAnotherThreadServesIsSerialised) {
  auto r = mc::explore(with(mc::dpor()), [] {
    mc::node<kv> n("node");
    mc::thread t([&] { n.crash(); });
    n.serve([](kv& s) { s.value += 1; });
    t.join();
    const int v = n.state_unlocked().value;
    LOCKSTEP_ASSERT(v == 0 || v == 1);
    LOCKSTEP_ASSERT(n.restarts() == 1);
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
}

TEST(Channel, LossAndReorderAreExplored) {
  std::set<std::vector<int>> deliveries;
  auto r = mc::explore(with(mc::dfs()), [&] {
    mc::channel<int> ch({.loss = true, .reorder = true});
    ch.send(1);
    ch.send(2);
    std::vector<int> got;
    while (auto m = ch.receive()) got.push_back(*m);
    LOCKSTEP_ASSERT(got.size() + ch.lost() == 2);
    deliveries.insert(got);
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(deliveries, (std::set<std::vector<int>>{{1, 2}, {2, 1}, {1}, {2}, {}}));
}

TEST(Channel, WithoutFaultsDeliversInOrder) {
  std::set<std::vector<int>> deliveries;
  auto r = mc::explore(with(mc::dfs()), [&] {
    mc::channel<int> ch;
    ch.send(1);
    ch.send(2);
    std::vector<int> got;
    while (auto m = ch.receive()) got.push_back(*m);
    deliveries.insert(got);
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_EQ(deliveries, (std::set<std::vector<int>>{{1, 2}}));
}

TEST(Channel, CallLosesTheRequestOrTheResponse) {
  std::set<std::pair<bool, int>> seen;  // (answered, times served)
  auto r = mc::explore(with(mc::dfs()), [&] {
    mc::channel<int, int> ch({.loss = true});
    int served = 0;
    const auto a = ch.call(20, [&](int q) {
      ++served;
      return q + 1;
    });
    if (a) LOCKSTEP_ASSERT(*a == 21);
    seen.insert({a.has_value(), served});
  });
  EXPECT_TRUE(r.ok()) << r.report();
  // lost request: not served; lost response: served, no answer; else answered.
  EXPECT_EQ(seen, (std::set<std::pair<bool, int>>{{false, 0}, {false, 1}, {true, 1}}));
}

TEST(Channel, DelayLetsRequestsArriveInEitherOrder) {
  std::set<std::vector<int>> orders;
  auto r = mc::explore(with(mc::dfs()), [&] {
    mc::node<std::vector<int>> server("server");
    mc::channel<int, int> ch({.max_delay = 10us});
    mc::thread t([&] { ch.call(2, [&](int q) { return server.serve([&](auto& s) { s.push_back(q); return q; }); }); });
    ch.call(1, [&](int q) { return server.serve([&](auto& s) { s.push_back(q); return q; }); });
    t.join();
    orders.insert(server.state_unlocked());
  });
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_EQ(orders, (std::set<std::vector<int>>{{1, 2}, {2, 1}}));
}

// -- messages, names, optimistic retries ------------------------------------------------

TEST(AssertMsg, TheMessageLeadsTheReport) {
  auto r = mc::explore(with(mc::dfs()), [] {
    mc::this_thread::set_name("client 7");
    const int holders = 2;
    LOCKSTEP_ASSERT_MSG(holders <= 1, "client 7 and client 8 both hold the lock");
  });
  ASSERT_TRUE(r.found.has_value());
  EXPECT_EQ(r.found->kind, bug_kind::assertion);
  EXPECT_EQ(r.found->message.rfind("client 7 and client 8 both hold the lock (assertion `holders <= 1` failed in "
                                   "thread 0 (client 7) at ", 0),
            0u)
      << r.found->message;
}

TEST(AssertMsg, TheMessageIsBuiltOnlyOnFailure) {
  int built = 0;
  auto r = mc::explore(with(mc::dfs()), [&] {
    LOCKSTEP_ASSERT_MSG(true, (++built, std::string("never")));
  });
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(built, 0);
}

TEST(RetryWaiter, LossesBeyondTheBoundAreStarvation) {
  auto body = [](unsigned rounds) {
    return [rounds] {
      mc::atomic<int> v{0};
      int tag = 0;
      mc::name(&tag, "the row");
      mc::thread winner([&] {
        mc::this_thread::set_name("winner");
        for (unsigned i = 0; i < rounds; ++i) {
          mc::retry_waiter w(&tag);
          v.fetch_add(1);
          w.won();
        }
      });
      mc::this_thread::set_name("loser");
      mc::retry_waiter w(&tag);
      for (unsigned i = 0; i < rounds; ++i) {
        mc::this_thread::yield();  // an attempt: the winner may commit meanwhile
        w.lost();                  // as if this commit lost to it
      }
      winner.join();
    };
  };
  // Losing to nobody (the winner has not won yet) is not counted; 3 losses to it are.
  auto o = with(mc::dfs());
  auto r = mc::explore(o, body(3));
  ASSERT_TRUE(r.found.has_value());
  EXPECT_EQ(r.found->kind, bug_kind::starvation);
  EXPECT_HAS(r.found->message, "thread 0 (loser) starves retrying the row");
  EXPECT_HAS(r.found->details, "thread 1 (winner) won 3 times");
  EXPECT_TRUE(mc::explore(o, body(2)).ok());
}

// -- the bank models' reports -------------------------------------------------------

mc::result check(const char* model, mc::strategy_spec s = mc::dpor()) {
  const mc::model* m = mc::find_model(model);
  EXPECT_NE(m, nullptr) << model;
  auto o = with(s);
  o.name = model;
  o.fair_scheduling = m->settings.fair_scheduling;  // the fenced models' own (bounded retries)
  return mc::explore(o, m->body);
}

TEST(BankReports, TheDeadlockNamesBothAccounts) {
  for (auto s : {mc::dpor(), mc::dfs(), mc::random(1)}) {
    const auto r = check("transfer_pessimistic_unordered", s);
    ASSERT_TRUE(r.found.has_value());
    EXPECT_EQ(r.found->kind, bug_kind::deadlock);
    EXPECT_HAS(r.found->details, "holds mutex account A");
    EXPECT_HAS(r.found->details, "waits for mutex account B");
    EXPECT_HAS(r.found->details, "holds mutex account B");
    EXPECT_HAS(r.found->details, "waits for mutex account A");
    EXPECT_HAS(r.found->details, "(transfer A->B)");
    EXPECT_HAS(r.found->details, "(transfer B->A)");
  }
}

TEST(BankReports, TheNaiveTransferLosesAnUpdate) {
  const auto r = check("transfer_naive");
  ASSERT_TRUE(r.found.has_value());
  EXPECT_HAS(r.found->message, "money was created or destroyed");
  EXPECT_HAS(r.found->message, "a lost update");
}

TEST(BankReports, TheStarvedTransferIsNamed) {
  for (auto s : {mc::dpor(), mc::dfs(), mc::random(1)}) {
    const auto r = check("transfer_optimistic", s);
    ASSERT_TRUE(r.found.has_value());
    EXPECT_EQ(r.found->kind, bug_kind::starvation);
    EXPECT_HAS(r.found->message, "(transfer A->B) starves retrying accounts A and B");
    EXPECT_HAS(r.found->details, "(transfers B->A) won 3 times");
  }
}

TEST(BankReports, TwoHoldersAreNamed) {
  for (const char* model : {"redis_lock_expiry", "redis_lock_release_unchecked", "redlock_majority"}) {
    for (auto s : {mc::dpor(), mc::dfs(), mc::random(1)}) {
      const auto r = check(model, s);
      ASSERT_TRUE(r.found.has_value()) << model;
      EXPECT_EQ(r.found->kind, bug_kind::assertion) << model;
      const std::string& m = r.found->message;
      EXPECT_TRUE(contains(m, "client 1 and client 2 both hold the lock") ||
                  contains(m, "client 2 and client 1 both hold the lock"))
          << model << ": " << m;
    }
  }
  EXPECT_HAS(check("redis_lock_release_unchecked").found->message, "did not check the owner");
  EXPECT_HAS(check("redlock_majority").found->message, "a lost update");
}

TEST(BankReports, TheFixesPassExhaustively) {
  for (const char* model : {"transfer_pessimistic_ordered", "transfer_optimistic_bounded", "redis_lock_fenced",
                            "redlock_fenced"}) {
    const auto r = check(model);
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_TRUE(r.complete) << model;
  }
}

// Small enough to check on every change: an exhaustive model is covered in
// at most 100,000 executions (redis_lock_fenced, the largest, takes about
// 9,700, without fair scheduling as its settings say; a second at most;
// speed itself is measured by the benchmarks, not here).
TEST(BankReports, EveryModelIsSmall) {
  for (const mc::model& m : mc::models()) {
    if (std::string(m.group) != "bank") continue;
    mc::options o = with(m.settings.exhaustive ? mc::dpor() : mc::random(1));
    o.max_executions = m.settings.exhaustive ? 100000 : m.settings.executions;
    o.fair_scheduling = m.settings.fair_scheduling;
    const auto r = mc::explore(o, m.body);
    EXPECT_EQ(r.found.has_value(), m.expected.bug.has_value()) << m.name;
    if (m.settings.exhaustive && !r.found) {
      EXPECT_TRUE(r.complete) << m.name << ": " << r.report();
    }
  }
}

}  // namespace
