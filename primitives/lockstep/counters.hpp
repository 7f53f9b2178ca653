// lockstep/counters.hpp — four ways to count from many threads.
//
// One interface: add(n) (n may be negative) and value(). All four are exact
// once the adding threads are done (joined, or otherwise synchronised with
// the reader); they differ in cost and in what value() means meanwhile.
//
//   basic_atomic_counter   one atomic word, fetch_add. value() is
//                          linearizable. Every add contends on one cache line.
//   basic_locked_counter   a basic_mutex around a plain integer. value() is
//                          linearizable. The simplest; slowest under contention.
//   basic_striped_counter  Stripes cache-line-padded atomic cells; a thread
//                          adds to the cell its id hashes to, value() sums the
//                          cells. Adds scale with threads. value() while
//                          writers run is NOT a snapshot: it includes every add
//                          that completed before value() began, may include
//                          any add running concurrently, and (with only
//                          non-negative adds) lies between those two sums.
//   basic_owned_counter    one owner thread holds the count; add() sends the
//                          increment through a bounded_queue, value() sends a
//                          request and waits for the owner's answer, so it
//                          includes every add the calling thread made before
//                          it (and is linearizable). Costs a thread and a
//                          round trip per value(); add() blocks only when the
//                          queue is full.
//
// Memory ordering: add is relaxed for the atomic and striped counters (they
// count; they do not publish other data); the locked and owned counters order
// through their mutex and queue.
//
// Who may call what: any thread, any operation; the owned counter's
// destructor must not race with add/value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <source_location>

#include "lockstep/bounded_queue.hpp"
#include "lockstep/future.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/platform.hpp"

namespace lockstep {

template <class P = os_platform>
class basic_atomic_counter {
 public:
  void add(std::int64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  mutable typename P::template atomic<std::int64_t> v_{0};
};

template <class P = os_platform>
class basic_locked_counter {
 public:
  void add(std::int64_t n = 1, const std::source_location& where = std::source_location::current()) {
    m_.lock(where);
    v_ += n;
    m_.unlock(where);
  }
  [[nodiscard]] std::int64_t value(const std::source_location& where = std::source_location::current()) const {
    m_.lock(where);
    const std::int64_t v = v_;
    m_.unlock(where);
    return v;
  }

 private:
  mutable basic_mutex<P> m_;
  std::int64_t v_ = 0;
};

template <class P = os_platform, std::size_t Stripes = 16>
class basic_striped_counter {
  static_assert(Stripes > 0 && (Stripes & (Stripes - 1)) == 0, "Stripes must be a power of two");

 public:
  static constexpr std::size_t stripes = Stripes;
  // Cells are padded to this many bytes so two never share a cache line
  // (128: adjacent-line prefetch pairs 64-byte lines on x86).
  static constexpr std::size_t cell_bytes = 128;

  void add(std::int64_t n = 1) { cells_[stripe()].v.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t value() const {
    std::int64_t sum = 0;
    for (const cell& c : cells_) sum += c.v.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(cell_bytes) cell {
    mutable typename P::template atomic<std::int64_t> v{0};
  };

  static std::size_t stripe() noexcept {
    // Fibonacci hashing of the thread id: ids are often aligned addresses.
    const std::uint64_t h = static_cast<std::uint64_t>(P::thread_id()) * 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(h >> 40) & (Stripes - 1);
  }

  cell cells_[Stripes];
};

template <class P = os_platform>
class basic_owned_counter {
 public:
  explicit basic_owned_counter(std::size_t queue_capacity = 1024)
      : q_(queue_capacity), owner_([this] { serve(); }) {}
  basic_owned_counter(const basic_owned_counter&) = delete;
  basic_owned_counter& operator=(const basic_owned_counter&) = delete;
  ~basic_owned_counter() {
    const typename P::release_scope releasing;
    q_.close();
    if (owner_.joinable()) owner_.join();
  }

  void add(std::int64_t n = 1, const std::source_location& where = std::source_location::current()) {
    if (!q_.put(message{n, std::nullopt}, where))
      P::misuse(this, "add() on an owned_counter that is being destroyed", where);
  }
  [[nodiscard]] std::int64_t value(const std::source_location& where = std::source_location::current()) {
    // The promise travels with the request: the owner keeps the shared state
    // alive until set_value() has returned.
    basic_promise<std::int64_t, P> reply;
    basic_future<std::int64_t, P> answer = reply.get_future(where);
    if (!q_.put(message{0, std::move(reply)}, where)) {
      P::misuse(this, "value() on an owned_counter that is being destroyed", where);
      return 0;
    }
    return answer.get(where);
  }

 private:
  struct message {
    std::int64_t add;
    std::optional<basic_promise<std::int64_t, P>> reply;  // set: a value() request
  };

  void serve() {
    std::int64_t v = 0;  // only the owner thread touches it
    while (auto m = q_.get()) {
      if (m->reply) {
        m->reply->set_value(v);
      } else {
        v += m->add;
      }
    }
  }

  basic_bounded_queue<message, P> q_;
  typename P::thread owner_;  // last: starts after the queue exists
};

extern template class basic_atomic_counter<os_platform>;
extern template class basic_locked_counter<os_platform>;
extern template class basic_striped_counter<os_platform>;
extern template class basic_owned_counter<os_platform>;
using atomic_counter = basic_atomic_counter<>;
using locked_counter = basic_locked_counter<>;
using striped_counter = basic_striped_counter<>;
using owned_counter = basic_owned_counter<>;

}  // namespace lockstep
