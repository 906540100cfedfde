#!/usr/bin/env bash
# Starts Janus 1.1.2 (Debian 12 package `janus`, installed when missing) with the benchmark
# configuration of this folder, in the background, and waits until its REST API answers.
#
#   bench/janus/run-janus.sh [WORKDIR]   prints one line: PID URL RTP_PORT
#       e.g. "12345 http://127.0.0.1:8088/janus 40000": the REST API, and mountpoint 1's
#       plain-RTP ports on 127.0.0.1: video (VP8, pt 96) on RTP_PORT, audio (Opus, pt 111)
#       on RTP_PORT+2. Feed that to `edgeclass-loadtest media --target janus --janus-url URL
#       --janus-rtp-port RTP_PORT --pid PID`. Janus's log is WORKDIR/janus.log.
#   bench/janus/run-janus.sh stop PID
#
# Knobs (environment): JANUS_HTTP_PORT, JANUS_RTP_PORT (default: free ports), JANUS_ICE_PORTS
# (the ICE port range, default 20000-40000), JANUS_ICE_ENFORCE (only gather on these
# interfaces/addresses, e.g. "eth0"; default: all but loopback, which Janus always skips),
# JANUS_EVENT_LOOPS (a fixed number of media loop threads instead of one per handle),
# JANUS_DEBUG_LEVEL (default 2), JANUS_PLUGIN (streaming, the default, or videoroom: the
# simulcast peer, room 1234 of janus.plugin.videoroom.jcfg; RTP_PORT is then unused, the
# load tool adds a remote publisher and Janus picks its port).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

free_tcp_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A UDP port P with P+2 free too (video, audio).
free_rtp_port() {
  python3 - <<'PY'
import random, socket
for _ in range(1000):
    p = random.randrange(41000, 60000, 2)
    socks = []
    try:
        for q in (p, p + 2):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind(("0.0.0.0", q))
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
}

install_janus() {
  command -v janus >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "run-janus: installing janus" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends janus >&2
}

start() {
  install_janus
  local work=${1:-$(mktemp -d /tmp/edgeclass-janus.XXXXXX)}
  mkdir -p "$work"
  local http=${JANUS_HTTP_PORT:-$(free_tcp_port)}
  local video=${JANUS_RTP_PORT:-$(free_rtp_port)}
  local audio=$((video + 2))
  local enforce_line=""
  [ -n "${JANUS_ICE_ENFORCE:-}" ] && enforce_line="ice_enforce_list = \"$JANUS_ICE_ENFORCE\""
  local loops_line=""
  [ -n "${JANUS_EVENT_LOOPS:-}" ] && loops_line="event_loops = $JANUS_EVENT_LOOPS"
  local plugin_disable
  case ${JANUS_PLUGIN:-streaming} in
    streaming) plugin_disable=libjanus_videoroom.so ;;
    videoroom) plugin_disable=libjanus_streaming.so ;;
    *) echo "run-janus: JANUS_PLUGIN must be streaming or videoroom" >&2; return 1 ;;
  esac
  for f in janus.jcfg janus.transport.http.jcfg janus.plugin.streaming.jcfg \
           janus.plugin.videoroom.jcfg; do
    sed -e "s|@CONFIG_DIR@|$work|" -e "s|@HTTP_PORT@|$http|" -e "s|@VIDEO_PORT@|$video|" \
        -e "s|@AUDIO_PORT@|$audio|" -e "s|@ICE_PORTS@|${JANUS_ICE_PORTS:-20000-40000}|" \
        -e "s|@ICE_ENFORCE_LINE@|$enforce_line|" \
        -e "s|@EVENT_LOOPS_LINE@|$loops_line|" -e "s|@PLUGIN_DISABLE@|$plugin_disable|" \
        -e "s|debug_level = 2|debug_level = ${JANUS_DEBUG_LEVEL:-2}|" \
        "$here/$f" > "$work/$f"
  done
  # Thousands of subscribers: one socket (and, by default, one thread) per handle.
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  janus -C "$work/janus.jcfg" -F "$work" -o > "$work/janus.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$http/janus/info" >/dev/null 2>&1; then
      echo "$pid http://127.0.0.1:$http/janus $video"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run-janus: janus exited; log:" >&2
      tail -20 "$work/janus.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "run-janus: janus did not answer on port $http within 10 s" >&2
  kill "$pid" 2>/dev/null || true
  return 1
}

stop() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
  stop) stop "${2:?usage: $0 stop PID}" ;;
  -h|--help) echo "usage: $0 [WORKDIR] | stop PID" >&2; exit 2 ;;
  *) start "$@" ;;
esac
