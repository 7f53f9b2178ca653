// The classic lock-order deadlock, shared by the tests that need one.
#pragma once

#include <mutex>

#include "lockstep/lockstep.hpp"

namespace lockstep::testing {

// Thread 1 takes a then b while the caller takes b then a: they may deadlock.
inline void abba(mc::mutex& a, mc::mutex& b) {
  mc::thread t([&] {
    std::scoped_lock ga(a);
    std::scoped_lock gb(b);
  });
  {
    std::scoped_lock gb(b);
    std::scoped_lock ga(a);
  }
  t.join();
}

}  // namespace lockstep::testing
