#!/usr/bin/env bash
# make bench-city (REST part): two replicas on a real redis-server, each with one I/O thread.
# Measures, with wrk over loopback:
#   - a course read on its home replica (SQLite + the per-thread view cache) versus the same
#     read on the other replica (the Redis read cache), in requests/s, latency and CPU
#     microseconds per request of the serving replica (and of redis-server);
#   - a write (PATCH of the course) on the home versus forwarded from the other replica.
# Results in build/bench/city-<timestamp>/summary.txt. Not part of `make test`.
# Not measured here yet: the live part of the issue's bench-city (3,000 students in one
# class over three replicas), which needs the live class across replicas.
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
out=$root/build/bench/city-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
SECRET=bench-secret-0123456789abcdef

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >"$out/redis.log" 2>&1 &
rpid=$!
pids+=("$rpid")
start_replica() {  # name port
  EDGECLASS_LISTEN=127.0.0.1:$2 EDGECLASS_DATA_DIR=$work/$1 EDGECLASS_JWT_SECRET=$SECRET \
    EDGECLASS_THREADS=1 EDGECLASS_MEDIA_PORT=0 EDGECLASS_LOG_LEVEL=warn EDGECLASS_ADMIN_LISTEN=off \
    EDGECLASS_REDIS_URL=redis://127.0.0.1:$rport EDGECLASS_REPLICA_ID=$1 \
    "$BIN" serve >"$out/$1.log" 2>&1 &
  pids+=($!)
  echo $!
}
pa=$(free_port); pb=$(free_port)
apid=$(start_replica a "$pa")
bpid=$(start_replica b "$pb")
for p in $pa $pb; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.05; done
done
sleep 0.5

tok=$(cd tests/api && python3 -c "import harness; harness.SECRET='$SECRET'; print(harness.token('t1','teacher', secret='$SECRET'))")
course=$(curl -sf -XPOST "http://127.0.0.1:$pa/api/v1/courses" -H "Authorization: Bearer $tok" \
  -d '{"title":"Bench","status":"active"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

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
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$4" "http://127.0.0.1:$2/api/v1/courses/$course" >"$out/$1.wrk"
  after=$(cpu_us "$3"); redis_after=$(cpu_us "$rpid")
  python3 - "$1" "$out/$1.wrk" "$before" "$after" "$redis_before" "$redis_after" <<'PY' | tee -a "$out/summary.txt"
import re, sys
name, path, b, a, rb, ra = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
text = open(path).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
reqs = int(re.search(r"(\d+) requests in", text).group(1))
p50 = re.search(r"50%\s+(\S+)", text).group(1)
p99 = re.search(r"99%\s+(\S+)", text).group(1)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{name:24s} {rps:9.0f} req/s  p50 {p50:>8s}  p99 {p99:>8s}  replica CPU {(a-b)/reqs:6.1f} us/req"
      f"  redis CPU {(ra-rb)/reqs:5.1f} us/req" + (f"  NON-2XX {non2xx.group(1)}" if non2xx else ""))
PY
}
echo "bench-city: $(nproc) cores, 1 I/O thread per replica, $CONNS connections, ${DURATION}s each" | tee "$out/summary.txt"
curl -sf "http://127.0.0.1:$pb/api/v1/courses/$course" -H "Authorization: Bearer $tok" >/dev/null  # warm the cache
run read_home "$pa" "$apid" "$work/get.lua"
run read_other_replica "$pb" "$bpid" "$work/get.lua"
run write_home "$pa" "$apid" "$work/patch.lua"
run write_forwarded "$pb" "$bpid" "$work/patch.lua"
echo "results in $out"
