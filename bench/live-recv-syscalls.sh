#!/usr/bin/env bash
# System calls and server CPU per message the live socket receives: N students of one live
# session each send R pings a second ({"type":"ping"}, answered with a pong) for D seconds, over
# ws:// or wss:// (TLS=1); perf stat counts the server's system calls on their tracepoints over
# the phase (bench/fanout/fanout-bench.mjs --ping-rate, --perf-syscalls). Alternating runs of
# each binary given, fresh server per run; the server on SERVER_CPU, the client on CLIENT_CPU.
#
#   bench/live-recv-syscalls.sh [EDGECLASS_BIN ...]      (default build/release/edgeclass)
#   TLS=0|1 STUDENTS=500 RATE=10 DURATION=5 RUNS=1 THREADS=1 SERVER_CPU=0 CLIENT_CPU=1
# Prints, per run, pings sent, pongs, server CPU per received message and each system call per
# received message. Run it under the bench lock (docs/operations.md, "Benchmarks").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bins=()
for b in "${@:-build/release/edgeclass}"; do bins+=("$(readlink -f "$b")"); done
TLS=${TLS:-0}
STUDENTS=${STUDENTS:-500}
RATE=${RATE:-10}
DURATION=${DURATION:-5}
RUNS=${RUNS:-1}
THREADS=${THREADS:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SECRET=bench-secret-0123456789abcdef
for tool in node npm perf curl taskset; do
  command -v "$tool" >/dev/null || { echo "live-recv-syscalls: $tool not found" >&2; exit 1; }
done
[ -d bench/fanout/node_modules/ws ] || (cd bench/fanout && npm install --no-audit --no-fund --silent)
out=$root/build/bench/live-recv-syscalls
mkdir -p "$out"
. scripts/bench-common.sh
set_autogroup live-recv-syscalls BENCH_AUTOGROUP_NICE
scheme=http
tls_env=()
if [ "$TLS" = 1 ]; then
  "${bins[0]}" cert --self-signed --host 127.0.0.1 --out "$work/tls" >/dev/null
  scheme=https
  tls_env=(EDGECLASS_TLS_CERT="$work/tls/cert.pem" EDGECLASS_TLS_KEY="$work/tls/key.pem")
fi
echo "live-recv-syscalls $(date -u +%FT%TZ): $STUDENTS students x $RATE pings/s for $DURATION s," \
  "$([ "$TLS" = 1 ] && echo wss || echo ws), $THREADS I/O thread(s), server on cpu $SERVER_CPU," \
  "client on cpu $CLIENT_CPU, $AUTOGROUP, load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$RUNS"); do
  for bin in "${bins[@]}"; do
    port=$(free_port)
    data=$work/data-$run-$RANDOM
    mkdir -p "$data"
    env "${tls_env[@]}" EDGECLASS_LISTEN=127.0.0.1:$port EDGECLASS_ADMIN_LISTEN=off \
      EDGECLASS_DATA_DIR="$data" EDGECLASS_JWT_SECRET=$SECRET EDGECLASS_THREADS="$THREADS" \
      EDGECLASS_MEDIA_PORT=0 MAX_STUDENTS=100000 EDGECLASS_LOG_LEVEL=warn \
      taskset -c "$SERVER_CPU" "$bin" serve >>"$out/edgeclass.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_healthz "$scheme://127.0.0.1:$port/healthz" 500 0.02 || true
    echo "== run $run: $bin"
    NODE_TLS_REJECT_UNAUTHORIZED=0 taskset -c "$CLIENT_CPU" node --no-warnings \
      bench/fanout/fanout-bench.mjs --target edgeclass --url "$scheme://127.0.0.1:$port" \
      --secret "$SECRET" --students "$STUDENTS" --messages 0 --ping-rate "$RATE" \
      --ping-s "$DURATION" --pid "$pid" --perf-syscalls "$out/perf-$run-$port.txt" \
      --connect-concurrency 20 2>&1 | grep -E "pings:|system calls|connect:|FATAL" || true
    stop_pid "$pid"
  done
done
