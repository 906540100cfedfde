# Fully static linking of the edgeclass binary (EDGECLASS_STATIC=ON, the release preset).
#
# Included from the root CMakeLists.txt *before* its find_package() calls, because a static
# link needs the static archives (libcrypto.a, libsqlite3.a, ...) to be the ones found: with
# -static, ld refuses a shared object given by full path ("attempted static link of dynamic
# object"). Libraries linked as plain -lname pick their .a by themselves under -static.
#
# Static glibc and DNS: getaddrinfo() in a static glibc 2.36 binary resolves names in a
# FROM-scratch image with no /etc/nsswitch.conf and no libnss_*.so (the files and dns
# backends are built into libc since 2.34); see docs/operations.md, "Static binary and DNS".
# The linker's warning "Using 'getaddrinfo' in statically linked applications requires at
# runtime the shared libraries ..." is expected and harmless for the files/dns backends.

# -static-pie keeps ASLR for the static binary: measured +0.75 MB (8%) and about +0.4 ms of
# cold start (relocations), see docs/operations.md. Off by default.
option(EDGECLASS_STATIC_PIE "With EDGECLASS_STATIC, link -static-pie (ASLR) instead of -static" OFF)

# The start-up code together: with lld, the static link lays out the functions a cold start
# runs (cmake/startup-order.txt, written by scripts/startup-order.sh) first in .text, in the
# order they first run. On a VM where each first touch of a page of the binary is a dear page
# fault, exec to listen() took 60 faults in .text with that code scattered over 10 MB and 26
# with it together (docs/operations.md, "Cold start: the start-up code together"). Without
# lld (ld.lld, Debian's package lld) the link is GNU ld's as before, only slower to start.
option(EDGECLASS_STARTUP_ORDER "With EDGECLASS_STATIC, link with lld and cmake/startup-order.txt" ON)

if(EDGECLASS_STATIC)
  set(OPENSSL_USE_STATIC_LIBS ON)
  # Prefer archives for every find_library() from here on (the build only ever links them).
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
  # A build tree configured before EDGECLASS_STATIC was switched on has shared objects in
  # its cache; forget those so the finds above run again.
  foreach(var SQLite3_LIBRARY SQLite3_LIBRARY_RELEASE OPENSSL_CRYPTO_LIBRARY
              OPENSSL_SSL_LIBRARY RE2_LIBRARY)
    if(DEFINED CACHE{${var}} AND "${${var}}" MATCHES "\\.so(\\.|$)")
      unset(${var} CACHE)
    endif()
  endforeach()
  # Lets --gc-sections drop unused functions and data from every library we compile.
  add_compile_options(-ffunction-sections -fdata-sections)
endif()

# edgeclass_static_link(target): when EDGECLASS_STATIC is ON, links `target` with -static (or
# -static-pie), drops unreferenced sections, and strips symbols in Release/MinSizeRel builds
# (the image ships the binary as built). A no-op otherwise, so debug and test builds stay
# dynamic.
function(edgeclass_static_link target)
  if(NOT EDGECLASS_STATIC)
    return()
  endif()
  if(EDGECLASS_STATIC_PIE)
    set(mode -static-pie)
  else()
    set(mode -static)
  endif()
  target_link_options(${target} PRIVATE
    ${mode}
    -Wl,--gc-sections
    $<$<CONFIG:Release,MinSizeRel>:-s>)
  if(EDGECLASS_STARTUP_ORDER)
    include(CheckLinkerFlag)
    check_linker_flag(CXX -fuse-ld=lld EDGECLASS_HAVE_LLD)
    set(order ${PROJECT_SOURCE_DIR}/cmake/startup-order.txt)
    if(EDGECLASS_HAVE_LLD AND EXISTS ${order})
      # Symbols of the list that a build no longer has are skipped without a warning.
      target_link_options(${target} PRIVATE -fuse-ld=lld -Wl,--symbol-ordering-file=${order}
                          -Wl,--no-warn-symbol-ordering)
      set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${order})
    else()
      message(STATUS "edgeclass: no lld (ld.lld) or no ${order}: linking without the start-up order")
    endif()
  endif()
endfunction()
