// Production platform: Linux futexes and the misuse reporter.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "lockstep/condition_variable.hpp"
#include "lockstep/counters.hpp"
#include "lockstep/event.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/platform.hpp"
#include "lockstep/recursive_mutex.hpp"
#include "lockstep/shared_mutex.hpp"
#include "lockstep/thread_pool.hpp"

namespace lockstep {

// The production instantiations, compiled once here.
template class basic_mutex<os_platform>;
template class basic_recursive_mutex<os_platform>;
template class detail::condition_core<os_platform, false>;
template class detail::condition_core<os_platform, true>;
template class basic_event<os_platform>;
template class basic_shared_mutex<reader_preferring, os_platform>;
template class basic_shared_mutex<writer_preferring, os_platform>;
template class basic_shared_mutex<fair, os_platform>;
template class basic_atomic_counter<os_platform>;
template class basic_locked_counter<os_platform>;
template class basic_striped_counter<os_platform>;
template class basic_owned_counter<os_platform>;
template class basic_thread_pool<os_platform>;

namespace detail {
namespace {
long futex(void* addr, int op, std::uint32_t val, const struct timespec* ts) noexcept {
  return ::syscall(SYS_futex, addr, op, val, ts, nullptr, 0);
}
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
}  // namespace

void os_misuse(const void* object, const char* what, const std::source_location& loc) noexcept {
  std::fprintf(stderr, "lockstep: misuse of %p: %s (%s:%u)\n", object, what, loc.file_name(),
               static_cast<unsigned>(loc.line()));
  std::abort();
}

void os_futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  futex(&word, FUTEX_WAIT_PRIVATE, expected, nullptr);
}

bool os_futex_wait_until(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                         std::chrono::steady_clock::time_point deadline) noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (deadline <= now) return word.load(std::memory_order_relaxed) != expected;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now).count();
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  if (futex(&word, FUTEX_WAIT_PRIVATE, expected, &ts) == -1 && errno == ETIMEDOUT) return false;
  return true;
}

void os_futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  futex(&word, FUTEX_WAKE_PRIVATE, static_cast<std::uint32_t>(count), nullptr);
}

}  // namespace detail
}  // namespace lockstep
