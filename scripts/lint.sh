#!/usr/bin/env bash
# Source checks. Exits 1 on findings, naming file:line.
#   scripts/lint.sh          ownership check only (cheap; scripts/test.sh runs it first)
#   scripts/lint.sh --tidy   also clang-tidy on the project's own sources (needs a configured build/ with
#                            compile_commands.json) and a clang-format style report
#
# Ownership check: every GStreamer/GLib reference in src/ and include/ is released by a type in
# include/veter/common/gst_ptr.hpp (GstPtr, GObjectPtr, MiniPtr, StructurePtr, GListPtr, MappedBuffer,
# MappedRtpBuffer, AttachedSourcePtr...). A raw *_unref, g_free, g_list_free_full or gst_buffer_unmap
# (or gst_rtp_buffer_unmap, gst_structure_free, g_error_free, g_strfreev, g_resolver_free_addresses)
# anywhere else is a finding, in code and in comments alike. There is no exception mechanism: a new
# kind of reference gets a holder in gst_ptr.hpp.
set -euo pipefail
cd "$(dirname "$0")/.."

tidy=0
case "${1:-}" in
  "") ;;
  --tidy) tidy=1 ;;
  *)
    echo "usage: $0 [--tidy]" >&2
    exit 64
    ;;
esac

status=0
helper=include/veter/common/gst_ptr.hpp
pattern='\b[a-z][a-z0-9_]*_unref\b|\bg_free\b|\bg_list_free_full\b|\bgst_(rtp_)?buffer_unmap\b|\bgst_structure_free\b|\bg_error_free\b|\bg_strfreev\b|\bg_resolver_free_addresses\b'
while IFS= read -r hit; do
  file="${hit%%:*}"
  rest="${hit#*:}"
  line="${rest%%:*}"
  name="$(grep -oE "$pattern" <<<"${rest#*:}" | head -n 1)"
  echo "$file:$line: raw $name outside $helper: hold the reference in a gst_ptr.hpp type" >&2
  status=1
done < <(find src include -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.c' \) \
           ! -path "$helper" -print0 | sort -z | xargs -0 grep -nHE "$pattern" || true)
if [ "$status" -eq 0 ]; then
  echo "lint: ownership check clean (src/, include/)"
fi

if [ "$tidy" -eq 1 ]; then
  [ -f build/compile_commands.json ] || ./scripts/build.sh release
  mapfile -t files < <(git ls-files 'src/*.cpp' 'tools/*.cpp')
  clang-tidy -p build --quiet --warnings-as-errors='*' "${files[@]}" 2>/dev/null || status=1
  mapfile -t all < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'include/*.hpp' 'tests/*.cpp' 'tests/*.hpp')
  clang-format --dry-run "${all[@]}" 2>/dev/null || true  # style report only; formatting is advisory
fi
exit $status
