#!/bin/sh
# view_stream.sh: watch a veter-relay stream on a laptop (Linux or macOS), reconnecting by itself.
# POSIX sh (also runs under macOS's bash 3.2 and dash). See --help.
set -u

DEFAULT_URL="rtsp://127.0.0.1:8555/camera"

usage() {
  cat <<EOF
Usage: view_stream.sh [options] [URL]

Play an RTSP stream with the first player found: ffplay (low-delay flags: -fflags nobuffer
-flags low_delay -framedrop), GStreamer (gst-launch-1.0; rtspsrc latency=MS drop-on-latency=true)
or VLC (--network-caching=MS), each set so that its own buffer stays small (see docs/relay.md). When the stream ends or the relay restarts, the player is started
again after a short pause, until you press Ctrl-C.

URL defaults to \$VETER_URL, else $DEFAULT_URL.

Options:
  --player NAME   ffplay | gst | vlc | ffmpeg (default: the first of ffplay, gst, vlc
                  that is installed). ffmpeg decodes without a window: a headless check.
  --udp           RTP over UDP instead of the default TCP (interleaved in the RTSP
                  connection, which works through any NAT or firewall)
  --latency MS    receive buffer in milliseconds for gst and vlc (default 100)
  --timeout S     give up on a silent connection after S seconds and reconnect (default 10)
  --retry S       pause between attempts in seconds (default 2)
  --once          play once, no reconnecting; exit with the player's status
  -h, --help      this text

Environment:
  VETER_URL             default URL
  VETER_VIEW_PLAYER     player program to run instead of the one found in PATH; its kind
                        (ffplay/ffmpeg/gst/vlc) is taken from its name unless --player says it
  VETER_VIEW_EXTRA_ARGS extra arguments for the player, inserted before the URL (split on
                        spaces), e.g. "-vf scale=640:-1" for ffplay
  VETER_VIEW_MAX_ATTEMPTS stop after this many attempts (default 0 = forever)
  VETER_VIEW_GST_SINK   video sink for --player gst (default autovideosink), e.g.
                        glimagesink, osxvideosink, or fakesink for a headless check

Examples:
  view_stream.sh rtsp://relay.example.org:8555/camera
  view_stream.sh --player gst --latency 200 rtsp://relay.example.org:8555/camera
EOF
}

url="${VETER_URL:-$DEFAULT_URL}"
kind=""
transport=tcp
latency=100
timeout=10
retry=2
once=0

is_uint() {
  case "$1" in
    ''|*[!0-9]*) return 1 ;;
    *) return 0 ;;
  esac
}

need_arg() {
  if [ "$2" -lt 2 ]; then
    echo "view_stream.sh: $1 needs a value (see --help)" >&2
    exit 64
  fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --player) need_arg "$1" $#; kind="$2"; shift 2 ;;
    --udp) transport=udp; shift ;;
    --tcp) transport=tcp; shift ;;
    --latency) need_arg "$1" $#; latency="$2"; shift 2 ;;
    --timeout) need_arg "$1" $#; timeout="$2"; shift 2 ;;
    --retry) need_arg "$1" $#; retry="$2"; shift 2 ;;
    --once) once=1; shift ;;
    -*) echo "view_stream.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    *) url="$1"; shift ;;
  esac
done

for n in "$latency" "$timeout" "$retry"; do
  if ! is_uint "$n"; then
    echo "view_stream.sh: '$n' is not a whole number (see --help)" >&2
    exit 64
  fi
done
case "$url" in
  rtsp://*|rtsps://*) ;;
  *) echo "view_stream.sh: not an rtsp:// URL: $url" >&2; exit 64 ;;
esac
max_attempts="${VETER_VIEW_MAX_ATTEMPTS:-0}"
if ! is_uint "$max_attempts"; then
  echo "view_stream.sh: VETER_VIEW_MAX_ATTEMPTS must be a whole number" >&2
  exit 64
fi

# The player program for a kind, from PATH (and VLC's macOS app bundle).
program_for() {
  case "$1" in
    ffplay) command -v ffplay ;;
    ffmpeg) command -v ffmpeg ;;
    gst) command -v gst-launch-1.0 ;;
    vlc)
      if command -v vlc >/dev/null 2>&1; then
        command -v vlc
      elif [ -x /Applications/VLC.app/Contents/MacOS/VLC ]; then
        echo /Applications/VLC.app/Contents/MacOS/VLC
      else
        return 1
      fi ;;
    *) return 1 ;;
  esac
}

kind_of_program() {
  case "$(basename "$1")" in
    ffplay*) echo ffplay ;;
    ffmpeg*) echo ffmpeg ;;
    gst-launch*) echo gst ;;
    vlc*|VLC*|cvlc*) echo vlc ;;
    *) return 1 ;;
  esac
}

program=""
if [ -n "${VETER_VIEW_PLAYER:-}" ]; then
  program="$VETER_VIEW_PLAYER"
  if [ -z "$kind" ]; then
    kind=$(kind_of_program "$program") || {
      echo "view_stream.sh: cannot tell the kind of player '$program'; add --player ffplay|ffmpeg|gst|vlc" >&2
      exit 64
    }
  fi
elif [ -n "$kind" ]; then
  program=$(program_for "$kind") || {
    echo "view_stream.sh: player '$kind' not found (ffplay | gst | vlc | ffmpeg)" >&2
    exit 69
  }
else
  for k in ffplay gst vlc; do
    if program=$(program_for "$k"); then
      kind=$k
      break
    fi
  done
  if [ -z "$kind" ]; then
    echo "view_stream.sh: no player found: install ffmpeg (ffplay), GStreamer (gst-launch-1.0) or VLC" >&2
    exit 69
  fi
fi
case "$kind" in
  ffplay|ffmpeg|gst|vlc) ;;
  *) echo "view_stream.sh: unknown player kind '$kind' (ffplay | gst | vlc | ffmpeg)" >&2; exit 64 ;;
esac

timeout_us=$((timeout * 1000000))
gst_sink="${VETER_VIEW_GST_SINK:-autovideosink}"
extra="${VETER_VIEW_EXTRA_ARGS:-}"

# One viewing session, run in a background subshell that becomes the player (exec), so that
# the player is this script's direct child. $extra is split on purpose.
# shellcheck disable=SC2086
play() {
  case "$kind" in
    ffplay)
      exec "$program" -hide_banner -loglevel warning -fflags nobuffer -flags low_delay -framedrop \
        -rtsp_transport "$transport" -timeout "$timeout_us" -autoexit \
        -window_title "VETER $url" $extra "$url" ;;
    ffmpeg)
      exec "$program" -hide_banner -nostdin -fflags nobuffer -flags low_delay \
        -rtsp_transport "$transport" -timeout "$timeout_us" -i "$url" $extra -f null - ;;
    gst)
      exec "$program" -q rtspsrc location="$url" protocols="$transport" latency="$latency" drop-on-latency=true \
        tcp-timeout="$timeout_us" timeout="$timeout_us" $extra \
        ! rtph264depay ! h264parse ! avdec_h264 ! videoconvert ! "$gst_sink" sync=false ;;
    vlc)
      if [ "$transport" = tcp ]; then rtsp_opt=--rtsp-tcp; else rtsp_opt=--no-rtsp-tcp; fi
      exec "$program" --quiet --play-and-exit "$rtsp_opt" --network-caching="$latency" \
        --rtsp-timeout="$timeout" $extra "$url" ;;
  esac
}

# The player runs in the background so that a signal to this script (Ctrl-C, or SIGTERM from
# a service manager or a test) reaches the trap at once; the trap stops the player too.
stopped=0
child=""
on_signal() {
  stopped=1
  if [ -n "$child" ]; then
    kill "$child" 2>/dev/null
  fi
}
trap on_signal INT TERM HUP

attempt=0
while :; do
  attempt=$((attempt + 1))
  echo "view_stream.sh: attempt $attempt: $kind ($transport) $url" >&2
  play &
  child=$!
  # wait returns early (status > 128) when a trapped signal arrives; wait again for the real status.
  status=0
  wait "$child" || status=$?
  while kill -0 "$child" 2>/dev/null; do
    status=0
    wait "$child" || status=$?
  done
  child=""
  if [ "$stopped" -eq 1 ]; then
    echo "view_stream.sh: stopped" >&2
    exit 0
  fi
  if [ "$once" -eq 1 ]; then
    exit "$status"
  fi
  if [ "$max_attempts" -gt 0 ] && [ "$attempt" -ge "$max_attempts" ]; then
    echo "view_stream.sh: giving up after $attempt attempts (last status $status)" >&2
    exit 1
  fi
  echo "view_stream.sh: player exited with status $status; reconnecting in ${retry}s (Ctrl-C stops)" >&2
  sleep "$retry" &
  child=$!
  wait "$child" 2>/dev/null
  child=""
  if [ "$stopped" -eq 1 ]; then
    echo "view_stream.sh: stopped" >&2
    exit 0
  fi
done
