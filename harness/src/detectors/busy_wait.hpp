// Busy waiting: a thread that reads shared state more than busy_wait_bound
// times in a row without a yield spins without relax(). A detector component:
// per-thread state, reset(), on_* calls, and the run length as its finding.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/objects.hpp"
#include "lockstep/mc/explore.hpp"
#include "lockstep/mc/hooks.hpp"

namespace lockstep::mc::rt {

class busy_wait {
 public:
  void reset(const options& o) {
    if (st_.capacity() == 0) st_.reserve(kThreadsReserved);
    bound_ = o.busy_wait_bound;
  }
  void on_slot(std::uint32_t tid) { st_.resize(tid + 1); }  // a thread slot made (the engine's)
  void on_thread(std::uint32_t tid) {
    st_[tid] = thread_state{};
  }
  // A point of t: true when it makes t's run of read-only steps longer than
  // the bound (the engine reports it).
  // A fence touches no location: it neither continues nor ends a run.
  bool on_point(std::uint32_t t, op o) noexcept {
    if (o == op::fence) [[unlikely]]
      return false;
    thread_state& s = st_[t];
    if (o == op::yield) [[unlikely]] {
      s.run = 0;
    } else if (!s.prev_ro) {
      s.run = 0;
    } else if (++s.run > bound_) [[unlikely]] {
      return true;
    }
    s.prev_ro = o == op::load;
    return false;
  }
  // The step just made left its value as it was.
  void on_read_only(std::uint32_t t) noexcept { st_[t].prev_ro = true; }
  // A step that does not pass through on_point() (a native word's) wrote.
  void on_write(std::uint32_t t) noexcept { st_[t].prev_ro = false; }
  // t blocked: waiting is not spinning.
  void on_block(std::uint32_t t) noexcept { st_[t] = thread_state{}; }
  [[nodiscard]] std::uint32_t run(std::uint32_t t) const noexcept { return st_[t].run; }

 private:
  struct thread_state {
    std::uint32_t run = 0;  // consecutive read-only steps
    bool prev_ro = false;   // its latest point was read-only
  };
  std::uint32_t bound_ = 0;
  std::vector<thread_state> st_;
};

}  // namespace lockstep::mc::rt
