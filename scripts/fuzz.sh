#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan + fuzzer) and run each for
# SECONDS (default 30). Findings stop the run with a non-zero exit and leave the
# crashing input in build-fuzz/artifacts/. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
root="$(pwd)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DVETER_FUZZ=ON \
  -DVETER_SANITIZE=ON -DVETER_BUILD_TESTS=OFF >/dev/null
targets=$(cd build-fuzz && cmake --build . --target help | sed -n 's/^\.\.\. \(fuzz_[a-z_]*\).*/\1/p')
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$(nproc)" --target $targets
mkdir -p build-fuzz/artifacts
export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=30"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
for t in $targets; do
  name="${t#fuzz_}"
  corpus="build-fuzz/corpus/$name"
  mkdir -p "$corpus"
  seeds="fuzz/corpus/$name"
  [ -d "$seeds" ] || seeds=""
  echo "=== $t for ${seconds}s"
  # New inputs go to the scratch corpus in build-fuzz; the committed seeds stay read-only.
  "./build-fuzz/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/artifacts/$t-" "$corpus" $seeds 2>&1 | grep -E "^(#[0-9]+ +DONE|Done|stat::number_of_executed_units|==|SUMMARY)" || true
  if ls build-fuzz/artifacts/"$t"-* >/dev/null 2>&1; then
    echo "fuzz: $t found a failing input: $(ls build-fuzz/artifacts/"$t"-*)" >&2
    exit 1
  fi
done
echo "fuzz: all targets ran ${seconds}s without findings"
