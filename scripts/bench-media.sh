#!/usr/bin/env bash
# Media benchmark: the built-in SFU forwarding one synthetic 1.5 Mbit/s VP8-shaped stream (plus
# Opus-sized audio) to N WebRTC subscribers on loopback, measured by `edgeclass-loadtest media`
# (DTLS + SRTP subscribers, kernel receive timestamps, server CPU from /proc), and Janus
# (Debian's `janus`, streaming plugin) forwarding the same stream to the same subscribers in
# the same run, when it is installed. Then the same with simulcast (MEDIA_SIMULCAST): three
# layers published, each subscriber given one (edgeclass: from its REMB; Janus VideoRoom:
# the substream it asks for), and the tool checks that each got the layer it was meant to.
#
#   scripts/bench-media.sh            (make bench-media; also the end of make bench)
#
# "Per core" is literal: the server under test is pinned to CPU 0 and the load tool to CPU 1
# (taskset), so the server's CPU time is one core's work.
#
# Knobs (environment):
#   MEDIA_SUBSCRIBERS="100 500 1000"  subscriber counts, one run each per server
#   MEDIA_SECONDS=15                  measured window per run (after a 2 s warm-up)
#   MEDIA_KBPS=1500                   video bitrate
#   MEDIA_JANUS=auto                  auto (when janus is installed), 1 (required), 0 (skip)
#   MEDIA_SIMULCAST=1                 also the simulcast rows: the publisher sends three layers
#                                     (MEDIA_LAYERS_KBPS="150,500,1500", lowest first) and the
#                                     subscribers are spread over them (MEDIA_SPREAD="1,1,1"):
#                                     edgeclass picks each one's layer from the REMB it reports,
#                                     Janus's VideoRoom (remote publisher, simulcast) from the
#                                     `substream` it joins with; 0 skips them
#   MEDIA_SINGLE=1                    the single-stream rows (0 skips them)
#   MEDIA_EDGECLASS=1                 0: Janus's rows only (edgeclass's runs skipped)
#   MEDIA_LOG_LEVEL=warn              the server's log level (info: a media.layer line per layer
#                                     decision, in the run's edgeclass-*.log)
#   MEDIA_FANOUT_THREADS=2            the last row again with this many fan-out threads
#                                     (EDGECLASS_MEDIA_THREADS), server and tool unpinned: the
#                                     forwarding delay of a big class on a multi-core node;
#                                     0 skips it
#   EDGECLASS_BIN / LOADTEST_BIN      binaries (default build/release, built by make)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SUBSCRIBERS=${MEDIA_SUBSCRIBERS:-100 500 1000}
SECONDS_RUN=${MEDIA_SECONDS:-15}
KBPS=${MEDIA_KBPS:-1500}
JANUS=${MEDIA_JANUS:-auto}
FANOUT=${MEDIA_FANOUT_THREADS:-2}
SIMULCAST=${MEDIA_SIMULCAST:-1}
SINGLE=${MEDIA_SINGLE:-1}
EDGE=${MEDIA_EDGECLASS:-1}
LAYERS=${MEDIA_LAYERS_KBPS:-150,500,1500}
SPREAD=${MEDIA_SPREAD:-1,1,1}
SECRET=bench-secret-0123456789abcdef
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [ -z "${EDGECLASS_BIN:-}" ] || [ -z "${LOADTEST_BIN:-}" ]; then
  cmake --preset release >/dev/null
  cmake --build build/release --target edgeclass edgeclass-loadtest >/dev/null
fi
BIN=$(readlink -f "${EDGECLASS_BIN:-build/release/edgeclass}")
LOADTEST=$(readlink -f "${LOADTEST_BIN:-build/release/edgeclass-loadtest}")
cpus=$(nproc)
if [ "$cpus" -ge 2 ]; then
  SERVER_CPU=(taskset -c 0)
  TOOL_CPU=(taskset -c 1)
else
  SERVER_CPU=()
  TOOL_CPU=()
fi

out=$root/build/bench/media-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

# A fresh edgeclass per run (an empty SFU, no transports waiting for consent to expire).
# run_edgeclass N [FANOUT_THREADS]: one fan-out thread pinned to CPU 0 (per-core figures), or
# FANOUT_THREADS unpinned.
# SIM=1 in the environment: the simulcast run (--simulcast 1).
run_edgeclass() {
  local n=$1 threads=${2:-1} port media name=edgeclass-$1 extra=()
  if [ "${SIM:-0}" = 1 ]; then
    name=edgeclass-sim-$1
    extra=(--simulcast 1 --layers-kbps "$LAYERS" --spread "$SPREAD")
  fi
  local server_cpu=("${SERVER_CPU[@]}") tool_cpu=("${TOOL_CPU[@]}")
  if [ "$threads" != 1 ]; then
    name=edgeclass-x$threads-$n
    server_cpu=()
    tool_cpu=()
  fi
  port=$(free_port)
  media=$(free_udp_port)
  admin=$(free_port)
  EDGECLASS_LISTEN=127.0.0.1:$port EDGECLASS_ADMIN_LISTEN=127.0.0.1:$admin \
    EDGECLASS_DATA_DIR=$work/data-$name EDGECLASS_JWT_SECRET=$SECRET \
    EDGECLASS_MEDIA_PORT=$media EDGECLASS_PUBLIC_IP=127.0.0.1 EDGECLASS_THREADS=1 \
    EDGECLASS_MEDIA_THREADS=$threads EDGECLASS_LOG_LEVEL=${MEDIA_LOG_LEVEL:-warn} MAX_STUDENTS=100000 \
    "${server_cpu[@]}" "$BIN" serve >"$out/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_healthz "http://127.0.0.1:$port/healthz" || true
  "${tool_cpu[@]}" "$LOADTEST" media --port "$port" --admin-port "$admin" --secret "$SECRET" --subscribers "$n" \
    --seconds "$SECONDS_RUN" --video-kbps "$KBPS" --pid "$pid" --csv "$out/$name.csv" \
    "${extra[@]}" >"$out/$name.txt" 2>&1 || true
  stop_pid "$pid"
  cat "$out/$name.txt" >&2
  grep '^{' "$out/$name.txt" | tail -1
}

janus_available() {
  case $JANUS in
    0) return 1 ;;
    1) command -v janus >/dev/null || { echo "bench-media: janus is not installed (apt-get install janus)" >&2; exit 1; } ;;
    *) command -v janus >/dev/null || return 1 ;;
  esac
  [ -x bench/janus/run-janus.sh ] || return 1
  { "$LOADTEST" media --target janus 2>&1 || true; } | grep -q -- "--janus" || return 1
}

# Janus on CPU 0 with the streaming plugin's RTP mountpoint (bench/janus/run-janus.sh prints
# "PID HTTP_URL RTP_PORT" once it answers), fed and watched by the same load tool. LOOPS
# empty: Janus's default, a thread per subscriber; 1: one shared media loop (event_loops),
# the closest match to edgeclass's one media thread and Janus's cheaper setting here.
# SIM=1: the VideoRoom with a simulcast remote publisher instead of the streaming plugin.
run_janus() {
  local n=$1 loops=$2 info pid url rtp name=janus-$2-$1 plugin=streaming extra=()
  if [ "${SIM:-0}" = 1 ]; then
    name=janus-vr-$2-$1
    plugin=videoroom
    extra=(--simulcast 1 --layers-kbps "$LAYERS" --spread "$SPREAD")
  fi
  info=$(JANUS_PLUGIN=$plugin JANUS_EVENT_LOOPS=$loops "${SERVER_CPU[@]}" bench/janus/run-janus.sh "$work/$name" \
           2>"$out/$name.log") || {
    echo "bench-media: janus did not start" >&2; cat "$out/$name.log" >&2; return 1; }
  read -r pid url rtp <<<"$info"
  pids+=("$pid")
  "${TOOL_CPU[@]}" "$LOADTEST" media --target janus --janus-url "$url" --janus-rtp-port "$rtp" \
    --subscribers "$n" --seconds "$SECONDS_RUN" --video-kbps "$KBPS" --pid "$pid" \
    --csv "$out/$name.csv" "${extra[@]}" >"$out/$name.txt" 2>&1 || true
  stop_pid "$pid"
  cat "$out/$name.txt" >&2
  grep '^{' "$out/$name.txt" | tail -1
}

json() { python3 -c 'import json,sys; d=json.loads(sys.argv[1] or "{}"); v=d.get(sys.argv[2]); print("-" if v is None else v)' "$1" "$2"; }

echo "bench-media: $cpus cores; server on CPU 0, load tool on CPU 1; ${KBPS} kbit/s video, ${SECONDS_RUN}s windows; results in $out" >&2
with_janus=0
if janus_available; then with_janus=1; fi

rows=()
sim_rows=()
for n in $SUBSCRIBERS; do
  if [ "$SINGLE" = 1 ]; then
    e=""
    [ "$EDGE" = 1 ] && e=$(run_edgeclass "$n")
    j=""
    j1=""
    if [ "$with_janus" = 1 ]; then
      j=$(run_janus "$n" "" || true)
      j1=$(run_janus "$n" 1 || true)
    fi
    rows+=("$n|$e|$j|$j1")
  fi
  if [ "$SIMULCAST" = 1 ]; then
    e=""
    [ "$EDGE" = 1 ] && e=$(SIM=1 run_edgeclass "$n")
    j=""
    j1=""
    if [ "$with_janus" = 1 ]; then
      j=$(SIM=1 run_janus "$n" "" || true)
      j1=$(SIM=1 run_janus "$n" 1 || true)
    fi
    sim_rows+=("$n|$e|$j|$j1")
  fi
  last=$n
done
fanout_row=""
if [ "$FANOUT" -gt 1 ] 2>/dev/null && [ "$SINGLE" = 1 ] && [ "$EDGE" = 1 ]; then fanout_row=$(run_edgeclass "$last" "$FANOUT"); fi

line() {  # line NAME N JSON
  local name=$1 n=$2 d=$3
  local sent rec exp loss core us subs
  rec=$(json "$d" received); exp=$(json "$d" expected)
  loss=$(awk -v r="$rec" -v e="$exp" 'BEGIN { if (e > 0 && r != "-") printf "%.3f", 100 * (e - r) / e; else print "-" }')
  core=$(json "$d" server_core); us=$(json "$d" server_us_per_packet)
  subs=$(awk -v n="$(json "$d" connected)" -v c="$core" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print "-" }')
  printf "%-10s %6s %6s/%-6s %8s %9s %9s %9s %8.1f%% %9s %9s\n" "$name" "$n" "$(json "$d" connected)" "$n" \
    "$loss" "$(awk -v u="$(json "$d" delay_p50_us)" 'BEGIN { printf "%.2f", u / 1000 }')" \
    "$(awk -v u="$(json "$d" delay_p99_us)" 'BEGIN { printf "%.2f", u / 1000 }')" \
    "$(json "$d" forward_p99_ms)" "$(awk -v c="$core" 'BEGIN { print 100 * c }')" "$us" "$subs"
  awk -v l="$(json "$d" publisher_late_pct)" -v name="$name" 'BEGIN { if (l != "-" && l + 0 > 5)
    printf "%-10s %6s VOID: the load tool sent %s%% of its video 20 ms or more late (starved of CPU)\n", "", "", l }'
}
{
  echo "edgeclass media benchmark $(date -u +%FT%TZ), $cpus cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "one publisher, ${KBPS} kbit/s VP8-shaped video + Opus-sized audio, N DTLS/SRTP subscribers on loopback"
  echo "delay: publisher send -> subscriber socket (kernel timestamp); fwd p99: the server's own arrival -> sent histogram (bucket bound)"
  echo
  printf "%-10s %6s %13s %8s %9s %9s %9s %9s %9s %9s\n" "server" "subs" "connected" "loss %" \
    "delay p50" "delay p99" "fwd p99" "CPU" "us/packet" "subs/core"
  layers() {  # layers NAME JSON: which layer the subscribers got (lowest first)
    printf "%-10s %6s layers got %s of intended %s; %s not on their layer; switched %s in the run, %s in the window; %s keyframe requests; %s REMB falls\n" \
      "" "" "$(json "$2" layers_got)" "$(json "$2" layers_intended)" "$(json "$2" mismatched)" \
      "$(json "$2" switched_in_run)" "$(json "$2" switched_in_window)" "$(json "$2" keyframe_requests)" \
      "$(json "$2" remb_falls)"
  }
  ratio() {  # ratio NAME EDGECLASS_JSON JANUS_JSON
    awk -v a="$(json "$2" server_us_per_packet)" -v b="$(json "$3" server_us_per_packet)" -v name="$1" \
      'BEGIN { if (a > 0 && b > 0) printf "%-10s %6s CPU per forwarded packet: %s / edgeclass = %.2f\n", "ratio", "", name, b / a }'
  }
  for r in "${rows[@]}"; do
    IFS='|' read -r n e j j1 <<<"$r"
    [ -n "$e" ] && line edgeclass "$n" "$e"
    if [ -n "$j" ]; then line janus "$n" "$j"; ratio janus "$e" "$j"; fi
    if [ -n "$j1" ]; then line janus-1lp "$n" "$j1"; ratio janus-1lp "$e" "$j1"; fi
  done
  if [ "${#sim_rows[@]}" -gt 0 ]; then
    echo
    echo "simulcast: layers ${LAYERS} kbit/s (q/h/f), subscribers spread ${SPREAD} over them; Janus: VideoRoom, remote publisher"
    for r in "${sim_rows[@]}"; do
      IFS='|' read -r n e j j1 <<<"$r"
      if [ -n "$e" ]; then line ec-sim "$n" "$e"; layers ec-sim "$e"; fi
      if [ -n "$j" ]; then line janus-vr "$n" "$j"; layers janus-vr "$j"; ratio janus-vr "$e" "$j"; fi
      if [ -n "$j1" ]; then line jvr-1lp "$n" "$j1"; layers jvr-1lp "$j1"; ratio jvr-1lp "$e" "$j1"; fi
    done
  fi
  if [ -n "$fanout_row" ]; then
    line "ec x$FANOUT" "$last" "$fanout_row"
    echo "ec x$FANOUT: EDGECLASS_MEDIA_THREADS=$FANOUT, server and load tool unpinned (CPU is the whole process, all threads)"
  fi
  echo "janus: Janus 1.1.2 streaming plugin, a thread per subscriber (default); janus-1lp: event_loops = 1"
  [ "${#sim_rows[@]}" -gt 0 ] && echo "ec-sim: edgeclass, simulcast publisher, layer per subscriber from its REMB; janus-vr / jvr-1lp: Janus VideoRoom, substream per subscriber, default / event_loops = 1"
  echo "us/packet: server CPU over the window / (RTP packets published in it x subscribers connected), the same for every server; it flatters a server that loses packets"
  [ "$with_janus" = 1 ] || echo "(janus not run: not installed or MEDIA_JANUS=0)"
} | tee "$out/summary.txt"
