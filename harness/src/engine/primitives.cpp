// The primitives on the checker's platform, instantiated once.
#include "lockstep/mc/primitives.hpp"

namespace lockstep {

template class basic_mutex<mc::platform>;
template class basic_recursive_mutex<mc::platform>;
template class detail::condition_core<mc::platform, false>;
template class detail::condition_core<mc::platform, true>;
template class basic_event<mc::platform>;
template class basic_shared_mutex<reader_preferring, mc::platform>;
template class basic_shared_mutex<writer_preferring, mc::platform>;
template class basic_shared_mutex<fair, mc::platform>;
template class basic_atomic_counter<mc::platform>;
template class basic_locked_counter<mc::platform>;
template class basic_striped_counter<mc::platform>;
template class basic_owned_counter<mc::platform>;
template class basic_thread_pool<mc::platform>;

}  // namespace lockstep
