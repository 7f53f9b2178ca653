// The memory model at work on the primitives: each primitive's own orders
// keep the data it protects race-free under rc11, and a copy of it whose
// atomics run with weaker orders than it asks for is caught. The weakening
// is a platform (weak_platform below), so the primitive under test is the
// production code itself, with every release (or every acquire) of its
// atomics dropped: the unlocking store of a mutex, the lock path's acquire,
// a semaphore's release, an event's publishing store, a shared_mutex
// writer's release, a queue's or future's publication. The primitives run on
// futex_platform, so their locks are their own atomics too.
//
// Also here: the reports of a bug that needed a weak behaviour say so in
// words.
#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>

#include "lockstep/bounded_queue.hpp"
#include "lockstep/event.hpp"
#include "lockstep/future.hpp"
#include "lockstep/mc/model.hpp"
#include "lockstep/mc/platform.hpp"
#include "lockstep/mc/shared.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/semaphore.hpp"
#include "lockstep/shared_mutex.hpp"
#include "lockstep/lockstep.hpp"

namespace mc = lockstep::mc;
using mc::bug_kind;

namespace {

enum weakening : unsigned { none = 0, no_release = 1, no_acquire = 2 };

template <unsigned W>
constexpr std::memory_order weaker(std::memory_order o) {
  using enum std::memory_order;
  if (W & no_release) o = o == release ? relaxed : o == acq_rel || o == seq_cst ? acquire : o;
  if (W & no_acquire) o = o == acquire || o == consume ? relaxed : o == acq_rel || o == seq_cst ? release : o;
  return o;
}

// mc::atomic with the orders its caller asks for weakened by W.
template <class T, unsigned W>
class weak_atomic : public mc::atomic<T> {
  using base = mc::atomic<T>;
  using order = std::memory_order;
  using loc = std::source_location;

 public:
  using base::base;
  T load(order o = std::memory_order_seq_cst, const loc& l = loc::current()) const {
    return base::load(weaker<W>(o), l);
  }
  void store(T v, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    base::store(v, weaker<W>(o), l);
  }
  T exchange(T v, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    return base::exchange(v, weaker<W>(o), l);
  }
  bool compare_exchange_strong(T& e, T d, order s, order f, const loc& l = loc::current()) {
    return base::compare_exchange_strong(e, d, weaker<W>(s), weaker<W>(f), l);
  }
  bool compare_exchange_strong(T& e, T d, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    return base::compare_exchange_strong(e, d, weaker<W>(o), l);
  }
  bool compare_exchange_weak(T& e, T d, order s, order f, const loc& l = loc::current()) {
    return base::compare_exchange_weak(e, d, weaker<W>(s), weaker<W>(f), l);
  }
  bool compare_exchange_weak(T& e, T d, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    return base::compare_exchange_weak(e, d, weaker<W>(o), l);
  }
  T fetch_add(T d, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    return base::fetch_add(d, weaker<W>(o), l);
  }
  T fetch_sub(T d, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    return base::fetch_sub(d, weaker<W>(o), l);
  }
  T fetch_or(T d, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    return base::fetch_or(d, weaker<W>(o), l);
  }
  T fetch_and(T d, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    return base::fetch_and(d, weaker<W>(o), l);
  }
};

template <unsigned W>
struct weak_platform : mc::futex_platform {
  template <class T>
  using atomic = weak_atomic<T, W>;
};

mc::result check(const std::function<void()>& body) {
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.max_executions = 200000;
  return mc::explore(o, body);
}

#define EXPECT_RACE(r)                                                        \
  do {                                                                        \
    const mc::result& res_ = (r);                                             \
    ASSERT_TRUE(res_.found) << "not caught: " << res_.report();               \
    EXPECT_EQ(res_.found->kind, bug_kind::data_race) << res_.report();        \
  } while (0)
#define EXPECT_CLEAN(r)                                  \
  do {                                                   \
    const mc::result& res_ = (r);                        \
    EXPECT_TRUE(res_.ok()) << res_.report();             \
    EXPECT_TRUE(res_.complete) << res_.report();         \
  } while (0)

// -- mutex -----------------------------------------------------------------------

template <unsigned W>
void mutex_guards_data() {
  lockstep::basic_mutex<weak_platform<W>> m;
  mc::shared<int> data{0};
  auto add = [&] {
    std::scoped_lock g(m);
    data = data.load() + 1;
  };
  mc::thread t(add);
  add();
  t.join();
}

TEST(WeakenedPrimitives, MutexOrdersItsCriticalSections) { EXPECT_CLEAN(check(mutex_guards_data<none>)); }
TEST(WeakenedPrimitives, MutexWithARelaxedUnlockIsCaught) { EXPECT_RACE(check(mutex_guards_data<no_release>)); }
TEST(WeakenedPrimitives, MutexWithoutTheLockPathsAcquireIsCaught) {
  EXPECT_RACE(check(mutex_guards_data<no_acquire>));
}

// -- semaphore as a lock ----------------------------------------------------------

template <unsigned W>
void semaphore_guards_data() {
  lockstep::basic_counting_semaphore<1, weak_platform<W>> s(1);
  mc::shared<int> data{0};
  auto add = [&] {
    s.acquire();
    data = data.load() + 1;
    s.release();
  };
  mc::thread t(add);
  add();
  t.join();
}

TEST(WeakenedPrimitives, SemaphoreOrdersItsHolders) { EXPECT_CLEAN(check(semaphore_guards_data<none>)); }
TEST(WeakenedPrimitives, SemaphoreWithARelaxedReleaseIsCaught) {
  EXPECT_RACE(check(semaphore_guards_data<no_release>));
}

// -- event ----------------------------------------------------------------------

template <unsigned W>
void event_publishes() {
  lockstep::basic_event<weak_platform<W>> e;
  mc::shared<int> data{0};
  mc::thread consumer([&] {
    e.wait();
    LOCKSTEP_ASSERT(data.load() == 1);
  });
  data = 1;
  e.set();
  consumer.join();
}

TEST(WeakenedPrimitives, EventPublishesWhatCameBeforeSet) { EXPECT_CLEAN(check(event_publishes<none>)); }
TEST(WeakenedPrimitives, EventWithARelaxedSetIsCaught) { EXPECT_RACE(check(event_publishes<no_release>)); }

// -- shared_mutex -----------------------------------------------------------------

template <unsigned W>
void shared_mutex_writer_publishes() {
  lockstep::basic_shared_mutex<lockstep::fair, weak_platform<W>> m;
  mc::shared<int> data{0};
  mc::thread reader([&] {
    std::shared_lock g(m);
    (void)data.load();
  });
  {
    std::unique_lock g(m);
    data = 1;
  }
  reader.join();
}

TEST(WeakenedPrimitives, SharedMutexOrdersWriterAndReader) {
  EXPECT_CLEAN(check(shared_mutex_writer_publishes<none>));
}
TEST(WeakenedPrimitives, SharedMutexWithARelaxedWriterReleaseIsCaught) {
  EXPECT_RACE(check(shared_mutex_writer_publishes<no_release>));
}

// -- bounded queue ------------------------------------------------------------------

template <unsigned W>
void queue_publishes() {
  lockstep::basic_bounded_queue<int, weak_platform<W>> q(1);
  mc::shared<int> payload{0};
  mc::thread consumer([&] {
    const std::optional<int> v = q.get();
    LOCKSTEP_ASSERT(v && *v == 7);
    (void)payload.load();
  });
  payload = 1;
  LOCKSTEP_ASSERT(q.put(7));
  consumer.join();
}

TEST(WeakenedPrimitives, QueuePublishesWhatCameBeforePut) { EXPECT_CLEAN(check(queue_publishes<none>)); }
TEST(WeakenedPrimitives, QueueWithARelaxedPublicationIsCaught) { EXPECT_RACE(check(queue_publishes<no_release>)); }

// -- future ---------------------------------------------------------------------

template <unsigned W>
void future_publishes() {
  lockstep::basic_promise<int, weak_platform<W>> p;
  lockstep::basic_future<int, weak_platform<W>> f = p.get_future();
  mc::shared<int> payload{0};
  mc::thread consumer([&] {
    LOCKSTEP_ASSERT(f.get() == 7);
    (void)payload.load();
  });
  payload = 1;
  p.set_value(7);
  consumer.join();
}

TEST(WeakenedPrimitives, FuturePublishesWhatCameBeforeSetValue) { EXPECT_CLEAN(check(future_publishes<none>)); }
TEST(WeakenedPrimitives, FutureWithARelaxedPublicationIsCaught) {
  EXPECT_RACE(check(future_publishes<no_release>));
}

// -- reports ------------------------------------------------------------------------

const mc::model& model(const char* name) {
  const mc::model* m = mc::find_model(name);
  EXPECT_NE(m, nullptr) << name;
  return *m;
}

std::string report_of(const char* name, mc::memory_model mm = mc::memory_model::rc11) {
  mc::options o;
  o.strategy = mc::dpor();
  o.honour_env = false;
  o.memory_model = mm;
  const mc::result r = mc::explore(o, model(name).body);
  return r.found ? r.report() : std::string();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(WeakMemoryReports, MessagePassingSaysWhichStoreWasReadAndWhyTheNewerOneWasNot) {
  const std::string r = report_of("mp_relaxed");
  EXPECT_TRUE(contains(r, "weak memory: thread 0 (main) read data = 0 (" LOCKSTEP_SRC "models/memory.cpp:")) << r;
  EXPECT_TRUE(contains(r, "although thread 1 had stored 1 (" LOCKSTEP_SRC "models/memory.cpp:")) << r;
  EXPECT_TRUE(contains(r, "the flag store (" LOCKSTEP_SRC "models/memory.cpp:")) << r;
  EXPECT_TRUE(contains(r, ") is relaxed, so reading flag = 1 (" LOCKSTEP_SRC "models/memory.cpp:")) << r;
  EXPECT_TRUE(contains(r, "a release store with an acquire load orders them")) << r;
  // The timeline says which store each load read.
  EXPECT_TRUE(contains(r, "load flag = 1 (stored at step ")) << r;
}

// Under rc11 a futex wake synchronises nothing: two wakes of one word used to
// pass happens-before from the first waker to the second through the word's
// clock, and the race below passed as "complete". (Without the wakes it was
// caught; under sc every atomic operation orders, and it is no race.)
TEST(WeakenedPrimitives, TwoWakesOfOneWordOrderNothing) {
  for (const bool wakes : {true, false}) {
    SCOPED_TRACE(wakes ? "with the wakes" : "without");
    const auto body = [wakes] {
      mc::atomic<std::uint32_t> word{0};
      mc::atomic<int> flag{0};
      mc::shared<int> data{0};
      mc::thread a([&] {
        data.store(1);
        if (wakes) mc::platform::wake_one(word);
        flag.store(1, std::memory_order_relaxed);
      });
      mc::thread b([&] {
        if (flag.load(std::memory_order_relaxed) == 1) {
          if (wakes) mc::platform::wake_one(word);
          (void)data.load();
        }
      });
      a.join();
      b.join();
    };
    EXPECT_RACE(check(body));
    mc::options o;
    o.strategy = mc::dpor();
    o.honour_env = false;
    o.memory_model = mc::memory_model::sc;
    EXPECT_CLEAN(mc::explore(o, body));
  }
}

TEST(WeakMemoryReports, ARaceAfterARelaxedUnlockNamesTheUnlock) {
  const std::string r = report_of("spinlock_relaxed_unlock");
  EXPECT_TRUE(contains(r, "read locked = 0")) << r;
  EXPECT_TRUE(contains(r, "which is relaxed: reading it made nothing visible")) << r;
}

TEST(WeakMemoryReports, StoreBufferingSaysSeqCstIsNeeded) {
  const std::string r = report_of("dekker_acquire_release");
  EXPECT_TRUE(contains(r, "need seq_cst (store buffering)")) << r;
}

TEST(WeakMemoryReports, TheSameModelsPassUnderSc) {
  for (const char* name : {"mp_relaxed", "spinlock_relaxed_unlock", "seqlock_no_fences", "dekker_acquire_release"})
    EXPECT_EQ(report_of(name, mc::memory_model::sc), "") << name;
}

}  // namespace
