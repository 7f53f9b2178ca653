// A program outside the tree, built only with `pkg-config --cflags --libs lockstep`.
#include <lockstep/lockstep.hpp>
#include <lockstep/mutex.hpp>

#include <cstdio>
#include <mutex>
#include <thread>

int main() {
  lockstep::mutex m;  // production
  int n = 0;
  std::thread t([&] { std::scoped_lock g(m); ++n; });
  { std::scoped_lock g(m); ++n; }
  t.join();

  namespace mc = lockstep::mc;  // checked
  mc::options o;
  o.honour_env = false;
  auto r = mc::explore(o, [] {
    mc::atomic<int> x{0};
    mc::thread u([&] { x.store(x.load() + 1); });
    x.store(x.load() + 1);
    u.join();
    LOCKSTEP_ASSERT(x.load() == 2);
  });
  std::printf("%d %s\n", n, r.ok() ? "no-bug" : lockstep::mc::bug_kind_name(r.found->kind));
  return n == 2 && !r.ok() ? 0 : 1;
}
