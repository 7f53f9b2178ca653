// The data-race detector (see races.hpp).
#include "detectors/races.hpp"

#include <algorithm>
#include <utility>

namespace lockstep::mc::rt {

namespace {

// Both of one width (race_detector::width_).
void join_into(std::vector<std::uint32_t>& into, const std::vector<std::uint32_t>& from) {
  std::uint32_t* a = into.data();
  const std::uint32_t* b = from.data();
  for (std::size_t i = 0, n = into.size(); i < n; ++i) a[i] = std::max(a[i], b[i]);
}

std::uint32_t at(const std::vector<std::uint32_t>& vc, std::uint32_t t) { return t < vc.size() ? vc[t] : 0; }

void zero(std::vector<std::uint32_t>& vc) { std::fill(vc.begin(), vc.end(), 0); }

}  // namespace

void race_detector::widen(std::uint32_t t) {
  width_ = std::max<std::uint32_t>(t + 1, 2 * width_);
  threads_.resize(width_);
  for (clock& c : threads_) c.resize(width_, 0);
  for (clock& c : sync_) c.resize(width_, 0);
  for (clock& c : snaps_) c.resize(width_, 0);
  undo_vc_.resize(width_, 0);
}

void race_detector::use(std::uint32_t obj) {
  if (sync_.size() < obj) {
    sync_.resize(obj, clock(width_, 0));
    shadows_.resize(obj);
  }
  used_ = obj;
}

// Emptied in place: the reads keep their capacity for the next execution.
void race_detector::shadow::clear() noexcept {
  w_thread = 0;
  w_clock = 0;
  reads.clear();
  read_locs.clear();
}

void race_detector::reset_clocks(const options&) {
  for (std::size_t i = 0; i < used_; ++i) {
    zero(sync_[i]);
    shadows_[i].clear();
  }
  used_ = 0;
  nsnaps_ = 0;
  undo_release_ = false;
  if (on_) of(0);  // the body's thread
  for (std::uint32_t t = 0; t < width_; ++t) {
    zero(threads_[t]);
    if (on_) threads_[t][t] = 1;
  }
}

void race_detector::on_release(std::uint32_t t, std::uint32_t obj, bool undoable) {
  grow(obj);
  clock& me = of(t);
  clock& c = sync_[obj - 1];
  undo_release_ = undoable;
  if (undoable) {
    undo_obj_ = obj;
    undo_vc_ = c;
  }
  join_into(c, me);
  ++me[t];
}

void race_detector::on_store(std::uint32_t t, std::uint32_t obj) {
  grow(obj);
  clock& me = of(t);
  sync_[obj - 1] = me;
  ++me[t];
  undo_release_ = false;
}

void race_detector::undo_release(std::uint32_t t) {
  undo_release_ = false;
  --of(t)[t];
  sync_[undo_obj_ - 1] = undo_vc_;
}

void race_detector::on_acquire(std::uint32_t t, std::uint32_t obj) {
  if (obj <= used_) join_into(of(t), sync_[obj - 1]);
}

std::uint32_t race_detector::snapshot(std::uint32_t t) {
  clock& me = of(t);
  if (nsnaps_ == snaps_.size()) snaps_.emplace_back(width_, 0);
  snaps_[nsnaps_] = me;
  ++me[t];
  return static_cast<std::uint32_t>(++nsnaps_);
}

std::uint32_t race_detector::join(std::uint32_t a, std::uint32_t b) {
  if (a == 0 || b == 0) return a | b;
  if (nsnaps_ == snaps_.size()) snaps_.emplace_back(width_, 0);
  clock& c = snaps_[nsnaps_];
  c = snaps_[a - 1];
  join_into(c, snaps_[b - 1]);
  return static_cast<std::uint32_t>(++nsnaps_);
}

void race_detector::acquire(std::uint32_t t, std::uint32_t snap) {
  if (snap != 0) join_into(of(t), snaps_[snap - 1]);
}

void race_detector::spawned(std::uint32_t parent, std::uint32_t child) {
  of(std::max(parent, child));  // both exist before either reference is taken
  clock& me = threads_[parent];
  clock& c = threads_[child];
  c = me;
  ++c[child];
  ++me[parent];
}

void race_detector::joined(std::uint32_t joiner, std::uint32_t child) {
  of(std::max(joiner, child));
  join_into(threads_[joiner], threads_[child]);
}

std::optional<data_race> race_detector::on_plain_access(std::uint32_t t, std::uint32_t obj, const void* addr,
                                                        bool write, const std::source_location& loc) {
  grow(obj);
  const clock& vc = of(t);
  shadow* s = &shadows_[obj - 1];
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
    s->w_clock = vc[t];
    s->w_loc = loc;
    s->reads.clear();
    s->read_locs.clear();
    return std::nullopt;
  }
  for (std::size_t i = 0; i < s->reads.size(); ++i) {
    if (s->reads[i].first == t) {
      s->reads[i].second = vc[t];
      s->read_locs[i] = loc;
      return std::nullopt;
    }
  }
  s->reads.emplace_back(t, vc[t]);
  s->read_locs.push_back(loc);
  return std::nullopt;
}

void race_detector::on_plain_forget(std::uint32_t obj) noexcept {
  if (obj != 0 && obj <= used_) shadows_[obj - 1].clear();
}

}  // namespace lockstep::mc::rt
