// The thread_pool gate's specification, for any pool with thread_pool's
// submit(f) and shutdown(wait, cancel_pending) (the production one, and the
// broken pools in tests/test_lin_async.cpp).
//
// When a task runs is not an operation, so the operations look at tasks
// through their futures:
//   submit(v)        submits a task that returns 2v and keeps its future:
//                    ok, or throws pool_closed after a shutdown
//   submit_wait(v)   submits such a task and waits for its result: 2v, or
//                    throws pool_closed
//   shutdown()       shutdown(true, false), then the results of the futures
//                    kept so far: the values submitted, sorted (the order of
//                    the workers is not the specification's business), each
//                    checked against 2v and against the task having run
//   shutdown_cancel() shutdown(true, true), then the same
//   shutdown_nowait() shutdown(false, false)
// Which queued tasks a cancel_pending shutdown cancels depends on the
// workers, which no specification can know. What the contract promises is
// that a task is cancelled only by such a shutdown, and only if it had not
// started; so a kept future that was cancelled while a cancelling shutdown had
// been asked for, by a task that never ran, counts as done, and anything else
// ("3 cancelled", "3 returned 5", "3 throws ...") is shown as it is. A
// submit_wait whose task was cancelled that way answers pool_closed: its
// submit came before the close, and its result after the shutdown that
// cancelled it, so it may take its place in the order just after that
// shutdown, where a submit is refused.
//
// Two threads may shut down at once (the header forbids only a worker). A
// checked thread's joinable() and join() are one step, so under the checker
// a second caller always found the workers joined, while in production both
// could pass joinable() and join the same std::jthread (a hang): the pool
// now joins under a mutex, and ThreadPoolThreads.ConcurrentShutdownsJoin-
// EachWorkerOnce (tests/test_primitives_threads.cpp) holds it on OS threads.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <lockstep/lin.hpp>
#include <lockstep/lockstep.hpp>

namespace lockstep::gates {

template <class Pool>
class pool_object {
 public:
  explicit pool_object(std::size_t workers = 1) : pool_(workers) {}

  void submit(int v) {
    // Held across the submit: a shutdown collects every task submitted
    // before its close, kept or not yet.
    std::scoped_lock g(m_);
    auto t = std::make_shared<task>(v);
    t->f = pool_.submit(work(t));
    kept_.push_back(std::move(t));
  }
  int submit_wait(int v) {
    auto t = std::make_shared<task>(v);
    t->f = pool_.submit(work(t));
    try {
      const int r = t->f.get();
      if (!t->ran.load()) throw std::logic_error("a result without the task running");
      return r;
    } catch (const cancelled_error&) {
      if (cancel_asked_.load() && !t->ran.load()) throw pool_closed();
      throw;
    }
  }
  // The shutdown and the collection are one operation: held across both,
  // so that of two shutdowns the one that closes the pool collects (else a
  // later one could collect first, and the earlier one return []).
  std::vector<std::string> shutdown() {
    std::scoped_lock g(shut_);
    pool_.shutdown(true, false);
    return collect();
  }
  std::vector<std::string> shutdown_cancel() {
    std::scoped_lock g(shut_);
    cancel_asked_.store(true);
    pool_.shutdown(true, true);
    return collect();
  }
  void shutdown_nowait() { pool_.shutdown(false, false); }

 private:
  struct task {
    explicit task(int value) : v(value) {}
    int v;
    // The task's body writes it and its future's owner reads it: a race if
    // the completion did not happen-before what the future observes.
    mc::shared<bool> ran{false};
    mc::future<int> f;
  };
  // The task is shared with its body: a broken pool may run it late.
  static auto work(const std::shared_ptr<task>& t) {
    return [t] {
      t->ran.store(true);
      return 2 * t->v;
    };
  }

  std::vector<std::string> collect() {
    std::vector<std::shared_ptr<task>> mine;
    {
      std::scoped_lock g(m_);
      mine.swap(kept_);
    }
    std::vector<std::string> out;
    for (auto& t : mine) {
      const std::string v = std::to_string(t->v);
      try {
        const int r = t->f.get();
        if (r == 2 * t->v && t->ran.load()) out.push_back(v);
        else out.push_back(v + " returned " + std::to_string(r) + (t->ran.load() ? "" : " without running"));
      } catch (const cancelled_error&) {
        out.push_back(cancel_asked_.load() && !t->ran.load() ? v : v + " cancelled");
      } catch (const std::exception& e) {
        out.push_back(v + " throws " + e.what());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Destroyed in this order: the pool first (its destructor joins the
  // workers), then the tasks its workers ran.
  mc::atomic<bool> cancel_asked_{false};
  mc::mutex m_;
  mc::mutex shut_;  // held across a shutdown and its collection
  std::vector<std::shared_ptr<task>> kept_;  // guarded by m_
  Pool pool_;
};

// The specification: closed, and the values submitted whose futures are
// kept, not collected yet (sorted, so that equal states compare equal).
struct pool_model {
  bool closed = false;
  std::vector<int> kept;
  bool operator==(const pool_model&) const = default;
  friend std::ostream& operator<<(std::ostream& o, const pool_model& m) {
    o << "kept [";
    for (std::size_t i = 0; i < m.kept.size(); ++i) o << (i ? " " : "") << m.kept[i];
    return o << "]" << (m.closed ? " closed" : "");
  }
  std::vector<std::string> collect() {
    closed = true;
    std::vector<std::string> out;
    for (int v : kept) out.push_back(std::to_string(v));
    kept.clear();
    std::sort(out.begin(), out.end());
    return out;
  }
};

template <class Obj>
lin::spec<Obj, pool_model> thread_pool_spec(std::string name, std::size_t workers = 1) {
  using lin::result;
  lin::spec<Obj, pool_model> s(std::move(name), [workers] { return std::make_unique<Obj>(workers); });
  const std::string refused = pool_closed().what();
  const auto value = rc::gen::inRange(1, 4);
  s.op("submit", value, [](Obj& o, int v) { o.submit(v); },
       [refused](pool_model& m, int v) -> result {
         if (m.closed) return lin::raises(refused);
         m.kept.insert(std::upper_bound(m.kept.begin(), m.kept.end(), v), v);
         return {};
       });
  s.op("submit_wait", value, [](Obj& o, int v) { return o.submit_wait(v); },
       [refused](pool_model& m, int v) -> result {
         if (m.closed) return lin::raises(refused);
         return 2 * v;
       });
  s.op("shutdown", [](Obj& o) { return o.shutdown(); }, [](pool_model& m) { return m.collect(); });
  s.op("shutdown_cancel", [](Obj& o) { return o.shutdown_cancel(); },
       [](pool_model& m) { return m.collect(); });
  s.op("shutdown_nowait", [](Obj& o) { o.shutdown_nowait(); },
       [](pool_model& m) {
         m.closed = true;
         return result();
       });
  return s;
}

}  // namespace lockstep::gates
