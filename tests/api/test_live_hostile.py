"""The live socket against a hostile client, on the real binary over raw sockets: what one
student can send must not grow the server's memory or stall its room (docs/live-protocol.md,
"Flow control"). Bounded: a few seconds against a release build."""
import json
import socket
import unittest

from harness import ServerTestCase, token
from test_request_path_hostile import live_session, ping, upgrade_request
from wire import FrameReader, read_head, ws_frame


def raw_live_socket(port, session, tok, rcvbuf=None):
    """A ws:// connection through the upgrade and the welcome: (socket, FrameReader). `rcvbuf`
    is set before connecting, so the window the client announces is small from the start."""
    sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sk.settimeout(15)
    sk.connect(("127.0.0.1", port))
    sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sk.sendall(upgrade_request(session, tok))
    head, rest = read_head(sk)
    assert b" 101 " in head.split(b"\r\n")[0], head
    frames = FrameReader(lambda: sk.recv(65536))
    frames.buf = rest
    _, op, data = frames.frame()
    assert op == 1 and json.loads(data)["type"] == "welcome", data
    return sk, frames


class LivePingFloodTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session = live_session(cls.srv.request)

    def test_a_ping_flood_from_a_client_that_reads_nothing_queues_one_pong(self):
        # Pongs are queued outside the send queue's bounds, so each ping of a client that
        # never reads used to add a frame to its queue for good: 2 GB of pings grew the
        # server by 3.7 GB in 10 s. While the socket is full the latest ping's pong replaces
        # the one still waiting (RFC 6455 §5.5.3), so the client, once it reads, gets what
        # the socket buffers held and one pong for the rest.
        st, course = self.srv.request("POST", "/api/v1/courses", {"title": "P", "status": "active"},
                                      token("t1", "teacher", "Ms T"))
        self.assertEqual(st, 201, course)
        s = token("pinger", "student", "Pinger")
        self.assertEqual(self.srv.request("POST", f"/api/v1/courses/{course['id']}/join", tok=s)[0],
                         201)
        st, ses = self.srv.request("POST", f"/api/v1/courses/{course['id']}/sessions", {},
                                   token("t1", "teacher", "Ms T"))
        self.assertEqual(st, 201, ses)
        sk, frames = raw_live_socket(self.srv.port, ses["id"], s, rcvbuf=4096)
        # 9 MB of pongs: more than loopback's socket buffers (4 MB send, 4 KB receive) hold.
        n, batch = 72000, 1000
        payload = lambda i: b"%09d" % i + b"p" * 116  # 125 bytes, the most a ping carries
        for start in range(0, n, batch):
            sk.sendall(b"".join(ws_frame(9, payload(i), mask=b"\x01\x02\x03\x04")
                                for i in range(start, start + batch)))
        sk.sendall(ws_frame(1, ping("end")))
        pongs, last = 0, None
        while True:
            _, op, data = frames.frame()
            if op == 0xA:
                pongs += 1
                last = data
            elif op == 1 and json.loads(data).get("ref") == "end":
                break
            else:
                self.assertNotEqual(op, 8, f"closed: {data!r}")
        self.assertEqual(last, payload(n - 1), "the latest ping is answered")
        self.assertLess(pongs, n // 2, "the pongs of a client that did not read were all queued")
        sk.close()
        self.assertEqual(self.srv.request("GET", "/healthz")[0], 200)


if __name__ == "__main__":
    unittest.main()
