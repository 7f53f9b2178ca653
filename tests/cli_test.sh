#!/usr/bin/env bash
# The lockstep CLI: exit codes, one-line errors, reports, replay, JSON.
set -u
LS=${1:?usage: cli_test.sh path/to/lockstep [SOURCE_PREFIX]}
# Where lockstep's sources are, as reports name them: "" here,
# "subprojects/lockstep/" when lockstep is a subproject.
src=${2-}
unset LOCKSTEP_REPLAY LOCKSTEP_SEED
ulimit -c 0  # the crash checks below end processes with SIGSEGV and SIGABRT
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

expect() {  # expect NAME CODE -- command...
  local name=$1 code=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$code" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $got, expected $code"
    sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -20
  fi
}
has() {  # has NAME FILE TEXT
  if grep -qF -- "$3" "$tmp/$2"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $1: '$3' not in $2"; sed 's/^/  | /' "$tmp/$2" | head -20; fi
}
lacks() {  # lacks NAME FILE TEXT
  if ! grep -qF -- "$3" "$tmp/$2"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $1: '$3' in $2"; grep -F -- "$3" "$tmp/$2" | sed 's/^/  | /' | head -5; fi
}
one_line() {  # one_line NAME: stderr is exactly one line
  if [ "$(wc -l <"$tmp/err")" -eq 1 ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $1: stderr is not one line"; cat "$tmp/err"; fi
}

expect list 0 -- "$LS" list
has list out "deadlock_abba"
has list out "bug: deadlock"
expect help 0 -- "$LS" --help
expect check-help 0 -- "$LS" check --help
has check-help out "--report-json"
expect list-help 0 -- "$LS" list --help

expect pass-model 0 -- "$LS" check counter_mutex
has pass-model out "counter_mutex: pass (complete) (expected pass)"
# A pass says what it rests on, on the verdict line too: a sampled one is
# labelled sampled, quiet or not.
expect pass-sampled 0 -- "$LS" check deadlock_ordered --strategy random --budget 300 --quiet
has pass-sampled out "deadlock_ordered: pass (300 random schedules)"
expect pass-complete-quiet 0 -- "$LS" check deadlock_ordered --quiet --report-json "$tmp/plain.json"
has pass-complete-quiet out "deadlock_ordered: pass (complete)"
has pass-complete-json plain.json '"fair_only": false'
# A search that left out what only an unfair system does (a thread going on
# right after its yield while another could run) says so; --unfair covers
# every schedule, fairness assumed nowhere.
expect pass-fair 0 -- "$LS" check spinlock_release_unlock
has pass-fair out "spinlock_release_unlock: pass (complete over fair schedules) (expected pass)"
has pass-fair out "  fair: left out what only an unfair system does"
has pass-fair out "--unfair"
expect pass-fair-quiet 0 -- "$LS" check spinlock_release_unlock --quiet --junit "$tmp/fair.xml"
has pass-fair-quiet out "spinlock_release_unlock: pass (complete over fair schedules)"
has pass-fair-junit fair.xml '<property name="coverage" value="complete over fair schedules"/>'
expect bug-model 1 -- "$LS" check deadlock_abba
has bug-model out "thread 1 holds mutex A"
has bug-model out "waits for mutex B"
has bug-model out "lockstep check deadlock_abba --replay L1"

# The printed command reproduces the bug at the same step.
cmd=$(sed -n 's/^  run: *//p' "$tmp/out")
step=$(grep -o 'at step [0-9]*' "$tmp/out" | head -1)
expect replay-cmd 1 -- bash -c "${cmd/lockstep/\"$LS\"}"
has replay-cmd out "$step"
has replay-cmd out "(replay;"

expect random-bug 1 -- "$LS" check counter_unsynchronized --strategy random --seed 7
expect random-seed-env 1 -- env LOCKSTEP_SEED=9 "$LS" check withdraw_check_then_act --strategy random

expect all-dfs 0 -- "$LS" check --all
has all-dfs out "got their expected verdict, 0 missed"
cp "$tmp/out" "$tmp/all-dfs.out"
# A pass says what it rests on: every schedule, or a sample of them.
expect all-complete 0 -- grep -Eq '^counter_mutex +pass +pass \(complete\) ' "$tmp/all-dfs.out"
expect all-sampled 0 -- grep -Eq '^busy_wait_relax +pass +pass \(50,000 random schedules\) ' "$tmp/all-dfs.out"
expect all-random 0 -- "$LS" check --all --strategy random --budget 2000

expect json 1 -- "$LS" check deadlock_abba --report-json "$tmp/r.json"
expect json-valid 0 -- python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for k in ["model", "expected", "verdict", "strategy", "complete", "executions", "steps", "seconds", "schedule"]:
    assert k in r, k
assert r["verdict"] == "bug" and r["bug"]["kind"] == "deadlock", r
assert r["schedule"].startswith("L1")
' "$tmp/r.json"
expect json-all 0 -- "$LS" check --all --report-json "$tmp/all.json" --quiet
expect json-all-valid 0 -- python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is True and len(r["results"]) >= 6
' "$tmp/all.json"

expect budget-incomplete 0 -- "$LS" check counter_mutex --strategy dfs --budget 10 --report-json "$tmp/inc.json"
has budget-incomplete out "max_executions = 10"
has budget-incomplete inc.json '"verdict": "incomplete"'
has budget-incomplete out "--strategy random, is usually"
# A sampled search ends at its budget by design: it is told so, and never
# advised to sample.
for s in random pct pos; do
  expect "budget-sampled[$s]" 0 -- "$LS" check counter_mutex --strategy $s --budget 10
  has "budget-sampled[$s]" out "the sample size (max_executions = 10) was reached"
  lacks "budget-sampled[$s]" out "--strategy random"
done
# A time budget too short for the default 1,000 executions (on this
# machine about 500 run in 2 ms); whichever budget ends it, the same words.
expect time-sampled 0 -- "$LS" check queue_producer_consumer --strategy random --budget 1ms
has time-sampled out "a sampled search proves nothing about the schedules it did not run"
lacks time-sampled out "a large exhaustive"
# A sampled pass rests on at least one execution, however short the budget
# (the setup alone can take the millisecond).
lacks time-sampled out "after 0 executions"

# Bad input: exit 2 and one line on stderr.
for bad in "check no_such_model" "check" "check --all deadlock_abba" "check counter_mutex --strategy sideways" \
           "check counter_mutex --budget soon" "check counter_mutex --seed x" "check counter_mutex --bogus" \
           "frobnicate" "" "check counter_mutex --replay L1garbage" "check counter_mutex --replay X" \
           "check counter_mutex --max-steps 0" "list extra"; do
  # shellcheck disable=SC2086
  expect "bad[$bad]" 2 -- "$LS" $bad
  one_line "bad[$bad]"
done
# A newline typed into an argument stays inside the one line, escaped.
nl=$'\n'
expect bad-newline-model 2 -- "$LS" check "no_such${nl}model"
one_line bad-newline-model
has bad-newline-model err "no_such\nmodel"
expect bad-newline-strategy 2 -- "$LS" check counter_mutex --strategy "x${nl}y"
one_line bad-newline-strategy
expect bad-newline-option 2 -- "$LS" check counter_mutex "--bogus${nl}x"
one_line bad-newline-option
expect bad-newline-replay 2 -- "$LS" check counter_mutex --replay "L${nl}"
one_line bad-newline-replay
# A schedule naming a thread the model never has (thread 7) diverges: a clear
# error, not a crash. Encoded here independently of lockstep's encoder.
seven=$(python3 -c '
import base64
p = bytes([1, 7, 1])  # one run: value 7, length 1
h = 2166136261
for b in p:
    h = ((h ^ b) * 16777619) & 0xffffffff
ck = (h ^ (h >> 12) ^ (h >> 24)) & 0xfff
a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
print("L1" + base64.urlsafe_b64encode(p).decode().rstrip("=") + a[ck >> 6] + a[ck & 63])
')
expect replay-diverge 2 -- "$LS" check counter_mutex --replay "$seven"
one_line replay-diverge
has replay-diverge err "diverged"

# Checkpoints: a run stopped by its budget resumes; damaged files are refused.
expect ckpt-first 0 -- "$LS" check queue_producer_consumer --strategy dpor --budget 1000 --checkpoint "$tmp/ck"
has ckpt-first out "incomplete"
has ckpt-file ck "executions 1000"
expect ckpt-resume 0 -- "$LS" check queue_producer_consumer --strategy dpor --budget 1000 --checkpoint "$tmp/ck"
has ckpt-resume ck "executions 2000"
printf 'lockstep-checkpoint 9\n' >"$tmp/future"
expect ckpt-future 2 -- "$LS" check queue_producer_consumer --strategy dpor --checkpoint "$tmp/future"
one_line ckpt-future
has ckpt-future err "newer lockstep"
head -c 64 /dev/urandom >"$tmp/binary"
expect ckpt-binary 2 -- "$LS" check queue_producer_consumer --strategy dpor --checkpoint "$tmp/binary"
one_line ckpt-binary
expect ckpt-other-model 2 -- "$LS" check counter_mutex --strategy dpor --checkpoint "$tmp/ck"
has ckpt-other-model err "belongs to 'queue_producer_consumer'"
expect ckpt-random 2 -- "$LS" check queue_producer_consumer --strategy random --checkpoint "$tmp/ck"
expect shard-bounded 2 -- "$LS" check semaphore_pool --strategy dpor --preemptions 1 --shard 0/2
one_line shard-bounded
expect shard-bad 2 -- "$LS" check semaphore_pool --strategy dfs --shard 3/2
expect jobs-zero 2 -- "$LS" check semaphore_pool --jobs 0
# Partial order sampling and delay bounding.
expect pos 1 -- "$LS" check deadlock_abba --strategy pos --seed 3
has pos out "(pos; the schedule has"
expect delay 1 -- "$LS" check deadlock_abba --strategy delay
has delay out "(delay, delay bound 1; the schedule has 1 preemption)"
expect delay-bounded 0 -- "$LS" check counter_mutex --strategy delay --delays 0
has delay-bounded out "(delay, delay bound 0, not exhaustive)"
has delay-bounded out "the delay bound (0) cut some schedules"
expect delay-complete 0 -- "$LS" check counter_mutex --strategy delay
has delay-complete out "complete"
expect delays-not-delay 2 -- "$LS" check counter_mutex --strategy dpor --delays 1
one_line delays-not-delay
has delays-not-delay err "--delays bounds --strategy delay"
expect shard-delay 2 -- "$LS" check counter_mutex --strategy delay --shard 0/2
one_line shard-delay
expect strategy-unknown 2 -- "$LS" check counter_mutex --strategy chess
one_line strategy-unknown
has strategy-unknown err "(use dfs, dpor, source-dpor, delay, random, pct, pos or replay)"
expect replay-no-string 2 -- "$LS" check deadlock_abba --strategy replay
one_line replay-no-string
expect replay-and-dfs 2 -- "$LS" check deadlock_abba --strategy dfs --replay L1AgABAQI7j
expect replay-strategy 1 -- "$LS" check deadlock_abba --strategy replay --replay L1AgABAQI7j
has replay-strategy out "(replay;"

# Pictures: the ABBA deadlock's wait-for graph as DOT (cycle in red), rendered
# by Graphviz when it is installed; the JSON report carries graph and events.
expect graph 1 -- "$LS" check deadlock_abba --graph-out "$tmp/g.dot" --timeline-out "$tmp/t.dot"
has graph-dot g.dot "digraph wait_for"
has graph-dot g.dot "mutex A"
has graph-dot g.dot "color=red"
has graph-timeline t.dot "thread 0 (main)"
if command -v dot >/dev/null 2>&1; then
  expect graph-dot-renders 0 -- dot -Tsvg "$tmp/g.dot" -o "$tmp/g.svg"
  has graph-svg g.svg "<svg"
  expect timeline-renders 0 -- dot -Tsvg "$tmp/t.dot" -o "$tmp/t2.svg"
  expect graph-svg-flag 1 -- "$LS" check deadlock_abba --graph-out "$tmp/h.dot" --svg
  has graph-svg-flag h.svg "<svg"
else
  echo "cli: dot (Graphviz) is not installed; skipping the SVG rendering checks"
  expect graph-svg-missing 1 -- env PATH=/nonexistent "$LS" check deadlock_abba --graph-out "$tmp/h.dot" --svg
  has graph-svg-missing err "not installed"
fi
expect svg-without-graph 2 -- "$LS" check deadlock_abba --svg
one_line svg-without-graph
expect json-graph 0 -- python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
g = r["bug"]["graph"]
ids = {n["id"] for n in g["nodes"]}
assert {"t0", "t1"} <= ids, g
assert any(n["label"] == "mutex A" for n in g["nodes"]), g
cyc = [e for e in g["edges"] if e["in_cycle"]]
assert len(cyc) == 4 and all(e["from"] in ids and e["to"] in ids for e in cyc), g
ev = r["bug"]["events"]
assert ev[0]["step"] == 1 and {e["thread"] for e in ev} == {0, 1}, ev
assert any(e["file"].endswith("classic.cpp") and e["line"] > 0 for e in ev), ev
' "$tmp/r.json"
expect lost-wakeup 1 -- "$LS" check condvar_no_predicate
has lost-wakeup out "lost_wakeup: thread 1 waits forever on ready_cv"
has lost-wakeup out "missed a notification"
expect bad-window 2 -- "$LS" check livelock_polite --livelock-window x
one_line bad-window
# Spurious wake-ups a thread may take: each more is one more choice at a wait.
expect bad-spurious 2 -- "$LS" check condvar_predicate --spurious-wakeups 1001
one_line bad-spurious
has bad-spurious err "--spurious-wakeups must be at most 1000"
for n in 0 2; do
  expect "spurious-$n" 0 -- "$LS" check condvar_predicate --spurious-wakeups "$n" --report-json "$tmp/sp$n.json"
done
python3 -c '
import json, sys
none, two = (json.load(open(f)) for f in sys.argv[1:])
assert none["complete"] and two["complete"], (none, two)
assert none["executions"] < two["executions"], (none["executions"], two["executions"])
assert none["spurious_bound"] == 0 and two["spurious_bound"] == 2, (none["spurious_bound"], two["spurious_bound"])
' "$tmp/sp0.json" "$tmp/sp2.json" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL spurious: more wake-ups, more executions"; }
# A complete search in which a wait met the bound names it; one without a
# condition-variable wait does not.
expect spurious-named 0 -- "$LS" check condvar_predicate
has spurious-named out "condvar_predicate: pass (complete, spurious wake-up bound 1) (expected pass)"
has spurious-named out "  spurious wake-ups: at most 1 a thread an execution (a condition-variable wait met that bound)"
has spurious-named out "--spurious-wakeups N"
has spurious-named sp0.json '"spurious_bound": 0,'
expect spurious-off 0 -- "$LS" check condvar_predicate --spurious-wakeups 0
has spurious-off out "(dpor, spurious wake-up bound 0, complete"
has spurious-off out "  spurious wake-ups: none (turned off) at the condition-variable waits"
expect spurious-unnamed 0 -- "$LS" check counter_mutex --report-json "$tmp/nosp.json"
has spurious-unnamed nosp.json '"spurious_bound": null,'
lacks spurious-unnamed out "spurious"
# A bug's replay command carries the bound: a replay under another explores
# other choices at each wait.
expect spurious-replay 1 -- "$LS" check condvar_no_predicate --spurious-wakeups 2
cp "$tmp/out" "$tmp/spurious-replay.out"
expect spurious-replay-flag 0 -- grep -Eq -- '--replay L1[A-Za-z0-9_-]+ --spurious-wakeups 2$' "$tmp/spurious-replay.out"
sched=$(grep -Eo -- '--replay L1[A-Za-z0-9_-]+' "$tmp/spurious-replay.out" | head -n 1 | cut -d' ' -f2)
expect spurious-replay-runs 1 -- "$LS" check condvar_no_predicate --replay "$sched" --spurious-wakeups 2

# The memory model: a name, or exit 2.
expect bad-memory-model 2 -- "$LS" check counter_mutex --memory-model tso
one_line bad-memory-model
has bad-memory-model err "--memory-model must be sc or rc11"
expect memory-model-sc 0 -- "$LS" check counter_atomic --memory-model sc
# A weak behaviour replays exactly on fibers; on threads one line says which
# load the hardware cannot be made to return.
expect weak-trace 1 -- "$LS" check mp_relaxed --trace-out "$tmp/mp.trace"
has weak-trace out "weak memory: thread 0 (main) read data = 0"
expect weak-fibers 1 -- "$LS" replay "$tmp/mp.trace"
has weak-fibers out "replayed on fibers: bug: assertion (as recorded"
expect weak-threads 2 -- "$LS" replay "$tmp/mp.trace" --threads
one_line weak-threads
has weak-threads err "load data at ${src}models/memory.cpp:30) read the value from before the execution"
has weak-threads err "replay it on fibers"

# Trace files: written by --trace-out, replayed on fibers and on OS threads.
expect trace-out 1 -- "$LS" check deadlock_abba --trace-out "$tmp/abba.trace"
has trace-out out "trace written to"
has trace-out abba.trace "lockstep-trace 4"
has trace-out abba.trace "verdict deadlock"
expect replay-fibers 1 -- "$LS" replay "$tmp/abba.trace"
has replay-fibers out "replayed on fibers: bug: deadlock (as recorded"
# The report of a replayed trace file: the threads of the cycle are blocked,
# and the way to run it again is the same command.
has replay-fibers out "thread 0 (main): blocked on mutex A at ${src}models/classic.cpp:58 (deadlocked); holds mutex B"
has replay-fibers out "run:    lockstep replay $tmp/abba.trace"
lacks replay-fibers out "rerun this test"
lacks replay-fibers out "runnable"
lacks replay-fibers out "running"
expect replay-threads-once 1 -- "$LS" replay "$tmp/abba.trace" --threads --runs 1
has replay-threads-once out "replayed on OS threads 1 time: bug: deadlock reproduced 1 time"
expect abba-graph 1 -- "$LS" check deadlock_abba --graph-out "$tmp/abba.dot"
has abba-graph abba.dot 't0 [label="thread 0 (main)\nblocked on mutex A (deadlocked)"'
has abba-graph abba.dot 't1 [label="thread 1\nblocked on mutex B (deadlocked)"'
lacks abba-graph abba.dot "runnable"
lacks abba-graph abba.dot "running"
# Counts of one are singular.
expect one-execution 1 -- "$LS" check rwlock_reader_preferring_starvation --jobs 1
has one-execution out "(expected bug: starvation) after 1 execution in "
has one-execution out "the schedule has 0 preemptions"
has one-execution out "cas object #1 = 1"
lacks one-execution out "object#"
expect replay-threads 1 -- "$LS" replay "$tmp/abba.trace" --threads --runs 5
has replay-threads out "bug: deadlock reproduced 5 times"
expect no-shrink 1 -- "$LS" check deadlock_abba --strategy random --seed 5 --no-shrink
has no-shrink out "the schedule has 2 preemptions"
expect shrink 1 -- "$LS" check deadlock_abba --strategy random --seed 5
has shrink out "shrunk from 2 preemptions and 5 steps to 1 and 5"
has shrink out "the schedule has 1 preemption"
# A changed event: a divergence naming the step, on fibers and on threads.
sed 's/^\(3	0	\)cas/\1load/' "$tmp/abba.trace" >"$tmp/div.trace"
expect replay-diverged 2 -- "$LS" replay "$tmp/div.trace"
one_line replay-diverged
has replay-diverged err "replay diverged at step 3"
expect replay-diverged-threads 2 -- "$LS" replay "$tmp/div.trace" --threads
one_line replay-diverged-threads
has replay-diverged-threads err "step 3"
# Damaged trace files: exit 2 and one line naming the line.
: >"$tmp/empty.trace"
expect trace-empty 2 -- "$LS" replay "$tmp/empty.trace"
one_line trace-empty
has trace-empty err "empty.trace:1: empty file"
head -c 64 /dev/urandom | tr -d '\n' | sed 's/^/\x00/' >"$tmp/bin.trace"
printf 'lockstep-trace 1\n\0\0\0\n' >"$tmp/bin.trace"
expect trace-binary 2 -- "$LS" replay "$tmp/bin.trace"
one_line trace-binary
has trace-binary err "bin.trace:2: binary data"
sed "s/^lockstep-trace 4$/lockstep-trace 5/" "$tmp/abba.trace" >"$tmp/future.trace"
expect trace-future 2 -- "$LS" replay "$tmp/future.trace"
one_line trace-future
has trace-future err "version 5 is newer"
# An empty file name (an unset shell variable) is refused, not taken as none.
for flag in --report-json --junit --trace-out --graph-out --timeline-out --checkpoint --replay; do
  expect "empty[$flag]" 2 -- "$LS" check counter_mutex --strategy dfs "$flag" ""
  one_line "empty[$flag]"
  has "empty[$flag]" err "$flag needs a non-empty value"
done
# An execution keeps a record of each step: --max-steps has a ceiling.
expect max-steps-ceiling 2 -- "$LS" check counter_mutex --max-steps 5000000
one_line max-steps-ceiling
has max-steps-ceiling err "between 1 and 1000000"
# Header values no lockstep writes are refused, each in one line.
for edit in 's/^fair-scheduling 1$/fair-scheduling 9/' 's/^max-steps 20000$/max-steps 0/' \
            's/^bug-thread 1$/bug-thread 9/'; do
  sed "$edit" "$tmp/abba.trace" >"$tmp/header.trace"
  expect "trace-header[$edit]" 2 -- "$LS" replay "$tmp/header.trace"
  one_line "trace-header[$edit]"
done
has "trace-header[s/^bug-thread 1$/bug-thread 9/]" err "bug-thread 9 is not a thread of the trace"
head -n 20 "$tmp/abba.trace" >"$tmp/cut.trace"
expect trace-truncated 2 -- "$LS" replay "$tmp/cut.trace"
one_line trace-truncated
has trace-truncated err "truncated"
expect trace-missing 2 -- "$LS" replay "$tmp/nothing.trace"
one_line trace-missing
expect replay-no-file 2 -- "$LS" replay
one_line replay-no-file
expect replay-runs-fibers 2 -- "$LS" replay "$tmp/abba.trace" --runs 3
one_line replay-runs-fibers
# The wait-for graph of a trace's failure.
expect graph-trace 0 -- "$LS" graph "$tmp/abba.trace"
has graph-trace out "digraph"
has graph-trace out "mutex A"
expect graph-trace-timeline 0 -- "$LS" graph "$tmp/abba.trace" --timeline -o "$tmp/tl.dot"
has graph-trace-timeline tl.dot "digraph"
if command -v dot >/dev/null; then
  expect graph-trace-dot 0 -- dot -Tsvg "$tmp/tl.dot" -o "$tmp/tl.svg"
fi
expect graph-trace-bad 2 -- "$LS" graph "$tmp/empty.trace"
one_line graph-trace-bad
expect graph-svg-needs-out 2 -- "$LS" graph "$tmp/abba.trace" --svg
one_line graph-svg-needs-out
# Stress: free OS threads; a bad model name is exit 2.
expect stress-pass 0 -- "$LS" stress counter_mutex --runs 20
has stress-pass out "0 of 20 free runs"
expect stress-lost-wakeup 1 -- "$LS" stress queue_unbounded_wait --runs 2
has stress-lost-wakeup out "bug: lost_wakeup"
expect stress-unknown 2 -- "$LS" stress nosuch
one_line stress-unknown

# Numbers: one parser for flags and environment; what overflows is refused.
for bad in "--budget 182622766329724561m" "--budget 18446744073709551s" "--budget 18446744073709551616" \
           "--seed 18446744073709551616" "--seed -1" "--max-steps 0x10"; do
  # shellcheck disable=SC2086
  expect "overflow[$bad]" 2 -- "$LS" check counter_mutex $bad
  one_line "overflow[$bad]"
done
expect seed-max 0 -- "$LS" check counter_mutex --strategy random --seed 18446744073709551615 --quiet
expect seed-env-max 0 -- env LOCKSTEP_SEED=18446744073709551615 "$LS" check counter_mutex --strategy random --quiet
for bad in -1 0x10 " 5" 18446744073709551616; do
  expect "seed-env[$bad]" 2 -- env LOCKSTEP_SEED="$bad" "$LS" check counter_mutex --strategy random
  one_line "seed-env[$bad]"
done
# --all checks what it needs of the environment before its first model:
# nothing runs, so nothing (the table, the JUnit file) is lost half-way.
expect all-seed-env 2 -- env LOCKSTEP_SEED=abc "$LS" check --all --junit "$tmp/all-seed.xml"
one_line all-seed-env
has all-seed-env err "LOCKSTEP_SEED=abc"
[ ! -s "$tmp/out" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL all-seed-env: a model ran"; }
# ... but only when a model would read it: dpor does not.
expect all-seed-unused 1 -- env LOCKSTEP_SEED=abc "$LS" check --all --strategy dpor --budget 10 --quiet
has all-seed-unused out "54 models:"
lacks all-seed-unused err "LOCKSTEP_SEED"
expect all-tmpdir 2 -- env TMPDIR="$tmp/nonexistent" "$LS" check --all
one_line all-tmpdir
has all-tmpdir err "cannot make a temporary directory in $tmp/nonexistent (TMPDIR)"
# A model that crashes where it is not expected to costs that model only:
# the table goes on, and the JSON and the JUnit file cover every model.
# Stacks of 16 KiB are too small for some models in some builds (it depends
# on the compiler's frames: the release build without LTO overflows two,
# the profile-guided one none); whatever overflows, the run ends with a
# verdict (exit 0 or 1), never with the signal, every model is in both
# files, and each overflow is a row with its report.
"$LS" check --all --stack-size 16K --junit "$tmp/all16.xml" --report-json "$tmp/all16.json" \
  >"$tmp/all16.out" 2>"$tmp/all16.err" && status=0 || status=$?
if [ "$status" = 0 ] || [ "$status" = 1 ]; then pass=$((pass + 1)); else
  fail=$((fail + 1)); echo "FAIL all-crash: exit $status, expected 0 or 1"; tail -5 "$tmp/all16.err"; fi
expect all-crash-files 0 -- python3 -c '
import json, re, sys
out, report, junit = (open(f).read() for f in sys.argv[1:])
n = int(re.search(r"^(\d+) models: ", out, re.M).group(1))
results = json.loads(report)["results"]
assert len(results) == n, (len(results), n)
assert junit.count("<testcase ") == n, junit.count("<testcase ")
for r in results:
    if r["verdict"] == "bug" and r["bug"]["kind"] == "stack_overflow" and r["expected"] != "bug: stack_overflow":
        assert r["model"] + ": stack_overflow: stack overflow in thread" in out, r["model"]
' "$tmp/all16.out" "$tmp/all16.json" "$tmp/all16.xml"
expect stress-timeout-overflow 2 -- "$LS" stress counter_mutex --timeout 18446744073709551615
one_line stress-timeout-overflow


# Allocations are bounded by what the input justifies: under a 400 MB
# address-space limit (ample for a normal run, as the first line checks) bad
# input is refused with one line, not with a failed allocation (exit 3).
limited() {  # limited COMMAND...: the command under ulimit -v 400000
  bash -c 'ulimit -v 400000 && exec "$@"' limited "$@"
}
expect ulimit-ok 1 -- limited "$LS" replay "$tmp/abba.trace" --threads
# Fourteen characters claiming 2^28 choices (they once took 1 GiB).
huge=$(python3 -c '
import base64
p = bytes([1, 0, 0x80, 0x80, 0x80, 0x80, 0x01])  # one run: value 0, length 2^28
h = 2166136261
for b in p:
    h = ((h ^ b) * 16777619) & 0xffffffff
ck = (h ^ (h >> 12) ^ (h >> 24)) & 0xfff
a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
print("L1" + base64.urlsafe_b64encode(p).decode().rstrip("=") + a[ck >> 6] + a[ck & 63])
')
expect huge-replay-string 2 -- limited "$LS" check deadlock_abba --replay "$huge"
one_line huge-replay-string
has huge-replay-string err "of the 268435456 recorded choices"

# Trace files and checkpoints are read as hostile input: reading stops at
# the first byte that shows a file is not one (under the limit above).
expect dev-zero-trace 2 -- limited "$LS" replay /dev/zero
one_line dev-zero-trace
has dev-zero-trace err "/dev/zero:1: binary data (byte 0x00)"
expect dev-zero-checkpoint 2 -- limited "$LS" check counter_mutex --strategy dpor --checkpoint /dev/zero
one_line dev-zero-checkpoint
has dev-zero-checkpoint err "not a regular file"
truncate -s 2G "$tmp/zeros"  # sparse: no disk
expect zeros-trace 2 -- limited "$LS" replay "$tmp/zeros"
has zeros-trace err "zeros:1: binary data (byte 0x00)"
expect zeros-checkpoint 2 -- limited "$LS" check counter_mutex --strategy dpor --checkpoint "$tmp/zeros"
one_line zeros-checkpoint
has zeros-checkpoint err "line 1: not a lockstep checkpoint"
expect ckpt-missing-dir 2 -- "$LS" check semaphore_pool --strategy dpor --checkpoint "$tmp/nonexistent/ck"
one_line ckpt-missing-dir
has ckpt-missing-dir err "No such file or directory"

# --trace-out writes through a temporary created exclusively and never
# replaces what is not a regular file.
echo secret >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/out.trace.tmp"
expect trace-out-tmp-link 1 -- "$LS" check deadlock_abba --trace-out "$tmp/out.trace" --quiet
has trace-out-tmp-link victim "secret"
expect trace-out-regular 0 -- test -f "$tmp/out.trace" -a ! -L "$tmp/out.trace"
mkfifo "$tmp/fifo"
expect trace-out-fifo 2 -- "$LS" check deadlock_abba --trace-out "$tmp/fifo"
one_line trace-out-fifo
has trace-out-fifo err "is a FIFO, not a regular file"
expect trace-out-fifo-kept 0 -- test -p "$tmp/fifo"
ln -s "$tmp/victim" "$tmp/link.trace"
expect trace-out-link 2 -- "$LS" check deadlock_abba --trace-out "$tmp/link.trace"
one_line trace-out-link
expect trace-out-link-kept 0 -- test -L "$tmp/link.trace"
has trace-out-link-kept victim "secret"

# An object id the checker cannot give (it once sized a 4 GiB table, then
# said "reproduced"): refused on threads as on fibers.
sed 's/^\(5	1	cas	\)2/\14294967295/' "$tmp/abba.trace" >"$tmp/bigobj.trace"
expect big-object-fibers 2 -- limited "$LS" replay "$tmp/bigobj.trace"
one_line big-object-fibers
expect big-object-threads 2 -- limited "$LS" replay "$tmp/bigobj.trace" --threads
one_line big-object-threads
has big-object-threads err "step 5 names object 4294967295"
sed 's/^bug-step 5$/bug-step 4/' "$tmp/abba.trace" >"$tmp/bugstep.trace"
expect bug-step-threads 2 -- "$LS" replay "$tmp/bugstep.trace" --threads
one_line bug-step-threads
sed 's/^schedule .*/schedule L1AgABAQI7k/' "$tmp/abba.trace" >"$tmp/sched.trace"
expect schedule-threads 2 -- "$LS" replay "$tmp/sched.trace" --threads
one_line schedule-threads
has schedule-threads err "schedule"
# An altered spawn: one line at once (it stalled 5 s, then exited 3).
sed 's/^2	0	spawn	1	1/2	0	spawn	2	2/' "$tmp/abba.trace" >"$tmp/spawn.trace"
expect spawn-threads 2 -- "$LS" replay "$tmp/spawn.trace" --threads
one_line spawn-threads
has spawn-threads err "step 2"

# Outputs are checked before the search (its checkpoint is never written),
# and an output that fails after it does not lose the report.
expect json-missing-dir 2 -- "$LS" check semaphore_pool --strategy dpor --budget 2000 \
  --checkpoint "$tmp/ck-json" --report-json "$tmp/nonexistent/r.json"
one_line json-missing-dir
has json-missing-dir err "No such file or directory"
expect json-missing-dir-no-search 1 -- test -e "$tmp/ck-json"
for flag in --graph-out --timeline-out --trace-out; do
  expect "out-missing-dir[$flag]" 2 -- "$LS" check deadlock_abba "$flag" "$tmp/nonexistent/x"
  one_line "out-missing-dir[$flag]"
done
if [ -w /dev/full ]; then
  expect json-full 2 -- "$LS" check deadlock_abba --report-json /dev/full
  has json-full out "thread 1 holds mutex A"
  has json-full err "No space left on device"
  one_line json-full
  expect stdout-full 2 -- sh -c '"$0" list >/dev/full' "$LS"
  one_line stdout-full
  has stdout-full err "cannot write to standard output"
  expect stdout-full-check 2 -- sh -c '"$0" check deadlock_abba >/dev/full' "$LS"
  one_line stdout-full-check
fi
# A crash, a stack overflow, a step that never reaches a scheduling point:
# the report with its schedule on stderr, then the process ends with the
# signal (exit status 128+N) or, for the watchdog, exit code 124.
expect crash 139 -- "$LS" check crash_null_deref
has crash err "crash_null_deref: crash: SIGSEGV in thread 1 at step"
has crash err "(invalid memory access at address 0x0)"
has crash err "  replay: LOCKSTEP_REPLAY=L1"
has crash err "  run:    lockstep check crash_null_deref --replay L1"
has crash err "lockstep: the process ends with SIGSEGV"
has crash out "crash_null_deref: bug: crash (expected bug: crash)"
cmd=$(sed -n 's/^  run: *//p' "$tmp/err")
step=$(grep -o 'SIGSEGV in thread 1 at step [0-9]*' "$tmp/err" | head -1)
expect crash-replay 139 -- bash -c "${cmd/lockstep/\"$LS\"}"
has crash-replay err "$step"
has crash-replay err "(replay;"
expect crash-abort 134 -- "$LS" check crash_abort --quiet
has crash-abort err "crash_abort: crash: SIGABRT in thread"
has crash-abort err "lockstep check crash_abort --replay L1"
has crash-abort out "crash_abort: bug: crash"
expect overflow 139 -- "$LS" check stack_overflow_large_frame
has overflow err "stack_overflow: stack overflow in thread 0 (main) at step"
has overflow err "(stack_size = 256 KiB; raise options.stack_size / --stack-size)"
expect overflow-128k 139 -- "$LS" check stack_overflow_large_frame --stack-size 128K
has overflow-128k err "(stack_size = 128 KiB;"
has overflow-128k err " --stack-size 128K"
expect overflow-1m 0 -- "$LS" check stack_overflow_large_frame --stack-size 1M
has overflow-1m out "stack_overflow_large_frame: pass"
expect recursion 139 -- "$LS" check stack_overflow_recursion
has recursion err "stack_overflow: stack overflow in thread 0 (main)"
expect hang 124 -- "$LS" check hang_std_atomic_spin
has hang err "non_termination: thread 1 ran 1 s of CPU time without reaching a scheduling point"
has hang err "lockstep check hang_std_atomic_spin --replay L1"
has hang err "the watchdog ends the process (exit code 124)"
expect hang-timeout 124 -- "$LS" check hang_std_atomic_spin --step-timeout 300ms
has hang-timeout err "ran 300 ms of CPU time without reaching"
has hang-timeout err " --step-timeout 300ms"
# Its trace replays under the model's limit (1 s), not the default 10 s.
expect hang-trace 124 -- "$LS" check hang_std_atomic_spin --trace-out "$tmp/hang.trace"
expect hang-trace-replay 124 -- "$LS" replay "$tmp/hang.trace"
has hang-trace-replay err "ran 1 s of CPU time without reaching a scheduling point"
# A limit given to the check is the trace's: its replay ends the step there.
expect hang-trace-limit 124 -- "$LS" check hang_std_atomic_spin --step-timeout 300ms --trace-out "$tmp/hang300.trace"
has hang-trace-limit hang300.trace "step-timeout 300"
expect hang-trace-limit-replay 124 -- "$LS" replay "$tmp/hang300.trace"
has hang-trace-limit-replay err "ran 300 ms of CPU time without reaching a scheduling point"
# The files a check writes are written before the process ends; the trace
# replays the crash at the same step.
expect crash-files 139 -- "$LS" check crash_null_deref --trace-out "$tmp/crash.trace" --report-json "$tmp/crash.json"
has crash-files crash.trace "verdict crash"
has crash-files out "trace written to"
step=$(grep -o 'SIGSEGV in thread 1 at step [0-9]*' "$tmp/err" | head -1)
expect crash-json 0 -- python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "bug" and r["bug"]["kind"] == "crash", r
assert r["schedule"].startswith("L1") and r["bug"]["events"], r
' "$tmp/crash.json"
expect crash-trace-replay 139 -- "$LS" replay "$tmp/crash.trace"
has crash-trace-replay err "$step"
# graph of a crash trace: the replay ends the process, the picture is
# written first; on OS threads the crash happens for real, said first.
expect crash-graph 139 -- "$LS" graph "$tmp/crash.trace" -o "$tmp/crash.dot"
has crash-graph crash.dot 'crash_null_deref: crash: SIGSEGV'
expect crash-threads 139 -- "$LS" replay "$tmp/crash.trace" --threads
has crash-threads err "the recorded bug is a crash"
for bad in "--stack-size x" "--stack-size 1K" "--stack-size 2G" "--step-timeout soon" "--step-timeout 0s"; do
  # shellcheck disable=SC2086
  expect "bad[$bad]" 2 -- "$LS" check counter_mutex $bad
  one_line "bad[$bad]"
done
expect step-timeout-off 0 -- "$LS" check counter_mutex --step-timeout off

# Shards as a runner starts them: N processes at once, each its own --jobs,
# then one merge. The union is the whole search: as many executions.
m=$tmp/merge
mkdir -p "$m"
expect merge-whole 0 -- "$LS" check transfer_optimistic_bounded --strategy dfs --quiet --report-json "$m/whole.json"
whole=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["executions"])' "$m/whole.json")
for i in 0 1 2; do
  "$LS" check transfer_optimistic_bounded --strategy dfs --shard $i/3 --jobs $((1 + i % 2)) --quiet \
    --report-json "$m/dfs$i.json" >/dev/null 2>&1 &
done
wait
has shard-json merge/dfs1.json '"shard": {"index": 1, "count": 3, "complete": true}'
has shard-json-whole merge/dfs1.json '"complete": false'
expect merge-dfs 0 -- "$LS" merge "$m/dfs0.json" "$m/dfs1.json" "$m/dfs2.json" --report-json "$m/merged.json"
has merge-dfs out "3 shards of dfs: pass, complete after $whole executions"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "pass" and r["complete"] and r["shards"] == 3 and r["executions"] == int(sys.argv[2]), r
' "$m/merged.json" "$whole" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL merge-json"; }
# Source-dpor shards: the executions sleep sets stopped as redundant are in
# each report and add up in the merged one, as the executions do.
expect abandoned-whole 0 -- "$LS" check redis_lock_fenced --strategy source-dpor --jobs 1 --report-json "$m/sd.json"
has abandoned-text out "of them stopped as redundant by sleep sets)"
# The report names the search it ran: source sets are not optimal dpor.
has source-label out "(source-dpor, complete; "
for i in 0 1; do
  "$LS" check redis_lock_fenced --strategy source-dpor --shard $i/2 --jobs 1 --quiet --report-json "$m/sd$i.json" >/dev/null 2>&1 &
done
wait
expect abandoned-merge 0 -- "$LS" merge "$m/sd0.json" "$m/sd1.json" --report-json "$m/sdm.json"
# redis_lock_fenced's retries are bounded: it runs without fair scheduling
# (model_settings), every schedule.
has fair-json merge/sd0.json '"fair_only": false'
# A spinlock's spin yields: fair scheduling left schedules out, and the
# shards and their merge say so.
for i in 0 1; do
  "$LS" check spinlock_release_unlock --strategy dpor --shard $i/2 --quiet --report-json "$m/sp$i.json" >/dev/null 2>&1
done
has fair-shard-json merge/sp1.json '"fair_only": true'
expect fair-merge 0 -- "$LS" merge "$m/sp0.json" "$m/sp1.json" --report-json "$m/spm.json"
has fair-merge out "2 shards of dpor: pass, complete over fair schedules after"
has fair-merge-json merge/spm.json '"fair_only": true'
has fair-merge-json merge/spm.json '"spurious_bound": null,'
# A wait that met the spurious wake-up bound in either shard: the merge names
# the bound; a shard's report from before the field is taken to have met its
# options' bound.
for i in 0 1; do
  "$LS" check condvar_predicate --strategy dpor --shard $i/2 --spurious-wakeups 2 --quiet --report-json "$m/cv$i.json" >/dev/null 2>&1
done
expect spurious-merge 0 -- "$LS" merge "$m/cv0.json" "$m/cv1.json" --report-json "$m/cvm.json"
has spurious-merge out "2 shards of dpor: pass, complete, spurious wake-up bound 2 after"
has spurious-merge-json merge/cvm.json '"spurious_bound": 2,'
grep -v '"spurious_bound"' "$m/cv1.json" > "$m/cv1-old.json"
expect spurious-merge-old 0 -- "$LS" merge "$m/cv0.json" "$m/cv1-old.json"
has spurious-merge-old out "pass, complete, spurious wake-up bound 2 after"
python3 -c '
import json, sys
w, a, b, m = (json.load(open(f)) for f in sys.argv[1:])
assert w["abandoned"] > 0 and w["abandoned"] < w["executions"], w
assert m["abandoned"] == a["abandoned"] + b["abandoned"] and m["executions"] == a["executions"] + b["executions"], m
' "$m/sd.json" "$m/sd0.json" "$m/sd1.json" "$m/sdm.json" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL abandoned-json"; }
python3 -c '
import json, sys
for f in sys.argv[1:]:
    r = json.load(open(f))
    assert r["strategy"] == "source-dpor" and r["options"]["strategy"] == "source-dpor", (f, r["strategy"], r["options"])
' "$m/sd.json" "$m/sd0.json" "$m/sdm.json" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL source-label-json"; }
# An optimal-dpor shard and a source-dpor shard split different trees: their
# union need not be every schedule, so merge refuses them.
"$LS" check redis_lock_fenced --strategy dpor --shard 1/2 --jobs 1 --quiet --report-json "$m/od1.json" >/dev/null 2>&1
expect merge-mixed-dpor 2 -- "$LS" merge "$m/sd0.json" "$m/od1.json"
has merge-mixed-dpor err 'explored with other options than'
has merge-mixed-dpor err 'strategy "source-dpor" and "dpor"'
one_line merge-mixed-dpor
# Reports written before "fair_only" existed are taken to have left
# something out (as a version 2 checkpoint is): not plainly complete.
grep -v '"fair_only"' "$m/sd0.json" >"$m/sdold_f0.json"
grep -v '"fair_only"' "$m/sd1.json" >"$m/sdold_f1.json"
expect fair-old 0 -- "$LS" merge "$m/sdold_f0.json" "$m/sdold_f1.json"
has fair-old out "pass, complete over fair schedules after"
# A report written before the field existed merges as 0 abandoned.
grep -v '"abandoned"' "$m/sd0.json" >"$m/sdold0.json"
expect abandoned-old 0 -- "$LS" merge "$m/sdold0.json" "$m/sd1.json"
# dpor shards of a bug model with different job counts: the bug is the verdict.
for i in 0 1; do
  "$LS" check recursive_unlock_foreign --strategy dpor --shard $i/2 --jobs $((1 + i)) --quiet \
    --report-json "$m/bug$i.json" >/dev/null 2>&1 &
done
wait
expect merge-bug 1 -- "$LS" merge "$m/bug1.json" "$m/bug0.json"
has merge-bug out "recursive_unlock_foreign: misuse:"
has merge-bug out "run:    lockstep check recursive_unlock_foreign --replay L1"
has merge-bug out "2 shards of dpor: bug: misuse"
# What does not belong together, or is missing, is bad input.
expect merge-missing 2 -- "$LS" merge "$m/dfs0.json" "$m/dfs2.json"
one_line merge-missing
has merge-missing err "shard 1 of 3 missing"
expect merge-twice 2 -- "$LS" merge "$m/dfs0.json" "$m/dfs0.json" "$m/dfs1.json"
has merge-twice err "shard 0 of 3 is given twice"
"$LS" check transfer_optimistic_bounded --strategy dfs --shard 2/3 --max-steps 5000 --quiet \
  --report-json "$m/other.json" >/dev/null 2>&1
expect merge-options 2 -- "$LS" merge "$m/dfs0.json" "$m/dfs1.json" "$m/other.json"
one_line merge-options
has merge-options err "explored with other options"
has merge-options err "max_steps 20000 and 5000"
expect merge-models 2 -- "$LS" merge "$m/dfs0.json" "$m/bug1.json"
has merge-models err "a shard of model 'recursive_unlock_foreign'"
printf '{"model": "x", "shard": ' >"$m/cut.json"
expect merge-corrupt 2 -- "$LS" merge "$m/cut.json"
one_line merge-corrupt
has merge-corrupt err "not a lockstep report"
head -c 100000 /dev/urandom >"$m/noise.json"
expect merge-noise 2 -- "$LS" merge "$m/noise.json"
one_line merge-noise
expect merge-no-file 2 -- "$LS" merge "$m/nosuch.json"
one_line merge-no-file
# Damaged fields are refused in one line, not trusted: a shard count past
# what --shard makes (it sized a table: gigabytes), counts that wrap when
# added, a time that is no time, a verdict the bug contradicts, a member
# given twice.
damage() {  # damage NAME SED-EXPRESSION: a copy of dfs1.json, edited
  sed -e "$2" "$m/dfs1.json" >"$m/$1.json"
}
damage huge-count 's/"count": 3/"count": 4000000000/'
expect merge-huge-count 2 -- limited "$LS" merge "$m/huge-count.json"
one_line merge-huge-count
has merge-huge-count err "more than 1000000 shards"
damage wrap 's/"executions": [0-9]*/"executions": 18446744073709551615/'
expect merge-wrap 2 -- "$LS" merge "$m/dfs0.json" "$m/wrap.json" "$m/dfs2.json"
one_line merge-wrap
has merge-wrap err "add up past 2^64"
damage negative-time 's/"seconds": [0-9.]*/"seconds": -1/'
expect merge-negative-time 2 -- "$LS" merge "$m/dfs0.json" "$m/negative-time.json" "$m/dfs2.json"
has merge-negative-time err '"seconds" is not a time'
damage says-bug 's/"verdict": "[a-z]*"/"verdict": "bug"/'
expect merge-says-bug 2 -- "$LS" merge "$m/dfs0.json" "$m/says-bug.json" "$m/dfs2.json"
has merge-says-bug err 'the verdict says bug but "bug" is null'
damage twice 's/"model": /"model": "x", "model": /'
expect merge-twice-member 2 -- "$LS" merge "$m/dfs0.json" "$m/twice.json" "$m/dfs2.json"
one_line merge-twice-member
has merge-twice-member err 'given twice'
# A report of another lockstep (a newer one's fields may mean other things),
# and one whose strategy and options' strategy disagree, are refused.
damage future 's/"lockstep": "[^"]*"/"lockstep": "9.9.9"/'
expect merge-future 2 -- "$LS" merge "$m/dfs0.json" "$m/future.json" "$m/dfs2.json"
one_line merge-future
has merge-future err 'written by lockstep 9.9.9, this is lockstep'
damage other-strategy '0,/"strategy": "dfs"/s//"strategy": "pct"/'
expect merge-other-strategy 2 -- "$LS" merge "$m/dfs0.json" "$m/other-strategy.json" "$m/dfs2.json"
one_line merge-other-strategy
has merge-other-strategy err 'differ'
# A shard stopped by its budget: the merged verdict is incomplete (exit 1).
"$LS" check transfer_optimistic_bounded --strategy dfs --shard 0/3 --budget 10 --quiet \
  --report-json "$m/short0.json" >/dev/null 2>&1
expect merge-incomplete 1 -- "$LS" merge "$m/short0.json" "$m/dfs1.json" "$m/dfs2.json"
has merge-incomplete out "incomplete"
has merge-incomplete out "shard 0 ("
expect merge-help 0 -- "$LS" help merge

# lockstep list: a header row, the models by group, each fix right after its
# bug, no line wider than 100 columns.
expect list-layout 0 -- "$LS" list
cp "$tmp/out" "$tmp/list.out"
expect list-header 0 -- grep -Eq '^ *model .* expected .* checked by default$' <(head -n 1 "$tmp/list.out")
expect list-width 0 -- awk 'length($0) > 100 { print "line " NR " has " length($0) " columns"; bad = 1 } END { exit bad }' \
  "$tmp/list.out"
expect list-order 0 -- python3 - "$tmp/list.out" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")[1:]
groups, models, group = [], [], None  # models: (group, name, expected, description)
for l in lines:
    if re.fullmatch(r"[a-z_]+:", l):
        group = l[:-1]
        assert group not in groups, "group %s appears twice" % group
        groups.append(group)
    elif re.match(r"  [a-z_0-9]+  ", l):
        name, rest = l.split(None, 1)
        models.append([group, name, rest, ""])
    elif l.startswith("      "):
        models[-1][3] += " " + l.strip()
    else:
        assert l == "", "unexpected line %r" % l
assert len(models) > 40, len(models)
names = [m[1] for m in models]
# A description that refers to the model before it ("the same ...") follows the bug it fixes.
for i, (g, name, expected, desc) in enumerate(models):
    if desc.strip().startswith("the same"):
        assert i > 0 and models[i - 1][0] == g and "bug: " in models[i - 1][2], "%s does not follow its bug" % name
assert names.index("counter_mutex") == names.index("counter_unsynchronized") + 1, names
assert names.index("transfer_pessimistic_ordered") == names.index("transfer_pessimistic_unordered") + 1, names
PY
# The README's "(sampled)" notes name exactly the models check samples by default.
readme=$(dirname "$0")/../README.md
if [ -f "$readme" ]; then
  expect readme-sampled 0 -- python3 - "$tmp/list.out" "$readme" <<'PY'
import re, sys
listed = {}
for l in open(sys.argv[1]).read().split("\n")[1:]:
    m = re.match(r"  ([a-z_0-9]+)  .*  (dpor: every schedule|random: [0-9,]+ schedules)$", l)
    if m:
        listed[m.group(1)] = m.group(2).startswith("random")
noted = set()
for l in open(sys.argv[2]):
    if l.startswith("| `") and "(sampled)" in l:
        for name in re.findall(r"`([^`]+)`", l.split("|")[1]):
            assert name in listed, "README names %s, which is not registered" % name
            noted.add(name)
sampled = {n for n, s in listed.items() if s}
assert noted == sampled, "README (sampled): %s; sampled by default: %s" % (sorted(noted), sorted(sampled))
PY
fi

# Several jobs: the numbers a report prints agree with each other ("found in
# execution K" is the K-th execution counted, "after K executions"), and with
# the same --jobs every run prints the same ones.
for spec in "rwlock_reader_preferring_starvation --jobs 2" "redis_lock_release_unchecked --jobs 2" \
            "seqlock_no_fences --strategy dfs --jobs 3" "rwlock_reader_preferring_starvation --jobs 1"; do
  : >"$tmp/runs"
  for run in 1 2 3 4; do
    # shellcheck disable=SC2086
    expect "jobs[$spec]" 1 -- "$LS" check $spec --report-json "$tmp/jobs.json"
    k=$(sed -n 's/^  found in execution \([0-9]*\) at step.*/\1/p' "$tmp/out")
    n=$(sed -n 's/.* after \([0-9]*\) executions\{0,1\} in .*/\1/p' "$tmp/out")
    if [ -n "$k" ] && [ "$k" = "$n" ]; then pass=$((pass + 1)); else
      fail=$((fail + 1)); echo "FAIL jobs[$spec]: found in execution '$k', after '$n' executions"; fi
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["bug"]["execution"] == r["executions"], r
print(r["executions"], r["steps"], r["schedule"], r["bug"]["step"])
' "$tmp/jobs.json" >>"$tmp/runs" || { fail=$((fail + 1)); echo "FAIL jobs-json[$spec]"; }
  done
  if [ "$(sort -u "$tmp/runs" | wc -l)" -eq 1 ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL jobs-same[$spec]: runs differ:"; cat "$tmp/runs"; fi
done

# --junit: JUnit XML, a testcase per model; a missed verdict is a failure
# with the report; written when models fail too; a bad path is exit 2.
expect junit-all 0 -- "$LS" check --all --junit "$tmp/all.xml" --quiet
has junit-all all.xml '<?xml version="1.0" encoding="UTF-8"?>'
has junit-all all.xml '<testcase classname="classic" name="deadlock_abba" time="'
has junit-all all.xml '<property name="coverage" value="sampled"/>'
has junit-all all.xml '<property name="got" value="pass (50,000 random schedules)"/>'
has junit-all all.xml '<property name="coverage" value="complete"/>'
expect junit-all-cases 0 -- test "$(grep -c '<testcase ' "$tmp/all.xml")" -eq "$(grep -c '^  [a-z_0-9][a-z_0-9]*  ' "$tmp/list.out")"
expect junit-all-no-failure 1 -- grep -q '<failure' "$tmp/all.xml"
expect junit-missed 1 -- "$LS" check --all --strategy dfs --budget 1 --junit "$tmp/missed.xml" --quiet
missed=$(sed -n 's/.* got their expected verdict, \([0-9]*\) missed$/\1/p' "$tmp/out")
has junit-missed missed.xml "failures=\"$missed\""
expect junit-missed-count 0 -- test "$(grep -c '<failure ' "$tmp/missed.xml")" -eq "$missed"
has junit-missed missed.xml '<failure message="expected bug: deadlock, got incomplete" type="incomplete"><![CDATA[deadlock_abba: no bug found in 1 execution ('
expect junit-one 1 -- "$LS" check deadlock_abba --junit "$tmp/one.xml"
has junit-one one.xml 'tests="1" failures="0"'
has junit-one one.xml 'thread 1 holds mutex A'
expect junit-crash 139 -- "$LS" check crash_null_deref --junit "$tmp/crash.xml"
has junit-crash crash.xml '<testcase classname="crash" name="crash_null_deref"'
has junit-crash crash.xml '<property name="got" value="bug: crash"/>'
for x in all missed one crash; do
  if command -v python3 >/dev/null 2>&1; then
    expect "junit-wellformed[$x]" 0 -- python3 - "$tmp/$x.xml" "$tmp/list.out" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
groups, group = {}, None
for l in open(sys.argv[2]).read().split("\n")[1:]:
    if re.fullmatch(r"[a-z_]+:", l):
        group = l[:-1]
    elif re.match(r"  [a-z_0-9]+  ", l):
        groups[l.split()[0]] = group
cases = root.findall("./testsuite/testcase")
assert len(cases) == int(root.get("tests")) >= 1, len(cases)
assert len(root.findall(".//failure")) == int(root.get("failures")), root.attrib
for c in cases:
    assert groups[c.get("name")] == c.get("classname"), c.attrib
    float(c.get("time"))
    props = {p.get("name"): p.get("value") for p in c.findall("./properties/property")}
    assert {"expected", "got", "coverage", "strategy", "executions"} <= set(props), props
    assert c.findtext("system-out").startswith(c.get("name") + ": " + props["got"]), c.findtext("system-out")
    f = c.find("failure")
    if f is not None:
        assert f.text.startswith(c.get("name") + ": "), f.text
    if props["coverage"] == "sampled":
        assert "sampled, not a proof" in c.findtext("system-out")
PY
  fi
  if command -v xmllint >/dev/null 2>&1; then
    expect "junit-xmllint[$x]" 0 -- xmllint --noout "$tmp/$x.xml"
  fi
  # Without either: the structure by lines.
  expect "junit-structure[$x]" 0 -- bash -c '
    f=$1
    [ "$(grep -c "<testcase " "$f")" -eq "$(grep -c "</testcase>" "$f")" ] &&
    [ "$(grep -c "<failure " "$f")" -eq "$(grep -c "</failure>" "$f")" ] &&
    [ "$(tail -n 1 "$f")" = "</testsuites>" ]' structure "$tmp/$x.xml"
done
expect junit-bad-dir 2 -- "$LS" check --all --junit "$tmp/nonexistent/r.xml"
one_line junit-bad-dir
has junit-bad-dir err "--junit: cannot write $tmp/nonexistent/r.xml: No such file or directory"
expect junit-is-dir 2 -- "$LS" check counter_mutex --junit "$tmp"
one_line junit-is-dir
expect junit-no-value 2 -- "$LS" check counter_mutex --junit
one_line junit-no-value

# lincheck: the gated types, a gate's verdict line, bad usage in one line.
expect lincheck-list 0 -- "$LS" lincheck --list
for t in bounded_queue atomic_counter locked_counter striped_counter owned_counter \
         counting_semaphore event shared_mutex future thread_pool; do
  has "lincheck-list-$t" out "$t"
done
expect lincheck-queue 0 -- "$LS" lincheck bounded_queue --scenarios 20
# Its timed puts and gets yield when they expire: fair scheduling left
# schedules out, and the line says so; --unfair covers every one.
has lincheck-queue out "lincheck bounded_queue: linearizable in 20 scenarios of 2 threads x 3 operations, every fair interleaving of each (dpor)"
expect lincheck-unfair 0 -- "$LS" lincheck bounded_queue --scenarios 20 --unfair
has lincheck-unfair out "lincheck bounded_queue: linearizable in 20 scenarios of 2 threads x 3 operations, every interleaving of each (dpor)"
expect lincheck-sampled 0 -- "$LS" lincheck bounded_queue --scenarios 5 --threads 3 --strategy pct --executions 200
has lincheck-sampled out "sampled (pct, up to 200 executions a scenario)"
expect lincheck-unknown 2 -- "$LS" lincheck no_such_type
one_line lincheck-unknown
has lincheck-unknown err "unknown type 'no_such_type'"
expect lincheck-flag 2 -- "$LS" lincheck bounded_queue --frobnicate
one_line lincheck-flag
expect lincheck-threads 2 -- "$LS" lincheck bounded_queue --threads 0
one_line lincheck-threads
expect lincheck-replay 2 -- "$LS" lincheck bounded_queue --replay nonsense
one_line lincheck-replay
has lincheck-replay err "not a lincheck replay string"
expect lincheck-none 2 -- "$LS" lincheck
one_line lincheck-none
expect lincheck-help 0 -- "$LS" help lincheck
has lincheck-help out "--scenarios N"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
