// lockstep/mc/trace.hpp — trace files: a failing (or any) execution on disk.
//
// A trace file is versioned UTF-8 text: a header (format version, model or
// test name, lockstep version, strategy, seed, the options that shape a
// replay, the verdict) followed by one event a line (step, thread,
// operation, object, value, source location). `lockstep replay FILE` runs it
// again on fibers or on OS threads; tests/traces/ keeps captured ones as
// regression tests.
//
//   lockstep-trace 4
//   model deadlock_abba
//   test
//   lockstep 0.1.0
//   strategy dpor
//   seed 1
//   spurious-wakeups 1
//   max-steps 20000
//   fair-scheduling 1
//   livelock-window 1000
//   busy-wait-bound 100
//   bypass-bound 2
//   stack-size 262144
//   step-timeout 10000
//   schedule L1AgQBAQ..
//   verdict deadlock
//   bug-step 14
//   bug-thread 1
//   message thread 1 holds mutex A and waits for mutex B; ...
//   events 14
//   1<TAB>0<TAB>start<TAB>-<TAB>-<TAB>-<TAB>models/classic.cpp:50
//   2<TAB>0<TAB>spawn<TAB>-<TAB>1<TAB>-<TAB>models/classic.cpp:52
//   3<TAB>1<TAB>cas<TAB>1<TAB>1<TAB>mutex A<TAB>models/classic.cpp:55
//   ...
//   end
//
// Header lines come in this order; a header line with an empty value is the
// key alone. `test` (since version 3) is the GoogleTest test that wrote the
// file ("Suite.Name"; empty outside one): LOCKSTEP_TRACE replays the file
// only in that test. `stack-size` (bytes) and `step-timeout` (milliseconds,
// negative for off), since version 4, are the run's options::stack_size and
// the watchdog's limit it had: they decide whether a step ends the process
// (a stack overflow, the watchdog), so a replay runs with them (an older
// trace replays with the defaults). Event lines have 7 tab-separated fields: step (1, 2, 3, ... in
// order), thread, operation (op_name), object id ("-" for 0), value ("-" for
// the 0 of start, exit and yield, which produce none), object name ("-" when
// empty), FILE:LINE ("-" when there is neither; the number follows the last
// colon).
//
// Every string (header values, names, files) is escaped so that any bytes
// round-trip and the file stays one field per line of UTF-8 text: \\, \t,
// \n, \r, \xHH for other control bytes and for bytes that are not
// well-formed UTF-8 (well-formed UTF-8 is kept as it is), and a string that
// is exactly "-" is written \- (a lone "-" is the empty field).
//
// A reader refuses anything else with the line number and what is wrong: an
// empty, binary, truncated or damaged file, text after "end", or one from a
// newer format version. Lines may end in CRLF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lockstep/mc/explore.hpp"

namespace lockstep::mc {

struct trace {
  // 2: the memory model (header "memory-model"; version 1 traces were all
  // sc) and, per event, the step whose store a load read. 3: the test.
  // 4: the stack size and the step timeout.
  static constexpr int format_version = 4;

  std::string model;             // a registered model, or options::name
  std::string test;              // the GoogleTest test that wrote it ("" outside one)
  std::string lockstep_version;  // of the lockstep that wrote it
  std::string strategy;          // the strategy that found it ("dpor", ...)
  std::uint64_t seed = 0;
  std::uint32_t spurious_wakeups = 1;  // options that shape the schedule
  mc::memory_model memory_model = mc::memory_model::rc11;
  std::uint32_t spurious_cas_failures = 0;
  std::uint64_t max_steps = 20000;
  bool fair_scheduling = true;         // and the liveness detectors' bounds
  std::uint64_t livelock_window = 1000;
  std::uint32_t busy_wait_bound = 100;
  std::uint32_t bypass_bound = 2;
  std::size_t stack_size = 256 * 1024;    // options::stack_size
  std::int64_t step_timeout_ms = 0;       // the watchdog's limit (< 0: off; 0: the default, as before version 4)
  std::string schedule;          // the replay string (choices)
  std::optional<bug_kind> kind;  // the verdict: the bug, or nullopt for pass
  std::uint64_t bug_step = 0;
  std::uint32_t bug_thread = 0;
  std::string message;           // one line
  std::vector<trace_event> events;  // steps 1, 2, 3, ... (the reader insists)

  friend bool operator==(const trace&, const trace&) = default;
};

// A trace file that cannot be read. what() is one line: "FILE:LINE: what is
// wrong" (FILE is the name given to the reader).
class trace_error : public std::invalid_argument {
 public:
  trace_error(const std::string& what, std::size_t line)
      : std::invalid_argument(what), line_(line) {}
  // 1-based line the error is on (0: the file as a whole, e.g. unreadable).
  std::size_t line() const noexcept { return line_; }

 private:
  std::size_t line_;
};

// The text of a trace file.
std::string format_trace(const trace& t);
// Parses the text of a trace file; `name` is used in error messages.
// Throws trace_error.
trace parse_trace(std::string_view text, std::string_view name = "trace");
// Reads or writes a file. Throw trace_error (read) or std::runtime_error
// (write) with one line. Reading stops at the first sign that the file is
// not a trace (/dev/zero costs one buffer) and refuses more than 1 GiB.
// Writing goes through a temporary file next to `path`, created
// exclusively, and a rename, so a crash never leaves half a trace; a `path`
// that exists and is not a regular file (a device, FIFO, symbolic link) is
// refused, never replaced.
trace read_trace_file(const std::string& path);
void write_trace_file(const trace& t, const std::string& path);
// Throws what write_trace_file(t, path) would if it could not write `path`:
// a tool checks its output before a long search, not after it.
void check_trace_path(const std::string& path);

// The trace of the bug `r` found (r.found must be set), run with `o`.
trace trace_of(const result& r, const options& o);

// Options that replay `t` on fibers: `base` with the trace's schedule and
// options. A trace that records a bug is replayed strictly, its events the
// replay check (a divergence throws replay_error); one that records a pass
// (a bug since fixed: the code no longer makes the recorded events) is
// replayed leniently, its schedule a guide.
options replay_options(const trace& t, options base = {});
// "" when `r` (a replay of `t`) got the trace's verdict; else one line
// saying what it got instead.
std::string verdict_mismatch(const trace& t, const result& r);

}  // namespace lockstep::mc
