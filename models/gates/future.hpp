// The future gate's specification, for any type with promise_future's
// interface below (the production promise and future, and the broken ones in
// tests/test_lin_async.cpp).
//
// The object is one promise and its shared state. Two rules of future.hpp
// shape the operations, so that no generated scenario misuses them:
//   - a promise is satisfied once: the setting operations (set_value,
//     set_exception, abandon) go through a gate in the object, and only the
//     first one reaches the promise (the others return false);
//   - one thread at a time per future object, and a second get() is misuse:
//     every thread reads the shared state through a future object of its own,
//     and the consuming reads (get, get_for) claim the result under a lock in
//     the object, so a second one says "already taken" instead of calling.
//     get() waits for the result before it claims (a claim that waited would
//     make the other gets answer "taken" for a result nobody has yet).
// Callbacks increment a counter. A callback runs on the thread that completes
// the future, some time after the completion is visible (done() is true on
// every thread) and before the completing call returns; a callback added once
// the future is done runs before add_done_callback returns. So a plain read of
// the counter has no place in the order: a set_value that found the future
// cancelled returns at once while the cancel still runs the callbacks it took
// over. callbacks() instead waits for the future to be done and for as many
// runs as add_done_callback calls begun: then, in the specification, every
// callback registered has run exactly once. One that runs twice shows in the
// count; one that never runs keeps it waiting (a spin with yields: far fewer
// executions than a condition variable here, and under fair scheduling a
// spin that never ends is reported as a livelock).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>

#include <lockstep/lin.hpp>
#include <lockstep/lockstep.hpp>

namespace lockstep::gates {

// What get() says when another consuming read took the result.
class already_taken : public std::logic_error {
 public:
  already_taken() : std::logic_error("already taken") {}
};

// What set_exception() stores.
inline std::exception_ptr boom() { return std::make_exception_ptr(std::runtime_error("boom")); }

// mc::promise<int> and the future objects of its threads.
class promise_future {
 public:
  promise_future() {
    futures_[0] = p_.get_future();
    for (std::size_t i = 1; i < futures_.size(); ++i) futures_[i] = mc::future<int>(p_.state());
  }

  bool set_value(int v) {
    std::scoped_lock g(set_m_);
    if (std::exchange(set_, true)) return false;
    p_.set_value(v);
    return true;
  }
  bool set_exception() {
    std::scoped_lock g(set_m_);
    if (std::exchange(set_, true)) return false;
    p_.set_exception(boom());
    return true;
  }
  // The promise destroyed without a result (a new one takes its place: the
  // futures keep the old state).
  bool abandon() {
    std::scoped_lock g(set_m_);
    if (std::exchange(set_, true)) return false;
    p_ = mc::promise<int>();
    return true;
  }

  int get() {
    mc::future<int>& f = mine();
    f.wait();
    {
      std::scoped_lock g(get_m_);
      if (std::exchange(taken_, true)) throw already_taken();
    }
    return f.get();
  }
  // Holds the claim across the timed wait: a result that comes meanwhile is
  // this call's to take.
  std::optional<int> get_for() {
    mc::future<int>& f = mine();
    std::scoped_lock g(get_m_);
    if (taken_) throw already_taken();
    try {
      std::optional<int> r = f.get_for(std::chrono::milliseconds(1));
      taken_ = r.has_value();
      return r;
    } catch (...) {
      taken_ = true;  // cancelled, or the stored exception: claimed all the same
      throw;
    }
  }
  bool cancel() { return mine().cancel(); }
  bool done() { return mine().done(); }
  bool cancelled() { return mine().cancelled(); }
  void add_callback() {
    registered_.fetch_add(1);
    mine().add_done_callback([this] { runs_.fetch_add(1); });
  }
  int callbacks() {
    mine().wait();
    for (;;) {
      const int runs = runs_.load();
      if (runs >= registered_.load()) return runs;
      mc::this_thread::yield();
    }
  }

 private:
  // The calling thread's future (checked threads are numbered from 0, the
  // body, which runs the initial part).
  mc::future<int>& mine() {
    const std::size_t t = mc::this_thread::get_id();
    if (t >= futures_.size()) throw std::logic_error("promise_future: more threads than futures");
    return futures_[t];
  }

  // Declared first, destroyed last: a callback may run while the promise dies.
  mc::atomic<int> registered_{0};  // add_done_callback calls begun
  mc::atomic<int> runs_{0};        // callbacks run
  mc::mutex set_m_, get_m_;
  bool set_ = false;    // guarded by set_m_
  bool taken_ = false;  // guarded by get_m_
  mc::promise<int> p_;
  std::array<mc::future<int>, 16> futures_;
};

// The specification.
struct future_model {
  enum class state : std::uint8_t { pending, value, error, broken, cancelled };
  state st = state::pending;
  int value = 0;
  bool promised = false;  // a setting operation went through
  bool taken = false;     // a consuming read claimed the result
  int waiting = 0;        // callbacks registered, not run yet
  int ran = 0;            // callbacks run
  bool operator==(const future_model&) const = default;
  friend std::ostream& operator<<(std::ostream& o, const future_model& m) {
    static constexpr const char* names[] = {"pending", "value ", "exception", "broken promise", "cancelled"};
    o << names[static_cast<int>(m.st)];
    if (m.st == state::value) o << m.value;
    if (m.taken) o << ", taken";
    if (m.waiting != 0) o << ", callbacks waiting " << m.waiting;
    if (m.ran != 0) o << ", callbacks run " << m.ran;
    return o;
  }
  // A setting operation: the first one completes the future, unless it was
  // cancelled (then its result is dropped); later ones do nothing.
  bool settle(state s, int v = 0) {
    if (std::exchange(promised, true)) return false;
    if (st == state::pending) complete(s, v);
    return true;
  }
  void complete(state s, int v = 0) {
    st = s;
    value = v;
    ran += std::exchange(waiting, 0);
  }
  // get() and get_for() on a completed future.
  lin::result take() {
    if (std::exchange(taken, true)) return lin::raises(already_taken().what());
    switch (st) {
      case state::value: return value;
      case state::error: return lin::raises("boom");
      case state::broken: return lin::raises(std::future_error(std::future_errc::broken_promise).what());
      default: return lin::raises(cancelled_error().what());
    }
  }
};

template <class Obj>
lin::spec<Obj, future_model> future_spec(std::string name) {
  using lin::result;
  using state = future_model::state;
  lin::spec<Obj, future_model> s(std::move(name));
  s.op("set_value", rc::gen::inRange(1, 4), [](Obj& o, int v) { return o.set_value(v); },
       [](future_model& m, int v) { return m.settle(state::value, v); });
  s.op("set_exception", [](Obj& o) { return o.set_exception(); },
       [](future_model& m) { return m.settle(state::error); });
  s.op("abandon", [](Obj& o) { return o.abandon(); },
       [](future_model& m) { return m.settle(state::broken); });
  s.op("get", [](Obj& o) { return o.get(); },
       [](future_model& m) -> result {
         if (m.st == state::pending) return lin::blocked;
         return m.take();
       });
  s.op("get_for", [](Obj& o) { return o.get_for(); },
       [](future_model& m) -> result {
         if (m.taken) return lin::raises(already_taken().what());
         if (m.st == state::pending) return std::optional<int>();  // timed out
         return m.take();
       });
  s.op("cancel", [](Obj& o) { return o.cancel(); },
       [](future_model& m) {
         if (m.st == state::pending) m.complete(state::cancelled);
         return m.st == state::cancelled;
       });
  s.op("done", [](Obj& o) { return o.done(); }, [](future_model& m) { return m.st != state::pending; });
  s.op("cancelled", [](Obj& o) { return o.cancelled(); },
       [](future_model& m) { return m.st == state::cancelled; });
  s.op("add_callback", [](Obj& o) { o.add_callback(); },
       [](future_model& m) {
         if (m.st == state::pending) ++m.waiting;
         else ++m.ran;  // at once, on the caller's thread
         return result();
       });
  s.op("callbacks", [](Obj& o) { return o.callbacks(); },
       [](future_model& m) -> result {
         if (m.st == state::pending) return lin::blocked;
         return m.ran;
       });
  return s;
}

}  // namespace lockstep::gates
