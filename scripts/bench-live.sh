#!/usr/bin/env bash
# Live fan-out: edgeclass beside the peer a developer would otherwise pick (a plain Node `ws`
# broadcast server, bench/fanout/fanout-peer.mjs), driven by one load client in alternating
# runs, each against a fresh server, the server pinned to one core and the client to another.
# The client is `edgeclass-loadtest live` (bench/loadtest_live.cc: raw sockets, io_uring
# multishot receive, frames parsed in place, a few µs of client CPU per delivery; against the
# peer with --target peer), so a client that cannot keep up does not set the figures: the Node
# client (bench/fanout/fanout-bench.mjs) receives only 44-99 of 100 msg/s at 1,000 x 100.
# Both clients check every (student, message) for missing, duplicate and out-of-order delivery
# and time teacher send -> student receive on the client's own clock.
# With the C++ client, 2026-12-07, pinned, load 0.6-2.5 (every run in docs/live-performance.md,
# "One C++ client for both targets"): P99 edgeclass vs the peer, median (range), and server CPU
# per delivery: 1000 x 100/s, 13 runs: 23.0 ms (16.6-36.1, one run 239) vs 410 ms (126-1347),
# 4.30 vs 11.35 us; 1000 x 20/s, 5 runs: 15.8 (12.7-30.9) vs 20.7 (16.9-22.2) ms, 4.90 vs
# 11.90 us; 3000 x 20/s, 5 runs: 28.1 (26.6-33.3) vs 77.3 (67.3-84.5) ms, 4.63 vs 11.52 us;
# every message delivered, no duplicates or reordering.
# Since a room stores its chat in batches (the store writer's commit per message was the
# second busy thread on the server's core), 10:28, the bench's session at autogroup nice -10
# (BENCH_LIVE_AUTOGROUP_NICE; docs/live-performance.md, "The second busy thread"), 4 runs
# each of the build before and after: 1000 x 100/s server CPU per delivery 4.40 -> 4.03 us
# (medians), P99 20.9 -> 21.0 ms (17.9-23.7 vs 20.8-31.1); 3000 x 20/s unchanged (4.7 us).
# Both setups (BENCH_LIVE_NET), 12:28-13:19, autogroup nice -10, 5 runs each, min / median / max
# (docs/live-performance.md, "Two network namespaces"): P99 edgeclass vs the peer and server
# process CPU per delivery, loopback: 1000 x 100/s 15.7 / 18.2 / 25.4 vs 561 / 578 / 632 ms,
# 4.55 / 5.10 / 5.25 us, and again (13:02) 16.9 / 20.0 / 23.8 vs 352 / 493 / 550 ms, 4.65 / 4.70 /
# 5.15 us; 1000 x 20/s 10.0 / 12.9 / 14.1 vs 26.4 / 31.3 / 39.2 ms, 5.50 us
# (median); 3000 x 20/s 24.2 / 27.9 / 39.3 vs 126 / 151 / 1159 ms, 5.45 us. Namespaces:
# 1000 x 100/s 19.9 / 27.7 / 49.1 vs 1759 / 2196 / 2772 ms, 3.00 / 5.30 / 7.40 us (bimodal: the
# ACKs' softirq lands on the server or on whatever else ran on its core); 1000 x 20/s 14.5 /
# 15.4 / 33.0 vs 76.5 / 93.2 / 122.9 ms, 8.85 us; 3000 x 20/s 22.8 / 25.7 / 32.7 vs 824 / 1439 /
# 2236 ms, 4.83 us. Two more sets of 1000 x 100/s at 13:13-13:19: namespaces 19.7 / 30.4 / 50.1
# ms, 3.75 us; loopback 18.7 / 21.4 / 26.7 ms, 5.45 us. The server outside softirq (its system
# calls and code): 0.8-4.6 us per delivery in every case and setup. Every message delivered; 3.97-4.09 KB per connection.
#
#   scripts/bench-live.sh            (make bench-live)
#
# Knobs (environment):
#   BENCH_LIVE_NET=lo          where server and client talk: lo (default), loopback; netns:
#                              two network namespaces this script creates (and deletes on
#                              any exit), the server's and the client's, joined by a veth pair,
#                              with RPS on each veth's receive queues steering receive processing
#                              to the receiving side's core (server veth -> BENCH_LIVE_SERVER_CPU,
#                              client veth -> BENCH_LIVE_CLIENT_CPU), as on a real network where
#                              each student's machine runs its own TCP receive path. On loopback
#                              (lo) the receiver's TCP processing runs in the sender's system
#                              call, so the server's figures carry the students' receive work.
#                              Needs root and iproute2; both targets run in the same setup.
#                              Not the default: on this VM (a PVM guest) RPS's inter-processor
#                              interrupt per wake-up of the receiving core is a hypercall, and
#                              with the ACKs' interrupts it costs the server more than the
#                              receive work it moves, varying with how idle the cores are
#                              (docs/live-performance.md, "Two network namespaces")
#   BENCH_LIVE_RUNS=5          runs per case and target (every run is reported, with the spread)
#   BENCH_LIVE_CASES="1000x100 1000x20 3000x20"   students x chat messages per second
#   BENCH_LIVE_MESSAGES=200    chat messages per run
#   BENCH_LIVE_TARGETS="edgeclass peer"   also: edgeclass-nospread, edgeclass with the room's
#                              connections all on the room's thread (EDGECLASS_LIVE_SPREAD_ABOVE=-1;
#                              differs from edgeclass only with BENCH_LIVE_THREADS > 1);
#                              edgeclass-sendmsg, edgeclass writing each socket with its own
#                              sendmsg instead of a burst's sends through io_uring
#                              (EDGECLASS_LIVE_IO_URING=0; ws/send_ring.h); edgeclass-base,
#                              another build of edgeclass (EDGECLASS_BASE_BIN, say the one
#                              before a change) in the same alternating runs
#   BENCH_LIVE_SERVER_CPU=0 BENCH_LIVE_CLIENT_CPU=1   cores for taskset (empty: not pinned;
#                              a list such as 0,1 gives the server both)
#   BENCH_LIVE_THREADS=1       edgeclass I/O threads (the peer is one Node thread); with 2 or
#                              more the bench's room (capacity 100000) is spread over them
#   BENCH_LIVE_TLS=0           1: edgeclass serves wss:// (a self-signed certificate from
#                              `edgeclass cert`; the client skips verification); the peer
#                              stays plain ws://, so compare edgeclass's TLS runs with plain ones
#   BENCH_LIVE_QUIZ=1          edgeclass runs end with a quiz: opening to every student, every
#                              student answering, the teacher's live results
#   BENCH_LIVE_PERF=0          1: `perf record -g` on the server during the first edgeclass run
#                              of each case (perf.data and a report beside the results);
#                              cores: `perf record -a -g` on every core instead, with a report
#                              per core and by core, process and shared object (where the
#                              students' receive processing runs)
#   BENCH_LIVE_CORE_SAMPLE=1   sample the server's core during every run's chat (`perf record -C
#                              -g`, one sample per ms): the server's threads, receive processing
#                              that ran on the core outside them (softirq while the core was
#                              idle or another process ran), idle, and other processes (how quiet
#                              the core was). Needs perf and a pinned server
#   BENCH_LIVE_SYSCALLS=1      count the server's send system calls (sendmsg, write, writev)
#                              during the chat with `perf stat` (when perf can): how many
#                              deliveries one call carries
#   BENCH_LIVE_CLIENT=cpp      the load client for both targets: cpp (edgeclass-loadtest live)
#                              or node (bench/fanout/fanout-bench.mjs, the earlier client; also
#                              the one for BENCH_LIVE_TLS=1, which the C++ client does not speak)
#   BENCH_LIVE_AUTOGROUP_NICE  e.g. -10: the nice value of this session's autogroup (where the
#                              kernel groups tasks by session, /proc/sys/kernel/sched_autogroup_enabled,
#                              another session's `nice -n 19` build still gets a whole group's
#                              share of a core against the bench; this gives the bench's group
#                              more). Applies to the whole session: run the bench under setsid.
#                              Empty (default): unchanged
#   BENCH_LIVE_CONNECT_CONCURRENCY=100   node client only: connections opened at once (each
#                              wss:// handshake's transient buffers are on the server's heap
#                              meanwhile, which shows in the memory per idle connection)
#   EDGECLASS_BIN              server binary (default build/release/edgeclass, built here)
#   LOADTEST_BIN               the C++ client (default build/release/edgeclass-loadtest, built here)
# Each case also runs bench/fanout/sendfloor.c (when a C compiler is here): the same number of
# loopback sockets and sends with nothing but send(), the floor of CPU per delivery right now.
# Writes every run's JSON and the summary to build/bench-live/<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

RUNS=${BENCH_LIVE_RUNS:-5}
CASES=${BENCH_LIVE_CASES:-"1000x100 1000x20 3000x20"}
MESSAGES=${BENCH_LIVE_MESSAGES:-200}
TARGETS=${BENCH_LIVE_TARGETS:-"edgeclass peer"}
SERVER_CPU=${BENCH_LIVE_SERVER_CPU-0}
CLIENT_CPU=${BENCH_LIVE_CLIENT_CPU-1}
THREADS=${BENCH_LIVE_THREADS:-1}
QUIZ=${BENCH_LIVE_QUIZ:-1}
CONNECT_CONCURRENCY=${BENCH_LIVE_CONNECT_CONCURRENCY:-100}
PERF=${BENCH_LIVE_PERF:-0}
TLS=${BENCH_LIVE_TLS:-0}
SYSCALLS=${BENCH_LIVE_SYSCALLS:-1}
CLIENT=${BENCH_LIVE_CLIENT:-cpp}
case "$CLIENT" in
  cpp | node) ;;
  *) echo "bench-live: BENCH_LIVE_CLIENT is cpp or node, not '$CLIENT'" >&2; exit 2 ;;
esac
if [ "$CLIENT" = cpp ] && [ "$TLS" = 1 ]; then
  echo "bench-live: the C++ client speaks plain ws:// only; BENCH_LIVE_TLS=1 needs BENCH_LIVE_CLIENT=node" >&2; exit 2
fi
NET=${BENCH_LIVE_NET:-lo}
case "$NET" in
  netns | lo) ;;
  *) echo "bench-live: BENCH_LIVE_NET is netns or lo, not '$NET'" >&2; exit 2 ;;
esac
CORE_SAMPLE=${BENCH_LIVE_CORE_SAMPLE:-1}
if [ "$NET" = netns ]; then
  [ "$(id -u)" = 0 ] || { echo "bench-live: BENCH_LIVE_NET=netns needs root (network namespaces); BENCH_LIVE_NET=lo runs on loopback" >&2; exit 2; }
  command -v ip >/dev/null || { echo "bench-live: BENCH_LIVE_NET=netns needs iproute2 (ip)" >&2; exit 1; }
  [ -n "$SERVER_CPU" ] && [ -n "$CLIENT_CPU" ] ||
    { echo "bench-live: BENCH_LIVE_NET=netns steers receive processing to the server's and the client's cores: set both BENCH_LIVE_SERVER_CPU and BENCH_LIVE_CLIENT_CPU" >&2; exit 2; }
fi
SECRET=bench-secret-0123456789abcdef
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

for tool in node npm curl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "bench-live: $tool not found (scripts/install-deps.sh bench)" >&2; exit 1; }
done
if [ "$PERF" = 1 ] && ! command -v perf >/dev/null; then
  echo "bench-live: perf not found (BENCH_LIVE_PERF=1 needs it)" >&2; exit 1
fi
if [ ! -d bench/fanout/node_modules/ws ]; then
  (cd bench/fanout && npm install --no-audit --no-fund --silent)
fi
if [ -z "${EDGECLASS_BIN:-}" ]; then
  make --no-print-directory build >/dev/null
  EDGECLASS_BIN=build/release/edgeclass
fi
BIN=$(readlink -f "$EDGECLASS_BIN")
if [[ " $TARGETS " == *" edgeclass-base "* ]]; then
  [ -x "${EDGECLASS_BASE_BIN:-}" ] || { echo "bench-live: edgeclass-base needs EDGECLASS_BASE_BIN (a server binary)" >&2; exit 2; }
  BASE_BIN=$(readlink -f "$EDGECLASS_BASE_BIN")
fi
if [ "$CLIENT" = cpp ] && [ -z "${LOADTEST_BIN:-}" ]; then
  cmake --build build/release --target edgeclass-loadtest >/dev/null
  LOADTEST_BIN=build/release/edgeclass-loadtest
fi
[ "$CLIENT" = cpp ] && LOADTEST=$(readlink -f "$LOADTEST_BIN")
# From the client's "connect:" line to the chat's start: the Node client settles 1.5 s after
# printing it; the C++ client settles before printing it and starts the chat at once.
SETTLE_S=1.5
[ "$CLIENT" = cpp ] && SETTLE_S=0

out=$root/build/bench-live/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh
set_autogroup bench-live BENCH_LIVE_AUTOGROUP_NICE

pin() { if [ -n "$1" ]; then echo "taskset -c $1"; fi; }

# A core list ("0", "0,1", "0-1") as the hexadecimal mask rps_cpus takes.
cpu_mask() {
  local mask=0 part a b c
  for part in ${1//,/ }; do
    a=${part%-*} b=${part#*-}
    for ((c = a; c <= b; c++)); do mask=$((mask | (1 << c))); done
  done
  printf '%x' "$mask"
}

# The setup (BENCH_LIVE_NET): how the server and the client reach each other. SRV_EXEC and
# CLI_EXEC prefix the commands that run on each side; HOST is the server's address.
SRV_EXEC="" CLI_EXEC="" HOST=127.0.0.1 NS_SRV="" NS_CLI=""
if [ "$NET" = netns ]; then
  nsid=$(( $$ % 100000 ))
  NS_SRV=ecbl-srv$nsid NS_CLI=ecbl-cli$nsid
  netns_cleanup() {
    ip netns del "$NS_SRV" 2>/dev/null || true
    ip netns del "$NS_CLI" 2>/dev/null || true
  }
  # Servers first (cleanup), then the namespaces (the veth pair goes with them).
  trap 'cleanup; netns_cleanup' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ip netns add "$NS_SRV"
  ip netns add "$NS_CLI"
  ip link add "ebs$nsid" type veth peer name "ebc$nsid"
  ip link set "ebs$nsid" netns "$NS_SRV"
  ip link set "ebc$nsid" netns "$NS_CLI"
  HOST=10.77.0.1
  # RPS on every receive queue of each side's veth: what the server receives (the students'
  # ACKs and messages) is processed on the server's core, what the students receive on the
  # client's core, each in softirq on that core, not in the sender's system call.
  ip netns exec "$NS_SRV" sh -ec "ip addr add $HOST/24 dev ebs$nsid; ip link set ebs$nsid up; ip link set lo up
    for q in /sys/class/net/ebs$nsid/queues/rx-*/rps_cpus; do echo $(cpu_mask "$SERVER_CPU") >\$q; done"
  ip netns exec "$NS_CLI" sh -ec "ip addr add 10.77.0.2/24 dev ebc$nsid; ip link set ebc$nsid up; ip link set lo up
    for q in /sys/class/net/ebc$nsid/queues/rx-*/rps_cpus; do echo $(cpu_mask "$CLIENT_CPU") >\$q; done"
  SRV_EXEC="ip netns exec $NS_SRV" CLI_EXEC="ip netns exec $NS_CLI"
  RPS_DESC="server veth rx -> cpu mask $(ip netns exec "$NS_SRV" sh -c "cat /sys/class/net/ebs$nsid/queues/rx-*/rps_cpus" | tr '\n' ' ')"
  RPS_DESC+="client veth rx -> cpu mask $(ip netns exec "$NS_CLI" sh -c "cat /sys/class/net/ebc$nsid/queues/rx-*/rps_cpus" | tr '\n' ' ')"
fi

if [ "$CORE_SAMPLE" = 1 ] && ! { [ -n "$SERVER_CPU" ] && command -v perf >/dev/null &&
  timeout 5 perf record -C "$SERVER_CPU" -e cpu-clock -c 1000000 -g -o /dev/null -- true >/dev/null 2>&1; }; then
  echo "bench-live: cannot sample the server's core (needs perf and BENCH_LIVE_SERVER_CPU); how quiet it was not measured"
  CORE_SAMPLE=0
fi

if [ "$SYSCALLS" = 1 ] && ! { command -v perf >/dev/null &&
  timeout 5 perf stat -e syscalls:sys_enter_sendmsg -- true >/dev/null 2>&1; }; then
  echo "bench-live: perf cannot count system calls here; send calls per delivery not measured"
  SYSCALLS=0
fi

# io_uring_enter carries a burst's sends (ws/send_ring.h): counted as a send call too.
URING_EVENT=""
if [ "$SYSCALLS" = 1 ] && timeout 5 perf stat -e syscalls:sys_enter_io_uring_enter -- true >/dev/null 2>&1; then
  URING_EVENT=,syscalls:sys_enter_io_uring_enter
fi

# The CPU time of each of the server's threads, one line per thread: "<tid> <ticks> <name> <run
# ns> <run-queue wait ns>" (ticks from stat; the two times from schedstat, to the nanosecond).
thread_snap() {  # pid  (bash builtins only: no process started on a busy core)
  local t stat comm sched f
  for t in /proc/"$1"/task/*; do
    { read -r stat <"$t/stat" && read -r comm <"$t/comm" && read -r sched <"$t/schedstat"; } 2>/dev/null || continue
    read -ra f <<<"${stat##*) }"  # f[0] is field 3 (state): utime is f[11], stime f[12]
    read -ra sched <<<"$sched"
    echo "${t##*/} $((f[11] + f[12])) ${comm// /_} ${sched[0]} ${sched[1]}"
  done
}

# What is measured during each run's chat, from the end of the client's connect phase (plus the
# settle time) to the end of the chat, started and stopped by the client's own lines ("connect:",
# then "chat:" or "CPU during the chat"): the client's output is piped through here, appended to
# LOG, so nothing polls for them on the server's core. Into PREFIX.*:
#   .syscalls  the server's send system calls (perf stat; BENCH_LIVE_SYSCALLS)
#   .threads   each server thread: "<tid> <ticks> <name> <run ms> <run-queue wait ms>" (how the
#              fan-out's work was shared between the I/O threads, which other thread worked
#              during the chat, and how long each waited for the core)
#   .core      the server's core sampled (perf record -C -g, one sample per ms of cpu-clock;
#              BENCH_LIVE_CORE_SAMPLE), in ms: "server" (the server's threads), "rx_outside"
#              (receive processing, net_rx_action, that ran on the core outside the server's
#              threads: in softirq while the core was idle or another process ran; the
#              server's own ACKs and requests in the netns setup), "idle", "other" (other
#              processes: how quiet the core was), "server_rps_ipi" (the part of "server" spent
#              sending RPS's inter-processor interrupts to the client's core, net_rps_send_ipi:
#              the veth setup's way of waking the receiver, a NIC's job on a real network),
#              "server_softirq" (the part of "server" in softirq: receive processing and the
#              IPIs it sends, charged to whichever thread the core was running), then the
#              busiest other processes
chat_watch() {  # pid log prefix <client output
  local pid=$1 log=$2 prefix=$3 line state=0 before="" after sc="" cs=""
  : >"$log"
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$log"
    if [ "$state" = 0 ] && [[ $line == *connect:* ]]; then
      state=1
      sleep "$SETTLE_S"
      if [ "$SYSCALLS" = 1 ]; then
        perf stat -x, -e "syscalls:sys_enter_sendmsg,syscalls:sys_enter_write,syscalls:sys_enter_writev$URING_EVENT" \
          -p "$pid" -o "$prefix.syscalls" &
        sc=$!
      fi
      if [ "$CORE_SAMPLE" = 1 ]; then
        # shellcheck disable=SC2046
        $(pin "$CLIENT_CPU") perf record -C "$SERVER_CPU" -e cpu-clock -c 1000000 -g -o "$prefix.core.data" >/dev/null 2>&1 &
        cs=$!
      fi
      before=$(thread_snap "$pid")
    elif [ "$state" = 1 ] && [[ $line == *chat:* || $line == *"CPU during the chat"* ]]; then
      state=2
      after=$(thread_snap "$pid")
      for p in $sc $cs; do kill -INT "$p" 2>/dev/null || true; done
      join <(echo "$before" | sort) <(echo "$after" | sort) |
        awk '{ printf "%s %d %s %.1f %.1f\n", $1, $6 - $2, $3, ($8 - $4) / 1e6, ($9 - $5) / 1e6 }' >"$prefix.threads"
    fi
  done
  for p in $sc $cs; do
    kill -INT "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ -n "$cs" ]; then
    ls "/proc/$pid/task" >"$prefix.tids" 2>/dev/null || true
    perf script -i "$prefix.core.data" -F comm,tid,ip,sym 2>/dev/null | awk -v tids="$(tr '\n' ' ' <"$prefix.tids")" '
      BEGIN { n = split(tids, t, " "); for (i = 1; i <= n; i++) server[t[i]] = 1 }
      function flush() {
        if (tid == "") return
        if (tid in server) { c["server"]++; if (ipi) c["server_rps_ipi"]++; if (sirq) c["server_softirq"]++ }
        else if (rx) c["rx_outside"]++
        else if (tid == 0) c["idle"]++
        else { c["other"]++; who[comm]++ }
        tid = ""; rx = 0; ipi = 0; sirq = 0
      }
      /^\t/ { if ($0 ~ /net_rx_action/) rx = 1; if ($0 ~ /net_rps_send_ipi/) ipi = 1; if ($0 ~ /handle_softirqs|do_softirq/) sirq = 1; next }
      /^ *$/ { flush(); next }
      { flush(); tid = $(NF); comm = $1 }
      END { flush(); for (k in c) print k, c[k]; for (k in who) print "other:" k, who[k] }' |
      sort -k2,2nr >"$prefix.core" || true
    rm -f "$prefix.core.data"
  fi
}

wait_http() {  # url pid
  for _ in $(seq 1000); do
    $CLI_EXEC curl -skf -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.01
  done
  return 1
}

wait_port() {  # port pid
  for _ in $(seq 1000); do
    $CLI_EXEC python3 -c "import socket,sys; s=socket.socket(); s.connect(('$HOST',$1))" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.01
  done
  return 1
}

server_cpus=()
[ -n "$SERVER_CPU" ] && server_cpus=(--server-cpus "$SERVER_CPU")

run_one() {  # target students rate run
  local target=$1 n=$2 rate=$3 i=$4 port data log json label
  label="$target ${n}x${rate} #$i"
  json=$out/${n}x${rate}-$target-$i.json
  log=$out/${n}x${rate}-$target-$i.server.log
  port=$(free_port)
  if [[ $target == edgeclass* ]]; then
    data=$work/data-$n-$rate-$i-$target
    mkdir -p "$data"
    local spread=50 scheme=http tls_env=()
    [ "$target" = edgeclass-nospread ] && spread=-1
    local ring=1 bin=$BIN
    [ "$target" = edgeclass-sendmsg ] && ring=0
    [ "$target" = edgeclass-base ] && bin=$BASE_BIN
    if [ "$TLS" = 1 ]; then
      scheme=https
      tls_env=(EDGECLASS_TLS_CERT="$work/tls/cert.pem" EDGECLASS_TLS_KEY="$work/tls/key.pem")
    fi
    # shellcheck disable=SC2046
    $SRV_EXEC env "${tls_env[@]}" EDGECLASS_LISTEN=$HOST:$port EDGECLASS_DATA_DIR=$data EDGECLASS_JWT_SECRET=$SECRET \
      EDGECLASS_THREADS=$THREADS MAX_STUDENTS=100000 EDGECLASS_LOG_LEVEL=warn \
      EDGECLASS_LIVE_SPREAD_ABOVE=$spread EDGECLASS_LIVE_IO_URING=$ring $(pin "$SERVER_CPU") "$bin" serve >"$log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait_http "$scheme://$HOST:$port/healthz" "$pid" || { echo "bench-live: edgeclass did not start ($log)" >&2; exit 1; }
    local perf_pid="" perf_scope=(-p "$pid")
    [ "$PERF" = cores ] && perf_scope=(-a)
    if [ "$PERF" != 0 ] && [ "$i" = 1 ]; then
      # Attach once the students are connected (the chat is what we profile): the client
      # prints "connect:"; perf runs for the chat's length.
      local chat_s=$(( MESSAGES / rate + 2 ))
      ( while ! grep -q "connect:" "$json.log" 2>/dev/null; do sleep 0.1; done
        sleep "$SETTLE_S"
        perf record -g -o "$out/${n}x${rate}-perf.data" "${perf_scope[@]}" -- sleep "$chat_s" >/dev/null 2>&1 ) &
      perf_pid=$!
    fi
    local quiz_flag=()
    [ "$QUIZ" = 1 ] && quiz_flag=(--quiz)
    local prefix=$out/${n}x${rate}-$target-$i

    if [ "$CLIENT" = cpp ]; then
      # shellcheck disable=SC2046
      $CLI_EXEC $(pin "$CLIENT_CPU") "$LOADTEST" live --host "$HOST" --port "$port" --secret "$SECRET" \
        --students "$n" --messages "$MESSAGES" --rate "$rate" --pid "$pid" --quiz "$QUIZ" "${server_cpus[@]}" \
        --json "$json" --label "$label" 2>&1 | chat_watch "$pid" "$json.log" "$prefix" || true
    else
      # shellcheck disable=SC2046
      $CLI_EXEC env NODE_TLS_REJECT_UNAUTHORIZED=0 $(pin "$CLIENT_CPU") node --no-warnings bench/fanout/fanout-bench.mjs --target edgeclass \
        --url "$scheme://$HOST:$port" --secret "$SECRET" --students "$n" --messages "$MESSAGES" \
        --rate "$rate" --pid "$pid" --json "$json" --label "$label" "${quiz_flag[@]}" \
        --connect-concurrency "$CONNECT_CONCURRENCY" 2>&1 | chat_watch "$pid" "$json.log" "$prefix" || true
    fi
    if [ -n "$perf_pid" ]; then
      wait "$perf_pid" 2>/dev/null || true
      perf report -i "$out/${n}x${rate}-perf.data" --no-children --percent-limit 0.7 --stdio \
        >"$out/${n}x${rate}-perf.txt" 2>/dev/null || true
      perf report -i "$out/${n}x${rate}-perf.data" --no-children --sort dso --stdio \
        >"$out/${n}x${rate}-perf-dso.txt" 2>/dev/null || true
      if [ "$PERF" = cores ]; then
        perf report -i "$out/${n}x${rate}-perf.data" --no-children --sort cpu,comm,dso --stdio \
          >"$out/${n}x${rate}-perf-cores.txt" 2>/dev/null || true
        local c
        for c in ${SERVER_CPU//,/ } ${CLIENT_CPU//,/ }; do
          perf report -i "$out/${n}x${rate}-perf.data" --no-children --cpu "$c" --sort comm,sym \
            --percent-limit 0.7 --stdio >"$out/${n}x${rate}-perf-cpu$c.txt" 2>/dev/null || true
        done
      fi
    fi
    stop_pid "$pid"
  else
    # shellcheck disable=SC2046
    $SRV_EXEC $(pin "$SERVER_CPU") node bench/fanout/fanout-peer.mjs --host "$HOST" --port "$port" >"$log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait_port "$port" "$pid" || { echo "bench-live: the peer did not start ($log)" >&2; exit 1; }
    local prefix=$out/${n}x${rate}-$target-$i
    if [ "$CLIENT" = cpp ]; then
      # shellcheck disable=SC2046
      $CLI_EXEC $(pin "$CLIENT_CPU") "$LOADTEST" live --target peer --host "$HOST" --port "$port" --path /live \
        --students "$n" --messages "$MESSAGES" --rate "$rate" --pid "$pid" "${server_cpus[@]}" \
        --json "$json" --label "$label" 2>&1 | chat_watch "$pid" "$json.log" "$prefix" || true
    else
      # shellcheck disable=SC2046
      $CLI_EXEC $(pin "$CLIENT_CPU") node bench/fanout/fanout-bench.mjs --target peer \
        --url "ws://$HOST:$port/live" --students "$n" --messages "$MESSAGES" --rate "$rate" \
        --pid "$pid" --json "$json" --label "$label" 2>&1 | chat_watch "$pid" "$json.log" "$prefix" || true
    fi
    stop_pid "$pid"
  fi
  grep -E "chat:|delay ms:|CPU during|server core|NET_RX|quiz:|teacher message|^delivered" "$json.log" | sed "s/^/  $label: /" || true
  [ -f "$json" ] || { echo "  $label: no result ($json.log)"; }
}

if [ "$TLS" = 1 ]; then
  "$BIN" cert --self-signed --host "$HOST" --out "$work/tls" >/dev/null
fi
setup="bench-live: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), server on cpu '${SERVER_CPU}', client ($CLIENT) on cpu '${CLIENT_CPU}', edgeclass threads $THREADS, edgeclass $([ "$TLS" = 1 ] && echo "over TLS (wss://)" || echo "plain (ws://)"), scheduler group $AUTOGROUP"
if [ "$NET" = netns ]; then
  setup+=", network: namespaces $NS_SRV / $NS_CLI joined by a veth pair, RPS: ${RPS_DESC}"
else
  setup+=", network: loopback (the students' TCP receive runs in the server's send calls)"
fi
echo "$setup; results in $out"
echo "$setup" >"$out/setup.txt"
floor=""
if command -v cc >/dev/null; then
  cc -O2 -o "$work/sendfloor" bench/fanout/sendfloor.c && floor=$work/sendfloor
fi
for c in $CASES; do
  n=${c%x*}
  rate=${c#*x}
  if [ -n "$floor" ]; then
    # shellcheck disable=SC2046
    $SRV_EXEC $(pin "$SERVER_CPU") "$floor" "$n" "$MESSAGES" "$rate" 174 "${SERVER_CPU:--1}" "${CLIENT_CPU:--1}" \
      ${NS_CLI:+"$NS_CLI" "$HOST"} | tee -a "$out/sendfloor.txt"
  fi
  for i in $(seq "$RUNS"); do
    for target in $TARGETS; do
      run_one "$target" "$n" "$rate" "$i"
    done
  done
done
{ cat "$out/setup.txt"; node bench/fanout/summarize.mjs "$out"; [ -f "$out/sendfloor.txt" ] && cat "$out/sendfloor.txt"; } |
  tee "$out/summary.txt"
