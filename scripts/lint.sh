#!/usr/bin/env bash
# clang-tidy on the project's own sources (needs a configured build/ with compile_commands.json)
# and a clang-format check. Exits non-zero on findings.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/compile_commands.json ] || ./scripts/build.sh release
mapfile -t files < <(git ls-files 'src/*.cpp' 'tools/*.cpp')
status=0
clang-tidy -p build --quiet --warnings-as-errors='*' "${files[@]}" 2>/dev/null || status=1
mapfile -t all < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'include/*.hpp' 'tests/*.cpp' 'tests/*.hpp')
clang-format --dry-run "${all[@]}" 2>/dev/null || true   # style report only; formatting is advisory
exit $status
