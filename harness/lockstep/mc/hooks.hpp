// lockstep/mc/hooks.hpp — the calls checked types make into the runtime.
//
// User-facing checked types (mc::atomic, mc::thread, mc::platform, ...) hold
// no checker state beyond a small handle; every operation calls one of these
// out-of-line hooks, which are implemented in harness/src/engine/hooks.cpp. When no
// execution is running on the calling OS thread the hooks do nothing and the
// operation simply happens (so a checked type still works outside explore()).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>

#include "lockstep/platform.hpp"

namespace lockstep::mc {

// The operation an event performs. Stable: trace files and reports name them.
enum class op : std::uint8_t {
  start,        // a thread's first step
  load,
  store,
  rmw,          // exchange, fetch_add, fetch_sub, fetch_and, fetch_or, fetch_xor
  cas_ok,       // a compare-exchange that succeeded
  cas_fail,     // a compare-exchange that failed (a read)
  wait,         // a futex wait that blocked
  wait_skip,    // a futex wait that returned at once (value differed)
  wake_return,  // a blocked waiter resumed after a wake
  timeout,      // a blocked waiter resumed because its deadline fired
  wake,         // futex wake (value: how many woke)
  spawn,        // value: the child's thread id
  join,
  exit,
  yield,        // relax()
  choose,       // a nondeterministic choice (value: the alternative taken)
  fence,        // mc::atomic_thread_fence (value: the memory_order)
};
const char* op_name(op) noexcept;
// Parses the names op_name() prints; nullopt if unknown.
std::optional<op> parse_op(std::string_view) noexcept;

namespace detail {

// Per-object handle kept inside each checked object; the runtime assigns the
// id lazily, once per execution.
struct object_handle {
  std::uint32_t id = 0;
  std::uint32_t epoch = 0;
};

// True when a checked execution is running on this OS thread.
bool active() noexcept;
// True when the fiber execution running on this OS thread is stopping (a
// bug was found, end_execution() ended it, or a replay diverged from its
// trace): what a thread does from then on (code up to its next point, a
// store or release that completes there) is no part of the execution's
// trace. False on OS threads and outside an execution.
bool failing() noexcept;

// A scheduling point: the calling thread is about to perform `o` on the
// object at `addr`. Returns once the scheduler lets this thread run, with a
// pointer where the caller stores the value the operation produced (nullptr
// when nothing is recorded). May throw the internal abort exception to unwind
// a failed execution; never catch it (it does not derive from std::exception).
std::uint64_t* point(op o, const void* addr, object_handle& h, const std::source_location& loc);

// A checked atomic operation (mc::atomic<T>, sizeof(T) <= 8) on the value
// at `addr`, whose bytes the runtime reads and writes itself: under the
// memory model a load may return an older store than memory holds.
struct atomic_access {
  std::uint64_t operand = 0;   // store: the value; rmw: the operand; cas: desired
  std::uint64_t expected = 0;  // cas
  // rmw: the value it writes, from the one it read.
  std::uint64_t (*apply)(std::uint64_t old, std::uint64_t operand) noexcept = nullptr;
  std::uint8_t size = 0;       // bytes, 1..8
  bool sign = false;           // a signed integer: values are sign-extended to 64 bits
  bool weak = false;           // compare_exchange_weak
  std::memory_order order = std::memory_order_seq_cst;
  std::memory_order failure = std::memory_order_seq_cst;  // cas
};
// `o`: load, store, rmw or cas_ok (a CAS). Returns -1 outside an execution
// (the caller does the real operation); else 1, or 0 for a CAS that failed,
// with `read` the value read (load, rmw, cas).
int atomic_op(op o, void* addr, object_handle& h, const atomic_access& a, std::uint64_t& read,
              const std::source_location& loc);
// The same four operations on a value of `Size` bytes (1, 2, 4 or 8;
// `Sign`: sign-extended), with their fields as arguments: atomic_op with an
// atomic_access of that size and sign, which the runtime's lean path
// (options::lean_sampling) then need not build and read back.
using rmw_apply = std::uint64_t (*)(std::uint64_t old, std::uint64_t operand) noexcept;
template <unsigned Size, bool Sign>
int atomic_load(const void* addr, object_handle& h, std::memory_order order, std::uint64_t& read,
                const std::source_location& loc);
template <unsigned Size, bool Sign>
int atomic_store(void* addr, object_handle& h, std::uint64_t v, std::memory_order order,
                 const std::source_location& loc);
template <unsigned Size, bool Sign>
int atomic_rmw(void* addr, object_handle& h, rmw_apply apply, std::uint64_t operand, std::memory_order order,
               std::uint64_t& read, const std::source_location& loc);
// A CAS: `desired` is written if the value is `expected`.
template <unsigned Size, bool Sign>
int atomic_cas(void* addr, object_handle& h, std::uint64_t expected, std::uint64_t desired, bool weak,
               std::memory_order success, std::memory_order failure, std::uint64_t& read,
               const std::source_location& loc);
#define LOCKSTEP_TYPED_ATOMIC(kw, size, sign)                                                              \
  kw template int atomic_load<size, sign>(const void*, object_handle&, std::memory_order, std::uint64_t&, \
                                          const std::source_location&);                                  \
  kw template int atomic_store<size, sign>(void*, object_handle&, std::uint64_t, std::memory_order,      \
                                           const std::source_location&);                                 \
  kw template int atomic_rmw<size, sign>(void*, object_handle&, rmw_apply, std::uint64_t,                \
                                         std::memory_order, std::uint64_t&, const std::source_location&); \
  kw template int atomic_cas<size, sign>(void*, object_handle&, std::uint64_t, std::uint64_t, bool,     \
                                         std::memory_order, std::memory_order, std::uint64_t&,          \
                                         const std::source_location&);
#define LOCKSTEP_TYPED_ATOMICS(kw)                                                                   \
  LOCKSTEP_TYPED_ATOMIC(kw, 1, false) LOCKSTEP_TYPED_ATOMIC(kw, 1, true)                             \
  LOCKSTEP_TYPED_ATOMIC(kw, 2, false) LOCKSTEP_TYPED_ATOMIC(kw, 2, true)                             \
  LOCKSTEP_TYPED_ATOMIC(kw, 4, false) LOCKSTEP_TYPED_ATOMIC(kw, 4, true)                             \
  LOCKSTEP_TYPED_ATOMIC(kw, 8, false) LOCKSTEP_TYPED_ATOMIC(kw, 8, true)
LOCKSTEP_TYPED_ATOMICS(extern)  // defined in the library (engine/hooks.cpp)
// std::atomic_thread_fence under the checker.
void atomic_fence(std::memory_order order, const std::source_location& loc);

// Futex operations on a 32-bit word. Return as the os_platform ones do.
bool futex_wait(const std::uint32_t* word, object_handle& h, std::uint32_t expected,
                bool timed, std::int64_t deadline_ns, const std::source_location& loc);
void futex_wake(const std::uint32_t* word, object_handle& h, int count,
                const std::source_location& loc);
// The checker's native lock word (0 free, 1 held): lock blocks while held;
// unlock returns the previous value (0: it was not locked).
void lock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc);
bool try_lock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc);
std::uint32_t unlock_word(std::uint32_t* word, object_handle& h, const std::source_location& loc);
// A mutex `obj` whose lock is the lock word `word`: acquiring (blocking,
// lock_kind::mutex), lock_word and acquired (exclusive) in one call; released
// (exclusive) and unlock_word in one call, returning what unlock_word does.
void mutex_lock(const void* obj, std::uint32_t* word, object_handle& h, const std::source_location& loc);
std::uint32_t mutex_unlock(const void* obj, std::uint32_t* word, object_handle& h, const std::source_location& loc);
// The checker's native count word (a semaphore's count): acquire takes one
// unit, blocking while there is none (timed: until the deadline; false when
// it passed); release adds n unless that passes `limit` and returns the
// previous count (the caller reports a release past the limit).
bool count_acquire(std::uint32_t* word, object_handle& h, bool timed, std::int64_t deadline_ns,
                   const std::source_location& loc);
bool count_try_acquire(std::uint32_t* word, object_handle& h, const std::source_location& loc);
std::uint32_t count_release(std::uint32_t* word, object_handle& h, std::uint32_t n, std::uint32_t limit,
                            const std::source_location& loc);
// The checker's native condition variable on `word`. A wait is enqueue
// (while the caller still holds its lock; false: a timed wait whose deadline
// already passed, which does not wait), the caller's unlock, block (until
// notified: true, or the deadline passed: false), the caller's relock.
// notify wakes the earliest waiter, or all of them.
bool cond_enqueue(std::uint32_t* word, object_handle& h, bool timed, std::int64_t deadline_ns,
                  const std::source_location& loc);
bool cond_block(std::uint32_t* word, object_handle& h, bool timed, std::int64_t deadline_ns,
                const std::source_location& loc);
void cond_notify(std::uint32_t* word, object_handle& h, bool all, const std::source_location& loc);
// The checker's native monitor (lockstep::monitor_platform): a step on the
// monitor of lock word `lock` (its identity) and sequence word `seq`, which
// happens once `probe(ctx)` is ready (false: timed, the deadline passed; or
// the run is being abandoned), then the caller's body, then monitor_exit,
// which lets the waiters it made ready go.
bool monitor_step(std::uint32_t* lock, object_handle& h, std::uint32_t* seq, monitor_probe probe, const void* ctx,
                  const void* waits_on, bool timed, std::int64_t deadline_ns, const std::source_location& loc);
void monitor_exit(std::uint32_t* lock, object_handle& h, std::uint32_t* seq, const std::source_location& loc);
void relax(const std::source_location& loc);
std::int64_t now_ns() noexcept;
// A nondeterministic choice among n alternatives, made by the strategy (dfs
// enumerates it, random samples it, replay records it). Returns 0 outside an
// execution.
std::uint32_t choose(std::uint32_t n, const std::source_location& loc);
// Whether a wait on `obj` wakes spuriously now: a choice while the calling
// thread has spurious wake-ups left (options::spurious_wakeups).
bool spurious_wakeup(const void* obj, const std::source_location& loc);

// Ownership annotations (see lockstep/platform.hpp).
void named(const void* obj, const char* name) noexcept;
// `mode`: the mode it waits for (a shared acquisition does not overtake a
// thread waiting for shared mode).
void acquiring(const void* obj, lock_kind kind, acquire_flags flags, const std::source_location& loc,
               lock_mode mode = lock_mode::exclusive);
void acquired(const void* obj, lock_mode mode, const std::source_location& loc);
void released(const void* obj, lock_mode mode, const std::source_location& loc);
void destroyed(const void* obj) noexcept;
// A notify, release or set on `obj` (reports of lost wake-ups name it).
void notified(const void* obj, const std::source_location& loc) noexcept;
// A progress mark (LOCKSTEP_PROGRESS()): the livelock window starts again.
void progress() noexcept;
// Around a try_lock made of atomics (mc::futex_platform's): try_begin before
// its compare-exchange of `word` from 0, try_end after it. The step is then
// a try as a native lock word's is: announced as one that fails, and
// yields, while the word is not 0 (dpor), and a yield when it failed (fair
// scheduling, busy waiting).
void try_begin(const std::uint32_t* word) noexcept;
// The calling thread's next futex wait grants no order (the lock protocol's
// wait for a lock word, mc::futex_platform's): a thread blocked there is not
// overtaken by an acquisition of the lock it announced (no starvation), as
// a thread blocked on the native lock word is not.
void unordered_wait() noexcept;
void try_end(bool taken);
// From now on in this execution, every acquisition of the lock `obj` counts
// as progress (mc::progress_on_acquire).
void progress_on_acquire(const void* obj) noexcept;
// A plain (non-atomic) access to [addr, addr + size) for the data-race
// detector (mc::shared, mc::plain_read / plain_write); `forget` when the
// memory is gone.
void plain_access(const void* addr, std::size_t size, bool write, const std::source_location& loc);
void plain_forget(const void* addr) noexcept;
// Reports a misuse. Under the checker it records the bug and returns (the
// calling thread stops at its next scheduling point: misuse is often found in
// destructors, where throwing would terminate), so callers must return at
// once; outside an execution it prints one line and aborts.
void misuse(const void* obj, const char* what, const std::source_location& loc);
[[noreturn]] void assert_failed(const char* expr, const std::source_location& loc);
// LOCKSTEP_ASSERT_MSG: the same, with a message in words that leads the
// report (e.g. "client 1 and client 2 both hold the lock").
[[noreturn]] void assert_failed_msg(const char* expr, const std::string& message,
                                    const std::source_location& loc);
// A primitive's release path (unlock, unlock_shared, semaphore release,
// event set, notify, a queue's put / task_done / close, a promise's result,
// a pool's shutdown) often runs in a destructor, where throwing the abort of
// a failed execution would terminate the process. Inside a release_scope an
// abort does not throw: every step completes plainly (a lock is taken, or
// taken over from a suspended holder that only unwinds from then on; a join
// returns), and the thread unwinds at a later point. Only a wait that would
// really block cannot complete and still unwinds. Nests; costs two calls.
void release_enter() noexcept;
void release_exit() noexcept;
struct release_scope {
  release_scope() noexcept { release_enter(); }
  ~release_scope() { release_exit(); }
  release_scope(const release_scope&) = delete;
  release_scope& operator=(const release_scope&) = delete;
};
// Gives the calling checked thread a name for reports ("thread 1 (transfer
// A->B)"); `name` must outlive the execution (a string literal).
void name_thread(const char* name) noexcept;
// Optimistic retry loops (mc::retry_waiter in lockstep/mc/optimistic.hpp):
// the calling thread begins trying for `obj`, lost an attempt at it to the
// thread that won it last, or won it (committed).
void retry_begin(const void* obj, const std::source_location& loc);
void retry_lost(const void* obj, const std::source_location& loc);
void retry_won(const void* obj, const std::source_location& loc);

// Threads. The callable is moved into storage the runtime owns.
struct task_vtable {
  std::size_t size;
  std::size_t align;
  void (*move_to)(void* dst, void* src);  // move-construct at dst from src
  void (*invoke)(void* self);
  void (*destroy)(void* self) noexcept;
};
std::uint32_t spawn(const task_vtable& vt, void* callable, const std::source_location& loc);
void join(std::uint32_t tid, const std::source_location& loc);
void detach(std::uint32_t tid) noexcept;
void dropped_joinable(std::uint32_t tid, const std::source_location& loc) noexcept;
std::uint32_t current_thread() noexcept;
// For checkers built on executions (lockstep/mc/lin.hpp). await_quiescence
// blocks the calling thread until every other thread has finished or is
// blocked forever (no timeout pending, nothing left to wake it), where the
// execution would otherwise end as a deadlock, and returns how many are
// blocked; on OS threads and outside an execution it returns 0 at once.
// end_execution ends a fiber execution there without a bug: the blocked
// threads unwind from their waits, then the caller (it throws the internal
// abort exception).
std::uint32_t await_quiescence(const std::source_location& loc = std::source_location::current());
[[noreturn]] void end_execution();

}  // namespace detail
}  // namespace lockstep::mc
