"""The live room as a projection of the database, against the real binary: REST changes reach
open rooms (docs/live-protocol.md, "The room and the database") and a restarted server
rebuilds its rooms from SQLite. Uses a minimal stdlib WebSocket client."""
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import tempfile
import time
import unittest

from harness import Server, token
from wire import FrameReader, read_head, ws_frame

T = token("t1", "teacher", "Ms T")
S1 = token("s1", "student", "Student 1")
S2 = token("s2", "student", "Student 2")


class HttpRefused(Exception):
    def __init__(self, status):
        super().__init__(f"upgrade refused: HTTP {status}")
        self.status = status


class WebSocket:
    """A blocking RFC 6455 client: text frames only, answers pings and the close. Its waits
    (recv, expect, closed) default to 15 s: what they wait for crosses processes (and, in the
    city, replicas and Redis), which a loaded 2-core machine can hold up for seconds."""

    def __init__(self, port, path, browser=True):
        """`browser`: send an Origin header, as browsers do (refusals are then close codes;
        without it they are HTTP errors before the upgrade, raised as HttpRefused)."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._handshake(path, "Origin: http://127.0.0.1\r\n" if browser else "")

    def _handshake(self, path, origin):
        """The opening handshake over self.sock; HttpRefused when the answer is not 101."""
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n{origin}"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head, rest = read_head(self.sock)
        self.frames = FrameReader(lambda: self.sock.recv(65536))
        self.frames.buf = rest
        status = int(head.split(b" ", 2)[1])
        if status != 101:
            self.sock.close()
            raise HttpRefused(status)
        self.close_code = None
        self.close_reason = ""

    def _send_frame(self, opcode, data):
        self.sock.sendall(ws_frame(opcode, data))

    def recv(self, timeout=15):
        """The next message as a dict; None once the server closed (close_code says why)."""
        self.sock.settimeout(timeout)
        message = b""
        while True:
            try:
                fin, opcode, data = self.frames.frame()
            except (ConnectionError, socket.timeout, OSError):
                return None
            if opcode == 0x8:
                self.close_code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else 1005
                self.close_reason = data[2:].decode()
                try:
                    self._send_frame(0x8, data[:2])
                except OSError:
                    pass
                return None
            if opcode == 0x9:
                self._send_frame(0xA, data)
                continue
            if opcode in (0x1, 0x0):
                message += data
                if fin:
                    return json.loads(message)

    def expect(self, kind, timeout=15):
        until = time.time() + timeout
        while time.time() < until:
            m = self.recv(max(0.1, until - time.time()))
            if m is None:
                return None
            if m["type"] == kind:
                return m
        return None

    def closed(self, timeout=15):
        """Reads until the server closes; its close code (None: it did not close in time)."""
        until = time.time() + timeout
        while time.time() < until:
            if self.recv(max(0.1, until - time.time())) is None:
                return self.close_code
        return None

    def send(self, obj):
        self._send_frame(0x1, json.dumps(obj).encode())

    def close(self):
        self.sock.close()


class LiveRoomTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="edgeclass-room-")
        self.srv = Server(data_dir=self.data_dir).start()
        s = self.srv
        self.course = s.course(T, capacity=5)["id"]
        for tok in (S1, S2):
            st, _ = s.request("POST", f"/api/v1/courses/{self.course}/join", tok=tok)
            self.assertEqual(st, 201)
        st, ses = s.request("POST", f"/api/v1/courses/{self.course}/sessions", {"title": "L1"}, T)
        self.assertEqual(st, 201, ses)
        self.session = ses["id"]
        st, q = s.request("POST", f"/api/v1/sessions/{self.session}/quizzes",
                          {"title": "Check", "questions": [
                              {"kind": "single", "prompt": "2+2?", "options": ["3", "4"],
                               "correct": [1]}]}, T)
        self.assertEqual(st, 201, q)
        self.quiz = q["id"]
        self.sockets = []

    def tearDown(self):
        for w in self.sockets:
            w.close()
        self.srv.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def live(self, tok):
        w = WebSocket(self.srv.port, f"/api/v1/sessions/{self.session}/live?token={tok}")
        self.sockets.append(w)
        return w

    def test_frames_sent_with_the_upgrade_request_reach_the_session(self):
        # A ping in the same write as the upgrade request (read with it by the HTTP server):
        # answered after the 101, not dropped.
        key = base64.b64encode(os.urandom(16)).decode()
        mask = os.urandom(4)
        ping = bytes([0x89, 0x84]) + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(b"with"))
        w = WebSocket.__new__(WebSocket)
        w.sock = socket.create_connection(("127.0.0.1", self.srv.port), timeout=15)
        self.sockets.append(w)
        w.sock.sendall((f"GET /api/v1/sessions/{self.session}/live?token={S1} HTTP/1.1\r\n"
                        "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nOrigin: http://127.0.0.1\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode() + ping)
        head, rest = read_head(w.sock)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        frames = FrameReader(lambda: w.sock.recv(65536))
        frames.buf = rest
        for _ in range(20):  # the welcome (and what the room sends) may come first
            _, opcode, data = frames.frame()
            if opcode == 0xA:
                self.assertEqual(data, b"with")
                return
        self.fail("the ping sent with the upgrade request was not answered")

    def test_quiz_published_over_rest_is_open_in_the_room_and_after_a_restart(self):
        st, q = self.srv.request("POST", f"/api/v1/quizzes/{self.quiz}/publish",
                                 {"time_limit_s": 600}, T)
        self.assertEqual(st, 200, q)
        a = self.live(S1)
        welcome = a.expect("welcome")
        quiz = welcome["snapshot"]["quiz"]
        self.assertIsNotNone(quiz, "the quiz published before the room opened is not in it")
        self.assertEqual((quiz["quiz"]["id"], quiz["quiz"]["status"]), (self.quiz, "open"))
        deadline = quiz["quiz"]["deadline"]
        a.send({"type": "answer", "quiz_id": self.quiz,
                "answers": [{"question": 0, "choice": [1]}]})
        self.assertIsNotNone(a.expect("answer_accepted"))

        # SIGTERM: live connections close with 1001. The client answers the close while the
        # server drains (a client that never answers holds the shutdown for the close timeout).
        self.srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(a.closed(), 1001)
        self.srv.stop()
        # The room's open quiz (its deadline timer) does not hold the shutdown to the drain
        # timeout.
        self.assertFalse([l for l in self.srv.log if "http.drain_timeout" in l],
                         "SIGTERM waited for the drain timeout")
        self.srv = Server(data_dir=self.data_dir).start()
        a2 = self.live(S1)
        welcome2 = a2.expect("welcome")
        self.assertNotEqual(welcome2["epoch"], welcome["epoch"])
        quiz = welcome2["snapshot"]["quiz"]
        self.assertIsNotNone(quiz, "the restarted room forgot its open quiz")
        self.assertEqual((quiz["quiz"]["id"], quiz["quiz"]["status"]), (self.quiz, "open"))
        self.assertEqual(quiz["quiz"]["deadline"], deadline)
        self.assertTrue(quiz["answered"])
        teacher = self.live(T)
        results = teacher.expect("welcome")["snapshot"]["quiz"]["results"]
        self.assertEqual(results["answered"], 1)

    def test_rest_changes_reach_connected_sockets(self):
        s = self.srv
        teacher, a, b = self.live(T), self.live(S1), self.live(S2)
        for w in (teacher, a, b):
            self.assertIsNotNone(w.expect("welcome"))
        # Publish and close over REST: the same events as live.
        self.assertEqual(s.request("POST", f"/api/v1/quizzes/{self.quiz}/publish",
                                   {"time_limit_s": 60}, T)[0], 200)
        self.assertEqual(a.expect("quiz_published")["quiz"]["id"], self.quiz)
        self.assertEqual(s.request("POST", f"/api/v1/quizzes/{self.quiz}/close", None, T)[0], 200)
        self.assertIsNotNone(a.expect("quiz_closed"))
        self.assertIsNotNone(a.expect("quiz_score"))
        # Removal over REST: the student's socket closes with 4003 and it cannot rejoin.
        st, _ = s.request("DELETE", f"/api/v1/courses/{self.course}/students/s1", tok=T)
        self.assertEqual(st, 200)
        self.assertEqual(a.expect("removed")["reason"], "removed_from_course")
        self.assertEqual(a.closed(), 4003)
        self.assertEqual(a.close_reason, "removed from the course")
        self.assertEqual(self.live(S1).closed(), 4003)
        with self.assertRaises(HttpRefused) as refused:  # a program gets the HTTP answer
            WebSocket(s.port, f"/api/v1/sessions/{self.session}/live?token={S1}", browser=False)
        self.assertEqual(refused.exception.status, 403)
        # Capacity down to the one student left: a newcomer is refused as full.
        st, _ = s.request("PATCH", f"/api/v1/courses/{self.course}", {"capacity": 1}, T)
        self.assertEqual(st, 200)
        s3 = token("s3", "student")
        self.assertEqual(s.request("POST", f"/api/v1/courses/{self.course}/join", tok=s3)[0], 403)
        self.assertEqual(s.request("PATCH", f"/api/v1/courses/{self.course}",
                                   {"capacity": 5}, T)[0], 200)
        self.assertEqual(s.request("POST", f"/api/v1/courses/{self.course}/join", tok=s3)[0], 201)
        self.assertEqual(s.request("PATCH", f"/api/v1/courses/{self.course}",
                                   {"capacity": 1}, T)[0], 200)
        self.assertEqual(self.live(s3).closed(), 4009)
        # Session end over REST: session_ended, then 1000; joining after is 4010.
        self.assertEqual(s.request("POST", f"/api/v1/sessions/{self.session}/end", None, T)[0], 200)
        self.assertEqual(b.expect("session_ended")["reason"], "teacher_ended")
        self.assertEqual(b.closed(), 1000)
        self.assertEqual(self.live(S2).closed(), 4010)

    def test_archiving_the_course_ends_the_live_room(self):
        a = self.live(S1)
        self.assertIsNotNone(a.expect("welcome"))
        st, _ = self.srv.request("PATCH", f"/api/v1/courses/{self.course}",
                                 {"status": "archived"}, T)
        self.assertEqual(st, 200)
        self.assertEqual(a.expect("session_ended")["reason"], "course_archived")
        self.assertEqual(a.closed(), 1000)
        st, ses = self.srv.request("GET", f"/api/v1/sessions/{self.session}", tok=T)
        self.assertEqual(ses["status"], "ended")

    def metrics(self):
        """{(name, ((label, value), ...)): float} from the admin listener's /metrics."""
        st, text = self.srv.request("GET", "/metrics", admin=True)
        self.assertEqual(st, 200)
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            series, value = line.rsplit(" ", 1)
            name, _, labels = series.partition("{")
            pairs = tuple(tuple(kv.split("=", 1)) for kv in labels.rstrip("}").split(",") if kv)
            out[(name, tuple((k, v.strip('"')) for k, v in pairs))] = float(value)
        return out

    def test_metrics_count_participants_messages_and_errors(self):
        def value(m, name, **labels):
            return m.get((name, tuple(sorted(labels.items()))), 0.0)

        def participants(role):
            return value(self.metrics(), "edgeclass_live_participants", role=role)

        before = self.metrics()
        self.assertEqual(value(before, "edgeclass_live_participants", role="student"), 0)
        t = self.live(T)
        s1 = self.live(S1)
        s1b = self.live(S1)  # a second tab: still one participant
        s2 = self.live(S2)
        for w in (t, s1, s1b, s2):
            self.assertIsNotNone(w.expect("welcome"))
        until = time.time() + 15  # the gauge is read on another thread than the welcomes
        while time.time() < until and (participants("student"), participants("teacher")) != (2, 1):
            time.sleep(0.05)
        self.assertEqual(participants("student"), 2)
        self.assertEqual(participants("teacher"), 1)

        s2.send({"type": "chat", "text": "hello"})
        for w in (t, s1, s1b, s2):
            self.assertIsNotNone(w.expect("chat_message"))
        s2.send({"type": "quiz_publish", "quiz_id": self.quiz})  # a student may not
        refused = s2.expect("error")
        self.assertIsNotNone(refused)
        s2.send({"type": "no_such_type"})
        invalid = s2.expect("error")
        self.assertIsNotNone(invalid)
        st, missing = self.srv.request("GET", "/api/v1/courses/crs_missing", tok=T)
        self.assertEqual(st, 404)

        after = self.metrics()

        def moved(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        # A message is counted when it is queued for its socket, on the socket's thread, which
        # may be a moment after another socket read it: wait for the counts asserted below.
        until = time.time() + 15
        while time.time() < until and not (
                moved("edgeclass_live_messages_sent_total", type="chat_message") >= 4
                and moved("edgeclass_live_messages_sent_total", type="welcome") >= 4
                and moved("edgeclass_live_messages_sent_total", type="error") >= 2):
            time.sleep(0.05)
            after = self.metrics()

        self.assertEqual(moved("edgeclass_live_messages_received_total", type="chat"), 1)
        self.assertEqual(moved("edgeclass_live_messages_received_total", type="quiz_publish"), 1)
        self.assertEqual(moved("edgeclass_live_messages_received_total", type="invalid"), 1)
        # One chat_message per receiving socket, four welcomes, two error replies.
        self.assertEqual(moved("edgeclass_live_messages_sent_total", type="chat_message"), 4)
        self.assertEqual(moved("edgeclass_live_messages_sent_total", type="welcome"), 4)
        self.assertEqual(moved("edgeclass_live_messages_sent_total", type="error"), 2)
        errors = sum(value(after, *k[:1], **dict(k[1])) - value(before, *k[:1], **dict(k[1]))
                     for k in after if k[0] == "edgeclass_live_error_replies_total")
        self.assertEqual(errors, 2)
        self.assertGreaterEqual(moved("edgeclass_live_error_replies_total", code=refused["code"]), 1)
        self.assertGreaterEqual(moved("edgeclass_live_error_replies_total", code=invalid["code"]), 1)
        # HTTP metrics are recorded once the response is written (the request's latency ends
        # there), which may be just after the client has read it: wait for that moment.
        until = time.time() + 15
        while time.time() < until and moved("edgeclass_http_error_replies_total",
                                            code=missing["error"]["code"]) == 0:
            time.sleep(0.05)
            after = self.metrics()
        self.assertEqual(moved("edgeclass_http_error_replies_total",
                               code=missing["error"]["code"]), 1)

        s2.close()
        s1.close()  # s1's other tab stays
        until = time.time() + 15
        while time.time() < until and participants("student") != 1:
            time.sleep(0.05)
        self.assertEqual(participants("student"), 1)
        self.assertEqual(participants("teacher"), 1)


class MediaFailureTest(unittest.TestCase):
    """A browser whose ICE never reaches the media port (the student's black box): the
    transport fails after EDGECLASS_MEDIA_ICE_TIMEOUT, the client is told, the failure is
    logged with course, session and user, and counted in /metrics."""

    def test_ice_timeout_is_reported_logged_and_counted(self):
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "..", "media", "data", "chromium_publish_offer.sdp")) as f:
            offer = f.read()
        with Server(env={"EDGECLASS_MEDIA_PORT": "0", "EDGECLASS_MEDIA_ICE_TIMEOUT": "1s"}) as s:
            course = s.course(T, capacity=5)["id"]
            st, ses = s.request("POST", f"/api/v1/courses/{course}/sessions", {"title": "L"}, T)
            self.assertEqual(st, 201, ses)
            w = WebSocket(s.port, f"/api/v1/sessions/{ses['id']}/live?token={T}")
            try:
                self.assertIsNotNone(w.expect("welcome"))
                w.send({"type": "media.publish", "sdp": offer, "ref": "p1"})
                answer = w.expect("media.answer")
                self.assertIsNotNone(answer)
                # No STUN ever reaches the media port.
                gone = w.expect("media.disconnected", timeout=10)
                self.assertIsNotNone(gone)
                self.assertEqual(gone["connection"], "publish")
            finally:
                w.close()

            def metric(name, labels=""):
                st, text = s.request("GET", "/metrics", admin=True)
                m = re.search("^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
                return float(m.group(1)) if m else None

            until = time.time() + 15  # the media counters are refreshed once a second
            while time.time() < until and metric("edgeclass_media_ice_failures_total",
                                                 '{reason="timeout"}') != 1:
                time.sleep(0.1)
            self.assertEqual(metric("edgeclass_media_ice_failures_total", '{reason="timeout"}'), 1)
            self.assertEqual(metric("edgeclass_media_ice_failures_total",
                                    '{reason="consent_expired"}'), 0)
            self.assertEqual(metric("edgeclass_media_dtls_failures_total"), 0)
            # The line comes from the server's log thread, maybe after the counter moved.
            lines = [json.loads(l) for l in s.wait_log('"media.ice_failed"')]
            self.assertEqual(len(lines), 1, "".join(s.log[-20:]))
            self.assertEqual(lines[0]["level"], "warn")
            self.assertEqual((lines[0]["course"], lines[0]["session"], lines[0]["user"],
                              lines[0]["connection"], lines[0]["failure"]),
                             (course, ses["id"], "t1", "publish", "ice_timeout"))


if __name__ == "__main__":
    unittest.main()
