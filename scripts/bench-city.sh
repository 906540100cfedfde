#!/usr/bin/env bash
# make bench-city: replicas on a real redis-server, each with one I/O thread.
# REST, with wrk over loopback (two replicas):
#   - a course read on its home replica (SQLite + the per-thread view cache) versus the same
#     read on the other replica (the Redis read cache), in requests/s, latency and CPU
#     microseconds per request of the serving replica (and of redis-server);
#   - a write (PATCH of the course) on the home versus forwarded from the other replica.
# Live (BENCH_CITY_LIVE=1, the default): one class of BENCH_CITY_STUDENTS (3000) students
# spread evenly over three replicas (the teacher on the course's home, a third of the students
# there, the rest relayed by the two others) beside BENCH_CITY_ONE (1000) students on one
# replica, with `edgeclass-loadtest live` (bench/loadtest_live.cc; BENCH_CLIENT_THREADS reader
# threads, 2): chat delivery delay (BENCH_CITY_MESSAGES=200 messages at BENCH_CITY_RATE=20/s
# from the teacher, every delivery checked, delay from the teacher's send to each student's
# receive) and the quiz (opening, answer acknowledgement, live results), P50/P99, the CPU of
# all replicas and Redis per delivery, and the run-queue wait of servers and client.
# An edge's fan-out (BENCH_CITY_EDGE=1000 students, 0: skipped): one class whose students are
# all on a fourth replica with BENCH_CITY_EDGE_THREADS (2) I/O threads, the teacher on the
# course's home: the edge's CPU per delivery and the busiest thread's share of the edge's CPU
# during the chat ("top thread"; from /proc/<pid>/task/*/stat before and after the chat), with
# the same chat. BENCH_CITY_EDGE_ONLY=1 runs only that case of the live part.
# BENCH_CITY_CLIENT=node runs the earlier Node client (bench/fanout/fanout-bench.mjs; needs
# node and npm) instead: one thread parsing JSON per frame, it costs the box about three times
# the CPU per delivery and was most of the delay it measured. BENCH_CITY_REST=0 skips wrk.
# BENCH_SERVER_CPUS / BENCH_CLIENT_CPUS (taskset lists, e.g. 0 and 1): pin the replicas and
# Redis, and the load clients (wrk, the live client), apart. Unpinned is the default: on this
# 2-core box neither was clearly better once the client was cheap (docs/design.md).
# Results in build/bench/city-<timestamp>/summary.txt. Not part of `make test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BIN=${EDGECLASS_BIN:-build/release/edgeclass}
DURATION=${BENCH_DURATION:-8}
CONNS=${BENCH_CONNECTIONS:-32}
for tool in wrk redis-server python3; do
  command -v "$tool" >/dev/null || { echo "bench-city: $tool not found (scripts/install-deps.sh bench)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench-city: no $BIN (cmake --build build/release --target edgeclass)" >&2; exit 1; }
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh
# BENCH_CITY_AUTOGROUP_NICE (e.g. -10): this session's autogroup nice value (run under setsid).
set_autogroup bench-city BENCH_CITY_AUTOGROUP_NICE
out=$root/build/bench/city-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
SECRET=bench-secret-0123456789abcdef
server_pin=() client_pin=()
[ -n "${BENCH_SERVER_CPUS:-}" ] && server_pin=(taskset -c "$BENCH_SERVER_CPUS")
[ -n "${BENCH_CLIENT_CPUS:-}" ] && client_pin=(taskset -c "$BENCH_CLIENT_CPUS")

rport=$(free_port)
"${server_pin[@]}" redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >"$out/redis.log" 2>&1 &
rpid=$!
pids+=("$rpid")
start_replica() {  # name port [threads]; prints the pid (run in $(...): the caller adds it to pids)
  EDGECLASS_LISTEN=127.0.0.1:$2 EDGECLASS_DATA_DIR=$work/$1 EDGECLASS_JWT_SECRET=$SECRET \
    EDGECLASS_THREADS=${3:-1} EDGECLASS_MEDIA_PORT=0 EDGECLASS_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn} EDGECLASS_ADMIN_LISTEN=off \
    MAX_STUDENTS=100000 \
    EDGECLASS_REDIS_URL=redis://127.0.0.1:$rport EDGECLASS_REPLICA_ID=$1 \
    "${server_pin[@]}" "$BIN" serve >"$out/$1.log" 2>&1 &
  echo $!
}
pa=$(free_port); pb=$(free_port)
# (A pids+= inside start_replica would be lost with the $(...) subshell, and cleanup would
# leave the replicas running: it did, until 2026-12-07.)
apid=$(start_replica a "$pa")
pids+=("$apid")
bpid=$(start_replica b "$pb")
pids+=("$bpid")
for p in $pa $pb; do
  wait_healthz "http://127.0.0.1:$p/healthz" 100 0.05 || true
done
sleep 0.5

tok=$(cd tests/api && python3 -c "import harness; harness.SECRET='$SECRET'; print(harness.token('t1','teacher', secret='$SECRET'))")
course=$(curl -sf -XPOST "http://127.0.0.1:$pa/api/v1/courses" -H "Authorization: Bearer $tok" \
  -d '{"title":"Bench","status":"active"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# Passes the load client's output through; from its "connect:" line to its "CPU during the chat"
# line (the chat), the CPU ticks of each thread of PID go to FILE: "<tid> <ticks> <name>".
threads_during_chat() {  # pid file
  local line before="" t stat f
  snap() {
    for t in /proc/"$1"/task/*; do
      read -r stat <"$t/stat" 2>/dev/null || continue
      read -ra f <<<"${stat##*) }"  # f[11] utime, f[12] stime
      echo "${t##*/} $((f[11] + f[12])) $(tr ' ' _ <"$t/comm")"
    done
  }
  while IFS= read -r line; do
    printf '%s\n' "$line"
    if [ -z "$before" ] && [[ $line == *connect:* ]]; then
      before=$(snap "$1")
    elif [ -n "$before" ] && [[ $line == *"CPU during the chat"* ]]; then
      join <(echo "$before" | sort) <(snap "$1" | sort) | awk '{ print $1, $4 - $2, $3 }' >"$2"
      before=""
    fi
  done
}

cpu_us() {  # pid -> utime+stime in microseconds
  awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)*1000000/hz}' "/proc/$1/stat"
}
cat >"$work/patch.lua" <<LUA
wrk.method = "PATCH"
wrk.body = '{"description":"bench"}'
wrk.headers["Authorization"] = "Bearer $tok"
wrk.headers["Content-Type"] = "application/json"
LUA
cat >"$work/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $tok"
LUA

run() {  # name port serving-pid script
  local before redis_before after redis_after
  before=$(cpu_us "$3"); redis_before=$(cpu_us "$rpid")
  "${client_pin[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$4" "http://127.0.0.1:$2/api/v1/courses/$course" >"$out/$1.wrk"
  after=$(cpu_us "$3"); redis_after=$(cpu_us "$rpid")
  python3 - "$1" "$out/$1.wrk" "$before" "$after" "$redis_before" "$redis_after" <<'PY' | tee -a "$out/summary.txt"
import re, sys
name, path, b, a, rb, ra = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
text = open(path).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
reqs = int(re.search(r"(\d+) requests in", text).group(1))
# The latency distribution's lines (not a "+/- Stdev" column that happens to end in 50%).
p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)
p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{name:24s} {rps:9.0f} req/s  p50 {p50:>8s}  p99 {p99:>8s}  replica CPU {(a-b)/reqs:6.1f} us/req"
      f"  redis CPU {(ra-rb)/reqs:5.1f} us/req" + (f"  NON-2XX {non2xx.group(1)}" if non2xx else ""))
PY
}
echo "bench-city: $(nproc) cores, 1 I/O thread per replica, $CONNS connections, ${DURATION}s each," \
  "servers on CPUs ${BENCH_SERVER_CPUS:-any}, clients on ${BENCH_CLIENT_CPUS:-any}," \
  "load $(cut -d' ' -f1-3 /proc/loadavg), autogroup: $AUTOGROUP" | tee "$out/summary.txt"
if [ "${BENCH_CITY_REST:-1}" = 1 ]; then
  curl -sf "http://127.0.0.1:$pb/api/v1/courses/$course" -H "Authorization: Bearer $tok" >/dev/null  # warm the cache
  run read_home "$pa" "$apid" "$work/get.lua"
  run read_other_replica "$pb" "$bpid" "$work/get.lua"
  run write_home "$pa" "$apid" "$work/patch.lua"
  run write_forwarded "$pb" "$bpid" "$work/patch.lua"
fi

if [ "${BENCH_CITY_LIVE:-1}" = 1 ]; then
  CLIENT=${BENCH_CITY_CLIENT:-cpp}
  case $CLIENT in
    cpp)
      if [ -z "${LOADTEST_BIN:-}" ]; then  # `make build` builds only the server
        cmake --build build/release --target edgeclass-loadtest >/dev/null
      fi
      LOADTEST=${LOADTEST_BIN:-build/release/edgeclass-loadtest}
      [ -x "$LOADTEST" ] || { echo "bench-city: no $LOADTEST (cmake --build build/release --target edgeclass-loadtest)" >&2; exit 1; } ;;
    node)
      for tool in node npm; do
        command -v "$tool" >/dev/null || { echo "bench-city: $tool not found (live part)" >&2; exit 1; }
      done
      [ -d bench/fanout/node_modules/ws ] || (cd bench/fanout && npm install --no-audit --no-fund --silent) ;;
    *) echo "bench-city: BENCH_CITY_CLIENT is cpp or node, not $CLIENT" >&2; exit 2 ;;
  esac
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  STUDENTS=${BENCH_CITY_STUDENTS:-3000}
  ONE=${BENCH_CITY_ONE:-1000}
  MESSAGES=${BENCH_CITY_MESSAGES:-200}
  RATE=${BENCH_CITY_RATE:-20}
  CLIENT_THREADS=${BENCH_CLIENT_THREADS:-2}
  pc=$(free_port)
  cpid=$(start_replica c "$pc")
  pids+=("$cpid")
  wait_healthz "http://127.0.0.1:$pc/healthz" 100 0.05 || true
  sleep 1
  if [ "$CLIENT" = cpp ]; then
    desc="edgeclass-loadtest live (C++, $CLIENT_THREADS reader threads)"
  else
    desc="bench/fanout/fanout-bench.mjs (Node, one thread)"
  fi
  echo "live: load client $desc, $MESSAGES chat messages at $RATE/s, load $(cut -d' ' -f1-3 /proc/loadavg)" \
    | tee -a "$out/summary.txt"
  live() {  # label pids ws-urls students [teacher-url [pid whose threads to watch]]
    if [ "$CLIENT" = cpp ]; then
      local teacher=() watch=cat
      [ -n "${5:-}" ] && teacher=(--teacher-url "$5")
      [ -n "${6:-}" ] && watch="threads_during_chat $6 $out/$1.threads"
      "${client_pin[@]}" "$LOADTEST" live --port "$pa" --secret "$SECRET" --ws-urls "$3" \
        --students "$4" --messages "$MESSAGES" --rate "$RATE" --threads "$CLIENT_THREADS" \
        "${teacher[@]}" --pid "$2" --json "$out/$1.json" --label "$1" 2>&1 | $watch >"$out/$1.log" || true
    else
      "${client_pin[@]}" node bench/fanout/fanout-bench.mjs --target edgeclass --url "http://127.0.0.1:$pa" \
        --ws-urls "$3" --secret "$SECRET" --students "$4" --messages "$MESSAGES" --rate "$RATE" \
        --pid "$2" --quiz --json "$out/$1.json" --label "$1" >"$out/$1.log" 2>&1 || true
    fi
    python3 - "$1" "$out/$1.json" "$out/$1.threads" <<'PY' | tee -a "$out/summary.txt"
import json, os, sys
name, path, threads = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    r = json.load(open(path))
except Exception as e:  # noqa: BLE001
    print(f"{name:24s} no result ({e}); see {path[:-5]}.log"); sys.exit(0)
if r.get("error"):
    print(f"{name:24s} FAILED: {r['error']}"); sys.exit(0)
def g(d, k):
    v = d.get(k)
    return f"{v:.1f}" if isinstance(v, (int, float)) else "-"
print(f"{name:24s} connected {r.get('connected')}/{r.get('students')}, chat delivered "
      f"{r.get('delivered')}/{r.get('expected')} P50 {g(r, 'p50_ms')} ms P99 {g(r, 'p99_ms')} ms"
      f" max {g(r, 'max_ms')} ms, dups {r.get('dups')} reordered {r.get('disorder')},"
      f" closes {r.get('closes')}, CPU ({'the edge' if name.startswith('edge_') else 'replicas+redis'})"
      f" {g(r, 'server_us_per_delivery')} us/delivery,"
      f" client CPU {g(r, 'client_cpu_chat_ms')} ms, load {r.get('load_chat')}")
if "server_runqueue_wait_ms" in r:
    print(f"{'':24s} waited for a CPU during the chat (summed over threads): servers "
          f"{g(r, 'server_runqueue_wait_ms')} ms, client {g(r, 'client_runqueue_wait_ms')} ms;"
          f" each message's last receiver P50 {g(r, 'last_receiver_p50_ms')} ms")
if os.path.exists(threads):
    rows = [l.split() for l in open(threads) if l.strip()]
    ticks = sorted(((int(t), n) for _, t, n in rows), reverse=True)
    total = sum(t for t, _ in ticks)
    if total > 0:
        print(f"{'':24s} edge threads during the chat: top thread {100 * ticks[0][0] / total:.0f} % of"
              f" the edge's CPU ({total * 10} ms); "
              + ", ".join(f"{n} {t * 10} ms" for t, n in ticks if t > 0))
if "quiz_opened" in r:
    print(f"{'':24s} quiz: opened {r['quiz_opened']} P99 {g(r, 'quiz_open_p99_ms')} ms, answers "
          f"acknowledged {r.get('quiz_acked')} P99 {g(r, 'quiz_ack_p99_ms')} ms, the teacher's "
          f"results counted all {g(r, 'quiz_results_all_ms')} ms after the publish, "
          f"errors {r.get('quiz_errors')}")
PY
  }
  if [ "${BENCH_CITY_EDGE_ONLY:-0}" != 1 ]; then
    live "city_${STUDENTS}_over_3" "$apid,$bpid,$cpid,$rpid" \
      "http://127.0.0.1:$pa,http://127.0.0.1:$pb,http://127.0.0.1:$pc" "$STUDENTS"
    live "one_replica_${ONE}" "$apid" "http://127.0.0.1:$pa" "$ONE"
  fi
  EDGE=${BENCH_CITY_EDGE:-1000}
  if [ "$EDGE" -gt 0 ]; then
    EDGE_THREADS=${BENCH_CITY_EDGE_THREADS:-2}
    pe=$(free_port)
    epid=$(start_replica e "$pe" "$EDGE_THREADS")
    pids+=("$epid")
    wait_healthz "http://127.0.0.1:$pe/healthz" 100 0.05 || true
    sleep 1
    # CPU per delivery: the edge's alone (--pid), whose sockets receive every delivery.
    live "edge_${EDGE}_on_${EDGE_THREADS}_threads" "$epid" "http://127.0.0.1:$pe" "$EDGE" \
      "http://127.0.0.1:$pa" "$epid"
  fi
fi
echo "results in $out"
