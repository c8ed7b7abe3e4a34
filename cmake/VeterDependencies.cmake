# Every external dependency, imported as a target. A missing one stops the
# configure step and names the Debian 12 package that provides it
# (scripts/deps.sh installs them all).
find_package(PkgConfig REQUIRED)

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

veter_pkg_check(GST libgstreamer1.0-dev gstreamer-1.0>=1.22 gstreamer-base-1.0 gstreamer-net-1.0)
veter_pkg_check(GSTPLUGINS libgstreamer-plugins-base1.0-dev gstreamer-app-1.0 gstreamer-rtp-1.0
                gstreamer-video-1.0 gstreamer-sdp-1.0 gstreamer-rtsp-1.0)
veter_pkg_check(GSTRTSPSERVER libgstrtspserver-1.0-dev gstreamer-rtsp-server-1.0)
veter_pkg_check(GSTCODECPARSERS libgstreamer-plugins-bad1.0-dev gstreamer-codecparsers-1.0)
# The relay's WebRTC (WHEP) viewers: webrtcbin's library (runtime: gstreamer1.0-nice for ICE).
veter_pkg_check(GSTWEBRTC libgstreamer-plugins-bad1.0-dev gstreamer-webrtc-1.0)
veter_pkg_check(GLIB libglib2.0-dev glib-2.0 gobject-2.0 gio-2.0 gio-unix-2.0)
veter_pkg_check(SOUP libsoup-3.0-dev libsoup-3.0)
veter_pkg_check(SYSTEMD libsystemd-dev libsystemd)
# issue 6: SRTCP for the relay's own RTCP (receiver reports, PLI) and its check on the publisher.
veter_pkg_check(SRTP libsrtp2-dev libsrtp2>=2.3)

veter_find_package(yaml-cpp libyaml-cpp-dev)
veter_find_package(spdlog libspdlog-dev)
veter_find_package(CLI11 libcli11-dev)
veter_find_package(nlohmann_json nlohmann-json3-dev)
if(VETER_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR "Missing dependency GTest: install the Debian packages 'libgtest-dev libgmock-dev'")
  endif()
endif()

# yaml-cpp 0.7 on Debian exports the plain 'yaml-cpp' target.
if(TARGET yaml-cpp::yaml-cpp)
  set(VETER_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(VETER_YAML_TARGET yaml-cpp)
endif()
