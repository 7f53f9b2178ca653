// Replay of a recorded schedule, strictly or leniently.
#include <algorithm>
#include <string>
#include <vector>

#include "strategies/strategy.hpp"

namespace lockstep::mc::rt {

namespace {

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
    run_ = 0;
    offset_ = 0;
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

std::unique_ptr<strategy> make_replay(std::vector<schedule_run> schedule, bool lenient) {
  return std::make_unique<replay_strategy>(std::move(schedule), lenient);
}

}  // namespace lockstep::mc::rt
