// The data-race detector for plain memory (mc::shared, plain_read/write):
// vector clocks in the style of FastTrack (Flanagan & Freund, PLDI 2009).
//
// Every thread has a vector clock; every synchronising object (an atomic,
// a lock word, a futex word) has one too. A release (a store, RMW or
// successful CAS, an unlock, a blocking wait, a wake) joins the thread's
// clock into the object's and ticks the thread; an acquire (any atomic
// operation, a lock, a woken wait) joins the object's clock into the
// thread's. Spawn and join order parent and child. Each plain location keeps
// its last write epoch (thread, clock) and the reads since it; an access
// races with an earlier conflicting one whose epoch its thread's clock does
// not cover.
//
// Cost: nothing until an execution touches plain shared memory (races_on_
// stays false); then O(threads) per synchronising event. Once on, it stays on
// for the rest of the search; the execution that turned it on starts over,
// tracked from its first step, so no schedule goes unchecked.
#include <algorithm>
#include <exception>
#include <string>

#include "lockstep/mc/hooks.hpp"
#include "runtime.hpp"
#include "text.hpp"

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

void runtime::vc_reset() {
  sync_clocks_.clear();
  undo_release_ = false;
  shadows_.clear();
  for (auto& t : threads_) t->vc.clear();
  if (races_on_)
    for (auto& t : threads_) tick(t->vc, t->id);
}

void runtime::vc_release(const void* obj, bool undoable) {
  thread_rec& me = *threads_[cur_];
  undo_release_ = undoable;
  for (std::size_t i = 0; i < sync_clocks_.size(); ++i) {
    sync_clock& c = sync_clocks_[i];
    if (c.obj == obj) {
      if (undoable) {
        undo_index_ = i;
        undo_vc_ = c.vc;
      }
      join_into(c.vc, me.vc);
      tick(me.vc, cur_);
      return;
    }
  }
  if (undoable) {
    undo_index_ = sync_clocks_.size();
    undo_vc_.clear();
  }
  sync_clocks_.push_back(sync_clock{obj, me.vc});
  tick(me.vc, cur_);
}

// The compare-exchange or read-modify-write just released turned out to
// change nothing (a failed CAS): it was a read, and a read releases nothing
// (dpor also treats it as a read; the two must agree on what orders what).
void runtime::vc_undo_release() {
  if (!undo_release_) return;
  undo_release_ = false;
  thread_rec& me = *threads_[cur_];
  if (cur_ < me.vc.size()) --me.vc[cur_];
  if (undo_vc_.empty() && undo_index_ + 1 == sync_clocks_.size()) sync_clocks_.pop_back();
  else sync_clocks_[undo_index_].vc = undo_vc_;
}

void runtime::vc_acquire(const void* obj) {
  for (const sync_clock& c : sync_clocks_) {
    if (c.obj == obj) {
      join_into(threads_[cur_]->vc, c.vc);
      return;
    }
  }
}

void runtime::vc_spawn(std::uint32_t child) {
  thread_rec& me = *threads_[cur_];
  thread_rec& c = *threads_[child];
  c.vc = me.vc;
  tick(c.vc, child);
  tick(me.vc, cur_);
}

void runtime::vc_join(std::uint32_t child) { join_into(threads_[cur_]->vc, threads_[child]->vc); }

void runtime::plain_access(const void* addr, std::size_t size, bool write, const std::source_location& loc) {
  (void)size;
  if (aborting_) return;
  if (!races_on_) {
    // Turned on now: the synchronisation so far was not tracked, so this
    // execution starts over with the clocks on from its first step (the
    // strategy repeats the same choices; see strategy::restart()).
    races_on_ = true;
    restart_ = true;
    aborting_ = true;
    if (!no_throw()) throw abort_execution{};
    return;
  }
  const std::vector<std::uint32_t>& vc = threads_[cur_]->vc;
  shadow* s = nullptr;
  for (shadow& x : shadows_)
    if (x.addr == addr) s = &x;
  if (s == nullptr) {
    shadows_.push_back(shadow{addr, 0, 0, {}, {}, {}});
    s = &shadows_.back();
  }
  auto race = [&](std::uint32_t other, const std::source_location& other_loc, bool other_write) {
    const std::string what = object_label(addr, 0);
    const std::string name = what == "object" ? std::string("plain memory") : what;
    auto access_text = [&](std::uint32_t t, const std::source_location& l, bool w) {
      return thread_label(t) + (w ? " wrote " : " read ") + name + " at " +
             (l.line() != 0 ? loc_text(l) : std::string("an unknown line (an implicit read: use load())"));
    };
    std::string details = "  first:  " + access_text(other, other_loc, other_write) + "\n" +
                          "  second: " + access_text(cur_, loc, write) + "\n" +
                          "  Nothing orders the two accesses: no lock held by both, no atomic or "
                          "join between them. Protect the data with one mutex, make it an "
                          "mc::atomic, or order the threads (join, a release/acquire flag).\n";
    std::string msg = "data race on " + name + ": " + thread_label(cur_) + (write ? " writes" : " reads") +
                      " it at " + (loc.line() != 0 ? loc_text(loc) : std::string("an unknown line")) +
                      " while " + thread_label(other) + (other_write ? " wrote" : " read") + " it at " +
                      (other_loc.line() != 0 ? loc_text(other_loc) : std::string("an unknown line")) +
                      " with no happens-before between them";
    if (defer_bug(bug_kind::data_race, msg, details)) return;
    if (std::uncaught_exceptions() > 0) {
      fail(bug_kind::data_race, std::move(msg), std::move(details));
      return;
    }
    fail_and_unwind(bug_kind::data_race, std::move(msg), std::move(details));
  };
  if (s->w_clock != 0 && s->w_thread != cur_ && s->w_clock > at(vc, s->w_thread)) {
    race(s->w_thread, s->w_loc, true);
    return;
  }
  if (write) {
    for (std::size_t i = 0; i < s->reads.size(); ++i) {
      const auto [t, c] = s->reads[i];
      if (t != cur_ && c > at(vc, t)) {
        race(t, s->read_locs[i], false);
        return;
      }
    }
    s->w_thread = cur_;
    s->w_clock = at(vc, cur_);
    s->w_loc = loc;
    s->reads.clear();
    s->read_locs.clear();
    return;
  }
  for (std::size_t i = 0; i < s->reads.size(); ++i) {
    if (s->reads[i].first == cur_) {
      s->reads[i].second = at(vc, cur_);
      s->read_locs[i] = loc;
      return;
    }
  }
  s->reads.emplace_back(cur_, at(vc, cur_));
  s->read_locs.push_back(loc);
}

void runtime::plain_forget(const void* addr) noexcept {
  for (std::size_t i = 0; i < shadows_.size(); ++i) {
    if (shadows_[i].addr == addr) {
      std::swap(shadows_[i], shadows_.back());
      shadows_.pop_back();
      return;
    }
  }
}

}  // namespace lockstep::mc::rt

namespace lockstep::mc::detail {

void plain_access(const void* addr, std::size_t size, bool write, const std::source_location& loc) {
  if (rt::runtime* r = rt::runtime::current()) r->plain_access(addr, size, write, loc);
}

void plain_forget(const void* addr) noexcept {
  if (rt::runtime* r = rt::runtime::current()) r->plain_forget(addr);
}

}  // namespace lockstep::mc::detail
