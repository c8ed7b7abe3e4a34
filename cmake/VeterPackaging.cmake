# Install layout and Debian packages.
#
# `cmake --install <build> [--prefix P]` installs, per component:
#   relay:     bin/veter-relay, <unitdir>/veter-relay.service, <etc>/veter/relay.yml (only when
#              absent), share/veter/examples/relay.yml, share/veter/scripts/{firewall-ufw,view_stream}.sh,
#              share/doc/veter-relay/{deploy,configuration,operations}.md + copyright
#   publisher: bin/veter-publisher, <unitdir>/veter-publisher.service and the template
#              <unitdir>/veter-publisher@.service (one instance per camera), <etc>/veter/publisher.yml
#              (only when absent), share/veter/examples/publisher.yml,
#              share/veter/scripts/start_camera.sh, share/doc/veter-publisher/...
# <etc> is /etc for the /usr prefix and P/etc otherwise (as GNUInstallDirs does); <unitdir> is
# P/lib/systemd/system (VETER_SYSTEMD_UNITDIR). The units in systemd/ name /usr/bin and
# /etc/veter; they are rewritten at install time for any other prefix.
#
# `cpack -G DEB` (from the build directory) builds veter-relay_<v>_<arch>.deb and
# veter-publisher_<v>_<arch>.deb with prefix /usr, whatever prefix the build was configured with.
#
# The binaries' own install(TARGETS) rules (src/*/CMakeLists.txt) have no component; they are
# installed again here into their package's component so that each .deb gets its binary. A plain
# `cmake --install` installs all components (the binary is then copied twice, harmlessly).
include_guard(GLOBAL)

set(VETER_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "systemd system unit directory, relative to the install prefix")

set(_veter_pkg_staging "${CMAKE_BINARY_DIR}/veter-packaging")
file(MAKE_DIRECTORY "${_veter_pkg_staging}")

# Install-time helper: sets _veter_etc to the configuration root for the prefix being installed.
set(_veter_etc_code [=[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(_veter_etc "/etc")
  else()
    set(_veter_etc "${CMAKE_INSTALL_PREFIX}/etc")
  endif()
]=])

# veter_install_component(<component> <script>...)
function(veter_install_component c)
  set(pkg "veter-${c}")
  set(docdir "${CMAKE_INSTALL_DATADIR}/doc/${pkg}")

  install(TARGETS ${pkg} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${c})
  install(FILES "${PROJECT_SOURCE_DIR}/config/${c}.yml"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/veter/examples" COMPONENT ${c})
  install(PROGRAMS ${ARGN} DESTINATION "${CMAKE_INSTALL_DATADIR}/veter/scripts" COMPONENT ${c})
  install(FILES "${PROJECT_SOURCE_DIR}/docs/deploy.md" "${PROJECT_SOURCE_DIR}/docs/configuration.md"
                "${PROJECT_SOURCE_DIR}/docs/operations.md"
          DESTINATION "${docdir}" COMPONENT ${c})
  install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${docdir}" RENAME copyright COMPONENT ${c})

  # The systemd units (the plain one and, where it exists, the template <pkg>@.service for
  # several instances), with paths rewritten for the install prefix.
  set(units "${pkg}")
  if(EXISTS "${PROJECT_SOURCE_DIR}/systemd/${pkg}@.service")
    list(APPEND units "${pkg}@")
  endif()
  foreach(unit IN LISTS units)
    set(unit_src "${PROJECT_SOURCE_DIR}/systemd/${unit}.service")
    set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${unit_src}")
    set(code [=[
      @ETC_CODE@
      file(READ "@UNIT_SRC@" _veter_unit)
      if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
        string(REPLACE "/usr/bin/" "${CMAKE_INSTALL_PREFIX}/@BINDIR@/" _veter_unit "${_veter_unit}")
        string(REPLACE "/usr/share/" "${CMAKE_INSTALL_PREFIX}/@DATADIR@/" _veter_unit "${_veter_unit}")
        string(REPLACE "/etc/veter/" "${_veter_etc}/veter/" _veter_unit "${_veter_unit}")
      endif()
      # Staged under a name unique to this DESTDIR and prefix (installs may run concurrently).
      string(MD5 _veter_tag "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
      file(WRITE "@STAGING@/${_veter_tag}/@UNIT@.service" "${_veter_unit}")
      file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/@UNITDIR@" TYPE FILE
           PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
           FILES "@STAGING@/${_veter_tag}/@UNIT@.service")
      file(REMOVE_RECURSE "@STAGING@/${_veter_tag}")
    ]=])
    set(ETC_CODE "${_veter_etc_code}")
    set(UNIT_SRC "${unit_src}")
    set(BINDIR "${CMAKE_INSTALL_BINDIR}")
    set(DATADIR "${CMAKE_INSTALL_DATADIR}")
    set(STAGING "${_veter_pkg_staging}")
    set(UNIT "${unit}")
    set(UNITDIR "${VETER_SYSTEMD_UNITDIR}")
    string(CONFIGURE "${code}" code @ONLY)
    install(CODE "${code}" COMPONENT ${c})
  endforeach()

  # The configuration file: installed only when there is none, never overwritten.
  set(code [=[
    @ETC_CODE@
    if(EXISTS "$ENV{DESTDIR}${_veter_etc}/veter/@C@.yml")
      message(STATUS "Keeping existing: $ENV{DESTDIR}${_veter_etc}/veter/@C@.yml "
                     "(the shipped default is in ${CMAKE_INSTALL_PREFIX}/@DATADIR@/veter/examples/)")
    else()
      file(INSTALL DESTINATION "${_veter_etc}/veter" TYPE FILE
           PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
           FILES "@CONFIG_SRC@")
    endif()
  ]=])
  set(C "${c}")
  set(CONFIG_SRC "${PROJECT_SOURCE_DIR}/config/${c}.yml")
  string(CONFIGURE "${code}" code @ONLY)
  install(CODE "${code}" COMPONENT ${c})
endfunction()

if(VETER_WITH_RELAY)
  veter_install_component(relay
    "${PROJECT_SOURCE_DIR}/scripts/firewall-ufw.sh" "${PROJECT_SOURCE_DIR}/scripts/view_stream.sh")
endif()
veter_install_component(publisher "${PROJECT_SOURCE_DIR}/scripts/start_camera.sh")

# ---------------------------------------------------------------------------------------------
# Debian maintainer scripts: create the `veter` system user, reload systemd; start nothing.
# veter_write_maintainer_scripts(<component>) -> list of control files in VETER_CONTROL_<C>.
function(veter_write_maintainer_scripts c)
  set(pkg "veter-${c}")
  set(dir "${_veter_pkg_staging}/debian-${c}")
  file(MAKE_DIRECTORY "${dir}")
  file(WRITE "${dir}/conffiles" "/etc/veter/${c}.yml\n")
  file(WRITE "${dir}/src/postinst" "#!/bin/sh
# ${pkg} postinst: create the service user and tell systemd about the unit.
# Nothing is enabled or started here; an upgrade restarts the service only if it was running.
set -e
if [ \"$1\" = configure ]; then
  if ! getent passwd veter >/dev/null; then
    adduser --system --group --no-create-home --home /nonexistent --quiet veter
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
    if [ -n \"$2\" ]; then
      systemctl try-restart ${pkg}.service '${pkg}@*.service' >/dev/null || true
    fi
  fi
  if [ -z \"$2\" ]; then
    echo \"${pkg}: edit /etc/veter/${c}.yml, then run: systemctl enable --now ${pkg}\"
  fi
fi
exit 0
")
  file(WRITE "${dir}/src/prerm" "#!/bin/sh
# ${pkg} prerm: on removal, stop and disable the service (it would lose its binary).
set -e
if [ \"$1\" = remove ] && [ -d /run/systemd/system ]; then
  systemctl disable --now ${pkg}.service >/dev/null 2>&1 || true
  # Instances of the template unit (veter-publisher@NAME), if any run.
  systemctl stop '${pkg}@*.service' >/dev/null 2>&1 || true
fi
exit 0
")
  file(WRITE "${dir}/src/postrm" "#!/bin/sh
# ${pkg} postrm: forget the unit. The veter user and /etc/veter are kept (Debian policy).
set -e
if [ \"$1\" = remove ] || [ \"$1\" = purge ]; then
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
  fi
fi
exit 0
")
  # Copied to make them executable (file(CHMOD) needs CMake 3.19).
  foreach(f postinst prerm postrm)
    file(COPY "${dir}/src/${f}" DESTINATION "${dir}"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endforeach()
  set(VETER_CONTROL_${c} "${dir}/conffiles;${dir}/postinst;${dir}/prerm;${dir}/postrm" PARENT_SCOPE)
endfunction()

veter_write_maintainer_scripts(relay)
veter_write_maintainer_scripts(publisher)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "veter")
set(CPACK_PACKAGE_VENDOR "VETER")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "VETER maintainers <veter-maintainers@localhost>")
# The Debian synopsis (first Description line) of both packages; the long text is per package.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Install with DESTDIR=<staging> and prefix /usr, so that the install-time rules above see the
# real target prefix (units name /usr/bin, configs go to /etc).
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_INSTALL_PREFIX "/usr")
if(VETER_WITH_RELAY)
  set(CPACK_COMPONENTS_ALL relay publisher)
else()
  set(CPACK_COMPONENTS_ALL publisher)
endif()
# A cross build packages for its target (dpkg's name for the CPU).
if(CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
endif()
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION "video")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# Runtime plugins (dlopen'ed, so dpkg-shlibdeps can't see them) and the tools the maintainer
# scripts use. Library dependencies are added by dpkg-shlibdeps. Elements -> packages:
#   relay:     appsrc/appsink (base), udpsrc/udpsink, rtpbin, rtph264depay/pay (good), h264parse (bad)
#   publisher: videotestsrc, videoconvert (base), v4l2src, jpegdec, udp, rtp, rtpbin (good),
#              h264parse, openh264enc (bad), x264enc (ugly); nvarguscamerasrc/nvv4l2h264enc come
#              from NVIDIA's L4T packages on a Jetson, not from Debian.
set(CPACK_DEBIAN_RELAY_PACKAGE_NAME "veter-relay")
set(CPACK_DEBIAN_RELAY_DESCRIPTION
    "veter-relay receives the robot's stream on UDP and serves it at rtsp://HOST:8555/<path>, with a
MediaMTX-compatible HTTP API and Prometheus metrics. Runs as the systemd unit veter-relay.")
set(CPACK_DEBIAN_RELAY_PACKAGE_DEPENDS
    "adduser, gstreamer1.0-plugins-base (>= 1.22), gstreamer1.0-plugins-good (>= 1.22), gstreamer1.0-plugins-bad (>= 1.22)")
set(CPACK_DEBIAN_RELAY_PACKAGE_SUGGESTS "ufw, curl")
set(CPACK_DEBIAN_RELAY_PACKAGE_CONTROL_EXTRA "${VETER_CONTROL_relay}")

set(CPACK_DEBIAN_PUBLISHER_PACKAGE_NAME "veter-publisher")
set(CPACK_DEBIAN_PUBLISHER_DESCRIPTION
    "veter-publisher captures from a Jetson CSI camera (Argus), a V4L2 device or a test pattern, encodes H.264
(hardware first) and sends it to the relay. Runs as the systemd unit veter-publisher.")
# The publisher needs GStreamer 1.18 (Ubuntu 22.04 / JetPack 6 has 1.20); these names exist on
# Debian 11/12 and Ubuntu 22.04 alike (tests/ship/robot_package_test.cpp checks the arm64 package).
set(CPACK_DEBIAN_PUBLISHER_PACKAGE_DEPENDS
    "adduser, gstreamer1.0-plugins-base (>= 1.18), gstreamer1.0-plugins-good (>= 1.18), gstreamer1.0-plugins-bad (>= 1.18), gstreamer1.0-plugins-ugly (>= 1.18)")
# gstreamer1.0-x: clockoverlay (pango), used only by the test pattern source.
# nvidia-l4t-gstreamer: nvarguscamerasrc, nvvidconv, nvv4l2h264enc on a Jetson (from NVIDIA's L4T
# apt repository, not Debian/Ubuntu: recommended, so the package also installs elsewhere).
set(CPACK_DEBIAN_PUBLISHER_PACKAGE_RECOMMENDS "gstreamer1.0-x, nvidia-l4t-gstreamer")
set(CPACK_DEBIAN_PUBLISHER_PACKAGE_CONTROL_EXTRA "${VETER_CONTROL_publisher}")

include(CPack)
