#include "engine/fiber.hpp"

#include <cxxabi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <new>
#include <vector>

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

namespace lockstep::mc::rt {

// ---------------------------------------------------------------------------
// Stacks

fiber_stack::fiber_stack(std::size_t size) : requested_(size) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  guard_ = ((kGuard + page - 1) / page) * page;
  size_ = ((size + page - 1) / page) * page + guard_;
  base_ = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (base_ == MAP_FAILED) throw std::bad_alloc();
  ::mprotect(base_, guard_, PROT_NONE);  // overflow faults (a stack_overflow report) instead of corrupting
}

fiber_stack::~fiber_stack() {
  if (base_ == nullptr) return;
#ifdef LOCKSTEP_ASAN_FIBERS
  // The frames a fiber left on this stack (the ones it parked in when it
  // left for good) are still poisoned, and AddressSanitizer does not clear
  // the shadow of unmapped memory (clang 16's runtime does not on munmap or
  // mmap): whatever is mapped here next, such as libbacktrace's buffers,
  // would otherwise be reported as a stack buffer underflow.
  __asan_unpoison_memory_region(static_cast<char*>(top()) - size(), size());
#endif
  ::munmap(base_, size_);
}

namespace {
// Stacks outlive a runtime: the next explore() on this OS thread takes them
// back warm (already mapped and faulted in) instead of mapping new ones.
// Only memory is reused; each runtime makes its own fibers on it.
thread_local std::vector<std::unique_ptr<fiber_stack>> tl_stack_pool;
constexpr std::size_t kMaxPooledStacks = 256;
}  // namespace

std::unique_ptr<fiber_stack> take_stack(std::size_t size) {
  auto& pool = tl_stack_pool;
  for (std::size_t i = pool.size(); i-- > 0;) {
    if (pool[i]->requested() == size) {
      std::unique_ptr<fiber_stack> s = std::move(pool[i]);
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(i));
      return s;
    }
  }
  return std::make_unique<fiber_stack>(size);
}

void give_back_stack(std::unique_ptr<fiber_stack> s) {
  if (s != nullptr && tl_stack_pool.size() < kMaxPooledStacks) tl_stack_pool.push_back(std::move(s));
}

// ---------------------------------------------------------------------------
// Switching

void fiber_create(fiber_slot& to, fiber_stack& stack, void (*entry)(fiber_transfer)) {
  to.ctx = bctx::make_fcontext(stack.top(), stack.size(), entry);
  to.stack_bottom = static_cast<char*>(stack.top()) - stack.size();
  to.stack_bytes = stack.size();
#ifdef LOCKSTEP_ASAN_FIBERS
  // A pooled stack may hold the poisoned frames of a fiber that was parked
  // on it when its runtime ended.
  __asan_unpoison_memory_region(to.stack_bottom, to.stack_bytes);
#endif
#ifdef LOCKSTEP_TSAN_FIBERS
  to.tsan_fiber = __tsan_create_fiber(0);
#endif
}

void fiber_entered(fiber_transfer t) noexcept {
  auto* from = static_cast<fiber_slot*>(t.data);
#ifdef LOCKSTEP_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(nullptr, &from->stack_bottom, &from->stack_bytes);
#endif
  from->ctx = t.fctx;
}

namespace {
// This OS thread's exception state (abi::__cxa_get_globals() is a call into
// libstdc++ that reads its TLS through __tls_get_addr: kept here, the switch
// reads one initial-exec TLS word instead).
constinit thread_local eh_globals* tl_eh [[gnu::tls_model("initial-exec")]] = nullptr;
}  // namespace

void fiber_switch(fiber_slot& from, fiber_slot& to, [[maybe_unused]] bool last) {
  eh_globals* eh = tl_eh;
  if (eh == nullptr) [[unlikely]]
    eh = tl_eh = reinterpret_cast<eh_globals*>(abi::__cxa_get_globals());
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
  bctx::transfer_t t = bctx::jump_fcontext(to.ctx, &from);
  // Whoever switched back to us passed its own slot: remember where it stopped.
  auto* back = static_cast<fiber_slot*>(t.data);
#ifdef LOCKSTEP_ASAN_FIBERS
  // ... and its stack (how the host's stack becomes known).
  __sanitizer_finish_switch_fiber(fake_stack, &back->stack_bottom, &back->stack_bytes);
#endif
  back->ctx = t.fctx;
}

void fiber_destroy([[maybe_unused]] fiber_slot& f) noexcept {
#ifdef LOCKSTEP_TSAN_FIBERS
  if (f.tsan_fiber != nullptr) __tsan_destroy_fiber(f.tsan_fiber);
  f.tsan_fiber = nullptr;
#endif
}

bool fibers_have_fake_stacks() noexcept {
#ifdef LOCKSTEP_ASAN_FIBERS
  return true;
#else
  return false;
#endif
}

}  // namespace lockstep::mc::rt
