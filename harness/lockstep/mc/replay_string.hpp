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

// Decodes `s` into `out`. On failure returns false and sets `error` to one
// line saying what is wrong.
bool decode_schedule(std::string_view s, std::vector<std::uint32_t>& out, std::string& error);

}  // namespace lockstep::mc
