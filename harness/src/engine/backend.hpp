// Internal: what the two backends of the hooks share. A checked operation
// (lockstep/mc/hooks.hpp) runs on the fiber engine of the calling OS thread
// (rt::runtime: explore(), replays on fibers) or on the OS-thread backend
// (os::os_runtime: traces replayed and free runs on real threads); hooks.cpp
// dispatches every hook through one function, `on_backend`, to whichever
// runs this thread, or does the plain operation outside both. `backend` is
// the interface both implement, checked where they are defined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <algorithm>
#include <concepts>
#include <string>
#include <vector>

#include "lockstep/mc/explore.hpp"
#include "lockstep/mc/hooks.hpp"

namespace lockstep::mc::rt {

// Thrown to unwind the threads of a failed execution. Deliberately not a
// std::exception, so `catch (const std::exception&)` in user code lets it by.
struct abort_execution {};

// Inside a std::terminate handler: whether the exception that terminates is
// abort_execution (thrown from a scheduling point inside a function that may
// not throw). If it is, the catch the C++ runtime began to call terminate is
// ended, which frees the exception: the thread is then stopped where it is
// and never ends that catch itself.
[[nodiscard]] bool end_terminating_abort() noexcept;

// One recorded step. hooks hand out &value (the first member) to the checked
// operation, which writes what it read or wrote there once it completes.
struct event {
  std::uint64_t value = 0;  // first member: see above
  const void* addr = nullptr;
  std::source_location loc;
  std::uint32_t thread = 0;
  std::uint32_t object = 0;
  op o = op::start;
  // Atomics: the memory_order it ran with (a CAS: its success or failure order).
  std::uint8_t order = static_cast<std::uint8_t>(std::memory_order_seq_cst);
  // Under the memory model, a load, read-modify-write or CAS: 1 + the index
  // of the event whose store it read (0: the value from before the execution).
  std::uint32_t rf = 0;
};

// What an execution appends to at every step (its events, its schedule): a
// vector whose append is a few stores. Its storage only grows, out of line,
// and is kept across executions. An append compares with one pointer, the
// limit: the end of the storage, or sooner the bound set by set_bound()
// (the step bound, for the events), so that one comparison does for both.
template <class T>
class append_log {
 public:
  append_log() = default;
  // end_ points into buf_: a copy would point into the original.
  append_log(const append_log&) = delete;
  append_log& operator=(const append_log&) = delete;
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(end_ - buf_.data()); }
  [[nodiscard]] std::size_t capacity() const noexcept { return buf_.size(); }
  [[nodiscard]] bool empty() const noexcept { return end_ == buf_.data(); }
  [[nodiscard]] T* data() noexcept { return buf_.data(); }
  [[nodiscard]] const T* data() const noexcept { return buf_.data(); }
  [[nodiscard]] T& operator[](std::size_t i) noexcept { return buf_[i]; }
  [[nodiscard]] const T& operator[](std::size_t i) const noexcept { return buf_[i]; }
  [[nodiscard]] T& back() noexcept { return end_[-1]; }
  [[nodiscard]] const T& back() const noexcept { return end_[-1]; }
  [[nodiscard]] const T* begin() const noexcept { return buf_.data(); }
  [[nodiscard]] const T* end() const noexcept { return end_; }
  [[nodiscard]] std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }
  void clear() noexcept { end_ = buf_.data(); }
  void reserve(std::size_t n) {
    if (n <= buf_.size()) return;
    const std::size_t used = size();
    buf_.resize(n);
    end_ = buf_.data() + used;
    relimit();
  }
  // From `n` entries on, at_limit() holds before every append.
  void set_bound(std::size_t n) {
    bound_ = n;
    relimit();
  }
  // Full, or at or past the bound: the caller decides, then make_room().
  [[nodiscard]] bool at_limit() const noexcept { return end_ >= limit_; }
  void make_room() {
    if (end_ == buf_.data() + buf_.size()) grow();
  }
  // After at_limit() was false, or make_room().
  [[gnu::always_inline]] T& push_unchecked(const T& v) {
    *end_ = v;
    return *end_++;
  }
  [[gnu::always_inline]] T& push_back(const T& v) {
    if (at_limit()) [[unlikely]]
      make_room();
    return push_unchecked(v);
  }

 private:
  [[gnu::cold, gnu::noinline]] void grow() { reserve(buf_.size() < 128 ? 256 : 2 * buf_.size()); }
  void relimit() noexcept { limit_ = buf_.data() + std::min(buf_.size(), bound_); }
  std::vector<T> buf_;
  T* end_ = nullptr;
  T* limit_ = nullptr;
  std::size_t bound_ = static_cast<std::size_t>(-1);
};
using event_log = append_log<event>;

// A checked atomic's value as mc::atomic hands it over (detail::
// atomic_access): the low `size` bytes, sign-extended for a signed integer.
[[gnu::always_inline]] inline std::uint64_t low_bytes(std::uint64_t v, const detail::atomic_access& a) noexcept {
  if (a.size >= 8) return v;
  // The value's bits to the top, then back down: arithmetically (C++20) for
  // a signed integer, so its sign bit fills the rest.
  const unsigned shift = 64u - 8u * a.size;
  v <<= shift;
  return a.sign ? static_cast<std::uint64_t>(static_cast<std::int64_t>(v) >> shift) : v >> shift;
}

// The value at `addr` as mc::atomic hands it over, and a value put back.
[[gnu::always_inline]] inline std::uint64_t load_bytes(const void* addr, const detail::atomic_access& a) noexcept {
  switch (a.size) {
    case 1: {
      const std::uint8_t v = *static_cast<const std::uint8_t*>(addr);
      return a.sign ? static_cast<std::uint64_t>(std::int64_t{static_cast<std::int8_t>(v)}) : v;
    }
    case 2: {
      std::uint16_t v;
      std::memcpy(&v, addr, 2);
      return a.sign ? static_cast<std::uint64_t>(std::int64_t{static_cast<std::int16_t>(v)}) : v;
    }
    case 4: {
      std::uint32_t v;
      std::memcpy(&v, addr, 4);
      return a.sign ? static_cast<std::uint64_t>(std::int64_t{static_cast<std::int32_t>(v)}) : v;
    }
    case 8: { std::uint64_t v; std::memcpy(&v, addr, 8); return v; }
    default: {  // 3, 5, 6 or 7 bytes (`& 7` tells the compiler so)
      std::uint64_t v = 0;
      std::memcpy(&v, addr, a.size & 7u);
      return low_bytes(v, a);
    }
  }
}
[[gnu::always_inline]] inline void store_bytes(void* addr, std::uint64_t v, std::uint8_t size) noexcept {
  switch (size) {
    case 1: *static_cast<std::uint8_t*>(addr) = static_cast<std::uint8_t>(v); return;
    case 2: { const auto w = static_cast<std::uint16_t>(v); std::memcpy(addr, &w, 2); return; }
    case 4: { const auto w = static_cast<std::uint32_t>(v); std::memcpy(addr, &w, 4); return; }
    case 8: std::memcpy(addr, &v, 8); return;
    default: std::memcpy(addr, &v, size & 7u);  // 3, 5, 6 or 7 bytes
  }
}

// The task of thread 0: the body of explore() (a detail::body_ref), for both
// backends.
extern const detail::task_vtable body_vtable;

using loc = std::source_location;

// The hooks of lockstep/mc/hooks.hpp, as members of a backend. Annotations a
// backend has no use for (the OS-thread one keeps no wait-for graph: its
// verdicts come from the recorded history) are members that do nothing, so
// that leaving one out is a decision written next to the backend.
template <class B>
concept backend = requires(B& b, const B& cb, op o, const void* obj, const char* text, detail::object_handle& h,
                           std::uint32_t* word, const std::uint32_t* cword, std::uint32_t u, std::int64_t i,
                           bool flag, lock_kind kind, acquire_flags flags, lock_mode mode, std::size_t size,
                           const loc& where, const std::string* message, const detail::task_vtable& vt,
                           void* callable, const detail::atomic_access& access, std::uint64_t& u64,
                           std::memory_order order) {
  // Steps.
  { b.point(o, obj, h, where) } -> std::same_as<std::uint64_t*>;
  { b.atomic_op(o, callable, h, access, u64, where) } -> std::same_as<int>;
  b.atomic_fence(order, where);
  { b.futex_wait(cword, h, u, flag, i, where) } -> std::same_as<bool>;
  b.futex_wake(cword, h, 1, where);
  b.lock_word(word, h, where);
  { b.try_lock_word(word, h, where) } -> std::same_as<bool>;
  { b.unlock_word(word, h, where) } -> std::same_as<std::uint32_t>;
  { b.count_acquire(word, h, flag, i, where) } -> std::same_as<bool>;
  { b.count_try_acquire(word, h, where) } -> std::same_as<bool>;
  { b.count_release(word, h, u, u, where) } -> std::same_as<std::uint32_t>;
  { b.cond_enqueue(word, h, flag, i, where) } -> std::same_as<bool>;
  { b.cond_block(word, h, flag, i, where) } -> std::same_as<bool>;
  b.cond_notify(word, h, flag, where);
  { b.now() } noexcept -> std::same_as<std::int64_t>;
  { b.choose(u, where) } -> std::same_as<std::uint32_t>;
  { b.spurious_wakeup(obj, where) } -> std::same_as<bool>;
  // Annotations (primitives and users).
  { b.named(obj, text) } noexcept;
  b.acquiring(obj, kind, flags, where, mode);
  b.acquired(obj, mode, where);
  b.released(obj, mode, where);
  { b.destroyed(obj) } noexcept;
  { b.notified(obj, where) } noexcept;
  { b.progress() } noexcept;
  { b.unordered_wait() } noexcept;
  { b.try_begin(cword) } noexcept;
  b.try_end(flag);
  { b.progress_on_acquire(obj) } noexcept;
  b.plain_access(obj, size, flag, where);
  { b.plain_forget(obj) } noexcept;
  b.retry_begin(obj, where);
  b.retry_lost(obj, where);
  b.retry_won(obj, where);
  // Bugs in user code: misuse returns (the thread stops at its next point).
  b.misuse(obj, text, where);
  b.assert_failed(text, where, message);
  { b.release_enter() } noexcept;
  { b.release_exit() } noexcept;
  // Threads.
  { b.name_thread(text) } noexcept;
  { b.spawn(vt, callable, where) } -> std::same_as<std::uint32_t>;
  b.join(u, where);
  { b.detach(u) } noexcept;
  { b.dropped_joinable(u, where) } noexcept;
  { cb.current_thread() } noexcept -> std::same_as<std::uint32_t>;
};

}  // namespace lockstep::mc::rt
