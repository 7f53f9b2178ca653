#!/usr/bin/env bash
# Builds and runs every test suite (GoogleTest, RapidCheck, the CLI checks),
# then the real-thread suites again under ThreadSanitizer (build-tsan, g++) and
# every GoogleTest suite under AddressSanitizer and UBSan (build-asan, clang 16,
# which builds everything there with warnings as errors).
# LOCKSTEP_NO_SANITIZER=1 skips the sanitizer passes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
status=0
meson test -C build --print-errorlogs "$@" | tee build/test-output.txt || status=$?
ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' build/test-output.txt | tail -1)
failed=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' build/test-output.txt | tail -1)
timeouts=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' build/test-output.txt | tail -1)
echo "lockstep: ${ok:-0} passed, $(( ${failed:-0} + ${timeouts:-0} )) failed"
if [ "$status" -eq 0 ] && [ -z "${LOCKSTEP_NO_SANITIZER:-}" ]; then
  bash tools/sanitize.sh thread || status=$?
  [ "$status" -eq 0 ] && echo "lockstep: ThreadSanitizer run clean"
  bash tools/sanitize.sh address,undefined || status=$?
  [ "$status" -eq 0 ] && echo "lockstep: AddressSanitizer and UBSan run clean (clang 16)"
fi
exit "$status"
