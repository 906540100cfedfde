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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
free_udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

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
