#!/usr/bin/env bash
# System calls per GET course, counted over every thread of the server while wrk runs a closed
# loop on keep-alive connections (plain HTTP, or HTTPS with TLS=1): by perf stat's syscall
# tracepoints (default), or by strace -c (COUNTER=strace: also says which calls failed, but
# slows the server so much that fewer reads find nothing).
#
#   bench/get-syscalls.sh [EDGECLASS_BIN]     (default build/release/edgeclass)
#   TLS=0|1 THREADS=1 CONNS=100 DURATION=4 COUNTER=perf|strace
# Prints the answers sent while counting and each system call's count per answer.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
BIN=$(readlink -f "${1:-build/release/edgeclass}")
TLS=${TLS:-0}
THREADS=${THREADS:-1}
CONNS=${CONNS:-100}
DURATION=${DURATION:-4}
SECRET=bench-secret-0123456789abcdef
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "get-syscalls: $tool not found" >&2; exit 1; }
done
out=$root/build/bench/syscalls-get
rm -rf "$out"
mkdir -p "$out"
. scripts/bench-common.sh
mkdir -p "$work/data"
start() {  # start SCHEME [ENV...]
  local scheme=$1
  shift
  PORT=$(free_port)
  env "$@" EDGECLASS_LISTEN=127.0.0.1:$PORT EDGECLASS_ADMIN_LISTEN=off EDGECLASS_DATA_DIR=$work/data \
    EDGECLASS_JWT_SECRET=$SECRET EDGECLASS_THREADS=$THREADS EDGECLASS_MEDIA_PORT=0 \
    EDGECLASS_LOG_LEVEL=warn "$BIN" serve >>"$out/edgeclass.log" 2>&1 &
  PID=$!
  pids+=("$PID")
  wait_healthz "$scheme://127.0.0.1:$PORT/healthz" 500 0.01 "$PID" && return 0
  cat "$out/edgeclass.log" >&2
  exit 1
}
start http
python3 tools/bench/setup.py "http://127.0.0.1:$PORT" "$SECRET" "$work/setup" 10 1 1 >"$out/setup.log"
URL=http://127.0.0.1:$PORT
if [ "$TLS" = 1 ]; then
  stop_pid "$PID"
  "$BIN" cert --self-signed --host 127.0.0.1 --out "$work/tls" >/dev/null
  start https EDGECLASS_TLS_CERT="$work/tls/cert.pem" EDGECLASS_TLS_KEY="$work/tls/key.pem"
  URL=https://127.0.0.1:$PORT
fi
COURSE_PATH=$(cat "$work/setup/course_path")
TOKEN=$(cat "$work/setup/student_token")
# wrk first (its connections and handshakes are made before counting starts), then the count
# on every thread for the middle of the run.
BENCH_LUA_DIR=$root/tools/bench BENCH_TOKEN=$TOKEN \
  wrk -t1 -c"$CONNS" -d"$((DURATION + 3))s" -s tools/bench/get.lua "$URL$COURSE_PATH" >"$out/wrk.txt" 2>&1 &
WRK=$!
pids+=("$WRK")
sleep 2  # connections made and handshakes done before counting
if [ "${COUNTER:-perf}" = perf ] && command -v perf >/dev/null; then
  # perf's syscall tracepoints: counts with little slowdown (strace's stops make the server
  # slow enough that the client's next request is there before each read, hiding failed reads).
  events=syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_epoll_wait
  perf stat -x, -e "$events" -p "$PID" -o "$out/perf.txt" -- sleep "$DURATION" >/dev/null 2>&1
  wait "$WRK" 2>/dev/null || true
  sends=$(awk -F, '$3 ~ /sys_enter_(sendto|write)$/ {s += $1} END {print s + 0}' "$out/perf.txt")
  echo "get-syscalls: $( [ "$TLS" = 1 ] && echo HTTPS || echo plain), $THREADS thread(s), $CONNS connections; perf stat; answers (sends) counted: $sends"
  awk -F, -v n="$sends" '$3 ~ /sys_enter_/ && n > 0 { sub(/.*sys_enter_/, "", $3); printf "  %-14s %7.3f per request\n", $3, $1 / n }' "$out/perf.txt"
  exit 0
fi
strace -c -f -o "$out/strace.txt" -p "$PID" &
ST=$!
sleep 0.3
sleep "$DURATION"
kill -INT "$ST"
wait "$ST" 2>/dev/null || true
wait "$WRK" 2>/dev/null || true
# Requests served while strace was attached: the sendto / write count (one answer, one send).
sends=$(awk '$NF == "sendto" || $NF == "write" {s += $4} END {print s + 0}' "$out/strace.txt")
echo "get-syscalls: $( [ "$TLS" = 1 ] && echo HTTPS || echo plain), $THREADS thread(s), $CONNS connections; strace -c; answers (sends) counted: $sends"
awk -v n="$sends" '$4 ~ /^[0-9]+$/ && $NF != "total" && n > 0 {
  printf "  %-14s %7.3f per request%s\n", $NF, $4 / n, ($5 ~ /^[0-9]+$/ ? sprintf(" (%.3f failed)", $5 / n) : "") }' \
  "$out/strace.txt"
