// Partial order sampling (Yuan, Yang, Gu, "Partial order aware concurrency
// sampling", CAV 2018).
//
// Every pending event (each thread's next step) has a random priority, and
// the enabled event with the highest one runs. When an event runs, its
// thread's next event gets a fresh priority, and so does every pending event
// that races with the one that ran (same object, one of them writes: the
// dependence dpor uses). Reassigning the racing events' priorities is what
// makes POS sample partial orders close to uniformly: a plain random walk
// over-samples the orders of long independent stretches, which PCT's fixed
// priorities share; POS's priorities change exactly where the order matters.
#include <string>
#include <vector>

#include "strategies/strategy.hpp"
#include "strategies/xoshiro.hpp"

namespace lockstep::mc::rt {

namespace {

const std::string kNoError;

class pos_strategy final : public strategy {
 public:
  explicit pos_strategy(std::uint64_t seed) : seed_(seed) {}

  bool begin() override {
    rng_.seed(mix_seed(seed_, index_++));
    prio_.clear();
    next_.clear();
    return true;
  }
  void seek(std::uint64_t index, std::uint64_t) override { index_ = index; }
  void restart() override {
    --index_;
    begin();
  }
  bool wants_accesses() const noexcept override { return true; }
  void set_next(std::span<const access> next_by_thread) override {
    next_.assign(next_by_thread.begin(), next_by_thread.end());
  }
  void on_access(std::uint32_t thread, access a) override {
    fresh(thread);  // its next event is a new one
    for (std::uint32_t u = 0; u < next_.size(); ++u)
      if (u != thread && conflict(next_[u], a)) fresh(u);
  }
  std::size_t pick(std::span<const std::uint32_t> cands, decision d) override {
    if (d == decision::value) return rng_.below(cands.size());  // not a thread choice
    std::size_t best = 0;
    for (std::size_t i = 1; i < cands.size(); ++i)
      if (priority(cands[i]) > priority(cands[best])) best = i;
    return best;
  }
  bool exhaustive() const noexcept override { return false; }
  const std::string& error() const noexcept override { return kNoError; }

 private:
  // A thread's pending event gets its priority when first seen.
  std::uint64_t priority(std::uint32_t tid) {
    if (tid >= prio_.size()) prio_.resize(tid + 1, kUnset);
    if (prio_[tid] == kUnset) fresh(tid);
    return prio_[tid];
  }
  void fresh(std::uint32_t tid) {
    if (tid >= prio_.size()) prio_.resize(tid + 1, kUnset);
    prio_[tid] = rng_.next() >> 1;  // never kUnset
  }

  static constexpr std::uint64_t kUnset = ~std::uint64_t{0};
  std::uint64_t seed_;
  std::uint64_t index_ = 0;
  std::vector<std::uint64_t> prio_;  // by thread: its pending event's priority
  std::vector<access> next_;         // by thread: its pending event (set_next)
  xoshiro rng_;
};

}  // namespace

std::unique_ptr<strategy> make_pos(std::uint64_t seed) {
  return std::make_unique<pos_strategy>(seed);
}

}  // namespace lockstep::mc::rt
