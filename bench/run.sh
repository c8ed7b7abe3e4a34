#!/usr/bin/env bash
# veter benchmark suite: builds in Release (build-bench/), runs every benchmark on
# loopback and writes bench/RESULTS.md plus PNG plots. See bench/README.md.
#
#   bench/run.sh                 full suite (~15 min; medians over 5 runs, 20 joins)
#   bench/run.sh --smoke         seconds per benchmark, to keep the suite from rotting;
#                                writes to a temp dir unless --out is given
#   options: --bin-dir DIR (use binaries already built there, skip the build)
#            --out DIR     (where RESULTS.md and plots go; default bench/ for full runs)
#            --only LIST   (latency,ttff,fanout,cpu)
#            --counts LIST (fan-out viewer counts, e.g. 100,300)   --runs N   --window SECONDS
#            --record      (fan-out: also the relay with recording on, interleaved with it off)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
smoke=0
bin_dir=""
out=""
only="latency,ttff,fanout,cpu"
extra=()
cmdline="bench/run.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --bin-dir) bin_dir="$2"; shift ;;
    --out) out="$2"; shift ;;
    --only) only="$2"; shift ;;
    --counts|--runs|--window) extra+=("$1" "$2"); shift ;;
    --record) extra+=("$1") ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
  shift
done

# Tools the baselines and plots need (Debian packages; not build dependencies).
need=()
command -v rtsp-server-perl >/dev/null || need+=(rtsp-server-perl)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "installing ${need[*]} ..."
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
  fi
fi

if [[ -z "$bin_dir" ]]; then
  bin_dir="$root/build-bench"
  cmake -S "$root" -B "$bin_dir" -DCMAKE_BUILD_TYPE=Release -DVETER_BUILD_TESTS=OFF >/dev/null
  cmake --build "$bin_dir" -j2 --target veter-publisher veter-relay veter-probe veter-bench-reader \
    veter-bench-textbook-relay veter-bench-sender
fi
temp_out=""
if [[ -z "$out" ]]; then
  if [[ $smoke -eq 1 ]]; then
    out="$(mktemp -d /tmp/veter-bench-smoke-XXXXXX)"
    temp_out="$out"
  else
    out="$here"
  fi
fi
args=(--bin-dir "$bin_dir" --out "$out" --only "$only" --command "$cmdline")
[[ $smoke -eq 1 ]] && args+=(--smoke)
args+=("${extra[@]}")
status=0
python3 "$here/bench.py" "${args[@]}" || status=$?
[[ -n "$temp_out" ]] && rm -rf "$temp_out"
exit $status
