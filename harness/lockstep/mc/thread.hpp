// lockstep/mc/thread.hpp — a checked thread (a fiber under the scheduler).
//
// `mc::thread` has the std::thread interface: construct with a callable and
// arguments (decay-copied), then join() or detach(). Under the checker it
// runs as a fiber; spawning, each of its steps, its exit and join() are
// scheduling points. A thread object destroyed while still joinable is a bug
// (the checker reports it as a leaked thread; std::thread would terminate).
//
// Lifetime: must be constructed inside a checked execution (explore()).
#pragma once

#include <cstdint>
#include <functional>
#include <new>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>

#include "lockstep/mc/hooks.hpp"

namespace lockstep::mc {

class thread {
 public:
  using id = std::uint32_t;
  using loc = std::source_location;

  thread() noexcept = default;

  // The common case, a callable alone: reports name the caller's line.
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, thread> &&
             !std::is_same_v<std::remove_cvref_t<F>, std::source_location>)
  explicit thread(F&& f, const loc& where = loc::current()) {
    start(where, std::forward<F>(f));
  }

  // A callable with arguments (decay-copied, as std::thread does).
  template <class F, class A, class... Args>
    requires(!std::is_same_v<std::remove_cvref_t<F>, std::source_location> &&
             !std::is_same_v<std::remove_cvref_t<A>, std::source_location>)
  explicit thread(F&& f, A&& a, Args&&... args) {
    start(loc::current(), std::forward<F>(f), std::forward<A>(a), std::forward<Args>(args)...);
  }

  // As above, with an explicit spawn location for reports.
  template <class F, class... Args>
  thread(const loc& where, F&& f, Args&&... args) {
    start(where, std::forward<F>(f), std::forward<Args>(args)...);
  }

  thread(thread&& o) noexcept : tid_(o.tid_), joinable_(std::exchange(o.joinable_, false)) {}
  thread& operator=(thread&& o) noexcept {
    if (joinable_) detail::dropped_joinable(tid_, loc::current());
    tid_ = o.tid_;
    joinable_ = std::exchange(o.joinable_, false);
    return *this;
  }
  thread(const thread&) = delete;
  thread& operator=(const thread&) = delete;
  ~thread() {
    if (joinable_) detail::dropped_joinable(tid_, loc::current());
  }

  [[nodiscard]] bool joinable() const noexcept { return joinable_; }
  [[nodiscard]] id get_id() const noexcept { return tid_; }

  void join(const loc& where = loc::current()) {
    if (!joinable_) return detail::misuse(this, "join() of a thread that is not joinable", where);
    joinable_ = false;
    detail::join(tid_, where);
  }
  void detach(const loc& where = loc::current()) {
    if (!joinable_) return detail::misuse(this, "detach() of a thread that is not joinable", where);
    joinable_ = false;
    detail::detach(tid_);
  }

 private:
  template <class F, class... Args>
  void start(const loc& where, F&& f, Args&&... args) {
    auto fn = [g = std::decay_t<F>(std::forward<F>(f)),
               tup = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() mutable {
      std::apply(g, std::move(tup));
    };
    using Fn = decltype(fn);
    static const detail::task_vtable vt{
        sizeof(Fn), alignof(Fn),
        [](void* dst, void* src) { ::new (dst) Fn(std::move(*static_cast<Fn*>(src))); },
        [](void* self) { (*static_cast<Fn*>(self))(); },
        [](void* self) noexcept { static_cast<Fn*>(self)->~Fn(); }};
    tid_ = detail::spawn(vt, &fn, where);
    joinable_ = true;
  }

  id tid_ = 0;
  bool joinable_ = false;
};

namespace this_thread {
// The checked thread id of the caller (0 is the body of explore()).
inline thread::id get_id() noexcept { return detail::current_thread(); }
// A yield point (the same as platform::relax()).
inline void yield(const std::source_location& l = std::source_location::current()) {
  detail::relax(l);
}
// Names the calling checked thread in reports: "thread 2 (client 1)". The
// name must outlive the execution (a string literal); not a scheduling point.
// Reports from OS-thread runs (replay --threads, stress) say "thread 2".
inline void set_name(const char* name) noexcept { detail::name_thread(name); }
}  // namespace this_thread

}  // namespace lockstep::mc
