// The built-in strategies: random, dfs, replay.
#include <string>

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
  std::size_t pick(std::span<const std::uint32_t> cands) override { return rng_.below(cands.size()); }
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
class dfs_strategy final : public strategy {
 public:
  bool begin() override {
    if (started_) {
      while (!stack_.empty() && stack_.back().chosen + 1 >= stack_.back().options) stack_.pop_back();
      if (stack_.empty()) return false;
      ++stack_.back().chosen;
    }
    started_ = true;
    depth_ = 0;
    return true;
  }
  std::size_t pick(std::span<const std::uint32_t> cands) override {
    if (depth_ < stack_.size()) {
      frame& f = stack_[depth_];
      if (f.options != cands.size()) {
        error_ = "the body is not deterministic: choice " + std::to_string(depth_) + " had " +
                 std::to_string(f.options) + " candidates in an earlier execution and " +
                 std::to_string(cands.size()) +
                 " now (does it depend on time, addresses or state kept between executions?)";
        return diverged;
      }
      ++depth_;
      return f.chosen;
    }
    stack_.push_back({0, static_cast<std::uint32_t>(cands.size())});
    ++depth_;
    return 0;
  }
  bool exhaustive() const noexcept override { return true; }
  const std::string& error() const noexcept override { return error_; }

 private:
  struct frame {
    std::uint32_t chosen;
    std::uint32_t options;
  };
  std::vector<frame> stack_;
  std::size_t depth_ = 0;
  bool started_ = false;
  std::string error_;
};

class replay_strategy final : public strategy {
 public:
  explicit replay_strategy(std::vector<std::uint32_t> s) : schedule_(std::move(s)) {}
  bool begin() override {
    if (done_) return false;
    done_ = true;
    return true;
  }
  std::size_t pick(std::span<const std::uint32_t> cands) override {
    // Past the recorded choices the execution goes on with the running thread.
    if (pos_ >= schedule_.size()) return 0;
    const std::uint32_t want = schedule_[pos_];
    for (std::size_t i = 0; i < cands.size(); ++i) {
      if (cands[i] == want) {
        ++pos_;
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
    if (pos_ >= schedule_.size()) return true;
    error_ = "replay diverged: the execution ended after " + std::to_string(pos_) + " of the " +
             std::to_string(schedule_.size()) +
             " recorded choices; the code changed since the schedule was recorded";
    return false;
  }
  bool exhaustive() const noexcept override { return false; }
  const std::string& error() const noexcept override { return error_; }

 private:
  std::vector<std::uint32_t> schedule_;
  std::size_t pos_ = 0;
  bool done_ = false;
  std::string error_;
};

}  // namespace

std::unique_ptr<strategy> make_random(std::uint64_t seed) {
  return std::make_unique<random_strategy>(seed);
}
std::unique_ptr<strategy> make_dfs() { return std::make_unique<dfs_strategy>(); }
std::unique_ptr<strategy> make_replay(std::vector<std::uint32_t> schedule) {
  return std::make_unique<replay_strategy>(std::move(schedule));
}

}  // namespace lockstep::mc::rt
