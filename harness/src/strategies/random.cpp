// Random sampling: a uniform choice at every point, seeded per execution.
#include <algorithm>
#include <string>
#include <vector>

#include "strategies/strategy.hpp"
#include "strategies/xoshiro.hpp"

namespace lockstep::mc::rt {

namespace {

const std::string kNoError;

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
  std::size_t pick_count(std::size_t n, decision) override { return rng_.pick(n); }
  xoshiro* uniform_picks() noexcept override { return &rng_; }
  bool exhaustive() const noexcept override { return false; }
  const std::string& error() const noexcept override { return kNoError; }

 private:
  std::uint64_t seed_;
  std::uint64_t index_ = 0;
  xoshiro rng_;
};

}  // namespace

std::unique_ptr<strategy> make_random(std::uint64_t seed) {
  return std::make_unique<random_strategy>(seed);
}

}  // namespace lockstep::mc::rt
