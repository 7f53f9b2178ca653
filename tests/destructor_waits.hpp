// Bodies whose thread waits for a lock inside a destructor when the body's
// assertion fails while holding it: the abort cannot leave the destructor,
// and the thread is stopped there (test_runtime on fibers, test_replay on OS
// threads).
#pragma once

#include <mutex>
#include <vector>

#include "lockstep/lockstep.hpp"

namespace lockstep::testing {

// A member deregisters under the registry's lock in its destructor, while
// the body holds that lock and finds it still registered.
inline void member_waits_while_the_body_fails() {
  struct registry {
    mc::mutex m;
    mc::atomic<int> members{0};
  };
  struct member {
    registry& r;
    explicit member(registry& x) : r(x) {
      std::scoped_lock g(r.m);
      r.members.fetch_add(1);
    }
    ~member() {
      std::scoped_lock g(r.m);  // a point in a noexcept function
      r.members.fetch_sub(1);
    }
  };
  registry reg;
  mc::atomic<int> made{0};
  mc::thread t([&] {
    member me(reg);
    made.store(1);
  });  // ~member: waits for reg.m while main holds it
  while (made.load() == 0) mc::this_thread::yield();
  reg.m.lock();
  LOCKSTEP_ASSERT(reg.members.load() == 0);  // fails while t is still a member
  reg.m.unlock();
  t.join();
}

// The same inside the thread's callable's destructor: a capture's
// destructor takes the lock, after the thread's function returned, while its
// task is destroyed. The callable must be destroyed once, not again when the
// execution or run ends (a double free, or the destructor run a second time
// on another thread). `destroyed` counts entries into a live capture's
// destructor.
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
