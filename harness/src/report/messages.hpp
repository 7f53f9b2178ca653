// Internal: the text of the bugs both backends report (the fiber engine and
// the OS-thread one), written once.
#pragma once

#include <cstdint>
#include <exception>
#include <source_location>
#include <string>

namespace lockstep::mc::rt {

// "thread 0 (main)", "thread 2 (name)" (mc::this_thread::set_name), "thread 2".
std::string thread_text(std::uint32_t tid, const char* name);
// LOCKSTEP_ASSERT: "`expr` failed in thread 1 at f.cpp:3" (reports put the
// kind "assertion" before it); `message` (LOCKSTEP_ASSERT_MSG's words) leads
// when given: "message (assertion `expr` failed in ...)".
std::string assertion_text(const char* expr, const std::string& who, const std::source_location& loc,
                           const std::string* message);
std::string misuse_text(const std::string& who, const char* what, const std::source_location& loc);
// `e`: the exception, or nullptr for one of a non-std type.
std::string uncaught_text(const std::string& who, const std::exception* e);
// An mc::thread object destroyed while joinable; `spawned_at`, when known.
std::string leak_text(const std::string& who, const std::source_location* spawned_at);
// std::thread, std::jthread or pthread_create inside a checked execution.
std::string os_thread_text(const std::string& who);
// A thread neither joined nor detached when the execution ended.
std::string unjoined_text(const std::string& who, const std::source_location& spawned_at);

}  // namespace lockstep::mc::rt
