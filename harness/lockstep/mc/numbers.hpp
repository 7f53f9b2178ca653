// lockstep/mc/numbers.hpp — how lockstep reads numbers and durations: one
// parser for its command line, its environment variables (LOCKSTEP_SEED,
// GTEST_SHARD_INDEX, ...) and its files, so that they never disagree.
//
// A number is decimal digits only: no sign, no spaces, no 0x or leading-zero
// octal. A value that does not fit is refused, never wrapped: "-1" is not
// 18446744073709551615. A duration is a number with a unit, ms, s or m
// ("500ms", "30s", "2m"), of at most 100 years, so that a deadline computed
// from it cannot overflow the clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lockstep::mc {

// The longest duration parse_duration accepts.
inline constexpr std::chrono::milliseconds max_duration = std::chrono::hours(24 * 365 * 100);

// The value of `s`, at most `max`; or nullopt, with `why` (when given) set
// to what is wrong: "not a whole number" or "larger than MAX".
std::optional<std::uint64_t> parse_number(std::string_view s, std::string* why = nullptr,
                                          std::uint64_t max = UINT64_MAX);

// The value of `s` ("500ms", "30s", "2m"); or nullopt, with `why` (when
// given) set to what is wrong.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s, std::string* why = nullptr);

}  // namespace lockstep::mc
