#!/usr/bin/env bash
# The portable core's unit tests compiled to wasm32-wasi (preset `wasm`, cmake/wasm_tests.cmake)
# and run under a WASI runtime: the shared WasmEdge, else Node's node:wasi
# (scripts/wasm-run.sh). Skips visibly (exit 77) when the wasm toolchain or every runtime is
# missing (scripts/install-deps.sh wasm installs the toolchain).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/scripts/lib/tools.sh

for f in /usr/include/wasm32-wasi/c++/v1/string /usr/lib/wasm32-wasi/libc++.a \
         /usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a; do
  [ -e "$f" ] || skip_test wasm_core "no wasm32-wasi toolchain ($f missing: scripts/install-deps.sh wasm)"
done
command -v clang++-14 >/dev/null || skip_test wasm_core "clang++-14 missing (scripts/install-deps.sh wasm)"
runtime=$(scripts/wasm-run.sh --which) || skip_test wasm_core "${runtime#SKIP --which: }"
echo "wasm_core: runtime $runtime"

[ -f build/wasm/build.ninja ] || cmake --preset wasm >/dev/null || exit 1
targets=$(sed -n 's/^edgeclass_wasm_test(\([a-z_]*\)$/\1/p' cmake/wasm_tests.cmake)
cmake --build build/wasm -j2 --target $targets store_db_probe || exit 1
# WASM_CORE_EXCLUDE: a ctest -E regex of tests not to run (tests/wasm/wasm_test.sh, for
# `make test`, leaves out the node:wasi runs: WasmEdge's are the ones issue 18 is about).
ctest --test-dir build/wasm -L wasm --output-on-failure ${WASM_CORE_EXCLUDE:+-E "$WASM_CORE_EXCLUDE"} || exit 1

# One database file, written in turn by the native and the wasm build of the store
# (tests/store/db_file_probe.cc), must read the same in both.
native=build/release/tests/store/store_db_probe
[ -x "$native" ] || cmake --build build/release -j2 --target store_db_probe >/dev/null || exit 1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db=$dir/data/edgeclass.db
wasm() { TMPDIR=$dir scripts/wasm-run.sh build/wasm/store_db_probe.wasm "$@"; }
wasm add "$db" c_wasm1 "made by wasm" || exit 1
"$native" add "$db" c_native "made by native" || exit 1
wasm add "$db" c_wasm2 "wasm again" || exit 1
want=$'journal_mode=wal\nc_native made by native\nc_wasm1 made by wasm\nc_wasm2 wasm again'
got_native=$("$native" list "$db" | (read -r m; echo "$m"; sort))
got_wasm=$(wasm list "$db" | (read -r m; echo "$m"; sort))
for who in native wasm; do
  got_var=got_$who
  if [ "${!got_var}" != "$want" ]; then
    echo "FAIL wasm_core: the $who store reads the shared file as:"; echo "${!got_var}"
    echo "expected:"; echo "$want"; exit 1
  fi
done
echo "wasm_core: one database file written by wasm, native, wasm reads the same in both (WAL)"
