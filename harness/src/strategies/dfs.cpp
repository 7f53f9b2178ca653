// Depth-first search over the choices, with a preemption bound or a delay
// bound, and iterative bounding (bound 0, 1, 2, ...) over any bounded
// strategy.
#include <algorithm>
#include <string>
#include <vector>

#include "strategies/strategy.hpp"

namespace lockstep::mc::rt {

namespace {

// Depth-first search over the tree of choices. Each execution replays the
// prefix of the previous one up to its deepest choice with an untried
// alternative, then takes that alternative and continues with first choices.
//
// What a bound limits:
//  - preemptions: a choice that would exceed the bound offers only the
//    running thread (and the search remembers that it cut something);
//  - delays (delay bounding; Emmi, Qadeer, Rakamaric, POPL 2011): the
//    candidates are ordered as a deterministic round-robin scheduler would
//    run them — the running thread while it can go on, then the others in
//    cyclic order of thread id after the one that ran at the last decision
//    (which goes last when it yields) — and taking the k-th of that order
//    costs k delays. A bound of 0 is the round-robin schedule alone.
// Value choices (choose(n)) are never limited.
class dfs_strategy final : public strategy {
 public:
  enum class bounding : std::uint8_t { preemptions, delays };
  explicit dfs_strategy(int bound, bounding what = bounding::preemptions) : bound_(bound), what_(what) {}

  void own(const split_spec& split) override {
    split_.assign(split);
  }
  bool foreign() const noexcept override { return split_.foreign(); }
  const split_owner* split() const noexcept override { return split_.on() ? &split_ : nullptr; }

  bool begin() override {
    preemptions_ = 0;
    delays_ = 0;
    last_ = 0;
    split_.begin();
    if (started_) {
      while (!stack_.empty() && stack_.back().chosen + 1 >= stack_.back().options) stack_.pop_back();
      if (stack_.empty()) return false;
      ++stack_.back().chosen;
    }
    started_ = true;
    depth_ = 0;
    return true;
  }
  void restart() override {
    preemptions_ = 0;
    delays_ = 0;
    last_ = 0;
    split_.begin();
    depth_ = 0;
  }
  std::size_t pick(std::span<const std::uint32_t> cands, decision d) override {
    if (what_ == bounding::delays && d != decision::value) return pick_delayed(cands, d);
    return pick_count(cands.size(), d);
  }
  // Delay bounding orders the candidates by thread id: it needs them.
  bool picks_by_count() const noexcept override { return what_ == bounding::preemptions; }
  std::size_t pick_count(std::size_t n, decision d) override {
    if (split_.leaves()) return 0;  // the rest of this subtree is another worker's
    const bool preemptible = d == decision::preemptible;
    std::size_t options = n;
    if (preemptible && bound_ >= 0 && preemptions_ >= bound_) {
      options = 1;
      limited_ = true;
    }
    const std::size_t idx = pick_among(options);
    if (idx != diverged && preemptible && idx != 0) ++preemptions_;
    if (idx != diverged) split_.note(idx);
    return idx;
  }
  bool end() override {
    // An execution that never made a choice past the split depth belongs to
    // whoever owns its whole choice sequence.
    split_.leaves_at_end();
    return true;
  }
  bool exhaustive() const noexcept override { return true; }
  bool bound_limited() const noexcept override { return limited_; }
  int preemption_bound() const noexcept override { return bound_; }
  // The subtrees left of the current path, each weighted by its share of the
  // tree as if every choice split it evenly.
  double progress() const noexcept override {
    double done = 0, weight = 1;
    for (const frame& f : stack_) {
      weight /= f.options;
      done += weight * f.chosen;
    }
    return done;
  }
  const std::string& error() const noexcept override { return error_; }

 private:
  // A thread decision under delay bounding (see the class comment).
  std::size_t pick_delayed(std::span<const std::uint32_t> cands, decision d) {
    if (split_.leaves()) return 0;
    const bool preemptible = d == decision::preemptible;
    if (preemptible) last_ = cands[0];  // the running thread
    order_.resize(cands.size());
    for (std::size_t i = 0; i < cands.size(); ++i) order_[i] = i;
    // Cyclic distance after last_: unsigned arithmetic wraps it.
    const std::uint32_t from = last_ + 1;
    std::sort(order_.begin() + (preemptible ? 1 : 0), order_.end(),
              [&](std::size_t a, std::size_t b) { return cands[a] - from < cands[b] - from; });
    std::size_t options = cands.size();
    if (bound_ >= 0 && options > static_cast<std::size_t>(bound_ - delays_) + 1) {
      options = static_cast<std::size_t>(bound_ - delays_) + 1;
      limited_ = true;
    }
    const std::size_t k = pick_among(options);
    if (k == diverged) return diverged;
    delays_ += static_cast<int>(k);
    split_.note(k);
    last_ = cands[order_[k]];
    return order_[k];
  }

  std::size_t pick_among(std::size_t n_options) {
    if (depth_ < stack_.size()) {
      frame& f = stack_[depth_];
      if (f.options != n_options) {
        error_ = "the body is not deterministic: choice " + std::to_string(depth_) + " had " +
                 std::to_string(f.options) + " candidates in an earlier execution and " +
                 std::to_string(n_options) +
                 " now (does it depend on time, addresses or state kept between executions?)";
        return diverged;
      }
      ++depth_;
      return f.chosen;
    }
    stack_.push_back({0, static_cast<std::uint32_t>(n_options)});
    ++depth_;
    return 0;
  }

  struct frame {
    std::uint32_t chosen;
    std::uint32_t options;
  };
  std::vector<frame> stack_;
  std::size_t depth_ = 0;
  bool started_ = false;
  std::string error_;
  // One line per frame: "chosen options".
  std::string save() const override {
    std::string out;
    for (const frame& f : stack_) out += std::to_string(f.chosen) + " " + std::to_string(f.options) + "\n";
    return out;
  }
  std::string load(const std::string& text) override {
    std::istringstream in(text);
    std::vector<frame> frames;
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream l(line);
      frame f{};
      if (!(l >> f.chosen >> f.options) || f.options < 1 || f.chosen >= f.options)
        return "bad dfs frame '" + line + "'";
      frames.push_back(f);
    }
    stack_ = std::move(frames);
    started_ = true;
    return {};
  }


  int bound_;
  bounding what_;
  int preemptions_ = 0;
  int delays_ = 0;             // delay bounding: delays taken in this execution
  std::uint32_t last_ = 0;     // delay bounding: the thread that ran at the last decision
  std::vector<std::size_t> order_;  // delay bounding: candidates in round-robin order
  bool limited_ = false;
  split_owner split_;
};

// Iterative bounding (Musuvathi & Qadeer, PLDI 2007, for preemptions): the
// schedules within bound 0, then within 1, ...; a bound is raised only while
// the previous search was cut by it. Schedules within a smaller bound are
// explored again at the next one (the price of finding the bug with the
// smallest bound first).
class iterative_bounding final : public strategy {
 public:
  iterative_bounding(std::unique_ptr<strategy> (*make)(int), int max_bound)
      : make_(make), max_(max_bound), cur_(make(0)) {}
  bool begin() override {
    while (!cur_->begin()) {
      if (!cur_->bound_limited() || cur_->preemption_bound() == max_) return false;
      abandoned_ += cur_->abandoned();
      cur_ = make_(cur_->preemption_bound() + 1);
    }
    return true;
  }
  std::size_t pick(std::span<const std::uint32_t> cands, decision d) override { return cur_->pick(cands, d); }
  // Every bound's search is built by the same `make_`: they pick alike.
  bool picks_by_count() const noexcept override { return cur_->picks_by_count(); }
  std::size_t pick_count(std::size_t n, decision d) override { return cur_->pick_count(n, d); }
  bool end() override { return cur_->end(); }
  void restart() override { cur_->restart(); }
  bool wants_accesses() const noexcept override { return cur_->wants_accesses(); }
  void set_next(std::span<const access> next) override { cur_->set_next(next); }
  void on_access(std::uint32_t thread, access a) override { cur_->on_access(thread, a); }
  void on_disabled(std::uint32_t thread) override { cur_->on_disabled(thread); }
  void on_parked(std::uint32_t thread, access a, bool arrived) override { cur_->on_parked(thread, a, arrived); }
  void set_pending(std::span<const access> next) override { cur_->set_pending(next); }
  void on_read_only() override { cur_->on_read_only(); }
  std::uint64_t abandoned() const noexcept override { return abandoned_ + cur_->abandoned(); }
  bool blocked() const noexcept override { return cur_->blocked(); }
  bool exhaustive() const noexcept override { return true; }
  bool bound_limited() const noexcept override { return cur_->bound_limited(); }
  int preemption_bound() const noexcept override { return cur_->preemption_bound(); }
  const std::string& error() const noexcept override { return cur_->error(); }

 private:
  std::unique_ptr<strategy> (*make_)(int);
  int max_;
  std::unique_ptr<strategy> cur_;
  std::uint64_t abandoned_ = 0;
};

}  // namespace

std::unique_ptr<strategy> make_dfs(int preemption_bound) {
  return std::make_unique<dfs_strategy>(preemption_bound);
}
std::unique_ptr<strategy> make_iterative(std::unique_ptr<strategy> (*make)(int), int max_bound) {
  return std::make_unique<iterative_bounding>(make, max_bound);
}
std::unique_ptr<strategy> make_iterative_dfs(int max_bound) {
  return make_iterative([](int b) { return make_dfs(b); }, max_bound);
}
std::unique_ptr<strategy> make_delay_bounding(int max_delays) {
  return make_iterative([](int b) -> std::unique_ptr<strategy> {
    return std::make_unique<dfs_strategy>(b, dfs_strategy::bounding::delays);
  }, max_delays);
}

}  // namespace lockstep::mc::rt
