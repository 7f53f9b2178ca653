// lockstep/shared_mutex.hpp — a reader-writer lock with a choice of policy.
//
// Contract: std::shared_mutex's (lock/try_lock/unlock for the one writer,
// lock_shared/try_lock_shared/unlock_shared for readers), so std::unique_lock,
// std::shared_lock and std::scoped_lock work with it. Upgrading a shared hold
// to an exclusive one is not offered (it deadlocks two upgraders).
//
// Policies say who goes first when both readers and writers wait:
//   reader_preferring  a reader enters whenever no writer holds the lock,
//                      even while writers wait. Highest read throughput; a
//                      steady stream of readers starves writers forever.
//   writer_preferring  a reader waits while any writer waits. Writers never
//                      starve; a steady stream of writers starves readers.
//   fair               phase-fair: a reader waits while a writer waits, and
//                      when a writer leaves, every reader waiting at that
//                      moment enters before the next writer. Neither side
//                      starves (the default).
//
// Memory ordering: as for a mutex: acquiring (shared or exclusive) is
// acquire, releasing is release; an exclusive section happens-before every
// later section, and every shared section happens-before the next exclusive.
//
// Who may call what: unlock only by the writer, unlock_shared only by a
// reader. Unlocking a lock that is not held that way is misuse (reported by
// the checker; in production one line on stderr and abort).
//
// Lifetime: must be unlocked when destroyed.
//
// Algorithm: the counts live in plain fields guarded by an internal futex lock
// held for a few instructions; readers and writers sleep on two futex sequence
// words, bumped (under the guard) by every release that may admit them.
#pragma once

#include <cstdint>
#include <mutex>
#include <source_location>

#include "lockstep/detail/futex_lock.hpp"
#include "lockstep/platform.hpp"

namespace lockstep {

struct reader_preferring {
  static constexpr const char* name = "reader_preferring";
};
struct writer_preferring {
  static constexpr const char* name = "writer_preferring";
};
struct fair {
  static constexpr const char* name = "fair";
};

template <class Policy = fair, class P = os_platform>
class basic_shared_mutex {
 public:
  using loc = std::source_location;
  using policy = Policy;

  basic_shared_mutex() noexcept = default;
  explicit basic_shared_mutex(const char* name) noexcept { P::named(this, name); }
  basic_shared_mutex(const basic_shared_mutex&) = delete;
  basic_shared_mutex& operator=(const basic_shared_mutex&) = delete;
  ~basic_shared_mutex() { P::destroyed(this); }

  void lock(const loc& where = loc::current()) {
    P::acquiring(this, lock_kind::shared_mutex, acquire_flags::blocking, where);
    std::unique_lock g(guard_);
    if (!writer_may_enter()) {
      ++writers_waiting_;
      do sleep(g, wseq_, where);
      while (!writer_may_enter());
      --writers_waiting_;
    }
    writer_ = true;
    g.unlock();
    P::acquired(this, lock_mode::exclusive, where);
  }

  [[nodiscard]] bool try_lock(const loc& where = loc::current()) {
    P::acquiring(this, lock_kind::shared_mutex, acquire_flags::try_, where);
    std::unique_lock g(guard_);
    if (!writer_may_enter()) return false;
    writer_ = true;
    g.unlock();
    P::acquired(this, lock_mode::exclusive, where);
    return true;
  }

  void unlock(const loc& where = loc::current()) {
    const typename P::release_scope releasing;  // often in a lock guard's destructor
    P::released(this, lock_mode::exclusive, where);
    std::unique_lock g(guard_);
    if (!writer_) return P::misuse(this, "unlock of a shared mutex that is not locked exclusively", where);
    writer_ = false;
    if constexpr (is_fair) {
      // Everyone waiting to read now goes before the next writer.
      ++phase_;
      granted_ = readers_waiting_;
    }
    wake(g, readers_waiting_ != 0, writers_waiting_ != 0);
  }

  void lock_shared(const loc& where = loc::current()) {
    announce_shared(acquire_flags::blocking, where);
    std::unique_lock g(guard_);
    const std::uint32_t my_phase = phase_;
    if (!reader_may_enter(my_phase)) {
      ++readers_waiting_;
      do sleep(g, rseq_, where);
      while (!reader_may_enter(my_phase));
      --readers_waiting_;
    }
    if constexpr (is_fair) {
      if (my_phase != phase_) --granted_;  // admitted by a writer's release
    }
    ++readers_;
    g.unlock();
    P::acquired(this, lock_mode::shared, where);
  }

  [[nodiscard]] bool try_lock_shared(const loc& where = loc::current()) {
    announce_shared(acquire_flags::try_, where);
    std::unique_lock g(guard_);
    if (!reader_may_enter(phase_)) return false;
    ++readers_;
    g.unlock();
    P::acquired(this, lock_mode::shared, where);
    return true;
  }

  void unlock_shared(const loc& where = loc::current()) {
    const typename P::release_scope releasing;  // often in std::shared_lock's destructor
    P::released(this, lock_mode::shared, where);
    std::unique_lock g(guard_);
    if (readers_ == 0) return P::misuse(this, "unlock_shared of a shared mutex that no reader holds", where);
    --readers_;
    wake(g, false, writers_waiting_ != 0 && writer_may_enter());
  }

 private:
  static constexpr bool is_fair = std::is_same_v<Policy, fair>;
  using guard = detail::internal_lock<P>;
  using seq_word = typename P::template atomic<std::uint32_t>;

  bool writer_may_enter() const noexcept { return !writer_ && readers_ == 0 && granted_ == 0; }
  bool reader_may_enter(std::uint32_t my_phase) const noexcept {
    if (writer_) return false;
    if constexpr (std::is_same_v<Policy, reader_preferring>) {
      return true;
    } else if constexpr (std::is_same_v<Policy, writer_preferring>) {
      return writers_waiting_ == 0;
    } else {
      return writers_waiting_ == 0 || my_phase != phase_;
    }
  }

  // A shared acquisition says so where the platform's acquiring() takes a
  // mode (a shared one overtakes no thread waiting for shared mode).
  void announce_shared(acquire_flags flags, const loc& where) {
    if constexpr (requires { P::acquiring(this, lock_kind::shared_mutex, flags, where, lock_mode::shared); })
      P::acquiring(this, lock_kind::shared_mutex, flags, where, lock_mode::shared);
    else
      P::acquiring(this, lock_kind::shared_mutex, flags, where);
  }

  // Sleeps on `seq` with the guard released; the guard is held again after.
  static void sleep(std::unique_lock<guard>& g, seq_word& seq, const loc& where) {
    const std::uint32_t s = seq.load(std::memory_order_relaxed);
    g.unlock();
    P::wait(seq, s, where);
    g.lock();
  }

  // Bumps the sequence words under the guard, then wakes outside it.
  void wake(std::unique_lock<guard>& g, bool readers, bool writer) {
    if (readers) rseq_.fetch_add(1, std::memory_order_relaxed);
    if (writer) wseq_.fetch_add(1, std::memory_order_relaxed);
    g.unlock();
    if (readers) P::wake_all(rseq_);
    if (writer) P::wake_one(wseq_);
  }

  seq_word rseq_{0};  // first member: readers sleep here (the lock's name)
  seq_word wseq_{0};  // writers sleep here
  guard guard_;
  // Guarded by guard_:
  std::uint32_t readers_ = 0;          // readers inside
  std::uint32_t readers_waiting_ = 0;
  std::uint32_t writers_waiting_ = 0;
  std::uint32_t phase_ = 0;            // fair: writer releases so far
  std::uint32_t granted_ = 0;          // fair: readers admitted ahead of writers
  bool writer_ = false;
};

extern template class basic_shared_mutex<reader_preferring, os_platform>;
extern template class basic_shared_mutex<writer_preferring, os_platform>;
extern template class basic_shared_mutex<fair, os_platform>;
template <class Policy = fair>
using shared_mutex = basic_shared_mutex<Policy>;

}  // namespace lockstep
