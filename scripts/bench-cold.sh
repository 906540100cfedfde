#!/usr/bin/env bash
# Cold start beside its floor: exec to the first 200 of edgeclass (GET /healthz, an existing
# database) and of a static C server that answers 200 at once (tools/bench/floor200.c: process
# start-up alone), measured the same way (tools/bench/coldstart.c) in alternating rounds, and
# the ratio of the medians; then what edgeclass does before it listens (strace: system calls,
# threads started, files opened; perf: page faults), the work a faster start would cut.
#
#   scripts/bench-cold.sh            (make bench-cold)
#
# Knobs (environment):
#   BENCH_COLD_RUNS=20      starts per round and server
#   BENCH_COLD_ROUNDS=3     alternating rounds (floor, edgeclass, floor, ...)
#   BENCH_COLD_THREADS=     EDGECLASS_THREADS (empty: edgeclass's default, one per core)
#   BENCH_COLD_FAULT_RUNS=5 starts under perf counting page faults before listen() and to the
#                           first answer (tools/bench/coldfaults.py; 0 or no perf: skipped)
#   EDGECLASS_BIN           server binary (default build/release/edgeclass, built by make build)
#   EDGECLASS_BASE_BIN      another build to compare (say main's): its own starts in every
#                           round, after edgeclass's, on the same database, and its own ratio
#   BENCH_COLD_AUTOGROUP_NICE  e.g. -10: the nice value of this session's scheduler autogroup
#                           (set_autogroup, scripts/bench-common.sh; run under setsid)
# Writes every run and the summary to build/bench-cold/<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

RUNS=${BENCH_COLD_RUNS:-20}
ROUNDS=${BENCH_COLD_ROUNDS:-3}
THREADS=${BENCH_COLD_THREADS:-}
SECRET=bench-secret-0123456789abcdef

for tool in gcc curl; do
  command -v "$tool" >/dev/null || { echo "bench-cold: $tool not found (scripts/install-deps.sh bench)" >&2; exit 1; }
done
if [ -z "${EDGECLASS_BIN:-}" ]; then
  make --no-print-directory build >/dev/null
  EDGECLASS_BIN=build/release/edgeclass
fi
BIN=$(readlink -f "$EDGECLASS_BIN")
BASE_BIN=
if [ -n "${EDGECLASS_BASE_BIN:-}" ]; then
  [ -x "$EDGECLASS_BASE_BIN" ] || { echo "bench-cold: EDGECLASS_BASE_BIN is not an executable" >&2; exit 2; }
  BASE_BIN=$(readlink -f "$EDGECLASS_BASE_BIN")
fi

out=$root/build/bench-cold/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

gcc -O2 -o "$work/coldstart" tools/bench/coldstart.c
gcc -O2 -static -o "$work/floor200" tools/bench/floor200.c
set_autogroup bench-cold BENCH_COLD_AUTOGROUP_NICE

data=$work/data
mkdir -p "$data"
export EDGECLASS_DATA_DIR=$data EDGECLASS_JWT_SECRET=$SECRET EDGECLASS_LOG_LEVEL=warn EDGECLASS_MEDIA_PORT=0 \
  EDGECLASS_ADMIN_LISTEN=127.0.0.1:0
[ -n "$THREADS" ] && export EDGECLASS_THREADS=$THREADS

# An existing database: one start creates and migrates it.
port=$(free_port)
EDGECLASS_LISTEN=127.0.0.1:$port "$BIN" serve >"$out/first-start.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_healthz "http://127.0.0.1:$port/healthz" 1000 || true
stop_pid "$pid"

echo "bench-cold: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), scheduler group $AUTOGROUP, $RUNS starts x $ROUNDS rounds each${BASE_BIN:+, base $BASE_BIN}; results in $out"
for r in $(seq "$ROUNDS"); do
  port=$(free_port)
  "$work/coldstart" "$port" "$RUNS" "$work/floor200" "$port" | sed "s/^/floor round $r: /" >>"$out/runs.txt"
  port=$(free_port)
  EDGECLASS_LISTEN=127.0.0.1:$port "$work/coldstart" "$port" "$RUNS" "$BIN" serve |
    sed "s/^/edgeclass round $r: /" >>"$out/runs.txt"
  if [ -n "$BASE_BIN" ]; then
    port=$(free_port)
    EDGECLASS_LISTEN=127.0.0.1:$port "$work/coldstart" "$port" "$RUNS" "$BASE_BIN" serve |
      sed "s/^/base round $r: /" >>"$out/runs.txt"
  fi
done

# What happens before the listening socket: system calls, threads, files.
port=$(free_port)
if command -v strace >/dev/null; then
  EDGECLASS_LISTEN=127.0.0.1:$port strace -f -tt -o "$out/strace.txt" "$BIN" serve >/dev/null 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_healthz "http://127.0.0.1:$port/healthz" || true
  # Stop the traced server (strace itself would only detach), then strace ends with it.
  for child in $(pgrep -P "$pid"); do kill "$child" 2>/dev/null || true; done
  stop_pid "$pid"
fi

# Page faults and system calls before listen() and to the first answer (on this VM each first
# touch of a page costs ~40 us, so the count is the steadier figure): BENCH_COLD_FAULT_RUNS
# starts under perf.
FAULT_RUNS=${BENCH_COLD_FAULT_RUNS:-5}
if command -v perf >/dev/null && [ "$FAULT_RUNS" -gt 0 ]; then
  port=$(free_port)
  EDGECLASS_LISTEN=127.0.0.1:$port perf record -q -o "$out/faults.data" -e page-faults -c 1 \
    -e raw_syscalls:sys_enter -e sched:sched_process_exec -e syscalls:sys_enter_listen \
    -e syscalls:sys_exit_accept -e syscalls:sys_exit_accept4 -e syscalls:sys_enter_sendto \
    -e syscalls:sys_enter_sendmsg -e syscalls:sys_enter_write -e syscalls:sys_enter_writev \
    -- "$work/coldstart" "$port" "$FAULT_RUNS" "$BIN" serve >/dev/null 2>"$out/faults.err" ||
    echo "bench-cold: perf record failed (see $out/faults.err)" >&2
fi

{
  echo "bench-cold: load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  python3 - "$out/runs.txt" "$out/strace.txt" "$port" <<'PY'
import re, statistics, sys
runs = {"floor": [], "edgeclass": [], "base": []}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+) round \d+: run \d+: ([\d.]+) ms", line)
    if m:
        runs[m.group(1)].append(float(m.group(2)))
for k, v in runs.items():
    v.sort()
    if v:
        print(f"{k}: {len(v)} starts, exec to first 200: median {statistics.median(v):.2f} ms, "
              f"min {v[0]:.2f}, P90 {v[int(len(v) * 0.9) - 1]:.2f}, max {v[-1]:.2f}")
if runs["floor"] and runs["edgeclass"]:
    f, e = statistics.median(runs["floor"]), statistics.median(runs["edgeclass"])
    print(f"cold start: edgeclass / floor = {e / f:.2f}x (medians; target <= 2.5x, and < 10 ms)")
if runs["floor"] and runs["base"]:
    f, b = statistics.median(runs["floor"]), statistics.median(runs["base"])
    print(f"cold start: base (EDGECLASS_BASE_BIN) / floor = {b / f:.2f}x")
try:
    lines = open(sys.argv[2]).read().splitlines()
except OSError:
    sys.exit(0)
port = sys.argv[3]
# The public listener's listen(): the first listen() after a bind to the port.
before, threads, opens = 0, 0, 0
counts = {}
for l in lines:
    m = re.match(r"\d+\s+[\d:.]+\s+(\w+)\(", l)
    if not m:
        continue
    name = m.group(1)
    if name == "listen":
        break
    before += 1
    counts[name] = counts.get(name, 0) + 1
    if name == "clone" or name == "clone3":
        threads += 1
    if name in ("open", "openat"):
        opens += 1
print(f"before the first listen(): {before} system calls, {threads} threads started, {opens} files opened")
print("  most frequent: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:10]))
PY
  if [ -s "$out/faults.data" ]; then
    python3 tools/bench/coldfaults.py "$out/faults.data" >"$out/faults.txt"
    head -1 "$out/faults.txt"
  fi
} | tee "$out/summary.txt"
