"""Raw-socket helpers for the hostile request-path tests (test_request_path_hostile.py): a strict
HTTP/1.1 response reader for pipelined answers, and a masked WebSocket frame builder."""
import os
import socket
import struct
import time


class Responses:
    """Reads HTTP/1.1 responses off one socket, in order (bodies framed by Content-Length)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.closed = False

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def next(self, head_request=False):
        """(status, headers dict lower-cased, body) or None when the peer closed first."""
        while b"\r\n\r\n" not in self.buf:
            if self.closed or not self._fill():
                return None
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode("latin-1")
        n = 0 if head_request else int(headers.get("content-length", "0"))
        while len(rest) < n:
            if self.closed or not self._fill():
                return None
            rest = self.buf.split(b"\r\n\r\n", 1)[1]
        self.buf = rest[n:]
        return status, headers, rest[:n]

    def rest_until_closed(self, timeout=5):
        self.sock.settimeout(timeout)
        while not self.closed and self._fill():
            pass
        return self.buf


def connect(port, timeout=10):
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
    mask = mask if mask is not None else os.urandom(4)
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return head + mask + masked
