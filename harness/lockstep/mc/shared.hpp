// lockstep/mc/shared.hpp — plain (non-atomic) shared memory in a model.
//
// `mc::shared<T>` holds a T that threads read and write without atomics.
// Accesses are not scheduling points: the checker only switches threads at
// synchronisation, so a model must make its racy steps explicit (use
// mc::atomic for a load/store race that the scheduler should interleave).
//
// Lifetime: like the T it holds.
#pragma once

#include <utility>

namespace lockstep::mc {

template <class T>
class shared {
 public:
  shared() = default;
  shared(T v) : value_(std::move(v)) {}  // NOLINT: reads like a T
  shared& operator=(T v) {
    value_ = std::move(v);
    return *this;
  }
  operator const T&() const noexcept { return value_; }  // NOLINT
  T& get() noexcept { return value_; }
  const T& get() const noexcept { return value_; }

 private:
  T value_{};
};

}  // namespace lockstep::mc
