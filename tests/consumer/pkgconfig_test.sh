#!/usr/bin/env bash
# Builds the consumer programs the way a user would, with pkg-config only:
#   (a) from the build tree, PKG_CONFIG_PATH=BUILD/meson-uninstalled, and runs
#       them as they are (no LD_LIBRARY_PATH: the build-tree .pc gives a run
#       path); its Cflags name only directories that exist;
#   (b) from a `meson install --destdir D` tree, PKG_CONFIG_SYSROOT_DIR=D,
#       linked with the shared libraries and, without -flto, with the static
#       ones (which must hold ordinary object code).
# mutex_only.cpp links `lockstep` and must not load the checker or Boost;
# user.cpp links `lockstep-mc`. Each compiler given (default: g++, and
# clang++-16 when installed) builds them all.
#
#   pkgconfig_test.sh BUILD_DIR SOURCE_DIR [COMPILER...]
set -euo pipefail
usage="usage: pkgconfig_test.sh BUILD_DIR SOURCE_DIR [COMPILER...]"
build=$(realpath "${1:?$usage}")
src=$(realpath "${2:?$usage}")
shift 2
here=$src/tests/consumer
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"
consumer_setup

# Every -I of `pkg-config --cflags PACKAGE...` is a directory.
include_dirs_exist() {
  local flag
  for flag in $(pkg-config --cflags-only-I "$@"); do
    if [ ! -d "${flag#-I}" ]; then
      echo "pkg-config --cflags $*: ${flag#-I} does not exist" >&2
      return 1
    fi
  done
}

dest=$tmp/dest
pcdir=$(lockstep_install "$build" "$dest")
libdir=$(dirname "$pcdir")

for cxx in $(consumer_compilers "$@"); do
  echo "$cxx:"
  out=$tmp/$(basename "$cxx")
  mkdir -p "$out"

  echo " (a) build tree"
  (
    export PKG_CONFIG_PATH=$build/meson-uninstalled
    include_dirs_exist lockstep
    include_dirs_exist lockstep-mc
    # shellcheck disable=SC2046
    "$cxx" -std=c++20 -o "$out/mutex_tree" "$here/mutex_only.cpp" $(pkg-config --cflags --libs lockstep)
    # shellcheck disable=SC2046
    "$cxx" -std=c++20 -o "$out/user_tree" "$here/user.cpp" $(pkg-config --cflags --libs lockstep-mc)
  )
  primitives_only "$out/mutex_tree"
  expect_output "$out/mutex_tree" 40000
  expect_output "$out/user_tree" "2 assertion"

  echo " (b) meson install --destdir, PKG_CONFIG_SYSROOT_DIR"
  (
    export PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest
    # shellcheck disable=SC2046
    "$cxx" -std=c++20 -o "$out/mutex_dest" "$here/mutex_only.cpp" $(pkg-config --cflags --libs lockstep)
    # shellcheck disable=SC2046
    "$cxx" -std=c++20 -o "$out/user_dest" "$here/user.cpp" $(pkg-config --cflags --libs lockstep-mc)
    # The static libraries by path, everything they need from --static.
    # GCC's driver would hand LTO bytecode to its linker plugin even without
    # -flto; without the plugin, as for any other toolchain, only machine
    # code links.
    others=()
    if ! "$cxx" --version | grep -qi clang; then others+=(-fno-use-linker-plugin); fi
    for w in $(pkg-config --static --libs lockstep-mc); do
      case $w in -llockstep | -llockstep-mc) ;; *) others+=("$w") ;; esac
    done
    # shellcheck disable=SC2046
    "$cxx" -std=c++20 -o "$out/user_static" "$here/user.cpp" $(pkg-config --cflags lockstep-mc) \
      "$libdir/liblockstep-mc.a" "$libdir/liblockstep.a" "${others[@]}"
  )
  # Staged, not yet in its prefix: the loader is told where it is.
  primitives_only "$out/mutex_dest" LD_LIBRARY_PATH="$libdir"
  expect_output "$out/mutex_dest" 40000 LD_LIBRARY_PATH="$libdir"
  expect_output "$out/user_dest" "2 assertion" LD_LIBRARY_PATH="$libdir"
  needs_no_lockstep_so "$out/user_static"
  expect_output "$out/user_static" "2 assertion"
done
