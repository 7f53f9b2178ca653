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
#include <tuple>
#include <type_traits>

#include "threads/os_runtime.hpp"
#include "threads/os_words.hpp"
#include "engine/runtime.hpp"
#include "report/places.hpp"
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
    case op::fence: return "fence";
  }
  return "?";
}

const char* memory_model_name(memory_model m) noexcept { return m == memory_model::sc ? "sc" : "rc11"; }

std::optional<memory_model> parse_memory_model(std::string_view s) noexcept {
  if (s == "sc") return memory_model::sc;
  if (s == "rc11") return memory_model::rc11;
  return std::nullopt;
}

std::optional<op> parse_op(std::string_view s) noexcept {
  // The enumerators are contiguous from start to fence.
  for (auto i = static_cast<unsigned>(op::start); i <= static_cast<unsigned>(op::fence); ++i)
    if (s == op_name(static_cast<op>(i))) return static_cast<op>(i);
  return std::nullopt;
}

namespace detail {

using rt::runtime;
using os::os_runtime;

static_assert(rt::backend<runtime>);
static_assert(rt::backend<os_runtime>);

namespace {

// Every hook: the backend running this OS thread does it (f(backend,
// args...)), or, outside both, the plain operation (plain(args...)). f and
// plain capture nothing, so the fiber engine's path, the hot one (a step
// costs tens of nanoseconds), reaches the engine with the arguments still in
// registers; the rest is out of line.
template <class F, class Plain, class... A>
[[gnu::noinline, gnu::cold]] decltype(auto) off_fibers(F f, Plain plain, A... args) {
  if (os_runtime* o = os_runtime::current()) return f(*o, args...);
  return plain(args...);
}

// Scalars go to the cold path by value (no copy in memory on the hot one);
// objects (a handle the backend updates, a source location) by reference.
template <class A>
using pass_t = std::conditional_t<std::is_scalar_v<std::remove_cvref_t<A>> &&
                                       !(std::is_lvalue_reference_v<A> && !std::is_const_v<std::remove_reference_t<A>>),
                                   std::remove_cvref_t<A>, A&>;

// The report's replay of a failing execution (runtime::user_places): a
// source location in a header becomes the user's line (report/places.hpp),
// the other arguments go as they are.
template <class A>
using placed_t = std::conditional_t<std::is_same_v<std::remove_cvref_t<A>, std::source_location>,
                                    std::source_location, A&>;
template <class A>
decltype(auto) placed(A& a) {
  if constexpr (std::is_same_v<std::remove_cvref_t<A>, std::source_location>) return rt::user_place(a);
  else return (a);
}
template <class F, class... A>
[[gnu::noinline, gnu::cold]] decltype(auto) at_user_places(F f, runtime& r, A&... args) {
  std::tuple<placed_t<A>...> placed_args(placed(args)...);
  return std::apply([&](auto&... a) -> decltype(auto) { return f(r, a...); }, placed_args);
}

template <class F, class Plain, class... A>
[[gnu::always_inline]] inline decltype(auto) on_backend(F f, Plain plain, A&&... args) {
  if (runtime* r = runtime::current()) [[likely]] {
    if (r->user_places()) [[unlikely]]
      return at_user_places(f, *r, args...);
    return f(*r, args...);
  }
  return off_fibers<F, Plain, pass_t<A>...>(f, plain, args...);
}

// For the annotations, which outside an execution do nothing.
constexpr auto nothing = [](auto&...) {};

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Outside both backends: sleeps on `word` while it holds `v`, until woken
// (or a spurious return) or, if timed, until the steady clock reaches the
// deadline. `expired`: the deadline had passed already, it did not sleep.
enum class sleep_end { woken, timed_out, expired };
sleep_end sleep_on(const std::uint32_t* word, std::uint32_t v, bool timed, std::int64_t deadline_ns) noexcept {
  if (!timed) {
    os_words::futex(word, FUTEX_WAIT_PRIVATE, v, nullptr);
    return sleep_end::woken;
  }
  const std::int64_t left = deadline_ns - steady_ns();
  if (left <= 0) return sleep_end::expired;
  const timespec ts{static_cast<time_t>(left / 1000000000), static_cast<long>(left % 1000000000)};
  return os_words::futex(word, FUTEX_WAIT_PRIVATE, v, &ts) != 0 && errno == ETIMEDOUT ? sleep_end::timed_out
                                                                                      : sleep_end::woken;
}

// Outside both backends: takes a three-state lock word, sleeping while it
// is contended (2).
void lock_plain(std::uint32_t* word) noexcept {
  os_words::lock(word, [&] { os_words::futex(word, FUTEX_WAIT_PRIVATE, 2, nullptr); });
}

}  // namespace

bool active() noexcept { return runtime::current() != nullptr || os_runtime::current() != nullptr; }

bool failing() noexcept {
  const runtime* r = runtime::current();
  return r != nullptr && r->aborting();
}

std::uint64_t* point(op o, const void* addr, object_handle& h, const std::source_location& loc) {
  return on_backend([](auto& b, auto&... a) { return b.point(a...); }, [](auto&...) { return static_cast<std::uint64_t*>(nullptr); }, o, addr, h, loc);
}

int atomic_op(op o, void* addr, object_handle& h, const atomic_access& a, std::uint64_t& read,
              const std::source_location& loc) {
  return on_backend([](auto& b, auto&... x) { return b.atomic_op(x...); }, [](auto&...) { return -1; }, o, addr, h,
                    a, read, loc);
}

// The typed hooks: in a lean execution the runtime's own path, else
// atomic_op's. Each path builds its own access (`fill` sets the fields
// other than size and sign): the lean one's reaches no call, so its size
// and sign stay constants through the decision.
template <unsigned Size, bool Sign, class Fill>
[[gnu::always_inline]] inline int typed_op(op o, void* addr, object_handle& h, std::uint64_t& read,
                                           const std::source_location& loc, Fill fill) {
  const auto make = [&] {
    atomic_access a;
    a.size = Size;
    a.sign = Sign;
    fill(a);
    return a;
  };
  if (runtime* r = runtime::current()) [[likely]] {
    if (r->lean()) [[likely]] {
      const atomic_access a = make();
      return r->lean_atomic<Size, Sign>(o, addr, h, a, read, loc);
    }
    if (!r->user_places()) [[likely]] {  // atomic_op's own dispatch, without a call on the way
      const atomic_access a = make();
      return r->atomic_op(o, addr, h, a, read, loc);
    }
  }
  const atomic_access a = make();
  return atomic_op(o, addr, h, a, read, loc);
}

template <unsigned Size, bool Sign>
int atomic_load(const void* addr, object_handle& h, std::memory_order order, std::uint64_t& read,
                const std::source_location& loc) {
  return typed_op<Size, Sign>(op::load, const_cast<void*>(addr), h, read, loc, [&](atomic_access& a) { a.order = order; });
}

template <unsigned Size, bool Sign>
int atomic_store(void* addr, object_handle& h, std::uint64_t v, std::memory_order order,
                 const std::source_location& loc) {
  std::uint64_t read = 0;
  return typed_op<Size, Sign>(op::store, addr, h, read, loc, [&](atomic_access& a) {
    a.operand = v;
    a.order = order;
  });
}

template <unsigned Size, bool Sign>
int atomic_rmw(void* addr, object_handle& h, rmw_apply apply, std::uint64_t operand, std::memory_order order,
               std::uint64_t& read, const std::source_location& loc) {
  return typed_op<Size, Sign>(op::rmw, addr, h, read, loc, [&](atomic_access& a) {
    a.operand = operand;
    a.apply = apply;
    a.order = order;
  });
}

template <unsigned Size, bool Sign>
int atomic_cas(void* addr, object_handle& h, std::uint64_t expected, std::uint64_t desired, bool weak,
               std::memory_order success, std::memory_order failure, std::uint64_t& read,
               const std::source_location& loc) {
  return typed_op<Size, Sign>(op::cas_ok, addr, h, read, loc, [&](atomic_access& a) {
    a.operand = desired;
    a.expected = expected;
    a.weak = weak;
    a.order = success;
    a.failure = failure;
  });
}

LOCKSTEP_TYPED_ATOMICS()

void atomic_fence(std::memory_order order, const std::source_location& loc) {
  on_backend([](auto& b, auto&... x) { b.atomic_fence(x...); },
             [](std::memory_order o, const std::source_location&) { std::atomic_thread_fence(o); }, order, loc);
}

bool futex_wait(const std::uint32_t* word, object_handle& h, std::uint32_t expected, bool timed,
                std::int64_t deadline_ns, const std::source_location& loc) {
  return on_backend(
      [](auto& b, auto&... a) { return b.futex_wait(a...); },
      [](const std::uint32_t* word, object_handle&, std::uint32_t expected, bool timed, std::int64_t deadline_ns,
         const std::source_location&) {
    switch (sleep_on(word, expected, timed, deadline_ns)) {
      case sleep_end::woken: return true;
      case sleep_end::timed_out: return false;
      case sleep_end::expired: break;
    }
    return os_words::ref(word).load() != expected;
      },
      word, h, expected, timed, deadline_ns, loc);
}

void futex_wake(const std::uint32_t* word, object_handle& h, int count, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.futex_wake(a...); },
             [](const std::uint32_t* w, object_handle&, int n, const std::source_location&) {
               os_words::wake(w, static_cast<std::uint32_t>(n));
             },
             word, h, count, loc);
}

void lock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.lock_word(a...); },
             [](std::uint32_t* w, object_handle&, const std::source_location&) {
               lock_plain(w);
             },
             word, h, loc);
}

bool try_lock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  return on_backend([](auto& b, auto&... a) { return b.try_lock_word(a...); },
                    [](std::uint32_t* w, object_handle&, const std::source_location&) {
                      std::uint32_t seen;
                      return os_words::try_lock(w, seen);
                    },
                    word, h, loc);
}

std::uint32_t unlock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  return on_backend([](auto& b, auto&... a) { return b.unlock_word(a...); },
                    [](std::uint32_t* w, object_handle&, const std::source_location&) { return os_words::unlock(w); },
                    word, h, loc);
}

// The fiber engine does the three as one; the OS-thread one as they come.
void mutex_lock(const void* obj, std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  if (runtime* r = runtime::current(); r != nullptr && r->lean()) [[likely]]
    return r->lean_mutex_lock(obj, word, h, loc);
  on_backend(
      [](auto& b, const void* m, std::uint32_t* w, object_handle& hd, const std::source_location& l) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(b)>, runtime>) {
          b.mutex_lock(m, w, hd, l);
        } else {
          b.acquiring(m, lock_kind::mutex, acquire_flags::blocking, l, lock_mode::exclusive);
          b.lock_word(w, hd, l);
          b.acquired(m, lock_mode::exclusive, l);
        }
      },
      [](const void*, std::uint32_t* w, object_handle&, const std::source_location&) {
        lock_plain(w);
      },
      obj, word, h, loc);
}

std::uint32_t mutex_unlock(const void* obj, std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  if (runtime* r = runtime::current(); r != nullptr && r->lean()) [[likely]]
    return r->lean_mutex_unlock(obj, word, h, loc);
  return on_backend(
      [](auto& b, const void* m, std::uint32_t* w, object_handle& hd, const std::source_location& l) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(b)>, runtime>) {
          return b.mutex_unlock(m, w, hd, l);
        } else {
          b.released(m, lock_mode::exclusive, l);
          return b.unlock_word(w, hd, l);
        }
      },
      [](const void*, std::uint32_t* w, object_handle&, const std::source_location&) { return os_words::unlock(w); },
      obj, word, h, loc);
}

bool count_acquire(std::uint32_t* word, object_handle& h, bool timed, std::int64_t deadline_ns,
                   const std::source_location& loc) {
  return on_backend(
      [](auto& b, auto&... a) { return b.count_acquire(a...); },
      [](std::uint32_t* w, object_handle&, bool timed, std::int64_t deadline_ns, const std::source_location&) {
        // A timed-out sleep tries once more, then finds the deadline passed.
        return os_words::count_acquire(w, [&] { return sleep_on(w, 0, timed, deadline_ns) != sleep_end::expired; });
      },
      word, h, timed, deadline_ns, loc);
}

bool count_try_acquire(std::uint32_t* word, object_handle& h, const std::source_location& loc) {
  return on_backend([](auto& b, auto&... a) { return b.count_try_acquire(a...); },
                    [](std::uint32_t* w, object_handle&, const std::source_location&) {
                      std::uint32_t seen;
                      return os_words::count_try(w, seen);
                    },
                    word, h, loc);
}

std::uint32_t count_release(std::uint32_t* word, object_handle& h, std::uint32_t n, std::uint32_t limit,
                            const std::source_location& loc) {
  return on_backend(
      [](auto& b, auto&... a) { return b.count_release(a...); },
      [](std::uint32_t* w, object_handle&, std::uint32_t n, std::uint32_t limit, const std::source_location&) {
        return os_words::count_release(w, n, limit);
      },
      word, h, n, limit, loc);
}

// Outside an execution: the futex protocol of a sequence word (the waiter
// remembers the word's value when it enqueues and sleeps while it is
// unchanged; a notify bumps it and wakes every sleeper, each re-checking its
// predicate as after a spurious wake-up).
namespace {
thread_local std::uint32_t tl_cond_seq = 0;
}

bool cond_enqueue(std::uint32_t* word, object_handle& h, bool timed, std::int64_t deadline_ns,
                  const std::source_location& loc) {
  return on_backend([](auto& b, auto&... a) { return b.cond_enqueue(a...); },
                    [](std::uint32_t* w, object_handle&, bool timed, std::int64_t deadline_ns, const std::source_location&) {
                      tl_cond_seq = os_words::ref(w).load(std::memory_order_acquire);
                      return !timed || deadline_ns > steady_ns();
                    },
                    word, h, timed, deadline_ns, loc);
}

bool cond_block(std::uint32_t* word, object_handle& h, bool timed, std::int64_t deadline_ns,
                const std::source_location& loc) {
  return on_backend([](auto& b, auto&... a) { return b.cond_block(a...); },
                    [](std::uint32_t* w, object_handle& h, bool timed, std::int64_t deadline_ns,
                       const std::source_location& loc) {
                      return futex_wait(w, h, tl_cond_seq, timed, deadline_ns, loc);
                    },
                    word, h, timed, deadline_ns, loc);
}

void cond_notify(std::uint32_t* word, object_handle& h, bool all, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.cond_notify(a...); },
             [](std::uint32_t* w, object_handle&, bool, const std::source_location&) {
               os_words::ref(w).fetch_add(1, std::memory_order_seq_cst);
               os_words::wake(w, 0x7fffffff);
             },
             word, h, all, loc);
}

bool monitor_step(std::uint32_t* lock, object_handle& h, std::uint32_t* seq, monitor_probe probe, const void* ctx,
                  const void* waits_on, bool timed, std::int64_t deadline_ns, const std::source_location& loc) {
  return on_backend(
      [](auto& b, auto&... a) { return b.monitor_step(a...); },
      [](std::uint32_t* lock, object_handle&, std::uint32_t* seq, monitor_probe probe, const void* ctx, const void*,
         bool timed, std::int64_t deadline_ns, const std::source_location&) {
        return os_words::monitor_step(
            lock, seq, probe, ctx, lock_plain,
            [&](std::uint32_t* s, std::uint32_t seen) { return sleep_on(s, seen, timed, deadline_ns) != sleep_end::expired; });
      },
      lock, h, seq, probe, ctx, waits_on, timed, deadline_ns, loc);
}

void monitor_exit(std::uint32_t* lock, object_handle& h, std::uint32_t* seq, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.monitor_exit(a...); },
             [](std::uint32_t* lock, object_handle&, std::uint32_t* seq, const std::source_location&) {
               os_words::monitor_exit(lock, seq);
             },
             lock, h, seq, loc);
}

void relax(const std::source_location& loc) {
  object_handle none;
  point(op::yield, nullptr, none, loc);
}

std::int64_t now_ns() noexcept {
  return on_backend([](auto& b) { return b.now(); }, [] { return steady_ns(); });
}

std::uint32_t choose(std::uint32_t n, const std::source_location& loc) {
  return on_backend([](auto& b, auto&... a) { return b.choose(a...); }, [](auto&...) { return std::uint32_t{0}; }, n, loc);
}

bool spurious_wakeup(const void* obj, const std::source_location& loc) {
  return on_backend([](auto& b, auto&... a) { return b.spurious_wakeup(a...); }, [](auto&...) { return false; }, obj, loc);
}

void named(const void* obj, const char* name) noexcept {
  on_backend([](auto& b, auto&... a) { b.named(a...); }, nothing, obj, name);
}

void acquiring(const void* obj, lock_kind kind, acquire_flags flags, const std::source_location& loc,
               lock_mode mode) {
  on_backend([](auto& b, auto&... a) { b.acquiring(a...); }, nothing, obj, kind, flags, loc, mode);
}

void acquired(const void* obj, lock_mode mode, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.acquired(a...); }, nothing, obj, mode, loc);
}

void released(const void* obj, lock_mode mode, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.released(a...); }, nothing, obj, mode, loc);
}

void destroyed(const void* obj) noexcept {
  on_backend([](auto& b, auto&... a) { b.destroyed(a...); }, nothing, obj);
}

void notified(const void* obj, const std::source_location& loc) noexcept {
  on_backend([](auto& b, auto&... a) { b.notified(a...); }, nothing, obj, loc);
}

void unordered_wait() noexcept {
  on_backend([](auto& b) { b.unordered_wait(); }, nothing);
}

void progress() noexcept {
  on_backend([](auto& b) { b.progress(); }, nothing);
}

void try_begin(const std::uint32_t* word) noexcept {
  on_backend([](auto& b, auto&... a) { b.try_begin(a...); }, nothing, word);
}

void try_end(bool taken) {
  on_backend([](auto& b, auto&... a) { b.try_end(a...); }, nothing, taken);
}

void progress_on_acquire(const void* obj) noexcept {
  on_backend([](auto& b, auto&... a) { b.progress_on_acquire(a...); }, nothing, obj);
}

void plain_access(const void* addr, std::size_t size, bool write, const std::source_location& loc) {
  if (runtime* r = runtime::current(); r != nullptr && r->lean()) [[likely]]
    return r->lean_plain_access(addr, size, write, loc);
  on_backend([](auto& b, auto&... a) { b.plain_access(a...); }, nothing, addr, size, write, loc);
}

void plain_forget(const void* addr) noexcept {
  on_backend([](auto& b, auto&... a) { b.plain_forget(a...); }, nothing, addr);
}

void misuse(const void* obj, const char* what, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.misuse(a...); },
             [](const void* o, const char* w, const std::source_location& l) {
               std::fprintf(stderr, "lockstep: misuse of %p: %s (%s)\n", o, w, rt::loc_text(l).c_str());
               std::abort();
             },
             obj, what, loc);
}

void assert_failed(const char* expr, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.assert_failed(a...); }, nothing, expr, loc, nullptr);
  std::fprintf(stderr, "lockstep: assertion `%s` failed (%s)\n", expr, rt::loc_text(loc).c_str());
  std::abort();
}

void assert_failed_msg(const char* expr, const std::string& message, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.assert_failed(a...); }, nothing, expr, loc, &message);
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
  on_backend([](auto& b, auto&... a) { b.name_thread(a...); }, nothing, name);
}

void retry_begin(const void* obj, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.retry_begin(a...); }, nothing, obj, loc);
}

void retry_lost(const void* obj, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.retry_lost(a...); }, nothing, obj, loc);
}

void retry_won(const void* obj, const std::source_location& loc) {
  on_backend([](auto& b, auto&... a) { b.retry_won(a...); }, nothing, obj, loc);
}

std::uint32_t spawn(const task_vtable& vt, void* callable, const std::source_location& loc) {
  return on_backend([](auto& b, auto&... a) { return b.spawn(a...); },
                    [](auto&...) -> std::uint32_t {
                      throw std::logic_error(
                          "lockstep: an mc::thread was created outside a checked execution (explore())");
                    },
                    vt, callable, loc);
}

void join(std::uint32_t tid, const std::source_location& loc) {
  // Outside one, the thread's execution has ended: its thread with it (a
  // stale object kept past explore()). Joining it would pass for nothing.
  on_backend([](auto& b, auto&... a) { b.join(a...); },
             [](std::uint32_t, const std::source_location& where) {
               throw std::logic_error(std::string("lockstep: join() of an mc::thread outside a checked execution, at ") +
                                      where.file_name() + ":" + std::to_string(where.line()) +
                                      " (its execution has ended, and its thread with it: the object holding it "
                                      "outlives the execution, a static thread pool say; create it in the body)");
             },
             tid, loc);
}

void detach(std::uint32_t tid) noexcept {
  on_backend([](auto& b, auto&... a) { b.detach(a...); }, nothing, tid);
}

void dropped_joinable(std::uint32_t tid, const std::source_location& loc) noexcept {
  on_backend([](auto& b, auto&... a) { b.dropped_joinable(a...); }, nothing, tid, loc);
}

std::uint32_t current_thread() noexcept {
  return on_backend([](auto& b) { return b.current_thread(); }, [](auto&...) { return std::uint32_t{0}; });
}

std::uint32_t await_quiescence(const std::source_location& loc) {
  if (runtime* r = runtime::current()) return r->await_quiescence(loc);
  return 0;
}

void end_execution() {
  if (runtime* r = runtime::current()) r->end_execution();
  throw std::logic_error("lockstep: end_execution() needs a checked execution on fibers");
}

}  // namespace detail
}  // namespace lockstep::mc

// std::thread, std::jthread and every other way to start an OS thread come
// here. Inside a checked execution such a thread would run unchecked (the
// mc:: objects it touches see no execution on it) and the check would pass
// silently: it is refused and reported as misuse instead, on fibers and on
// an OS-thread run's model threads alike. Elsewhere (the checker's own
// workers, an OS-thread run's spawn of an mc::thread, plain programs) it is
// the real call.
//
// A sanitizer's runtime intercepts pthread_create too, under this name (a
// weak alias of __interceptor_pthread_create). Linked into the program, as
// clang links it, it loses to this definition, and dlsym(RTLD_NEXT) then
// finds libc's: the call goes on through the interceptor, or the sanitizer
// would not know the thread (AddressSanitizer, not knowing a checker worker's
// stacks, leaves a fiber's frames poisoned when an exception unwinds them,
// and reports false overflows into them later).
extern "C" int __interceptor_pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                            void* (*start)(void*), void* arg) __attribute__((weak));

extern "C" int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*),
                              void* arg) {
  using create_fn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  static const auto real = &__interceptor_pthread_create != nullptr
                               ? &__interceptor_pthread_create
                               : reinterpret_cast<create_fn>(::dlsym(RTLD_NEXT, "pthread_create"));
  if (lockstep::mc::rt::runtime* r = lockstep::mc::rt::runtime::current(); r != nullptr && r->refuse_os_thread())
    return EAGAIN;
  if (lockstep::mc::os::os_runtime* o = lockstep::mc::os::os_runtime::current(); o != nullptr && o->refuse_os_thread())
    return EAGAIN;
  if (real == nullptr) return ENOSYS;
  return real(thread, attr, start, arg);
}
