// PCT (Burckhardt et al., ASPLOS 2010): random priorities and d-1 priority change points.
#include <algorithm>
#include <string>
#include <vector>

#include "strategies/strategy.hpp"
#include "strategies/xoshiro.hpp"

namespace lockstep::mc::rt {

namespace {

const std::string kNoError;

// Threads get distinct random priorities (a thread seen later gets a random
// rank among them); d-1 change points are drawn uniformly in 1..k, k being
// the most decisions seen in one execution so far. The highest-priority
// candidate always runs; at the i-th change point the thread about to run
// drops to priority i, below every initial one. A bug of depth d shows up
// with probability at least 1/(n k^(d-1)) per execution.
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

}  // namespace

std::unique_ptr<strategy> make_pct(std::uint64_t seed, unsigned depth) {
  return std::make_unique<pct_strategy>(seed, depth);
}

}  // namespace lockstep::mc::rt
