// lockstep/lin.hpp: the linearizability checker finds what is wrong with
// broken types, with a shrunk history, and the gated primitives pass.
#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include <lockstep/lin.hpp>
#include <lockstep/lockstep.hpp>

#include "gates/queue.hpp"

namespace lin = lockstep::lin;
namespace mc = lockstep::mc;

namespace {

lin::settings quick(unsigned scenarios = 60) {
  lin::settings s;
  s.scenarios = scenarios;
  s.honour_env = false;
  return s;
}

// A queue whose put notifies only when the queue was empty: a second
// waiting get is never woken (a lost wake-up).
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

TEST(Lin, BoundedQueuePasses) {
  const lin::gate* g = lin::find_gate("bounded_queue");
  ASSERT_NE(g, nullptr);
  const lin::outcome o = g->check(quick(30));
  EXPECT_TRUE(o.ok()) << o.report;
  EXPECT_EQ(o.scenarios, 30u);
}

TEST(Lin, LostNotifyQueueIsCaught) {
  lin::settings s = quick(200);
  s.threads = 3;
  s.ops = 2;
  const lin::outcome o = lin::check(lockstep::gates::queue_spec<lost_notify_queue, false>("lost_notify_queue", 2), s);
  ASSERT_FALSE(o.ok());
  std::printf("%s\n", o.report.c_str());
}

}  // namespace
