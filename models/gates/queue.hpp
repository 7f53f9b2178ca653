// The bounded_queue gate's specification, for any type with the
// bounded_queue<int> interface (the production one, and the broken variants
// in tests/test_lin.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include <lockstep/lin.hpp>

namespace lockstep::gates {

// A queue as a sequential program: items, capacity, closed, and the count
// of items put and not yet marked done.
struct queue_model {
  std::deque<int> items;
  std::size_t capacity = 2;
  bool closed = false;
  std::size_t unfinished = 0;
  bool operator==(const queue_model&) const = default;
  friend std::ostream& operator<<(std::ostream& o, const queue_model& m) {
    o << "[";
    for (std::size_t i = 0; i < m.items.size(); ++i) o << (i ? " " : "") << m.items[i];
    o << "]";
    if (m.unfinished != 0) o << " (" << m.unfinished << " not done)";
    if (m.closed) o << " closed";
    return o;
  }
  bool put(int v) {
    if (closed || items.size() == capacity) return false;
    items.push_back(v);
    ++unfinished;
    return true;
  }
  std::optional<int> take() {
    if (items.empty()) return std::nullopt;
    const int v = items.front();
    items.pop_front();
    return v;
  }
};

// `put`, `get` (blocking), `try_*`, `*_for` (a timed wait of 1 ms: under the
// checker its timeout is a choice), `get_done` (get, then task_done for the
// item: task_done without an item is misuse), `join`, `close`, `size`.
// Full = false: just put, get and size (for a queue without the rest of
// the interface).
template <class Q, bool Full = true>
lin::spec<Q, queue_model> queue_spec(std::string name, std::size_t capacity = 2) {
  using lin::result;
  queue_model initial;
  initial.capacity = capacity;
  lin::spec<Q, queue_model> s(std::move(name), [capacity] { return std::make_unique<Q>(capacity); }, initial);
  const auto value = rc::gen::inRange(1, 4);
  s.op("put", value, [](Q& q, int v) { return q.put(v); },
       [](queue_model& m, int v) -> result {
         if (!m.closed && m.items.size() == m.capacity) return lin::blocked;
         return m.put(v);
       });
  s.op("get", [](Q& q) { return q.get(); },
       [](queue_model& m) -> result {
         if (m.items.empty() && !m.closed) return lin::blocked;
         return m.take();
       });
  s.op("size", [](Q& q) { return q.size(); }, [](queue_model& m) { return m.items.size(); });
  if constexpr (Full) {
  s.op("try_put", value, [](Q& q, int v) { return q.try_put(v); }, [](queue_model& m, int v) { return m.put(v); });
  s.op("try_get", [](Q& q) { return q.try_get(); }, [](queue_model& m) { return m.take(); });
  s.op("put_for", value, [](Q& q, int v) { return q.put_for(v, std::chrono::milliseconds(1)); },
       [](queue_model& m, int v) { return m.put(v); });
  s.op("get_for", [](Q& q) { return q.get_for(std::chrono::milliseconds(1)); },
       [](queue_model& m) { return m.take(); });
  s.op("get_done",
       [](Q& q) {
         std::optional<int> v = q.get();
         if (v) q.task_done();
         return v;
       },
       [](queue_model& m) -> result {
         if (m.items.empty() && !m.closed) return lin::blocked;
         std::optional<int> v = m.take();
         if (v) --m.unfinished;
         return v;
       });
  s.op("join", [](Q& q) { q.join(); },
       [](queue_model& m) -> result {
         if (m.unfinished != 0) return lin::blocked;
         return {};
       });
  s.op("close", [](Q& q) { q.close(); }, [](queue_model& m) {
    m.closed = true;
    return result();
  });
  }
  return s;
}

}  // namespace lockstep::gates
