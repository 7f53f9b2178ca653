// Internal: the strategy interface and the built-in strategies.
//
// The runtime never asks which strategy runs: it calls begin() before each
// execution and pick() at each scheduling point with two or more candidates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lockstep/mc/explore.hpp"

namespace lockstep::mc::rt {

class strategy {
 public:
  static constexpr std::size_t diverged = static_cast<std::size_t>(-1);

  virtual ~strategy() = default;
  // Prepares the next execution; false when there is nothing left to explore.
  virtual bool begin() = 0;
  // Picks one of `cands` (size >= 2; cands[0] is the running thread when it
  // may continue). Returns an index, or `diverged` (see error()).
  virtual std::size_t pick(std::span<const std::uint32_t> cands) = 0;
  // Called after each execution; false when it did not go as the strategy
  // required (see error()).
  virtual bool end() { return true; }
  // True if begin() returning false means every schedule was covered.
  [[nodiscard]] virtual bool exhaustive() const noexcept = 0;
  // Why pick() returned `diverged`.
  [[nodiscard]] virtual const std::string& error() const noexcept = 0;
};

std::unique_ptr<strategy> make_random(std::uint64_t seed);
std::unique_ptr<strategy> make_dfs();
std::unique_ptr<strategy> make_replay(std::vector<std::uint32_t> schedule);

// splitmix64: seeds per-execution generators from (seed, index).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t index) noexcept;

}  // namespace lockstep::mc::rt
