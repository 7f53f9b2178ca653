// The replay-string encoding round-trips and rejects damage without crashing.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "lockstep/mc/replay_string.hpp"

namespace {

using lockstep::mc::decode_schedule;
using lockstep::mc::encode_schedule;

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
  EXPECT_NE(error.find("version"), std::string::npos) << error;
  EXPECT_FALSE(decode_schedule("L1AgA!AQI7j", out, error));
  EXPECT_NE(error.find("invalid character"), std::string::npos) << error;
}

TEST(ReplayString, EmptyScheduleRoundTrips) {
  std::vector<std::uint32_t> out{1, 2};
  std::string error;
  ASSERT_TRUE(decode_schedule(encode_schedule({}), out, error)) << error;
  EXPECT_TRUE(out.empty());
}

}  // namespace
