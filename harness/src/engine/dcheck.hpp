// Internal: LOCKSTEP_DCHECK(cond), the checker's own invariants (the dpor
// frames and transitions, the engine's enabled set). On in debug and
// sanitizer builds (no NDEBUG), and wherever LOCKSTEP_CHECK_INVARIANTS is
// defined; compiled out of release builds. A failed check is a bug in
// lockstep, not in the code under test: it prints the condition and where,
// and aborts.
#pragma once

namespace lockstep::mc::rt {
[[noreturn, gnu::cold]] void dcheck_failed(const char* cond, const char* file, int line) noexcept;
}  // namespace lockstep::mc::rt

#if !defined(NDEBUG) || defined(LOCKSTEP_CHECK_INVARIANTS)
#define LOCKSTEP_DCHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::lockstep::mc::rt::dcheck_failed(#cond, __FILE__, __LINE__))
#else
#define LOCKSTEP_DCHECK(cond) static_cast<void>(0)
#endif
