// Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal
// Dynamic Partial Order Reduction", POPL 2014, Algorithm 1).
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
// - Value choices (choose(), spurious wake-ups) are frames whose every value
//   is explored.
//
// Blocking needs no special case beyond the fallback: a blocked thread is not
// a candidate, and the wake, exit or store it waits for conflicts with its
// resumption.
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/dcheck.hpp"
#include "strategies/strategy.hpp"

namespace lockstep::mc::rt {

namespace {

const std::string kNoError;

struct sleeper {
  std::uint32_t thread;
  access next;
};

struct frame {
  bool value = false;                  // a value choice, not a thread decision
  std::uint32_t options = 0;           // value frames: how many values
  std::vector<std::uint32_t> cands;    // thread frames: candidates, in order
  std::vector<access> next;            // their next access (parallel to cands)
  std::uint32_t chosen = 0;            // thread id or value
  std::vector<std::uint32_t> backtrack;
  std::vector<std::uint32_t> done;     // explored (or being explored), in order
  std::vector<sleeper> sleep;          // asleep on arrival here
  bool preemptible = false;            // cands[0] runs and could go on
  std::uint32_t preempts = 0;          // preemptions before this decision
  bool expanded = false;               // a split frame: every thread that runs a step
  bool counted = false;                // a branching decision (split searches hash it)
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
  std::size_t previous = kNone;        // its thread's transition before it
};

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

class dpor_strategy final : public strategy {
 public:
  explicit dpor_strategy(int bound) : bound_(bound) {}

  // Split searches (jobs, shards): every thread is tried at the first
  // `split_depth` branching decisions, and no thread sleeps because of a
  // sibling there, so each subtree below is a complete dpor search of its
  // own (no race found in one can need an alternative the split lacks). This
  // worker owns the subtrees whose split choices hash to `index`.
  void own(const split_spec& split) override {
    split_.assign(split);
  }
  bool foreign() const noexcept override { return split_.foreign(); }

  bool begin() override {
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
    window_.clear();
    yields_.clear();
    objects_.clear();
    sleep_.clear();
    pending_sleep_.clear();
    finished_ = 0;
    last_global_ = static_cast<std::size_t>(-1);
    // The first transition (thread 0 starting) has no frame.
    new_transition(0, 0, false);
  }

  bool wants_accesses() const noexcept override { return true; }
  void set_next(std::span<const access> next) override { next_.assign(next.begin(), next.end()); }
  void on_access(std::uint32_t thread, access a) override {
    if (a.kind == access_kind::none || blocked_ || split_.foreign()) return;
    if (a.kind == access_kind::yield) {
      trans_[ntrans_ - 1].yields = true;
      return;
    }
    trans_[ntrans_ - 1].accesses.push_back(a);
    // A spawn: the child's fairness window starts here (fair_yield counts
    // who ran since the child was created).
    if (a.kind == access_kind::write && (a.key & kThreadKey) != 0 && (a.key & ~kThreadKey) != thread)
      set_window(a.key & ~kThreadKey, ntrans_ - 1);
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
    // Another worker's subtree: run it out, unrecorded.
    if (cands.size() > 1 && split_.leaves()) return 0;
    if (d == decision::value) return pick_value(static_cast<std::uint32_t>(cands.size()));
    finish_transition();
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
      f.counted = cands.size() > 1;
      if (expand) {
        // A thread whose next step no other step can ever race with (a
        // spawn, a thread's start, a woken waiter's return) can go first in
        // every execution from here: it alone is a source set, and expanding
        // the frame would only start executions that sleep sets then block.
        // Such a frame is no branching decision of the split.
        for (std::size_t c = 0; c < cands.size() && !found; ++c) {
          if (invisible(f.next[c]) && !f.next[c].blocks && !asleep(f.sleep, cands[c])) {
            chosen = cands[c];
            found = true;
            expand = false;
            f.counted = false;
          }
        }
      }
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
        return 0;
      }
      f.chosen = chosen;
      f.expanded = expand;
      if (f.expanded) {
        // Every thread that would run a step (one that would only block
        // does nothing another alternative does not).
        f.backtrack.push_back(chosen);
        for (std::size_t c = 0; c < f.cands.size(); ++c)
          if (f.cands[c] != chosen && !f.next[c].blocks) f.backtrack.push_back(f.cands[c]);
      } else {
        f.backtrack.push_back(chosen);
      }
      f.done.push_back(chosen);
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
    for (std::size_t i = 0; bound_ < 0 && i + 1 < f.done.size(); ++i) {
      const std::uint32_t t = f.done[i];
      if (t != chosen && !asleep(pending_sleep_, t)) pending_sleep_.push_back({t, next_of(f, t)});
    }
    if (f.counted) split_.note(chosen);
    new_transition(chosen, fi, true);
    return static_cast<std::size_t>(std::find(cands.begin(), cands.end(), chosen) - cands.begin());
  }

  bool end() override {
    // An execution that never branched past the split belongs to whoever
    // owns its whole choice sequence.
    if (split_.leaves_at_end() && blocked_) --abandoned_;  // counted by its owner
    if (!blocked_ && !split_.foreign()) {
      finish_transition();
      for (std::uint32_t t = 0; t < pending_.size(); ++t) {
        if (pending_[t].kind == access_kind::none) continue;
        if (pending_[t].kind != access_kind::global) pending_races(t, pending_[t]);
        pending_races(t, {0, access_kind::global});  // and whatever came after it
      }
    }
    pending_.clear();
    return true;
  }

  void set_pending(std::span<const access> next) override { pending_.assign(next.begin(), next.end()); }

  // A wake took a timed waiter's timeout away: try the waiter at the frame of
  // the waking step (its timeout fires first there).
  void on_disabled(std::uint32_t t) override {
    if (blocked_ || split_.foreign() || ntrans_ == 0 || !trans_[ntrans_ - 1].has_frame) return;
    const std::size_t fi = trans_[ntrans_ - 1].frame;
    const frame& f = stack_[fi];
    if (f.value || contains(f.backtrack, t) || asleep(f.sleep, t)) return;
    if (!contains(f.cands, t)) return;  // not a candidate there (fairness): nothing to try
    add_within_bound(fi, t);
  }

  bool exhaustive() const noexcept override { return true; }
  std::uint64_t abandoned() const noexcept override { return abandoned_; }
  bool bound_limited() const noexcept override { return limited_; }
  int preemption_bound() const noexcept override { return bound_; }

  // The stack, one frame a line:
  //   v <options> <chosen> <done...>                      (a value frame)
  //   t <chosen> | c <tid>:<key>:<kind>:<flags> ... | b <tids> | d <tids> | s <tid>:<key>:<kind>:<flags> ...
  // (flags: 1 blocks, 2 yields; files without them read as 0)
  std::string save() const override {
    std::string out = "abandoned " + std::to_string(abandoned_) + "\n";
    auto list = [](const std::vector<std::uint32_t>& v) {
      std::string s;
      for (std::uint32_t x : v) s += " " + std::to_string(x);
      return s;
    };
    auto acc = [](std::uint32_t t, const access& a) {
      return " " + std::to_string(t) + ":" + std::to_string(a.key) + ":" +
             std::to_string(static_cast<unsigned>(a.kind)) + ":" +
             std::to_string((a.blocks ? 1u : 0u) | (a.yields ? 2u : 0u));
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
          unsigned t = 0, key = 0, kind = 0, flags = 0;
          const int n = std::sscanf(tok.c_str(), "%u:%u:%u:%u", &t, &key, &kind, &flags);
          if ((n != 3 && n != 4) || kind > static_cast<unsigned>(access_kind::lock_try) || flags > 3)
            throw std::invalid_argument(tok);
          put(t, access{key, static_cast<access_kind>(kind), (flags & 1) != 0, (flags & 2) != 0});
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
        } else {
          return "unknown dpor frame '" + line + "'";
        }
      } catch (const std::exception&) {
        return "bad dpor frame '" + line + "'";
      }
      if (f.done.empty() || f.done.back() != f.chosen) return "inconsistent dpor frame '" + line + "'";
      frames.push_back(std::move(f));
    }
    stack_ = std::move(frames);
    abandoned_ = abandoned;
    started_ = true;
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

  // Index of thread t's last transition, kNone if it has none yet.
  std::size_t last_of(std::uint32_t t) const { return t < last_clock_.size() ? last_clock_[t] : kNone; }

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
        if (u == p || contains(seen_, u)) continue;
        seen_.push_back(u);
        if (trans_[k].previous == kNone || trans_[k].previous < from) deps.push_back(k);  // u's first since
      }
    }
    // Earlier yields of other threads whose window this is p's first step of.
    for (std::size_t n = yields_.size(); n-- > 0;) {
      const std::size_t y = yields_[n];
      if (mine != kNone && y < mine) break;  // p ran after it
      const transition& t = trans_[y];
      if (t.thread == p) continue;
      if (not_since(mine, t.previous_yield)) deps.push_back(y);
    }
  }

  // Whom yield i defers to depends on its window, which begins at p's
  // previous yield y: a step of another thread u that crosses y changes it.
  // With no step of u in (y, i), u's last step before y (inside y's own
  // window) must not move after y; with exactly one, that step must not
  // move before y. Both pairs are races, seen only now that i closes the
  // window (yield_conflicts orders each yield only against the first step
  // of each thread in its window).
  void window_races(std::size_t i) {
    const transition& me = trans_[i];
    const std::uint32_t p = me.thread;
    const std::size_t y = me.previous_yield;
    if (y == kNone || trans_[y].thread != p || !trans_[y].yields) return;
    const std::size_t w = trans_[y].previous_yield;  // where y's own window began
    const std::size_t n = last_clock_.size();
    std::vector<std::size_t>& count = window_count_;
    std::vector<std::size_t>& first = window_first_;
    count.assign(n, 0);
    first.assign(n, kNone);
    for (std::size_t k = y + 1; k < i; ++k) {
      const std::uint32_t u = trans_[k].thread;
      if (u == p || u >= n) continue;
      if (count[u]++ == 0) first[u] = k;
    }
    for (std::uint32_t u = 0; u < n; ++u) {
      if (u == p) continue;
      if (count[u] == 1) {
        window_race(y, first[u]);
      } else if (count[u] == 0) {
        const std::size_t s = last_of(u);
        if (s != kNone && s < y && (w == kNone || s > w)) window_race(s, y);
      }
    }
  }
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

  // A step that races with nothing: ordered after what it depends on (a
  // sync), or a write of a thread key (a spawn, which only the child's start
  // and its joiner depend on, and they cannot come first).
  static bool invisible(const access& a) {
    return a.kind == access_kind::sync || (a.kind == access_kind::write && (a.key & kThreadKey) != 0);
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
        f.chosen = b;
        f.done.push_back(b);
        return true;
      }
      stack_.pop_back();
    }
    return false;
  }

  // Counts branching decisions and hashes their choices (split searches).
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
    return t;
  }

  bool happens_before(std::size_t a, const transition& b) const {
    const std::uint32_t t = trans_[a].thread;
    return t < b.clock.size() && b.clock[t] >= a + 1;
  }

  // Vector clock, race detection and sleep-set update for the transition that
  // just ended (the last in trans_).
  void finish_transition() {
    if (ntrans_ == 0 || finished_ == ntrans_) return;
    finished_ = ntrans_;
    place_transition(ntrans_ - 1, false);
  }

  // A thread stopped before its end (a bug ended the execution): what it
  // would still have done races with earlier steps, and their reversals lead
  // to executions this one does not stand for (another order of the locks
  // before a deadlock, a timeout before the bug). It is placed at the end
  // for its races only, then taken away again.
  void pending_races(std::uint32_t p, const access& a) {
    transition& t = new_transition(p, 0, false);
    if (a.kind == access_kind::futex_wait) {
      t.accesses.push_back({a.key, access_kind::read});
      t.accesses.push_back({kQueueKey | a.key, access_kind::write});
    } else if (a.kind == access_kind::timeout) {
      t.accesses.push_back({kTimeKey, access_kind::write});
      t.accesses.push_back({kQueueKey | a.key, access_kind::write});
    } else if (a.kind == access_kind::lock_try) {
      t.accesses.push_back({a.key, access_kind::write});
      t.accesses.push_back({kReleaseKey | a.key, access_kind::read});
    } else {
      t.accesses.push_back({a.key, a.kind});
    }
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

    // Program order.
    std::vector<std::uint32_t>& clock = me.clock;
    clock.clear();
    if (last_clock_[p] != static_cast<std::size_t>(-1)) clock = trans_[last_clock_[p]].clock;
    std::vector<std::uint32_t>& program_clock = program_clock_;
    program_clock = clock;

    // Conflicting earlier transitions (the last writer and the readers since,
    // per key; a global access conflicts with every transition).
    // `ordered` adds to them the writes a sync access comes after: they order
    // this transition but cannot be reversed with it, so they are no races.
    std::vector<std::size_t>& deps = deps_;
    std::vector<std::size_t>& ordered = ordered_;
    deps.clear();
    ordered.clear();
    for (const access& a : me.accesses) collect_conflicts(a, i, deps, ordered);
    if (!pending) yield_conflicts(i, deps);
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    for (std::size_t j : deps) join(clock, trans_[j].clock);
    for (std::size_t j : ordered) join(clock, trans_[j].clock);
    if (clock.size() <= p) clock.resize(p + 1, 0);
    clock[p] = static_cast<std::uint32_t>(i + 1);
    if (!pending) {
      for (const access& a : me.accesses) update_objects(a, i);
      me.previous = last_clock_[p];
      last_clock_[p] = i;
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
        // The sleeper's next step yields (or may), and this is this
        // thread's first step since the sleeper's previous yield.
        if ((z.next.kind == access_kind::yield || z.next.yields) &&
            not_since(me.previous, window_of(z.thread)))
          wakes = true;
        if (!wakes && z.thread != p) next_sleep.push_back(z);
      }
      sleep_.swap(next_sleep);
    }
  }

  // The earlier transitions `a` conflicts with: races go to `deps`; the
  // write a sync access comes after goes to `ordered` (it cannot be reversed
  // with it). A timeout firing before a sync access is a race like any
  // other: the sync step (a start, a woken waiter's return) could have run
  // before the timeout fired.
  void collect_conflicts(const access& a, std::size_t i, std::vector<std::size_t>& deps,
                         std::vector<std::size_t>& ordered) const {
    if (a.kind == access_kind::none) return;
    if (a.kind == access_kind::global) {
      for (std::size_t j = 0; j < i; ++j) deps.push_back(j);
      return;
    }
    if (last_global_ != static_cast<std::size_t>(-1)) deps.push_back(last_global_);
    for (const object_state& o : objects_) {
      if (o.key != a.key) continue;
      if (a.kind == access_kind::sync) {  // after the last writer only
        if (o.writer != static_cast<std::size_t>(-1)) ordered.push_back(o.writer);
        return;
      }
      if (o.writer != static_cast<std::size_t>(-1)) deps.push_back(o.writer);
      if (a.kind == access_kind::write) deps.insert(deps.end(), o.readers.begin(), o.readers.end());
      return;
    }
  }

  void update_objects(const access& a, std::size_t i) {
    if (a.kind == access_kind::none) return;
    if (a.kind == access_kind::global) {
      last_global_ = i;
      return;
    }
    object_state* o = nullptr;
    for (object_state& s : objects_)
      if (s.key == a.key) o = &s;
    if (o == nullptr) {
      objects_.push_back({a.key, static_cast<std::size_t>(-1), {}});
      o = &objects_.back();
    }
    if (a.kind == access_kind::write) {
      o->writer = i;
      o->readers.clear();
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
    frame& f = stack_[trans_[j].frame];
    // v: the transitions after j that do not happen after j, then i.
    std::vector<std::size_t>& v = v_;
    v.clear();
    for (std::size_t k = j + 1; k < i; ++k)
      if (!happens_before(j, trans_[k])) v.push_back(k);
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
        if (happens_before(v[b], trans_[v[a]])) first = false;
      if (first) initials.push_back(t);
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
    std::vector<std::size_t> readers;
  };

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
  std::vector<std::size_t> deps_, ordered_, v_;
  std::vector<sleeper> next_sleep_;
  std::vector<std::size_t> window_count_, window_first_;  // scratch for window_races
  std::size_t finished_ = 0;
  std::vector<std::size_t> last_clock_;   // per thread: index of its last transition
  // Per thread: where its fairness window starts (see yield_conflicts): its
  // last yielding transition, else the transition that spawned it (kNone
  // for the body's thread: the start of the execution).
  std::vector<std::size_t> window_;
  std::vector<std::size_t> yields_;       // the yielding transitions, in order
  std::vector<object_state> objects_;
  std::size_t last_global_ = static_cast<std::size_t>(-1);
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

std::unique_ptr<strategy> make_dpor(int preemption_bound) {
  return std::make_unique<dpor_strategy>(preemption_bound);
}

}  // namespace lockstep::mc::rt
