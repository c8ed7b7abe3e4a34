#!/bin/sh
# start_camera.sh: the seed's robot command (start_camera_mediamtx.sh 1280x720 30 2000), now a
# thin wrapper over veter-publisher for people who run it by hand instead of the systemd unit.
set -eu

usage() {
  cat <<'EOF'
Usage: start_camera.sh [WxH] [FPS] [KBPS] [veter-publisher options...]

Start the camera stream in the foreground (Ctrl-C stops it). The positional values are
those of the seed's start_camera_mediamtx.sh, e.g.  start_camera.sh 1280x720 30 2000
Anything else is passed to veter-publisher, e.g. --host relay.example.org --source test.

The configuration file /etc/veter/publisher.yml is used when it exists (the relay address
lives there as `destination`); command-line values override it.

Environment:
  VETER_PUBLISHER         veter-publisher binary (default: from PATH, else the build tree)
  VETER_PUBLISHER_CONFIG  configuration file (default /etc/veter/publisher.yml)
  VETER_RELAY_HOST        relay host, same as --host

veter-publisher's own options:
EOF
}

find_publisher() {
  if [ -n "${VETER_PUBLISHER:-}" ]; then
    echo "$VETER_PUBLISHER"; return 0
  fi
  if command -v veter-publisher >/dev/null 2>&1; then
    command -v veter-publisher; return 0
  fi
  here=$(cd "$(dirname "$0")" && pwd)
  for b in "$here/../build/src/publisher/veter-publisher" "$here/../build-release/src/publisher/veter-publisher"; do
    if [ -x "$b" ]; then echo "$b"; return 0; fi
  done
  return 1
}

publisher=$(find_publisher) || {
  echo "start_camera.sh: veter-publisher not found (install veter-publisher or set VETER_PUBLISHER)" >&2
  exit 69
}

has_config=0
for a in "$@"; do
  case "$a" in
    -h|--help) usage; exec "$publisher" --help ;;
    -c|--config|--config=*) has_config=1 ;;
  esac
done

config="${VETER_PUBLISHER_CONFIG:-/etc/veter/publisher.yml}"
if [ "$has_config" -eq 1 ]; then
  :
elif [ -n "$config" ] && [ -r "$config" ]; then
  set -- --config "$config" "$@"
elif [ -n "${VETER_PUBLISHER_CONFIG:-}" ]; then
  echo "start_camera.sh: cannot read $config" >&2
  exit 78
fi
if [ -n "${VETER_RELAY_HOST:-}" ]; then
  set -- "$@" --host "$VETER_RELAY_HOST"
fi

exec "$publisher" "$@"
