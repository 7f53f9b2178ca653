// The classic concurrency bugs, each beside its fix.
#include <mutex>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"

namespace {

using lockstep::mc::bug_kind;
using lockstep::mc::expect_bug;
using lockstep::mc::expect_pass;
namespace mc = lockstep::mc;

// -- lost update ------------------------------------------------------------

LOCKSTEP_MODEL(counter_unsynchronized, "classic", expect_bug(bug_kind::assertion),
               "two threads increment a counter with a separate load and store: an update is lost") {
  mc::atomic<int> count{0};
  mc::name(&count, "count");
  auto increment = [&] {
    const int seen = count.load();
    count.store(seen + 1);  // another increment may have landed since the load
  };
  mc::thread t(increment);
  increment();
  t.join();
  LOCKSTEP_ASSERT(count.load() == 2);
}

LOCKSTEP_MODEL(counter_mutex, "classic", expect_pass(),
               "the same increments under a mutex: no update is lost") {
  mc::mutex m("m");
  mc::atomic<int> count{0};
  mc::name(&count, "count");
  auto increment = [&] {
    std::scoped_lock guard(m);
    count.store(count.load() + 1);
  };
  mc::thread t(increment);
  increment();
  t.join();
  LOCKSTEP_ASSERT(count.load() == 2);
}

// -- deadlock ---------------------------------------------------------------

LOCKSTEP_MODEL(deadlock_abba, "classic", expect_bug(bug_kind::deadlock),
               "two threads take mutexes A and B in opposite orders") {
  mc::mutex a("A");
  mc::mutex b("B");
  mc::thread t([&] {
    a.lock();
    b.lock();
    b.unlock();
    a.unlock();
  });
  b.lock();
  a.lock();
  a.unlock();
  b.unlock();
  t.join();
}

LOCKSTEP_MODEL(deadlock_ordered, "classic", expect_pass(),
               "both threads take A before B: a global lock order cannot deadlock") {
  mc::mutex a("A");
  mc::mutex b("B");
  auto work = [&] {
    a.lock();
    b.lock();
    b.unlock();
    a.unlock();
  };
  mc::thread t(work);
  work();
  t.join();
}

// -- check-then-act ---------------------------------------------------------

constexpr int kBalance = 100;
constexpr int kWithdrawal = 80;

LOCKSTEP_MODEL(withdraw_check_then_act, "classic", expect_bug(bug_kind::assertion),
               "two withdrawals check the balance, then debit it: the account is overdrawn") {
  mc::atomic<int> balance{kBalance};
  mc::name(&balance, "balance");
  auto withdraw = [&] {
    if (balance.load() >= kWithdrawal)   // check ...
      balance.fetch_sub(kWithdrawal);    // ... then act, on a stale check
  };
  mc::thread t(withdraw);
  withdraw();
  t.join();
  LOCKSTEP_ASSERT(balance.load() >= 0);
}

LOCKSTEP_MODEL(withdraw_locked, "classic", expect_pass(),
               "the check and the debit under one mutex: never overdrawn") {
  mc::mutex m("account");
  mc::atomic<int> balance{kBalance};
  mc::name(&balance, "balance");
  auto withdraw = [&] {
    std::scoped_lock guard(m);
    if (balance.load() >= kWithdrawal) balance.fetch_sub(kWithdrawal);
  };
  mc::thread t(withdraw);
  withdraw();
  t.join();
  LOCKSTEP_ASSERT(balance.load() >= 0);
}

}  // namespace
