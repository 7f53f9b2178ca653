// What the lincheck suites (test_lin*.cpp) share: settings, reading a
// report's history table, and the three outcomes a test asserts (a gate
// passes, a flaw-free toy passes, a broken variant is caught).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <lockstep/lin.hpp>

namespace lockstep::lin_testing {

namespace lin = lockstep::lin;

inline lin::settings quick(unsigned scenarios, unsigned threads = 2, unsigned ops = 3) {
  lin::settings s;
  s.scenarios = scenarios;
  s.threads = threads;
  s.ops = ops;
  s.honour_env = false;
  return s;
}

// The history table's rows: the lines between "history" and "in real time".
inline std::vector<std::string> history_rows(const std::string& report) {
  std::vector<std::string> rows;
  std::size_t at = report.find("  history (a row per thread");
  if (at == std::string::npos) return rows;
  at = report.find('\n', at) + 1;
  while (at < report.size() && report.compare(at, 4, "    ") == 0) {
    const std::size_t end = report.find('\n', at);
    rows.push_back(report.substr(at + 4, end - at - 4));
    at = end + 1;
  }
  return rows;
}

inline std::size_t operations_in(const std::vector<std::string>& rows) {
  std::size_t n = 0;
  for (const std::string& r : rows) n += 1 + static_cast<std::size_t>(std::count(r.begin(), r.end(), '|'));
  return n;
}

// The report's replay string (SCENARIO.SHRINK...:SCHEDULE).
inline std::string replay_string(const std::string& report) {
  const std::size_t at = report.find("\n  replay: ");
  if (at == std::string::npos) return {};
  const std::size_t begin = at + 11;
  return report.substr(begin, report.find('\n', begin) - begin);
}

inline void print_summary(const lin::outcome& o, const lin::settings& st) {
  std::printf("  %s\n", lin::detail::summary(o, st).c_str());
}

// A gate run on `st`: passes, every scenario explored completely.
inline void expect_gate_passes(const char* name, const lin::settings& st) {
  const lin::gate* g = lin::find_gate(name);
  ASSERT_NE(g, nullptr) << name;
  const lin::outcome o = g->check(st);
  EXPECT_TRUE(o.ok()) << o.report;
  EXPECT_EQ(o.scenarios, st.scenarios);
  EXPECT_EQ(o.complete, o.scenarios);
  print_summary(o, st);
}

// A flaw-free toy on the gate's specification: passes, explored completely.
template <class Obj, class Model>
void expect_passes(const lin::spec<Obj, Model>& s, const lin::settings& st) {
  const lin::outcome o = lin::check(s, st);
  EXPECT_TRUE(o.ok()) << o.report;
  EXPECT_EQ(o.complete, o.scenarios);
  print_summary(o, st);
}

// A check that must fail with a history that no sequential order explains
// (`why`: "not linearizable: " and what follows), shrunk to at most
// `max_ops` operations.
inline void expect_caught(const lin::outcome& o, const std::string& why, std::size_t max_ops) {
  ASSERT_FALSE(o.ok()) << "the flaw went unnoticed";
  EXPECT_NE(o.report.find(why), std::string::npos) << o.report;
  const std::vector<std::string> rows = history_rows(o.report);
  EXPECT_FALSE(rows.empty()) << o.report;
  EXPECT_LE(operations_in(rows), max_ops) << o.report;
  EXPECT_NE(o.report.find("  replay: " + std::to_string(o.failing_scenario)), std::string::npos) << o.report;
  std::printf("%s\n", o.report.c_str());
}

}  // namespace lockstep::lin_testing
