#!/usr/bin/env bash
# User-space instructions per GET course, counted by callgrind (independent of the load on the
# box; this VM has no hardware counters for perf stat). One I/O thread, the same request as
# make bench-http sends (Host and a bearer token), over 4 keep-alive connections: a warm-up
# of WARMUP requests with collection off, then REQUESTS requests counted.
#
#   bench/get-instructions.sh [EDGECLASS_BIN]     (default build/release/edgeclass)
#   REQUESTS=4000 WARMUP=400
# Counters are zeroed after the warm-up and dumped after the counted requests
# (build/bench/callgrind-get/callgrind.out.1, for callgrind_annotate).
# Prints "instructions per GET: N" and keeps callgrind's output in build/bench/callgrind-get/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
BIN=$(readlink -f "${1:-build/release/edgeclass}")
REQUESTS=${REQUESTS:-4000}
WARMUP=${WARMUP:-400}
SECRET=bench-secret-0123456789abcdef
command -v valgrind >/dev/null || { echo "get-instructions: valgrind not found" >&2; exit 1; }
out=$root/build/bench/callgrind-get
rm -rf "$out"
mkdir -p "$out"
. scripts/bench-common.sh
PORT=$(free_port)
mkdir -p "$work/data"
EDGECLASS_LISTEN=127.0.0.1:$PORT EDGECLASS_ADMIN_LISTEN=off EDGECLASS_DATA_DIR=$work/data \
  EDGECLASS_JWT_SECRET=$SECRET EDGECLASS_THREADS=1 EDGECLASS_MEDIA_PORT=0 \
  EDGECLASS_LOG_LEVEL=warn valgrind --tool=callgrind \
  --callgrind-out-file="$out/callgrind.out" "$BIN" serve >"$out/edgeclass.log" 2>&1 &
VG_PID=$!
pids+=("$VG_PID")
wait_healthz "http://127.0.0.1:$PORT/healthz" 600 0.1 "$VG_PID" || { cat "$out/edgeclass.log" >&2; exit 1; }
python3 tools/bench/setup.py "http://127.0.0.1:$PORT" "$SECRET" "$work/setup" 10 1 1 >"$out/setup.log"
drive() {  # drive N: N GETs over 4 keep-alive connections, round robin, each answered 200
  python3 - "$PORT" "$(cat "$work/setup/course_path")" "$(cat "$work/setup/student_token")" "$1" <<'PY'
import socket, sys
port, path, token, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
bufs = [b""] * 4
for i in range(n):
    k = i % 4
    conns[k].sendall(req)
    while True:
        head, sep, rest = bufs[k].partition(b"\r\n\r\n")
        if sep:
            length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
            if len(rest) >= length:
                if not head.startswith(b"HTTP/1.1 200"):
                    sys.exit("not 200: " + head[:40].decode())
                bufs[k] = rest[length:]
                break
        data = conns[k].recv(65536)
        if not data:
            sys.exit("closed")
        bufs[k] += data
PY
}
drive "$WARMUP"
callgrind_control -z "$VG_PID" >/dev/null
drive "$REQUESTS"
callgrind_control -d "$VG_PID" >/dev/null
total=$(awk '/^totals:/ { print $2; exit }' "$out/callgrind.out.1")
echo "instructions per GET: $((total / REQUESTS)) ($total over $REQUESTS requests)"
