#!/usr/bin/env bash
# The replay commands a failing check prints inside a GoogleTest program,
# run exactly as printed: each runs that one test and reproduces the bug;
# LOCKSTEP_TRACE replays only in the test that wrote the trace; and
# --gtest_output=xml carries the report.
set -uo pipefail
demo=${1:?usage: gtest_replay_test.sh DEMO_BINARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# has NAME FILE TEXT: FILE contains TEXT.
has() { grep -qF -- "$3" "$2" || { fail "$1: no '$3' in:"; sed 's/^/    /' "$2"; }; }
# run NAME WANT_STATUS CMD...: runs CMD (stdout and stderr to $tmp/NAME.out).
run() {
  local name=$1 want=$2
  shift 2
  "$@" >"$tmp/$name.out" 2>&1
  local got=$?
  [ "$got" = "$want" ] || { fail "$name: exit $got, expected $want:"; sed 's/^/    /' "$tmp/$name.out"; }
}
# sh_run NAME WANT_STATUS COMMAND_LINE: a printed command, run by the shell as printed.
sh_run() { run "$1" "$2" sh -c "$3"; }

bug='assertion: `x.load() == 2` failed in thread 0'

# 1. The first run: LostUpdate fails, Correct passes; the report names the test.
LOCKSTEP_TRACE_DIR="$tmp/traces" run first 1 "$demo" --gtest_filter='Demo.LostUpdate:Demo.Correct' \
  --gtest_output="xml:$tmp/first.xml"
has first "$tmp/first.out" "[  FAILED  ] Demo.LostUpdate"
has first "$tmp/first.out" "[       OK ] Demo.Correct"
trace_cmd=$(sed -n 's/^  replay: \(LOCKSTEP_TRACE=.*\) (LOCKSTEP_TRACE_THREADS=1 too: on OS threads)$/\1/p' "$tmp/first.out")
run_cmd=$(sed -n 's/^  run:    //p' "$tmp/first.out")
case "$trace_cmd" in *" --gtest_filter=Demo.LostUpdate") ;; *) fail "trace replay line without the test's filter: '$trace_cmd'" ;; esac
case "$run_cmd" in "LOCKSTEP_REPLAY="*" --gtest_filter=Demo.LostUpdate") ;; *) fail "run line: '$run_cmd'" ;; esac
trace=$(ls "$tmp"/traces/*.trace 2>/dev/null | head -1)
[ -n "$trace" ] && has trace-file "$trace" "test Demo.LostUpdate"

# 2. Both printed commands, exactly as printed: that one test, the same bug.
for c in trace run; do
  if [ "$c" = trace ]; then cmd=$trace_cmd; else cmd=$run_cmd; fi
  sh_run "$c-replay" 1 "$cmd"
  has "$c-replay" "$tmp/$c-replay.out" "1 test from 1 test suite ran"
  has "$c-replay" "$tmp/$c-replay.out" "[  FAILED  ] Demo.LostUpdate"
  has "$c-replay" "$tmp/$c-replay.out" "$bug"
done
has trace-replay "$tmp/trace-replay.out" "(replay"

# 3. LOCKSTEP_TRACE over the whole program: the other test explores as usual.
LOCKSTEP_TRACE="$trace" run whole 1 "$demo" --gtest_filter='Demo.LostUpdate:Demo.Correct'
has whole "$tmp/whole.out" "[       OK ] Demo.Correct"
has whole "$tmp/whole.out" "[  FAILED  ] Demo.LostUpdate"
has whole "$tmp/whole.out" "lockstep: LOCKSTEP_TRACE=$trace was recorded in Demo.LostUpdate; Demo.Correct explores as usual"
[ "$(grep -c "was recorded in" "$tmp/whole.out")" = 1 ] || fail "whole: not exactly one line about the trace"

# 4. GoogleTest's XML output carries the report.
has xml "$tmp/first.xml" "<failure message="
has xml "$tmp/first.xml" "$bug"
has xml "$tmp/first.xml" "--gtest_filter=Demo.LostUpdate"

# 5. A bug that ends the process: the run line printed from the signal
# handler names the test (replacing the pattern it was given).
run crash 139 "$demo" --gtest_filter='Demo.Cr*'
crash_cmd=$(sed -n 's/^  run:    //p' "$tmp/crash.out")
case "$crash_cmd" in "LOCKSTEP_REPLAY="*"--gtest_filter=Demo.Crash") ;; *) fail "crash run line: '$crash_cmd'" ;; esac
case "$crash_cmd" in *"Demo.Cr*"*) fail "crash run line keeps the old filter: '$crash_cmd'" ;; esac
sh_run crash-replay 139 "$crash_cmd"
has crash-replay "$tmp/crash-replay.out" "crash:"
has crash-replay "$tmp/crash-replay.out" "1 test from 1 test suite"

[ "$fails" = 0 ] && echo "gtest replay: every printed command replays its one test"
exit $((fails > 0))
