// The lincheck gates of shared_mutex, one per policy (the specification and
// why the operations are whole critical sections: gates/shared_mutex.hpp).
#include "gates/shared_mutex.hpp"

#include <lockstep/lockstep.hpp>

namespace {
namespace gates = lockstep::gates;
template <class Policy>
using rw = gates::rw_object<lockstep::mc::shared_mutex<Policy>>;
}  // namespace

LOCKSTEP_LIN_GATE(shared_mutex,
                  "shared_mutex<fair>: write and read sections on a protected value, with lock/lock_shared "
                  "and with try_lock/try_lock_shared") {
  return lockstep::lin::check(gates::shared_mutex_spec<rw<lockstep::fair>>("shared_mutex"), s);
}

LOCKSTEP_LIN_GATE(shared_mutex_reader_preferring,
                  "shared_mutex<reader_preferring>: as shared_mutex") {
  return lockstep::lin::check(
      gates::shared_mutex_spec<rw<lockstep::reader_preferring>>("shared_mutex_reader_preferring"), s);
}

LOCKSTEP_LIN_GATE(shared_mutex_writer_preferring,
                  "shared_mutex<writer_preferring>: as shared_mutex") {
  return lockstep::lin::check(
      gates::shared_mutex_spec<rw<lockstep::writer_preferring>>("shared_mutex_writer_preferring"), s);
}
