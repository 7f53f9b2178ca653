// Fair scheduling (Musuvathi & Qadeer, "Fair stateless model checking",
// PLDI 2008), a detector component that shapes the schedule: a thread that
// yields (relax(), a failed try_lock, an expired timed wait) lets go first
// the threads that are runnable now and have not run (taken a step) since
// its previous yield; it is not eligible while one of them is runnable and
// still has not run since this yield. An edge ends when its target runs. The
// relation is acyclic (the newest edge's source ran after every older edge
// into it was made), so some runnable thread is always eligible.
//
// Bookkeeping is one store per pick and a small vector per yield: `last`
// (the fair clock when a thread was last picked) and `yield_at` (the clock at
// its latest yield) decide which threads a yield defers to; each edge is
// kept in its target's `watchers` and ends when the target is picked, so a
// decision never looks at every thread's defer set. The clock counts yields
// and thread starts only: all a pick's time has to tell is which of them it
// came after (a pick after the one at clock c reads at least c, a pick before
// it less).
//
// A thread runs when it takes a step: a pick that takes none is undone
// (undo_pick()). Such are an attempt that blocks without a step (a native
// lock word found held, a count found at zero, a join of a running
// thread) and the resumption of a woken timed count waiter, which decides
// again at its point (a woken lock or untimed count waiter attempts at the
// pick that resumes it). Dpor takes these picks to be no events:
// counted as runs, they made a later yield defer to the thread or not
// depending on where a pick happened to fall, an order no race shows dpor,
// and let a spinner's yields starve a thread picked each time while the
// spinner held its lock. A thread blocked in such an attempt has still not
// run: a yield makes an edge to it as to a runnable one, but an edge into a
// thread that cannot run defers nobody until the thread can run again (as
// in CHESS, priority counts among enabled threads only).
//
// A futex wait that blocks is not a yield here: the waiter is disabled until
// woken (stronger than any priority), and making it defer after the wake
// would only prune the schedules where the woken thread runs first. Under
// dpor that pruning is unsound (fairness depends on history, not on state,
// so a reversed race may need a schedule fairness forbids at the frame dpor
// backtracks to), and a timed waiter would be kept from timing out. Spin
// loops, the reason for fairness, yield explicitly.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/dcheck.hpp"
#include "engine/id_set.hpp"
#include "engine/objects.hpp"
#include "lockstep/mc/explore.hpp"

namespace lockstep::mc::rt {

class fairness {
 public:
  // The engine's enabled set, and its eligible set (enabled and not
  // deferred), which this component keeps.
  void bind(const id_set& enabled, id_set& eligible) noexcept {
    enabled_ = &enabled;
    eligible_ = &eligible;
  }
  void reset(const options&) {
    if (st_.capacity() == 0) st_.reserve(kThreadsReserved);
    clock_ = 0;
    ended_.clear();
  }
  void on_slot(std::uint32_t tid) { st_.resize(tid + 1); }  // a thread slot made (the engine's)
  void on_thread(std::uint32_t tid) {
    thread_state& t = st_[tid];
    t.last = 0;
    t.yield_at = ++clock_;  // never picked (last 0): it has not run since anyone's yield
    t.live = 0;
    t.gen = 0;
    t.blocked = false;
    t.watchers.clear();
  }
  // Whether tid lets others go first now.
  [[nodiscard]] bool deferred(std::uint32_t tid) const noexcept { return st_[tid].live != 0; }
  // tid was picked to run: the edges into it end. (Without fair scheduling
  // nothing yields: `last` is never read and there are no edges.)
  void picked(std::uint32_t tid) {
    thread_state& t = st_[tid];
    t.last = clock_;
    if (!t.watchers.empty()) [[unlikely]]
      end_deferrals(tid);
  }
  // picked() (or picked_again()) without its call: false, and nothing
  // done, when the thread has edges to end, which picked() then does.
  [[nodiscard]] bool picked_plainly(std::uint32_t tid) noexcept {
    thread_state& t = st_[tid];
    if (!t.watchers.empty()) [[unlikely]]
      return false;
    t.last = clock_;
    return true;
  }
  // The running thread tid was picked again. No edge into it was made
  // since it was picked to run (only the running thread yields, and its own
  // yield makes none into itself), but a pick of it undone may have left
  // some.
  void picked_again(std::uint32_t tid) {
    thread_state& t = st_[tid];
    t.last = clock_;
    if (!t.watchers.empty()) [[unlikely]]
      end_deferrals(tid);
  }
  // Before a pick that may take no step (see above): what it changes, for
  // undo_pick().
  struct pick_mark {
    std::uint64_t last;
    std::uint64_t ends;
  };
  [[nodiscard]] pick_mark before_pick(std::uint32_t tid) const noexcept { return {st_[tid].last, ends_}; }
  // tid's pick took no step: it is undone; `blocks`: tid blocks now (an
  // attempt), else it goes on to decide again (a timed count waiter's
  // resumption). Nothing ran
  // since the pick, so the edges the pick ended are the last ones ended, if
  // it ended any, and they were all the edges into tid.
  void undo_pick(std::uint32_t tid, pick_mark m, bool blocks) {
    st_[tid].last = m.last;
    st_[tid].blocked = blocks;
    if (ends_ != m.ends && ended_owner_ == tid) [[unlikely]]
      rearm(tid);
  }
  // tid, which may be blocked in an attempt that took no step, was woken:
  // the edges into it defer again. (The engine calls it where such a thread
  // is woken: a lock word's unlock, a count's release, the exit of the
  // thread it joins; other wakes meet no such thread.)
  void woken(std::uint32_t tid) {
    if (st_[tid].blocked) [[unlikely]]
      unblock(tid);
  }
  [[nodiscard]] bool blocked(std::uint32_t tid) const noexcept { return st_[tid].blocked; }
  // Edges into a finished thread end.
  void on_exit(std::uint32_t tid, std::uint64_t) {
    st_[tid].blocked = false;
    if (!st_[tid].watchers.empty()) end_deferrals(tid);
  }
  // `me` yields: it defers to the threads that have not run since its
  // previous yield, of the first `nthreads`, that are `runnable(u)` or
  // blocked in an attempt that took no step (which has not run either).
  template <class Runnable>
  void yielded(std::uint32_t me, std::uint32_t nthreads, Runnable&& runnable) {
    thread_state& m = st_[me];
    // A new yield replaces the thread's edges: entries of the old ones in
    // other threads' watchers are now stale (another gen).
    if (m.live != 0) set_deferred(me, false);
    m.live = 0;
    ++m.gen;
    for (std::uint32_t u = 0; u < nthreads; ++u) {
      thread_state& t = st_[u];
      if (u != me && (runnable(u) || t.blocked) && t.last < m.yield_at) {
        t.watchers.emplace_back(me, m.gen);
        if (!t.blocked) ++m.live;
      }
    }
    m.yield_at = ++clock_;
    if (m.live != 0) set_deferred(me, true);
  }

 private:
  struct thread_state {
    std::uint64_t last = 0;      // fair clock when last picked to run (0: never)
    std::uint64_t yield_at = 0;  // fair clock at its latest yield
    std::uint32_t live = 0;      // edges alive into threads that can run (deferred while > 0)
    std::uint32_t gen = 0;       // its yields so far (older watcher entries are stale)
    bool blocked = false;        // blocked in a pick that took no step: the edges into it defer nobody
    std::vector<std::pair<std::uint32_t, std::uint32_t>> watchers;  // (thread, its gen) deferring to it
  };
  void end_deferrals(std::uint32_t u);
  void rearm(std::uint32_t u);
  void unblock(std::uint32_t u);
  void set_deferred(std::uint32_t t, bool on);

  std::uint64_t clock_ = 0;  // yields and thread starts so far
  // The edges end_deferrals() ended last, whose target they were, and how
  // many times it ran (for undo_pick()).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ended_;
  std::uint32_t ended_owner_ = 0;
  std::uint64_t ends_ = 0;
  std::vector<thread_state> st_;
  const id_set* enabled_ = nullptr;
  id_set* eligible_ = nullptr;
};

}  // namespace lockstep::mc::rt
