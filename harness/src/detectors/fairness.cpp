#include "detectors/fairness.hpp"

namespace lockstep::mc::rt {

// An edge t -> u lives until u is picked (or finishes). Its target is always
// runnable while it lives: u was runnable when the edge was made, and a
// thread stops being runnable only by running (blocking, finishing), which
// it does only once picked. So t is deferred exactly while it has a live
// edge, and counting them is enough.
void fairness::end_deferrals(std::uint32_t u) {
  for (const auto& [tid, gen] : st_[u].watchers) {
    thread_state& t = st_[tid];
    if (t.gen == gen && t.live != 0 && --t.live == 0) set_deferred(tid, false);
  }
  st_[u].watchers.clear();
}

void fairness::set_deferred(std::uint32_t t, bool on) {
  if (on) eligible_->erase(t);
  else if (enabled_->contains(t)) eligible_->insert(t);
}

}  // namespace lockstep::mc::rt
