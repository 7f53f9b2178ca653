// The engine's side of the liveness detectors (detectors/fairness.hpp,
// livelock.hpp, busy_wait.hpp, wait_for.hpp, retries.hpp): where it asks
// them, and the reports of livelock, busy waiting, starvation (bounded
// bypass, optimistic retries) and lost wake-ups.
#include <algorithm>
#include <string>

#include "lockstep/mc/graph.hpp"
#include "runtime.hpp"
#include "text.hpp"

namespace lockstep::mc::rt {

void runtime::fair_yield(bool check) {
  if (!fair_on_) return;
  // Whom a yield defers to depends on which threads ran since the last one:
  // a dependence-aware strategy must not take two executions that order a
  // yield and such a step differently for equivalent (their fair
  // continuations differ).
  if (track_) note({0, access_kind::yield});
  detector<fairness>().yielded(cur_, [&](std::uint32_t u) { return threads_[u]->st == tstate::runnable; });
  if (check && detector<livelock>().due(exec_steps_)) check_livelock();
}

// ---------------------------------------------------------------------------
// Livelock: no progress for a window, and the window repeats with a period.

void runtime::check_livelock() {
  const std::uint64_t window = opts_.livelock_window;
  const std::size_t period = detector<livelock>().period(events_, exec_steps_);
  if (period == 0) return;
  const std::size_t n = events_.size();  // not (yet) a repeating cycle: the step bound decides
  std::vector<bool> in(nthreads_, false);
  std::size_t involved = 0;
  for (std::size_t i = n - period; i < n; ++i) {
    if (!in[events_[i].thread]) ++involved;
    in[events_[i].thread] = true;
  }
  std::string who;
  for (std::uint32_t t = 0; t < nthreads_; ++t)
    if (in[t]) who += (who.empty() ? "" : " and ") + thread_label(t);
  std::vector<trace_event> all = export_events();
  std::vector<trace_event> cycle(all.end() - static_cast<std::ptrdiff_t>(period), all.end());
  std::string details = "  " + who + (involved == 1 ? " keeps" : " keep") +
                        " taking steps, but nothing marks progress (LOCKSTEP_PROGRESS()) and no "
                        "thread finishes; the same " + std::to_string(period) +
                        " steps have repeated for the last " + std::to_string(window) +
                        " steps (livelock_window = " + std::to_string(window) + ").\n";
  details += "  Usually: threads that back off and retry in lock step (take locks in one global "
             "order, or let a random choice decide the backoff), or a retry loop whose condition "
             "never changes. If the model just works long between progress marks, raise the "
             "bound (--livelock-window N, options.livelock_window).\n";
  details += timeline_text(cycle, nthreads_, "one period of the cycle (steps " +
                                                std::to_string(cycle.front().step) + "-" +
                                                std::to_string(cycle.back().step) + "), one column per thread");
  fail_and_unwind(bug_kind::livelock,
                  who + (involved == 1 ? " repeats" : " repeat") + " the same " + std::to_string(period) +
                      " steps forever without progress (a livelock under fair scheduling)",
                  std::move(details));
}

// ---------------------------------------------------------------------------
// Busy waiting: a run of read-only steps without a yield.

void runtime::busy_waiting() {
  const event* last = nullptr;
  for (std::size_t i = events_.size(); i-- > 0 && last == nullptr;)
    if (events_[i].thread == cur_) last = &events_[i];
  std::string what = last != nullptr ? object_label(last->addr, last->object) : std::string("shared state");
  std::string where = last != nullptr ? loc_text(last->loc) : std::string("?");
  fail_and_unwind(
      bug_kind::busy_wait,
      thread_label(cur_) + " busy-waits: it read " + what + " " + std::to_string(detector<busy_wait>().run(cur_)) +
          " times in a row at " + where + " without relax() (busy_wait_bound = " +
          std::to_string(opts_.busy_wait_bound) + ")",
      "  A spin loop must yield: call relax() (lockstep::mc::this_thread::yield(), P::relax()) in "
      "the loop so the scheduler lets the thread it waits for run, or better, block on a condition "
      "variable, an event or a semaphore. Without it the spinner can starve the thread that would "
      "release it (on one core, or under a non-preemptive scheduler). If these reads are not a "
      "spin, raise the bound (--busy-wait-bound N, options.busy_wait_bound).\n");
}

// ---------------------------------------------------------------------------
// Starvation: bounded bypass.

// The running thread just acquired `obj`, which it asked for at step
// `asked`: that overtakes every thread blocked on `obj` that asked earlier.
void runtime::count_bypass(const void* obj, const object_rec& r, std::uint64_t asked) {
  // Every bypassed waiter counts; the one with the lowest id past the bound
  // is reported (r.waiters is in no particular order).
  std::uint32_t starved = kNoThread, starved_total = 0;
  for (std::uint32_t i : r.waiters) {
    const thread_rec& w = *threads_[i];
    wait_for::thread_state& ww = detector<wait_for>()[i];
    // Only a waiter the lock keeps blocked is bypassed (one that is runnable
    // and simply not scheduled is the scheduler's choice, not the lock's).
    if (i == cur_ || ww.waiting_for != obj || w.st != tstate::blocked_futex || w.lock_wait) continue;
    if (ww.acquiring_order > asked) continue;  // it asked later: no overtaking
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
    const std::uint32_t i = starved, total = starved_total;
    const wait_for::thread_state& w = detector<wait_for>()[i];
    const std::string what = resource_label(r);
    std::string by;
    for (std::size_t k = 0; k < w.bypass.size(); ++k) {
      const auto& [t, times] = w.bypass[k];
      by += (k == 0 ? "" : k + 1 == w.bypass.size() ? " and " : ", ") + thread_label(t) + " acquired it " +
            std::to_string(times) + (times == 1 ? " time" : " times");
    }
    std::string details = "  " + thread_label(i) + " asked for " + what + " at " + loc_text(w.waiting_loc) +
 " (step " + std::to_string(w.acquiring_step) + ") and is still blocked; since then " +
                          by + " (bypass_bound = " + std::to_string(opts_.bypass_bound) + ").\n" +
                          "  A lock that lets newcomers overtake a waiter without limit starves it: a "
                          "reader-preferring rwlock under a stream of readers is the classic case. "
                          "Use a policy that queues newcomers behind a waiting writer "
                          "(writer_preferring, fair), or raise the bound (--bypass-bound K, "
                          "options.bypass_bound) if some overtaking is acceptable.\n";
    fail_and_unwind(bug_kind::starvation,
                    thread_label(i) + " starves waiting for " + what + ": other threads acquired it " +
                        std::to_string(total) + " times while it waited (bypass_bound = " +
                        std::to_string(opts_.bypass_bound) + ")",
                    std::move(details));
  }
}

// An optimistic retry loop never blocks, so nothing above sees it overtaken.
// The model announces the resource before its first attempt (retry_begin),
// reports each attempt whose commit failed (retry_lost: the thread that won
// the resource last overtook it) and its own commit (retry_won). More than
// bypass_bound losses before its own commit is starvation.
void runtime::retry_begin(const void* obj, const std::source_location& loc) {
  if (aborting_) return;
  retry_watch::thread_state& me = detector<retry_watch>()[cur_];
  me.retry_for = obj;
  me.retry_loc = loc;
  me.retry_step = exec_steps_;
  me.retry_bypass.clear();
}

void runtime::retry_won(const void* obj, const std::source_location& loc) {
  (void)loc;
  if (aborting_) return;
  retry_watch::thread_state& me = detector<retry_watch>()[cur_];
  if (me.retry_for == obj) me.retry_for = nullptr;
  objects_[objects_.intern(obj)].retry_winner = cur_;
}

void runtime::retry_lost(const void* obj, const std::source_location& loc) {
  if (aborting_) return;
  retry_watch::thread_state& me = detector<retry_watch>()[cur_];
  if (me.retry_for != obj) return;  // not announced: nothing to count against
  const object_rec* r = objects_.get(obj);
  if (r == nullptr || r->retry_winner == kNoThread) return;  // nobody won it: the attempt failed on its own
  const std::uint32_t by = r->retry_winner;
  if (by == cur_) return;  // it lost to a lock holder, not to a later winner
  const std::uint32_t total = detector<retry_watch>().lost(cur_, by);
  if (total <= opts_.bypass_bound) return;
  const std::string what = object_label(obj, 0);
  std::string who;
  for (std::size_t k = 0; k < me.retry_bypass.size(); ++k) {
    const auto& [t, times] = me.retry_bypass[k];
    who += (k == 0 ? "" : k + 1 == me.retry_bypass.size() ? " and " : ", ") + thread_label(t) + " won " +
           std::to_string(times) + (times == 1 ? " time" : " times");
  }
  std::string details = "  " + thread_label(cur_) + " began trying for " + what + " at " + loc_text(me.retry_loc) +
                        " (step " + std::to_string(me.retry_step) + ") and retries optimistically; its commit " +
                        "failed " + std::to_string(total) + " times (the latest at " + loc_text(loc) +
                        "), each time because another thread committed first: " + who +
                        " (bypass_bound = " + std::to_string(opts_.bypass_bound) + ").\n" +
                        "  Unbounded optimistic retries under contention let the fast transactions win every "
                        "race. Bound the retries and fall back to a path that waits its turn (a lock), or raise "
                        "the bound (--bypass-bound K, options.bypass_bound) if some losses are acceptable.\n";
  fail_and_unwind(bug_kind::starvation,
                  thread_label(cur_) + " starves retrying " + what + ": its commit lost " + std::to_string(total) +
                      " times to other threads' commits (bypass_bound = " + std::to_string(opts_.bypass_bound) +
                      ")",
                  std::move(details));
}

// ---------------------------------------------------------------------------
// Lost wake-ups: at a global deadlock without a lock cycle, a thread blocked
// on a wait (not on a lock acquisition or a join) that nobody left can end.

void runtime::progress_on_acquire(const void* obj) noexcept {
  try {
    objects_[objects_.intern(obj)].progress_mark = true;
  } catch (...) {  // out of memory: the mark is lost, no more
  }
}

void runtime::notified(const void* obj, const std::source_location& loc) noexcept {
  if (aborting_) return;
  try {
    objects_[objects_.intern(obj)].notifies.push_back(notify_rec{cur_, exec_steps_, loc});
  } catch (...) {  // out of memory: the lost wake-up check misses this notify
  }
}

std::string runtime::waited_label(const thread_rec& t) const {
  for (std::size_t i = events_.size(); i-- > 0;) {
    const event& e = events_[i];
    if (e.thread == t.id && e.addr == t.wait_addr) return object_label(e.addr, e.object);
  }
  return object_label(t.wait_addr, 0);
}

std::string runtime::describe_blocked_wait(const thread_rec& t) const {
  const std::string what = waited_label(t);
  std::string out = "  " + thread_label(t.id) + " began waiting on " + what + " at " + loc_text(t.block_loc) +
                    " (step " + std::to_string(t.block_step) + ").\n";
  const notify_rec* before = nullptr;
  if (const object_rec* r = objects_.get(t.wait_addr))
    for (const notify_rec& n : r->notifies)
      if (n.step <= t.block_step && n.thread != t.id) before = &n;
  if (before != nullptr) {
    out += "  It missed a notification: " + thread_label(before->thread) + " notified " + what + " at " +
           loc_text(before->loc) + " (step " + std::to_string(before->step) +
           "), before the wait began, and nobody notified it after. A wait must check its condition "
           "first (wait(lock, predicate), or a while loop around wait()) so an earlier "
           "notification is not lost.\n";
  } else {
    out += "  Nobody notified it before the wait or after: the thread that should wake it finished "
           "or blocks elsewhere without doing so (a missing notify, release, set or close?).\n";
  }
  return out;
}

bool runtime::lost_wakeup() {
  for (std::uint32_t i = 0; i < nthreads_; ++i) {
    const thread_rec& t = *threads_[i];
    if (t.st != tstate::blocked_futex || t.lock_wait || waits_of(t).waiting_for != nullptr) continue;
    std::size_t others = 0;
    for (std::uint32_t j = 0; j < nthreads_; ++j) others += j != i && threads_[j]->st != tstate::finished;
    fail(bug_kind::lost_wakeup,
         thread_label(i) + " waits forever on " + waited_label(t) + " at " + loc_text(t.block_loc) +
             ": no thread left can wake it (" +
             (others == 0 ? std::string("every other thread finished")
                          : "the others finished or are blocked elsewhere") +
             ")",
         describe_blocked_wait(t));
    return true;
  }
  return false;
}

}  // namespace lockstep::mc::rt
