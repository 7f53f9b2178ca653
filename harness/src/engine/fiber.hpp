// Internal: the fiber mechanics under the engine — mmap'ed stacks with guard
// regions and a per-OS-thread pool of them, the switch (Boost.Context
// fcontext), the swap of the C++ runtime's exception state, and the calls
// that tell ThreadSanitizer and AddressSanitizer about each switch. Nothing
// here knows about threads of a model, schedules or detectors.
#pragma once

#include <boost/context/detail/fcontext.hpp>
#include <boost/version.hpp>
#include <cxxabi.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/dcheck.hpp"

// ThreadSanitizer must be told about fiber switches: without it, it sees one
// thread whose call stack never unwinds, and its per-thread state grows with
// every switch (gigabytes over a long search).
#if defined(__SANITIZE_THREAD__)
#define LOCKSTEP_TSAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOCKSTEP_TSAN_FIBERS 1
#endif
#endif
#ifdef LOCKSTEP_TSAN_FIBERS
#include <sanitizer/tsan_interface.h>
#endif
// AddressSanitizer too: it keeps the bounds of the stack it runs on, to
// unpoison a stack that is unwound (an exception) and to tell stack from
// heap; a switch it was not told about makes a fiber's frames look like wild
// accesses to it.
#if defined(__SANITIZE_ADDRESS__)
#define LOCKSTEP_ASAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOCKSTEP_ASAN_FIBERS 1
#endif
#endif
#ifdef LOCKSTEP_ASAN_FIBERS
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

// The switch itself. Boost.Context's jump_fcontext resumes the other fiber
// with an indirect jump, so the return it leaves on the CPU's return stack
// buffer is never consumed, and every return the resumed fiber then makes up
// its own frames is predicted one frame off, and they mispredict. On
// x86-64 ELF with the fcontext frame layout of Boost 1.74 (checked against
// its jump_fcontext and make_fcontext), lockstep_jump_fcontext (fiber.cpp)
// is the same switch ending in a return, which the buffer predicts. Other
// targets use Boost's.
#if defined(__x86_64__) && defined(__ELF__) && BOOST_VERSION / 100 == 1074
#define LOCKSTEP_OWN_JUMP 1
extern "C" boost::context::detail::transfer_t lockstep_jump_fcontext(boost::context::detail::fcontext_t to,
                                                                     void* data) noexcept;
#endif

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

// The floating-point control state: MXCSR and the x87 control word (rounding
// mode, exception masks, flush-to-zero). Each fiber keeps its own, as an OS
// thread does: the switch saves both into the frame it leaves and loads them
// from the frame it resumes. A slot's fiber runs one task after another, so
// a task would begin with the state the slot's previous task left (and
// make_fcontext takes the state of whichever context creates the fiber):
// fiber_set_fp writes the state a suspended fiber resumes with. The runtime
// starts an execution's thread 0 with the state explore() was called with,
// and a spawned thread with its creator's, as pthread_create does. With
// Boost's own switch (other targets) it does nothing.
struct fp_control {
  std::uint32_t mxcsr = 0;
  std::uint16_t x87 = 0;
};
#ifdef LOCKSTEP_OWN_JUMP
inline fp_control read_fp_control() noexcept {
  fp_control c;
  asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(c.mxcsr), "=m"(c.x87));
  return c;
}
// The frame at a suspended fiber's context (Boost 1.74's fcontext layout,
// which lockstep_jump_fcontext restores from): MXCSR at 0, the x87 control
// word at 4.
inline void fiber_set_fp(fiber_slot& f, const fp_control& c) noexcept {
  auto* frame = static_cast<unsigned char*>(f.ctx);
  __builtin_memcpy(frame, &c.mxcsr, sizeof c.mxcsr);
  __builtin_memcpy(frame + 4, &c.x87, sizeof c.x87);
}
#else
inline fp_control read_fp_control() noexcept { return {}; }
inline void fiber_set_fp(fiber_slot&, const fp_control&) noexcept {}
#endif
// At the top of `entry`: where the fiber that started it stopped.
void fiber_entered(fiber_transfer t) noexcept;
// The fiber `f` will not run again (ThreadSanitizer's context is freed).
void fiber_destroy(fiber_slot& f) noexcept;
// Whether AddressSanitizer tracks fibers in this build (each fiber then owns
// a fake stack until it leaves for good).
bool fibers_have_fake_stacks() noexcept;

// This OS thread's exception state (abi::__cxa_get_globals() is a call into
// libstdc++ that reads its TLS through __tls_get_addr: kept here, the switch
// reads one initial-exec TLS word instead).
inline constinit thread_local eh_globals* tl_eh [[gnu::tls_model("initial-exec")]] = nullptr;
// Before this OS thread's first switch (the runtime's constructor).
inline void fiber_thread_init() noexcept {
  if (tl_eh == nullptr) tl_eh = reinterpret_cast<eh_globals*>(abi::__cxa_get_globals());
}

// Switches from the running fiber (saved into `from`) to `to`. `last`:
// `from` is never resumed (AddressSanitizer then frees its fake stack).
// Inline into each caller: the fewer frames the resumed fiber returns
// through, the fewer returns can be mispredicted (see above).
[[gnu::always_inline]] inline void fiber_switch(fiber_slot& from, fiber_slot& to, [[maybe_unused]] bool last = false) {
  eh_globals* eh = tl_eh;  // set by fiber_thread_init()
  LOCKSTEP_DCHECK(eh != nullptr);
  from.eh = *eh;
  *eh = to.eh;
#ifdef LOCKSTEP_TSAN_FIBERS
  if (from.tsan_fiber == nullptr) from.tsan_fiber = __tsan_get_current_fiber();  // the host
  __tsan_switch_to_fiber(to.tsan_fiber, 0);  // 0: the switch orders the fibers' accesses
#endif
#ifdef LOCKSTEP_ASAN_FIBERS
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(last ? nullptr : &fake_stack, to.stack_bottom, to.stack_bytes);
#endif
#ifdef LOCKSTEP_OWN_JUMP
  bctx::transfer_t t = lockstep_jump_fcontext(to.ctx, &from);
#else
  bctx::transfer_t t = bctx::jump_fcontext(to.ctx, &from);
#endif
  // Whoever switched back to us passed its own slot: remember where it stopped.
  auto* back = static_cast<fiber_slot*>(t.data);
#ifdef LOCKSTEP_ASAN_FIBERS
  // ... and its stack (how the host's stack becomes known).
  __sanitizer_finish_switch_fiber(fake_stack, &back->stack_bottom, &back->stack_bytes);
#endif
  back->ctx = t.fctx;
}

}  // namespace lockstep::mc::rt
