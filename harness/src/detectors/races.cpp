// The data-race detector (see races.hpp).
#include "races.hpp"

#include <algorithm>
#include <utility>

namespace lockstep::mc::rt {

namespace {

void join_into(std::vector<std::uint32_t>& into, const std::vector<std::uint32_t>& from) {
  if (into.size() < from.size()) into.resize(from.size(), 0);
  for (std::size_t i = 0; i < from.size(); ++i) into[i] = std::max(into[i], from[i]);
}

std::uint32_t at(const std::vector<std::uint32_t>& vc, std::uint32_t t) { return t < vc.size() ? vc[t] : 0; }

void tick(std::vector<std::uint32_t>& vc, std::uint32_t t) {
  if (vc.size() <= t) vc.resize(t + 1, 0);
  ++vc[t];
}

}  // namespace

race_detector::clock& race_detector::of(std::uint32_t t) {
  if (threads_.size() <= t) threads_.resize(t + 1);
  return threads_[t];
}

void race_detector::reset() {
  sync_clocks_.clear();
  undo_release_ = false;
  shadows_.clear();
  if (on_) of(0);  // the body's thread
  for (std::uint32_t t = 0; t < threads_.size(); ++t) {
    threads_[t].clear();
    if (on_) tick(threads_[t], t);
  }
}

void race_detector::on_release(std::uint32_t t, const void* obj, bool undoable) {
  clock& me = of(t);
  undo_release_ = undoable;
  for (std::size_t i = 0; i < sync_clocks_.size(); ++i) {
    sync_clock& c = sync_clocks_[i];
    if (c.obj == obj) {
      if (undoable) {
        undo_index_ = i;
        undo_vc_ = c.vc;
      }
      join_into(c.vc, me);
      tick(me, t);
      return;
    }
  }
  if (undoable) {
    undo_index_ = sync_clocks_.size();
    undo_vc_.clear();
  }
  sync_clocks_.push_back(sync_clock{obj, me});
  tick(me, t);
}

void race_detector::on_read_only(std::uint32_t t) {
  if (!undo_release_) return;
  undo_release_ = false;
  clock& me = of(t);
  if (t < me.size()) --me[t];
  if (undo_vc_.empty() && undo_index_ + 1 == sync_clocks_.size()) sync_clocks_.pop_back();
  else sync_clocks_[undo_index_].vc = undo_vc_;
}

void race_detector::on_acquire(std::uint32_t t, const void* obj) {
  for (const sync_clock& c : sync_clocks_) {
    if (c.obj == obj) {
      join_into(of(t), c.vc);
      return;
    }
  }
}

void race_detector::on_spawn(std::uint32_t parent, std::uint32_t child) {
  of(child);  // both exist before either reference is taken
  clock& me = of(parent);
  clock& c = of(child);
  c = me;
  tick(c, child);
  tick(me, parent);
}

void race_detector::on_join(std::uint32_t joiner, std::uint32_t child) {
  of(std::max(joiner, child));
  join_into(threads_[joiner], threads_[child]);
}

std::optional<data_race> race_detector::on_plain_access(std::uint32_t t, const void* addr, bool write,
                                                        const std::source_location& loc) {
  const clock& vc = of(t);
  shadow* s = nullptr;
  for (shadow& x : shadows_)
    if (x.addr == addr) s = &x;
  if (s == nullptr) {
    shadows_.push_back(shadow{addr, 0, 0, {}, {}, {}});
    s = &shadows_.back();
  }
  auto race = [&](std::uint32_t other, const std::source_location& other_loc, bool other_write) {
    return data_race{addr, t, write, loc, other, other_write, other_loc};
  };
  if (s->w_clock != 0 && s->w_thread != t && s->w_clock > at(vc, s->w_thread))
    return race(s->w_thread, s->w_loc, true);
  if (write) {
    for (std::size_t i = 0; i < s->reads.size(); ++i) {
      const auto [r, c] = s->reads[i];
      if (r != t && c > at(vc, r)) return race(r, s->read_locs[i], false);
    }
    s->w_thread = t;
    s->w_clock = at(vc, t);
    s->w_loc = loc;
    s->reads.clear();
    s->read_locs.clear();
    return std::nullopt;
  }
  for (std::size_t i = 0; i < s->reads.size(); ++i) {
    if (s->reads[i].first == t) {
      s->reads[i].second = at(vc, t);
      s->read_locs[i] = loc;
      return std::nullopt;
    }
  }
  s->reads.emplace_back(t, at(vc, t));
  s->read_locs.push_back(loc);
  return std::nullopt;
}

void race_detector::on_plain_forget(const void* addr) noexcept {
  for (std::size_t i = 0; i < shadows_.size(); ++i) {
    if (shadows_[i].addr == addr) {
      std::swap(shadows_[i], shadows_.back());
      shadows_.pop_back();
      return;
    }
  }
}

}  // namespace lockstep::mc::rt
