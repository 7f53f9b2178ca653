// The wait-for graph (deadlock cycles) and bounded bypass (starvation of a
// thread blocked on a lock), a detector component. Its per-thread state is
// what each thread announced it is acquiring (primitives call acquiring()
// before a blocking acquisition, acquired() after it) and who overtook it
// since; its per-object facts (holders, waiters) are in the object store.
//
// The wait-for graph has a vertex per thread and per resource: thread ->
// resource it is acquiring (blocking), resource -> each thread holding it.
// A cycle can only form when a thread announces a blocking acquisition, so
// the engine looks for one there, and only when some holder of the resource
// is itself waiting (or is the acquiring thread): otherwise no cycle can
// pass through the new edge and the graph is not built at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <utility>
#include <vector>

#include "engine/objects.hpp"
#include "lockstep/mc/explore.hpp"

namespace lockstep::mc::rt {

class wait_for {
 public:
  struct thread_state {
    const void* waiting_for = nullptr;     // resource announced by acquiring()
    lock_mode waiting_mode = lock_mode::exclusive;  // ... in this mode
    std::uint32_t waiter_pos = kNoThread;  // its place in that resource's waiters
    std::source_location waiting_loc;
    std::uint64_t acquiring_step = 0;      // step at which it announced waiting_for
    // Bounded bypass (see runtime::count_bypass): asked_joins is the
    // resource's joins (object_rec::joins) when the thread asked (its step
    // after the announcement); join_index is its own join among the
    // resource's waiters, 1-based (0: it has not blocked there). A thread
    // that asked after a waiter joined, and gets the resource first,
    // overtook that waiter.
    std::uint32_t asked_joins = 0;
    std::uint32_t join_index = 0;
    std::uint64_t join_step = 0;           // step at which it joined the waiters
    // waiting_for's id in the object store, cached at the announcement (the
    // waiters key names it without a look-up).
    std::uint32_t waiting_id = 0;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> bypass;  // (thread, times) since it announced
    // Asking and acquiring count for bounded bypass at the thread's next
    // step, not in the code between two steps, so that a dependence-aware
    // strategy orders them against the waiters' blocking (see
    // runtime::settle_bypass): what is still to settle.
    struct acquisition {
      const void* obj;
      std::uint32_t id;
      std::uint32_t asked;  // joins when it asked (kAskedNow: at the step)
      lock_mode mode;
    };
    static constexpr std::uint32_t kAskedNow = ~std::uint32_t{0};
    std::uint32_t ask_id = 0;              // asked for this resource since its last step
    // A try announced by acquiring() (it never waits, so it is no
    // waiting_for): asked at its next step like a blocking acquisition, so
    // that it overtakes only the waiters that blocked before then.
    const void* trying = nullptr;
    std::vector<acquisition> got;          // acquired these since its last step
    bool unsettled = false;                // ask_id or got is set
  };

  void reset(const options&) {
    if (st_.capacity() == 0) st_.reserve(kThreadsReserved);
    cycle.clear();
  }
  void on_slot(std::uint32_t tid) { st_.resize(tid + 1); }  // a thread slot made (the engine's)
  void on_thread(std::uint32_t tid) {
    thread_state& t = st_[tid];  // made fresh field by field: bypass keeps its capacity
    t.waiting_for = nullptr;
    t.waiter_pos = kNoThread;
    t.waiting_loc = {};
    t.acquiring_step = 0;
    t.asked_joins = 0;
    t.join_index = 0;
    t.join_step = 0;
    t.waiting_id = 0;
    t.bypass.clear();
    t.ask_id = 0;
    t.trying = nullptr;
    t.got.clear();
    t.unsettled = false;
  }
  [[nodiscard]] thread_state& operator[](std::uint32_t tid) noexcept { return st_[tid]; }
  [[nodiscard]] const thread_state& operator[](std::uint32_t tid) const noexcept { return st_[tid]; }

  // A cycle of the graph over `nthreads` threads (vertex t) and the store's
  // resources (vertex nthreads + id - 1), threads for which `alive(t)` is
  // false left out; from thread `from` only, or anywhere when from is
  // kNoThread. Empty when there is none. (Boost.Graph, in wait_for.cpp.)
  template <class Alive>
  [[nodiscard]] std::vector<std::size_t> find_cycle(const object_store& objects, std::uint32_t nthreads,
                                                    Alive&& alive, std::uint32_t from) const {
    std::vector<std::pair<std::size_t, std::size_t>> edges;
    for (std::uint32_t t = 0; t < nthreads; ++t) {
      const thread_state& th = st_[t];
      if (th.waiting_for == nullptr || !alive(t)) continue;
      if (const std::uint32_t id = objects.find(th.waiting_for); id != 0 && objects[id].resource)
        edges.emplace_back(t, nthreads + id - 1);
    }
    for (std::uint32_t id = 1; id <= objects.size(); ++id)
      for (const holder& h : objects[id].holders) edges.emplace_back(nthreads + id - 1, h.thread);
    return cycle_in(nthreads + objects.size(), edges, from);
  }

  std::vector<std::size_t> cycle;  // the deadlock cycle being reported (the graph marks it)

 private:
  static std::vector<std::size_t> cycle_in(std::size_t vertices,
                                           const std::vector<std::pair<std::size_t, std::size_t>>& edges,
                                           std::uint32_t from);
  std::vector<thread_state> st_;
};

}  // namespace lockstep::mc::rt
