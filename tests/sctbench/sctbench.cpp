// tests/sctbench — the programs (see sctbench.hpp for what and why).
#include "sctbench.hpp"

#include <array>
#include <vector>

#include "lockstep/lockstep.hpp"

namespace lockstep::sctbench {

namespace mc = lockstep::mc;

// Main creates every thread, then joins them in creation order, as the
// originals' main() does.
namespace {
void join_all(std::vector<mc::thread>& threads) {
  for (auto& t : threads) t.join();
}
}  // namespace

// ---- reorder_N_bad --------------------------------------------------------
// a and b are accessed racily: atomics, each access a scheduling point.
void reorder_n(int set_threads, int check_threads) {
  mc::atomic<int> a{0}, b{0};
  auto set_thread = [&] {
    a.store(1);
    b.store(-1);
  };
  auto check_thread = [&] {
    // The original's condition, evaluated as C does (short-circuit, each
    // operand a separate read).
    LOCKSTEP_ASSERT((a.load() == 0 && b.load() == 0) || (a.load() == 1 && b.load() == -1));
  };
  std::vector<mc::thread> set_pool, check_pool;
  for (int i = 0; i < set_threads; ++i) set_pool.emplace_back(set_thread);
  for (int i = 0; i < check_threads; ++i) check_pool.emplace_back(check_thread);
  join_all(set_pool);
  join_all(check_pool);
}
void reorder_3() { reorder_n(2, 1); }
void reorder_5() { reorder_n(4, 1); }
void reorder_10() { reorder_n(9, 1); }
void reorder_20() { reorder_n(10, 10); }

// ---- twostage_bad ---------------------------------------------------------
// data2Value is only touched under its lock: plain shared memory. data1Value
// is read outside its lock (under data2Lock) while another first-stage
// thread writes it under data1Lock: racy, an atomic.
void twostage_n(int first_stage_threads) {
  mc::mutex data1_lock("data1Lock"), data2_lock("data2Lock");
  mc::atomic<int> data1_value{0};
  mc::shared<int> data2_value{0};
  auto func_a = [&] {
    data1_lock.lock();
    data1_value.store(1);
    data1_lock.unlock();

    data2_lock.lock();
    data2_value.store(data1_value.load() + 1);
    data2_lock.unlock();
  };
  auto func_b = [&] {
    int t1 = -1;
    int t2 = -1;
    data1_lock.lock();
    if (data1_value.load() == 0) {
      data1_lock.unlock();
      return;
    }
    t1 = data1_value.load();
    data1_lock.unlock();

    data2_lock.lock();
    t2 = data2_value.load();
    data2_lock.unlock();

    LOCKSTEP_ASSERT(t2 == t1 + 1);
  };
  std::vector<mc::thread> t_pool, r_pool;
  for (int i = 0; i < first_stage_threads; ++i) t_pool.emplace_back(func_a);
  r_pool.emplace_back(func_b);
  join_all(t_pool);
  join_all(r_pool);
}
void twostage() { twostage_n(1); }
void twostage_100() { twostage_n(99); }

// ---- wronglock_bad --------------------------------------------------------
// dataValue (volatile in the original) is accessed under two different
// locks, so racily: an atomic whose ++ is a separate load and store.
void wronglock_n(int other_threads) {
  mc::mutex data_lock("dataLock"), this_lock("thisLock");
  mc::atomic<int> data_value{0};
  auto func_a = [&] {
    data_lock.lock();
    const int x = data_value.load();
    data_value.store(data_value.load() + 1);
    LOCKSTEP_ASSERT(data_value.load() == x + 1);
    data_lock.unlock();
  };
  auto func_b = [&] {
    this_lock.lock();
    data_value.store(data_value.load() + 1);
    this_lock.unlock();
  };
  std::vector<mc::thread> num1_pool, num2_pool;
  num1_pool.emplace_back(func_a);
  for (int i = 0; i < other_threads; ++i) num2_pool.emplace_back(func_b);
  join_all(num1_pool);
  join_all(num2_pool);
}
void wronglock() { wronglock_n(7); }
void wronglock_3() { wronglock_n(3); }

// ---- account_bad ----------------------------------------------------------
void account_bad() {
  mc::mutex m("m");
  mc::shared<int> balance{0};
  mc::shared<bool> deposit_done{false}, withdraw_done{false};
  const int x = 1, y = 2, z = 4;
  balance.store(x);
  auto deposit = [&] {
    m.lock();
    balance.store(balance.load() + y);
    deposit_done.store(true);
    m.unlock();
  };
  auto withdraw = [&] {
    m.lock();
    balance.store(balance.load() - z);
    withdraw_done.store(true);
    m.unlock();
  };
  auto check_result = [&] {
    m.lock();
    if (deposit_done.load() && withdraw_done.load()) LOCKSTEP_ASSERT(balance.load() == (x - y) - z);
    m.unlock();
  };
  mc::thread t3(check_result);
  mc::thread t1(deposit);
  mc::thread t2(withdraw);
  // The original's main returns without joining; joining adds no schedule
  // that reaches the assertion differently.
  t3.join();
  t1.join();
  t2.join();
}

// ---- bluetooth_driver_bad -------------------------------------------------
// pendingIo is only touched in atomic sections (one global mutex, as
// common.inc defines them); the flags are racy.
void bluetooth_driver_bad() {
  mc::mutex esbmc_mutex("esbmc_mutex");
  struct device_extension {
    mc::shared<int> pending_io{1};
    mc::atomic<bool> stopping_flag{false};
    mc::atomic<bool> stopping_event{false};
  } e;
  mc::atomic<bool> stopped{false};

  auto io_increment = [&]() -> int {
    if (e.stopping_flag.load()) return -1;
    esbmc_mutex.lock();
    e.pending_io.store(e.pending_io.load() + 1);
    esbmc_mutex.unlock();
    return 0;
  };
  auto io_decrement = [&] {
    esbmc_mutex.lock();
    e.pending_io.store(e.pending_io.load() - 1);
    const int pending_io = e.pending_io.load();
    esbmc_mutex.unlock();
    if (pending_io == 0) e.stopping_event.store(true);
  };
  auto pnp_add = [&] {
    const int status = io_increment();
    if (status == 0) {
      // do work here
      LOCKSTEP_ASSERT(!stopped.load());
    }
    io_decrement();
  };
  auto pnp_stop = [&] {
    e.stopping_flag.store(true);
    io_decrement();
    if (e.stopping_event.load()) {
      // release allocated resource
      stopped.store(true);
    }
  };
  mc::thread id(pnp_stop);
  pnp_add();
  id.join();
}

// ---- circular_buffer_bad --------------------------------------------------
// Everything is touched under m (or before the threads start).
void circular_buffer_bad() {
  constexpr int buffer_max = 10;
  constexpr int n = 7;
  constexpr int error = -1;
  std::array<mc::shared<char>, buffer_max> buffer{};
  mc::shared<unsigned> first{0}, next{0};
  mc::shared<int> buffer_size{0};
  mc::shared<bool> send{false}, receive{false};
  mc::mutex m("m");

  auto init_log = [&](int max) {
    buffer_size.store(max);
    first.store(0);
    next.store(0);
  };
  // The original also asserts first >= 0, which an unsigned always is.
  auto remove_log_element = [&]() -> int {
    if (next.load() > 0 && first.load() < static_cast<unsigned>(buffer_size.load())) {
      first.store(first.load() + 1);
      return buffer[first.load() - 1].load();
    }
    return error;
  };
  auto insert_log_element = [&](int b) -> int {
    if (next.load() < static_cast<unsigned>(buffer_size.load()) && buffer_size.load() > 0) {
      buffer[next.load()].store(static_cast<char>(b));
      next.store((next.load() + 1) % static_cast<unsigned>(buffer_size.load()));
      LOCKSTEP_ASSERT(next.load() < static_cast<unsigned>(buffer_size.load()));
    } else {
      return error;
    }
    return b;
  };
  auto t1 = [&] {
    for (int i = 0; i < n; i++) {
      m.lock();
      if (send.load()) {
        insert_log_element(i);
        send.store(false);
        receive.store(true);
      }
      m.unlock();
    }
  };
  auto t2 = [&] {
    for (int i = 0; i < n; i++) {
      m.lock();
      if (receive.load()) {
        LOCKSTEP_ASSERT(remove_log_element() == i);
        receive.store(false);
        send.store(true);
      }
      m.unlock();
    }
  };
  init_log(10);
  send.store(true);
  receive.store(false);
  mc::thread id1(t1);
  mc::thread id2(t2);
  id1.join();
  id2.join();
}

// ---- token_ring_bad -------------------------------------------------------
// Every access is inside an atomic section (one global mutex).
void token_ring_bad() {
  mc::mutex esbmc_mutex("esbmc_mutex");
  mc::shared<int> x1{1}, x2{2}, x3{1};
  mc::shared<bool> flag1{false}, flag2{false}, flag3{false};
  auto t1 = [&] {
    esbmc_mutex.lock();
    x1.store((x3.load() + 1) % 4);
    flag1.store(true);
    esbmc_mutex.unlock();
  };
  auto t2 = [&] {
    esbmc_mutex.lock();
    x2.store(x1.load());
    flag2.store(true);
    esbmc_mutex.unlock();
  };
  auto t3 = [&] {
    esbmc_mutex.lock();
    x3.store(x2.load());
    flag3.store(true);
    esbmc_mutex.unlock();
  };
  auto t4 = [&] {
    esbmc_mutex.lock();
    if (flag1.load() && flag2.load() && flag3.load())
      LOCKSTEP_ASSERT(x1.load() == x2.load() && x2.load() == x3.load());
    esbmc_mutex.unlock();
  };
  mc::thread id1(t1);
  mc::thread id2(t2);
  mc::thread id3(t3);
  mc::thread id4(t4);
  // The original's main returns without joining (see account_bad).
  id1.join();
  id2.join();
  id3.join();
  id4.join();
}

// ---- fib_bench ------------------------------------------------------------
// SV-COMP's version: each update and each of main's reads is an atomic
// section (__VERIFIER_atomic_begin/end: one global mutex).
namespace {
void fib_bench(int num, int limit) {
  mc::mutex atomic_section("atomic");
  mc::shared<int> i{1}, j{1};
  auto t1 = [&] {
    for (int k = 0; k < num; k++) {
      atomic_section.lock();
      i.store(i.load() + j.load());
      atomic_section.unlock();
    }
  };
  auto t2 = [&] {
    for (int k = 0; k < num; k++) {
      atomic_section.lock();
      j.store(j.load() + i.load());
      atomic_section.unlock();
    }
  };
  mc::thread id1(t1);
  mc::thread id2(t2);

  atomic_section.lock();
  const bool cond_i = i.load() >= limit;
  atomic_section.unlock();

  atomic_section.lock();
  const bool cond_j = j.load() >= limit;
  atomic_section.unlock();

  LOCKSTEP_ASSERT(!(cond_i || cond_j));
  // pthread_exit in the threads, no join in main: see account_bad.
  id1.join();
  id2.join();
}
}  // namespace
void fib_bench_bad() { fib_bench(5, 144); }
void fib_bench_longer_bad() { fib_bench(6, 377); }

// ---- SafeStack ------------------------------------------------------------
// The memory orders are the original's; SCTBench runs it under SC
// (memory_model sc), where the ABA problem alone breaks it. Value is
// volatile and racy in the original: an atomic here.
namespace {
constexpr int kSafeStackSize = 3;

struct safe_stack_item {
  mc::atomic<int> value{0};
  mc::atomic<int> next{0};
};

class safe_stack {
 public:
  safe_stack() {
    count_.store(kSafeStackSize, std::memory_order_relaxed);
    head_.store(0, std::memory_order_relaxed);
    for (int i = 0; i < kSafeStackSize - 1; i++) array[i].next.store(i + 1, std::memory_order_relaxed);
    array[kSafeStackSize - 1].next.store(-1, std::memory_order_relaxed);
  }

  int pop() {
    while (count_.load(std::memory_order_acquire) > 1) {
      const int head1 = head_.load(std::memory_order_acquire);
      const int next1 = array[head1].next.exchange(-1, std::memory_order_seq_cst);
      if (next1 >= 0) {
        int head2 = head1;
        if (head_.compare_exchange_strong(head2, next1, std::memory_order_seq_cst)) {
          count_.fetch_sub(1, std::memory_order_seq_cst);
          return head1;
        }
        array[head1].next.exchange(next1, std::memory_order_seq_cst);
      } else {
        mc::this_thread::yield();  // sched_yield()
      }
    }
    return -1;
  }

  void push(int index) {
    int head1 = head_.load(std::memory_order_acquire);
    do {
      array[index].next.store(head1, std::memory_order_release);
    } while (!head_.compare_exchange_strong(head1, index, std::memory_order_seq_cst));
    count_.fetch_add(1, std::memory_order_seq_cst);
  }

  std::array<safe_stack_item, kSafeStackSize> array{};

 private:
  mc::atomic<int> head_{0};
  mc::atomic<int> count_{0};
};
}  // namespace

void safestack_bad() {
  constexpr int num_threads = 3;
  safe_stack stack;
  auto thread = [&](int idx) {
    for (int i = 0; i != 2; i += 1) {
      int elem;
      for (;;) {
        elem = stack.pop();
        if (elem >= 0) break;
        mc::this_thread::yield();  // sched_yield()
      }
      stack.array[elem].value.store(idx);
      LOCKSTEP_ASSERT(stack.array[elem].value.load() == idx);
      stack.push(elem);
    }
  };
  std::vector<mc::thread> threads;
  for (int i = 0; i < num_threads; ++i) threads.emplace_back(thread, i);
  join_all(threads);
}

// ---- the table ------------------------------------------------------------
std::span<const program> programs() {
  static const program table[] = {
      {"reorder_3", reorder_3, "(a.load() == 0 && b.load() == 0) || (a.load() == 1 && b.load() == -1)"},
      {"reorder_5", reorder_5, "(a.load() == 0 && b.load() == 0) || (a.load() == 1 && b.load() == -1)"},
      {"reorder_10", reorder_10, "(a.load() == 0 && b.load() == 0) || (a.load() == 1 && b.load() == -1)"},
      {"reorder_20", reorder_20, "(a.load() == 0 && b.load() == 0) || (a.load() == 1 && b.load() == -1)"},
      {"twostage", twostage, "t2 == t1 + 1"},
      {"twostage_100", twostage_100, "t2 == t1 + 1"},
      {"wronglock", wronglock, "data_value.load() == x + 1"},
      {"wronglock_3", wronglock_3, "data_value.load() == x + 1"},
      {"account_bad", account_bad, "balance.load() == (x - y) - z"},
      {"bluetooth_driver_bad", bluetooth_driver_bad, "!stopped.load()"},
      {"circular_buffer_bad", circular_buffer_bad, "remove_log_element() == i"},
      {"token_ring_bad", token_ring_bad, "x1.load() == x2.load() && x2.load() == x3.load()"},
      {"fib_bench_bad", fib_bench_bad, "!(cond_i || cond_j)"},
      {"fib_bench_longer_bad", fib_bench_longer_bad, "!(cond_i || cond_j)"},
      {"safestack_bad", safestack_bad, "stack.array[elem].value.load() == idx"},
  };
  return table;
}

}  // namespace lockstep::sctbench
