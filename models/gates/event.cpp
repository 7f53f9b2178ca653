// The lincheck gate of event (the specification: gates/event.hpp).
#include "gates/event.hpp"

#include <lockstep/lockstep.hpp>

LOCKSTEP_LIN_GATE(event, "event: set, clear, is_set, wait, wait_for") {
  return lockstep::lin::check(lockstep::gates::event_spec<lockstep::mc::event>("event"), s);
}
