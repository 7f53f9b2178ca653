// Internal: small text helpers for reports.
#pragma once

#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>

#include "lockstep/mc/explore.hpp"

namespace lockstep::mc::rt {

// "1 execution", "2 executions": a count and its noun, singular for one.
inline std::string count_text(std::uint64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

// "models/basic.cpp": the path as compiled, without leading "../".
inline std::string_view source_path(const std::source_location& loc) {
  std::string_view f = loc.file_name();
  while (f.substr(0, 3) == "../") f.remove_prefix(3);
  return f;
}

// "models/basic.cpp:42".
inline std::string loc_text(const std::source_location& loc) {
  const std::string_view f = source_path(loc);
  if (f.empty()) return "?";
  return std::string(f) + ":" + std::to_string(loc.line());
}

// "thread 1 cas mutex A -> 1 at models/classic.cpp:55"
inline std::string describe_event(const trace_event& e, bool with_value = true) {
  std::string s = "thread " + std::to_string(e.thread) + " " + op_name(e.o);
  if (e.o == op::spawn || e.o == op::join) s += " thread " + std::to_string(e.value);
  else if (e.object != 0) s += " " + (e.object_name.empty() ? "object #" + std::to_string(e.object) : e.object_name);
  if (with_value && e.o != op::start && e.o != op::exit && e.o != op::yield && e.o != op::spawn && e.o != op::join)
    s += " -> " + std::to_string(static_cast<std::int64_t>(e.value));
  if (!e.file.empty()) s += " at " + e.file + ":" + std::to_string(e.line);
  return s;
}

}  // namespace lockstep::mc::rt
