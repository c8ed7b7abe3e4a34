#!/usr/bin/env bash
# Configure and build. Usage: scripts/build.sh [release|asan] (default: release)
#   release -> build/       (RelWithDebInfo, warnings as errors)
#   asan    -> build-asan/  (Debug, AddressSanitizer + UndefinedBehaviorSanitizer)
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-release}"
jobs="$(nproc 2>/dev/null || echo 2)"
case "$kind" in
  release)
    dir=build
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVETER_WERROR=ON -DVETER_RELAY=ON >/dev/null
    ;;
  asan)
    dir=build-asan
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DVETER_WERROR=ON -DVETER_SANITIZE=ON -DVETER_RELAY=ON >/dev/null
    ;;
  *)
    echo "usage: $0 [release|asan]" >&2
    exit 64
    ;;
esac
cmake --build "$dir" -j "$jobs"
echo "build: $dir ready"
