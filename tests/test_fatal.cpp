// Bugs that end the process: a crash (a fatal signal) or a stack overflow in
// checked code, and a step that never reaches a scheduling point (the
// watchdog). explore() cannot return from them; it prints the report with the
// replay string and ends the process. Each is checked in a child process:
// GoogleTest death tests, or a fork whose stderr the test reads.
#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

#include "asan.hpp"
#include "lockstep/lockstep.hpp"
#include "lockstep/mc/trace.hpp"

// big_frame below, compiled without stack-clash probes (as code built without
// the lockstep dependency's flags): only the size of the guard region catches
// it. In fatal_unprobed.cpp, a file compiled without the probes.
int big_frame_unprobed(int seed);

namespace {

namespace mc = lockstep::mc;
using mc::bug_kind;

mc::options with(mc::strategy_spec s) {
  mc::options o;
  o.strategy = std::move(s);
  o.honour_env = false;
  o.trace_dir = "-";
  return o;
}

class Fatal : public ::testing::Test {
 protected:
  // A child that re-executes this test binary: no threads, no state from
  // other tests.
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// A store through a pointer that may be null. UBSan would report the null
// store before it faults: the tests are about the fault. The pointer goes
// through a volatile copy, so no optimiser can prove it null at a call site
// and put a trap in its place.
__attribute__((noinline, no_sanitize("null"))) void store_one(volatile int* p) {
  volatile int* volatile target = p;
  *target = 1;
}

// The publication bug: the flag is set before the pointer it guards, so a
// reader that sees the flag may dereference null.
void publication_bug() {
  int value = 0;
  mc::atomic<int*> ptr{nullptr};
  mc::atomic<bool> ready{false};
  mc::thread reader([&] {
    if (ready.load()) store_one(ptr.load());
  });
  ready.store(true);
  ptr.store(&value);
  reader.join();
}

// What a child process printed on stderr, and how it ended.
struct child_run {
  int status = 0;
  std::string err;
  bool signaled(int sig) const { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }
  bool exited(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
};

template <class F>
child_run in_child(F f) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    f();
    ::_exit(0);
  }
  ::close(fds[1]);
  child_run r;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) r.err.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  ::waitpid(pid, &r.status, 0);
  return r;
}

std::string match(const std::string& text, const std::string& re) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(re))) return {};
  return m.size() > 1 ? m[1].str() : m[0].str();
}

// -- crashes ------------------------------------------------------------------

TEST_F(Fatal, ANullDereferenceIsReportedWithItsSchedule) {
  mc::options o = with(mc::dpor());
  o.name = "publication";
  o.honour_env = true;  // the default: the report says to rerun with LOCKSTEP_REPLAY
  EXPECT_EXIT((void)mc::explore(o, publication_bug), ::testing::KilledBySignal(SIGSEGV),
              "publication: crash: SIGSEGV in thread 1 at step [0-9]+ \\(invalid memory access at address 0x0\\)"
              ".*found in execution [0-9]+ at step [0-9]+ \\(dpor; the schedule has 1 preemption\\)"
              ".*thread 1 was running after its step [0-9]+ \\(load\\) at " LOCKSTEP_SRC "tests/test_fatal.cpp:"
              ".*replay: LOCKSTEP_REPLAY=L1[A-Za-z0-9_-]+\n"
              "  run:    LOCKSTEP_REPLAY=L1[A-Za-z0-9_-]+ .*test_fatal"
              ".*the process ends with SIGSEGV");
}

TEST_F(Fatal, AnAbortIsReportedWithItsSchedule) {
  mc::options o = with(mc::dpor());
  o.replay_command = "lockstep check lost_update --replay {}";
  EXPECT_EXIT((void)mc::explore(o,
                                [] {
                                  mc::atomic<int> count{0};
                                  auto increment = [&] { count.store(count.load() + 1); };
                                  mc::thread t(increment);
                                  increment();
                                  t.join();
                                  if (count.load() != 2) std::abort();
                                }),
              ::testing::KilledBySignal(SIGABRT),
              "crash: SIGABRT in thread 0 \\(main\\) at step [0-9]+ \\(abort\\(\\)"
              ".*replay: LOCKSTEP_REPLAY=(L1[A-Za-z0-9_-]+)\n"
              "  run:    lockstep check lost_update --replay L1[A-Za-z0-9_-]+\n");
}

// A breakpoint trap, and a terminating signal the checked code raises itself
// (one sent from outside is not its bug, and one the program handles is
// not fatal): reports with their schedules, as for any crash.
TEST_F(Fatal, ATrapOrASignalTheCodeRaisesIsReportedWithItsSchedule) {
  for (const int sig : {SIGTRAP, SIGTERM, SIGUSR1}) {
    SCOPED_TRACE(sig);
    const child_run run = in_child([sig] {
      (void)mc::explore(with(mc::dpor()), [sig] {
        mc::atomic<int> x{0};
        mc::thread t([&] {
          if (x.load() == 1) ::raise(sig);
        });
        x.store(1);
        t.join();
      });
    });
    EXPECT_TRUE(run.signaled(sig)) << run.status << run.err;
    const std::string name = sig == SIGTRAP ? "SIGTRAP" : sig == SIGTERM ? "SIGTERM" : "SIGUSR1";
    EXPECT_NE(run.err.find("crash: " + name + " in thread 1 at step "), std::string::npos) << run.err;
    EXPECT_FALSE(match(run.err, "LOCKSTEP_REPLAY=(L1[A-Za-z0-9_-]+)").empty()) << run.err;
  }
  // Handled by the program: not fatal, the search goes on and passes.
  const child_run handled = in_child([] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGUSR2, &sa, nullptr);
    const auto r = mc::explore(with(mc::dpor()), [] {
      mc::thread t([] { ::raise(SIGUSR2); });
      t.join();
    });
    if (!r.ok()) ::_exit(1);
  });
  EXPECT_TRUE(handled.exited(0)) << handled.status << handled.err;
}

// Checked code that ends the process (std::exit, std::quick_exit) in an
// execution: a report with its schedule, then exit code 125 whatever status
// the code gave, never a silent end that reads as a pass.
TEST_F(Fatal, AnExitInCheckedCodeIsReportedWithItsSchedule) {
  for (const bool quick : {false, true}) {
    SCOPED_TRACE(quick ? "quick_exit" : "exit");
    const auto body = [quick] {
      mc::atomic<int> x{0};
      mc::thread t([&] {
        if (x.load() == 1) {
          if (quick) std::quick_exit(0);
          std::exit(0);
        }
      });
      x.store(1);
      t.join();
    };
    const child_run first = in_child([&] { (void)mc::explore(with(mc::dpor()), body); });
    EXPECT_TRUE(first.exited(125)) << first.status << first.err;
    const std::string schedule = match(first.err, "LOCKSTEP_REPLAY=(L1[A-Za-z0-9_-]+)");
    ASSERT_FALSE(schedule.empty()) << first.err;
    EXPECT_NE(first.err.find("crash: exit() in thread 1 at step "), std::string::npos) << first.err;
    EXPECT_NE(first.err.find("lockstep: the process ends (exit code 125)"), std::string::npos) << first.err;
    // The replay ends the same way; an execution that does not exit goes on.
    const child_run again = in_child([&] { (void)mc::explore(with(mc::replay(schedule)), body); });
    EXPECT_TRUE(again.exited(125)) << again.err;
    EXPECT_NE(again.err.find("crash: exit() in thread 1 at step "), std::string::npos) << again.err;
  }
}

// Random sampling runs executions lean (options::lean_sampling): a crash in
// one cannot run again in full, so its report is made from what the lean
// execution kept. It must read as the full execution's: the same step, the
// objects by name, the mutex's holder, the same replay string.
TEST(FatalLean, ACrashInALeanExecutionIsReportedAsInAFullOne) {
  const auto crash_under_lock = [] {
    mc::mutex m("m");
    mc::atomic<int> flag{0};
    mc::name(&flag, "flag");
    mc::thread t([&] {
      std::scoped_lock g(m);
      if (flag.load() == 1) store_one(nullptr);
    });
    {
      std::scoped_lock g(m);
      flag.store(1);
    }
    t.join();
  };
  const auto run = [&](bool lean) {
    return in_child([&] {
      mc::options o = with(mc::random(3));
      o.max_executions = 1000;
      o.trace_dir = "-";
      o.lean_sampling = lean;
      (void)mc::explore(o, crash_under_lock);
    });
  };
  const child_run full = run(false);
  const child_run lean = run(true);
  ASSERT_TRUE(full.signaled(SIGSEGV)) << full.err;
  ASSERT_TRUE(lean.signaled(SIGSEGV)) << lean.err;
  EXPECT_NE(lean.err.find("holds mutex m"), std::string::npos) << lean.err;
  EXPECT_NE(lean.err.find("load flag = 1"), std::string::npos) << lean.err;
  EXPECT_EQ(lean.err, full.err);
}

// The printed replay string, run again (as a strategy and through the
// environment, as a user would), stops with the same signal at the same step.
TEST(FatalReplay, TheReplayStringReproducesTheCrash) {
  const child_run first = in_child([] { (void)mc::explore(with(mc::random(3)), publication_bug); });
  ASSERT_TRUE(first.signaled(SIGSEGV)) << first.err;
  const std::string schedule = match(first.err, "LOCKSTEP_REPLAY=(L1[A-Za-z0-9_-]+)");
  const std::string where = match(first.err, "crash: SIGSEGV in thread 1 at step [0-9]+");
  ASSERT_FALSE(schedule.empty()) << first.err;
  ASSERT_FALSE(where.empty()) << first.err;
  // honour_env is off here: the report says how to replay in code instead.
  EXPECT_NE(first.err.find("explore with mc::replay(\"" + schedule + "\")"), std::string::npos) << first.err;

  const child_run again = in_child([&] { (void)mc::explore(with(mc::replay(schedule)), publication_bug); });
  EXPECT_TRUE(again.signaled(SIGSEGV)) << again.err;
  EXPECT_NE(again.err.find(where), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("(replay; "), std::string::npos) << again.err;

  const child_run env = in_child([&] {
    ::setenv("LOCKSTEP_REPLAY", schedule.c_str(), 1);
    mc::options o = with(mc::dfs());
    o.honour_env = true;
    (void)mc::explore(o, publication_bug);
  });
  EXPECT_TRUE(env.signaled(SIGSEGV)) << env.err;
  EXPECT_NE(env.err.find(where), std::string::npos) << env.err;
}

// Asked for (options.trace_dir), the trace file is written when it is safe
// to and the report names it; a replay of the trace (every event checked)
// crashes at the same step.
TEST(FatalReplay, TheTraceFileIsWrittenAndReplays) {
  const std::string dir = ::testing::TempDir() + "/lockstep-fatal-trace";
  std::filesystem::remove_all(dir);
  const child_run run = in_child([&] {
    mc::options o = with(mc::dpor());
    o.name = "publication";
    o.trace_dir = dir;
    (void)mc::explore(o, publication_bug);
  });
  ASSERT_TRUE(run.signaled(SIGSEGV)) << run.err;
  const std::string path = match(run.err, "trace:  (\\S+\\.trace)");
  ASSERT_FALSE(path.empty()) << run.err;
  const mc::trace t = mc::read_trace_file(path);
  ASSERT_TRUE(t.kind.has_value());
  EXPECT_EQ(*t.kind, bug_kind::crash);
  EXPECT_EQ(t.events.size(), t.bug_step);
  EXPECT_NE(t.message.find("SIGSEGV in thread 1"), std::string::npos) << t.message;

  const child_run again = in_child([&] { (void)mc::explore(mc::replay_options(t, with(mc::dfs())), publication_bug); });
  EXPECT_TRUE(again.signaled(SIGSEGV)) << again.err;
  EXPECT_NE(again.err.find("at step " + std::to_string(t.bug_step) + " (invalid memory access"), std::string::npos)
      << again.err;
  std::filesystem::remove_all(dir);
}

// on_fatal gets the result (for a tool's own files) before the process ends.
std::string g_on_fatal_file;
void write_kind(const mc::result& r) {
  std::ofstream(g_on_fatal_file) << mc::bug_kind_name(r.found->kind) << " " << r.found->step << " "
                                 << r.found->schedule << "\n";
}

TEST(FatalReplay, OnFatalGetsTheResult) {
  g_on_fatal_file = ::testing::TempDir() + "/lockstep-on-fatal.txt";
  std::remove(g_on_fatal_file.c_str());
  const child_run run = in_child([] {
    mc::options o = with(mc::dpor());
    o.on_fatal = &write_kind;
    (void)mc::explore(o, publication_bug);
  });
  ASSERT_TRUE(run.signaled(SIGSEGV)) << run.err;
  std::ifstream f(g_on_fatal_file);
  std::string kind, schedule;
  std::uint64_t step = 0;
  f >> kind >> step >> schedule;
  EXPECT_EQ(kind, "crash");
  EXPECT_NE(run.err.find("at step " + std::to_string(step) + " "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("LOCKSTEP_REPLAY=" + schedule + "\n"), std::string::npos) << run.err;
  std::remove(g_on_fatal_file.c_str());
}

// Several workers crash at about the same time: one report, from the first.
TEST(FatalReplay, ParallelWorkersReportOnce) {
  const child_run run = in_child([] {
    mc::options o = with(mc::random(1));
    o.jobs = 2;
    o.max_executions = 100000;
    (void)mc::explore(o, [] {
      if (mc::choose(2) == 1 && mc::choose(2) == 1 && mc::choose(2) == 1) store_one(nullptr);
    });
  });
  ASSERT_TRUE(run.signaled(SIGSEGV)) << run.err;
  std::size_t reports = 0;
  for (std::size_t at = 0; (at = run.err.find("crash: SIGSEGV", at)) != std::string::npos; ++at) ++reports;
  EXPECT_EQ(reports, 1u) << run.err;
}

// -- stack overflow -----------------------------------------------------------

// 300 KiB on a 256 KiB stack, written at offsets 10-50 KiB, below 16 KiB of
// frames: the writes begin past a single guard page (before the guard region
// grew, this silently wrote into whatever lay below and passed).
[[gnu::noinline]] int big_frame(int seed) {
  volatile char block[300 * 1024];
  for (int i = 10 * 1024; i < 50 * 1024; i += 64) block[i] = static_cast<char>(seed + i);
  return block[10 * 1024];
}

template <int (*Frame)(int)>
[[gnu::noinline]] int some_stack_used(int seed) {
  volatile char frame[16 * 1024];
  frame[0] = static_cast<char>(seed);
  const int r = Frame(frame[0]);
  frame[1] = static_cast<char>(r);
  return frame[1];
}

template <int (*Frame)(int)>
void large_frame_model() {
  mc::atomic<int> x{0};
  mc::thread t([&] { x.store(1); });
  (void)some_stack_used<Frame>(x.load());
  t.join();
}

TEST_F(Fatal, ALargeFrameIsAStackOverflow) {
  EXPECT_EXIT((void)mc::explore(with(mc::dpor()), large_frame_model<big_frame>), ::testing::KilledBySignal(SIGSEGV),
              "stack_overflow: stack overflow in thread 0 \\(main\\) at step [0-9]+ "
              "\\(stack_size = 256 KiB; raise options.stack_size / --stack-size\\)"
              ".*replay: LOCKSTEP_REPLAY=L1");
}

TEST_F(Fatal, ALargeUnprobedFrameLandsInTheGuardRegion) {
  EXPECT_EXIT((void)mc::explore(with(mc::dpor()), large_frame_model<big_frame_unprobed>),
              ::testing::KilledBySignal(SIGSEGV), "stack_overflow: stack overflow in thread 0 \\(main\\)");
}

TEST_F(Fatal, TheReportNamesTheStackSize) {
  mc::options o = with(mc::dpor());
  o.stack_size = 128 * 1024;
  EXPECT_EXIT((void)mc::explore(o, large_frame_model<big_frame>), ::testing::KilledBySignal(SIGSEGV),
              "\\(stack_size = 128 KiB; raise options.stack_size / --stack-size\\)");
}

TEST(StackSize, ALargerStackHoldsTheFrame) {
  mc::options o = with(mc::dpor());
  o.stack_size = 1024 * 1024;
  const mc::result r = mc::explore(o, large_frame_model<big_frame>);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.complete);
}

TEST(StackSize, BelowTheMinimumIsRefused) {
  mc::options o = with(mc::dpor());
  o.stack_size = 4096;
  EXPECT_THROW((void)mc::explore(o, [] {}), std::invalid_argument);
}

[[gnu::noinline]] int descend(int n, int target) {
  volatile char frame[64];
  frame[0] = static_cast<char>(n);
  if (n == target) return n;
  const int r = descend(n + 1, target);
  return r + frame[0];
}

TEST_F(Fatal, RunawayRecursionIsAStackOverflow) {
  EXPECT_EXIT((void)mc::explore(with(mc::dpor()),
                                [] {
                                  mc::atomic<int> target{5};
                                  mc::thread reset([&] { target.store(-1); });
                                  (void)descend(0, target.load());
                                  reset.join();
                                }),
              ::testing::KilledBySignal(SIGSEGV),
              "stack_overflow: stack overflow in thread 0 \\(main\\) at step [0-9]+.*LOCKSTEP_REPLAY=L1");
}

// A recursion that reaches scheduling points is stopped at one of them while
// there is stack left: an ordinary bug, returned (and shrunk) like any other.
[[gnu::noinline]] int descend_checked(const mc::atomic<int>& target, int n) {
  volatile char frame[64];
  frame[0] = static_cast<char>(n);
  if (n == target.load()) return n;
  const int r = descend_checked(target, n + 1);
  return r + frame[0];
}

TEST(StackSize, RecursionThroughSchedulingPointsIsAnOrdinaryBug) {
  mc::options o = with(mc::dpor());
  o.busy_wait_bound = 1000000;  // these loads are a descent, not a spin
  o.max_steps = 1000000;
  const mc::result r = mc::explore(o, [] {
    mc::atomic<int> target{5};
    mc::thread reset([&] { target.store(-1); });
    (void)descend_checked(target, 0);
    reset.join();
  });
  ASSERT_TRUE(r.found) << r.report();
  EXPECT_EQ(r.found->kind, bug_kind::stack_overflow) << r.report();
  EXPECT_NE(r.found->message.find("less than 32 KiB of its stack left at a scheduling point at " LOCKSTEP_SRC "tests/test_fatal.cpp:"),
            std::string::npos)
      << r.found->message;
  EXPECT_NE(r.found->message.find("(stack_size = 256 KiB"), std::string::npos) << r.found->message;
}

// -- the watchdog ---------------------------------------------------------------

// A thread spins on a std::atomic, which the checker cannot see: once it runs
// before the store, no scheduling point ever comes.
void std_atomic_spin() {
  mc::atomic<bool> started{false};
  std::atomic<bool> ready{false};
  mc::thread waiter([&] {
    started.store(true);
    while (!ready.load()) {
    }
  });
  (void)started.load();
  ready.store(true);
  waiter.join();
}

TEST_F(Fatal, ALoopWithoutSchedulingPointsEndsAtTheTimeBudget) {
  mc::options o = with(mc::dpor());
  o.time_budget = std::chrono::seconds(2);
  EXPECT_EXIT((void)mc::explore(o, std_atomic_spin), ::testing::ExitedWithCode(124),
              "non_termination: thread 1 ran 2 s of CPU time without reaching a scheduling point, at step [0-9]+"
              ".*thread 1 has run since its step [0-9]+ \\(store\\) at " LOCKSTEP_SRC "tests/test_fatal.cpp:"
              ".*replay: LOCKSTEP_REPLAY=L1.*the watchdog ends the process \\(exit code 124\\)");
}

TEST_F(Fatal, TheStepTimeoutIsAnOption) {
  mc::options o = with(mc::dpor());
  o.step_timeout = std::chrono::milliseconds(300);
  EXPECT_EXIT((void)mc::explore(o, std_atomic_spin), ::testing::ExitedWithCode(124),
              "non_termination: thread 1 ran 300 ms of CPU time without reaching a scheduling point");
}

// A real blocking call in checked code (a std::mutex another checked thread
// holds) blocks the one OS thread all checked threads share.
TEST_F(Fatal, ABlockingCallIsNonTermination) {
  mc::options o = with(mc::dpor());
  o.step_timeout = std::chrono::milliseconds(300);
  EXPECT_EXIT((void)mc::explore(o,
                                [] {
                                  std::mutex m;
                                  mc::atomic<int> x{0};
                                  mc::thread t([&] {
                                    std::scoped_lock g(m);
                                    x.store(1);  // a scheduling point while holding m
                                  });
                                  (void)x.load();
                                  std::scoped_lock g(m);
                                  t.join();
                                }),
              ::testing::ExitedWithCode(124),
              "non_termination: thread [0-9].* is blocked in the OS \\(a real lock, sleep or I/O\\) and has gone "
              "300 ms without reaching a scheduling point");
}

// A step blocked in the OS uses no CPU time; the watchdog still ends it, soon
// after the limit: `model` runs in a child, which must end with the
// watchdog's report within ten times the limit.
template <class F>
void blocked_step_ends(F model) {
  constexpr auto limit = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  const child_run r = in_child([&] {
    mc::options o = with(mc::dpor());
    o.step_timeout = limit;
    (void)mc::explore(o, model);
  });
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.exited(124)) << r.status << "\n" << r.err;
  EXPECT_NE(r.err.find("non_termination: thread 0 (main) is blocked in the OS (a real lock, sleep or I/O) and has "
                       "gone 300 ms without reaching a scheduling point"),
            std::string::npos)
      << r.err;
  EXPECT_LT(took, 10 * limit) << r.err;
}

TEST(Watchdog, AStepBlockedInAReadEnds) {
  blocked_step_ends([] {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);  // both ends stay open: the read waits for ever
    mc::atomic<int> x{0};
    x.store(1);
    char c;
    (void)::read(fds[0], &c, 1);
    x.store(2);
  });
}

// The thread wakes every millisecond and runs a little: it is blocked nearly
// all the time, and its CPU time grows far slower than the wall clock.
TEST(Watchdog, AStepThatSleepsInALoopEnds) {
  blocked_step_ends([] {
    mc::atomic<int> x{0};
    x.store(1);
    for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
}

// This thread's CPU time.
std::chrono::nanoseconds thread_cpu() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// A step that needs 15 ms of CPU time on a thread starved of CPU: pinned to
// one CPU at nice 19, beside a thread that spins there at nice 0, it takes
// many times the 200 ms limit of wall-clock time. It uses far less than the
// limit of CPU time and is never blocked: the watchdog lets it finish. The
// watchdog's own thread is started first, at normal priority on any CPU: it
// wakes on time, only the checked thread is starved.
TEST(Watchdog, AStarvedStepIsNotEnded) {
  constexpr auto limit = std::chrono::milliseconds(200);
  constexpr int kSkip = 77;
  const child_run r = in_child([&] {
    mc::options o = with(mc::dfs());
    o.step_timeout = limit;
    (void)mc::explore(o, [] {  // starts the watchdog
      mc::atomic<int> x{0};
      x.store(1);
    });
    const int cpu = ::sched_getcpu();
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu < 0 ? 0 : cpu, &one);
    if (::sched_setaffinity(0, sizeof one, &one) != 0) {
      std::fprintf(stderr, "sched_setaffinity to one CPU failed: %s\n", std::strerror(errno));
      ::_exit(kSkip);
    }
    std::atomic<bool> stop{false};
    std::thread hog([&] {  // on the same CPU, at nice 0
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
    if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19) != 0) {
      std::fprintf(stderr, "setpriority(19) failed: %s\n", std::strerror(errno));
      stop = true;
      hog.join();
      ::_exit(kSkip);
    }
    std::chrono::nanoseconds wall{};
    const mc::result res = mc::explore(o, [&] {
      mc::atomic<int> x{0};
      x.store(1);
      const auto start = std::chrono::steady_clock::now();
      const auto end = thread_cpu() + std::chrono::milliseconds(15);
      while (thread_cpu() < end) {
      }
      wall = std::chrono::steady_clock::now() - start;
      x.store(2);
    });
    stop = true;
    hog.join();
    std::fprintf(stderr, "wall %lld ms\n%s\n", static_cast<long long>(wall / std::chrono::milliseconds(1)),
                 res.report().c_str());
    ::_exit(res.ok() ? 0 : 1);
  });
  if (r.exited(kSkip)) GTEST_SKIP() << r.err;
  const std::string wall = match(r.err, "wall ([0-9]+) ms");
  ASSERT_FALSE(wall.empty()) << r.status << "\n" << r.err;
  // Twice the limit: a watchdog on the wall clock alone (ticks of 50 ms)
  // would have ended it.
  ASSERT_GE(std::stoll(wall), 2 * limit.count()) << "the step was not starved: " << r.err;
  EXPECT_TRUE(r.exited(0)) << r.status << "\n" << r.err;
}

TEST(Watchdog, OffLetsALongStepFinish) {
  mc::options o = with(mc::dfs());
  o.time_budget = std::chrono::seconds(1);
  o.step_timeout = std::chrono::milliseconds(-1);
  const mc::result r = mc::explore(o, [] {
    mc::atomic<int> x{0};
    x.store(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // longer than the budget allows
    x.store(2);
  });
  EXPECT_TRUE(r.ok()) << r.report();
}

// lockstep stress: free runs on OS threads in a child process. A run whose
// code ends the process counts as that run's bug, and the runs after it go
// on in a new child.
TEST(Stress, ARunThatCrashesCountsAndTheRunsGoOn) {
  // Some seeds crash: which ones, the same body tells in process, with the
  // store left out.
  bool crash_it = true;
  auto body = [&] {
    mc::atomic<int> x{0};
    mc::thread t([&] { x.store(1); });
    const bool unlucky = mc::choose(3) == 0;
    t.join();
    if (unlucky && crash_it) store_one(nullptr);
    if (unlucky && !crash_it) LOCKSTEP_ASSERT(false);
  };
  constexpr std::uint64_t kRuns = 12;
  const mc::stress_tally t = mc::stress(body, kRuns);
  crash_it = false;
  std::uint64_t unlucky = 0, first = 0;
  for (std::uint64_t i = 0; i < kRuns; ++i) {
    mc::thread_run_options ro;
    ro.seed = i + 1;
    if (mc::run_free(body, ro).kind) {
      if (unlucky++ == 0) first = i + 1;
    }
  }
  ASSERT_GT(unlucky, 0u) << "no seed of " << kRuns << " draws 0: pick another body";
  ASSERT_LT(unlucky, kRuns) << "every seed draws 0: pick another body";
  EXPECT_EQ(t.runs, kRuns);
  EXPECT_EQ(t.bugs, unlucky);
  ASSERT_EQ(t.verdicts.size(), 2u);
  for (const auto& [v, n] : t.verdicts) {
    if (v == "pass") EXPECT_EQ(n, kRuns - unlucky);
    else EXPECT_EQ(v, "bug: crash") << t.first;
  }
  EXPECT_EQ(t.first.rfind("run " + std::to_string(first) + ": ", 0), 0u) << t.first;
}

TEST(Stress, AnAbortOrAnExitInARunIsThatRunsCrash) {
  const mc::stress_tally aborted = mc::stress([] { std::abort(); }, 3);
  EXPECT_EQ(aborted.runs, 3u);
  EXPECT_EQ(aborted.bugs, 3u);
  ASSERT_EQ(aborted.verdicts.size(), 1u);
  EXPECT_EQ(aborted.verdicts[0], std::make_pair(std::string("bug: crash"), std::uint64_t{3}));
  EXPECT_EQ(aborted.first, "run 1: the process ended by signal 6 (SIGABRT) in the model's code");

#ifndef LOCKSTEP_TEST_ASAN  // its leak check at exit() would report the parent's threads missing
  const mc::stress_tally exited = mc::stress([] { std::exit(7); }, 2);
  EXPECT_EQ(exited.bugs, 2u);
  EXPECT_EQ(exited.first, "run 1: the model's code ended the process with exit code 7");
#endif
}

// A run whose thread never reaches a scheduling point: past the run's
// timeout it is aborted, its thread does not stop, and its process ends.
TEST(Stress, ThreadsTheAbortCannotStopAreNonTermination) {
  mc::thread_run_options ro;
  ro.timeout = std::chrono::milliseconds(100);
  const mc::stress_tally t = mc::stress(
      [] {
        std::atomic<bool> never{false};
        while (!never.load()) {
        }
      },
      1, ro);
  EXPECT_EQ(t.runs, 1u);
  ASSERT_EQ(t.verdicts.size(), 1u);
  EXPECT_EQ(t.verdicts[0].first, "bug: non_termination") << t.first;
  EXPECT_NE(t.first.find("did not stop"), std::string::npos) << t.first;
}

}  // namespace
