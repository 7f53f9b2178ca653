#!/usr/bin/env bash
# Builds a meson project that has lockstep as a subproject (a link to the
# source tree in its subprojects/), its program with warnings as errors, and
# runs the program: it must find the lost update. Checks that lockstep, as a
# subproject, set up neither its tests nor its benchmarks. The compilers are
# those given, else $CXX (the one of the build that runs this test, from
# tests/meson.build) and clang++-16 (consumer_compilers in common.sh).
#
#   tests/subproject/subproject_test.sh SOURCE_DIR [COMPILER...]
set -euo pipefail
src=$(cd "${1:?usage: subproject_test.sh SOURCE_DIR [COMPILER...]}" && pwd)
shift
# shellcheck source-path=SCRIPTDIR source=../consumer/common.sh
. "$src/tests/consumer/common.sh"
consumer_setup
mkdir -p "$tmp/subprojects"
ln -s "$src" "$tmp/subprojects/lockstep"
cp "$src/tests/subproject/main.cpp" "$tmp/main.cpp"
cp "$src/tests/consumer/mutex_only.cpp" "$tmp/mutex_only.cpp"
cp "$src/tests/subproject/consumer.meson" "$tmp/meson.build"

check_with() {  # check_with COMPILER
  export CXX=$1
  echo "subproject_test: with $CXX"
  # It builds the library from source: no LTO, and ccache (which meson uses
  # when installed) is not to tell the throwaway directories apart.
  export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
  cd "$tmp"
  rm -rf build
  meson setup build --buildtype=debugoptimized -Db_lto=false >setup.log 2>&1 || { cat setup.log; exit 1; }

  fail() { echo "subproject_test: $*" >&2; exit 1; }
  tests=$(meson introspect --tests build | python3 -c 'import json, sys; print(" ".join(t["name"] for t in json.load(sys.stdin)))')
  [ "$tests" = user ] || fail "tests set up: '$tests' (expected only the consumer's 'user')"
  extra=$(meson introspect --targets build | python3 -c '
import json, sys
print(" ".join(t["name"] for t in json.load(sys.stdin) if t["name"].startswith(("test_", "bench_"))))')
  [ -z "$extra" ] || fail "lockstep set up test or benchmark targets: $extra"

  # Only the program and what it needs (not the subproject's CLI and models).
  ninja -C build user mutex_only >build.log 2>&1 || { cat build.log; exit 1; }
  out=$(./build/user)
  echo "$out"
  [ "$out" = "assertion" ] || fail "expected 'assertion', got '$out'"
  [ "$(./build/mutex_only)" = 40000 ] || fail "mutex_only did not count to 40000"
  # The primitives alone: neither the checker nor Boost.Context in the program.
  if nm -C build/mutex_only | grep -q "lockstep::mc::\|boost::context"; then
    fail "mutex_only, built against 'lockstep', holds checker or Boost code"
  fi
  meson test -C build --no-rebuild >test.log 2>&1 || { cat test.log build/meson-logs/testlog.txt; exit 1; }
  echo "subproject_test: ok"
}

mapfile -t compilers < <(consumer_compilers "$@")  # one per line: "ccache c++" is one
for cxx in "${compilers[@]}"; do check_with "$cxx"; done
