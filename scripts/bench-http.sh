#!/usr/bin/env bash
# Issue 17's HTTP figures, in one run on this machine: GET course on edgeclass against nginx
# serving a same-size static body, in alternating rounds (`make bench-http`).
#
#   scripts/bench-http.sh
#
# Per round, for each server: a closed loop (wrk -t1) giving requests/s and server CPU per
# request (read from /proc: all edgeclass threads, the nginx workers), then a fixed rate
# (h2load --h1 --rps) giving P50/P99/P99.9/max from h2load's per-request log (--log-file: one
# line per request with its latency; sorted here, so every percentile is a measured request).
#
# Knobs (environment):
#   BENCH_THREADS=2     edgeclass I/O threads and nginx workers (same for both)
#   BENCH_ROUNDS=3      alternating rounds (the order of the two servers flips every round)
#   BENCH_DURATION=5    seconds per wrk / h2load run
#   BENCH_CONNS=100     connections (wrk -c, h2load -c)
#   BENCH_RATE=50000    total requests/s of the fixed-rate run (h2load --rps per client * -c)
#   EDGECLASS_BIN       server binary (default build/release/edgeclass, built by make build)
# Writes everything to build/bench/http-<timestamp>/ and the summary to summary.txt there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNS:-100}
RATE=${BENCH_RATE:-50000}
SECRET=bench-secret-0123456789abcdef
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

for tool in wrk h2load nginx python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench-http: $tool not found (scripts/install-deps.sh bench)" >&2; exit 1; }
done
if [ -z "${EDGECLASS_BIN:-}" ]; then
  make --no-print-directory build >/dev/null
  EDGECLASS_BIN=build/release/edgeclass
fi
BIN=$(readlink -f "$EDGECLASS_BIN")

out=$root/build/bench/http-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

# --- edgeclass, one course, one enrolled student ---------------------------------------------
SERVER_PORT=$(free_port)
mkdir -p "$work/data"
EDGECLASS_LISTEN=127.0.0.1:$SERVER_PORT EDGECLASS_ADMIN_LISTEN=off EDGECLASS_DATA_DIR=$work/data \
  EDGECLASS_JWT_SECRET=$SECRET EDGECLASS_THREADS=$THREADS EDGECLASS_MEDIA_PORT=0 \
  EDGECLASS_LOG_LEVEL=warn "$BIN" serve >"$out/edgeclass.log" 2>&1 &
SERVER_PID=$!
pids+=("$SERVER_PID")
for _ in $(seq 500); do
  curl -sf -o /dev/null "http://127.0.0.1:$SERVER_PORT/healthz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$out/edgeclass.log" >&2; exit 1; }
  sleep 0.01
done
EC_URL=http://127.0.0.1:$SERVER_PORT
python3 tools/bench/setup.py "$EC_URL" "$SECRET" "$work/setup" 10 1 1 >"$out/setup.log"
COURSE_PATH=$(cat "$work/setup/course_path")
STUDENT_TOKEN=$(cat "$work/setup/student_token")

# --- nginx answering the same path with a same-size body --------------------------------------
start_nginx_peer "$work/nginx" "$COURSE_PATH" /api/v1/courses/ 200 "$work/setup/course.json"
NG_URL=http://127.0.0.1:$NGINX_PORT
ec_size=$(curl -s -H "Authorization: Bearer $STUDENT_TOKEN" "$EC_URL$COURSE_PATH" | wc -c)
ng_size=$(curl -s "$NG_URL$COURSE_PATH" | wc -c)
[ "$ec_size" = "$ng_size" ] || { echo "bench-http: body sizes differ: edgeclass $ec_size, nginx $ng_size" >&2; exit 1; }
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
TICK_US=$((1000000 / $(getconf CLK_TCK)))

cpu_ticks() {  # cpu_ticks PID... -> utime+stime of every thread, in clock ticks
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }  # field KEY "BENCH ..."

# closed NAME URL PID... -> "rps cpu_us_per_req"
closed() {
  local name=$1 url=$2 before after line
  shift 2
  before=$(cpu_ticks "$@")
  BENCH_LUA_DIR=$root/tools/bench BENCH_TOKEN=$STUDENT_TOKEN \
    wrk -t1 -c"$CONNS" -d"${DURATION}s" -s tools/bench/get.lua "$url" >"$out/$name.wrk" 2>&1
  after=$(cpu_ticks "$@")
  line=$(grep '^BENCH ' "$out/$name.wrk") || { cat "$out/$name.wrk" >&2; exit 1; }
  [ "$(field non2xx "$line")" = 0 ] && [ "$(field errors "$line")" = 0 ] ||
    { echo "bench-http: $name had errors: $line" >&2; exit 1; }
  awk -v t=$((after - before)) -v us="$TICK_US" -v n="$(field requests "$line")" -v rps="$(field rps "$line")" \
    'BEGIN { printf "%.0f %.2f\n", rps, (n > 0 ? t * us / n : 0) }'
}

ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

{
  echo "bench-http $(date -u +%FT%TZ), $(nproc) cores, $(uname -r); edgeclass $("$BIN" version 2>/dev/null || echo "?")"
  echo "GET $COURSE_PATH ($ec_size-byte body); $THREADS edgeclass I/O threads, $THREADS nginx workers;" \
    "$CONNS connections, ${DURATION}s runs; fixed rate $RATE/s; latencies in ms"
} | tee "$out/summary.txt"
ratios=()
for r in $(seq "$ROUNDS"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  # shellcheck disable=SC2086
  if [ $((r % 2)) = 1 ]; then
    read -r ec_rps ec_cpu < <(closed "get-ec-$r" "$EC_URL$COURSE_PATH" "$SERVER_PID")
    read -r ng_rps ng_cpu < <(closed "get-ng-$r" "$NG_URL$COURSE_PATH" $NGINX_WORKERS)
  else
    read -r ng_rps ng_cpu < <(closed "get-ng-$r" "$NG_URL$COURSE_PATH" $NGINX_WORKERS)
    read -r ec_rps ec_cpu < <(closed "get-ec-$r" "$EC_URL$COURSE_PATH" "$SERVER_PID")
  fi
  ratio=$(awk -v a="$ec_rps" -v b="$ng_rps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
  ratios+=("$ratio")
  read -r ef_rps ef_50 ef_99 ef_999 ef_max ef_failed < <(h2load_run "fixed-ec-$r" "$EC_URL$COURSE_PATH")
  read -r nf_rps nf_50 nf_99 nf_999 nf_max nf_failed < <(h2load_run "fixed-ng-$r" "$NG_URL$COURSE_PATH")
  {
    echo "round $r (load average $load at its start):"
    printf "  closed loop  edgeclass %7d req/s, %6s us CPU/req | nginx %7d req/s, %6s us CPU/req | ratio %s (CPU ratio %s)\n" \
      "$ec_rps" "$ec_cpu" "$ng_rps" "$ng_cpu" "$ratio" \
      "$(awk -v a="$ec_cpu" -v b="$ng_cpu" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')"
    printf "  fixed rate   edgeclass %7d req/s P50 %s P99 %s P99.9 %s max %s failed %s | nginx %7d req/s P50 %s P99 %s P99.9 %s max %s failed %s\n" \
      "$ef_rps" "$(ms "$ef_50")" "$(ms "$ef_99")" "$(ms "$ef_999")" "$(ms "$ef_max")" "$ef_failed" \
      "$nf_rps" "$(ms "$nf_50")" "$(ms "$nf_99")" "$(ms "$nf_999")" "$(ms "$nf_max")" "$nf_failed"
  } | tee -a "$out/summary.txt"
done
echo "closed-loop ratios (edgeclass/nginx req/s): ${ratios[*]}; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" |
  tee -a "$out/summary.txt"
echo "results in $out"
