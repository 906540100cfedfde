#!/usr/bin/env bash
# The wasm half of issue 18's "Proven", for `make test`: builds what it needs in build/wasm
# (preset wasm) and runs
#   1. the portable core's unit tests as wasm32-wasi modules under WasmEdge's interpreter
#      (node:wasi too with WASM_TEST_NODE=1; `make wasm-core` runs both), and one SQLite file
#      shared by the native and the wasm store (tests/wasm/wasm_core.sh);
#   2. the REST API tests against the wasm32-wasi server under WasmEdge, interpreted
#      (tests/wasm/wasm_server.sh: a slice of tests/api, the module's HTTP/1.1 handling, one
#      database written natively, then by Wasm, then read natively). The AOT module is not
#      needed: wasmedgec takes minutes on it (make wasm, make test-wasm with
#      EDGECLASS_WASM=build/wasm/edgeclass.aot.wasm test that form).
# Needs the native build (build/release) for the shared-file checks; scripts/test.sh has it.
# Exit 0 when both pass; 1 when either fails; 77 (a visible SKIP line) when either was skipped
# for a missing tool (the wasm toolchain: scripts/install-deps.sh wasm; WasmEdge: the shared
# ../shared/tools/wasmedge, $WASMEDGE or PATH) and the other passed or skipped.
# Lives outside tests/scripts/ so scripts/test.sh's loop does not run it serially: the lead
# runs it beside other work (its build is minutes cold).
# EDGECLASS_BUILD_ONLY=1 builds build/wasm's modules and exits (scripts/test.sh does so in the
# background while the other script tests run); without the toolchain it builds nothing (the
# test run then skips visibly).
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ "${EDGECLASS_BUILD_ONLY:-0}" = 1 ]; then
  if ! command -v clang++-14 >/dev/null || [ ! -e /usr/lib/wasm32-wasi/libc++.a ]; then
    echo "wasm_test: no wasm32-wasi toolchain, nothing to build"
    exit 0
  fi
  [ -f build/wasm/build.ninja ] || cmake --preset wasm >/dev/null || exit 1
  targets=$(sed -n 's/^edgeclass_wasm_test(\([a-z_]*\)$/\1/p' cmake/wasm_tests.cmake)
  # shellcheck disable=SC2086
  cmake --build build/wasm -j2 --target $targets store_db_probe edgeclass || exit 1
  echo "wasm_test: built (EDGECLASS_BUILD_ONLY=1)"
  exit 0
fi
start=$SECONDS
rc=()
for t in wasm_core wasm_server; do
  t0=$SECONDS
  r=0
  # The node:wasi runs are left out when WasmEdge is there (they would only repeat the same
  # modules under another runtime); without WasmEdge they are what runs.
  if [ "${WASM_TEST_NODE:-0}" = 1 ] || ! WASM_RUNTIME=wasmedge scripts/wasm-run.sh --which >/dev/null; then
    bash "tests/wasm/$t.sh" || r=$?
  else
    WASM_CORE_EXCLUDE='^wasm_node_' bash "tests/wasm/$t.sh" || r=$?
  fi
  echo "--- wasm_test: $t exit $r ($((SECONDS - t0)) s)"
  rc+=("$r")
done
echo "--- wasm_test: $((SECONDS - start)) s"
for r in "${rc[@]}"; do
  [ "$r" -eq 0 ] || [ "$r" -eq 77 ] || exit 1
done
for r in "${rc[@]}"; do
  [ "$r" -eq 77 ] && { echo "SKIP wasm_test: a wasm step was skipped (its SKIP line above says why)"; exit 77; }
done
exit 0
