// Liveness and data-race models, each bug beside its fix: livelock, busy
// waiting, starvation (bounded bypass) and data races on plain memory.
#include <mutex>
#include <shared_mutex>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"

namespace {

using lockstep::mc::bug_kind;
using lockstep::mc::expect_bug;
using lockstep::mc::expect_pass;
namespace mc = lockstep::mc;

// -- livelock -----------------------------------------------------------------

// Takes `first`, works a little, then tries `second`; on failure it releases
// `first`, backs off and retries. Two such threads with opposite orders can
// repeat this in lock step forever, each always finding the other's lock
// taken: no deadlock (nobody blocks), but no progress either.
void polite(mc::mutex& first, mc::mutex& second) {
  for (;;) {
    first.lock();
    mc::this_thread::yield();  // some work while holding `first`
    if (second.try_lock()) {
      LOCKSTEP_PROGRESS();     // both held: the work gets done
      second.unlock();
      first.unlock();
      return;
    }
    first.unlock();            // be polite: let the other one have it
    mc::this_thread::yield();  // back off, then retry
  }
}

LOCKSTEP_MODEL(livelock_polite, "liveness", expect_bug(bug_kind::livelock),
               "two polite threads take A and B in opposite orders, and on a failed try_lock "
               "release, back off and retry: under fair scheduling they can retry in lock step "
               "forever",
               .found_by_sampling = false) {
  mc::mutex a("A");
  mc::mutex b("B");
  mc::thread t([&] { polite(a, b); });
  polite(b, a);
  t.join();
}

// The fix: one global order. Whoever holds A can always get B (a holder of B
// always holds A), so a failed try only waits for a section that completes.
// (A random backoff is no fix an exhaustive checker can accept: the schedule
// that draws the same backoff every round still retries forever.)
LOCKSTEP_MODEL(livelock_polite_ordered, "liveness", expect_pass(),
               "the same polite retry loop with both threads taking A before B: someone "
               "always gets both") {
  mc::mutex a("A");
  mc::mutex b("B");
  mc::thread t([&] { polite(a, b); });
  polite(a, b);
  t.join();
}

// -- busy waiting -------------------------------------------------------------

constexpr int kPreparation = 120;  // steps main works before it sets the flag

LOCKSTEP_MODEL(busy_wait_spin, "liveness", expect_bug(bug_kind::busy_wait),
               "a waiter spins on a flag without relax() while main prepares the data: it "
               "burns its time slice and can starve the thread it waits for") {
  mc::atomic<bool> ready{false};
  mc::name(&ready, "ready");
  mc::atomic<int> prepared{0};
  mc::name(&prepared, "prepared");
  mc::thread waiter([&] {
    while (!ready.load()) {
      // BUG: no relax(): nothing tells the scheduler this thread is waiting
    }
    LOCKSTEP_ASSERT(prepared.load() == kPreparation);
  });
  for (int i = 0; i < kPreparation; ++i) prepared.fetch_add(1);
  ready.store(true);
  waiter.join();
}

LOCKSTEP_MODEL(busy_wait_relax, "liveness", expect_pass(),
               "the same spin with relax() in the loop: a fair scheduler lets main finish, and "
               "the waiter sees the flag",
               .exhaustive = false) {
  mc::atomic<bool> ready{false};
  mc::name(&ready, "ready");
  mc::atomic<int> prepared{0};
  mc::name(&prepared, "prepared");
  mc::thread waiter([&] {
    while (!ready.load()) mc::this_thread::yield();
    LOCKSTEP_ASSERT(prepared.load() == kPreparation);
  });
  for (int i = 0; i < kPreparation; ++i) prepared.fetch_add(1);
  ready.store(true);
  waiter.join();
}

// -- starvation ---------------------------------------------------------------

// Main holds a read lock for a while; a writer arrives and must wait; a
// reader keeps coming back for three short reads. A reader-preferring lock
// lets every one of them overtake the waiting writer.
template <class Policy>
void writer_behind_readers() {
  mc::shared_mutex<Policy> rw("rw");
  mc::atomic<int> reads{0};
  mc::name(&reads, "reads");
  mc::atomic<int> writes{0};
  mc::name(&writes, "writes");
  rw.lock_shared();  // main's long read
  mc::thread writer([&] {
    rw.lock();
    writes.fetch_add(1);
    rw.unlock();
  });
  mc::thread reader([&] {
    for (int i = 0; i < 3; ++i) {
      rw.lock_shared();
      reads.fetch_add(1);
      rw.unlock_shared();
    }
  });
  mc::this_thread::yield();  // the others run meanwhile
  rw.unlock_shared();
  writer.join();
  reader.join();
  LOCKSTEP_ASSERT(reads.load() == 3 && writes.load() == 1);
}

LOCKSTEP_MODEL(rwlock_reader_preferring_starvation, "liveness", expect_bug(bug_kind::starvation),
               "reader-preferring shared_mutex: a writer waits behind a read lock while a "
               "stream of readers keeps overtaking it") {
  writer_behind_readers<lockstep::reader_preferring>();
}
LOCKSTEP_MODEL(rwlock_writer_preferring_no_starvation, "liveness", expect_pass(),
               "writer-preferring shared_mutex, the same scenario: readers queue behind the "
               "waiting writer") {
  writer_behind_readers<lockstep::writer_preferring>();
}
LOCKSTEP_MODEL(rwlock_fair_no_starvation, "liveness", expect_pass(),
               "phase-fair shared_mutex, the same scenario: readers that arrive while the "
               "writer waits go after it") {
  writer_behind_readers<lockstep::fair>();
}

// -- data races ---------------------------------------------------------------

LOCKSTEP_MODEL(counter_plain_race, "liveness", expect_bug(bug_kind::data_race),
               "two threads increment a plain int (mc::shared) with no lock: a data race, "
               "whatever the schedule") {
  mc::shared<int> count{0};
  mc::name(&count, "count");
  auto increment = [&] { count = count.load() + 1; };  // BUG: unsynchronised read and write
  mc::thread t(increment);
  increment();
  t.join();
  LOCKSTEP_ASSERT(count.load() >= 1);
}

LOCKSTEP_MODEL(counter_plain_locked, "liveness", expect_pass(),
               "the same plain int under a mutex: the lock orders every access") {
  mc::mutex m("m");
  mc::shared<int> count{0};
  mc::name(&count, "count");
  auto increment = [&] {
    std::scoped_lock guard(m);
    count = count.load() + 1;
  };
  mc::thread t(increment);
  increment();
  t.join();
  LOCKSTEP_ASSERT(count.load() == 2);  // after the join: ordered too
}

}  // namespace
