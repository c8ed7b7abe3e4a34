#!/usr/bin/env bash
# Install the exact Debian 12 packages VETER needs to build, test and run.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config git ca-certificates ccache
  clang clang-tidy clang-format libclang-rt-14-dev
  # libraries (headers)
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libgstrtspserver-1.0-dev libsoup-3.0-dev libsystemd-dev
  libsrtp2-dev  # SRTCP for the relay's RTCP to the publisher
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  # GStreamer runtime: sources, x264/openh264, RTP, RTSP, libav decoder, SRTP
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp
  gstreamer1.0-x  # pango: clockoverlay on the publisher's test pattern
  # test and operations tools: ffprobe/ffmpeg clients, promtool, systemd-analyze, curl, packaging
  ffmpeg prometheus systemd curl iproute2 dpkg-dev fakeroot file
  openssl  # security e2e: self-signed certificate for the RTSPS test
  shellcheck  # scripts/*.sh lint in tests/ship
  # Debian 11 chroot stage (scripts/stage_bullseye.sh)
  debootstrap
  # arm64 cross stage (scripts/stage_arm64.sh): cross compiler, user-mode emulation, and the
  # arm64 libraries of the publisher (Multi-Arch: same, so they sit beside the amd64 ones; the
  # three -dev packages that are not are unpacked by the stage itself)
  crossbuild-essential-arm64 qemu-user-static
  libgstreamer1.0-dev:arm64 liborc-0.4-dev:arm64 libsystemd-dev:arm64 libspdlog-dev:arm64 libfmt-dev:arm64
  libgstreamer-plugins-base1.0-0:arm64 libsrtp2-1:arm64 libyaml-cpp0.7:arm64
  gstreamer1.0-plugins-base:arm64 gstreamer1.0-plugins-good:arm64 gstreamer1.0-plugins-ugly:arm64
  gstreamer1.0-x:arm64
  # WebRTC viewers: libnice's GStreamer elements for webrtcbin (headers: libgstreamer-plugins-bad1.0-dev);
  # Debian's chromium for the real-browser test (never a downloaded browser)
  gstreamer1.0-nice chromium
)
# node and npm drive chromium (puppeteer-core, pinned in tests/webrtc/package.json); any
# installed node >= 18 will do (Debian 12's nodejs is 18).
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
# The :arm64 packages need dpkg's arm64 architecture (then apt-get update below).
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
else
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# puppeteer-core for the WebRTC browser test, exactly as locked; it must not fetch a browser.
webrtc_tests="$(cd "$(dirname "$0")/.." && pwd)/tests/webrtc"
if [ ! -d "$webrtc_tests/node_modules/puppeteer-core" ]; then
  echo "deps: npm ci in tests/webrtc (puppeteer-core, no browser download)"
  (cd "$webrtc_tests" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts)
fi
