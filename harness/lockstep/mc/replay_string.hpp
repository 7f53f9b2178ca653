// lockstep/mc/replay_string.hpp — the compact, shell-safe encoding of a
// schedule (the thread chosen at each scheduling point that had a choice).
//
// Format "L1" + base64url(payload) + 2 check characters, where payload is a
// varint count of runs followed by (value, run length) varint pairs. The
// string needs no quoting in a shell or an environment variable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::mc {

std::string encode_schedule(const std::vector<std::uint32_t>& choices);
// The same string written to out[0, cap) without allocating (a signal
// handler uses it): returns its length, or 0 if it needs more than `cap`
// bytes. encoded_schedule_bound(n) bytes always suffice for n choices.
std::size_t encode_schedule_to(const std::uint32_t* choices, std::size_t n, char* out,
                               std::size_t cap) noexcept;
std::size_t encoded_schedule_bound(std::size_t n) noexcept;

// A run of equal choices: `length` times `value`.
struct schedule_run {
  std::uint32_t value = 0;
  std::uint64_t length = 0;
  friend bool operator==(const schedule_run&, const schedule_run&) = default;
};

// Decodes `s` into its runs, as the string encodes them: the memory taken
// is bounded by the length of `s`, however many choices it claims. On
// failure returns false and sets `error` to one line saying what is wrong.
bool decode_schedule_runs(std::string_view s, std::vector<schedule_run>& out, std::string& error);

// Decodes `s` into one choice per element, refusing (before allocating) a
// string of more than `max_choices` choices: a string of a dozen characters
// can claim billions.
bool decode_schedule(std::string_view s, std::vector<std::uint32_t>& out, std::string& error,
                     std::uint64_t max_choices = std::uint64_t{1} << 24);

}  // namespace lockstep::mc
