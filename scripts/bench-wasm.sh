#!/usr/bin/env bash
# The wasm32-wasi server's cold start (`make bench-wasm`): exec to the first 200 of
# build/wasm/edgeclass.aot.wasm (GET /healthz, an existing database) beside WasmEdge's own
# example server (../shared/tools/wasmedge/example/server.c, AOT-compiled here: the runtime's
# floor), both under the LLVM-free `wasmedge`, in alternating rounds of the same run, measured
# by tools/bench/coldstart.c; then the native edgeclass the same way. Prints the medians and
# the ratio to the floor (issue 18's target: within 1.5x, and < 10 ms).
#
# Then throughput (wrk, GET /api/v1/courses/{id} with a bearer token, keep-alive) and RSS
# after it, of the AOT module and of the native server with one I/O thread.
#
# Before those, in the same rounds, the CPU time of each start to its first 200
# (tools/bench/cputo200.py), which the load of a shared box hardly moves.
#
# Knobs: BENCH_WASM_RUNS=20 starts per round and server, BENCH_WASM_CPU_RUNS=10 CPU-timed
# starts per round and server, BENCH_WASM_ROUNDS=3,
# BENCH_WASM_DURATION=5 seconds per wrk run, BENCH_WASM_CONNS=16.
# Needs `make wasm` first (the AOT module; minutes) and the native build for the native row.
# With build/wasm/edgeclass.aot.so (EDGECLASS_WASM_AOT_SO=1 make wasm) it also measures the
# shared-library AOT form, beside the example server in the same form.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
RUNS=${BENCH_WASM_RUNS:-20}
RUNS_CPU=${BENCH_WASM_CPU_RUNS:-10}
ROUNDS=${BENCH_WASM_ROUNDS:-3}
DURATION=${BENCH_WASM_DURATION:-5}
CONNS=${BENCH_WASM_CONNS:-16}
tools=${WASMEDGE_DIR:-$root/../shared/tools/wasmedge}
wasmedge=$tools/bin/wasmedge
wasmedgec=$tools/bin/wasmedgec
aot=build/wasm/edgeclass.aot.wasm
for f in "$wasmedge" "$wasmedgec" "$tools/example/server.c"; do
  [ -e "$f" ] || { echo "bench-wasm: $f missing (set WASMEDGE_DIR)" >&2; exit 1; }
done
[ -f "$aot" ] || { echo "bench-wasm: no $aot: run make wasm first" >&2; exit 1; }

out=$root/build/bench-wasm/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

gcc -O2 -o "$work/coldstart" tools/bench/coldstart.c
clang-14 --target=wasm32-wasi --sysroot=/usr -O2 "$tools/example/server.c" -o "$work/server.wasm"
# The same wasmedgec optimization level as our module's (scripts/build-wasm.sh).
opt=--optimize=${EDGECLASS_WASM_AOT_OPT:-z}
"$wasmedgec" "$opt" "$work/server.wasm" "$work/server.aot.wasm" >/dev/null 2>&1
so=build/wasm/edgeclass.aot.so
if [ -f "$so" ]; then
  "$wasmedgec" "$opt" "$work/server.wasm" "$work/server.so" >/dev/null 2>&1
else
  so=""
fi

data=$work/data
mkdir -p "$data"
SECRET=bench-secret-0123456789abcdef
wasm_cmd=()
wasm_args() {  # PORT [MODULE]: the module's command line under wasmedge, into wasm_cmd
  wasm_cmd=("$wasmedge" --dir "$data:$data" --env "EDGECLASS_LISTEN=127.0.0.1:$1"
    --env "EDGECLASS_DATA_DIR=$data" --env "EDGECLASS_JWT_SECRET=$SECRET"
    --env EDGECLASS_LOG_LEVEL=warn "$root/${2:-$aot}" serve)
}
# An existing database: one start creates and migrates it.
port=$(free_port)
wasm_args "$port"
"${wasm_cmd[@]}" >"$out/first-start.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_healthz "http://127.0.0.1:$port/healthz" 3000 || true
# Left running until it checkpointed the WAL (1 s after start-up, src/wasi/serve.cc), as a
# server that ran for a while has: otherwise every measured start would replay the WAL.
for _ in $(seq 300); do
  [ -s "$data/edgeclass.db-wal" ] || break
  sleep 0.1
done
stop_pid "$pid"

native=build/release/edgeclass
echo "bench-wasm: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $RUNS starts x $ROUNDS rounds; results in $out"
# Every start on a fresh port: WasmEdge's example server sets no SO_REUSEADDR, so it cannot
# bind a port its predecessor's connection holds in TIME_WAIT.
cold() {  # NAME ROUND
  local i port
  for i in $(seq "$RUNS"); do
    port=$(free_port)
    case $1 in
      floor) "$work/coldstart" "$port" 1 "$wasmedge" "$work/server.aot.wasm" "$port" ;;
      wasm) wasm_args "$port" && "$work/coldstart" "$port" 1 "${wasm_cmd[@]}" ;;
      floor_so) "$work/coldstart" "$port" 1 "$wasmedge" "$work/server.so" "$port" ;;
      wasm_so) wasm_args "$port" "$so" && "$work/coldstart" "$port" 1 "${wasm_cmd[@]}" ;;
      native) EDGECLASS_LISTEN=127.0.0.1:$port EDGECLASS_DATA_DIR=$data EDGECLASS_JWT_SECRET=$SECRET \
                EDGECLASS_LOG_LEVEL=warn EDGECLASS_ADMIN_LISTEN=127.0.0.1:0 \
                "$work/coldstart" "$port" 1 "$root/$native" serve ;;
    esac | sed -n "s/^run 0: /$1 round $2: run $i: /p"
  done >>"$out/runs.txt"
}
# CPU time from exec to the first 200 (tools/bench/cputo200.py: polled with sleeps, so the
# poller does not compete for the CPU): the figure the box's load hardly moves.
cpu() {  # NAME ROUND
  local i port
  for i in $(seq "$RUNS_CPU"); do
    port=$(free_port)
    case $1 in
      floor) tools/bench/cputo200.py "$port" 1 "$wasmedge" "$work/server.aot.wasm" "$port" ;;
      wasm) wasm_args "$port" && tools/bench/cputo200.py "$port" 1 "${wasm_cmd[@]}" ;;
      native) EDGECLASS_LISTEN=127.0.0.1:$port EDGECLASS_DATA_DIR=$data EDGECLASS_JWT_SECRET=$SECRET \
                EDGECLASS_LOG_LEVEL=warn EDGECLASS_ADMIN_LISTEN=127.0.0.1:0 \
                tools/bench/cputo200.py "$port" 1 "$root/$native" serve ;;
    esac | sed -n "s/^run 0: /cpu_$1 round $2: run $i: /p"
  done >>"$out/runs.txt"
}
for r in $(seq "$ROUNDS"); do
  cpu floor "$r"
  cpu wasm "$r"
  [ -x "$native" ] && cpu native "$r"
  cold floor "$r"
  cold wasm "$r"
  if [ -n "$so" ]; then
    cold floor_so "$r"
    cold wasm_so "$r"
  fi
  [ -x "$native" ] && cold native "$r"
done

# Throughput and RSS: one course, read by its teacher over keep-alive connections.
tok=$(cd tests/api && python3 -c 'import harness; print(harness.token("bench_t", "teacher", secret="'$SECRET'"))')
throughput() {  # NAME PORT PID
  local id
  id=$(curl -sf -X POST -H "Authorization: Bearer $tok" -d '{"title":"Bench"}' \
    "http://127.0.0.1:$2/api/v1/courses" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  if command -v wrk >/dev/null; then
    wrk -t1 -c"$CONNS" -d"${DURATION}s" -H "Authorization: Bearer $tok" \
      "http://127.0.0.1:$2/api/v1/courses/$id" >"$out/wrk-$1.txt" 2>&1 || true
    echo "$1 throughput: $(awk '/Requests\/sec/ {print $2}' "$out/wrk-$1.txt") requests/s (wrk -c$CONNS, ${DURATION}s, GET /api/v1/courses/{id})" >>"$out/throughput.txt"
  fi
  echo "$1 RSS after: $(awk '/VmRSS/ {print $2, $3}' "/proc/$3/status")" >>"$out/throughput.txt"
}
port=$(free_port)
wasm_args "$port"
"${wasm_cmd[@]}" >"$out/wasm-throughput.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_healthz "http://127.0.0.1:$port/healthz" 3000 || true
throughput wasm "$port" "$pid"
stop_pid "$pid"
if [ -x "$native" ]; then
  port=$(free_port)
  EDGECLASS_LISTEN=127.0.0.1:$port EDGECLASS_DATA_DIR=$data EDGECLASS_JWT_SECRET=$SECRET \
    EDGECLASS_LOG_LEVEL=warn EDGECLASS_ADMIN_LISTEN=127.0.0.1:0 EDGECLASS_THREADS=1 \
    "$root/$native" serve >"$out/native-throughput.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_healthz "http://127.0.0.1:$port/healthz" 3000 || true
  throughput native "$port" "$pid"
  stop_pid "$pid"
fi

{
  echo "bench-wasm: load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  cat "$out/throughput.txt"
  for f in build/wasm/edgeclass.wasm "$aot" $so; do
    echo "$f: $(stat -c %s "$f") bytes, $(zstd -19 -q -c "$f" | wc -c) bytes zstd -19"
  done
  python3 - "$out/runs.txt" <<'PY'
import re, statistics, sys
runs = {"floor": [], "wasm": [], "floor_so": [], "wasm_so": [], "native": []}
cpu = {"floor": [], "wasm": [], "native": []}
for line in open(sys.argv[1]):
    m = re.match(r"cpu_(\w+) round \d+: run \d+: ([\d.]+) ms CPU", line)
    if m:
        cpu[m.group(1)].append(float(m.group(2)))
        continue
    m = re.match(r"(\w+) round \d+: run \d+: ([\d.]+) ms", line)
    if m:
        runs[m.group(1)].append(float(m.group(2)))
names = {"floor": "example/server.c (AOT .wasm)", "wasm": "edgeclass.aot.wasm",
         "floor_so": "example/server.c (AOT .so)", "wasm_so": "edgeclass.aot.so",
         "native": "native edgeclass"}
for k, v in runs.items():
    v.sort()
    if v:
        print(f"{names[k]}: {len(v)} starts, exec to first 200: median {statistics.median(v):.2f} ms, "
              f"min {v[0]:.2f}, P90 {v[int(len(v) * 0.9) - 1]:.2f}, max {v[-1]:.2f}")
for k, v in cpu.items():
    v.sort()
    if v:
        print(f"{names[k]}: {len(v)} starts, CPU to first 200: median {statistics.median(v):.2f} ms, "
              f"min {v[0]:.2f}, max {v[-1]:.2f}")
if cpu["floor"] and cpu["wasm"]:
    f, w = statistics.median(cpu["floor"]), statistics.median(cpu["wasm"])
    print(f"CPU to first 200: edgeclass.aot.wasm / example server = {w / f:.2f}x (medians)")
if runs["floor"] and runs["wasm"]:
    f, w = statistics.median(runs["floor"]), statistics.median(runs["wasm"])
    print(f"cold start: edgeclass.aot.wasm / example server = {w / f:.2f}x (medians; target <= 1.5x, < 10 ms)")
if runs["floor_so"] and runs["wasm_so"]:
    f, w = statistics.median(runs["floor_so"]), statistics.median(runs["wasm_so"])
    print(f"cold start: edgeclass.aot.so / example server .so = {w / f:.2f}x; "
          f"/ example .wasm = {w / statistics.median(runs['floor']):.2f}x (medians)")
PY
} | tee "$out/summary.txt"
