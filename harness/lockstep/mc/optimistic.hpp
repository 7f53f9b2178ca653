// lockstep/mc/optimistic.hpp — bounded bypass for optimistic retry loops.
//
// A thread that retries an optimistic transaction (read a version, compute,
// compare-and-set commit, back off on failure) never blocks, so the
// starvation detector (bounded bypass, options::bypass_bound) cannot see it
// being overtaken. A retry_waiter tells it:
//
//   mc::retry_waiter w(&row);           // this thread now wants `row`
//   while (!try_commit()) {
//     w.lost();                         // another thread committed first
//     mc::sleep_for(backoff);
//   }
//   w.won();                            // committed: the wait is over
//
// Every committing thread calls won() (or makes a retry_waiter and wins at
// once), which records it as the latest to commit; each lost() counts one
// overtaking by that thread. More than bypass_bound losses before won() is a
// `starvation` bug naming the starved thread (name it with
// mc::this_thread::set_name), the resource (name it with mc::name) and who
// won how often. On OS threads and outside the checker these calls do
// nothing (a replayed starvation is a property of the recorded history).
//
// Lifetime: one waiter per attempt sequence, on the thread that retries.
#pragma once

#include <source_location>

#include "lockstep/mc/hooks.hpp"

namespace lockstep::mc {

class retry_waiter {
 public:
  explicit retry_waiter(const void* resource,
                        const std::source_location& where = std::source_location::current())
      : resource_(resource) {
    detail::retry_begin(resource, where);
  }
  retry_waiter(const retry_waiter&) = delete;
  retry_waiter& operator=(const retry_waiter&) = delete;

  // An attempt failed because another thread committed first.
  void lost(const std::source_location& where = std::source_location::current()) {
    detail::retry_lost(resource_, where);
  }
  // This thread committed (it no longer waits; it is the latest winner).
  void won(const std::source_location& where = std::source_location::current()) {
    detail::retry_won(resource_, where);
  }

 private:
  const void* resource_;
};

}  // namespace lockstep::mc
