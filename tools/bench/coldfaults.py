"""Page faults, system calls and phases of cold starts from a `perf record` of
tools/bench/coldstart.c (scripts/bench-cold.sh records it; stdlib only).

    python3 coldfaults.py PERF_DATA

The recording holds the events page-faults (every one: -c 1), raw_syscalls:sys_enter (every
system call; optional), sched:sched_process_exec, syscalls:sys_enter_listen, the accepts'
returns (sys_exit_accept, sys_exit_accept4) and the server's sends (sys_enter_sendto, sendmsg,
write, writev). For each start of the server (an exec by a process other than the poller,
`coldstart`): page faults and system calls of all its threads from exec to its first listen()
and from there to the first send on an accepted connection (the answer to the poller's
request, by whichever thread accepted it), and the time of both phases. Prints the medians
over the starts, then one line per start.
Recording every page fault slows the process, so the times are longer than a plain start's;
the counts are the steady figure (on a VM where the first touch of a page is dear).
"""
import re
import statistics
import subprocess
import sys

LINE = re.compile(r"\s*(\S+)\s+(\d+)/(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)")
FD = re.compile(r"fd: (0x[0-9a-f]+)")
SENDS = ("syscalls:sys_enter_sendto", "syscalls:sys_enter_sendmsg", "syscalls:sys_enter_write",
         "syscalls:sys_enter_writev")


def starts(data):
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,tid,time,event,trace"],
                         capture_output=True, text=True, check=True).stdout
    by_pid, order = {}, []
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, t, ev, rest = m.group(1), int(m.group(2)), float(m.group(4)), m.group(5), m.group(6)
        t *= 1000.0
        if ev == "sched:sched_process_exec":
            if comm != "coldstart":
                s = {"exec": t, "listen": None, "answer": None, "before": 0, "after": 0,
                     "calls_before": 0, "calls_after": 0, "accepted": set()}
                by_pid[pid] = s
                order.append(s)
            continue
        s = by_pid.get(pid)
        if s is None or s["answer"] is not None:
            continue
        phase = "after" if s["listen"] is not None else "before"
        if ev == "page-faults":
            s[phase] += 1
        elif ev == "raw_syscalls:sys_enter":
            s["calls_" + phase] += 1
        elif ev == "syscalls:sys_enter_listen":
            if s["listen"] is None:
                s["listen"] = t
        elif ev in ("syscalls:sys_exit_accept", "syscalls:sys_exit_accept4"):
            r = re.search(r"(0x[0-9a-f]+)\s*$", rest)
            if r and int(r.group(1), 16) < 1 << 31:
                s["accepted"].add(int(r.group(1), 16))
        elif ev in SENDS and s["listen"] is not None:
            f = FD.search(rest)
            if f and int(f.group(1), 16) in s["accepted"]:
                s["answer"] = t
    return [s for s in order if s["listen"] is not None and s["answer"] is not None]


def main():
    done = starts(sys.argv[1])
    if not done:
        print("page faults: no start recorded with a listen() and an answer")
        return
    med = lambda f: statistics.median(f(s) for s in done)
    calls = ""
    if any(s["calls_before"] for s in done):
        calls = (f"; system calls exec to listen() {med(lambda s: s['calls_before']):.0f}, "
                 f"listen() to the first answer {med(lambda s: s['calls_after']):.0f}")
    print(f"page faults (perf, {len(done)} starts, medians): exec to listen() {med(lambda s: s['before']):.0f}, "
          f"listen() to the first answer {med(lambda s: s['after']):.0f}{calls}; "
          f"time under perf: exec to listen() {med(lambda s: s['listen'] - s['exec']):.2f} ms, "
          f"listen() to the first answer {med(lambda s: s['answer'] - s['listen']):.2f} ms")
    for i, s in enumerate(done):
        print(f"  start {i}: faults {s['before']} + {s['after']}, calls {s['calls_before']} + "
              f"{s['calls_after']}, {s['listen'] - s['exec']:.2f} + {s['answer'] - s['listen']:.2f} ms")


if __name__ == "__main__":
    main()
