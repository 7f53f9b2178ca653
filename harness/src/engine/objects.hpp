// Internal: the object store of one execution. Every object the checker
// keeps facts about — a lock or other primitive that annotates itself, a
// named atomic, a futex word that was notified, a plain location the race
// detector shadows — has one record here, found by its address and then
// known by its id (1, 2, ... in the order the execution first touched it).
// Detectors keep their per-object state in vectors indexed by that id.
//
// The ids are the store's own: the ids of checked atomics in events and
// traces (object_handle) are assigned by the engine when a thread reaches its
// point, whether or not the store ever sees the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <vector>

#include "lockstep/mc/hooks.hpp"

namespace lockstep::mc::rt {

inline constexpr std::uint32_t kNoThread = 0xffffffffu;
// Detectors reserve their per-thread state for this many threads at a
// runtime's first execution, so a small model allocates it once.
inline constexpr std::size_t kThreadsReserved = 16;

struct holder {
  std::uint32_t thread;
  lock_mode mode;
  std::source_location loc;
};

struct notify_rec {
  std::uint32_t thread;
  std::uint64_t step;
  std::source_location loc;
};

struct object_rec {
  const void* addr = nullptr;
  // A lock or other primitive that announced acquisitions (a resource of
  // the wait-for graph) until it is destroyed.
  bool resource = false;
  lock_kind kind = lock_kind::other;
  std::uint32_t ordinal = 0;           // among resources: "lock #2"
  std::vector<holder> holders;
  std::vector<std::uint32_t> waiters;  // threads that wait for it in a futex wait (deadlock.hpp)
  std::uint32_t joins = 0;             // threads that joined waiters so far (bounded bypass)
  std::vector<notify_rec> notifies;    // notify_one/all on it, in order (lost wake-ups)
  bool progress_mark = false;          // acquiring it is progress (mc::progress_on_acquire)
  std::uint32_t retry_winner = kNoThread;  // the latest thread to win an optimistic retry on it
};

class object_store {
 public:
  // A new execution: no object (records keep their vectors' capacity; each
  // is made fresh when an object takes it).
  void reset() noexcept;
  // The id of the object at `addr`, 0 if the execution has not touched it.
  // The latest object found is remembered: a primitive's annotations name
  // the same object several times in a row.
  [[nodiscard]] std::uint32_t find(const void* addr) const noexcept {
    if (addr == last_addr_ && last_id_ != 0) return last_id_;
    return find_slow(addr);
  }
  // Its id, a new record if needed.
  std::uint32_t intern(const void* addr) {
    if (const std::uint32_t id = find(addr)) return id;
    return add(addr);
  }
  [[nodiscard]] object_rec& operator[](std::uint32_t id) noexcept { return recs_[id - 1]; }
  [[nodiscard]] const object_rec& operator[](std::uint32_t id) const noexcept { return recs_[id - 1]; }
  // Ids are 1..size().
  [[nodiscard]] std::uint32_t size() const noexcept { return n_; }
  // The record of `addr` or nullptr.
  [[nodiscard]] object_rec* get(const void* addr) noexcept {
    const std::uint32_t id = find(addr);
    return id != 0 ? &(*this)[id] : nullptr;
  }
  [[nodiscard]] const object_rec* get(const void* addr) const noexcept {
    const std::uint32_t id = find(addr);
    return id != 0 ? &(*this)[id] : nullptr;
  }
  // Names (mc::name(), a primitive's name) are kept apart from the records:
  // naming an object, which most models do for every primitive in every
  // execution, makes no record for it. The latest name given at `addr`
  // counts; unname() takes it back (the object was destroyed). Up to
  // kLinear names they are a list; from then on a hash table, so that each
  // is a look-up whatever the number of names or the order the objects are
  // destroyed in.
  void name(const void* addr, const char* name) {
    if (name_room_ != 0) [[likely]] {
      --name_room_;
      names_.push_back({addr, name});
      return;
    }
    name_more(addr, name);
  }
  void unname(const void* addr) noexcept;
  [[nodiscard]] const char* name_of(const void* addr) const noexcept;
  // `r` becomes a resource (a new ordinal) unless it is one.
  void make_resource(object_rec& r, lock_kind kind) noexcept;
  // The primitive at `r` was destroyed: a later one at its address is another
  // resource (its other facts stay with the address).
  static void end_resource(object_rec& r) noexcept;

 private:
  static constexpr std::uint32_t kLinear = 8;  // up to this many objects: no hash table
  struct slot {
    const void* addr;
    std::uint32_t id;
    std::uint32_t gen;  // a slot of an older execution is empty
  };
  std::size_t home(const void* addr) const noexcept;
  std::uint32_t find_slow(const void* addr) const noexcept;
  [[gnu::noinline]] std::uint32_t add(const void* addr);  // intern() of an object not yet in the store
  void fresh(object_rec& r) noexcept;
  void rehash();

  struct name_rec {
    const void* addr;
    const char* name;
  };
  struct name_slot {
    const void* addr;
    const char* name;
    std::uint32_t gen;  // a slot of an older execution is empty
  };
  std::size_t name_home(const void* addr) const noexcept;  // its first slot in name_slots_
  void hash_names(std::size_t n);                           // name_slots_ grows to n slots
  void hashed_name(const void* addr, const char* name);
  [[gnu::noinline]] void name_more(const void* addr, const char* name);  // name() past kLinear
  // Where the latest name given at addr is kept (in names_ or name_slots_),
  // or nullptr; writable when the store is.
  template <class Store>
  static auto name_at(Store& self, const void* addr) noexcept -> decltype(&self.names_[0].name);
  std::vector<name_rec> names_;   // this execution's first kLinear names, in the order given
  std::uint32_t name_room_ = kLinear;  // names_ takes this many more
  std::vector<name_slot> name_slots_;  // open addressing, a power of two
  std::uint32_t hashed_ = 0;      // names in name_slots_; once there is one, all are there
  std::vector<object_rec> recs_;  // [0, n_) live
  std::uint32_t n_ = 0;
  std::uint32_t ordinals_ = 0;
  std::vector<slot> slots_;       // open addressing, a power of two
  std::uint32_t gen_ = 1;
  mutable const void* last_addr_ = nullptr;  // find()'s latest answer (id 0: none)
  mutable std::uint32_t last_id_ = 0;
};

}  // namespace lockstep::mc::rt
