// Models of lockstep's own primitives in use: each bug beside its fix, and
// the invariants each primitive promises, checked over every schedule.
#include <array>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"

namespace {

using lockstep::mc::bug_kind;
using lockstep::mc::expect_bug;
using lockstep::mc::expect_pass;
namespace mc = lockstep::mc;

// -- condition variables ----------------------------------------------------

LOCKSTEP_MODEL(condvar_no_predicate, "primitives", expect_bug(bug_kind::lost_wakeup),
               "a consumer waits on a condition variable without checking the flag first: "
               "if the producer notified before the wait, the consumer sleeps forever") {
  mc::mutex m("m");
  mc::condition_variable cv("ready_cv");
  bool ready = false;  // guarded by m
  int data = 0;        // guarded by m
  mc::thread consumer([&] {
    std::unique_lock lk(m);
    cv.wait(lk);  // BUG: no `while (!ready)`: a notify that came first is lost
    data += ready ? 1 : 0;
  });
  {
    std::scoped_lock g(m);
    ready = true;
  }
  cv.notify_one();
  consumer.join();
}

LOCKSTEP_MODEL(condvar_predicate, "primitives", expect_pass(),
               "the same hand-off with wait(lock, predicate): no notify is lost, and a "
               "spurious wake-up only re-checks the flag") {
  mc::mutex m("m");
  mc::condition_variable cv("ready_cv");
  bool ready = false;
  int data = 0;
  mc::thread consumer([&] {
    std::unique_lock lk(m);
    cv.wait(lk, [&] { return ready; });
    LOCKSTEP_ASSERT(data == 42);
  });
  {
    std::scoped_lock g(m);
    data = 42;
    ready = true;
  }
  cv.notify_one();
  consumer.join();
}

// -- semaphore ----------------------------------------------------------------

LOCKSTEP_MODEL(semaphore_pool, "primitives", expect_pass(),
               "three threads share a pool of two permits: never more than two holders") {
  mc::counting_semaphore<2> permits(2, "permits");
  mc::atomic<int> holders{0};
  mc::name(&holders, "holders");
  auto use = [&] {
    permits.acquire();
    LOCKSTEP_ASSERT(holders.fetch_add(1) + 1 <= 2);
    holders.fetch_sub(1);
    permits.release();
  };
  mc::thread a(use);
  mc::thread b(use);
  use();
  a.join();
  b.join();
  LOCKSTEP_ASSERT(permits.try_acquire() && permits.try_acquire() && !permits.try_acquire());
}

// -- bounded queue --------------------------------------------------------------

LOCKSTEP_MODEL(queue_producer_consumer, "primitives", expect_pass(),
               "two producers and two consumers share a queue of capacity 1: every item is "
               "consumed exactly once and join() returns once all are marked done") {
  mc::bounded_queue<int> q(1);
  std::array<mc::atomic<int>, 4> seen{};
  auto produce = [&](int first) {
    for (int i = first; i < first + 2; ++i) LOCKSTEP_ASSERT(q.put(i));
  };
  auto consume = [&] {
    while (std::optional<int> v = q.get()) {
      seen[static_cast<std::size_t>(*v)].fetch_add(1);
      q.task_done();
    }
  };
  mc::thread p1(produce, 0);
  mc::thread p2(produce, 2);
  mc::thread c1(consume);
  mc::thread c2(consume);
  p1.join();
  p2.join();
  q.join();  // every item put has been marked done ...
  for (auto& s : seen) LOCKSTEP_ASSERT(s.load() == 1);  // ... exactly once
  q.close();
  c1.join();
  c2.join();
}

LOCKSTEP_MODEL(queue_unbounded_wait, "primitives", expect_bug(bug_kind::lost_wakeup),
               "a consumer waits on a queue that no thread will ever fill or close") {
  mc::bounded_queue<int> q(2);
  mc::thread consumer([&] { (void)q.get(); });
  consumer.join();
}

// -- counters ---------------------------------------------------------------------

template <class Counter>
void two_adders() {
  Counter c;
  auto add = [&] {
    c.add(1);
    c.add(2);
  };
  mc::thread t(add);
  add();
  t.join();
  LOCKSTEP_ASSERT(c.value() == 6);
}

LOCKSTEP_MODEL(counter_locked, "primitives", expect_pass(),
               "locked_counter: two threads add 1 and 2; the total is exactly 6") {
  two_adders<mc::locked_counter>();
}
LOCKSTEP_MODEL(counter_striped, "primitives", expect_pass(),
               "striped_counter: two threads add 1 and 2; the total is exactly 6") {
  two_adders<mc::striped_counter>();
}
LOCKSTEP_MODEL(counter_owned, "primitives", expect_pass(),
               "owned_counter: two threads send 1 and 2 to the owner; the total is exactly 6") {
  two_adders<mc::owned_counter>();
}
LOCKSTEP_MODEL(counter_atomic, "primitives", expect_pass(),
               "atomic_counter: two threads add 1 and 2; the total is exactly 6") {
  two_adders<mc::atomic_counter>();
}

// -- reader-writer lock -------------------------------------------------------------

template <class Policy>
void readers_writer() {
  mc::shared_mutex<Policy> rw("rw");
  mc::atomic<int> readers{0};
  mc::atomic<int> writers{0};
  auto read = [&] {
    std::shared_lock g(rw);
    readers.fetch_add(1);
    LOCKSTEP_ASSERT(writers.load() == 0);
    readers.fetch_sub(1);
  };
  mc::thread r1(read);
  mc::thread r2(read);
  {
    std::unique_lock g(rw);
    LOCKSTEP_ASSERT(writers.fetch_add(1) == 0);
    LOCKSTEP_ASSERT(readers.load() == 0);
    writers.fetch_sub(1);
  }
  r1.join();
  r2.join();
}

LOCKSTEP_MODEL(rwlock_readers_writer_reader_preferring, "primitives", expect_pass(),
               "reader-preferring shared_mutex, two readers and a writer: the writer is alone") {
  readers_writer<lockstep::reader_preferring>();
}
LOCKSTEP_MODEL(rwlock_readers_writer_writer_preferring, "primitives", expect_pass(),
               "writer-preferring shared_mutex, two readers and a writer: the writer is alone") {
  readers_writer<lockstep::writer_preferring>();
}
LOCKSTEP_MODEL(rwlock_readers_writer_fair, "primitives", expect_pass(),
               "phase-fair shared_mutex, two readers and a writer: the writer is alone") {
  readers_writer<lockstep::fair>();
}

// -- futures and the pool ---------------------------------------------------------

LOCKSTEP_MODEL(future_callback_once, "primitives", expect_pass(),
               "a done-callback added while another thread completes the future runs "
               "exactly once, whichever wins") {
  mc::promise<int> p;
  mc::future<int> f = p.get_future();
  mc::atomic<int> calls{0};
  mc::name(&calls, "calls");
  mc::thread completer([&] { p.set_value(7); });
  f.add_done_callback([&] { calls.fetch_add(1); });
  completer.join();
  LOCKSTEP_ASSERT(calls.load() == 1);
  LOCKSTEP_ASSERT(f.get() == 7);
}

LOCKSTEP_MODEL(pool_shutdown, "primitives", expect_pass(),
               "shutdown(wait, cancel_pending) races two workers: every task either ran "
               "exactly once or was cancelled, never lost or run twice") {
  std::array<mc::atomic<int>, 3> runs{};
  std::vector<mc::future<void>> fs;
  {
    mc::thread_pool pool(2);
    for (auto& r : runs) fs.push_back(pool.submit([&r] { r.fetch_add(1); }));
    pool.shutdown(true, true);
  }
  for (std::size_t i = 0; i < fs.size(); ++i) {
    LOCKSTEP_ASSERT(fs[i].done());
    if (fs[i].cancelled()) {
      LOCKSTEP_ASSERT(runs[i].load() == 0);
    } else {
      LOCKSTEP_ASSERT(runs[i].load() == 1);
    }
  }
}

// -- misuse -----------------------------------------------------------------------------

LOCKSTEP_MODEL(recursive_unlock_foreign, "primitives", expect_bug(bug_kind::misuse),
               "a thread unlocks a recursive mutex that another thread holds") {
  mc::recursive_mutex m("m");
  m.lock();
  m.lock();
  mc::thread t([&] { m.unlock(); });  // BUG: t does not own m
  t.join();
  m.unlock();
  m.unlock();
}

LOCKSTEP_MODEL(recursive_unlock_own, "primitives", expect_pass(),
               "each thread unlocks its own recursive locks, nested twice") {
  mc::recursive_mutex m("m");
  mc::atomic<int> inside{0};
  auto nested = [&] {
    std::scoped_lock outer(m);
    std::scoped_lock inner(m);
    LOCKSTEP_ASSERT(inside.fetch_add(1) == 0);
    inside.fetch_sub(1);
  };
  mc::thread t(nested);
  nested();
  t.join();
}

}  // namespace
