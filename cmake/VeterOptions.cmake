# Build options shared by every target.
option(VETER_WERROR "Treat compiler warnings as errors" OFF)
option(VETER_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(VETER_TSAN "Build with ThreadSanitizer" OFF)
if(VETER_SANITIZE AND VETER_TSAN)
  message(FATAL_ERROR "VETER_SANITIZE and VETER_TSAN cannot be combined (ASan and TSan exclude each other)")
endif()
option(VETER_BUILD_TESTS "Build the test suite" ON)

# veter_warnings: an interface target every project target links to.
add_library(veter_warnings INTERFACE)
target_compile_options(veter_warnings INTERFACE -Wall -Wextra -Wpedantic
  $<$<BOOL:${VETER_WERROR}>:-Werror>)

if(VETER_SANITIZE)
  # Every UBSan finding ends the process. Without UBSan's vptr check: it reads an object's vtable
  # only after probing that memory through a pipe(2), which fails in a process with no free file
  # descriptor (HostileHttp.OutOfDescriptorsBacksOffAndRecovers runs the relay out of them on
  # purpose), and it then reported "invalid vptr" for valid objects (fmt's buffer) and ended the
  # relay. Made recoverable and suppressed instead, it still printed them, neither suppressed nor
  # halting (probably because GCC's libubsan reads its options at its first report, from
  # /proc/self/environ, which cannot be opened then).
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(VETER_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # Makes GLib's futex-based GMutex/GCond visible to TSan (see the source); linked first into
  # every target defined after this point, so it precedes libglib in symbol lookup.
  add_library(veter_tsan_glib_sync SHARED ${PROJECT_SOURCE_DIR}/tests/tsan/glib_sync_annotations.cpp)
  target_link_libraries(veter_tsan_glib_sync PRIVATE ${CMAKE_DL_LIBS})
  link_libraries(veter_tsan_glib_sync)
endif()

# veter_add_warnings(target): apply the project's warning flags.
function(veter_add_warnings target)
  target_link_libraries(${target} PRIVATE veter_warnings)
endfunction()
