"""End-to-end tests of the REST API against the real binary (docs/api.md)."""
import asyncio
import json
import os
import resource
import signal
import sqlite3
import subprocess
import threading
import time
import unittest

from harness import BINARY, Server, ServerTestCase, token, async_request, wait_until

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

T = token("t1", "teacher", "Ms T")
T2 = token("t2", "teacher", "Mr U")
ADMIN = token("a1", "admin")


class FlowTest(ServerTestCase):
    def test_course_join_session_quiz_results(self):
        s = self.srv
        c = s.course(T, capacity=2, active=False)
        self.assertEqual(c["status"], "draft")
        self.assertEqual(c["teacher_id"], "t1")
        s1, s2, s3 = (token(f"s{i}", "student", f"Student {i}") for i in (1, 2, 3))
        st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=s1)
        self.assertEqual(st, 403)
        self.assertIn("not active", body["error"]["message"])
        st, _ = s.request("PATCH", f"/api/v1/courses/{c['id']}", {"status": "active"}, T2)
        self.assertEqual(st, 403, "another teacher may not update the course")
        st, c = s.request("PATCH", f"/api/v1/courses/{c['id']}", {"status": "active"}, T)
        self.assertEqual((st, c["status"]), (200, "active"))
        self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=s1)[0], 201)
        self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=s1)[0], 200)
        self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=s2)[0], 201)
        st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=s3)
        self.assertEqual(st, 403)
        self.assertIn("full", body["error"]["message"])
        self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=T)[0], 403)
        st, roster = s.request("GET", f"/api/v1/courses/{c['id']}/students", tok=T)
        self.assertEqual(sorted(e["student_id"] for e in roster["items"]), ["s1", "s2"])
        self.assertEqual(s.request("GET", f"/api/v1/courses/{c['id']}/students", tok=s1)[0], 403)
        st, c2 = s.request("GET", f"/api/v1/courses/{c['id']}", tok=s1)
        self.assertEqual(c2["enrolled"], 2)

        st, ses = s.request("POST", f"/api/v1/courses/{c['id']}/sessions", {"title": "Lesson 1"}, T)
        self.assertEqual((st, ses["status"]), (201, "live"))
        st, body = s.request("POST", f"/api/v1/courses/{c['id']}/sessions", None, T)
        self.assertEqual((st, body["error"]["code"]), (409, "session_already_live"))
        self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/sessions", None, s1)[0], 403)

        quiz = {"title": "Warm-up", "questions": [
            {"kind": "single", "prompt": "2+2?", "options": ["3", "4", "5"], "correct": [1]},
            {"kind": "multiple", "prompt": "Primes?", "options": ["2", "4", "5"], "correct": [0, 2]},
            {"kind": "true_false", "prompt": "0 is even", "correct": [0]}]}
        st, q = s.request("POST", f"/api/v1/sessions/{ses['id']}/quizzes", quiz, T)
        self.assertEqual((st, q["status"]), (201, "draft"))
        st, body = s.request("POST", f"/api/v1/quizzes/{q['id']}/answers",
                             {"answers": [{"question": 0, "choice": [1]}]}, s1)
        self.assertEqual((st, body["error"]["code"]), (409, "quiz_not_published"))
        self.assertEqual(s.request("GET", f"/api/v1/quizzes/{q['id']}", tok=s1)[0], 404)
        st, q = s.request("POST", f"/api/v1/quizzes/{q['id']}/publish", {"time_limit_s": 120}, T)
        self.assertEqual((st, q["status"]), (200, "published"))
        st, qs = s.request("GET", f"/api/v1/quizzes/{q['id']}", tok=s1)
        self.assertEqual(st, 200)
        self.assertNotIn("correct", qs["questions"][0], "students must not see answers before close")

        st, ack = s.request("POST", f"/api/v1/quizzes/{q['id']}/answers", {"answers": [
            {"question": 0, "choice": [1]}, {"question": 1, "choice": [2, 0]},
            {"question": 2, "choice": 0}]}, s1)
        self.assertEqual(st, 201, ack)
        self.assertEqual(len(ack["answers"]), 3)
        st, _ = s.request("POST", f"/api/v1/quizzes/{q['id']}/answers",
                          {"answers": [{"question": 0, "choice": [1]}]}, s1)
        self.assertEqual(st, 201, "repeating the same choice is idempotent")
        st, body = s.request("POST", f"/api/v1/quizzes/{q['id']}/answers",
                             {"answers": [{"question": 0, "choice": [0]}]}, s1)
        self.assertEqual((st, body["error"]["code"]), (409, "already_answered"))
        st, _ = s.request("POST", f"/api/v1/quizzes/{q['id']}/answers",
                          {"answers": [{"question": 0, "choice": [0]}, {"question": 1, "choice": [1]}]}, s2)
        self.assertEqual(st, 201)
        st, body = s.request("POST", f"/api/v1/quizzes/{q['id']}/answers",
                             {"answers": [{"question": 0, "choice": [0, 1]}]}, s3)
        self.assertEqual(st, 403, "authorization comes before validating the choice")
        st, body = s.request("POST", f"/api/v1/quizzes/{q['id']}/answers",
                             {"answers": [{"question": 0, "choice": [1]}]}, s3)
        self.assertEqual(st, 403, "not enrolled")

        st, res = s.request("GET", f"/api/v1/quizzes/{q['id']}/results", tok=T)
        self.assertEqual(st, 200)
        self.assertEqual(res["answered_students"], 2)
        self.assertEqual(res["questions"][0]["counts"], [1, 1, 0])
        self.assertEqual(res["questions"][0]["correct"], 1)
        self.assertAlmostEqual(res["questions"][0]["correct_rate"], 0.5)
        self.assertEqual(res["questions"][1]["counts"], [1, 1, 1])
        scores = {x["student_id"]: x["score"] for x in res["students"]}
        self.assertEqual(scores, {"s1": 3, "s2": 0})
        st, mine = s.request("GET", f"/api/v1/quizzes/{q['id']}/results", tok=s2)
        self.assertEqual(mine["student_id"], "s2")
        self.assertNotIn("students", mine)
        self.assertIsNone(mine["score"], "scores are revealed at close")

        st, q = s.request("POST", f"/api/v1/quizzes/{q['id']}/close", None, T)
        self.assertEqual((st, q["status"]), (200, "closed"))
        st, body = s.request("POST", f"/api/v1/quizzes/{q['id']}/answers",
                             {"answers": [{"question": 2, "choice": [0]}]}, s2)
        self.assertEqual((st, body["error"]["code"]), (409, "quiz_closed"))
        st, mine = s.request("GET", f"/api/v1/quizzes/{q['id']}/results", tok=s1)
        self.assertEqual((mine["score"], mine["max_score"]), (3, 3))

        st, body = s.request("POST", f"/api/v1/courses/{c['id']}/leave", tok=s2)
        self.assertEqual(st, 200)
        self.assertEqual(s.request("DELETE", f"/api/v1/courses/{c['id']}/students/s1", tok=T)[0], 200)
        st, c3 = s.request("GET", f"/api/v1/courses/{c['id']}", tok=T)
        self.assertEqual(c3["enrolled"], 0)
        st, ended = s.request("POST", f"/api/v1/sessions/{ses['id']}/end", None, T)
        self.assertEqual((st, ended["status"]), (200, "ended"))
        self.assertEqual(s.request("POST", f"/api/v1/sessions/{ses['id']}/end", None, T)[0], 409)

    def test_late_answer_is_refused(self):
        s = self.srv
        c = s.course(T)
        stu = token("late1")
        s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=stu)
        _, ses = s.request("POST", f"/api/v1/courses/{c['id']}/sessions", None, T)
        _, q = s.request("POST", f"/api/v1/sessions/{ses['id']}/quizzes", {"title": "t", "questions": [
            {"kind": "true_false", "prompt": "p", "correct": [1]}]}, T)
        s.request("POST", f"/api/v1/quizzes/{q['id']}/publish", {"time_limit_s": 1}, T)
        time.sleep(1.2)
        st, body = s.request("POST", f"/api/v1/quizzes/{q['id']}/answers",
                             {"answers": [{"question": 0, "choice": 1}]}, stu)
        self.assertEqual((st, body["error"]["code"]), (409, "quiz_deadline_passed"))

    def test_listing_filters_and_cursor(self):
        s = self.srv
        t = token("lister", "teacher")
        ids = [s.course(t, title=f"C{i}", active=(i % 2 == 0))["id"] for i in range(5)]
        seen, cursor = [], None
        while True:
            path = "/api/v1/courses?teacher_id=lister&limit=2" + (f"&cursor={cursor}" if cursor else "")
            st, page = s.request("GET", path, tok=t)
            self.assertEqual(st, 200)
            self.assertLessEqual(len(page["items"]), 2)
            seen += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(len(seen), len(set(seen)), "no course twice across pages")
        self.assertEqual(sorted(seen), sorted(ids))
        st, page = s.request("GET", "/api/v1/courses?teacher_id=lister&status=active", tok=t)
        self.assertEqual(len(page["items"]), 3)
        st, page = s.request("GET", "/api/v1/courses?teacher_id=lister", tok=token("someone"))
        self.assertEqual(len(page["items"]), 3, "students do not see other teachers' drafts")
        self.assertEqual(s.request("GET", "/api/v1/courses?cursor=garbage", tok=t)[0], 400)
        self.assertEqual(s.request("GET", "/api/v1/courses?limit=0", tok=t)[0], 400)
        self.assertEqual(s.request("GET", "/api/v1/courses?status=open", tok=t)[0], 400)


class BadInputTest(ServerTestCase):
    def err(self, st_want, code_want, *args, **kw):
        st, body = self.srv.request(*args, **kw)
        self.assertEqual(st, st_want, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(body["error"]["code"], code_want, body)
        self.assertTrue(body["error"]["message"])
        return body

    def test_auth(self):
        self.err(401, "token_missing", "GET", "/api/v1/courses")
        self.err(401, "token_bad_signature", "GET", "/api/v1/courses",
                 tok=token("x", secret="another-secret-1234567"))
        self.err(401, "token_expired", "GET", "/api/v1/courses", tok=token("x", exp=1000))
        self.err(401, "token_malformed", "GET", "/api/v1/courses", tok="abc")
        # Time claims, with the documented 60 s leeway.
        now = int(time.time())
        self.err(401, "token_not_yet_valid", "GET", "/api/v1/me", tok=token("x", nbf=now + 86400))
        self.err(401, "token_not_yet_valid", "GET", "/api/v1/me", tok=token("x", iat=now + 3600))
        self.err(401, "token_invalid_claims", "GET", "/api/v1/me", tok=token("x", nbf="0"))
        self.err(401, "token_invalid_claims", "GET", "/api/v1/me", tok=token("x", iat=1.5))
        self.assertEqual(self.srv.request("GET", "/api/v1/me", tok=token("x", nbf=now + 30))[0], 200)
        self.assertEqual(self.srv.request("GET", "/api/v1/me", tok=token("x", exp=now - 30))[0], 200)
        self.err(403, "forbidden", "POST", "/api/v1/courses", {"title": "x"}, token("s"))
        st, body = self.srv.request("GET", "/v1/data/education", tok=T, admin=True)
        self.assertEqual((st, body["error"]["code"]), (403, "forbidden"))

    def test_quiz_questions_only_for_members(self):
        s = self.srv
        c = s.course(T)
        self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("m1"))[0], 201)
        _, ses = s.request("POST", f"/api/v1/courses/{c['id']}/sessions", None, T)
        _, q = s.request("POST", f"/api/v1/sessions/{ses['id']}/quizzes", {"title": "t", "questions": [
            {"kind": "single", "prompt": "secret question", "options": ["a", "b"], "correct": [1]}]}, T)
        s.request("POST", f"/api/v1/quizzes/{q['id']}/publish", {"time_limit_s": 600}, T)
        for who in (token("outsider"), T2):
            for path in (f"/api/v1/sessions/{ses['id']}/quizzes", f"/api/v1/quizzes/{q['id']}",
                         f"/api/v1/quizzes/{q['id']}/results"):
                st, body = s.request("GET", path, tok=who)
                self.assertEqual((st, body["error"]["code"]), (403, "forbidden"), path)
                self.assertNotIn("secret question", json.dumps(body))
        st, body = s.request("GET", f"/api/v1/sessions/{ses['id']}/quizzes", tok=token("m1"))
        self.assertEqual(st, 200)
        self.assertEqual(body["items"][0]["questions"][0]["prompt"], "secret question")
        self.assertNotIn("correct", body["items"][0]["questions"][0])

    def test_bodies(self):
        self.err(400, "invalid_json", "POST", "/api/v1/courses", tok=T, raw="{")
        self.err(400, "invalid_json", "POST", "/api/v1/courses", tok=T, raw="")
        self.err(400, "invalid_body", "POST", "/api/v1/courses", [1], T)
        self.err(400, "missing_field", "POST", "/api/v1/courses", {}, T)
        self.err(400, "invalid_field", "POST", "/api/v1/courses", {"title": 5}, T)
        self.err(400, "invalid_field", "POST", "/api/v1/courses", {"title": ""}, T)
        self.err(400, "invalid_field", "POST", "/api/v1/courses", {"title": "x", "capacity": 0}, T)
        self.err(400, "invalid_field", "POST", "/api/v1/courses", {"title": "x", "capacity": 1.5}, T)
        self.err(400, "invalid_field", "POST", "/api/v1/courses", {"title": "x", "capacity": "9"}, T)
        self.err(400, "invalid_field", "POST", "/api/v1/courses", {"title": "x", "status": "open"}, T)
        b = self.err(400, "unknown_field", "POST", "/api/v1/courses", {"title": "x", "capcity": 3}, T)
        self.assertIn("capcity", b["error"]["message"])
        self.err(400, "invalid_json", "POST", "/api/v1/courses", tok=T, raw="[" * 100 + "]" * 100)
        self.err(413, "body_too_large", "POST", "/api/v1/courses", tok=T,
                 raw='{"title":"' + "x" * (2 * 1024 * 1024) + '"}')
        c = self.srv.course(T)
        self.err(400, "empty_patch", "PATCH", f"/api/v1/courses/{c['id']}", {}, T)

    def test_ids_and_routes(self):
        self.err(404, "course_not_found", "GET", "/api/v1/courses/nope", tok=T)
        self.err(404, "course_not_found", "GET", "/api/v1/courses/crs_0000000000000", tok=T)
        self.err(404, "session_not_found", "GET", "/api/v1/sessions/x'%20or%201=1", tok=T)
        self.err(404, "quiz_not_found", "GET", "/api/v1/quizzes/qz_zzzz/results", tok=T)
        self.err(404, "route_not_found", "GET", "/api/v2/courses", tok=T)
        self.err(405, "method_not_allowed", "PUT", "/api/v1/courses", {}, T)

    def test_quiz_validation(self):
        s = self.srv
        c = s.course(T)
        _, ses = s.request("POST", f"/api/v1/courses/{c['id']}/sessions", None, T)
        base = f"/api/v1/sessions/{ses['id']}/quizzes"
        self.err(400, "invalid_field", "POST", base, {"title": "q", "questions": []}, T)
        self.err(400, "invalid_choice", "POST", base, {"title": "q", "questions": [
            {"kind": "single", "prompt": "p", "options": ["a", "b"], "correct": [0, 1]}]}, T)
        self.err(400, "missing_field", "POST", base, {"title": "q"}, T)
        self.err(400, "invalid_field", "POST", f"/api/v1/quizzes/qz_0000000000000/publish",
                 {"time_limit_s": 0}, T)

    def test_malformed_http_does_not_crash(self):
        import socket
        for raw in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                    b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n"):
            sk = socket.create_connection(("127.0.0.1", self.srv.port))
            sk.sendall(raw)
            sk.settimeout(5)
            data = sk.recv(4096)
            sk.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 4"), data[:80])
        self.assertEqual(self.srv.request("GET", "/healthz")[0], 200)


class ConcurrentJoinTest(unittest.TestCase):
    def test_5000_joins_never_over_admit(self):
        with Server() as s:
            c = s.course(T, capacity=1000)
            tokens = [token(f"stu{i}") for i in range(5000)]

            async def run():
                sem = asyncio.Semaphore(1000)

                async def one(tok):
                    async with sem:
                        return await async_request(s.port, "POST", f"/api/v1/courses/{c['id']}/join", tok)
                return await asyncio.gather(*(one(t) for t in tokens))

            results = asyncio.run(run())
            statuses = [st for st, _ in results]
            self.assertEqual(statuses.count(201), 1000)
            self.assertEqual(statuses.count(403), 4000)
            full = [b for st, b in results if st == 403]
            self.assertTrue(all("full" in b["error"]["message"] for b in full))
            st, course = s.request("GET", f"/api/v1/courses/{c['id']}", tok=T)
            self.assertEqual(course["enrolled"], 1000)
            n = 0
            cursor = ""
            while True:
                st, page = s.request("GET", f"/api/v1/courses/{c['id']}/students?limit=1000&cursor={cursor}", tok=T)
                n += len(page["items"])
                cursor = page["next_cursor"]
                if not cursor:
                    break
            self.assertEqual(n, 1000)


class DurabilityTest(unittest.TestCase):
    def test_acknowledged_answers_survive_sigkill(self):
        srv = Server()
        srv.start()
        try:
            c = srv.course(T, capacity=200)
            students = [token(f"d{i}") for i in range(100)]
            for t in students:
                srv.request("POST", f"/api/v1/courses/{c['id']}/join", tok=t)
            _, ses = srv.request("POST", f"/api/v1/courses/{c['id']}/sessions", None, T)
            qs = [{"kind": "single", "prompt": f"q{i}", "options": ["a", "b"], "correct": [0]}
                  for i in range(100)]
            _, q = srv.request("POST", f"/api/v1/sessions/{ses['id']}/quizzes", {"title": "d", "questions": qs}, T)
            srv.request("POST", f"/api/v1/quizzes/{q['id']}/publish", {"time_limit_s": 600}, T)
            acked = []
            lock = threading.Lock()

            def stream(i, tok):
                for k in range(100):
                    try:
                        st, _ = srv.request("POST", f"/api/v1/quizzes/{q['id']}/answers",
                                            {"answers": [{"question": k, "choice": [k % 2]}]}, tok)
                    except Exception:
                        return
                    if st == 201:
                        with lock:
                            acked.append((f"d{i}", k))
            threads = [threading.Thread(target=stream, args=(i, t)) for i, t in enumerate(students[:40])]
            for th in threads:
                th.start()
            # Killed mid-stream: once more than 50 answers are acknowledged (a fixed sleep saw
            # fewer on a loaded machine), while the 40 streams are still going.
            wait_until(lambda: len(acked) > 50, 60, "50 answers acknowledged")
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait()
            for th in threads:
                th.join()
            with lock:
                acked_now = list(acked)
            self.assertGreater(len(acked_now), 50, "the stream should have been running")
            db = sqlite3.connect(os.path.join(srv.data_dir, "edgeclass.db"))
            rows = set(db.execute("SELECT student_id, question FROM answers WHERE quiz_id=?", (q["id"],)))
            db.close()
            missing = [a for a in acked_now if a not in rows]
            self.assertEqual(missing, [], f"{len(missing)} acknowledged answers lost")
            # And the server restarts on the same data.
            srv2 = Server(data_dir=srv.data_dir).start()
            st, res = srv2.request("GET", f"/api/v1/quizzes/{q['id']}/results", tok=T)
            self.assertEqual(st, 200)
            self.assertEqual(sum(x["answered"] for x in res["questions"]), len(rows))
            self.assertEqual(srv2.stop(), 0)
        finally:
            srv.stop(signal.SIGKILL)


class LifecycleTest(unittest.TestCase):
    def test_sigterm_is_graceful(self):
        """SIGTERM: live sockets get 1001 with a reason, idle keep-alive connections are
        closed, the process exits 0 well inside the drain time, and what was acknowledged
        before is still there after a restart."""
        import base64
        import socket
        srv = Server().start()
        c = srv.course(T)
        st, ses = srv.request("POST", f"/api/v1/courses/{c['id']}/sessions", None, T)
        self.assertEqual(st, 201)
        live = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        live.sendall((f"GET /api/v1/sessions/{ses['id']}/live HTTP/1.1\r\nHost: x\r\n"
                      f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {T}\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += live.recv(65536)
        head, _, buf = buf.partition(b"\r\n\r\n")
        self.assertIn(b" 101 ", head.split(b"\r\n")[0])
        idle = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200", idle.recv(65536).split(b"\r\n")[0])

        t0 = time.time()
        srv.proc.send_signal(signal.SIGTERM)

        def frames():
            nonlocal buf
            while True:
                while len(buf) < 2:
                    data = live.recv(65536)
                    if not data:
                        return
                    buf += data
                op, n, off = buf[0] & 0x0F, buf[1] & 0x7F, 2
                if n == 126:
                    n, off = int.from_bytes(buf[2:4], "big"), 4
                elif n == 127:
                    n, off = int.from_bytes(buf[2:10], "big"), 10
                while len(buf) < off + n:
                    data = live.recv(65536)
                    if not data:
                        return
                    buf += data
                yield op, buf[off:off + n]
                buf = buf[off + n:]

        close = None
        for op, payload in frames():
            if op == 8:
                close = payload
                break
        self.assertIsNotNone(close, "the live socket got no close frame")
        self.assertEqual(int.from_bytes(close[:2], "big"), 1001)
        self.assertTrue(close[2:], "the close frame carries a reason")
        # As a browser does: answer the close, wait for the server to end TCP, then close.
        live.sendall(bytes([0x88, 0x82, 0, 0, 0, 0]) + close[:2])
        while live.recv(65536):
            pass
        live.close()
        self.assertEqual(idle.recv(65536), b"", "the idle keep-alive connection is closed")
        self.assertEqual(srv.proc.wait(timeout=20), 0)
        self.assertLess(time.time() - t0, 8, "stopped well inside the 10 s drain time")
        srv.stop()  # already exited: reads the rest of its output and closes the pipe
        log = "".join(srv.log)
        self.assertIn("edgeclass.stopped", log)
        self.assertNotIn("drain_timeout", log)
        idle.close()
        again = Server(data_dir=srv.data_dir).start()
        try:
            st, got = again.request("GET", f"/api/v1/courses/{c['id']}", tok=T)
            self.assertEqual((st, got["id"]), (200, c["id"]))
        finally:
            again.stop()

    def test_requests_during_start_up_are_answered(self):
        """A cold start serves before everything has started (docs/operations.md, "What
        start-up does now"): OpenSSL's start-up, the readers' schema, the policies, the admin
        listener and the media thread come after the listener. Requests sent the moment the
        port accepts, on an existing database, are answered as they are once ready: a token
        checked (no 401), a decision waited for (a join: 201, not 403 or 503), a read."""
        import socket
        first = Server().start()
        try:
            c = first.course(T)
        finally:
            first.stop()
        import shutil
        self.addCleanup(shutil.rmtree, first.data_dir, True)

        def launch():
            """The server on a port picked here (the test must know it before the ready
            line); another process may take the port between the probe and the server's
            bind, so a start that failed on it is tried again on another port."""
            for attempt in range(5):
                probe = socket.socket()
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
                probe.close()
                srv = Server(data_dir=first.data_dir, env={"EDGECLASS_LISTEN": f"127.0.0.1:{port}"})
                srv.proc = subprocess.Popen([BINARY, "serve"],
                                            env=srv.env, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, text=True)
                srv.reader = threading.Thread(target=srv._drain, daemon=True)
                srv.reader.start()
                deadline = time.time() + 30
                while True:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        return srv, port
                    except OSError:
                        if srv.proc.poll() is not None:
                            srv.close_output()
                            log = "".join(srv.log)
                            if "in use" in log and attempt < 4:
                                break  # the port was taken meanwhile: another one
                            self.fail("the server exited before it listened:\n" + log)
                        if time.time() > deadline:
                            srv.stop(signal.SIGKILL)
                            self.fail("never listened:\n" + "".join(srv.log))
                        time.sleep(0.001)
            self.fail("no free port")

        srv, port = launch()
        try:
            ready_before = '"edgeclass.ready"' in "".join(srv.log)
            s1 = token("early1")

            async def burst():
                return await asyncio.gather(
                    async_request(port, "POST", f"/api/v1/courses/{c['id']}/join", s1),
                    async_request(port, "GET", f"/api/v1/courses/{c['id']}", T),
                    async_request(port, "GET", "/healthz"))

            (join_st, join), (get_st, got), (health_st, _) = asyncio.run(burst())
            what = (f"ready line seen before the burst: {ready_before}\n" + "".join(srv.log))
            self.assertEqual(join_st, 201, (join, what))
            self.assertEqual((get_st, got["id"]), (200, c["id"]), what)
            self.assertEqual(health_st, 200, what)
            # The same join once everything is up: already a member.
            deadline = time.time() + 30
            while '"edgeclass.ready"' not in "".join(srv.log):
                self.assertLess(time.time(), deadline, "never ready:\n" + "".join(srv.log))
                time.sleep(0.01)
            ready = json.loads(next(l for l in srv.log if '"edgeclass.ready"' in l))
            srv.port = int(ready["url"].rsplit(":", 1)[1].strip("/"))
            self.assertEqual(srv.request("POST", f"/api/v1/courses/{c['id']}/join", tok=s1)[0],
                             200)
        finally:
            srv.stop()

    def test_a_media_port_in_use_turns_video_off(self):
        """The media port is bound after the listener serves (docs/operations.md, "What
        start-up does now"), still before a live room can open: a port something else holds
        is logged (media.unavailable) and the server serves without video, as when it was
        bound before listening: the ready line says media_addresses "none" and /metrics has
        no media counters."""
        import socket
        held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        held.bind(("0.0.0.0", 0))
        self.addCleanup(held.close)
        port = held.getsockname()[1]
        with Server(env={"EDGECLASS_MEDIA_PORT": str(port)}) as s:
            log = "".join(s.log)
            self.assertIn('"media.unavailable"', log)
            self.assertLess(log.index('"media.unavailable"'), log.index('"edgeclass.ready"'))
            ready = json.loads(next(l for l in s.log if '"edgeclass.ready"' in l))
            self.assertEqual(ready["media_addresses"], "none")
            self.assertEqual(s.request("GET", "/healthz")[0], 200)
            st, text = s.request("GET", "/metrics", admin=True)
            self.assertEqual(st, 200)
            self.assertNotIn("edgeclass_media_received_packets_total", text)
        with Server() as s:  # and with the port free, the series are there
            self.assertIn("edgeclass_media_received_packets_total",
                          s.request("GET", "/metrics", admin=True)[1])

    def test_metrics_pass_promtool(self):
        with Server() as s:
            s.course(T)
            s.request("GET", "/api/v1/courses/crs_0000000000000", tok=T)
            st, text = s.request("GET", "/metrics", admin=True)
            self.assertEqual(st, 200)
            for name in ("edgeclass_http_requests_total", "edgeclass_http_request_duration_seconds_bucket",
                         "edgeclass_store_commit_duration_seconds_bucket",
                         "edgeclass_store_commit_batch_size_bucket", "edgeclass_http_open_connections",
                         "process_resident_memory_bytes"):
                self.assertIn(name, text)
            p = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                               capture_output=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_access_log_request_id_and_domain_events(self):
        import http.client
        with Server() as s:
            c = s.course(T)
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            conn.request("GET", f"/api/v1/courses/{c['id']}",
                         headers={"Authorization": "Bearer " + T, "X-Request-Id": "trace-42"})
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.getheader("X-Request-Id"), "trace-42")  # a valid id is kept
            conn.request("GET", "/healthz", headers={"X-Request-Id": "not valid!"})
            r = conn.getresponse()
            r.read()
            generated = r.getheader("X-Request-Id")
            self.assertRegex(generated, r"^[0-9a-f]{20}$")
            conn.close()
        lines = [json.loads(l) for l in "".join(s.log).splitlines() if l.startswith("{")]
        access = [l for l in lines if l["msg"] == "http.access"]
        mine = [l for l in access if l["request_id"] == "trace-42"]
        self.assertEqual(len(mine), 1, access)
        self.assertEqual((mine[0]["route"], mine[0]["status"], mine[0]["method"]),
                         ("/api/v1/courses/{id}", 200, "GET"))  # the template, not the id
        self.assertTrue(mine[0]["user"] and mine[0]["bytes"] > 0 and mine[0]["duration_ms"] >= 0)
        self.assertTrue(any(l["request_id"] == generated for l in access))
        self.assertIn("course.created", [l["msg"] for l in lines])
        text = "".join(s.log)
        self.assertNotIn(T, text)
        self.assertNotIn(c["id"] + '"', [l.get("route", "") for l in access])

    def test_admin_endpoints_are_not_on_the_public_listener(self):
        with Server() as s:
            for path in ("/metrics", "/v1/data/education/allow"):
                st, body = s.request("GET", path, tok=ADMIN)
                self.assertEqual((st, body["error"]["code"]), (404, "route_not_found"), path)
                self.assertEqual(s.request("GET", path, tok=ADMIN, admin=True)[0], 200, path)
            # The admin listener serves no product routes.
            st, _ = s.request("GET", "/api/v1/me", tok=ADMIN, admin=True)
            self.assertEqual(st, 404)
            self.assertEqual(s.request("GET", "/healthz", admin=True)[0], 200)

    def test_bad_config_is_refused(self):
        p = subprocess.run([BINARY, "serve", "--threads", "many"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("EDGECLASS_THREADS", p.stderr)

    def test_stalled_request_is_cut_off(self):
        import socket
        with Server(env={"EDGECLASS_HTTP_TIMEOUT": "1s"}) as s:
            sk = socket.create_connection(("127.0.0.1", s.port))
            sk.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
            sk.settimeout(5)
            t0 = time.time()
            data = sk.recv(4096)  # the server closes the connection
            elapsed = time.time() - t0
            sk.close()
            self.assertEqual(data, b"")
            self.assertLess(elapsed, 4.0)
            self.assertGreaterEqual(elapsed, 0.9)
            idle = socket.create_connection(("127.0.0.1", s.port))  # idle keep-alive, too
            idle.settimeout(5)
            self.assertEqual(idle.recv(16), b"")
            idle.close()
            self.assertEqual(s.request("GET", "/healthz")[0], 200)

    def test_static_pages_are_served(self):
        with Server() as s:
            conn = __import__("http.client").client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            conn.request("GET", "/")
            r = conn.getresponse()
            body = r.read()
            conn.close()
            self.assertEqual(r.status, 200)
            self.assertIn(b"<html", body.lower())

    def test_broken_database_schema_refuses_to_start(self):
        """An existing database at the current version is checked from its header before
        the listener, and its schema read once it serves (docs/operations.md, "Cold start:
        the schema after the listener"): a malformed schema behind a valid header still ends
        the process with an error, and a file that is not a database still fails before it
        listens."""
        import shutil
        import sqlite3
        import tempfile
        first = Server().start()
        first.course(T)
        first.stop()
        self.addCleanup(shutil.rmtree, first.data_dir, True)
        db = sqlite3.connect(os.path.join(first.data_dir, "edgeclass.db"))
        db.execute("PRAGMA writable_schema=ON")
        db.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE courses (' WHERE name = 'courses'")
        db.commit()
        db.close()
        srv = Server(data_dir=first.data_dir)
        with self.assertRaises(RuntimeError) as ctx:
            srv.start()
        self.assertIn("store.open_failed", str(ctx.exception))
        self.assertIn("malformed database schema", str(ctx.exception))
        self.assertEqual(srv.proc.wait(timeout=20), 1, "".join(srv.log))

        junk = tempfile.mkdtemp(prefix="edgeclass-junk-")
        self.addCleanup(shutil.rmtree, junk, True)
        with open(os.path.join(junk, "edgeclass.db"), "wb") as f:
            f.write(b"not a database " * 512)
        srv = Server(data_dir=junk)
        with self.assertRaises(RuntimeError) as ctx:
            srv.start()
        self.assertIn("store.open_failed", str(ctx.exception))
        self.assertEqual(srv.proc.wait(timeout=20), 1, "".join(srv.log))


class PolicyTest(unittest.TestCase):
    def write(self, d, name, text):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)

    def test_policy_dir_decides_and_reloads_on_sighup(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="edgeclass-policy-")
        # v1 syntax: nobody may join, with a reason the 403 must carry.
        self.write(d, "deny.rego", """package education
import rego.v1
default allow := false
allow if input.action in {"create_course", "update_course", "go_live"}
deny_reason contains "joining is closed for maintenance" if input.action == "join"
""")
        with Server(env={"EDGECLASS_POLICY_DIR": d}) as s:
            c = s.course(T)
            st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("p1"))
            self.assertEqual(st, 403)
            self.assertEqual(body["error"]["message"], "joining is closed for maintenance")
            # A broken policy is refused on reload; the old one stays in force.
            self.write(d, "deny.rego", "package education\nallow if {\n")
            s.proc.send_signal(signal.SIGHUP)
            s.wait_log("policy.reload_failed")  # the reload ran (and failed), then:
            st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("p1"))
            self.assertEqual((st, body["error"]["message"]), (403, "joining is closed for maintenance"))
            # A good policy is picked up without a restart.
            self.write(d, "deny.rego", """package education
default allow = false
allow { input.action == "join" }
""")
            s.proc.send_signal(signal.SIGHUP)
            s.wait_log("policy.reloaded")
            self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("p1"))[0], 201)
            st, res = s.request("POST", "/v1/data/education/allow", {"input": {"action": "join"}}, ADMIN, admin=True)
            self.assertEqual((st, res), (200, {"result": True}))
            st, res = s.request("POST", "/v1/data/education/nothing", {"input": {}}, ADMIN, admin=True)
            self.assertEqual((st, res), (200, {}))
        log = "".join(s.log)
        self.assertIn("policy.reload_failed", log)
        self.assertRegex(log, r"deny\.rego:\d+:\d+")

    # The case study's education-policy.rego as the issue quotes it (v0 syntax), byte for byte
    # what an operator would drop in; a second file of the same package lets teachers set
    # courses up (the case study's file only speaks of joining).
    CASE_STUDY_POLICY = """package education

default allow = false

allow {
    input.user.role == "student"
    input.course.capacity > count(input.course.students)
}
"""

    def test_case_study_policy_verbatim(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="edgeclass-policy-")
        self.write(d, "education-policy.rego", self.CASE_STUDY_POLICY)
        self.write(d, "staff.rego", """package education
allow { input.user.role == "teacher"; input.action == "create_course" }
allow { input.user.role == "teacher"; input.action == "update_course" }
""")
        with Server(env={"EDGECLASS_POLICY_DIR": d}) as s:
            c = s.course(T, capacity=2)
            for who in ("cs1", "cs2"):
                st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token(who))
                self.assertEqual(st, 201, body)
            st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("cs3"))
            self.assertEqual((st, body["error"]["code"]), (403, "join_denied"), body)
            # Raising the capacity admits the third: the decision follows count(students).
            st, _ = s.request("PATCH", f"/api/v1/courses/{c['id']}", {"capacity": 3}, T)
            self.assertEqual(st, 200)
            st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("cs3"))
            self.assertEqual(st, 201, body)
            st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("cs4"))
            self.assertEqual(st, 403, body)

    def test_policy_query_is_configurable(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="edgeclass-policy-")
        self.write(d, "authz.rego", """package mycorp.authz
import rego.v1
default decision := false
decision if input.action in {"create_course", "update_course"}
decision if { input.action == "join"; count(input.course.students) < 1 }
deny_reason contains "one student per course here" if input.action == "join"
""")
        env = {"EDGECLASS_POLICY_DIR": d, "EDGECLASS_POLICY_QUERY": "data.mycorp.authz.decision"}
        with Server(env=env) as s:
            c = s.course(T, capacity=5)
            self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("q1"))[0], 201)
            st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("q2"))
            self.assertEqual((st, body["error"]["message"]), (403, "one student per course here"))
        bad = Server(env={"EDGECLASS_POLICY_QUERY": "input.allow"})
        with self.assertRaises(RuntimeError) as ctx:
            bad.start()
        self.assertIn("EDGECLASS_POLICY_QUERY", str(ctx.exception))

    def test_a_policy_that_explodes_costs_one_decision_not_the_node(self):
        # 10^10 iterations: without the server's step budget this join would hold its I/O
        # thread for hours. With it, that one decision fails (denied, logged) and the rest
        # of the server answers as before.
        import tempfile
        d = tempfile.mkdtemp(prefix="edgeclass-policy-")
        self.write(d, "slow.rego", """package education
import rego.v1
default allow := false
allow if input.action in {"create_course", "update_course"}
allow if {
    input.action == "join"
    some i in numbers.range(1, 100000)
    some j in numbers.range(1, 100000)
    i + j < 0
}
""")
        with Server(env={"EDGECLASS_POLICY_DIR": d}) as s:
            c = s.course(T)
            st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("x1"))
            self.assertEqual(st, 403, body)
            self.assertIn("eval_cancel_error", body["error"]["message"], body)
            self.assertEqual(s.course(T, title="After")["title"], "After")
        self.assertIn("policy.eval_failed", "".join(s.log))

    def test_broken_policy_refuses_to_start(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="edgeclass-policy-")
        self.write(d, "bad.rego", "package education\n\nallow { input.x == }\n")
        srv = Server(env={"EDGECLASS_POLICY_DIR": d})
        with self.assertRaises(RuntimeError) as ctx:
            srv.start()
        self.assertRegex(str(ctx.exception), r"bad\.rego:3:\d+")
        # The policies compile once the listener serves (a cold start does not wait for them):
        # a broken set still ends the process with an error, never a server deciding nothing.
        self.assertEqual(srv.proc.wait(timeout=20), 1, "".join(srv.log))

    def test_default_policy_data_api(self):
        with Server() as s:
            inp = {"action": "join", "user": {"role": "student"},
                   "course": {"status": "active", "capacity": 3, "enrolled": 3,
                              "students": ["s1", "s2", "s3"]}}
            st, res = s.request("POST", "/v1/data/education/allow", {"input": inp}, ADMIN, admin=True)
            self.assertEqual(res, {"result": False})
            inp["course"]["enrolled"] = 2
            inp["course"]["students"] = ["s1", "s2"]
            st, res = s.request("POST", "/v1/data/education/allow", {"input": inp}, ADMIN, admin=True)
            self.assertEqual(res, {"result": True})


if __name__ == "__main__":
    unittest.main()
