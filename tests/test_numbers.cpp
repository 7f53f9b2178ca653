// Numbers and durations: one parser for the command line, the environment
// and the files, which refuses what does not fit instead of wrapping it.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/numbers.hpp"

namespace {

namespace mc = lockstep::mc;
using mc::parse_duration;
using mc::parse_number;
using namespace std::chrono_literals;

RC_GTEST_PROP(Numbers, EveryValueReadsBack, (std::uint64_t x)) {
  RC_ASSERT(parse_number(std::to_string(x)) == std::optional<std::uint64_t>(x));
}

RC_GTEST_PROP(Numbers, ASignIsNeverAccepted, (std::uint64_t x)) {
  RC_ASSERT(!parse_number("-" + std::to_string(x)));
  RC_ASSERT(!parse_number("+" + std::to_string(x)));
}

RC_GTEST_PROP(Numbers, AValueAboveTheBoundIsRefusedNotWrapped, (std::uint64_t x, std::uint64_t max)) {
  std::string why;
  const auto v = parse_number(std::to_string(x), &why, max);
  if (x <= max) {
    RC_ASSERT(v == std::optional<std::uint64_t>(x));
  } else {
    RC_ASSERT(!v);
    RC_ASSERT(why == "larger than " + std::to_string(max));
  }
}

TEST(Numbers, TheLargestValueIsAcceptedAndOneMoreIsNot) {
  EXPECT_EQ(parse_number("18446744073709551615"), std::optional<std::uint64_t>(UINT64_MAX));
  std::string why;
  EXPECT_FALSE(parse_number("18446744073709551616", &why));
  EXPECT_EQ(why, "larger than 18446744073709551615");
  EXPECT_FALSE(parse_number("184467440737095516150"));
  EXPECT_FALSE(parse_number("99999999999999999999999999"));
}

TEST(Numbers, OnlyDecimalDigits) {
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "one", "1_000"}) {
    std::string why;
    EXPECT_FALSE(parse_number(bad, &why)) << bad;
    EXPECT_EQ(why, "not a whole number") << bad;
  }
  EXPECT_EQ(parse_number("010"), std::optional<std::uint64_t>(10));  // decimal, not octal
  EXPECT_EQ(parse_number("0"), std::optional<std::uint64_t>(0));
}

TEST(Durations, UnitsScale) {
  EXPECT_EQ(parse_duration("500ms"), std::optional<std::chrono::milliseconds>(500ms));
  EXPECT_EQ(parse_duration("30s"), std::optional<std::chrono::milliseconds>(30s));
  EXPECT_EQ(parse_duration("2m"), std::optional<std::chrono::milliseconds>(2min));
  EXPECT_EQ(parse_duration("0s"), std::optional<std::chrono::milliseconds>(0ms));
  for (const char* bad : {"", "s", "ms", "m", "5", "5h", "-5s", "5 s", "5ss", "5sm", "x5s", "0x5s"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
}

TEST(Durations, ValuesThatWouldOverflowAreRefused) {
  std::string why;
  // Wrapped, these used to be a budget of 96 ms and no budget at all.
  EXPECT_FALSE(parse_duration("182622766329724561m", &why));
  EXPECT_EQ(why, "longer than 100 years");
  EXPECT_FALSE(parse_duration("18446744073709551s", &why));
  EXPECT_EQ(why, "longer than 100 years");
  EXPECT_FALSE(parse_duration("18446744073709551615ms"));
  EXPECT_FALSE(parse_duration("99999999999999999999999m"));
  // The longest accepted duration still leaves a deadline the clock can hold.
  const auto most = parse_duration(std::to_string(mc::max_duration.count()) + "ms");
  ASSERT_TRUE(most);
  EXPECT_LE(std::chrono::duration_cast<std::chrono::steady_clock::duration>(*most).count(),
            std::chrono::steady_clock::duration::max().count() / 2);
  EXPECT_FALSE(parse_duration(std::to_string(mc::max_duration.count() + 1) + "ms"));
}

RC_GTEST_PROP(Durations, AcceptedMeansExact, (std::uint64_t n)) {
  const auto d = parse_duration(std::to_string(n) + "s");
  if (n <= static_cast<std::uint64_t>(mc::max_duration.count()) / 1000) {
    RC_ASSERT(d.has_value());
    RC_ASSERT(static_cast<std::uint64_t>(d->count()) == n * 1000);
  } else {
    RC_ASSERT(!d.has_value());
  }
}

// The environment is read with the same parser: LOCKSTEP_SEED=-1 is refused
// (it used to become 18446744073709551615), and the largest seed works.
class SeedVariable : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("LOCKSTEP_SEED"); }
  static mc::result run() {
    mc::options o;
    o.strategy = mc::random(1);
    o.max_executions = 3;
    return mc::explore(o, [] {});
  }
};

TEST_F(SeedVariable, ANegativeSeedIsRefused) {
  for (const char* bad : {"-1", "0x10", " 7", "7 ", "18446744073709551616"}) {
    ::setenv("LOCKSTEP_SEED", bad, 1);
    try {
      (void)run();
      ADD_FAILURE() << "LOCKSTEP_SEED=" << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(std::string("lockstep: LOCKSTEP_SEED=") + bad + ": ", 0), 0u)
          << e.what();
    }
  }
}

TEST_F(SeedVariable, TheLargestSeedIsAccepted) {
  ::setenv("LOCKSTEP_SEED", "18446744073709551615", 1);
  EXPECT_EQ(run().executions, 3u);
}

}  // namespace
