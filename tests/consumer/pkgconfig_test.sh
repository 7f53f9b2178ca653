#!/usr/bin/env bash
# Builds tests/consumer/user.cpp the way a user would: with pkg-config only.
set -euo pipefail
build=${1:?usage: pkgconfig_test.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PKG_CONFIG_PATH="$build/meson-uninstalled"
# shellcheck disable=SC2046
c++ -std=c++20 -o "$tmp/user" "$src/tests/consumer/user.cpp" $(pkg-config --cflags --libs lockstep)
out=$(LD_LIBRARY_PATH="$build" "$tmp/user")
echo "$out"
[ "$out" = "2 assertion" ]
