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
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
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
