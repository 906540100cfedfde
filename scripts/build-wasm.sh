#!/usr/bin/env bash
# `make wasm`: the wasm32-wasi server build/wasm/edgeclass.wasm (preset `wasm`) and its
# ahead-of-time compiled form build/wasm/edgeclass.aot.wasm (WasmEdge's wasmedgec beside the
# checkout, ../shared/tools/wasmedge, or $WASMEDGEC; several minutes for a module this size,
# so only here, never in `make test`). Prints the sizes, raw and zstd -19.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/wasm/build.ninja ] || cmake --preset wasm >/dev/null
cmake --build build/wasm -j2 --target edgeclass
wasm=build/wasm/edgeclass.wasm
aot=build/wasm/edgeclass.aot.wasm
wasmedgec=${WASMEDGEC:-$(pwd)/../shared/tools/wasmedge/bin/wasmedgec}
if [ ! -x "$wasmedgec" ]; then
  echo "build-wasm: no wasmedgec at $wasmedgec (set WASMEDGEC): $aot not built" >&2
else
  # Compiled again only when the module changed (its SHA-256 beside the AOT form: a module
  # rebuilt while wasmedgec ran must not pass for compiled).
  sum=$(sha256sum "$wasm" | cut -d' ' -f1)
  if [ ! -f "$aot" ] || [ "$(cat "$aot.source-sha256" 2>/dev/null)" != "$sum" ]; then
    echo "build-wasm: AOT-compiling $wasm (wasmedgec; minutes)"
    "$wasmedgec" "$wasm" "$aot.tmp" >"$aot.log" 2>&1 || { cat "$aot.log" >&2; exit 1; }
    mv "$aot.tmp" "$aot"
    echo "$sum" >"$aot.source-sha256"
  fi
fi
for f in "$wasm" "$aot"; do
  [ -f "$f" ] || continue
  raw=$(stat -c %s "$f")
  z=$(zstd -19 -q -c "$f" | wc -c)
  echo "build-wasm: $f: $raw bytes, $z bytes zstd -19"
done
