// lockstep/detail/deadline.hpp — timeouts on the platform's clock.
//
// Timed operations accept any std::chrono duration or time point; they are
// converted once to a deadline on P::clock (steady_clock in production, the
// virtual clock under the checker). A time point on another clock is turned
// into "that far from now", as the standard library does. A timeout too far
// off to represent (duration::max() meaning "no timeout", say) saturates to
// the clock's last (or first) time point instead of overflowing.
#pragma once

#include <chrono>
#include <type_traits>

namespace lockstep::detail {

template <class P, class Rep, class Period>
typename P::clock::time_point deadline_after(const std::chrono::duration<Rep, Period>& d) {
  using time_point = typename P::clock::time_point;
  using dur = typename P::clock::duration;
  using fsec = std::chrono::duration<long double>;  // wide enough to compare any two
  const time_point now = P::clock::now();
  const fsec since_epoch(now.time_since_epoch());
  if (fsec(d) >= fsec(time_point::max().time_since_epoch()) - since_epoch) return time_point::max();
  if (fsec(d) <= fsec(time_point::min().time_since_epoch()) - since_epoch) return time_point::min();
  return now + std::chrono::ceil<dur>(d);
}

template <class P, class Clock, class Duration>
typename P::clock::time_point deadline_at(const std::chrono::time_point<Clock, Duration>& t) {
  if constexpr (std::is_same_v<Clock, typename P::clock>) {
    return std::chrono::ceil<typename P::clock::duration>(t);
  } else {
    return deadline_after<P>(t - Clock::now());
  }
}

}  // namespace lockstep::detail
