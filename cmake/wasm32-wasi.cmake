# Toolchain file for the wasm32-wasi build (CMake preset `wasm`): Debian 12's clang-14 with
# its WASI sysroot (packages wasi-libc, libc++-14-dev-wasm32, libc++abi-14-dev-wasm32,
# libclang-rt-14-dev-wasm32, lld-14; scripts/install-deps.sh wasm).
#
# Debian installs the WASI sysroot into /usr itself (/usr/include/wasm32-wasi,
# /usr/lib/wasm32-wasi), so `--sysroot=/usr` would also put the host's /usr/include (glibc,
# OpenSSL, the system SQLite) on the include path, where a stray #include would compile
# against the wrong library. We therefore build a private sysroot of three symbolic links in
# the build tree that holds only the WASI parts.
set(CMAKE_SYSTEM_NAME WASI)
list(APPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR})  # Platform/WASI.cmake
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(triple wasm32-wasi)

set(CMAKE_C_COMPILER clang-14)
set(CMAKE_CXX_COMPILER clang++-14)
set(CMAKE_C_COMPILER_TARGET ${triple})
set(CMAKE_CXX_COMPILER_TARGET ${triple})
set(CMAKE_AR llvm-ar-14 CACHE FILEPATH "")
set(CMAKE_RANLIB llvm-ranlib-14 CACHE FILEPATH "")

set(EDGECLASS_WASI_SYSROOT ${CMAKE_BINARY_DIR}/wasi-sysroot)
if(NOT EXISTS ${EDGECLASS_WASI_SYSROOT}/lib/${triple})
  file(MAKE_DIRECTORY ${EDGECLASS_WASI_SYSROOT}/include ${EDGECLASS_WASI_SYSROOT}/lib)
  file(CREATE_LINK /usr/include/${triple} ${EDGECLASS_WASI_SYSROOT}/include/${triple} SYMBOLIC)
  file(CREATE_LINK /usr/lib/${triple} ${EDGECLASS_WASI_SYSROOT}/lib/${triple} SYMBOLIC)
endif()
set(CMAKE_SYSROOT ${EDGECLASS_WASI_SYSROOT})

# No exceptions, no threads (wasm32-wasi has neither in this toolchain), no RTTI needed.
set(CMAKE_C_FLAGS_INIT "")
set(CMAKE_CXX_FLAGS_INIT "-fno-exceptions")
# A module needs more than wasm-ld's 64 KiB default stack (the Rego evaluator recurses).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-z,stack-size=1048576")

set(CMAKE_FIND_ROOT_PATH ${EDGECLASS_WASI_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
