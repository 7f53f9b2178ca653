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
  // Every id recorded in a shadow was a thread's of this width.
  const std::uint32_t* vc = of(t).data();
  shadow& s = shadows_[obj - 1];
  const std::uint32_t now = vc[t];
  if (s.w_clock != 0 && s.w_thread != t && s.w_clock > vc[s.w_thread]) [[unlikely]]
    return data_race{addr, t, write, loc, s.w_thread, true, s.w_loc};
  if (write) {
    for (const read_epoch& r : s.reads)
      if (r.thread != t && r.clock > vc[r.thread]) [[unlikely]]
        return data_race{addr, t, write, loc, r.thread, false, r.loc};
    s.w_thread = t;
    s.w_clock = now;
    s.w_loc = loc;
    s.reads.clear();
    return std::nullopt;
  }
  for (read_epoch& r : s.reads) {
    if (r.thread == t) {
      r.clock = now;
      r.loc = loc;
      return std::nullopt;
    }
  }
  s.reads.push_back({t, now, loc});
  return std::nullopt;
}

void race_detector::on_plain_forget(std::uint32_t obj) noexcept {
  if (obj != 0 && obj <= used_) shadows_[obj - 1].clear();
}

}  // namespace lockstep::mc::rt
