// The replay-string encoding round-trips and rejects damage without crashing.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/replay_string.hpp"

namespace {

namespace mc = lockstep::mc;
using lockstep::mc::decode_schedule;
using lockstep::mc::decode_schedule_runs;
using lockstep::mc::encode_schedule;
using lockstep::mc::schedule_run;

// "L1" + base64url(payload) + check characters, built here independently of
// the encoder: one run of `length` choices of `value`.
std::string one_run(std::uint32_t value, std::uint64_t length) {
  std::string p;
  auto varint = [&](std::uint64_t v) {
    for (; v >= 0x80; v >>= 7) p.push_back(static_cast<char>((v & 0x7f) | 0x80));
    p.push_back(static_cast<char>(v));
  };
  varint(1);
  varint(value);
  varint(length);
  constexpr char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "L1";
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : p) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    for (bits += 8; bits >= 6;) out.push_back(a[(acc >> (bits -= 6)) & 63]);
  }
  if (bits > 0) out.push_back(a[(acc << (6 - bits)) & 63]);
  std::uint32_t h = 2166136261u;
  for (char c : p) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  const std::uint32_t ck = (h ^ (h >> 12) ^ (h >> 24)) & 0xfff;
  out.push_back(a[ck >> 6]);
  out.push_back(a[ck & 63]);
  return out;
}

RC_GTEST_PROP(ReplayString, RoundTripsSmallThreadIds, (const std::vector<std::uint8_t>& raw)) {
  std::vector<std::uint32_t> choices;
  for (auto b : raw) choices.push_back(b % 4);  // long runs, like real schedules
  std::vector<std::uint32_t> back;
  std::string error;
  const std::string s = encode_schedule(choices);
  RC_ASSERT(decode_schedule(s, back, error));
  RC_ASSERT(back == choices);
}

RC_GTEST_PROP(ReplayString, RoundTripsAnyValues, (const std::vector<std::uint32_t>& choices)) {
  std::vector<std::uint32_t> back;
  std::string error;
  RC_ASSERT(decode_schedule(encode_schedule(choices), back, error));
  RC_ASSERT(back == choices);
}

RC_GTEST_PROP(ReplayString, IsShellSafe, (const std::vector<std::uint32_t>& choices)) {
  for (char c : encode_schedule(choices)) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    RC_ASSERT(ok);
  }
}

RC_GTEST_PROP(ReplayString, DecodingArbitraryTextNeverCrashes, (const std::string& text)) {
  std::vector<std::uint32_t> out;
  std::string error;
  const bool ok = decode_schedule(text, out, error);
  RC_ASSERT(ok || !error.empty());
  RC_ASSERT(error.find('\n') == std::string::npos);
}

RC_GTEST_PROP(ReplayString, DamagedStringsAreRejectedOrStillDecode,
              (const std::vector<std::uint32_t>& choices, std::size_t where, char with)) {
  std::string s = encode_schedule(choices);
  s[where % s.size()] = with;
  std::vector<std::uint32_t> out;
  std::string error;
  const bool ok = decode_schedule(s, out, error);
  RC_ASSERT(ok || !error.empty());
}

TEST(ReplayString, RejectsOtherVersionsAndGarbageWithAReason) {
  std::vector<std::uint32_t> out;
  std::string error;
  EXPECT_FALSE(decode_schedule("", out, error));
  EXPECT_NE(error.find("starts with"), std::string::npos) << error;
  EXPECT_FALSE(decode_schedule("L9AAAA", out, error));
  EXPECT_NE(error.find("version '9'"), std::string::npos) << error;
  EXPECT_FALSE(decode_schedule("L", out, error));
  EXPECT_NE(error.find("starts with"), std::string::npos) << error;
  // A version that is not printable is shown by its code: the message stays one line.
  EXPECT_FALSE(decode_schedule("L\n", out, error));
  EXPECT_EQ(error, "unsupported replay string version byte 0a (this lockstep reads version 1)");
  EXPECT_FALSE(decode_schedule("L1AgA!AQI7j", out, error));
  EXPECT_NE(error.find("invalid character"), std::string::npos) << error;
}

RC_GTEST_PROP(ReplayString, RunsRoundTripAndAreAsManyAsTheStringHolds, (const std::vector<std::uint8_t>& raw)) {
  std::vector<std::uint32_t> choices;
  for (auto b : raw) choices.push_back(b % 3);
  const std::string s = encode_schedule(choices);
  std::vector<schedule_run> runs;
  std::string error;
  RC_ASSERT(decode_schedule_runs(s, runs, error));
  std::vector<std::uint32_t> back;
  for (const schedule_run& r : runs) back.insert(back.end(), r.length, r.value);
  RC_ASSERT(back == choices);
  RC_ASSERT(runs.size() <= s.size());
}

// Decoding keeps memory within what the string can justify: its runs are at
// most as many as its characters, whatever it claims.
RC_GTEST_PROP(ReplayString, DecodedRunsAreBoundedByTheText, (const std::string& text)) {
  std::vector<schedule_run> runs;
  std::string error;
  if (decode_schedule_runs(text, runs, error)) {
    RC_ASSERT(runs.size() <= text.size());
  } else {
    RC_ASSERT(!error.empty());
    RC_ASSERT(error.find('\n') == std::string::npos);
  }
}

// Fourteen characters can claim 2^28 choices (1 GiB expanded): kept as one
// run, refused by the expanding decoder unless asked for that many.
TEST(ReplayString, AShortStringClaimingBillionsOfChoicesCostsNothing) {
  const std::string s = one_run(0, std::uint64_t{1} << 28);
  ASSERT_EQ(s.size(), 14u);
  std::vector<schedule_run> runs;
  std::string error;
  ASSERT_TRUE(decode_schedule_runs(s, runs, error)) << error;
  EXPECT_EQ(runs, (std::vector<schedule_run>{{0, std::uint64_t{1} << 28}}));
  std::vector<std::uint32_t> out;
  EXPECT_FALSE(decode_schedule(s, out, error));
  EXPECT_EQ(error, "replay string has 268435456 choices, more than 16777216");
  EXPECT_EQ(out.capacity(), 0u);
  EXPECT_FALSE(decode_schedule(one_run(1, 11), out, error, 10));
  EXPECT_TRUE(decode_schedule(one_run(1, 10), out, error, 10)) << error;
  EXPECT_EQ(out, std::vector<std::uint32_t>(10, 1));
}

// Replayed, the schedule is read as far as the execution goes.
TEST(ReplayString, AReplayOfAShortStringClaimingBillionsDivergesAtOnce) {
  mc::options o;
  o.strategy = mc::replay(one_run(0, std::uint64_t{1} << 28));
  o.honour_env = false;
  try {
    (void)mc::explore(o, [] {
      mc::atomic<int> x{0};
      mc::thread t([&] { x.store(1); });
      x.store(2);
      t.join();
    });
    FAIL() << "a schedule of 2^28 choices fit an execution of a few steps";
  } catch (const mc::replay_error& e) {
    EXPECT_NE(std::string(e.what()).find("of the 268435456 recorded choices"), std::string::npos) << e.what();
  }
}

TEST(ReplayString, ABadCharacterIsShownOnOneLine) {
  std::vector<std::uint32_t> out;
  std::string error;
  EXPECT_FALSE(decode_schedule("L1Ag\nAQI7j", out, error));
  EXPECT_EQ(error, "invalid character byte 0a at position 4");
}

TEST(ReplayString, EmptyScheduleRoundTrips) {
  std::vector<std::uint32_t> out{1, 2};
  std::string error;
  ASSERT_TRUE(decode_schedule(encode_schedule({}), out, error)) << error;
  EXPECT_TRUE(out.empty());
}

}  // namespace
