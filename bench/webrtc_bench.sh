#!/usr/bin/env bash
# WebRTC benchmark: relay CPU per WebRTC viewer (N player pages in headless Chromium)
# against the same number of RTSP viewers (veter-bench-reader), in the same run, on
# the same stream; time to first frame in Chromium over 10 joins; a screenshot.
#   bench/webrtc_bench.sh [--bin-dir build] [--counts "1 10 50"] [--out bench]
# Prints JSON lines and writes OUT/webrtc_player.png. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build
counts="1 10 50"
out=bench
window=10
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin="$2"; shift 2 ;;
    --counts) counts="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --window) window="$2"; shift 2 ;;
    *) echo "usage: $0 [--bin-dir DIR] [--counts \"1 10 50\"] [--out DIR] [--window S]" >&2; exit 64 ;;
  esac
done
tmp="$(mktemp -d /tmp/veter-webrtc-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ingest=$((20000 + RANDOM % 20000 / 2 * 2))
rtsp=$(port); whep=$(port)
ice=$((45000 + RANDOM % 10000))
cat >"$tmp/relay.yml" <<YML
api: {enabled: false}
metrics: {enabled: false}
rtsp:
  listen: "127.0.0.1:$rtsp"
  transports: [tcp]
webrtc:
  enabled: true
  listen: "127.0.0.1:$whep"
  ice_udp_port: $ice
  ice_tcp: false
  max_sessions: 120
  max_sessions_per_address: 0
paths:
  camera:
    ingest: {listen: "127.0.0.1:$ingest"}
YML
"$bin/src/relay/veter-relay" -c "$tmp/relay.yml" --log-level warn >"$tmp/relay.log" 2>&1 &
relay=$!
pids+=("$relay")
# 640x360 noise at 1000 kbit/s: a stream that needs its bitrate, light enough for Chromium to decode many times.
"$bin/bench/tools/veter-bench-sender" "$ingest" 640 360 30 1000 snow >"$tmp/sender.log" 2>&1 &
pids+=($!)
sleep 3
url="http://127.0.0.1:$whep/camera"
echo "{\"machine\":\"$(uname -n) $(nproc) cores\",\"date\":\"$(date -u +%FT%TZ)\",\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
# The relay's CPU with the stream flowing and nobody watching (subtracted per viewer in RESULTS.md).
ticks() { awk '{print $14 + $15}' "/proc/$relay/stat"; }
t0=$(ticks); sleep "$window"; t1=$(ticks)
echo "{\"idle_relay_cpu_percent\":$(( (t1 - t0) / window ))}"
for n in $counts; do
  r=$("$bin/bench/tools/veter-bench-reader" --url "rtsp://127.0.0.1:$rtsp/camera" --viewers "$n" --window "$window" --pid "$relay" 2>/dev/null || echo '{}')
  echo "{\"rtsp_viewers\":$n,\"result\":$r}"
  w=$(node bench/tools/webrtc_viewers.js --url "$url" --pages "$n" --window "$window" --pid "$relay" || echo '{}')
  echo "{\"webrtc_viewers\":$n,\"result\":$w}"
  sleep 3
done
t=$(node bench/tools/webrtc_viewers.js --url "$url" --joins 10 --screenshot "$out/webrtc_player.png" || echo '{}')
echo "{\"ttff\":$t}"
