// Internal: the fiber mechanics under the engine — mmap'ed stacks with guard
// regions and a per-OS-thread pool of them, the switch (Boost.Context
// fcontext), the swap of the C++ runtime's exception state, and the calls
// that tell ThreadSanitizer and AddressSanitizer about each switch. Nothing
// here knows about threads of a model, schedules or detectors.
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace lockstep::mc::rt {

namespace bctx = boost::context::detail;
using fiber_transfer = bctx::transfer_t;

// The C++ runtime keeps the exceptions being caught or thrown per OS thread
// (__cxa_eh_globals); fibers share one OS thread, so each keeps its own copy
// and a switch swaps them. Layout of libstdc++/libsupc++ on this platform.
struct eh_globals {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

struct fiber_slot {
  bctx::fcontext_t ctx = nullptr;  // where to resume this fiber (or host)
  eh_globals eh;                   // its exception state while suspended
  void* tsan_fiber = nullptr;      // ThreadSanitizer's context for it (TSan builds only)
  const void* stack_bottom = nullptr;  // its stack, for AddressSanitizer (ASan builds only)
  std::size_t stack_bytes = 0;
};

// An mmap'ed stack with a guard region below it. The region is far larger
// than a page (kGuard) so that a frame bigger than what is left of the stack,
// which jumps past a single page, still lands in it and faults (a report of
// a stack overflow) instead of writing into whatever lies below.
class fiber_stack {
 public:
  explicit fiber_stack(std::size_t size);
  ~fiber_stack();
  fiber_stack(const fiber_stack&) = delete;
  fiber_stack& operator=(const fiber_stack&) = delete;
  void* top() const noexcept { return static_cast<char*>(base_) + size_; }
  std::size_t size() const noexcept { return size_ - guard_; }
  std::size_t requested() const noexcept { return requested_; }
  // Whether `p` lies in the guard region.
  bool guards(const void* p) const noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(base_);
    return a >= b && a - b < guard_;
  }
  static constexpr std::size_t kGuard = 1024 * 1024;

 private:
  std::size_t requested_ = 0;
  void* base_ = nullptr;
  std::size_t size_ = 0;
  std::size_t guard_ = 0;
};

// A per-OS-thread pool of stacks, so explore() calls after the first one on
// a thread map nothing.
std::unique_ptr<fiber_stack> take_stack(std::size_t size);
void give_back_stack(std::unique_ptr<fiber_stack> s);

// Makes `to` a fiber on `stack` that starts in `entry` at its first switch.
void fiber_create(fiber_slot& to, fiber_stack& stack, void (*entry)(fiber_transfer));
// At the top of `entry`: where the fiber that started it stopped.
void fiber_entered(fiber_transfer t) noexcept;
// Switches from the running fiber (saved into `from`) to `to`. `last`:
// `from` is never resumed (AddressSanitizer then frees its fake stack).
void fiber_switch(fiber_slot& from, fiber_slot& to, bool last = false);
// The fiber `f` will not run again (ThreadSanitizer's context is freed).
void fiber_destroy(fiber_slot& f) noexcept;
// Whether AddressSanitizer tracks fibers in this build (each fiber then owns
// a fake stack until it leaves for good).
bool fibers_have_fake_stacks() noexcept;

}  // namespace lockstep::mc::rt
