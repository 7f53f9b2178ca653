// Internal: one model-checking execution engine (fibers, scheduling,
// ownership, detectors). One runtime per explore() call, on one OS thread.
//
// Switching is direct: the thread at a scheduling point asks the strategy and
// jumps straight to the next thread's fiber (Boost.Context fcontext). Fibers
// belong to thread slots and are reused across executions: a finished thread's
// fiber parks at its loop top and runs the next task given to that slot.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <tuple>
#include <vector>

#include "engine/backend.hpp"
#include "engine/dcheck.hpp"
#include "lockstep/mc/explore.hpp"
#include "engine/fatal.hpp"
#include "lockstep/mc/hooks.hpp"
#include "detectors/busy_wait.hpp"
#include "detectors/fairness.hpp"
#include "detectors/livelock.hpp"
#include "detectors/races.hpp"
#include "detectors/retries.hpp"
#include "detectors/wait_for.hpp"
#include "engine/fiber.hpp"
#include "engine/id_set.hpp"
#include "engine/memory.hpp"
#include "engine/objects.hpp"
#include "report/describe.hpp"
#include "trace/replay_check.hpp"
#include "strategies/strategy.hpp"

namespace lockstep::mc::rt {

// blocked_quiescent: waiting until every other thread has finished or is
// blocked forever (runtime::await_quiescence).
enum class tstate : std::uint8_t { runnable, blocked_futex, blocked_join, blocked_quiescent, finished };

// Threads blocked on one object's word, in the order they blocked (FIFO), as
// an intrusive list through thread_rec::wq_next / wq_prev.
struct wait_queue {
  std::uint32_t head = kNoThread;
  std::uint32_t tail = kNoThread;
};

// What a thread is in one execution, to the engine: new_thread() starts it
// afresh by assignment, so nothing carries over from an earlier execution.
struct thread_exec {
  tstate st = tstate::runnable;
  // A releasing operation (store, read-modify-write, wake, unlock) often
  // runs in a destructor: an abort there does not throw (that would
  // terminate), the operation completes plainly and the thread unwinds from
  // a later point. abort_grace bounds how many such operations it may still
  // run, so a loop of them cannot keep it from unwinding.
  std::uint32_t abort_grace = 0;
  // Operations it started after the abort (see runtime::abandon_op).
  std::uint32_t abandoned = 0;
  // In a lean execution, the kind of lock it announced last (acquiring()):
  // the kind its acquired() holds.
  lock_kind lean_kind = lock_kind::other;
  // Its next futex wait grants no order (detail::unordered_wait): it does
  // not join the waiters of the lock it announced (join_waiters), and while
  // it blocks there (blocked_unordered) it is not overtaken, even if an
  // earlier wait of the same acquisition had joined them.
  bool wait_unordered = false;
  bool blocked_unordered = false;
  // Inside a primitive's release path (detail::release_scope), which may
  // run in a destructor: an abort is then handled as while unwinding (the
  // path completes without throwing), except by a wait that would block.
  std::uint32_t release_depth = 0;
  // An mc::thread object of this thread's was destroyed while joinable as an
  // exception unwound the thread: reported with that exception (or, if the
  // thread catches it, as a leaked thread when the thread ends).
  std::uint32_t leaked_unwinding = kNoThread;
  const void* wait_addr = nullptr;  // futex word while blocked_futex
  std::uint32_t wq_obj = 0;         // object whose wait queue it is in (0: none)
  std::uint32_t wq_next = kNoThread, wq_prev = kNoThread;
  bool timed = false;               // blocked with a deadline
  std::uint64_t block_step = 0;     // step at which it blocked on a futex word
  bool lock_wait = false;           // blocked on a held native lock word
  bool count_wait = false;          // blocked on a native count word at zero
  bool cond_wait = false;           // blocked on a native condition variable
  bool monitor_wait = false;        // blocked on a native monitor until its step is ready
  // At a monitor's step or blocked there: what the step would do now.
  monitor_probe probe = nullptr;
  const void* probe_ctx = nullptr;
  bool probe_timed = false;
  std::uint32_t probe_obj = 0;        // the monitor
  const void* probe_waits = nullptr;  // what a report says it waits on
  std::source_location probe_loc;
  std::uint32_t cond_obj = 0;       // the native condition variable it waits on, until notified
  const void* cond_word = nullptr;  // ... its word (while cond_obj is set)
  std::uint64_t cond_ticket = 0;    // when it began waiting (notify_one takes the earliest)
  std::int64_t deadline = 0;
  bool timed_out = false;
  std::uint32_t spurious = 0;       // spurious wake-ups taken
  std::uint32_t spurious_cas = 0;   // spurious compare_exchange_weak failures taken
  access next;                      // dpor: the access its next step makes
  // dpor: at a lock or join point, what decides whether its next step
  // blocks (the lock word held, the joined thread running): it changes while
  // the thread waits there, so publish_next() looks again.
  const std::uint32_t* next_lock = nullptr;
  const std::uint32_t* next_try = nullptr;  // at a try_lock point: fails (and yields) while held
  // next_lock / next_try point at a native count word (a semaphore's), which
  // blocks or fails while it is 0 rather than while it is not.
  bool next_count = false;
  std::uint32_t next_join = kNoThread;
  std::uint32_t join_target = 0;
  std::uint32_t joiner = kNoThread;  // the thread blocked joining this one
  bool joiners = false;              // more than one (then finish looks at every thread)
  bool joined = false;
  bool detached = false;
  const char* label = nullptr;        // mc::this_thread::set_name()
  std::source_location spawn_loc;
  std::source_location block_loc;
};

struct thread_rec : fiber_slot, thread_exec {
  static constexpr std::size_t kInlineTask = 128;
  static constexpr std::uint32_t kNoThread = 0xffffffffu;

  explicit thread_rec(std::uint32_t tid, std::size_t stack_size)
      : id(tid), stack(take_stack(stack_size)),
        stack_floor(reinterpret_cast<std::uintptr_t>(stack->top()) - stack->size() +
                    std::min<std::size_t>(kStackMargin, stack->size() / 4)) {}

  // A scheduling point reached with less stack than this left is a
  // stack_overflow (reported like any bug, the execution unwinds): the
  // runtime's own frames and the unwinding need room, and a recursion that
  // reaches points is caught here before it faults.
  static constexpr std::size_t kStackMargin = 32 * 1024;

  const std::uint32_t id;
  // The fiber, kept across executions of one runtime.
  std::unique_ptr<fiber_stack> stack;
  const std::uintptr_t stack_floor;
  // Whether the slot has a fiber: jump() makes one when it has none (at its
  // first task, and after freeze(), whose fiber is retired, not parked).
  bool fiber_created = false;
  bool frozen = false;   // stopped by freeze(): retired by unwind_all()
  fp_control start_fp;   // the floating-point control state its task starts with
  bool in_task = false;  // the fiber is suspended inside a task (must unwind on abort)
  // Its task threw the abort (unwind_now()), not yet caught by run_thread():
  // how terminating() knows the abort where the compiler calls
  // std::terminate with no exception active (a noexcept function inlined).
  bool abort_thrown = false;
  bool resume_release = false;  // switched away in a release op (see hop)

  // The task (callable) of the current execution.
  alignas(std::max_align_t) unsigned char inline_task[kInlineTask];
  void* task = nullptr;
  const detail::task_vtable* vt = nullptr;
  bool task_on_heap = false;
};

// The stack pointer of the calling code.
inline std::uintptr_t stack_pointer() noexcept {
  std::uintptr_t sp;
#if defined(__x86_64__)
  asm("mov %%rsp, %0" : "=r"(sp));
#elif defined(__aarch64__)
  asm("mov %0, sp" : "=r"(sp));
#else
  sp = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
#endif
  return sp;
}

class runtime;
// The runtime of the execution running on this OS thread (initial-exec: the
// library is never dlopen'ed, and the hooks read this on every operation).
extern constinit thread_local runtime* tl_current [[gnu::tls_model("initial-exec")]];

class runtime {
 public:
  runtime(const options& opts, strategy& strat);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // The runtime of the execution running on this OS thread, or nullptr.
  static runtime* current() noexcept { return tl_current; }
  // From the std::terminate handler the runtime installs: a checked thread
  // that cannot throw the abort is stopped instead (runtime.cpp).
  void terminating() noexcept;

  // Host side: runs one execution of `body`. Returns the bug found, if any.
  void run_execution(detail::body_ref body, std::uint64_t index);
  const std::optional<bug>& found() const noexcept { return bug_; }
  const std::string& internal_error() const noexcept { return internal_error_; }
  // The last execution stopped early to start over (a lean execution met
  // what it leaves to full ones, or a detector turned on mid-way): run it
  // again after strategy::restart(), as long as it asks (twice at most: a
  // lean stop, then the race detector's); it does not count.
  bool restart_needed() const noexcept { return restart_; }
  // Some execution so far left out a behaviour only an unfair system has
  // (see result::fair_only): a decision at which fair scheduling kept an
  // enabled thread from going next, or a yield that made a thread see the
  // latest stores it spun on. Only decisions off the uniform random path
  // look (a sample claims no completeness).
  bool fair_cut() const noexcept { return fair_cut_; }
  // Some execution so far had a condition-variable wait that could not wake
  // spuriously because its thread had taken options::spurious_wakeups
  // already (see result::spurious_bound): a complete search covered the
  // schedules within that bound, not every one.
  bool spurious_cut() const noexcept { return spurious_cut_; }
  // The report's replay of a failing execution: operations made inside
  // headers take the user's line (report/places.hpp; the hooks ask).
  bool user_places() const noexcept { return user_places_; }
  void set_user_places(bool on) noexcept { user_places_ = on; }
  std::uint64_t steps() const noexcept { return steps_.load(std::memory_order_relaxed); }
  // Fatal signals (engine/fatal.cpp): whether a signal on this thread belongs to an
  // execution, whether the watchdog ended its step, and the report that
  // ends the process.
  bool live() const noexcept { return live_; }
  std::int64_t watchdog_fired() const noexcept { return fatal_.fired_ms(); }
  [[noreturn]] void fatal_signal(int sig, const void* addr, const void* sp) noexcept;

  // Hooks (called by the checked types on the current thread's fiber).
  std::uint64_t* point(op o, const void* addr, detail::object_handle& h,
                       const std::source_location& loc);
  // A checked atomic operation (see detail::atomic_op).
  int atomic_op(op o, void* addr, detail::object_handle& h, const detail::atomic_access& a,
                std::uint64_t& read, const std::source_location& loc);
  // The typed atomic hooks (detail::atomic_load and the rest) in a lean
  // execution: atomic_op's steps without what a lean execution turns off,
  // on an access of `Size` bytes (`Sign`), constants the caller's inlining
  // folds.
  [[nodiscard]] bool lean() const noexcept { return lean_; }
  template <unsigned Size, bool Sign>
  int lean_atomic(op o, void* addr, detail::object_handle& h, const detail::atomic_access& a, std::uint64_t& read,
                  const std::source_location& loc);
  void atomic_fence(std::memory_order order, const std::source_location& loc);
  bool futex_wait(const std::uint32_t* word, detail::object_handle& h, std::uint32_t expected,
                  bool timed, std::int64_t deadline, const std::source_location& loc);
  void futex_wake(const std::uint32_t* word, detail::object_handle& h, int count,
                  const std::source_location& loc);
  // The checker's own lock word (mc::platform's native lock; see lock_word_*).
  void lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  // A mutex's lock and unlock (detail::mutex_lock / mutex_unlock): its
  // annotations and its lock word in one call.
  void mutex_lock(const void* obj, std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  std::uint32_t mutex_unlock(const void* obj, std::uint32_t* word, detail::object_handle& h,
                             const std::source_location& loc);
  // The same two in a lean execution: in one call while the lock is free at
  // the decision (see lean_atomic).
  void lean_mutex_lock(const void* obj, std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  std::uint32_t lean_mutex_unlock(const void* obj, std::uint32_t* word, detail::object_handle& h,
                                  const std::source_location& loc);
  bool try_lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  std::uint32_t unlock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  // The checker's own count word (mc::platform's native semaphore; see
  // count_word_* in lockstep/platform_concept.hpp). Implemented in
  // engine/primitives.cpp.
  bool count_acquire(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                     const std::source_location& loc);
  bool count_try_acquire(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  std::uint32_t count_release(std::uint32_t* word, detail::object_handle& h, std::uint32_t n,
                              std::uint32_t limit, const std::source_location& loc);
  // The checker's own condition variable (mc::platform's; see cond_* in
  // lockstep/platform_concept.hpp). Implemented in engine/primitives.cpp.
  bool cond_enqueue(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                    const std::source_location& loc);
  bool cond_block(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                  const std::source_location& loc);
  void cond_notify(std::uint32_t* word, detail::object_handle& h, bool all, const std::source_location& loc);
  // The checker's own monitor (mc::platform's; see monitor_* in
  // lockstep/platform_concept.hpp). Implemented in engine/primitives.cpp.
  bool monitor_step(std::uint32_t* lock, detail::object_handle& h, std::uint32_t* seq, monitor_probe probe,
                    const void* ctx, const void* waits_on, bool timed, std::int64_t deadline,
                    const std::source_location& loc);
  void monitor_exit(std::uint32_t* lock, detail::object_handle& h, std::uint32_t* seq, const std::source_location& loc);
  // Reading virtual time depends on the timeouts that moved it.
  std::int64_t now() noexcept {
    if (track_) note({kTimeKey, access_kind::read});
    return vtime_;
  }
  std::uint32_t choose(std::uint32_t n, const std::source_location& loc);
  bool spurious_wakeup(const void* obj, const std::source_location& loc);
  void named(const void* obj, const char* name) noexcept {
    if (lean_) return lean_named(obj, name);
    name_object(obj, name);
  }
  void acquiring(const void* obj, lock_kind kind, acquire_flags flags, const std::source_location& loc,
                 lock_mode mode);
  void acquired(const void* obj, lock_mode mode, const std::source_location& loc) {
    if (lean_) return lean_acquired(obj, mode, threads_[cur_]->lean_kind, loc);
    acquired_full(obj, mode, loc);
  }
  void released(const void* obj, lock_mode mode, const std::source_location& loc) {
    if (lean_) return lean_released(obj, mode);
    released_full(obj, mode, loc);
  }
  void destroyed(const void* obj) noexcept {
    if (lean_) return lean_destroyed(obj);
    destroyed_full(obj);
  }
  // Records the misuse and returns; the thread stops at its next point.
  void misuse(const void* obj, const char* what, const std::source_location& loc);
  // `message`: LOCKSTEP_ASSERT_MSG's words, which then lead the report.
  [[noreturn]] void assert_failed(const char* expr, const std::source_location& loc,
                                  const std::string* message = nullptr);
  void name_thread(const char* name) noexcept { threads_[cur_]->label = name; }
  // A primitive's release path begins / ends (detail::release_scope).
  void release_enter() noexcept { ++threads_[cur_]->release_depth; }
  void release_exit() noexcept { --threads_[cur_]->release_depth; }
  // Optimistic retry loops (detectors/retries.hpp).
  void retry_begin(const void* obj, const std::source_location& loc);
  void retry_lost(const void* obj, const std::source_location& loc);
  void retry_won(const void* obj, const std::source_location& loc);
  std::uint32_t spawn(const detail::task_vtable& vt, void* callable, const std::source_location& loc);
  void join(std::uint32_t tid, const std::source_location& loc);
  void detach(std::uint32_t tid) noexcept;
  void dropped_joinable(std::uint32_t tid, const std::source_location& loc) noexcept;
  // pthread_create on this OS thread: true (after reporting the misuse) when
  // it is inside an execution, where an OS thread would run unchecked.
  bool refuse_os_thread() noexcept;
  // Blocks the running thread until every other thread has finished or is
  // blocked with no timeout pending (so blocked forever); returns how many
  // are blocked. Where the execution would otherwise be a deadlock, it
  // resumes instead. For checkers built on executions (lockstep/mc/lin.hpp).
  std::uint32_t await_quiescence(const std::source_location& loc);
  // Ends the execution without a bug: the other threads unwind from where
  // they are blocked, then the caller (throws abort_execution).
  [[noreturn]] void end_execution();
  std::uint32_t current_thread() const noexcept { return cur_; }
  // The event just recorded left the value as it was (see on_read_only()).
  void read_only() noexcept {
    if (track_) strat_.on_read_only();
    each_detector([&](auto& d) {
      if constexpr (requires { d.on_read_only(cur_); }) d.on_read_only(cur_);
    });
  }
  // The cas step `rec` (an event's value) failed: it read and wrote nothing.
  void failed_cas(std::uint64_t* rec) noexcept {
    reinterpret_cast<event*>(rec)->o = op::cas_fail;
    read_only();
  }
  bool aborting() const noexcept { return aborting_; }
  // Liveness and races (detectors/).
  void progress() noexcept { detector<livelock>().progress(exec_steps()); }
  void unordered_wait() noexcept { threads_[cur_]->wait_unordered = true; }
  // A try_lock made of atomics (mc::futex_platform): its compare-exchange
  // is announced as try_lock_word's point is, and its failure is a yield in
  // the CAS's step, as try_lock_word's is.
  void try_begin(const std::uint32_t* word) noexcept {
    if (track_) threads_[cur_]->next_try = word;
  }
  void try_end(bool taken) {
    threads_[cur_]->next_try = nullptr;
    if (!taken && !aborting_) fair_yield(true);
  }
  void progress_on_acquire(const void* obj) noexcept;
  void notified(const void* obj, const std::source_location& loc) noexcept;
  void plain_access(const void* addr, std::size_t size, bool write, const std::source_location& loc);
  // The same in a lean execution, once the race detector is on: a race
  // stops it (the full execution decides, and reports).
  void lean_plain_access(const void* addr, std::size_t size, bool write, const std::source_location& loc) {
    race_detector& races = detector<race_detector>();
    if (aborting_ || !races.on()) [[unlikely]]
      return plain_access(addr, size, write, loc);
    const std::uint32_t obj = lean_race_obj(addr);
    // A location wider than seen so far that overlaps another: a full
    // execution checks the two together (see plain_overlaps_).
    if (size > lean_race_objs_.items[obj - 1].size && lean_plain_widen(obj, size)) [[unlikely]]
      return lean_stop();
    if (races.on_plain_access(cur_, obj, addr, write, loc)) [[unlikely]]
      lean_stop();
  }
  void plain_forget(const void* addr) noexcept;

 private:
  static void fiber_entry(fiber_transfer t);

  // Scheduling.
  // A point of the running thread; `yielding`: it offers to let others run
  // (switching away is then no preemption).
  // `release`: the point is a releasing operation (see thread_rec::abort_grace).
  void decide(bool yielding = false, bool release = false) {
    // else only it can go on (a dependence-aware strategy sees that too)
    if (enabled_.size() > 1 || track_) decide_among_enabled(yielding, release);
    else detector<fairness>().picked_again(cur_);
  }
  void decide_among_enabled(bool yielding, bool release);
  [[gnu::noinline]] void decide_any(bool yielding, bool release);  // any strategy, any number of threads
  // decide_among_enabled()'s rarer ends: the schedule's log full, watchers
  // to end in fair scheduling.
  [[gnu::cold, gnu::noinline]] void decided_slowly(std::uint32_t next, bool yielding, bool release);
  [[gnu::cold, gnu::noinline]] void picked_slowly(std::uint32_t next, bool yielding, bool release);
  // A decision picked `next` over the running thread: count a preemption
  // unless `yielding`, and switch.
  [[gnu::noinline]] void switch_to(std::uint32_t next, bool yielding, bool release);
  // switch_to()'s and hop()'s rarer cases (a timed waiter's timeout, a
  // fiber's first start, next the running thread, the preemption log full:
  // `log_preemption`): activate(), then check_abort() unless `release`.
  [[gnu::noinline]] void switch_to_slowly(std::uint32_t next, bool release, bool log_preemption);
  // Switches to `next`, then unwinds if resumed into an aborting execution
  // (unless `release`): activate() and check_abort() in one, and on the
  // usual path with no register saved (see runtime.cpp).
  [[gnu::always_inline]] inline void hop(std::uint32_t next, bool release);
  // hop()'s end when resumed into an aborting execution.
  [[gnu::cold, gnu::noinline]] void resumed_aborting();
  static bool releasing_op(op o) noexcept { return o == op::store || o == op::rmw || o == op::wake; }
  // An atomic operation weaker than seq_cst (a CAS: on success or failure).
  static bool below_seq_cst(op o, const detail::atomic_access& a) noexcept {
    return a.order != std::memory_order_seq_cst || (o == op::cas_ok && a.failure != std::memory_order_seq_cst);
  }
  bool switch_away();                      // the running thread cannot run: pick another
  bool pick_enabled(std::uint32_t& next);  // false when a replay diverged
  [[gnu::noinline]] bool pick_enabled_any(std::uint32_t& next);  // any strategy, any number of threads
  // pick_enabled()'s rarer end (the schedule's log full when `log`, watchers
  // to end in fair scheduling): logs and marks `next` picked.
  [[gnu::cold, gnu::noinline]] bool picked_enabled_slowly(std::uint32_t next, bool log);
  // Candidate lists for strategies that read them (replay, pct, dpor): the
  // eligible threads by id (with `cur_first`, the running thread first).
  void list_candidates(bool cur_first);
  [[gnu::always_inline]] inline void activate(std::uint32_t next);  // fire a timeout if needed, then switch
  [[gnu::always_inline]] inline void jump(fiber_slot& from, thread_rec& to);  // starts to's fiber the first time
  void enable(std::uint32_t tid);
  void disable(std::uint32_t tid);
  [[gnu::noinline]] void enable_wide(std::uint32_t tid);  // more than 64 threads
  [[gnu::noinline]] void disable_wide(std::uint32_t tid) noexcept;
  void check_abort();                      // after resuming: unwind if the execution failed
  // Throws abort_execution from the running thread once every thread above
  // it (a higher id: its children, which use what lives in its frames, the
  // body's locals above all) has unwound: until then it parks with the host,
  // whose unwind_all() resumes the threads in that order.
  [[noreturn, gnu::cold, gnu::noinline]] void unwind_now();
  bool spare_release() noexcept;           // an aborting release op may complete (see thread_rec)
  // Aborting: the running thread starts an operation. Most throw the abort
  // at once; one that may not (no_throw(): the thread unwinds already, or is
  // inside a release path, perhaps in a destructor) completes plainly. A
  // thread that keeps starting such operations never reaches a point where
  // it could throw: `while (!q.try_put(v)) {}` on a full queue is a loop of
  // release paths that fail at once. After kMaxAbandoned of them it is
  // frozen (freeze()).
  // (A million: a few tenths of a second; a destructor's own work while
  // unwinding stays far below it.) Only on the thread's own fiber: a task
  // destroyed by the host (unwind_all) is not the thread running.
  static constexpr std::uint32_t kMaxAbandoned = 1000000;
  void abandon_op() {
    thread_rec& t = *threads_[cur_];
    if (t.in_task && ++t.abandoned > kMaxAbandoned) [[unlikely]]
      freeze(
          "kept starting operations after the abort that may not throw it (release paths, or destructors while "
          "unwinding)");
  }
  // Stops the running thread where it is: its fiber runs no further and its
  // frames are not unwound (their destructors do not run; what they own
  // leaks). unwind_all() retires the fiber once the other threads have
  // unwound (they may still use its frames); the slot's next task gets a new
  // fiber on the same stack.
  [[noreturn, gnu::cold, gnu::noinline]] void freeze(const char* why);
  // While aborting: the running thread must not throw the abort (it unwinds
  // already, or it is inside a primitive's release path).
  [[nodiscard]] bool no_throw() const noexcept {
    return std::uncaught_exceptions() > 0 || threads_[cur_]->release_depth > 0;
  }
  // Per-object FIFO wait queues (futex words and native lock words).
  void wq_push(std::uint32_t obj, thread_rec& t);
  void wq_remove(thread_rec& t) noexcept;

  // Thread lifecycle.
  // `fp`: the floating-point control state it starts with.
  thread_rec& new_thread(const std::source_location& loc, const fp_control& fp);
  // Run the slot's task and finish the thread; they return whom the slot's
  // fiber switches to then (kNoThread: the host). The fiber parks in
  // fiber_entry's loop, where its next task starts without a return.
  std::uint32_t run_thread(thread_rec& self);
  std::uint32_t finish(thread_rec& self);
  std::string leak_text(std::uint32_t tid) const;  // an mc::thread destroyed while joinable
  void leaked_threads();  // after an execution: one not joined nor detached is a bug
  void held_at_end();     // after an execution: a lock still held outlives it
  void destroy_task(thread_rec& t) noexcept;
  void unwind_all();

  // Events.
  void note_event(op o, std::uint32_t object);  // tells a tracking strategy
  void note(access a) {
    if (track_) strat_.on_access(cur_, a);
  }
  void set_next(std::uint32_t tid, access a) { threads_[tid]->next = a; }
  // What a point's step touches, for a dependence-aware strategy.
  access next_access(op o, std::uint32_t id) const noexcept {
    return o == op::yield   ? (fair_on_ ? access{0, access_kind::yield} : access{})
           : o == op::spawn ? access{kThreadKey | nthreads_, access_kind::write}  // the child's id
           : o == op::wake  ? access{kQueueKey | id, access_kind::write}
           : o == op::fence ? access{}  // atomic_fence() says which
           : access{id, o == op::load ? access_kind::read : access_kind::write};
  }
  // `size` (an atomic's bytes; 0 for other objects) and `sign` read an
  // atomic's first value in the execution (first_use()).
  bool enter_point(op o, const void* addr, detail::object_handle& h, const std::source_location& loc,
                   std::uint32_t& id, unsigned size = 0, bool sign = false);
  // An atomic operation on memory as it is (sc, and a release path completing
  // plainly); `e`: its event, which it completes (value, op, races).
  // `Races`: the race detector may be on (a lean execution has it off).
  template <bool Races = true>
  int plain_atomic(op o, void* addr, const detail::atomic_access& a, std::uint64_t& read, event* e);
  // Under the memory model (engine/memory.hpp).
  int weak_atomic(event& e, void* addr, const detail::atomic_access& a, std::uint64_t& read);
  // Lazy views (see run_execution): while an execution has run only seq_cst
  // atomics, the model is not kept; its first other step builds it from
  // the events (materialise()). touches_: each atomic's first value.
  struct touch_rec {
    std::uint32_t obj;
    std::uint64_t value;
  };
  static constexpr std::uint8_t kLockWordStep = 0xff;  // event::order of a native lock word step
  static constexpr std::uint8_t kCountWordStep = 0xfe;  // ... of a native count word step
  static constexpr std::uint8_t kMonitorStep = 0xfd;    // ... of a native monitor's step
  // ... of a futex wait's timeout at once (its deadline passed): it read the
  // word's mo-latest value, as a wait that blocks or skips does (a timeout
  // after blocking read nothing more, and keeps the usual order).
  static constexpr std::uint8_t kFutexCompare = 0xfc;
  // A native word's step: its event (noted by the caller), with the value it
  // leaves and its kind (one of the three above) in event::order. A step
  // that writes ends the thread's run of read-only steps, as a write through
  // enter_point() does: a lock or count word's that takes or gives (all but
  // a failed try), a monitor's that writes a field (its value is
  // monitor_fields(reads, writes); a try_get of an empty queue writes none,
  // so a spin around it is still one).
  void record_native(op o, const void* word, std::uint32_t obj, const std::source_location& loc, std::uint64_t value,
                     std::uint8_t kind) {
    if (o != op::cas_fail && (kind != kMonitorStep || (value >> 4) != 0)) detector<busy_wait>().on_write(cur_);
    event& e = record(o, word, obj, loc, true);
    e.value = value;
    e.order = kind;
  }
  access monitor_access(std::uint32_t obj, monitor_state s, bool timed) const noexcept;
  // A step with a deadline (`timed`) compares it with the time (access::
  // time), and may time out at once, a fair-scheduling yield (access::yields).
  access timed_step(access a, bool timed) const noexcept {
    a.yields = timed && fair_on_;
    a.time = timed;
    return a;
  }
  static access step_access(std::uint32_t obj, monitor_state s, std::uint8_t needs) noexcept;
  void note_monitor(std::uint32_t obj, monitor_state s, std::uint8_t needs = 0);
  static std::uint8_t needed(monitor_state s, bool timed) noexcept;
  static access parked_access(std::uint32_t obj, monitor_state s) noexcept;
  bool abandoned_monitor(monitor_probe probe, const void* ctx) noexcept;
  void park_monitor(thread_rec& t, monitor_state s);
  void take_count_word(std::uint32_t* word, std::uint32_t obj, const std::source_location& loc);
  bool abandoned_count(std::uint32_t* word, bool timed) noexcept;
  bool lazy_ = false;
  bool mm_dirty_ = true;  // mm_ holds state to clear (it was built or kept in the last execution)
  std::vector<std::uint8_t> touched_;  // by object id
  std::vector<touch_rec> touches_;
  // The yields of a lazy execution, for materialise() to replay: after how
  // many events, and whose.
  struct yield_rec {
    std::uint32_t after;
    std::uint32_t thread;
  };
  std::vector<yield_rec> lazy_yields_;
  [[nodiscard]] bool mm_live() const noexcept { return mm_.on() && !lazy_; }
  void first_touch(std::uint32_t obj, std::uint64_t value);
  void touch(std::uint32_t obj, std::uint64_t value) {
    if (obj >= touched_.size() || touched_[obj] == 0) first_touch(obj, value);
  }
  void materialise();
  // A value choice among n (>= 2) made by the strategy, recorded in the schedule.
  std::uint32_t value_choice(std::uint32_t n);
  void take_lock_word(std::uint32_t* word, std::uint32_t obj, const std::source_location& loc, bool trying);
  inline void lock_word_decided(std::uint32_t* word, std::uint32_t obj, fairness::pick_mark mark,
                                const std::source_location& loc);
  void wake_lock_waiters(std::uint32_t obj);
  static void abandoned_lock(std::uint32_t* word) noexcept;
  // The next step of every thread, for a dependence-aware strategy.
  void publish_next();
  // At a bug with options::keep_going: the threads that did not finish.
  // `current_done`: the running thread does nothing more (end_execution()).
  void publish_unfinished(bool current_done = false);
  // The thread in await_quiescence(), made runnable when nothing else can
  // run; false if there is none.
  bool wake_quiescent();
  // `noted`: the caller tells a tracking strategy the accesses itself.
  event& record(op o, const void* addr, std::uint32_t object, const std::source_location& loc,
                bool noted = false);
  // Throws abort_execution, except for a releasing `o` (see thread_rec::abort_grace).
  [[gnu::cold, gnu::noinline]] void step_bound_exceeded(op o);
  [[gnu::noinline]] void events_limit(op o);  // record()'s slow path
  // The running thread reached a point with too little stack left (engine/fatal.cpp).
  [[gnu::cold, gnu::noinline]] void stack_nearly_full(const std::source_location& loc);
  std::uint32_t object_id(detail::object_handle& h) noexcept;

  // Ownership and detectors.
  object_rec* find_resource(const void* addr) noexcept;
  // The id of the resource at `addr` (made one if it is not).
  std::uint32_t resource_for(const void* addr, lock_kind kind);
  // acquiring() and acquired() of the resource `id` at `obj`, outside an abort.
  void acquiring_at(const void* obj, std::uint32_t id, acquire_flags flags, const std::source_location& loc,
                    lock_mode mode);
  void acquired_at(const void* obj, std::uint32_t id, lock_mode mode, const std::source_location& loc);
  void check_deadlock_cycle();
  void global_deadlock();
  // The running thread blocks on `word`: the detectors hear of it, and its
  // record says on what, since which step, from where and until when.
  void begin_block(thread_rec& me, const void* word, bool timed, std::int64_t deadline,
                   const std::source_location& loc);
  // Switches away from the thread that just blocked; with nobody left to
  // run, that is a deadlock (or a lost wake-up), and the thread unwinds.
  void block_or_deadlock() {
    if (!switch_away()) {
      global_deadlock();
      unwind_now();
    }
  }
  void fail(bug_kind kind, std::string message, std::string details = {});
  [[noreturn]] void fail_and_unwind(bug_kind kind, std::string message, std::string details = {});
  // With options::keep_going, records a bug after which the execution can
  // go on (a deadlock cycle, a data race) without stopping it; false when it
  // must stop as usual.
  bool defer_bug(bug_kind kind, std::string& message, std::string& details);
  void note_later(bug_kind kind);  // a bug after the first: its kind goes to bug::later
  bug make_bug(bug_kind kind, std::string message, std::string details) const;
  // Under the memory model, in words: the last load of thread t that read an
  // older store than one already made, and why nothing made the newer one
  // visible ("" when there is none); for a data race with thread `other`,
  // the last load by t of a store of other's that should have ordered them.
  std::string stale_read_story(std::uint32_t t) const;
  std::string race_story(std::uint32_t t, std::uint32_t other) const;
  std::string event_place(std::size_t i) const;  // where event i ran: "models/x.cpp:14"
  std::string event_value(std::size_t i) const;  // what it read or wrote: data = 0
  void diverge();

  // Naming for reports.
  // The reports' view of this execution (report/describe.hpp) and the
  // descriptions the engine's own reports use.
  execution_view view() const noexcept {
    return execution_view{threads_, nthreads_, cur_, events_, objects_, detector<wait_for>()};
  }
  std::string thread_label(std::uint32_t tid) const { return rt::thread_label(view(), tid); }
  std::string object_label(const void* addr, std::uint32_t object) const {
    return rt::object_label(view(), addr, object);
  }

  // Fair scheduling, livelock, busy waiting, starvation, lost wake-ups (detectors/).
  void fair_yield(bool check_livelock);
  // Under fair scheduling, a yield makes the locations the running thread
  // spun on visible at their latest stores (weak_memory::yielded): at once,
  // or in materialise().
  void memory_yield();
  // Thread t yielded, seen by the memory model: eventual visibility (see
  // fair_cut()).
  void memory_yielded(std::uint32_t t);
  void undo_pick(fairness::pick_mark mark, bool blocks);
  void check_livelock();
  [[noreturn, gnu::cold, gnu::noinline]] void busy_waiting();
  // Bounded bypass: a thread's asking and acquiring count at its next step
  // (record()), ordered for dpor against the waiters' blocking by the
  // resource's waiters key (kWaitersKey), which that step announces.
  void unsettle(wait_for::thread_state& w) noexcept {
    if (!w.unsettled) {
      w.unsettled = true;
      ++record_more_;
    }
  }
  [[gnu::noinline]] void settle_bypass();
  // A resource's waiters key: its ordinal among the resources, which the
  // execution's schedule alone decides (its object id does not: the race
  // detector, once on, numbers objects at every step).
  std::uint32_t waiters_key(std::uint32_t id) const noexcept { return objects_[id].ordinal; }
  void record_more(op o, const void* addr, std::uint32_t object, bool noted);
  // dpor: primitives destroyed in this execution while other threads ran
  // (destroyed_full()), and a step at one of them (record_more()).
  std::vector<const void*> destroyed_;
  [[gnu::noinline]] void note_destroyed_use(const void* addr);
  std::uint32_t announced_waiters(const thread_rec& t, const access& a) const;
  void note_waiter(const thread_rec& t);
  void count_bypass(const void* obj, const object_rec& r, std::uint32_t asked, lock_mode mode);
  // t.waiting_for = nullptr, leaving its resource's waiters if it is in them
  // (rarely: only a thread that blocked in a futex wait joins them).
  void stop_waiting(thread_rec& t) noexcept {
    wait_for::thread_state& w = waits_of(t);
    if (w.waiter_pos != kNoThread) [[unlikely]]
      leave_announced(t);
    w.waiting_for = nullptr;
  }
  void leave_announced(thread_rec& t) noexcept;  // stop_waiting's rare part
  void join_waiters(thread_rec& t);
  void leave_waiters(object_rec& r, thread_rec& t) noexcept;
  bool lost_wakeup();
  // Replay checks against options::expect_events.
  void check_expected();
  bool same_event(std::size_t i, step_stage stage, std::string& why) const;
  void expected_mismatch(std::string why);  // throws, except inside a release
  std::vector<std::size_t> find_cycle(bool from_current) const;

  const options& opts_;
  strategy& strat_;
  fiber_slot host_;
  // The floating-point control state explore() was called with: each
  // execution's thread 0 starts with it (see fp_control).
  const fp_control host_fp_ = read_fp_control();
  bool retiring_ = false;  // ~runtime: each parked fiber is resumed to leave for good
  std::vector<std::unique_ptr<thread_rec>> threads_;  // slots; [0, nthreads_) live
  std::uint32_t nthreads_ = 0;
  std::uint32_t finished_ = 0;          // of them, this execution
  std::uint32_t cur_ = 0;
  id_set enabled_;                      // runnable, or blocked with a deadline
  id_set elig_;                         // enabled and not deferred by fair scheduling
  bool by_count_ = false;               // the strategy picks by count (strategy::picks_by_count)
  xoshiro* uniform_ = nullptr;          // ... uniformly from this generator (strategy::uniform_picks)
  std::vector<std::uint32_t> cands_;    // scratch for decide()
  std::vector<wait_queue> queues_;      // by object id, this execution
  append_log<std::uint32_t> schedule_;  // choices made (thread ids)
  // A run again of an execution (restart_needed()): the steps of the run it
  // repeats, which it must take again (see rerun_diverged()).
  struct cut_step {
    std::source_location loc;
    std::uint32_t thread, object;
    op o;
  };
  std::vector<cut_step> cut_steps_;
  [[gnu::cold]] void keep_cut_steps();
  [[gnu::cold]] void rerun_diverged();
  append_log<std::uint32_t> preempted_;  // indexes into schedule_ that were preemptions
  const std::vector<trace_event>* expect_ = nullptr;
  event_log events_;
  object_store objects_;                // objects.hpp: every object the checker keeps facts about
  // Plain memory in a full execution (plain_access): each location's start
  // and widest access, by object id (size 0: none yet), and the pairs of
  // locations whose bytes overlap, both ways round (a struct and one of its
  // members): an access to one is an access to the other too, or a race
  // between a whole and a part at another address would be missed.
  std::vector<const void*> plain_addr_;
  std::vector<std::size_t> plain_size_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> plain_overlaps_;
  void widen_plain(std::uint32_t obj, const void* addr, std::size_t size);
  void forget_plain(std::uint32_t obj) noexcept;
  // Over all executions; the watchdog thread reads it (relaxed: a heartbeat).
  std::atomic<std::uint64_t> steps_{0};
  // Steps in this execution: its events, and the one being recorded while
  // the step bound's bug is reported (record() appends after).
  std::uint64_t exec_steps() const noexcept { return events_.size() + over_bound_; }
  std::uint32_t over_bound_ = 0;
  std::uint32_t exec_preemptions_ = 0;  // in this execution
  std::int64_t vtime_ = 0;
  // The execution's mark in object handles (detail::object_handle): unique
  // in the process, not only in this runtime, since a handle outlives a
  // search when its object does (a static mc::atomic used by several
  // explore() calls). Taken from a shared counter a block at a time.
  std::uint32_t epoch_ = 0;
  std::uint32_t epoch_end_ = 0;  // the end of this runtime's block
  void next_epoch() noexcept;
  // State an atomic carries from one execution into the next. Each atomic's
  // value when an execution first uses it (start_rec), kept for this
  // execution (with the runs of it a restart or a lean stop cut short) and
  // the one before. One whose handle an earlier execution numbered outlives
  // the executions (a static, or an object from outside the body): it must
  // start each one as it started the first it was seen in (carried_), or
  // the execution is about its predecessors' leftovers (outlived()).
  struct start_rec {
    const void* addr;
    std::uint64_t value;
  };
  // The atomics an execution uses, the first 64 inline.
  struct start_list {
    start_rec items[64];
    std::uint32_t n = 0;
    std::vector<start_rec> more;
    void add(const start_rec& r) {
      if (n < std::size(items)) [[likely]]
        items[n++] = r;
      else
        add_more(r);
    }
    [[gnu::cold, gnu::noinline]] void add_more(const start_rec& r);
    [[nodiscard]] const start_rec* find(const void* addr) const noexcept {
      for (std::uint32_t i = 0; i < n; ++i)
        if (items[i].addr == addr) return &items[i];
      for (const start_rec& r : more)
        if (r.addr == addr) return &r;
      return nullptr;
    }
  };
  start_list starts_[2];  // this execution's, the one before's
  start_list* cur_starts_ = &starts_[0];
  start_list& prev_starts() { return cur_starts_ == &starts_[0] ? starts_[1] : starts_[0]; }
  std::uint64_t starts_index_ = ~std::uint64_t{0};
  std::vector<start_rec> carried_;
  // An atomic's first point in this execution: its id, and its value noted
  // (or checked, if it outlived an earlier execution).
  // `Count`: a semaphore's count word, not an atomic.
  template <unsigned Size, bool Count = false>
  [[gnu::noinline]] std::uint32_t first_use(op o, const void* addr, detail::object_handle& h, bool sign,
                                            const std::source_location& loc);
  std::uint32_t first_use(op o, const void* addr, detail::object_handle& h, unsigned size, bool sign,
                          const std::source_location& loc) {
    switch (size) {
      case 1: return first_use<1>(o, addr, h, sign, loc);
      case 2: return first_use<2>(o, addr, h, sign, loc);
      case 4: return first_use<4>(o, addr, h, sign, loc);
      default: return first_use<8>(o, addr, h, sign, loc);
    }
  }
  // A semaphore's count word: its id, its first value in the execution
  // noted or checked as an atomic's (every operation on it reads it).
  std::uint32_t count_id(const std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
    return h.epoch != epoch_ ? first_use<4, true>(op::rmw, word, h, false, loc) : h.id;
  }
  // What outlived an execution: an atomic, a semaphore's count word, a
  // native monitor (a queue: monitor_state::held).
  enum class carried : std::uint8_t { atomic, permits, monitor };
  [[gnu::noinline]] std::uint32_t first_use_again(op o, const void* addr, detail::object_handle& h, unsigned size,
                                                  bool sign, carried what, const std::source_location& loc);
  // A native monitor's first step in this execution: its id, what it holds
  // noted (or checked, if it outlived an earlier execution).
  [[gnu::cold, gnu::noinline]] std::uint32_t monitor_first_use(const std::uint32_t* lock, detail::object_handle& h,
                                                               std::uint64_t held, const std::source_location& loc);
  std::uint32_t exec_first_epoch_ = 0;  // the epoch of this execution's first run
  [[gnu::cold, gnu::noinline]] void outlived(op o, const void* addr, std::uint64_t value, unsigned size, bool sign,
                                             carried what, const std::source_location& loc);
  std::uint32_t next_object_ = 0;
  std::uint64_t exec_index_ = 0;
  bool aborting_ = false;
  std::uint32_t quiescent_ = kNoThread;  // the thread in await_quiescence()
  bool restart_ = false;                // see restart_needed()
  // The lean path (options::lean_sampling; engine/lean.cpp): this execution
  // runs lean; the runtime may run lean (a uniform strategy, no replay
  // checks); the last lean execution stopped, so it runs again in full; the
  // lean executions and stops so far (a search whose executions keep
  // stopping stops trying); the mutexes held in this lean execution, by
  // whom (for the misuse a full execution finds through its holders).
  bool lean_ = false;
  bool lean_ok_ = false;
  bool lean_retry_ = false;
  std::uint64_t lean_runs_ = 0;
  std::uint64_t lean_stops_ = 0;
  bool fair_cut_ = false;  // see fair_cut()
  bool spurious_cut_ = false;  // see spurious_cut()
  struct lean_hold {
    const void* obj = nullptr;
    std::uint32_t thread = 0;
    lock_mode mode{};
    lock_kind kind{};
    std::source_location loc;
  };
  // A list of fixed room, kept in the runtime: appending is a store and a
  // count, no call. An execution that needs more room stops (lean_stop()).
  template <class T, std::size_t N>
  struct lean_list {
    T items[N];
    std::uint32_t n = 0;
    [[nodiscard]] bool push(const T& v) noexcept {
      if (n == N) [[unlikely]]
        return false;
      items[n++] = v;
      return true;
    }
    [[nodiscard]] bool empty() const noexcept { return n == 0; }
    T& back() noexcept { return items[n - 1]; }
    void pop_back() noexcept { --n; }
    void erase(std::uint32_t i) noexcept {
      for (; i + 1 < n; ++i) items[i] = items[i + 1];
      --n;
    }
    void clear() noexcept { n = 0; }
    const T* begin() const noexcept { return items; }
    const T* end() const noexcept { return items + n; }
  };
  // The names given in this lean execution, in order, an object's
  // destruction as an entry without one: only a fatal signal's report reads
  // them (lean_to_full()).
  struct lean_name {
    const void* obj = nullptr;
    const char* name = nullptr;
  };
  [[nodiscard]] bool lean_now() const noexcept;
  // Ends a lean execution without a verdict: it unwinds as after a bug, and
  // runs again in full (restart_needed()). Never throws.
  [[gnu::cold, gnu::noinline]] void lean_stop() noexcept;
  // What follows needs a full execution: a lean one stops here.
  void needs_full() noexcept {
    if (lean_) [[unlikely]]
      lean_stop();
  }
  // A lock's holders, as a full execution keeps them (acquired(),
  // released()): a release by a thread that does not hold it stops.
  void lean_acquired(const void* obj, lock_mode mode, lock_kind kind, const std::source_location& loc) {
    if (aborting_) return;
    if (!lean_held_.push({obj, cur_, mode, kind, loc})) [[unlikely]]
      lean_stop();
  }
  void lean_released(const void* obj, lock_mode mode) noexcept {
    if (aborting_) return;
    // Most often the lock taken last.
    if (!lean_held_.empty()) {
      const lean_hold& x = lean_held_.back();
      if (x.obj == obj && x.thread == cur_ && x.mode == mode) return lean_held_.pop_back();
    }
    lean_released_earlier(obj, mode);
  }
  [[gnu::noinline]] void lean_released_earlier(const void* obj, lock_mode mode) noexcept;
  // Destroyed while held: a misuse. Its name goes (an entry without one:
  // a later object at its address has none yet).
  void lean_destroyed(const void* obj) noexcept {
    if (!lean_held_.empty()) [[unlikely]]
      lean_destroyed_held(obj);
    lean_named(obj, nullptr);
  }
  [[gnu::noinline]] void lean_destroyed_held(const void* obj) noexcept;
  // The race detector's id of the object at `addr` (a synchronising word or
  // a plain location): the object store's, or in a lean execution its place
  // in lean_race_objs_. One that finds no room stops the execution (its
  // clocks then do not matter: it runs again in full).
  std::uint32_t race_obj(const void* addr) { return lean_ ? lean_race_obj(addr) : objects_.intern(addr); }
  // Its place in lean_race_objs_ plus 1 if it has one, else 0 (an atomic
  // is known by its address and its object id; a plain location's is 0).
  std::uint32_t lean_race_find(const void* addr, std::uint32_t atomic = 0) const noexcept {
    for (std::uint32_t i = 0; i < lean_race_objs_.n; ++i)
      if (lean_race_objs_.items[i].addr == addr && lean_race_objs_.items[i].atomic == atomic) return i + 1;
    return 0;
  }
  std::uint32_t lean_race_obj(const void* addr, std::uint32_t atomic = 0) noexcept {
    if (const std::uint32_t obj = lean_race_find(addr, atomic); obj != 0) return obj;
    if (!lean_race_objs_.push({addr, atomic})) [[unlikely]] {
      lean_stop();
      return 1;
    }
    return lean_race_objs_.n;
  }
  // A lean atomic operation's clocks, with the race detector on: every
  // load reads the last store, so its message is the object's clock (see
  // race_detector::on_store).
  [[gnu::noinline]] void lean_atomic_clocks(op o, const void* addr, std::uint32_t id, bool wrote);
  // Under rc11 a weak CAS may fail spuriously (options::
  // spurious_cas_failures): a choice the memory model's path makes
  // (weak_atomic), whatever the CAS's order, so a lazy execution builds its
  // views there and a lean one stops first.
  [[nodiscard]] bool spurious_cas_choice() const noexcept { return opts_.spurious_cas_failures != 0; }
  [[nodiscard]] bool spurious_weak_cas(op o, const detail::atomic_access& a) const noexcept {
    return o == op::cas_ok && a.weak && spurious_cas_choice();
  }
  void lean_named(const void* obj, const char* name) noexcept {
    if (!lean_names_.push({obj, name})) [[unlikely]]
      lean_stop();
  }
  // Full executions' annotations (runtime.cpp).
  void name_object(const void* obj, const char* name) noexcept;
  void acquired_full(const void* obj, lock_mode mode, const std::source_location& loc);
  void released_full(const void* obj, lock_mode mode, const std::source_location& loc);
  void destroyed_full(const void* obj) noexcept;
  // A thread (not the running one) that waits in the primitive at `obj`, or kNoThread.
  std::uint32_t waiter_in(const void* obj) const noexcept;
  void lean_begin();  // run_execution's resets, lean
  void lean_end();    // after a lean execution's fibers are done
  void lean_new_thread(thread_rec& t, std::uint32_t tid, const std::source_location& loc) noexcept;
  void lean_to_full() noexcept;  // a fatal signal in a lean execution: the report's state
  bool user_places_ = false;            // see user_places()
  bool in_execution_ = false;           // the body's fibers are running
  bool track_ = false;                  // the strategy wants accesses (dpor)
  // Nonzero when record() has more to do than count and log the step: the
  // strategy wants accesses or a replay checks events (kRecordAlways), or
  // some threads' bypass counts at their next step (how many: the rest).
  static constexpr std::uint32_t kRecordAlways = 0x80000000u;
  std::uint32_t record_more_ = 0;
  bool in_step_bug_ = false;            // the bug was found inside its step (see run_execution)
  std::vector<access> next_scratch_;
  std::optional<bug> bug_;
  std::string internal_error_;

  bool fair_on_ = false;                // options::fair_scheduling
  bool rc11_ = false;                   // options::memory_model == rc11

  // The detectors: one component each under detectors/, with its own
  // per-thread and per-object state. The engine resets them all at each
  // execution and tells each, by name, the events it listens to (the on_*
  // members it has: see each_detector); the rest it calls where the
  // detector's finding is reported. Adding a detector: its file, and its
  // type in this list.
  using detector_list = std::tuple<race_detector, fairness, busy_wait, livelock, wait_for, retry_watch>;
  detector_list detectors_;
  weak_memory mm_{std::get<race_detector>(detectors_)};  // options::memory_model = rc11
  template <class D>
  D& detector() noexcept {
    return std::get<D>(detectors_);
  }
  template <class D>
  const D& detector() const noexcept {
    return std::get<D>(detectors_);
  }
  template <class F>
  void each_detector(F&& f) {
    std::apply([&](auto&... d) { (f(d), ...); }, detectors_);
  }
  // Thread tid starts afresh in every detector that keeps state per thread.
  void detectors_on_thread(std::uint32_t tid) {
    each_detector([&](auto& d) {
      if constexpr (requires { d.on_thread(tid); }) d.on_thread(tid);
    });
  }
  wait_for::thread_state& waits_of(const thread_rec& t) noexcept { return detector<wait_for>()[t.id]; }
  const wait_for::thread_state& waits_of(const thread_rec& t) const noexcept { return detector<wait_for>()[t.id]; }
  // Fatal signals and the watchdog (engine/fatal.cpp).
  bool live_ = false;                   // inside run_execution()
  fatal_scope fatal_;
  // The lean path's lists (last: their room would push the fields above apart).
  lean_list<lean_hold, 32> lean_held_;
  lean_list<lean_name, 64> lean_names_;
  // The race detector's objects in a lean execution, its id of each one its
  // place here plus 1 (a lean execution has no object store). An atomic is
  // known by its address and its id in the execution (a new atomic made
  // where another was has a clock of its own, as under the memory model it
  // has a location of its own); the rest (lock words, plain memory) by
  // their address, as the object store knows them.
  struct lean_race_key {
    const void* addr = nullptr;
    std::uint32_t atomic = 0;  // the atomic's object id, 0 for the rest
    std::size_t size = 0;      // plain memory: the widest access seen
  };
  // Lean item obj (plain memory) is accessed `size` bytes wide, more than
  // before: whether it now overlaps another plain item.
  [[gnu::cold, gnu::noinline]] bool lean_plain_widen(std::uint32_t obj, std::size_t size) noexcept;
  lean_list<lean_race_key, 64> lean_race_objs_;
};

// The per-operation path, inline so the hooks compile to one call.

inline std::uint32_t runtime::object_id(detail::object_handle& h) noexcept {
  if (h.epoch != epoch_) {
    h.epoch = epoch_;
    h.id = ++next_object_;
  }
  return h.id;
}

[[gnu::always_inline]] inline event& runtime::record(op o, const void* addr, std::uint32_t object,
                                                    const std::source_location& loc, bool noted) {
  steps_.store(steps_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (events_.at_limit()) [[unlikely]]  // at the step bound (options::max_steps), or full
    events_limit(o);
  event& e = events_.push_unchecked(event{0, addr, loc, cur_, object, o});
  if (record_more_ != 0) [[unlikely]]
    record_more(o, addr, object, noted);
  return e;
}

inline void runtime::record_more(op o, const void* addr, std::uint32_t object, bool noted) {
  // (Not in a value choice or an exit: they ride on the step before.)
  if ((record_more_ & ~kRecordAlways) != 0 && o != op::choose && o != op::exit) settle_bypass();
  if (track_ && !noted) note_event(o, object);
  if (!destroyed_.empty()) [[unlikely]]
    note_destroyed_use(addr);
  if (expect_ != nullptr) check_expected();
}

// The part of every point before its event: abort and stack checks, the
// decision, a yield's effect. False when the thread is to complete its step
// plainly, without an event (resumed to unwind inside a release path).
[[gnu::always_inline]] inline bool runtime::enter_point(op o, const void* addr, detail::object_handle& h, const std::source_location& loc,
                                 std::uint32_t& id, unsigned size, bool sign) {
  const bool release = releasing_op(o);
  if (aborting_) [[unlikely]] {
    abandon_op();
    // A run that is to run again: what it changes now, unwinding, the run
    // again must not find (first_use_again puts it back).
    if (restart_ && size != 0 && h.epoch != epoch_) (void)first_use(o, addr, h, size, sign, loc);
    if (no_throw()) return false;                      // unwinding, or in a release path
    if (release && spare_release()) return false;      // perhaps a destructor: no throw
    unwind_now();
  }
  // Ids are given when a thread reaches its point, before the decision, in
  // every mode, so a replay numbers objects as the search did. Yields and
  // spawns have no object.
  if (o == op::yield || o == op::spawn || o == op::fence)
    id = 0;
  else if (size != 0 && h.epoch != epoch_) [[unlikely]]
    id = first_use(o, addr, h, size, sign, loc);
  else
    id = object_id(h);
  if (track_ && o != op::fence) [[unlikely]]  // a fence sets its own
    set_next(cur_, next_access(o, id));
  const thread_rec& me = *threads_[cur_];
  if (stack_pointer() < me.stack_floor) [[unlikely]] {
    stack_nearly_full(loc);
    if (release) return false;  // perhaps a destructor: it completes, then unwinds
    unwind_now();
  }
  if (detector<busy_wait>().on_point(cur_, o)) [[unlikely]]
    busy_waiting();
  decide(o == op::yield, release);
  if (aborting_) [[unlikely]]
    return false;  // resumed to unwind inside a release: it completes plainly
  // The yield is this step: whom it defers to is decided now, and from its
  // next point on it lets them go first (a dependence-aware strategy sees the
  // yield in this step, where it can tell from the next access that it comes).
  if (o == op::yield) [[unlikely]]
    fair_yield(true);
  (void)addr;
  return true;
}

inline std::uint64_t* runtime::point(op o, const void* addr, detail::object_handle& h,
                                     const std::source_location& loc) {
  std::uint32_t id;
  if (!enter_point(o, addr, h, loc, id)) return nullptr;
  // (Under rc11 a futex wake synchronises nothing: see futex_wait.)
  if (race_detector& races = detector<race_detector>();
      races.on() && o != op::yield && o != op::spawn && !(o == op::wake && mm_.on())) [[unlikely]] {
    const std::uint32_t obj = race_obj(addr);
    races.on_acquire(cur_, obj);
    if (o != op::load) races.on_release(cur_, obj, o == op::cas_ok || o == op::rmw);
  }
  return &record(o, addr, id, loc).value;
}

template <bool Races>
[[gnu::always_inline]] inline int runtime::plain_atomic(op o, void* addr, const detail::atomic_access& a, std::uint64_t& read, event* e) {
  const std::uint64_t cur = load_bytes(addr, a);
  const std::uint64_t operand = low_bytes(a.operand, a);
  race_detector& races = detector<race_detector>();
  const auto wrote = [&](std::uint64_t v) __attribute__((always_inline)) {
    store_bytes(addr, v, a.size);
    if (e == nullptr) return;
    e->value = v;
    if (Races && races.on()) [[unlikely]]
      races.on_release(cur_, race_obj(addr));
  };
  switch (o) {
    case op::load:
      read = cur;
      if (e != nullptr) e->value = cur;
      return 1;
    case op::store:
      wrote(operand);
      return 1;
    case op::rmw: {
      read = cur;
      const std::uint64_t v = low_bytes(a.apply(cur, operand), a);
      if (v != cur || e == nullptr) {
        wrote(v);
      } else {
        e->value = v;
        read_only();  // it wrote what was there: a read
      }
      return 1;
    }
    default:  // a CAS
      if (cur == low_bytes(a.expected, a)) {
        wrote(operand);
        // It changed no value: to the busy-wait detector a read, as an RMW
        // that wrote what was there (which is one to dpor too).
        if (operand == cur) detector<busy_wait>().on_read_only(cur_);
        return 1;
      }
      read = cur;
      if (e != nullptr) {
        e->value = cur;
        failed_cas(&e->value);
      }
      return 0;
  }
}

[[gnu::always_inline]] inline int runtime::atomic_op(op o, void* addr, detail::object_handle& h, const detail::atomic_access& a,
                              std::uint64_t& read, const std::source_location& loc) {
  // Its first step in this execution: note its value now, before the
  // decision lets another thread use it (lazy views: see materialise()).
  if (h.epoch != epoch_) [[unlikely]] {
    const std::uint32_t id = first_use(o, addr, h, a.size, a.sign, loc);
    if (lazy_) first_touch(id, load_bytes(addr, a));
  }
  // Lean, only seq_cst under the memory model (as a lazy execution's).
  if (lean_ && rc11_ && (below_seq_cst(o, a) || spurious_weak_cas(o, a))) [[unlikely]]
    lean_stop();
  std::uint32_t id;
  if (!enter_point(o, addr, h, loc, id)) return plain_atomic(o, addr, a, read, nullptr);
  event& e = record(o, addr, id, loc);
  e.order = static_cast<std::uint8_t>(a.order);
  if (mm_.on()) {
    // Sequentially consistent so far: this step too, if it is seq_cst (and
    // not a weak CAS that may fail spuriously, a choice made there).
    if (!lazy_ || below_seq_cst(o, a) || spurious_weak_cas(o, a))
      return weak_atomic(e, addr, a, read);
  } else if (race_detector& races = detector<race_detector>(); races.on()) [[unlikely]] {
    // (Object clocks, as under sc: in a lean execution they would order
    // more than the memory model does, so it runs again in full.)
    if (lean_) lean_stop();
    races.on_acquire(cur_, race_obj(addr));
  }
  return plain_atomic(o, addr, a, read, &e);
}

// A lean execution has no lazy views and no memory model (lean_begin(),
// lean_now()): of atomic_op, what is left, and the race detector's clocks
// when it is on (lean_atomic_clocks).
template <unsigned Size, bool Sign>
[[gnu::always_inline]] inline int runtime::lean_atomic(op o, void* addr, detail::object_handle& h,
                                                      const detail::atomic_access& a, std::uint64_t& read,
                                                      const std::source_location& loc) {
  LOCKSTEP_DCHECK(lean_ && !lazy_ && !mm_.on() && !user_places_);
  LOCKSTEP_DCHECK(a.size == Size && a.sign == Sign);
  // A copy no call can reach: its fields stay constants or registers
  // through the decision.
  detail::atomic_access c = a;
  c.size = Size;
  c.sign = Sign;
  if (rc11_ && (below_seq_cst(o, c) || spurious_weak_cas(o, c))) [[unlikely]]
    lean_stop();
  std::uint32_t id;
  if (!enter_point(o, addr, h, loc, id, Size, Sign)) return plain_atomic<false>(o, addr, c, read, nullptr);
  event& e = record(o, addr, id, loc);
  e.order = static_cast<std::uint8_t>(c.order);
  const int r = plain_atomic<false>(o, addr, c, read, &e);
  if (detector<race_detector>().on()) [[unlikely]]  // an RMW that wrote what was there wrote nothing
    lean_atomic_clocks(o, addr, id, o != op::load && r != 0 && (o != op::rmw || e.value != read));
  return r;
}

}  // namespace lockstep::mc::rt
