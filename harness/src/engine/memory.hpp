// Internal: the memory model of checked atomics under options::memory_model
// = rc11 (RC11: Lahav, Vafeiadis, Kang, Hur, Dreyer, "Repairing sequential
// consistency in C/C++11", PLDI 2017), operationally, in the style of the
// promising semantics without promises (Kang et al., POPL 2017):
//
// - Each atomic location keeps every store of the execution (a *message*:
//   value, writer, event) in modification order (mo). Only executed stores
//   are ever read (po ∪ rf is acyclic in RC11, so nothing needs speculation).
// - Each thread has a *view*: per location, the mo-latest message it knows
//   (it wrote or read it, or it learnt of it through happens-before or a
//   seq_cst fence). Coherence is exactly: a load reads a message no older
//   than its view; a store goes into mo anywhere after its view; a
//   read-modify-write reads such a message and goes right after it, and no
//   two read-modify-writes read the same message (atomicity).
// - A release store carries the writer's view (and its happens-before clock
//   for the race detector); an acquire load that reads it takes both. A
//   relaxed store carries what the writer had at its last release fence; a
//   relaxed load keeps what it read for a later acquire fence. A
//   read-modify-write carries what the message it read carried, joined with
//   its own when it releases: release sequences.
// - seq_cst: the seq_cst stores of a location are totally ordered (each is
//   placed after the latest one) and a seq_cst load or read-modify-write
//   reads the latest seq_cst store or a later one; a seq_cst fence takes the
//   latest seq_cst store of every location and a global fence view, and adds
//   its own view to it (the promising semantics' fences); a seq_cst load
//   takes the fence view as well. Code that uses only seq_cst thus reads the
//   mo-latest store at every load: the executions of memory_model = sc.
// - Spawn, join and a lock word's unlock / lock pass views like a release /
//   acquire pair. A futex wait reads the word's mo-latest value (the kernel
//   compares under its own lock); a wake synchronises nothing.
// - Under fair scheduling, a thread that yields (relax(), a failed
//   try_lock, an expired timed wait: runtime::fair_yield) has since spun on
//   the locations it
//   loaded: from then on it sees their mo-latest stores (eventual
//   visibility, C++ [atomics.order]/11), so a spin-then-yield loop ends.
//   Nothing else becomes visible: the data a spin flag should publish
//   still needs release / acquire.
//
// Choices: which message a load reads, where a store goes and which message
// a read-modify-write reads are counted from the mo-latest (choice 0, the
// sequentially consistent one) backwards.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lockstep::mc::rt {

class race_detector;

class weak_memory {
 public:
  static constexpr std::uint32_t kNone = 0xffffffffu;

  struct message {
    std::uint64_t value = 0;
    std::uint32_t event = kNone;   // index of the storing event (kNone: the value before the execution)
    std::uint32_t thread = kNone;  // the writer
    std::uint32_t pos = 0;         // position in mo (0: the first)
    std::uint32_t view = kNone;    // what it carries: offset of a view in views_ (kNone: nothing)
    std::uint32_t view_len = 0;
    std::uint32_t clock = 0;       // what it carries to the race detector (0: nothing)
    bool sc = false;               // a seq_cst store
    bool read_by_rmw = false;      // a read-modify-write went right after it
  };
  struct location {
    std::vector<message> msgs;     // in creation order
    std::vector<std::uint32_t> mo; // message indexes in mo
    std::uint32_t last_sc = 0;     // the mo-latest seq_cst store (0: the initial value)
    // Every message at a position in [chain, mo.size() - 1) was read by a
    // read-modify-write (a counter's chain of increments): scans skip it.
    std::uint32_t chain = 0;
  };

  explicit weak_memory(race_detector& races) : races_(races) {}

  [[nodiscard]] bool on() const noexcept { return on_; }
  // A new execution: no location, every view empty.
  void reset(bool on);
  // A new execution when the last one left nothing to clear.
  void turn(bool on) noexcept { on_ = on; }
  // The location of the atomic with object id `obj` (1-based, dense
  // in an execution); made at first use with `value`, what memory holds.
  std::uint32_t location_of(std::uint32_t obj, std::uint64_t value);
  [[nodiscard]] const location& at(std::uint32_t x) const noexcept { return locs_[x]; }

  // Loads: how many messages thread t may read (>= 1), and reading the
  // k-th (0: the mo-latest). Returns the message's index in the location.
  std::uint32_t readable(std::uint32_t t, std::uint32_t x, bool sc);
  std::uint32_t read(std::uint32_t t, std::uint32_t x, std::uint32_t k, std::memory_order o);
  // Reading message `msg` (an index in the location), as a load with order o.
  std::uint32_t read_message(std::uint32_t t, std::uint32_t x, std::uint32_t msg, std::memory_order o);
  // A futex wait's read: the mo-latest message, relaxed.
  void read_latest(std::uint32_t t, std::uint32_t x);
  // Read-modify-writes: the messages t may read (never one another
  // read-modify-write already read), the k-th of them (0: the mo-latest).
  std::uint32_t rmw_readable(std::uint32_t t, std::uint32_t x, bool sc);
  std::uint32_t rmw_message(std::uint32_t t, std::uint32_t x, std::uint32_t k) const;
  // A CAS reads any message a load may, except one holding `expected` that
  // a read-modify-write already read (it would be a second RMW after it).
  std::uint32_t cas_readable(std::uint32_t t, std::uint32_t x, bool sc, std::uint64_t expected);
  std::uint32_t cas_message(std::uint32_t t, std::uint32_t x, std::uint32_t k, std::uint64_t expected) const;
  // Stores: how many places in mo t may put a store (>= 1), and the store
  // at the k-th (0: last). `after_rmw`: the store of a read-modify-write,
  // which goes right after the message it read (index; kNone for a store).
  // Returns whether memory now holds its value (it is mo-latest).
  std::uint32_t placements(std::uint32_t t, std::uint32_t x, bool sc);
  bool store(std::uint32_t t, std::uint32_t x, std::uint32_t k, std::uint64_t value, std::memory_order o,
             std::uint32_t event, std::uint32_t after_rmw = kNone);
  void fence(std::uint32_t t, std::memory_order o);
  // A yield: the locations t loaded since its last yield become visible.
  // True when it moved t's view (a later load of t's could have read an
  // older store without it: an assumption of fairness, see result::fair_only).
  bool yielded(std::uint32_t t);
  // Views passed like release / acquire: spawn, join, a lock word (by its
  // object id).
  void spawned(std::uint32_t parent, std::uint32_t child);
  void joined(std::uint32_t joiner, std::uint32_t child);
  void release_to(std::uint32_t obj, std::uint32_t t);
  // A release that adds to the earlier ones (a semaphore's count word: an
  // acquire takes every release before it, as a release sequence would).
  void release_join_to(std::uint32_t obj, std::uint32_t t);
  void acquire_from(std::uint32_t obj, std::uint32_t t);

  // For reports: the location of an object id (kNone: none), the message a
  // store event made (kNone: none; kNone as event: the initial value).
  [[nodiscard]] std::uint32_t find_location(std::uint32_t obj) const noexcept {
    return obj < loc_of_obj_.size() && loc_of_obj_[obj] != 0 ? loc_of_obj_[obj] - 1 : kNone;
  }
  [[nodiscard]] std::uint32_t message_of(std::uint32_t x, std::uint32_t event) const noexcept {
    const location& l = locs_[x];
    for (std::uint32_t m = 0; m < l.msgs.size(); ++m)
      if (l.msgs[m].event == event) return m;
    return kNone;
  }
  // What an order does: acquire (consume is acquire) and release.
  static bool acquires(std::memory_order o) noexcept {
    return o == std::memory_order_acquire || o == std::memory_order_consume || o == std::memory_order_acq_rel ||
           o == std::memory_order_seq_cst;
  }
  static bool releases(std::memory_order o) noexcept {
    return o == std::memory_order_release || o == std::memory_order_acq_rel || o == std::memory_order_seq_cst;
  }

 private:
  using view = std::vector<std::uint32_t>;  // per location: a message index (0: the initial value)
  struct thread_state {
    view cur;
    view rel_fence;          // at the last release fence (valid when has_rel_fence)
    bool has_rel_fence = false;
    std::uint32_t rel_fence_clock = 0;
    view acq_pending;        // what relaxed loads read since (for an acquire fence)
    std::uint32_t acq_pending_clock = 0;
    std::vector<std::uint32_t> spun;  // locations loaded since the last yield
  };

  thread_state& th(std::uint32_t t) {
    if (threads_.size() <= t) [[unlikely]]
      threads_.resize(t + 1);
    return threads_[t];
  }
  [[nodiscard]] std::uint32_t pos_of(std::uint32_t x, std::uint32_t msg) const noexcept {
    return locs_[x].msgs[msg].pos;
  }
  [[nodiscard]] std::uint32_t floor(const thread_state& s, std::uint32_t x, bool sc) const noexcept;
  void raise(view& v, std::uint32_t x, std::uint32_t msg);
  void join_view(view& into, const view& from);
  void join_stored(view& into, std::uint32_t off, std::uint32_t len);
  std::uint32_t stash(const view& v);  // copies v into views_, returns its offset
  void take(thread_state& s, std::uint32_t t, const message& m, bool acquire);
  void fence_sc(thread_state& s);
  // A seq_cst load or read-modify-write takes what seq_cst fences published.
  void take_fence_view(thread_state& s, bool sc);
  // Positions from `from` on whose message no read-modify-write read.
  [[nodiscard]] std::uint32_t unread_from(const location& l, std::uint32_t from) const noexcept;

  race_detector& races_;
  bool on_ = false;
  std::vector<location> locs_;     // [0, nlocs_) live; kept for their capacity
  std::size_t nlocs_ = 0;
  std::vector<std::uint32_t> loc_of_obj_;  // by object id: location + 1 (0: none)
  std::vector<thread_state> threads_;
  std::vector<std::uint32_t> views_;       // carried views, back to back
  view sc_fences_;                          // what seq_cst fences published
  std::vector<view> sync_;                  // by object id: what the last unlock released
  std::vector<std::uint32_t> sync_clock_;
};

}  // namespace lockstep::mc::rt
