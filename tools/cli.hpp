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

// The most shards a search splits into (check --shard I/N: N at most this).
constexpr unsigned long long kMaxShards = 1000000;

// Bad usage or input: main() prints `what` on one line and exits 2.
struct usage_error {
  std::string what;
};

std::string errno_text(int err);
// Prints "lockstep: <what>" and a newline on stderr, the message kept to one
// line: a control character in it (a newline typed into an argument, say) is
// written as a C escape. A message that already starts with "lockstep: " is
// not prefixed again.
void print_error(std::string_view what);
std::string json_escape(std::string_view s);
std::string q(std::string_view s);  // a JSON string literal
// XML text: bytes that are not valid UTF-8, and control characters XML 1.0
// does not allow (all but tab, newline, carriage return), become '?'.
std::string xml_clean(std::string_view s);
// An XML attribute value (cleaned, with & < > " ' and line ends escaped).
std::string xml_attr(std::string_view s);
// Cleaned text as CDATA sections; a "]]>" inside is split across two.
std::string xml_cdata(std::string_view s);
// A result's strategy (result::strategy) samples schedules: its pass is no proof.
bool sampled_strategy(std::string_view name);
// 50000 -> "50,000".
std::string thousands(unsigned long long n);
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
