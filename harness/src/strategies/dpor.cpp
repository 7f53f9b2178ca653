// Optimal DPOR with wakeup trees (Abdulla, Aronis, Jonsson, Sagonas, "Optimal
// Dynamic Partial Order Reduction", POPL 2014, Algorithm 2, and JACM 2017),
// or source-DPOR (Algorithm 1: source sets), both with sleep sets.
//
// The search is depth-first over executions, like dfs: each execution
// replays the previous one's choices up to the deepest frame that still has a
// thread to try, takes that thread, and continues with the first thread that
// is not asleep. What differs is which alternatives exist:
//
// - A *transition* is what one thread does between two decisions. Each has a
//   vector clock over transitions (happens-before = program order plus the
//   order of conflicting accesses: same object, one writes).
// - When a transition finishes, every earlier conflicting transition of
//   another thread that does not already happen-before it (through program
//   order or another conflict) is a *race*. Reversing it needs one of the
//   *initials* of v = (the transitions after the earlier one that do not
//   happen after it) . (this one) to run at the earlier transition's frame;
//   if none is in that frame's backtrack or sleep set, one is added (this
//   transition's thread when it is an initial). An initial that was not
//   enabled there makes every enabled thread an alternative (the fallback of
//   Flanagan & Godefroid, POPL 2005).
// - Sleep sets: after a thread's subtree at a frame is explored, it sleeps in
//   its later siblings' subtrees until something conflicting with its next
//   step runs. A sleeping thread is never scheduled; an execution where every
//   enabled thread sleeps is redundant: it runs to its end unrecorded and is
//   counted as abandoned.
// - Optimal dpor reverses the races of an execution once it is complete:
//   for a race (j, i), v is every transition after j that does not happen
//   after j, then i. Unless a thread asleep at j's frame (or explored there
//   before) is a weak initial of v, v goes into the frame's wakeup tree,
//   unless a branch already leads where it does; a frame explores its
//   tree's branches in order, each new frame below following the subtree of
//   the branch taken: where the dependence of steps is told exactly (yields
//   count as dependent with everything), no execution is sleep-set blocked.
//   Split searches (jobs, shards) and bounded ones use source sets.
// - Value choices (choose(), spurious wake-ups) are frames whose every value
//   is explored.
//
// Blocking needs no special case beyond the fallback: a blocked thread is not
// a candidate, and the wake, exit or store it waits for conflicts with its
// resumption.
#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/dcheck.hpp"
#include "strategies/strategy.hpp"

namespace lockstep::mc::rt {

namespace {

const std::string kNoError;

// An access's flags in a saved search: 1 blocks, 2 yields, a monitor's
// fields from bit 2 on, the fields it needs from bit 10 on, and bit 14 if it
// reads virtual time.
unsigned access_flags(const access& a) {
  return (a.blocks ? 1u : 0u) | (a.yields ? 2u : 0u) | (static_cast<unsigned>(a.fields) << 2) |
         (static_cast<unsigned>(a.needs) << 10) | (a.time ? 0x4000u : 0u);
}
// Whether saved kind and flags make an access (fields only on a monitor's,
// needs also on a read or a write).
bool valid_access(unsigned kind, unsigned flags) {
  if (kind > static_cast<unsigned>(access_kind::monitor) || flags > 0x7fff) return false;
  if (kind == static_cast<unsigned>(access_kind::read) || kind == static_cast<unsigned>(access_kind::write))
    return ((flags >> 2) & 0xff) == 0;
  return ((flags >> 2) & 0xfff) == 0 || kind == static_cast<unsigned>(access_kind::monitor);
}
access access_of(unsigned key, unsigned kind, unsigned flags) {
  access a{key, static_cast<access_kind>(kind), (flags & 1) != 0, (flags & 2) != 0,
           static_cast<std::uint8_t>((flags >> 2) & 0xff), static_cast<std::uint8_t>((flags >> 10) & 0xf)};
  a.time = (flags & 0x4000) != 0;
  return a;
}

constexpr std::uint32_t kNoYielder = 0xffffffffu;

struct sleeper {
  std::uint32_t thread;
  access next;
  // It wakes at this thread's next yield too (see frame::yield_wakes).
  std::uint32_t wake_at_yield_of = kNoYielder;
};

// A wakeup tree's node (optimal dpor): a step of `thread`, with the accesses
// it made when the race that asked for it was found (for the independence
// checks of later insertions), and the steps to take after it.
//
// Those checks compare object keys recorded in different executions: they
// rely on the executions through a frame numbering the objects first
// touched below it alike (objects are numbered in the order an execution
// first touches them). Where they do not, a check may go wrong either way;
// the differential tests compare the outcomes with plain dfs.
struct wnode {
  std::uint32_t thread = 0;
  std::vector<access> acc;
  bool yields = false;
  std::vector<wnode> kids;
};

struct frame {
  bool value = false;                  // a value choice, not a thread decision
  std::uint32_t options = 0;           // value frames: how many values
  std::vector<std::uint32_t> cands;    // thread frames: candidates, in order
  std::vector<access> next;            // their next access (parallel to cands)
  std::uint32_t chosen = 0;            // thread id or value
  std::vector<std::uint32_t> backtrack;
  // Optimal dpor: below[k] is the wakeup subtree after backtrack[k] (empty:
  // a leaf, explored freely); may be shorter than backtrack (the rest leaves).
  std::vector<std::vector<wnode>> below;
  std::vector<std::uint32_t> done;     // explored (or being explored), in order
  std::vector<sleeper> sleep;          // asleep on arrival here
  // Fair scheduling: {u, p} when u's step here, explored before p's branch,
  // must wake in that branch at p's next yield (window_races(): moved after
  // that yield, the step falls in p's next window alone, and the yield after
  // it defers to nobody then).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> yield_wakes;
  bool preemptible = false;            // cands[0] runs and could go on
  std::uint32_t preempts = 0;          // preemptions before this decision
  bool expanded = false;               // a split frame: every thread that runs a step
  // A split frame among threads that only start, spawn or join: free, it
  // does not count toward the split's depth while fewer than
  // split_spec::free such frames did not (later ones count). Decided
  // when the frame is made: the announcements it keeps widen later (a time
  // read found on the step), and the split must be the same at every visit.
  bool free = false;
};

constexpr std::size_t kNone = static_cast<std::size_t>(-1);
constexpr std::uint32_t kMaxValueOptions = 1u << 20;  // what a checkpoint's value frame may hold

struct transition {
  std::uint32_t thread = 0;
  std::size_t frame = 0;               // index of the frame that chose it
  bool has_frame = false;              // the first transition has none
  std::vector<access> accesses;
  std::vector<std::uint32_t> clock;    // clock[t]: 1 + last transition index of t that happens-before
  bool yields = false;                 // it made a fair-scheduling yield
  std::size_t previous_yield = kNone;  // if so: where its window began (see window_)
  std::size_t previous = kNone;        // its thread's step before it (see last_of)
  // A pick that took no step (see strategy::on_no_step): program order
  // only, no run of its thread for the fairness windows.
  bool attempt = false;
  // A parked attempt (see on_parked): no event, only the later side of races
  // with the writes it read. `accesses` are its reads; `step` is the monitor
  // step the thread would take instead, its fields all read and written.
  bool parked = false;
  access step;
  // The writes its monitor step needed (see collect_conflicts), if any, and
  // its clock without them (kept only when there are some): see before_in_v.
  std::vector<std::size_t> needed_writes;
  std::vector<std::uint32_t> race_clock;
};

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

class dpor_strategy final : public strategy {
 public:
  // Optimal dpor (wakeup trees) only without a preemption bound: a bounded
  // search moves alternatives to cheaper frames, which only source sets do.
  dpor_strategy(int bound, bool optimal) : optimal_(optimal && bound < 0), bound_(bound) {}

  // Split searches (jobs, shards): every thread that runs a step is tried
  // at the branching decisions of the top (the first split.depth counted
  // ones and the free ones among them, see split_spec), so no race found in a
  // subtree below can need an alternative the split lacks, and the top of
  // the tree is the same for every worker (see split_owner). Siblings still
  // sleep there: what a sleeper stands for is covered by the sibling's
  // subtrees, whichever worker explores them.
  void own(const split_spec& split) override {
    split_.assign(split);
    // The split frames try every thread with no wakeup tree to follow, and
    // races found below them are not seen by the other workers: a split
    // search uses source sets.
    if (split_.on()) optimal_ = false;
  }
  bool foreign() const noexcept override { return split_.foreign(); }
  const split_owner* split() const noexcept override { return split_.on() ? &split_ : nullptr; }

  bool begin() override {
    if (optimal_ && fallback_) {
      // The wakeup trees' independence checks cannot order fair-scheduling
      // yields, timeouts or the steps of a thread stopped by a bug, and a
      // check that errs (either way) can lose a trace: such a program, and
      // one where an execution was sleep-set blocked (a check erred), is
      // searched again from the start with source sets. What ran so far
      // counts as abandoned.
      abandoned_ += optimal_runs_;
      optimal_ = false;
      stack_.clear();
      reset_execution();
      return true;
    }
    if (started_) {
      if (!advance()) return false;
    }
    started_ = true;
    reset_execution();
    return true;
  }

  void restart() override {
    if (blocked_) --abandoned_;  // the repeat counts it, if it blocks again
    reset_execution();
  }

  // Per-execution state, for a new execution or a repeat of the last one.
  void reset_execution() {
    preempts_ = 0;
    split_.begin();
    pending_.clear();
    blocked_ = false;
    depth_ = 0;
    ntrans_ = 0;
    last_clock_.clear();
    last_step_.clear();
    window_.clear();
    yields_.clear();
    objects_.clear();
    sleep_.clear();
    pending_sleep_.clear();
    finished_ = 0;
    races_.clear();
    parked_.clear();
    ending_ = false;
    last_global_ = static_cast<std::size_t>(-1);
    last_global_fence_ = false;
    // The first transition (thread 0 starting) has no frame.
    new_transition(0, 0, false);
  }

  bool wants_accesses() const noexcept override { return true; }
  void set_next(std::span<const access> next) override {
    next_.assign(next.begin(), next.end());
    if (optimal_)
      for (const access& a : next)
        if (yielding(a) || a.kind == access_kind::timeout) fallback_ = true;
  }
  void on_access(std::uint32_t thread, access a) override {
    if (a.kind == access_kind::none || blocked_ || split_.foreign()) return;
    if (a.kind == access_kind::yield) {
      fallback_ = true;
      trans_[ntrans_ - 1].yields = true;
      return;
    }
    trans_[ntrans_ - 1].accesses.push_back(a);
    // A spawn: the child's fairness window starts here (fair_yield counts
    // who ran since the child was created).
    if (a.kind == access_kind::write && (a.key & kThreadKey) != 0 && (a.key & ~kThreadKey) != thread)
      set_window(a.key & ~kThreadKey, ntrans_ - 1);
  }
  void on_no_step(std::uint32_t thread) override {
    if (blocked_ || split_.foreign()) return;
    LOCKSTEP_DCHECK(trans_[ntrans_ - 1].thread == thread);
    (void)thread;
    trans_[ntrans_ - 1].attempt = true;
  }
  void on_read_only() override {
    if (!blocked_ && !split_.foreign() && !trans_[ntrans_ - 1].accesses.empty())
      trans_[ntrans_ - 1].accesses.back().kind = access_kind::read;
  }

  std::size_t pick(std::span<const std::uint32_t> cands, decision d) override {
    // A sleep-set-blocked execution runs to its end on first choices (it
    // cannot be cut short safely: the point may be in a destructor); nothing
    // it does is recorded.
    if (blocked_ || split_.foreign()) return 0;
    // The transition before a decision past the split still belongs to the
    // top of the tree: its races are found by every worker, whoever owns what
    // comes next, so that the top is the same for all (see split_owner).
    if (d != decision::value) finish_transition();
    // Another worker's subtree: run it out, unrecorded. (Decided at a
    // thread decision, one with a single candidate too: the step running at
    // a value decision is still the top's, and so are its value choices, see
    // split_owner.)
    if (!split_.decided() && d != decision::value) {
      top_end_ = depth_;
      if (split_.leaves()) return 0;
    }
    if (d == decision::value) return pick_value(static_cast<std::uint32_t>(cands.size()));
    std::uint32_t chosen = 0;
    if (depth_ < stack_.size()) {
      frame& f = stack_[depth_];
      if (f.value || !std::equal(f.cands.begin(), f.cands.end(), cands.begin(), cands.end()))
        return nondeterministic();
      f.sleep = sleep_;
      chosen = f.chosen;
    } else {
      frame f;
      f.preemptible = d == decision::preemptible;
      f.preempts = preempts_;
      f.cands.assign(cands.begin(), cands.end());
      f.next.reserve(cands.size());
      for (std::uint32_t t : cands) f.next.push_back(t < next_.size() ? next_[t] : access{});
      f.sleep = sleep_;
      bool found = false;
      bool expand = split_.before_split() && cands.size() > 1;
      bool from_tree = false;
      // Optimal dpor: the wakeup subtree the previous decision's branch
      // holds for this point gives the alternatives to take here, in order.
      if (optimal_ && take_wakeup_subtree(f)) {
        chosen = f.backtrack.front();
        found = from_tree = true;
        if (expand) {
          for (std::size_t c = 0; c < f.cands.size(); ++c)
            if (!f.next[c].blocks && !contains(f.backtrack, f.cands[c])) f.backtrack.push_back(f.cands[c]);
        }
        f.expanded = expand;
        expand = false;
      }
      // (No thread goes alone at a split frame, not even one whose next
      // step looks as if it raced with nothing, a spawn or a start: what
      // rides on that step (a time read, a stop of the execution) is known
      // only once it ran, under fair scheduling it is a run in every other
      // thread's fairness window, and a race with it found below the split
      // adds nothing to the top. The differential tests found all three.)
      // A split frame starts with a thread that runs a step: taking one that
      // would only block first, and the others after it, would reach the
      // same executions twice.
      for (int pass = expand ? 0 : 1; pass < 2 && !found; ++pass) {
        for (std::size_t c = 0; c < cands.size(); ++c) {
          if (!asleep(f.sleep, cands[c]) && (pass == 1 || !f.next[c].blocks)) {
            chosen = cands[c];
            found = true;
            break;
          }
        }
      }
      if (!found) {  // every enabled thread sleeps: nothing new down here
        ++abandoned_;
        blocked_ = true;
        // Optimal dpor gets here only when its independence checks erred
        // (see wnode), and a branch it trusted to cover others may be this
        // one: start over with source sets.
        if (optimal_) fallback_ = true;
        return 0;
      }
      f.chosen = chosen;
      if (from_tree) {
        // backtrack set above
      } else if ((f.expanded = expand)) {
        // Every thread that would run a step (one that would only block
        // does nothing another alternative does not), and under fair
        // scheduling, once a thread yielded, every thread: a yield defers
        // to a thread that has not run since, unless it is known to be
        // blocked (see detectors/fairness.hpp), so an attempt that only
        // blocks lets the yielder go on. (Before any yield it changes
        // nothing; one after the yield covers an attempt made before it.)
        const bool attempts = split_.fair() && !yields_.empty();
        f.backtrack.push_back(chosen);
        for (std::size_t c = 0; c < f.cands.size(); ++c)
          if (f.cands[c] != chosen && (!f.next[c].blocks || attempts)) f.backtrack.push_back(f.cands[c]);
      } else {
        f.backtrack.push_back(chosen);
      }
      f.done.push_back(chosen);
      f.free = f.expanded && lifecycle_only(f);
      stack_.push_back(std::move(f));
    }
    const std::size_t fi = depth_++;
    LOCKSTEP_DCHECK(std::find(cands.begin(), cands.end(), chosen) != cands.end());
    LOCKSTEP_DCHECK(std::find(stack_[fi].done.begin(), stack_[fi].done.end(), chosen) != stack_[fi].done.end());
    if (stack_[fi].preemptible && chosen != stack_[fi].cands[0]) ++preempts_;
    // The sleep set the chosen thread's transition starts with: the inherited
    // sleepers and the siblings explored before it, pruned by the transition
    // once it has run (see finish_transition()).
    pending_sleep_ = stack_[fi].sleep;
    const frame& f = stack_[fi];
    // Sleep sets assume every schedule is allowed; under a preemption bound
    // the explored sibling may not cover what it stands for, so none sleep.
    // A split search's top is the same for every worker, and a window race
    // one finds below it cannot mark it (frame::yield_wakes): there, every
    // sibling wakes at the chosen thread's next yield.
    const bool top = in_top(fi);
    for (std::size_t i = 0; bound_ < 0 && i + 1 < f.done.size(); ++i) {
      const std::uint32_t t = f.done[i];
      if (t == chosen || asleep(pending_sleep_, t)) continue;
      const bool wakes =
          top || std::find(f.yield_wakes.begin(), f.yield_wakes.end(), std::pair{t, chosen}) != f.yield_wakes.end();
      pending_sleep_.push_back({t, next_of(f, t), wakes ? chosen : kNoYielder});
    }
    // A branching decision: split searches hash it (one among threads that
    // only start, spawn or join is free, see split_spec::free).
    if (cands.size() > 1) split_.note(chosen, f.free);
    new_transition(chosen, fi, true);
    return static_cast<std::size_t>(std::find(cands.begin(), cands.end(), chosen) - cands.begin());
  }

  bool end() override {
    // An execution that reached no thread decision past the split is all
    // top of the tree: every worker records its races (see pick()), then it
    // belongs to whoever owns its whole choice sequence.
    if (!blocked_ && !split_.foreign()) {
      finish_transition();
      stopped_by_last();
      ending_ = true;
      if (optimal_) ++optimal_runs_;  // (never split)
      if (!fallback_)  // else begin() starts over with source sets
        for (std::size_t r = 0; r < races_.size(); ++r) add_backtrack(races_[r].first, races_[r].second);
      for (std::uint32_t t = 0; t < pending_.size(); ++t) {
        if (pending_[t].kind == access_kind::none) continue;
        if (pending_[t].kind != access_kind::global) pending_races(t, pending_[t]);
        pending_races(t, {0, access_kind::global});  // and whatever came after it
      }
      ending_ = false;
    }
    if (split_.leaves_at_end() && blocked_) --abandoned_;  // counted by its owner
    races_.clear();
    pending_.clear();
    return true;
  }

  void set_pending(std::span<const access> next) override {
    pending_.assign(next.begin(), next.end());
    for (const access& a : next)
      if (a.kind != access_kind::none) fallback_ = true;
  }

  // A wake took a timed waiter's timeout away: try the waiter at the frame of
  // the waking step (its timeout fires first there).
  void on_disabled(std::uint32_t t) override {
    if (blocked_ || split_.foreign() || ntrans_ == 0 || !trans_[ntrans_ - 1].has_frame) return;
    fallback_ = true;
    const std::size_t fi = trans_[ntrans_ - 1].frame;
    const frame& f = stack_[fi];
    if (f.value || contains(f.backtrack, t) || asleep(f.sleep, t)) return;
    if (!contains(f.cands, t)) return;  // not a candidate there (fairness): nothing to try
    add_within_bound(fi, t);  // a leaf of the wakeup tree in optimal dpor
  }

  // A parked attempt goes after the running transition, once that is placed
  // (see place_parked()).
  void on_parked(std::uint32_t t, access a, bool) override {
    if (blocked_ || split_.foreign() || ntrans_ == 0) return;
    parked_.push_back({t, a});
  }

  bool exhaustive() const noexcept override { return true; }
  std::uint64_t abandoned() const noexcept override { return abandoned_; }
  // (A run after which optimal dpor starts over with source sets is
  // counted as abandoned too: its races were never added.)
  bool blocked() const noexcept override { return blocked_ || (optimal_ && fallback_); }
  bool bound_limited() const noexcept override { return limited_; }
  int preemption_bound() const noexcept override { return bound_; }

  // The stack, one frame a line:
  //   v <options> <chosen> <done...>                      (a value frame)
  //   t <chosen> | c <tid>:<key>:<kind>:<flags>[:<waiters>] ... | b <tids> | d <tids> | s <tid>:<key>:<kind>:<flags>[:<waiters>] ...
  //     [| w <k> <tree> ...]
  // (flags: see access_flags; files without them read as 0, as missing
  // waiters do). The wakeup
  // subtrees (optimal dpor) follow w, each after the index of its branch in
  // b: tree = [ node ... ], node = <tid> @<key>:<kind>:<flags> ... [y] tree.
  std::string save() const override {
    // Optimal dpor that met what its trees cannot order starts over with
    // source sets at its next begin(), its runs so far abandoned (the last
    // one's races were never added): so does the resumed search.
    if (optimal_ && fallback_) return "abandoned " + std::to_string(abandoned_ + optimal_runs_) + " restart\n";
    std::string out = "abandoned " + std::to_string(abandoned_) + (optimal_ ? " wakeup" : "") + "\n";
    auto list = [](const std::vector<std::uint32_t>& v) {
      std::string s;
      for (std::uint32_t x : v) s += " " + std::to_string(x);
      return s;
    };
    auto acc = [](std::uint32_t t, const access& a) {
      return " " + std::to_string(t) + ":" + std::to_string(a.key) + ":" +
             std::to_string(static_cast<unsigned>(a.kind)) + ":" + std::to_string(access_flags(a)) +
             (a.waiters != 0 ? ":" + std::to_string(a.waiters) : std::string());
    };
    for (const frame& f : stack_) {
      if (f.value) {
        out += "v " + std::to_string(f.options) + " " + std::to_string(f.chosen) + " |" + list(f.done) + "\n";
        continue;
      }
      out += "t " + std::to_string(f.chosen) + " | c";
      for (std::size_t i = 0; i < f.cands.size(); ++i) out += acc(f.cands[i], f.next[i]);
      out += " | b" + list(f.backtrack) + " | d" + list(f.done) + " | s";
      for (const sleeper& z : f.sleep) out += acc(z.thread, z.next);
      auto pairs = [&out](const char* tag, const auto& v) {
        if (v.empty()) return;
        out += std::string(" | ") + tag;
        for (const auto& [a, b] : v) out += " " + std::to_string(a) + ":" + std::to_string(b);
      };
      std::vector<std::pair<std::uint32_t, std::uint32_t>> tagged;  // sleepers that wake at a yield
      for (const sleeper& z : f.sleep)
        if (z.wake_at_yield_of != kNoYielder) tagged.emplace_back(z.thread, z.wake_at_yield_of);
      pairs("z", tagged);
      pairs("y", f.yield_wakes);
      bool trees = false;
      for (std::size_t k = 0; k < f.below.size(); ++k) {
        if (f.below[k].empty()) continue;
        if (!trees) out += " | w";
        trees = true;
        out += " " + std::to_string(k);
        save_tree(out, f.below[k]);
      }
      out += "\n";
    }
    return out;
  }

  std::string load(const std::string& text) override {
    std::istringstream in(text);
    std::string line;
    std::vector<frame> frames;
    std::uint64_t abandoned = 0;
    if (!std::getline(in, line) || std::sscanf(line.c_str(), "abandoned %llu",
                                               reinterpret_cast<unsigned long long*>(&abandoned)) != 1)
      return "the dpor state does not start with 'abandoned N'";
    // A search saved with source sets goes on with them (its frames have no
    // wakeup trees, and a tree's missing branches would be lost).
    if (line.find(" wakeup") == std::string::npos) optimal_ = false;
    const bool restart = line.find(" restart") != std::string::npos;  // with source sets, from the start
    while (std::getline(in, line)) {
      std::istringstream l(line);
      std::string tag, bar;
      frame f;
      auto read_list = [&](std::vector<std::uint32_t>& v) {
        std::string tok;
        while (l >> tok && tok != "|") v.push_back(static_cast<std::uint32_t>(std::stoul(tok)));
      };
      auto read_accesses = [&](auto&& put) {
        std::string tok;
        while (l >> tok && tok != "|") {
          unsigned t = 0, key = 0, kind = 0, flags = 0, waiters = 0;
          const int n = std::sscanf(tok.c_str(), "%u:%u:%u:%u:%u", &t, &key, &kind, &flags, &waiters);
          if (n < 3 || !valid_access(kind, flags))
            throw std::invalid_argument(tok);
          access a = access_of(key, kind, flags);
          a.waiters = waiters;
          put(t, a);
        }
      };
      try {
        if (!(l >> tag)) return "an empty dpor frame";
        if (tag == "v") {
          f.value = true;
          if (!(l >> f.options >> f.chosen >> bar) || bar != "|") return "bad value frame '" + line + "'";
          // choose(n) of a model that can be checked exhaustively: far below this.
          if (f.options < 2 || f.options > kMaxValueOptions || f.chosen >= f.options)
            return "bad value frame '" + line.substr(0, 80) + "'";
          for (std::uint32_t v = 0; v < f.options; ++v) f.backtrack.push_back(v);
          read_list(f.done);
        } else if (tag == "t") {
          std::string c;
          if (!(l >> f.chosen >> bar >> c) || bar != "|" || c != "c") return "bad thread frame '" + line + "'";
          read_accesses([&](unsigned t, access a) {
            f.cands.push_back(t);
            f.next.push_back(a);
          });
          std::string b, d, s;
          if (!(l >> b) || b != "b") return "bad thread frame '" + line + "'";
          read_list(f.backtrack);
          if (!(l >> d) || d != "d") return "bad thread frame '" + line + "'";
          read_list(f.done);
          if (!(l >> s) || s != "s") return "bad thread frame '" + line + "'";
          read_accesses([&](unsigned t, access a) { f.sleep.push_back({t, a}); });
          // Then "z t:p ..." (sleepers that wake at p's yield), "y u:p ..."
          // (frame::yield_wakes), each followed by "|" or the end, and the
          // trees ("w ...") last.
          auto read_pairs = [&](auto&& put) {
            std::string tok;
            while (l >> tok && tok != "|") {
              unsigned a = 0, b = 0;
              char extra = 0;
              if (std::sscanf(tok.c_str(), "%u:%u%c", &a, &b, &extra) != 2) throw std::invalid_argument(tok);
              put(a, b);
            }
          };
          std::string section;
          while (l >> section) {
            if (section == "z") {
              read_pairs([&](unsigned t, unsigned q) {
                auto it = std::find_if(f.sleep.begin(), f.sleep.end(), [&](const sleeper& z) { return z.thread == t; });
                if (it == f.sleep.end() || q == kNoYielder) throw std::invalid_argument("z");
                it->wake_at_yield_of = q;
              });
            } else if (section == "y") {
              read_pairs([&](unsigned u, unsigned q) { f.yield_wakes.emplace_back(u, q); });
            } else {
              if (section != "w" || !load_trees(l, f))
                return "bad wakeup tree in dpor frame '" + line.substr(0, 80) + "'";
              break;
            }
          }
        } else {
          return "unknown dpor frame '" + line + "'";
        }
      } catch (const std::exception&) {
        return "bad dpor frame '" + line + "'";
      }
      if (f.done.empty() || f.done.back() != f.chosen) return "inconsistent dpor frame '" + line + "'";
      frames.push_back(std::move(f));
    }
    if (restart && !frames.empty()) return "a dpor search to restart has frames";
    stack_ = std::move(frames);
    abandoned_ = abandoned;
    started_ = !restart;
    return {};
  }
  // As dfs estimates it, with the alternatives known so far at each frame
  // (backtrack sets grow as races are found, so this runs ahead at times).
  double progress() const noexcept override {
    double done = 0, weight = 1;
    for (const frame& f : stack_) {
      const double n = static_cast<double>(f.backtrack.size());
      weight /= n;
      done += weight * static_cast<double>(f.done.size() - 1);
    }
    return done;
  }
  const std::string& error() const noexcept override { return error_.empty() ? kNoError : error_; }

 private:
  static void save_tree(std::string& out, const std::vector<wnode>& tree) {
    // Iterative: a wakeup sequence is as long as an execution.
    struct at {
      const std::vector<wnode>* list;
      std::size_t next;
    };
    std::vector<at> todo{{&tree, 0}};
    out += " [";
    while (!todo.empty()) {
      at& top = todo.back();
      if (top.next == top.list->size()) {
        out += " ]";
        todo.pop_back();
        continue;
      }
      const wnode& n = (*top.list)[top.next++];
      out += " " + std::to_string(n.thread);
      for (const access& a : n.acc)
        out += " @" + std::to_string(a.key) + ":" + std::to_string(static_cast<unsigned>(a.kind)) + ":" +
               std::to_string(access_flags(a));
      if (n.yields) out += " y";
      out += " [";
      todo.push_back({&n.kids, 0});
    }
  }

  // Reads "<k> <tree> ..." to the end of the line into f.below.
  static bool load_trees(std::istream& l, frame& f) {
    std::string tok;
    f.below.resize(f.backtrack.size());
    while (l >> tok) {
      unsigned long k = 0;
      try {
        k = std::stoul(tok);
      } catch (const std::exception&) {
        return false;
      }
      if (k >= f.backtrack.size() || !(l >> tok) || tok != "[") return false;
      std::vector<std::vector<wnode>*> open{&f.below[k]};
      wnode* last = nullptr;  // the node whose accesses and tree come next
      while (!open.empty()) {
        if (!(l >> tok)) return false;
        if (tok == "]") {
          if (last != nullptr) return false;
          open.pop_back();
        } else if (tok == "[") {
          if (last == nullptr) return false;
          open.push_back(&last->kids);
          last = nullptr;
        } else if (tok == "y") {
          if (last == nullptr) return false;
          last->yields = true;
        } else if (tok[0] == '@') {
          unsigned key = 0, kind = 0, flags = 0;
          if (last == nullptr || std::sscanf(tok.c_str() + 1, "%u:%u:%u", &key, &kind, &flags) != 3 ||
              !valid_access(kind, flags))
            return false;
          last->acc.push_back(access_of(key, kind, flags));
        } else {
          if (last != nullptr) return false;
          unsigned long t = 0;
          try {
            t = std::stoul(tok);
          } catch (const std::exception&) {
            return false;
          }
          open.back()->push_back(wnode{static_cast<std::uint32_t>(t), {}, false, {}});
          last = &open.back()->back();
        }
      }
    }
    return true;
  }

  std::size_t pick_value(std::uint32_t n) {
    if (depth_ < stack_.size()) {
      const frame& f = stack_[depth_];
      if (!f.value || f.options != n) return nondeterministic();
      ++depth_;
      note_branch(n, f.chosen);
      return f.chosen;
    }
    note_branch(n, 0);
    frame f;
    f.value = true;
    f.options = n;
    f.chosen = 0;
    for (std::uint32_t v = 0; v < n; ++v) f.backtrack.push_back(v);
    f.done.push_back(0);
    stack_.push_back(std::move(f));
    ++depth_;
    return 0;
  }

  std::size_t nondeterministic() {
    error_ = "the body is not deterministic: decision " + std::to_string(depth_) +
             " offered other candidates than in an earlier execution (does it depend on time, "
             "addresses or state kept between executions?)";
    return diverged;
  }

  static bool asleep(const std::vector<sleeper>& s, std::uint32_t t) {
    return std::any_of(s.begin(), s.end(), [&](const sleeper& z) { return z.thread == t; });
  }
  // A thread whose last transition is `last` has not run since transition
  // `since` (kNone: since the start).
  static bool not_since(std::size_t last, std::size_t since) {
    if (last == kNone) return true;
    return since != kNone && last <= since;
  }
  std::size_t window_of(std::uint32_t t) const { return t < window_.size() ? window_[t] : kNone; }
  void set_window(std::uint32_t t, std::size_t i) {
    if (window_.size() <= t) window_.resize(t + 1, kNone);
    window_[t] = i;
  }

  // Index of thread t's last step, kNone if it has none yet: its last
  // transition that took a step (fair scheduling counts no other pick as
  // a run, see detectors/fairness.hpp).
  std::size_t last_of(std::uint32_t t) const { return t < last_step_.size() ? last_step_[t] : kNone; }

  // Fair scheduling: a yield by p defers to the threads that did not run
  // since p's previous yield (or since p was spawned), so it is dependent
  // with each other thread's first step in that window, whether the step came before the
  // yield (moving the yield before it changes whom the yield defers to) or
  // after it (moving the step before the yield does). Transition i's such
  // conflicts, added to `deps` (computed before i is recorded as its
  // thread's last transition).
  void yield_conflicts(std::size_t i, std::vector<std::size_t>& deps) const {
    const transition& me = trans_[i];
    const std::uint32_t p = me.thread;
    const std::size_t mine = last_of(p);  // p's transition before i
    if (me.yields) {
      const std::size_t w = window_of(p);
      const std::size_t from = w == kNone ? 0 : w + 1;
      seen_.clear();
      for (std::size_t k = from; k < i; ++k) {
        const std::uint32_t u = trans_[k].thread;
        if (u == p || trans_[k].parked || trans_[k].attempt || contains(seen_, u)) continue;
        seen_.push_back(u);
        if (trans_[k].previous == kNone || trans_[k].previous < from) deps.push_back(k);  // u's first since
      }
    }
    // Earlier yields of other threads whose window this is p's first step of.
    if (me.attempt) return;
    for (std::size_t n = yields_.size(); n-- > 0;) {
      const std::size_t y = yields_[n];
      if (mine != kNone && y < mine) break;  // p ran after it
      const transition& t = trans_[y];
      if (t.thread == p) continue;
      if (not_since(mine, t.previous_yield)) deps.push_back(y);
    }
  }

  // Whom yield i defers to depends on its window, which begins at p's
  // previous yield y (or, before its first, at its spawn y, another
  // thread's step): a step of another thread u that crosses y changes it.
  // With no step of u in (y, i), u's last step before y (inside y's own
  // window) must not move after y; with exactly one, that step must not
  // move before y. Both pairs are races, seen only now that i closes the
  // window (yield_conflicts orders each yield only against the first step
  // of each thread in its window).
  void window_races(std::size_t i) {
    const transition& me = trans_[i];
    const std::uint32_t p = me.thread;
    const std::size_t y = me.previous_yield;
    if (y == kNone) return;
    // A window that began at p's spawn (another thread's step) is crossed
    // the same way: a step of u moved across the spawn changes whom i
    // defers to. (Before it, any step of u may be the one.)
    const bool spawned = trans_[y].thread != p;
    if (!spawned && !trans_[y].yields) return;
    const std::size_t w = spawned ? kNone : trans_[y].previous_yield;  // where y's own window began
    const std::size_t n = last_clock_.size();
    std::vector<std::size_t>& count = window_count_;
    std::vector<std::size_t>& first = window_first_;
    count.assign(n, 0);
    first.assign(n, kNone);
    for (std::size_t k = y + 1; k < i; ++k) {
      const std::uint32_t u = trans_[k].thread;
      if (u == p || u >= n || trans_[k].parked || trans_[k].attempt) continue;
      if (count[u]++ == 0) first[u] = k;
    }
    for (std::uint32_t u = 0; u < n; ++u) {
      if (u == p) continue;
      if (count[u] == 1) {
        window_race(y, first[u]);
      } else if (count[u] == 0) {
        const std::size_t s = last_of(u);
        if (s != kNone && s < y && (w == kNone || s > w)) {
          window_race(s, y);
          // In p's branch at s's frame, s sleeps (explored first) and must
          // not sleep through y: the order sought has it after y. (Only
          // one of u's steps since w, s wakes at y anyway.)
          if (trans_[s].has_frame && !in_top(trans_[s].frame)) {
            frame& f = stack_[trans_[s].frame];
            if (!f.value && std::find(f.yield_wakes.begin(), f.yield_wakes.end(), std::pair{u, p}) == f.yield_wakes.end())
              f.yield_wakes.emplace_back(u, p);
          }
        }
      }
    }
  }
  // Frame fi belongs to a split search's top (see split_owner): the same
  // for every worker.
  bool in_top(std::size_t fi) const noexcept { return split_.on() && (!split_.decided() || fi < top_end_); }
  void window_race(std::size_t j, std::size_t k) {
    if (!trans_[j].has_frame || trans_[j].thread == trans_[k].thread || happens_before(j, trans_[k])) return;
    add_backtrack(j, k);
  }

  // Thread t was a candidate that would run a step at the decision that
  // chose transition k.
  bool could_run_at(std::uint32_t t, const transition& k) const {
    if (!k.has_frame) return true;
    const frame& f = stack_[k.frame];
    for (std::size_t c = 0; c < f.cands.size(); ++c)
      if (f.cands[c] == t) return !f.next[c].blocks;
    return false;
  }

  // An access no step can race with: ordered after what it depends on (a
  // sync), or a write that only steps which cannot come first read: a
  // thread key's (a spawn, read by the child's start and its joiner; a
  // thread's end, read by its joiner) or a waiter's woken key (read by that
  // waiter's return from its wait).
  static bool unraceable(const access& a) {
    return a.kind == access_kind::sync ||
           (a.kind == access_kind::write && ((a.key & kThreadKey) != 0 || (a.key & ~kObjectMask) == kWokenKey));
  }
  static access next_of(const frame& f, std::uint32_t t) {
    for (std::size_t i = 0; i < f.cands.size(); ++i)
      if (f.cands[i] == t) return f.next[i];
    return {};
  }

  // Moves to the next unexplored branch: the deepest frame with a thread (or
  // value) in its backtrack set that is neither done nor asleep there.
  bool advance() {
    while (!stack_.empty()) {
      frame& f = stack_.back();
      for (std::uint32_t b : f.backtrack) {
        if (contains(f.done, b) || (!f.value && asleep(f.sleep, b))) continue;
        if (!f.value) {  // the explored branch's wakeup subtree is spent
          const std::size_t k = index_of(f.backtrack, f.chosen);
          if (k < f.below.size()) std::vector<wnode>().swap(f.below[k]);
        }
        f.chosen = b;
        f.done.push_back(b);
        return true;
      }
      stack_.pop_back();
    }
    return false;
  }

  // Every candidate of frame f would start, spawn or join a thread.
  static bool lifecycle_only(const frame& f) noexcept {
    return std::all_of(f.next.begin(), f.next.end(), [](const access& a) {
      return (a.key & kThreadKey) != 0 && !a.time && !a.yields && a.waiters == 0;
    });
  }

  // Counts branching value decisions and hashes their choices (split
  // searches; past the depth it only hashes them, see split_owner).
  void note_branch(std::size_t options, std::uint32_t chosen) {
    if (options >= 2) split_.note(chosen);
  }

  transition& new_transition(std::uint32_t thread, std::size_t frame, bool has_frame) {
    if (ntrans_ == trans_.size()) trans_.emplace_back();
    transition& t = trans_[ntrans_++];
    t.thread = thread;
    t.frame = frame;
    t.has_frame = has_frame;
    t.accesses.clear();
    t.clock.clear();
    t.yields = false;
    t.previous_yield = kNone;
    t.previous = kNone;
    t.attempt = false;
    t.parked = false;
    t.step = access{};
    t.needed_writes.clear();
    return t;
  }

  bool happens_before(std::size_t a, const transition& b) const {
    const std::uint32_t t = trans_[a].thread;
    return t < b.clock.size() && b.clock[t] >= a + 1;
  }
  // Within the wakeup sequence of the race being reversed: transition a
  // comes before transition b. The racing step runs before the write it
  // races with, so a write its monitor step needed that came after that
  // write (and is no step of the sequence) is no predecessor of it there, nor
  // is what came before that write only through it.
  //
  // This leans on the queue's fields: whatever in the sequence conflicts with
  // the racing step also conflicts with the write it races with (the write
  // before the needed one: same fields), so it is no step of the sequence.
  // A monitor whose step needs a field another way must keep that true, or
  // readers of the field between the two writes stop counting as
  // predecessors here.
  bool before_in_v(std::size_t a, std::size_t b) const {
    const transition& t = trans_[b];
    if (b != racing_ || t.needed_writes.empty()) return happens_before(a, t);
    const std::uint32_t th = trans_[a].thread;
    if (th < t.race_clock.size() && t.race_clock[th] >= a + 1) return true;
    for (std::size_t w : t.needed_writes)
      if (!happens_before(raced_, trans_[w]) && (a == w || happens_before(a, trans_[w]))) return true;
    return false;
  }

  // Whether `announced` (a thread's next step) conflicts with every step
  // that `x` (an access the step made) conflicts with.
  static bool covers(const access& announced, const access& x) {
    bool covered = false;
    for_each_plain(announced, [&](const access& p) {
      covered = covered || p.kind == access_kind::global ||
                (p.kind != access_kind::none && p.kind != access_kind::yield && x.kind != access_kind::global &&
                 p.key == x.key && (x.kind != access_kind::write || p.kind == access_kind::write));
    });
    return covered;
  }
  // What a transition did must be no more than its thread announced at the
  // decision that chose it: sleep sets judge a sleeping thread by that
  // announcement, so an access outside it would let a sleeper sleep through
  // a step it races with (and its reversal would never run).
  //
  // Some accesses cannot be announced: a read of virtual time (mc::platform::
  // now(), as a timed operation computes its deadline) and a primitive's
  // destruction are no points, and ride on the thread's step before them;
  // that a step comes to a destroyed primitive's memory is known only in
  // the step. Found here, they widen the announcement its frame keeps,
  // before any sibling of the frame puts the thread to sleep with it. Every other access the engine announces; some
  // need none: a sync access orders the step after a write it can never be
  // reversed with (no race), and some writes are read only by a step that
  // cannot come first: a thread key's, read by the thread's start and by
  // joins (the thread's end, riding on its last step, and a spawn, whose
  // child's id is known only once it runs: another thread may spawn first),
  // and a wake's write of its waiter's woken key, read by that waiter's
  // return.
  void widen_announcement(const transition& t) {
    if (!t.has_frame) return;
    frame& f = stack_[t.frame];
    const std::size_t c = index_of(f.cands, t.thread);
    access& next = f.next[c];
    for (const access& x : t.accesses) {
      if (x.key == kTimeKey && x.kind == access_kind::read) {
        if (!next.time && !covers(next, x)) next.time = true;
        continue;
      }
      // A destruction, or a step in a destroyed primitive's memory (see
      // kDestroyedKey): an announcement has one key, so the thread's
      // becomes global. Only the kind and `blocks` stay, as in
      // stopped_by_last().
      if ((x.key & ~kObjectMask) == kDestroyedKey) {
        if (next.kind != access_kind::global) next = access{0, access_kind::global, next.blocks};
        continue;
      }
#if !defined(NDEBUG) || defined(LOCKSTEP_CHECK_INVARIANTS)
      if (x.kind == access_kind::none || unraceable(x)) continue;
      if (!covers(next, x))
        std::fprintf(stderr, "thread %u announced {key %#x, kind %u, waiters %#x} and made {key %#x, kind %u}\n",
                     t.thread, next.key, static_cast<unsigned>(next.kind), next.waiters, x.key,
                     static_cast<unsigned>(x.kind));
      LOCKSTEP_DCHECK(covers(next, x));
#endif
    }
  }

  // An execution that stopped (a bug under options::keep_going, or
  // end_execution()) while other threads were unfinished: its last step
  // ended whatever they would have done. (Threads blocked for good count
  // too: they cost some reduction, nothing else.) That conflicts with
  // every step they might take, so as a sleeper at its frame it must be woken
  // by any step: asleep with the access it announced, it would sleep
  // through the steps of a sibling branch that let the others run first,
  // and once only it was left, the branch would be abandoned with what
  // those steps reached never explored. (The attempts its step parked are
  // placed after it, and have no frame.) Only the kind and `blocks` stay:
  // a global access carries no monitor fields, and a checkpoint would
  // refuse it with them.
  void stopped_by_last() {
    std::size_t i = ntrans_;
    while (i > 0 && trans_[i - 1].parked) --i;
    if (i == 0 || !trans_[i - 1].has_frame) return;
    const transition& t = trans_[i - 1];
    bool others = false;
    for (std::uint32_t p = 0; p < pending_.size(); ++p)
      others = others || (p != t.thread && pending_[p].kind != access_kind::none);
    if (!others) return;
    frame& f = stack_[t.frame];
    access& next = f.next[index_of(f.cands, t.thread)];
    next = access{0, access_kind::global, next.blocks};
  }

  // Vector clock, race detection and sleep-set update for the transition that
  // just ended (the last in trans_).
  void finish_transition() {
    if (ntrans_ == 0 || finished_ == ntrans_) return;
    widen_announcement(trans_[ntrans_ - 1]);
    place_transition(ntrans_ - 1, false);
    for (const sleeper& z : parked_) place_parked(z.thread, z.next);
    parked_.clear();
    finished_ = ntrans_;
  }
  // Thread p's attempt, parked with no step of its own (an untimed monitor
  // step that was not ready), read `a`. Had it run before the last writes of
  // what it read, its step might have happened: it races with them as p's
  // next step would, and the reversal runs p's step first (the wakeup
  // sequence ends with that step). It is no event otherwise: nothing is
  // ordered after it (it is no reader of any object, not p's last
  // transition), it wakes no sleeper, it is never reversed with what comes
  // after it (it has no frame), and no other race's wakeup sequence
  // schedules it. Its read does not ride on p's previous transition, which
  // would then look dependent with those writes and be reversed with them
  // for nothing.
  void place_parked(std::uint32_t p, const access& a) {
    transition& t = new_transition(p, 0, false);
    t.parked = true;
    for_each_plain(a, [&](const access& x) {
      access y{x.key, x.kind};
      y.stale = x.stale;
      t.accesses.push_back(y);
    });
    t.step = access{a.key, access_kind::monitor};
    t.step.fields = 0xff;
    place_transition(ntrans_ - 1, true);
  }

  // A thread stopped before its end (a bug ended the execution): what it
  // would still have done races with earlier steps, and their reversals lead
  // to executions this one does not stand for (another order of the locks
  // before a deadlock, a timeout before the bug). It is placed at the end
  // for its races only, then taken away again.
  void pending_races(std::uint32_t p, const access& a) {
    transition& t = new_transition(p, 0, false);
    for_each_plain(a, [&](const access& x) { t.accesses.push_back({x.key, x.kind}); });
    place_transition(ntrans_ - 1, true);
    --ntrans_;
  }

  // Vector clock and races of transition i; unless `pending`, it also
  // updates the per-object state and the sleep set.
  void place_transition(std::size_t i, bool pending) {
    transition& me = trans_[i];
    const std::uint32_t p = me.thread;
    // A transition's frame is one of this execution's, below its depth, and
    // chose its thread; no thread happens-after itself in a later step.
    LOCKSTEP_DCHECK(i < ntrans_);
    LOCKSTEP_DCHECK(!me.has_frame || (me.frame < depth_ && !stack_[me.frame].value && stack_[me.frame].chosen == p));
    if (last_clock_.size() <= p) last_clock_.resize(p + 1, static_cast<std::size_t>(-1));

    // Program order. A thread's first transition comes after its spawn as
    // after a step of its own: a thread that makes no step between its start
    // and its end writes its end in that transition, and that write (the
    // spawn wrote its key too) is no race with the spawn.
    std::vector<std::uint32_t>& clock = me.clock;
    clock.clear();
    if (last_clock_[p] != static_cast<std::size_t>(-1)) {
      clock = trans_[last_clock_[p]].clock;
    } else if (const object_state* spawn = object_of(kThreadKey | p); spawn != nullptr && spawn->writer != kNone) {
      clock = trans_[spawn->writer].clock;
    }
    std::vector<std::uint32_t>& program_clock = program_clock_;
    program_clock = clock;

    // Conflicting earlier transitions (the last writer and the readers since,
    // per key; a global access conflicts with every transition).
    // `ordered` adds to them the writes a sync access comes after: they order
    // this transition but cannot be reversed with it, so they are no races.
    std::vector<std::size_t>& deps = deps_;
    std::vector<std::size_t>& ordered = ordered_;
    std::vector<std::size_t>& needed = needed_;
    deps.clear();
    ordered.clear();
    needed.clear();
    for (const access& a : me.accesses) collect_conflicts(a, i, deps, ordered, needed);
    // A write this transition needs is no race on any key: it could not
    // have run before it (it would have waited). Every ready monitor step
    // writes the monitor's wait queue (it takes the monitor), so a step also
    // conflicts there with the step whose field it needs.
    if (!needed.empty())
      deps.erase(std::remove_if(deps.begin(), deps.end(), [&](std::size_t j) { return contains_index(needed, j); }),
                 deps.end());
    if (!pending) yield_conflicts(i, deps);
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    for (std::size_t j : deps) join(clock, trans_[j].clock);
    for (std::size_t j : ordered) join(clock, trans_[j].clock);
    if (clock.size() <= p) clock.resize(p + 1, 0);
    clock[p] = static_cast<std::uint32_t>(i + 1);
    me.needed_writes.assign(needed.begin(), needed.end());
    if (!needed.empty()) {
      me.race_clock = clock;
      for (std::size_t j : needed) join(clock, trans_[j].clock);
    }
    if (!pending) {
      for (const access& a : me.accesses) update_objects(a, i);
      me.previous = last_of(p);
      last_clock_[p] = i;
      if (!me.attempt) {
        if (last_step_.size() <= p) last_step_.resize(p + 1, kNone);
        last_step_[p] = i;
      }
      if (me.yields) {
        me.previous_yield = window_of(p);
        set_window(p, i);
        yields_.push_back(i);
      }
    }

    // Races: a conflicting transition of another thread not already ordered
    // before this one by program order or by another conflict. A later
    // conflict k covers the race only if this thread could have run instead
    // of k (its reversal with k then exposes the race with j); if it could
    // not (blocked on a lock taken at j, say), the race with j is reversed
    // directly.
    for (std::size_t j : deps) {
      const transition& e = trans_[j];
      if (e.thread == p || !e.has_frame) continue;
      if (e.thread < program_clock.size() && program_clock[e.thread] >= j + 1) continue;
      bool covered = false;
      for (std::size_t k : deps)
        if (k > j && happens_before(j, trans_[k]) && could_run_at(p, trans_[k])) covered = true;
      if (!covered) add_backtrack(j, i);
    }
    if (!pending && me.yields) window_races(i);

    // Sleep sets: a sleeper wakes once something conflicting with its next
    // step has run.
    if (me.has_frame && !pending) {
      std::vector<sleeper>& next_sleep = next_sleep_;
      next_sleep.clear();
      for (const sleeper& z : pending_sleep_) {
        bool wakes = false;
        for (const access& a : me.accesses) wakes = wakes || conflict(a, z.next);
        // This yield and the sleeper's next step, its first since this
        // thread's previous yield if it has not run since.
        if (me.yields && not_since(last_of(z.thread), me.previous_yield)) wakes = true;
        // Or a step that, run after this yield, would fall in the yielder's
        // next window alone, found so by a window race (frame::yield_wakes).
        if (me.yields && z.wake_at_yield_of == p) wakes = true;
        // The sleeper's next step yields (or may), and this is this
        // thread's first step since the sleeper's previous yield. (When it
        // is not, running it before the sleeper's yield, as here, puts it
        // out of the sleeper's next window: that defers more than the
        // order explored, which covers it.)
        if ((z.next.kind == access_kind::yield || z.next.yields) && !me.attempt &&
            not_since(me.previous, window_of(z.thread)))
          wakes = true;
        if (!wakes && z.thread != p) next_sleep.push_back(z);
      }
      sleep_.swap(next_sleep);
    }
  }

  // The earlier transitions `a` conflicts with: races go to `deps`; the
  // write a sync access comes after goes to `ordered` (it cannot be reversed
  // with it); the write a monitor step needed (monitor_state::needs), or
  // the last write since the raise a stale read races with, goes to
  // `needed`: it orders the transition too, but stays out of its race clock
  // (see before_in_v). A timeout firing before a sync access is a race like
  // any other: the sync step (a start, a woken waiter's return) could have
  // run before the timeout fired.
  void collect_conflicts(const access& a, std::size_t i, std::vector<std::size_t>& deps,
                         std::vector<std::size_t>& ordered, std::vector<std::size_t>& needed) const {
    if (a.kind == access_kind::none) return;
    if (a.kind == access_kind::global) {
      // A fence's: not with a step that touched nothing or only synced
      // (see kFenceKey).
      const bool fence = a.key == kFenceKey;
      for (std::size_t j = 0; j < i; ++j)
        if (!trans_[j].parked && !(fence && commutes_with_fence(trans_[j]))) deps.push_back(j);
      return;
    }
    if (last_global_ != static_cast<std::size_t>(-1) && !(last_global_fence_ && a.kind == access_kind::sync))
      deps.push_back(last_global_);
    const object_state* found = object_of(a.key);
    if (found == nullptr) return;
    const object_state& o = *found;
    if (a.kind == access_kind::sync) {  // after the last writer only
      if (o.writer != static_cast<std::size_t>(-1)) ordered.push_back(o.writer);
      return;
    }
    if (a.stale != 0 && o.raiser != kNone) {
      // A step (or parked attempt) that could have come first only before
      // the field's last raising write (monitor_state::stale): that is
      // its race; the writes since only order it (needed: a reversal runs
      // it before them, see before_in_v).
      if (o.writer != o.raiser) needed.push_back(o.writer);
      deps.push_back(o.raiser);
      if (a.kind == access_kind::write) deps.insert(deps.end(), o.readers.begin(), o.readers.end());
      return;
    }
    // A monitor's field its step needs: the step could not have happened
    // between the write before the last one and the last one (it would
    // have waited), so it comes after the last, never reversed with it.
    // Before the write before, it could have (a get taking the item an
    // earlier get took): that is its race, which the order through the
    // last write does not cover. A write races with the readers since the
    // last write, needed or not.
    if (o.writer != static_cast<std::size_t>(-1)) (a.needs != 0 ? needed : deps).push_back(o.writer);
    if (a.needs != 0 && o.previous_writer != static_cast<std::size_t>(-1)) deps.push_back(o.previous_writer);
    if (a.kind == access_kind::write) deps.insert(deps.end(), o.readers.begin(), o.readers.end());
  }

  // (What conflict() says of each of its accesses; a yield is ordered by
  // fairness windows, not by accesses.)
  static bool commutes_with_fence(const transition& t) noexcept {
    const access fence{kFenceKey, access_kind::global};
    return !t.yields && std::none_of(t.accesses.begin(), t.accesses.end(),
                                     [&](const access& a) { return conflict(fence, a); });
  }

  void update_objects(const access& a, std::size_t i) {
    if (a.kind == access_kind::none) return;
    if (a.kind == access_kind::global) {
      last_global_ = i;
      last_global_fence_ = a.key == kFenceKey;
      return;
    }
    object_state* o = object_of(a.key);
    if (o == nullptr) {
      objects_.push_back({a.key, static_cast<std::size_t>(-1), static_cast<std::size_t>(-1), {}, kNone});
      o = &objects_.back();
    }
    if (a.kind == access_kind::write) {
      if (o->writer != i) o->previous_writer = o->writer;
      o->writer = i;
      o->readers.clear();
      if (a.raises != 0) o->raiser = i;
    } else if (a.kind == access_kind::read && !contains_index(o->readers, i)) {
      o->readers.push_back(i);
    }
  }

  static bool contains_index(const std::vector<std::size_t>& v, std::size_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }

  static void join(std::vector<std::uint32_t>& into, const std::vector<std::uint32_t>& c) {
    if (into.size() < c.size()) into.resize(c.size(), 0);
    for (std::size_t t = 0; t < c.size(); ++t) into[t] = std::max(into[t], c[t]);
  }

  // The race (j, i): make sure some initial of notdep(j).i is tried at j's frame.
  void add_backtrack(std::size_t j, std::size_t i) {
    raced_ = j;
    racing_ = i;
    if (optimal_ && !ending_) {
      // Optimal dpor reverses races once the execution is complete: the
      // wakeup sequence is every step after j that does not happen after
      // it (also those after i), then i (Abdulla et al., Algorithm 2).
      races_.push_back({j, i});
      return;
    }
    frame& f = stack_[trans_[j].frame];
    // v: the transitions after j that do not happen after j, then i.
    std::vector<std::size_t>& v = v_;
    v.clear();
    // A parked attempt's sequence ends with it: its thread's later steps
    // come after it, which no clock says (nothing is ordered after it).
    const std::size_t to = optimal_ && !trans_[i].parked ? ntrans_ : i;
    for (std::size_t k = j + 1; k < to; ++k)
      if (k != i && !trans_[k].parked && !happens_before(j, trans_[k])) v.push_back(k);
    v.push_back(i);
    // Initials: threads whose first transition in v has no predecessor in v.
    std::vector<std::uint32_t>& initials = initials_;
    std::vector<std::uint32_t>& seen = seen_;
    initials.clear();
    seen.clear();
    for (std::size_t a = 0; a < v.size(); ++a) {
      const std::uint32_t t = trans_[v[a]].thread;
      if (contains(seen, t)) continue;
      seen.push_back(t);
      bool first = true;
      for (std::size_t b = 0; b < a && first; ++b)
        if (before_in_v(v[b], v[a])) first = false;
      if (first) initials.push_back(t);
    }
    if (optimal_) {
      // A step that did nothing (it only found its thread blocked) is no
      // event of the trace: a wakeup sequence does not schedule it. (A step
      // that touched nothing shared, a fence or an unfair yield, is an
      // event: the thread's next step comes after it.)
      v.erase(std::remove_if(v.begin(), v.end() - 1, [&](std::size_t k) {
        return trans_[k].attempt && trans_[k].accesses.empty() && !trans_[k].yields; }), v.end() - 1);
      insert_wakeup(trans_[j].frame, v);
      return;
    }
    if (bound_ >= 0) {
      // Bounded: the one initial source sets need may be out of the bound
      // where another is not, so every initial is tried (within the bound).
      for (std::uint32_t t : initials) add_within_bound(trans_[j].frame, t);
      return;
    }
    for (std::uint32_t t : initials)
      if (contains(f.backtrack, t) || asleep(f.sleep, t)) return;
    const std::uint32_t p = trans_[i].thread;
    std::uint32_t pick = initials.empty() ? p : initials.front();
    if (contains(initials, p)) pick = p;
    add_within_bound(trans_[j].frame, pick);
  }


  // -- optimal dpor: wakeup trees (Abdulla et al., POPL 2014, Algorithm 2) --

  static std::size_t index_of(const std::vector<std::uint32_t>& v, std::uint32_t x) {
    return static_cast<std::size_t>(std::find(v.begin(), v.end(), x) - v.begin());
  }
  static bool yielding(const access& a) { return a.kind == access_kind::yield || a.yields; }
  // A thread's next step `a`, which may also end the thread (a thread's last
  // step runs on to its exit, which its joiner depends on); a parked attempt
  // stands for such a step too.
  static std::array<access, 2> may_end(const access& a, std::uint32_t thread) {
    return {a, access{kThreadKey | thread, access_kind::write}};
  }

  // A step (accesses `ev`, yielding or not) and transition t are dependent.
  // Yields are ordered by fairness windows, not by objects: a yielding step
  // counts as dependent with everything (which only costs optimality).
  static bool dependent(std::span<const access> ev, bool ev_yields, const transition& t) {
    if (ev_yields || t.yields) return true;
    if (t.parked) {  // it stands for the step its thread would take
      const std::array<access, 2> step = may_end(t.step, t.thread);
      for (const access& a : ev)
        for (const access& b : step)
          if (conflict(a, b)) return true;
      return false;
    }
    for (const access& a : ev)
      for (const access& b : t.accesses)
        if (conflict(a, b)) return true;
    return false;
  }

  // Thread q, whose next step is `ev`, is a weak initial of v (transition
  // indices): its first transition in v has no predecessor in v (`pos` is
  // then its position), or it has none in v and its step is independent
  // with all of v (`pos` is kNone).
  bool weak_initial(std::uint32_t q, std::span<const access> ev, bool ev_yields, const std::vector<std::size_t>& v,
                    std::size_t& pos) const {
    pos = kNone;
    for (std::size_t a = 0; a < v.size(); ++a) {
      if (trans_[v[a]].thread != q) continue;
      for (std::size_t b = 0; b < a; ++b)
        if (before_in_v(v[b], v[a])) return false;
      pos = a;
      return true;
    }
    for (std::size_t x : v)
      if (dependent(ev, ev_yields, trans_[x])) return false;
    return true;
  }
  // For a candidate's next step.
  bool weak_initial(std::uint32_t q, const access& next, const std::vector<std::size_t>& v, std::size_t& pos) const {
    const std::array<access, 2> ev = may_end(next, q);
    return weak_initial(q, ev, yielding(next), v, pos);
  }

  std::vector<wnode>& below_of(frame& f, std::size_t k) {
    if (f.below.size() < f.backtrack.size()) f.below.resize(f.backtrack.size());
    return f.below[k];
  }

  // The transitions v[from..] as a chain of wakeup-tree nodes.
  std::vector<wnode> chain(const std::vector<std::size_t>& v, std::size_t from) const {
    std::vector<wnode> out;
    std::vector<wnode>* at = &out;
    for (std::size_t a = from; a < v.size(); ++a) {
      const transition& t = trans_[v[a]];
      if (t.parked) {  // the step it would take
        const std::array<access, 2> step = may_end(t.step, t.thread);
        at->push_back(wnode{t.thread, {step.begin(), step.end()}, false, {}});
      } else {
        at->push_back(wnode{t.thread, t.accesses, t.yields, {}});
      }
      at = &at->back().kids;
    }
    return out;
  }

  // The race with transition j found the wakeup sequence v (the steps after
  // j that do not happen after it, then the racing step): unless a thread
  // asleep at j's frame (or explored there before) is a weak initial of v
  // (then an equivalent execution was or will be explored), insert v into
  // the frame's wakeup tree, unless a branch already leads where v does.
  void insert_wakeup(std::size_t fi, std::vector<std::size_t> v) {
    frame& f = stack_[fi];
    std::size_t pos = kNone;
    for (const sleeper& z : f.sleep)
      if (weak_initial(z.thread, z.next, v, pos))
        return;
    for (std::uint32_t t : f.done)
      if (t != f.chosen && weak_initial(t, next_of(f, t), v, pos))
        return;
    std::vector<wnode>* kids = nullptr;
    for (std::size_t k = 0; k < f.backtrack.size() && kids == nullptr; ++k) {
      const std::uint32_t t = f.backtrack[k];
      if (contains(f.done, t) || !weak_initial(t, next_of(f, t), v, pos)) continue;
      if (pos != kNone) v.erase(v.begin() + static_cast<std::ptrdiff_t>(pos));
      std::vector<wnode>& b = below_of(f, k);
      if (b.empty() || v.empty()) return;  // a leaf leads there: covered
      kids = &b;
    }
    if (kids == nullptr) {
      add_wakeup_branch(fi, v);
      return;
    }
    for (;;) {
      wnode* next = nullptr;
      for (wnode& c : *kids) {
        if (!weak_initial(c.thread, c.acc, c.yields, v, pos)) continue;
        if (pos != kNone) v.erase(v.begin() + static_cast<std::ptrdiff_t>(pos));
        if (c.kids.empty() || v.empty()) return;
        next = &c;
        break;
      }
      if (next == nullptr) {
        std::vector<wnode> rest = chain(v, 0);
        kids->push_back(std::move(rest.front()));
        return;
      }
      kids = &next->kids;
    }
  }

  // A new branch v at frame fi's root. Its first step must be a candidate
  // there; another initial of v that is one can go first instead; if none
  // is, every candidate is tried (as source-dpor does).
  void add_wakeup_branch(std::size_t fi, std::vector<std::size_t>& v) {
    frame& f = stack_[fi];
    if (!contains(f.cands, trans_[v.front()].thread)) {
      for (std::size_t a = 1; a < v.size(); ++a) {
        const std::uint32_t q = trans_[v[a]].thread;
        if (!contains(f.cands, q)) continue;
        bool first = true;
        for (std::size_t b = 0; b < a && first; ++b)
          if (trans_[v[b]].thread == q || before_in_v(v[b], v[a])) first = false;
        if (!first) continue;
        std::rotate(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(a), v.begin() + static_cast<std::ptrdiff_t>(a) + 1);
        break;
      }
    }
    const std::uint32_t t = trans_[v.front()].thread;
    if (!contains(f.cands, t) || contains(f.backtrack, t)) {
      for (std::uint32_t c : f.cands)
        if (!contains(f.backtrack, c)) f.backtrack.push_back(c);
      return;
    }
    f.backtrack.push_back(t);
    below_of(f, f.backtrack.size() - 1) = chain(v, 1);
  }

  // A new thread frame f (not yet on the stack, at depth_): its alternatives
  // from the wakeup subtree of the branch the previous thread decision took.
  // The subtree moves when that decision is the frame just above (nothing
  // can come back to it), else it is copied (value frames in between each
  // come back here). False when there is none.
  bool take_wakeup_subtree(frame& f) {
    std::size_t p = depth_;
    while (p > 0 && stack_[p - 1].value) --p;
    if (p == 0) return false;
    frame& parent = stack_[p - 1];
    const std::size_t k = index_of(parent.backtrack, parent.chosen);
    if (k >= parent.below.size() || parent.below[k].empty()) return false;
    std::vector<wnode> tree;
    if (p == depth_) tree.swap(parent.below[k]);
    else tree = parent.below[k];
    bool missing = false;
    for (wnode& c : tree) {
      if (asleep(f.sleep, c.thread) || contains(f.backtrack, c.thread)) {
        continue;
      }
      if (!contains(f.cands, c.thread)) {
        missing = true;
        continue;
      }
      f.backtrack.push_back(c.thread);
      f.below.push_back(std::move(c.kids));
    }
    if (missing) {  // a step the tree expected is not possible here: try all
      for (std::uint32_t c : f.cands)
        if (!asleep(f.sleep, c) && !contains(f.backtrack, c)) f.backtrack.push_back(c);
    }
    return !f.backtrack.empty();
  }

  // Adds `t` as an alternative at frame fi. When taking it there would exceed
  // the preemption bound, it goes instead to the frame where the thread
  // running at fi began its run (the bounded-POR repair of Coons, Musuvathi
  // and McKinley, OOPSLA 2013): switching to t there costs what switching to
  // that thread cost, so no more preemptions than the execution had.
  void add_within_bound(std::size_t fi, std::uint32_t t) {
    std::size_t k = fi;
    while (over_bound(k, t)) {
      limited_ = true;
      const std::uint32_t r = stack_[k].cands[0];  // the running thread at k
      std::size_t start = k;
      while (start > 0 && (stack_[start - 1].value || stack_[start - 1].chosen == r)) --start;
      while (start < k && stack_[start].value) ++start;
      if (start == k) return;  // r ran from the start: nowhere cheaper to switch
      k = start;
    }
    frame& f = stack_[k];
    LOCKSTEP_DCHECK(!f.value && k < depth_);
    // A split search's top is the same for every worker: what one finds
    // below it adds nothing there. Nothing it would add is missing: a split
    // frame tries every thread that runs a step (one that would only block
    // first reaches the executions of the others again).
    if (split_.decided() && k < top_end_) return;
    if (contains(f.cands, t)) {
      if (!contains(f.backtrack, t)) f.backtrack.push_back(t);
      return;
    }
    for (std::uint32_t c : f.cands)  // not enabled there: try everything allowed
      if (!contains(f.backtrack, c) && !over_bound(k, c)) f.backtrack.push_back(c);
  }

  // Taking thread t at frame k would exceed the bound.
  bool over_bound(std::size_t k, std::uint32_t t) const {
    const frame& f = stack_[k];
    return bound_ >= 0 && f.preemptible && t != f.cands[0] && static_cast<int>(f.preempts) >= bound_;
  }

  struct object_state {
    std::uint32_t key;
    std::size_t writer;
    std::size_t previous_writer;  // the writer before `writer`
    std::vector<std::size_t> readers;
    std::size_t raiser = kNone;   // the last write that raised the field (access::raises)
  };

  // The state of the object `key` names (nullptr: no transition touched it yet).
  const object_state* object_of(std::uint32_t key) const {
    for (const object_state& o : objects_)
      if (o.key == key) return &o;
    return nullptr;
  }
  object_state* object_of(std::uint32_t key) {
    return const_cast<object_state*>(std::as_const(*this).object_of(key));
  }

  std::size_t top_end_ = 0;  // split searches: the frames before this one are the top of the tree
  bool optimal_ = true;    // wakeup trees (else source sets)
  bool fallback_ = false;  // optimal dpor met what its trees cannot order (see begin())
  std::uint64_t optimal_runs_ = 0;  // executions run to their end with wakeup trees
  std::vector<frame> stack_;
  std::size_t depth_ = 0;
  bool started_ = false;
  bool blocked_ = false;  // this execution is sleep-set blocked
  // Transitions of this execution: [0, ntrans_); the storage (and the
  // capacity of each one's vectors) is kept across executions.
  std::vector<transition> trans_;
  std::size_t ntrans_ = 0;
  // Scratch, kept to avoid allocating per transition.
  std::vector<std::uint32_t> program_clock_, initials_;
  mutable std::vector<std::uint32_t> seen_;
  std::vector<std::size_t> deps_, ordered_, needed_, v_;
  std::size_t raced_ = kNone, racing_ = kNone;  // the race being reversed (see before_in_v)
  std::vector<sleeper> next_sleep_;
  std::vector<std::size_t> window_count_, window_first_;  // scratch for window_races
  std::size_t finished_ = 0;
  std::vector<std::size_t> last_clock_;   // per thread: index of its last transition
  std::vector<std::size_t> last_step_;    // per thread: index of its last step (see last_of)
  // Per thread: where its fairness window starts (see yield_conflicts): its
  // last yielding transition, else the transition that spawned it (kNone
  // for the body's thread: the start of the execution).
  std::vector<std::size_t> window_;
  std::vector<std::size_t> yields_;       // the yielding transitions, in order
  std::vector<object_state> objects_;
  std::size_t last_global_ = static_cast<std::size_t>(-1);
  bool last_global_fence_ = false;  // last_global_ is a seq_cst fence's (kFenceKey)
  std::vector<std::pair<std::size_t, std::size_t>> races_;  // optimal dpor: found, to reverse at the end
  std::vector<sleeper> parked_;           // parked attempts, to place after the running transition
  bool ending_ = false;                   // end() is reversing them
  std::vector<access> next_;              // by thread id, at the current decision
  std::vector<access> pending_;           // by thread id, after the execution (set_pending)
  std::vector<sleeper> sleep_;            // asleep at the coming decision
  std::vector<sleeper> pending_sleep_;    // asleep when the current transition began
  std::uint64_t abandoned_ = 0;
  std::string error_;
  int bound_ = -1;            // preemptions allowed per execution (-1: any)
  std::uint32_t preempts_ = 0;
  bool limited_ = false;      // the bound kept some alternative out
  split_owner split_;  // split searches (see own())
};

}  // namespace

std::unique_ptr<strategy> make_dpor(int preemption_bound, bool optimal) {
  return std::make_unique<dpor_strategy>(preemption_bound, optimal);
}

}  // namespace lockstep::mc::rt
