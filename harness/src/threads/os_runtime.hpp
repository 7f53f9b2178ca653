// Internal: the OS-thread backend of the hooks (see lockstep/mc/os_threads.hpp).
// One os_runtime per run; each model thread is a std::thread whose
// thread-locals point at it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <string>
#include <thread>
#include <vector>

#include "lockstep/mc/os_threads.hpp"
#include "engine/backend.hpp"

namespace lockstep::mc::os {

class os_runtime;
extern constinit thread_local os_runtime* tl_os;

class os_runtime {
 public:
  os_runtime(const trace* follow, const thread_run_options& o);
  ~os_runtime();
  static os_runtime* current() noexcept { return tl_os; }
  // Called by the std::terminate handler on a model thread: an abort thrown
  // inside a function that may not throw stops the thread there for good
  // (as the fiber runtime's freeze() does); anything else returns.
  void terminating() noexcept;

  thread_run run(detail::body_ref body);

  // Hooks (see lockstep/mc/hooks.hpp), called on model threads.
  std::uint64_t* point(op o, const void* addr, detail::object_handle& h, const std::source_location& loc);
  bool futex_wait(const std::uint32_t* word, detail::object_handle& h, std::uint32_t expected, bool timed,
                  std::int64_t deadline, const std::source_location& loc);
  void futex_wake(const std::uint32_t* word, detail::object_handle& h, int count, const std::source_location& loc);
  void lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  bool try_lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  std::uint32_t unlock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  bool count_acquire(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                     const std::source_location& loc);
  bool count_try_acquire(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc);
  bool cond_enqueue(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                    const std::source_location& loc);
  bool cond_block(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                  const std::source_location& loc);
  void cond_notify(std::uint32_t* word, detail::object_handle& h, bool all, const std::source_location& loc);
  std::uint32_t count_release(std::uint32_t* word, detail::object_handle& h, std::uint32_t n, std::uint32_t limit,
                              const std::source_location& loc);
  bool monitor_step(std::uint32_t* lock, detail::object_handle& h, std::uint32_t* seq, monitor_probe probe,
                    const void* ctx, const void* waits_on, bool timed, std::int64_t deadline,
                    const std::source_location& loc);
  void monitor_exit(std::uint32_t* lock, detail::object_handle& h, std::uint32_t* seq, const std::source_location& loc);
  // Real atomic operations, one at a time through the turnstile; their
  // values are checked against the trace's (check_value).
  int atomic_op(op o, void* addr, detail::object_handle& h, const detail::atomic_access& a, std::uint64_t& read,
                const std::source_location& loc);
  void atomic_fence(std::memory_order order, const std::source_location& loc);
  std::int64_t now() const noexcept;
  std::uint32_t choose(std::uint32_t n, const std::source_location& loc);
  bool spurious_wakeup(const void* obj, const std::source_location& loc);
  // Who holds each lock, as the fiber engine keeps it: an unlock by a thread
  // that does not hold it (or of a lock nobody holds), and a lock destroyed
  // while held, are misuse here too (reported, then the run stops).
  void acquired(const void* obj, lock_mode mode, const std::source_location& loc) noexcept;
  void released(const void* obj, lock_mode mode, const std::source_location& loc) noexcept;
  void destroyed(const void* obj) noexcept;
  // The wait-for graph, progress marks, retry loops and plain accesses feed
  // the fiber engine's detectors. On OS threads a deadlock is a hang (the
  // watchdog), and livelock, starvation and data races are properties of the
  // recorded history, which reproduces once the whole history has run:
  // these annotations have nothing to add there.
  void named(const void*, const char*) noexcept {}
  void acquiring(const void*, lock_kind, acquire_flags, const std::source_location&, lock_mode) noexcept {}
  void notified(const void*, const std::source_location&) noexcept {}
  void progress() noexcept {}
  void unordered_wait() noexcept {}
  void try_begin(const std::uint32_t*) noexcept {}
  void try_end(bool) noexcept {}
  void progress_on_acquire(const void*) noexcept {}
  void plain_access(const void*, std::size_t, bool, const std::source_location&) noexcept {}
  void plain_forget(const void*) noexcept {}
  void retry_begin(const void*, const std::source_location&) noexcept {}
  void retry_lost(const void*, const std::source_location&) noexcept {}
  void retry_won(const void*, const std::source_location&) noexcept {}
  void misuse(const void* obj, const char* what, const std::source_location& loc);
  // pthread_create on a model thread, but for the runtime's own spawn: the
  // OS thread is refused (EAGAIN) and reported as misuse, as on fibers.
  bool refuse_os_thread() noexcept;
  [[noreturn]] void assert_failed(const char* expr, const std::source_location& loc,
                                  const std::string* message = nullptr);
  std::uint32_t spawn(const detail::task_vtable& vt, void* callable, const std::source_location& loc);
  void join(std::uint32_t tid, const std::source_location& loc);
  void detach(std::uint32_t tid) noexcept;
  void dropped_joinable(std::uint32_t tid, const std::source_location& loc) noexcept;
  std::uint32_t current_thread() const noexcept;
  void name_thread(const char* name) noexcept;
  void release_enter() noexcept;  // see detail::release_scope
  void release_exit() noexcept;

 private:
  struct thread_slot {
    std::uint32_t id = 0;
    std::uint32_t parent = 0xffffffffu;  // the thread that spawned it (none for the body)
    std::thread th;
    std::atomic<std::uint32_t> finished{0};
    std::atomic<bool> blocked{false};  // in a real wait (for hang classification)
    std::source_location blocked_loc;
    bool blocked_lock = false;  // ... waiting for a lock word
    const std::uint32_t* blocked_word = nullptr;  // ... while *blocked_word == blocked_expected
    std::uint32_t blocked_expected = 0;
    bool blocked_timed = false;  // ... with a deadline
    bool detached = false;
    bool joined = false;
    bool stopped = false;  // stopped for good where the abort could not unwind it (terminating())
    std::source_location spawn_loc;
    std::atomic<const char*> label{nullptr};  // mc::this_thread::set_name()
    void* task = nullptr;
    const detail::task_vtable* vt = nullptr;
  };
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  void thread_main(thread_slot& self);
  void destroy_task(thread_slot& t) noexcept;

  // Turnstile.
  std::size_t gate();                      // wait for this thread's turn; npos: running free
  void settle();                           // finish this thread's pending event, pass the turn
  void pass_turn(std::size_t k);
  void check_event(std::size_t k, op o, std::uint32_t object, const std::source_location& loc);
  void check_value(std::size_t k, op o, std::uint64_t value);
  std::uint32_t bind_object(std::size_t k, detail::object_handle& h, const std::source_location& loc, op o);
  void diverge(std::string why);  // throws, except inside a release

  // Free running.
  void check_abort();
  [[noreturn]] void unwind();              // throw the abort, once this thread's children finished
  bool aborting_unwind() const noexcept;  // aborting and this thread is unwinding
  // Blocks while *word == expected (a real futex wait, abortable); false when
  // `deadline_ns` (virtual, -1: none) passed first.
  bool real_wait(const std::uint32_t* word, std::uint32_t expected, std::int64_t deadline_ns,
                 const std::source_location& loc, bool lock = false);
  void real_lock(std::uint32_t* word, const std::source_location& loc);
  void found(bug_kind k, std::string message);
  void stop();                             // abort the run and wake every waiter
  bool all_blocked() const;                // every live thread is in a real wait

  std::string thread_label(std::uint32_t tid) const;  // takes mu_
  std::string label_held(std::uint32_t tid) const;     // mu_ held
  static std::string label_of(const thread_slot& s);   // mu_ held

  const trace* follow_;
  std::size_t nevents_ = 0;
  thread_run_options opts_;
  std::atomic<std::uint32_t> turn_{0};
  std::atomic<bool> abort_{false};
  std::atomic<std::uint64_t> progress_{0};
  std::atomic<std::uint32_t> live_{0};
  std::chrono::steady_clock::time_point start_;
  std::atomic<std::int64_t> vtime_{0};      // turnstile: the recorded virtual time
  std::atomic<std::int64_t> free_since_{-1};  // ns since start_ when running free began

  mutable std::mutex mu_;                   // threads_, the result, holders_
  std::deque<thread_slot> threads_;
  struct holder {
    const void* obj;
    std::uint32_t thread;
    lock_mode mode;
    std::source_location loc;
  };
  std::vector<holder> holders_;  // the locks held now (few: a linear search)
  void misuse_found(const std::string& message) noexcept;
  std::vector<std::uint8_t> introduces_;   // turnstile: event k is the first to name its object
  std::string invalid_;                     // turnstile: why the trace cannot be followed ("": it can)
  std::uint32_t epoch_;
  thread_run result_;
};

}  // namespace lockstep::mc::os
