// The built-in strategies: random, dfs, replay.
#include <algorithm>
#include <string>
#include <vector>

#include "strategy.hpp"

namespace lockstep::mc::rt {

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t index) noexcept {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (index + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace {

const std::string kNoError;

// xoshiro256** (Blackman & Vigna): small, fast, good enough for schedules.
class xoshiro {
 public:
  void seed(std::uint64_t s) noexcept {
    for (int i = 0; i < 4; ++i) s_[i] = mix_seed(s, static_cast<std::uint64_t>(i));
  }
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 n).
  std::size_t below(std::size_t n) noexcept {
    return static_cast<std::size_t>(((next() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

class random_strategy final : public strategy {
 public:
  explicit random_strategy(std::uint64_t seed) : seed_(seed) {}
  bool begin() override {
    rng_.seed(mix_seed(seed_, index_++));
    return true;
  }
  void seek(std::uint64_t index, std::uint64_t) override { index_ = index; }
  void restart() override { rng_.seed(mix_seed(seed_, index_ - 1)); }
  std::size_t pick(std::span<const std::uint32_t> cands, decision d) override {
    return pick_count(cands.size(), d);
  }
  bool picks_by_count() const noexcept override { return true; }
  std::size_t pick_count(std::size_t n, decision) override { return rng_.below(n); }
  bool exhaustive() const noexcept override { return false; }
  const std::string& error() const noexcept override { return kNoError; }

 private:
  std::uint64_t seed_;
  std::uint64_t index_ = 0;
  xoshiro rng_;
};

// Depth-first search over the tree of choices. Each execution replays the
// prefix of the previous one up to its deepest choice with an untried
// alternative, then takes that alternative and continues with first choices.
// With a preemption bound, a choice that would exceed it offers only the
// running thread (and the search remembers that it cut something).
class dfs_strategy final : public strategy {
 public:
  explicit dfs_strategy(int bound) : bound_(bound) {}

  void own(const split_spec& split) override {
    split_.assign(split);
  }
  bool foreign() const noexcept override { return split_.foreign(); }

  bool begin() override {
    preemptions_ = 0;
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
    split_.begin();
    depth_ = 0;
  }
  std::size_t pick(std::span<const std::uint32_t> cands, decision d) override {
    return pick_count(cands.size(), d);
  }
  bool picks_by_count() const noexcept override { return true; }
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
  int preemptions_ = 0;
  bool limited_ = false;
  split_owner split_;
};

// PCT (Burckhardt et al., ASPLOS 2010): threads get distinct random
// priorities d..d+n-1 (a thread seen later gets a random rank among them);
// d-1 change points are drawn uniformly in 1..k, k being the most decisions
// seen in one execution so far. The highest-priority candidate always runs;
// at the i-th change point the thread about to run drops to priority i,
// below every initial one. A bug of depth d shows up with probability at
// least 1/(n k^(d-1)) per execution.
class pct_strategy final : public strategy {
 public:
  pct_strategy(std::uint64_t seed, unsigned depth) : seed_(seed), depth_(depth == 0 ? 1 : depth) {}

  bool begin() override {
    rng_.seed(mix_seed(seed_, index_++));
    if (!seeked_) k_ = std::max(k_, step_);
    step_ = 0;
    prio_.clear();
    change_.clear();
    for (unsigned i = 1; i < depth_; ++i) change_.push_back(1 + rng_.below(k_));
    return true;
  }

  std::size_t pick(std::span<const std::uint32_t> cands, decision d) override {
    if (d == decision::value) return rng_.below(cands.size());  // not a thread choice
    ++step_;
    std::size_t best = 0;
    for (std::size_t i = 0; i < cands.size(); ++i)
      if (priority(cands[i]) > priority(cands[best])) best = i;
    // Change points: the thread about to run drops below every initial priority.
    for (std::size_t i = 0; i < change_.size(); ++i) {
      if (change_[i] == step_) {
        prio_[cands[best]] = static_cast<double>(i + 1) / static_cast<double>(depth_);
        best = 0;
        for (std::size_t j = 0; j < cands.size(); ++j)
          if (priority(cands[j]) > priority(cands[best])) best = j;
      }
    }
    return best;
  }
  void seek(std::uint64_t index, std::uint64_t k) override {
    index_ = index;
    k_ = std::max<std::uint64_t>(k, 1);
    seeked_ = true;
  }
  void restart() override {
    --index_;
    step_ = 0;  // k stays what the run being repeated had
    begin();
  }
  std::uint64_t decisions() const noexcept override { return step_; }
  bool exhaustive() const noexcept override { return false; }
  const std::string& error() const noexcept override { return kNoError; }

 private:
  double priority(std::uint32_t tid) {
    if (tid >= prio_.size()) prio_.resize(tid + 1, -1.0);
    // A thread seen for the first time gets a random rank among the initial
    // priorities (all above the change-point ones, which are below 1).
    if (prio_[tid] < 0) prio_[tid] = 1.0 + static_cast<double>(rng_.next() >> 11) * 0x1.0p-53;
    return prio_[tid];
  }

  std::uint64_t seed_;
  unsigned depth_;
  std::uint64_t index_ = 0;
  std::uint64_t k_ = 1;     // estimated decisions per execution
  std::uint64_t step_ = 0;  // decisions so far in this execution
  bool seeked_ = false;     // k comes from seek()
  std::vector<double> prio_;
  std::vector<std::uint64_t> change_;
  xoshiro rng_;
};

// Iterative context bounding (Musuvathi & Qadeer, PLDI 2007): the schedules
// with at most 0 preemptions, then at most 1, ...; a bound is raised only
// while the previous search was cut by it. Schedules within a smaller bound
// are explored again at the next one (the price of finding the bug with the
// fewest preemptions first).
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
  void set_pending(std::span<const access> next) override { cur_->set_pending(next); }
  void on_read_only() override { cur_->on_read_only(); }
  std::uint64_t abandoned() const noexcept override { return abandoned_ + cur_->abandoned(); }
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

// The schedule is kept as the replay string encodes it, runs of equal
// choices, so its memory is bounded by the string's length however many
// choices a short string claims.
class replay_strategy final : public strategy {
 public:
  replay_strategy(std::vector<schedule_run> s, bool lenient) : runs_(std::move(s)), lenient_(lenient) {
    for (const schedule_run& r : runs_) size_ += r.length;
  }
  bool begin() override {
    if (done_) return false;
    done_ = true;
    return true;
  }
  void restart() override {
    pos_ = 0;
    error_.clear();
  }
  std::size_t pick(std::span<const std::uint32_t> cands, decision d) override {
    // Past the recorded choices the execution goes on with the running thread.
    if (pos_ >= size_) return 0;
    const std::uint32_t want = runs_[run_].value;
    if (lenient_) {
      // The recorded choice if it can be taken; else a value clamped into
      // range, or the running (lowest enabled) thread.
      advance();
      for (std::size_t i = 0; i < cands.size(); ++i)
        if (cands[i] == want) return i;
      return d == decision::value && want < 0xffffffffu ? cands.size() - 1 : 0;
    }
    for (std::size_t i = 0; i < cands.size(); ++i) {
      if (cands[i] == want) {
        advance();
        return i;
      }
    }
    error_ = "replay diverged at choice " + std::to_string(pos_) + ": the schedule names thread " +
             std::to_string(want) + ", which cannot run there (candidates:";
    for (auto c : cands) error_.append(" ").append(std::to_string(c));
    error_ += "); the code changed since the schedule was recorded";
    return diverged;
  }
  bool end() override {
    if (pos_ >= size_ || lenient_) return true;
    error_ = "replay diverged: the execution ended after " + std::to_string(pos_) + " of the " +
             std::to_string(size_) + " recorded choices; the code changed since the schedule was recorded";
    return false;
  }
  bool exhaustive() const noexcept override { return false; }
  const std::string& error() const noexcept override { return error_; }

 private:
  void advance() {
    ++pos_;
    if (++offset_ == runs_[run_].length) {
      ++run_;
      offset_ = 0;
    }
  }

  std::vector<schedule_run> runs_;
  bool lenient_ = false;
  std::uint64_t size_ = 0;    // choices in all runs
  std::uint64_t pos_ = 0;     // choices taken
  std::size_t run_ = 0;       // the run of the next choice
  std::uint64_t offset_ = 0;  // ... and its place in it
  bool done_ = false;
  std::string error_;
};

}  // namespace

std::unique_ptr<strategy> make_random(std::uint64_t seed) {
  return std::make_unique<random_strategy>(seed);
}
std::unique_ptr<strategy> make_dfs(int preemption_bound) {
  return std::make_unique<dfs_strategy>(preemption_bound);
}
std::unique_ptr<strategy> make_iterative(std::unique_ptr<strategy> (*make)(int), int max_bound) {
  return std::make_unique<iterative_bounding>(make, max_bound);
}
std::unique_ptr<strategy> make_iterative_dfs(int max_bound) {
  return make_iterative([](int b) { return make_dfs(b); }, max_bound);
}
std::unique_ptr<strategy> make_pct(std::uint64_t seed, unsigned depth) {
  return std::make_unique<pct_strategy>(seed, depth);
}
std::unique_ptr<strategy> make_replay(std::vector<schedule_run> schedule, bool lenient) {
  return std::make_unique<replay_strategy>(std::move(schedule), lenient);
}

}  // namespace lockstep::mc::rt
