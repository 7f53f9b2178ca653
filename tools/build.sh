#!/usr/bin/env bash
# Configures (once) and builds lockstep in ./build (release, LTO, warnings on,
# profile-guided with g++): the ninja targets given (e.g. tools/lockstep), or
# every target.
#
# Profile-guided: while build/ has no trained profile (build/pgo-trained), the
# CLI is built instrumented and runs every model under its own strategy, then
# sampled (random, pct, pos), and a short free run on OS threads; build/ is
# then configured to compile with that profile, which tells GCC which
# branches the scheduling path takes, what to inline and how to lay the code
# out (tools/bench/README.md measures it). Code the training never ran is
# optimised as usual (-fprofile-partial-training, meson.build). To train
# again (after large changes, or a new g++): rm build/pgo-trained.
# LOCKSTEP_NO_PGO=1, or a build/ set up with another compiler than g++,
# builds without a profile.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release

# What build/ is now: its compiler and its profile mode.
read -r compiler pgo < <(python3 -c '
import json, subprocess
targets = json.load(open("build/meson-info/intro-targets.json"))
cxx = next(s["compiler"] for t in targets for s in t["target_sources"] if s.get("language") == "cpp")
macros = subprocess.run(cxx + ["-dM", "-E", "-x", "c++", "/dev/null"], capture_output=True, text=True).stdout
options = json.load(open("build/meson-info/intro-buildoptions.json"))
print("clang" if "__clang__" in macros else "gcc", next(o["value"] for o in options if o["name"] == "b_pgo"))')

# One training run: a bug found (exit 1) is fine, a run that did not check
# its models (bad usage, a crash: no summary line) is not.
train() {
  local out=build/pgo-training.txt status=0 log
  log=$(build/tools/lockstep "$@" 2>&1) || status=$?
  printf '%s\n' "$log" >> "$out"
  if [ "$status" -gt 1 ] || ! grep -q -E "^[0-9]+ models:|the bug showed up in" <<< "$log"; then
    echo "lockstep: profile training failed (lockstep $*, exit $status); see $out" >&2
    meson configure build -Db_pgo=off
    exit 1
  fi
}

if [ -n "${LOCKSTEP_NO_PGO:-}" ] || [ "$compiler" != gcc ]; then
  rm -f build/pgo-trained
  [ "$pgo" = off ] || meson configure build -Db_pgo=off
elif [ "$pgo" != use ] || [ ! -f build/pgo-trained ]; then
  echo "lockstep: profile-guided build: training the instrumented CLI (about a minute)"
  rm -f build/pgo-trained build/pgo-training.txt
  meson configure build -Db_pgo=generate
  ninja -C build tools/lockstep
  find build -name '*.gcda' -delete
  train check --all --quiet
  train check --all --strategy random --budget 2000 --quiet
  train check --all --strategy pct --budget 500 --quiet
  train check --all --strategy pos --budget 500 --quiet
  train stress counter_mutex --runs 200 --quiet
  meson configure build -Db_pgo=use
  touch build/pgo-trained
fi
ninja -C build "$@"
