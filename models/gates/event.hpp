// The event gate's specification, for any type with basic_event's interface
// (the production one and the broken events in tests/test_lin_sync.cpp).
//
// The model is one bit. set() and clear() write it, is_set() reads it,
// wait() waits while it is clear, wait_for(1 ms) (under the checker the
// timeout is a scheduler choice) returns whether it was set. A set() that
// a clear() follows before a waiter runs may leave the waiter waiting: the
// specification allows it (the bit is clear again), as the header's
// "blocks until it is set" does.
#pragma once

#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include <lockstep/lin.hpp>

namespace lockstep::gates {

struct flag_model {
  bool set = false;
  bool operator==(const flag_model&) const = default;
  friend std::ostream& operator<<(std::ostream& o, const flag_model& m) {
    return o << (m.set ? "set" : "clear");
  }
};

template <class E>
lin::spec<E, flag_model> event_spec(std::string name) {
  lin::spec<E, flag_model> s(std::move(name), [] { return std::make_unique<E>(); });
  s.op("set", [](E& e) { e.set(); },
       [](flag_model& m) {
         m.set = true;
         return lin::result();
       });
  s.op("wait", [](E& e) { e.wait(); },
       [](flag_model& m) -> lin::result {
         if (!m.set) return lin::blocked;
         return {};
       });
  s.op("clear", [](E& e) { e.clear(); },
       [](flag_model& m) {
         m.set = false;
         return lin::result();
       });
  s.op("is_set", [](E& e) { return e.is_set(); }, [](flag_model& m) { return m.set; });
  s.op("wait_for", [](E& e) { return e.wait_for(std::chrono::milliseconds(1)); },
       [](flag_model& m) { return m.set; });
  return s;
}

}  // namespace lockstep::gates
