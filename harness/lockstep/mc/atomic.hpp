// lockstep/mc/atomic.hpp — the checked atomic.
//
// `mc::atomic<T>` has the std::atomic interface. Under the checker every
// operation is a scheduling point: the scheduler may switch threads right
// before it, and the operation is recorded (thread, operation, object, value,
// source location).
//
// Memory ordering: memory_order arguments are accepted and currently ignored:
// every operation behaves sequentially consistent (a total order of all
// operations, the one the scheduler picked). Bugs that need a weaker memory
// model to show up are not found yet.
//
// Outside a checked execution (and on OS threads, see os_threads.hpp) the
// operations are real sequentially consistent atomic operations; nothing is
// recorded.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

#include "lockstep/mc/hooks.hpp"

namespace lockstep::mc {

template <class T>
class atomic {
  static_assert(std::is_trivially_copyable_v<T>, "mc::atomic<T> needs a trivially copyable T");

 public:
  using value_type = T;
  using loc = std::source_location;
  static constexpr bool is_always_lock_free = true;

  constexpr atomic() noexcept(std::is_nothrow_default_constructible_v<T>) : value_() {}
  constexpr atomic(T v) noexcept : value_(v) {}  // NOLINT: mirrors std::atomic
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order = std::memory_order_seq_cst, const loc& l = loc::current()) const {
    auto* rec = detail::point(op::load, this, h_, l);
    if (rec == nullptr) return real().load();
    T r = value_;
    if (rec) *rec = bits(r);
    return r;
  }
  void store(T v, std::memory_order = std::memory_order_seq_cst, const loc& l = loc::current()) {
    auto* rec = detail::point(op::store, this, h_, l);
    if (rec == nullptr) return real().store(v);
    value_ = v;
    if (rec) *rec = bits(v);
  }
  T exchange(T v, std::memory_order = std::memory_order_seq_cst, const loc& l = loc::current()) {
    return rmw([v](T) { return v; }, l);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order = std::memory_order_seq_cst,
                               std::memory_order = std::memory_order_seq_cst,
                               const loc& l = loc::current()) {
    return cas(expected, desired, l);
  }
  // Never fails spuriously under the checker (yet).
  bool compare_exchange_weak(T& expected, T desired, std::memory_order = std::memory_order_seq_cst,
                             std::memory_order = std::memory_order_seq_cst,
                             const loc& l = loc::current()) {
    return cas(expected, desired, l);
  }

  T fetch_add(T d, std::memory_order = std::memory_order_seq_cst, const loc& l = loc::current())
    requires(std::is_integral_v<T> || std::is_pointer_v<T>)
  {
    return rmw([d](T x) { return static_cast<T>(x + d); }, l);
  }
  T fetch_sub(T d, std::memory_order = std::memory_order_seq_cst, const loc& l = loc::current())
    requires(std::is_integral_v<T> || std::is_pointer_v<T>)
  {
    return rmw([d](T x) { return static_cast<T>(x - d); }, l);
  }
  T fetch_and(T d, std::memory_order = std::memory_order_seq_cst, const loc& l = loc::current())
    requires std::is_integral_v<T>
  {
    return rmw([d](T x) { return static_cast<T>(x & d); }, l);
  }
  T fetch_or(T d, std::memory_order = std::memory_order_seq_cst, const loc& l = loc::current())
    requires std::is_integral_v<T>
  {
    return rmw([d](T x) { return static_cast<T>(x | d); }, l);
  }
  T fetch_xor(T d, std::memory_order = std::memory_order_seq_cst, const loc& l = loc::current())
    requires std::is_integral_v<T>
  {
    return rmw([d](T x) { return static_cast<T>(x ^ d); }, l);
  }

  operator T() const { return load(); }  // NOLINT: mirrors std::atomic
  T operator=(T v) {
    store(v);
    return v;
  }
  T operator++() requires std::is_integral_v<T> { return fetch_add(1) + 1; }
  T operator++(int) requires std::is_integral_v<T> { return fetch_add(1); }
  T operator--() requires std::is_integral_v<T> { return fetch_sub(1) - 1; }
  T operator--(int) requires std::is_integral_v<T> { return fetch_sub(1); }
  T operator+=(T d) requires std::is_integral_v<T> { return fetch_add(d) + d; }
  T operator-=(T d) requires std::is_integral_v<T> { return fetch_sub(d) - d; }

  // For the platform's futex hooks: the raw word. Not for users.
  const T* raw_word() const noexcept { return &value_; }
  detail::object_handle& handle() const noexcept { return h_; }

 private:
  static std::uint64_t bits(const T& v) noexcept {
    if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
      return static_cast<std::uint64_t>(v);
    } else if constexpr (std::is_pointer_v<T>) {
      return reinterpret_cast<std::uintptr_t>(v);
    } else {
      std::uint64_t out = 0;
      std::memcpy(&out, &v, sizeof(T) < sizeof(out) ? sizeof(T) : sizeof(out));
      return out;
    }
  }
  template <class F>
  T rmw(F f, const loc& l) {
    auto* rec = detail::point(op::rmw, this, h_, l);
    if (rec == nullptr) {
      auto r = real();
      T old = r.load();
      while (!r.compare_exchange_weak(old, f(old))) {
      }
      return old;
    }
    T old = value_;
    value_ = f(old);
    if (rec) {
      *rec = bits(value_);
      if (std::memcmp(&old, &value_, sizeof(T)) == 0) detail_mark_read_only(rec);
    }
    return old;
  }
  bool cas(T& expected, T desired, const loc& l) {
    // The operation is decided after the scheduling point, so the op kind is
    // fixed up once the outcome is known.
    auto* rec = detail::point(op::cas_ok, this, h_, l);
    if (rec == nullptr) return real().compare_exchange_strong(expected, desired);
    const bool ok = std::memcmp(&value_, &expected, sizeof(T)) == 0;
    if (ok) {
      value_ = desired;
    } else {
      expected = value_;
    }
    if (rec) {
      *rec = bits(value_);
      if (!ok) detail_mark_failed_cas(rec);
    }
    return ok;
  }
  static void detail_mark_failed_cas(std::uint64_t* rec) noexcept;
  static void detail_mark_read_only(std::uint64_t* rec) noexcept;

  // Outside a fiber execution (on OS threads, see os_threads.hpp, or with no
  // checker at all) operations are real sequentially consistent atomics.
  std::atomic_ref<T> real() const noexcept { return std::atomic_ref<T>(const_cast<T&>(value_)); }

  alignas(std::atomic_ref<T>::required_alignment) T value_;
  mutable detail::object_handle h_;
};

namespace detail {
// Turns the event whose value slot is `rec` from cas_ok into cas_fail.
void mark_failed_cas(std::uint64_t* rec) noexcept;
// The event whose value slot is `rec` wrote the value that was there: for
// dependence it is a read.
void mark_read_only(std::uint64_t* rec) noexcept;
}  // namespace detail

template <class T>
void atomic<T>::detail_mark_failed_cas(std::uint64_t* rec) noexcept {
  detail::mark_failed_cas(rec);
}
template <class T>
void atomic<T>::detail_mark_read_only(std::uint64_t* rec) noexcept {
  detail::mark_read_only(rec);
}

}  // namespace lockstep::mc
