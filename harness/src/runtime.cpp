// The execution engine: fibers, scheduling points, futexes, threads,
// ownership annotations, and the detectors that live on the hot path.
#include "runtime.hpp"

#include <cxxabi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>

#include "lockstep/mc/replay_string.hpp"
#include "dcheck.hpp"
#include "messages.hpp"
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
  // Fixed for the runtime's life: iterative bounding builds every bound's
  // search the same way.
  by_count_ = strat.picks_by_count() && !track_;
  expect_ = opts.expect_events;
  fair_on_ = opts.fair_scheduling;
  detector<fairness>().bind(enabled_, elig_);
  events_.reserve(1024);
  cands_.reserve(16);
  schedule_.reserve(256);
}

runtime::~runtime() {
  // Every fiber is parked in finish() (no live frames with destructors), so
  // its stack can simply be reused.
#ifdef LOCKSTEP_ASAN_FIBERS
  // Under AddressSanitizer a fiber also owns a fake stack (the frames of
  // detect_stack_use_after_return), freed only when the fiber says it leaves
  // for good: each one is resumed once to say so, or every runtime (one per
  // explore() and shrink) would leave its fibers' fake stacks behind.
  retiring_ = true;
  for (auto& t : threads_)
    if (t->fiber_created && !t->in_task) jump_raw(host_, *t);
#endif
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

void runtime::jump_raw(fiber_slot& from, fiber_slot& to, [[maybe_unused]] bool last) {
  auto* eh = reinterpret_cast<eh_globals*>(abi::__cxa_get_globals());
  from.eh = *eh;
  *eh = to.eh;
#ifdef LOCKSTEP_TSAN_FIBERS
  if (from.tsan_fiber == nullptr) from.tsan_fiber = __tsan_get_current_fiber();  // the host
  __tsan_switch_to_fiber(to.tsan_fiber, 0);  // 0: the switch orders the fibers' accesses
#endif
#ifdef LOCKSTEP_ASAN_FIBERS
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(last ? nullptr : &fake_stack, to.stack_bottom, to.stack_bytes);
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
  // run_thread returns when this slot is given its next task, or when the
  // runtime ends (retiring_): then the fiber leaves for good.
  while (!rt->retiring_) rt->run_thread(*self);
  jump_raw(*self, rt->host_, true);
}

void runtime::run_thread(thread_rec& self) {
  self.in_task = true;
  if (!aborting_) {
    try {
      record(op::start, nullptr, 0, self.spawn_loc);
      self.vt->invoke(self.task);
    } catch (const abort_execution&) {
    } catch (const std::exception& e) {
      fail(bug_kind::uncaught_exception, uncaught_text(thread_label(self.id), &e),
           self.leaked_unwinding == kNoThread ? std::string() : "  While it unwound, " + leak_text(self.leaked_unwinding) + ".\n");
    } catch (...) {
      fail(bug_kind::uncaught_exception, uncaught_text(thread_label(self.id), nullptr),
           self.leaked_unwinding == kNoThread ? std::string() : "  While it unwound, " + leak_text(self.leaked_unwinding) + ".\n");
    }
    // The exception that dropped the thread object was caught: the leak
    // itself is the bug.
    if (self.leaked_unwinding != kNoThread) fail(bug_kind::leaked_thread, leak_text(self.leaked_unwinding));
  }
  destroy_task(self);
  self.in_task = false;
  finish(self);
}

void runtime::finish(thread_rec& self) {
  detector<livelock>().progress(exec_steps_);  // a thread that finishes made progress
  if (!aborting_) {
    try {
      record(op::exit, nullptr, 0, self.spawn_loc);
    } catch (const abort_execution&) {
    }
  }
  self.st = tstate::finished;
  disable(self.id);
  if (!aborting_) {
    const auto wake_joiner = [&](std::uint32_t i) {
      thread_rec& t = *threads_[i];
      if (t.st == tstate::blocked_join && t.join_target == self.id) {
        t.st = tstate::runnable;
        enable(i);
      }
    };
    if (self.joiners) {
      for (std::uint32_t i = 0; i < nthreads_; ++i) wake_joiner(i);
    } else if (self.joiner != kNoThread) {
      wake_joiner(self.joiner);
    }
  }
  each_detector([&](auto& d) {
    if constexpr (requires { d.on_exit(self.id, exec_steps_); }) d.on_exit(self.id, exec_steps_);
  });
  if (aborting_ || enabled_.size() == 0) {
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
  elig_.reset(nthreads_);
  enabled_.reset(nthreads_);
  nthreads_ = 0;
  queues_.clear();
  schedule_.clear();
  preempted_.clear();
  events_.clear();
  objects_.reset();
  exec_steps_ = 0;
  exec_preemptions_ = 0;
  vtime_ = 0;
  aborting_ = false;
  restart_ = false;
  bug_.reset();
  each_detector([&](auto& d) { d.reset(opts_); });

  // Thread 0 runs the body; body_ref is two words and fits inline.
  thread_rec& main = new_thread(std::source_location::current());
  body_vtable.move_to(main.inline_task, &body);
  main.task = main.inline_task;
  main.vt = &body_vtable;
  main.task_on_heap = false;
  main.joined = true;  // the body is joined by explore() itself

  cur_ = 0;
  in_execution_ = true;
  jump(host_, main);
  if (aborting_) unwind_all();
  in_execution_ = false;
  if (restart_) return;  // not an execution: it runs again
  if (expect_ != nullptr && internal_error_.empty()) {
    // The last event's value is known only now; a run that stopped short of
    // the recorded events diverged too.
    std::string why;
    if (!events_.empty() && !same_event(events_.size() - 1, step_stage::complete, why)) {
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
        fail(bug_kind::leaked_thread, unjoined_text(thread_label(i), t.spawn_loc));
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

void runtime::unwind_now() {
  for (std::uint32_t i = cur_ + 1; aborting_ && i < nthreads_; ++i) {
    if (threads_[i]->in_task) {
      jump_raw(*threads_[cur_], host_);  // resumed by unwind_all(), after them
      break;
    }
  }
  throw abort_execution{};
}

thread_rec& runtime::new_thread(const std::source_location& loc) {
  const std::uint32_t tid = nthreads_;
  if (tid == threads_.size()) threads_.push_back(std::make_unique<thread_rec>(tid, opts_.stack_size));
  ++nthreads_;
  thread_rec& t = *threads_[tid];
  // Copied from fresh ones: a copy keeps the vectors' capacity.
  static const thread_exec fresh_exec;
  thread_exec& x = t;
  x = fresh_exec;
  x.next = access{kThreadKey | tid, access_kind::sync};  // its start
  x.spawn_loc = loc;
  x.block_loc = loc;
  each_detector([&](auto& d) {
    if constexpr (requires { d.on_thread(tid); }) d.on_thread(tid);
  });
  t.task = nullptr;
  enable(tid);
  return t;
}

// ---------------------------------------------------------------------------
// Scheduling

void runtime::enable(std::uint32_t tid) {
  LOCKSTEP_DCHECK(tid < nthreads_ && threads_[tid]->st != tstate::finished);
  enabled_.insert(tid);
  if (!detector<fairness>().deferred(tid)) elig_.insert(tid);
}

void runtime::disable(std::uint32_t tid) {
  enabled_.erase(tid);
  elig_.erase(tid);
}

void runtime::check_abort() {
  if (aborting_ && !no_throw()) unwind_now();
}

bool runtime::spare_release() noexcept { return threads_[cur_]->abort_grace++ < 1000; }

void runtime::wq_push(std::uint32_t obj, thread_rec& t) {
  if (obj >= queues_.size()) queues_.resize(std::size_t{obj} + 1);
  wait_queue& q = queues_[obj];
  t.wq_obj = obj;
  t.wq_next = kNoThread;
  t.wq_prev = q.tail;
  if (q.tail != kNoThread) threads_[q.tail]->wq_next = t.id;
  else q.head = t.id;
  q.tail = t.id;
}

void runtime::wq_remove(thread_rec& t) noexcept {
  if (t.wq_obj == 0) return;
  wait_queue& q = queues_[t.wq_obj];
  if (t.wq_prev != kNoThread) threads_[t.wq_prev]->wq_next = t.wq_next;
  else q.head = t.wq_next;
  if (t.wq_next != kNoThread) threads_[t.wq_next]->wq_prev = t.wq_prev;
  else q.tail = t.wq_prev;
  t.wq_obj = 0;
  t.wq_next = t.wq_prev = kNoThread;
}

// The candidates of a decision: the running thread first (if it is at a
// point and not deferred), then every other eligible thread by id. A strategy
// that picks by count gets only their number; the index is mapped back here
// in O(log threads) (elig_), so a decision costs the same with 2 threads or
// 10,000. The others get the list.
void runtime::list_candidates(bool cur_first) {
  cands_.clear();
  if (cur_first) cands_.push_back(cur_);
  elig_.for_each([&](std::uint32_t t) {
    if (!(cur_first && t == cur_)) cands_.push_back(t);
  });
}

void runtime::decide_among_enabled(bool yielding, bool release) {
  // The running thread is enabled (it is at a point): it goes first, unless
  // fair scheduling makes it wait for threads it yielded to (then switching
  // away is forced, no preemption).
  const bool with_cur = elig_.contains(cur_);
  if (!with_cur) yielding = true;
  const std::uint32_t others = elig_.size() - (with_cur ? 1 : 0);
  // No eligible thread at all: only timed waiters besides it; it goes on.
  const std::size_t n = others == 0 ? 1 : others + (with_cur ? 1 : 0);
  const decision d = yielding ? decision::free : decision::preemptible;
  std::size_t idx = 0;
  std::uint32_t next = cur_;
  if (by_count_) {
    if (n > 1) idx = strat_.pick_count(n, d);
    if (idx != strategy::diverged && others != 0) {
      if (with_cur) {
        if (idx != 0) {  // the (idx - 1)-th eligible thread other than cur_
          const auto k = static_cast<std::uint32_t>(idx - 1);
          next = elig_.select(k);
          if (next >= cur_) next = elig_.select(k + 1);  // k is at or past cur_'s rank
        }
      } else {
        next = elig_.select(static_cast<std::uint32_t>(idx));
      }
    }
  } else {
    list_candidates(with_cur);  // without it, it is not eligible: not listed
    if (cands_.empty()) cands_.push_back(cur_);
    if (track_) publish_next();
    if (cands_.size() > 1 || track_) idx = strat_.pick(cands_, d);
    if (idx != strategy::diverged) next = cands_[idx];
  }
  if (idx == strategy::diverged) [[unlikely]] {
    diverge();
    if (!release && !no_throw()) unwind_now();
    return;
  }
  detector<fairness>().picked(next);
  if (n > 1) schedule_.push_back(next);
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
  if (enabled_.size() == 0) return false;
  std::uint32_t next = 0;
  if (!pick_enabled(next)) {
    if (no_throw()) return true;  // in a release path: the caller sees aborting_
    unwind_now();
  }
  activate(next);
  check_abort();
  return true;
}

bool runtime::pick_enabled(std::uint32_t& next) {
  // A forced switch (the running thread blocked or finished): any enabled
  // thread may go next (the running thread too if it waits with a deadline:
  // picking it fires its timeout), and switching is no preemption.
  const std::uint32_t n = elig_.size();
  if (by_count_ && n != 0) {
    std::size_t idx = 0;
    if (n > 1) {
      idx = strat_.pick_count(n, decision::free);
      if (idx == strategy::diverged) {
        diverge();
        return false;
      }
    }
    next = elig_.select(static_cast<std::uint32_t>(idx));
    if (n > 1) schedule_.push_back(next);
    detector<fairness>().picked(next);
    return true;
  }
  list_candidates(false);
  if (cands_.empty()) enabled_.for_each([&](std::uint32_t t) { cands_.push_back(t); });  // only deferred or timed waiters left
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
  detector<fairness>().picked(next);
  return true;
}

void runtime::activate(std::uint32_t next) {
  thread_rec& to = *threads_[next];
  if (to.st == tstate::blocked_futex) {  // a timed waiter chosen: its deadline fires
    wq_remove(to);
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
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    const thread_rec& t = *threads_[i];
    access a = t.next;
    if (t.next_lock != nullptr) a.blocks = *t.next_lock != 0;
    else if (t.next_try != nullptr) a.yields = fair_on_ && *t.next_try != 0;
    else if (t.next_join != thread_rec::kNoThread) a.blocks = threads_[t.next_join]->st != tstate::finished;
    next_scratch_[i] = a;
  }
  strat_.set_next(next_scratch_);
}

void runtime::publish_unfinished() {
  next_scratch_.resize(nthreads_);
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    const thread_rec& t = *threads_[i];
    // Every thread is stopped at its next step, blocked or at a point,
    // except the failing one when it is inside a step.
    next_scratch_[i] = t.st == tstate::finished                     ? access{}
                       : i == cur_ && t.st == tstate::runnable       ? access{0, access_kind::global}
                       : t.next.kind == access_kind::none            ? access{0, access_kind::global}
                                                                     : t.next;
  }
  strat_.set_pending(next_scratch_);
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
    case op::timeout:  // noted by futex_wait (an immediate one reads time, a fired one writes it)
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
  if (!releasing_op(o) && !no_throw()) unwind_now();  // a release completes: unwind later
}


bool runtime::futex_wait(const std::uint32_t* word, detail::object_handle& h,
                         std::uint32_t expected, bool timed, std::int64_t deadline,
                         const std::source_location& loc) {
  if (aborting_) {
    if (std::uncaught_exceptions() > 0) return true;  // spurious: never block while unwinding
    // In a release path: a wait that need not block completes; one that
    // would block cannot, and unwinds (an expired deadline returns).
    if (threads_[cur_]->release_depth > 0) {
      if (*word != expected) return true;
      if (timed) return false;
    }
    unwind_now();
  }
  const std::uint32_t obj = object_id(h);
  // A timed wait whose deadline has passed times out at once: a yield.
  if (track_) set_next(cur_, {obj, access_kind::futex_wait, false, timed && fair_on_});
  decide();
  if (aborting_) return true;  // resumed to unwind inside a release path: no wait
  if (*word != expected) {
    record(op::wait_skip, word, obj, loc).value = *word;
    return true;
  }
  if (timed && deadline <= vtime_) {
    record(op::timeout, word, obj, loc, true).value = *word;
    note({obj, access_kind::read});
    note({kTimeKey, access_kind::read});
    fair_yield(true);  // an expired timed wait is a yield
    return false;
  }
  record(op::wait, word, obj, loc).value = *word;
  if (timed) note({kTimeKey, access_kind::read});  // it compared its deadline with the time
  thread_rec& me = *threads_[cur_];
  me.block_step = exec_steps_;
  detector<busy_wait>().on_block(cur_);
  me.st = tstate::blocked_futex;
  me.wait_addr = word;
  wq_push(obj, me);
  join_waiters(me);
  me.timed = timed;
  me.deadline = deadline;
  me.timed_out = false;
  me.block_loc = loc;
  // Its next step: the woken return (a read of the word), or a timeout.
  me.next = timed ? access{obj, access_kind::timeout, false, fair_on_} : access{kQueueKey | obj, access_kind::sync};
  if (!timed) disable(cur_);
  if (!switch_away()) {
    global_deadlock();
    unwind_now();
  }
  // Resumed: woken, or our deadline fired (or, inside a release path, the
  // execution aborting: the wait returns as if spuriously woken).
  me.wait_addr = nullptr;
  me.timed = false;
  if (aborting_) return true;
  const bool woke = !me.timed_out;
  record(woke ? op::wake_return : op::timeout, word, obj, loc, !woke).value = *word;
  if (!woke) {  // the timeout fired: it moved virtual time and left the queue
    note({kTimeKey, access_kind::write});
    note({kQueueKey | obj, access_kind::write});
  }
  if (race_detector& races = detector<race_detector>(); races.on()) races.on_acquire(cur_, objects_.intern(word));
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
    if (threads_[cur_]->release_depth > 0) return abandoned_lock(word);
    unwind_now();
  }
  const std::uint32_t obj = object_id(h);
  for (;;) {
    if (track_) {
      set_next(cur_, {obj, access_kind::write});
      threads_[cur_]->next_lock = word;
    }
    decide();
    if (aborting_) return abandoned_lock(word);  // resumed inside a release path
    if (*word == 0) {
      threads_[cur_]->next_lock = nullptr;
      return take_lock_word(word, obj, loc, false);
    }
    // Blocked: next_lock stays, since once woken it tries again (and would
    // block again if someone took the lock first). The attempt read the word
    // the holder's acquisition wrote: run before that acquisition it would
    // have taken the lock, so dpor must see the two as a race here (the
    // acquisition that follows the wake-up may look ordered after the
    // holder's by then, through whatever ordered the wake-up).
    note({obj, access_kind::read});
    thread_rec& me = *threads_[cur_];
    detector<busy_wait>().on_block(cur_);
    me.st = tstate::blocked_futex;
    me.lock_wait = true;
    me.wait_addr = word;
    wq_push(obj, me);
    me.timed = false;
    me.block_loc = loc;
    me.next = access{obj, access_kind::write};
    disable(cur_);
    if (!switch_away()) {
      global_deadlock();
      unwind_now();
    }
    me.lock_wait = false;
    me.wait_addr = nullptr;
    if (aborting_) return abandoned_lock(word);  // resumed inside a release path
  }
}

// Inside a release path of an aborting execution (see thread_rec::
// release_depth): the path goes on as if it held the lock. Taken if free;
// if a suspended thread holds it, that thread only unwinds from here on, so
// nothing it guards is used by both.
void runtime::abandoned_lock(std::uint32_t* word) noexcept { *word = 1; }

bool runtime::try_lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  if (aborting_) {
    if (!no_throw()) unwind_now();
    if (*word != 0) return false;
    *word = 1;
    return true;
  }
  const std::uint32_t obj = object_id(h);
  if (track_) {
    set_next(cur_, {obj, access_kind::lock_try});
    threads_[cur_]->next_try = word;
  }
  decide();
  threads_[cur_]->next_try = nullptr;
  if (aborting_) {  // resumed inside a release path: plainly
    if (*word != 0) return false;
    *word = 1;
    return true;
  }
  if (*word != 0) {
    record(op::cas_fail, word, obj, loc, true).value = *word;
    note({obj, access_kind::read});
    note({kReleaseKey | obj, access_kind::read});
    fair_yield(true);  // a failed try is a yield
    return false;
  }
  take_lock_word(word, obj, loc, true);
  return true;
}

// Acquiring a free native lock word: a write that races with other
// acquisitions. A blocking lock comes after the last release (it could not
// have happened before it: it would have blocked); a successful try reads
// the release instead, because before it the try would have failed, and
// that outcome is one to explore.
void runtime::take_lock_word(std::uint32_t* word, std::uint32_t obj, const std::source_location& loc,
                             bool trying) {
  *word = 1;
  record(op::cas_ok, word, obj, loc, true).value = 1;
  if (race_detector& races = detector<race_detector>(); races.on()) races.on_acquire(cur_, objects_.intern(word));
  note({obj, access_kind::write});
  note({kReleaseKey | obj, trying ? access_kind::read : access_kind::sync});
}

std::uint32_t runtime::unlock_word(std::uint32_t* word, detail::object_handle& h,
                                   const std::source_location& loc) {
  if (aborting_) {
    if (!no_throw() && !spare_release()) unwind_now();
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
  if (race_detector& races = detector<race_detector>(); races.on()) races.on_release(cur_, objects_.intern(word));
  note({kReleaseKey | obj, access_kind::write});
  // Every thread blocked on the word retries (in the order they blocked).
  if (obj < queues_.size()) {
    for (std::uint32_t i = queues_[obj].head; i != kNoThread;) {
      thread_rec& t = *threads_[i];
      i = t.wq_next;
      if (t.st == tstate::blocked_futex && t.lock_wait) {
        wq_remove(t);
        t.st = tstate::runnable;
        enable(t.id);
      }
    }
  }
  return prev;
}

std::uint32_t runtime::choose(std::uint32_t n, const std::source_location& loc) {
  if (aborting_) {
    if (no_throw()) return 0;
    unwind_now();
  }
  std::uint32_t v = 0;
  if (n > 1) {
    cands_.clear();
    for (std::uint32_t i = 0; i < n; ++i) cands_.push_back(i);
    const std::size_t idx = strat_.pick(cands_, decision::value);
    if (idx == strategy::diverged) [[unlikely]] {
      diverge();
      unwind_now();
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
  // The waiters in the order they blocked (FIFO), from the word's queue.
  std::uint64_t woken = 0;
  const std::uint32_t obj = object_id(h);
  if (obj < queues_.size()) {
    for (std::uint32_t i = queues_[obj].head; i != kNoThread && count > 0;) {
      thread_rec& t = *threads_[i];
      i = t.wq_next;
      if (t.st != tstate::blocked_futex || t.lock_wait) continue;
      // A timed waiter's timeout could have fired first: the wake takes that
      // step away from it, so a dependence-aware strategy must try it here.
      if (t.timed && track_) strat_.on_disabled(t.id);
      wq_remove(t);
      t.st = tstate::runnable;
      t.wait_addr = nullptr;
      enable(t.id);
      ++woken;
      --count;
    }
  }
  *rec = woken;
}

// ---------------------------------------------------------------------------
// Threads

std::uint32_t runtime::spawn(const detail::task_vtable& vt, void* callable,
                             const std::source_location& loc) {
  detail::object_handle none;
  std::uint64_t* rec = point(op::spawn, nullptr, none, loc);
  if (rec == nullptr) unwind_now();  // no spawning while unwinding
  thread_rec& t = new_thread(loc);
  void* storage = t.inline_task;
  t.task_on_heap = vt.size > thread_rec::kInlineTask || vt.align > alignof(std::max_align_t);
  if (t.task_on_heap) storage = ::operator new(vt.size, std::align_val_t(vt.align));
  vt.move_to(storage, callable);
  t.task = storage;
  t.vt = &vt;
  *rec = t.id;
  events_.back().object = t.id;
  each_detector([&](auto& d) {
    if constexpr (requires { d.on_spawn(cur_, t.id); }) d.on_spawn(cur_, t.id);
  });
  note({kThreadKey | t.id, access_kind::write});
  return t.id;
}

void runtime::join(std::uint32_t tid, const std::source_location& loc) {
  if (aborting_) {
    // Unwinding, or in a release path (a pool's destructor joining its
    // workers): the target unwinds on its own, before its parent does.
    if (no_throw()) return;
    unwind_now();
  }
  if (tid == cur_)
    fail_and_unwind(bug_kind::misuse, thread_label(cur_) + " joined itself at " + loc_text(loc));
  if (tid >= nthreads_)
    fail_and_unwind(bug_kind::misuse, thread_label(cur_) + ": join() of a thread from another execution at " +
                                          loc_text(loc));
  if (track_) {
    set_next(cur_, {kThreadKey | tid, access_kind::sync});
    threads_[cur_]->next_join = tid;
  }
  decide();
  threads_[cur_]->next_join = thread_rec::kNoThread;
  if (aborting_) return;  // resumed inside a release path
  thread_rec& target = *threads_[tid];
  target.joined = true;
  if (target.st == tstate::finished) {
    record(op::join, nullptr, tid, loc).value = tid;
    each_detector([&](auto& d) {
      if constexpr (requires { d.on_join(cur_, tid); }) d.on_join(cur_, tid);
    });
    return;
  }
  // The join happens once the target has exited: block first, record then.
  thread_rec& me = *threads_[cur_];
  me.st = tstate::blocked_join;
  me.join_target = tid;
  me.block_loc = loc;
  if (target.joiner == kNoThread) target.joiner = cur_;
  else target.joiners = true;
  disable(cur_);
  if (!switch_away()) {
    global_deadlock();
    unwind_now();
  }
  if (aborting_) return;  // resumed inside a release path
  record(op::join, nullptr, tid, loc).value = tid;
  each_detector([&](auto& d) {
    if constexpr (requires { d.on_join(cur_, tid); }) d.on_join(cur_, tid);
  });
}

void runtime::detach(std::uint32_t tid) noexcept {
  if (tid < nthreads_) threads_[tid]->detached = true;
}

std::string runtime::leak_text(std::uint32_t tid) const {
  return rt::leak_text(thread_label(tid), &threads_[tid]->spawn_loc);
}

void runtime::dropped_joinable(std::uint32_t tid, const std::source_location& loc) noexcept {
  (void)loc;
  if (tid >= nthreads_) return;
  threads_[tid]->joined = true;  // reported once, here
  if (aborting_) return;
  thread_rec& me = *threads_[cur_];
  if (std::uncaught_exceptions() > 0) {
    // An exception of the model's unwinds this thread: it is the bug to
    // report (run_thread names it and mentions this); the leak alone is
    // reported only if the exception is caught.
    if (me.leaked_unwinding == kNoThread) me.leaked_unwinding = tid;
    return;
  }
  try {
    fail(bug_kind::leaked_thread, leak_text(tid));
  } catch (...) {
  }
}

bool runtime::refuse_os_thread() noexcept {
  if (!in_execution_) return false;
  try {
    fail(bug_kind::misuse,
         thread_label(cur_) +
             " started an OS thread (std::thread, std::jthread or pthread_create) inside a checked "
             "execution; the checker can neither see nor schedule it, so nothing it does would be "
             "checked: use lockstep::mc::thread",
         "  The thread was not started: its creation failed with EAGAIN (std::thread throws "
         "std::system_error).\n");
  } catch (...) {
  }
  return true;
}

// ---------------------------------------------------------------------------
// Misuse and assertions

void runtime::misuse(const void* obj, const char* what, const std::source_location& loc) {
  (void)obj;
  // Deferred: a misuse is often found in a destructor (a lock guard unlocking
  // a mutex it does not hold), where throwing would terminate. The execution
  // stops at the thread's next scheduling point instead.
  fail(bug_kind::misuse, misuse_text(thread_label(cur_), what, loc));
}

void runtime::assert_failed(const char* expr, const std::source_location& loc, const std::string* message) {
  fail_and_unwind(bug_kind::assertion, assertion_text(expr, thread_label(cur_), loc, message));
}

void runtime::fail(bug_kind kind, std::string message, std::string details) {
  if (aborting_) return;
  aborting_ = true;
  // A search that goes on after a bug (options::keep_going) must still reach
  // every execution that differs before this point. What the unfinished
  // threads would have done next is unknown (the failing one is inside a
  // step): to a dependence-aware strategy their rest races with everything.
  if (track_ && opts_.keep_going) publish_unfinished();
  if (bug_) return;  // recorded earlier (defer_bug): the first bug is the execution's
  bug_ = make_bug(kind, std::move(message), std::move(details));
}

// A deadlock cycle closed inside a step, or a race found inside one, would
// end the execution with the failing thread's next step unknown, and a
// dependence-aware search would then have to take it as racing with
// everything, which can leave a search stuck short of orders that differ
// before the bug. A search that goes on after bugs (options::keep_going)
// lets the execution go on instead: the threads of a cycle block for good,
// a race is only a record, and the execution ends as others do, every
// thread's next step known. The first bug stays the execution's.
bool runtime::defer_bug(bug_kind kind, std::string& message, std::string& details) {
  if (!track_ || !opts_.keep_going || aborting_) return false;
  if (!bug_) bug_ = make_bug(kind, std::move(message), std::move(details));
  return true;
}

bug runtime::make_bug(bug_kind kind, std::string message, std::string details) const {
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
  return b;
}

void runtime::fail_and_unwind(bug_kind kind, std::string message, std::string details) {
  fail(kind, std::move(message), std::move(details));
  unwind_now();
}

}  // namespace lockstep::mc::rt
