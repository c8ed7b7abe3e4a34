#!/usr/bin/env bash
# Check the sources (scripts/lint.sh), install what is missing, build, run the whole test suite, then the same
# tests again in an ASan+UBSan build, then fuzz each target. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
start=$(date +%s)

# Cheap source checks first (raw unref/free outside include/veter/common/gst_ptr.hpp): seconds, no build.
./scripts/lint.sh
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
