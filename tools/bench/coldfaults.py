"""Page faults and phases of cold starts from a `perf record` of tools/bench/coldstart.c
(scripts/bench-cold.sh records it; stdlib only).

    python3 coldfaults.py PERF_DATA

The recording holds the events page-faults (every one: -c 1), sched:sched_process_exec,
syscalls:sys_enter_listen and the server's sends (sys_enter_sendto, sendmsg, write, writev).
For each start of the server (an exec by a process other than the poller, `coldstart`):
page faults of all its threads from exec to its first listen() and from there to the first
send by a thread other than the main one (an I/O thread answering the poller's request), and
the time of both phases. Prints the medians over the starts, then one line per start.
Recording every page fault slows the process, so the times are longer than a plain start's;
the counts are the steady figure (on a VM where the first touch of a page is dear).
"""
import re
import statistics
import subprocess
import sys

LINE = re.compile(r"\s*(\S+)\s+(\d+)/(\d+)\s+([\d.]+):\s+(\S+):")


def starts(data):
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,tid,time,event"],
                         capture_output=True, text=True, check=True).stdout
    by_pid, order = {}, []
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, tid, t, ev = m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4)), m.group(5)
        t *= 1000.0
        if ev == "sched:sched_process_exec":
            if comm != "coldstart":
                s = {"exec": t, "listen": None, "answer": None, "before": 0, "after": 0}
                by_pid[pid] = s
                order.append(s)
            continue
        s = by_pid.get(pid)
        if s is None or s["answer"] is not None:
            continue
        if ev == "page-faults":
            s["after" if s["listen"] is not None else "before"] += 1
        elif ev == "syscalls:sys_enter_listen":
            if s["listen"] is None:
                s["listen"] = t
        elif s["listen"] is not None and tid != pid:
            s["answer"] = t
    return [s for s in order if s["listen"] is not None and s["answer"] is not None]


def main():
    done = starts(sys.argv[1])
    if not done:
        print("page faults: no start recorded with a listen() and an answer")
        return
    med = lambda f: statistics.median(f(s) for s in done)
    print(f"page faults (perf, {len(done)} starts, medians): exec to listen() {med(lambda s: s['before']):.0f}, "
          f"listen() to the first answer {med(lambda s: s['after']):.0f}; "
          f"time under perf: exec to listen() {med(lambda s: s['listen'] - s['exec']):.2f} ms, "
          f"listen() to the first answer {med(lambda s: s['answer'] - s['listen']):.2f} ms")
    for i, s in enumerate(done):
        print(f"  start {i}: faults {s['before']} + {s['after']}, "
              f"{s['listen'] - s['exec']:.2f} + {s['answer'] - s['listen']:.2f} ms")


if __name__ == "__main__":
    main()
