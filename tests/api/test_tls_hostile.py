"""Hostile TLS clients against the real binary (HTTPS on TLS on the socket itself,
src/http/transport.cc): handshakes dribbled, abandoned or dropped by the hundred, garbage and
renegotiation after the handshake, a close_notify without the TCP end, a client that never
reads, and bytes pipelined behind the wss upgrade. Each test ends with the server still
answering /healthz, and waits on conditions with generous deadlines (a loaded 2-core box)."""
import base64
import concurrent.futures
import http.client
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Server, token, wait_until
from wire import MemoryClient
from test_tls import STUDENTS, T, make_pair

# The request deadline the server runs with here (EDGECLASS_HTTP_TIMEOUT): it is also the TLS
# handshake's.
READ_TIMEOUT_S = 3


def make_live_session(port, cafile):
    """A course with STUDENTS[0] enrolled and a session in it: the session's id."""

    def req(method, path, body=None, tok=None):
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                           context=ssl.create_default_context(cafile=cafile))
        h = {"Authorization": "Bearer " + tok} if tok else {}
        data = json.dumps(body) if body is not None else None
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        return r.status, json.loads(text) if text.startswith("{") else text

    st, c = req("POST", "/api/v1/courses", {"title": "TLS", "capacity": 10}, T)
    assert st == 201, c
    assert req("PATCH", f"/api/v1/courses/{c['id']}", {"status": "active"}, T)[0] == 200
    assert req("POST", f"/api/v1/courses/{c['id']}/join", tok=STUDENTS[0])[0] == 201
    st, ses = req("POST", f"/api/v1/courses/{c['id']}/sessions", {"title": "L"}, T)
    assert st == 201, ses
    return ses["id"]


def wss_upgrade(session_id):
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET /api/v1/sessions/{session_id}/live?token={STUDENTS[0]} HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nOrigin: https://127.0.0.1\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def tcp_closed_within(sock, timeout):
    """True once the peer ends the TCP connection (FIN or reset) within `timeout` s, reading
    and discarding whatever comes before; False when it is still open then."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except OSError:
            return True
    return False


class TlsHostileTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="edgeclass-tlsh-")
        tls = os.path.join(self.dir, "tls")
        make_pair(tls, "127.0.0.1", force=False)
        self.cert = os.path.join(tls, "cert.pem")
        self.srv = Server(data_dir=os.path.join(self.dir, "data"), threads=2, env={
            "EDGECLASS_TLS_CERT": self.cert, "EDGECLASS_TLS_KEY": os.path.join(tls, "key.pem"),
            "EDGECLASS_HTTP_TIMEOUT": f"{READ_TIMEOUT_S}s",
            "EDGECLASS_FIRST_BYTE_TIMEOUT": f"{READ_TIMEOUT_S}s"}).start()
        self.port = self.srv.port
        self.closers = []

    def tearDown(self):
        for c in self.closers:
            try:
                c.close()
            except OSError:
                pass
        self.srv.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def ctx(self, **kw):
        c = ssl.create_default_context(cafile=self.cert)
        if "maximum_version" in kw:
            c.maximum_version = kw["maximum_version"]
        return c

    def healthz(self, timeout=10):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        with self.ctx().wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data.split(b"\r\n", 1)[0]

    def assert_healthy(self):
        self.assertEqual(self.healthz(), b"HTTP/1.1 200 OK")
        self.assertIsNone(self.srv.proc.poll(), "the server exited")

    def fds(self):
        """The server's open sockets (listeners and connections)."""
        return sum(1 for f in self.fd_list() if f.startswith("socket:"))

    def fd_list(self):
        d = f"/proc/{self.srv.proc.pid}/fd"
        out = []
        for name in os.listdir(d):
            try:
                out.append(os.readlink(os.path.join(d, name)))
            except OSError:
                pass
        return sorted(out)

    def server_socket(self, client):
        """The server's end of `client`'s connection as its fd link ("socket:[inode]"), found
        in /proc/net/tcp by the two ports; None when the server holds no such socket."""
        client_port = client.getsockname()[1]
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(path) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if (int(p[1].rsplit(":", 1)[1], 16) == self.port
                            and int(p[2].rsplit(":", 1)[1], 16) == client_port):
                        return f"socket:[{p[9]}]"
        return None

    def rss_kb(self):
        with open(f"/proc/{self.srv.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def client(self):
        c = MemoryClient(self.port, self.ctx())
        self.closers.append(c.raw)
        return c

    def test_client_hello_dribbled_a_byte_at_a_time_is_cut_at_the_handshake_deadline(self):
        c = self.client()
        hello = c.client_hello()
        self.assertGreater(len(hello), 100)
        # One byte every 50 ms (the whole hello would take far longer than the deadline),
        # and the connection is still cut at the deadline: it is not renewed per byte.
        start = time.time()
        closed = False
        for b in hello[:-1]:
            try:
                c.raw.sendall(bytes([b]))
            except OSError:
                closed = True
                break
            if tcp_closed_within(c.raw, 0.05):
                closed = True
                break
            if time.time() - start > READ_TIMEOUT_S + 20:
                break
        if not closed:  # stalled one byte short of the hello
            closed = tcp_closed_within(c.raw, READ_TIMEOUT_S + 20)
        self.assertTrue(closed, "a dribbled ClientHello kept its connection past the deadline")
        self.assertLess(time.time() - start, READ_TIMEOUT_S + 20)
        self.assert_healthy()

    def test_handshakes_abandoned_half_way_among_good_ones(self):
        self.assert_healthy()
        fds0 = self.fds()

        def abandon(_):
            c = MemoryClient(self.port, self.ctx())
            c.raw.sendall(c.client_hello())
            c.raw.settimeout(10)
            try:
                c.raw.recv(1)  # the server's flight has started: reset in the middle
            except OSError:
                pass
            c.reset()
            return True

        def good(_):
            return self.healthz() == b"HTTP/1.1 200 OK"

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            jobs = [pool.submit(abandon if i % 2 else good, i) for i in range(120)]
            results = [j.result(timeout=60) for j in jobs]
        self.assertTrue(all(results))
        wait_until(lambda: self.fds() <= fds0 + 2, timeout=20,
                   what=lambda v: f"the server's sockets back to {fds0} (leak): {self.fd_list()}")
        self.assert_healthy()

    def test_garbage_records_after_the_handshake_end_the_connection_only(self):
        garbage = [
            b"\x17\x03\x03\x00\x20" + os.urandom(32),  # application data failing its tag
            b"\x17\x03\x03\xff\xff" + os.urandom(64),  # a record longer than allowed
            b"\x99\x03\x03\x00\x10" + os.urandom(16),  # no such record type
            b"\x16\x03\x03\x00\x04\x01\x00\x00\x00",  # a handshake message (cleartext) now
            os.urandom(4096),
        ]
        for g in garbage:
            c = self.client()
            c.handshake()
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            c.raw.sendall(g)
            self.assertTrue(tcp_closed_within(c.raw, 20), f"still open after {g[:5]!r}")
            self.assert_healthy()

    def test_client_renegotiation_on_tls12_is_refused_and_the_server_stays_up(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl (the command-line client) is not installed")
        # s_client renegotiates on a line "R"; the server refuses (no_renegotiation alert, or
        # ends the connection). Either way s_client ends and nothing else is affected.
        p = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{self.port}", "-tls1_2",
             "-CAfile", self.cert, "-servername", "127.0.0.1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            # s_client reads its input once its handshake is done: the "R" waits in the pipe.
            p.stdin.write(b"R\n")
            p.stdin.flush()
            time.sleep(1)
            try:  # s_client may have ended already (the refusal)
                p.stdin.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                p.stdin.flush()
                p.stdin.close()
            except BrokenPipeError:
                pass
            out, _ = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        text = out.decode(errors="replace")
        self.assertIn("RENEGOTIATING", text)
        # Refused: no answer comes through a renegotiated session.
        self.assertNotIn("HTTP/1.1 200", text.split("RENEGOTIATING", 1)[1])
        self.assert_healthy()

    def test_close_notify_without_the_tcp_end_is_closed_by_the_server(self):
        c = self.client()
        c.handshake()
        c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        c.send_close_notify()
        # The socket stays open on our side: the server ends it (after the answer).
        self.assertTrue(tcp_closed_within(c.raw, READ_TIMEOUT_S + 20))
        self.assert_healthy()

    def test_client_that_never_reads_while_pipelining_is_bounded(self):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", self.port))
        s = self.ctx().wrap_socket(raw, server_hostname="127.0.0.1")
        self.closers.append(s)
        rss0 = self.rss_kb()
        batch = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 400
        s.settimeout(1)
        sent = 0
        start = time.time()
        # Send until the server stops taking requests (it stops reading while its answers
        # cannot go out) or cuts us, at most 64 MiB.
        while sent < (64 << 20) and time.time() - start < 30:
            try:
                s.sendall(batch)
                sent += len(batch)
            except (socket.timeout, ssl.SSLWantWriteError):
                break
            except OSError:
                break
        self.assertLess(sent, 64 << 20, "the server took 64 MiB of requests nobody reads")
        grew = self.rss_kb() - rss0
        if "ASAN_OPTIONS" not in os.environ:  # redzones and quarantine: no memory figures
            self.assertLess(grew, 32 * 1024, f"the server grew {grew} KiB for one slow reader")
        # The request deadline cuts the stuck writer. Reading before the cut would unstick the
        # writer, and the server would go on answering the pipelined requests it still holds,
        # each answer a new deadline: under ASan on a busy box that backlog outlasted any fixed
        # wait. So the client goes on not reading until the server has closed its end: the
        # writer first fills the server's send buffer (seconds when the server is slow, at
        # once otherwise), is stuck, and the deadline cuts it. Then the client drains what was
        # sent before the cut (read below TLS: the raw bytes) and must find the end.
        mine = self.server_socket(s)
        self.assertIsNotNone(mine, "the server's end of the connection is not in /proc/net/tcp")
        cut_by = time.time() + READ_TIMEOUT_S + 60
        while mine in self.fd_list() and time.time() < cut_by:
            time.sleep(0.2)
        self.assertNotIn(mine, self.fd_list(),
                         "a client that never reads kept its connection past the deadline")
        tcp = socket.socket(fileno=os.dup(s.fileno()))
        self.closers.append(tcp)
        self.assertTrue(tcp_closed_within(tcp, READ_TIMEOUT_S + 20),
                        "a client that never reads kept its connection past the deadline")
        self.assert_healthy()

    def test_bytes_pipelined_behind_the_wss_upgrade_reach_the_live_session(self):
        upgrade = wss_upgrade(make_live_session(self.port, self.cert))
        mask = os.urandom(4)
        payload = b"pipelined"
        ping = bytes([0x89, 0x80 | len(payload)]) + mask + bytes(
            b ^ mask[i % 4] for i, b in enumerate(payload))
        c = self.client()
        c.handshake()
        c.send(upgrade + ping)  # one SSL_write: one TLS record
        buf = b""
        deadline = time.time() + 20

        def more():
            c.raw.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = c.raw.recv(65536)
            except socket.timeout:
                return b""
            if not chunk:
                raise ConnectionError("closed")
            c.inc.write(chunk)
            out = b""
            while True:
                try:
                    out += c.obj.read(65536)
                except ssl.SSLWantReadError:
                    return out
                except ssl.SSLZeroReturnError:
                    return out

        while b"\r\n\r\n" not in buf and time.time() < deadline:
            buf += more()
        head, buf = buf.split(b"\r\n\r\n", 1)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        pong = None
        while pong is None and time.time() < deadline:
            while len(buf) >= 2:
                n = buf[1] & 0x7F
                off = 2
                if n == 126:
                    if len(buf) < 4:
                        break
                    n, off = struct.unpack(">H", buf[2:4])[0], 4
                elif n == 127:
                    if len(buf) < 10:
                        break
                    n, off = struct.unpack(">Q", buf[2:10])[0], 10
                if len(buf) < off + n:
                    break
                opcode, data, buf = buf[0] & 0x0F, buf[off:off + n], buf[off + n:]
                if opcode == 0xA:
                    pong = data
                    break
            if pong is None:
                buf += more()
        self.assertEqual(pong, payload, "the ping sent with the upgrade was not answered")
        self.assert_healthy()

    def test_200_concurrent_handshakes_dropped_at_once(self):
        self.assert_healthy()
        fds0 = self.fds()

        def connect(_):
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=20)
            s = self.ctx().wrap_socket(raw, server_hostname="127.0.0.1")
            return s

        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            socks = list(pool.map(connect, range(200)))
        self.assertEqual(len(socks), 200)
        # Held at once (those of the last seconds at least: the request deadline, 3 s, cuts
        # the first ones on a slow machine).
        wait_until(lambda: self.fds() >= fds0 + 50, timeout=20,
                   what="the server holding the connections")
        for s in socks:  # all reset at once
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        wait_until(lambda: self.fds() <= fds0 + 2, timeout=20,
                   what=lambda v: f"the server's sockets back to {fds0} (leak): {self.fd_list()}")
        self.assert_healthy()


class TlsFairnessTest(unittest.TestCase):
    """One I/O thread: a TLS client that keeps the socket full of pipelined requests must not
    keep it from serving anyone else (or from running its deadlines)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="edgeclass-tlsf-")
        tls = os.path.join(self.dir, "tls")
        make_pair(tls, "127.0.0.1", force=False)
        self.cert = os.path.join(tls, "cert.pem")
        self.srv = Server(data_dir=os.path.join(self.dir, "data"), threads=1, env={
            "EDGECLASS_TLS_CERT": self.cert, "EDGECLASS_TLS_KEY": os.path.join(tls, "key.pem")}).start()
        self.port = self.srv.port

    def tearDown(self):
        self.srv.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def tls(self, timeout=30):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return ssl.create_default_context(cafile=self.cert).wrap_socket(
            raw, server_hostname="127.0.0.1")

    def flood_beside_a_probe(self, first, payload):
        """`payload` encrypted beforehand (memory BIOs) and written raw after `first` (sent
        and answered first), answers read raw and dropped, so that the client keeps the
        server's socket full; meanwhile /healthz over a new connection on the same thread."""
        c = MemoryClient(self.port, ssl.create_default_context(cafile=self.cert))
        c.handshake()
        if first:
            c.send(first)
            c.raw.settimeout(10)
            self.assertTrue(c.raw.recv(65536))
        c.obj.write(payload)
        wire = c.out.read()
        stop = threading.Event()
        read = [0]

        def reader():
            while not stop.is_set():
                try:
                    chunk = c.raw.recv(1 << 20)
                except OSError:
                    return
                if not chunk:
                    return
                read[0] += len(chunk)

        sent = [0]

        def writer():
            try:
                for i in range(0, len(wire), 1 << 20):
                    c.raw.sendall(wire[i:i + (1 << 20)])
                    sent[0] = i + (1 << 20)
            except OSError:
                pass

        threads = [threading.Thread(target=reader, daemon=True),
                   threading.Thread(target=writer, daemon=True)]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: sent[0] >= 4 << 20, timeout=20, what="the flood under way")
            # Another client on the same (only) thread: answered at once, not when the flood
            # ends.
            start = time.time()
            with self.tls(timeout=60) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                first = s.recv(65536).split(b"\r\n", 1)[0]
            took = time.time() - start
            flood_left = threads[1].is_alive()
        finally:
            stop.set()
            c.reset()
            for t in threads:
                t.join(10)
        self.assertEqual(first, b"HTTP/1.1 200 OK")
        # Answered while the flood was still being sent (a starved thread answers it only
        # once the flood is over), and quickly.
        self.assertTrue(flood_left, f"/healthz answered only after the flood ({took:.1f} s)")
        self.assertLess(took, 10, f"/healthz took {took:.1f} s beside a pipelining client")

    def test_a_pipelining_tls_client_does_not_starve_its_thread(self):
        self.flood_beside_a_probe(None, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * (24 << 20 >> 5))

    def test_a_wss_client_flooding_frames_does_not_starve_its_thread(self):
        # Empty pings (each answered with a pong the client drops): 6 bytes each, 24 MiB.
        ping = bytes([0x89, 0x80]) + os.urandom(4)
        self.flood_beside_a_probe(wss_upgrade(make_live_session(self.port, self.cert)),
                                  ping * ((24 << 20) // 6))


if __name__ == "__main__":
    unittest.main()
