# Every external dependency, imported as a target. A missing one stops the configure step and
# names the Debian package that provides it (scripts/deps.sh installs them all).
#
# Two sets:
#  - veter_common and veter-publisher (and their tests): GStreamer >= 1.18 and the libraries of
#    Ubuntu 22.04 / JetPack 6 or older (checked on Debian 11 by scripts/stage_bullseye.sh).
#    Features of a newer GStreamer are looked up at run time and degrade with one log line.
#  - veter-relay, veter-probe, the bench tools and their tests: Debian 12's GStreamer 1.22,
#    gst-rtsp-server, libsoup 3 and nlohmann-json. VETER_RELAY=AUTO (default) skips them, with a
#    message naming what is missing, where those are not installed; ON makes a missing one an
#    error (scripts/build.sh does that); OFF skips them. VETER_WITH_RELAY says which happened.
find_package(PkgConfig REQUIRED)

set(VETER_RELAY AUTO CACHE STRING "Build veter-relay, veter-probe and bench tools: AUTO, ON or OFF")
set_property(CACHE VETER_RELAY PROPERTY STRINGS AUTO ON OFF)

# veter_pkg_check(<prefix> <debian-package> <pkg-config modules...>)
function(veter_pkg_check prefix debpkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${ARGN})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "Missing dependency ${ARGN}: install the Debian package '${debpkg}' "
                        "(or run scripts/deps.sh)")
  endif()
endfunction()

# veter_find_package(<name> <debian-package>)
macro(veter_find_package name debpkg)
  find_package(${name} QUIET CONFIG)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "Missing dependency ${name}: install the Debian package '${debpkg}' "
                        "(or run scripts/deps.sh)")
  endif()
endmacro()

# ---- veter_common + veter-publisher ----
veter_pkg_check(GST libgstreamer1.0-dev gstreamer-1.0>=1.18 gstreamer-base-1.0 gstreamer-net-1.0)
veter_pkg_check(GSTPLUGINS libgstreamer-plugins-base1.0-dev gstreamer-app-1.0 gstreamer-rtp-1.0
                gstreamer-video-1.0 gstreamer-sdp-1.0 gstreamer-rtsp-1.0)
veter_pkg_check(GLIB libglib2.0-dev glib-2.0 gobject-2.0 gio-2.0 gio-unix-2.0)
veter_pkg_check(SYSTEMD libsystemd-dev libsystemd)
# SRTCP for the relay's own RTCP (receiver reports, PLI) and its check on the publisher.
veter_pkg_check(SRTP libsrtp2-dev libsrtp2>=2.3)

veter_find_package(yaml-cpp libyaml-cpp-dev)
veter_find_package(spdlog libspdlog-dev)
veter_find_package(CLI11 libcli11-dev)

# VETER_HEADER_ONLY_FMT: spdlog and fmt compiled into the binaries instead of linked, so that a
# package built here runs where their library packages have other names (Debian 12 has libfmt9 and
# libspdlog1.10, Ubuntu 22.04 libfmt8 and libspdlog1). The arm64 robot package uses it.
option(VETER_HEADER_ONLY_FMT "Use spdlog and fmt header-only (no libspdlog/libfmt at run time)" OFF)
if(VETER_HEADER_ONLY_FMT)
  veter_find_package(fmt libfmt-dev)
  find_package(Threads REQUIRED)
  get_target_property(_veter_spdlog_inc spdlog::spdlog_header_only INTERFACE_INCLUDE_DIRECTORIES)
  add_library(veter_spdlog INTERFACE)
  target_include_directories(veter_spdlog SYSTEM INTERFACE ${_veter_spdlog_inc})
  target_compile_definitions(veter_spdlog INTERFACE SPDLOG_FMT_EXTERNAL)
  target_link_libraries(veter_spdlog INTERFACE fmt::fmt-header-only Threads::Threads)
  set(VETER_SPDLOG_TARGET veter_spdlog)
else()
  set(VETER_SPDLOG_TARGET spdlog::spdlog)
endif()
if(VETER_BUILD_TESTS)
  # GoogleTest's own CMake package (1.10 and later) has GTest::gtest_main and GTest::gmock on
  # every CMake version; CMake's FindGTest module has them only from CMake 3.20.
  find_package(GTest QUIET CONFIG)
  if(NOT GTest_FOUND)
    find_package(GTest QUIET)
  endif()
  if(NOT TARGET GTest::gtest_main OR NOT TARGET GTest::gmock)
    message(FATAL_ERROR "Missing dependency GTest: install the Debian packages 'libgtest-dev libgmock-dev'")
  endif()
endif()

# yaml-cpp 0.7 on Debian exports the plain 'yaml-cpp' target.
if(TARGET yaml-cpp::yaml-cpp)
  set(VETER_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(VETER_YAML_TARGET yaml-cpp)
endif()

# ---- veter-relay, veter-probe, bench tools ----
set(VETER_WITH_RELAY OFF)
if(NOT VETER_RELAY STREQUAL "OFF")
  set(_veter_relay_missing "")
  # veter_relay_check(<prefix> <debian-package> <pkg-config modules...>): appends what is missing.
  macro(veter_relay_check prefix debpkg)
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${ARGN})
    if(NOT ${prefix}_FOUND)
      list(APPEND _veter_relay_missing "${ARGN} (${debpkg})")
    endif()
  endmacro()
  veter_relay_check(GSTRELAY libgstreamer1.0-dev gstreamer-1.0>=1.22)
  veter_relay_check(GSTRTSPSERVER libgstrtspserver-1.0-dev gstreamer-rtsp-server-1.0>=1.22)
  veter_relay_check(GSTCODECPARSERS libgstreamer-plugins-bad1.0-dev gstreamer-codecparsers-1.0>=1.22)
  # The relay's WebRTC (WHEP) viewers: webrtcbin's library (runtime: gstreamer1.0-nice for ICE).
  veter_relay_check(GSTWEBRTC libgstreamer-plugins-bad1.0-dev gstreamer-webrtc-1.0>=1.22)
  veter_relay_check(SOUP libsoup-3.0-dev libsoup-3.0)
  find_package(nlohmann_json QUIET CONFIG)
  if(NOT nlohmann_json_FOUND)
    list(APPEND _veter_relay_missing "nlohmann_json (nlohmann-json3-dev)")
  endif()
  if(_veter_relay_missing STREQUAL "")
    set(VETER_WITH_RELAY ON)
  else()
    string(REPLACE ";" ", " _veter_relay_missing "${_veter_relay_missing}")
    if(VETER_RELAY STREQUAL "ON")
      message(FATAL_ERROR "VETER_RELAY=ON but missing: ${_veter_relay_missing} (or run scripts/deps.sh)")
    endif()
    message(STATUS "veter: skipping veter-relay, veter-probe, bench tools and their tests: missing "
                   "${_veter_relay_missing}")
  endif()
endif()
if(NOT VETER_WITH_RELAY AND VETER_RELAY STREQUAL "OFF")
  message(STATUS "veter: skipping veter-relay, veter-probe, bench tools and their tests: VETER_RELAY=OFF")
endif()
message(STATUS "veter: GStreamer ${GST_gstreamer-1.0_VERSION} (publisher and veter_common need >= 1.18, the relay >= 1.22)")
