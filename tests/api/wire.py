"""Raw HTTP/1.1 and WebSocket wire helpers for the API tests: a response reader for pipelined
answers, sends cut where a test says, and masked client frames and a server frame reader."""
import os
import socket
import ssl
import struct
import time


class Reader:
    """Reads HTTP/1.1 responses off one socket (Content-Length framing)."""

    def __init__(self, sk):
        self.sk = sk
        self.buf = b""

    def _fill(self):
        data = self.sk.recv(65536)
        if not data:
            raise EOFError("connection closed; had %r" % self.buf[:200])
        self.buf += data

    def response(self, head=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        header, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = 0 if head else int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def next(self, head=False):
        """response(), or None once the peer closed (or reset) before a whole one came."""
        try:
            return self.response(head)
        except (EOFError, ConnectionResetError):
            return None


def read_head(sock):
    """An HTTP head read off `sock`: (head, the bytes read after it). ConnectionError when the
    peer closes first."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the end of the head")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def connect_nodelay(port, timeout=10):
    """A loopback connection whose small sends leave at once (no Nagle)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def send_split(sock, data, cuts, pause=0.002):
    """Sends `data` in pieces cut at the offsets `cuts`, pausing between pieces so the server
    reads them apart."""
    last = 0
    for c in sorted(set(cuts)) + [len(data)]:
        if c > last:
            sock.sendall(data[last:c])
            last = c
            time.sleep(pause)


def ws_frame(opcode, payload, fin=True, mask=None, rsv=0):
    """A client frame (masked, with a random mask unless given)."""
    mask = mask if mask is not None else os.urandom(4)
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


class FrameReader:
    """Frames from a byte source: `more()` returns the next bytes, b"" at the end (raises
    ConnectionError then). `buf` may be primed with bytes already read."""

    def __init__(self, more):
        self.more = more
        self.buf = b""

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.more()
            if not chunk:
                raise ConnectionError("connection lost")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        """(fin, opcode, payload), unmasked."""
        b0, b1 = self._exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._exact(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._exact(8))[0]
        mask = self._exact(4) if b1 & 0x80 else None
        data = self._exact(n)
        if mask:
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        return b0 & 0x80, b0 & 0x0F, data


class MemoryClient:
    """A TLS client on a raw socket through memory BIOs: the test decides when each byte goes
    out (a ClientHello dribbled, records cut anywhere, a close_notify without the TCP end)."""

    def __init__(self, port, ctx, server_hostname="127.0.0.1", raw=None):
        self.raw = raw or socket.create_connection(("127.0.0.1", port), timeout=10)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_hostname=server_hostname)

    def client_hello(self):
        try:
            self.obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.out.read()

    def flush(self):
        data = self.out.read()
        if data:
            self.raw.sendall(data)

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self.flush()
                return
            except ssl.SSLWantReadError:
                self.flush()
                chunk = self.raw.recv(65536)
                if not chunk:
                    raise ConnectionError("closed during the handshake")
                self.inc.write(chunk)

    def send(self, data):
        self.obj.write(data)
        self.flush()

    def recv(self):
        """The next plaintext the server sent; b"" once it ended the TCP connection."""
        while True:
            try:
                return self.obj.read(65536)
            except ssl.SSLWantReadError:
                chunk = self.raw.recv(65536)
                if not chunk:
                    return b""
                self.inc.write(chunk)

    def send_close_notify(self):
        try:
            self.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        self.flush()

    def reset(self):
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.raw.close()
