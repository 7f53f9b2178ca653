// The shared_mutex gates' specification, for any reader-writer lock with
// std::shared_mutex's interface (the production one under each policy, and
// the broken locks in tests/test_lin_async.cpp).
//
// An operation is one call, and each thread's operations are drawn
// independently, so an operation cannot leave the lock held for a later one
// (an unlock without a lock would be misuse). Each operation is therefore a
// whole critical section on a value the lock protects, kept in two cells
// that a writer stores one after the other:
//   write(v)      lock, read the cells, store v in both, unlock: the old value
//   read()        lock_shared, read both cells, unlock_shared: the value
//   try_write(v)  as write, acquiring with try_lock
//   try_read()    as read, acquiring with try_lock_shared
// A reader inside with a writer sees the cells differ ("torn 2/1"), or a
// value no order of the sections explains; two writers inside at once lose an
// update. With mc::shared cells (the gates') the race detector watches them
// too, and reports such an overlap as a data race first; with mc::atomic cells
// every access is a scheduling point, and the history shows it.
//
// The try operations: the header promises std::shared_mutex's contract, and
// std lets try_lock and try_lock_shared fail spuriously ([thread.mutex.
// requirements.mutex]: "may fail spuriously", only "should not consistently
// return false in the absence of contending acquisitions"); whether a try
// fails also depends on who is inside, which a whole-section specification
// cannot see. So a try that fails is retried (after a yield): the exact
// promise checked is that a try that succeeds excludes like lock() does, and
// that a try does not keep failing once the lock is free (under fair
// scheduling such a loop would never end: a livelock report).
//
// Which side goes first (the policy) is not an effect a history shows: the
// policies share the specification; their liveness is the checker's
// starvation detector's business.
#pragma once

#include <memory>
#include <mutex>
#include <ostream>
#include <shared_mutex>
#include <string>
#include <utility>

#include <lockstep/lin.hpp>
#include <lockstep/lockstep.hpp>

namespace lockstep::gates {

// What a section saw: the value, or both cells when they differ.
inline std::string seen(int a, int b) {
  return a == b ? std::to_string(a) : "torn " + std::to_string(a) + "/" + std::to_string(b);
}

// A value protected by a reader-writer lock L, in two cells of type Cell
// (mc::shared<int> or mc::atomic<int>).
template <class L, class Cell = mc::shared<int>>
class rw_object {
 public:
  std::string write(int v) {
    std::unique_lock g(m_);
    return store(v);
  }
  std::string read() {
    std::shared_lock g(m_);
    return load();
  }
  std::string try_write(int v) {
    std::unique_lock g(m_, std::try_to_lock);
    while (!g.owns_lock()) {
      mc::this_thread::yield();
      (void)g.try_lock();
    }
    return store(v);
  }
  std::string try_read() {
    std::shared_lock g(m_, std::try_to_lock);
    while (!g.owns_lock()) {
      mc::this_thread::yield();
      (void)g.try_lock();
    }
    return load();
  }

 private:
  std::string store(int v) {
    const int a = a_.load(), b = b_.load();
    a_.store(v);
    b_.store(v);
    return seen(a, b);
  }
  std::string load() {
    const int a = a_.load();
    return seen(a, b_.load());
  }

  L m_;
  Cell a_{0}, b_{0};
};

// The specification: one value, every section atomic.
struct rw_model {
  int value = 0;
  bool operator==(const rw_model&) const = default;
  friend std::ostream& operator<<(std::ostream& o, const rw_model& m) { return o << "value " << m.value; }
};

template <class Obj>
lin::spec<Obj, rw_model> shared_mutex_spec(std::string name) {
  lin::spec<Obj, rw_model> s(std::move(name));
  const auto value = rc::gen::inRange(1, 4);
  auto write = [](rw_model& m, int v) { return std::exchange(m.value, v); };
  auto read = [](rw_model& m) { return m.value; };
  s.op("write", value, [](Obj& o, int v) { return o.write(v); }, write);
  s.op("read", [](Obj& o) { return o.read(); }, read);
  s.op("try_write", value, [](Obj& o, int v) { return o.try_write(v); }, write);
  s.op("try_read", [](Obj& o) { return o.try_read(); }, read);
  return s;
}

}  // namespace lockstep::gates
