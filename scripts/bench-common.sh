# shellcheck shell=bash
# Sourced by the bench scripts (bench.sh, bench-http.sh, bench-media.sh, ...): a scratch directory, the servers
# they start (pids, stopped on exit) and free ports.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Sets the nice value of this session's scheduler autogroup from the variable named VAR, when
# it is set (where the kernel groups tasks by session, another session's `nice -n 19` build
# still gets a whole group's share of a core against the bench; run the bench under setsid),
# and AUTOGROUP to the group's state for the summary.
#   set_autogroup SCRIPT VAR
set_autogroup() {
  if [ -n "${!2:-}" ]; then
    echo "${!2}" >/proc/self/autogroup ||
      { echo "$1: cannot set the autogroup's nice value ($2)" >&2; exit 2; }
  fi
  # shellcheck disable=SC2034  # read by the script that sources this one
  AUTOGROUP="$(cat /proc/self/autogroup 2>/dev/null || echo "no autogroup")"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
free_udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits until URL answers 2xx (curl -skf: https with a self-signed certificate too), trying
# TRIES times INTERVAL seconds apart (default 500 x 0.01 s); gives up at once when PID is given
# and that process has exited. 0 once answered, 1 otherwise.
#   wait_healthz URL [TRIES] [INTERVAL] [PID]
wait_healthz() {
  local url=$1 tries=${2:-500} interval=${3:-0.01} pid=${4:-} _
  for _ in $(seq "$tries"); do
    curl -skf -m 1 -o /dev/null "$url" && return 0
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 1
    sleep "$interval"
  done
  return 1
}

# Stops one of our servers and forgets its pid, so that cleanup never signals a pid the
# system has since given to another process.
stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${pids[@]+"${pids[@]}"}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]+"${keep[@]}"}")
}

# nginx as the HTTP peer: $THREADS workers on a free port of its own, each location answering
# a file's JSON with a status (bodies of the same size as edgeclass's answers). Sets
# NGINX_PORT and NGINX_PID (stopped on exit); returns once PROBE_PATH answers.
#   start_nginx_peer DIR PROBE_PATH [LOCATION STATUS FILE]...
start_nginx_peer() {
  local dir=$1 probe=$2 locations="" body
  shift 2
  NGINX_PORT=$(free_port)
  mkdir -p "$dir"
  while [ $# -ge 3 ]; do
    body=$(python3 -c 'import sys; b=open(sys.argv[1]).read(); print(b.replace("\\","\\\\").replace("'"'"'","\\'"'"'"))' "$3")
    locations+="    location $1 { default_type application/json; return $2 '$body'; }"$'\n'
    shift 3
  done
  cat >"$dir/nginx.conf" <<CONF
worker_processes $THREADS;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$NGINX_PORT;
$locations  }
}
CONF
  nginx -e "$dir/error.log" -c "$dir/nginx.conf" &
  NGINX_PID=$!
  pids+=("$NGINX_PID")
  for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT$probe" && break; sleep 0.01; done
}

# A fixed-rate run with h2load (RATE requests/s over CONNS connections for DURATION s, as
# STUDENT_TOKEN, one thread; pinned to FIXED_CLIENT_CPU when set), latencies from its
# per-request log (kept on tmpfs while it is written, then in $out; h2load times each request
# from its own send, not from a schedule, and its --rps is per connection):
#   h2load_run NAME URL -> "rps p50 p99 p999 max failed" (latencies in microseconds)
h2load_run() {
  local name=$1 url=$2 log pin=()
  log=$(mktemp -p /dev/shm 2>/dev/null || mktemp)
  [ -n "${FIXED_CLIENT_CPU:-}" ] && pin=(taskset -c "$FIXED_CLIENT_CPU")
  "${pin[@]}" h2load --h1 -c"$CONNS" -t1 --rps=$(( (RATE + CONNS - 1) / CONNS )) -D"$DURATION" \
    -H "Authorization: Bearer $STUDENT_TOKEN" --log-file="$log" "$url" \
    >"$out/$name.h2load" 2>&1 || { rm -f "$log"; cat "$out/$name.h2load" >&2; exit 1; }
  mv "$log" "$out/$name.h2log"
  python3 - "$out/$name.h2log" "$DURATION" <<'PY'
import sys
lat, failed = [], 0
for line in open(sys.argv[1]):  # start time (us), status, latency (us)
    parts = line.split("\t")
    if len(parts) < 3:
        continue
    if not parts[1].startswith("2"):
        failed += 1
    lat.append(int(parts[2]))
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0
print(f"{len(lat) / float(sys.argv[2]):.0f} {pick(0.5)} {pick(0.99)} {pick(0.999)} {lat[-1] if lat else 0} {failed}")
PY
}

# The same run with edgeclass-httpload ($HTTPLOAD, bench/httpload.cc: one thread, pinned to
# FIXED_CLIENT_CPU when set), latencies from each request's scheduled send:
#   httpload_run NAME URL -> "rps p50 p99 p999 max failed lag_p99 client_cpu_us_per_req
#                              sent_p50 sent_p99 sent_p999 client_runqueue_wait_ms"
#   (latencies in microseconds; failed = errors + non-2xx; lag_p99: how late the client sent;
#   sent_*: latency from the actual send, as h2load measures)
httpload_run() {
  local name=$1 url=$2 threads=(--threads 1)
  [ -n "${FIXED_CLIENT_CPU:-}" ] && threads=(--cpus "$FIXED_CLIENT_CPU")
  "$HTTPLOAD" --url "$url" --rate "$RATE" --duration "$DURATION" --connections "$CONNS" "${threads[@]}" \
    --header "Authorization: Bearer $STUDENT_TOKEN" >"$out/$name.httpload" 2>&1 ||
    { cat "$out/$name.httpload" >&2; exit 1; }
  awk '/^HTTPLOAD / { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
         print f["achieved"], f["p50_us"], f["p99_us"], f["p999_us"], f["max_us"], f["errors"] + f["non2xx"],
               f["lag_p99_us"], f["cpu_us_per_req"], f["sent_p50_us"], f["sent_p99_us"], f["sent_p999_us"], f["runq_wait_ms"] }' \
    "$out/$name.httpload"
}
