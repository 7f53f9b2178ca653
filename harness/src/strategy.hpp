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

// What a decision is about.
enum class decision : std::uint8_t {
  preemptible,  // cands[0] is the running thread, which could continue:
                // picking another one is a preemption
  free,         // a forced switch (the running thread blocked or ended) or a
                // yield: any candidate, no preemption
  value,        // a value choice (choose(n)): cands are 0..n-1
};

class strategy {
 public:
  static constexpr std::size_t diverged = static_cast<std::size_t>(-1);

  virtual ~strategy() = default;
  // Prepares the next execution; false when there is nothing left to explore.
  virtual bool begin() = 0;
  // Picks one of `cands` (size >= 2). Returns an index, or `diverged` (see
  // error()).
  virtual std::size_t pick(std::span<const std::uint32_t> cands, decision d) = 0;
  // Called after each execution; false when it did not go as the strategy
  // required (see error()).
  virtual bool end() { return true; }
  // True if begin() returning false means every schedule was covered.
  [[nodiscard]] virtual bool exhaustive() const noexcept = 0;
  // True if a preemption bound cut off some schedule (then begin() returning
  // false means "every schedule within the bound").
  [[nodiscard]] virtual bool bound_limited() const noexcept { return false; }
  // The preemption bound in force (-1: none).
  [[nodiscard]] virtual int preemption_bound() const noexcept { return -1; }
  // Why pick() returned `diverged`.
  [[nodiscard]] virtual const std::string& error() const noexcept = 0;
};

std::unique_ptr<strategy> make_random(std::uint64_t seed);
// preemption_bound < 0: unbounded.
std::unique_ptr<strategy> make_dfs(int preemption_bound = -1);
std::unique_ptr<strategy> make_pct(std::uint64_t seed, unsigned depth);
// Iterative context bounding: dfs with bound 0, then 1, ... up to max_bound
// (-1: until a search is not cut by its bound).
std::unique_ptr<strategy> make_iterative_dfs(int max_bound);
std::unique_ptr<strategy> make_replay(std::vector<std::uint32_t> schedule);

// splitmix64: seeds per-execution generators from (seed, index).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t index) noexcept;

}  // namespace lockstep::mc::rt
