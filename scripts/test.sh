#!/usr/bin/env bash
# Install what is missing, build, run the whole test suite, then the same
# tests again in an ASan+UBSan build. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
start=$(date +%s)

./scripts/deps.sh
./scripts/build.sh release

run_ctest() {
  local dir="$1"
  # Unit tests in parallel, end-to-end tests one at a time (they are CPU-heavy on 2 cores).
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" -L unit)
  (cd "$dir" && ctest --output-on-failure -L e2e)
}

echo "=== tests (release build) ==="
run_ctest build

# Older and foreign systems for the publisher (each prints its own times; under CI=true a stage
# that cannot run fails).
echo "=== stage: Debian 11 chroot (publisher + veter_common, CMake 3.18, GCC 10, GStreamer 1.18) ==="
stage_start=$(date +%s)
./scripts/stage_bullseye.sh build
echo "=== stage: Debian 11 chroot took $(( $(date +%s) - stage_start )) s ==="
echo "=== stage: arm64 cross build, qemu smoke, robot .deb ==="
stage_start=$(date +%s)
./scripts/stage_arm64.sh build
echo "=== stage: arm64 took $(( $(date +%s) - stage_start )) s ==="

echo "=== tests (ASan + UBSan build) ==="
./scripts/build.sh asan
# fast_unwind_on_malloc=0: GLib has no frame pointers; full stacks are needed to match suppressions.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_odr_violation=0:fast_unwind_on_malloc=0:malloc_context_size=30"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_ctest build-asan

echo "=== fuzzing (libFuzzer, ASan + UBSan, ${VETER_FUZZ_SECONDS:-30} s per target) ==="
./scripts/fuzz.sh "${VETER_FUZZ_SECONDS:-30}"

echo "test.sh: all tests passed in $(( $(date +%s) - start )) s"
