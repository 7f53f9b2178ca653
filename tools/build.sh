#!/usr/bin/env bash
# Configures (once) and builds lockstep in ./build (release, warnings on):
# the ninja targets given (e.g. tools/lockstep), or every target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release
ninja -C build "$@"
