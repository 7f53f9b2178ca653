// A program where a yield moves another thread's step into the yielder's
// next window (Fairness.DporRunsAStepAfterAYieldThatMovesItIntoTheNextWindow
// in test_soundness, Checkpoint.TheStepsAYieldMustWakeSurviveAResume in
// test_dpor). Thread t loads a, yields, tries m (a failed try is a yield)
// and adds 1; the body stores 1, locks m and loads a. `reached` is set on
// the outcome 1, 0, 2: the body's lock runs between t's yield and its try,
// so t's try defers to nobody and its add comes before the body's load.
#pragma once

#include "lockstep/lockstep.hpp"

namespace lockstep::testing {

inline void yield_then_try(bool& reached) {
  mc::atomic<int> a{0};
  mc::mutex m;
  int seen = -1, ok = -1, last = -1;
  mc::thread t([&] {
    seen = a.load();
    mc::this_thread::yield();
    ok = m.try_lock();  // a failed try is a yield
    if (ok) m.unlock();
    a.fetch_add(1);
  });
  a.store(1);
  m.lock();
  last = a.load();
  m.unlock();
  t.join();
  if (seen == 1 && ok == 0 && last == 2) reached = true;
}

}  // namespace lockstep::testing
