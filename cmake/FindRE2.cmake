# FindRE2: Google RE2, as the imported target RE2::RE2.
#
# Debian 12's libre2-dev ships re2.pc and no CMake package; newer RE2 releases install
# re2Config.cmake (target re2::re2). This module asks pkg-config for the locations when it is
# available, then finds the header and the library the ordinary way, so
# CMAKE_FIND_LIBRARY_SUFFIXES decides between libre2.a and libre2.so: cmake/static.cmake sets
# it to .a when EDGECLASS_STATIC is ON, so the fully static release link gets the archive.
# Override with -DRE2_ROOT=<prefix> (CMake's <Package>_ROOT search) or -DRE2_LIBRARY=<file>.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_RE2 QUIET re2)
endif()

find_path(RE2_INCLUDE_DIR re2/re2.h HINTS ${PC_RE2_INCLUDEDIR} ${PC_RE2_INCLUDE_DIRS})
find_library(RE2_LIBRARY NAMES re2 HINTS ${PC_RE2_LIBDIR} ${PC_RE2_LIBRARY_DIRS})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(RE2 REQUIRED_VARS RE2_LIBRARY RE2_INCLUDE_DIR)
mark_as_advanced(RE2_INCLUDE_DIR RE2_LIBRARY)

if(RE2_FOUND AND NOT TARGET RE2::RE2)
  find_package(Threads REQUIRED)
  if(RE2_LIBRARY MATCHES "\\${CMAKE_STATIC_LIBRARY_SUFFIX}$")
    add_library(RE2::RE2 STATIC IMPORTED)
  else()
    add_library(RE2::RE2 UNKNOWN IMPORTED)
  endif()
  # RE2 uses std::thread primitives (pkg-config: -pthread).
  set_target_properties(RE2::RE2 PROPERTIES
    IMPORTED_LOCATION ${RE2_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${RE2_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
