// Threads taking one mutex in turn, shared by the tests and benchmarks that
// count or split the orders of critical sections.
#pragma once

#include <mutex>
#include <vector>

#include "lockstep/lockstep.hpp"

namespace lockstep::testing {

// `threads` threads spawned by the caller, each taking one mutex `each`
// times: (threads * each)! / (each!)^threads orders of the sections, every
// one a trace of its own.
inline void sections(int threads, int each) {
  mc::mutex m;
  std::vector<mc::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < each; ++i) std::scoped_lock g(m);
    });
  for (auto& t : ts) t.join();
}

}  // namespace lockstep::testing
