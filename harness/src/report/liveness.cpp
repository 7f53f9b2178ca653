#include "report/liveness.hpp"

#include <vector>

#include "engine/runtime.hpp"
#include "report/text.hpp"

namespace lockstep::mc::rt {

report_text livelock_text(const execution_view& v, std::size_t period, std::uint64_t window) {
  const std::size_t n = v.events.size();
  std::vector<bool> in(v.nthreads, false);
  std::size_t involved = 0;
  for (std::size_t i = n - period; i < n; ++i) {
    if (!in[v.events[i].thread]) ++involved;
    in[v.events[i].thread] = true;
  }
  std::string who;
  for (std::uint32_t t = 0; t < v.nthreads; ++t)
    if (in[t]) who += (who.empty() ? "" : " and ") + thread_label(v, t);
  std::vector<trace_event> all = export_events(v);
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
  details += timeline_text(cycle, v.nthreads, "one period of the cycle (steps " +
                                                  std::to_string(cycle.front().step) + "-" +
                                                  std::to_string(cycle.back().step) + "), one column per thread");
  return {who + (involved == 1 ? " repeats" : " repeat") + " the same " + std::to_string(period) +
              " steps forever without progress (a livelock under fair scheduling)",
          std::move(details)};
}

report_text busy_wait_text(const execution_view& v, std::uint32_t thread, std::uint32_t run, std::uint32_t bound) {
  // The run's last step (a fence is no part of it: it touches nothing).
  const event* last = nullptr;
  for (std::size_t i = v.events.size(); i-- > 0 && last == nullptr;)
    if (v.events[i].thread == thread && v.events[i].o != op::fence) last = &v.events[i];
  const std::string what = last != nullptr ? object_label(v, last->addr, last->object) : std::string("shared state");
  const std::string where = last != nullptr ? loc_text(last->loc) : std::string("?");
  return {thread_label(v, thread) + " busy-waits: it read " + what + " " + count_text(run, "time") +
              " in a row at " + where + " without relax() (busy_wait_bound = " + std::to_string(bound) + ")",
          "  A spin loop must yield: call relax() (lockstep::mc::this_thread::yield(), P::relax()) in "
          "the loop so the scheduler lets the thread it waits for run, or better, block on a condition "
          "variable, an event or a semaphore. Without it the spinner can starve the thread that would "
          "release it (on one core, or under a non-preemptive scheduler). If these reads are not a "
          "spin, raise the bound (--busy-wait-bound N, options.busy_wait_bound).\n"};
}

report_text bypass_text(const execution_view& v, std::uint32_t starved, const object_rec& r, std::uint32_t total,
                        std::uint32_t bound) {
  const wait_for::thread_state& w = v.waits[starved];
  const std::string what = resource_label(v.objects, r);
  std::string by;
  for (std::size_t k = 0; k < w.bypass.size(); ++k) {
    const auto& [t, times] = w.bypass[k];
    by += (k == 0 ? "" : k + 1 == w.bypass.size() ? " and " : ", ") + thread_label(v, t) + " acquired it " +
          std::to_string(times) + (times == 1 ? " time" : " times");
  }
  std::string details = "  " + thread_label(v, starved) + " asked for " + what + " at " + loc_text(w.waiting_loc) +
                        " (step " + std::to_string(w.acquiring_step) + "), first blocked at step " +
                        std::to_string(w.join_step) + " and is still blocked; since then " + by +
                        " (bypass_bound = " + std::to_string(bound) + ").\n" +
                        "  A lock that lets newcomers overtake a waiter without limit starves it: a "
                        "reader-preferring rwlock under a stream of readers is the classic case. "
                        "Use a policy that queues newcomers behind a waiting writer "
                        "(writer_preferring, fair), or raise the bound (--bypass-bound K, "
                        "options.bypass_bound) if some overtaking is acceptable.\n";
  return {thread_label(v, starved) + " starves waiting for " + what + ": other threads acquired it " +
              count_text(total, "time") + " while it waited (bypass_bound = " + std::to_string(bound) + ")",
          std::move(details)};
}

report_text retry_starvation_text(const execution_view& v, std::uint32_t thread, const void* obj,
                                  const retry_watch::thread_state& retry, std::uint32_t total,
                                  const std::source_location& latest, std::uint32_t bound) {
  const std::string what = object_label(v, obj, 0);
  std::string who;
  for (std::size_t k = 0; k < retry.retry_bypass.size(); ++k) {
    const auto& [t, times] = retry.retry_bypass[k];
    who += (k == 0 ? "" : k + 1 == retry.retry_bypass.size() ? " and " : ", ") + thread_label(v, t) + " won " +
           std::to_string(times) + (times == 1 ? " time" : " times");
  }
  std::string details = "  " + thread_label(v, thread) + " began trying for " + what + " at " +
                        loc_text(retry.retry_loc) + " (step " + std::to_string(retry.retry_step) +
                        ") and retries optimistically; its commit " + "failed " + count_text(total, "time") +
                        " (the latest at " + loc_text(latest) +
                        "), each time because another thread committed first: " + who +
                        " (bypass_bound = " + std::to_string(bound) + ").\n" +
                        "  Unbounded optimistic retries under contention let the fast transactions win every "
                        "race. Bound the retries and fall back to a path that waits its turn (a lock), or raise "
                        "the bound (--bypass-bound K, options.bypass_bound) if some losses are acceptable.\n";
  return {thread_label(v, thread) + " starves retrying " + what + ": its commit lost " + count_text(total, "time") +
              " to other threads' commits (bypass_bound = " + std::to_string(bound) + ")",
          std::move(details)};
}

report_text lost_wakeup_text(const execution_view& v, const thread_rec& t) {
  std::size_t others = 0;
  for (std::uint32_t j = 0; j < v.nthreads; ++j) others += j != t.id && v.threads[j]->st != tstate::finished;
  return {thread_label(v, t.id) + " waits forever on " + waited_label(v, t) + " at " + loc_text(t.block_loc) +
              ": no thread left can wake it (" +
              (others == 0 ? std::string("every other thread finished")
                           : "the others finished or are blocked elsewhere") +
              ")",
          describe_blocked_wait(v, t)};
}

}  // namespace lockstep::mc::rt
