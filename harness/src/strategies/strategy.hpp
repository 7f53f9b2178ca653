// Internal: the strategy interface and the built-in strategies.
//
// The runtime never asks which strategy runs: it calls begin() before each
// execution and pick() at each scheduling point with two or more candidates.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <span>
#include <string>
#include <vector>

#include "lockstep/mc/explore.hpp"
#include "lockstep/mc/replay_string.hpp"

namespace lockstep::mc::rt {

// What a decision is about.
enum class decision : std::uint8_t {
  preemptible,  // cands[0] is the running thread, which could continue:
                // picking another one is a preemption
  free,         // a forced switch (the running thread blocked or ended) or a
                // yield: any candidate, no preemption
  value,        // a value choice (choose(n)): cands are 0..n-1
};

// What one event does to shared state, for strategies that reason about
// dependence (dpor). Keys: checked objects by their per-execution id;
// threads (spawn/start/exit/join) by kThreadKey | id.
enum class access_kind : std::uint8_t {
  none,    // touches nothing shared (yield, choose)
  read,    // load, failed CAS, futex wait
  sync,    // ordered after the last write to the key but never reversible
           // with it: a woken waiter (after the wake), a thread's start
           // (after its spawn), a join (after the exit)
  write,   // store, RMW, successful CAS, futex wake, spawn, exit
  global,  // dependent with everything (an unknown step: see set_pending());
           // with key kFenceKey, with every access but sync (a seq_cst
           // fence: see kFenceKey)
  futex_wait,  // only as a thread's next step: reads the word, and may write
               // its wait queue (kQueueKey | key) by blocking
  timeout,  // only as a timed waiter's next step: its timeout firing writes
            // virtual time (kTimeKey) and leaves the wait queue of `key`
  yield,    // a fair-scheduling yield: whom it defers to depends on which
            // threads ran since the yielder's previous yield (dpor orders it
            // against each thread's first step in that window)
  lock_try,  // only as a thread's next step: a try_lock of the native lock
             // word `key`, which writes it if it succeeds and reads the last
             // release (kReleaseKey | key) either way
  monitor,   // only as a thread's next step: a native monitor's step (a
             // bounded queue's operation), which reads and writes the fields
             // in `fields` (see monitor_field_key)
};
struct access {
  std::uint32_t key = 0;
  access_kind kind = access_kind::none;
  // As a thread's next step: it would block at once, doing nothing (a join
  // of a running thread, a lock word someone holds). Such a thread is a
  // candidate but taking it runs no step.
  bool blocks = false;
  // As a thread's next step: it would also make a fair-scheduling yield (a
  // timeout firing, a try_lock of a held lock).
  bool yields = false;
  // A monitor step's fields: bit f read, bit 4 + f written (f < 4).
  std::uint8_t fields = 0;
  // A monitor step: the fields (bit f) it comes after the last write of,
  // never reversible with it (monitor_state::needs). A plain read or write
  // with `needs` set is such a field: ordered after the key's last write,
  // it races with no earlier write (a write still races with the reads
  // since), and later writes race with it as with any read or write.
  // Dropping the flag leaves a plain access: more races, never fewer.
  std::uint8_t needs = 0;
  // A monitor step's (or a parked attempt's): the fields (bit f) whose
  // write raises (monitor_state::raises), and those that race with the
  // key's last raising write instead (monitor_state::stale); a plain access
  // with the bit set is such a field. With no raising write yet, a stale
  // access is a plain (or needed) one.
  std::uint8_t raises = 0;
  std::uint8_t stale = 0;
  // It also reads virtual time (kTimeKey): a timed wait compares its
  // deadline with it.
  bool time = false;
  // As a thread's next step: it also reads a resource's waiters (bounded
  // bypass: kWaitersKey | id, with id = waiters), or writes them with
  // kWaitersWrite set; kAnyWaiters: those of several resources (it then
  // counts as a global access). 0: none.
  std::uint32_t waiters = 0;
};
// A monitor step's `fields` from the fields it reads and those it writes.
constexpr std::uint8_t monitor_fields(unsigned reads, unsigned writes) noexcept {
  return static_cast<std::uint8_t>((reads & 0xfu) | ((writes & 0xfu) << 4));
}
inline constexpr std::uint32_t kThreadKey = 0x80000000u;
// A seq_cst fence's global access (rc11): it reads and publishes the fence
// view and every location's latest seq_cst store, so it is ordered against
// every read and write; a step that touches nothing shared (a weaker fence,
// whose views are its thread's own) or only syncs (a thread's start, a
// join, a woken waiter's return: views its own thread takes) commutes with
// it. An unknown step's global (key 0) is ordered against every step.
inline constexpr std::uint32_t kFenceKey = 1;
// A futex word's wait queue: waits that block and wakes touch it, not the
// word's value (a wake commutes with loads, stores and CASes of the word).
inline constexpr std::uint32_t kQueueKey = 0x40000000u;
// A native lock word: acquiring writes `key` (racing with other acquires and
// failed tries) and comes after the last release, which writes
// kReleaseKey | key; a failed try reads both.
inline constexpr std::uint32_t kReleaseKey = 0x20000000u;
// Virtual time: a timeout firing writes it; now() and a timed wait (which
// compares its deadline with it) read it.
inline constexpr std::uint32_t kTimeKey = 0x10000000u;
// A native monitor's fields (a bounded queue's items, unfinished count and
// closed flag): field 0 is the monitor's own key, 1 and 2 have keys of their
// own, 3 is its wait queue (kQueueKey | key), which a timed waiter's timeout
// leaves and a step that makes it ready writes.
inline constexpr std::uint32_t kField1Key = 0x08000000u;
inline constexpr std::uint32_t kField2Key = 0x04000000u;
// A resource's waiters (bounded bypass, keyed by the object store's id): a
// waiter that blocks in a futex wait, is woken or times out writes it, and
// asking for the resource and acquiring it read it, each in the thread's
// step after the announcement, so that whether a newcomer asked before or
// after a waiter blocked, and whether the waiter was blocked when it got
// the resource, is the same in every equivalent execution.
inline constexpr std::uint32_t kWaitersKey = 0x02000000u;
// A woken waiter (keyed by its thread id): the wake, notify or release that
// made it runnable writes it, and the waiter's next step comes after that
// write (a sync), not after whatever touched the wait queue last (a later
// wake that found the queue empty, another thread blocking).
inline constexpr std::uint32_t kWokenKey = 0x01000000u;
// Object ids are below kWokenKey.
inline constexpr std::uint32_t kObjectMask = kWokenKey - 1;
// A destroyed primitive's memory, keyed by its address (hashed: two that
// share a key only add a dependence): the destruction writes it, and a
// later step at that address (a thread that comes to the object after it
// died, under whatever id the memory's bytes now give it) reads it. Neither
// is announced before its step: dpor widens the announcement (see
// widen_announcement()).
inline constexpr std::uint32_t kDestroyedKey = kReleaseKey | kTimeKey;
inline std::uint32_t destroyed_key(const void* addr) noexcept {
  const auto a = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(addr));
  return kDestroyedKey | static_cast<std::uint32_t>((a * 0x9e3779b97f4a7c15ULL) >> 40);
}
inline constexpr std::uint32_t kWaitersWrite = 0x80000000u;
inline constexpr std::uint32_t kAnyWaiters = ~std::uint32_t{0};
inline constexpr std::uint32_t monitor_field_key(std::uint32_t key, unsigned field) noexcept {
  return field == 0 ? key : field == 1 ? (kField1Key | key) : field == 2 ? (kField2Key | key) : (kQueueKey | key);
}

// The plain accesses (read, write, sync, global, none, yield) a compound one
// (futex_wait, timeout, lock_try, monitor) stands for; a plain one stands for
// itself.
template <class F>
void for_each_plain(const access& step, F&& f) {
  if (step.waiters != 0) {
    if (step.waiters == kAnyWaiters) f(access{0, access_kind::global});
    else f(access{kWaitersKey | (step.waiters & ~kWaitersWrite),
                  (step.waiters & kWaitersWrite) != 0 ? access_kind::write : access_kind::read});
  }
  if (step.time) f(access{kTimeKey, access_kind::read});
  access a = step;
  a.waiters = 0;
  a.time = false;
  switch (a.kind) {
    case access_kind::futex_wait:
      f(access{a.key, access_kind::read});
      f(access{kQueueKey | a.key, access_kind::write});
      return;
    case access_kind::timeout:
      f(access{kTimeKey, access_kind::write});
      f(access{kQueueKey | a.key, access_kind::write});
      return;
    case access_kind::lock_try:
      f(access{a.key, access_kind::write});
      f(access{kReleaseKey | a.key, access_kind::read});
      return;
    case access_kind::monitor:
      for (unsigned k = 0; k < 4; ++k) {
        const bool written = (a.fields & (0x10u << k)) != 0;
        if (!written && (a.fields & (1u << k)) == 0) continue;
        f(access{monitor_field_key(a.key, k), written ? access_kind::write : access_kind::read, false, false, 0,
                 static_cast<std::uint8_t>((a.needs >> k) & 1u), static_cast<std::uint8_t>((a.raises >> k) & 1u),
                 static_cast<std::uint8_t>((a.stale >> k) & 1u)});
      }
      return;
    default: f(a);
  }
}

// Two accesses by different threads conflict: same key, one writes; global
// conflicts with everything that is not none.
inline bool compound(const access& a) noexcept {
  return a.kind == access_kind::futex_wait || a.kind == access_kind::timeout || a.kind == access_kind::lock_try ||
         a.kind == access_kind::monitor || a.waiters != 0 || a.time;
}
inline bool conflict(const access& a, const access& b) noexcept {
  if (compound(a)) {
    bool any = false;
    for_each_plain(a, [&](const access& x) { any = any || conflict(x, b); });
    return any;
  }
  if (compound(b)) return conflict(b, a);
  if (a.kind == access_kind::none || b.kind == access_kind::none) return false;
  if (a.kind == access_kind::global && a.key == kFenceKey && b.kind == access_kind::sync) return false;
  if (b.kind == access_kind::global && b.key == kFenceKey && a.kind == access_kind::sync) return false;
  if (a.kind == access_kind::global || b.kind == access_kind::global) return true;
  return a.key == b.key && (a.kind == access_kind::write || b.kind == access_kind::write);
}

// Where an exhaustive search stands in a split (shards, jobs). The
// executions fall into subtrees: those that share their choices up to the
// `depth`-th counted one (dfs counts every choice, dpor its branching
// decisions). A subtree is decided once: at the first decision after the
// depth-th counted one where the caller asks (leaves(): dfs at every
// choice, dpor at every thread decision, those with one candidate too), or
// at the end of an execution that has no such decision. Choices the caller
// notes past the depth before it asks are part of the top and of the
// subtree's identity too, though they do not count: dpor's value choices
// inside the step that runs across the split. (Deciding at one of them
// would stop the other workers' recording in the middle of a step whose
// rest, a time read for one, the owner records into the top's
// announcements: their tops would differ.)
//
// Up to `free` choices the caller calls free do not count, though they are
// part of the top and of the subtree's identity: dpor's decisions among
// threads that only start, spawn or join. Such steps mostly commute, so
// where the first counted decisions were all among them, nearly every
// execution fell into one subtree (the order in which the threads started
// that sleep sets kept), and one worker explored nearly everything.
//
// Shards: a subtree belongs to the shard its choices hash to (modulo
// `shards`), so a shard's part is the same whatever its job count and
// shards run on machines of different sizes still cover the space exactly
// once together.
//
// Jobs: every worker walks the top of the tree (the choices before the
// split) in the same depth-first order, so the n-th subtree of the shard it
// meets is the same subtree for every worker: its *ordinal* n. The workers
// claim ordinals from one shared counter, each the next one nobody took
// when it is done with its last; a worker explores the subtrees it claimed
// and runs one execution of each other subtree, on first choices, to walk
// past it (foreign(): not counted). Small and large subtrees are thus
// shared out as the workers get free, and each is explored exactly once.
struct split_claims {
  std::atomic<std::uint64_t> next{0};  // the smallest ordinal nobody claimed
};

struct split_spec {
  std::uint64_t shards = 1, shard = 0;
  split_claims* claims = nullptr;  // shared by the shard's workers (null: one worker)
  std::size_t depth = 0;
  std::size_t free = 0;  // free choices that do not count toward depth (see above)
  // options::fair_scheduling: an attempt that would only block is no run,
  // but it tells whom a later yield defers to (see detectors/fairness.hpp).
  bool fair = false;
};

class split_owner {
 public:
  static constexpr std::uint64_t kNone = ~std::uint64_t{0};
  void assign(const split_spec& s) {
    spec_ = s;
    prefix_.clear();
    last_.clear();
  }
  [[nodiscard]] bool on() const noexcept { return spec_.shards > 1 || spec_.claims != nullptr; }
  void begin() noexcept {
    hash_ = kFnvBasis;
    count_ = 0;
    free_ = 0;
    prefix_.clear();
    decided_ = false;
    foreign_ = false;
  }
  // Still among the first `depth` counted choices.
  [[nodiscard]] bool before_split() const noexcept { return on() && count_ < spec_.depth; }
  [[nodiscard]] bool fair() const noexcept { return spec_.fair; }
  // Hashes a choice (those after the split was decided do not matter);
  // `free`: it does not count toward the depth while fewer than spec.free
  // did not. Past the depth, undecided: it counts no more (see above).
  void note(std::uint64_t choice, bool free = false) {
    if (!on() || decided_) return;
    prefix_.push_back(choice);
    hash_ = (hash_ ^ (choice + 1)) * kFnvPrime;
    if (free && free_ < spec_.free) ++free_;
    else if (count_ < spec_.depth) ++count_;
  }
  // Where the caller may decide (see above): true once the execution
  // turned out to be another's.
  bool leaves() {
    if (on() && !decided_ && count_ == spec_.depth) decide();
    return foreign_;
  }
  // At the end; true when this decided it was another's.
  bool leaves_at_end() {
    if (!on() || decided_) return false;
    decide();
    return foreign_;
  }
  [[nodiscard]] bool foreign() const noexcept { return foreign_; }
  [[nodiscard]] bool decided() const noexcept { return decided_; }
  // The ordinal of the last subtree of this shard met (that of the last
  // counted execution), and the one this worker claimed last (kNone: none
  // yet). Claims only grow: once `claimed()` is past an ordinal, none of
  // this worker's later executions is in a subtree up to it.
  [[nodiscard]] std::uint64_t ordinal() const noexcept { return ordinal_; }
  [[nodiscard]] std::uint64_t claimed() const noexcept { return target_; }
  // How many subtrees of this shard the walk met so far.
  [[nodiscard]] std::uint64_t subtrees() const noexcept { return ordinal_ + 1; }

 private:
  static constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ULL, kFnvPrime = 0x100000001b3ULL;
  void decide() {
    decided_ = true;
    if (hash_ % spec_.shards != spec_.shard) {
      foreign_ = true;
      return;
    }
    // Executions of one subtree come one after another in the depth-first
    // walk: a new subtree begins where the choices before the split differ
    // from the last execution's. (A repeat of an execution, see
    // strategy::restart(), is the same subtree.)
    if (ordinal_ == kNone || prefix_ != last_) {
      ++ordinal_;  // kNone + 1 == 0
      last_ = prefix_;
    }
    if (spec_.claims == nullptr) return;  // one worker: the shard's every subtree
    // Done with the subtree claimed last (or none yet): claim the next one
    // nobody took. It is never behind this walk: every ordinal below the
    // counter was claimed, the last of ours among them.
    if (target_ == kNone || ordinal_ > target_) target_ = spec_.claims->next.fetch_add(1);
    foreign_ = ordinal_ != target_;
  }

  split_spec spec_;
  std::vector<std::uint64_t> prefix_, last_;  // choices before the split, now and last subtree
  std::uint64_t hash_ = kFnvBasis;
  std::size_t count_ = 0;              // counted choices so far
  std::size_t free_ = 0;               // free ones that did not count
  std::uint64_t ordinal_ = kNone, target_ = kNone;
  bool decided_ = false, foreign_ = false;
};

class xoshiro;

class strategy {
 public:
  static constexpr std::size_t diverged = static_cast<std::size_t>(-1);

  virtual ~strategy() = default;
  // Prepares the next execution; false when there is nothing left to explore.
  virtual bool begin() = 0;
  // Picks one of `cands` (size >= 2, or >= 1 for strategies that want
  // accesses). Returns an index, or `diverged` (see error()).
  virtual std::size_t pick(std::span<const std::uint32_t> cands, decision d) = 0;
  // Strategies whose pick() reads only how many candidates there are (random,
  // dfs) say so and pick by count: the runtime then maps the index to a
  // thread itself, without listing every candidate at every decision.
  [[nodiscard]] virtual bool picks_by_count() const noexcept { return false; }
  virtual std::size_t pick_count(std::size_t n, decision d) { (void)n, (void)d; return diverged; }
  // A strategy whose pick_count(n, d) is always rng->below(n) hands out that
  // generator: the runtime then draws from it directly, without a virtual
  // call at every decision (plain random sampling, the common case).
  [[nodiscard]] virtual xoshiro* uniform_picks() noexcept { return nullptr; }

  // Strategies that reason about dependence see every thread decision (also
  // those with one candidate), the next access of every candidate (`next`,
  // indexed by thread id) and every access made.
  [[nodiscard]] virtual bool wants_accesses() const noexcept { return false; }
  virtual void set_next(std::span<const access> next_by_thread) { (void)next_by_thread; }
  virtual void on_access(std::uint32_t thread, access a) { (void)thread, (void)a; }
  // The running step took `thread`'s next step away from it (a wake of a
  // timed waiter: its timeout can no longer fire).
  virtual void on_disabled(std::uint32_t thread) { (void)thread; }
  // `thread` was just parked at a step it cannot take now (an untimed
  // monitor step that is not ready): it is disabled with no step of its own
  // until a later step makes it ready. `a` is what its attempt read; it
  // comes after the running step, which is `thread`'s own last one when it
  // parked on arrival (`arrived`), or else the step that took its readiness
  // away (the thread was a candidate until then). Had the attempt come
  // before the last writes of what it read, its step might have happened:
  // it races with them as the thread's next step would, but it is no event
  // (nothing is ordered after it, and it is never a step to try). A
  // strategy that keeps no such races sees a read by the running thread, or
  // that step disabling the thread.
  virtual void on_parked(std::uint32_t thread, access a, bool arrived) {
    if (arrived)
      for_each_plain(a, [&](const access& x) { on_access(thread, access{x.key, x.kind}); });
    else on_disabled(thread);
  }
  // The transition `thread` was just picked for took no step: an attempt
  // that blocks without one (a held lock word, a count at zero, a join of a
  // running thread), or a woken timed count waiter's resumption before it
  // decides again. It is no run of the thread for fair scheduling.
  virtual void on_no_step(std::uint32_t thread) { (void)thread; }
  // An execution cut short by a bug in a search that goes on after bugs
  // (options::keep_going): what each thread still had to do. Kind none for
  // those that finished; else the step it was stopped at, or global when
  // that is unknown (the failing thread was inside a step). What would have
  // come after is unknown in any case: it races with everything. Called
  // before end().
  virtual void set_pending(std::span<const access> next_by_thread) { (void)next_by_thread; }
  // The last access did not change the value (a failed compare-exchange, an
  // exchange or RMW that wrote what was there): a read, not a write.
  virtual void on_read_only() {}
  // Executions found redundant while running (dpor: sleep-set blocked).
  [[nodiscard]] virtual std::uint64_t abandoned() const noexcept { return 0; }
  // The execution just run was one of them: from where its sleep set
  // blocked it, it ran on to its end on first choices, and every schedule
  // it could have gone on with is equivalent to one explored elsewhere.
  [[nodiscard]] virtual bool blocked() const noexcept { return false; }
  // The execution just run had to start over before its end (the runtime
  // turned a detector on mid-way): the next one repeats it, choice for
  // choice, instead of moving on. No end() is called for the abandoned run.
  virtual void restart() = 0;
  // Called after each execution; false when it did not go as the strategy
  // required (see error()).
  virtual bool end() { return true; }
  // True if begin() returning false means every schedule was covered.
  [[nodiscard]] virtual bool exhaustive() const noexcept = 0;
  // True if a preemption bound cut off some schedule (then begin() returning
  // false means "every schedule within the bound").
  [[nodiscard]] virtual bool bound_limited() const noexcept { return false; }
  // Sampling strategies (random, pct): the next begin() prepares execution
  // number `index` (its seed derives from it), and pct aims at `k` decisions
  // per execution. Lets workers run any execution in any order and still get
  // the same one for the same index.
  virtual void seek(std::uint64_t index, std::uint64_t k) { (void)index, (void)k; }
  // Decisions made in the last execution (pct's estimate of k).
  [[nodiscard]] virtual std::uint64_t decisions() const noexcept { return 0; }
  // Exhaustive strategies: explore only this shard's and job's part of the
  // executions (see split_owner; other jobs and shards own the rest). An
  // execution found to be someone else's runs to its end on first choices
  // and reports foreign(): it does not count.
  virtual void own(const split_spec& split) { (void)split; }
  [[nodiscard]] virtual bool foreign() const noexcept { return false; }
  // Split searches: the split's state (the last execution's subtree, this
  // worker's claims); null for others.
  [[nodiscard]] virtual const split_owner* split() const noexcept { return nullptr; }
  // Exhaustive strategies: the search position after the last execution, as
  // text (checkpoint files), and back. load() returns an error message, empty
  // on success. Others save nothing.
  [[nodiscard]] virtual std::string save() const { return {}; }
  virtual std::string load(const std::string& text) { (void)text; return "this strategy cannot resume"; }
  // For an exhaustive search: an estimate of the fraction of the tree
  // explored so far, in [0, 1]; negative when unknown.
  [[nodiscard]] virtual double progress() const noexcept { return -1; }
  // The preemption bound in force (-1: none).
  [[nodiscard]] virtual int preemption_bound() const noexcept { return -1; }
  // Why pick() returned `diverged`.
  [[nodiscard]] virtual const std::string& error() const noexcept = 0;
};

std::unique_ptr<strategy> make_random(std::uint64_t seed);
// preemption_bound < 0: unbounded.
std::unique_ptr<strategy> make_dfs(int preemption_bound = -1);
std::unique_ptr<strategy> make_pct(std::uint64_t seed, unsigned depth);
// Partial order sampling (pos.cpp).
std::unique_ptr<strategy> make_pos(std::uint64_t seed);
// Iterative delay bounding: dfs over round-robin schedules with at most 0
// delays, then 1, ... up to max_delays (-1: until a search is not cut).
std::unique_ptr<strategy> make_delay_bounding(int max_delays);
// Iterative context bounding: dfs with bound 0, then 1, ... up to max_bound
// (-1: until a search is not cut by its bound).
std::unique_ptr<strategy> make_iterative_dfs(int max_bound);
// Optimal DPOR with wakeup trees, or (`optimal` false, and always under a
// bound) source-DPOR, both with sleep sets (Abdulla et al., POPL 2014); with
// a bound, only schedules with at most that many preemptions.
std::unique_ptr<strategy> make_dpor(int preemption_bound = -1, bool optimal = true);
// Iterative bounding over any bounded exhaustive strategy (make(b) builds
// the search with bound b).
std::unique_ptr<strategy> make_iterative(std::unique_ptr<strategy> (*make)(int), int max_bound);
std::unique_ptr<strategy> make_replay(std::vector<schedule_run> schedule, bool lenient = false);

// `o` for an explore() that runs on this thread alone and only does what its
// strategy says (a replay, a shrinking candidate): no shrinking, no
// environment, one job, no shards, no checkpoint, no progress line.
inline options alone(options o) {
  o.shrink = false;
  o.honour_env = false;
  o.jobs = 1;
  o.shard_index = 0;
  o.shard_count = 1;
  o.checkpoint.clear();
  o.progress = false;
  return o;
}

// Dfs's split depth for jobs and shards: deep enough for many subtrees.
inline constexpr std::size_t kSplitDepth = 8;
// Dpor's: the branching decisions at which a split dpor tries every thread,
// and how many more of them it may take among threads that only start,
// spawn or join (see split_spec::free).
inline constexpr std::size_t kDporSplitDepth = 7;
inline constexpr std::size_t kDporSplitFree = 8;

// splitmix64: seeds per-execution generators from (seed, index). Inline:
// a random execution begins with five of them (xoshiro::seed).
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t index) noexcept {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (index + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace lockstep::mc::rt
