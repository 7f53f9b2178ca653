#include "detectors/livelock.hpp"

#include <algorithm>

namespace lockstep::mc::rt {

namespace {
bool same_step(const event& a, const event& b) {
  // A yield's object id is fresh every time (it touches no object).
  return a.thread == b.thread && a.o == b.o && a.value == b.value && (a.o == op::yield || a.object == b.object);
}
}  // namespace

std::size_t livelock::period(const event_log& events, std::uint64_t step) {
  next_check_ = step + std::max<std::uint64_t>(window_ / 4, 1);
  const std::size_t n = events.size();
  const std::size_t w = static_cast<std::size_t>(std::min<std::uint64_t>(window_, n));
  for (std::size_t p = 1; p <= w / 2; ++p) {
    bool ok = true;
    for (std::size_t i = p; i < w && ok; ++i) ok = same_step(events[n - 1 - i], events[n - 1 - i + p]);
    if (ok) return p;
  }
  return 0;
}

}  // namespace lockstep::mc::rt
