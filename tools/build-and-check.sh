#!/usr/bin/env bash
# The main job: install what is missing, build, and hold every registered
# model to its verdict (exit 0 only if each got it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
exec build/tools/lockstep check --all "$@"
