// The execution engine: fibers, scheduling points, futexes, threads,
// ownership annotations, and the detectors that live on the hot path.
#include "runtime.hpp"

#include <cxxabi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>

#include "lockstep/mc/replay_string.hpp"
#include "text.hpp"

// ThreadSanitizer must be told about fiber switches: without it, it sees one
// thread whose call stack never unwinds, and its per-thread state grows with
// every switch (gigabytes over a long search).
#if defined(__SANITIZE_THREAD__)
#define LOCKSTEP_TSAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOCKSTEP_TSAN_FIBERS 1
#endif
#endif
#ifdef LOCKSTEP_TSAN_FIBERS
#include <sanitizer/tsan_interface.h>
#endif
// AddressSanitizer too: it keeps the bounds of the stack it runs on, to
// unpoison a stack that is unwound (an exception) and to tell stack from
// heap; a switch it was not told about makes a fiber's frames look like wild
// accesses to it.
#if defined(__SANITIZE_ADDRESS__)
#define LOCKSTEP_ASAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOCKSTEP_ASAN_FIBERS 1
#endif
#endif
#ifdef LOCKSTEP_ASAN_FIBERS
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace lockstep::mc::rt {

constinit thread_local runtime* tl_current [[gnu::tls_model("initial-exec")]] = nullptr;

const detail::task_vtable body_vtable{
    sizeof(detail::body_ref), alignof(detail::body_ref),
    [](void* dst, void* src) { ::new (dst) detail::body_ref(*static_cast<detail::body_ref*>(src)); },
    [](void* self) {
      auto* b = static_cast<detail::body_ref*>(self);
      b->call(b->obj);
    },
    [](void*) noexcept {}};

// ---------------------------------------------------------------------------
// Stacks

fiber_stack::fiber_stack(std::size_t size) : requested_(size) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  guard_ = ((kGuard + page - 1) / page) * page;
  size_ = ((size + page - 1) / page) * page + guard_;
  base_ = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (base_ == MAP_FAILED) throw std::bad_alloc();
  ::mprotect(base_, guard_, PROT_NONE);  // overflow faults (a stack_overflow report) instead of corrupting
}

fiber_stack::~fiber_stack() {
  if (base_ != nullptr) ::munmap(base_, size_);
}

namespace {
// Stacks outlive a runtime: the next explore() on this OS thread takes them
// back warm (already mapped and faulted in) instead of mapping new ones.
// Only memory is reused; each runtime makes its own fibers on it.
thread_local std::vector<std::unique_ptr<fiber_stack>> tl_stack_pool;
constexpr std::size_t kMaxPooledStacks = 256;
}  // namespace

std::unique_ptr<fiber_stack> take_stack(std::size_t size) {
  auto& pool = tl_stack_pool;
  for (std::size_t i = pool.size(); i-- > 0;) {
    if (pool[i]->requested() == size) {
      std::unique_ptr<fiber_stack> s = std::move(pool[i]);
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(i));
      return s;
    }
  }
  return std::make_unique<fiber_stack>(size);
}

void give_back_stack(std::unique_ptr<fiber_stack> s) {
  if (s != nullptr && tl_stack_pool.size() < kMaxPooledStacks) tl_stack_pool.push_back(std::move(s));
}

// ---------------------------------------------------------------------------
// Construction

runtime::runtime(const options& opts, strategy& strat) : opts_(opts), strat_(strat), fatal_(steps_, opts) {
  if (tl_current != nullptr)
    throw std::logic_error("lockstep: explore() called from inside a checked execution");
  if (opts.stack_size < 16 * 1024)
    throw std::invalid_argument("lockstep: options.stack_size must be at least 16 KiB, not " +
                                std::to_string(opts.stack_size) + " bytes");
  tl_current = this;
  track_ = strat.wants_accesses();
  expect_ = opts.expect_events;
  fair_on_ = opts.fair_scheduling;
  events_.reserve(1024);
  enabled_.reserve(16);
  cands_.reserve(16);
  schedule_.reserve(256);
}

runtime::~runtime() {
  // Every fiber is parked in finish() (no live frames with destructors), so
  // its stack can simply be reused.
  for (auto& t : threads_) give_back_stack(std::move(t->stack));
#ifdef LOCKSTEP_TSAN_FIBERS
  for (auto& t : threads_)
    if (t->tsan_fiber != nullptr) __tsan_destroy_fiber(t->tsan_fiber);
#endif
  tl_current = nullptr;
}

// ---------------------------------------------------------------------------
// Fibers

void runtime::jump(fiber_slot& from, thread_rec& to) {
  if (!to.fiber_created) {
    to.ctx = bctx::make_fcontext(to.stack->top(), to.stack->size(), &runtime::fiber_entry);
    to.fiber_created = true;
    to.stack_bottom = static_cast<char*>(to.stack->top()) - to.stack->size();
    to.stack_bytes = to.stack->size();
#ifdef LOCKSTEP_ASAN_FIBERS
    // A pooled stack may hold the poisoned frames of a fiber that was parked
    // on it when its runtime ended.
    __asan_unpoison_memory_region(to.stack_bottom, to.stack_bytes);
#endif
#ifdef LOCKSTEP_TSAN_FIBERS
    to.tsan_fiber = __tsan_create_fiber(0);
#endif
  }
  jump_raw(from, to);
}

void runtime::jump_raw(fiber_slot& from, fiber_slot& to) {
  auto* eh = reinterpret_cast<eh_globals*>(abi::__cxa_get_globals());
  from.eh = *eh;
  *eh = to.eh;
#ifdef LOCKSTEP_TSAN_FIBERS
  if (from.tsan_fiber == nullptr) from.tsan_fiber = __tsan_get_current_fiber();  // the host
  __tsan_switch_to_fiber(to.tsan_fiber, 0);  // 0: the switch orders the fibers' accesses
#endif
#ifdef LOCKSTEP_ASAN_FIBERS
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, to.stack_bottom, to.stack_bytes);
#endif
  bctx::transfer_t t = bctx::jump_fcontext(to.ctx, &from);
  // Whoever switched back to us passed its own slot: remember where it stopped.
  auto* back = static_cast<fiber_slot*>(t.data);
#ifdef LOCKSTEP_ASAN_FIBERS
  // ... and its stack (how the host's stack becomes known).
  __sanitizer_finish_switch_fiber(fake_stack, &back->stack_bottom, &back->stack_bytes);
#endif
  back->ctx = t.fctx;
}

void runtime::fiber_entry(bctx::transfer_t t) {
#ifdef LOCKSTEP_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(nullptr, &static_cast<fiber_slot*>(t.data)->stack_bottom,
                                  &static_cast<fiber_slot*>(t.data)->stack_bytes);
#endif
  static_cast<fiber_slot*>(t.data)->ctx = t.fctx;
  runtime* rt = tl_current;
  thread_rec* self = rt->threads_[rt->cur_].get();
  for (;;) rt->run_thread(*self);  // returns when this slot is given its next task
}

void runtime::run_thread(thread_rec& self) {
  self.in_task = true;
  if (!aborting_) {
    try {
      record(op::start, nullptr, 0, self.spawn_loc);
      self.vt->invoke(self.task);
    } catch (const abort_execution&) {
    } catch (const std::exception& e) {
      fail(bug_kind::uncaught_exception,
           thread_label(self.id) + " ended with an uncaught exception: " + e.what());
    } catch (...) {
      fail(bug_kind::uncaught_exception,
           thread_label(self.id) + " ended with an uncaught exception of a non-std type");
    }
  }
  destroy_task(self);
  self.in_task = false;
  finish(self);
}

void runtime::finish(thread_rec& self) {
  last_progress_ = exec_steps_;  // a thread that finishes made progress
  if (!aborting_) {
    try {
      record(op::exit, nullptr, 0, self.spawn_loc);
    } catch (const abort_execution&) {
    }
  }
  self.st = tstate::finished;
  disable(self.id);
  if (!aborting_) {
    for (std::uint32_t i = 0; i < nthreads_; ++i) {
      thread_rec& t = *threads_[i];
      if (t.st == tstate::blocked_join && t.join_target == self.id) {
        t.st = tstate::runnable;
        enable(i);
      }
    }
  }
  if (aborting_ || enabled_.empty()) {
    if (!aborting_) {
      bool all_done = true;
      for (std::uint32_t i = 0; i < nthreads_; ++i) all_done = all_done && threads_[i]->st == tstate::finished;
      if (!all_done) global_deadlock();
    }
    jump_raw(self, host_);
    return;
  }
  std::uint32_t next = 0;
  if (!pick_enabled(next)) {
    jump_raw(self, host_);
    return;
  }
  activate(next);
  // Resumed here only when this slot gets a new task (jump() returns).
}

void runtime::destroy_task(thread_rec& t) noexcept {
  if (t.task == nullptr) return;
  t.vt->destroy(t.task);
  if (t.task_on_heap) ::operator delete(t.task, std::align_val_t(t.vt->align));
  t.task = nullptr;
}

// ---------------------------------------------------------------------------
// Executions

void runtime::run_execution(detail::body_ref body, std::uint64_t index) {
  // A fatal signal on this thread from here on is this execution's bug, and
  // the watchdog times its steps.
  struct live_scope {
    runtime& rt;
    explicit live_scope(runtime& r) : rt(r) {
      rt.live_ = true;
      rt.fatal_.executing(true);
    }
    ~live_scope() {
      rt.fatal_.executing(false);
      rt.live_ = false;
    }
  } live(*this);
  exec_index_ = index;
  ++epoch_;
  next_object_ = 0;
  nthreads_ = 0;
  enabled_.clear();
  schedule_.clear();
  preempted_.clear();
  events_.clear();
  for (std::size_t i = 0; i < nres_; ++i) resources_[i].holders.clear();
  nres_ = 0;
  res_ordinal_ = 0;
  names_.clear();
  exec_steps_ = 0;
  exec_preemptions_ = 0;
  vtime_ = 0;
  aborting_ = false;
  bug_.reset();
  fair_clock_ = 0;
  fair_deferring_ = 0;
  last_progress_ = 0;
  next_livelock_check_ = 0;
  cycle_.clear();
  notifies_.clear();
  progress_locks_.clear();
  retry_winners_.clear();
  vc_reset();

  // Thread 0 runs the body; body_ref is two words and fits inline.
  thread_rec& main = new_thread(std::source_location::current());
  body_vtable.move_to(main.inline_task, &body);
  main.task = main.inline_task;
  main.vt = &body_vtable;
  main.task_on_heap = false;
  main.joined = true;  // the body is joined by explore() itself

  cur_ = 0;
  jump(host_, main);
  if (aborting_) unwind_all();
  if (expect_ != nullptr && internal_error_.empty()) {
    // The last event's value is known only now; a run that stopped short of
    // the recorded events diverged too.
    std::string why;
    if (!events_.empty() && !same_event(events_.size() - 1, true, why)) {
      internal_error_ = why;
    } else if (!bug_ && events_.size() < expect_->size()) {
      internal_error_ = "replay diverged: the execution ended after step " + std::to_string(events_.size()) +
                        ", the trace goes on to step " + std::to_string(expect_->size()) + " (" +
                        describe_event((*expect_)[events_.size()]) + ")";
    }
    if (!internal_error_.empty()) bug_.reset();
  }
  if (!aborting_) {
    for (std::uint32_t i = 1; i < nthreads_; ++i) {
      const thread_rec& t = *threads_[i];
      if (!t.joined && !t.detached) {
        cur_ = 0;
        fail(bug_kind::leaked_thread,
             thread_label(i) + " (spawned at " + loc_text(t.spawn_loc) +
                 ") was never joined or detached before the execution ended");
        break;
      }
    }
  }
}

void runtime::unwind_all() {
  // Resume each fiber suspended inside its task: it finds the execution
  // aborting, throws abort_execution from its scheduling point, runs its
  // destructors, and jumps back here.
  // Children before parents (a child has a higher id than its parent): the
  // body's frame, which holds what the others use, unwinds last.
  for (std::uint32_t i = nthreads_; i-- > 0;) {
    thread_rec& t = *threads_[i];
    if (t.in_task) {
      cur_ = i;
      jump(host_, t);
    }
  }
  for (std::uint32_t i = 0; i < nthreads_; ++i) destroy_task(*threads_[i]);  // never started
}

thread_rec& runtime::new_thread(const std::source_location& loc) {
  const std::uint32_t tid = nthreads_;
  if (tid == threads_.size()) threads_.push_back(std::make_unique<thread_rec>(tid, opts_.stack_size));
  ++nthreads_;
  thread_rec& t = *threads_[tid];
  t.st = tstate::runnable;
  t.wait_addr = nullptr;
  t.timed = false;
  t.lock_wait = false;
  t.timed_out = false;
  t.joined = false;
  t.detached = false;
  t.spurious = 0;
  t.abort_grace = 0;
  t.next = access{kThreadKey | tid, access_kind::sync};  // its start
  t.waiting_for = nullptr;
  t.label = nullptr;
  t.spawn_loc = loc;
  t.block_loc = loc;
  t.task = nullptr;
  t.fair_last = 0;                // never picked: it has not run since anyone's yield
  t.yield_at = ++fair_clock_;
  t.defer.clear();
  t.ro_run = 0;
  t.prev_ro = false;
  t.bypass.clear();
  t.retry_for = nullptr;
  t.retry_bypass.clear();
  enable(tid);
  return t;
}

// ---------------------------------------------------------------------------
// Scheduling

void runtime::enable(std::uint32_t tid) {
  auto it = std::lower_bound(enabled_.begin(), enabled_.end(), tid);
  if (it == enabled_.end() || *it != tid) enabled_.insert(it, tid);
}

void runtime::disable(std::uint32_t tid) {
  auto it = std::lower_bound(enabled_.begin(), enabled_.end(), tid);
  if (it != enabled_.end() && *it == tid) enabled_.erase(it);
}

void runtime::check_abort() {
  if (aborting_ && std::uncaught_exceptions() == 0) throw abort_execution{};
}

bool runtime::spare_release() noexcept { return threads_[cur_]->abort_grace++ < 1000; }

void runtime::decide_among_enabled(bool yielding, bool release) {
  // The running thread is enabled (it is at a point): it goes first, unless
  // fair scheduling makes it wait for threads it yielded to (then switching
  // away is forced, no preemption).
  cands_.clear();
  const bool fair = fair_deferring_ != 0;
  if (fair && fair_deferred(cur_)) yielding = true;
  else cands_.push_back(cur_);
  for (std::uint32_t t : enabled_)
    if (t != cur_ && !(fair && fair_deferred(t))) cands_.push_back(t);
  if (cands_.empty()) cands_.push_back(cur_);  // only timed waiters besides it
  if (track_) publish_next();
  const std::size_t idx = cands_.size() > 1 || track_
                              ? strat_.pick(cands_, yielding ? decision::free : decision::preemptible)
                              : 0;
  if (idx == strategy::diverged) [[unlikely]] {
    diverge();
    if (!release) throw abort_execution{};
    return;
  }
  const std::uint32_t next = cands_[idx];
  fair_picked(next);
  if (cands_.size() > 1) schedule_.push_back(next);
  if (next != cur_ && !yielding) {
    ++exec_preemptions_;
    preempted_.push_back(static_cast<std::uint32_t>(schedule_.size() - 1));
  }
  if (next != cur_) {
    activate(next);
    if (!release) check_abort();  // a release completes, then unwinds at a later point
  }
}

bool runtime::switch_away() {
  // The running thread just blocked. A timed waiter stays a candidate: picking
  // it fires its timeout.
  if (enabled_.empty()) return false;
  std::uint32_t next = 0;
  if (!pick_enabled(next)) throw abort_execution{};
  activate(next);
  check_abort();
  return true;
}

bool runtime::pick_enabled(std::uint32_t& next) {
  // A forced switch (the running thread blocked or finished): any enabled
  // thread may go next, and switching is no preemption.
  cands_.clear();
  const bool fair = fair_deferring_ != 0;
  for (std::uint32_t t : enabled_)
    if (!(fair && fair_deferred(t))) cands_.push_back(t);
  if (cands_.empty()) cands_.assign(enabled_.begin(), enabled_.end());  // only timed waiters left
  std::size_t idx = 0;
  if (cands_.size() > 1 || track_) {
    if (track_) publish_next();
    idx = strat_.pick(cands_, decision::free);
    if (idx == strategy::diverged) {
      diverge();
      return false;
    }
    if (cands_.size() > 1) schedule_.push_back(cands_[idx]);
  }
  next = cands_[idx];
  fair_picked(next);
  return true;
}

void runtime::activate(std::uint32_t next) {
  thread_rec& to = *threads_[next];
  if (to.st == tstate::blocked_futex) {  // a timed waiter chosen: its deadline fires
    to.st = tstate::runnable;
    to.timed_out = true;
    vtime_ = std::max(vtime_, to.deadline);
  }
  if (next == cur_) return;
  thread_rec& from = *threads_[cur_];
  cur_ = next;
  jump(from, to);
}

void runtime::publish_next() {
  next_scratch_.resize(nthreads_);
  for (std::uint32_t i = 0; i < nthreads_; ++i) next_scratch_[i] = threads_[i]->next;
  strat_.set_next(next_scratch_);
}

void runtime::note_event(op o, std::uint32_t object) {
  switch (o) {
    case op::start: note({kThreadKey | cur_, access_kind::sync}); break;
    case op::exit: note({kThreadKey | cur_, access_kind::write}); break;
    case op::join: note({kThreadKey | object, access_kind::sync}); break;
    case op::wake_return: note({kQueueKey | object, access_kind::sync}); break;
    case op::wait:  // blocks: reads the word, joins its queue
      note({object, access_kind::read});
      note({kQueueKey | object, access_kind::write});
      break;
    case op::wake: note({kQueueKey | object, access_kind::write}); break;
    case op::load:
    case op::cas_fail:
    case op::wait_skip: note({object, access_kind::read}); break;
    case op::store:
    case op::rmw:
    case op::cas_ok: note({object, access_kind::write}); break;
    case op::timeout: note({0, access_kind::global}); break;
    case op::spawn:  // noted by spawn() once the child's id is known
    case op::yield:
    case op::choose: break;
  }
}

void runtime::diverge() {
  internal_error_ = strat_.error();
  aborting_ = true;
}

// ---------------------------------------------------------------------------
// Events



void runtime::step_bound_exceeded(op o) {
  fail(bug_kind::non_termination,
       "the execution exceeded the step bound (max_steps = " + std::to_string(opts_.max_steps) + ")",
       std::string("  This usually means a spin loop that never yields (call relax()), or a thread "
                   "waiting for something that never comes. Raise the bound with --max-steps or "
                   "options.max_steps if the model is just long.\n") +
           (fair_on_ ? ""
                     : "  Fair scheduling is off (--unfair, options.fair_scheduling = false): a loop "
                       "that yields while it waits for another thread also runs forever in an "
                       "unfair schedule.\n"));
  if (!releasing_op(o)) throw abort_execution{};  // a release completes: unwind at a later point
}


bool runtime::futex_wait(const std::uint32_t* word, detail::object_handle& h,
                         std::uint32_t expected, bool timed, std::int64_t deadline,
                         const std::source_location& loc) {
  if (aborting_) {
    if (std::uncaught_exceptions() > 0) return true;  // spurious: never block while unwinding
    throw abort_execution{};
  }
  const std::uint32_t obj = object_id(h);
  if (track_) set_next(cur_, {obj, access_kind::futex_wait});
  decide();
  if (*word != expected) {
    record(op::wait_skip, word, obj, loc).value = *word;
    return true;
  }
  if (timed && deadline <= vtime_) {
    record(op::timeout, word, obj, loc).value = *word;
    fair_yield(true);  // an expired timed wait is a yield
    return false;
  }
  record(op::wait, word, obj, loc).value = *word;
  thread_rec& me = *threads_[cur_];
  me.wait_step = exec_steps_;
  me.ro_run = 0;
  me.prev_ro = false;
  me.st = tstate::blocked_futex;
  me.wait_addr = word;
  me.wait_seq = ++wait_seq_;
  me.timed = timed;
  me.deadline = deadline;
  me.timed_out = false;
  me.block_loc = loc;
  // Its next step: the woken return (a read of the word), or a timeout.
  me.next = timed ? access{0, access_kind::global} : access{kQueueKey | obj, access_kind::sync};
  if (!timed) disable(cur_);
  if (!switch_away()) {
    global_deadlock();
    throw abort_execution{};
  }
  // Resumed: woken, or our deadline fired.
  me.wait_addr = nullptr;
  me.timed = false;
  const bool woke = !me.timed_out;
  record(woke ? op::wake_return : op::timeout, word, obj, loc).value = *word;
  if (races_on_) vc_acquire(word);
  if (!woke) fair_yield(false);  // an expired timed wait is a yield
  return woke;
}

// The native lock word: acquiring is one step (a write) that can happen only
// while the word is 0; a thread that finds it held blocks without an event
// and is enabled again by the unlock. Failed attempts leave no trace, so the
// schedules differ only in the order of the critical sections.
void runtime::lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  if (aborting_) {
    if (std::uncaught_exceptions() > 0) return;
    throw abort_execution{};
  }
  const std::uint32_t obj = object_id(h);
  for (;;) {
    if (track_) set_next(cur_, {obj, access_kind::write, *word != 0});
    decide();
    if (*word == 0) return take_lock_word(word, obj, loc);
    thread_rec& me = *threads_[cur_];
    me.ro_run = 0;
    me.prev_ro = false;
    me.st = tstate::blocked_futex;
    me.lock_wait = true;
    me.wait_addr = word;
    me.wait_seq = ++wait_seq_;
    me.timed = false;
    me.block_loc = loc;
    me.next = access{obj, access_kind::write};
    disable(cur_);
    if (!switch_away()) {
      global_deadlock();
      throw abort_execution{};
    }
    me.lock_wait = false;
    me.wait_addr = nullptr;
  }
}

bool runtime::try_lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  if (aborting_) {
    if (std::uncaught_exceptions() == 0) throw abort_execution{};
    if (*word != 0) return false;
    *word = 1;
    return true;
  }
  const std::uint32_t obj = object_id(h);
  if (track_) set_next(cur_, {obj, access_kind::write});
  decide();
  if (*word != 0) {
    record(op::cas_fail, word, obj, loc, true).value = *word;
    note({obj, access_kind::read});
    note({kReleaseKey | obj, access_kind::read});
    fair_yield(true);  // a failed try is a yield
    return false;
  }
  take_lock_word(word, obj, loc);
  return true;
}

// Acquiring a free native lock word: a write that races with other
// acquisitions and comes after the last release.
void runtime::take_lock_word(std::uint32_t* word, std::uint32_t obj, const std::source_location& loc) {
  *word = 1;
  record(op::cas_ok, word, obj, loc, true).value = 1;
  if (races_on_) vc_acquire(word);
  note({obj, access_kind::write});
  note({kReleaseKey | obj, access_kind::sync});
}

std::uint32_t runtime::unlock_word(std::uint32_t* word, detail::object_handle& h,
                                   const std::source_location& loc) {
  if (aborting_) {
    if (std::uncaught_exceptions() == 0 && !spare_release()) throw abort_execution{};
    const std::uint32_t prev = *word;
    *word = 0;  // unwinding: nobody is woken
    return prev;
  }
  const std::uint32_t obj = object_id(h);
  if (track_) set_next(cur_, {kReleaseKey | obj, access_kind::write});
  decide(false, true);  // often in a destructor: an abort must not throw here
  const std::uint32_t prev = *word;
  *word = 0;
  if (aborting_) return prev;
  record(op::rmw, word, obj, loc, true).value = 0;
  if (races_on_) vc_release(word);
  note({kReleaseKey | obj, access_kind::write});
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    thread_rec& t = *threads_[i];
    if (t.st == tstate::blocked_futex && t.lock_wait && t.wait_addr == word) {
      t.st = tstate::runnable;
      enable(i);
    }
  }
  return prev;
}

std::uint32_t runtime::choose(std::uint32_t n, const std::source_location& loc) {
  if (aborting_) {
    if (std::uncaught_exceptions() > 0) return 0;
    throw abort_execution{};
  }
  std::uint32_t v = 0;
  if (n > 1) {
    cands_.clear();
    for (std::uint32_t i = 0; i < n; ++i) cands_.push_back(i);
    const std::size_t idx = strat_.pick(cands_, decision::value);
    if (idx == strategy::diverged) [[unlikely]] {
      diverge();
      throw abort_execution{};
    }
    v = static_cast<std::uint32_t>(idx);
    schedule_.push_back(v);
  }
  record(op::choose, nullptr, 0, loc).value = v;
  return v;
}

bool runtime::spurious_wakeup(const void* obj, const std::source_location& loc) {
  thread_rec& me = *threads_[cur_];
  if (me.spurious >= opts_.spurious_wakeups) return false;
  if (choose(2, loc) == 0) return false;
  ++me.spurious;
  events_.back().addr = obj;
  return true;
}

void runtime::futex_wake(const std::uint32_t* word, detail::object_handle& h, int count,
                         const std::source_location& loc) {
  std::uint64_t* rec = point(op::wake, word, h, loc);
  if (rec == nullptr) return;
  std::uint64_t woken = 0;
  while (count-- > 0) {
    thread_rec* first = nullptr;
    for (std::uint32_t i = 0; i < nthreads_; ++i) {
      thread_rec& t = *threads_[i];
      if (t.st == tstate::blocked_futex && !t.lock_wait && t.wait_addr == word &&
          (first == nullptr || t.wait_seq < first->wait_seq))
        first = &t;
    }
    if (first == nullptr) break;
    first->st = tstate::runnable;
    first->wait_addr = nullptr;
    enable(first->id);
    ++woken;
  }
  *rec = woken;
}

// ---------------------------------------------------------------------------
// Threads

std::uint32_t runtime::spawn(const detail::task_vtable& vt, void* callable,
                             const std::source_location& loc) {
  detail::object_handle none;
  std::uint64_t* rec = point(op::spawn, nullptr, none, loc);
  if (rec == nullptr) throw abort_execution{};  // no spawning while unwinding
  thread_rec& t = new_thread(loc);
  void* storage = t.inline_task;
  t.task_on_heap = vt.size > thread_rec::kInlineTask || vt.align > alignof(std::max_align_t);
  if (t.task_on_heap) storage = ::operator new(vt.size, std::align_val_t(vt.align));
  vt.move_to(storage, callable);
  t.task = storage;
  t.vt = &vt;
  *rec = t.id;
  events_.back().object = t.id;
  if (races_on_) vc_spawn(t.id);
  note({kThreadKey | t.id, access_kind::write});
  return t.id;
}

void runtime::join(std::uint32_t tid, const std::source_location& loc) {
  if (aborting_) {
    if (std::uncaught_exceptions() > 0) return;
    throw abort_execution{};
  }
  if (tid == cur_)
    fail_and_unwind(bug_kind::misuse, thread_label(cur_) + " joined itself at " + loc_text(loc));
  if (tid >= nthreads_)
    fail_and_unwind(bug_kind::misuse, thread_label(cur_) + ": join() of a thread from another execution at " +
                                          loc_text(loc));
  if (track_)
    set_next(cur_, {kThreadKey | tid, access_kind::sync, threads_[tid]->st != tstate::finished});
  decide();
  thread_rec& target = *threads_[tid];
  target.joined = true;
  if (target.st == tstate::finished) {
    record(op::join, nullptr, tid, loc).value = tid;
    if (races_on_) vc_join(tid);
    return;
  }
  // The join happens once the target has exited: block first, record then.
  thread_rec& me = *threads_[cur_];
  me.st = tstate::blocked_join;
  me.join_target = tid;
  me.block_loc = loc;
  disable(cur_);
  if (!switch_away()) {
    global_deadlock();
    throw abort_execution{};
  }
  record(op::join, nullptr, tid, loc).value = tid;
  if (races_on_) vc_join(tid);
}

void runtime::detach(std::uint32_t tid) noexcept {
  if (tid < nthreads_) threads_[tid]->detached = true;
}

void runtime::dropped_joinable(std::uint32_t tid, const std::source_location& loc) noexcept {
  if (tid < nthreads_) threads_[tid]->joined = true;  // reported once, here
  if (aborting_) return;
  try {
    (void)loc;
    fail(bug_kind::leaked_thread,
         "the mc::thread object of " + thread_label(tid) + " (spawned at " +
             loc_text(threads_[tid]->spawn_loc) + ") was destroyed while joinable: never joined or detached");
  } catch (...) {
  }
}

// ---------------------------------------------------------------------------
// Misuse and assertions

void runtime::misuse(const void* obj, const char* what, const std::source_location& loc) {
  (void)obj;
  // Deferred: a misuse is often found in a destructor (a lock guard unlocking
  // a mutex it does not hold), where throwing would terminate. The execution
  // stops at the thread's next scheduling point instead.
  fail(bug_kind::misuse, thread_label(cur_) + ": " + what + " at " + loc_text(loc));
}

void runtime::assert_failed(const char* expr, const std::source_location& loc, const std::string* message) {
  std::string what = "assertion `" + std::string(expr) + "` failed in " + thread_label(cur_) + " at " + loc_text(loc);
  if (message != nullptr) what = *message + " (" + what + ")";
  fail_and_unwind(bug_kind::assertion, std::move(what));
}

void runtime::fail(bug_kind kind, std::string message, std::string details) {
  if (aborting_) return;
  aborting_ = true;
  bug b;
  b.kind = kind;
  b.message = std::move(message);
  b.details = std::move(details);
  b.details += describe_threads();
  b.details += describe_last_events(4);
  b.thread = cur_;
  b.execution = exec_index_ + 1;
  b.step = exec_steps_;
  b.preemptions = exec_preemptions_;
  b.schedule = encode_schedule(schedule_);
  b.events = export_events();
  b.preempted_at = preempted_;
  b.graph = build_graph();
  bug_ = std::move(b);
}

void runtime::fail_and_unwind(bug_kind kind, std::string message, std::string details) {
  fail(kind, std::move(message), std::move(details));
  throw abort_execution{};
}

}  // namespace lockstep::mc::rt
