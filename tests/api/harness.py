"""Test harness: runs the real edgeclass binary on a free port with a temporary data dir,
mints tokens with the same secret, and talks HTTP/1.1 to it (stdlib only)."""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import http.client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The binary under test: EDGECLASS_BIN (e.g. build/asan/edgeclass for the sanitizer job in
# tests/scripts/asan.sh), else the release build.
BINARY = os.environ.get("EDGECLASS_BIN", os.path.join(ROOT, "build", "release", "edgeclass"))
# What AddressSanitizer, LeakSanitizer and UBSan print; a server whose output holds one of
# these fails the test that stopped it, whatever its answers were.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "UndefinedBehaviorSanitizer", "runtime error:")
SECRET = "test-secret-0123456789abcdef"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def read_until_closed(sock) -> bytes:
    """Everything the peer sends on `sock` until it closes the connection."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def wait_until(fn, timeout=15, what=None, step=0.05):
    """Polls fn() until it returns something truthy and returns that. After `timeout` s
    fails with `what` (a string, or a function of fn's last value) and that value: a check of
    something another process or thread does waits for it with a deadline a loaded machine
    meets, instead of looking once."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            why = what(v) if callable(what) else (what or "condition")
            raise AssertionError(f"not within {timeout} s: {why} (last seen: {v!r})")
        time.sleep(step)


def token(sub, role="student", name=None, ttl=3600, secret=SECRET, exp=None, **claims):
    """A signed token; keyword `claims` (e.g. nbf=..., iat=...) are added or override."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    body = {"sub": sub, "name": name or sub, "role": role,
            "iat": now, "exp": exp if exp is not None else now + ttl}
    body.update(claims)
    payload = b64url(json.dumps(body).encode())
    sig = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(sig)}"


class Server:
    """A running edgeclass serve. Use as a context manager."""

    def __init__(self, data_dir=None, env=None, threads=2):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="edgeclass-test-")
        self.env = dict(os.environ)
        self.env.update({"EDGECLASS_LISTEN": "127.0.0.1:0", "EDGECLASS_DATA_DIR": self.data_dir,
                         "EDGECLASS_JWT_SECRET": SECRET, "EDGECLASS_THREADS": str(threads),
                         "EDGECLASS_LOG_LEVEL": "info", "EDGECLASS_ADMIN_LISTEN": "127.0.0.1:0",
                         # A free UDP port, not the fixed default 7882 another server may hold.
                         "EDGECLASS_MEDIA_PORT": "0"})
        self.env.update(env or {})
        self.proc = None
        self.preexec = None  # runs in the child before exec (e.g. to lower its fd limit)
        self.port = None
        self.admin_port = None  # the admin listener (/metrics, /v1/data)
        self.reader = None  # drains the server's stdout into self.log after start-up
        self.log = []
        # Cleared, the reader stops draining stdout (a stuck log collector); set, it goes on.
        self.drain_gate = threading.Event()
        self.drain_gate.set()

    def start(self):
        self.proc = subprocess.Popen([BINARY, "serve"], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     preexec_fn=self.preexec)
        deadline = time.time() + 30  # ASan builds on a loaded machine start slowly
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait()
                self.close_output()
                raise RuntimeError("edgeclass exited during start-up:\n" + "".join(self.log))
            self.log.append(line)
            if '"edgeclass.ready"' in line:
                ready = json.loads(line)
                self.port = int(ready["url"].rsplit(":", 1)[1].strip("/"))
                if ready.get("admin_url", "off") != "off":
                    self.admin_port = int(ready["admin_url"].rsplit(":", 1)[1].strip("/"))
                # Keep reading: the server logs a line per request (the access log), and a
                # full pipe would block its I/O threads on write(2).
                self.reader = threading.Thread(target=self._drain, daemon=True)
                self.reader.start()
                return self
        self.proc.kill()
        self.proc.wait()
        self.close_output()
        raise RuntimeError("edgeclass did not become ready:\n" + "".join(self.log))

    def _drain(self):
        for line in self.proc.stdout:
            self.log.append(line)
            self.drain_gate.wait()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.close_output()
                raise
        self.close_output()
        self.check_sanitizers()
        return self.proc.returncode

    def close_output(self):
        """Once the process has exited: reads the rest of its output into self.log (the
        reader thread, or here when start-up failed before it began) and closes the pipe."""
        if not self.proc or self.proc.stdout is None or self.proc.stdout.closed:
            return
        if self.reader:
            self.reader.join(timeout=10)
            if self.reader.is_alive():
                return  # still draining (a gate held closed): leave the pipe to it
        else:
            self.log.extend(self.proc.stdout)
        self.proc.stdout.close()

    def wait_log(self, needle, timeout=15):
        """The log lines holding `needle`, waiting up to `timeout` s for the first: the server
        writes its log from a thread of its own, so a line can reach us after the answer or
        message the same event caused. Fails (AssertionError with the log's tail) if none."""
        deadline = time.time() + timeout
        while True:
            lines = [l for l in list(self.log) if needle in l]
            if lines:
                return lines
            if time.time() > deadline:
                raise AssertionError(f"no log line with {needle!r} within {timeout} s; the "
                                     "last lines:\n" + "".join(self.log[-30:]))
            time.sleep(0.05)

    def check_sanitizers(self):
        text = "".join(self.log)
        for marker in SANITIZER_MARKERS:
            if marker in text:
                raise AssertionError("sanitizer report in the server's output:\n" + text[-12000:])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def request(self, method, path, body=None, tok=None, headers=None, raw=None, admin=False):
        """`admin`: to the admin listener (/metrics, /v1/data) instead of the public one."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port if admin else self.port,
                                          timeout=30)
        h = dict(headers or {})
        if tok:
            h["Authorization"] = "Bearer " + tok
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            text = resp.read().decode()
        finally:
            conn.close()  # also when the server went away mid-request (a test killed it)
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return resp.status, parsed

    # Conveniences for the common flow.
    def course(self, teacher, capacity=None, active=True, title="Algebra"):
        body = {"title": title}
        if capacity is not None:
            body["capacity"] = capacity
        st, c = self.request("POST", "/api/v1/courses", body, teacher)
        assert st == 201, (st, c)
        if active:
            st, c = self.request("PATCH", f"/api/v1/courses/{c['id']}", {"status": "active"}, teacher)
            assert st == 200, (st, c)
        return c


async def async_request(port, method, path, tok=None, body=None):
    """One request on its own connection; returns (status, parsed body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(data)}\r\n"
    if tok:
        head += f"Authorization: Bearer {tok}\r\n"
    writer.write(head.encode() + b"\r\n" + data)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    status = int(status_line.split()[1])
    body = rest.split(b"\r\n\r\n", 1)[1]
    return status, json.loads(body) if body else None


class ServerTestCase(unittest.TestCase):
    """A test class sharing one server started with the defaults (self.srv)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
