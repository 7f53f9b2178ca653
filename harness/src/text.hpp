// Internal: small text helpers for reports.
#pragma once

#include <source_location>
#include <string>
#include <string_view>

namespace lockstep::mc::rt {

// "models/basic.cpp:42": the path as compiled, without leading "../".
inline std::string loc_text(const std::source_location& loc) {
  std::string_view f = loc.file_name();
  while (f.substr(0, 3) == "../") f.remove_prefix(3);
  if (f.empty()) return "?";
  return std::string(f) + ":" + std::to_string(loc.line());
}

}  // namespace lockstep::mc::rt
