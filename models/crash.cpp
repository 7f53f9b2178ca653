// Bugs that end the process: a crash, a stack overflow, a step that never
// reaches a scheduling point. The checker cannot return from them; it prints
// the report with the replay string from a signal handler and ends the
// process (see options::on_fatal), so `lockstep check --all` and the test
// suites check these models in a child process (.ends_process).
#include <atomic>
#include <cstdlib>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"

namespace {

using lockstep::mc::bug_kind;
using lockstep::mc::expect_bug;
namespace mc = lockstep::mc;

// Not checked by UBSan (which would report the null store before it faults):
// the model is about the fault. The pointer goes through a volatile copy, so
// no optimiser can prove it null at a call site and put a trap in its place.
__attribute__((noinline, no_sanitize("null"))) void store_one(int* p) {
  int* volatile target = p;
  *target = 1;
}

LOCKSTEP_MODEL(crash_null_deref, "crash", expect_bug(bug_kind::crash),
               "a reader trusts a ready flag that is set before the pointer it guards: a null "
               "dereference (SIGSEGV)",
               .ends_process = true) {
  int value = 0;
  mc::atomic<int*> ptr{nullptr};
  mc::atomic<bool> ready{false};
  mc::name(&ptr, "ptr");
  mc::name(&ready, "ready");
  mc::thread reader([&] {
    if (ready.load()) {
      store_one(ptr.load());  // null when the flag came first
    }
  });
  ready.store(true);  // the bug: the flag before the pointer
  ptr.store(&value);
  reader.join();
}

LOCKSTEP_MODEL(crash_abort, "crash", expect_bug(bug_kind::crash),
               "a lost update caught by a production-style check that calls abort() (SIGABRT), "
               "not by LOCKSTEP_ASSERT",
               .ends_process = true) {
  mc::atomic<int> count{0};
  mc::name(&count, "count");
  auto increment = [&] {
    const int seen = count.load();
    count.store(seen + 1);
  };
  mc::thread t(increment);
  increment();
  t.join();
  if (count.load() != 2) std::abort();
}

// 300 KiB on a 256 KiB stack, written at offsets 10-50 KiB: without a probe
// or a large guard region those writes land past a single guard page.
[[gnu::noinline]] int checksum_in_a_big_buffer(int seed) {
  volatile char block[300 * 1024];
  for (int i = 10 * 1024; i < 50 * 1024; i += 64) block[i] = static_cast<char>(seed + i);
  return block[10 * 1024] + block[50 * 1024 - 64];
}

[[gnu::noinline]] int with_some_stack_used(int seed) {
  volatile char frame[16 * 1024];
  frame[0] = static_cast<char>(seed);
  const int r = checksum_in_a_big_buffer(frame[0]);
  frame[1] = static_cast<char>(r);
  return frame[1];
}

LOCKSTEP_MODEL(stack_overflow_large_frame, "crash", expect_bug(bug_kind::stack_overflow),
               "a 300 KiB buffer on the default 256 KiB stack (passes with --stack-size 1M)",
               .ends_process = true) {
  mc::atomic<int> x{0};
  mc::name(&x, "x");
  mc::thread t([&] { x.store(1); });
  (void)with_some_stack_used(x.load());
  t.join();
}

// Descends until it meets `target`; a racing reset to -1 means it never does.
[[gnu::noinline]] int descend(int n, int target) {
  volatile char frame[64];
  frame[0] = static_cast<char>(n);
  if (n == target) return n;
  const int r = descend(n + 1, target);  // not a tail call: the frame stays
  return r + frame[0];
}

LOCKSTEP_MODEL(stack_overflow_recursion, "crash", expect_bug(bug_kind::stack_overflow),
               "a recursion whose base case a racing reset removes: it runs off the stack",
               .ends_process = true) {
  mc::atomic<int> target{5};
  mc::name(&target, "target");
  mc::thread reset([&] { target.store(-1); });
  (void)descend(0, target.load());
  reset.join();
}

LOCKSTEP_MODEL(hang_std_atomic_spin, "crash", expect_bug(bug_kind::non_termination),
               "a thread spins on a std::atomic, which the checker cannot see: no scheduling point "
               "ever comes, and the watchdog ends the step",
               .ends_process = true, .step_timeout = std::chrono::seconds(1)) {
  mc::atomic<bool> started{false};
  std::atomic<bool> ready{false};  // the mistake: a std::atomic in checked code
  mc::name(&started, "started");
  mc::thread waiter([&] {
    started.store(true);
    while (!ready.load()) {
    }
  });
  (void)started.load();
  ready.store(true);
  waiter.join();
}

}  // namespace
