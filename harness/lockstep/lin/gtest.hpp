// lockstep/lin/gtest.hpp — a lincheck gate as one call in a GoogleTest TEST.
//
//   TEST(MyQueue, Linearizable) { lockstep::lin::expect_linearizable(my_queue_spec()); }
//
// fails the test with the report of the first counterexample (its shrunk
// history, why no sequential order explains it, the checker's report of the
// execution), whose last line says how to replay exactly that execution:
// LOCKSTEP_SEED and LOCKSTEP_REPLAY set, this program, this test's filter.
// Include it only from tests that link GoogleTest.
#pragma once

#include <gtest/gtest.h>
#include <string>

#include "lockstep/lin.hpp"
#include "lockstep/mc/gtest.hpp"

namespace lockstep::lin {

namespace detail {
// "LOCKSTEP_SEED={seed} LOCKSTEP_REPLAY={} /path/to/test --gtest_filter=Suite.Name"
inline std::string gtest_replay_command() {
  return "LOCKSTEP_SEED={seed} LOCKSTEP_REPLAY={} " + mc::detail::this_test_command();
}
}  // namespace detail

// Checks `s`; a counterexample fails the running test with its report.
template <class Obj, class Model>
outcome expect_linearizable(const spec<Obj, Model>& s, settings st = settings{}) {
  if (st.replay_command.empty()) st.replay_command = detail::gtest_replay_command();
  outcome o = check(s, st);
  EXPECT_TRUE(o.ok()) << o.report;
  return o;
}

}  // namespace lockstep::lin
