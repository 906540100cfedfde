"""The request path as a hostile client sees it, against the real binary over raw sockets:
- HTTP: pipelined requests cut at every byte boundary (the fast head path and Beast's parser
  take turns on one connection's buffer); a server-level differential of the fast path against
  Beast's parser (the same head once as sent and once with a field the fast path never takes,
  each followed by a probe request: the answers must be the same, so no head is framed or read
  differently by the two);
- the live socket (ws://, and wss:// with one-byte TLS records and TCP cuts anywhere): frames
  cut at every byte, messages larger than the 16 KiB read chunk, fragments with pings between
  them, every malformed frame closed with its code, closes in the middle of a frame.
Seeded and bounded: a few seconds against a release build."""
import base64
import json
import os
import random
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import unittest

from wire import (FrameReader, MemoryClient, Reader, connect_nodelay as connect, read_head,
                  send_split, ws_frame)
from harness import BINARY, Server, ServerTestCase, token

T = token("t1", "teacher", "Ms T")
S1 = token("s1", "student", "Student 1")
PROBE = b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Request-Id: probe\r\nConnection: close\r\n\r\n"


def exchange(port, data, head=False):
    """What the server answers to `data` on one connection, until it closes: (status, our
    X-Request-Id, the error body without its message, Connection) per answer."""
    s = connect(port, timeout=5)
    try:
        s.sendall(data)
    except OSError:
        pass
    r = Reader(s)
    out = []
    try:
        while True:
            x = r.next(head and not out)
            if x is None:
                break
            st, h, body = x
            rid = h.get("x-request-id", "")
            out.append((st, rid if rid in ("probe", "mine") else "",
                        re.sub(rb'"message":"[^"]*"', b"", body) if st >= 400 else b"",
                        h.get("connection", "")))
            if h.get("connection") == "close":
                break
    except socket.timeout:
        out.append("timeout")
    finally:
        s.close()
    return out


# Pieces of request heads, ordinary and odd (smuggling classics among them).
METHODS = [b"GET", b"HEAD", b"DELETE", b"get", b"GET ", b"POST", b"OPTIONS"]
TARGETS = [b"/healthz", b"/api/v1/me", b"/api/v1/courses/crs_abc", b"/healthz?x=1",
           b"http://a/healthz", b"*", b"/a%20b", b"//healthz", b"/healthz#f", b"/" + b"a" * 3000,
           b"/\x7f", b"/x\x00", b"/api/v1/courses/crs_\xc3\xa9", b"https://a", b"/healthz?\"<>",
           b"/[]{}|\\^`"]
VERSIONS = [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2.0", b"http/1.1", b"HTTP/1.1 ",
            b"HTTP/1.10", b"HTTP/1"]
FIELDS = [b"Host: a", b"Host: a b", b"Host:a", b"host:   a  ", b"Host : a", b"Host: ",
          b"Host: a:80", b"Host: [::1]:80", b"Authorization: Bearer " + S1.encode(),
          b"authorization: bearer " + S1.encode(), b"Authorization: Bearer x.y.z",
          b"Authorization:Bearer  " + S1.encode() + b"  ", b"Content-Length: 0",
          b"Content-Length: 5", b"Content-Length: 5, 5", b"Content-Length: +5",
          b"Content-Length:  5 ", b"Content-Length: -1", b"content-length: 0",
          b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked, identity",
          b"Transfer-Encoding: xchunked", b"Connection: close", b"Connection: keep-alive",
          b"Connection: close, x", b"Connection: Upgrade", b"connection: CLOSE",
          b"Connection: keep-alive ", b"Connection:", b"Upgrade: websocket", b"X-A: a\r\n b",
          b"X-A: a\rb", b"X-A: a\nX-B: b", b"X-A: a\x00b", b"X Y: a", b": a", b"X-A:",
          b"X-A: " + b"v" * 5000, b"X-A: \x80", b"X-A: a\x7fb", b"X-Request-Id: mine",
          b"X-Request-Id: ab c", b"Expect: 100-continue", b"Proxy-Connection: keep-alive",
          b"X-A:\ta", b"X-A: a ", b"X-A\t: a", b"Keep-Alive: 5", b"TE: trailers", b"Trailer: X",
          b"Host: a\r\n", b" Host: a", b"Host: a\r\nHost: a", b"X-A: " + b"w" * 16500]
BODIES = [b"", b"", b"", b"hello", b"0\r\n\r\n", b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
          b"5\r\nhello\r\n0\r\n\r\n"]


def generated_head(rng):
    m = rng.choice(METHODS[:3]) if rng.random() < 0.7 else rng.choice(METHODS)
    t = rng.choice(TARGETS[:4]) if rng.random() < 0.6 else rng.choice(TARGETS)
    v = VERSIONS[0] if rng.random() < 0.7 else rng.choice(VERSIONS)
    fields = [b"Host: a"] if rng.random() < 0.85 else []
    fields += [rng.choice(FIELDS) for _ in range(rng.randint(0, 4))]
    rng.shuffle(fields)
    head = m + b" " + t + b" " + v + b"\r\n" + b"".join(f + b"\r\n" for f in fields) + b"\r\n"
    return m, head, rng.choice(BODIES)


class HttpRequestPathTest(ServerTestCase):
    def test_pipelined_requests_cut_at_every_byte_are_answered_in_order(self):
        me = b"Authorization: Bearer " + S1.encode() + b"\r\n"
        reqs = [  # (request, HEAD?): fast path, Beast with a body, fast again, close
            (b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Request-Id: one\r\n\r\n", False),
            (b"HEAD /api/v1/me HTTP/1.1\r\nHost: a\r\n" + me + b"X-Request-Id: two\r\n\r\n", True),
            (b"POST /api/v1/courses HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
             b"X-Request-Id: three\r\n\r\n{}", False),
            (b"GET /api/v1/nothing HTTP/1.1\r\nHost: a\r\nX-Request-Id: four\r\n\r\n", False),
            (b"GET /api/v1/me HTTP/1.1\r\nHost: a\r\n" + me + b"X-Request-Id: five\r\n"
             b"Connection: close\r\n\r\n", False),
        ]
        want = [(200, "one"), (200, "two"), (401, "three"), (404, "four"), (200, "five")]
        data = b"".join(r for r, _ in reqs)
        rng = random.Random(1)
        cuts = [[c] for c in range(1, len(data))]
        cuts += [sorted(rng.sample(range(1, len(data)), rng.randint(2, 12))) for _ in range(100)]
        for cut in cuts:
            s = connect(self.srv.port)
            send_split(s, data, cut, pause=0.0003)
            r = Reader(s)
            got = []
            for _, head in reqs:
                x = r.next(head)
                if x is None:
                    break
                got.append((x[0], x[1].get("x-request-id")))
            s.close()
            self.assertEqual(got, want, f"cut at {cut}")

    def test_the_fast_path_and_beasts_parser_answer_every_head_alike(self):
        rng = random.Random(2)
        for i in range(700):
            m, head, body = generated_head(rng)
            # The same head with a field the fast path never takes (a tab in a value), so that
            # Beast's parser reads it.
            beast = head[:-2] + b"X-Pad: a\tb\r\n\r\n"
            a = exchange(self.srv.port, head + body + PROBE, head=m == b"HEAD")
            b = exchange(self.srv.port, beast + body + PROBE, head=m == b"HEAD")
            self.assertEqual(a, b, f"case {i}: {head + body!r}")
        self.assertEqual(self.srv.request("GET", "/healthz")[0], 200)


def ping(ref, pad=0):
    """A live ping message of at least `pad` bytes (JSON whitespace)."""
    s = json.dumps({"type": "ping", "ref": ref}).encode()
    return s[:-1] + b" " * pad + b"}"


def replies(frames, refs, control_pongs=0):
    """The refs of the next pong replies off `frames` (a wire.FrameReader), errors and a close
    among them, until as many as `refs` came (and `control_pongs` WebSocket pongs)."""
    got, pongs = [], 0
    while len(got) < len(refs) or pongs < control_pongs:
        _, op, data = frames.frame()
        if op == 0xA:
            pongs += 1
        elif op == 0x8:
            got.append(("close", data))
            break
        elif op == 0x1:
            m = json.loads(data)
            if m["type"] == "pong":
                got.append(m.get("ref"))
            elif m["type"] == "error":
                got.append(("error", m["code"]))
    return got


def close_code(frames):
    """The code of the server's close frame, or what happened instead."""
    try:
        while True:
            _, op, data = frames.frame()
            if op == 0x8:
                return struct.unpack(">H", data[:2])[0] if len(data) >= 2 else 1005
    except (ConnectionError, socket.timeout, OSError) as e:
        return f"no close frame ({type(e).__name__})"


def upgrade_request(session, tok):
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET /api/v1/sessions/{session}/live?token={tok} HTTP/1.1\r\nHost: a\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


class LiveSocket:
    """A raw ws:// connection through the upgrade and the welcome."""
    count = 0

    def __init__(self, port, session):
        LiveSocket.count += 1
        # An admin of its own per socket (admins join as teachers; no per-user socket limit).
        tok = token(f"adm{LiveSocket.count}", "admin")
        self.sock = connect(port, timeout=10)
        self.sock.sendall(upgrade_request(session, tok))
        head, rest = read_head(self.sock)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.reader = FrameReader(lambda: self.sock.recv(65536))
        self.reader.buf = rest
        _, op, data = self.reader.frame()
        assert op == 1 and json.loads(data)["type"] == "welcome", data

    def close(self):
        self.sock.close()


def live_session(request):
    st, course = request("POST", "/api/v1/courses", {"title": "A", "capacity": 50,
                                                    "status": "active"}, T)
    assert st == 201, course
    st, ses = request("POST", f"/api/v1/courses/{course['id']}/sessions", {"title": "L"}, T)
    assert st == 201, ses
    return ses["id"]


# Malformed input and what the server closes with (RFC 6455; docs/live-protocol.md).
REFUSALS = [
    ("a frame over 64 KiB", ws_frame(1, b"x" * (64 * 1024 + 1)), 1009),
    ("a message over 64 KiB in fragments",
     ws_frame(1, b"x" * 40000, fin=False) + ws_frame(0, b"x" * 30000), 1009),
    ("a 64-bit length with the top bit set",
     bytes([0x81, 0xFF]) + struct.pack(">Q", 1 << 63) + b"abcd", 1002),
    ("a 2^62-byte frame", bytes([0x81, 0xFF]) + struct.pack(">Q", 1 << 62) + b"abcd", 1009),
    ("an unmasked frame", bytes([0x81, 0x02]) + b"{}", 1002),
    ("RSV1 set", ws_frame(1, b"{}", rsv=4), 1002),
    ("a fragmented ping", ws_frame(9, b"x", fin=False), 1002),
    ("a 126-byte ping", ws_frame(9, b"x" * 126), 1002),
    ("a continuation first", ws_frame(0, b"{}"), 1002),
    ("a new message inside a fragmented one", ws_frame(1, b"{", fin=False) + ws_frame(1, b"}"),
     1002),
    ("a binary frame", ws_frame(2, b"{}"), 4000),
    ("text that is not UTF-8", ws_frame(1, b'{"type":"ping","ref":"\xff"}'), 1007),
    ("UTF-8 cut across fragments",
     ws_frame(1, b'{"type":"ping","ref":"\xe2', fin=False) + ws_frame(0, b'"}'), 1007),
    ("opcode 3", ws_frame(3, b""), 1002),
    ("a close whose payload is one byte", ws_frame(8, b"\x03"), 1002),
    ("a close with code 0", ws_frame(8, b"\x00\x00"), 1002),
    ("a close with code 1005", ws_frame(8, struct.pack(">H", 1005)), 1002),
    ("a close with code 1006", ws_frame(8, struct.pack(">H", 1006)), 1002),
    ("a close with code 2999", ws_frame(8, struct.pack(">H", 2999)), 1002),
    ("a close whose reason is not UTF-8", ws_frame(8, b"\x03\xe8\xff"), 1007),
    ("a close with code 1000", ws_frame(8, struct.pack(">H", 1000)), 1000),
    ("a close with code 4000 and a reason", ws_frame(8, struct.pack(">H", 4000) + b"bye"), 4000),
    ("a close without a code", ws_frame(8, b""), 1005),
]


class LiveReadPathTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.session = live_session(cls.srv.request)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_frames_cut_at_every_byte_are_read_whole(self):
        msg = ping("frag")
        # A message in three fragments with a ping between the first two, a message larger than
        # the 16 KiB read chunk, a small one.
        stream = (ws_frame(1, msg[:5], fin=False) + ws_frame(9, b"c1") +
                  ws_frame(0, msg[5:9], fin=False) + ws_frame(0, msg[9:]) +
                  ws_frame(1, ping("big", 20000)) + ws_frame(1, ping("tail")))
        cuts = list(range(1, 120)) + list(range(120, len(stream) - 60, 211)) + \
            list(range(len(stream) - 60, len(stream)))
        w = LiveSocket(self.srv.port, self.session)
        for cut in cuts:
            send_split(w.sock, stream, [cut], pause=0.0005)
            self.assertEqual(replies(w.reader, ["frag", "big", "tail"], control_pongs=1),
                             ["frag", "big", "tail"], f"cut at {cut}")
        w.close()

    def test_random_fragmentation_and_cuts(self):
        rng = random.Random(3)
        w = LiveSocket(self.srv.port, self.session)
        for i in range(120):
            frames, refs, pings = b"", [], 0
            for j in range(rng.randint(1, 5)):
                ref = f"r{i}_{j}"
                msg = ping(ref, rng.choice([0, 0, 100, 16 * 1024 - 20, 16 * 1024, 40000, 65000]))
                n = rng.choice([1, 1, 2, 5])
                parts = [msg[k * len(msg) // n:(k + 1) * len(msg) // n] for k in range(n)]
                for k, p in enumerate(parts):
                    frames += ws_frame(1 if k == 0 else 0, p, fin=k == n - 1)
                    if k < n - 1 and rng.random() < 0.5:
                        frames += ws_frame(9, os.urandom(rng.randint(0, 125)))
                        pings += 1
                refs.append(ref)
            cuts = sorted(rng.sample(range(1, len(frames)), min(len(frames) - 1, rng.randint(1, 20))))
            send_split(w.sock, frames, cuts, pause=0.0002)
            self.assertEqual(replies(w.reader, refs, control_pongs=pings), refs, f"burst {i}")
        w.close()

    def test_malformed_frames_close_with_their_code(self):
        for what, data, code in REFUSALS:
            w = LiveSocket(self.srv.port, self.session)
            try:
                w.sock.sendall(data)
            except OSError:
                pass
            self.assertEqual(close_code(w.reader), code, what)
            w.close()

    def test_a_client_gone_in_the_middle_of_a_frame_leaves_the_server_serving(self):
        rng = random.Random(5)
        for i in range(40):
            w = LiveSocket(self.srv.port, self.session)
            f = ws_frame(1, ping("m", rng.choice([10, 20000, 60000])))
            w.sock.sendall(f[:rng.randint(1, len(f) - 1)])
            if i % 2:  # a reset rather than a FIN
                w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            w.close()
        w = LiveSocket(self.srv.port, self.session)
        w.sock.sendall(ws_frame(1, ping("after")))
        self.assertEqual(replies(w.reader, ["after"]), ["after"])
        w.close()


class TlsLiveSocket:
    """wss:// with TLS done in memory, so that records and TCP segments are ours to cut."""

    def __init__(self, port, session, rng, user="tls1", early=b"", records=(1, 7, 300)):
        """`early`: frames sent with the upgrade request (in the same records)."""
        self.rng = rng
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.tls = MemoryClient(port, ctx, server_hostname=None, raw=connect(port, timeout=10))
        self.tls.handshake()
        self.reader = FrameReader(self.more)
        self.send(upgrade_request(session, token(user, "admin")) + early, list(records), 10)
        while b"\r\n\r\n" not in self.reader.buf:
            self.reader.buf += self.more()
        head, self.reader.buf = self.reader.buf.split(b"\r\n\r\n", 1)
        assert b" 101 " in head, head
        _, op, data = self.reader.frame()
        assert op == 1 and json.loads(data)["type"] == "welcome", data

    def flush(self, cuts):
        data = self.tls.out.read()
        if cuts and len(data) > 1:
            at = sorted(self.rng.sample(range(1, len(data)), min(len(data) - 1, cuts)))
            send_split(self.tls.raw, data, at, pause=0.0002)
        elif data:
            self.tls.raw.sendall(data)

    def send(self, data, record_sizes, cuts):
        """`data` in TLS records of sizes drawn from `record_sizes`, the ciphertext in `cuts`
        TCP sends cut anywhere."""
        i = 0
        while i < len(data):
            n = self.rng.choice(record_sizes)
            self.tls.obj.write(data[i:i + n])
            i += n
        self.flush(cuts)

    def more(self):
        return self.tls.recv()


class TlsLiveReadPathTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="edgeclass-tls-hostile-")
        r = subprocess.run([BINARY, "cert", "--self-signed", "--host", "127.0.0.1", "--out",
                            cls.dir], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        cls.srv = Server(env={"EDGECLASS_TLS_CERT": os.path.join(cls.dir, "cert.pem"),
                              "EDGECLASS_TLS_KEY": os.path.join(cls.dir, "key.pem")}).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def request(self, method, path, body, tok):
        import http.client
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", self.srv.port, timeout=30, context=ctx)
        c.request(method, path, body=json.dumps(body),
                  headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
        r = c.getresponse()
        out = r.status, json.loads(r.read())
        c.close()
        return out

    def test_frames_in_odd_tls_records_cut_anywhere_are_read_whole(self):
        rng = random.Random(11)
        w = TlsLiveSocket(self.srv.port, live_session(self.request), rng)
        for i in range(30):
            refs, frames = [], b""
            for j in range(rng.randint(1, 4)):
                ref = f"t{i}_{j}"
                msg = ping(ref, rng.choice([0, 50, 16 * 1024, 30000]))
                n = rng.choice([1, 3])
                parts = [msg[k * len(msg) // n:(k + 1) * len(msg) // n] for k in range(n)]
                for k, p in enumerate(parts):
                    frames += ws_frame(1 if k == 0 else 0, p, fin=k == n - 1)
                refs.append(ref)
            # One-byte records (the costly case for the client) only for short bursts.
            sizes = [[1, 2, 3], [1, 16384], [100, 16384], [5, 16384, 7000]]
            w.send(frames, rng.choice(sizes if len(frames) < 4096 else sizes[1:]),
                   rng.randint(0, 30))
            self.assertEqual(replies(w.reader, refs), refs, f"burst {i}")
        w.tls.raw.close()

    def test_frames_sent_with_the_upgrade_reach_the_session(self):
        # Read by the HTTP server with the upgrade (or left in OpenSSL), then handed over with the
        # connection, on two I/O threads, so that some sockets move to their room's thread.
        rng = random.Random(12)
        session = live_session(self.request)
        for i in range(16):
            early = ws_frame(1, ping("e1")) + ws_frame(1, ping("e2", rng.choice([10, 20000])))
            w = TlsLiveSocket(self.srv.port, session, rng, user=f"early{i}", early=early,
                              records=rng.choice([(100000,), (1, 50, 16384), (300, 5)]))
            self.assertEqual(replies(w.reader, ["e1", "e2"]), ["e1", "e2"], f"connection {i}")
            w.tls.raw.close()


if __name__ == "__main__":
    unittest.main()
