// Internal: the user's line of an operation made inside a header. An
// operation through std::unique_lock, std::scoped_lock, std::lock_guard or a
// lockstep primitive carries the std::source_location of the header that
// made the call (unique_lock.h:139, lockstep/mutex.hpp); the report of a
// failing execution replays it once with user places on (runtime::
// user_places), and each such operation then takes the place of the first
// frame of its stack outside libstdc++, other system headers and lockstep's
// own headers and sources (libbacktrace reads the debug info, inlined frames
// included). Without debug info for that frame the header's place stays.
#pragma once

#include <source_location>
#include <string_view>

namespace lockstep::mc::rt {

// Whether places can be looked up at all (lockstep built with libbacktrace).
bool user_places_supported() noexcept;
// Whether `file` (a path as compiled) is a system header (libstdc++,
// libc++, Boost, /usr/include) or lockstep's own header or source: a place
// a report should name the caller of instead.
bool foreign_file(std::string_view file) noexcept;
// `loc`, or, when it is in a foreign file, the first frame of the calling
// thread's stack outside foreign files (a location that stays valid for the
// life of the process). `loc` itself when no such frame has a known line.
std::source_location user_place(const std::source_location& loc) noexcept;

}  // namespace lockstep::mc::rt
