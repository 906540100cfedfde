#!/usr/bin/env bash
# `edgeclass-loadtest media` against the release server: 20 DTLS/SRTP subscribers through the
# live WebSocket, 2 s of 1.5 Mbit/s. Fails unless every subscriber connects and receives the
# window's video (the tool's own exit code), the server's forwarding latency histogram moved,
# and the report is complete. Two fan-out threads, so the packets go through FanoutPool. The
# full-size run is `make bench-media`.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=build/release/edgeclass
LOADTEST=build/release/edgeclass-loadtest
SECRET=loadtest-media-secret-0123456789abcdef
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() {  # $1: tcp or udp
  python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}
# The ports are picked here and bound by the server a moment later: if another process took
# one meanwhile, the server exits ("in use") and starts again on others. Ready: /healthz
# answers (up to 30 s on a loaded machine).
ready=
for attempt in 1 2 3 4 5; do
  port=$(free_port tcp); media=$(free_port udp); admin=$(free_port tcp)
  EDGECLASS_LISTEN=127.0.0.1:$port EDGECLASS_ADMIN_LISTEN=127.0.0.1:$admin \
    EDGECLASS_DATA_DIR=$work/data EDGECLASS_JWT_SECRET=$SECRET \
    EDGECLASS_MEDIA_PORT=$media EDGECLASS_PUBLIC_IP=127.0.0.1 EDGECLASS_MEDIA_THREADS=2 EDGECLASS_LOG_LEVEL=warn \
    "$BIN" serve >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1500); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && { ready=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  [ -n "$ready" ] && break
  if kill -0 "$pid" 2>/dev/null || ! grep -q 'in use' "$work/server.log"; then
    echo "loadtest_media: the server did not become ready:" >&2; cat "$work/server.log" >&2; exit 1
  fi
  wait "$pid" 2>/dev/null || true
  pid=
done
[ -n "$ready" ] || { echo "loadtest_media: no free ports after 5 tries" >&2; exit 1; }
timeout 120 "$LOADTEST" media --port "$port" --admin-port "$admin" --secret "$SECRET" --subscribers 20 --seconds 2 \
  --warmup 1 --pid "$pid" --csv "$work/subs.csv" | tee "$work/out.txt"
python3 - "$work/out.txt" "$work/subs.csv" <<'PY'
import csv, json, sys
report = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
assert report["connected"] == 20, report
assert report["sent"] > 0 and report["received"] == report["expected"], report
assert report["server_core"] > 0 and report["server_us_per_packet"] > 0, report
assert report["forward_p99_ms"] == report["forward_p99_ms"], "no forwarding latency samples"  # not NaN
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == 20 and all(r["connected"] == "1" and float(r["kbps"]) > 1000 for r in rows), rows[:3]
print("loadtest media ok:", report)
PY
