#!/usr/bin/env bash
# The wasm32-wasi server under the shared WasmEdge (`make test-wasm`): builds
# build/wasm/edgeclass.wasm (preset wasm) and the native edgeclass, then runs
# tests/wasm/test_wasm_server.py: a slice of tests/api against the module on loopback, its own
# HTTP/1.1 layer (keep-alive, pipelining, HEAD, chunked bodies, 431, 413, 501, HTTP/1.0), and one
# database written by the native server, then the wasm one, then read by the native one.
# The module runs interpreted (AOT compilation takes minutes: `make wasm`); set
# EDGECLASS_WASM=build/wasm/edgeclass.aot.wasm to test the AOT form. Skips visibly (exit 77)
# when the wasm toolchain or WasmEdge is missing (Node's node:wasi has no sockets).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/scripts/lib/tools.sh

for f in /usr/include/wasm32-wasi/c++/v1/string /usr/lib/wasm32-wasi/libc++.a; do
  [ -e "$f" ] || skip_test wasm_server "no wasm32-wasi toolchain ($f missing: scripts/install-deps.sh wasm)"
done
command -v clang++-14 >/dev/null || skip_test wasm_server "clang++-14 missing (scripts/install-deps.sh wasm)"
runtime=$(WASM_RUNTIME=wasmedge scripts/wasm-run.sh --which) ||
  skip_test wasm_server "no WasmEdge (../shared/tools/wasmedge, \$WASMEDGE or PATH): ${runtime#SKIP --which: }"

[ -f build/wasm/build.ninja ] || cmake --preset wasm >/dev/null || exit 1
cmake --build build/wasm -j2 --target edgeclass || exit 1
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null || exit 1
cmake --build build/release -j2 --target edgeclass || exit 1
echo "wasm_server: runtime $runtime, module ${EDGECLASS_WASM:-build/wasm/edgeclass.wasm}"
WASMEDGE=$runtime exec python3 tests/wasm/test_wasm_server.py
