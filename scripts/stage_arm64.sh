#!/usr/bin/env bash
# arm64 stage: cross-build the publisher for a Jetson's CPU, run it under qemu-user, package it.
#
#   1. Debian multiarch: crossbuild-essential-arm64 and the :arm64 libraries (scripts/deps.sh).
#      Three -dev packages (libgstreamer-plugins-base1.0-dev, libsrtp2-dev, libyaml-cpp-dev) are
#      not Multi-Arch: same in Debian 12: installing their :arm64 build would remove the host's
#      amd64 one. Their arm64 .debs are unpacked instead into an overlay directory (cached in
#      $VETER_CHROOT_CACHE, default /var/cache/veter, keyed by their versions) that the toolchain
#      file cmake/toolchain-aarch64-linux-gnu.cmake puts first on the search paths.
#   2. Build veter-publisher only (build-arm64/, -j2, ccache), spdlog/fmt header-only so that the
#      package needs no libspdlog/libfmt (their names differ on Ubuntu 22.04).
#   3. Smoke: qemu-aarch64-static runs it (test source, 320x240, 5 s) against a relay on the host,
#      whose RTSP viewer decodes it (tests/relay/foreign_publisher_e2e_test.cpp).
#   4. cpack: build-arm64/veter-publisher_<v>_arm64.deb, its control fields checked by
#      tests/ship/robot_package_test.cpp (Depends: names that exist on Ubuntu 22.04 / JetPack 6).
#
# ccache keeps its own cache in $VETER_CHROOT_CACHE/ccache-arm64, independent of the clone's path,
# so a second run on the same machine (also from a fresh clone) compiles nothing.
# Where it cannot run it says why and exits 0 — except under CI=true, where it fails.
# Usage: scripts/stage_arm64.sh [host-build-dir]
#   host-build-dir: the host's release build (default $VETER_HOST_BUILD, else build/ of this clone)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
host_build="${1:-${VETER_HOST_BUILD:-build}}"
case "$host_build" in /*) ;; *) host_build="$root/$host_build" ;; esac
start=$(date +%s)

cant_run() {
  if [ "${CI:-}" = "true" ]; then
    echo "arm64 stage: CANNOT RUN: $*" >&2
    exit 1
  fi
  echo "arm64 stage: SKIPPED: $* (it fails under CI=true)" >&2
  exit 0
}

# The :arm64 -dev packages that cannot sit beside the host's amd64 ones (see above).
OVERLAY_DEVS=(libgstreamer-plugins-base1.0-dev libsrtp2-dev libyaml-cpp-dev)

command -v aarch64-linux-gnu-g++ >/dev/null || cant_run "no aarch64-linux-gnu-g++ (crossbuild-essential-arm64; scripts/deps.sh)"
# Absolute: the smoke test execs its command's first word without a PATH search.
qemu="$(command -v qemu-aarch64-static)" || cant_run "no qemu-aarch64-static (qemu-user-static; scripts/deps.sh)"
dpkg --print-foreign-architectures | grep -qx arm64 || cant_run "dpkg has no arm64 architecture (scripts/deps.sh)"
[ -f /usr/lib/aarch64-linux-gnu/pkgconfig/gstreamer-1.0.pc ] ||
  cant_run "libgstreamer1.0-dev:arm64 is not installed (scripts/deps.sh)"
smoke_bin="$host_build/tests/relay/test_foreign_publisher_e2e"
deb_test_bin="$host_build/tests/ship/test_robot_package"
if [ ! -x "$smoke_bin" ] || [ ! -x "$deb_test_bin" ]; then
  cant_run "the host build $host_build/ lacks test_foreign_publisher_e2e or test_robot_package (scripts/build.sh release)"
fi

cache="${VETER_CHROOT_CACHE:-/var/cache/veter}"
mkdir -p "$cache"
exec 9>"$cache/.arm64.lock"
flock 9

# ---- the overlay of non-Multi-Arch -dev packages ----
t0=$(date +%s)
versions=()
for p in "${OVERLAY_DEVS[@]}"; do
  # The version of the arm64 runtime library already installed decides (Multi-Arch: same pins it).
  v="$(apt-cache policy "$p:arm64" | awk '/Candidate:/ {print $2}')"
  if [ -z "$v" ] || [ "$v" = "(none)" ]; then
    cant_run "apt knows no $p:arm64 (apt-get update; scripts/deps.sh)"
  fi
  versions+=("$p=$v")
done
key="$(printf '%s\n' "${versions[@]}" | sha256sum | cut -c1-12)"
overlay="$cache/arm64-dev-$key"
if [ ! -f "$overlay/.veter-ready" ]; then
  echo "arm64 stage: unpacking ${versions[*]} into $overlay"
  rm -rf "$overlay.tmp" && mkdir -p "$overlay.tmp/debs"
  chown _apt "$overlay.tmp/debs" 2>/dev/null || true  # apt-get download's sandbox user
  wanted=()
  for v in "${versions[@]}"; do wanted+=("${v%%=*}:arm64=${v#*=}"); done
  (cd "$overlay.tmp/debs" && apt-get download -q "${wanted[@]}" >/dev/null)
  for d in "$overlay.tmp"/debs/*.deb; do
    dpkg-deb -x "$d" "$overlay.tmp"
  done
  rm -rf "$overlay.tmp/debs"
  lib="$overlay.tmp/usr/lib/aarch64-linux-gnu"
  # .pc files: their own headers and .so links are in the overlay.
  sed -i "s|^prefix=/usr\$|prefix=$overlay/usr|" "$lib"/pkgconfig/*.pc
  # The -dev packages' lib*.so links point at runtime libraries installed in the system: link to
  # those, and to every versioned name of them (yaml-cpp's CMake package names the full version).
  for link in "$lib"/*.so; do
    base="$(basename "$link")"
    rm -f "$link"
    first=""
    for real in /usr/lib/aarch64-linux-gnu/"$base".*; do
      [ -e "$real" ] || continue
      ln -sf "$real" "$lib/$(basename "$real")"
      first="${first:-$real}"
    done
    # A library the publisher does not link (e.g. libgstgl) may have no runtime installed: no link.
    if [ -n "$first" ]; then
      ln -sf "$first" "$link"
    fi
  done
  touch "$overlay.tmp/.veter-ready"
  mv "$overlay.tmp" "$overlay"
fi
echo "arm64 stage: -dev overlay ready in $(( $(date +%s) - t0 )) s"

# ---- cross build ----
t0=$(date +%s)
build="$root/build-arm64"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths relative to the clone, the compile directory not hashed (it only changes the debug
  # info's DW_AT_comp_dir): a fresh clone elsewhere hits the same entries.
  export CCACHE_DIR="$cache/ccache-arm64" CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
  ccache -z >/dev/null
fi
mkdir -p "$build"
# pkg-config's answers are cached with the overlay's path: a build dir configured against another
# overlay (new package versions, another VETER_CHROOT_CACHE) is configured afresh.
if [ -f "$build/CMakeCache.txt" ] && [ "$(cat "$build/.veter-overlay" 2>/dev/null)" != "$overlay" ]; then
  echo "arm64 stage: $build was not configured against $overlay: configuring afresh"
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-aarch64-linux-gnu.cmake" \
  -DVETER_ARM64_DEV_OVERLAY="$overlay" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVETER_WERROR=ON \
  -DVETER_RELAY=OFF -DVETER_BUILD_TESTS=OFF -DVETER_HEADER_ONLY_FMT=ON "${launcher[@]}" >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  exit 1
}
echo "$overlay" >"$build/.veter-overlay"
cmake --build "$build" -j 2 --target veter-publisher
file "$build/src/publisher/veter-publisher" | grep -q "ARM aarch64" || {
  echo "arm64 stage: $build/src/publisher/veter-publisher is not an arm64 binary" >&2
  exit 1
}
hits=""
if [ ${#launcher[@]} -gt 0 ]; then
  hits="$(ccache -s | awk '/^ *Hits:/ {print " (ccache hits " $2 "/" $4 ")"; exit}')"  # none: nothing compiled
fi
echo "arm64 stage: cross build took $(( $(date +%s) - t0 )) s$hits"

# ---- smoke under qemu-user ----
t0=$(date +%s)
# No binfmt_misc needed: qemu runs the binary directly. GStreamer's plugin scanner would be a
# second arm64 executable, so the registry is built in-process, and kept between runs.
VETER_FOREIGN_PUBLISHER="$qemu -L / -E GST_REGISTRY_FORK=no \
-E GST_REGISTRY=$cache/arm64-gst-registry.bin $build/src/publisher/veter-publisher" \
VETER_FOREIGN_SIZE=320x240 VETER_FOREIGN_SECONDS=5 \
  "$smoke_bin" --gtest_filter='ForeignPublisher.*'
echo "arm64 stage: qemu smoke took $(( $(date +%s) - t0 )) s"

# ---- the robot's package ----
t0=$(date +%s)
rm -f "$build"/veter-publisher_*_arm64.deb
# dpkg-shlibdeps resolves the arm64 libraries through DEB_HOST_ARCH.
(cd "$build" && DEB_HOST_ARCH=arm64 cpack -G DEB -D CPACK_COMPONENTS_ALL=publisher >"$build/cpack.log" 2>&1) || {
  cat "$build/cpack.log" >&2
  exit 1
}
deb="$(ls "$build"/veter-publisher_*_arm64.deb)"
VETER_ROBOT_DEB="$deb" "$deb_test_bin"
echo "arm64 stage: package $(basename "$deb") built and checked in $(( $(date +%s) - t0 )) s"

echo "arm64 stage: passed in $(( $(date +%s) - start )) s"
