// lockstep/mc/node.hpp — simulated nodes and the messages between them.
//
//   mc::node<kv> store{"lock node 3"};            // volatile state: a kv
//   auto r = store.serve([&](kv& s) { ... });     // a request, under the node's lock
//   store.crash_point();                          // may crash and restart empty here
//
//   mc::channel<req, resp> net{{.loss = true}};   // request/response
//   std::optional<resp> a = net.call(q, [&](const req& q) { return store.serve(...); });
//   net.send(q); std::optional<req> next = net.receive();   // one-way, may reorder
//
// A node is a piece of state that only its requests touch. Its server runs
// on the thread that makes the request (the requests of one node are
// serialised by the node's mc::mutex), which keeps schedules small; client
// threads are ordinary mc::threads. A node crashes at a marked point, as a
// scheduler choice while it has crashes left: its volatile state is lost
// (reset to the initial state — a restart without persistence), anything the
// model keeps outside the node (its "disk") survives, and restarts() counts
// the crashes. crash() crashes it unconditionally (for a chaos thread that
// first chooses which node).
//
// A channel's `latency` is a fixed virtual-time sleep before every request
// arrives (other threads run meanwhile; no choice). Its faults are scheduler
// choices, each explored like a scheduling decision and recorded by replay:
// with `loss`, a request or its response may
// be lost (call() then returns nullopt: the caller cannot tell which); with
// `max_delay`, a request may be delayed that much virtual time before it
// arrives (so requests of different threads arrive in either order); with
// `reorder`, receive() may deliver any pending message, not only the oldest.
// Keep faults off where a model does not need them: each is a choice.
//
// Thread safety: every member may be called from any checked thread.
// Lifetime: like the mutex inside; build nodes inside the checked body.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>
#include <vector>

#include "lockstep/mc/primitives.hpp"
#include "lockstep/mc/time.hpp"

namespace lockstep::mc {

template <class State>
class node {
 public:
  using loc = std::source_location;

  explicit node(const char* name, State initial = State{}, unsigned max_crashes = 1)
      : mu_(name), initial_(initial), state_(std::move(initial)), crashes_left_(max_crashes) {}
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  // Handles one request: f(state) under the node's lock. Returns f's result.
  // `where` (the caller's line) is where reports show the lock taken.
  template <class F>
  auto serve(F&& f, const loc& where = loc::current()) -> std::invoke_result_t<F&, State&> {
    guard g(mu_, where);
    return f(state_);
  }

  // A marked point where the node may crash: a choice while it has crashes
  // left (alternative 0 is the crash, so dfs explores it first). Crashing loses the volatile state (reset to the initial state) and
  // restarts the node at once. Returns whether it crashed.
  bool crash_point(const loc& where = loc::current()) {
    guard g(mu_, where);
    if (crashes_left_ == 0 || choose(2, where) != 0) return false;
    crash_locked();
    return true;
  }
  // Crashes and restarts the node now (no choice).
  void crash(const loc& where = loc::current()) {
    guard g(mu_, where);
    crash_locked();
  }

  [[nodiscard]] unsigned restarts() const noexcept { return restarts_; }  // guarded by mu_
  // The state, without the lock: for assertions once the threads are joined.
  State& state_unlocked() noexcept { return state_; }

 private:
  void crash_locked() {
    if (crashes_left_ > 0) --crashes_left_;
    state_ = initial_;
    ++restarts_;
  }

  // Locks with the caller's source line (std::scoped_lock would name <mutex>).
  struct guard {
    guard(mutex& m, const loc& where) : m_(m), where_(where) { m_.lock(where_); }
    ~guard() { m_.unlock(where_); }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    mutex& m_;
    const loc& where_;
  };

  mutex mu_;
  const State initial_;
  State state_;               // guarded by mu_; lost at a crash
  unsigned crashes_left_;     // guarded by mu_
  unsigned restarts_ = 0;     // guarded by mu_
};

struct channel_faults {
  std::chrono::nanoseconds latency{0};       // every request takes this long (no choice)
  bool loss = false;                         // a request or a response may be lost
  std::chrono::nanoseconds max_delay{0};     // a request may arrive this much later
  bool reorder = false;                      // receive() may pick any pending message
};

template <class Req, class Resp = Req>
class channel {
 public:
  using loc = std::source_location;

  explicit channel(channel_faults faults = {}) : faults_(faults) {}
  channel(const channel&) = delete;
  channel& operator=(const channel&) = delete;

  // A request and its response: `server(req)` runs on arrival (on this
  // thread). nullopt when the request or the response was lost.
  template <class F>
  std::optional<Resp> call(const Req& req, F&& server, const loc& where = loc::current()) {
    if (faults_.latency > std::chrono::nanoseconds::zero()) sleep_for(faults_.latency, where);
    if (faults_.max_delay > std::chrono::nanoseconds::zero() && choose(2, where) != 0)
      sleep_for(faults_.max_delay, where);
    if (faults_.loss && choose(2, where) != 0) {
      note_lost();
      return std::nullopt;  // the request never arrived
    }
    Resp out = server(req);
    if (faults_.loss && choose(2, where) != 0) {
      note_lost();
      return std::nullopt;  // it was served, but the answer never came back
    }
    return out;
  }

  // One-way: queues `msg` for receive(), unless it is lost.
  void send(Req msg, const loc& where = loc::current()) {
    if (faults_.loss && choose(2, where) != 0) {
      note_lost();
      return;
    }
    std::scoped_lock g(mu_);
    pending_.push_back(std::move(msg));
  }
  // The next message (with `reorder`: any pending one, a choice), or nullopt
  // when none is pending.
  std::optional<Req> receive(const loc& where = loc::current()) {
    std::scoped_lock g(mu_);
    if (pending_.empty()) return std::nullopt;
    std::size_t i = 0;
    if (faults_.reorder && pending_.size() > 1)
      i = choose(static_cast<std::uint32_t>(pending_.size()), where);
    Req m = std::move(pending_[i]);
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    return m;
  }

  [[nodiscard]] std::size_t lost() {
    std::scoped_lock g(mu_);
    return lost_;
  }

 private:
  void note_lost() {
    std::scoped_lock g(mu_);
    ++lost_;
  }

  const channel_faults faults_;
  mutex mu_{"channel"};
  std::vector<Req> pending_;  // guarded by mu_
  std::size_t lost_ = 0;      // guarded by mu_
};

}  // namespace lockstep::mc
