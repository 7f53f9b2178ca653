// The lincheck gates of the four counters (the specification, and why the
// striped counter's value() is only regular: gates/counters.hpp).
#include "gates/counters.hpp"

#include <lockstep/lockstep.hpp>

namespace {
namespace gates = lockstep::gates;
namespace mc = lockstep::mc;
}  // namespace

LOCKSTEP_LIN_GATE(atomic_counter, "atomic_counter: add(n) and a linearizable value()") {
  return lockstep::lin::check(gates::counter_spec<mc::atomic_counter>("atomic_counter"), s);
}

LOCKSTEP_LIN_GATE(locked_counter, "locked_counter: add(n) and a linearizable value()") {
  return lockstep::lin::check(gates::counter_spec<mc::locked_counter>("locked_counter"), s);
}

LOCKSTEP_LIN_GATE(striped_counter,
                  "striped_counter: add(n) and value(), regular (not a snapshot, as its header says)") {
  return lockstep::lin::check(
      gates::counter_spec<mc::striped_counter>("striped_counter", lockstep::lin::regular), s);
}

// Its owner thread, queue and a promise per value() make each operation cost
// many interleavings: every interleaving of 2 threads x 1 operation is a few
// thousand executions, of 2 x 2 with two value()s past 300,000. Run it small,
// or sampled (--strategy pct).
LOCKSTEP_LIN_GATE(owned_counter,
                  "owned_counter: add(n) and a linearizable value() (a round trip to its owner thread; "
                  "expensive: 2 threads x 1 operation, or --strategy pct)") {
  return lockstep::lin::check(gates::counter_spec<mc::owned_counter>("owned_counter"), s);
}
