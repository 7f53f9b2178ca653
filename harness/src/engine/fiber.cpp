#include "engine/fiber.hpp"

#include <cxxabi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <new>
#include <vector>

#ifdef LOCKSTEP_OWN_JUMP
// Boost 1.74's jump_fcontext (x86-64 SysV ELF), ending in `ret` instead of
// `jmp *%r8`: the frame below the saved registers holds the address to
// resume at (a switch's return address, or make_fcontext's trampoline).
// The MXCSR and x87 control words are kept per fiber, as Boost keeps them
// (fiber_set_fp in fiber.hpp writes the ones a parked fiber resumes with).
// Each is loaded only when it differs from the one being left: loading
// either is slow (a pipeline serialisation on many x86-64 cores), and the
// fibers of a model nearly always run with the same state.
asm(R"(
  .pushsection .text
  .globl lockstep_jump_fcontext
  .hidden lockstep_jump_fcontext
  .type lockstep_jump_fcontext,@function
  .align 16
lockstep_jump_fcontext:
  leaq -0x38(%rsp), %rsp
  stmxcsr (%rsp)
  fnstcw 0x4(%rsp)
  movq %r12, 0x8(%rsp)
  movq %r13, 0x10(%rsp)
  movq %r14, 0x18(%rsp)
  movq %r15, 0x20(%rsp)
  movq %rbx, 0x28(%rsp)
  movq %rbp, 0x30(%rsp)
  movq %rsp, %rax
  movq %rdi, %rsp
  movl (%rax), %ecx
  cmpl (%rsp), %ecx
  je 1f
  ldmxcsr (%rsp)
1:
  movzwl 0x4(%rax), %ecx
  cmpw 0x4(%rsp), %cx
  je 2f
  fldcw 0x4(%rsp)
2:
  movq 0x8(%rsp), %r12
  movq 0x10(%rsp), %r13
  movq 0x18(%rsp), %r14
  movq 0x20(%rsp), %r15
  movq 0x28(%rsp), %rbx
  movq 0x30(%rsp), %rbp
  leaq 0x38(%rsp), %rsp
  movq %rsi, %rdx
  movq %rax, %rdi
  ret
  .size lockstep_jump_fcontext, .-lockstep_jump_fcontext
  .popsection
)");
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
