// Many free runs on OS threads, in a child process (see stress() in
// lockstep/mc/os_threads.hpp).
//
// The child runs them one after another and writes one line per run to a
// pipe: the bug kind's name or "pass", a tab, the run's message. A child
// that ends before its last line was about the run it was in: that run ended
// the process. The parent counts it and starts a new child at the next run.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "input/files.hpp"
#include "lockstep/mc/os_threads.hpp"

// Present in a profiling build only (-fprofile-generate).
extern "C" void __gcov_dump(void) __attribute__((weak));

namespace lockstep::mc::detail {
namespace {

void count(stress_tally& t, std::uint64_t run, std::optional<bug_kind> kind, const std::string& message) {
  const std::string v = kind ? std::string("bug: ") + bug_kind_name(*kind) : "pass";
  ++t.runs;
  if (kind) {
    ++t.bugs;
    if (t.first.empty()) t.first = "run " + std::to_string(run + 1) + ": " + message;
  }
  auto it = std::find_if(t.verdicts.begin(), t.verdicts.end(), [&](const auto& p) { return p.first == v; });
  if (it == t.verdicts.end()) t.verdicts.emplace_back(v, 1);
  else ++it->second;
}

[[noreturn]] void child(int fd, body_ref body, std::uint64_t from, std::uint64_t runs, thread_run_options o) {
  // A fault ends the child as the signal does, whatever handler the caller
  // had (a checker's or a sanitizer's, which would report it as its own):
  // the parent names the signal.
  for (const int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS}) std::signal(sig, SIG_DFL);
  for (std::uint64_t i = from; i < runs; ++i) {
    o.seed = i + 1;
    const thread_run r = run_on_threads(nullptr, o, body);
    std::string line = r.kind ? bug_kind_name(*r.kind) : "pass";
    line += '\t';
    for (const char c : r.message) line += c == '\n' || c == '\t' ? ' ' : c;
    line += '\n';
    if (rt::write_all(fd, line) != 0) break;  // the parent is gone
  }
  ::close(fd);
  // _exit: the caller's exit handlers are not the child's to run (a leak
  // checker's would find the caller's other threads missing). A profiling
  // build writes its counts first.
  if (__gcov_dump != nullptr) __gcov_dump();
  ::_exit(0);
}

// What ended a child in the middle of a run, from its wait status.
std::pair<bug_kind, std::string> ended_by(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return {bug_kind::crash, "the process ended by signal " + std::to_string(sig) +
                                 (name != nullptr ? std::string(" (SIG") + name + ")" : std::string()) +
                                 " in the model's code"};
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == kStuckThreadsExitCode)
    return {bug_kind::non_termination,
            "the run was aborted and its threads did not stop (code that never reaches a scheduling point?)"};
  return {bug_kind::crash, "the model's code ended the process with exit code " + std::to_string(code)};
}

}  // namespace

stress_tally stress_runs(body_ref body, std::uint64_t runs, thread_run_options o) {
  stress_tally t;
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t next = 0;  // the first run no line came for
  while (next < runs) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw std::runtime_error(std::string("cannot make a pipe for the free runs: ") + std::strerror(errno));
    std::fflush(nullptr);  // nothing buffered is written twice
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      throw std::runtime_error(std::string("cannot fork for the free runs: ") + std::strerror(err));
    }
    if (pid == 0) {
      ::close(fds[0]);
      child(fds[1], body, next, runs, o);
    }
    ::close(fds[1]);
    std::string pending;
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(chunk, static_cast<std::size_t>(n));
      for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
        const std::string line = pending.substr(0, nl);
        const std::size_t tab = line.find('\t');
        const std::string kind = line.substr(0, tab);
        const std::string message = tab == std::string::npos ? std::string() : line.substr(tab + 1);
        count(t, next++, kind == "pass" ? std::nullopt : parse_bug_kind(kind), message);
      }
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (next >= runs) break;
    const auto [kind, message] = ended_by(status);
    count(t, next++, kind, message);
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

}  // namespace lockstep::mc::detail
