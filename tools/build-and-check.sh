#!/usr/bin/env bash
# The main job: install what is missing, build the CLI (only what `check
# --all` needs: the libraries' static flavours, the models, the CLI), and hold
# every registered model to its verdict (exit 0 only if each got it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh tools/lockstep
exec build/tools/lockstep check --all "$@"
