// A body whose thread is stopped inside its callable's destructor: a
// capture's destructor takes the lock the body holds when its assertion
// fails, so the abort reaches the thread there (after its function returned,
// while its task is destroyed). The callable must be destroyed once, not
// again when the execution or run ends (a double free, or the destructor run
// a second time on another thread). `destroyed` counts entries into a live
// capture's destructor. (test_runtime on fibers, test_replay on OS threads.)
#pragma once

#include <mutex>
#include <vector>

#include "lockstep/lockstep.hpp"

namespace lockstep::testing {

struct capture_that_locks {
  mc::mutex* m;
  int* destroyed;
  capture_that_locks(mc::mutex* x, int* d) : m(x), destroyed(d) {}
  capture_that_locks(capture_that_locks&& o) noexcept : m(o.m), destroyed(o.destroyed) { o.m = nullptr; }
  ~capture_that_locks() {
    if (m == nullptr) return;
    ++*destroyed;
    std::scoped_lock g(*m);  // a point in a noexcept function
  }
};

inline void capture_waits_while_the_body_fails(int& destroyed) {
  mc::mutex m;
  mc::atomic<int> flag{0};
  mc::thread t([c = capture_that_locks(&m, &destroyed), v = std::vector<int>(1000, 7), &flag] { flag.store(1); });
  m.lock();
  LOCKSTEP_ASSERT(flag.load() == 0);
  m.unlock();
  t.join();
}

}  // namespace lockstep::testing
