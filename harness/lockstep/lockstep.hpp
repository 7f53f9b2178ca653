// lockstep/lockstep.hpp — everything a checked test needs.
//
//   #include <lockstep/lockstep.hpp>
//   auto r = lockstep::mc::explore(lockstep::mc::dfs(), [] {
//     lockstep::mc::mutex m;
//     lockstep::mc::atomic<int> x{0};
//     lockstep::mc::thread t([&] { std::scoped_lock g(m); x.store(x.load() + 1); });
//     { std::scoped_lock g(m); x.store(x.load() + 1); }
//     t.join();
//     LOCKSTEP_ASSERT(x.load() == 2);
//   });
//
// The mc:: names are the primitives instantiated on the checker's platform;
// the unqualified lockstep:: names are the production ones. Included after
// <gtest/gtest.h>, it brings lockstep/mc/gtest.hpp: reports and trace files
// then name the running test.
#pragma once

#include "lockstep/mc/atomic.hpp"
#include "lockstep/mc/explore.hpp"
#include "lockstep/mc/node.hpp"
#include "lockstep/mc/optimistic.hpp"
#include "lockstep/mc/os_threads.hpp"
#include "lockstep/mc/platform.hpp"
#include "lockstep/mc/primitives.hpp"
#include "lockstep/mc/shared.hpp"
#include "lockstep/mc/thread.hpp"
#include "lockstep/mc/time.hpp"
#include "lockstep/mc/trace.hpp"

#if defined(GOOGLETEST_INCLUDE_GTEST_GTEST_H_) || defined(GTEST_INCLUDE_GTEST_GTEST_H_)
#include "lockstep/mc/gtest.hpp"
#endif
