#include "detectors/fairness.hpp"

namespace lockstep::mc::rt {

// An edge t -> u lives until u is picked for a step (or finishes), and
// defers t while u can run. Its target is runnable while it lives, or
// blocked in an attempt that took no step (see fairness.hpp): u was so when
// the edge was made, and a thread stops being so only by a step (blocking
// in a wait, finishing). So t is deferred exactly while it has a live edge
// into a thread not blocked, and counting those is enough.
void fairness::end_deferrals(std::uint32_t u) {
  const bool counted = !st_[u].blocked;
  st_[u].blocked = false;
  for (const auto& [tid, gen] : st_[u].watchers) {
    thread_state& t = st_[tid];
    if (counted && t.gen == gen && t.live != 0 && --t.live == 0) set_deferred(tid, false);
  }
  ended_.swap(st_[u].watchers);
  st_[u].watchers.clear();
  ended_owner_ = u;
  ++ends_;
}

// u's pick that ended the edges in ended_ took no step: they live again
// (those of a yield since replaced stay ended).
void fairness::rearm(std::uint32_t u) {
  const bool counted = !st_[u].blocked;
  for (const auto& [tid, gen] : ended_) {
    thread_state& t = st_[tid];
    if (counted && t.gen == gen && t.live++ == 0) set_deferred(tid, true);
  }
  st_[u].watchers.swap(ended_);
  ended_.clear();
}

void fairness::unblock(std::uint32_t u) {
  st_[u].blocked = false;
  for (const auto& [tid, gen] : st_[u].watchers) {
    thread_state& t = st_[tid];
    if (t.gen == gen && t.live++ == 0) set_deferred(tid, true);
  }
}

void fairness::set_deferred(std::uint32_t t, bool on) {
  if (on) eligible_->erase(t);
  else if (enabled_->contains(t)) eligible_->insert(t);
}

}  // namespace lockstep::mc::rt
