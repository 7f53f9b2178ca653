#!/usr/bin/env bash
# Configures (once) and builds lockstep in ./build (release, LTO, warnings on,
# profile-guided with g++): the ninja targets given (e.g. tools/lockstep), or
# every target.
#
# Profile-guided: the first time, the CLI is built instrumented and runs
# `lockstep check --all` (every model under its own strategy, then sampled), then
# build/ is configured to compile with that profile, which tells GCC which
# branches the scheduling path takes, what to inline and how to lay the code
# out (tools/bench/README.md measures it). LOCKSTEP_NO_PGO=1 (or clang as CXX)
# builds without.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release
if [ -n "${LOCKSTEP_NO_PGO:-}" ] || [[ "${CXX:-g++}" == *clang* ]]; then
  if [ -f build/pgo-trained ]; then meson configure build -Db_pgo=off; rm build/pgo-trained; fi
elif [ ! -f build/pgo-trained ]; then
  echo "lockstep: profile-guided build: training on lockstep check --all (instrumented)"
  meson configure build -Db_pgo=generate
  ninja -C build tools/lockstep
  find build -name '*.gcda' -delete
  # Every model under its own strategy (dpor for most), then under random
  # sampling (the path of the sampled models and of most tests). A model that
  # misses its verdict still trains the profile; the checks that follow
  # report it.
  { build/tools/lockstep check --all --quiet || true
    build/tools/lockstep check --all --strategy random --budget 2000 --quiet || true; } > build/pgo-training.txt 2>&1
  meson configure build -Db_pgo=use
  touch build/pgo-trained
fi
ninja -C build "$@"
