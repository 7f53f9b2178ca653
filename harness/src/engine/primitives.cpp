// The primitives on the checker's platform, instantiated once; and the
// runtime's native count word (mc::platform's semaphore count).
#include "lockstep/mc/primitives.hpp"

#include <algorithm>
#include <exception>

#include "engine/dcheck.hpp"
#include "engine/runtime.hpp"

namespace lockstep {

template class basic_mutex<mc::platform>;
template class basic_recursive_mutex<mc::platform>;
template class detail::condition_core<mc::platform, false>;
template class detail::condition_core<mc::platform, true>;
template class basic_event<mc::platform>;
template class basic_shared_mutex<reader_preferring, mc::platform>;
template class basic_shared_mutex<writer_preferring, mc::platform>;
template class basic_shared_mutex<fair, mc::platform>;
template class basic_atomic_counter<mc::platform>;
template class basic_locked_counter<mc::platform>;
template class basic_striped_counter<mc::platform>;
template class basic_owned_counter<mc::platform>;
template class basic_thread_pool<mc::platform>;

}  // namespace lockstep

namespace lockstep::mc::rt {

// The native count word: taking a unit is one step (a write, the decrement)
// that can happen only while the word is positive; a thread that finds it 0
// blocks without an event (the attempt read the word) and is enabled again
// by a release, or picked to fire its timeout. Failed attempts leave no
// trace, so the schedules differ only in the order of the acquisitions and
// releases, not in a CAS loop's retries and the futex protocol's steps.
//
// Every step on the word writes it (so dpor orders all of them): unlike a
// lock's, a semaphore's release may come from any thread, and it changes
// what an acquisition (or a blocked attempt, which reads the word) finds. A
// release also writes the word's wait queue, which a timed waiter's timeout
// leaves (the two race, as a futex wake and a timeout do).

// Inside a release path of an aborting execution (see thread_rec::
// release_depth): a unit is taken if there is one; else an untimed acquire
// goes on as if it had one (the execution is being abandoned) and a timed
// one times out.
bool runtime::abandoned_count(std::uint32_t* word, bool timed) noexcept {
  if (*word != 0) {
    --*word;
    return true;
  }
  return !timed;
}

bool runtime::count_acquire(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                            const std::source_location& loc) {
  needs_full();
  if (aborting_) {
    abandon_op();
    if (restart_) (void)count_id(word, h, loc);  // what it changes, put back in the run again
    if (std::uncaught_exceptions() > 0) return abandoned_count(word, timed);
    // In a release path: an acquire that need not block completes; one that
    // would block cannot, and unwinds (an expired deadline returns).
    if (threads_[cur_]->release_depth > 0 && (*word != 0 || timed)) return abandoned_count(word, timed);
    unwind_now();
  }
  const std::uint32_t obj = count_id(word, h, loc);
  thread_rec& me = *threads_[cur_];
  fairness::pick_mark mark{};
  for (bool resumed = false;; ) {
    if (!resumed) {
      if (track_) {
        // Untimed, an attempt while the word is 0 only blocks (no step);
        // timed, it is a step either way: it takes a unit, or compares its
        // deadline with the time and then times out at once or joins the
        // word's wait queue (the word and its queue, field 0 and 3 of a
        // monitor access).
        if (timed) {
          access a = timed_step({obj, access_kind::monitor}, true);
          a.fields = monitor_fields(0, 0b1001);
          set_next(cur_, a);
        } else {
          set_next(cur_, {obj, access_kind::write});
          me.next_lock = word;
          me.next_count = true;
        }
      }
      mark = detector<fairness>().before_pick(cur_);
      decide();
    }
    me.next_lock = nullptr;
    me.next_count = false;
    if (aborting_) return abandoned_count(word, timed);  // resumed inside a release path
    if (*word != 0) {
      take_count_word(word, obj, loc);
      return true;
    }
    if (timed && deadline <= vtime_) {  // expired: times out at once, a yield
      record(op::timeout, word, obj, loc, true).value = 0;
      note({obj, access_kind::read});
      note({kTimeKey, access_kind::read});
      fair_yield(true);
      return false;
    }
    if (timed) {
      // A timed wait blocks with an event, as a futex wait does (it reads the
      // word and joins its queue): its timeout is a step of its own.
      record(op::wait, word, obj, loc).value = 0;
      note({kTimeKey, access_kind::read});  // it compared its deadline with the time
    } else {
      note({obj, access_kind::read});
      if (!destroyed_.empty()) [[unlikely]]  // (no event: record() does not see it)
        note_destroyed_use(word);
      undo_pick(mark, true);
    }
    begin_block(me, word, timed, deadline, loc);
    me.count_wait = true;
    wq_push(obj, me);
    // Its next step: another attempt once a release enables it (blocked
    // while the word is 0), or its timeout firing.
    if (timed) {
      me.next = access{obj, access_kind::timeout, false, fair_on_};
    } else {
      me.next = access{obj, access_kind::write};
      me.next_lock = word;
      me.next_count = true;
      disable(cur_);
    }
    const fairness::pick_mark woken = detector<fairness>().before_pick(cur_);
    block_or_deadlock();
    me.count_wait = false;
    me.wait_addr = nullptr;
    me.timed = false;
    me.next_lock = nullptr;
    me.next_count = false;
    if (aborting_) return abandoned_count(word, timed);  // resumed inside a release path
    if (me.timed_out) {  // no release came (it would have enabled us): the word is still 0
      record(op::timeout, word, obj, loc, true).value = *word;
      note({kTimeKey, access_kind::write});
      note({kQueueKey | obj, access_kind::write});
      fair_yield(false);
      return false;
    }
    // Untimed, it stays at this point: the decision that resumed it is the
    // one for its next attempt (its next access announced it), as for any
    // thread resumed inside decide(); deciding again would only add
    // executions equal to those in which it was not picked. Timed, its
    // next access announced the timeout: it tries again at a point.
    resumed = !timed;
    if (resumed) mark = woken;
    else undo_pick(woken, false);
  }
}

bool runtime::count_try_acquire(std::uint32_t* word, detail::object_handle& h, const std::source_location& loc) {
  needs_full();
  if (aborting_) {
    abandon_op();
    if (!no_throw()) unwind_now();
    if (restart_) (void)count_id(word, h, loc);  // what it changes, put back in the run again
    return *word != 0 && abandoned_count(word, true);
  }
  const std::uint32_t obj = count_id(word, h, loc);
  if (track_) set_next(cur_, {obj, access_kind::write});
  // A failed try reads and changes nothing, as a failed compare-exchange: a
  // loop of them without relax() is busy waiting. As a compare-exchange's,
  // its point counts the read-only steps before it (and one that fails
  // becomes one). (A failed try_lock is a yield instead, see try_lock_word.)
  if (detector<busy_wait>().on_point(cur_, op::cas_ok)) [[unlikely]]
    busy_waiting();
  decide();
  if (aborting_) return *word != 0 && abandoned_count(word, true);  // resumed inside a release path
  if (*word == 0) {
    record_native(op::cas_fail, word, obj, loc, 0, kCountWordStep);
    note({obj, access_kind::read});
    detector<busy_wait>().on_read_only(cur_);
    return false;
  }
  take_count_word(word, obj, loc);
  return true;
}

void runtime::take_count_word(std::uint32_t* word, std::uint32_t obj, const std::source_location& loc) {
  --*word;
  record_native(op::cas_ok, word, obj, loc, *word, kCountWordStep);
  if (race_detector& races = detector<race_detector>(); races.on()) races.on_acquire(cur_, race_obj(word));
  if (mm_live()) mm_.acquire_from(obj, cur_);
  note({obj, access_kind::write});
}

std::uint32_t runtime::count_release(std::uint32_t* word, detail::object_handle& h, std::uint32_t n,
                                     std::uint32_t limit, const std::source_location& loc) {
  const auto add = [&] {
    const std::uint32_t prev = *word;
    if (n <= limit - prev) *word = prev + n;  // else past the limit: the caller reports it
    return prev;
  };
  needs_full();
  if (aborting_) {
    abandon_op();
    if (!no_throw() && !spare_release()) unwind_now();
    if (restart_) (void)count_id(word, h, loc);  // what it changes, put back in the run again
    return add();  // unwinding: nobody is woken
  }
  const std::uint32_t obj = count_id(word, h, loc);
  // It writes the word and its wait queue (below). Announced as the word
  // alone, it looked independent of a timed waiter's timeout (which writes
  // the queue): sleep sets then kept the releasing thread asleep past the
  // timeout, and dpor missed the executions in which the timeout fires
  // before the release and the releaser's later steps come before the
  // waiter's (a monitor access of field 0, the word, and field 3, its queue).
  if (track_) {
    access a{obj, access_kind::monitor};
    a.fields = monitor_fields(0, 0b1001);
    set_next(cur_, a);
  }
  decide(false, true);  // often in a destructor: an abort must not throw here
  const std::uint32_t prev = add();
  if (aborting_) return prev;
  record_native(op::rmw, word, obj, loc, *word, kCountWordStep);
  if (race_detector& races = detector<race_detector>(); races.on()) races.on_release(cur_, race_obj(word));
  if (mm_live()) mm_.release_join_to(obj, cur_);
  note({obj, access_kind::write});
  note({kQueueKey | obj, access_kind::write});
  // Every thread blocked on the word tries again (in the order they blocked).
  if (obj < queues_.size()) {
    for (std::uint32_t i = queues_[obj].head; i != kNoThread;) {
      thread_rec& t = *threads_[i];
      i = t.wq_next;
      if (t.st != tstate::blocked_futex || !t.count_wait) continue;
      // A timed waiter's timeout could have fired first: the release takes
      // that step away from it, so a dependence-aware strategy must try it.
      if (t.timed && track_) strat_.on_disabled(t.id);
      wq_remove(t);
      t.st = tstate::runnable;
      detector<fairness>().woken(t.id);
      enable(t.id);
    }
  }
  return prev;
}

// The native condition variable. A wait is three steps of the waiter:
// enqueue (it joins the variable's waiters, while still holding its lock),
// the unlock of its lock, and its relock once notified; a notify is one
// step. Between the unlock and the notify the waiter is blocked without a
// step; once notified (before or after it got there) it is picked once (no
// event; that step comes after the notify, which it syncs with: kWokenKey)
// and then relocks. The futex protocol's sequence word, waiter count, wait
// and wake-return steps are gone, and with them the orders of a notify
// against a waiter between its unlock and its sleep, which end the same.
//
// dpor: enqueue and notify write the variable's queue (kQueueKey | obj), so
// they race (a notify before the enqueue does not reach the waiter); a
// timed waiter's timeout firing writes it too (so it races with a notify).
bool runtime::cond_enqueue(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                           const std::source_location& loc) {
  needs_full();
  thread_rec& me = *threads_[cur_];
  me.cond_obj = 0;
  if (aborting_) {
    abandon_op();
    if (std::uncaught_exceptions() > 0) return false;  // never block while unwinding
    // In a release path: a timed wait returns as if its deadline passed; one
    // that would block cannot complete, and unwinds.
    if (me.release_depth > 0 && timed) return false;
    unwind_now();
  }
  const std::uint32_t obj = object_id(h);
  if (track_) {
    set_next(cur_, timed_step({kQueueKey | obj, access_kind::write}, timed));
  }
  decide();
  if (aborting_) return false;
  if (timed && deadline <= vtime_) {  // expired: times out at once, a yield
    record(op::timeout, word, obj, loc, true).value = 0;
    note({kTimeKey, access_kind::read});
    note({kQueueKey | obj, access_kind::read});
    fair_yield(true);
    return false;
  }
  record(op::wait, word, obj, loc, true).value = 0;
  if (timed) note({kTimeKey, access_kind::read});  // it compared its deadline with the time
  note({kQueueKey | obj, access_kind::write});
  me.cond_obj = obj;
  me.cond_word = word;
  me.block_loc = loc;  // where it waits, also before it blocks
  me.cond_ticket = exec_steps();
  return true;
}

bool runtime::cond_block(std::uint32_t* word, detail::object_handle& h, bool timed, std::int64_t deadline,
                         const std::source_location& loc) {
  needs_full();
  thread_rec& me = *threads_[cur_];
  if (aborting_) {
    abandon_op();
    me.cond_obj = 0;
    if (std::uncaught_exceptions() > 0 || threads_[cur_]->release_depth > 0) return !timed;
    unwind_now();
  }
  const std::uint32_t obj = object_id(h);
  if (me.cond_obj == 0) {  // notified already: the step after the notify
    if (track_) set_next(cur_, {kWokenKey | me.id, access_kind::sync});
    decide();
    if (aborting_) return true;
    note({kWokenKey | me.id, access_kind::sync});
    return true;
  }
  begin_block(me, word, timed, deadline, loc);
  me.cond_wait = true;
  // Its next step: the one after the notify, or its timeout firing.
  me.next = timed ? access{obj, access_kind::timeout, false, fair_on_} : access{kWokenKey | me.id, access_kind::sync};
  if (!timed) disable(cur_);
  block_or_deadlock();
  me.cond_wait = false;
  me.wait_addr = nullptr;
  me.timed = false;
  if (aborting_) {  // resumed inside a release path: as a spurious wake-up
    me.cond_obj = 0;
    return true;
  }
  if (me.timed_out) {  // not notified (that would have enabled it)
    me.cond_obj = 0;
    record(op::timeout, word, obj, loc, true).value = 0;
    note({kTimeKey, access_kind::write});
    note({kQueueKey | obj, access_kind::write});
    fair_yield(false);
    return false;
  }
  note({kWokenKey | me.id, access_kind::sync});
  return true;
}

void runtime::cond_notify(std::uint32_t* word, detail::object_handle& h, bool all, const std::source_location& loc) {
  needs_full();
  if (aborting_) {
    abandon_op();
    if (!no_throw() && !spare_release()) unwind_now();
    return;  // unwinding: nobody is woken
  }
  const std::uint32_t obj = object_id(h);
  if (track_) set_next(cur_, {kQueueKey | obj, access_kind::write});
  decide(false, true);  // may run in a destructor: an abort must not throw here
  if (aborting_) return;
  std::uint64_t woken = 0;
  for (;;) {
    std::uint32_t pick = kNoThread;
    for (std::uint32_t i = 0; i < nthreads_; ++i) {
      const thread_rec& t = *threads_[i];
      if (t.cond_obj == obj && t.st != tstate::finished &&
          (pick == kNoThread || t.cond_ticket < threads_[pick]->cond_ticket))
        pick = i;
    }
    if (pick == kNoThread) break;
    thread_rec& t = *threads_[pick];
    t.cond_obj = 0;
    note({kWokenKey | t.id, access_kind::write});
    ++woken;
    if (t.st == tstate::blocked_futex && t.cond_wait) {
      // A timed waiter's timeout could have fired first: the notify takes
      // that step away from it, so a dependence-aware strategy must try it.
      if (t.timed && track_) strat_.on_disabled(t.id);
      t.st = tstate::runnable;
      enable(t.id);
    }
    if (!all) break;
  }
  record(op::wake, word, obj, loc, true).value = woken;
  note({kQueueKey | obj, access_kind::write});
}

}  // namespace lockstep::mc::rt

namespace lockstep::mc::rt {

// The native monitor (mc::platform's bounded queue): each operation is one
// step, which can happen only while its probe says it is ready, followed by
// the caller's body (no scheduling point) and the exit. A thread is a
// candidate at its step only while the step can happen: an untimed thread
// that arrives not ready is parked at once (no decision, no event), and
// every exit looks again at each thread at a step of the monitor, enabling
// the parked ones that are ready now and parking the untimed ones that no
// longer are. A timed thread whose step is not ready when picked blocks
// with an event and stays a candidate (picking it fires its timeout) until
// an exit makes it ready. The probe also tells dpor which of the monitor's
// fields (field 0 the monitor's own key, 1 and 2 keys of their own; see
// monitor_field_key) the step reads and writes, which tells dpor how a step
// depends on the state its probe and body see (`needs`, `raises`, `stale`).
// Every ready step also acquires and releases the monitor for the race
// detector and the memory model, as a critical section under the futex
// platform's lock would: so it writes the monitor's wait queue (field 3) as
// well, and any two ready steps race. (Steps on different fields do not
// commute: which comes first decides whether the plain writes and relaxed
// stores before one happen before the accesses after the other.) A timed
// waiter's timeout leaves the wait queue too, so it races with them.

// A monitor step as a thread's next: what its probe says now, plus the wait
// queue if it may make a timed waiter ready. A candidate's step never blocks
// at once (an untimed one that is not ready is parked, not a candidate); a
// timed one that is not ready is a step all the same (it blocks with an
// event, or times out at once, a yield).
access runtime::monitor_access(std::uint32_t obj, monitor_state s, bool timed) const noexcept {
  access a = timed_step(step_access(obj, s, needed(s, timed)), timed);
  if (timed) a.fields |= 0x80;  // if not ready, it joins the wait queue
  return a;
}

// The fields a step in state `s` reads and writes; of them, the writes that
// raise and the reads that are stale (see monitor_state), and `needs`.
access runtime::step_access(std::uint32_t obj, monitor_state s, std::uint8_t needs) noexcept {
  access a{obj, access_kind::monitor};
  a.fields = monitor_fields(s.reads, s.writes);
  // A ready step takes the monitor, and every ready step acquires and
  // releases it (see above): it writes the wait queue, so any two race.
  if (s.ready) a.fields |= 0x80;
  a.needs = needs;
  a.raises = static_cast<std::uint8_t>(s.raises & s.writes & 7u);
  a.stale = static_cast<std::uint8_t>(s.stale & s.reads & 7u);
  return a;
}

// What an attempt that is not ready read (see strategy::on_parked).
access runtime::parked_access(std::uint32_t obj, monitor_state s) noexcept {
  s.writes = 0;
  return step_access(obj, s, 0);
}

// The fields a ready step comes after the last write of (see
// monitor_state::needs): an untimed step would have waited for that write,
// as a woken waiter returns after its wake. A timed one would have timed
// out instead, another outcome: its accesses stay races.
std::uint8_t runtime::needed(monitor_state s, bool timed) noexcept {
  return timed || !s.ready ? 0 : static_cast<std::uint8_t>(s.needs & (s.reads | s.writes) & 7u);
}

void runtime::note_monitor(std::uint32_t obj, monitor_state s, std::uint8_t needs) {
  if (!track_) return;
  for_each_plain(step_access(obj, s, needs), [&](const access& x) { note(x); });
}

// A timed attempt that was not ready read its fields and wrote nothing.
static monitor_state reads_only(monitor_state s) noexcept { return monitor_state{.reads = s.reads}; }

// Inside a release path of an aborting execution, or unwinding: the step
// happens if it is ready; else it fails (the caller's operation gives up).
// In a run that is to run again (restart_needed()) it fails: nothing of it
// is kept, and a monitor that outlives it (a queue from outside the body)
// would start the run again with what the step changed.
bool runtime::abandoned_monitor(monitor_probe probe, const void* ctx) noexcept {
  return !restart_ && probe(ctx).ready;
}

bool runtime::monitor_step(std::uint32_t* lock, detail::object_handle& h, std::uint32_t* seq, monitor_probe probe,
                           const void* ctx, const void* waits_on, bool timed, std::int64_t deadline,
                           const std::source_location& loc) {
  needs_full();
  (void)seq;
  if (aborting_) {
    abandon_op();
    // Unwinding, or in a release path (a put, a close, often in a
    // destructor): the step happens if it is ready, else the operation
    // fails, as it does for a thread that had blocked in it before the
    // abort (so whether it got there first makes no difference).
    if (no_throw()) return abandoned_monitor(probe, ctx);
    unwind_now();
  }
  const std::uint32_t obj = h.epoch != epoch_ ? monitor_first_use(lock, h, probe(ctx).held, loc) : h.id;
  thread_rec& me = *threads_[cur_];
  // While a thread is at its step (and until it leaves it), every exit of
  // the monitor looks at it again (see monitor_exit).
  me.probe = probe;
  me.probe_ctx = ctx;
  me.probe_timed = timed;
  me.probe_obj = obj;
  me.probe_waits = waits_on;
  me.probe_loc = loc;
  struct leave {
    thread_rec& t;
    ~leave() { t.probe = nullptr; }
  } leaving{me};
  // Blocked (parked, or a timed wait): until enabled, or the end.
  const auto sleep = [&] {
    if (!switch_away()) {
      global_deadlock();
      // The abort reaches it here as it reaches one that blocked earlier.
      if (!no_throw()) unwind_now();
      wq_remove(me);
      me.st = tstate::runnable;
      enable(cur_);
    }
    me.monitor_wait = false;
    me.wait_addr = nullptr;
  };
  // Resumed from a block: the decision that picked it was this step's. A
  // second one would make the resumption a step of its own that does
  // nothing, and a strategy that takes another thread there reaches again
  // what it reached by taking that thread first (dpor: the same trace twice).
  bool picked = false;
  for (;;) {
    monitor_state s = probe(ctx);
    if (!s.ready && !timed) {
      // Untimed and not ready: the thread is disabled at once, with no
      // decision and no event, until an exit makes its step ready. A
      // candidate is always a thread whose step does something: a
      // strategy that picks it (a reversal in dpor above all) gets the step.
      // Its attempt read the fields its probe names: run before the step
      // that made it not ready, it would have taken its own, so dpor must
      // see the race. The attempt is no step: it is not noted in the
      // transition it ends (whose step did not read them).
      if (track_) {
        access a = parked_access(obj, s);
        // At a destroyed queue, an attempt at its memory (see
        // note_destroyed_use()): a parked access carries one key, so it
        // becomes global, which its destruction's write is part of.
        if (std::find(destroyed_.begin(), destroyed_.end(), ctx) != destroyed_.end()) [[unlikely]]
          a = access{0, access_kind::global};
        strat_.on_parked(cur_, a, true);
      }
      park_monitor(me, s);
      sleep();
      if (aborting_) return abandoned_monitor(probe, ctx);  // resumed inside a release path
      picked = true;
      continue;
    }
    if (track_) me.next = monitor_access(obj, s, timed);
    // Another thread's step may take the readiness away while this one waits
    // here: an untimed one is then parked by that step's exit, and decide()
    // returns once it is ready again and picked.
    if (!picked) decide();
    picked = false;
    if (aborting_) return abandoned_monitor(probe, ctx);  // resumed inside a release path
    me.wait_addr = nullptr;
    s = probe(ctx);
    if (s.ready) {
      record_native(op::cas_ok, lock, obj, loc, monitor_fields(s.reads, s.writes), kMonitorStep);
      race_detector& races = detector<race_detector>();
      if (races.on()) races.on_acquire(cur_, race_obj(lock));
      if (mm_live()) mm_.acquire_from(obj, cur_);
      if (races.on()) races.on_release(cur_, race_obj(lock));
      if (mm_live()) mm_.release_to(obj, cur_);
      note_monitor(obj, s, needed(s, timed));
      return true;
    }
    LOCKSTEP_DCHECK(timed);
    if (deadline <= vtime_) {  // expired: times out at once, a yield
      record(op::timeout, lock, obj, loc, true).value = 0;
      note_monitor(obj, reads_only(s));
      note({kTimeKey, access_kind::read});
      fair_yield(true);
      return false;
    }
    // A timed wait blocks with an event (it read the fields and joins the
    // wait queue): its timeout is a step of its own, and it stays a
    // candidate (picking it fires the timeout).
    record(op::wait, lock, obj, loc).value = 0;
    note({kTimeKey, access_kind::read});
    note_monitor(obj, reads_only(s));
    begin_block(me, waits_on, true, deadline, loc);
    me.monitor_wait = true;
    wq_push(obj, me);
    me.next = access{obj, access_kind::timeout, false, fair_on_};
    sleep();
    me.timed = false;
    if (aborting_) return abandoned_monitor(probe, ctx);  // resumed inside a release path
    if (me.timed_out) {  // not made ready (that would have enabled it)
      record(op::timeout, lock, obj, loc, true).value = 0;
      note({kTimeKey, access_kind::write});
      note({kQueueKey | obj, access_kind::write});
      fair_yield(false);
      return false;
    }
    picked = true;
  }
}

// Thread t, at its step of monitor `t.probe_obj` (arriving, or waiting at a
// decision), cannot take it now: it is disabled until an exit makes it ready.
void runtime::park_monitor(thread_rec& t, monitor_state s) {
  begin_block(t, t.probe_waits, false, 0, t.probe_loc);
  t.monitor_wait = true;
  wq_push(t.probe_obj, t);
  if (track_) {
    // Its next step, for the races of a thread still parked at the end.
    t.next = monitor_access(t.probe_obj, s, false);
  }
  disable(t.id);
}

// After a monitor's step and its body: every other thread at a step of it
// is looked at again. A parked one that is ready now is enabled; a waiting
// one (untimed) that is not ready any more is parked. So a thread is a
// candidate exactly while its step can happen.
void runtime::monitor_exit(std::uint32_t* lock, detail::object_handle& h, std::uint32_t* seq,
                           const std::source_location& loc) {
  needs_full();
  (void)lock;
  (void)seq;
  (void)loc;
  if (aborting_) return;  // unwinding: nobody is woken
  const std::uint32_t obj = object_id(h);
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    thread_rec& t = *threads_[i];
    if (i == cur_ || t.probe == nullptr || t.probe_obj != obj || t.st == tstate::finished) continue;
    const monitor_state s = t.probe(t.probe_ctx);
    if (t.st == tstate::runnable) {
      if (!s.ready && !t.probe_timed) {
        // This step took t's (a candidate until now) away: a dependence-
        // aware strategy must try t before it. t's attempt now reads what
        // this step wrote, as if it had arrived after it.
        if (track_) strat_.on_parked(t.id, parked_access(obj, s), false);
        park_monitor(t, s);
      }
      continue;
    }
    if (t.st != tstate::blocked_futex || !t.monitor_wait || !s.ready) continue;
    if (t.timed) {
      // Its timeout could have fired first: the step takes that away from
      // it, so a dependence-aware strategy must try it.
      if (track_) strat_.on_disabled(t.id);
      note({kQueueKey | obj, access_kind::write});
    }
    wq_remove(t);
    t.st = tstate::runnable;
    t.monitor_wait = false;
    enable(t.id);
  }
}

}  // namespace lockstep::mc::rt
