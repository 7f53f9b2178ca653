// Memory orders (options.memory_model = rc11): bugs that need an order too
// weak to show up, each beside its fix. Under memory_model = sc every one of
// them passes: the bug is in the memory_order argument, not the schedule.
#include <cstdint>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"

namespace {

using lockstep::mc::bug_kind;
using lockstep::mc::expect_bug;
using lockstep::mc::expect_pass;
namespace mc = lockstep::mc;

constexpr auto rlx = std::memory_order_relaxed;
constexpr auto acq = std::memory_order_acquire;
constexpr auto rel = std::memory_order_release;

// -- message passing ------------------------------------------------------------

void message_passing(std::memory_order publish, std::memory_order consume) {
  mc::atomic<int> data{0}, flag{0};
  mc::name(&data, "data");
  mc::name(&flag, "flag");
  mc::thread producer([&] {
    data.store(1, rlx);
    flag.store(1, publish);
  });
  if (flag.load(consume) == 1) LOCKSTEP_ASSERT(data.load(rlx) == 1);
  producer.join();
}

LOCKSTEP_MODEL(mp_relaxed, "memory", expect_bug(bug_kind::assertion),
               "a producer publishes data with a relaxed flag: a consumer that sees the flag may "
               "still read the old data") {
  message_passing(rlx, rlx);  // BUG: the flag orders nothing
}

LOCKSTEP_MODEL(mp_release_acquire, "memory", expect_pass(),
               "the same with a release store and an acquire load of the flag: seeing the flag "
               "makes the data visible") {
  message_passing(rel, acq);
}

// -- a spinlock around plain data -------------------------------------------------

void spinlock_counter(std::memory_order unlock) {
  mc::atomic<bool> locked{false};
  mc::name(&locked, "locked");
  mc::shared<int> count{0};
  mc::name(&count, "count");
  auto increment = [&] {
    while (locked.exchange(true, acq)) mc::this_thread::yield();
    count = count.load() + 1;
    locked.store(false, unlock);
  };
  mc::thread t(increment);
  increment();
  t.join();
  LOCKSTEP_ASSERT(count.load() == 2);
}

LOCKSTEP_MODEL(spinlock_relaxed_unlock, "memory", expect_bug(bug_kind::data_race),
               "a spinlock whose unlock is a relaxed store: the next holder's access to the "
               "data it guards races with the last one's") {
  spinlock_counter(rlx);  // BUG: the unlock must release
}

LOCKSTEP_MODEL(spinlock_release_unlock, "memory", expect_pass(),
               "the same spinlock unlocking with a release store: the acquire exchange of the next "
               "holder reads it") {
  spinlock_counter(rel);
}

// -- a seqlock ---------------------------------------------------------------------

// One writer updates a pair under a sequence number; a reader takes a copy
// only when the number was even and unchanged around its reads, and the
// copy must then be a pair the writer wrote whole. The reads of the data are
// relaxed (they race with the writer by design), so the orders that make
// the second read of the number mean something are fences (Boehm, "Can
// seqlocks get along with programming language memory models?", 2012).
void seqlock(bool fences) {
  mc::atomic<std::uint32_t> seq{0};
  mc::atomic<int> d1{0}, d2{0};
  mc::name(&seq, "seq");
  mc::name(&d1, "d1");
  mc::name(&d2, "d2");
  mc::thread writer([&] {
    seq.store(1, rlx);
    if (fences) mc::atomic_thread_fence(rel);
    d1.store(1, rlx);
    d2.store(1, rlx);
    seq.store(2, rel);
  });
  const std::uint32_t s1 = seq.load(acq);
  const int r1 = d1.load(rlx);
  const int r2 = d2.load(rlx);
  if (fences) mc::atomic_thread_fence(acq);
  const std::uint32_t s2 = seq.load(rlx);
  if (s1 == s2 && s1 % 2 == 0) LOCKSTEP_ASSERT_MSG(r1 == r2, "the reader accepted a torn pair");
  writer.join();
}

LOCKSTEP_MODEL(seqlock_no_fences, "memory", expect_bug(bug_kind::assertion),
               "a seqlock without fences: the reader's second load of the sequence number may be "
               "older than the data it read, so it accepts a torn pair") {
  seqlock(false);  // BUG: nothing orders the data loads before the second seq load
}

LOCKSTEP_MODEL(seqlock_fences, "memory", expect_pass(),
               "the same seqlock with a release fence after the writer's first store and an "
               "acquire fence before the reader's second load") {
  seqlock(true);
}

// -- Dekker's entry ------------------------------------------------------------------

// Each thread raises its flag, then enters only if the other's is down. With
// release stores and acquire loads both may read the other flag down (store
// buffering), and both enter; seq_cst forbids it.
void dekker(std::memory_order store, std::memory_order load) {
  mc::atomic<int> flag0{0}, flag1{0};
  mc::name(&flag0, "flag0");
  mc::name(&flag1, "flag1");
  mc::shared<int> critical{0};
  mc::name(&critical, "critical");
  auto enter = [&](mc::atomic<int>& mine, mc::atomic<int>& theirs) {
    mine.store(1, store);
    if (theirs.load(load) == 0) critical = critical.load() + 1;
  };
  mc::thread t([&] { enter(flag1, flag0); });
  enter(flag0, flag1);
  t.join();
}

LOCKSTEP_MODEL(dekker_acquire_release, "memory", expect_bug(bug_kind::data_race),
               "Dekker's entry with release stores and acquire loads: both threads may see the "
               "other's flag down and enter together") {
  dekker(rel, acq);  // BUG: store buffering needs seq_cst
}

LOCKSTEP_MODEL(dekker_seq_cst, "memory", expect_pass(),
               "the same entry with seq_cst stores and loads: at most one thread enters") {
  dekker(std::memory_order_seq_cst, std::memory_order_seq_cst);
}

}  // namespace
