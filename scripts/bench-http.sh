#!/usr/bin/env bash
# Issue 17's HTTP figures, in one run on this machine: GET course on edgeclass against nginx
# serving a same-size static body, in alternating rounds (`make bench-http`).
#
#   scripts/bench-http.sh
#
# Per round, for each server: a closed loop (wrk -t1) giving requests/s and server CPU per
# request (read from /proc: all edgeclass threads, the nginx workers), then a fixed rate giving
# the achieved rate and P50/P99/P99.9/max, each line naming the tool that measured it:
#   httpload  bench/httpload.cc (edgeclass-httpload), open loop: every request is due on a fixed
#             schedule and its latency runs from that time (no coordinated omission); it also
#             reports how late it sent (the client's lag) and its own CPU per request;
#   h2load    h2load --h1 --rps (per connection), one thread: latency from its own send, from
#             its per-request log; on this 2-core box it tops out near 35-40k requests/s.
# During the fixed-rate runs the server (all edgeclass threads, the nginx workers) runs on
# SERVER_CPU and the client on CLIENT_CPU, as in make bench-live; restored afterwards.
#
# Knobs (environment):
#   BENCH_THREADS=2     edgeclass I/O threads and nginx workers (same for both)
#   BENCH_ROUNDS=3      alternating rounds (the order of the two servers flips every round)
#   BENCH_DURATION=5    seconds per wrk / h2load run
#   BENCH_CONNS=100     connections (wrk -c, h2load -c)
#   BENCH_RATE=50000    total requests/s of the fixed-rate run
#   BENCH_FIXED_TOOL=httpload   httpload, h2load or "httpload h2load" (both, in that order)
#   BENCH_HTTP_SERVER_CPU=0 BENCH_HTTP_CLIENT_CPU=1   cores for the fixed-rate runs (empty: not pinned)
#   BENCH_HTTP_AUTOGROUP_NICE   e.g. -10: this session's autogroup nice value (see make bench-live;
#                      run under setsid so the bench has a session of its own)
#   HTTPLOAD_BIN       load generator (default build/release/edgeclass-httpload, built here)
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
FIXED_TOOLS=${BENCH_FIXED_TOOL:-httpload}
SERVER_CPU=${BENCH_HTTP_SERVER_CPU-0}
CLIENT_CPU=${BENCH_HTTP_CLIENT_CPU-1}
for tool in $FIXED_TOOLS; do
  case $tool in
    httpload | h2load) ;;
    *) echo "bench-http: BENCH_FIXED_TOOL lists httpload and/or h2load, not '$tool'" >&2; exit 2 ;;
  esac
done
SECRET=bench-secret-0123456789abcdef
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

for tool in wrk nginx python3 curl taskset $FIXED_TOOLS; do
  [ "$tool" = httpload ] && continue
  command -v "$tool" >/dev/null || { echo "bench-http: $tool not found (scripts/install-deps.sh bench)" >&2; exit 1; }
done
if [ -z "${EDGECLASS_BIN:-}" ]; then
  make --no-print-directory build >/dev/null
  EDGECLASS_BIN=build/release/edgeclass
fi
BIN=$(readlink -f "$EDGECLASS_BIN")
if [[ " $FIXED_TOOLS " == *" httpload "* ]] && [ -z "${HTTPLOAD_BIN:-}" ]; then
  cmake --build build/release --target edgeclass-httpload >/dev/null
  HTTPLOAD_BIN=build/release/edgeclass-httpload
fi
HTTPLOAD=$(readlink -f "${HTTPLOAD_BIN:-/nonexistent}")

out=$root/build/bench/http-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh
set_autogroup bench-http BENCH_HTTP_AUTOGROUP_NICE

# --- edgeclass, one course, one enrolled student ---------------------------------------------
SERVER_PORT=$(free_port)
mkdir -p "$work/data"
EDGECLASS_LISTEN=127.0.0.1:$SERVER_PORT EDGECLASS_ADMIN_LISTEN=off EDGECLASS_DATA_DIR=$work/data \
  EDGECLASS_JWT_SECRET=$SECRET EDGECLASS_THREADS=$THREADS EDGECLASS_MEDIA_PORT=0 \
  EDGECLASS_LOG_LEVEL=warn "$BIN" serve >"$out/edgeclass.log" 2>&1 &
SERVER_PID=$!
pids+=("$SERVER_PID")
wait_healthz "http://127.0.0.1:$SERVER_PORT/healthz" 500 0.01 "$SERVER_PID" ||
  { cat "$out/edgeclass.log" >&2; exit 1; }
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

# Every thread of each PID on CPUS.
pin_threads() {
  local cpus=$1 p
  shift
  for p in "$@"; do taskset -a -p -c "$cpus" "$p" >/dev/null; done
}
ALL_CPUS=0-$(($(nproc) - 1))

# Milliseconds every thread of PID... has spent runnable but waiting for a CPU (schedstat).
runqueue_ms() {
  local p ns=0
  for p in "$@"; do
    ns=$((ns + $(cat /proc/"$p"/task/*/schedstat 2>/dev/null | awk '{ s += $2 } END { printf "%.0f", s }')))
  done
  echo $((ns / 1000000))
}

# fixed TOOL NAME URL PID... -> "server_runqueue_ms " and TOOL's result line (h2load_run,
# httpload_run in bench-common.sh), the server's PIDs on SERVER_CPU and the client on
# CLIENT_CPU while it runs.
fixed() {
  local tool=$1 name=$2 url=$3 before result
  shift 3
  if [ -n "$SERVER_CPU" ]; then pin_threads "$SERVER_CPU" "$@"; fi
  before=$(runqueue_ms "$@")
  result=$(FIXED_CLIENT_CPU=$CLIENT_CPU "${tool}_run" "$name" "$url")
  echo "$(($(runqueue_ms "$@") - before)) $result"
  if [ -n "$SERVER_CPU" ]; then pin_threads "$ALL_CPUS" "$@"; fi
}

# One server's fixed-rate figures from fixed's line: "49990 req/s P50 .. P99 .. P99.9 .. max ..
# ms, failed 0", how long the server waited for a CPU and, from httpload, the latency from the
# actual send, the client's lag, CPU per request and wait for a CPU.
describe() {
  printf "%6d req/s P50 %s P99 %s P99.9 %s max %s ms, failed %s; server waited %s ms for a CPU" "$2" \
    "$(ms "$3")" "$(ms "$4")" "$(ms "$5")" "$(ms "$6")" "$7" "$1"
  if [ -n "${8:-}" ]; then
    printf "\n              from the actual send P50 %s P99 %s P99.9 %s ms; client late P99 %s ms;" \
      "$(ms "${10}")" "$(ms "${11}")" "$(ms "${12}")" "$(ms "$8")"
    printf " client CPU %s us/req, waited %s ms for a CPU" "$9" "${13}"
  fi
}

# A run meets the case study's peak when the rate was reached (99 %) and its P99 < 5 ms.
meets() { awk -v rps="$2" -v p99="$4" -v rate="$RATE" 'BEGIN { exit !(rps >= 0.99 * rate && p99 < 5000) }'; }

pinning="not pinned"
[ -n "$SERVER_CPU$CLIENT_CPU" ] && pinning="server on cpu '$SERVER_CPU', client on cpu '$CLIENT_CPU'"
{
  echo "bench-http $(date -u +%FT%TZ), $(nproc) cores, $(uname -r); edgeclass $("$BIN" version 2>/dev/null || echo "?")"
  echo "GET $COURSE_PATH ($ec_size-byte body); $THREADS edgeclass I/O threads, $THREADS nginx workers;" \
    "$CONNS connections, ${DURATION}s runs; fixed rate $RATE/s by $FIXED_TOOLS ($pinning); latencies in ms;" \
    "scheduler group $AUTOGROUP"
} | tee "$out/summary.txt"
ratios=()
declare -A met
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
  {
    echo "round $r (load average $load at its start):"
    printf "  closed loop  edgeclass %7d req/s, %6s us CPU/req | nginx %7d req/s, %6s us CPU/req | ratio %s (CPU ratio %s)\n" \
      "$ec_rps" "$ec_cpu" "$ng_rps" "$ng_cpu" "$ratio" \
      "$(awk -v a="$ec_cpu" -v b="$ng_cpu" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')"
  } | tee -a "$out/summary.txt"
  for tool in $FIXED_TOOLS; do
    # The order of the two servers flips every round here too.
    # shellcheck disable=SC2086
    if [ $((r % 2)) = 1 ]; then
      ef=$(fixed "$tool" "fixed-$tool-ec-$r" "$EC_URL$COURSE_PATH" "$SERVER_PID")
      nf=$(fixed "$tool" "fixed-$tool-ng-$r" "$NG_URL$COURSE_PATH" $NGINX_WORKERS)
    else
      nf=$(fixed "$tool" "fixed-$tool-ng-$r" "$NG_URL$COURSE_PATH" $NGINX_WORKERS)
      ef=$(fixed "$tool" "fixed-$tool-ec-$r" "$EC_URL$COURSE_PATH" "$SERVER_PID")
    fi
    from="from its own send"
    [ "$tool" = httpload ] && from="from the scheduled send"
    # shellcheck disable=SC2086
    {
      echo "  fixed rate by $tool (latency $from), load average $(cut -d' ' -f1 /proc/loadavg) at its end:"
      echo "    edgeclass $(describe $ef)"
      echo "    nginx     $(describe $nf)"
    } | tee -a "$out/summary.txt"
    # shellcheck disable=SC2086
    meets $ef && met[$tool-ec]=$((${met[$tool-ec]:-0} + 1))
    # shellcheck disable=SC2086
    meets $nf && met[$tool-ng]=$((${met[$tool-ng]:-0} + 1))
  done
done
{
  echo "closed-loop ratios (edgeclass/nginx req/s): ${ratios[*]}; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  for tool in $FIXED_TOOLS; do
    echo "P99 < 5 ms at $RATE/s with the rate reached (>= 99 %), by $tool: edgeclass in ${met[$tool-ec]:-0}" \
      "of $ROUNDS rounds, nginx in ${met[$tool-ng]:-0} of $ROUNDS"
  done
} | tee -a "$out/summary.txt"
echo "results in $out"
