#!/usr/bin/env bash
# Debian 11 (bullseye) stage: CMake 3.18, GCC 10, GStreamer 1.18 — older than JetPack 6 (Ubuntu
# 22.04: CMake 3.22, GCC 11, GStreamer 1.20) in every part, so a lower bound for the robot.
#
#   1. debootstrap bullseye from the Debian mirror this machine's apt uses, with the publisher's
#      build dependencies, into $VETER_CHROOT_CACHE (default /var/cache/veter), keyed by the
#      package list: made once, reused by every later run (and by every clone).
#   2. Inside it: configure (the relay is skipped at configure time), build veter_common, the
#      publisher and their unit tests (-j2, ccache), run those unit tests.
#   3. Smoke: the chroot's publisher (test source) sends to a relay on the host, whose RTSP
#      viewer decodes it (tests/relay/foreign_publisher_e2e_test.cpp with VETER_FOREIGN_PUBLISHER).
#      The chroot shares the host's network namespace, so loopback and free ports just work.
#
# Needs root (debootstrap, chroot, mount) and the host's release build (for the relay and the
# smoke test). Where it cannot run it says why and exits 0 — except under CI=true, where it fails.
# Usage: scripts/stage_bullseye.sh [host-build-dir]
#   host-build-dir: the host's release build (default $VETER_HOST_BUILD, else build/ of this clone)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
host_build="${1:-${VETER_HOST_BUILD:-build}}"
case "$host_build" in /*) ;; *) host_build="$root/$host_build" ;; esac
start=$(date +%s)

cant_run() {
  if [ "${CI:-}" = "true" ]; then
    echo "bullseye stage: CANNOT RUN: $*" >&2
    exit 1
  fi
  echo "bullseye stage: SKIPPED: $* (it fails under CI=true)" >&2
  exit 0
}

# Build dependencies of the publisher, veter_common and their unit tests, Debian 11 names.
PACKAGES=(
  build-essential cmake pkg-config ccache
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libsystemd-dev libsrtp2-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-x
)
SUITE=bullseye
# Debian 11 has no CLI11 package: the chroot gets the host archive's libcli11-dev (Architecture:
# all, headers only) — 2.1.2 on Debian 12, the same version as Ubuntu 22.04 / JetPack 6.
CLI11_DEB=libcli11-dev

[ "$(id -u)" -eq 0 ] || cant_run "needs root (debootstrap, chroot, mount)"
command -v debootstrap >/dev/null || cant_run "debootstrap is not installed (scripts/deps.sh installs it)"
# Absolute: the smoke test execs its command's first word without a PATH search.
chroot_cmd="$(command -v chroot)" || cant_run "no chroot command"
relay_bin="$host_build/src/relay/veter-relay"
smoke_bin="$host_build/tests/relay/test_foreign_publisher_e2e"
if [ ! -x "$relay_bin" ] || [ ! -x "$smoke_bin" ]; then
  cant_run "the host build $host_build/ has no veter-relay or test_foreign_publisher_e2e (run scripts/build.sh release)"
fi

# The Debian mirror apt already uses: the first deb822 URIs (or one-line 'deb' URL) of the main archive.
mirror="${VETER_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^URIs:/ {u=$2} /^Suites:/ && u != "" && $0 !~ /security/ {print u; exit}')"
fi
if [ -z "$mirror" ]; then
  mirror="$(grep -hE '^deb +(\[[^]]*\] +)?https?://' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -v security | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1; exit}')"
fi
[ -n "$mirror" ] || cant_run "no Debian mirror found in /etc/apt/sources.list*"

cache="${VETER_CHROOT_CACHE:-/var/cache/veter}"
cli11_version="$(apt-cache policy "$CLI11_DEB" | awk '/Candidate:/ {print $2}')"
key="$(printf '%s\n' "$SUITE" "$mirror" "${PACKAGES[@]}" "$CLI11_DEB=$cli11_version" | sha256sum | cut -c1-12)"
chroot_dir="$cache/$SUITE-chroot-$key"
mkdir -p "$cache"

# One run at a time per cache (two CI runs on one machine share it).
exec 9>"$cache/.$SUITE.lock"
flock 9

# Mounts inside a chroot, always unmounted on exit (also when a step fails).
mounted=()
cleanup() {
  local i
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do
    umount -l "${mounted[$i]}" 2>/dev/null || true
  done
  mounted=()
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # through the EXIT trap: a killed run leaves no mounts behind
mnt() {  # mnt <chroot> <target inside chroot> <mount args...>
  mkdir -p "$1$2"
  mount "${@:3}" "$1$2"
  mounted+=("$1$2")
}

t0=$(date +%s)
if [ ! -f "$chroot_dir/.veter-ready" ]; then
  echo "bullseye stage: debootstrap $SUITE from $mirror into $chroot_dir (cold cache)"
  tmp="$chroot_dir.tmp"
  log="$cache/$SUITE-debootstrap.log"
  rm -rf "$tmp"
  # A failed run leaves only the .tmp directory behind; the next run starts again.
  # minbase, then apt inside: debootstrap's own resolver does not follow "a | b" alternatives.
  if ! debootstrap --variant=minbase "$SUITE" "$tmp" "$mirror" >"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "bullseye stage: debootstrap failed (log: $log)" >&2
    exit 1
  fi
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  mnt "$tmp" /proc -t proc proc
  chown _apt "$tmp/tmp" 2>/dev/null || true  # apt-get download's sandbox user
  (cd "$tmp/tmp" && apt-get download -q "$CLI11_DEB=$cli11_version" >/dev/null)
  if ! chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -c "
      apt-get update -q && apt-get install -y -q --no-install-recommends ${PACKAGES[*]} &&
      dpkg -i /tmp/*.deb && rm -f /tmp/*.deb && apt-get clean" >>"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "bullseye stage: installing the build dependencies failed (log: $log)" >&2
    exit 1
  fi
  cleanup
  touch "$tmp/.veter-ready"
  mv "$tmp" "$chroot_dir"
else
  echo "bullseye stage: reusing $chroot_dir"
fi
echo "bullseye stage: chroot ready in $(( $(date +%s) - t0 )) s"

# /proc, /sys, /dev and the sources read-only at /veter/src.
mnt "$chroot_dir" /proc -t proc proc
mnt "$chroot_dir" /sys -t sysfs sysfs
mnt "$chroot_dir" /dev --bind /dev
mnt "$chroot_dir" /dev/pts --bind /dev/pts
mnt "$chroot_dir" /veter/src --bind "$root"
mount -o remount,bind,ro "$chroot_dir/veter/src"
mkdir -p "$chroot_dir/tmp" && chmod 1777 "$chroot_dir/tmp"

in_chroot() {
  chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    CCACHE_DIR=/var/cache/ccache CCACHE_BASEDIR=/veter "$@"
}

echo "bullseye stage: $(in_chroot cmake --version | head -1), $(in_chroot gcc --version | head -1), \
$(in_chroot pkg-config --modversion gstreamer-1.0 | sed 's/^/GStreamer /')"

t0=$(date +%s)
# The build directory lives in the cached chroot, so a warm run rebuilds only what changed.
in_chroot cmake -S /veter/src -B /veter/build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVETER_WERROR=ON \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >"$cache/$SUITE-configure.log" 2>&1 || {
  cat "$cache/$SUITE-configure.log" >&2
  exit 1
}
grep -E "^-- veter:" "$cache/$SUITE-configure.log" || true
in_chroot ccache -z >/dev/null
in_chroot cmake --build /veter/build -j 2 --target veter-publisher test_common test_config test_publisher_unit
echo "bullseye stage: build took $(( $(date +%s) - t0 )) s ($(in_chroot ccache -s | awk '/^cache hit rate/ {print "ccache hit rate " $4 " %"}'))"

t0=$(date +%s)
in_chroot sh -c 'cd /veter/build && ctest --output-on-failure -j 2 -L unit'
echo "bullseye stage: unit tests took $(( $(date +%s) - t0 )) s"

t0=$(date +%s)
# The smoke runs on the host; the publisher it starts is the chroot's.
VETER_FOREIGN_PUBLISHER="$chroot_cmd $chroot_dir /veter/build/src/publisher/veter-publisher" \
  "$smoke_bin" --gtest_filter='ForeignPublisher.*'
echo "bullseye stage: smoke took $(( $(date +%s) - t0 )) s"

echo "bullseye stage: passed in $(( $(date +%s) - start )) s"
