// Captured traces replay: on fibers (the same bug at the same step, or a
// divergence error naming the step) and on OS threads through the turnstile
// (the bug every time); free runs on OS threads detect hangs; shrinking keeps
// the bug and drops preemptions.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"
#include "lockstep/mc/os_threads.hpp"
#include "lockstep/mc/trace.hpp"

namespace {

namespace mc = lockstep::mc;

mc::options model_options(const mc::model& m) {
  mc::options o;
  o.strategy = m.settings.exhaustive ? mc::dpor() : mc::random(1);
  o.max_executions = m.settings.exhaustive ? 0 : m.settings.executions;
  if (m.settings.max_steps != 0) o.max_steps = m.settings.max_steps;
  o.honour_env = false;
  o.name = m.name;
  return o;
}

std::vector<const mc::model*> bug_models() {
  std::vector<const mc::model*> out;
  for (const mc::model& m : mc::models())
    if (m.expected.bug && !m.settings.ends_process) out.push_back(&m);  // those end the process
  return out;
}

class BugModels : public ::testing::TestWithParam<const mc::model*> {};

TEST_P(BugModels, TraceReplaysOnFibersAndOnThreads) {
  const mc::model& m = *GetParam();
  const mc::options o = model_options(m);
  const mc::result r = mc::explore(o, m.body);
  ASSERT_TRUE(r.found) << r.report();
  const mc::trace t = mc::trace_of(r, o);
  ASSERT_EQ(t.events.size(), r.found->step);

  // Fibers: the same bug at the same step, every event as recorded.
  const mc::result again = mc::explore(mc::replay_options(t), m.body);
  EXPECT_EQ(mc::verdict_mismatch(t, again), "") << again.report();

#if defined(__SANITIZE_THREAD__)
  // On OS threads the replayed race really happens, and ThreadSanitizer
  // rightly reports it: the reproduction is checked in the plain build.
  if (*t.kind == mc::bug_kind::data_race) return;
#endif
  // OS threads through the turnstile: the bug every time.
  for (int i = 0; i < 100; ++i) {
    const mc::thread_run run = mc::replay_on_threads(t, m.body);
    ASSERT_EQ(run.divergence, "") << m.name << " run " << i;
    ASSERT_TRUE(run.kind) << m.name << " run " << i << ": no bug on threads";
    ASSERT_EQ(*run.kind, *t.kind) << m.name << " run " << i << ": " << run.message;
  }
}

INSTANTIATE_TEST_SUITE_P(All, BugModels, ::testing::ValuesIn(bug_models()),
                         [](const auto& info) { return std::string(info.param->name); });

const mc::model& model(const char* name) {
  const mc::model* m = mc::find_model(name);
  if (m == nullptr) throw std::runtime_error(std::string("no model ") + name);
  return *m;
}

TEST(Shrink, AbbaShrinksToOnePreemption) {
  const mc::model& m = model("deadlock_abba");
  // dfs without a bound finds a schedule with needless preemptions first.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    mc::options o = model_options(m);
    o.strategy = mc::random(seed);
    const mc::result r = mc::explore(o, m.body);
    ASSERT_TRUE(r.found) << r.report();
    ASSERT_TRUE(r.shrink.done);
    EXPECT_EQ(r.found->preemptions, 1u) << "seed " << seed << "\n" << r.report();
    EXPECT_LE(r.shrink.steps_after, r.shrink.steps_before);
  }
}

TEST(Shrink, NeverReturnsAScheduleThatDoesNotFail) {
  for (const mc::model* m : bug_models()) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      mc::options o = model_options(*m);
      o.strategy = mc::random(seed);
      o.max_executions = 20000;
      const mc::result r = mc::explore(o, m->body);
      if (!r.found) continue;  // random may miss it; dpor's own test covers finding it
      EXPECT_LE(r.shrink.preemptions_after, r.shrink.preemptions_before) << m->name;
      // A strict replay of the shrunk schedule fails the same way.
      mc::options ro = model_options(*m);
      ro.strategy = mc::replay(r.found->schedule);
      const mc::result again = mc::explore(ro, m->body);
      ASSERT_TRUE(again.found) << m->name << " seed " << seed << ": the shrunk schedule passes\n" << r.report();
      EXPECT_EQ(again.found->kind, r.found->kind) << m->name;
      EXPECT_EQ(again.found->step, r.found->step) << m->name;
    }
  }
}

TEST(Shrink, CanBeTurnedOff) {
  const mc::model& m = model("deadlock_abba");
  mc::options o = model_options(m);
  o.strategy = mc::random(3);
  o.shrink = false;
  const mc::result r = mc::explore(o, m.body);
  ASSERT_TRUE(r.found);
  EXPECT_FALSE(r.shrink.done);
}

mc::trace abba_trace() {
  const mc::model& m = model("deadlock_abba");
  const mc::options o = model_options(m);
  return mc::trace_of(mc::explore(o, m.body), o);
}

TEST(Divergence, FibersNameTheStepAndBothEvents) {
  mc::trace t = abba_trace();
  ASSERT_GE(t.events.size(), 4u);
  // Pretend the code used to take another lock at step 3.
  t.events[2].object += 7;
  t.events[2].object_name = "mutex C";
  try {
    mc::explore(mc::replay_options(t), model("deadlock_abba").body);
    FAIL() << "the replay did not notice the changed event";
  } catch (const mc::replay_error& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("step 3"), std::string::npos) << w;
    EXPECT_NE(w.find("mutex C"), std::string::npos) << w;
    EXPECT_NE(w.find("did thread 0 cas B"), std::string::npos) << w;
  }
}

TEST(Divergence, ThreadsNameTheStep) {
  mc::trace t = abba_trace();
  ASSERT_EQ(t.events[2].o, mc::op::cas_ok);
  t.events[2].o = mc::op::load;  // the code used to read there
  const mc::thread_run run = mc::replay_on_threads(t, model("deadlock_abba").body);
  EXPECT_NE(run.divergence.find("step 3"), std::string::npos) << run.divergence;
  EXPECT_FALSE(run.kind);
}

TEST(Divergence, AChangedValueIsCaught) {
  mc::trace t = abba_trace();
  for (auto& e : t.events)
    if (e.o == mc::op::cas_ok) {
      e.value = 5;
      break;
    }
  EXPECT_THROW(mc::explore(mc::replay_options(t), model("deadlock_abba").body), mc::replay_error);
  const mc::thread_run run = mc::replay_on_threads(t, model("deadlock_abba").body);
  EXPECT_NE(run.divergence, "");
}

// On free OS threads a deadlock that every schedule reaches is detected by
// the watchdog, reported, and the threads are released.
TEST(FreeRun, ACertainDeadlockIsReportedNotHung) {
  auto body = [] {
    mc::mutex a, b;
    mc::atomic<int> ready{0};
    mc::thread t([&] {
      a.lock();
      ready.fetch_add(1);
      while (ready.load() != 2) mc::this_thread::yield();
      b.lock();
      b.unlock();
      a.unlock();
    });
    b.lock();
    ready.fetch_add(1);
    while (ready.load() != 2) mc::this_thread::yield();
    a.lock();
    a.unlock();
    b.unlock();
    t.join();
  };
  for (int i = 0; i < 3; ++i) {
    const mc::thread_run run = mc::run_free(body);
    ASSERT_TRUE(run.kind);
    EXPECT_EQ(*run.kind, mc::bug_kind::deadlock) << run.message;
  }
}

// Free runs on OS threads raise no false alarm on a correct model: the
// watchdog only calls a run blocked when every thread waits on a word that
// still holds the value it waits for.
TEST(FreeRun, NoFalseAlarmOnAnyPassingModel) {
  for (const mc::model& m : mc::models()) {
    if (m.expected.bug) continue;
    for (std::uint64_t i = 0; i < 20; ++i) {
      mc::thread_run_options ro;
      ro.seed = i + 1;
      const mc::thread_run run = mc::run_free(m.body, ro);
      EXPECT_FALSE(run.kind) << m.name << " run " << i << ": " << run.message;
    }
  }
}

// Threads that all wait with a deadline are not stuck: their timeouts come.
TEST(FreeRun, TimedWaitsAreNotAHang) {
  const mc::thread_run run = mc::run_free([] {
    mc::mutex m;
    mc::condition_variable cv;
    auto waiter = [&] {
      std::unique_lock g(m);
      (void)cv.wait_for(g, std::chrono::milliseconds(40), [] { return false; });
    };
    mc::thread t(waiter);
    waiter();
    t.join();
  });
  EXPECT_FALSE(run.kind) << run.message;
}

TEST(FreeRun, CorrectCodePassesAndAssertionsAreCaught) {
  auto ok = [] {
    mc::mutex m;
    int n = 0;
    mc::thread t([&] {
      for (int i = 0; i < 1000; ++i) {
        std::lock_guard g(m);
        ++n;
      }
    });
    for (int i = 0; i < 1000; ++i) {
      std::lock_guard g(m);
      ++n;
    }
    t.join();
    LOCKSTEP_ASSERT(n == 2000);
  };
  for (int i = 0; i < 20; ++i) {
    const mc::thread_run run = mc::run_free(ok);
    EXPECT_FALSE(run.kind) << run.message;
  }
  const mc::thread_run bad = mc::run_free([] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1); });
    t.join();
    LOCKSTEP_ASSERT(x.load() == 2);
  });
  ASSERT_TRUE(bad.kind);
  EXPECT_EQ(*bad.kind, mc::bug_kind::assertion);
}

// A thread preempted inside a lock_guard's destructor (an unlock) when
// another thread fails must not be made to throw there (that would call
// std::terminate): the unlock completes and the thread unwinds later.
TEST(Abort, InsideADestructorUnwindsCleanlyOnFibers) {
  int found = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    mc::options o;
    o.strategy = mc::random(seed);
    o.max_executions = 50;
    o.honour_env = false;
    o.shrink = false;
    o.trace_dir = "-";
    const mc::result r = mc::explore(o, [] {
      mc::mutex m;
      mc::atomic<int> x{0};
      mc::thread t([&] {
        for (int k = 0; k < 5; ++k) {
          std::lock_guard g(m);
          x.store(k);
        }
      });
      x.load();
      LOCKSTEP_ASSERT(x.load() == 0);
      t.join();
    });
    found += r.found && r.found->kind == mc::bug_kind::assertion ? 1 : 0;
  }
  EXPECT_GT(found, 100);
}

TEST(Abort, InsideADestructorUnwindsCleanlyOnThreads) {
  for (int i = 0; i < 100; ++i) {
    const mc::thread_run run = mc::run_free([] {
      mc::mutex m;
      mc::atomic<int> x{0};
      mc::thread t([&] {
        for (int k = 0; k < 1000; ++k) {
          std::lock_guard g(m);
          x.store(1);
        }
      });
      while (x.load() == 0) {
      }
      LOCKSTEP_ASSERT(x.load() == 0);
      t.join();
    });
    ASSERT_TRUE(run.kind);
    EXPECT_EQ(*run.kind, mc::bug_kind::assertion);
  }
}

// A failing check in a test: its report writes a trace file and says how to
// replay it; LOCKSTEP_TRACE replays it (on fibers, or on OS threads).
TEST(TestTrace, ReportWritesATraceThatLockstepTraceReplays) {
  auto body = [] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(x.load() + 1); });
    x.store(x.load() + 1);
    t.join();
    LOCKSTEP_ASSERT(x.load() == 2);
  };
  const std::string dir = ::testing::TempDir() + "lockstep-traces";
  mc::options o;
  o.name = "TestTrace.Body";
  o.honour_env = false;
  o.trace_dir = dir;
  const mc::result r = mc::explore(o, body);
  ASSERT_TRUE(r.found);
  const std::string report = r.report();
  const auto at = report.find("trace:  ");
  ASSERT_NE(at, std::string::npos) << report;
  const std::string file = report.substr(at + 8, report.find('\n', at) - at - 8);
  EXPECT_NE(report.find("LOCKSTEP_TRACE=" + file), std::string::npos) << report;
  const mc::trace t = mc::read_trace_file(file);
  EXPECT_EQ(t.model, "TestTrace.Body");
  EXPECT_EQ(t.kind, mc::bug_kind::assertion);

  mc::options env_run;  // what the printed command does
  ::setenv("LOCKSTEP_TRACE", file.c_str(), 1);
  const mc::result fibers = mc::explore(env_run, body);
  ::setenv("LOCKSTEP_TRACE_THREADS", "1", 1);
  const mc::result threads = mc::explore(env_run, body);
  ::unsetenv("LOCKSTEP_TRACE");
  ::unsetenv("LOCKSTEP_TRACE_THREADS");
  ASSERT_TRUE(fibers.found);
  EXPECT_EQ(fibers.found->kind, mc::bug_kind::assertion);
  EXPECT_EQ(fibers.found->step, r.found->step);
  ASSERT_TRUE(threads.found);
  EXPECT_EQ(threads.found->kind, mc::bug_kind::assertion);
  EXPECT_EQ(threads.strategy, "replay on OS threads");
}

}  // namespace
