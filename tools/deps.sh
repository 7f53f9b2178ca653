#!/usr/bin/env bash
# Installs the Debian packages lockstep needs, only those that are missing.
set -euo pipefail
pkgs=(g++ meson ninja-build pkg-config cmake ccache python3
      libboost-context-dev libboost-graph-dev
      libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev graphviz
      # clang 16 (Debian 12's default clang 14 lacks std::source_location)
      # and its sanitizer runtimes, for builds with clang.
      clang-16 libclang-rt-16-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "lockstep: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
