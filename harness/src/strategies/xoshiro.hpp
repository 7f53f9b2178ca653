// Internal: the pseudo-random numbers of the sampling strategies.
#pragma once

#include <cstddef>
#include <cstdint>

#include "strategies/strategy.hpp"

namespace lockstep::mc::rt {

// xoshiro256** (Blackman & Vigna): small, fast, good enough for schedules.
class xoshiro {
 public:
  void seed(std::uint64_t s) noexcept {
    for (int i = 0; i < 4; ++i) s_[i] = mix_seed(s, static_cast<std::uint64_t>(i));
    bits_ = 1;
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
  // Uniform in [0, n) as below(), but a choice of two takes one bit of a
  // word drawn for 63 of them (most of a sampler's choices are of two).
  std::size_t pick(std::size_t n) noexcept {
    if (n != 2) return below(n);
    if (bits_ == 1) bits_ = (next() >> 1) | (std::uint64_t{1} << 63);  // the top bit marks the end
    const std::size_t b = bits_ & 1;
    bits_ >>= 1;
    return b;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
  std::uint64_t bits_ = 1;  // pick()'s unused bits above a marker bit; 1: none
};

}  // namespace lockstep::mc::rt
