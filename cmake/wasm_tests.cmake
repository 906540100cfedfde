# The portable core's unit tests as wasm32-wasi modules, run by CTest under a WASI runtime
# (scripts/wasm-run.sh: the shared WasmEdge, else Node's node:wasi; a visible SKIP, exit 77,
# when neither is there). Only the tests of the portable layers that need no threads, no
# child processes and no app layer are built here; the native build runs all of them.
#
# GoogleTest is compiled from Debian's source (libgtest-dev ships /usr/src/googletest) for
# wasm32-wasi: no exceptions, no pthreads, no death tests, no stream capture.
set(EDGECLASS_GTEST_SRC /usr/src/googletest/googletest)
if(NOT EXISTS ${EDGECLASS_GTEST_SRC}/src/gtest-all.cc)
  message(WARNING "wasm: no GoogleTest source in /usr/src/googletest (libgtest-dev); no tests")
  return()
endif()
enable_testing()
add_library(gtest_wasm STATIC ${EDGECLASS_GTEST_SRC}/src/gtest-all.cc
                              ${EDGECLASS_GTEST_SRC}/src/gtest_main.cc)
target_include_directories(gtest_wasm PRIVATE ${EDGECLASS_GTEST_SRC})
target_include_directories(gtest_wasm SYSTEM PUBLIC ${EDGECLASS_GTEST_SRC}/include)
target_compile_definitions(gtest_wasm PUBLIC
  GTEST_HAS_EXCEPTIONS=0 GTEST_HAS_PTHREAD=0 GTEST_HAS_STREAM_REDIRECTION=0
  GTEST_HAS_POSIX_RE=0 GTEST_HAS_DEATH_TEST=0)
target_compile_options(gtest_wasm PRIVATE -Wno-everything)

set(EDGECLASS_WASM_RUN ${PROJECT_SOURCE_DIR}/scripts/wasm-run.sh)

# edgeclass_wasm_test(NAME SOURCES ... LIBS ... [DEFINES ...] [EXCLUDE case...]
#                     [SLOW case...]): one module and two CTest entries that run every case
# in it (gtest's output names each): wasm_NAME under WasmEdge (its interpreter: the modules
# are not AOT-compiled, wasmedgec takes minutes on them here) and wasm_node_NAME under
# node:wasi. SLOW cases run only under node (the interpreter takes a minute or more).
# EXCLUDE: cases that test what the wasm build deliberately lacks; each call says why.
function(edgeclass_wasm_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;DEFINES;EXCLUDE;SLOW" ${ARGN})
  add_executable(${name} ${T_SOURCES} ${EDGECLASS_WASM_STACK_CHK})
  target_link_libraries(${name} PRIVATE ${T_LIBS} gtest_wasm)
  target_compile_definitions(${name} PRIVATE ${T_DEFINES})
  set(all_excluded ${T_EXCLUDE})
  list(JOIN all_excluded ":" excluded)
  set(edge_excluded ${T_EXCLUDE} ${T_SLOW})
  list(JOIN edge_excluded ":" edge)
  add_test(NAME wasm_${name}
    COMMAND env WASM_RUNTIME=wasmedge ${EDGECLASS_WASM_RUN} $<TARGET_FILE:${name}>
            --gtest_filter=-${edge}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME wasm_node_${name}
    COMMAND env WASM_RUNTIME=node ${EDGECLASS_WASM_RUN} $<TARGET_FILE:${name}>
            --gtest_filter=-${excluded}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(wasm_${name} wasm_node_${name} PROPERTIES
    LABELS wasm SKIP_RETURN_CODE 77 TIMEOUT 300)
endfunction()

set(t ${PROJECT_SOURCE_DIR}/tests)
edgeclass_wasm_test(base_test
  SOURCES ${t}/base/status_test.cc ${t}/base/random_test.cc ${t}/base/strings_test.cc
          ${t}/base/log_test.cc ${t}/base/crypto_test.cc ${t}/base/jwt_test.cc
          ${t}/base/json_reader_test.cc ${t}/base/utf8_test.cc
  LIBS base)

# Store: the SQL layer (no writer_test: the writer is a thread; no crash_test: it forks).
edgeclass_wasm_test(store_test
  SOURCES ${t}/store/db_test.cc ${t}/store/migrations_test.cc ${t}/store/courses_test.cc
          ${t}/store/sessions_test.cc ${t}/store/quizzes_test.cc ${t}/store/chat_test.cc
          ${t}/store/txn_test.cc ${t}/store/cursor_test.cc ${t}/store/live_rooms_test.cc
          ${t}/store/teacher_tables_test.cc
  LIBS store
  # One connection per database file in the wasm build (wasm/sqlite_vfs.c: no locks, and the
  # WAL index of each connection is its own heap copy, built from the WAL file at the
  # connection's first read and never again), so two connections on one file, as these tests
  # use, neither see each other's later commits nor wait for each other's locks. The wasm
  # server has one connection (src/wasi/main.cc); DbTest.AReadScopeOnTheWritersConnection is
  # what it does.
  EXCLUDE DbTest.ReaderSeesCommittedWritesOfWriter
          DbTest.AReadScopeReadsOneSnapshotAndEndsWithIt
          DbTest.AReadAfterAScopeSeesAWriteCommittedDuringIt
          DbTest.AReadScopeBeginsWithItsFirstStatementOnly
          DbTest.LockHeldByAnotherWriterIsUnavailableAfterBusyTimeout)

# Policy: the engine with the repository's policies (read through the WASI preopen of the
# repository), and the builtins except those that need RE2 or OpenSSL (regex, x509, the
# asymmetric crypto), which the wasm build registers as errors (src/policy/builtins/unavailable.cc).
edgeclass_wasm_test(policy_test
  SOURCES ${t}/policy/value_test.cc ${t}/policy/engine_test.cc ${t}/policy/capabilities_test.cc
          ${t}/policy/rule_index_test.cc
  LIBS policy
  DEFINES EDGECLASS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
edgeclass_wasm_test(policy_builtins_test
  SOURCES ${t}/policy/builtins_encoding_test.cc ${t}/policy/builtins_net_test.cc
          ${t}/policy/builtins_objects_test.cc ${t}/policy/builtins_robustness_test.cc
          ${t}/policy/builtins_strings_test.cc ${t}/policy/builtins_time_test.cc
  LIBS policy
  # No yaml-cpp in the wasm build: yaml.unmarshal is refused (these cases read YAML back).
  EXCLUDE BuiltinsEncoding.JsonYaml BuiltinsEncoding.YamlMarshalLayout
  SLOW BuiltinsRobustness.*)

# Classroom: the tests that need no live room (the room tests load the policies through app,
# which is not portable), and the authorizer the wasm server decides with
# (policy_input_test: DecidesAsTheNativeBuild holds both builds to one digest of decisions).
edgeclass_wasm_test(classroom_test
  SOURCES ${t}/classroom/quiz_test.cc ${t}/classroom/teacher_reports_test.cc
          ${t}/classroom/policy_input_test.cc
  LIBS classroom
  DEFINES EDGECLASS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  # 5,000 values and 20,000 decisions twice: 32 s and 102 s in WasmEdge's interpreter.
  SLOW PolicyInputTest.SameValueAsThroughJson PolicyInputTest.SameDecisionsAsThroughJson)

# The database-file probe (tests/store/db_file_probe.cc), also built natively: tests/wasm/wasm_core.sh
# writes a database with one build and reads it with the other.
add_executable(store_db_probe ${t}/store/db_file_probe.cc ${EDGECLASS_WASM_STACK_CHK})
target_link_libraries(store_db_probe PRIVATE store)
