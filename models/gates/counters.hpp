// The counters' gate specification, for any type with the counters'
// interface (add(n), value()): the four production counters and the broken
// ones in tests/test_lin_sync.cpp.
//
// The model is the sum. value() is linearizable for the atomic, locked and
// owned counters; the striped counter's is not (it sums the cells one after
// the other, so it may see a later add and miss an earlier one), and its
// header promises exactly what lin::contract::regular checks: every add
// that completed before value() began, any subset of those running
// meanwhile, none that began after it returned. Its gate declares value()
// regular; the adds stay linearizable.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include <lockstep/lin.hpp>

namespace lockstep::gates {

struct sum_model {
  std::int64_t sum = 0;
  bool operator==(const sum_model&) const = default;
  friend std::ostream& operator<<(std::ostream& o, const sum_model& m) { return o << "sum " << m.sum; }
};

// add(1..3) and value(), value() under `value_contract`. Distinct increments
// make a sum tell which adds it includes (mostly), so a value that mixes
// them wrongly shows.
template <class C>
lin::spec<C, sum_model> counter_spec(std::string name, lin::contract value_contract = lin::linearizable) {
  lin::spec<C, sum_model> s(std::move(name), [] { return std::make_unique<C>(); });
  s.op("add", rc::gen::inRange(1, 4), [](C& c, int n) { c.add(n); },
       [](sum_model& m, int n) {
         m.sum += n;
         return lin::result();
       });
  s.op("value", [](C& c) { return static_cast<std::int64_t>(c.value()); },
       [](sum_model& m) { return m.sum; }, value_contract);
  return s;
}

}  // namespace lockstep::gates
