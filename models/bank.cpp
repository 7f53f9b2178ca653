// Bank-transfer models: how services guard a shared balance — database row
// locks, optimistic versions, a key-value lock with expiry, majority locks —
// each bug beside its fix. Invariants everywhere: the total balance is
// constant, no balance goes below zero, at most one client holds a lock at a
// time. Time is virtual (lockstep/mc/time.hpp), nodes and their crashes are
// simulated (lockstep/mc/node.hpp). models/README.md tells each story.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"

namespace {

using lockstep::mc::bug_kind;
using lockstep::mc::expect_bug;
using lockstep::mc::expect_pass;
namespace mc = lockstep::mc;
using namespace std::chrono_literals;

std::string client_name(int id) { return "client " + std::to_string(id); }

// -- rows of one database ------------------------------------------------------

// An account row: a balance, a version bumped by every committed write, and
// the row lock (SELECT ... FOR UPDATE). The lock is named after the account,
// so a deadlock report reads "holds account A, waits for account B".
struct row {
  row(int row_id, const char* row_name, int initial)
      : id(row_id), name(row_name), lock(row_name), balance(initial) {}
  const int id;
  const char* const name;
  mc::mutex lock;
  mc::atomic<int> balance;
  mc::atomic<unsigned> version{0};
};

void check_books(row& a, row& b, int total) {
  const int x = a.balance.load(), y = b.balance.load();
  LOCKSTEP_ASSERT_MSG(x + y == total, "money was created or destroyed: A + B = " + std::to_string(x + y) +
                                          ", should be " + std::to_string(total) + " (a lost update)");
  LOCKSTEP_ASSERT_MSG(x >= 0 && y >= 0, "a balance went below zero: A = " + std::to_string(x) +
                                            ", B = " + std::to_string(y));
}

// Read, compute, write, without any lock.
void transfer_unlocked(row& from, row& to, int amount) {
  const int f = from.balance.load();
  const int t = to.balance.load();
  if (f < amount) return;  // insufficient funds: nothing happens
  from.balance.store(f - amount);
  to.balance.store(t + amount);
}

LOCKSTEP_MODEL(transfer_naive, "bank", expect_bug(bug_kind::assertion),
               "A->B and B->A read both balances, compute and write them back without a lock: one "
               "transfer's write overwrites the other's (a lost update)") {
  row a(1, "account A", 100), b(2, "account B", 50);
  mc::thread t([&] {
    mc::this_thread::set_name("transfer A->B");
    transfer_unlocked(a, b, 30);
  });
  mc::this_thread::set_name("transfer B->A");
  transfer_unlocked(b, a, 20);
  t.join();
  check_books(a, b, 150);
}

// Row locks, then read, compute, write, commit (unlock). `ordered`: the rows
// are locked in account-id order, else in the order the request names them.
void transfer_locked(row& from, row& to, int amount, bool ordered) {
  row& first = !ordered || from.id < to.id ? from : to;
  row& second = &first == &from ? to : from;
  first.lock.lock();  // SELECT ... FOR UPDATE
  second.lock.lock();
  const int f = from.balance.load();
  if (f >= amount) {
    from.balance.store(f - amount);
    to.balance.store(to.balance.load() + amount);
    from.version.fetch_add(1);
    to.version.fetch_add(1);
  }
  second.lock.unlock();  // COMMIT
  first.lock.unlock();
}

void two_locked_transfers(bool ordered) {
  row a(1, "account A", 100), b(2, "account B", 50);
  mc::thread t([&] {
    mc::this_thread::set_name("transfer A->B");
    transfer_locked(a, b, 30, ordered);
  });
  mc::this_thread::set_name("transfer B->A");
  transfer_locked(b, a, 20, ordered);
  t.join();
  check_books(a, b, 150);
}

LOCKSTEP_MODEL(transfer_pessimistic_unordered, "bank", expect_bug(bug_kind::deadlock),
               "SELECT ... FOR UPDATE on both rows in request order: A->B locks A then B while "
               "B->A locks B then A, and each waits for the other's row") {
  two_locked_transfers(false);
}

LOCKSTEP_MODEL(transfer_pessimistic_ordered, "bank", expect_pass(),
               "the same transfers locking rows in account-id order: no cycle, no lost update") {
  two_locked_transfers(true);
}

// -- optimistic concurrency ---------------------------------------------------

// Both rows in one word, as a table with a version column: A and B balances,
// a version bumped by every commit, and a lock bit the pessimistic path sets
// (SELECT ... FOR UPDATE) so optimistic commits fail while it works.
struct table {
  static constexpr std::uint64_t kLocked = 1ull << 63;
  static std::uint64_t pack(unsigned version, int a, int b) {
    return (std::uint64_t{version} << 32) | (static_cast<std::uint64_t>(a) << 16) | static_cast<std::uint64_t>(b);
  }
  static unsigned version(std::uint64_t w) { return static_cast<unsigned>((w >> 32) & 0x7fffffffu); }
  static int a(std::uint64_t w) { return static_cast<int>((w >> 16) & 0xffffu); }
  static int b(std::uint64_t w) { return static_cast<int>(w & 0xffffu); }

  table() {
    mc::name(&word, "accounts A and B");
    mc::name(&row_locks, "row locks of A and B");
  }
  mc::atomic<std::uint64_t> word{pack(0, 100, 100)};
  mc::mutex row_locks;  // the pessimistic path's row locks (both rows, one lock)
};

// Moves `amount` from A to B (negative: B to A) in the word `w`; nullopt when
// the payer lacks the funds.
std::optional<std::uint64_t> moved(std::uint64_t w, int amount) {
  const int a = table::a(w) - amount, b = table::b(w) + amount;
  if (a < 0 || b < 0) return std::nullopt;
  return table::pack(table::version(w) + 1, a, b);
}

// One optimistic attempt: read the row versions, compute, compare-and-set
// commit. False: someone committed (or locked the rows) in between.
bool try_optimistic(table& t, int amount) {
  std::uint64_t seen = t.word.load();
  if (seen & table::kLocked) return false;
  const std::optional<std::uint64_t> next = moved(seen, amount);
  if (!next) return true;  // insufficient funds: a (read-only) outcome
  return t.word.compare_exchange_strong(seen, *next);
}

// The pessimistic path: lock the rows, then read, compute, write, unlock.
void transfer_pessimistic(table& t, int amount) {
  std::scoped_lock g(t.row_locks);
  const std::uint64_t w = t.word.fetch_or(table::kLocked) & ~table::kLocked;
  t.word.store(moved(w, amount).value_or(w));
}

// Optimistic transfer with backoff. `max_attempts` 0: retry without bound;
// else after that many lost attempts fall back to the pessimistic path.
void transfer_optimistic(table& t, int amount, unsigned max_attempts) {
  mc::retry_waiter w(&t.word);
  for (unsigned attempt = 1;; ++attempt) {
    if (try_optimistic(t, amount)) {
      w.won();
      return;
    }
    w.lost();
    if (max_attempts != 0 && attempt >= max_attempts) break;
    mc::sleep_for(1us * attempt);  // back off
  }
  transfer_pessimistic(t, amount);
  w.won();
}

void optimistic_contention(unsigned max_attempts) {
  table t;
  mc::thread busy([&] {
    mc::this_thread::set_name("transfers B->A");
    for (int i = 0; i < 3; ++i) transfer_optimistic(t, -10, max_attempts);
  });
  mc::this_thread::set_name("transfer A->B");
  transfer_optimistic(t, 50, max_attempts);
  busy.join();
  const std::uint64_t w = t.word.load();
  LOCKSTEP_ASSERT_MSG(table::a(w) + table::b(w) == 200,
                      "money was created or destroyed: A + B = " + std::to_string(table::a(w) + table::b(w)));
  LOCKSTEP_ASSERT_MSG(table::version(w) == 4, "a committed transfer was lost: version " +
                                                  std::to_string(table::version(w)) + ", 4 commits");
}

LOCKSTEP_MODEL(transfer_optimistic, "bank", expect_bug(bug_kind::starvation),
               "version numbers, compare-and-set commit, retry with backoff: safe (no lost update), "
               "but with unbounded retries a stream of B->A transfers wins every race and the A->B "
               "transfer is bypassed forever") {
  optimistic_contention(0);
}

LOCKSTEP_MODEL(transfer_optimistic_bounded, "bank", expect_pass(),
               "the same with at most two optimistic attempts, then the pessimistic path (row locks): "
               "nobody is bypassed more than twice") {
  optimistic_contention(2);
}

// -- a lock on a key-value node, with expiry ------------------------------------

constexpr auto kTtl = 10us;           // lock expiry
constexpr auto kRetryDelay = 20us;    // a client that found the lock taken waits this long
constexpr auto kPause = 15us;         // a GC pause: longer than the TTL

// The key-value node's state: one key (the lock) and the fencing counter.
struct kv_state {
  int owner = 0;                 // 0: the key is absent
  std::int64_t expiry = 0;       // virtual ns
  std::uint64_t tokens = 0;      // fencing tokens handed out
  // Ghost (not part of the protocol, for the invariant): the lease the
  // current holder believes it has, cleared only by that holder's release.
  int lease_owner = 0;
  std::int64_t lease_expiry = 0;
};

std::int64_t vnow() { return mc::virtual_clock::now().time_since_epoch().count(); }

// SET lock <client> NX PX ttl: the fencing token, or 0 when the key is held.
std::uint64_t set_nx(mc::node<kv_state>& kv, int client, std::chrono::nanoseconds ttl) {
  return kv.serve([&](kv_state& s) -> std::uint64_t {
    const std::int64_t now = vnow();
    if (s.owner != 0 && now < s.expiry) return 0;
    LOCKSTEP_ASSERT_MSG(s.lease_owner == 0 || s.lease_owner == client || now >= s.lease_expiry,
                        client_name(client) + " and " + client_name(s.lease_owner) +
                            " both hold the lock: " + client_name(client) + " got it while " +
                            client_name(s.lease_owner) + "'s lease still runs (a release that did not check the owner deleted " +
                            client_name(s.lease_owner) + "'s key)");
    s.owner = client;
    s.expiry = now + ttl.count();
    s.lease_owner = client;
    s.lease_expiry = s.expiry;
    return ++s.tokens;
  });
}

// DEL lock (checked: only if the key is still ours — compare-and-delete).
void release(mc::node<kv_state>& kv, int client, bool checked) {
  kv.serve([&](kv_state& s) {
    if (s.lease_owner == client) s.lease_owner = 0;
    if (!checked || s.owner == client) s.owner = 0;
  });
}

// The protected storage: two balances moved by read-modify-write requests.
// With `fenced` it rejects a request whose token is below the highest one
// it has seen.
struct store_state {
  int a = 100, b = 0;
  std::uint64_t max_token = 0;
  // Ghost, for the invariant: versions of the committed state and who wrote it.
  unsigned version = 0;
  int last_writer = 0;
};
struct snapshot {
  int a, b;
  unsigned version;
};

std::optional<snapshot> store_read(mc::node<store_state>& st, std::uint64_t token, bool fenced) {
  return st.serve([&](store_state& s) -> std::optional<snapshot> {
    if (fenced && token < s.max_token) return std::nullopt;  // a stale holder
    s.max_token = std::max(s.max_token, token);
    return snapshot{s.a, s.b, s.version};
  });
}

// Moves `amount` from a to b as computed from `seen`. The invariant: an
// accepted write comes from the only holder, so nobody committed since it read.
bool store_commit(mc::node<store_state>& st, int client, std::uint64_t token, bool fenced, const snapshot& seen,
                  int amount) {
  return st.serve([&](store_state& s) {
    if (fenced && token < s.max_token) return false;
    LOCKSTEP_ASSERT_MSG(s.version == seen.version,
                        client_name(client) + " and " + client_name(s.last_writer) +
                            " both hold the lock: " + client_name(s.last_writer) + " committed after " +
                            client_name(client) + " read the balances, and " + client_name(client) +
                            "'s write overwrites it (a lost update)");
    s.max_token = std::max(s.max_token, token);
    s.a = seen.a - amount;
    s.b = seen.b + amount;
    ++s.version;
    s.last_writer = client;
    return true;
  });
}

void check_store(mc::node<store_state>& st) {
  const store_state& s = st.state_unlocked();
  LOCKSTEP_ASSERT_MSG(s.a + s.b == 100, "money was created or destroyed: A + B = " + std::to_string(s.a + s.b));
  LOCKSTEP_ASSERT_MSG(s.a >= 0 && s.b >= 0, "a balance went below zero");
}

struct kv_lock_setup {
  bool fenced;           // storage checks fencing tokens
  bool checked_release;  // release is compare-and-delete
};

// One client job: take the lock (two tries), move 10 from A to B, release.
void kv_client_job(mc::node<kv_state>& kv, mc::node<store_state>& st, int client, kv_lock_setup setup) {
  std::uint64_t token = set_nx(kv, client, kTtl);
  if (token == 0) {
    mc::sleep_for(kRetryDelay);
    token = set_nx(kv, client, kTtl);
    if (token == 0) return;  // give up
  }
  if (const std::optional<snapshot> seen = store_read(st, token, setup.fenced)) {
    mc::pause_point(kPause);  // a stop-the-world pause while holding the lock
    if (seen->a >= 10) store_commit(st, client, token, setup.fenced, *seen, 10);
  }
  release(kv, client, setup.checked_release);
}

void kv_lock_model(kv_lock_setup setup, int jobs_of_client_1) {
  mc::node<kv_state> kv("key-value node");
  mc::node<store_state> st("storage");
  mc::thread c2([&] {
    mc::this_thread::set_name("client 2");
    kv_client_job(kv, st, 2, setup);
  });
  mc::this_thread::set_name("client 1");
  for (int j = 0; j < jobs_of_client_1; ++j) kv_client_job(kv, st, 1, setup);
  c2.join();
  check_store(st);
}

LOCKSTEP_MODEL(redis_lock_expiry, "bank",  expect_bug(bug_kind::assertion),
               "SET-if-absent with expiry guards a read-modify-write: client 1 pauses past the "
               "expiry, client 2 takes the lock, and both write") {
  kv_lock_model({.fenced = false, .checked_release = true}, 1);
}

LOCKSTEP_MODEL(redis_lock_release_unchecked, "bank", expect_bug(bug_kind::assertion),
               "the storage checks fencing tokens, but release deletes the key without checking the "
               "owner: client 1, back from a pause, frees client 2's lock and takes it again") {
  kv_lock_model({.fenced = true, .checked_release = false}, 2);
}

// A client tries twice and gives up: every schedule ends without fair
// scheduling, and the search covers all of them.
LOCKSTEP_MODEL(redis_lock_fenced, "bank", expect_pass(),
               "owner-checked release (compare-and-delete) plus fencing tokens the storage checks: a "
               "paused client's late write is rejected",
               .fair_scheduling = false) {
  kv_lock_model({.fenced = true, .checked_release = true}, 2);
}

// -- Redlock: a majority of five lock nodes --------------------------------------

constexpr int kLockNodes = 5;
constexpr auto kDrift = 1us;  // the declared clock drift bound

struct lock_slot {
  int owner = 0;
  std::int64_t expiry = 0;
};

struct redlock_cluster {
  // Node 3 may crash once (a restart without persistence); the others stay up.
  redlock_cluster()
      : nodes{mc::node<lock_slot>("lock node 1", {}, 0), mc::node<lock_slot>("lock node 2", {}, 0),
              mc::node<lock_slot>("lock node 3", {}, 1), mc::node<lock_slot>("lock node 4", {}, 0),
              mc::node<lock_slot>("lock node 5", {}, 0)} {}
  std::array<mc::node<lock_slot>, kLockNodes> nodes;
  // Each node's grant counter: on its disk, so it survives a crash (the lock
  // keys live in memory and do not).
  std::array<std::uint64_t, kLockNodes> counters{};
  // The network (no loss: the crash is the fault here).
  mc::channel<int, std::uint64_t> net;
};

// SET lock <client> NX PX ttl on node i: its grant counter, or 0.
std::uint64_t redlock_grant(redlock_cluster& c, std::size_t i, int client) {
  mc::this_thread::yield();  // the request is on the wire: others go first
  return *c.net.call(client, [&](int who) {
    const std::uint64_t granted = c.nodes[i].serve([&](lock_slot& s) -> std::uint64_t {
      const std::int64_t now = vnow();
      if (s.owner != 0 && now < s.expiry) return 0;
      s.owner = who;
      s.expiry = now + std::chrono::nanoseconds(kTtl).count();
      return ++c.counters[i];
    });
    c.nodes[i].crash_point();  // it may crash (and restart empty) right after answering
    return granted;
  });
}

// Tries every node (client 1 from node 1 up, client 2 from node 5 down);
// holds the lock if a majority granted it and time is left (validity = TTL -
// elapsed - drift). Returns the fencing token (the highest counter of the
// granting nodes, made unique by the client id), or 0.
std::uint64_t redlock_acquire(redlock_cluster& c, int client) {
  mc::node_clock clock;  // this client's clock (drift: the declared bound below)
  const auto start = clock.now();
  int granted = 0;
  std::uint64_t counter = 0;
  for (std::size_t k = 0; k < kLockNodes; ++k) {
    const std::size_t i = client == 1 ? k : kLockNodes - 1 - k;
    if (const std::uint64_t got = redlock_grant(c, i, client)) {
      ++granted;
      counter = std::max(counter, got);
    }
  }
  const auto validity = kTtl - (clock.now() - start) - kDrift;
  if (granted > kLockNodes / 2 && validity > 0ns) return counter * 8 + static_cast<std::uint64_t>(client);
  return 0;
}

void redlock_model(bool fenced) {
  redlock_cluster c;
  mc::node<store_state> st("storage");
  auto job = [&](int client) {
    // The keys expire after the TTL: no release (it would only add steps).
    if (const std::uint64_t token = redlock_acquire(c, client)) {
      if (const std::optional<snapshot> seen = store_read(st, token, fenced))
        store_commit(st, client, token, fenced, *seen, 10);
    }
  };
  mc::thread c2([&] {
    mc::this_thread::set_name("client 2");
    job(2);
  });
  mc::this_thread::set_name("client 1");
  job(1);
  c2.join();
  check_store(st);
}

LOCKSTEP_MODEL(redlock_majority, "bank", expect_bug(bug_kind::assertion),
               "five lock nodes, a majority quorum, validity = TTL - elapsed - drift: a node that "
               "granted client 1 crashes and restarts empty, grants client 2, and both hold a "
               "majority") {
  redlock_model(false);
}

// Its retries give up (each loop is bounded), so every schedule ends without
// fair scheduling: the search covers all of them, not only the fair ones.
LOCKSTEP_MODEL(redlock_fenced, "bank", expect_pass(),
               "the same majority lock with fencing tokens the storage checks: the second holder's "
               "writes are serialised, the stale one is rejected",
               .fair_scheduling = false) {
  redlock_model(true);
}

}  // namespace
