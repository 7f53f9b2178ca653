// A program of a meson project that has lockstep as a subproject.
#include <lockstep/lockstep.hpp>

#include <cstdio>

int main() {
  namespace mc = lockstep::mc;
  mc::options o;
  o.honour_env = false;
  const mc::result r = mc::explore(o, [] {
    mc::atomic<int> x{0};
    mc::thread u([&] { x.store(x.load() + 1); });
    x.store(x.load() + 1);
    u.join();
    LOCKSTEP_ASSERT(x.load() == 2);
  });
  std::printf("%s\n", r.ok() ? "no-bug" : mc::bug_kind_name(r.found->kind));
  return r.ok() ? 1 : 0;  // the lost update must be found
}
