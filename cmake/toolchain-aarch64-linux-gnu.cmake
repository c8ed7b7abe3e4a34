# Cross build for arm64 (a Jetson's CPU) on a Debian amd64 host with multiarch:
#   dpkg --add-architecture arm64; apt-get install crossbuild-essential-arm64 <lib>-dev:arm64 ...
# (scripts/deps.sh). The arm64 libraries live in /usr/lib/aarch64-linux-gnu beside the host's,
# headers are shared in /usr/include. VETER_ARM64_DEV_OVERLAY names a directory with the few arm64
# -dev packages Debian 12 does not mark Multi-Arch: same (they cannot be installed beside the
# host's amd64 ones); scripts/stage_arm64.sh unpacks them there.
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake \
#         -DVETER_ARM64_DEV_OVERLAY=/var/cache/veter/arm64-dev-<key> -DVETER_RELAY=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# The toolchain file is read again for every try_compile: keep the overlay for those too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES VETER_ARM64_DEV_OVERLAY)

set(_veter_pc "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
if(VETER_ARM64_DEV_OVERLAY)
  set(_veter_pc "${VETER_ARM64_DEV_OVERLAY}/usr/lib/aarch64-linux-gnu/pkgconfig:${_veter_pc}")
  list(PREPEND CMAKE_PREFIX_PATH "${VETER_ARM64_DEV_OVERLAY}/usr")
endif()
# Only arm64 .pc files: never the host's x86_64 ones.
set(ENV{PKG_CONFIG_LIBDIR} "${_veter_pc}")
set(ENV{PKG_CONFIG_PATH} "")

# Programs (pkg-config, cpack's helpers) are the host's; libraries and packages the target's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# Run arm64 programs (tests, tools) under user-mode emulation.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L /)
