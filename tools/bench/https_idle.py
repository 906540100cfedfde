#!/usr/bin/env python3
"""Memory per idle HTTPS keep-alive connection (REST over TLS, no upgrade), against plain HTTP.

    tools/bench/https_idle.py [--bin build/release/edgeclass] [--conns 1000] [--plain]

Starts `edgeclass serve` (one I/O thread) on 127.0.0.1 with a self-signed certificate (or
plain with --plain), opens --conns connections one after another, each sending one keep-alive
GET /healthz and reading its answer, and keeps them all open and idle. The server's VmRSS is
read before the first connection (after a few warm-up connections, opened and closed, so that
per-thread buffers exist), after half of them and after all; printed: KB per connection over
all of them and over the second half alone (the marginal cost, without the heap's first
growth). Everything runs on loopback; the server and its files are removed at the end."""
import argparse
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def read_answer(sock):
    """One HTTP answer with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed before the answer")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += sock.recv(4096)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected answer: {head[:80]!r}")


def connect(port, ctx):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1") if ctx else raw
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    read_answer(s)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "release", "edgeclass"))
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--plain", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="https-idle-")
    proc = None
    socks = []
    try:
        env = dict(os.environ)
        port = free_port()
        env.update({"EDGECLASS_LISTEN": f"127.0.0.1:{port}", "EDGECLASS_ADMIN_LISTEN": "off",
                    "EDGECLASS_DATA_DIR": os.path.join(work, "data"),
                    "EDGECLASS_JWT_SECRET": "bench-secret-0123456789abcdef",
                    "EDGECLASS_THREADS": "1", "EDGECLASS_MEDIA_PORT": "0",
                    "EDGECLASS_LOG_LEVEL": "warn",
                    # The connections stay idle for the whole measurement.
                    "EDGECLASS_HTTP_TIMEOUT": "10m", "EDGECLASS_MAX_CONNECTIONS_PER_IP": "0"})
        ctx = None
        if not args.plain:
            subprocess.run([args.bin, "cert", "--self-signed", "--host", "127.0.0.1", "--out",
                            os.path.join(work, "tls")], check=True, capture_output=True)
            env["EDGECLASS_TLS_CERT"] = os.path.join(work, "tls", "cert.pem")
            env["EDGECLASS_TLS_KEY"] = os.path.join(work, "tls", "key.pem")
            ctx = ssl.create_default_context(cafile=env["EDGECLASS_TLS_CERT"])
        proc = subprocess.Popen([args.bin, "serve"], env=env, stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(work, "server.log"), "w"))
        for _ in range(500):
            try:
                connect(port, ctx).close()
                break
            except (OSError, RuntimeError):
                time.sleep(0.02)
        else:
            raise RuntimeError("the server did not start")
        for _ in range(20):  # warm up: per-thread buffers, the session cache's first entries
            connect(port, ctx).close()
        time.sleep(0.2)
        before = rss_kb(proc.pid)
        half = args.conns // 2
        for i in range(args.conns):
            socks.append(connect(port, ctx))
            if i + 1 == half:
                time.sleep(0.2)
                mid = rss_kb(proc.pid)
        time.sleep(0.5)
        after = rss_kb(proc.pid)
        kind = "plain HTTP" if args.plain else "HTTPS"
        print(f"{kind}, {args.conns} idle keep-alive connections: VmRSS {before} -> {mid} -> "
              f"{after} KB; {(after - before) / args.conns:.1f} KB per connection, "
              f"{(after - mid) / (args.conns - half):.1f} KB marginal (second half)")
    finally:
        for s in socks:
            s.close()
        if proc:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
