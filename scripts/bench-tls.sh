#!/usr/bin/env bash
# HTTPS throughput: GET course over TLS from edgeclass against nginx serving a body of the same
# size over TLS with the same certificate and key, keep-alive connections, in one run.
#
#   scripts/bench-tls.sh            (make bench-tls)
#
# Knobs: BENCH_THREADS=1 (edgeclass I/O threads = nginx workers), BENCH_DURATION=10 (s per
# wrk run), BENCH_CONNS=100, BENCH_ROUNDS=3 (edgeclass and nginx alternate; medians reported),
# BENCH_STUDENTS=200 BENCH_QUIZZES=1 BENCH_QUESTIONS=1, EDGECLASS_BIN.
# Results in build/bench/tls-<timestamp>/ (summary.txt and raw wrk output).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
THREADS=${BENCH_THREADS:-1}
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-100}
ROUNDS=${BENCH_ROUNDS:-3}
SECRET=bench-secret-0123456789abcdef
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

for tool in wrk nginx python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench-tls: $tool not found (scripts/install-deps.sh bench)" >&2; exit 1; }
done
if [ -z "${EDGECLASS_BIN:-}" ]; then
  make --no-print-directory build >/dev/null
  EDGECLASS_BIN=build/release/edgeclass
fi
BIN=$(readlink -f "$EDGECLASS_BIN")
out=$root/build/bench/tls-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

# One certificate for both servers (ECDSA P-256, what `edgeclass cert` makes).
"$BIN" cert --self-signed --host 127.0.0.1 --out "$work/tls" >/dev/null
CERT=$work/tls/cert.pem
KEY=$work/tls/key.pem

# Data: prepared over plain HTTP, then the server restarts with TLS on the same directory.
data=$work/data
mkdir -p "$data"
start_edgeclass() {  # start_edgeclass LOG [ENV...]
  local log=$1
  shift
  SERVER_PORT=$(free_port)
  env "$@" EDGECLASS_LISTEN=127.0.0.1:$SERVER_PORT EDGECLASS_ADMIN_LISTEN=off EDGECLASS_DATA_DIR=$data \
    EDGECLASS_JWT_SECRET=$SECRET EDGECLASS_THREADS=$THREADS MAX_STUDENTS=100000 \
    EDGECLASS_MEDIA_PORT=0 EDGECLASS_LOG_LEVEL=warn "$BIN" serve >"$log" 2>&1 &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  wait_healthz "$SCHEME://127.0.0.1:$SERVER_PORT/healthz" 500 0.01 "$SERVER_PID" && return 0
  echo "bench-tls: edgeclass did not start:" >&2
  cat "$log" >&2
  exit 1
}
SCHEME=http start_edgeclass "$out/setup.log"
SCHEME=http
python3 tools/bench/setup.py "http://127.0.0.1:$SERVER_PORT" "$SECRET" "$work/setup" \
  "${BENCH_STUDENTS:-200}" "${BENCH_QUIZZES:-1}" "${BENCH_QUESTIONS:-1}" >/dev/null
stop_pid "$SERVER_PID"
COURSE_PATH=$(cat "$work/setup/course_path")
TOKEN=$(cat "$work/setup/student_token")
SCHEME=https
start_edgeclass "$out/edgeclass.log" EDGECLASS_TLS_CERT="$CERT" EDGECLASS_TLS_KEY="$KEY"
EC_URL=https://127.0.0.1:$SERVER_PORT

NGINX_PORT=$(free_port)
mkdir -p "$work/nginx"
body=$(python3 -c 'import sys; b=open(sys.argv[1]).read(); print(b.replace("\\","\\\\").replace("'"'"'","\\'"'"'"))' "$work/setup/course.json")
# The same TLS settings as edgeclass (docs/operations.md, "TLS"); session cache on in both.
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $THREADS;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $CERT;
    ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers on;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
    ssl_session_cache shared:SSL:10m;
    location /api/v1/courses/ { default_type application/json; return 200 '$body'; }
  }
}
CONF
nginx -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" &
NGINX_PID=$!
pids+=("$NGINX_PID")
NG_URL=https://127.0.0.1:$NGINX_PORT
for _ in $(seq 200); do curl -skf -o /dev/null "$NG_URL$COURSE_PATH" && break; sleep 0.01; done

ec_size=$(curl -sk -H "Authorization: Bearer $TOKEN" "$EC_URL$COURSE_PATH" | wc -c)
ng_size=$(curl -sk "$NG_URL$COURSE_PATH" | wc -c)
ec_proto=$(curl -sk -o /dev/null -w '%{http_version}' -H "Authorization: Bearer $TOKEN" "$EC_URL$COURSE_PATH")
[ "$ec_size" = "$ng_size" ] || { echo "bench-tls: body sizes differ ($ec_size vs $ng_size)" >&2; exit 1; }
tls_of() { echo | openssl s_client -connect "127.0.0.1:$1" 2>/dev/null | sed -n 's/^New, \(.*\)$/\1/p' | head -1; }

# CPU time (clock ticks) of a process and its children threads/processes: nginx's workers are
# children of the master. The steadier comparison on a shared machine: CPU per request.
ticks() {
  local total=0 p
  for p in "$@" $(pgrep -P "$1" 2>/dev/null); do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}
# wrk keeps its connections open (keep-alive): one handshake per connection, then requests.
run() {  # run NAME URL PID -> "requests/s cpu-us-per-request"
  local t0 t1
  t0=$(ticks "$3")
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$2$COURSE_PATH" \
    >"$out/$1.wrk" 2>&1
  t1=$(ticks "$3")
  if grep -q "Non-2xx" "$out/$1.wrk"; then echo "bench-tls: $1 had errors" >&2; cat "$out/$1.wrk" >&2; exit 1; fi
  awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v d="$DURATION" \
    '/^Requests\/sec:/ {printf "%.0f %.1f\n", $2, (t / hz) * 1e6 / ($2 * d)}' "$out/$1.wrk"
}
ec=()
ng=()
ec_cpu=()
ng_cpu=()
for r in $(seq "$ROUNDS"); do
  read -r rps cpu < <(run "edgeclass-$r" "$EC_URL" "$SERVER_PID")
  ec+=("$rps"); ec_cpu+=("$cpu")
  read -r rps cpu < <(run "nginx-$r" "$NG_URL" "$NGINX_PID")
  ng+=("$rps"); ng_cpu+=("$cpu")
  echo "bench-tls: round $r: edgeclass ${ec[-1]} req/s (${ec_cpu[-1]} us CPU/req), nginx ${ng[-1]} req/s (${ng_cpu[-1]} us CPU/req)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ec_med=$(median "${ec[@]}")
ng_med=$(median "${ng[@]}")
{
  echo "HTTPS GET course, wrk -t1 -c$CONNS -d${DURATION}s keep-alive, $THREADS server thread(s), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "body $ec_size bytes; edgeclass $ec_proto, $(tls_of "$SERVER_PORT"); nginx $(nginx -v 2>&1 | sed 's/.*: //'), $(tls_of "$NGINX_PORT")"
  echo "edgeclass req/s per round: ${ec[*]} (median $ec_med)"
  echo "nginx     req/s per round: ${ng[*]} (median $ng_med)"
  awk -v a="$ec_med" -v b="$ng_med" 'BEGIN { printf "ratio edgeclass/nginx (medians): %.2f\n", a / b }'
  echo "edgeclass CPU us/request per round: ${ec_cpu[*]} (median $(median "${ec_cpu[@]}"))"
  echo "nginx     CPU us/request per round: ${ng_cpu[*]} (median $(median "${ng_cpu[@]}"))"
  for f in edgeclass-1 nginx-1; do echo "$f latency:"; grep -A4 "Latency Distribution" "$out/$f.wrk" | tail -4; done
} | tee "$out/summary.txt"
