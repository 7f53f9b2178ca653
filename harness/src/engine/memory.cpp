// The memory model under options::memory_model = rc11 (see memory.hpp).
#include "engine/memory.hpp"

#include <algorithm>
#include <cstring>

#include "detectors/races.hpp"

namespace lockstep::mc::rt {


void weak_memory::reset(bool on) {
  on_ = on;
  for (std::size_t i = 0; i < loc_of_obj_.size(); ++i) loc_of_obj_[i] = 0;
  nlocs_ = 0;
  for (thread_state& s : threads_) {
    s.cur.clear();
    s.rel_fence.clear();
    s.has_rel_fence = false;
    s.rel_fence_clock = 0;
    s.acq_pending.clear();
    s.acq_pending_clock = 0;
    s.spun.clear();
  }
  views_.clear();
  sc_fences_.clear();
  for (view& v : sync_) v.clear();
}

std::uint32_t weak_memory::location_of(std::uint32_t obj, std::uint64_t value) {
  if (obj < loc_of_obj_.size() && loc_of_obj_[obj] != 0) return loc_of_obj_[obj] - 1;
  if (loc_of_obj_.size() <= obj) loc_of_obj_.resize(obj + 1, 0);
  if (nlocs_ == locs_.size()) locs_.emplace_back();
  location& l = locs_[nlocs_];
  l.msgs.clear();
  l.mo.clear();
  l.last_sc = 0;
  l.chain = 0;
  message init;
  init.value = value;
  l.msgs.push_back(init);
  l.mo.push_back(0);
  loc_of_obj_[obj] = static_cast<std::uint32_t>(++nlocs_);
  return static_cast<std::uint32_t>(nlocs_ - 1);
}

void weak_memory::raise(view& v, std::uint32_t x, std::uint32_t msg) {
  if (v.size() <= x) v.resize(nlocs_, 0);
  if (pos_of(x, msg) > pos_of(x, v[x])) v[x] = msg;
}

void weak_memory::join_view(view& into, const view& from) {
  for (std::uint32_t x = 0; x < from.size(); ++x)
    if (from[x] != 0) raise(into, x, from[x]);
}

void weak_memory::join_stored(view& into, std::uint32_t off, std::uint32_t len) {
  for (std::uint32_t x = 0; x < len; ++x)
    if (const std::uint32_t m = views_[off + x]; m != 0) raise(into, x, m);
}

std::uint32_t weak_memory::stash(const view& v) {
  const auto off = static_cast<std::uint32_t>(views_.size());
  views_.insert(views_.end(), v.begin(), v.end());
  return off;
}

std::uint32_t weak_memory::floor(const thread_state& s, std::uint32_t x, bool sc) const noexcept {
  std::uint32_t p = x < s.cur.size() ? pos_of(x, s.cur[x]) : 0;
  if (sc) p = std::max(p, pos_of(x, locs_[x].last_sc));
  return p;
}

void weak_memory::take(thread_state& s, std::uint32_t t, const message& m, bool acquire) {
  if (m.view != kNone) join_stored(acquire ? s.cur : s.acq_pending, m.view, m.view_len);
  if (m.clock != 0) {
    if (acquire) races_.acquire(t, m.clock);
    else s.acq_pending_clock = races_.join(s.acq_pending_clock, m.clock);
  }
}

std::uint32_t weak_memory::readable(std::uint32_t t, std::uint32_t x, bool sc) {
  thread_state& s = th(t);
  take_fence_view(s, sc);
  return static_cast<std::uint32_t>(locs_[x].mo.size()) - floor(s, x, sc);
}

std::uint32_t weak_memory::read(std::uint32_t t, std::uint32_t x, std::uint32_t k, std::memory_order o) {
  const location& l = locs_[x];
  return read_message(t, x, l.mo[l.mo.size() - 1 - k], o);
}

std::uint32_t weak_memory::read_message(std::uint32_t t, std::uint32_t x, std::uint32_t msg, std::memory_order o) {
  thread_state& s = th(t);
  const location& l = locs_[x];
  raise(s.cur, x, msg);
  take(s, t, l.msgs[msg], acquires(o));
  if (std::find(s.spun.begin(), s.spun.end(), x) == s.spun.end()) s.spun.push_back(x);
  return msg;
}

void weak_memory::read_latest(std::uint32_t t, std::uint32_t x) { raise(th(t).cur, x, locs_[x].mo.back()); }

std::uint32_t weak_memory::rmw_readable(std::uint32_t t, std::uint32_t x, bool sc) {
  thread_state& s = th(t);
  take_fence_view(s, sc);
  return unread_from(locs_[x], floor(s, x, sc));
}

std::uint32_t weak_memory::unread_from(const location& l, std::uint32_t from) const noexcept {
  const auto last = static_cast<std::uint32_t>(l.mo.size() - 1);
  const std::uint32_t hi = std::max(from, std::min(l.chain, last));  // [hi, last) all read
  std::uint32_t n = 1;                                              // the last message
  for (std::uint32_t p = from; p < hi; ++p) n += l.msgs[l.mo[p]].read_by_rmw ? 0 : 1;
  return n;
}

std::uint32_t weak_memory::rmw_message(std::uint32_t, std::uint32_t x, std::uint32_t k) const {
  const location& l = locs_[x];
  if (k == 0) return l.mo.back();
  --k;
  for (std::size_t p = std::min<std::size_t>(l.chain, l.mo.size() - 1); p-- > 0;) {
    const std::uint32_t m = l.mo[p];
    if (l.msgs[m].read_by_rmw) continue;
    if (k-- == 0) return m;
  }
  return l.mo.back();
}

std::uint32_t weak_memory::cas_readable(std::uint32_t t, std::uint32_t x, bool sc, std::uint64_t expected) {
  thread_state& s = th(t);
  take_fence_view(s, sc);
  const location& l = locs_[x];
  std::uint32_t n = 0;
  for (std::uint32_t p = floor(s, x, sc); p < l.mo.size(); ++p) {
    const message& m = l.msgs[l.mo[p]];
    n += m.read_by_rmw && m.value == expected ? 0 : 1;
  }
  return n;
}

std::uint32_t weak_memory::cas_message(std::uint32_t, std::uint32_t x, std::uint32_t k, std::uint64_t expected) const {
  const location& l = locs_[x];
  for (std::size_t p = l.mo.size(); p-- > 0;) {
    const std::uint32_t m = l.mo[p];
    if (l.msgs[m].read_by_rmw && l.msgs[m].value == expected) continue;
    if (k-- == 0) return m;
  }
  return l.mo.back();
}

std::uint32_t weak_memory::placements(std::uint32_t t, std::uint32_t x, bool sc) {
  // A store goes after any message from the floor on, except between a
  // message and the read-modify-write that read it.
  return unread_from(locs_[x], floor(th(t), x, sc));
}

bool weak_memory::store(std::uint32_t t, std::uint32_t x, std::uint32_t k, std::uint64_t value,
                         std::memory_order o, std::uint32_t event, std::uint32_t after_rmw) {
  thread_state& s = th(t);
  location& l = locs_[x];
  std::uint32_t p;  // the new message's position
  if (after_rmw != kNone) {
    l.msgs[after_rmw].read_by_rmw = true;
    p = l.msgs[after_rmw].pos + 1;
  } else {
    p = static_cast<std::uint32_t>(l.mo.size());
    if (k > 0) p = std::min<std::uint32_t>(p - 1, std::max<std::uint32_t>(l.chain, 1));  // past the chain
    for (std::uint32_t skip = k == 0 ? 0 : k - 1;; --p) {  // the k-th allowed gap from the end
      if (!l.msgs[l.mo[p - 1]].read_by_rmw) {
        if (skip == 0) break;
        --skip;
      }
    }
  }
  message m;
  m.value = value;
  m.event = event;
  m.thread = t;
  m.pos = p;
  m.sc = o == std::memory_order_seq_cst;
  // What it carries: the writer's view when it releases, else what the
  // writer had at its last release fence; a read-modify-write also carries
  // on what the message it read carried (a release sequence).
  const message* read = after_rmw != kNone ? &l.msgs[after_rmw] : nullptr;
  const view* own = releases(o) ? &s.cur : s.has_rel_fence ? &s.rel_fence : nullptr;
  if (own != nullptr || (read != nullptr && read->view != kNone)) {
    if (own != nullptr) {
      m.view = stash(*own);
      m.view_len = static_cast<std::uint32_t>(own->size());
      if (read != nullptr && read->view != kNone) {
        // Join the read message's view into the stashed copy.
        if (m.view_len < read->view_len) {
          views_.resize(views_.size() + (read->view_len - m.view_len), 0);
          m.view_len = read->view_len;
        }
        for (std::uint32_t y = 0; y < read->view_len; ++y) {
          const std::uint32_t a = views_[m.view + y], b = views_[read->view + y];
          if (b != 0 && (a == 0 || pos_of(y, b) > pos_of(y, a))) views_[m.view + y] = b;
        }
      }
    } else {
      m.view = read->view;
      m.view_len = read->view_len;
    }
  }
  if (races_.on()) {
    const std::uint32_t mine = releases(o) ? races_.snapshot(t) : s.has_rel_fence ? s.rel_fence_clock : 0;
    m.clock = read != nullptr ? races_.join(read->clock, mine) : mine;
  }
  const auto idx = static_cast<std::uint32_t>(l.msgs.size());
  const bool at_end = p == l.mo.size();
  for (std::size_t q = p; q < l.mo.size(); ++q) ++l.msgs[l.mo[q]].pos;
  l.mo.insert(l.mo.begin() + p, idx);
  l.msgs.push_back(m);
  if (at_end && after_rmw == kNone) {
    l.chain = p;  // the message before it was read by no RMW
  } else if (!at_end) {
    l.chain = static_cast<std::uint32_t>(l.mo.size() - 1);
    while (l.chain > 0 && l.msgs[l.mo[l.chain - 1]].read_by_rmw) --l.chain;
  }  // else an RMW after the last message: the chain grows
  if (m.sc) l.last_sc = idx;
  raise(s.cur, x, idx);
  return p + 1 == l.mo.size();
}

void weak_memory::take_fence_view(thread_state& s, bool sc) {
  if (sc && !sc_fences_.empty()) join_view(s.cur, sc_fences_);
}

void weak_memory::fence_sc(thread_state& s) {
  if (s.cur.size() < nlocs_) s.cur.resize(nlocs_, 0);
  for (std::uint32_t x = 0; x < nlocs_; ++x) raise(s.cur, x, locs_[x].last_sc);
  join_view(s.cur, sc_fences_);
  sc_fences_ = s.cur;
}

void weak_memory::fence(std::uint32_t t, std::memory_order o) {
  thread_state& s = th(t);
  if (acquires(o)) {
    join_view(s.cur, s.acq_pending);
    s.acq_pending.clear();
    if (s.acq_pending_clock != 0) races_.acquire(t, s.acq_pending_clock);
    s.acq_pending_clock = 0;
  }
  if (o == std::memory_order_seq_cst) fence_sc(s);
  if (releases(o)) {
    s.rel_fence = s.cur;
    s.has_rel_fence = true;
    if (races_.on()) s.rel_fence_clock = races_.snapshot(t);
  }
}

bool weak_memory::yielded(std::uint32_t t) {
  thread_state& s = th(t);
  bool moved = false;
  for (const std::uint32_t x : s.spun) {
    const std::uint32_t latest = locs_[x].mo.back();
    moved = moved || pos_of(x, latest) > floor(s, x, false);
    raise(s.cur, x, latest);
  }
  s.spun.clear();
  return moved;
}

void weak_memory::spawned(std::uint32_t parent, std::uint32_t child) {
  th(std::max(parent, child));
  thread_state& c = threads_[child];
  c = thread_state{};
  c.cur = threads_[parent].cur;
}

void weak_memory::joined(std::uint32_t joiner, std::uint32_t child) {
  th(std::max(joiner, child));
  join_view(threads_[joiner].cur, threads_[child].cur);
}

void weak_memory::release_to(std::uint32_t obj, std::uint32_t t) {
  if (sync_.size() <= obj) sync_.resize(obj + 1);
  sync_[obj] = th(t).cur;
}

void weak_memory::release_join_to(std::uint32_t obj, std::uint32_t t) {
  if (sync_.size() <= obj) sync_.resize(obj + 1);
  join_view(sync_[obj], th(t).cur);
}

void weak_memory::acquire_from(std::uint32_t obj, std::uint32_t t) {
  if (obj < sync_.size()) join_view(th(t).cur, sync_[obj]);
}

}  // namespace lockstep::mc::rt
