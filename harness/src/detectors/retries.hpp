// Starvation in optimistic retry loops, a detector component. A retry loop
// never blocks, so the wait-for graph never sees it overtaken: the model
// announces the resource before its first attempt (retry_begin), reports
// each attempt whose commit failed (retry_lost: the thread that won the
// resource last overtook it) and its own commit (retry_won). More than
// bypass_bound losses before its own commit is starvation. The latest winner
// of each resource is in the object store.
#pragma once

#include <cstdint>
#include <source_location>
#include <utility>
#include <vector>

#include "engine/objects.hpp"
#include "lockstep/mc/explore.hpp"

namespace lockstep::mc::rt {

class retry_watch {
 public:
  struct thread_state {
    const void* retry_for = nullptr;  // the resource of its retry loop (retry_begin)
    std::source_location retry_loc;
    std::uint64_t retry_step = 0;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> retry_bypass;  // (winner, times it won)
  };

  void reset(const options&) {
    if (st_.capacity() == 0) st_.reserve(kThreadsReserved);
  }
  void on_slot(std::uint32_t tid) { st_.resize(tid + 1); }  // a thread slot made (the engine's)
  void on_thread(std::uint32_t tid) {
    thread_state& t = st_[tid];
    t.retry_for = nullptr;
    t.retry_loc = {};
    t.retry_step = 0;
    t.retry_bypass.clear();
  }
  [[nodiscard]] thread_state& operator[](std::uint32_t tid) noexcept { return st_[tid]; }

  // t lost to `by`: how many times t has lost so far.
  std::uint32_t lost(std::uint32_t t, std::uint32_t by) {
    std::uint32_t total = 0;
    bool found = false;
    for (auto& [w, times] : st_[t].retry_bypass) {
      if (w == by) {
        ++times;
        found = true;
      }
      total += times;
    }
    if (!found) {
      st_[t].retry_bypass.emplace_back(by, 1);
      ++total;
    }
    return total;
  }

 private:
  std::vector<thread_state> st_;
};

}  // namespace lockstep::mc::rt
