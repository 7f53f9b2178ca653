// lockstep/detail/deadline.hpp — timeouts on the platform's clock.
//
// Timed operations accept any std::chrono duration or time point; they are
// converted once to a deadline on P::clock (steady_clock in production, the
// virtual clock under the checker). A time point on another clock is turned
// into "that far from now", as the standard library does.
#pragma once

#include <chrono>
#include <type_traits>

namespace lockstep::detail {

template <class P, class Rep, class Period>
typename P::clock::time_point deadline_after(const std::chrono::duration<Rep, Period>& d) {
  using dur = typename P::clock::duration;
  return P::clock::now() + std::chrono::ceil<dur>(d);
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
