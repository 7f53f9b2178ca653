#include "engine/id_set.hpp"

#include <algorithm>
#include <bit>

namespace lockstep::mc::rt {

void id_set::reset_slow(std::uint32_t n) {
  std::fill(bits_.begin(), bits_.end(), std::uint64_t{0});
  std::fill(tree_.begin(), tree_.end(), 0u);
  word0_ = 0;
  size_ = 0;
  if (n > words_ * 64) grow(n);
}

void id_set::grow(std::uint32_t n) {
  std::uint32_t words = words_;
  while (words * 64 < n) words *= 2;
  if (words == 1) return;
  if (words_ == 1) {  // leaving the inline word
    bits_.assign(words, 0);
    bits_[0] = word0_;
    word0_ = 0;
  } else {
    bits_.resize(words, 0);
  }
  words_ = words;
  tree_.assign(std::size_t{words} + 1, 0u);
  for (std::uint32_t i = 1; i <= words; ++i) {  // linear build from the words
    tree_[i] += static_cast<std::uint32_t>(std::popcount(bits_[i - 1]));
    const std::uint32_t parent = i + (i & (0u - i));
    if (parent <= words) tree_[parent] += tree_[i];
  }
}

void id_set::insert_slow(std::uint32_t id) {
  if ((id >> 6) >= words_) grow(id + 1);
  if (words_ == 1) return insert(id);
  std::uint64_t& w = bits_[id >> 6];
  const std::uint64_t bit = std::uint64_t{1} << (id & 63);
  if ((w & bit) != 0) return;
  w |= bit;
  ++size_;
  for (std::uint32_t i = (id >> 6) + 1; i <= words_; i += i & (0u - i)) ++tree_[i];
}

void id_set::erase_slow(std::uint32_t id) noexcept {
  if (!contains(id)) return;
  bits_[id >> 6] &= ~(std::uint64_t{1} << (id & 63));
  --size_;
  for (std::uint32_t i = (id >> 6) + 1; i <= words_; i += i & (0u - i)) --tree_[i];
}

std::uint32_t id_set::select_slow(std::uint32_t k) const noexcept {
  // The word: the longest prefix of words with at most k members.
  std::uint32_t pos = 0;
  for (std::uint32_t step = words_; step != 0; step >>= 1) {
    if (pos + step <= words_ && tree_[pos + step] <= k) {
      pos += step;
      k -= tree_[pos];
    }
  }
  return pos * 64 + select_in(bits_[pos], k);
}

}  // namespace lockstep::mc::rt
