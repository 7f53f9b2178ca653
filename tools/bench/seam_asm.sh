#!/usr/bin/env bash
# seam_asm.sh — "the production instantiation pays nothing for the seam",
# shown on the machine code.
#
# bench_mutex keeps four out-of-line functions (gnu::noinline, gnu::used):
#   seam_lock_lockstep / seam_unlock_lockstep   lockstep::mutex::lock/unlock
#                                               (basic_mutex<os_platform>)
#   seam_lock_plain    / seam_unlock_plain      plain_futex_mutex::lock/unlock,
#                                               the same algorithm hand-written
#                                               on std::atomic and raw futex
#                                               calls, no seam
# and the two benchmark loops, BM_uncontended<M> and contended_loop<M>, into
# which a user's lock()/unlock() calls are inlined. This script disassembles
# them from a built bench_mutex, normalises what must differ (addresses, and
# the name of the function each one calls to report an unlock of an unlocked
# mutex), and diffs each lockstep / plain pair.
# Exit status 0: identical instruction sequences.
#
# usage: tools/bench/seam_asm.sh [builddir]     (default: build)
#        SHOW=1 tools/bench/seam_asm.sh ...     also print the lockstep code
set -euo pipefail
builddir=${1:-build}
bin=$builddir/tools/bench/bench_mutex
[ -x "$bin" ] || { echo "no $bin (build the benchmarks first)" >&2; exit 2; }

dis=$(mktemp -d)
trap 'rm -rf "$dis"' EXIT
objdump -d --demangle --no-show-raw-insn "$bin" >"$dis/all.s"

# body <text of the function's header>: its instructions, normalised.
body() {
  awk -v fn="$1" '
    /^[0-9a-f]+ </ && index($0, fn) > 0 && index($0, "[clone") == 0 { p = 1; next }
    p && /^$/ { exit }
    p { print }
  ' "$dis/all.s" |
    sed -E \
      -e 's/^ *[0-9a-f]+:\t//' \
      -e 's/-?0x[0-9a-f]+\(%rip\)(,[^ ]*)? +# .*/<rip-relative>\1/' \
      -e 's/call +[0-9a-f]+ <(lockstep::detail::os_misuse|lockstep::bench::basic_plain_futex_mutex<0>::misuse)[^>]*>.*/call <misuse>/' \
      -e 's/ [0-9a-f]+ <(lockstep::bench::seam_|void \(anonymous namespace\)::(BM_|contended_loop)).*\+(0x[0-9a-f]+)>$/ +\3/' \
      -e 's/[[:space:]]+$//' |
    grep -Ev '^(nop|xchg   %ax,%ax|data16|cs nopw|nopw|nopl)' || true
}

lm='lockstep::basic_mutex<lockstep::os_platform>'
pm='lockstep::bench::basic_plain_futex_mutex<0>'
# what | lockstep's header | plain's header
pairs=(
  "lock()|<lockstep::bench::seam_lock_lockstep(|<lockstep::bench::seam_lock_plain("
  "unlock()|<lockstep::bench::seam_unlock_lockstep(|<lockstep::bench::seam_unlock_plain("
  "BM_uncontended loop (inlined)|::BM_uncontended<$lm >(|::BM_uncontended<$pm >("
  "contended loop (inlined)|::contended_loop<$lm >(|::contended_loop<$pm >("
)

status=0
i=0
for pair in "${pairs[@]}"; do
  IFS='|' read -r what ls_fn plain_fn <<<"$pair"
  i=$((i + 1))
  body "$ls_fn" >"$dis/lockstep.$i"
  body "$plain_fn" >"$dis/plain.$i"
  n=$(wc -l <"$dis/lockstep.$i")
  if [ "$n" -eq 0 ] || [ ! -s "$dis/plain.$i" ]; then
    echo "$what: not found in $bin" >&2
    status=2
  elif diff -u "$dis/lockstep.$i" "$dis/plain.$i" >"$dis/diff.$i"; then
    echo "$what: lockstep::mutex and plain_futex_mutex identical ($n instructions)"
  else
    echo "$what: DIFFERENT:"
    cat "$dis/diff.$i"
    status=1
  fi
  if [ "${SHOW:-0}" = 1 ]; then
    echo "--- lockstep::mutex, $what, normalised:"
    cat "$dis/lockstep.$i"
  fi
done
exit $status
