// LOCKSTEP_TEST_ASAN is defined when the tests are built with
// AddressSanitizer (g++ says so with __SANITIZE_ADDRESS__, clang through
// __has_feature), for the tests that do what it intercepts.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define LOCKSTEP_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOCKSTEP_TEST_ASAN 1
#endif
#endif
