// Wall-clock time of a benchmark loop (shared by the benchmark programs).
#pragma once

#include <chrono>

namespace lockstep::bench {

class stopwatch {
 public:
  stopwatch() : t0_(std::chrono::steady_clock::now()) {}
  double ns() const {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace lockstep::bench
