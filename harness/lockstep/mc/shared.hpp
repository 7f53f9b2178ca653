// lockstep/mc/shared.hpp — plain (non-atomic) shared memory in a model.
//
// `mc::shared<T>` holds a T that threads read and write without atomics.
// Every access is checked for data races: two accesses by different threads,
// at least one a write, that no synchronisation orders (happens-before from
// spawn and join, lock and unlock of every primitive, futex wake and the
// woken wait, and every mc::atomic operation, which are sequentially
// consistent). A race is a `data_race` bug naming both accesses with thread
// and source line. Accesses are not scheduling points: the checker switches
// threads only at synchronisation, and the race is found from the clocks in
// any schedule where the accesses are unordered (FastTrack-style epochs;
// Flanagan & Freund, PLDI 2009).
//
//   mc::shared<int> x{0};
//   x = x.load() + 1;    // load() and store()/= record their source line
//   int v = x;           // an implicit read: works, but its line is unknown
//                        // in reports (prefer load())
//
// An existing variable can be checked instead: call mc::plain_read(&v) /
// mc::plain_write(&v) next to each access (or read(v)/write(v) forms below).
// A mark covers sizeof(T) bytes: a struct's and a member's overlap. Memory
// marked so is never forgotten, so heap memory freed and reused at the same
// address would carry its old accesses (use mc::shared<T> there).
//
// Lifetime: like the T it holds; the detector forgets it when destroyed.
#pragma once

#include <source_location>
#include <utility>

#include "lockstep/mc/hooks.hpp"

namespace lockstep::mc {

// A value and the source line of the expression that produced it, so an
// assignment `x = expr;` knows its line.
template <class T>
struct located {
  located(T v, const std::source_location& l = std::source_location::current())  // NOLINT: implicit
      : value(std::move(v)), loc(l) {}
  T value;
  std::source_location loc;
};

template <class T>
class shared {
 public:
  using loc = std::source_location;

  shared() = default;
  explicit shared(T v) : value_(std::move(v)) {}  // initialisation is no access
  shared(const shared&) = delete;
  shared& operator=(const shared&) = delete;
  ~shared() { detail::plain_forget(&value_); }

  [[nodiscard]] T load(const loc& l = loc::current()) const {
    detail::plain_access(&value_, sizeof(T), false, l);
    return value_;
  }
  void store(T v, const loc& l = loc::current()) {
    detail::plain_access(&value_, sizeof(T), true, l);
    value_ = std::move(v);
  }
  shared& operator=(located<T> v) {
    store(std::move(v.value), v.loc);
    return *this;
  }
  // An implicit read (its source line is not known: reports say so).
  operator T() const {  // NOLINT: reads like a T
    detail::plain_access(&value_, sizeof(T), false, loc{});
    return value_;
  }
  // Direct access for read-modify-write code: counted as a write at the call.
  T& get(const loc& l = loc::current()) {
    detail::plain_access(&value_, sizeof(T), true, l);
    return value_;
  }
  const T& get(const loc& l = loc::current()) const {
    detail::plain_access(&value_, sizeof(T), false, l);
    return value_;
  }

 private:
  T value_{};
};

// Marks an access to an existing variable for the data-race detector.
template <class T>
void plain_read(const T* p, const std::source_location& l = std::source_location::current()) {
  detail::plain_access(p, sizeof(T), false, l);
}
template <class T>
void plain_write(T* p, const std::source_location& l = std::source_location::current()) {
  detail::plain_access(p, sizeof(T), true, l);
}

}  // namespace lockstep::mc
