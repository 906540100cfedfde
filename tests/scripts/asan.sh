#!/usr/bin/env bash
# The sanitizer job of `make test`: the server and the room tests built by clang-14 with
# AddressSanitizer and UBSan (CMake preset "asan", build/asan), then
#   - the room tests (classroom_test),
#   - every fuzz target's seed corpus and regression inputs (ctest -L fuzz),
#   - the REST API tests (tests/scripts/api.sh) against build/asan/edgeclass: the REST API, the
#     live room over real sockets (test_live_room), the hostile-client suite (test_hostile),
#   - the HTTPS/WSS tests (tests/scripts/tls.sh) against the same binary.
# The GoogleTest live-socket tests (ws_test, ws_room_test) run in the release tree only: under
# ASan they mostly wait on timers, and building them a second time cost more of a cold
# `make test` than they add over the API tests against the sanitized server.
# with leaks detected and the first sanitizer report fatal. Only the targets these need are
# built. Non-zero when any part fails; ends with "asan: N passed, M failed".
# EDGECLASS_SKIP_ASAN=1 skips it (says so; for quick local runs, never for a merge).
# EDGECLASS_BUILD_ONLY=1 builds build/asan and exits (scripts/test.sh does so in the
# background while the other script tests run).
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ "${EDGECLASS_SKIP_ASAN:-0}" = 1 ]; then
  echo "asan: SKIPPED (EDGECLASS_SKIP_ASAN=1)"
  exit 0
fi
BUILD=build/asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# The sanitizer build uses clang-14 (CMakePresets.json): it compiles this tree at -O0 with
# ASan+UBSan in about half of GCC's time, which keeps a cold `make test` short. A build dir
# configured with another compiler (an older checkout) is made again.
if [ -f $BUILD/CMakeCache.txt ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang++-14' $BUILD/CMakeCache.txt; then
  rm -rf $BUILD
fi
if [ ! -f $BUILD/build.ninja ]; then
  cmake --preset asan >/dev/null || exit 1
fi
# Regenerate build.ninja first when CMake files changed, so new replay targets are listed.
ninja -C $BUILD build.ninja >/dev/null || exit 1
replays=$(ninja -C $BUILD -t targets all | grep -oP '^[a-z0-9_]+_fuzz_replay(?=: )' | grep -v '^cmake_' | sort -u)
# shellcheck disable=SC2086
cmake --build $BUILD --target edgeclass classroom_test $replays || exit 1
# scripts/test.sh builds this tree in the background while other tests run, then runs us.
if [ "${EDGECLASS_BUILD_ONLY:-0}" = 1 ]; then
  echo "asan: built (EDGECLASS_BUILD_ONLY=1)"
  exit 0
fi

passed=0
failed=0
failures=()
step() {
  local name=$1
  shift
  echo "=== asan: $name"
  if "$@"; then
    passed=$((passed + 1)); echo "--- PASS asan: $name"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "--- FAIL asan: $name"
  fi
}

step classroom_test timeout 600 $BUILD/tests/classroom/classroom_test --gtest_brief=1
step fuzz_replay ctest --test-dir $BUILD -L fuzz --output-on-failure -j2 --timeout 300
step api.sh env EDGECLASS_BIN=$BUILD/edgeclass timeout 900 bash tests/scripts/api.sh
# HTTPS and WSS: a live wss:// socket reads and writes through OpenSSL on the socket itself
# after its handshake (ws/live_session.cc, own TLS), hand-written buffer code worth the 40 s.
step tls.sh env EDGECLASS_BIN=$BUILD/edgeclass timeout 300 bash tests/scripts/tls.sh

for f in "${failures[@]}"; do echo "FAILED: asan: $f"; done
echo "asan: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
