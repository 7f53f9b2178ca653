// Trace files: every trace the writer can produce reads back equal, and the
// reader meets damaged or foreign text with one line naming the place and the
// fault, never with a crash or another exception.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "lockstep/mc/numbers.hpp"
#include "lockstep/mc/trace.hpp"

namespace {

using namespace std::string_literals;
using lockstep::mc::bug_kind;
using lockstep::mc::check_trace_path;
using lockstep::mc::format_trace;
using lockstep::mc::op;
using lockstep::mc::parse_trace;
using lockstep::mc::read_trace_file;
using lockstep::mc::trace;
using lockstep::mc::trace_error;
using lockstep::mc::trace_event;
using lockstep::mc::write_trace_file;

// ---------------------------------------------------------------- generators

// Strings made of the pieces that are hard to write: the escapes' own
// characters, "-", every byte, and well-formed multi-byte UTF-8 (which the
// writer keeps as it is) next to malformed bytes (which it escapes).
rc::Gen<std::string> gen_piece() {
  return rc::gen::oneOf(
      rc::gen::map(rc::gen::inRange(0, 256), [](int b) { return std::string(1, static_cast<char>(b)); }),
      rc::gen::element<std::string>("\t", "\n", "\r", "\\", "-", ":", " ", "\\-", "\\x41", "\xc3\xa4",
                                    "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc0\xaf", "\xff", "\0"s,
                                    "a", "mutex A"));
}

rc::Gen<std::string> gen_text() {
  return rc::gen::oneOf(rc::gen::element<std::string>("", "-", "--", "\\", "\\-"),
                        rc::gen::map(rc::gen::container<std::vector<std::string>>(gen_piece()),
                                     [](const std::vector<std::string>& pieces) {
                                       std::string s;
                                       for (const auto& p : pieces) s += p;
                                       return s;
                                     }));
}

template <class T>
rc::Gen<T> gen_number() {
  constexpr T max = std::numeric_limits<T>::max();
  return rc::gen::oneOf(rc::gen::arbitrary<T>(), rc::gen::element<T>(0, 1, 9, 10, max - 1, max));
}

rc::Gen<op> gen_op() {
  return rc::gen::map(rc::gen::inRange<int>(0, static_cast<int>(op::choose) + 1),
                      [](int o) { return static_cast<op>(o); });
}

trace_event any_event(std::uint64_t step) {
  trace_event e;
  e.step = step;
  e.thread = *gen_number<std::uint32_t>();
  e.o = *gen_op();
  e.object = *gen_number<std::uint32_t>();
  e.value = *gen_number<std::uint64_t>();
  e.object_name = *gen_text();
  e.file = *gen_text();
  e.line = *gen_number<std::uint32_t>();
  return e;
}

trace any_trace() {
  trace t;
  t.model = *gen_text();
  t.lockstep_version = *gen_text();
  // The values a run can have (the reader refuses others, see
  // RefusesValuesNoRunHas), edges included.
  t.strategy = *rc::gen::element<std::string>("random", "dfs", "replay", "pct", "dpor", "pos", "delay", "source-dpor",
                                               "replay on OS threads");
  t.seed = *gen_number<std::uint64_t>();
  t.spurious_wakeups = *rc::gen::oneOf(rc::gen::inRange<std::uint32_t>(0, 1001), rc::gen::element<std::uint32_t>(0, 1000));
  t.max_steps = *rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(1, lockstep::mc::kMaxStepsBound + 1),
                                rc::gen::element<std::uint64_t>(1, lockstep::mc::kMaxStepsBound));
  t.fair_scheduling = *rc::gen::arbitrary<bool>();
  t.livelock_window = *rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(2, UINT64_MAX),
                                      rc::gen::element<std::uint64_t>(2, UINT64_MAX));
  t.busy_wait_bound = *rc::gen::oneOf(rc::gen::inRange<std::uint32_t>(1, 100000001),
                                      rc::gen::element<std::uint32_t>(1, 100000000));
  t.bypass_bound = *rc::gen::oneOf(rc::gen::inRange<std::uint32_t>(0, 100000001),
                                   rc::gen::element<std::uint32_t>(0, 100000000));
  t.stack_size = *rc::gen::oneOf(rc::gen::inRange<std::size_t>(lockstep::mc::kMinStackSize, SIZE_MAX),
                                 rc::gen::element<std::size_t>(std::size_t{lockstep::mc::kMinStackSize}, SIZE_MAX));
  const auto most = static_cast<std::int64_t>(lockstep::mc::max_duration.count());
  t.step_timeout_ms = *rc::gen::oneOf(rc::gen::inRange<std::int64_t>(-most, most + 1),
                                      rc::gen::element<std::int64_t>(-most, std::int64_t{-1}, std::int64_t{0}, most));
  t.schedule = *gen_text();
  if (*rc::gen::arbitrary<bool>())
    t.kind = static_cast<bug_kind>(*rc::gen::inRange<int>(0, static_cast<int>(bug_kind::data_race) + 1));
  t.bug_step = *gen_number<std::uint64_t>();
  t.bug_thread = *gen_number<std::uint32_t>();
  t.message = *gen_text();
  const int n = *rc::gen::inRange(0, 51);
  for (int i = 1; i <= n; ++i) t.events.push_back(any_event(static_cast<std::uint64_t>(i)));
  // A bug's thread is one of the execution's (the reader checks it): thread
  // 0, one with an event, or one a spawn made (a bug before its first event).
  if (t.kind) {
    t.bug_thread = 0;
    if (!t.events.empty() && *rc::gen::arbitrary<bool>()) {
      const trace_event& e = t.events[*rc::gen::inRange<std::size_t>(0, t.events.size())];
      t.bug_thread = e.o == op::spawn && *rc::gen::arbitrary<bool>() ? static_cast<std::uint32_t>(e.value) : e.thread;
    }
  }
  return t;
}

// ---------------------------------------------------------------- round trip

RC_GTEST_PROP(Trace, RoundTripsEveryField, ()) {
  const trace t = any_trace();
  const std::string text = format_trace(t);
  RC_ASSERT(parse_trace(text) == t);
  RC_ASSERT(format_trace(parse_trace(text)) == text);
}

// The writer's text is what the reader accepts: one UTF-8 line per field,
// no control characters but the tab separators.
RC_GTEST_PROP(Trace, WritesPlainText, ()) {
  const std::string text = format_trace(any_trace());
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    RC_ASSERT(b >= 0x20 || b == '\t' || b == '\n');
    RC_ASSERT(b != 0x7f);
  }
}

// ---------------------------------------------------------------- damage

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size() - 1;
    lines.push_back(text.substr(start, nl - start + 1));
    start = nl + 1;
  }
  return lines;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l;
  return s;
}

std::size_t count_lines(const std::string& text) { return split_lines(text).size(); }

// Replaces the n-th run of digits (modulo their number) by `by`.
std::string replace_number(const std::string& text, std::size_t n, const std::string& by) {
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] < '0' || text[i] > '9') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    runs.emplace_back(i, j - i);
    i = j;
  }
  if (runs.empty()) return text;
  const auto [at, len] = runs[n % runs.size()];
  return text.substr(0, at) + by + text.substr(at + len);
}

std::string damage(std::string text) {
  const auto pos = [&](std::size_t extra) { return *rc::gen::inRange<std::size_t>(0, text.size() + extra); };
  switch (*rc::gen::inRange(0, 10)) {
    case 0:  // truncated anywhere
      return text.substr(0, pos(1));
    case 1: {  // bytes flipped
      if (text.empty()) return text;
      const int n = *rc::gen::inRange(1, 4);
      for (int i = 0; i < n; ++i) text[pos(0)] ^= static_cast<char>(*rc::gen::inRange(1, 256));
      return text;
    }
    case 2: {  // bytes inserted, NUL and 0xff among them
      const auto bytes = *rc::gen::container<std::string>(
          rc::gen::oneOf(rc::gen::element('\0', '\xff', '\n', '\t', '\\', '\r', '-', '9'), rc::gen::arbitrary<char>()));
      return text.insert(pos(1), bytes);
    }
    case 3:
    case 4:
    case 5: {  // a line deleted, duplicated or swapped with another
      auto lines = split_lines(text);
      if (lines.empty()) return text;
      const auto i = *rc::gen::inRange<std::size_t>(0, lines.size());
      const auto j = *rc::gen::inRange<std::size_t>(0, lines.size());
      if (*rc::gen::inRange(0, 3) == 0) {
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
      } else if (*rc::gen::inRange(0, 2) == 0) {
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(i), lines[j]);
      } else {
        std::swap(lines[i], lines[j]);
      }
      return join(lines);
    }
    case 6:  // from a future version
      return "lockstep-trace " + std::to_string(*rc::gen::inRange(2, 1001)) +
             text.substr(std::min(text.find('\n'), text.size()));
    case 7:
    case 8: {  // a number made huge or not a number
      const std::string by = *rc::gen::element<std::string>("99999999999999999999999", "18446744073709551616",
                                                             "4294967296", "x", "", "-1", "+1", "0x10", " 1");
      return replace_number(text, *rc::gen::arbitrary<std::size_t>(), by);
    }
    default:  // appended after "end"
      return text + *rc::gen::element<std::string>("\n", "x", "end\n", "\0"s);
  }
}

RC_GTEST_PROP(Trace, DamagedTextIsReadOrRefusedWithOneLine, ()) {
  std::string text = format_trace(any_trace());
  const int rounds = *rc::gen::inRange(1, 4);
  for (int i = 0; i < rounds; ++i) text = damage(std::move(text));
  try {
    const trace t = parse_trace(text, "damaged.trace");
    RC_TAG("accepted");
    // Whatever the reader accepts, it writes back in a form it reads the same.
    RC_ASSERT(parse_trace(format_trace(t)) == t);
  } catch (const trace_error& e) {
    RC_TAG("refused");
    const std::string what = e.what();
    RC_ASSERT(what.find('\n') == std::string::npos);
    RC_ASSERT(what.find('\r') == std::string::npos);
    RC_ASSERT(what.find('\0') == std::string::npos);
    RC_ASSERT(what.rfind("damaged.trace:" + std::to_string(e.line()) + ": ", 0) == 0);
    RC_ASSERT(e.line() >= 1u);
    RC_ASSERT(e.line() <= count_lines(text) + 1);
  }
}

RC_GTEST_PROP(Trace, ArbitraryBytesAreReadOrRefused, (const std::string& text)) {
  try {
    (void)parse_trace(text, "noise");
  } catch (const trace_error& e) {
    RC_ASSERT(std::string(e.what()).find('\n') == std::string::npos);
    RC_ASSERT(e.line() <= count_lines(text) + 1);
  }
}

// ---------------------------------------------------------------- examples

// `t` as a trace from before version 4 reads: the default limits.
trace without_run_limits(trace t) {
  t.stack_size = 256 * 1024;
  t.step_timeout_ms = 0;
  return t;
}

trace sample() {
  trace t;
  t.model = "deadlock_abba";
  t.test = "Deadlock.Abba";
  t.lockstep_version = "0.1.0";
  t.strategy = "dpor";
  t.seed = 1;
  t.stack_size = 64 * 1024;
  t.step_timeout_ms = 300;
  t.schedule = "L1AgQBAQ";
  t.kind = bug_kind::deadlock;
  t.bug_step = 3;
  t.bug_thread = 1;
  t.message = "thread 1 holds mutex A and waits for mutex B";
  t.events = {
      {1, 0, op::start, 0, 0, "", "", 0},
      {2, 0, op::spawn, 0, 1, "", "models/classic.cpp", 52},
      {3, 1, op::cas_ok, 1, 1, "mutex A", "models/classic.cpp", 55},
  };
  return t;
}

// The sample's text, one string per line without the newline.
std::vector<std::string> sample_lines() {
  std::vector<std::string> lines;
  for (auto& l : split_lines(format_trace(sample()))) lines.push_back(l.substr(0, l.size() - 1));
  return lines;
}

std::string text_of(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// Line numbers of the sample: 1 version, 2..22 header, 23..25 events, 26 end.
constexpr std::size_t kModelLine = 2;
constexpr std::size_t kStackSizeLine = 15;
constexpr std::size_t kFirstEvent = 23;
constexpr std::size_t kEndLine = 26;

// Parses `text` as "t.trace" and expects it refused on `line` with exactly `message`.
void expect_refused(const std::string& text, std::size_t line, const std::string& message) {
  try {
    (void)parse_trace(text, "t.trace");
    ADD_FAILURE() << "accepted:\n" << text;
  } catch (const trace_error& e) {
    EXPECT_EQ(e.line(), line);
    EXPECT_EQ(std::string(e.what()), "t.trace:" + std::to_string(line) + ": " + message);
  }
}

TEST(Trace, TheSampleReadsAsWritten) {
  const std::string text = format_trace(sample());
  EXPECT_EQ(text,
            "lockstep-trace 4\nmodel deadlock_abba\ntest Deadlock.Abba\nlockstep 0.1.0\nstrategy dpor\nseed 1\n"
            "spurious-wakeups 1\nmemory-model rc11\nspurious-cas-failures 0\nmax-steps 20000\n"
            "fair-scheduling 1\nlivelock-window 1000\n"
            "busy-wait-bound 100\nbypass-bound 2\nstack-size 65536\nstep-timeout 300\nschedule L1AgQBAQ\nverdict deadlock\nbug-step 3\n"
            "bug-thread 1\nmessage thread 1 holds mutex A and waits for mutex B\nevents 3\n"
            "1\t0\tstart\t-\t-\t-\t-\t-\n2\t0\tspawn\t-\t1\t-\tmodels/classic.cpp:52\t-\n"
            "3\t1\tcas\t1\t1\tmutex A\tmodels/classic.cpp:55\t-\nend\n");
  EXPECT_EQ(parse_trace(text), sample());
}

// Version 1 traces (every atomic sequentially consistent, no step read from)
// still read, as sc.
TEST(Trace, ReadsAVersion1TraceAsSc) {
  const std::string v1 =
      "lockstep-trace 1\nmodel deadlock_abba\nlockstep 0.1.0\nstrategy dpor\nseed 1\n"
      "spurious-wakeups 1\nmax-steps 20000\nfair-scheduling 1\nlivelock-window 1000\n"
      "busy-wait-bound 100\nbypass-bound 2\nschedule L1AgQBAQ\nverdict deadlock\nbug-step 3\n"
      "bug-thread 1\nmessage thread 1 holds mutex A and waits for mutex B\nevents 3\n"
      "1\t0\tstart\t-\t-\t-\t-\n2\t0\tspawn\t-\t1\t-\tmodels/classic.cpp:52\n"
      "3\t1\tcas\t1\t1\tmutex A\tmodels/classic.cpp:55\nend\n";
  trace want = without_run_limits(sample());
  want.test.clear();
  want.memory_model = lockstep::mc::memory_model::sc;
  want.spurious_cas_failures = 0;
  EXPECT_EQ(parse_trace(v1), want);
  // A version 1 event line has 7 fields, not 8.
  expect_refused(v1.substr(0, v1.find("3\t1\tcas")) + "3\t1\tcas\t1\t1\tmutex A\tmodels/classic.cpp:55\t-\nend\n",
                 20, "expected an event (7 tab-separated fields), found 8 fields");
}

TEST(Trace, RecordsWhatALoadRead) {
  trace t = sample();
  t.memory_model = lockstep::mc::memory_model::rc11;
  t.events.push_back({4, 1, op::load, 2, 7, "flag", "models/x.cpp", 9, 3});
  t.bug_step = 4;
  EXPECT_EQ(parse_trace(format_trace(t)), t);
  auto lines = split_lines(format_trace(t));
  lines[lines.size() - 2] = "4\t1\tload\t2\t7\tflag\tmodels/x.cpp:9\t4\n";  // it read itself
  std::string text;
  for (const auto& l : lines) text += l;
  expect_refused(text, 26, "bad step read from \"4\": expected an earlier step or -");
}

TEST(Trace, ReadsCrlfLines) {
  std::string text;
  for (const auto& l : sample_lines()) text += l + "\r\n";
  EXPECT_EQ(parse_trace(text), sample());
}

TEST(Trace, AcceptsAMissingFinalNewline) {
  const std::string text = format_trace(sample());
  EXPECT_EQ(parse_trace(text.substr(0, text.size() - 1)), sample());
}

TEST(Trace, RefusesAnEmptyFile) { expect_refused("", 1, "empty file: not a lockstep trace"); }

TEST(Trace, RefusesOtherText) {
  expect_refused("hello\n", 1, "not a lockstep trace (expected \"lockstep-trace 4\")");
  expect_refused("lockstep-trace\n", 1, "not a lockstep trace (expected \"lockstep-trace 4\")");
}

TEST(Trace, RefusesBinaryData) {
  auto lines = sample_lines();
  lines[4] += std::string(1, '\0');
  expect_refused(text_of(lines), 5, "binary data (byte 0x00)");
  lines = sample_lines();
  lines[kModelLine - 1] += "\xc3";  // a truncated UTF-8 sequence
  expect_refused(text_of(lines), kModelLine, "binary data (byte 0xc3)");
  expect_refused("\x89PNG\r\n\x1a\n", 1, "binary data (byte 0x89)");
}

TEST(Trace, RefusesAFutureVersion) {
  auto lines = sample_lines();
  lines[0] = "lockstep-trace 7";
  expect_refused(text_of(lines), 1, "trace format version 7 is newer than this lockstep reads (4)");
  lines[0] = "lockstep-trace 99999999999999999999999";
  expect_refused(text_of(lines), 1,
                 "trace format version 99999999999999999999999 is newer than this lockstep reads (4)");
}

TEST(Trace, RefusesAVersionThatIsNotOne) {
  auto lines = sample_lines();
  lines[0] = "lockstep-trace 0";
  expect_refused(text_of(lines), 1, "bad trace format version \"0\" (expected \"lockstep-trace 4\")");
  lines[0] = "lockstep-trace one";
  expect_refused(text_of(lines), 1, "bad trace format version \"one\" (expected \"lockstep-trace 4\")");
}

TEST(Trace, RefusesHeadersOutOfOrder) {
  auto lines = sample_lines();
  std::swap(lines[kModelLine - 1], lines[kModelLine]);
  expect_refused(text_of(lines), kModelLine, "expected \"model ...\", found \"test Deadlock.Abba\"");
  lines = sample_lines();
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(kModelLine));  // version 3 on has a test line
  expect_refused(text_of(lines), kModelLine + 1, "expected \"test ...\", found \"lockstep 0.1.0\"");
}

// Version 2 traces (no test line) still read, with no test.
TEST(Trace, ReadsAVersion2TraceWithoutATest) {
  auto lines = sample_lines();
  lines[0] = "lockstep-trace 2";
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(kStackSizeLine - 1),
              lines.begin() + static_cast<std::ptrdiff_t>(kStackSizeLine + 1));
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(kModelLine));
  trace want = without_run_limits(sample());
  want.test.clear();
  EXPECT_EQ(parse_trace(text_of(lines)), want);
}

// Version 3 traces (no stack size, no step timeout) still read, with the
// defaults: a replay keeps its own (see replay_options()).
TEST(Trace, ReadsAVersion3TraceWithTheDefaultLimits) {
  auto lines = sample_lines();
  lines[0] = "lockstep-trace 3";
  EXPECT_EQ(lines[kStackSizeLine - 1], "stack-size 65536");
  EXPECT_EQ(lines[kStackSizeLine], "step-timeout 300");
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(kStackSizeLine - 1),
              lines.begin() + static_cast<std::ptrdiff_t>(kStackSizeLine + 1));
  const trace t = parse_trace(text_of(lines));
  EXPECT_EQ(t, without_run_limits(sample()));
  lockstep::mc::options base;
  base.step_timeout = std::chrono::milliseconds(1000);
  const lockstep::mc::options o = lockstep::mc::replay_options(t, base);
  EXPECT_EQ(o.stack_size, 256u * 1024);
  EXPECT_EQ(o.step_timeout, std::chrono::milliseconds(1000));
}

// A replay runs with the stack size and the watchdog limit the run had:
// they decide whether a step ends the process.
TEST(Trace, ARunsStackSizeAndStepTimeoutAreReplayed) {
  lockstep::mc::options o;
  o.stack_size = 64 * 1024;
  o.step_timeout = std::chrono::milliseconds(300);
  lockstep::mc::result r;
  r.strategy = "dpor";
  r.found.emplace();
  trace t = parse_trace(format_trace(lockstep::mc::trace_of(r, o)));
  EXPECT_EQ(t.stack_size, 64u * 1024);
  EXPECT_EQ(t.step_timeout_ms, 300);
  lockstep::mc::options base;
  base.step_timeout = std::chrono::milliseconds(1000);  // a model's own, say
  lockstep::mc::options again = lockstep::mc::replay_options(t, base);
  EXPECT_EQ(again.stack_size, 64u * 1024);
  EXPECT_EQ(again.step_timeout, std::chrono::milliseconds(300));
  // The default limit, and a time budget's shorter one: the limit they gave.
  o.step_timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(parse_trace(format_trace(lockstep::mc::trace_of(r, o))).step_timeout_ms, 10000);
  o.time_budget = std::chrono::seconds(2);
  EXPECT_EQ(parse_trace(format_trace(lockstep::mc::trace_of(r, o))).step_timeout_ms, 2000);
  // The watchdog off: off in the replay too.
  o.step_timeout = std::chrono::milliseconds(-1);
  t = parse_trace(format_trace(lockstep::mc::trace_of(r, o)));
  EXPECT_LT(t.step_timeout_ms, 0);
  EXPECT_LT(lockstep::mc::replay_options(t, base).step_timeout.count(), 0);
}

TEST(Trace, RefusesATruncatedHeader) {
  auto lines = sample_lines();
  lines.resize(6);
  expect_refused(text_of(lines), 7, "truncated: the file ends before the \"spurious-wakeups\" line");
}

TEST(Trace, RefusesBadNumbers) {
  auto lines = sample_lines();
  lines[5] = "seed 18446744073709551616";
  expect_refused(text_of(lines), 6,
                 "bad seed \"18446744073709551616\": expected a whole number from 0 to 18446744073709551615");
  lines = sample_lines();
  lines[6] = "spurious-wakeups -1";
  expect_refused(text_of(lines), 7,
                 "bad spurious-wakeups \"-1\": expected a whole number from 0 to 4294967295");
}

// A trace says what a run used: values lockstep check refuses (a bound of
// 0, an unknown strategy) are no run's, and are refused as damage.
TEST(Trace, RefusesValuesNoRunHas) {
  struct edit {
    std::size_t index;
    const char* line;
    const char* message;
  };
  for (const edit& e : {edit{4, "strategy xyz", "unknown strategy \"xyz\""},
                        edit{6, "spurious-wakeups 1001", "spurious-wakeups is 1001: expected 0 to 1000"},
                        edit{8, "spurious-cas-failures 5000", "spurious-cas-failures is 5000: expected 0 to 1000"},
                        edit{9, "max-steps 0", "max-steps is 0: expected 1 to 1000000"},
                        edit{11, "livelock-window 0", "livelock-window is 0: expected 2 to 18446744073709551615"},
                        edit{12, "busy-wait-bound 0", "busy-wait-bound is 0: expected 1 to 100000000"},
                        edit{13, "bypass-bound 100000001", "bypass-bound is 100000001: expected 0 to 100000000"},
                        edit{14, "stack-size 16383", "stack-size is 16383: expected at least 16384"},
                        edit{15, "step-timeout 1.5", "bad step-timeout \"1.5\": expected a whole number of milliseconds "
                                                     "from -3153600000000 to 3153600000000"}}) {
    SCOPED_TRACE(e.line);
    auto lines = sample_lines();
    lines[e.index] = e.line;
    expect_refused(text_of(lines), e.index + 1, e.message);
  }
  auto lines = sample_lines();
  lines[4] = "strategy source-dpor";  // a label reports give
  EXPECT_NO_THROW((void)parse_trace(text_of(lines)));
}

TEST(Trace, RefusesAnUnknownVerdict) {
  auto lines = sample_lines();
  lines[17] = "verdict oops";
  expect_refused(text_of(lines), 18, "unknown verdict \"oops\" (expected pass or a bug kind such as deadlock)");
}

TEST(Trace, RefusesAnUnknownOperation) {
  auto lines = sample_lines();
  lines[kFirstEvent] = "2\t0\tfrob\t-\t1\t-\t-\t-";
  expect_refused(text_of(lines), kFirstEvent + 1, "unknown operation \"frob\"");
}

TEST(Trace, RefusesStepsThatAreNotConsecutive) {
  auto lines = sample_lines();
  lines[kFirstEvent + 1] = "4\t1\tcas\t1\t1\tmutex A\tmodels/classic.cpp:55\t-";
  expect_refused(text_of(lines), kFirstEvent + 2, "bad step \"4\": expected 3");
  lines[kFirstEvent + 1] = "x\t1\tcas\t1\t1\tmutex A\tmodels/classic.cpp:55\t-";
  expect_refused(text_of(lines), kFirstEvent + 2, "bad step \"x\": expected 3");
}

TEST(Trace, RefusesAnEventWithMissingFields) {
  auto lines = sample_lines();
  lines[kFirstEvent] = "2\t0\tspawn\t-\t1";
  expect_refused(text_of(lines), kFirstEvent + 1, "expected an event (8 tab-separated fields), found 5 fields");
}

TEST(Trace, RefusesAMissingValue) {
  auto lines = sample_lines();
  lines[kFirstEvent] = "2\t0\tspawn\t-\t-\t-\t-\t-";
  expect_refused(text_of(lines), kFirstEvent + 1, "a \"spawn\" event has a value, found \"-\"");
}

TEST(Trace, RefusesBadEscapes) {
  auto lines = sample_lines();
  lines[kModelLine - 1] = "model a\\qb";
  expect_refused(text_of(lines), kModelLine,
                 "bad escape in the model: \"\\\\q\" (expected \\\\, \\t, \\n, \\r, \\-, \\xHH)");
  lines[kModelLine - 1] = "model ab\\x4";
  expect_refused(text_of(lines), kModelLine, "bad escape in the model: \\x needs two hex digits in \"ab\\\\x4\"");
}

TEST(Trace, RefusesATruncatedEventList) {
  auto lines = sample_lines();
  lines[kFirstEvent - 2] = "events 14";
  lines.pop_back();  // "end"
  expect_refused(text_of(lines), kEndLine, "truncated: the header says 14 events, the file ends after 3");
}

TEST(Trace, RefusesTooFewEvents) {
  auto lines = sample_lines();
  lines[kFirstEvent - 2] = "events 4";
  expect_refused(text_of(lines), kEndLine, "too few events: the header says 4, \"end\" comes after 3");
}

TEST(Trace, RefusesTooManyEvents) {
  auto lines = sample_lines();
  lines[kFirstEvent - 2] = "events 2";
  expect_refused(text_of(lines), kEndLine - 1,
                 "expected \"end\" after the 2 events, found \"3\\t1\\tcas\\t1\\t1\\tmutex A\\tmodels/classic.cpp:5...\"");
}

TEST(Trace, RefusesAMissingEnd) {
  auto lines = sample_lines();
  lines.pop_back();
  expect_refused(text_of(lines), kEndLine, "truncated: no \"end\" line after the 3 events");
}

TEST(Trace, RefusesDataAfterEnd) {
  expect_refused(format_trace(sample()) + "more\n", kEndLine + 1, "trailing data after \"end\"");
  expect_refused(format_trace(sample()) + "\n", kEndLine + 1, "trailing data after \"end\"");
}

TEST(Trace, ErrorMessagesStayOneLine) {
  auto lines = sample_lines();
  lines[kModelLine - 1] = "mod\rel\tx";  // damaged text quoted in the message
  try {
    (void)parse_trace(text_of(lines), "a\nb.trace");
    FAIL() << "accepted";
  } catch (const trace_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find_first_of("\n\r\t"), std::string::npos) << what;
    EXPECT_NE(what.find("found \"mod\\rel\\tx\""), std::string::npos) << what;
    EXPECT_EQ(what.rfind("a\\x0ab.trace:2: ", 0), 0u) << what;
  }
}

// ---------------------------------------------------------------- files

class TraceFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lockstep-trace-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::string contents(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  // write_trace_file(t, p) throws, and its one line names `p` and says `why`.
  static void expect_write_refused(const std::string& p, const std::string& why) {
    try {
      write_trace_file(sample(), p);
      ADD_FAILURE() << "wrote " << p;
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("cannot write trace " + p + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(why), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }

  std::filesystem::path dir_;
};

TEST_F(TraceFile, RoundTrips) {
  const std::string p = path("deadlock.trace");
  write_trace_file(sample(), p);
  EXPECT_EQ(read_trace_file(p), sample());
  EXPECT_EQ(files(), std::vector<std::string>{"deadlock.trace"}) << "a temporary file was left behind";
  trace other = sample();
  other.kind.reset();
  write_trace_file(other, p);  // replaces the file
  EXPECT_EQ(read_trace_file(p), other);
}

TEST_F(TraceFile, ErrorsNameTheFile) {
  const std::string p = path("bad.trace");
  write_trace_file(sample(), p);
  std::filesystem::resize_file(p, 30);
  try {
    (void)read_trace_file(p);
    FAIL() << "accepted";
  } catch (const trace_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(p + ":3: ", 0), 0u) << e.what();
  }
}

TEST_F(TraceFile, RefusesAMissingFile) {
  const std::string p = path("missing.trace");
  try {
    (void)read_trace_file(p);
    FAIL() << "read a missing file";
  } catch (const trace_error& e) {
    EXPECT_EQ(e.line(), 0u);
    EXPECT_EQ(std::string(e.what()), p + ": cannot open: No such file or directory");
  }
}

TEST_F(TraceFile, RefusesADirectory) {
  try {
    (void)read_trace_file(dir_.string());
    FAIL() << "read a directory";
  } catch (const trace_error& e) {
    EXPECT_EQ(e.line(), 0u);
    EXPECT_EQ(std::string(e.what()), dir_.string() + ": cannot read: Is a directory");
  }
}

TEST_F(TraceFile, WriteFailureNamesThePath) {
  const std::string p = path("no-such-dir/x.trace");
  try {
    write_trace_file(sample(), p);
    FAIL() << "wrote into a missing directory";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(p), std::string::npos) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

// Reading stops where the text stops being a trace: /dev/zero is refused
// after one buffer, at its first line, not read to the size limit.
TEST(TraceRead, DevZeroIsRefusedAtItsFirstByte) {
  try {
    (void)read_trace_file("/dev/zero");
    FAIL() << "read /dev/zero";
  } catch (const trace_error& e) {
    EXPECT_EQ(std::string(e.what()), "/dev/zero:1: binary data (byte 0x00)");
  }
}

TEST_F(TraceFile, AFileThatStartsOtherwiseIsRefusedAtItsFirstLine) {
  const std::string p = path("log.txt");
  std::ofstream(p) << std::string(4 << 20, 'x');
  try {
    (void)read_trace_file(p);
    FAIL() << "read a log";
  } catch (const trace_error& e) {
    EXPECT_EQ(e.line(), 1u);
    EXPECT_NE(std::string(e.what()).find("not a lockstep trace"), std::string::npos) << e.what();
  }
}

// The temporary file is created exclusively: a link planted where the
// temporary used to go (PATH.tmp) is never written through.
TEST_F(TraceFile, DoesNotWriteThroughALinkAtTheTemporaryName) {
  const std::string p = path("out.trace");
  const std::string victim = path("victim");
  std::ofstream(victim) << "secret";
  std::filesystem::create_symlink(victim, p + ".tmp");
  write_trace_file(sample(), p);
  EXPECT_EQ(contents(victim), "secret");
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::symlink_status(p)));
  EXPECT_EQ(read_trace_file(p), sample());
  EXPECT_TRUE(std::filesystem::is_symlink(p + ".tmp"));
}

// What is at the path and is not a regular file is refused, and left as it was.
TEST_F(TraceFile, RefusesToReplaceWhatIsNotARegularFile) {
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_write_refused(fifo, "is a FIFO, not a regular file");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));

  const std::string target = path("target.trace");
  std::ofstream(target) << "mine";
  const std::string link = path("link.trace");
  std::filesystem::create_symlink(target, link);
  expect_write_refused(link, "is a symbolic link, not a regular file");
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(contents(target), "mine");

  const std::string dir = path("sub");
  std::filesystem::create_directory(dir);
  expect_write_refused(dir, "is a directory");
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_EQ(files(), (std::vector<std::string>{"fifo", "link.trace", "sub", "target.trace"}))
      << "a temporary file was left behind";
}

// A tool checks its output path before a search: the check finds what the
// write would, and leaves nothing behind.
TEST_F(TraceFile, CheckTracePathFindsWhatTheWriteWould) {
  EXPECT_NO_THROW(check_trace_path(path("new.trace")));
  std::ofstream(path("old.trace")) << "old";
  EXPECT_NO_THROW(check_trace_path(path("old.trace")));
  EXPECT_EQ(contents(path("old.trace")), "old");
  EXPECT_EQ(files(), std::vector<std::string>{"old.trace"});
  try {
    check_trace_path(path("no-such-dir/x.trace"));
    ADD_FAILURE() << "a missing directory passed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  EXPECT_THROW(check_trace_path(path("fifo")), std::runtime_error);
}

}  // namespace
