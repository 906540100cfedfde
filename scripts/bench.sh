#!/usr/bin/env bash
# HTTP benchmarks of the real server against nginx serving a same-size static body, in one
# run on this machine, plus cold start, idle RSS, binary and image size.
#
#   scripts/bench.sh            (make bench)
#
# Knobs (environment):
#   BENCH_THREADS=1     edgeclass I/O threads and nginx workers (same for both)
#   BENCH_DURATION=10   seconds per wrk / h2load run
#   BENCH_CONNS=100     connections (wrk -c, h2load -c)
#   BENCH_RATE=20000    total requests/s of the fixed-rate run (h2load --rps per client * -c)
#   BENCH_STUDENTS=4000 BENCH_QUIZZES=20 BENCH_QUESTIONS=10
#   BENCH_ANSWER_CONNS=1000  connections of the answers run (students answering at once)
#                       answers work list: every POST is a new (student, quiz, question)
#   BENCH_COLD_RUNS=20  cold start runs (median reported)
#   EDGECLASS_BIN       server binary (default build/release/edgeclass, built by make build)
# Writes everything to build/bench/<timestamp>/ and the summary to summary.txt there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

THREADS=${BENCH_THREADS:-1}
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-100}
RATE=${BENCH_RATE:-20000}
STUDENTS=${BENCH_STUDENTS:-4000}
QUIZZES=${BENCH_QUIZZES:-20}
QUESTIONS=${BENCH_QUESTIONS:-10}
ANSWER_CONNS=${BENCH_ANSWER_CONNS:-1000}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
COLD_RUNS=${BENCH_COLD_RUNS:-20}
SECRET=bench-secret-0123456789abcdef

for tool in wrk h2load nginx gcc python3 curl strip; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (scripts/install-deps.sh bench)" >&2; exit 1; }
done
if [ -z "${EDGECLASS_BIN:-}" ]; then
  make --no-print-directory build >/dev/null
  EDGECLASS_BIN=build/release/edgeclass
fi
BIN=$(readlink -f "$EDGECLASS_BIN")

out=$root/build/bench/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

# Starts edgeclass on a free port with DATA_DIR; sets SERVER_PID and SERVER_PORT.
start_edgeclass() {
  local data=$1 log=$2
  SERVER_PORT=$(free_port)
  EDGECLASS_LISTEN=127.0.0.1:$SERVER_PORT EDGECLASS_ADMIN_LISTEN=off EDGECLASS_DATA_DIR=$data \
    EDGECLASS_JWT_SECRET=$SECRET EDGECLASS_THREADS=$THREADS MAX_STUDENTS=100000 \
    EDGECLASS_LOG_LEVEL=warn "$BIN" serve >"$log" 2>&1 &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  wait_healthz "http://127.0.0.1:$SERVER_PORT/healthz" 500 0.01 "$SERVER_PID" && return 0
  echo "bench: edgeclass did not start:" >&2
  cat "$log" >&2
  exit 1
}

# wrk run: wrk_run NAME URL SCRIPT -> the BENCH line in $out/NAME.wrk
wrk_run() {
  local name=$1 url=$2 script=$3
  BENCH_LUA_DIR=$root/tools/bench BENCH_WRK_THREADS=1 \
    wrk -t1 -c"${RUN_CONNS:-$CONNS}" -d"${DURATION}s" --latency -s "$script" "$url" >"$out/$name.wrk" 2>&1
  grep '^BENCH ' "$out/$name.wrk" || { echo "bench: wrk $name failed:" >&2; cat "$out/$name.wrk" >&2; exit 1; }
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }  # field KEY "BENCH ..."

ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

echo "bench: $(nproc) cores, $THREADS server thread(s), $CONNS connections, ${DURATION}s runs; results in $out"

# --- edgeclass with data -------------------------------------------------------------------
data=$work/data
mkdir -p "$data"
start_edgeclass "$data" "$out/edgeclass.log"
EC_URL=http://127.0.0.1:$SERVER_PORT
python3 tools/bench/setup.py "$EC_URL" "$SECRET" "$work/setup" "$STUDENTS" "$QUIZZES" "$QUESTIONS"
COURSE_PATH=$(cat "$work/setup/course_path")
STUDENT_TOKEN=$(cat "$work/setup/student_token")
export BENCH_TOKEN=$STUDENT_TOKEN BENCH_ANSWERS=$work/setup/answers.txt

# --- nginx with same-size bodies -------------------------------------------------------------
start_nginx_peer "$work/nginx" "$COURSE_PATH" \
  /api/v1/courses/ 200 "$work/setup/course.json" /api/v1/quizzes/ 201 "$work/setup/answer.json"
ec_size=$(curl -s -H "Authorization: Bearer $STUDENT_TOKEN" "$EC_URL$COURSE_PATH" | wc -c)
ng_size=$(curl -s "http://127.0.0.1:$NGINX_PORT$COURSE_PATH" | wc -c)
[ "$ec_size" = "$ng_size" ] || { echo "bench: body sizes differ: edgeclass $ec_size, nginx $ng_size" >&2; exit 1; }

# CPU seconds the server used, read from /proc (all threads; nginx: its workers). Divided by
# the requests served this gives CPU per request, which the shared box's noise affects far
# less than requests/s: the load generator competes for the same two cores.
cpu_ticks() {  # cpu_ticks PID... -> utime+stime in clock ticks
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# measured_run NAME URL SCRIPT PID... -> the BENCH line plus cpu_us_per_req=...
measured_run() {
  local name=$1 url=$2 script=$3
  shift 3
  local before after line
  before=$(cpu_ticks "$@")
  line=$(wrk_run "$name" "$url" "$script")
  after=$(cpu_ticks "$@")
  echo "$line cpu_us_per_req=$(awk -v t=$((after - before)) -v us="$TICK_US" -v n="$(field requests "$line")" \
    'BEGIN { printf "%.1f", (n > 0 ? t * us / n : 0) }')"
}

# --- closed loop (wrk) -------------------------------------------------------------------------
echo "bench: GET $COURSE_PATH (body $ec_size bytes)"
ec_get=$(measured_run get-edgeclass "$EC_URL$COURSE_PATH" tools/bench/get.lua "$SERVER_PID")
# shellcheck disable=SC2086
ng_get=$(measured_run get-nginx "http://127.0.0.1:$NGINX_PORT$COURSE_PATH" tools/bench/get.lua $NGINX_WORKERS)
echo "bench: POST /api/v1/quizzes/{id}/answers ($((STUDENTS * QUIZZES * QUESTIONS)) distinct answers available)"
# A class answering at once is many students in flight: group commit turns that concurrency
# into throughput (one fsync per group), so this run uses ANSWER_CONNS connections.
ec_ans=$(RUN_CONNS=$ANSWER_CONNS measured_run answers-edgeclass "$EC_URL" tools/bench/answers.lua "$SERVER_PID")
# shellcheck disable=SC2086
ng_ans=$(RUN_CONNS=$ANSWER_CONNS measured_run answers-nginx "http://127.0.0.1:$NGINX_PORT" tools/bench/answers.lua $NGINX_WORKERS)

# --- fixed rate (h2load) -----------------------------------------------------------------------
echo "bench: GET at a fixed $RATE requests/s"
read -r ec_fr_rps ec_fr_p50 ec_fr_p99 ec_fr_p999 _ ec_fr_failed < <(h2load_run fixed-edgeclass "$EC_URL$COURSE_PATH")
read -r ng_fr_rps ng_fr_p50 ng_fr_p99 ng_fr_p999 _ ng_fr_failed < <(h2load_run fixed-nginx "http://127.0.0.1:$NGINX_PORT$COURSE_PATH")

loaded_rss_kib=$(awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")
stop_pid "$NGINX_PID"
stop_pid "$SERVER_PID"

# --- cold start, idle RSS ------------------------------------------------------------------------
gcc -O2 -o "$work/coldstart" tools/bench/coldstart.c
COLD_PORT=$(free_port)
cold=$(EDGECLASS_LISTEN=127.0.0.1:$COLD_PORT EDGECLASS_ADMIN_LISTEN=127.0.0.1:0 EDGECLASS_DATA_DIR=$data EDGECLASS_JWT_SECRET=$SECRET \
  EDGECLASS_THREADS=$THREADS EDGECLASS_LOG_LEVEL=warn EDGECLASS_MEDIA_PORT=0 \
  "$work/coldstart" "$COLD_PORT" "$COLD_RUNS" "$BIN" serve | tee "$out/coldstart.txt" | tail -1)
cold_median=$(sed -n 's/.*median_ms=\([^ ]*\).*/\1/p' <<<"$cold")

start_edgeclass "$data" "$out/edgeclass-idle.log"
sleep 1
idle_rss_kib=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
stop_pid "$SERVER_PID"

# --- sizes -----------------------------------------------------------------------------------------
strip --strip-all -o "$work/edgeclass.stripped" "$BIN"
bin_bytes=$(stat -c %s "$work/edgeclass.stripped")
image="n/a (buildah not installed: make image)"
if command -v buildah >/dev/null; then
  if img=$(EDGECLASS_BINARY=$BIN scripts/image.sh 2>&1); then
    image=$(sed -n 's/.*pulled by a node: *//p' <<<"$img")
  else
    image="image build failed: $(tail -1 <<<"$img")"
  fi
fi

# --- report ---------------------------------------------------------------------------------------
row() {  # row LABEL EDGECLASS_BENCH_LINE NGINX_BENCH_LINE
  local e=$2 n=$3
  printf "%-26s %10.0f %9s %9s %9s %8s | %10.0f %9s %9s %9s | %5.2f\n" "$1" \
    "$(field rps "$e")" "$(ms "$(field p50_us "$e")")" "$(ms "$(field p99_us "$e")")" \
    "$(ms "$(field p999_us "$e")")" "$(( $(field non2xx "$e") + $(field errors "$e") ))" \
    "$(field rps "$n")" "$(ms "$(field p50_us "$n")")" "$(ms "$(field p99_us "$n")")" \
    "$(ms "$(field p999_us "$n")")" \
    "$(awk -v a="$(field rps "$e")" -v b="$(field rps "$n")" 'BEGIN { print (b > 0 ? a / b : 0) }')"
}
{
  echo "edgeclass benchmark $(date -u +%FT%TZ), $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "server threads = nginx workers = $THREADS; wrk -t1 -c$CONNS -d${DURATION}s; latency in ms"
  echo "edgeclass: $("$BIN" version 2>/dev/null || echo "?")"
  echo
  printf "%-26s %10s %9s %9s %9s %8s | %10s %9s %9s %9s | %5s\n" "closed loop (wrk)" \
    "req/s" "P50" "P99" "P99.9" "errors" "nginx r/s" "P50" "P99" "P99.9" "ratio"
  row "GET /api/v1/courses/{id}" "$ec_get" "$ng_get"
  row "POST .../answers" "$ec_ans" "$ng_ans"
  echo
  echo "server CPU per request (all threads; us): GET edgeclass $(field cpu_us_per_req "$ec_get")," \
    "nginx $(field cpu_us_per_req "$ng_get"); answers edgeclass $(field cpu_us_per_req "$ec_ans")" \
    "(incl. the writer thread), nginx static $(field cpu_us_per_req "$ng_ans")"
  if [ "$(field exhausted "$ec_ans")" != "0" ]; then
    echo "  WARNING: the answers work list ran out: $(field exhausted "$ec_ans") of $(field requests "$ec_ans")" \
      "edgeclass requests were idempotent repeats; raise BENCH_STUDENTS/BENCH_QUIZZES/BENCH_QUESTIONS"
  fi
  echo
  printf "%-26s %10s %9s %9s %9s %8s | %10s %9s %9s %9s\n" "fixed rate (h2load --rps)" \
    "req/s" "P50" "P99" "P99.9" "failed" "nginx r/s" "P50" "P99" "P99.9"
  printf "%-26s %10s %9s %9s %9s %8s | %10s %9s %9s %9s\n" "GET at $RATE/s" \
    "$ec_fr_rps" "$(ms "$ec_fr_p50")" "$(ms "$ec_fr_p99")" "$(ms "$ec_fr_p999")" "$ec_fr_failed" \
    "$ng_fr_rps" "$(ms "$ng_fr_p50")" "$(ms "$ng_fr_p99")" "$(ms "$ng_fr_p999")"
  echo
  echo "cold start (exec to first 200 from /healthz, existing DB, median of $COLD_RUNS): ${cold_median} ms"
  echo "idle RSS: $((idle_rss_kib / 1024)) MiB ($idle_rss_kib KiB); peak RSS under the load above: $((loaded_rss_kib / 1024)) MiB"
  echo "stripped static binary: $(awk -v b="$bin_bytes" 'BEGIN { printf "%.2f MB (%d bytes)", b / 1e6, b }')"
  echo "compressed image (pulled by a node): $image"
} | tee "$out/summary.txt"
