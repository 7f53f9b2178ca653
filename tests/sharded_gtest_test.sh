#!/usr/bin/env bash
# A check declared with LOCKSTEP_SHARDED_TEST, spread by GoogleTest's own
# sharding as a runner (ctest, Bazel, a CI matrix) would: each of three
# processes gets GTEST_TOTAL_SHARDS=3 and its GTEST_SHARD_INDEX. Together they
# must run every instance exactly once and cover the 90 orders exactly (each
# prints the executions sleep sets did not abandon).
set -uo pipefail
bin=$1
fail() { echo "FAIL: $*"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in 0 1 2; do
  GTEST_TOTAL_SHARDS=3 GTEST_SHARD_INDEX=$i "$bin" --gtest_filter='Sharded/*' >"$out/$i.txt" 2>&1 &
done
wait
cat "$out"/*.txt | grep -q "FAILED" && { cat "$out"/*.txt; fail "an instance failed"; }
ran=$(cat "$out"/*.txt | grep -c '^\[       OK \] Sharded/')
[ "$ran" -eq 3 ] || fail "expected 3 instances to run once in all, $ran ran"
for i in 0 1 2; do
  n=$(cat "$out"/*.txt | grep -c "^lockstep-shard $i of 3:")
  [ "$n" -eq 1 ] || fail "shard $i ran $n times"
done
total=$(cat "$out"/*.txt | sed -n 's/^lockstep-shard [0-9]* of 3: \([0-9]*\) executions$/\1/p' | awk "{s += \$1} END {print s + 0}")
[ "$total" -eq 90 ] || fail "the shards ran $total executions, the space has 90"
echo "ok: 3 instances on 3 GoogleTest shards, 90 executions in all"
