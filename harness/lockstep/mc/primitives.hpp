// lockstep/mc/primitives.hpp — the primitives instantiated on the checker's
// platform: the same code as production, every atomic step a scheduling
// point, every wait a fiber wait, the pool's workers mc::threads.
//
//   lockstep::mc::mutex m;  lockstep::mc::condition_variable cv;
//   lockstep::mc::counting_semaphore<3> sem{3};
//   lockstep::mc::shared_mutex<lockstep::reader_preferring> rw;
//   lockstep::mc::bounded_queue<int> q{4};  lockstep::mc::thread_pool pool{2};
#pragma once

#include <cstddef>

#include "lockstep/bounded_queue.hpp"
#include "lockstep/condition_variable.hpp"
#include "lockstep/counters.hpp"
#include "lockstep/event.hpp"
#include "lockstep/future.hpp"
#include "lockstep/mc/platform.hpp"
#include "lockstep/mutex.hpp"
#include "lockstep/recursive_mutex.hpp"
#include "lockstep/semaphore.hpp"
#include "lockstep/shared_mutex.hpp"
#include "lockstep/thread_pool.hpp"

namespace lockstep {

// Compiled once, in the harness library.
extern template class basic_mutex<mc::platform>;
extern template class basic_recursive_mutex<mc::platform>;
extern template class detail::condition_core<mc::platform, false>;
extern template class detail::condition_core<mc::platform, true>;
extern template class basic_event<mc::platform>;
extern template class basic_shared_mutex<reader_preferring, mc::platform>;
extern template class basic_shared_mutex<writer_preferring, mc::platform>;
extern template class basic_shared_mutex<fair, mc::platform>;
extern template class basic_atomic_counter<mc::platform>;
extern template class basic_locked_counter<mc::platform>;
extern template class basic_striped_counter<mc::platform>;
extern template class basic_owned_counter<mc::platform>;
extern template class basic_thread_pool<mc::platform>;

namespace mc {

using mutex = basic_mutex<platform>;
using recursive_mutex = basic_recursive_mutex<platform>;
template <std::ptrdiff_t Max = 0x7fffffff>
using counting_semaphore = basic_counting_semaphore<Max, platform>;
using binary_semaphore = counting_semaphore<1>;
using condition_variable = basic_condition_variable<platform>;
using condition_variable_any = basic_condition_variable_any<platform>;
using event = basic_event<platform>;
template <class Policy = fair>
using shared_mutex = basic_shared_mutex<Policy, platform>;
using atomic_counter = basic_atomic_counter<platform>;
using locked_counter = basic_locked_counter<platform>;
using striped_counter = basic_striped_counter<platform>;
using owned_counter = basic_owned_counter<platform>;
template <class T>
using bounded_queue = basic_bounded_queue<T, platform>;
template <class T>
using future = basic_future<T, platform>;
template <class T>
using promise = basic_promise<T, platform>;
using thread_pool = basic_thread_pool<platform>;

}  // namespace mc
}  // namespace lockstep
