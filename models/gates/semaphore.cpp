// The lincheck gate of counting_semaphore (the specification:
// gates/semaphore.hpp).
#include "gates/semaphore.hpp"

#include <lockstep/lockstep.hpp>

LOCKSTEP_LIN_GATE(counting_semaphore,
                  "counting_semaphore<>(1): acquire, try_acquire, try_acquire_for, release(1..2)") {
  return lockstep::lin::check(
      lockstep::gates::semaphore_spec<lockstep::mc::counting_semaphore<>>("counting_semaphore", 1), s);
}
