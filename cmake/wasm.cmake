# The wasm32-wasi build (preset `wasm`): the portable core -- base, policy, store's SQL layer,
# classroom -- and its unit tests, compiled by clang-14 for wasm32-wasi without exceptions or
# threads (cmake/wasm32-wasi.cmake). Included from the top CMakeLists.txt instead of the
# native build; the native build does not see any of this.
#
# Third-party libraries here are not Debian's host libraries:
#   Boost.JSON   header-only (cmake/wasm/boost_json.cc), from Debian's Boost 1.81 headers
#   SQLite       the amalgamation in third_party/sqlite (Debian's 3.40.1 source package)
#   OpenSSL, RE2, yaml-cpp: none. base's SHA-256/HMAC have a portable implementation
#                (src/base/crypto_portable.cc); the Rego builtins that need the others are
#                replaced by ones that say so (src/policy/builtins/unavailable.cc).
set(EDGECLASS_WASM ON)
# -Oz, not -O2 (also in the preset; here too so that a build tree configured with -O2 before
# follows): the server module is 1.50 MB instead of 2.81 MB, and WasmEdge's start-up time
# grows with the module (loading it, and copying the AOT code out of it), which is most of
# the module's cold start (docs/design.md, "The wasm32-wasi server"). wasmedgec compiles the
# AOT code at its own -O2 from whatever we give it.
add_compile_options(-Oz -Wall -Wextra -Wno-unused-parameter)

# Boost's headers only: an include root holding one link to /usr/include/boost, so that the
# rest of the host's /usr/include stays out of reach.
set(EDGECLASS_WASM_BOOST_ROOT ${PROJECT_BINARY_DIR}/include/boost-headers)
if(NOT IS_SYMLINK ${EDGECLASS_WASM_BOOST_ROOT}/boost)
  if(NOT EXISTS /usr/include/boost/json.hpp)
    message(FATAL_ERROR "wasm: Boost.JSON headers missing: scripts/install-deps.sh wasm")
  endif()
  file(MAKE_DIRECTORY ${EDGECLASS_WASM_BOOST_ROOT})
  file(CREATE_LINK /usr/include/boost ${EDGECLASS_WASM_BOOST_ROOT}/boost SYMBOLIC)
endif()
add_library(boost_json_wasm STATIC ${PROJECT_SOURCE_DIR}/wasm/boost_json.cc)
target_include_directories(boost_json_wasm SYSTEM PUBLIC ${EDGECLASS_WASM_BOOST_ROOT})
target_compile_definitions(boost_json_wasm PUBLIC
  BOOST_NO_EXCEPTIONS BOOST_SYSTEM_DISABLE_THREADS BOOST_ALL_NO_LIB)
add_library(Boost::json ALIAS boost_json_wasm)

# SQLite (third_party/sqlite/SOURCE.md) with our WASI VFS (wasm/sqlite_vfs.c: no locks, no
# shared memory, fsync for durability; its top comment says what that means). Every
# connection is in EXCLUSIVE locking mode, which lets WAL run without shared memory, so the
# files stay in the native server's format (WAL) and each server opens the other's database.
add_library(sqlite3_wasm STATIC ${PROJECT_SOURCE_DIR}/third_party/sqlite/sqlite3.c
                                ${PROJECT_SOURCE_DIR}/wasm/sqlite_vfs.c)
target_include_directories(sqlite3_wasm SYSTEM PUBLIC ${PROJECT_SOURCE_DIR}/third_party/sqlite)
target_compile_definitions(sqlite3_wasm PRIVATE
  SQLITE_OS_OTHER=1 SQLITE_THREADSAFE=0 SQLITE_DEFAULT_LOCKING_MODE=1 SQLITE_TEMP_STORE=3
  SQLITE_OMIT_LOAD_EXTENSION SQLITE_OMIT_SHARED_CACHE SQLITE_MAX_MMAP_SIZE=0
  SQLITE_OMIT_DEPRECATED SQLITE_DQS=0)
set_source_files_properties(${PROJECT_SOURCE_DIR}/third_party/sqlite/sqlite3.c
  PROPERTIES COMPILE_OPTIONS -Wno-everything)
add_library(SQLite::SQLite3 ALIAS sqlite3_wasm)

# Debian's wasm32 compiler-rt builtins were built with -fstack-protector: __umodti3 (used by
# the policy engine) needs __stack_chk_guard and __stack_chk_fail, which wasi-libc lacks.
# Every wasm executable compiles wasm/stack_chk.c in (an object of its own: the builtins are
# linked last, after every archive was scanned).
set(EDGECLASS_WASM_STACK_CHK ${PROJECT_SOURCE_DIR}/wasm/stack_chk.c)

foreach(dir base store policy classroom rest wasi)
  add_subdirectory(src/${dir})
endforeach()

if(EDGECLASS_TESTS)
  include(cmake/wasm_tests.cmake)
endif()
