// The out-of-line hooks of lockstep/mc/hooks.hpp: forward to the runtime of
// the calling OS thread, or do the plain thing outside an execution.
//
// Outside an execution the plain thing is the real one, so mc:: objects
// shared by plain OS threads (outside explore()) behave like the production
// primitives: atomics are real atomics, the lock word is a real futex lock,
// waits and wakes are real futex calls, and the virtual clock reads the
// steady clock. Only mc::thread refuses (it needs the checker).
#include "lockstep/mc/hooks.hpp"

#include <dlfcn.h>
#include <linux/futex.h>
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

#include "threads/os_runtime.hpp"
#include "threads/os_words.hpp"
#include "engine/runtime.hpp"
#include "report/text.hpp"

namespace lockstep::mc {

const char* op_name(op o) noexcept {
  switch (o) {
    case op::start: return "start";
    case op::load: return "load";
    case op::store: return "store";
    case op::rmw: return "rmw";
    case op::cas_ok: return "cas";
    case op::cas_fail: return "cas-fail";
    case op::wait: return "wait";
    case op::wait_skip: return "wait-skip";
    case op::wake_return: return "wake-return";
    case op::timeout: return "timeout";
    case op::wake: return "wake";
    case op::spawn: return "spawn";
    case op::join: return "join";
    case op::exit: return "exit";
    case op::yield: return "yield";
    case op::choose: return "choose";
  }
  return "?";
}

std::optional<op> parse_op(std::string_view s) noexcept {
  // The enumerators are contiguous from start to choose.
  for (auto i = static_cast<unsigned>(op::start); i <= static_cast<unsigned>(op::choose); ++i)
    if (s == op_name(static_cast<op>(i))) return static_cast<op>(i);
  return std::nullopt;
}

namespace detail {

using rt::runtime;
using os::os_runtime;

static_assert(rt::backend<runtime>);
static_assert(rt::backend<os_runtime>);

namespace {

// Every hook: the backend running this OS thread does it (f(backend)), or,
// outside both, the plain operation (plain()).
template <class F, class Plain>
[[gnu::always_inline]] inline decltype(auto) on_backend(F&& f, Plain&& plain) {
  if (runtime* r = runtime::current()) return f(*r);
  if (os_runtime* o = os_runtime::current()) return f(*o);
  return plain();
}

// For the annotations, which outside an execution do nothing.
constexpr auto nothing = [] {};

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool active() noexcept { return runtime::current() != nullptr || os_runtime::current() != nullptr; }

std::uint64_t* point(op o, const void* addr, object_handle& h, const std::source_location& loc) {
  return on_backend([&](auto& b) { return b.point(o, addr, h, loc); }, [] { return static_cast<std::uint64_t*>(nullptr); });
}

void mark_failed_cas(std::uint64_t* rec) noexcept {
  on_backend([&](auto& b) { b.failed_cas(rec); }, nothing);
}

void mark_read_only(std::uint64_t*) noexcept {
  on_backend([](auto& b) { b.read_only(); }, nothing);
}

bool futex_wait(const std::uint32_t* word, object_handle& h, std::uint32_t expected, bool timed,
                std::int64_t deadline_ns, const std::source_location& loc) {
  return on_backend([&](auto& b) { return b.futex_wait(word, h, expected, timed, deadline_ns, loc); }, [&] {
    if (!timed) {
      os_words::futex(word, FUTEX_WAIT_PRIVATE, expected, nullptr);
      return true;
    }
    const std::int64_t left = deadline_ns - steady_ns();  // the clock is the steady one here
    if (left <= 0) return os_words::ref(word).load() != expected;
    const timespec ts{static_cast<time_t>(left / 1000000000), static_cast<long>(left % 1000000000)};
    return !(os_words::futex(word, FUTEX_WAIT_PRIVATE, expected, &ts) != 0 && errno == ETIMEDOUT);
  });
}

void futex_wake(const std::uint32_t* word, object_handle& h, int count, const std::source_location& loc) {
  on_backend([&](auto& b) { b.futex_wake(word, h, count, loc); },
             [&] { os_words::wake(word, static_cast<std::uint32_t>(count)); });
}

void lock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  on_backend([&](auto& b) { b.lock_word(word, h, loc); },
             [&] { os_words::lock(word, [&] { os_words::futex(word, FUTEX_WAIT_PRIVATE, 2, nullptr); }); });
}

bool try_lock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  return on_backend([&](auto& b) { return b.try_lock_word(word, h, loc); }, [&] {
    std::uint32_t seen;
    return os_words::try_lock(word, seen);
  });
}

std::uint32_t unlock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  return on_backend([&](auto& b) { return b.unlock_word(word, h, loc); }, [&] { return os_words::unlock(word); });
}

void relax(const std::source_location& loc) {
  object_handle none;
  point(op::yield, nullptr, none, loc);
}

std::int64_t now_ns() noexcept {
  return on_backend([](auto& b) { return b.now(); }, [] { return steady_ns(); });
}

std::uint32_t choose(std::uint32_t n, const std::source_location& loc) {
  return on_backend([&](auto& b) { return b.choose(n, loc); }, [] { return std::uint32_t{0}; });
}

bool spurious_wakeup(const void* obj, const std::source_location& loc) {
  return on_backend([&](auto& b) { return b.spurious_wakeup(obj, loc); }, [] { return false; });
}

void named(const void* obj, const char* name) noexcept {
  on_backend([&](auto& b) { b.named(obj, name); }, nothing);
}

void acquiring(const void* obj, lock_kind kind, acquire_flags flags, const std::source_location& loc) {
  on_backend([&](auto& b) { b.acquiring(obj, kind, flags, loc); }, nothing);
}

void acquired(const void* obj, lock_mode mode, const std::source_location& loc) {
  on_backend([&](auto& b) { b.acquired(obj, mode, loc); }, nothing);
}

void released(const void* obj, lock_mode mode, const std::source_location& loc) {
  on_backend([&](auto& b) { b.released(obj, mode, loc); }, nothing);
}

void destroyed(const void* obj) noexcept {
  on_backend([&](auto& b) { b.destroyed(obj); }, nothing);
}

void notified(const void* obj, const std::source_location& loc) noexcept {
  on_backend([&](auto& b) { b.notified(obj, loc); }, nothing);
}

void progress() noexcept {
  on_backend([](auto& b) { b.progress(); }, nothing);
}

void progress_on_acquire(const void* obj) noexcept {
  on_backend([&](auto& b) { b.progress_on_acquire(obj); }, nothing);
}

void plain_access(const void* addr, std::size_t size, bool write, const std::source_location& loc) {
  on_backend([&](auto& b) { b.plain_access(addr, size, write, loc); }, nothing);
}

void plain_forget(const void* addr) noexcept {
  on_backend([&](auto& b) { b.plain_forget(addr); }, nothing);
}

void misuse(const void* obj, const char* what, const std::source_location& loc) {
  on_backend([&](auto& b) { b.misuse(obj, what, loc); }, [&] {
    std::fprintf(stderr, "lockstep: misuse of %p: %s (%s)\n", obj, what, rt::loc_text(loc).c_str());
    std::abort();
  });
}

void assert_failed(const char* expr, const std::source_location& loc) {
  on_backend([&](auto& b) { b.assert_failed(expr, loc, nullptr); }, nothing);
  std::fprintf(stderr, "lockstep: assertion `%s` failed (%s)\n", expr, rt::loc_text(loc).c_str());
  std::abort();
}

void assert_failed_msg(const char* expr, const std::string& message, const std::source_location& loc) {
  on_backend([&](auto& b) { b.assert_failed(expr, loc, &message); }, nothing);
  std::fprintf(stderr, "lockstep: %s (assertion `%s` failed at %s)\n", message.c_str(), expr,
               rt::loc_text(loc).c_str());
  std::abort();
}

void release_enter() noexcept {
  on_backend([](auto& b) { b.release_enter(); }, nothing);
}

void release_exit() noexcept {
  on_backend([](auto& b) { b.release_exit(); }, nothing);
}

void name_thread(const char* name) noexcept {
  on_backend([&](auto& b) { b.name_thread(name); }, nothing);
}

void retry_begin(const void* obj, const std::source_location& loc) {
  on_backend([&](auto& b) { b.retry_begin(obj, loc); }, nothing);
}

void retry_lost(const void* obj, const std::source_location& loc) {
  on_backend([&](auto& b) { b.retry_lost(obj, loc); }, nothing);
}

void retry_won(const void* obj, const std::source_location& loc) {
  on_backend([&](auto& b) { b.retry_won(obj, loc); }, nothing);
}

std::uint32_t spawn(const task_vtable& vt, void* callable, const std::source_location& loc) {
  return on_backend([&](auto& b) { return b.spawn(vt, callable, loc); }, []() -> std::uint32_t {
    throw std::logic_error("lockstep: an mc::thread was created outside a checked execution (explore())");
  });
}

void join(std::uint32_t tid, const std::source_location& loc) {
  on_backend([&](auto& b) { b.join(tid, loc); }, nothing);
}

void detach(std::uint32_t tid) noexcept {
  on_backend([&](auto& b) { b.detach(tid); }, nothing);
}

void dropped_joinable(std::uint32_t tid, const std::source_location& loc) noexcept {
  on_backend([&](auto& b) { b.dropped_joinable(tid, loc); }, nothing);
}

std::uint32_t current_thread() noexcept {
  return on_backend([](auto& b) { return b.current_thread(); }, [] { return std::uint32_t{0}; });
}

}  // namespace detail
}  // namespace lockstep::mc

// std::thread, std::jthread and every other way to start an OS thread come
// here. Inside a checked execution such a thread would run unchecked (the
// mc:: objects it touches see no execution on it) and the check would pass
// silently: it is refused and reported as misuse instead. Elsewhere (the
// checker's own workers, OS-thread replays, plain programs) it is the real
// call.
extern "C" int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*),
                              void* arg) {
  using create_fn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  static const auto real = reinterpret_cast<create_fn>(::dlsym(RTLD_NEXT, "pthread_create"));
  if (lockstep::mc::rt::runtime* r = lockstep::mc::rt::runtime::current(); r != nullptr && r->refuse_os_thread())
    return EAGAIN;
  if (real == nullptr) return ENOSYS;
  return real(thread, attr, start, arg);
}
