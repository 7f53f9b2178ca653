// A program that wants only the production primitives, built against
// `lockstep` alone (pkg-config lockstep, CMake lockstep::lockstep): it needs
// neither the checker nor Boost.
#include <lockstep/mutex.hpp>

#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

int main() {
  lockstep::mutex m;
  long n = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 10000; ++k) {
        std::scoped_lock g(m);
        ++n;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::printf("%ld\n", n);
  return n == 40000 ? 0 : 1;
}
