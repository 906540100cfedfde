#!/usr/bin/env bash
# Runs one wasm32-wasi module (a test, or the server) under a WASI runtime:
#   scripts/wasm-run.sh MODULE.wasm [ARGS...]
#   scripts/wasm-run.sh --which      (prints the runtime it would use, or the SKIP line)
# The runtime: $WASMEDGE if set, else the shared WasmEdge 0.14.1 beside the checkout
# (../shared/tools/wasmedge/bin/wasmedge), else `wasmedge` on PATH, else Node's node:wasi
# ($NODE or node, version 20+; no sockets there, enough for the unit tests). With none of
# them it prints a SKIP line and exits 77 (EDGECLASS_REQUIRE_TOOLS=1: exit 1 instead).
# WASM_RUNTIME=wasmedge or =node asks for that one only (skipping when it is missing).
# The module sees the repository and /tmp at their own paths (WASI preopens), and the
# environment variables named in $WASM_ENV (space separated), plus TMPDIR.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
module=${1:?usage: wasm-run.sh MODULE.wasm [ARGS...] | --which}
shift
tmp=${TMPDIR:-/tmp}

runtime=""
want=${WASM_RUNTIME:-any}
if [ "$want" = node ]; then
  :
elif [ -n "${WASMEDGE:-}" ]; then
  runtime=$WASMEDGE
elif [ -x "$repo/../shared/tools/wasmedge/bin/wasmedge" ]; then
  runtime=$repo/../shared/tools/wasmedge/bin/wasmedge
elif command -v wasmedge >/dev/null 2>&1; then
  runtime=$(command -v wasmedge)
fi

envs=()
for name in TMPDIR ${WASM_ENV:-}; do
  [ -n "${!name:-}" ] && envs+=("$name=${!name}")
done

if [ "$module" = --which ] && [ -n "$runtime" ]; then echo "$runtime"; exit 0; fi
if [ -n "$runtime" ]; then
  args=(--dir "$repo:$repo" --dir "$tmp:$tmp")
  for e in "${envs[@]}"; do args+=(--env "$e"); done
  exec "$runtime" "${args[@]}" "$module" "$@"
fi

node=${NODE:-node}
if [ "$want" != wasmedge ] && command -v "$node" >/dev/null 2>&1 &&
   [ "$("$node" -p 'Number(process.versions.node.split(".")[0]) >= 20' 2>/dev/null)" = true ]; then
  if [ "$module" = --which ]; then echo "$(command -v "$node") (node:wasi)"; exit 0; fi
  exec "$node" --no-warnings - "$module" "$repo" "$tmp" "$@" <<'JS'
const { readFileSync } = require('node:fs');
const { WASI } = require('node:wasi');
const [module, repo, tmp, ...args] = process.argv.slice(2);
const env = {};
for (const e of (process.env.WASM_ENV || '').split(' ').concat(['TMPDIR'])) {
  if (e && process.env[e] !== undefined) env[e] = process.env[e];
}
const wasi = new WASI({ version: 'preview1', args: [module, ...args], env,
                        preopens: { [repo]: repo, [tmp]: tmp }, returnOnExit: true });
WebAssembly.compile(readFileSync(module))
  .then((m) => WebAssembly.instantiate(m, wasi.getImportObject()))
  .then((instance) => { process.exitCode = wasi.start(instance); });
JS
fi

what=$(basename -- "$module")
msg="no WASI runtime${WASM_RUNTIME:+ of kind $WASM_RUNTIME} (set WASMEDGE, or put ../shared/tools/wasmedge beside the checkout, or wasmedge or node 20+ on PATH)"
if [ "${EDGECLASS_REQUIRE_TOOLS:-0}" = 1 ]; then
  echo "FAIL $what: $msg (EDGECLASS_REQUIRE_TOOLS=1)" >&2
  exit 1
fi
echo "SKIP $what: $msg"
exit 77
