// Replay strings: "L1" + base64url(payload) + 2 check characters.
// payload = varint(number of runs), then per run varint(value), varint(length).
#include "lockstep/mc/replay_string.hpp"

#include <cstddef>
#include <cstdio>

namespace lockstep::mc {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kPrefix = "L1";
// A replay string may claim at most this many choices. decode_schedule_runs
// keeps them as runs, so the bound is one of sense (no execution makes more
// decisions), not of memory.
constexpr std::uint64_t kMaxChoices = std::uint64_t{1} << 40;

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

bool get_varint(const std::string& in, std::size_t& pos, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) return false;
    const auto b = static_cast<unsigned char>(in[pos++]);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

std::uint32_t check12(const std::string& bytes) {
  std::uint32_t h = 2166136261u;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return (h ^ (h >> 12) ^ (h >> 24)) & 0xfff;
}

}  // namespace

namespace {

// The encoder streams: payload bytes go through the checksum and the base64
// packer as they are made, so it needs no buffer of its own (it also runs in
// a signal handler; see encode_schedule_to).
template <class Put>
class encoder {
 public:
  explicit encoder(Put put) : put_(put) {}
  void byte(unsigned char b) {
    h_ = (h_ ^ b) * 16777619u;
    acc_ = (acc_ << 8) | b;
    bits_ += 8;
    while (bits_ >= 6) {
      bits_ -= 6;
      put_(kAlphabet[(acc_ >> bits_) & 63]);
    }
  }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      byte(static_cast<unsigned char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    byte(static_cast<unsigned char>(v));
  }
  void finish() {
    if (bits_ > 0) put_(kAlphabet[(acc_ << (6 - bits_)) & 63]);
    const std::uint32_t ck = (h_ ^ (h_ >> 12) ^ (h_ >> 24)) & 0xfff;  // check12 of the payload
    put_(kAlphabet[ck >> 6]);
    put_(kAlphabet[ck & 63]);
  }

 private:
  Put put_;
  std::uint32_t h_ = 2166136261u;
  std::uint32_t acc_ = 0;
  int bits_ = 0;
};

template <class Put>
void encode(const std::uint32_t* choices, std::size_t n, Put put) {
  for (char c : kPrefix) put(c);
  encoder<Put> e(put);
  std::size_t runs = 0;
  for (std::size_t i = 0; i < n; ++runs) {
    std::size_t j = i;
    while (j < n && choices[j] == choices[i]) ++j;
    i = j;
  }
  e.varint(runs);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && choices[j] == choices[i]) ++j;
    e.varint(choices[i]);
    e.varint(j - i);
    i = j;
  }
  e.finish();
}

// A character of the text as an error message may show it: printable ones
// quoted, any other (a newline, a control or high byte) as its hex code, so the
// message stays one line.
std::string shown_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  char shown[12];
  std::snprintf(shown, sizeof shown, c >= 0x20 && c < 0x7f ? "'%c'" : "byte %02x", c);
  return shown;
}

}  // namespace

std::string encode_schedule(const std::vector<std::uint32_t>& choices) {
  std::string out;
  encode(choices.data(), choices.size(), [&](char c) { out.push_back(c); });
  return out;
}

std::size_t encoded_schedule_bound(std::size_t n) noexcept {
  // Prefix, check characters; each run is two varints of at most 5 and 10 bytes.
  return 2 + 2 + ((10 + 15 * n) * 4 + 2) / 3 + 1;
}

std::size_t encode_schedule_to(const std::uint32_t* choices, std::size_t n, char* out,
                               std::size_t cap) noexcept {
  std::size_t len = 0;
  encode(choices, n, [&](char c) {
    if (len < cap) out[len] = c;
    ++len;
  });
  return len <= cap ? len : 0;
}

bool decode_schedule_runs(std::string_view s, std::vector<schedule_run>& out, std::string& error) {
  out.clear();
  if (s.size() < 2 || s[0] != 'L') {
    error = "a replay string starts with 'L' followed by a format version";
    return false;
  }
  if (s.substr(0, kPrefix.size()) != kPrefix) {
    error = "unsupported replay string version " + shown_char(s[1]) +
            " (this lockstep reads version 1)";
    return false;
  }
  s.remove_prefix(kPrefix.size());
  if (s.size() < 3) {
    error = "replay string is truncated";
    return false;
  }
  const std::string_view body = s.substr(0, s.size() - 2);
  std::string payload;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (sextet(s[i]) < 0) {
      error = "invalid character " + shown_char(s[i]) + " at position " + std::to_string(i + kPrefix.size());
      return false;
    }
  }
  for (char c : body) {
    acc = (acc << 6) | static_cast<std::uint32_t>(sextet(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      payload.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0) {
    error = "replay string has a bad length or padding (truncated or mistyped?)";
    return false;
  }
  const std::uint32_t want =
      static_cast<std::uint32_t>(sextet(s[s.size() - 2]) << 6 | sextet(s[s.size() - 1]));
  if (check12(payload) != want) {
    error = "replay string check characters do not match (truncated or mistyped?)";
    return false;
  }
  std::size_t pos = 0;
  std::uint64_t runs = 0;
  if (!get_varint(payload, pos, runs)) {
    error = "replay string is truncated (no run count)";
    return false;
  }
  // Each run takes at least two bytes of the payload: a larger count is not
  // believed (and reserves nothing).
  if (runs > payload.size() / 2) {
    error = "replay string is truncated (it claims " + std::to_string(runs) + " runs)";
    return false;
  }
  out.reserve(static_cast<std::size_t>(runs));
  std::uint64_t total = 0;
  for (std::uint64_t r = 0; r < runs; ++r) {
    std::uint64_t value = 0, len = 0;
    if (!get_varint(payload, pos, value) || !get_varint(payload, pos, len)) {
      error = "replay string is truncated at run " + std::to_string(r);
      return false;
    }
    if (value > 0xffffffffu || len == 0 || len > kMaxChoices || (total += len) > kMaxChoices) {
      error = "replay string has an impossible run at " + std::to_string(r);
      return false;
    }
    out.push_back({static_cast<std::uint32_t>(value), len});
  }
  if (pos != payload.size()) {
    error = "replay string has trailing data";
    return false;
  }
  return true;
}

bool decode_schedule(std::string_view s, std::vector<std::uint32_t>& out, std::string& error,
                     std::uint64_t max_choices) {
  out.clear();
  std::vector<schedule_run> runs;
  if (!decode_schedule_runs(s, runs, error)) return false;
  std::uint64_t total = 0;
  for (const schedule_run& r : runs) total += r.length;
  if (total > max_choices) {
    error = "replay string has " + std::to_string(total) + " choices, more than " + std::to_string(max_choices);
    return false;
  }
  out.reserve(static_cast<std::size_t>(total));
  for (const schedule_run& r : runs) out.insert(out.end(), static_cast<std::size_t>(r.length), r.value);
  return true;
}

}  // namespace lockstep::mc
