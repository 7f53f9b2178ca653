#!/usr/bin/env bash
# Builds the consumer programs with CMake (tests/consumer/CMakeLists.txt):
#   (a) pkg_check_modules(IMPORTED_TARGET) on the build tree's .pc files
#       (CMake refuses a .pc that names a missing include directory), run
#       without LD_LIBRARY_PATH;
#   (c) find_package(lockstep CONFIG) from a `meson install --destdir` tree
#       (CMAKE_PREFIX_PATH=D/PREFIX: the config file finds its prefix from its
#       own place), with the imported targets lockstep::lockstep and
#       lockstep::mc.
# mutex_only links `lockstep` and must not load the checker or Boost; user
# links `lockstep-mc`. Each compiler given (default: g++, and clang++-16 when
# installed) builds both.
#
#   cmake_test.sh BUILD_DIR SOURCE_DIR [COMPILER...]
set -euo pipefail
usage="usage: cmake_test.sh BUILD_DIR SOURCE_DIR [COMPILER...]"
build=$(realpath "${1:?$usage}")
src=$(realpath "${2:?$usage}")
shift 2
here=$src/tests/consumer
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"
consumer_setup

# cmake_build DIR COMPILER CMAKE-ARG...: configures and builds the consumer
# project in DIR; its output is shown only when it fails.
cmake_build() {
  local dir=$1 cxx=$2
  shift 2
  if ! cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" "$@" >"$dir.log" 2>&1 ||
    ! cmake --build "$dir" >>"$dir.log" 2>&1; then
    cat "$dir.log" >&2
    return 1
  fi
}

dest=$tmp/dest
pcdir=$(lockstep_install "$build" "$dest")
# The install's prefix, under D.
prefix=$dest$(PKG_CONFIG_LIBDIR=$pcdir pkg-config --variable=prefix lockstep)
if [ -z "$(find "$prefix" -name lockstepConfigVersion.cmake)" ]; then
  echo "no lockstepConfigVersion.cmake under $prefix" >&2
  exit 1
fi

for cxx in $(consumer_compilers "$@"); do
  echo "$cxx:"
  out=$tmp/$(basename "$cxx")
  mkdir -p "$out"

  echo " (a) pkg_check_modules(IMPORTED_TARGET), build tree"
  PKG_CONFIG_PATH=$build/meson-uninstalled cmake_build "$out/tree" "$cxx" -DLOCKSTEP_VIA=pkgconfig
  primitives_only "$out/tree/mutex_only"
  expect_output "$out/tree/mutex_only" 40000
  expect_output "$out/tree/user" "2 assertion"

  echo " (c) find_package(lockstep CONFIG), meson install --destdir"
  cmake_build "$out/config" "$cxx" -DLOCKSTEP_VIA=config -DCMAKE_PREFIX_PATH="$prefix"
  # It found this install, not another one.
  found=$(sed -n 's/^lockstep_DIR:PATH=//p' "$out/config/CMakeCache.txt")
  case $found in
    "$prefix"/*) ;;
    *) echo "find_package(lockstep) found '$found', not the install under $prefix" >&2; exit 1 ;;
  esac
  primitives_only "$out/config/mutex_only"
  expect_output "$out/config/mutex_only" 40000
  expect_output "$out/config/user" "2 assertion"
done
