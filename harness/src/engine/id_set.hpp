// Internal: a set of thread ids (the engine's enabled and eligible sets).
#pragma once

#include <cstdint>
#include <vector>

namespace lockstep::mc::rt {

// A set of thread ids with select in O(log n): a bitmap, and a
// Fenwick tree over the member counts of its 64-bit words. A decision picks
// its candidate by index without listing the candidates, so its cost does
// not grow with the number of threads; up to 64 threads it is a few bit
// operations on one word.
class id_set {
 public:
  // Empty, with room for ids < n (keeps its capacity).
  void reset(std::uint32_t n) {
    if (words_ == 1 && n <= 64) {
      word0_ = 0;
      size_ = 0;
    } else {
      reset_slow(n);
    }
  }
  [[nodiscard]] bool contains(std::uint32_t id) const noexcept {
    if (words_ == 1) return id < 64 && ((word0_ >> id) & 1) != 0;
    return (id >> 6) < words_ && ((bits_[id >> 6] >> (id & 63)) & 1) != 0;
  }
  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  void insert(std::uint32_t id) {
    if (words_ == 1 && id < 64) {  // one word, inline: no tree, no allocation
      const std::uint64_t bit = std::uint64_t{1} << id;
      size_ += (word0_ & bit) == 0;
      word0_ |= bit;
    } else {
      insert_slow(id);
    }
  }
  void erase(std::uint32_t id) noexcept {
    if (words_ == 1) {
      if (id >= 64) return;
      const std::uint64_t bit = std::uint64_t{1} << id;
      size_ -= (word0_ & bit) != 0;
      word0_ &= ~bit;
    } else {
      erase_slow(id);
    }
  }
  // Whether the members are one word (every id < 64): word() then holds them.
  [[nodiscard]] bool one_word() const noexcept { return words_ == 1; }
  [[nodiscard]] std::uint64_t word() const noexcept { return word0_; }
  // insert and erase for one word and an id below 64 (one_word()).
  void insert_in_word(std::uint32_t id) noexcept {
    const std::uint64_t bit = std::uint64_t{1} << id;
    size_ += (word0_ & bit) == 0;
    word0_ |= bit;
  }
  void erase_in_word(std::uint32_t id) noexcept {
    const std::uint64_t bit = std::uint64_t{1} << id;
    size_ -= (word0_ & bit) != 0;
    word0_ &= ~bit;
  }
  // The k-th smallest member of w (0-based; k < popcount(w)).
  static std::uint32_t select_in(std::uint64_t w, std::uint32_t k) noexcept {
    for (; k != 0; --k) w &= w - 1;
    return static_cast<std::uint32_t>(__builtin_ctzll(w));
  }
  // The k-th smallest member (0-based; k < size()).
  [[nodiscard]] std::uint32_t select(std::uint32_t k) const noexcept {
    return words_ == 1 ? select_in(word0_, k) : select_slow(k);
  }
  // Calls f(id) for every member, in increasing order.
  template <class F>
  void for_each(F&& f) const {
    if (words_ == 1) {
      for (std::uint64_t w = word0_; w != 0; w &= w - 1) f(static_cast<std::uint32_t>(__builtin_ctzll(w)));
      return;
    }
    for (std::uint32_t i = 0, seen = 0; i < words_ && seen < size_; ++i)
      for (std::uint64_t w = bits_[i]; w != 0; w &= w - 1, ++seen)
        f(i * 64 + static_cast<std::uint32_t>(__builtin_ctzll(w)));
  }

 private:
  // Out of line even under LTO: inlined, they make every caller of the
  // one-word paths (enable, disable, a decision) save and restore registers.
  [[gnu::noinline]] void reset_slow(std::uint32_t n);
  [[gnu::noinline]] void insert_slow(std::uint32_t id);
  [[gnu::noinline]] void erase_slow(std::uint32_t id) noexcept;
  [[nodiscard, gnu::noinline]] std::uint32_t select_slow(std::uint32_t k) const noexcept;
  void grow(std::uint32_t n);
  std::uint64_t word0_ = 0;          // the members while words_ == 1 (up to 64 threads)
  std::vector<std::uint64_t> bits_;  // the members while words_ > 1, 64 ids a word
  std::vector<std::uint32_t> tree_;  // 1-based Fenwick tree of the words' member counts
  std::uint32_t words_ = 1;          // a power of two
  std::uint32_t size_ = 0;
};

}  // namespace lockstep::mc::rt
