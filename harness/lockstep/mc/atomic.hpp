// lockstep/mc/atomic.hpp — the checked atomic.
//
// `mc::atomic<T>` has the std::atomic interface (T trivially copyable, at
// most 8 bytes). Under the checker every operation is a scheduling point:
// the scheduler may switch threads right before it, and the operation is
// recorded (thread, operation, object, value, source location).
//
// Memory ordering follows options::memory_model. Under rc11 (the default)
// the memory_order arguments mean what the C++ memory model says (RC11,
// Lahav et al., PLDI 2017): a load may read any store that coherence allows
// (which one is a choice the strategy explores), a release store read by an
// acquire load orders the two threads and nothing weaker does, fences act as
// std::atomic_thread_fence, read-modify-writes continue release sequences,
// and compare_exchange_weak may fail spuriously. Under sc every operation is
// sequentially consistent. README, "Memory model", lists what is modelled
// and the corners left out.
//
// Outside a checked execution (and on OS threads, see os_threads.hpp) the
// operations are real sequentially consistent atomic operations; nothing is
// recorded.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <source_location>
#include <type_traits>

#include "lockstep/mc/hooks.hpp"

namespace lockstep::mc {

template <class T>
class atomic {
  static_assert(std::is_trivially_copyable_v<T>, "mc::atomic<T> needs a trivially copyable T");
  static_assert(sizeof(T) <= 8, "mc::atomic<T> holds at most 8 bytes");

 public:
  using value_type = T;
  using loc = std::source_location;
  using order = std::memory_order;
  static constexpr bool is_always_lock_free = true;

 private:
  // Operations on these sizes take the typed hooks (see checked()).
  static constexpr bool kTyped = sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8;
  static constexpr bool kSign = std::is_signed_v<T>;
  // fetch_add and fetch_sub: integers, and pointers to objects (as std::atomic).
  static constexpr bool kArithmetic =
      std::is_integral_v<T> || (std::is_pointer_v<T> && std::is_object_v<std::remove_pointer_t<T>>);

 public:
  // What fetch_add takes: the integer itself, or a pointer's element count.
  using difference_type = std::conditional_t<std::is_pointer_v<T>, std::ptrdiff_t, T>;

 private:
  // An addend as the runtime's operand (add and sub read a pointer's as a count).
  static std::uint64_t delta(difference_type d) noexcept {
    if constexpr (std::is_pointer_v<T>) return static_cast<std::uint64_t>(d);
    else return bits(d);
  }

 public:
  constexpr atomic() noexcept(std::is_nothrow_default_constructible_v<T>) : value_() {}
  constexpr atomic(T v) noexcept : value_(v) {}  // NOLINT: mirrors std::atomic
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  // load and store always inline: the typed hook is then the only call.
  [[gnu::always_inline]] T load(order o = std::memory_order_seq_cst, const loc& l = loc::current()) const {
    detail::atomic_access a;
    a.order = o;
    std::uint64_t r = 0;
    if (checked(op::load, a, r, l) < 0) return real().load();
    return from_bits(r);
  }
  [[gnu::always_inline]] void store(T v, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    detail::atomic_access a;
    a.operand = bits(v);
    a.order = o;
    std::uint64_t r = 0;
    if (checked(op::store, a, r, l) < 0) real().store(v);
  }
  T exchange(T v, order o = std::memory_order_seq_cst, const loc& l = loc::current()) {
    return rmw(&take, bits(v), o, l, [v](T) { return v; });
  }
  bool compare_exchange_strong(T& expected, T desired, order success, order failure,
                               const loc& l = loc::current()) {
    return cas(expected, desired, success, failure, false, l);
  }
  bool compare_exchange_strong(T& expected, T desired, order o = std::memory_order_seq_cst,
                               const loc& l = loc::current()) {
    return cas(expected, desired, o, failure_order(o), false, l);
  }
  // Under rc11 it may fail spuriously (options::spurious_cas_failures).
  bool compare_exchange_weak(T& expected, T desired, order success, order failure,
                             const loc& l = loc::current()) {
    return cas(expected, desired, success, failure, true, l);
  }
  bool compare_exchange_weak(T& expected, T desired, order o = std::memory_order_seq_cst,
                             const loc& l = loc::current()) {
    return cas(expected, desired, o, failure_order(o), true, l);
  }

  // For a pointer, d counts elements, as std::atomic<T*>'s does.
  T fetch_add(difference_type d, order o = std::memory_order_seq_cst, const loc& l = loc::current())
    requires kArithmetic
  {
    const std::uint64_t b = delta(d);
    return rmw(&add, b, o, l, [b](T x) { return from_bits(add(bits(x), b)); });
  }
  T fetch_sub(difference_type d, order o = std::memory_order_seq_cst, const loc& l = loc::current())
    requires kArithmetic
  {
    const std::uint64_t b = delta(d);
    return rmw(&sub, b, o, l, [b](T x) { return from_bits(sub(bits(x), b)); });
  }
  T fetch_and(T d, order o = std::memory_order_seq_cst, const loc& l = loc::current())
    requires std::is_integral_v<T>
  {
    return rmw(&and_, bits(d), o, l, [d](T x) { return static_cast<T>(x & d); });
  }
  T fetch_or(T d, order o = std::memory_order_seq_cst, const loc& l = loc::current())
    requires std::is_integral_v<T>
  {
    return rmw(&or_, bits(d), o, l, [d](T x) { return static_cast<T>(x | d); });
  }
  T fetch_xor(T d, order o = std::memory_order_seq_cst, const loc& l = loc::current())
    requires std::is_integral_v<T>
  {
    return rmw(&xor_, bits(d), o, l, [d](T x) { return static_cast<T>(x ^ d); });
  }

  operator T() const { return load(); }  // NOLINT: mirrors std::atomic
  T operator=(T v) {
    store(v);
    return v;
  }
  // The new value, wrapped as the operation wraps it (never an overflow).
  T operator++() requires kArithmetic { return from_bits(add(bits(fetch_add(1)), delta(1))); }
  T operator++(int) requires kArithmetic { return fetch_add(1); }
  T operator--() requires kArithmetic { return from_bits(sub(bits(fetch_sub(1)), delta(1))); }
  T operator--(int) requires kArithmetic { return fetch_sub(1); }
  T operator+=(difference_type d) requires kArithmetic { return from_bits(add(bits(fetch_add(d)), delta(d))); }
  T operator-=(difference_type d) requires kArithmetic { return from_bits(sub(bits(fetch_sub(d)), delta(d))); }

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
      std::memcpy(&out, &v, sizeof(T));
      return out;
    }
  }
  static T from_bits(std::uint64_t b) noexcept {
    if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
      return static_cast<T>(b);
    } else if constexpr (std::is_pointer_v<T>) {
      return reinterpret_cast<T>(static_cast<std::uintptr_t>(b));
    } else {
      T out;
      std::memcpy(&out, &b, sizeof(T));
      return out;
    }
  }
  static constexpr order failure_order(order o) noexcept {
    return o == std::memory_order_acq_rel ? std::memory_order_acquire
           : o == std::memory_order_release ? std::memory_order_relaxed
                                            : o;
  }
  // The read-modify-writes, on the value's bits, for the runtime.
  static std::uint64_t take(std::uint64_t, std::uint64_t v) noexcept { return v; }
  // Integers wrap as std::atomic's do (two's complement, never undefined):
  // the sum or difference is taken in the unsigned type.
  template <bool Minus>
  static std::uint64_t offset(std::uint64_t x, std::uint64_t d) noexcept {
    if constexpr (std::is_pointer_v<T>) {
      // d counts elements; the sum is taken on the address, as an integer
      // (pointer arithmetic out of the array would be undefined; the
      // std::atomic<T*> result is only an unspecified address).
      const std::uint64_t bytes = d * sizeof(std::remove_pointer_t<T>);
      return Minus ? x - bytes : x + bytes;
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      using U = std::make_unsigned_t<T>;
      const U a = static_cast<U>(from_bits(x));
      const U b = static_cast<U>(from_bits(d));
      return bits(static_cast<T>(static_cast<U>(Minus ? a - b : a + b)));
    } else {
      return bits(static_cast<T>(Minus ? from_bits(x) - from_bits(d) : from_bits(x) + from_bits(d)));
    }
  }
  static std::uint64_t add(std::uint64_t x, std::uint64_t d) noexcept { return offset<false>(x, d); }
  static std::uint64_t sub(std::uint64_t x, std::uint64_t d) noexcept { return offset<true>(x, d); }
  static std::uint64_t and_(std::uint64_t x, std::uint64_t d) noexcept {
    if constexpr (std::is_integral_v<T>) return bits(static_cast<T>(from_bits(x) & from_bits(d)));
    else return x;
  }
  static std::uint64_t or_(std::uint64_t x, std::uint64_t d) noexcept {
    if constexpr (std::is_integral_v<T>) return bits(static_cast<T>(from_bits(x) | from_bits(d)));
    else return x;
  }
  static std::uint64_t xor_(std::uint64_t x, std::uint64_t d) noexcept {
    if constexpr (std::is_integral_v<T>) return bits(static_cast<T>(from_bits(x) ^ from_bits(d)));
    else return x;
  }
  template <class F>
  T rmw(std::uint64_t (*apply)(std::uint64_t, std::uint64_t) noexcept, std::uint64_t operand, order o,
        const loc& l, F f) {
    detail::atomic_access a;
    a.operand = operand;
    a.apply = apply;
    a.order = o;
    std::uint64_t r = 0;
    if (checked(op::rmw, a, r, l) < 0) {
      auto real_ref = real();
      T old = real_ref.load();
      while (!real_ref.compare_exchange_weak(old, f(old))) {
      }
      return old;
    }
    return from_bits(r);
  }
  bool cas(T& expected, T desired, order success, order failure, bool weak, const loc& l) {
    detail::atomic_access a;
    a.operand = bits(desired);
    a.expected = bits(expected);
    a.weak = weak;
    a.order = success;
    a.failure = failure;
    std::uint64_t r = 0;
    const int ok = checked(op::cas_ok, a, r, l);
    if (ok < 0) return real().compare_exchange_strong(expected, desired);
    if (ok == 0) expected = from_bits(r);
    return ok > 0;
  }

  // One checked operation (load, store, rmw or cas_ok), `a` without its size
  // and sign: by the typed hooks for 1, 2, 4 or 8 bytes (hooks.hpp), else by
  // atomic_op. Inline, so `a` is only ever registers on the typed path.
  int checked(op o, detail::atomic_access a, std::uint64_t& r, const loc& l) const {
    void* const addr = const_cast<T*>(&value_);
    if constexpr (kTyped) {
      constexpr unsigned n = sizeof(T);
      switch (o) {
        case op::load: return detail::atomic_load<n, kSign>(addr, h_, a.order, r, l);
        case op::store: return detail::atomic_store<n, kSign>(addr, h_, a.operand, a.order, l);
        case op::rmw: return detail::atomic_rmw<n, kSign>(addr, h_, a.apply, a.operand, a.order, r, l);
        default: return detail::atomic_cas<n, kSign>(addr, h_, a.expected, a.operand, a.weak, a.order, a.failure, r, l);
      }
    } else {
      a.size = sizeof(T);
      a.sign = kSign;
      return detail::atomic_op(o, addr, h_, a, r, l);
    }
  }

  // Outside a fiber execution (on OS threads, see os_threads.hpp, or with no
  // checker at all) operations are real sequentially consistent atomics.
  std::atomic_ref<T> real() const noexcept { return std::atomic_ref<T>(const_cast<T&>(value_)); }

  alignas(std::atomic_ref<T>::required_alignment) T value_;
  mutable detail::object_handle h_;
};

// std::atomic_thread_fence for checked code: under rc11 a release fence makes
// the thread's later relaxed stores carry what it knew at the fence, an
// acquire fence gives the thread what its earlier relaxed loads read, and
// seq_cst fences are totally ordered. Outside an execution: the real fence.
inline void atomic_thread_fence(std::memory_order o,
                                const std::source_location& l = std::source_location::current()) {
  detail::atomic_fence(o, l);
}

}  // namespace lockstep::mc
