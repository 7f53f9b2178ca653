# shellcheck shell=bash
# Shared by the consumer tests (pkgconfig_test.sh, cmake_test.sh, and
# ../subproject/subproject_test.sh): sourced, not run. Every function fails
# the test (set -e) on the first problem.

# consumer_setup: makes $tmp, a scratch directory removed when the script
# exits, and clears what would make a build find lockstep, or load its
# libraries, from somewhere the test did not choose.
consumer_setup() {
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064  # $tmp is fixed now
  trap "rm -rf '$tmp'" EXIT
  unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR LD_LIBRARY_PATH CMAKE_PREFIX_PATH
}

# The compilers to build consumers with: those given, or $CXX (default g++)
# and, when it is installed and not $CXX already, clang++-16.
consumer_compilers() {
  if [ $# -gt 0 ]; then
    printf '%s\n' "$@"
    return
  fi
  local first=${CXX:-g++}
  echo "$first"
  if [ "$(basename "$first")" != clang++-16 ] && command -v clang++-16 >/dev/null; then
    echo clang++-16
  fi
}

# lockstep_install BUILD DESTDIR: installs the build with `meson install
# --destdir` (already built: the test depends on what it installs) and prints
# the directory that holds the installed lockstep.pc.
lockstep_install() {
  meson install -C "$1" --no-rebuild --quiet --destdir "$2" >&2
  local pc
  pc=$(find "$2" -name lockstep.pc -path '*/pkgconfig/*')
  [ -n "$pc" ] || { echo "no lockstep.pc under $2" >&2; return 1; }
  dirname "$pc"
}

# expect_output PROGRAM EXPECTED [ENV...]: runs PROGRAM (with the given
# VAR=value settings, nothing else added) and checks its one line of output.
expect_output() {
  local prog=$1 want=$2 out
  shift 2
  out=$(env "$@" "$prog")
  if [ "$out" != "$want" ]; then
    echo "$prog printed '$out', expected '$want'" >&2
    return 1
  fi
  echo "  ${prog##*/}: $out"
}

# primitives_only PROGRAM [VAR=value...]: a program linked against `lockstep`
# alone must not load the checker or Boost (ldd resolves the whole closure).
primitives_only() {
  local libs
  libs=$(env "${@:2}" ldd "$1")
  if ! grep -q 'liblockstep\.so' <<<"$libs"; then
    echo "$1 does not load liblockstep.so:" >&2
    echo "$libs" >&2
    return 1
  fi
  if grep -Eq 'liblockstep-mc|boost' <<<"$libs"; then
    echo "$1 loads the checker or Boost:" >&2
    echo "$libs" >&2
    return 1
  fi
}

# needs_no_lockstep_so PROGRAM: the program was linked with the static
# libraries, so it names no lockstep shared library.
needs_no_lockstep_so() {
  if readelf -d "$1" | grep -q 'NEEDED.*liblockstep'; then
    echo "$1 was meant to link the static libraries but needs:" >&2
    readelf -d "$1" | grep NEEDED >&2
    return 1
  fi
}
