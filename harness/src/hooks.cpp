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
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

#include "os_runtime.hpp"
#include "runtime.hpp"
#include "text.hpp"

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

namespace {

// Plain OS threads (no execution on this one).
std::atomic_ref<std::uint32_t> plain_word(const std::uint32_t* w) noexcept {
  return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(w));
}

long plain_futex(const std::uint32_t* w, int op, std::uint32_t val, const timespec* ts) noexcept {
  return ::syscall(SYS_futex, w, op, val, ts, nullptr, 0);
}

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Drepper's three-state lock on the word: 0 free, 1 held, 2 held with
// sleepers (the production mutex's algorithm).
void plain_lock(std::uint32_t* word) noexcept {
  auto w = plain_word(word);
  std::uint32_t c = 0;
  if (w.compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
  if (c != 2) c = w.exchange(2, std::memory_order_acquire);
  while (c != 0) {
    plain_futex(word, FUTEX_WAIT_PRIVATE, 2, nullptr);
    c = w.exchange(2, std::memory_order_acquire);
  }
}

}  // namespace

bool active() noexcept { return runtime::current() != nullptr || os_runtime::current() != nullptr; }

std::uint64_t* point(op o, const void* addr, object_handle& h, const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->point(o, addr, h, loc);
  if (os_runtime* r = os_runtime::current()) return r->point(o, addr, h, loc);
  return nullptr;
}

void mark_failed_cas(std::uint64_t* rec) noexcept {
  // rec points at event::value, the first member of the event.
  reinterpret_cast<rt::event*>(rec)->o = op::cas_fail;
  if (runtime* r = runtime::current()) r->read_only();
}

void mark_read_only(std::uint64_t* rec) noexcept {
  (void)rec;
  if (runtime* r = runtime::current()) r->read_only();
}

bool futex_wait(const std::uint32_t* word, object_handle& h, std::uint32_t expected, bool timed,
                std::int64_t deadline_ns, const std::source_location& loc) {
  runtime* r = runtime::current();
  if (r != nullptr) return r->futex_wait(word, h, expected, timed, deadline_ns, loc);
  if (os_runtime* o = os_runtime::current()) return o->futex_wait(word, h, expected, timed, deadline_ns, loc);
  if (!timed) {
    plain_futex(word, FUTEX_WAIT_PRIVATE, expected, nullptr);
    return true;
  }
  const std::int64_t left = deadline_ns - steady_ns();  // the clock is the steady one here
  if (left <= 0) return plain_word(word).load() != expected;
  const timespec ts{static_cast<time_t>(left / 1000000000), static_cast<long>(left % 1000000000)};
  return !(plain_futex(word, FUTEX_WAIT_PRIVATE, expected, &ts) != 0 && errno == ETIMEDOUT);
}

void futex_wake(const std::uint32_t* word, object_handle& h, int count,
                const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->futex_wake(word, h, count, loc);
  if (os_runtime* o = os_runtime::current()) return o->futex_wake(word, h, count, loc);
  plain_futex(word, FUTEX_WAKE_PRIVATE, static_cast<std::uint32_t>(count), nullptr);
}

void lock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->lock_word(word, h, loc);
  if (os_runtime* o = os_runtime::current()) return o->lock_word(word, h, loc);
  plain_lock(word);
}

bool try_lock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->try_lock_word(word, h, loc);
  if (os_runtime* o = os_runtime::current()) return o->try_lock_word(word, h, loc);
  std::uint32_t c = 0;
  return plain_word(word).compare_exchange_strong(c, 1, std::memory_order_acquire);
}

std::uint32_t unlock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->unlock_word(word, h, loc);
  if (os_runtime* o = os_runtime::current()) return o->unlock_word(word, h, loc);
  const std::uint32_t prev = plain_word(word).exchange(0, std::memory_order_release);
  if (prev == 2) plain_futex(word, FUTEX_WAKE_PRIVATE, 1, nullptr);
  return prev != 0 ? 1 : 0;
}

void relax(const std::source_location& loc) {
  object_handle none;
  point(op::yield, nullptr, none, loc);
}

std::int64_t now_ns() noexcept {
  if (runtime* r = runtime::current()) return r->now();
  if (os_runtime* o = os_runtime::current()) return o->now();
  return steady_ns();
}

std::uint32_t choose(std::uint32_t n, const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->choose(n, loc);
  if (os_runtime* o = os_runtime::current()) return o->choose(n, loc);
  return 0;
}

bool spurious_wakeup(const void* obj, const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->spurious_wakeup(obj, loc);
  if (os_runtime* o = os_runtime::current()) return o->spurious_wakeup(obj, loc);
  return false;
}

void named(const void* obj, const char* name) noexcept {
  if (runtime* r = runtime::current()) {
    try {
      r->named(obj, name);
    } catch (...) {
    }
  }
}

void acquiring(const void* obj, lock_kind kind, acquire_flags flags, const std::source_location& loc) {
  if (runtime* r = runtime::current()) r->acquiring(obj, kind, flags, loc);
}

void acquired(const void* obj, lock_mode mode, const std::source_location& loc) {
  if (runtime* r = runtime::current()) r->acquired(obj, mode, loc);
}

void released(const void* obj, lock_mode mode, const std::source_location& loc) {
  if (runtime* r = runtime::current()) r->released(obj, mode, loc);
}

void destroyed(const void* obj) noexcept {
  if (runtime* r = runtime::current()) r->destroyed(obj);
}

void misuse(const void* obj, const char* what, const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->misuse(obj, what, loc);
  if (os_runtime* o = os_runtime::current()) return o->misuse(what, loc);
  std::fprintf(stderr, "lockstep: misuse of %p: %s (%s)\n", obj, what, rt::loc_text(loc).c_str());
  std::abort();
}

void assert_failed(const char* expr, const std::source_location& loc) {
  if (runtime* r = runtime::current()) r->assert_failed(expr, loc);
  if (os_runtime* o = os_runtime::current()) o->assert_failed(expr, loc);
  std::fprintf(stderr, "lockstep: assertion `%s` failed (%s)\n", expr, rt::loc_text(loc).c_str());
  std::abort();
}

void assert_failed_msg(const char* expr, const std::string& message, const std::source_location& loc) {
  if (runtime* r = runtime::current()) r->assert_failed(expr, loc, &message);
  if (os_runtime* o = os_runtime::current()) o->assert_failed(expr, loc, &message);
  std::fprintf(stderr, "lockstep: %s (assertion `%s` failed at %s)\n", message.c_str(), expr,
               rt::loc_text(loc).c_str());
  std::abort();
}

void release_enter() noexcept {
  if (runtime* r = runtime::current()) return r->release_enter();
  if (os_runtime* o = os_runtime::current()) o->release_enter();
}

void release_exit() noexcept {
  if (runtime* r = runtime::current()) return r->release_exit();
  if (os_runtime* o = os_runtime::current()) o->release_exit();
}

void name_thread(const char* name) noexcept {
  if (runtime* r = runtime::current()) return r->name_thread(name);
  if (os_runtime* o = os_runtime::current()) o->name_thread(name);
}

// On OS threads starvation is a property of the recorded history (it
// reproduces once the whole history has run): nothing to count there.
void retry_begin(const void* obj, const std::source_location& loc) {
  if (runtime* r = runtime::current()) r->retry_begin(obj, loc);
}

void retry_lost(const void* obj, const std::source_location& loc) {
  if (runtime* r = runtime::current()) r->retry_lost(obj, loc);
}

void retry_won(const void* obj, const std::source_location& loc) {
  if (runtime* r = runtime::current()) r->retry_won(obj, loc);
}

std::uint32_t spawn(const task_vtable& vt, void* callable, const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->spawn(vt, callable, loc);
  if (os_runtime* o = os_runtime::current()) return o->spawn(vt, callable, loc);
  throw std::logic_error("lockstep: an mc::thread was created outside a checked execution (explore())");
}

void join(std::uint32_t tid, const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->join(tid, loc);
  if (os_runtime* o = os_runtime::current()) o->join(tid, loc);
}

void detach(std::uint32_t tid) noexcept {
  if (runtime* r = runtime::current()) return r->detach(tid);
  if (os_runtime* o = os_runtime::current()) o->detach(tid);
}

void dropped_joinable(std::uint32_t tid, const std::source_location& loc) noexcept {
  if (runtime* r = runtime::current()) return r->dropped_joinable(tid, loc);
  if (os_runtime* o = os_runtime::current()) o->dropped_joinable(tid);
}

std::uint32_t current_thread() noexcept {
  if (runtime* r = runtime::current()) return r->current_thread();
  if (os_runtime* o = os_runtime::current()) return o->current_thread();
  return 0;
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
