// tests/sctbench — SCTBench-style programs as explore() bodies.
//
// Ports of the small buggy programs of SCTBench (Thomson, Donaldson, Betts,
// "Concurrency testing using schedule bounding: an empirical study", PPoPP
// 2014; the "CS" programs and SafeStack) and of SV-COMP's fib_bench, on the
// checked primitives: the same threads, created and joined in the same
// order, the same loop counts and the same bug, which each program reports
// as a failed LOCKSTEP_ASSERT.
//
// SCTBench schedules at synchronisation operations and at the accesses its
// race detection found racy (those become visible operations), under
// sequential consistency. The ports follow that: a variable the original
// accesses racily is an mc::atomic (every access a scheduling point), one it
// only touches under a lock is an mc::shared (plain memory under the
// data-race detector, no scheduling point); an ESBMC/SV-COMP atomic section
// is a critical section of one global mutex, as SCTBench's common.inc makes
// it. Explore them with options::memory_model = sc.
//
// Every body is re-runnable (all state lives inside it), so one function
// serves as an explore() body for any strategy.
#pragma once

#include <span>

namespace lockstep::sctbench {

// reorder_N_bad: `set_threads` threads write a = 1 then b = -1; each of
// `check_threads` threads asserts it sees both writes or neither.
// SCTBench: reorder_3 (2, 1), reorder_4 (3, 1), reorder_5 (4, 1),
// reorder_10 (9, 1), reorder_20 (10, 10).
void reorder_n(int set_threads, int check_threads);
void reorder_3();
void reorder_5();
void reorder_10();
void reorder_20();

// twostage_bad: `first_stage_threads` threads each set data1 = 1, then
// data2 = data1 + 1, under two separate locks; one checker asserts
// data2 == data1 + 1 once data1 is set. twostage (1), twostage_100 (99).
void twostage_n(int first_stage_threads);
void twostage();
void twostage_100();

// wronglock_bad: one thread increments dataValue under dataLock and asserts
// nobody else did meanwhile; `other_threads` threads increment it under a
// different lock. wronglock (7), wronglock_3 (3).
void wronglock_n(int other_threads);
void wronglock();
void wronglock_3();

// account_bad: deposit and withdraw under one lock; the checker's expected
// balance subtracts the deposit.
void account_bad();
// bluetooth_driver_bad: the stop routine can free the device while an add
// routine that passed its stopping check is still using it.
void bluetooth_driver_bad();
// circular_buffer_bad: producer and consumer of a log buffer handing over
// with send/receive flags; the consumer expects its own loop index.
void circular_buffer_bad();
// token_ring_bad: three threads pass a value around a ring; the checker
// asserts all three agree once all have run.
void token_ring_bad();
// fib_bench (SV-COMP pthread/fib_bench_false-unreach-call.c): two threads
// add i += j and j += i five times; main reaching i >= 144 or j >= 144 needs
// the one perfectly alternating schedule. fib_bench_longer: six times, 377.
void fib_bench_bad();
void fib_bench_longer_bad();
// SafeStack (SCTBench's safestack bug1, after Vyukov): a lock-free stack of
// array indices with an ABA problem; three threads each pop an element,
// write their id into it, check it, and push it back, twice.
void safestack_bad();

// The programs as a table, in the order the benchmark prints them.
struct program {
  const char* name;
  void (*body)();
  // The text of the LOCKSTEP_ASSERT expression its bug fails.
  const char* assertion;
};
std::span<const program> programs();

}  // namespace lockstep::sctbench
