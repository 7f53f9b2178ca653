// The counting_semaphore gate's specification, for any type with its
// interface (the production one and the broken semaphores in
// tests/test_lin_sync.cpp).
//
// The model is the count of permits. acquire() waits while it is zero;
// try_acquire() and try_acquire_for(1 ms) (under the checker the timeout is
// a scheduler choice, so it may give up at any moment it waits) take a
// permit when there is one and return false when there is none; release(n)
// adds n. The initial count is small, so calls wait, and Max is left large:
// releasing past it is misuse, not a result.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include <lockstep/lin.hpp>

namespace lockstep::gates {

struct permits_model {
  std::int64_t n = 0;
  bool operator==(const permits_model&) const = default;
  friend std::ostream& operator<<(std::ostream& o, const permits_model& m) { return o << m.n << " permits"; }
  bool take() {
    if (n == 0) return false;
    --n;
    return true;
  }
};

template <class S>
lin::spec<S, permits_model> semaphore_spec(std::string name, int initial = 1) {
  lin::spec<S, permits_model> s(std::move(name), [initial] { return std::make_unique<S>(initial); },
                                permits_model{initial});
  s.op("acquire", [](S& x) { x.acquire(); },
       [](permits_model& m) -> lin::result {
         if (!m.take()) return lin::blocked;
         return {};
       });
  s.op("try_acquire", [](S& x) { return x.try_acquire(); }, [](permits_model& m) { return m.take(); });
  s.op("try_acquire_for", [](S& x) { return x.try_acquire_for(std::chrono::milliseconds(1)); },
       [](permits_model& m) { return m.take(); });
  // release(2) wakes every waiter rather than one.
  s.op("release", rc::gen::inRange(1, 3), [](S& x, int n) { x.release(n); },
       [](permits_model& m, int n) {
         m.n += n;
         return lin::result();
       });
  return s;
}

}  // namespace lockstep::gates
