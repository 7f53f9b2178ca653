#!/usr/bin/env bash
# Builds test suites with a sanitizer in a build directory of their own and
# runs them: for ThreadSanitizer the suites that run real OS threads
# (mutex_threads, primitives_threads, and replay and traces, which run models
# on OS threads); for AddressSanitizer and UBSan every GoogleTest suite, the
# checker's fiber suites included.
#
#   tools/sanitize.sh [thread | address,undefined] [build-dir]
#
# The sanitizer defaults to `thread`; the build directory to build-tsan for
# `thread` and build-asan for `address,undefined` (or whatever is given).
# Exits non-zero when a test fails or a sanitizer reports anything: every
# process writes its reports to its own log file (log_path), so a report from
# a death test's child process, whose stderr GoogleTest keeps to itself,
# counts too.
#
# The runtime announces its fiber switches to both sanitizers. ThreadSanitizer
# would add nothing on the other suites (fibers share one OS thread: there is
# no race between them to find) at several times their cost.
#
# Compilers: ThreadSanitizer builds with c++ (g++), AddressSanitizer and UBSan
# with clang++-16 (tools/deps.sh installs it), which also builds everything
# else with warnings as errors: the test command's clang build. The variable
# LOCKSTEP_SANITIZE_CXX names another compiler.
set -euo pipefail
cd "$(dirname "$0")/.."

san=${1:-thread}
case "$san" in
  thread) default_dir=build-tsan ;;
  address,undefined | undefined,address | address | undefined) default_dir=build-asan ;;
  *)
    echo "usage: $0 [thread|address,undefined] [build-dir]" >&2
    exit 2
    ;;
esac
dir=${2:-$default_dir}
suites=(mutex_threads primitives_threads replay traces)
# Left out under ASan: runtime, lin_sync and lin_async (5-10 minutes each
# there, at the test timeout on a loaded machine). differential runs 25
# generated programs there, of its dfs-based property only
# (tests/meson.build), each under every search.
[ "$san" = thread ] || suites+=(explore fatal dpor soundness models liveness primitives_mc replay_string numbers strategies trace bank litmus memory lin sctbench reports differential)

# Sanitized code cannot be linked with -Wl,--no-undefined (b_lundef): the
# runtime's symbols come from the sanitizer library. LTO is off because it
# gains nothing here and slows the build; the benchmarks are not needed.
opts=(-Db_sanitize="$san" -Db_lundef=false -Db_lto=false -Dbenchmarks=false -Dtests=true)
if [ "$san" = thread ]; then
  opts+=(--buildtype=debugoptimized)
else
  # -O1 and line tables only: half the compile time of -O2 -g for the many
  # suites, and reports still name file and line.
  opts+=(-Doptimization=1 -Ddebug=false -Dcpp_args=-g1)
fi
# The compiler: clang++-16 for AddressSanitizer and UBSan, c++ (g++) for
# ThreadSanitizer, unless LOCKSTEP_SANITIZE_CXX names another; with clang the
# build is of everything, warnings as errors. ThreadSanitizer stays g++'s.
# clang 16's used to crash at the first thread these suites start (inside
# its thread registry): lockstep's pthread_create hid the interceptor of the
# runtime clang links in (see hooks.cpp). That is fixed and the suites run
# under it, but its reports are not symbolized here, so tools/tsan.supp's
# libstdc++ frames do not match them (FutureThreads' exception strings).
if [ "$san" = thread ]; then
  cxx=${LOCKSTEP_SANITIZE_CXX:-c++}
else
  cxx=${LOCKSTEP_SANITIZE_CXX:-clang++-16}
fi
# A build directory keeps the compiler it was set up with: start it afresh
# when it was set up with another one (one without a note was set up with c++).
if [ -f "$dir/build.ninja" ] && [ "$(cat "$dir/sanitize-cxx" 2>/dev/null || echo c++)" != "$cxx" ]; then
  rm -rf "$dir"
fi
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" "${opts[@]}" >/dev/null
else
  CXX=$cxx meson setup "$dir" "${opts[@]}" >/dev/null
  echo "$cxx" >"$dir/sanitize-cxx"
fi
echo "sanitize.sh: $san build in $dir with $cxx"
case "$cxx" in
  clang*)
    # Everything, warnings as errors: the one build that checks that the
    # library, the tools, the models and every suite compile warning-free
    # with clang. Only the suites above run.
    meson configure "$dir" -Dwerror=true
    ninja -C "$dir"
    ;;
  *) ninja -C "$dir" "${suites[@]/#/tests/test_}" ;;
esac

logs="$dir/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
# halt_on_error: the first report ends the process (and fails its test).
# Meson leaves these variables alone when they are set.
# tools/tsan.supp: false positives inside libstdc++ (see there); none in ours.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$PWD/tools/tsan.supp log_path=$PWD/$logs/tsan"
export ASAN_OPTIONS="halt_on_error=1 detect_leaks=1 detect_stack_use_after_return=1 strict_string_checks=1 check_initialization_order=1 log_path=$PWD/$logs/asan"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1 log_path=$PWD/$logs/ubsan"
# clang's runtimes symbolize reports with llvm-symbolizer, which they look for
# as llvm-symbolizer-16 first and give up on when that is not installed (the
# llvm-16 package, which clang-16 does not pull in): name whichever one there is.
case "$cxx" in
  clang*)
    if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
      for s in llvm-symbolizer-16 llvm-symbolizer; do
        if command -v "$s" >/dev/null; then
          export ASAN_SYMBOLIZER_PATH UBSAN_SYMBOLIZER_PATH
          ASAN_SYMBOLIZER_PATH=$(readlink -f "$(command -v "$s")")
          UBSAN_SYMBOLIZER_PATH=$ASAN_SYMBOLIZER_PATH
          break
        fi
      done
    fi
    ;;
esac

# ThreadSanitizer (GCC 12's runtime) maps its shadow at fixed addresses and
# refuses to start when the kernel randomises mmap with more entropy than it
# expects; running without address randomisation (inherited by the death
# tests' re-executed children) is the documented remedy.
wrapper=()
if [ "$san" = thread ] && command -v setarch >/dev/null; then
  wrapper=(--wrapper "setarch $(uname -m) -R")
fi

# Under ASan every model gets its own verdict checked, but DporAgreesWithDfs
# and ModelCounts are left out: they run the two searches over 100,000
# executions per model (minutes under ASan) and check the search, not memory.
[ "$san" = thread ] || export GTEST_FILTER='-DporAgreesWithDfs.*:ModelCounts.*'

status=0
meson test -C "$dir" --no-rebuild --print-errorlogs "${wrapper[@]}" "${suites[@]}" || status=$?
# Of runtime, left out above, the threads stopped where an abort could not
# be thrown (AbortInRelease, seconds): a stopped thread's frames keep what
# they own, and nothing else may leak.
# (Its output goes beside the logs: every file in them is a report.)
if [ "$san" != thread ]; then
  GTEST_FILTER='AbortInRelease.*' "$dir/tests/test_runtime" >"$dir/runtime-abort-in-release.txt" 2>&1 || {
    status=$?
    cat "$dir/runtime-abort-in-release.txt" >&2
  }
fi

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "sanitize.sh: sanitizer reports ($san):" >&2
  for f in $reports; do
    echo "==== $f" >&2
    cat "$f" >&2
  done
  status=1
fi
if [ "$status" -eq 0 ]; then
  echo "sanitize.sh: $san clean (${suites[*]})"
else
  echo "sanitize.sh: $san FAILED (${suites[*]})" >&2
fi
exit "$status"
