// lockstep/mc/gtest.hpp — lockstep inside GoogleTest tests.
//
// Including it (lockstep/lockstep.hpp does when <gtest/gtest.h> came first)
// tells explore() which test is running: a failing check's report then
// prints replay commands that run that test alone (--gtest_filter), and its
// trace file records the test, so that LOCKSTEP_TRACE replays it only there
// (the program's other tests run as usual, with one line saying so).
//
// Sharded tests: one exhaustive check spread over GoogleTest instances.
// GoogleTest shards by test: with GTEST_TOTAL_SHARDS set, each TEST runs in
// exactly one shard, so a test cannot split its own search by reading those
// variables (it would explore a fraction and stop). Declare the check as N
// instances instead, instance i exploring shard i of N; GoogleTest, ctest,
// Bazel (shard_count) or a CI matrix then spread the instances like any
// other tests, and every instance asserts that its shard was covered:
//
//   LOCKSTEP_SHARDED_TEST(Counter, EveryOrderOfTheIncrements, 4) {
//     const auto r = lockstep::mc::explore(shard_options(lockstep::mc::dpor()), body);
//     EXPECT_TRUE(r.ok()) << r.report();
//     EXPECT_TRUE(r.shard_complete) << r.report();  // "shard i of 4 complete"
//   }
//
// The instances are named Sharded/Counter_EveryOrderOfTheIncrements.EveryOrderOfTheIncrements/shard_I_of_N.
// All N passing with shard_complete means the whole space was covered: the
// shards partition it whatever each one's job count. Include this header only
// from tests that link GoogleTest.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "lockstep/mc/explore.hpp"

namespace lockstep::mc {

namespace detail {
// "Suite.Name" of the running test; "" outside one.
inline std::string gtest_test_name() {
  const ::testing::TestInfo* t = ::testing::UnitTest::GetInstance()->current_test_info();
  return t == nullptr ? std::string() : std::string(t->test_suite_name()) + "." + t->name();
}
inline const bool gtest_test_name_known = (set_test_name_source(&gtest_test_name), true);
}  // namespace detail

template <unsigned Shards>
class sharded_test : public ::testing::TestWithParam<unsigned> {
  static_assert(Shards >= 1, "a sharded test needs at least one shard");

 public:
  static constexpr unsigned shard_count = Shards;
  [[nodiscard]] unsigned shard_index() const { return GetParam(); }
  // `o` restricted to this instance's shard.
  [[nodiscard]] options shard_options(options o) const {
    o.shard_index = GetParam();
    o.shard_count = Shards;
    return o;
  }
  [[nodiscard]] options shard_options(strategy_spec s) const {
    options o;
    o.strategy = std::move(s);
    return shard_options(std::move(o));
  }
  static std::string instance_name(const ::testing::TestParamInfo<unsigned>& info) {
    return "shard_" + std::to_string(info.param) + "_of_" + std::to_string(Shards);
  }
};

}  // namespace lockstep::mc

// A test body run as `Shards` instances; inside it, shard_options(...) gives
// options restricted to the instance's shard, shard_index() its index.
#define LOCKSTEP_SHARDED_TEST(Suite, Name, Shards)                                                   \
  class Suite##_##Name : public ::lockstep::mc::sharded_test<(Shards)> {};                          \
  INSTANTIATE_TEST_SUITE_P(Sharded, Suite##_##Name, ::testing::Range(0u, static_cast<unsigned>(Shards)), \
                           Suite##_##Name::instance_name);                                           \
  TEST_P(Suite##_##Name, Name)
