// The lincheck gate of thread_pool (the specification, and what it makes of
// the tasks a cancelling shutdown cancels: gates/thread_pool.hpp).
#include "gates/thread_pool.hpp"

#include <lockstep/lockstep.hpp>

LOCKSTEP_LIN_GATE(thread_pool,
                  "thread_pool(1): submit (keeping the future, or waiting for it), shutdown (wait, "
                  "cancel_pending, no wait), submit after shutdown; heavy: try --ops 2") {
  using obj = lockstep::gates::pool_object<lockstep::mc::thread_pool>;
  return lockstep::lin::check(lockstep::gates::thread_pool_spec<obj>("thread_pool", 1), s);
}
