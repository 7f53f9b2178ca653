// Every trace file in tests/traces/ is a regression test: replayed on fibers
// it must get the verdict it records (a bug: the same bug at the same step,
// every event as recorded; a pass: no bug along its schedule), and a
// recorded bug must reproduce on OS threads too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "lockstep/mc/model.hpp"
#include "lockstep/mc/os_threads.hpp"
#include "lockstep/mc/trace.hpp"

#ifndef LOCKSTEP_TRACES_DIR
#error "LOCKSTEP_TRACES_DIR must name tests/traces"
#endif

namespace {

namespace mc = lockstep::mc;
namespace fs = std::filesystem;

std::vector<std::string> trace_files() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(LOCKSTEP_TRACES_DIR))
    if (e.path().extension() == ".trace") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Traces, TheDirectoryHoldsTraces) { EXPECT_GE(trace_files().size(), 5u); }

class TraceFiles : public ::testing::TestWithParam<std::string> {};

TEST_P(TraceFiles, ReplaysToItsRecordedVerdict) {
  const mc::trace t = mc::read_trace_file(GetParam());
  const mc::model* m = mc::find_model(t.model);
  ASSERT_NE(m, nullptr) << GetParam() << ": model " << t.model << " is not registered";
  mc::options o;
  o.name = m->name;
  const mc::result r = mc::explore(mc::replay_options(t, o), m->body);
  EXPECT_EQ(mc::verdict_mismatch(t, r), "") << GetParam() << "\n" << r.report();
#if LOCKSTEP_UNDER_TSAN
  // On OS threads the replayed race really happens, and ThreadSanitizer
  // rightly reports it: the reproduction is checked in the plain build.
  if (*t.kind == mc::bug_kind::data_race) return;
#endif
  if (!t.kind) return;
  for (int i = 0; i < 5; ++i) {
    const mc::thread_run run = mc::replay_on_threads(t, m->body);
    ASSERT_EQ(run.divergence, "") << GetParam();
    ASSERT_TRUE(run.kind == t.kind) << GetParam() << ": on OS threads got "
                                    << (run.kind ? mc::bug_kind_name(*run.kind) : "pass") << " " << run.message;
  }
}

// A fixed bug's trace (verdict pass) bites when the bug comes back: the ABBA
// schedule replayed against code that still takes the locks in opposite
// orders deadlocks again.
TEST(Traces, AFixedTraceCatchesTheBugComingBack) {
  mc::trace t = mc::read_trace_file(std::string(LOCKSTEP_TRACES_DIR) + "/deadlock_abba.trace");
  t.kind.reset();  // as if the file said `verdict pass` after a fix
  const mc::model* m = mc::find_model("deadlock_abba");
  ASSERT_NE(m, nullptr);
  mc::options o;
  o.trace_dir = "-";
  const mc::result r = mc::explore(mc::replay_options(t, o), m->body);
  EXPECT_NE(mc::verdict_mismatch(t, r).find("found a deadlock"), std::string::npos) << r.report();
}

INSTANTIATE_TEST_SUITE_P(Dir, TraceFiles, ::testing::ValuesIn(trace_files()), [](const auto& info) {
  std::string n = fs::path(info.param).stem().string();
  std::replace_if(n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return n;
});

}  // namespace
