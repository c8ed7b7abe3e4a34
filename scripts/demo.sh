#!/usr/bin/env bash
# Install what is missing, build, then run veter-relay and veter-publisher on this
# machine (camera if there is one, otherwise the test pattern) and show the viewer URL.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh release

source_arg="test"
if ls /dev/video* >/dev/null 2>&1 || gst-inspect-1.0 nvarguscamerasrc >/dev/null 2>&1; then
  source_arg="auto"
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "${demo_config:-}"
  echo "demo: stopped"
}
trap cleanup INT TERM EXIT

# The shipped config with the WebRTC listener switched on (player page on :8889).
demo_config="$(mktemp /tmp/veter-demo-relay.XXXXXX.yml)"
sed '/^webrtc:/,/^[a-z]/ s/^  enabled: false/  enabled: true/' config/relay.yml >"$demo_config"
./build/src/relay/veter-relay --config "$demo_config" &
pids+=($!)
# Wait (bounded) until the relay accepts RTSP connections.
for _ in $(seq 50); do
  if (exec 3<>/dev/tcp/127.0.0.1/8555) 2>/dev/null; then break; fi
  kill -0 "${pids[0]}" 2>/dev/null || { echo "demo: veter-relay did not start (ports 8555/9000 busy?)" >&2; exit 1; }
  sleep 0.2
done
./build/src/publisher/veter-publisher 1280x720 30 2000 --host 127.0.0.1 --port 9000 --source "$source_arg" &
pids+=($!)

host="$(hostname -I 2>/dev/null | awk '{print $1}')"
cat <<MSG

  VETER demo running (source: $source_arg).
  Browser: http://127.0.0.1:8889/camera   (WebRTC player page)
     or:   http://${host:-THIS_HOST}:8889/camera
  Watch:   ffplay -fflags nobuffer -flags low_delay -rtsp_transport tcp rtsp://127.0.0.1:8555/camera
     or:   vlc rtsp://127.0.0.1:8555/camera
  From another machine: rtsp://${host:-THIS_HOST}:8555/camera
  Status:  curl http://127.0.0.1:9997/v3/paths/get/camera
  Ctrl-C stops both.

MSG
wait -n "${pids[@]}"
