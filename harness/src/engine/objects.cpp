#include "engine/objects.hpp"

#include <algorithm>

namespace lockstep::mc::rt {

void object_store::reset() noexcept {
  n_ = 0;
  ordinals_ = 0;
  names_.clear();
  name_room_ = kLinear;
  hashed_ = 0;
  last_id_ = 0;
  if (++gen_ == 0) {  // wrapped: empty every slot for real
    for (slot& s : slots_) s.gen = 0;
    for (name_slot& s : name_slots_) s.gen = 0;
    gen_ = 1;
  }
}

void object_store::fresh(object_rec& r) noexcept {
  r.resource = false;
  r.kind = lock_kind::other;
  r.ordinal = 0;
  r.holders.clear();
  r.waiters.clear();
  r.joins = 0;
  r.notifies.clear();
  r.progress_mark = false;
  r.retry_winner = kNoThread;
}

namespace {
// An address's first slot in a table of `size` slots (a power of two).
std::size_t slot_of(const void* addr, std::size_t size) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  return static_cast<std::size_t>((static_cast<std::uint64_t>(a >> 2) * 0x9E3779B97F4A7C15ull) >> 32) & (size - 1);
}
}  // namespace

std::size_t object_store::name_home(const void* addr) const noexcept { return slot_of(addr, name_slots_.size()); }

void object_store::hash_names(std::size_t n) {
  std::vector<name_slot> old(n, name_slot{nullptr, nullptr, 0});
  old.swap(name_slots_);
  hashed_ = 0;
  for (const name_slot& s : old)
    if (s.gen == gen_) hashed_name(s.addr, s.name);
}

void object_store::hashed_name(const void* addr, const char* name) {
  if (2 * (hashed_ + 1) > name_slots_.size()) hash_names(std::max<std::size_t>(64, 2 * name_slots_.size()));
  const std::size_t mask = name_slots_.size() - 1;
  for (std::size_t i = name_home(addr);; i = (i + 1) & mask) {
    name_slot& s = name_slots_[i];
    if (s.gen != gen_) {
      s = name_slot{addr, name, gen_};
      ++hashed_;
      return;
    }
    if (s.addr == addr) {
      s.name = name;  // the latest name counts
      return;
    }
  }
}

void object_store::name_more(const void* addr, const char* name) {
  if (hashed_ == 0)  // in the order given: a later name at an address replaces an earlier one
    for (const name_rec& r : names_) hashed_name(r.addr, r.name);
  hashed_name(addr, name);
}

template <class Store>
auto object_store::name_at(Store& self, const void* addr) noexcept -> decltype(&self.names_[0].name) {
  if (self.hashed_ == 0) {
    for (std::size_t i = self.names_.size(); i-- > 0;)  // the latest first
      if (self.names_[i].addr == addr) return &self.names_[i].name;
    return nullptr;
  }
  const std::size_t mask = self.name_slots_.size() - 1;
  for (std::size_t i = self.name_home(addr); self.name_slots_[i].gen == self.gen_; i = (i + 1) & mask)
    if (self.name_slots_[i].addr == addr) return &self.name_slots_[i].name;
  return nullptr;
}

void object_store::unname(const void* addr) noexcept {
  // Its latest name is cleared: an object made here later has none.
  if (const char** name = name_at(*this, addr)) *name = nullptr;
}

const char* object_store::name_of(const void* addr) const noexcept {
  const char* const* name = name_at(*this, addr);
  return name != nullptr ? *name : nullptr;
}

std::size_t object_store::home(const void* addr) const noexcept { return slot_of(addr, slots_.size()); }

std::uint32_t object_store::find_slow(const void* addr) const noexcept {
  if (n_ <= kLinear) {  // a few objects (the usual model): a scan is cheaper than a hash
    for (std::uint32_t i = 0; i < n_; ++i) {
      if (recs_[i].addr == addr) {
        last_addr_ = addr;
        last_id_ = i + 1;
        return i + 1;
      }
    }
    return 0;
  }
  for (std::size_t i = home(addr);; i = (i + 1) & (slots_.size() - 1)) {
    const slot& s = slots_[i];
    if (s.gen != gen_) return 0;
    if (s.addr == addr) {
      last_addr_ = addr;
      last_id_ = s.id;
      return s.id;
    }
  }
}

std::uint32_t object_store::add(const void* addr) {
  if (n_ == recs_.size()) recs_.emplace_back();
  fresh(recs_[n_]);
  recs_[n_].addr = addr;
  const std::uint32_t id = ++n_;
  if (n_ == kLinear + 1 || (n_ > kLinear && 2 * n_ > slots_.size())) {
    rehash();  // the table takes over from the scan (or grows): every id in it
  } else if (n_ > kLinear) {
    std::size_t i = home(addr);
    while (slots_[i].gen == gen_) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = slot{addr, id, gen_};
  }
  last_addr_ = addr;
  last_id_ = id;
  return id;
}

// Every id into the table: a larger one if needed, else the same one
// emptied (by generation, without touching its slots).
void object_store::rehash() {
  std::size_t size = slots_.empty() ? 64 : slots_.size();
  while (2 * n_ > size) size *= 2;
  if (size != slots_.size() || ++gen_ == 0) {
    slots_.assign(size, slot{nullptr, 0, 0});
    gen_ = 1;
  }
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
  r.joins = 0;
}

void object_store::end_resource(object_rec& r) noexcept {
  r.resource = false;
  r.kind = lock_kind::other;
  r.holders.clear();
  r.waiters.clear();
  r.joins = 0;
}

}  // namespace lockstep::mc::rt
