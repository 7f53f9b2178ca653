// tools/cli.hpp — what the lockstep tool's commands share: exit codes, the
// usage error, JSON text, writing a file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lockstep::cli {

// 0 no bug found, 1 bug found (or a verdict that is not a pass), 2 bad usage
// or input (one line on stderr), 3 internal error.
constexpr int kOk = 0, kBug = 1, kUsage = 2, kInternal = 3;

// Bad usage or input: main() prints `what` on one line and exits 2.
struct usage_error {
  std::string what;
};

std::string errno_text(int err);
std::string json_escape(std::string_view s);
std::string q(std::string_view s);  // a JSON string literal
// Writes `text` to `path`, created or truncated (a device or FIFO is written
// to, as a shell's > would). Throws usage_error saying why not.
void write_file(const std::string& path, std::string_view text);

// lockstep merge (tools/merge.cpp).
extern const char* const kMergeHelp;
int cmd_merge(const std::vector<std::string_view>& args);

// lockstep lincheck (tools/lincheck.cpp).
extern const char* const kLincheckHelp;
int cmd_lincheck(const std::vector<std::string_view>& args);

}  // namespace lockstep::cli
