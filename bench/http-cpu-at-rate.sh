#!/usr/bin/env bash
# Server CPU per GET course at a fixed rate, two edgeclass binaries side by side (e.g. before and
# after a change), in alternating rounds: each binary serves its own copy of the same setup (one
# course, a student's token) with BENCH_THREADS I/O threads, and edgeclass-httpload sends
# BENCH_RATE requests/s over BENCH_CONNS connections for BENCH_DURATION s to one, then the other
# (the order flips every round). The server runs on SERVER_CPU and the client on CLIENT_CPU, as
# in make bench-http. Per run: server CPU (user + system, all threads, from /proc) per completed
# request, the rate reached and P50/P99/P99.9 from the actual send.
#
#   bench/http-cpu-at-rate.sh BIN_A BIN_B       (run inside flock /work/bench.lock)
#   BENCH_ROUNDS=3 BENCH_RATE=50000 BENCH_DURATION=5 BENCH_CONNS=100 BENCH_THREADS=2
#   BENCH_HTTP_SERVER_CPU=0 BENCH_HTTP_CLIENT_CPU=1 HTTPLOAD_BIN=build/release/edgeclass-httpload
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 BIN_A BIN_B" >&2; exit 2; }
ROUNDS=${BENCH_ROUNDS:-3}
RATE=${BENCH_RATE:-50000}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNS:-100}
THREADS=${BENCH_THREADS:-2}
SERVER_CPU=${BENCH_HTTP_SERVER_CPU-0}
CLIENT_CPU=${BENCH_HTTP_CLIENT_CPU-1}
HTTPLOAD=$(readlink -f "${HTTPLOAD_BIN:-build/release/edgeclass-httpload}")
[ -x "$HTTPLOAD" ] || { echo "no $HTTPLOAD (cmake --build build/release --target edgeclass-httpload)" >&2; exit 1; }
SECRET=bench-secret-0123456789abcdef
ulimit -n 65536 2>/dev/null || true
. scripts/bench-common.sh
TICK_US=$((1000000 / $(getconf CLK_TCK)))
declare -A PORT PID URL TOKEN
for k in A B; do
  bin=$(readlink -f "$([ $k = A ] && echo "$1" || echo "$2")")
  PORT[$k]=$(free_port)
  mkdir -p "$work/$k/data"
  EDGECLASS_LISTEN=127.0.0.1:${PORT[$k]} EDGECLASS_ADMIN_LISTEN=off EDGECLASS_DATA_DIR=$work/$k/data \
    EDGECLASS_JWT_SECRET=$SECRET EDGECLASS_THREADS=$THREADS EDGECLASS_MEDIA_PORT=0 \
    EDGECLASS_LOG_LEVEL=warn "$bin" serve >"$work/$k/log" 2>&1 &
  PID[$k]=$!
  pids+=("${PID[$k]}")
  wait_healthz "http://127.0.0.1:${PORT[$k]}/healthz" || true
  python3 tools/bench/setup.py "http://127.0.0.1:${PORT[$k]}" "$SECRET" "$work/$k/setup" 10 1 1 >/dev/null 2>&1
  URL[$k]=http://127.0.0.1:${PORT[$k]}$(cat "$work/$k/setup/course_path")
  TOKEN[$k]=$(cat "$work/$k/setup/student_token")
  echo "$k: $bin"
done
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
run() {  # run K ROUND
  local k=$1 before after line
  [ -n "$SERVER_CPU" ] && taskset -a -p -c "$SERVER_CPU" "${PID[$k]}" >/dev/null
  before=$(ticks "${PID[$k]}")
  line=$("$HTTPLOAD" --url "${URL[$k]}" --rate "$RATE" --duration "$DURATION" --connections "$CONNS" \
    ${CLIENT_CPU:+--cpus "$CLIENT_CPU"} --header "Authorization: Bearer ${TOKEN[$k]}" 2>&1 | grep '^HTTPLOAD ')
  after=$(ticks "${PID[$k]}")
  [ -n "$SERVER_CPU" ] && taskset -a -p -c "0-$(($(nproc) - 1))" "${PID[$k]}" >/dev/null
  awk -v k="$k" -v r="$2" -v t=$((after - before)) -v us="$TICK_US" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
    END { printf "round %s %s: %6d req/s reached, server CPU %.2f us/req; from the actual send P50 %.2f P99 %.2f P99.9 %.2f ms; failed %d; load %s\n",
      r, k, f["achieved"], t * us / f["completed"], f["sent_p50_us"] / 1000, f["sent_p99_us"] / 1000,
      f["sent_p999_us"] / 1000, f["errors"] + f["non2xx"], load }' <<<"$line"
}
echo "fixed rate $RATE/s, $CONNS connections, ${DURATION}s, $THREADS I/O threads; server on cpu '$SERVER_CPU', client on cpu '$CLIENT_CPU'; $(cat /proc/self/autogroup 2>/dev/null || true)"
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run A "$r"; run B "$r"; else run B "$r"; run A "$r"; fi
done
