#!/usr/bin/env bash
# Regenerates cmake/startup-order.txt: the functions a cold start runs, in the order it first
# runs them, which the release link (lld's --symbol-ordering-file, cmake/static.cmake) puts
# together at the start of .text. On this VM every first touch of a page of the binary is a
# page fault (fault-around maps 64 KB of it at a time); with the start-up code scattered over
# the 10 MB of text, exec to listen() took 60 text faults, with it together 26
# (docs/operations.md, "Cold start: the start-up code together").
#
#   scripts/startup-order.sh        (needs valgrind and a configured build/release)
#
# How: links an unstripped copy of build/release/edgeclass (the release link without -s), runs
# it under Valgrind's lackey (--trace-superblocks, no chasing across calls, so every called
# function's entry shows), on an existing database, asks GET /healthz, /readyz and a course
# as a student (tools/bench/setup.py made it) once it listens, lets the work after listen() finish, stops it, and maps each
# superblock's address to its function. Valgrind's virtual CPU has no AVX-512, so glibc's
# string functions pick other variants than on the machine: every variant of a family it saw
# (__memmove_*, __strlen_*, ...) is listed after the one it ran. A symbol missing from a later
# build is ignored by the link (--no-warn-symbol-ordering); regenerate after large changes to
# the start-up path.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

command -v valgrind >/dev/null || { echo "startup-order: valgrind not found" >&2; exit 1; }
[ -f build/release/build.ninja ] || { echo "startup-order: configure build/release first (cmake --preset release)" >&2; exit 1; }
cmake --build build/release --target edgeclass >/dev/null

# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

# The release link of edgeclass, unstripped, into $work.
link=$(cd build/release && ninja -t commands edgeclass | tail -1)
link=${link#: && }
link=${link% && :}
link=${link/ -s / }
link=${link/ -o edgeclass / -o $work/edgeclass }
(cd build/release && eval "$link") 2>&1 | grep -v -e "statically linked applications" -e "in function" >&2 || true
[ -x "$work/edgeclass" ] || { echo "startup-order: the unstripped link failed" >&2; exit 1; }

export EDGECLASS_DATA_DIR=$work/data EDGECLASS_JWT_SECRET=startup-order-0123456789abcdef \
  EDGECLASS_LOG_LEVEL=warn EDGECLASS_MEDIA_PORT=0 EDGECLASS_ADMIN_LISTEN=127.0.0.1:0
mkdir -p "$EDGECLASS_DATA_DIR"
port=$(free_port)
export EDGECLASS_LISTEN=127.0.0.1:$port

# An existing database with a course: one plain start creates and migrates it.
"$work/edgeclass" serve >"$work/first.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_healthz "http://127.0.0.1:$port/healthz" || true
python3 tools/bench/setup.py "http://127.0.0.1:$port" "$EDGECLASS_JWT_SECRET" "$work/setup" 1 1 1 >/dev/null
stop_pid "$pid"

valgrind --tool=lackey --vex-guest-chase=no --trace-superblocks=yes --log-file="$work/sb.log" \
  "$work/edgeclass" serve >"$work/serve.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_healthz "http://127.0.0.1:$port/healthz" 1200 0.05 || true
curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" || true
curl -sf -o /dev/null -H "Authorization: Bearer $(cat "$work/setup/student_token")" \
  "http://127.0.0.1:$port$(cat "$work/setup/course_path")" || true
sleep 2  # the work after listen(): OpenSSL's start-up, the policies, the admin listener
stop_pid "$pid"

python3 - "$work/edgeclass" "$work/sb.log" "$root/cmake/startup-order.txt" <<'PY'
import bisect, re, subprocess, sys
binary, log, out = sys.argv[1:4]
syms = []  # (address, size, name); size 0: assembly without .size
for line in subprocess.check_output(["nm", "-S", "--defined-only", binary], text=True,
                                    errors="replace").splitlines():
    p = line.split()
    if len(p) == 4 and p[2] in "tTwWiI":
        syms.append((int(p[0], 16), int(p[1], 16), p[3]))
    elif len(p) == 3 and p[1] in "tTwWiI":
        syms.append((int(p[0], 16), 0, p[2]))
syms.sort()
addrs = [s[0] for s in syms]
order, seen = [], set()
for line in open(log):
    if not line.startswith("SB "):
        continue
    a = int(line[3:], 16)
    i = bisect.bisect_right(addrs, a) - 1
    j = i  # a sized symbol at the same address covers it better than an unsized alias
    while j >= 0 and addrs[j] == addrs[i] and syms[j][1] == 0:
        j -= 1
    if j >= 0 and syms[j][0] <= a < syms[j][0] + syms[j][1]:
        i = j
    if i < 0 or a - syms[i][0] > 65536:
        continue
    if syms[i][2] not in seen:
        seen.add(syms[i][2])
        order.append(syms[i][2])
# glibc's ifunc families: every variant after the one Valgrind's CPU ran.
family = re.compile(r"^(__(?:mem|str|stp|wcs|wmem|raw|wcp)[a-z]*?)_(?:sse2|sse4|ssse3|avx|evex|erms)")
names = sorted(s[2] for s in syms)
lines = []
for name in order:
    lines.append(name)
    m = family.match(name)
    if m:
        for other in names:
            if other.startswith(m.group(1) + "_") and other not in seen:
                seen.add(other)
                lines.append(other)
with open(out, "w") as f:
    f.write("# Generated by scripts/startup-order.sh: the functions a cold start runs, in the order\n"
            "# it first runs them (lld --symbol-ordering-file; cmake/static.cmake).\n")
    f.write("\n".join(lines) + "\n")
print(f"startup-order: {len(order)} functions seen, {len(lines)} listed in {out}")
PY
