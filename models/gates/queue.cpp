// The lincheck gate of bounded_queue.
#include "gates/queue.hpp"

#include <lockstep/lockstep.hpp>

LOCKSTEP_LIN_GATE(bounded_queue,
                  "bounded_queue<int>(2): blocking, try and timed put and get, task_done, join, close, size") {
  return lockstep::lin::check(lockstep::gates::queue_spec<lockstep::mc::bounded_queue<int>>("bounded_queue"), s);
}
