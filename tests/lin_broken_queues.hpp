// Deliberately broken queues the bounded_queue gate must catch (tests/
// test_lin.cpp; their numbers: tools/bench/bench_lin.cpp). Each has the
// part of bounded_queue<int>'s interface that queue_spec<Q, false> calls.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

#include <lockstep/lockstep.hpp>

namespace lockstep::broken {

namespace mc = lockstep::mc;

// A queue whose put notifies only when the queue was empty: of two waiting
// gets, the second is never woken (a lost wake-up).
class lost_notify_queue {
 public:
  explicit lost_notify_queue(std::size_t cap) : cap_(cap) {}
  bool put(int v) {
    std::unique_lock g(m_);
    not_full_.wait(g, [&] { return items_.size() < cap_; });
    const bool was_empty = items_.empty();
    items_.push_back(v);
    if (was_empty) not_empty_.notify_one();
    return true;
  }
  std::optional<int> get() {
    std::unique_lock g(m_);
    not_empty_.wait(g, [&] { return !items_.empty(); });
    const int v = items_.front();
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }
  std::size_t size() {
    std::scoped_lock g(m_);
    return items_.size();
  }

 private:
  mc::mutex m_;
  mc::condition_variable not_empty_, not_full_;
  std::deque<int> items_;
  std::size_t cap_;
};

// A ring of two slots with atomic indices and two semaphores (items,
// spaces), where a get reads the head index, then moves it on: two gets
// can take the same slot (a double-delivered item), a check-then-act.
class ring_queue {
 public:
  explicit ring_queue(std::size_t) {}
  bool put(int v) {
    spaces_.acquire();
    const unsigned t = tail_.fetch_add(1);
    slot_[t % 2].store(v);
    items_.release();
    return true;
  }
  std::optional<int> get() {
    items_.acquire();
    const unsigned h = head_.load();
    const int v = slot_[h % 2].load();
    head_.store(h + 1);  // not a fetch_add: another get may have read the same head
    spaces_.release();
    return v;
  }
  std::size_t size() { return tail_.load() - head_.load(); }

 private:
  mc::atomic<unsigned> head_{0}, tail_{0};
  std::array<mc::atomic<int>, 2> slot_{};
  mc::counting_semaphore<> items_{0}, spaces_{2};
};

// A queue whose get returns nullopt at once when empty instead of waiting.
class impatient_queue {
 public:
  explicit impatient_queue(std::size_t) {}
  bool put(int v) {
    std::scoped_lock g(m_);
    items_.push_back(v);
    return true;
  }
  std::optional<int> get() {
    std::scoped_lock g(m_);
    if (items_.empty()) return std::nullopt;
    const int v = items_.front();
    items_.pop_front();
    return v;
  }
  std::size_t size() {
    std::scoped_lock g(m_);
    return items_.size();
  }

 private:
  mc::mutex m_;
  std::deque<int> items_;
};

// A queue whose size is kept apart from its items, updated after the lock
// is released: size() can disagree with every state the queue was in.
class loose_size_queue {
 public:
  explicit loose_size_queue(std::size_t) {}
  bool put(int v) {
    {
      std::scoped_lock g(m_);
      items_.push_back(v);
      cv_.notify_one();
    }
    size_.fetch_add(1);
    return true;
  }
  std::optional<int> get() {
    int v = 0;
    {
      std::unique_lock g(m_);
      cv_.wait(g, [&] { return !items_.empty(); });
      v = items_.front();
      items_.pop_front();
    }
    size_.fetch_sub(1);
    return v;
  }
  std::size_t size() { return static_cast<std::size_t>(size_.load()); }

 private:
  mc::mutex m_;
  mc::condition_variable cv_;
  std::deque<int> items_;
  mc::atomic<long> size_{0};
};

}  // namespace lockstep::broken
