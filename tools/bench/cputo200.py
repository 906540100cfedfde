#!/usr/bin/env python3
"""CPU to the first 200: the CPU time a server spends from exec to answering GET /healthz.

    cputo200.py PORT RUNS PROGRAM [ARGS...]

For each run: start PROGRAM (environment inherited), poll 127.0.0.1:PORT every 2 ms (a
sleep between tries, not a busy loop, so the poller leaves the CPU to the server) until an
HTTP 200 arrives, then SIGKILL the server and read its user+sys time from wait4's rusage
(the kernel's exact runtime, not ticks). Prints one line per run and a final
"median_cpu_ms=X median_wall_ms=Y". Unlike wall-clock time, CPU time hardly moves with the
load of a shared box, so it compares start-up work between runs taken at different loads
(scripts/bench-wasm.sh). A server that exits on its own after its answer (WasmEdge's example
server) is reaped the same way. Exit status 1 if a run got no 200 within 20 s or the server
exited before one."""
import os
import signal
import socket
import statistics
import subprocess
import sys
import time


def answered_200(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            head = s.recv(16)
            return head[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 ") and head[9:12] == b"200"
    except OSError:
        return False


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: cputo200.py PORT RUNS PROGRAM [ARGS...]")
    port, runs, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    cpus, walls = [], []
    for i in range(runs):
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Reaped with os.wait4 only (Popen.poll/send_signal would reap it first and lose its
        # rusage, e.g. when the example server exits right after its answer).
        while not answered_200(port):
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid or time.monotonic() - t0 > 20:
                if not pid:
                    os.kill(proc.pid, signal.SIGKILL)
                    _, status, _ = os.wait4(proc.pid, 0)
                proc.returncode = status
                why = "exited before a 200" if pid else "no 200 within 20 s"
                print(f"run {i}: {why} (wait status {status})")
                sys.exit(1)
            time.sleep(0.002)
        wall = (time.monotonic() - t0) * 1e3
        os.kill(proc.pid, signal.SIGKILL)  # a server that already exited is a zombie until reaped
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0  # reaped here; keeps Popen from waiting again
        cpu = (usage.ru_utime + usage.ru_stime) * 1e3
        cpus.append(cpu)
        walls.append(wall)
        print(f"run {i}: {cpu:.2f} ms CPU, {wall:.2f} ms wall")
    print(f"median_cpu_ms={statistics.median(cpus):.2f} median_wall_ms={statistics.median(walls):.2f}")


if __name__ == "__main__":
    main()
