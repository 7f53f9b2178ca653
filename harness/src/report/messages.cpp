// The text of the bugs both backends report (messages.hpp).
#include "report/messages.hpp"

#include <cstdio>
#include <cstdlib>

#include "engine/dcheck.hpp"

#include "report/text.hpp"

namespace lockstep::mc::rt {

std::string thread_text(std::uint32_t tid, const char* name) {
  if (name != nullptr) return "thread " + std::to_string(tid) + " (" + name + ")";
  if (tid == 0) return "thread 0 (main)";
  return "thread " + std::to_string(tid);
}

std::string assertion_text(const char* expr, const std::string& who, const std::source_location& loc,
                           const std::string* message) {
  // A message with no expression (a checker built on explore(), such as
  // lockstep/lin.hpp, whose message says it all) stands alone.
  if (message != nullptr && *expr == '\0') return *message;
  const std::string what = "`" + std::string(expr) + "` failed in " + who + " at " + loc_text(loc);
  // The report opens with the kind ("assertion: `x == 2` failed in ..."):
  // the expression follows it directly. A message leads, the assertion in
  // parentheses names itself.
  if (message != nullptr) return *message + " (assertion " + what + ")";
  return what;
}

std::string misuse_text(const std::string& who, const char* what, const std::source_location& loc) {
  return who + ": " + what + " at " + loc_text(loc);
}

std::string uncaught_text(const std::string& who, const std::exception* e) {
  if (e == nullptr) return who + " ended with an uncaught exception of a non-std type";
  return who + " ended with an uncaught exception: " + e->what();
}

std::string leak_text(const std::string& who, const std::source_location* spawned_at) {
  return "the mc::thread object of " + who + (spawned_at != nullptr ? " (spawned at " + loc_text(*spawned_at) + ")" : "") +
         " was destroyed while joinable: never joined or detached";
}

std::string unjoined_text(const std::string& who, const std::source_location& spawned_at) {
  return who + " (spawned at " + loc_text(spawned_at) + ") was never joined or detached before the execution ended";
}

void dcheck_failed(const char* cond, const char* file, int line) noexcept {
  std::fprintf(stderr, "lockstep: internal invariant `%s` broken at %s:%d (a bug in lockstep, please report it)\n",
               cond, file, line);
  std::abort();
}

std::string os_thread_text(const std::string& who) {
  return who +
         " started an OS thread (std::thread, std::jthread or pthread_create) inside a checked execution; the "
         "checker can neither see nor schedule it, so nothing it does would be checked: use lockstep::mc::thread";
}

}  // namespace lockstep::mc::rt
