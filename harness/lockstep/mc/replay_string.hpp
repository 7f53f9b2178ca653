// lockstep/mc/replay_string.hpp — the compact, shell-safe encoding of a
// schedule (the thread chosen at each scheduling point that had a choice).
//
// Format "L1" + base64url(payload) + 2 check characters, where payload is a
// varint count of runs followed by (value, run length) varint pairs. The
// string needs no quoting in a shell or an environment variable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::mc {

std::string encode_schedule(const std::vector<std::uint32_t>& choices);

// Decodes `s` into `out`. On failure returns false and sets `error` to one
// line saying what is wrong.
bool decode_schedule(std::string_view s, std::vector<std::uint32_t>& out, std::string& error);

}  // namespace lockstep::mc
