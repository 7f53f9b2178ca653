// The data-race detector for plain memory (mc::shared, plain_read/write):
// vector clocks in the style of FastTrack (Flanagan & Freund, PLDI 2009).
//
// A detector component: it owns its per-thread state (one vector clock a
// thread) and its per-object state (a clock per synchronising object, a
// shadow per plain location, both indexed by the object's id in the
// engine's object store), starts each execution with reset(), hears the
// engine through on_* calls, and answers a plain access with a structured
// failure (a data_race), which the engine turns into a report.
//
// Every synchronising object (an atomic, a lock word, a futex word) has a
// clock. A release (a store, RMW or successful CAS, an unlock, a blocking
// wait, a wake) joins the thread's clock into the object's and ticks the
// thread; an acquire (any atomic operation, a lock, a woken wait) joins the
// object's clock into the thread's. Spawn and join order parent and child.
// Each plain location keeps its last write epoch (thread, clock) and the
// reads since it; an access races with an earlier conflicting one whose
// epoch its thread's clock does not cover.
//
// Cost: nothing until an execution touches plain shared memory (on() stays
// false); then O(threads) per synchronising event. Once on, it stays on for
// the rest of the search; the engine runs the execution that turned it on
// again from its first step, so no schedule goes unchecked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <source_location>
#include <vector>

#include "lockstep/mc/explore.hpp"

namespace lockstep::mc::rt {

// Two accesses to one plain location that nothing orders.
struct data_race {
  const void* addr = nullptr;
  std::uint32_t thread = 0;  // the second access, now
  bool write = false;
  std::source_location loc;
  std::uint32_t other = 0;  // the first one
  bool other_write = false;
  std::source_location other_loc;
};

class race_detector {
 public:
  [[nodiscard]] bool on() const noexcept { return on_; }
  void turn_on() noexcept { on_ = true; }

  // A new execution: no clock, no shadow; each thread's own entry ticked
  // when the detector is on.
  void reset(const options& o) {
    if (on_ || used_ != 0 || width_ != 0) reset_clocks(o);  // off and never on: nothing to clear
  }
  void on_spawn(std::uint32_t parent, std::uint32_t child) {
    if (on_) [[unlikely]]
      spawned(parent, child);
  }
  void on_join(std::uint32_t joiner, std::uint32_t child) {
    if (on_) [[unlikely]]
      joined(joiner, child);
  }
  // `obj`: the object's id in the object store (objects.hpp).
  void on_acquire(std::uint32_t t, std::uint32_t obj);
  // `undoable`: a CAS or RMW that may turn out to change nothing (on_read_only).
  void on_release(std::uint32_t t, std::uint32_t obj, bool undoable = false);
  // A store whose message every later load reads until the next store (a
  // lean execution's atomics, all sequentially consistent): the object's
  // clock becomes the thread's. (on_release joins instead, as an RMW's
  // message continues the one it read; a plain store's does not, so a load
  // of it is not ordered after the stores before it.)
  void on_store(std::uint32_t t, std::uint32_t obj);
  // The release just made changed nothing (a failed CAS): it was a read, and
  // a read releases nothing (dpor treats it as a read too; the two must
  // agree on what orders what).
  void on_read_only(std::uint32_t t) {
    if (undo_release_) [[unlikely]]
      undo_release(t);
  }
  // `obj`: the location's id in the object store, `addr` its address.
  [[nodiscard]] std::optional<data_race> on_plain_access(std::uint32_t t, std::uint32_t obj, const void* addr,
                                                         bool write, const std::source_location& loc);
  // The location's storage ends (mc::shared's destructor).
  void on_plain_forget(std::uint32_t obj) noexcept;

  // Under the memory model (engine/memory.hpp) atomics synchronise through
  // the messages they read, not through their object: a message carries a
  // snapshot of its writer's clock. Snapshots are numbered from 1 (0: none)
  // and live until the next execution.
  std::uint32_t snapshot(std::uint32_t t);        // t's clock now; t ticks
  std::uint32_t join(std::uint32_t a, std::uint32_t b);  // a new snapshot a ⊔ b (0 if both are)
  void acquire(std::uint32_t t, std::uint32_t snap);     // t's clock ⊔= snap

 private:
  // Every clock has width_ entries, one per thread id seen so far: joins and
  // ticks never resize, and the clocks keep their storage across executions.
  // A synchronising object that released nothing yet has the zero clock.
  using clock = std::vector<std::uint32_t>;
  clock& of(std::uint32_t t) {
    if (t >= width_) [[unlikely]]
      widen(t);
    return threads_[t];
  }
  void widen(std::uint32_t t);  // room for thread t in every clock
  void spawned(std::uint32_t parent, std::uint32_t child);
  void joined(std::uint32_t joiner, std::uint32_t child);
  void undo_release(std::uint32_t t);
  void grow(std::uint32_t obj) {  // room for ids up to obj
    if (obj > used_) [[unlikely]]
      use(obj);
  }
  void use(std::uint32_t obj);

  struct read_epoch {
    std::uint32_t thread = 0, clock = 0;
    std::source_location loc;
  };
  struct shadow {
    std::uint32_t w_thread = 0, w_clock = 0;  // last write epoch (clock 0: none)
    std::source_location w_loc;
    std::vector<read_epoch> reads;  // since it, one a thread
    void clear() noexcept;
  };

  void reset_clocks(const options&);
  bool on_ = false;
  std::uint32_t width_ = 0;
  std::vector<clock> threads_;  // by thread id; the first width_ exist
  // By object id - 1. Only the first `used_` entries may hold anything
  // (reset() zeroes them); the rest have width_ zeros or are yet to be sized.
  std::vector<clock> sync_;
  std::vector<shadow> shadows_;
  std::size_t used_ = 0;
  std::vector<clock> snaps_;    // message clocks; the first `nsnaps_` are this execution's
  std::size_t nsnaps_ = 0;
  bool undo_release_ = false;   // the last release may be undone (on_read_only)
  std::uint32_t undo_obj_ = 0;  // its object
  clock undo_vc_;               // that object's clock before it
};

}  // namespace lockstep::mc::rt
