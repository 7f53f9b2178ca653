// Bugs that end the process: fatal signals in checked code, and the watchdog
// for steps that never reach a scheduling point (see fatal.hpp).
//
// Everything the handler does before the replay string is out is
// async-signal-safe: it reads the runtime's state (the schedule, the events,
// the running thread), formats into fixed or mmap'ed buffers and write()s.
// Only then does it build the full report and the trace file with ordinary
// code, under an alarm: a crash inside malloc can leave its lock held, and a
// corrupted heap can fault again; either way the replay lines still come out
// and the process still ends with the original signal.
#include "engine/fatal.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>

#include "lockstep/mc/replay_string.hpp"
#include "lockstep/mc/trace.hpp"
#include "engine/runtime.hpp"
#include "report/text.hpp"

namespace lockstep::mc::rt {

// ---------------------------------------------------------------------------
// The watchdog's view of one runtime.

struct watch_slot {
  std::atomic<bool> used{false};
  // The runtime's step counter; null while the slot is being given back.
  std::atomic<const std::atomic<std::uint64_t>*> steps{nullptr};
  std::atomic<bool> busy{false};   // the watchdog is reading `steps` (see unregister)
  std::atomic<bool> live{false};   // running an execution
  std::atomic<std::int64_t> fired_ms{0};
  bool fired_blocked = false;      // written before fired_ms: which rule fired
  pid_t pid = 0;
  pthread_t thread{};
  char stat_path[48] = {};         // /proc/self/task/<tid>/stat of the thread
  clockid_t cpu_clock{};           // the thread's CPU-time clock
  bool has_cpu_clock = false;
  std::int64_t limit_ns = 0;       // 0: not watched
  // The watchdog thread's own bookkeeping.
  std::uint64_t seen = 0;
  std::int64_t since = 0;          // wall time when `seen` was last seen to move
  std::int64_t since_cpu = 0;      // the thread's CPU time then
  bool seen_live = false;
};

namespace {

constexpr std::size_t kSlots = 1024;
watch_slot g_slots[kSlots];
std::atomic<std::size_t> g_high{0};          // slots [0, g_high) may be in use
std::atomic<std::uint32_t> g_active{0};      // slots in use (a futex word)
std::atomic<bool> g_idle{false};             // the watchdog waits for g_active to change
std::atomic<pid_t> g_watchdog_pid{0};        // the process whose watchdog runs
std::atomic<pid_t> g_pid{0};                 // getpid(), kept (it is a system call); see on_fork
constexpr int kWatchdogSignal = SIGXCPU;     // "CPU time limit exceeded"
constexpr int kWatchdogMagic = 0x6c6b7374;   // si_value of the watchdog's signal
constexpr std::int64_t kTickNs = 50'000'000;
// A tick that came this much later than asked for means the process was
// stopped (a debugger, SIGSTOP) or starved: the watchdog starts timing the
// wall-clock rule over (see watchdog_main).
constexpr std::int64_t kStoppedNs = 1'000'000'000;

std::int64_t ns_of(const timespec& ts) noexcept {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ns_of(ts);
}

// The CPU time a watched thread has used; -1 if it cannot be read.
std::int64_t cpu_ns(const watch_slot& s) noexcept {
  timespec ts{};
  if (!s.has_cpu_clock || ::clock_gettime(s.cpu_clock, &ts) != 0) return -1;
  return ns_of(ts);
}

// Whether the slot's thread is blocked in the OS: the state in its
// /proc/self/task/<tid>/stat (the field after the parenthesised name) is
// anything but R, running or runnable. False when it cannot be read.
bool blocked(const watch_slot& s) noexcept {
  const int fd = ::open(s.stat_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[512];
  ssize_t n;
  do n = ::read(fd, buf, sizeof buf); while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0) return false;
  const std::string_view stat(buf, static_cast<std::size_t>(n));
  const std::size_t close = stat.rfind(')');  // the name may hold ')' itself
  if (close == std::string_view::npos || close + 2 >= stat.size()) return false;
  return stat[close + 2] != 'R';
}

pid_t this_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

std::atomic<pid_t> g_reporter{0};  // the thread reporting a fatal bug

// Every tick, for each runtime running an execution: a step ends when its
// step counter moves. A step is non_termination when
//  - its thread has used `limit` of CPU time in it (a loop that never
//    reaches a scheduling point), or
//  - `limit` of wall-clock time has passed in it and its thread is blocked
//    in the OS (a real lock, a sleep, a read that never returns; a loop
//    around a sleep is blocked nearly always, so a tick finds it so).
// A thread that is runnable but starved of CPU (a busy machine, a low
// priority) uses no CPU time and is not blocked: its step is not ended.
void* watchdog_main(void*) {
  const pid_t self = ::getpid();
  std::int64_t last = now_ns();
  for (;;) {
    if (g_active.load() == 0) {  // nothing to watch: sleep until a runtime registers
      g_idle.store(true);
      if (g_active.load() == 0) ::syscall(SYS_futex, &g_active, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
      g_idle.store(false);
      last = now_ns();
      continue;
    }
    timespec tick{0, kTickNs};
    ::nanosleep(&tick, nullptr);
    const std::int64_t now = now_ns();
    const bool stopped = now - last > kTickNs + kStoppedNs;
    last = now;
    if (g_reporter.load() != 0) continue;  // the process is ending already
    const std::size_t high = g_high.load();
    for (std::size_t i = 0; i < high; ++i) {
      watch_slot& s = g_slots[i];
      if (!s.used.load()) continue;
      s.busy.store(true);
      // The slot's fields were written before `steps` was published.
      if (const auto* steps = s.steps.load(); steps != nullptr && s.pid == self && s.limit_ns != 0) {
        const std::uint64_t v = steps->load(std::memory_order_relaxed);
        const bool live = s.live.load();
        const std::int64_t cpu = live ? cpu_ns(s) : -1;
        if (!live || !s.seen_live || v != s.seen) {
          s.seen = v;
          s.since = now;
          s.since_cpu = cpu;
          s.seen_live = live;
        } else if (stopped) {
          // Only the wall clock ran on while the process was stopped; the CPU
          // time is kept, so a watchdog that is itself starved still ends a
          // loop.
          s.since = now;
        } else if (s.fired_ms.load() == 0) {
          const bool ran = cpu >= 0 && s.since_cpu >= 0 && cpu - s.since_cpu >= s.limit_ns;
          // /proc is read only once the wall-clock limit has passed.
          if (ran || (now - s.since >= s.limit_ns && blocked(s))) {
            // Sent while `busy` holds the runtime (and its thread) in place.
            s.fired_blocked = !ran;
            s.fired_ms.store(s.limit_ns / 1'000'000);
            sigval v{};
            v.sival_int = kWatchdogMagic;
            ::pthread_sigqueue(s.thread, kWatchdogSignal, v);
          }
        }
      }
      s.busy.store(false);
    }
  }
  return nullptr;
}

void start_watchdog(pid_t self) {
  pid_t running = g_watchdog_pid.load();
  // A forked child inherits the parent's record but not its thread.
  if (running == self || !g_watchdog_pid.compare_exchange_strong(running, self)) return;
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  ::pthread_attr_setstacksize(&attr, 64 * 1024);
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);  // the thread inherits it: no signal lands there
  pthread_t t;
  if (::pthread_create(&t, &attr, &watchdog_main, nullptr) != 0) g_watchdog_pid.store(0);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::pthread_attr_destroy(&attr);
}

// ---------------------------------------------------------------------------
// Async-signal-safe text.

void write_all(const char* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t w = ::write(2, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}
void write_all(std::string_view s) noexcept { write_all(s.data(), s.size()); }

// Appends to a fixed buffer; what does not fit is cut.
class text {
 public:
  text(char* p, std::size_t cap) noexcept : p_(p), cap_(cap) {}
  text& operator<<(std::string_view s) noexcept {
    for (char c : s)
      if (n_ < cap_) p_[n_++] = c;
    return *this;
  }
  text& operator<<(const char* s) noexcept { return *this << std::string_view(s != nullptr ? s : ""); }
  text& num(std::uint64_t v) noexcept {
    char d[24];
    int k = 0;
    do {
      d[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (k > 0) *this << std::string_view(&d[--k], 1);
    return *this;
  }
  text& hex(std::uintptr_t v) noexcept {
    char d[20];
    int k = 0;
    do {
      d[k++] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v != 0);
    *this << "0x";
    while (k > 0) *this << std::string_view(&d[--k], 1);
    return *this;
  }
  // "256 KiB", "1 MiB", "1000 bytes"
  text& bytes(std::size_t v) noexcept {
    if (v % (1024 * 1024) == 0) return num(v / (1024 * 1024)) << " MiB";
    if (v % 1024 == 0) return num(v / 1024) << " KiB";
    return num(v) << " bytes";
  }
  // "10 s", "1500 ms"
  text& millis(std::int64_t ms) noexcept {
    if (ms % 1000 == 0) return num(static_cast<std::uint64_t>(ms / 1000)) << " s";
    return num(static_cast<std::uint64_t>(ms)) << " ms";
  }
  std::string_view view() const noexcept { return {p_, n_}; }
  std::size_t size() const noexcept { return n_; }

 private:
  char* p_;
  std::size_t cap_;
  std::size_t n_ = 0;
};

// ---------------------------------------------------------------------------
// Process-wide state of a report in progress.

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, kWatchdogSignal,
                            SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
// Signals that end a process but are no fault: ours only when checked code
// raised them (raise(), kill() of its own process) and nothing else handles
// them (the default action ends the process); sent from outside, ignored or
// handled by the program, they are not.
bool ends_only(int sig) noexcept {
  return sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT || sig == SIGUSR1 || sig == SIGUSR2;
}
struct sigaction g_prev[NSIG];          // the handlers ours replaced
std::atomic<int> g_phase{0};            // 1 header, 2 details, 3 replay lines, 4 on_fatal
int g_signal = 0;                       // what ends the process
bool g_hang = false;                    // ... or the watchdog (exit code)
const char* g_tail = nullptr;           // the replay lines, ready before phase 2
std::size_t g_tail_len = 0;
const char* g_end = nullptr;            // the line that says how the process ends
std::size_t g_end_len = 0;
constexpr unsigned kDetailSeconds = 5;  // phase 2's alarm

[[noreturn]] void end_process() noexcept {
  if (g_hang) ::_exit(kWatchdogExitCode);
  if (g_signal == kExitCalled) ::_exit(kCheckedExitCode);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  ::sigaction(g_signal, &dfl, nullptr);
  sigset_t s;
  ::sigemptyset(&s);
  ::sigaddset(&s, g_signal);
  ::pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
  ::raise(g_signal);
  ::_exit(128 + g_signal);  // not reached
}

// What is left to print when phase 2 or 4 cannot finish.
void write_rest(int phase, std::string_view why) noexcept {
  if (phase == 2) {
    write_all("  (the rest of the report was abandoned: ");
    write_all(why);
    write_all(")\n");
    if (g_tail != nullptr) write_all(g_tail, g_tail_len);
  }
  if (phase < 2) write_all("lockstep: a fault while reporting a fault; no replay string\n");
  if (g_end != nullptr) write_all(g_end, g_end_len);
}

// Phase 2 or 4 took too long (a lock held by the interrupted code, most
// likely malloc's): what is left to print, then the end.
void on_alarm(int) {
  const int phase = g_phase.exchange(5);
  if (phase != 2 && phase != 4) return;
  write_rest(phase, "it did not finish within 5 s");
  end_process();
}

// Chains a signal that is not ours to the handler it replaced.
void chain(int sig, siginfo_t* info, void* uctx) {
  const struct sigaction& p = g_prev[sig];
  if ((p.sa_flags & SA_SIGINFO) != 0) {
    if (p.sa_sigaction != nullptr) p.sa_sigaction(sig, info, uctx);
    return;
  }
  if (p.sa_handler == SIG_IGN) {
    if (info->si_code > 0 && sig != SIGABRT && sig != kWatchdogSignal) {  // a fault: returning repeats it
      g_signal = sig;
      end_process();
    }
    return;
  }
  if (p.sa_handler == SIG_DFL) {
    g_signal = sig;
    end_process();
  }
  p.sa_handler(sig);
}

const void* stack_pointer(const void* uctx) noexcept {
  const auto* uc = static_cast<const ucontext_t*>(uctx);
#if defined(__x86_64__)
  return reinterpret_cast<const void*>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  return reinterpret_cast<const void*>(uc->uc_mcontext.sp);
#else
  (void)uc;
  return nullptr;
#endif
}

void on_signal(int sig, siginfo_t* info, void* uctx) {
  const int saved_errno = errno;
  const bool from_watchdog = sig == kWatchdogSignal && info->si_code == SI_QUEUE &&
                             info->si_pid == ::getpid() && info->si_value.sival_int == kWatchdogMagic;
  runtime* rt = runtime::current();
  const pid_t me = this_tid();
  const pid_t owner = g_reporter.load();
  if (owner == me) {  // a fault while this thread reports: finish with what is ready
    write_rest(g_phase.exchange(5), "it faulted");
    end_process();
  }
  const bool raised_here = info->si_code <= 0 && info->si_pid == ::getpid() &&
                           (g_prev[sig].sa_flags & SA_SIGINFO) == 0 && g_prev[sig].sa_handler == SIG_DFL;
  const bool ours = rt != nullptr && rt->live() && (sig != kWatchdogSignal || (from_watchdog && rt->watchdog_fired())) &&
                    (!ends_only(sig) || raised_here);
  if (!ours) {
    errno = saved_errno;
    if (from_watchdog) return;  // the step ended just as the watchdog fired
    chain(sig, info, uctx);
    return;
  }
  pid_t none = 0;
  if (owner != 0 || !g_reporter.compare_exchange_strong(none, me)) {
    for (;;) ::pause();  // another thread reports; the process ends with it
  }
  rt->fatal_signal(sig, info->si_addr, stack_pointer(uctx));
}

// std::exit() or std::quick_exit() (registered with atexit and
// at_quick_exit): called by checked code in an execution, it would end the
// process with no word on why; it is a bug reported with its schedule, as
// a crash is. (Handlers registered after this one, such as the destructors
// of statics first used later, have run already; _Exit() runs none.)
void on_exit_called() {
  runtime* rt = runtime::current();
  if (rt == nullptr || !rt->live()) return;  // the host's own end, or another thread's
  const pid_t me = this_tid();
  pid_t none = 0;
  if (!g_reporter.compare_exchange_strong(none, me)) {
    if (none == me) return;  // a report's own on_fatal ends the process
    for (;;) ::pause();      // another thread reports; the process ends with it
  }
  rt->fatal_signal(kExitCalled, nullptr, nullptr);
}

void on_fork() { g_pid.store(::getpid()); }

void install_handlers() {
  g_pid.store(::getpid());
  ::pthread_atfork(nullptr, nullptr, &on_fork);
  std::atexit(&on_exit_called);
  std::at_quick_exit(&on_exit_called);
  for (int sig : kSignals) {
    struct sigaction sa {};
    sa.sa_sigaction = &on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, &g_prev[sig]);
  }
}

// The alternate signal stack of an OS thread that runs checked code (a
// handler must run somewhere when the fault is a stack overflow): set up by
// its first runtime, kept until the thread ends, then the one it had before
// comes back.
constexpr std::size_t kAltStack = 256 * 1024;
struct alt_stack {
  void* base = nullptr;
  stack_t old{};
  bool set = false;
  ~alt_stack() {
    if (set) ::sigaltstack(&old, nullptr);
    if (base != nullptr) ::munmap(base, kAltStack);
  }
};
thread_local alt_stack tl_alt;

void use_alt_stack() {
  if (tl_alt.set) return;
  if (tl_alt.base == nullptr) {
    void* p = ::mmap(nullptr, kAltStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    tl_alt.base = p;
  }
  stack_t ss{};
  ss.ss_sp = tl_alt.base;
  ss.ss_size = kAltStack;
  tl_alt.set = ::sigaltstack(&ss, &tl_alt.old) == 0;
}

// The running test's name, NUL-terminated (set_fatal_test; cut if longer).
char g_test[1024] = {};

// /proc/self/cmdline as a shell command line (quoted where needed); inside
// a GoogleTest test, with a --gtest_filter for that test instead of any the
// program was given.
void command_line(text& out) noexcept {
  char buf[8192];
  const int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out << "<this program>";
    return;
  }
  ssize_t n = 0, r = 0;
  while (n < static_cast<ssize_t>(sizeof buf) && (r = ::read(fd, buf + n, sizeof buf - static_cast<std::size_t>(n))) > 0)
    n += r;
  ::close(fd);
  bool first = true;
  for (ssize_t i = 0; i < n;) {
    ssize_t j = i;
    while (j < n && buf[j] != '\0') ++j;
    const std::string_view arg(buf + i, static_cast<std::size_t>(j - i));
    i = j + 1;
    if (g_test[0] != '\0' && arg.starts_with("--gtest_filter=")) continue;
    bool plain = !arg.empty();
    for (char c : arg)
      plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        std::strchr("_-./=:,+@%", c) != nullptr);
    if (!first) out << " ";
    first = false;
    if (plain) {
      out << arg;
    } else {
      out << "'";
      for (char c : arg) out << (c == '\'' ? std::string_view("'\\''") : std::string_view(&c, 1));
      out << "'";
    }
  }
  if (g_test[0] != '\0') out << " --gtest_filter=" << std::string_view(g_test);
}

const char* signal_name(int sig) noexcept {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default: return "a fatal signal";
  }
}

}  // namespace

void set_fatal_test(const std::string& test) noexcept {
  const std::size_t n = std::min(test.size(), sizeof g_test - 1);
  std::memcpy(g_test, test.data(), n);
  g_test[n] = '\0';
}

// ---------------------------------------------------------------------------

std::chrono::milliseconds effective_step_timeout(const options& o) noexcept {
  using std::chrono::milliseconds;
  if (o.step_timeout.count() < 0) return milliseconds(0);
  if (o.step_timeout.count() > 0) return o.step_timeout;
  milliseconds t(10000);
  if (o.time_budget.count() > 0) t = std::min(t, std::max(o.time_budget, milliseconds(1000)));
  return t;
}

fatal_scope::fatal_scope(const std::atomic<std::uint64_t>& steps, const options& o) {
  static std::once_flag installed;
  std::call_once(installed, install_handlers);
  use_alt_stack();
  const pid_t pid = g_pid.load();
  const std::int64_t limit = effective_step_timeout(o).count();
  for (std::size_t i = 0; i < kSlots; ++i) {
    bool free = false;
    if (!g_slots[i].used.compare_exchange_strong(free, true)) continue;
    watch_slot& s = g_slots[i];
    s.pid = pid;
    s.thread = ::pthread_self();
    std::snprintf(s.stat_path, sizeof s.stat_path, "/proc/self/task/%d/stat", static_cast<int>(this_tid()));
    s.has_cpu_clock = ::pthread_getcpuclockid(s.thread, &s.cpu_clock) == 0;
    s.fired_blocked = false;
    s.limit_ns = limit * 1'000'000;
    s.seen_live = false;
    s.fired_ms.store(0);
    s.live.store(false);
    s.steps.store(&steps);
    std::size_t high = g_high.load();
    while (high < i + 1 && !g_high.compare_exchange_weak(high, i + 1)) {
    }
    slot_ = &s;
    live_ = &s.live;
    fired_ = &s.fired_ms;
    break;
  }
  if (slot_ == nullptr) return;  // more than kSlots runtimes at once: the rest go unwatched
  g_active.fetch_add(1);
  if (g_idle.load()) ::syscall(SYS_futex, &g_active, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  if (limit > 0 && g_watchdog_pid.load(std::memory_order_relaxed) != pid) start_watchdog(pid);
}

fatal_scope::~fatal_scope() {
  if (slot_ != nullptr) {
    slot_->live.store(false);
    slot_->steps.store(nullptr);
    while (slot_->busy.load()) ::sched_yield();  // the watchdog is looking at it right now
    slot_->used.store(false);
    g_active.fetch_sub(1);
  }
}

std::int64_t fatal_scope::fired_ms() const noexcept { return slot_ != nullptr ? slot_->fired_ms.load() : 0; }

bool fatal_scope::fired_blocked() const noexcept { return fired_ms() != 0 && slot_->fired_blocked; }

// ---------------------------------------------------------------------------
// The reports (runtime members: they read the execution's state).

void runtime::stack_nearly_full(const std::source_location& loc) {
  const thread_rec& me = *threads_[cur_];
  char size[64];
  text t(size, sizeof size);
  t.bytes(opts_.stack_size);
  char margin[64];
  text m(margin, sizeof margin);
  m.bytes(me.stack_floor - (reinterpret_cast<std::uintptr_t>(me.stack->top()) - me.stack->size()));
  fail(bug_kind::stack_overflow,
       "stack overflow in " + thread_label(cur_) + " at step " + std::to_string(exec_steps()) + ": less than " +
           std::string(m.view()) + " of its stack left at a scheduling point at " + loc_text(loc) +
           " (stack_size = " + std::string(t.view()) + "; raise options.stack_size / --stack-size)",
       "  A deep or runaway recursion, or large local arrays: at the next frames the thread would run "
       "past its stack.\n");
}

void runtime::fatal_signal(int sig, const void* addr, const void* sp) noexcept {
  const bool hang = sig == kWatchdogSignal;
  g_signal = sig;
  g_hang = hang;
  g_phase.store(1);
  if (nthreads_ == 0) {  // not in a checked thread after all: nothing to report on
    write_all("lockstep: a fatal signal while an execution was being set up\n");
    end_process();
  }
  const std::uint32_t tid = cur_ < nthreads_ ? cur_ : 0;
  const thread_rec& me = *threads_[tid];
  const bool exited = sig == kExitCalled;
  bug_kind kind = hang ? bug_kind::non_termination : bug_kind::crash;
  if ((sig == SIGSEGV || sig == SIGBUS) && me.stack != nullptr &&
      (me.stack->guards(addr) || me.stack->guards(sp)))
    kind = bug_kind::stack_overflow;

  // Phase 1: the header, async-signal-safe.
  char who_buf[256];
  text who(who_buf, sizeof who_buf);
  who << "thread ";
  who.num(tid);
  if (me.label != nullptr) who << " (" << me.label << ")";
  else if (tid == 0) who << " (main)";

  char msg_buf[1024];
  text msg(msg_buf, sizeof msg_buf);
  if (kind == bug_kind::stack_overflow) {
    msg << "stack overflow in " << who.view() << " at step ";
    msg.num(exec_steps()) << " (stack_size = ";
    msg.bytes(opts_.stack_size) << "; raise options.stack_size / --stack-size)";
  } else if (hang) {
    if (fatal_.fired_blocked()) {
      msg << who.view() << " is blocked in the OS (a real lock, sleep or I/O) and has gone ";
      msg.millis(watchdog_fired()) << " without reaching a scheduling point, at step ";
    } else {
      msg << who.view() << " ran ";
      msg.millis(watchdog_fired()) << " of CPU time without reaching a scheduling point, at step ";
    }
    msg.num(exec_steps()) << " (step_timeout; raise options.step_timeout / --step-timeout)";
  } else if (exited) {
    msg << "exit() in " << who.view() << " at step ";
    msg.num(exec_steps()) << " (std::exit() or std::quick_exit() would end the process mid-execution)";
  } else {
    msg << signal_name(sig) << " in " << who.view() << " at step ";
    msg.num(exec_steps()) << " (";
    switch (sig) {
      case SIGSEGV: msg << "invalid memory access at address "; msg.hex(reinterpret_cast<std::uintptr_t>(addr)); break;
      case SIGBUS: msg << "bus error at address "; msg.hex(reinterpret_cast<std::uintptr_t>(addr)); break;
      case SIGFPE: msg << "arithmetic error: an integer division by zero or overflow"; break;
      case SIGILL: msg << "illegal instruction: a trap, e.g. __builtin_trap() or a path the compiler deemed unreachable"; break;
      case SIGABRT: msg << "abort(): std::abort(), a failed assert(), or std::terminate()"; break;
      case SIGTRAP: msg << "a breakpoint trap, e.g. __builtin_debugtrap() or raise(SIGTRAP)"; break;
      case SIGSYS: msg << "a bad system call"; break;
      default: msg << "raised by the checked code, which ends the process"; break;
    }
    msg << ")";
  }

  char head_buf[4096];
  text head(head_buf, sizeof head_buf);
  head << "\n";
  if (!opts_.name.empty()) head << opts_.name << ": ";
  head << bug_kind_name(kind) << ": " << msg.view() << "\n";
  head << "  found in execution ";
  head.num(exec_index_ + 1) << " at step ";
  head.num(exec_steps()) << " (" << strategy_label(opts_.strategy) << "; the schedule has ";
  head.num(exec_preemptions_) << (exec_preemptions_ == 1 ? " preemption)\n" : " preemptions)\n");
  for (std::size_t i = events_.size(); i-- > 0;) {
    const event& e = events_[i];
    if (e.thread != tid) continue;
    head << "  " << who.view() << (hang ? " has run since" : " was running after") << " its step ";
    head.num(i + 1) << " (" << op_name(e.o) << ") at " << source_path(e.loc) << ":";
    head.num(e.loc.line()) << "\n";
    break;
  }
  if (hang)
    head << "  A loop that waits on a std::atomic, a plain variable or a system call never reaches a\n"
            "  scheduling point: in checked code wait on an mc:: type, or call relax().\n";
  head << "  not shrunk: the process ends with this bug\n";
  write_all(head.view());

  // The replay lines, made now so that any later trouble can still print them.
  const std::size_t enc_cap = encoded_schedule_bound(schedule_.size());
  const std::size_t tail_cap = 2 * enc_cap + opts_.replay_command.size() + 16384;
  void* mem = ::mmap(nullptr, tail_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* enc = nullptr;
  std::size_t enc_len = 0;
  if (mem != MAP_FAILED) {
    enc = static_cast<char*>(mem);
    enc_len = encode_schedule_to(schedule_.data(), schedule_.size(), enc, enc_cap);
    text tail(enc + enc_cap, tail_cap - enc_cap);
    const std::string_view s(enc, enc_len);
    tail << "  replay: LOCKSTEP_REPLAY=" << s << "\n";
    tail << "  run:    ";
    if (!opts_.replay_command.empty()) {
      const std::string_view cmd = opts_.replay_command;
      const std::size_t at = cmd.find("{}");
      if (at == std::string_view::npos) tail << cmd;
      else tail << cmd.substr(0, at) << s << cmd.substr(at + 2);
    } else if (opts_.honour_env) {
      tail << "LOCKSTEP_REPLAY=" << s << " ";
      command_line(tail);
    } else {  // LOCKSTEP_REPLAY is not read: the same run, or a replay in code
      command_line(tail);
      tail << "\n          (options.honour_env is off: run it again, or explore with mc::replay(\"" << s << "\"))";
    }
    tail << "\n";
    g_tail = enc + enc_cap;
    g_tail_len = tail.size();
    text end(enc + enc_cap + tail.size(), tail_cap - enc_cap - tail.size());
    if (hang) {
      end << "lockstep: the watchdog ends the process (exit code ";
      end.num(kWatchdogExitCode) << ")\n";
    } else if (exited) {
      end << "lockstep: the process ends (exit code ";
      end.num(kCheckedExitCode) << ")\n";
    } else {
      end << "lockstep: the process ends with " << signal_name(sig) << "\n";
    }
    g_end = enc + enc_cap + tail.size();
    g_end_len = end.size();
  } else {
    write_all("  replay: (no memory left to print the replay string)\n");
  }

  // Phase 2, best effort: the details and the trace file, with ordinary code.
  g_phase.store(2);
  struct sigaction alarm_sa {};
  alarm_sa.sa_handler = &on_alarm;
  ::sigemptyset(&alarm_sa.sa_mask);
  ::sigaction(SIGALRM, &alarm_sa, nullptr);
  ::alarm(kDetailSeconds);
  result r;
  try {
    if (lean_) lean_to_full();
    aborting_ = false;
    bug_.reset();
    fail(kind, std::string(msg.view()));
    r.found = bug_;
    r.strategy = strategy_label(opts_.strategy);
    r.name = opts_.name;
    r.test = g_test;
    r.replay_command = opts_.replay_command;
    r.trace_replay_command = opts_.trace_replay_command;
    r.executions = exec_index_ + 1;
    r.steps = steps();
    r.trace = std::make_shared<const trace>(trace_of(r, opts_));
    r.trace_dir = opts_.trace_dir;
    if (detail::trace_asked(r.trace_dir)) r.write_trace();
    write_all(r.found->details + detail::trace_lines(r));
  } catch (...) {
    write_all("  (the rest of the report could not be made)\n");
  }

  // Phase 3: the replay lines; then (4) the caller's own files and the end.
  if (g_phase.exchange(3) != 2) end_process();  // the alarm came: it printed them
  if (g_tail != nullptr) write_all(g_tail, g_tail_len);
  g_phase.store(4);
  try {
    if (opts_.on_fatal != nullptr && r.found) opts_.on_fatal(r);
    std::fflush(nullptr);
  } catch (...) {
  }
  ::alarm(0);
  if (g_phase.exchange(5) != 4) end_process();
  if (g_end != nullptr) write_all(g_end, g_end_len);
  end_process();
}

}  // namespace lockstep::mc::rt
