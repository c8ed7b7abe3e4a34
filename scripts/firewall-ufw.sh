#!/bin/sh
# firewall-ufw.sh: the ufw rules veter-relay needs, derived from its configuration.
#
# The ports are not hard-coded: the script asks the relay for its effective configuration
# (`veter-relay --config FILE --check-config`, which applies the built-in defaults and validates
# the file) and prints one `ufw` command per port the relay exposes. With --apply it runs them.
# POSIX sh; needs only veter-relay and awk (and ufw for --apply).
set -eu

usage() {
  cat <<'EOF'
Usage: firewall-ufw.sh [--config FILE] [--apply] [--help]

Print the ufw rules for the ports veter-relay listens on, read from its configuration:
  RTSP (tcp), the RTSP server's RTP/RTCP range for UDP viewers (udp, only when the udp
  transport is enabled), each path's ingest port and its RTCP port (udp, restricted to
  allow_from when that list is set), and the API/metrics/playback ports when they listen on a
  non-loopback address. Loopback-only listeners get a comment, not a rule.

Options:
  --config FILE  relay configuration (default: /etc/veter/relay.yml; built-in defaults
                 when that file does not exist)
  --apply        run the printed ufw commands (needs root and ufw)
  --help         this text

Environment:
  VETER_RELAY    veter-relay binary to ask (default: veter-relay from PATH, else the
                 build tree next to this script)
  UFW            ufw command used by --apply (default: ufw)

Exit status: 0 ok, 64 usage, 69 veter-relay or ufw not found, 78 configuration error.
EOF
}

config=""
config_given=0
apply=0
while [ $# -gt 0 ]; do
  case "$1" in
    --config)
      [ $# -ge 2 ] || { echo "firewall-ufw.sh: --config needs a file" >&2; exit 64; }
      config="$2"; config_given=1; shift 2 ;;
    --config=*) config="${1#--config=}"; config_given=1; shift ;;
    --apply) apply=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "firewall-ufw.sh: unknown argument: $1 (see --help)" >&2; exit 64 ;;
  esac
done

if [ "$config_given" -eq 0 ]; then
  config=/etc/veter/relay.yml
  [ -e "$config" ] || config=""
fi

find_relay() {
  if [ -n "${VETER_RELAY:-}" ]; then
    echo "$VETER_RELAY"; return 0
  fi
  if command -v veter-relay >/dev/null 2>&1; then
    command -v veter-relay; return 0
  fi
  here=$(cd "$(dirname "$0")" && pwd)
  for b in "$here/../build/src/relay/veter-relay" "$here/../build-release/src/relay/veter-relay"; do
    if [ -x "$b" ]; then echo "$b"; return 0; fi
  done
  return 1
}

relay=$(find_relay) || { echo "firewall-ufw.sh: veter-relay not found (set VETER_RELAY)" >&2; exit 69; }

set +e
if [ -n "$config" ]; then
  effective=$("$relay" --config "$config" --check-config --log-level error)
else
  effective=$("$relay" --check-config --log-level error)
fi
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "firewall-ufw.sh: '$relay --check-config' failed (exit $status)" >&2
  exit "$status"
fi

# Flatten the YAML that --check-config prints (block maps, two-space indent, flow sequences)
# into "a.b.c=value" lines, then turn the listeners into ufw commands.
rules=$(printf '%s\n' "$effective" | awk -v source="${config:-built-in defaults}" '
  function unquote(s) {
    gsub(/^[ \t]+|[ \t]+$/, "", s)
    if (s ~ /^".*"$/ || s ~ /^\047.*\047$/) s = substr(s, 2, length(s) - 2)
    return s
  }
  function safe(s) { gsub(/[^A-Za-z0-9_.\/-]/, "_", s); return s }
  function port_of(ep) { sub(/.*:/, "", ep); return ep }
  function host_of(ep) {
    if (ep !~ /:/) return ""
    sub(/:[^:]*$/, "", ep); gsub(/^\[|\]$/, "", ep); return ep
  }
  function is_loopback(h) { return h ~ /^127\./ || h == "::1" || h == "localhost" }
  function is_any(h) { return h == "" || h == "0.0.0.0" || h == "::" }
  # rule(port spec, proto, host, comment)
  function rule(ports, proto, host, comment) {
    if (is_any(host)) printf "ufw allow %s/%s comment \047%s\047\n", ports, proto, comment
    else printf "ufw allow proto %s to %s port %s comment \047%s\047\n", proto, host, ports, comment
  }
  function http(name, label,   ep, h) {
    if (flat[name ".enabled"] != "true") { printf "# %s: disabled, no rule\n", label; return }
    ep = flat[name ".listen"]; h = host_of(ep)
    if (is_loopback(h)) {
      printf "# %s: %s is loopback-only, no rule (reach it through ssh -L)\n", label, ep
      return
    }
    if (flat[name ".token"] != "")
      printf "# %s: listens on %s, bearer token required: still, allow-list your own address if you can\n", label, ep
    else
      printf "# %s: listens on %s and has no authentication: prefer allow-listing your own address\n", label, ep
    rule(port_of(ep), "tcp", h, "veter-relay " label)
  }
  {
    line = $0
    if (line ~ /^[ \t]*(#|$)/) next
    match(line, /^ */); depth = RLENGTH / 2
    line = substr(line, RLENGTH + 1)
    key = line; sub(/:.*/, "", key); key = unquote(key)
    val = line; if (!sub(/^[^:]*:/, "", val)) next
    val = unquote(val)
    stack[depth] = key
    path = stack[0]; for (i = 1; i <= depth; i++) path = path "." stack[i]
    flat[path] = val; order[++n] = path
  }
  END {
    printf "# ufw rules for veter-relay, from: %s\n", source
    ep = flat["rtsp.listen"]; h = host_of(ep)
    if (is_loopback(h)) printf "# rtsp: %s is loopback-only, no rule\n", ep
    else rule(port_of(ep), "tcp", h, flat["rtsp.tls.cert_file"] != "" ? "veter-relay RTSPS" : "veter-relay RTSP")
    if (flat["rtsp.transports"] ~ /udp/) {
      r = flat["rtsp.udp_port_range"]; sub(/-/, ":", r)
      rule(r, "udp", "", "veter-relay RTSP RTP/RTCP for UDP viewers")
    } else {
      printf "# rtsp: udp transport disabled, no RTP/RTCP range\n"
    }
    for (k = 1; k <= n; k++) {
      p = order[k]
      if (p !~ /^paths\..*\.ingest\.listen$/) continue
      name = p; sub(/^paths\./, "", name); sub(/\.ingest\.listen$/, "", name)
      ep = flat[p]; h = host_of(ep); port = port_of(ep) + 0
      ports = port ":" (port + 1)
      comment = "veter-relay ingest " safe(name) " (RTP+RTCP)"
      if (is_loopback(h)) { printf "# path %s: ingest %s is loopback-only, no rule\n", safe(name), ep; continue }
      allow = flat["paths." name ".ingest.allow_from"]
      gsub(/^\[|\]$/, "", allow)
      if (allow ~ /[^ ]/) {
        cnt = split(allow, cidrs, ",")
        for (c = 1; c <= cnt; c++) {
          cidr = unquote(cidrs[c])
          printf "ufw allow proto udp from %s to %s port %s comment \047%s\047\n", \
                 cidr, is_any(h) ? "any" : h, ports, comment
        }
      } else {
        rule(ports, "udp", h, comment)
      }
    }
    http("api", "API")
    http("metrics", "metrics")
    http("playback", "playback")
    if (flat["webrtc.enabled"] == "true") {
      ep = flat["webrtc.listen"]; h = host_of(ep)
      if (is_loopback(h)) printf "# webrtc: WHEP/player %s is loopback-only, no rule\n", ep
      else rule(port_of(ep), "tcp", h, flat["webrtc.tls.cert_file"] != "" ? "veter-relay WHEP (HTTPS)" : "veter-relay WHEP (HTTP)")
      lo = flat["webrtc.ice_udp_port"] + 0; hi = lo + flat["webrtc.max_sessions"] - 1
      # ICE candidates are gathered on every interface, whatever webrtc.listen says.
      rule(lo ":" hi, "udp", "", "veter-relay WebRTC ICE (UDP)")
      if (flat["webrtc.ice_tcp"] == "true") rule(lo ":" hi, "tcp", "", "veter-relay WebRTC ICE-TCP")
    } else {
      printf "# webrtc: disabled, no rule\n"
    }
  }
')

printf '%s\n' "$rules"

if [ "$apply" -eq 1 ]; then
  ufw_cmd=${UFW:-ufw}
  command -v "$ufw_cmd" >/dev/null 2>&1 || { echo "firewall-ufw.sh: '$ufw_cmd' not found; install ufw" >&2; exit 69; }
  printf '%s\n' "$rules" | while IFS= read -r line; do
    case "$line" in
      "ufw "*)
        echo "+ $line" >&2
        eval "\"\$ufw_cmd\" ${line#ufw }"
        ;;
    esac
  done
fi
