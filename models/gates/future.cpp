// The lincheck gate of promise and future (the specification, and how the
// operations keep clear of misuse: gates/future.hpp).
#include "gates/future.hpp"

#include <lockstep/lockstep.hpp>

LOCKSTEP_LIN_GATE(future,
                  "promise<int> and its future: set_value, set_exception, abandon, get, get_for, cancel, "
                  "done, cancelled, add_done_callback (exactly once)") {
  return lockstep::lin::check(lockstep::gates::future_spec<lockstep::gates::promise_future>("future"), s);
}
