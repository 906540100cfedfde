#!/usr/bin/env bash
# `make wasm`: the wasm32-wasi server build/wasm/edgeclass.wasm (preset `wasm`) and its
# ahead-of-time compiled form build/wasm/edgeclass.aot.wasm (WasmEdge's wasmedgec beside the
# checkout, ../shared/tools/wasmedge, or $WASMEDGEC; several minutes for a module this size,
# so only here, never in `make test`). Prints the sizes, raw and zstd -19.
# EDGECLASS_WASM_AOT_SO=1 also writes the shared-library AOT form build/wasm/edgeclass.aot.so
# (`wasmedge edgeclass.aot.so serve`): WasmEdge maps it instead of copying and relocating
# the native code out of the module's custom section, so it loads several times faster, but
# it is an ELF file, not a module: the container shims want a .wasm entrypoint, so the image
# keeps edgeclass.aot.wasm (docs/design.md, "The wasm32-wasi server", cold start).
# The native code is compiled for size (wasmedgec --optimize=z; EDGECLASS_WASM_AOT_OPT=2 for
# wasmedgec's default): WasmEdge copies the module's native-code section several times while
# loading it, so its start-up grows with that section (3.3 MB at -O2, 2.2 MB at -Oz).
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
  # Compiled again only when the module or the optimization level changed (both beside the
  # AOT form: a module rebuilt while wasmedgec ran must not pass for compiled).
  opt=${EDGECLASS_WASM_AOT_OPT:-z}
  sum="$(sha256sum "$wasm" | cut -d' ' -f1) --optimize=$opt"
  outs=("$aot")
  [ "${EDGECLASS_WASM_AOT_SO:-0}" = 1 ] && outs+=("${aot%.wasm}.so")
  for out in "${outs[@]}"; do
    if [ ! -f "$out" ] || [ "$(cat "$out.source-sha256" 2>/dev/null)" != "$sum" ]; then
      echo "build-wasm: AOT-compiling $wasm into $out (wasmedgec; minutes)"
      # The output's name picks the form: .wasm the module with a native-code section, .so
      # a shared library.
      tmp=${out%.*}.tmp.${out##*.}
      "$wasmedgec" --optimize="$opt" "$wasm" "$tmp" >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
      mv "$tmp" "$out"
      echo "$sum" >"$out.source-sha256"
    fi
  done
fi
for f in "$wasm" "$aot" "${aot%.wasm}.so"; do
  [ -f "$f" ] || continue
  raw=$(stat -c %s "$f")
  z=$(zstd -19 -q -c "$f" | wc -c)
  echo "build-wasm: $f: $raw bytes, $z bytes zstd -19"
done
