#include "engine/objects.hpp"

namespace lockstep::mc::rt {

void object_store::reset() noexcept {
  for (std::uint32_t i = 0; i < n_; ++i) {
    object_rec& r = recs_[i];
    r.name = nullptr;
    r.resource = false;
    r.kind = lock_kind::other;
    r.ordinal = 0;
    r.holders.clear();
    r.waiters.clear();
    r.notifies.clear();
    r.progress_mark = false;
    r.retry_winner = kNoThread;
  }
  n_ = 0;
  ordinals_ = 0;
  if (++gen_ == 0) {  // wrapped: empty every slot for real
    for (slot& s : slots_) s.gen = 0;
    gen_ = 1;
  }
}

std::size_t object_store::home(const void* addr) const noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  return static_cast<std::size_t>((static_cast<std::uint64_t>(a >> 2) * 0x9E3779B97F4A7C15ull) >> 32) &
         (slots_.size() - 1);
}

std::uint32_t object_store::find(const void* addr) const noexcept {
  if (n_ == 0) return 0;
  for (std::size_t i = home(addr);; i = (i + 1) & (slots_.size() - 1)) {
    const slot& s = slots_[i];
    if (s.gen != gen_) return 0;
    if (s.addr == addr) return s.id;
  }
}

std::uint32_t object_store::intern(const void* addr) {
  if (const std::uint32_t id = find(addr)) return id;
  if (2 * (n_ + 1) > slots_.size()) rehash();
  if (n_ == recs_.size()) recs_.emplace_back();
  recs_[n_].addr = addr;
  const std::uint32_t id = ++n_;
  std::size_t i = home(addr);
  while (slots_[i].gen == gen_) i = (i + 1) & (slots_.size() - 1);
  slots_[i] = slot{addr, id, gen_};
  return id;
}

void object_store::rehash() {
  slots_.assign(slots_.empty() ? 64 : 2 * slots_.size(), slot{nullptr, 0, 0});
  gen_ = 1;
  for (std::uint32_t id = 1; id <= n_; ++id) {
    std::size_t i = home(recs_[id - 1].addr);
    while (slots_[i].gen == gen_) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = slot{recs_[id - 1].addr, id, gen_};
  }
}

void object_store::make_resource(object_rec& r, lock_kind kind) noexcept {
  if (r.resource) {
    if (r.kind == lock_kind::other) r.kind = kind;
    return;
  }
  r.resource = true;
  r.kind = kind;
  r.ordinal = ++ordinals_;
  r.holders.clear();
  r.waiters.clear();
}

void object_store::end_resource(object_rec& r) noexcept {
  r.resource = false;
  r.kind = lock_kind::other;
  r.holders.clear();
  r.waiters.clear();
}

}  // namespace lockstep::mc::rt
