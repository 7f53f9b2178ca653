// The execution engine: scheduling points, futex and lock words, threads,
// the annotations primitives make, and where each detector is asked. The
// words of every report are report/'s.
#include "engine/runtime.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <utility>

#include "lockstep/mc/replay_string.hpp"
#include "engine/dcheck.hpp"
#include "strategies/xoshiro.hpp"
#include "report/liveness.hpp"
#include "report/messages.hpp"
#include "report/text.hpp"

namespace lockstep::mc::rt {

constinit thread_local runtime* tl_current [[gnu::tls_model("initial-exec")]] = nullptr;

namespace {
// Object-handle epochs of fiber executions: 1 .. kFiberEpochs - 1, below the
// OS-thread runs' (threads/os_runtime.cpp), shared by every runtime of the
// process; 0 is a handle never used.
constexpr std::uint32_t kFiberEpochs = 0x80000000u;
constexpr std::uint32_t kEpochBlock = 1024;
std::atomic<std::uint32_t> g_epoch_blocks{0};
}  // namespace

void runtime::next_epoch() noexcept {
  if (++epoch_ < epoch_end_) [[likely]]
    return;
  // A new block. After 2^31 executions in one process the numbers come
  // round again: a handle left unused for that long could be taken for
  // current (as one per runtime could before, after 2^32).
  const std::uint32_t block = g_epoch_blocks.fetch_add(1, std::memory_order_relaxed) % (kFiberEpochs / kEpochBlock);
  epoch_ = block * kEpochBlock + (block == 0 ? 1 : 0);
  epoch_end_ = (block + 1) * kEpochBlock;
}

const detail::task_vtable body_vtable{
    sizeof(detail::body_ref), alignof(detail::body_ref),
    [](void* dst, void* src) { ::new (dst) detail::body_ref(*static_cast<detail::body_ref*>(src)); },
    [](void* self) {
      auto* b = static_cast<detail::body_ref*>(self);
      b->call(b->obj);
    },
    [](void*) noexcept {}};

// ---------------------------------------------------------------------------
// std::terminate while aborting

namespace {

std::terminate_handler previous_terminate = nullptr;

[[noreturn]] void on_terminate() {
  if (runtime* rt = tl_current; rt != nullptr) rt->terminating();
  if (previous_terminate != nullptr) previous_terminate();
  std::abort();
}

}  // namespace

// The abort is thrown from a scheduling point; one inside a noexcept
// function (most often a destructor that takes a lock or touches an
// atomic, called where nothing unwinds yet) cannot leave it, and the C++
// runtime calls std::terminate. That would end the process with a crash
// that hides the execution's bug: the thread is stopped there instead, as
// one that never reaches a point where it may throw (freeze()).
void runtime::terminating() noexcept {
  if (!in_execution_ || !aborting_ || cur_ >= nthreads_) return;
  thread_rec& t = *threads_[cur_];
  const std::uintptr_t sp = stack_pointer();
  const auto top = reinterpret_cast<std::uintptr_t>(t.stack->top());
  if (!t.in_task || sp >= top || top - sp > t.stack->size()) return;  // not on its fiber
  // The abort, caught by the C++ runtime to call std::terminate, or thrown
  // and not caught where a compiler calls std::terminate itself (GCC does so
  // in a noexcept function inlined into the thread's function).
  if (!end_terminating_abort() && !t.abort_thrown) return;
  freeze("was at a scheduling point inside a function that may not throw (a destructor, most often) when "
         "the execution aborted");
}

bool end_terminating_abort() noexcept {
  bool ours = false;
  {
    const std::exception_ptr e = std::current_exception();
    if (!e) return false;
    try {
      std::rethrow_exception(e);
    } catch (const abort_execution&) {
      ours = true;
    } catch (...) {
    }
  }
  // The C++ runtime caught the abort to call std::terminate, and a stopped
  // thread's frames never end that catch: ending it here frees the exception
  // (which LeakSanitizer reported once per stopped thread).
  if (ours) abi::__cxa_end_catch();
  return ours;
}

// ---------------------------------------------------------------------------
// Construction

runtime::runtime(const options& opts, strategy& strat)
    : opts_(opts), strat_(strat), fatal_(steps_, opts) {
  if (tl_current != nullptr)
    throw std::logic_error("lockstep: explore() called from inside a checked execution");
  fiber_thread_init();
  if (opts.stack_size < kMinStackSize)
    throw std::invalid_argument("lockstep: options.stack_size must be at least 16 KiB, not " +
                                std::to_string(opts.stack_size) + " bytes");
  tl_current = this;
  static const bool terminate_installed = [] {
    previous_terminate = std::set_terminate(&on_terminate);
    return true;
  }();
  (void)terminate_installed;
  events_.set_bound(opts.max_steps);  // record() reaches events_limit() there
  track_ = strat.wants_accesses();
  // Fixed for the runtime's life: iterative bounding builds every bound's
  // search the same way.
  by_count_ = strat.picks_by_count() && !track_;
  if (by_count_) uniform_ = strat.uniform_picks();
  expect_ = opts.expect_events;
  fair_on_ = opts.fair_scheduling;
  rc11_ = opts.memory_model == memory_model::rc11;
  lean_ok_ = opts.lean_sampling && uniform_ != nullptr && expect_ == nullptr;
  detector<fairness>().bind(enabled_, elig_);
  events_.reserve(1024);
  cands_.reserve(16);
  schedule_.reserve(256);
}

runtime::~runtime() {
  // Every fiber is parked in fiber_entry() (no live frames with destructors), so
  // its stack can simply be reused. (A frozen one was retired at the end of
  // its execution, see freeze(), and has no fiber until its slot's next task.)
  // Under AddressSanitizer a fiber also owns a fake stack (the frames of
  // detect_stack_use_after_return), freed only when the fiber says it leaves
  // for good: each one is resumed once to say so, or every runtime (one per
  // explore() and shrink) would leave its fibers' fake stacks behind.
  if (fibers_have_fake_stacks()) {
    retiring_ = true;
    for (auto& t : threads_)
      if (t->fiber_created && !t->in_task) fiber_switch(host_, *t);
  }
  for (auto& t : threads_) give_back_stack(std::move(t->stack));
  for (auto& t : threads_) fiber_destroy(*t);
  tl_current = nullptr;
}

// ---------------------------------------------------------------------------
// Fibers

void runtime::jump(fiber_slot& from, thread_rec& to) {
  if (!to.fiber_created) {
    fiber_destroy(to);  // a frozen fiber's (see freeze())
    to.eh = {};         // ... which may have been unwinding
    fiber_create(to, *to.stack, &runtime::fiber_entry);
    fiber_set_fp(to, to.start_fp);  // not the state of the context making it
    to.fiber_created = true;
  }
  fiber_switch(from, to);
}

void runtime::fiber_entry(fiber_transfer t) {
  fiber_entered(t);
  runtime* rt = tl_current;
  thread_rec* self = rt->threads_[rt->cur_].get();
  // The fiber parks here between tasks: it is resumed when the slot is given
  // its next task, or when the runtime ends (retiring_): then it leaves for
  // good. (Parked here and not deeper, a new task starts without returning
  // through frames whose return addresses the CPU no longer predicts.)
  while (!rt->retiring_) {
    const std::uint32_t next = rt->run_thread(*self);
    if (next == thread_rec::kNoThread) fiber_switch(*self, rt->host_);
    else rt->activate(next);
  }
  fiber_switch(*self, rt->host_, true);
}

std::uint32_t runtime::run_thread(thread_rec& self) {
  self.in_task = true;
  self.abort_thrown = false;
  if (!aborting_) {
    try {
      record(op::start, nullptr, 0, self.spawn_loc);
      self.vt->invoke(self.task);
    } catch (const abort_execution&) {
      self.abort_thrown = false;
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
  return finish(self);
}

std::uint32_t runtime::finish(thread_rec& self) {
  detector<livelock>().progress(exec_steps());  // a thread that finishes made progress
  if (!aborting_) {
    try {
      record(op::exit, nullptr, 0, self.spawn_loc);
    } catch (const abort_execution&) {
      self.abort_thrown = false;
    }
  }
  self.st = tstate::finished;
  ++finished_;
  disable(self.id);
  if (!aborting_) {
    const auto wake_joiner = [&](std::uint32_t i) {
      thread_rec& t = *threads_[i];
      if (t.st == tstate::blocked_join && t.join_target == self.id) {
        t.st = tstate::runnable;
        detector<fairness>().woken(i);
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
    if constexpr (requires { d.on_exit(self.id, exec_steps()); }) d.on_exit(self.id, exec_steps());
  });
  if (aborting_ || (enabled_.size() == 0 && !wake_quiescent())) {
    if (!aborting_ && finished_ != nthreads_) global_deadlock();
    return thread_rec::kNoThread;
  }
  std::uint32_t next = 0;
  if (!pick_enabled(next)) return thread_rec::kNoThread;
  return next;
}

void runtime::destroy_task(thread_rec& t) noexcept {
  if (t.task == nullptr) return;
  // Taken first: a thread stopped inside the callable's destructor
  // (freeze()) must not have it destroyed again by unwind_all(); its
  // storage then stays with its frames.
  void* const task = t.task;
  t.task = nullptr;
  t.vt->destroy(task);
  if (t.task_on_heap) ::operator delete(task, std::align_val_t(t.vt->align));
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
  next_epoch();
  if (index != starts_index_) [[likely]] {  // (a run again of this one keeps what the cut one saw)
    cur_starts_ = &prev_starts();
    cur_starts_->n = 0;
    if (!cur_starts_->more.empty()) [[unlikely]]
      cur_starts_->more.clear();
    starts_index_ = index;
    exec_first_epoch_ = epoch_;
  }
  if (restart_) [[unlikely]]  // a run again of the one before
    keep_cut_steps();
  next_object_ = 0;
  elig_.reset(nthreads_);
  enabled_.reset(nthreads_);
  nthreads_ = 0;
  finished_ = 0;
  queues_.clear();
  schedule_.clear();
  preempted_.clear();
  events_.clear();
  over_bound_ = 0;
  exec_preemptions_ = 0;
  vtime_ = 0;
  aborting_ = false;
  record_more_ = track_ || expect_ != nullptr ? kRecordAlways : 0;
  in_step_bug_ = false;
  quiescent_ = kNoThread;
  restart_ = false;
  bug_.reset();
  lean_ = lean_now();
  lean_retry_ = false;
  if (lean_) {
    lean_begin();
  } else {
    objects_.reset();
    plain_size_.clear();
    plain_addr_.clear();
    plain_overlaps_.clear();
    each_detector([&](auto& d) { d.reset(opts_); });
    if (mm_dirty_) mm_.reset(rc11_);
    else mm_.turn(rc11_);
    // Until its first atomic operation that is not seq_cst (or its first
    // fence) an execution needs no views: every load reads the latest store.
    // The model is built from the events then (materialise()). With the race
    // detector on, message clocks are needed from the start.
    lazy_ = mm_.on() && !detector<race_detector>().on();
    mm_dirty_ = mm_.on() && !lazy_;
    for (const touch_rec& t : touches_) touched_[t.obj] = 0;
    touches_.clear();
    lazy_yields_.clear();
    destroyed_.clear();
  }

  // Thread 0 runs the body; body_ref is two words and fits inline.
  thread_rec& main = new_thread(std::source_location::current(), host_fp_);
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
  if (lean_) {
    leaked_threads();
    held_at_end();
    return lean_end();
  }
  if (!cut_steps_.empty()) [[unlikely]]
    rerun_diverged();
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
  leaked_threads();
  held_at_end();
  // A bug found inside a step (bounded bypass, counted at record()) was
  // described before the step completed: its event's value is known now.
  if (in_step_bug_ && bug_ && bug_->step >= 1 && bug_->step <= events_.size() && bug_->step <= bug_->events.size()) {
    bug_->events[bug_->step - 1] = export_event(view(), bug_->step - 1);
    if (bug_->step == events_.size()) bug_->details += describe_last_events(view(), 4);
  }
}

// A run again of an execution (a lean one that stopped, the race detector
// turned on) starts from the same state with the same strategy state, so it
// makes the same choices as far as the run it repeats went. One that does
// not started from another state: the run before changed something that
// outlives it and is not an atomic (whose first value is restored, see
// first_use_again()). A static built in the body is built once, in the
// first run; plain memory from outside the body keeps what it wrote. What
// the run again finds is then no execution of the body: it is refused as a
// body that is not deterministic, as dfs and dpor refuse one whose replayed
// choices differ.
void runtime::keep_cut_steps() {
  cut_steps_.clear();
  for (const event& e : events_)
    cut_steps_.push_back({e.loc, e.thread, e.object, e.o});
}

void runtime::rerun_diverged() {
  const std::size_t n = std::min(cut_steps_.size(), events_.size());
  std::size_t i = 0;
  for (; i < n; ++i) {
    const cut_step& c = cut_steps_[i];
    const event& e = events_[i];
    if (c.thread != e.thread || c.object != e.object || c.o != e.o || c.loc.line() != e.loc.line() ||
        std::strcmp(c.loc.file_name(), e.loc.file_name()) != 0)
      break;
  }
  std::vector<cut_step> cut;
  cut.swap(cut_steps_);
  if (i == n || !internal_error_.empty()) return;
  const auto text = [](std::uint32_t thread, op o, std::uint32_t object, const std::source_location& loc) {
    return "thread " + std::to_string(thread) + " " + op_name(o) +
           (object != 0 ? " object #" + std::to_string(object) : "") + " at " + loc_text(loc);
  };
  internal_error_ = "the body is not deterministic: execution " + std::to_string(exec_index_ + 1) +
                    ", run again from its first step, took " +
                    text(events_[i].thread, events_[i].o, events_[i].object, events_[i].loc) + " at step " +
                    std::to_string(i + 1) + ", where its first run took " +
                    text(cut[i].thread, cut[i].o, cut[i].object, cut[i].loc) +
                    " (an execution runs again from its first step when it needs more bookkeeping than it kept, or "
                    "when the race detector turns on). Its first run changed something that outlives it: a static "
                    "built in the body (built once, in that run: a thread pool's workers, a queue's items), or "
                    "memory from outside the body. Each execution must start from the same state: create such "
                    "objects in the body";
  bug_.reset();
  restart_ = false;
}

// After the execution: a thread neither joined nor detached is a bug (a lean
// execution stops there, see fail()).
void runtime::leaked_threads() {
  if (aborting_) return;
  for (std::uint32_t i = 1; i < nthreads_; ++i) {
    const thread_rec& t = *threads_[i];
    if (!t.joined && !t.detached) {
      cur_ = 0;
      return fail(bug_kind::leaked_thread, unjoined_text(thread_label(i), t.spawn_loc));
    }
  }
}

// After the execution: a mutex (plain, recursive or shared) still held
// outlives it, a static or an object from outside the body, since one
// destroyed while held was reported then. The next execution would find it
// held, and its verdict would be about this one's leftovers (a deadlock
// whose replay passes). (A semaphore's permits may stay taken.)
void runtime::held_at_end() {
  if (aborting_ || bug_) return;
  const auto is_lock = [](lock_kind k) {
    return k == lock_kind::mutex || k == lock_kind::recursive_mutex || k == lock_kind::shared_mutex;
  };
  if (lean_) {
    // Not run again in full, as a lean execution's other bugs are: the lock
    // is still held, and would hold up that run. Reported from what the
    // lean one kept, as a fatal signal in one is (its replay runs in full).
    if (std::none_of(lean_held_.begin(), lean_held_.end(), [&](const lean_hold& h) { return is_lock(h.kind); }))
      return;
    lean_to_full();
  }
  for (std::uint32_t id = 1; id <= objects_.size(); ++id) {
    const object_rec& r = objects_[id];
    if (!r.resource || r.holders.empty() || !is_lock(r.kind)) continue;
    const holder& h = r.holders.front();
    cur_ = 0;
    return fail(bug_kind::misuse, thread_label(h.thread) + " still holds " + resource_label(objects_, r) +
                                      " (locked at " + loc_text(h.loc) +
                                      ") at the end of the execution: it outlives the execution (a static, or "
                                      "an object from outside the body?), and the next one would find it held");
  }
}

namespace {
// An atomic's bytes as they are (`size` 1, 2, 4 or 8).
std::uint64_t raw_bytes(const void* addr, unsigned size) noexcept {
  std::uint64_t value = 0;
  switch (size) {
    case 1: std::memcpy(&value, addr, 1); break;
    case 2: std::memcpy(&value, addr, 2); break;
    case 4: std::memcpy(&value, addr, 4); break;
    default: std::memcpy(&value, addr, 8); break;
  }
  return value;
}
}  // namespace

void runtime::start_list::add_more(const start_rec& r) { more.push_back(r); }

template <unsigned Size, bool Count>
std::uint32_t runtime::first_use(op o, const void* addr, detail::object_handle& h, bool sign,
                                 const std::source_location& loc) {
  if (h.epoch != 0) [[unlikely]]
    return first_use_again(o, addr, h, Size, sign, Count ? carried::permits : carried::atomic, loc);
  h.epoch = epoch_;
  h.id = ++next_object_;
  std::uint64_t value = 0;  // its bytes, as they are
  std::memcpy(&value, addr, Size);
  cur_starts_->add({addr, value});
  return h.id;
}
template std::uint32_t runtime::first_use<1>(op, const void*, detail::object_handle&, bool, const std::source_location&);
template std::uint32_t runtime::first_use<2>(op, const void*, detail::object_handle&, bool, const std::source_location&);
template std::uint32_t runtime::first_use<4>(op, const void*, detail::object_handle&, bool, const std::source_location&);
template std::uint32_t runtime::first_use<8>(op, const void*, detail::object_handle&, bool, const std::source_location&);
template std::uint32_t runtime::first_use<4, true>(op, const void*, detail::object_handle&, bool,
                                                   const std::source_location&);

// Used in an earlier execution: it outlived it (outlived()). Used by a run
// of this execution that stopped short (a lean run that left the lean path,
// or a restart), it gets back the value that run found, as if it had not
// run: the run again must start where that one did.
std::uint32_t runtime::first_use_again(op o, const void* addr, detail::object_handle& h, unsigned size, bool sign,
                                       carried what, const std::source_location& loc) {
  const std::uint32_t was = h.epoch;
  h.epoch = epoch_;
  h.id = ++next_object_;
  const std::uint64_t now = raw_bytes(addr, size);
  if (was >= exec_first_epoch_ && was < epoch_) {
    if (const start_rec* r = cur_starts_->find(addr)) {
      if (r->value != now) std::memcpy(const_cast<void*>(addr), &r->value, size);
      return h.id;
    }
  }
  outlived(o, addr, now, size, sign, what, loc);  // (returns when it may start so)
  cur_starts_->add({addr, now});
  return h.id;
}

// A monitor cannot be put back as an atomic is (its state is the
// primitive's own memory): one from an earlier run of this execution is
// checked as one from an earlier execution. (A lean run stops before a
// monitor's first step, so only a split search's run stopped at the split
// gets here so.)
std::uint32_t runtime::monitor_first_use(const std::uint32_t* lock, detail::object_handle& h, std::uint64_t held,
                                         const std::source_location& loc) {
  const bool old = h.epoch != 0;
  h.epoch = epoch_;
  h.id = ++next_object_;
  if (old) outlived(op::rmw, lock, held, 8, false, carried::monitor, loc);  // (returns when it may start so)
  cur_starts_->add({lock, held});
  return h.id;
}

// An atomic whose handle an earlier execution numbered, used for the first
// time in this one: it outlived that execution. Its value now must be the
// one it had when the first execution it was seen in began; a store first
// resets it (nothing read the leftover).
void runtime::outlived(op o, const void* addr, std::uint64_t value, unsigned size, bool sign, carried kind,
                       const std::source_location& loc) {
  const start_rec* was = nullptr;
  for (const start_rec& r : carried_)
    if (r.addr == addr) was = &r;
  if (was == nullptr) {
    // The first time: its start in this execution (a run of it cut short)
    // or in the one before, else (numbered in an older execution, or by an
    // earlier search) what it holds now.
    was = cur_starts_->find(addr);
    if (was == nullptr) was = prev_starts().find(addr);
    carried_.push_back({addr, was != nullptr ? was->value : value});
    was = &carried_.back();
  }
  if (o == op::store || value == was->value || aborting_) return;
  const auto text = [&](std::uint64_t v) {
    if (!sign || size >= 8) return sign ? std::to_string(static_cast<std::int64_t>(v)) : std::to_string(v);
    const unsigned shift = 64 - 8 * size;  // sign-extend its `size` bytes
    return std::to_string(static_cast<std::int64_t>(v << shift) >> shift);
  };
  // A monitor's word (monitor_state::held): a queue's items (31 bits) and
  // its closed flag.
  const auto items = [](std::uint64_t v) {
    return count_text(v & 0x7fffffffu, "item") + ((v >> 31) & 1 ? ", closed" : "");
  };
  std::string what, holding, held, fix;
  switch (kind) {
    case carried::permits:
      what = "a semaphore";
      holding = " with " + text(value) + " permits";
      held = "it had " + text(was->value);
      fix = ", or give back what each execution takes";
      break;
    case carried::monitor:
      what = "a queue";
      holding = " holding " + items(value);
      held = "it held " + items(was->value);
      fix = ", or leave it as each execution found it";
      break;
    case carried::atomic: {
      const char* name = objects_.name_of(addr);
      what = name != nullptr ? std::string("atomic ") + name : std::string("an atomic");
      holding = " holding " + text(value);
      held = "it held " + text(was->value);
      fix = ", or store its first value at the body's start";
      break;
    }
  }
  fail_and_unwind(bug_kind::misuse,
                  thread_label(cur_) + " reads " + what + " at " + loc_text(loc) + ", which starts execution " +
                      std::to_string(exec_index_ + 1) + holding + ", left by an earlier one; " + held +
                      " when the first execution that used it began. It outlives the executions (a static, or an "
                      "object from outside the body): each must start from the same state, or its verdict is about "
                      "the leftovers of others (and a replay starts from other values). Create it in the body" +
                      fix);
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
  // Tasks never started, or whose thread froze: destroyed by the host, as
  // in a release path (what they run completes plainly).
  const std::uint32_t running = cur_;
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    thread_rec& t = *threads_[i];
    if (t.task == nullptr) continue;
    cur_ = i;
    ++t.release_depth;
    destroy_task(t);
    --t.release_depth;
  }
  cur_ = running;
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    thread_rec& t = *threads_[i];
    if (!t.frozen) continue;
    t.frozen = false;
    fiber_switch(host_, t);  // it leaves for good (freeze())
  }
}

void runtime::unwind_now() {
  for (std::uint32_t i = cur_ + 1; aborting_ && i < nthreads_; ++i) {
    if (threads_[i]->in_task) {
      fiber_switch(*threads_[cur_], host_);  // resumed by unwind_all(), after them
      break;
    }
  }
  threads_[cur_]->abort_thrown = true;
  throw abort_execution{};
}

void runtime::freeze(const char* why) {
  thread_rec& t = *threads_[cur_];
  if (bug_) bug_->details += "  " + thread_label(t.id) + " " + why + ": it was stopped there, its frames not unwound.\n";
  t.in_task = false;        // unwind_all() passes it by; its task is destroyed there
  t.fiber_created = false;  // jump() makes the slot a new fiber
  t.frozen = true;
  fiber_switch(t, host_);
  // Resumed by unwind_all() only to leave for good (under AddressSanitizer
  // that frees its fake stack, where its frames' locals may live).
  fiber_switch(t, host_, /*last=*/true);
  __builtin_unreachable();
}

thread_rec& runtime::new_thread(const std::source_location& loc, const fp_control& fp) {
  const std::uint32_t tid = nthreads_;
  if (tid == threads_.size()) [[unlikely]] {  // slots are kept across executions, and so is their state
    threads_.push_back(std::make_unique<thread_rec>(tid, opts_.stack_size));
    each_detector([&](auto& d) {
      if constexpr (requires { d.on_slot(tid); }) d.on_slot(tid);
    });
  }
  ++nthreads_;
  thread_rec& t = *threads_[tid];
  // It starts with `fp` (see fp_control): its fiber, parked since its last
  // task, would resume with what that task left.
  t.start_fp = fp;
  if (t.fiber_created) fiber_set_fp(t, fp);
  // A thread's per-execution state starts as a copy of a fresh one, copied
  // as data (a few vector moves): a compiler that sees the fresh
  // value, mostly zeros, rebuilds it with a string store (rep stos on
  // x86-64), which costs more than the rest of new_thread to start.
  if (lean_) {
    lean_new_thread(t, tid, loc);
  } else {
    static const thread_exec fresh_exec;
    const thread_exec* fresh = &fresh_exec;
    asm("" : "+r"(fresh));
    thread_exec& x = t;
    x = *fresh;
    x.next = access{kThreadKey | tid, access_kind::sync};  // its start
    x.spawn_loc = loc;
    x.block_loc = loc;
    detectors_on_thread(tid);
  }
  t.task = nullptr;
  enable(tid);
  return t;
}

// ---------------------------------------------------------------------------
// Scheduling

// Up to 64 threads both sets are one word: a few bit operations, no call
// (so no registers to save).
void runtime::enable(std::uint32_t tid) {
  LOCKSTEP_DCHECK(tid < nthreads_ && threads_[tid]->st != tstate::finished);
  LOCKSTEP_DCHECK(!detector<fairness>().blocked(tid));  // woken() first, where it may be
  if (tid < 64 && enabled_.one_word() && elig_.one_word()) [[likely]] {
    enabled_.insert_in_word(tid);
    if (!detector<fairness>().deferred(tid)) elig_.insert_in_word(tid);
    return;
  }
  enable_wide(tid);
}

void runtime::enable_wide(std::uint32_t tid) {
  enabled_.insert(tid);
  if (!detector<fairness>().deferred(tid)) elig_.insert(tid);
}

void runtime::disable(std::uint32_t tid) {
  LOCKSTEP_DCHECK(tid < nthreads_);
  if (tid < 64 && enabled_.one_word() && elig_.one_word()) [[likely]] {
    enabled_.erase_in_word(tid);
    elig_.erase_in_word(tid);
    return;
  }
  disable_wide(tid);
}

void runtime::disable_wide(std::uint32_t tid) noexcept {
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
  // The running thread is at a point: runnable and enabled; the eligible
  // threads are enabled ones.
  LOCKSTEP_DCHECK(threads_[cur_]->st == tstate::runnable && enabled_.contains(cur_));
  LOCKSTEP_DCHECK(elig_.size() <= enabled_.size());
  // Every call below is a tail call, and what is unusual goes to one: the
  // usual decision saves no registers (it is made at most points).
  if (uniform_ == nullptr || cur_ >= 64 || !elig_.one_word()) [[unlikely]]
    return decide_any(yielding, release);
  // A uniform pick among at most 64 threads: decide_any's choice, on the
  // one word of eligible threads. Its candidates are the running thread
  // first (if eligible), then the others by id; with two or more eligible
  // threads there are as many candidates, with fewer one or none.
  const std::uint32_t n = elig_.size();
  const std::uint64_t w = elig_.word();
  const std::uint32_t me = cur_;
  std::uint32_t next = me;
  if (n > 1) {
    const auto idx = static_cast<std::uint32_t>(uniform_->pick(n));
    const auto with_cur = static_cast<std::uint32_t>((w >> me) & 1);
    if (idx >= with_cur) next = id_set::select_in(w & ~(std::uint64_t{1} << me), idx - with_cur);
    if (with_cur == 0) yielding = true;
    if (schedule_.at_limit()) [[unlikely]]
      return decided_slowly(next, yielding, release);
    schedule_.push_unchecked(next);
  } else if (const std::uint64_t others = w & ~(std::uint64_t{1} << me); others != 0) {
    // Only one other thread (the running thread is deferred): switching is
    // forced, and no choice.
    next = static_cast<std::uint32_t>(__builtin_ctzll(others));
    yielding = true;
  }
  // (None eligible, or only the running thread: it goes on.)
  if (!detector<fairness>().picked_plainly(next)) [[unlikely]]
    return picked_slowly(next, yielding, release);
  if (next == me) return;
  return switch_to(next, yielding, release);
}

void runtime::decided_slowly(std::uint32_t next, bool yielding, bool release) {
  schedule_.push_back(next);
  picked_slowly(next, yielding, release);
}

void runtime::picked_slowly(std::uint32_t next, bool yielding, bool release) {
  detector<fairness>().picked(next);
  if (next != cur_) switch_to(next, yielding, release);
}

void runtime::switch_to(std::uint32_t next, bool yielding, bool release) {
  if (!yielding) {
    ++exec_preemptions_;
    if (preempted_.at_limit()) [[unlikely]]
      return switch_to_slowly(next, release, true);
    preempted_.push_unchecked(static_cast<std::uint32_t>(schedule_.size() - 1));
  }
  hop(next, release);
}

void runtime::hop(std::uint32_t next, bool release) {
  thread_rec& to = *threads_[next];
  if (to.st == tstate::blocked_futex || !to.fiber_created || next == cur_) [[unlikely]]
    return switch_to_slowly(next, release, false);
  // Nothing is kept in a register across the switch: the switch saves the
  // callee-saved ones itself, and saving them here too would be paid at
  // every switch. What is read once resumed comes back from memory.
  thread_rec& from = *threads_[cur_];
  from.resume_release = release;
  cur_ = next;
  fiber_switch(from, to);
  runtime* rt = tl_current;
  LOCKSTEP_DCHECK(rt == this);
  if (rt->aborting_) [[unlikely]]
    rt->resumed_aborting();
}

void runtime::switch_to_slowly(std::uint32_t next, bool release, bool log_preemption) {
  if (log_preemption) preempted_.push_back(static_cast<std::uint32_t>(schedule_.size() - 1));
  activate(next);
  if (!release) check_abort();  // a release completes, then unwinds at a later point
}

void runtime::resumed_aborting() {
  if (!threads_[cur_]->resume_release) check_abort();  // as switch_to_slowly
}

void runtime::decide_any(bool yielding, bool release) {
  // decide_among_enabled's one-word path makes this same choice (the
  // candidates, their order, the preemption count) in bit form for a
  // uniform strategy: a change to the rule here must be made there too.
  // The running thread is enabled (it is at a point): it goes first, unless
  // fair scheduling makes it wait for threads it yielded to (then switching
  // away is forced, no preemption).
  const bool with_cur = elig_.contains(cur_);
  if (!with_cur) yielding = true;
  // Fair scheduling keeps an enabled thread out of this choice: the
  // candidates below are the eligible threads, or the running one alone.
  if (enabled_.size() > std::max<std::uint32_t>(elig_.size(), 1)) [[unlikely]]
    fair_cut_ = true;
  const std::uint32_t others = elig_.size() - (with_cur ? 1 : 0);
  // No eligible thread at all: only timed waiters besides it; it goes on.
  const std::size_t n = others == 0 ? 1 : others + (with_cur ? 1 : 0);
  const decision d = yielding ? decision::free : decision::preemptible;
  std::size_t idx = 0;
  std::uint32_t next = cur_;
  if (by_count_) {
    if (n > 1) idx = uniform_ != nullptr ? uniform_->pick(n) : strat_.pick_count(n, d);
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
  if (next != cur_) switch_to(next, yielding, release);
}

bool runtime::switch_away() {
  // The running thread just blocked. A timed waiter stays a candidate: picking
  // it fires its timeout. A thread waiting for quiescence runs when nothing
  // else can.
  if (enabled_.size() == 0 && !wake_quiescent()) return false;
  std::uint32_t next = 0;
  if (!pick_enabled(next)) {
    if (no_throw()) return true;  // in a release path: the caller sees aborting_
    unwind_now();
  }
  hop(next, false);
  return true;
}

bool runtime::pick_enabled(std::uint32_t& next) {
  // A forced switch (the running thread blocked or finished): any enabled
  // thread may go next (the running thread too if it waits with a deadline:
  // picking it fires its timeout), and switching is no preemption.
  const std::uint32_t n = elig_.size();
  if (uniform_ != nullptr && n != 0 && elig_.one_word()) [[likely]] {
    // decide_among_enabled's way: no call but in tail position.
    const std::uint32_t idx = n > 1 ? static_cast<std::uint32_t>(uniform_->pick(n)) : 0;
    next = id_set::select_in(elig_.word(), idx);
    if (n > 1) {
      if (schedule_.at_limit()) [[unlikely]]
        return picked_enabled_slowly(next, true);
      schedule_.push_unchecked(next);
    }
    if (!detector<fairness>().picked_plainly(next)) [[unlikely]]
      return picked_enabled_slowly(next, false);
    return true;
  }
  return pick_enabled_any(next);
}

bool runtime::pick_enabled_any(std::uint32_t& next) {
  const std::uint32_t n = elig_.size();
  if (n != 0 && enabled_.size() > n) [[unlikely]]
    fair_cut_ = true;  // as in decide_any()
  if (by_count_ && n != 0) {
    std::size_t idx = 0;
    if (n > 1) {
      idx = uniform_ != nullptr ? uniform_->pick(n) : strat_.pick_count(n, decision::free);
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

bool runtime::picked_enabled_slowly(std::uint32_t next, bool log) {
  if (log) schedule_.push_back(next);
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
    if (t.probe != nullptr && !t.monitor_wait) a = monitor_access(t.next.key, t.probe(t.probe_ctx), t.probe_timed);
    else if (t.next_lock != nullptr) a.blocks = (*t.next_lock != 0) != t.next_count;
    else if (t.next_try != nullptr) a.yields = fair_on_ && (*t.next_try != 0) != t.next_count;
    else if (t.next_join != thread_rec::kNoThread) a.blocks = threads_[t.next_join]->st != tstate::finished;
    a.waiters = announced_waiters(t, a);
    next_scratch_[i] = a;
  }
  strat_.set_next(next_scratch_);
}

void runtime::publish_unfinished(bool current_done) {
  next_scratch_.resize(nthreads_);
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    const thread_rec& t = *threads_[i];
    // Every thread is stopped at its next step, blocked or at a point,
    // except the failing one when it is inside a step.
    next_scratch_[i] = t.st == tstate::finished                     ? access{}
                       : i == cur_ && current_done                  ? access{}
                       : i == cur_ && t.st == tstate::runnable       ? access{0, access_kind::global}
                       : t.next.kind == access_kind::none            ? access{0, access_kind::global}
                                                                     : t.next;
    if (next_scratch_[i].kind != access_kind::global && next_scratch_[i].kind != access_kind::none)
      next_scratch_[i].waiters = announced_waiters(t, next_scratch_[i]);
  }
  strat_.set_pending(next_scratch_);
}

void runtime::note_event(op o, std::uint32_t object) {
  switch (o) {
    case op::start: note({kThreadKey | cur_, access_kind::sync}); break;
    case op::exit: note({kThreadKey | cur_, access_kind::write}); break;
    case op::join: note({kThreadKey | object, access_kind::sync}); break;
    case op::wake_return: note({kWokenKey | cur_, access_kind::sync}); break;
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
    case op::fence:  // noted by atomic_fence
    case op::choose: break;
  }
}

void runtime::diverge() {
  internal_error_ = strat_.error();
  aborting_ = true;
}

// ---------------------------------------------------------------------------
// Events



void runtime::events_limit(op o) {
  if (events_.size() >= opts_.max_steps) {
    over_bound_ = 1;  // the step reported is the one not yet recorded
    step_bound_exceeded(o);
    over_bound_ = 0;
  }
  events_.make_room();
}

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
  needs_full();
  const bool unordered = std::exchange(threads_[cur_]->wait_unordered, false);
  if (aborting_) {
    abandon_op();
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
  // Lazy views: the word's value before anyone else can use it (see atomic_op).
  if (lazy_) touch(obj, *word);
  // A timed wait whose deadline has passed times out at once: a yield.
  if (track_) {
    set_next(cur_, timed_step({obj, access_kind::futex_wait}, timed));
  }
  decide();
  if (aborting_) return true;  // resumed to unwind inside a release path: no wait
  // The kernel compares the word under its own lock: the mo-latest value
  // (memory holds it), read relaxed.
  if (mm_live()) mm_.read_latest(cur_, mm_.location_of(obj, *word));
  if (*word != expected) {
    record(op::wait_skip, word, obj, loc).value = *word;
    return true;
  }
  if (timed && deadline <= vtime_) {
    event& e = record(op::timeout, word, obj, loc, true);
    e.value = *word;
    e.order = kFutexCompare;  // materialise() replays its read
    note({obj, access_kind::read});
    note({kTimeKey, access_kind::read});
    fair_yield(true);  // an expired timed wait is a yield
    return false;
  }
  record(op::wait, word, obj, loc).value = *word;
  if (timed) note({kTimeKey, access_kind::read});  // it compared its deadline with the time
  thread_rec& me = *threads_[cur_];
  begin_block(me, word, timed, deadline, loc);
  wq_push(obj, me);
  me.blocked_unordered = unordered;
  if (!unordered) join_waiters(me);
  note_waiter(me);
  // Its next step: the woken return (a read of the word), or a timeout.
  me.next = timed ? access{obj, access_kind::timeout, false, fair_on_} : access{kWokenKey | me.id, access_kind::sync};
  if (!timed) disable(cur_);
  block_or_deadlock();
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
    note_waiter(me);
  }
  // Under sc the wake orders waker and waiter, as every atomic operation
  // does; under rc11 a wake synchronises nothing (the waiter's next load of
  // the word does, if it acquires what the waker released).
  if (race_detector& races = detector<race_detector>(); races.on() && !mm_.on()) races.on_acquire(cur_, race_obj(word));
  if (!woke) fair_yield(false);  // an expired timed wait is a yield
  return woke;
}

// lock_word after its decision (and a lean mutex_lock's, when the word is
// not free or the execution is aborting).
[[gnu::always_inline]] inline void runtime::lock_word_decided(std::uint32_t* word, std::uint32_t obj,
                                                          fairness::pick_mark mark, const std::source_location& loc) {
  if (aborting_) return abandoned_lock(word);  // resumed inside a release path
  for (;;) {
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
    if (!destroyed_.empty()) [[unlikely]]  // (no event: record() does not see it)
      note_destroyed_use(word);
    undo_pick(mark, true);
    thread_rec& me = *threads_[cur_];
    begin_block(me, word, false, 0, loc);
    me.lock_wait = true;
    wq_push(obj, me);
    me.next = access{obj, access_kind::write};
    disable(cur_);
    // Woken, it stays at this point: the decision that resumes it is the
    // one for its next attempt (next_lock and next announce it), as for any
    // thread resumed inside decide(). Deciding again here would only add
    // executions that equal those in which it was not picked.
    mark = detector<fairness>().before_pick(cur_);
    block_or_deadlock();
    me.lock_wait = false;
    me.wait_addr = nullptr;
    if (aborting_) return abandoned_lock(word);  // resumed inside a release path
  }
}

// The native lock word: acquiring is one step (a write) that can happen only
// while the word is 0; a thread that finds it held blocks without an event
// and is enabled again by the unlock. Failed attempts leave no trace, so the
// schedules differ only in the order of the critical sections.
void runtime::lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  if (aborting_) {
    abandon_op();
    if (std::uncaught_exceptions() > 0) return;
    if (threads_[cur_]->release_depth > 0) return abandoned_lock(word);
    unwind_now();
  }
  const std::uint32_t obj = object_id(h);
  if (track_) {
    set_next(cur_, {obj, access_kind::write});
    threads_[cur_]->next_lock = word;
  }
  const fairness::pick_mark mark = detector<fairness>().before_pick(cur_);
  decide();
  lock_word_decided(word, obj, mark, loc);
}

// Inside a release path of an aborting execution (see thread_rec::
// release_depth): the path goes on as if it held the lock. Taken if free;
// if a suspended thread holds it, that thread only unwinds from here on, so
// nothing it guards is used by both.
void runtime::abandoned_lock(std::uint32_t* word) noexcept { *word = 1; }

bool runtime::try_lock_word(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  if (aborting_) {
    abandon_op();
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
    record_native(op::cas_fail, word, obj, loc, *word, kLockWordStep);
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
  record_native(op::cas_ok, word, obj, loc, 1, kLockWordStep);
  if (race_detector& races = detector<race_detector>(); races.on()) races.on_acquire(cur_, race_obj(word));
  if (mm_live()) mm_.acquire_from(obj, cur_);
  note({obj, access_kind::write});
  note({kReleaseKey | obj, trying ? access_kind::read : access_kind::sync});
}

std::uint32_t runtime::unlock_word(std::uint32_t* word, detail::object_handle& h,
                                   const std::source_location& loc) {
  if (aborting_) {
    abandon_op();
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
  record_native(op::rmw, word, obj, loc, 0, kLockWordStep);
  if (race_detector& races = detector<race_detector>(); races.on()) races.on_release(cur_, race_obj(word));
  if (mm_live()) mm_.release_to(obj, cur_);
  note({kReleaseKey | obj, access_kind::write});
  if (obj < queues_.size() && queues_[obj].head != kNoThread) wake_lock_waiters(obj);
  return prev;
}

// Every thread blocked on the word retries (in the order they blocked).
void runtime::wake_lock_waiters(std::uint32_t obj) {
  for (std::uint32_t i = queues_[obj].head; i != kNoThread;) {
    thread_rec& t = *threads_[i];
    i = t.wq_next;
    if (t.st == tstate::blocked_futex && t.lock_wait) {
      wq_remove(t);
      t.st = tstate::runnable;
      detector<fairness>().woken(t.id);
      enable(t.id);
    }
  }
}

// mutex_lock's and mutex_unlock's steps with what a lean execution turns
// off left out (no dependence tracking, race detector or memory model), and
// in the order they take there.
void runtime::lean_mutex_lock(const void* obj, std::uint32_t* word, detail::object_handle& h,
                              const std::source_location& loc) {
  LOCKSTEP_DCHECK(lean_ && !track_ && !mm_.on() && !user_places_);
  if (aborting_) [[unlikely]]
    return lock_word(word, h, loc);  // the annotations do nothing then
  const std::uint32_t id = object_id(h);
  const fairness::pick_mark mark = detector<fairness>().before_pick(cur_);
  decide();
  if (aborting_ || *word != 0) [[unlikely]] {
    lock_word_decided(word, id, mark, loc);
  } else {
    *word = 1;
    record_native(op::cas_ok, word, id, loc, 1, kLockWordStep);
    if (race_detector& races = detector<race_detector>(); races.on()) [[unlikely]]
      races.on_acquire(cur_, lean_race_obj(word));
  }
  lean_acquired(obj, lock_mode::exclusive, lock_kind::mutex, loc);
}

std::uint32_t runtime::lean_mutex_unlock(const void* obj, std::uint32_t* word, detail::object_handle& h,
                                         const std::source_location& loc) {
  LOCKSTEP_DCHECK(lean_ && !track_ && !mm_.on() && !user_places_);
  lean_released(obj, lock_mode::exclusive);
  if (aborting_) [[unlikely]]
    return unlock_word(word, h, loc);
  const std::uint32_t id = object_id(h);
  decide(false, true);  // often in a destructor: an abort must not throw here
  const std::uint32_t prev = *word;
  *word = 0;
  if (aborting_) [[unlikely]]
    return prev;
  record_native(op::rmw, word, id, loc, 0, kLockWordStep);
  if (race_detector& races = detector<race_detector>(); races.on()) [[unlikely]]
    races.on_release(cur_, lean_race_obj(word));
  if (id < queues_.size() && queues_[id].head != kNoThread) wake_lock_waiters(id);
  return prev;
}

// acquiring + lock_word + acquired, with one look-up of the mutex.
void runtime::mutex_lock(const void* obj, std::uint32_t* word, detail::object_handle& h,
                         const std::source_location& loc) {
  if (aborting_) return lock_word(word, h, loc);  // the annotations do nothing then
  if (lean_) {
    lock_word(word, h, loc);
    return lean_acquired(obj, lock_mode::exclusive, lock_kind::mutex, loc);
  }
  const std::uint32_t id = resource_for(obj, lock_kind::mutex);
  acquiring_at(obj, id, acquire_flags::blocking, loc, lock_mode::exclusive);
  lock_word(word, h, loc);
  if (aborting_) return;
  // Destroyed meanwhile (a misuse the destructor reported): a resource again.
  objects_.make_resource(objects_[id], lock_kind::other);
  acquired_at(obj, id, lock_mode::exclusive, loc);
}

std::uint32_t runtime::mutex_unlock(const void* obj, std::uint32_t* word, detail::object_handle& h,
                                    const std::source_location& loc) {
  released(obj, lock_mode::exclusive, loc);
  return unlock_word(word, h, loc);
}

std::uint32_t runtime::value_choice(std::uint32_t n) {
  cands_.clear();
  for (std::uint32_t i = 0; i < n; ++i) cands_.push_back(i);
  const std::size_t idx = strat_.pick(cands_, decision::value);
  if (idx == strategy::diverged) [[unlikely]] {
    diverge();
    unwind_now();
  }
  const auto v = static_cast<std::uint32_t>(idx);
  schedule_.push_back(v);
  return v;
}

std::uint32_t runtime::choose(std::uint32_t n, const std::source_location& loc) {
  if (aborting_) {
    abandon_op();
    if (no_throw()) return 0;
    unwind_now();
  }
  const std::uint32_t v = n > 1 ? value_choice(n) : 0;
  record(op::choose, nullptr, 0, loc).value = v;
  return v;
}

// ---------------------------------------------------------------------------
// Atomics

void runtime::first_touch(std::uint32_t obj, std::uint64_t value) {
  if (touched_.size() <= obj) touched_.resize(obj + 1, 0);
  touched_[obj] = 1;
  touches_.push_back({obj, value});
}

// The model's state after the events so far (all but the last, the step
// that needs it), which ran sequentially consistent: every load read the
// latest store, every store went last. Built as the model would have built
// it step by step.
void runtime::materialise() {
  lazy_ = false;
  mm_dirty_ = true;
  for (const touch_rec& t : touches_) (void)mm_.location_of(t.obj, t.value);
  constexpr auto sc = std::memory_order_seq_cst;
  std::size_t y = 0;  // lazy_yields_ replayed so far
  for (std::size_t i = 0; i + 1 < events_.size(); ++i) {
    for (; y < lazy_yields_.size() && lazy_yields_[y].after <= i; ++y) memory_yielded(lazy_yields_[y].thread);
    event& e = events_[i];
    const std::uint32_t t = e.thread;
    const auto x = [&] { return mm_.find_location(e.object); };
    const auto took = [&](std::uint32_t loc, std::uint32_t msg) {
      const std::uint32_t ev = mm_.at(loc).msgs[msg].event;
      e.rf = ev == weak_memory::kNone ? 0 : ev + 1;
    };
    switch (e.o) {
      case op::spawn: mm_.spawned(t, static_cast<std::uint32_t>(e.value)); break;
      case op::join: mm_.joined(t, static_cast<std::uint32_t>(e.value)); break;
      case op::timeout:
        if (e.order != kFutexCompare) break;
        [[fallthrough]];
      case op::wait:
      case op::wait_skip:
        if (x() != weak_memory::kNone) mm_.read_latest(t, x());
        break;
      case op::load:
        (void)mm_.readable(t, x(), true);
        took(x(), mm_.read(t, x(), 0, sc));
        break;
      case op::store:
        (void)mm_.placements(t, x(), true);
        mm_.store(t, x(), 0, e.value, sc, static_cast<std::uint32_t>(i));
        break;
      case op::rmw:
      case op::cas_ok:
      case op::cas_fail:
        if (e.order == kLockWordStep || e.order == kCountWordStep || e.order == kMonitorStep) {
          // a native word: acquire and release (a monitor's step both)
          if (e.o == op::cas_ok) mm_.acquire_from(e.object, t);
          if (e.order == kMonitorStep) mm_.release_to(e.object, t);
          else if (e.o == op::rmw && e.order == kCountWordStep) mm_.release_join_to(e.object, t);
          else if (e.o == op::rmw) mm_.release_to(e.object, t);
          break;
        }
        (void)mm_.rmw_readable(t, x(), true);
        {
          const std::uint32_t msg = mm_.rmw_message(t, x(), 0);
          took(x(), mm_.read_message(t, x(), msg, sc));
          if (e.o != op::cas_fail) mm_.store(t, x(), 0, e.value, sc, static_cast<std::uint32_t>(i), msg);
        }
        break;
      default: break;
    }
  }
  for (; y < lazy_yields_.size(); ++y) memory_yielded(lazy_yields_[y].thread);  // after the last
  lazy_yields_.clear();
}

int runtime::weak_atomic(event& e, void* addr, const detail::atomic_access& a, std::uint64_t& read) {
  if (lazy_) [[unlikely]]
    materialise();
  const std::uint32_t x = mm_.location_of(e.object, load_bytes(addr, a));
  const auto self = static_cast<std::uint32_t>(&e - events_.data());
  const auto pick = [&](std::uint32_t n) { return n > 1 ? value_choice(n) : 0; };
  const auto stored = [&](std::uint64_t v, std::memory_order order, std::uint32_t after) {
    const std::uint32_t k = after == weak_memory::kNone ? pick(mm_.placements(cur_, x, order == std::memory_order_seq_cst)) : 0;
    // events_ does not move here: nothing is recorded between
    if (mm_.store(cur_, x, k, v, order, self, after)) store_bytes(addr, v, a.size);
    events_[self].value = v;
  };
  const auto took = [&](std::uint32_t msg) {
    const weak_memory::message& m = mm_.at(x).msgs[msg];
    read = m.value;
    events_[self].rf = m.event == weak_memory::kNone ? 0 : m.event + 1;
    return m.value;
  };
  const std::uint64_t operand = low_bytes(a.operand, a);
  const bool sc = a.order == std::memory_order_seq_cst;
  switch (e.o) {
    case op::load: {
      const std::uint32_t k = pick(mm_.readable(cur_, x, sc));
      events_[self].value = took(mm_.read(cur_, x, k, a.order));
      return 1;
    }
    case op::store:
      stored(operand, a.order, weak_memory::kNone);
      return 1;
    case op::rmw: {
      const std::uint32_t k = pick(mm_.rmw_readable(cur_, x, sc));
      const std::uint32_t msg = mm_.rmw_message(cur_, x, k);
      const std::uint64_t old = took(mm_.read_message(cur_, x, msg, a.order));
      const std::uint64_t v = low_bytes(a.apply(old, operand), a);
      // Even when it writes what was there it is a write: its message
      // carries its own release, which a later acquire may read.
      stored(v, a.order, msg);
      // But it changed no value: to the busy-wait detector it is a read, as
      // on the sequentially consistent path (read_only()), so a spin on
      // exchange() is a run whatever its order and whatever keeps views.
      if (v == old) detector<busy_wait>().on_read_only(cur_);
      return 1;
    }
    default: {  // a CAS: it reads any message it may; one holding `expected` it must take as an RMW
      const std::uint64_t expected = low_bytes(a.expected, a);
      const std::uint32_t k = pick(mm_.cas_readable(cur_, x, sc, expected));
      const std::uint32_t msg = mm_.cas_message(cur_, x, k, expected);
      const bool match = mm_.at(x).msgs[msg].value == expected;
      thread_rec& me = *threads_[cur_];
      const bool spurious = match && a.weak && me.spurious_cas < opts_.spurious_cas_failures && value_choice(2) == 1;
      if (match && !spurious) {
        took(mm_.read_message(cur_, x, msg, a.order));
        stored(operand, a.order, msg);
        if (operand == expected) detector<busy_wait>().on_read_only(cur_);  // as in plain_atomic
        return 1;
      }
      if (spurious) ++me.spurious_cas;
      events_[self].order = static_cast<std::uint8_t>(a.failure);
      events_[self].value = took(mm_.read_message(cur_, x, msg, a.failure));
      failed_cas(&events_[self].value);
      return 0;
    }
  }
}

void runtime::atomic_fence(std::memory_order order, const std::source_location& loc) {
  detail::object_handle none;
  std::uint32_t id;
  if (order == std::memory_order_relaxed) return;  // no fence at all
  needs_full();
  if (track_) set_next(cur_, order == std::memory_order_seq_cst && mm_.on() ? access{kFenceKey, access_kind::global} : access{});
  if (!enter_point(op::fence, nullptr, none, loc, id)) return;
  record(op::fence, nullptr, 0, loc, true).value = static_cast<std::uint64_t>(order);
  if (!mm_.on()) return;
  if (lazy_) materialise();
  // A seq_cst fence reads and publishes the fence view and every location's
  // latest seq_cst store: ordered against everything (dpor).
  if (order == std::memory_order_seq_cst) note({kFenceKey, access_kind::global});
  mm_.fence(cur_, order);
}

bool runtime::spurious_wakeup(const void* obj, const std::source_location& loc) {
  needs_full();
  thread_rec& me = *threads_[cur_];
  if (me.spurious >= opts_.spurious_wakeups) {
    spurious_cut_ = true;
    return false;
  }
  if (choose(2, loc) == 0) return false;
  ++me.spurious;
  events_.back().addr = obj;
  return true;
}

void runtime::futex_wake(const std::uint32_t* word, detail::object_handle& h, int count,
                         const std::source_location& loc) {
  needs_full();
  if (lazy_ && h.epoch != epoch_) touch(object_id(h), *word);
  std::uint64_t* rec = point(op::wake, word, h, loc);
  if (rec == nullptr) return;
  // The waiters in the order they blocked (FIFO), from the word's queue.
  std::uint64_t woken = 0;
  const std::uint32_t obj = object_id(h);
  if (obj < queues_.size()) {
    for (std::uint32_t i = queues_[obj].head; i != kNoThread && count > 0;) {
      thread_rec& t = *threads_[i];
      i = t.wq_next;
      if (t.st != tstate::blocked_futex || t.lock_wait || t.count_wait || t.cond_wait || t.monitor_wait) continue;
      // A timed waiter's timeout could have fired first: the wake takes that
      // step away from it, so a dependence-aware strategy must try it here.
      if (t.timed && track_) strat_.on_disabled(t.id);
      wq_remove(t);
      t.st = tstate::runnable;
      t.wait_addr = nullptr;
      enable(t.id);
      note({kWokenKey | t.id, access_kind::write});
      note_waiter(t);
      ++woken;
      --count;
    }
  }
  *rec = woken;
  // Waking nobody changed nothing: to the busy-wait detector a read, as a
  // native notify of no waiter is (so a spin around it is still one).
  if (woken == 0) detector<busy_wait>().on_read_only(cur_);
}

// ---------------------------------------------------------------------------
// Threads

std::uint32_t runtime::spawn(const detail::task_vtable& vt, void* callable,
                             const std::source_location& loc) {
  detail::object_handle none;
  std::uint64_t* rec = point(op::spawn, nullptr, none, loc);
  if (rec == nullptr) unwind_now();  // no spawning while unwinding
  // As pthread_create: the child starts with its creator's floating-point
  // control state.
  thread_rec& t = new_thread(loc, read_fp_control());
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
  if (mm_live()) mm_.spawned(cur_, t.id);
  note({kThreadKey | t.id, access_kind::write});
  return t.id;
}

void runtime::join(std::uint32_t tid, const std::source_location& loc) {
  if (aborting_) {
    abandon_op();
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
  const fairness::pick_mark mark = detector<fairness>().before_pick(cur_);
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
    if (mm_live()) mm_.joined(cur_, tid);
    return;
  }
  // The join happens once the target has exited: block first, record then.
  undo_pick(mark, true);
  thread_rec& me = *threads_[cur_];
  me.st = tstate::blocked_join;
  me.join_target = tid;
  me.block_loc = loc;
  if (target.joiner == kNoThread) target.joiner = cur_;
  else target.joiners = true;
  disable(cur_);
  block_or_deadlock();
  if (aborting_) return;  // resumed inside a release path
  record(op::join, nullptr, tid, loc).value = tid;
  each_detector([&](auto& d) {
    if constexpr (requires { d.on_join(cur_, tid); }) d.on_join(cur_, tid);
  });
  if (mm_live()) mm_.joined(cur_, tid);
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
    fail(bug_kind::misuse, os_thread_text(thread_label(cur_)),
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
  if (lean_) return lean_stop();  // the full execution reports it
  aborting_ = true;
  // A search that goes on after a bug (options::keep_going) must still reach
  // every execution that differs before this point. What the unfinished
  // threads would have done next is unknown (the failing one is inside a
  // step): to a dependence-aware strategy their rest races with everything.
  if (track_ && opts_.keep_going) publish_unfinished();
  if (bug_) {  // recorded earlier (defer_bug): the first bug is the execution's
    note_later(kind);  // and this one stopped it
    return;
  }
  bug_ = make_bug(kind, std::move(message), std::move(details));
}

void runtime::note_later(bug_kind kind) {
  if (kind != bug_->kind && std::find(bug_->later.begin(), bug_->later.end(), kind) == bug_->later.end())
    bug_->later.push_back(kind);
}

// A deadlock cycle closed inside a step, or a race found inside one, would
// end the execution with the failing thread's next step unknown, and a
// dependence-aware search would then have to take it as racing with
// everything, which can leave a search stuck short of orders that differ
// before the bug. A search that goes on after bugs (options::keep_going)
// lets the execution go on instead: the threads of a cycle block for good,
// a race is only a record, and the execution ends as others do, every
// thread's next step known. Every strategy does so, so that an execution
// ends the same way whoever scheduled it. The first bug stays the
// execution's; the kinds of those after it are kept with it (bug::later):
// which of two bugs in independent steps comes first differs between
// equivalent executions.
bool runtime::defer_bug(bug_kind kind, std::string& message, std::string& details) {
  // A replay checks the events up to the bug its trace ends with: it ends
  // there too.
  if (!opts_.keep_going || aborting_ || expect_ != nullptr) return false;
  if (!bug_) bug_ = make_bug(kind, std::move(message), std::move(details));
  else note_later(kind);
  return true;
}

namespace {

bool is_read(op o) noexcept { return o == op::load || o == op::rmw || o == op::cas_ok || o == op::cas_fail; }
bool releases_order(std::uint8_t o) noexcept { return weak_memory::releases(static_cast<std::memory_order>(o)); }
bool acquires_order(std::uint8_t o) noexcept { return weak_memory::acquires(static_cast<std::memory_order>(o)); }
const std::string kOrders = "; a release store with an acquire load orders them\n";

}  // namespace

std::string runtime::event_place(std::size_t i) const { return loc_text(events_[i].loc); }

std::string runtime::event_value(std::size_t i) const {
  const event& e = events_[i];
  return object_label(e.addr, e.object) + " = " + std::to_string(static_cast<std::int64_t>(e.value));
}

std::string runtime::stale_read_story(std::uint32_t t) const {
  for (std::size_t i = events_.size(); i-- > 0;) {
    const event& e = events_[i];
    if (e.thread != t || !is_read(e.o)) continue;
    const std::uint32_t x = mm_.find_location(e.object);
    if (x == weak_memory::kNone) continue;
    const weak_memory::location& l = mm_.at(x);
    const std::uint32_t read = mm_.message_of(x, e.rf == 0 ? weak_memory::kNone : e.rf - 1);
    if (read == weak_memory::kNone) continue;
    // The stores made before this load and newer than what it read, oldest
    // first: the first one whose writer later stored something this thread
    // read (the flag that should have made it visible) tells the story.
    std::vector<std::uint32_t> newer;
    for (std::uint32_t p = l.msgs[read].pos + 1; p < l.mo.size(); ++p)
      if (const std::uint32_t ev = l.msgs[l.mo[p]].event; ev != weak_memory::kNone && ev < i) newer.push_back(ev);
    if (newer.empty()) continue;
    const auto story = [&](std::size_t s) {
      return "  weak memory: " + thread_label(t) + " read " + event_value(i) + " (" + event_place(i) +
             ") although " + thread_label(events_[s].thread) + " had stored " +
             std::to_string(static_cast<std::int64_t>(events_[s].value)) + " (" + event_place(s) + ")";
    };
    for (const std::uint32_t s : newer) {
      const std::uint32_t w = events_[s].thread;
      for (std::size_t j = i; j-- > 0;) {
        const event& f = events_[j];
        if (f.thread != t || !is_read(f.o) || f.rf == 0) continue;
        const std::size_t fs = f.rf - 1;
        if (events_[fs].thread != w || fs <= s) continue;
        const std::string flag = object_label(f.addr, f.object);
        const std::string seen = flag + " = " + std::to_string(static_cast<std::int64_t>(events_[fs].value));
        if (!releases_order(events_[fs].order))
          return story(s) + ": the " + flag + " store (" + event_place(fs) + ") is relaxed, so reading " + seen +
                 " (" + event_place(j) + ") made nothing visible" + kOrders;
        if (!acquires_order(f.order))
          return story(s) + ": the " + flag + " load (" + event_place(j) + ") is relaxed, so reading " + seen +
                 " made nothing visible" + kOrders;
        break;
      }
    }
    const std::size_t s = newer.back();
    if (releases_order(events_[s].order) && acquires_order(e.order) &&
        (events_[s].order != static_cast<std::uint8_t>(std::memory_order_seq_cst) ||
         e.order != static_cast<std::uint8_t>(std::memory_order_seq_cst)))
      return story(s) + ": release and acquire order a store before a later load of another thread only "
                        "through a store it reads; a store and a later load of another location need seq_cst "
                        "(store buffering)\n";
    return story(s) + ": nothing ordered that store before this load (no release of " +
           thread_label(events_[s].thread) + " after it was read by an acquire of " + thread_label(t) +
           "), so an older value may be read\n";
  }
  return {};
}

std::string runtime::race_story(std::uint32_t t, std::uint32_t other) const {
  // The last load by t of a store of other's: what should have ordered them.
  for (std::size_t j = events_.size(); j-- > 0;) {
    const event& f = events_[j];
    if (f.thread != t || !is_read(f.o) || f.rf == 0) continue;
    const std::size_t fs = f.rf - 1;
    if (events_[fs].thread != other) continue;
    const std::string head = "  weak memory: " + thread_label(t) + " read " + object_label(f.addr, f.object) +
                             " = " + std::to_string(static_cast<std::int64_t>(events_[fs].value)) + " (" +
                             event_place(j) + ") from " + thread_label(other) + "'s store (" + event_place(fs) + ")";
    if (!releases_order(events_[fs].order)) return head + ", which is relaxed: reading it made nothing visible" + kOrders;
    if (!acquires_order(f.order)) return head + " with a relaxed load: reading it made nothing visible" + kOrders;
    return {};
  }
  return {};
}

bug runtime::make_bug(bug_kind kind, std::string message, std::string details) const {
  bug b;
  b.kind = kind;
  b.message = std::move(message);
  b.details = std::move(details);
  if (mm_.on() && kind != bug_kind::data_race) b.details.insert(0, stale_read_story(cur_));
  b.details += describe_threads(view());
  if (!in_step_bug_) b.details += describe_last_events(view(), 4);  // else once the step is done
  b.thread = cur_;
  b.execution = exec_index_ + 1;
  b.step = exec_steps();
  b.preemptions = exec_preemptions_;
  b.schedule = encode_schedule(schedule_.to_vector());
  b.events = export_events(view());
  b.preempted_at = preempted_.to_vector();
  b.graph = build_graph(view());
  return b;
}

void runtime::fail_and_unwind(bug_kind kind, std::string message, std::string details) {
  fail(kind, std::move(message), std::move(details));
  unwind_now();
}

// ---------------------------------------------------------------------------
// Ownership annotations and the wait-for detector (detectors/wait_for.hpp)

object_rec* runtime::find_resource(const void* addr) noexcept {
  object_rec* r = objects_.get(addr);
  return r != nullptr && r->resource ? r : nullptr;
}

std::uint32_t runtime::resource_for(const void* addr, lock_kind kind) {
  const std::uint32_t id = objects_.intern(addr);
  objects_.make_resource(objects_[id], kind);
  return id;
}

void runtime::name_object(const void* obj, const char* name) noexcept {
  try {
    objects_.name(obj, name);
  } catch (...) {  // out of memory: the object keeps its number
  }
}

void runtime::acquiring(const void* obj, lock_kind kind, acquire_flags flags,
                        const std::source_location& loc, lock_mode mode) {
  if (lean_) {  // for the wait-for graph and bypass counts, which lean executions leave out
    threads_[cur_]->lean_kind = kind;
    return;
  }
  if (aborting_) return;
  const std::uint32_t id = resource_for(obj, kind);
  acquiring_at(obj, id, flags, loc, mode);
  // Its next step asks (see settle_bypass; a native mutex, whose waiters
  // never block in a futex wait, comes through mutex_lock and needs none).
  // A try asks too: it overtakes only the waiters that blocked before. (A
  // try that failed is forgotten at the next announcement, whatever it is.)
  wait_for::thread_state& w = waits_of(*threads_[cur_]);
  w.trying = flags == acquire_flags::try_ ? obj : nullptr;
  if (flags == acquire_flags::timed) return;
  w.ask_id = id;
  unsettle(w);
}

void runtime::acquiring_at(const void* obj, std::uint32_t id, acquire_flags flags, const std::source_location& loc,
                           lock_mode mode) {
  if (flags != acquire_flags::blocking) return;  // a try or a timed attempt never deadlocks
  thread_rec& me = *threads_[cur_];
  wait_for::thread_state& w = waits_of(me);
  if (w.waiting_for != obj) stop_waiting(me);
  w.waiting_for = obj;
  w.waiting_mode = mode;
  w.waiting_loc = loc;
  w.waiting_id = id;
  w.acquiring_step = exec_steps();
  if (w.waiter_pos == kNoThread) w.join_index = 0;  // (asking again while blocked keeps its place)
  w.bypass.clear();
  bool may_close_cycle = false;
  for (const holder& h : objects_[id].holders)
    may_close_cycle = may_close_cycle || h.thread == cur_ || detector<wait_for>()[h.thread].waiting_for != nullptr;
  if (may_close_cycle) check_deadlock_cycle();
}

void runtime::acquired_full(const void* obj, lock_mode mode, const std::source_location& loc) {
  if (aborting_) return;
  const std::uint32_t id = resource_for(obj, lock_kind::other);
  wait_for::thread_state& w = waits_of(*threads_[cur_]);
  // The joins when it asked; if it did not announce the acquisition, or its
  // ask is not settled yet, those when its next step settles this one.
  const std::uint32_t asked = (w.waiting_for == obj || w.trying == obj) && w.ask_id != id
                                  ? w.asked_joins
                                  : wait_for::thread_state::kAskedNow;
  w.trying = nullptr;
  acquired_at(obj, id, mode, loc);
  // Whom it overtook counts at its next step (see settle_bypass).
  w.got.push_back({obj, id, asked, mode});
  unsettle(w);
}

// (A native mutex, which comes here from mutex_lock, has no waiters to
// overtake: its lock word's waiters never block in a futex wait.)
void runtime::acquired_at(const void* obj, std::uint32_t id, lock_mode mode, const std::source_location& loc) {
  object_rec& r = objects_[id];
  thread_rec& me = *threads_[cur_];
  wait_for::thread_state& w = waits_of(me);
  if (w.waiter_pos != kNoThread && w.waiting_for == obj) leave_waiters(r, me);  // the usual case
  stop_waiting(me);
  r.holders.push_back(holder{cur_, mode, loc});
  if (r.progress_mark) progress();
}

// A thread that announced a blocking acquisition and then blocks in a futex
// wait joins the resource's waiters (the threads count_bypass looks at); a
// native lock word's waiters never do (a lock word grants no order to
// bypass), nor do those of a wait that says it grants none (unordered_wait:
// the lock protocol's wait for a lock word on mc::futex_platform, a mutex's
// or a primitive's internal guard's, so that verdicts do not depend on the
// platform).
void runtime::join_waiters(thread_rec& t) {
  wait_for::thread_state& w = waits_of(t);
  if (w.waiting_for == nullptr || w.waiter_pos != kNoThread) return;
  object_rec* res = find_resource(w.waiting_for);
  if (res == nullptr) return;
  object_rec& r = *res;
  w.waiter_pos = static_cast<std::uint32_t>(r.waiters.size());
  r.waiters.push_back(t.id);
  w.join_index = ++r.joins;
  w.join_step = exec_steps();
}

// Whether a resource's waiter is blocked in a futex wait decides whether an
// acquisition overtakes it (count_bypass): its blocking, its wake and its
// timeout write the resource's waiters key, which asking and acquiring read.
void runtime::note_waiter(const thread_rec& t) {
  const wait_for::thread_state& w = waits_of(t);
  if (track_ && w.waiter_pos != kNoThread) note({kWaitersKey | waiters_key(w.waiting_id), access_kind::write});
}

// What of the resources' waiters thread t's next step `a` touches (see
// access::waiters): it settles an ask or an acquisition (reads), blocks or
// times out as a waiter, or wakes waiters (writes).
std::uint32_t runtime::announced_waiters(const thread_rec& t, const access& a) const {
  const wait_for::thread_state& w = waits_of(t);
  std::uint32_t out = 0;
  auto add = [&out](std::uint32_t id, bool write) {
    if (out != 0 && (out & ~kWaitersWrite) != id) out = kAnyWaiters;
    else out = id | (out & kWaitersWrite) | (write ? kWaitersWrite : 0);
  };
  if (w.unsettled) [[unlikely]] {
    if (w.ask_id != 0) add(waiters_key(w.ask_id), false);
    for (const wait_for::thread_state::acquisition& g : w.got) add(waiters_key(g.id), false);
  }
  if ((a.kind == access_kind::futex_wait || a.kind == access_kind::timeout) && w.waiting_for != nullptr &&
      w.waiting_id != 0 && objects_[w.waiting_id].resource)
    add(waiters_key(w.waiting_id), true);
  if (a.kind == access_kind::write && (a.key & ~kObjectMask) == kQueueKey && (a.key & kObjectMask) < queues_.size()) {
    for (std::uint32_t i = queues_[a.key & kObjectMask].head; i != kNoThread;) {  // a wake
      const thread_rec& q = *threads_[i];
      i = q.wq_next;
      if (waits_of(q).waiter_pos != kNoThread) add(waiters_key(waits_of(q).waiting_id), true);
    }
  }
  return out;
}

// The running thread's step: it asks for the resource it announced, and
// counts whom its acquisitions since its last step overtook.
void runtime::settle_bypass() {
  wait_for::thread_state& w = waits_of(*threads_[cur_]);
  if (!w.unsettled) return;
  w.unsettled = false;
  --record_more_;
  if (w.ask_id != 0) {
    note({kWaitersKey | waiters_key(w.ask_id), access_kind::read});
    w.asked_joins = objects_[w.ask_id].joins;
    w.ask_id = 0;
  }
  for (const wait_for::thread_state::acquisition& g : w.got) {
    note({kWaitersKey | waiters_key(g.id), access_kind::read});
    const object_rec& r = objects_[g.id];
    if (!r.waiters.empty() && !aborting_)
      count_bypass(g.obj, r, g.asked == wait_for::thread_state::kAskedNow ? r.joins : g.asked, g.mode);
  }
  w.got.clear();
}

void runtime::leave_waiters(object_rec& r, thread_rec& t) noexcept {
  const std::uint32_t pos = waits_of(t).waiter_pos;
  waits_of(t).waiter_pos = kNoThread;
  if (pos >= r.waiters.size() || r.waiters[pos] != t.id) return;  // not there (a resource since destroyed)
  r.waiters[pos] = r.waiters.back();
  detector<wait_for>()[r.waiters[pos]].waiter_pos = pos;
  r.waiters.pop_back();
}

void runtime::leave_announced(thread_rec& t) noexcept {
  if (object_rec* r = find_resource(waits_of(t).waiting_for)) leave_waiters(*r, t);
  waits_of(t).waiter_pos = kNoThread;
}

void runtime::released_full(const void* obj, lock_mode mode, const std::source_location& loc) {
  if (aborting_) return;
  object_rec* r = find_resource(obj);
  if (r != nullptr) {
    if (r->holders.size() == 1 && r->holders.back().thread == cur_ && r->holders.back().mode == mode) {
      r->holders.pop_back();  // the usual case: its only holder
      return;
    }
    for (auto it = r->holders.begin(); it != r->holders.end(); ++it) {
      if (it->thread == cur_ && it->mode == mode) {
        r->holders.erase(it);
        return;
      }
    }
  }
  const std::string what = r != nullptr ? resource_label(objects_, *r) : object_label(obj, 0);
  if (r != nullptr && !r->holders.empty()) {
    const holder& h = r->holders.front();
    fail(bug_kind::misuse, thread_label(cur_) + " unlocked " + what + " at " + loc_text(loc) +
                               ", but " + thread_label(h.thread) + " holds it (locked at " +
                               loc_text(h.loc) + ")");
    return;  // deferred: unlock often runs in a destructor (see misuse())
  }
  fail(bug_kind::misuse, thread_label(cur_) + " unlocked " + what + " at " +
                                        loc_text(loc) + ", which is not locked (a double unlock?)");
}

// A primitive destroyed while a thread waits in it: blocked on its word (a
// futex wait's, a lock's or a count's), or woken there and not yet run (it
// goes on in the primitive: it retries the word, or returns through it);
// enqueued on it as a condition variable and not yet notified; or at a step
// of its monitor (a queue). Its contract forbids that (the waiter would go
// on in freed memory); it is reported where it happens, not later as the
// waiter's lost wake-up (or not at all, when the freed memory lets the
// waiter through). A primitive is known by its address, where most have
// their word (their first member); a shared_mutex's writers wait on a word
// of their own, further in, and are not seen here.
std::uint32_t runtime::waiter_in(const void* obj) const noexcept {
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    const thread_rec& t = *threads_[i];
    if (i == cur_ || t.st == tstate::finished) continue;
    if (t.wait_addr == obj || (t.cond_obj != 0 && t.cond_word == obj) || (t.probe != nullptr && t.probe_ctx == obj))
      return i;
  }
  return kNoThread;
}

// A step at a primitive destroyed in this execution (dpor): at its address,
// as waiter_in() finds a waiter there.
void runtime::note_destroyed_use(const void* addr) {
  const thread_rec& t = *threads_[cur_];
  for (const void* d : destroyed_)
    if (addr == d || (t.cond_obj != 0 && t.cond_word == d) || (t.probe != nullptr && t.probe_ctx == d))
      note({destroyed_key(d), access_kind::read});
}

void runtime::destroyed_full(const void* obj) noexcept {
  // To dpor, a destruction while other threads run writes the memory (it
  // rides on the step before it, as code between two points does), and a
  // later step there reads it (note_destroyed_use()): a thread that comes
  // to the object after it died, under whatever id the memory's bytes now
  // give it, could have come before, and waited in it (the misuse below).
  if (track_ && !aborting_ && finished_ + 1 < nthreads_) {
    note({destroyed_key(obj), access_kind::write});
    if (std::find(destroyed_.begin(), destroyed_.end(), obj) == destroyed_.end()) destroyed_.push_back(obj);
  }
  if (object_rec* r = objects_.get(obj); r != nullptr && r->resource) {
    if (!aborting_ && !r->holders.empty()) {
      const holder& h = r->holders.front();
      try {
        fail(bug_kind::misuse, resource_label(objects_, *r) + " was destroyed by " + thread_label(cur_) +
                                   " while " + thread_label(h.thread) + " holds it (locked at " +
                                   loc_text(h.loc) + ")");
      } catch (...) {
      }
    }
    object_store::end_resource(*r);  // a later object may live at the same address
  }
  if (const std::uint32_t w = aborting_ || bug_ ? kNoThread : waiter_in(obj); w != kNoThread) {
    const thread_rec& t = *threads_[w];
    const bool queue = t.probe != nullptr && t.probe_ctx == obj;
    std::string what = queue            ? "a queue"
                       : t.cond_obj != 0 || t.cond_wait ? "a condition variable"
                       : t.count_wait    ? "a semaphore"
                       : t.lock_wait     ? "a lock"
                                         : "an object";
    if (const char* name = objects_.name_of(obj)) what += std::string(" (") + name + ")";
    try {
      fail(bug_kind::misuse, what + " was destroyed by " + thread_label(cur_) + " while " + thread_label(w) +
                                 " waits in it (at " + loc_text(queue ? t.probe_loc : t.block_loc) + ")");
    } catch (...) {
    }
  }
  objects_.unname(obj);
}

// ---------------------------------------------------------------------------
// The wait-for graph

std::vector<std::size_t> runtime::find_cycle(bool from_current) const {
  return detector<wait_for>().find_cycle(
      objects_, nthreads_, [&](std::uint32_t t) { return threads_[t]->st != tstate::finished; },
      from_current ? cur_ : kNoThread);
}

void runtime::check_deadlock_cycle() {
  std::vector<std::size_t> cycle = find_cycle(true);
  if (cycle.empty()) return;
  detector<wait_for>().cycle = cycle;
  std::size_t threads_in_cycle = 0;
  for (std::size_t v : cycle) threads_in_cycle += v < nthreads_ ? 1 : 0;
  std::string msg = threads_in_cycle == 1
                        ? thread_label(cur_) + " waits for a lock it already holds"
                        : std::to_string(threads_in_cycle) +
                              " threads wait for each other in a cycle";
  std::string details = describe_cycle(view(), cycle);
  if (defer_bug(bug_kind::deadlock, msg, details)) return;
  fail_and_unwind(bug_kind::deadlock, std::move(msg), std::move(details));
}

bool runtime::wake_quiescent() {
  if (quiescent_ == kNoThread) return false;
  threads_[quiescent_]->st = tstate::runnable;
  enable(quiescent_);
  quiescent_ = kNoThread;
  return true;
}

std::uint32_t runtime::await_quiescence(const std::source_location& loc) {
  needs_full();
  check_abort();
  thread_rec& me = *threads_[cur_];
  me.st = tstate::blocked_quiescent;
  me.block_loc = loc;
  // Enabled again only when nothing else can run: its next step follows
  // every step of the others, like a join of them all.
  me.next = access{0, access_kind::global};
  quiescent_ = cur_;
  disable(cur_);
  if (!switch_away()) unwind_now();  // cannot happen: it wakes this thread
  check_abort();
  std::uint32_t blocked = 0;
  for (std::uint32_t i = 0; i < nthreads_; ++i) blocked += i != cur_ && threads_[i]->st != tstate::finished;
  return blocked;
}

void runtime::end_execution() {
  needs_full();
  if (!aborting_) {
    if (track_) publish_unfinished(true);
    aborting_ = true;  // with no bug: the execution passes
  }
  unwind_now();
}

void runtime::begin_block(thread_rec& me, const void* word, bool timed, std::int64_t deadline,
                          const std::source_location& loc) {
  each_detector([&](auto& d) {
    if constexpr (requires { d.on_block(me.id); }) d.on_block(me.id);
  });
  me.block_step = exec_steps();
  me.st = tstate::blocked_futex;
  me.wait_addr = word;
  me.timed = timed;
  me.deadline = deadline;
  me.timed_out = false;
  me.block_loc = loc;
}

void runtime::global_deadlock() {
  if (lean_) return lean_stop();
  std::vector<std::size_t> cycle = find_cycle(false);
  std::string details;
  if (!cycle.empty()) details = describe_cycle(view(), cycle);
  detector<wait_for>().cycle = cycle;
  if (cycle.empty() && lost_wakeup()) return;
  std::size_t blocked = 0;
  for (std::uint32_t i = 0; i < nthreads_; ++i) blocked += threads_[i]->st != tstate::finished ? 1 : 0;
  fail(bug_kind::deadlock,
       "no thread can run: " + std::to_string(blocked) +
           (blocked == 1 ? " thread is" : " threads are") + " blocked forever and no timeout is pending",
       std::move(details));
}

// ---------------------------------------------------------------------------
// Descriptions








// Replay checks (replay_check.hpp): thread, operation and object as soon as
// the event is recorded; its value (and a compare-exchange's outcome) once it
// is complete.
bool runtime::same_event(std::size_t i, step_stage stage, std::string& why) const {
  const event& e = events_[i];
  const trace_event& want = (*expect_)[i];
  if (same_step(want, step_seen{e.thread, e.o, e.object, e.value}, stage)) return true;
  why = step_divergence(i, want, export_event(view(), i), stage);
  return false;
}

void runtime::expected_mismatch(std::string why) {
  if (internal_error_.empty()) internal_error_ = std::move(why);
  aborting_ = true;
  if (!releasing_op(events_.back().o) && !no_throw()) unwind_now();
}

void runtime::check_expected() {
  const std::size_t n = events_.size();
  std::string why;
  if (n >= 2 && !same_event(n - 2, step_stage::complete, why)) return expected_mismatch(std::move(why));
  if (n > expect_->size())
    return expected_mismatch("replay diverged: the trace ends at step " + std::to_string(expect_->size()) +
                      ", but the execution went on: " + describe_event(export_event(view(), n - 1)));
  if (!same_event(n - 1, step_stage::made, why)) expected_mismatch(std::move(why));
}

// ---------------------------------------------------------------------------
// The liveness detectors (detectors/fairness.hpp, livelock.hpp,
// busy_wait.hpp, wait_for.hpp, retries.hpp): where the engine asks them, and
// the reports of livelock, busy waiting, starvation and lost wake-ups

// The running thread's pick (since `mark`) took no step: an attempt that
// blocks without one (a held lock word, a count at zero, a join of a running
// thread), or a woken timed count waiter's resumption before it decides
// again. The pick
// is undone for fair scheduling, and a dependence-aware strategy learns that
// the transition was no step (see detectors/fairness.hpp).
void runtime::undo_pick(fairness::pick_mark mark, bool blocks) {
  detector<fairness>().undo_pick(cur_, mark, blocks);
  if (track_) strat_.on_no_step(cur_);
}

void runtime::fair_yield(bool check) {
  // Every yield (relax(), a failed try_lock, an expired timed wait) ends a
  // run of read-only steps: a spin that yields is no busy waiting; and the
  // spin then sees the latest stores to what it spun on, so it ends.
  detector<busy_wait>().on_point(cur_, op::yield);
  if (!fair_on_) return;  // no fairness assumed: neither of scheduling nor of visibility
  memory_yield();
  // Whom a yield defers to depends on which threads ran since the last one:
  // a dependence-aware strategy must not take two executions that order a
  // yield and such a step differently for equivalent (their fair
  // continuations differ).
  if (track_) note({0, access_kind::yield});
  detector<fairness>().yielded(cur_, nthreads_,
                               [&](std::uint32_t u) { return threads_[u]->st == tstate::runnable; });
  if (check && detector<livelock>().due(exec_steps())) check_livelock();
}

void runtime::memory_yielded(std::uint32_t t) {
  if (mm_.yielded(t)) fair_cut_ = true;  // eventual visibility raised a view: see fair_cut()
}

void runtime::memory_yield() {
  if (mm_live()) memory_yielded(cur_);
  else if (lazy_ && !lean_) lazy_yields_.push_back({static_cast<std::uint32_t>(events_.size()), cur_});
}

// ---------------------------------------------------------------------------
// Livelock: no progress for a window, and the window repeats with a period.

void runtime::check_livelock() {
  const std::size_t period = detector<livelock>().period(events_, exec_steps());
  if (period == 0) return;  // not (yet) a repeating cycle: the step bound decides
  if (lean_) {  // the report reads what lean executions leave out
    lean_stop();
    unwind_now();
  }
  report_text r = livelock_text(view(), period, opts_.livelock_window);
  // A thread in a timed wait through the whole window: the cycle may only
  // be waiting for its timeout, which fair scheduling never forces (README,
  // fair scheduling). The report says so; the verdict stays.
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    const thread_rec& t = *threads_[i];
    if (t.st != tstate::blocked_futex || !t.timed || exec_steps() - t.block_step < opts_.livelock_window) continue;
    r.details += "  " + thread_label(i) + " has waited with a deadline (at " + loc_text(t.block_loc) +
                 ") through the whole window, and a yield does not defer to a thread in a timed wait. If the "
                 "cycle only waits for that timeout, this is no livelock on a real system, where the timeout "
                 "fires: a known limitation of fair scheduling (README). Waiting for it by blocking (an event, "
                 "a condition variable, join()) instead of polling is checked without it.\n";
    break;
  }
  fail_and_unwind(bug_kind::livelock, std::move(r.message), std::move(r.details));
}

// ---------------------------------------------------------------------------
// Busy waiting: a run of read-only steps without a yield.

void runtime::busy_waiting() {
  if (lean_) {  // the report reads what lean executions leave out
    lean_stop();
    unwind_now();
  }
  report_text r = busy_wait_text(view(), cur_, detector<busy_wait>().run(cur_), opts_.busy_wait_bound);
  fail_and_unwind(bug_kind::busy_wait, std::move(r.message), std::move(r.details));
}

// ---------------------------------------------------------------------------
// Starvation: bounded bypass.

// The running thread acquired `obj` in `mode` (since its last step: this is
// its next one), which it asked for when `asked` threads had joined its
// waiters: that overtakes every one of them still blocked in a futex wait,
// except, for a shared acquisition, those waiting for shared mode (two
// shared holders do not exclude each other).
void runtime::count_bypass(const void* obj, const object_rec& r, std::uint32_t asked, lock_mode mode) {
  // Every bypassed waiter counts; the one with the lowest id past the bound
  // is reported (r.waiters is in no particular order).
  std::uint32_t starved = kNoThread, starved_total = 0;
  for (std::uint32_t i : r.waiters) {
    const thread_rec& w = *threads_[i];
    wait_for::thread_state& ww = detector<wait_for>()[i];
    // Only a waiter the lock keeps blocked is bypassed (one that is runnable
    // and simply not scheduled is the scheduler's choice, not the lock's),
    // and only by a thread that asked after it first blocked. Both are the
    // same in every equivalent execution: its blocking, wakes and timeouts
    // write the waiters key that asking and acquiring read (note_waiter()).
    if (i == cur_ || ww.waiting_for != obj || w.st != tstate::blocked_futex || w.lock_wait || w.count_wait ||
        w.cond_wait || w.monitor_wait || w.blocked_unordered)
      continue;
    if (ww.join_index == 0 || ww.join_index > asked) continue;  // it blocked later: no overtaking
    if (mode == lock_mode::shared && ww.waiting_mode == lock_mode::shared) continue;
    std::uint32_t total = 0;
    bool found = false;
    for (auto& [t, times] : ww.bypass) {
      if (t == cur_) {
        ++times;
        found = true;
      }
      total += times;
    }
    if (!found) {
      ww.bypass.emplace_back(cur_, 1);
      ++total;
    }
    if (total > opts_.bypass_bound && i < starved) {
      starved = i;
      starved_total = total;
    }
  }
  if (starved != kNoThread) {
    // Found inside a step (record()): the step completes, and the thread
    // unwinds at its next point.
    report_text t = bypass_text(view(), starved, r, starved_total, opts_.bypass_bound);
    in_step_bug_ = !bug_ && !aborting_;
    if (!defer_bug(bug_kind::starvation, t.message, t.details))
      fail(bug_kind::starvation, std::move(t.message), std::move(t.details));
  }
}

// An optimistic retry loop never blocks, so nothing above sees it overtaken.
// The model announces the resource before its first attempt (retry_begin),
// reports each attempt whose commit failed (retry_lost: the thread that won
// the resource last overtook it) and its own commit (retry_won). More than
// bypass_bound losses before its own commit is starvation.
void runtime::retry_begin(const void* obj, const std::source_location& loc) {
  needs_full();
  if (aborting_) return;
  retry_watch::thread_state& me = detector<retry_watch>()[cur_];
  me.retry_for = obj;
  me.retry_loc = loc;
  me.retry_step = exec_steps();
  me.retry_bypass.clear();
}

void runtime::retry_won(const void* obj, const std::source_location& loc) {
  needs_full();
  (void)loc;
  if (aborting_) return;
  retry_watch::thread_state& me = detector<retry_watch>()[cur_];
  if (me.retry_for == obj) me.retry_for = nullptr;
  objects_[objects_.intern(obj)].retry_winner = cur_;
}

void runtime::retry_lost(const void* obj, const std::source_location& loc) {
  needs_full();
  if (aborting_) return;
  retry_watch::thread_state& me = detector<retry_watch>()[cur_];
  if (me.retry_for != obj) return;  // not announced: nothing to count against
  const object_rec* r = objects_.get(obj);
  if (r == nullptr || r->retry_winner == kNoThread) return;  // nobody won it: the attempt failed on its own
  const std::uint32_t by = r->retry_winner;
  if (by == cur_) return;  // it lost to a lock holder, not to a later winner
  const std::uint32_t total = detector<retry_watch>().lost(cur_, by);
  if (total <= opts_.bypass_bound) return;
  report_text t = retry_starvation_text(view(), cur_, obj, me, total, loc, opts_.bypass_bound);
  fail_and_unwind(bug_kind::starvation, std::move(t.message), std::move(t.details));
}

// ---------------------------------------------------------------------------
// Lost wake-ups: at a global deadlock without a lock cycle, a thread blocked
// on a wait (not on a lock acquisition or a join) that nobody left can end.

void runtime::progress_on_acquire(const void* obj) noexcept {
  // Its marks move the livelock checks (livelock::period schedules the
  // next from the last): a lean execution, which keeps no object records,
  // runs in full.
  needs_full();
  if (lean_) return;
  try {
    objects_[objects_.intern(obj)].progress_mark = true;
  } catch (...) {  // out of memory: the mark is lost, no more
  }
}

void runtime::notified(const void* obj, const std::source_location& loc) noexcept {
  needs_full();
  if (aborting_) return;
  try {
    objects_[objects_.intern(obj)].notifies.push_back(notify_rec{cur_, exec_steps(), loc});
  } catch (...) {  // out of memory: the lost wake-up check misses this notify
  }
}



bool runtime::lost_wakeup() {
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    const thread_rec& t = *threads_[i];
    if (t.st != tstate::blocked_futex || t.lock_wait || waits_of(t).waiting_for != nullptr) continue;
    report_text r = lost_wakeup_text(view(), t);
    fail(bug_kind::lost_wakeup, std::move(r.message), std::move(r.details));
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// The data-race detector (detectors/races.hpp): turning it on, and its report

void runtime::plain_access(const void* addr, std::size_t size, bool write, const std::source_location& loc) {
  if (aborting_) return;
  race_detector& races = detector<race_detector>();
  if (!races.on()) {
    // Turned on now: the synchronisation so far was not tracked, so this
    // execution starts over with the clocks on from its first step (the
    // strategy repeats the same choices; see strategy::restart()).
    races.turn_on();
    restart_ = true;
    aborting_ = true;
    if (!no_throw()) unwind_now();
    return;
  }
  // (A lean execution with the detector on takes lean_plain_access().)
  LOCKSTEP_DCHECK(!lean_);
  const std::uint32_t obj = race_obj(addr);
  if (obj >= plain_size_.size() || size > plain_size_[obj]) [[unlikely]]
    widen_plain(obj, addr, size);
  std::optional<data_race> race = races.on_plain_access(cur_, obj, addr, write, loc);
  // The locations it overlaps (see plain_overlaps_): their bytes too.
  for (std::size_t i = 0; !race && i < plain_overlaps_.size(); ++i)
    if (plain_overlaps_[i].first == obj) {
      const std::uint32_t other = plain_overlaps_[i].second;
      race = races.on_plain_access(cur_, other, plain_addr_[other], write, loc);
    }
  if (!race) return;
  std::string msg, details;
  describe_race(view(), *race, msg, details);
  if (mm_.on()) {
    std::string story = race_story(cur_, race->other);
    details.insert(0, story.empty() ? stale_read_story(cur_) : story);
  }
  if (defer_bug(bug_kind::data_race, msg, details)) return;
  if (std::uncaught_exceptions() > 0) {
    fail(bug_kind::data_race, std::move(msg), std::move(details));
    return;
  }
  fail_and_unwind(bug_kind::data_race, std::move(msg), std::move(details));
}


void runtime::plain_forget(const void* addr) noexcept {
  if (lean_) {
    if (const std::uint32_t obj = lean_race_find(addr); obj != 0) {
      detector<race_detector>().on_plain_forget(obj);
      lean_race_objs_.items[obj - 1].size = 0;
    }
    return;
  }
  const std::uint32_t obj = objects_.find(addr);
  detector<race_detector>().on_plain_forget(obj);
  forget_plain(obj);
}

namespace {
// The byte ranges [a, a + an) and [b, b + bn) share a byte.
bool bytes_overlap(const void* a, std::size_t an, const void* b, std::size_t bn) noexcept {
  const auto x = reinterpret_cast<std::uintptr_t>(a), y = reinterpret_cast<std::uintptr_t>(b);
  return x < y + bn && y < x + an;
}
}  // namespace

void runtime::widen_plain(std::uint32_t obj, const void* addr, std::size_t size) {
  if (obj >= plain_size_.size()) {
    plain_size_.resize(obj + 1, 0);
    plain_addr_.resize(obj + 1, nullptr);
  }
  if (size <= plain_size_[obj]) return;
  plain_size_[obj] = size;
  plain_addr_[obj] = addr;
  for (std::uint32_t o = 0; o < plain_size_.size(); ++o) {
    if (o == obj || plain_size_[o] == 0 || !bytes_overlap(addr, size, plain_addr_[o], plain_size_[o])) continue;
    if (std::find(plain_overlaps_.begin(), plain_overlaps_.end(), std::pair{obj, o}) != plain_overlaps_.end()) continue;
    plain_overlaps_.emplace_back(obj, o);
    plain_overlaps_.emplace_back(o, obj);
  }
}

void runtime::forget_plain(std::uint32_t obj) noexcept {
  if (obj == 0 || obj >= plain_size_.size()) return;
  plain_size_[obj] = 0;
  std::erase_if(plain_overlaps_, [obj](const auto& p) { return p.first == obj || p.second == obj; });
}

bool runtime::lean_plain_widen(std::uint32_t obj, std::size_t size) noexcept {
  lean_race_key& me = lean_race_objs_.items[obj - 1];
  me.size = size;
  for (std::uint32_t i = 0; i < lean_race_objs_.n; ++i) {
    const lean_race_key& k = lean_race_objs_.items[i];
    if (i != obj - 1 && k.atomic == 0 && k.size != 0 && bytes_overlap(me.addr, size, k.addr, k.size)) return true;
  }
  return false;
}

}  // namespace lockstep::mc::rt
