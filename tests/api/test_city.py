"""A city of three replicas on one real redis-server (loopback): any replica answers any
request (join by class code and the course list included), capacity stays exact across
replicas, and Redis or replica loss is survived (Redis killed and back empty, a live room
on its home while Redis is down, Redis stopped with SIGSTOP, a replica killed with -9).
CityTlsTest: the same city with TLS listeners (advertised https://, forwarding over TLS,
EDGECLASS_CITY_CA as a pinned certificate or a CA with the host-name check).
Run by tests/scripts/city.sh (skips when redis-server is missing)."""
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import http.client
import json

import ssl

from harness import BINARY, Server, token, async_request
from test_live_room import WebSocket

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    def __init__(self):
        self.port = None
        self.proc = None

    def start(self):
        """Starts redis-server: the first time on a free port, again (after kill) on the same
        one, as the replicas know it."""
        for _ in range(5 if self.port is None else 1):
            port = self.port or free_port()
            if self._start(port):
                self.port = port
                return
        raise RuntimeError(f"redis-server did not start on port {port}")

    def _start(self, port):
        """False if redis-server exited at once (the port picked was taken meanwhile)."""
        self.proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--loglevel",
                                      "warning"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                return False
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return True
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise RuntimeError("redis-server did not start")

    def kill(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def kill_if_running(srv):
    """A class cleanup: a replica left running by a setUpClass that failed."""
    if srv.proc and srv.proc.poll() is None:
        srv.proc.kill()
        srv.proc.wait()
        srv.close_output()


def request(port, method, path, body=None, tok=None, headers=None, context=None):
    """(status, parsed body, headers); over TLS with `context` (an ssl.SSLContext)."""
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    h = dict(headers or {})
    if tok:
        h["Authorization"] = "Bearer " + tok
    data = json.dumps(body) if body is not None else None
    if data is not None:
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=h)
    resp = conn.getresponse()
    text = resp.read().decode()
    headers = dict(resp.getheaders())
    conn.close()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return resp.status, parsed, headers


def until(fn, limit, step=0.1):
    """Polls fn() until it is truthy; returns (value, seconds taken)."""
    t0 = time.time()
    while True:
        v = fn()
        if v or time.time() - t0 > limit:
            return v, time.time() - t0
        time.sleep(step)


TEACHER = token("t1", "teacher", "Ms T")


def city_connected(server, value=1):
    """Whether `server`'s /metrics has the sample `edgeclass_city_connected <value>` (a line of
    its own: the metric's HELP text also reads "edgeclass_city_connected 1 while ...")."""
    _, text = server.request("GET", "/metrics", admin=True)
    return f"edgeclass_city_connected {value}" in text.splitlines()


def wait_connected(server, value=1, limit=30):
    """Waits until `server` reports edgeclass_city_connected `value` (1: in the city, 0: it
    noticed Redis is gone); fails after `limit` s with what its /metrics say."""
    ok, took = until(lambda: city_connected(server, value), limit)
    if not ok:
        _, text = server.request("GET", "/metrics", admin=True)
        raise AssertionError(f"replica on port {server.port}: edgeclass_city_connected is not "
                             f"{value} after {took:.1f} s: " +
                             " | ".join(l for l in text.splitlines() if l.startswith("edgeclass_city")))


class CityCase(unittest.TestCase):
    """Three replicas a, b, c on one real redis-server, for the class (test_city_live too).
    `prefix` names their data directories; `extra_env` is added to each replica's settings."""
    prefix = "edgeclass-city"
    extra_env = {}

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.redis.start()
        # If setUpClass fails half-way, tearDownClass does not run: these do.
        cls.addClassCleanup(cls.redis.kill)
        cls.dirs = {}
        cls.replicas = {}
        for name in ("a", "b", "c"):
            cls.dirs[name] = tempfile.mkdtemp(prefix=f"{cls.prefix}-{name}-")
            srv = cls.replica(name)
            cls.addClassCleanup(kill_if_running, srv)
            cls.replicas[name] = srv.start()
        # Each replica is in the city once its directory is written.
        for r in cls.replicas.values():
            wait_connected(r, 1)

    @classmethod
    def replica(cls, name):
        return Server(data_dir=cls.dirs[name], env={
            "EDGECLASS_REDIS_URL": f"redis://127.0.0.1:{cls.redis.port}",
            "EDGECLASS_REPLICA_ID": name,
            "EDGECLASS_MEDIA_PORT": "0",
            **cls.extra_env,
        })

    @classmethod
    def tearDownClass(cls):
        # SIGTERM: every replica stops cleanly (exit 0; a crash on the way out, e.g. a socket
        # destroyed after its io_context, shows as a signal).
        unclean = []
        for name, r in cls.replicas.items():
            try:
                rc = r.stop()
            except Exception as e:  # noqa: BLE001
                rc = repr(e)
            if rc != 0:
                unclean.append((name, rc, [l.strip() for l in r.log[-5:]]))
        cls.redis.kill()
        for d in cls.dirs.values():
            shutil.rmtree(d, ignore_errors=True)
        if unclean:
            raise AssertionError(f"replicas did not stop cleanly: {unclean}")

    def port(self, name):
        return self.replicas[name].port


class CityTest(CityCase):
    def make_course(self, home, capacity=None, title="Algebra"):
        body = {"title": title, "status": "active"}
        if capacity is not None:
            body["capacity"] = capacity
        st, c, _ = request(self.port(home), "POST", "/api/v1/courses", body, TEACHER)
        self.assertEqual(st, 201, c)
        return c

    def test_1_any_replica_answers_any_request(self):
        c = self.make_course("a")
        cid = c["id"]
        # Read through the two other replicas (forwarded, then cached).
        for name in ("b", "c"):
            st, body, h = request(self.port(name), "GET", f"/api/v1/courses/{cid}", tok=TEACHER)
            self.assertEqual(st, 200, body)
            self.assertEqual(body["title"], "Algebra")
        # A write through b is ordered on a; b reads its own write at once, c soon after (the
        # invalidation message reaches c's memory asynchronously: well under a second on an
        # idle machine; the deadline is for a loaded one, the time taken is printed).
        st, body, h = request(self.port("c"), "GET", f"/api/v1/courses/{cid}", tok=TEACHER)
        self.assertEqual(h.get("X-Edgeclass-Cache"), "hit")
        st, body, h = request(self.port("b"), "PATCH", f"/api/v1/courses/{cid}",
                              {"title": "Geometry"}, TEACHER)
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("X-Edgeclass-Home"), "a")
        st, body, _ = request(self.port("b"), "GET", f"/api/v1/courses/{cid}", tok=TEACHER)
        self.assertEqual(body["title"], "Geometry")
        seen, took = until(lambda: request(self.port("c"), "GET", f"/api/v1/courses/{cid}",
                                           tok=TEACHER)[1]["title"] == "Geometry", 10.0, 0.01)
        self.assertTrue(seen, f"c still answers the old title {took:.1f} s after the write")
        print(f"\n  a write through b reached c's cache after {took:.2f} s")
        # Session made through c, quiz made through b, published through c, read through a.
        st, s, _ = request(self.port("c"), "POST", f"/api/v1/courses/{cid}/sessions",
                           {"title": "Live"}, TEACHER)
        self.assertEqual(st, 201, s)
        st, q, _ = request(self.port("b"), "POST", f"/api/v1/sessions/{s['id']}/quizzes",
                           {"title": "Q", "questions": [{"kind": "single", "prompt": "1+1?", "options": ["1", "2"],
                                                         "correct": [1]}]}, TEACHER)
        self.assertEqual(st, 201, q)
        st, body, _ = request(self.port("c"), "POST", f"/api/v1/quizzes/{q['id']}/publish",
                              {"time_limit_s": 60}, TEACHER)
        self.assertEqual(st, 200, body)
        st, body, _ = request(self.port("a"), "GET", f"/api/v1/quizzes/{q['id']}", tok=TEACHER)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["status"], "published")
        # A student joins through c, answers through b; the roster through b shows them.
        stu = token("s-x", "student", "Sam")
        st, body, _ = request(self.port("c"), "POST", f"/api/v1/courses/{cid}/join", tok=stu)
        self.assertEqual(st, 201, body)
        st, body, _ = request(self.port("b"), "POST", f"/api/v1/quizzes/{q['id']}/answers",
                              {"answers": [{"question": 0, "choice": [1]}]}, stu)
        self.assertEqual(st, 201, body)
        st, body, _ = request(self.port("b"), "GET", f"/api/v1/courses/{cid}/students",
                              tok=TEACHER)
        self.assertEqual(st, 200, body)
        self.assertEqual([x["student_id"] for x in body["items"]], ["s-x"])
        # Unknown ids are a 404 everywhere.
        st, body, _ = request(self.port("b"), "GET", "/api/v1/courses/nope", tok=TEACHER)
        self.assertEqual(st, 404, body)

    def test_1d_a_forged_city_header_changes_nothing(self):
        # The city header marks a request a replica forwarded; one a client sends with any
        # other value than the city's credential is an ordinary request: forwarded to the home
        # (which applies its policy), never served by a replica that is not the home.
        cid = self.make_course("a")["id"]
        forged = {"X-Edgeclass-City": "guess"}
        st, body, h = request(self.port("b"), "PATCH", f"/api/v1/courses/{cid}",
                              {"title": "Forged"}, TEACHER, forged)
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("X-Edgeclass-Home"), "a", h)
        stu = token("s-forge", "student", "Eve")
        st, body, _ = request(self.port("c"), "PATCH", f"/api/v1/courses/{cid}",
                              {"title": "Mine"}, stu, {"X-Edgeclass-City": ""})
        self.assertEqual(st, 403, body)
        st, body, _ = request(self.port("a"), "GET", f"/api/v1/courses/{cid}", tok=TEACHER)
        self.assertEqual(body.get("title"), "Forged", body)
        # The replica-to-replica routes refuse anyone without the credential, on every replica.
        offer = {"room": "x", "ssrcs": [1], "keys": "AAAA"}
        for name in ("a", "b", "c"):
            for hdr in (None, forged, {"X-Edgeclass-City": ""}):
                st, body, _ = request(self.port(name), "POST", "/internal/v1/media/relay",
                                      offer, TEACHER, hdr)
                self.assertEqual(st, 403, (name, hdr, body))
                self.assertEqual(body.get("error", {}).get("code"), "forbidden", body)
            st, body, _ = request(self.port(name), "GET", "/internal/v1/nothing", tok=TEACHER)
            self.assertEqual(st, 404, (name, body))

    def test_1b_join_by_class_code_on_any_replica(self):
        # The code carries no course id: the city finds its home through the directory entry
        # the home writes when the code is made or rotated.
        c = self.make_course("a", title="Codes")
        st, body, _ = request(self.port("b"), "GET", f"/api/v1/courses/{c['id']}/join_code",
                              tok=TEACHER)
        self.assertEqual(st, 200, body)
        code = body["join_code"]
        typed = code[:4].lower() + "-" + code[4:].lower()
        st, e, h = request(self.port("c"), "POST", "/api/v1/join", {"code": typed},
                           token("code-1", "student"))
        self.assertEqual(st, 201, e)
        self.assertEqual(e["course_id"], c["id"])
        self.assertEqual(h.get("X-Edgeclass-Home"), "a")
        # Joining on the home itself, and joining again (200, already enrolled) elsewhere.
        st, e, h = request(self.port("a"), "POST", "/api/v1/join", {"code": code},
                           token("code-2", "student"))
        self.assertEqual(st, 201, e)
        st, e, _ = request(self.port("b"), "POST", "/api/v1/join", {"code": code},
                           token("code-1", "student"))
        self.assertEqual(st, 200, e)
        st, body, _ = request(self.port("b"), "GET", f"/api/v1/courses/{c['id']}/students",
                              tok=TEACHER)
        self.assertEqual(sorted(x["student_id"] for x in body["items"]), ["code-1", "code-2"])
        # Rotated through b: the old code stops working on every replica, the new one works.
        st, body, h = request(self.port("b"), "POST",
                              f"/api/v1/courses/{c['id']}/join_code/rotate", tok=TEACHER)
        self.assertEqual(st, 200, body)
        new = body["join_code"]
        self.assertNotEqual(new, code)
        for name in ("a", "b", "c"):
            st, e, _ = request(self.port(name), "POST", "/api/v1/join", {"code": code},
                               token("code-3", "student"))
            self.assertEqual((st, e["error"]["code"]), (404, "join_code_not_found"), name)
        st, e, h = request(self.port("c"), "POST", "/api/v1/join", {"code": new},
                           token("code-3", "student"))
        self.assertEqual(st, 201, e)
        self.assertEqual(h.get("X-Edgeclass-Home"), "a")
        # A course made on c: its code works through a.
        c2 = self.make_course("c", title="Codes 2")
        st, body, _ = request(self.port("c"), "GET", f"/api/v1/courses/{c2['id']}/join_code",
                              tok=TEACHER)
        st, e, h = request(self.port("a"), "POST", "/api/v1/join", {"code": body["join_code"]},
                           token("code-4", "student"))
        self.assertEqual((st, e.get("course_id")), (201, c2["id"]), e)
        self.assertEqual(h.get("X-Edgeclass-Home"), "c")
        # Malformed and unknown codes: the single node's answers, on any replica.
        st, e, _ = request(self.port("b"), "POST", "/api/v1/join", {"code": "0O"},
                           token("code-5", "student"))
        self.assertEqual((st, e["error"]["code"]), (400, "invalid_join_code"))
        st, e, _ = request(self.port("b"), "POST", "/api/v1/join", {"code": "ZZZZZZZZ"},
                           token("code-5", "student"))
        self.assertEqual((st, e["error"]["code"]), (404, "join_code_not_found"))

    def test_1c_course_list_is_city_wide(self):
        # Courses of one teacher on all three homes, listed through each replica in pages of
        # 2: every course once, in (created_at, id) order, whichever replica answers.
        t = token("lister", "teacher", "Ms L")
        made = []
        for name in ("a", "b", "c", "a", "c", "b", "b"):
            st, c, _ = request(self.port(name), "POST", "/api/v1/courses",
                               {"title": f"List {name}", "status": "active"}, t)
            self.assertEqual(st, 201, c)
            made.append(c)
        want = [c["id"] for c in sorted(made, key=lambda c: (c["created_at"], c["id"]))]
        for name in ("a", "b", "c"):
            got, cursor, pages = [], None, 0
            while True:
                q = "/api/v1/courses?teacher_id=lister&limit=2"
                if cursor:
                    q += "&cursor=" + cursor
                st, body, h = request(self.port(name), "GET", q, tok=t)
                self.assertEqual(st, 200, body)
                self.assertNotIn("X-Edgeclass-Partial", h)
                self.assertLessEqual(len(body["items"]), 2)
                got += [x["id"] for x in body["items"]]
                cursor = body["next_cursor"]
                pages += 1
                self.assertLess(pages, 10, got)
                if not cursor:
                    break
            self.assertEqual(got, want, name)
        # One page with everything; a bad query is still the single node's 400.
        st, body, _ = request(self.port("b"), "GET", "/api/v1/courses?teacher_id=lister", tok=t)
        self.assertEqual([x["id"] for x in body["items"]], want)
        self.assertIsNone(body["next_cursor"])
        st, body, _ = request(self.port("c"), "GET", "/api/v1/courses?limit=0", tok=t)
        self.assertEqual(st, 400, body)

    def test_2_capacity_is_exact_across_replicas(self):
        c = self.make_course("a", capacity=40)
        ports = [self.port(n) for n in ("a", "b", "c")]

        async def run():
            return await asyncio.gather(*[
                async_request(ports[i % 3], "POST", f"/api/v1/courses/{c['id']}/join",
                              tok=token(f"cap-{i}", "student"))
                for i in range(150)])
        t0 = time.time()
        results = asyncio.run(run())
        took = time.time() - t0
        codes = [st for st, _ in results]
        self.assertEqual(codes.count(201), 40, codes)
        refused = [b["error"]["code"] for st, b in results if st != 201]
        self.assertEqual(refused, ["join_denied"] * 110, codes)  # the policy: full
        st, body, _ = request(self.port("c"), "GET", f"/api/v1/courses/{c['id']}", tok=TEACHER)
        self.assertEqual(body["enrolled"], 40)
        print(f"\n  150 concurrent joins over 3 replicas: 40 admitted in {took:.2f} s")

    def test_3_redis_down_then_back_empty(self):
        a_course = self.make_course("a")
        b_course = self.make_course("b")
        self.redis.kill()
        try:
            for r in self.replicas.values():
                wait_connected(r, 0)
            # A request that needs the city: 503 city_unavailable with Retry-After, fast.
            t0 = time.time()
            st, body, h = request(self.port("b"), "GET", f"/api/v1/courses/{a_course['id']}",
                                  tok=TEACHER)
            self.assertLess(time.time() - t0, 2)
            self.assertEqual(st, 503, body)
            self.assertEqual(body["error"]["code"], "city_unavailable")
            self.assertIn("Retry-After", h)
            st, body, h = request(self.port("a"), "GET", "/api/v1/courses", tok=TEACHER)
            self.assertEqual((st, body["error"]["code"]), (503, "city_unavailable"))
            self.assertIn("Retry-After", h)
            # Each replica keeps serving its own courses; /healthz stays 200.
            st, body, _ = request(self.port("a"), "PATCH", f"/api/v1/courses/{a_course['id']}",
                                  {"title": "Offline edit"}, TEACHER)
            self.assertEqual(st, 200, body)
            st, body, _ = request(self.port("b"), "GET", f"/api/v1/courses/{b_course['id']}",
                                  tok=TEACHER)
            self.assertEqual(st, 200, body)
            for name in ("a", "b", "c"):
                self.assertEqual(request(self.port(name), "GET", "/healthz")[0], 200)
        finally:
            self.redis.start()  # empty: nothing was saved
        # Within 10 s the city is whole again without operator action.
        ok, took = until(lambda: request(self.port("c"), "GET",
                                         f"/api/v1/courses/{a_course['id']}",
                                         tok=TEACHER)[0] == 200, 10)
        self.assertTrue(ok, "a's course not reachable through c 10 s after Redis came back")
        st, body, _ = request(self.port("c"), "GET", f"/api/v1/courses/{a_course['id']}",
                              tok=TEACHER)
        self.assertEqual(body["title"], "Offline edit")
        # The class codes and the member list were written again too.
        st, body, _ = request(self.port("a"), "GET",
                              f"/api/v1/courses/{a_course['id']}/join_code", tok=TEACHER)
        st, e, h = request(self.port("c"), "POST", "/api/v1/join", {"code": body["join_code"]},
                           token("after-empty", "student"))
        self.assertEqual((st, h.get("X-Edgeclass-Home")), (201, "a"), e)
        ok, _ = until(lambda: {a_course["id"], b_course["id"]} <= {
            x["id"] for x in request(self.port("c"), "GET", "/api/v1/courses?limit=100",
                                     tok=TEACHER)[1]["items"]}, 5)
        self.assertTrue(ok, "the city-wide list misses a course after Redis came back empty")
        print(f"\n  Redis back empty: city whole again after {took:.1f} s")

    def test_5_redis_that_stops_answering_does_not_hang_requests(self):
        a_course = self.make_course("a")
        self.redis.proc.send_signal(signal.SIGSTOP)
        try:
            # b has never looked a_course up: it needs Redis, which holds the connection and
            # says nothing. The command deadline (2 s) turns that into a 503, not a hang.
            t0 = time.time()
            st, body, h = request(self.port("b"), "GET", f"/api/v1/courses/{a_course['id']}",
                                  tok=TEACHER)
            refused_after = time.time() - t0
            self.assertEqual(st, 503, body)
            self.assertEqual(body["error"]["code"], "city_unavailable")
            self.assertLess(refused_after, 4)
            for name in ("a", "b", "c"):
                self.assertEqual(request(self.port(name), "GET", "/healthz")[0], 200)
        finally:
            self.redis.proc.send_signal(signal.SIGCONT)
        ok, took = until(lambda: request(self.port("b"), "GET",
                                         f"/api/v1/courses/{a_course['id']}",
                                         tok=TEACHER)[0] == 200, 10)
        self.assertTrue(ok, "the city did not recover after Redis answered again")
        print(f"\n  Redis stopped answering: 503 after {refused_after:.1f} s; "
              f"whole again {took:.1f} s after it resumed")

    def test_3b_live_room_keeps_working_while_redis_is_down(self):
        # The room lives on its course's home: sockets held there keep chat, quizzes and
        # joins while Redis is away (only what needs the city is refused).
        c = self.make_course("a", capacity=10)
        s1, s2 = token("live-1", "student", "Lu"), token("live-2", "student", "Mo")
        for t in (s1, s2):
            st, body, _ = request(self.port("a"), "POST", f"/api/v1/courses/{c['id']}/join", tok=t)
            self.assertEqual(st, 201, body)
        st, ses, _ = request(self.port("a"), "POST", f"/api/v1/courses/{c['id']}/sessions",
                             {"title": "Live"}, TEACHER)
        self.assertEqual(st, 201, ses)
        st, q, _ = request(self.port("a"), "POST", f"/api/v1/sessions/{ses['id']}/quizzes",
                           {"title": "Q", "questions": [{"kind": "single", "prompt": "1+1?",
                                                         "options": ["1", "2"], "correct": [1]}]},
                           TEACHER)
        self.assertEqual(st, 201, q)
        path = f"/api/v1/sessions/{ses['id']}/live?token="
        sockets = []
        try:
            teacher = WebSocket(self.port("a"), path + TEACHER)
            student = WebSocket(self.port("a"), path + s1)
            sockets += [teacher, student]
            for w in (teacher, student):
                self.assertIsNotNone(w.expect("welcome"))
            self.redis.kill()
            wait_connected(self.replicas["a"], 0)
            # The city is gone (b cannot reach a's course) ...
            st, body, _ = request(self.port("b"), "GET", f"/api/v1/courses/{c['id']}",
                                  tok=TEACHER)
            self.assertEqual((st, body["error"]["code"]), (503, "city_unavailable"))
            # ... the room is not: chat both ways, a quiz published over REST on the home and
            # answered live, and a student joining the room meanwhile.
            def chat_seen(w, text):
                while True:  # everyone gets every message, the sender too
                    m = w.expect("chat_message")
                    if m is None or m.get("text") == text:
                        return m is not None
            student.send({"type": "chat", "text": "still here?", "ref": "c1"})
            self.assertTrue(chat_seen(teacher, "still here?"))
            teacher.send({"type": "chat", "text": "yes", "ref": "c2"})
            self.assertTrue(chat_seen(student, "yes"))
            st, body, _ = request(self.port("a"), "POST", f"/api/v1/quizzes/{q['id']}/publish",
                                  {"time_limit_s": 60}, TEACHER)
            self.assertEqual(st, 200, body)
            self.assertEqual(student.expect("quiz_published")["quiz"]["id"], q["id"])
            student.send({"type": "answer", "quiz_id": q["id"],
                          "answers": [{"question": 0, "choice": [1]}]})
            self.assertIsNotNone(student.expect("answer_accepted"))
            late = WebSocket(self.port("a"), path + s2)
            sockets.append(late)
            welcome = late.expect("welcome")
            self.assertIsNotNone(welcome)
            self.assertEqual(welcome["snapshot"]["quiz"]["quiz"]["id"], q["id"])
            self.assertEqual(request(self.port("a"), "GET", "/healthz")[0], 200)
        finally:
            for w in sockets:
                w.close()
            if self.redis.proc is None:
                self.redis.start()
            for r in self.replicas.values():
                wait_connected(r, 1)
            # Whole again (a re-registered) before the next test.
            until(lambda: request(self.port("b"), "GET", f"/api/v1/courses/{c['id']}",
                                  tok=TEACHER)[0] == 200, 10)
        # Back: the quiz published while Redis was away is what b reads (the invalidation
        # missed meanwhile was sent on reconnect).
        ok, _ = until(lambda: request(self.port("b"), "GET", f"/api/v1/quizzes/{q['id']}",
                                      tok=TEACHER)[1].get("status") == "published", 10)
        self.assertTrue(ok, "b does not see the quiz published while Redis was down")

    def test_4_replica_killed(self):
        a_course = self.make_course("a")
        b_course = self.make_course("b")
        cid = a_course["id"]
        # b has read a's course once: that view is cached.
        st, _, _ = request(self.port("b"), "GET", f"/api/v1/courses/{cid}", tok=TEACHER)
        self.assertEqual(st, 200)
        self.replicas["a"].stop(sig=signal.SIGKILL)
        # The others keep answering for their own courses.
        st, body, _ = request(self.port("b"), "PATCH", f"/api/v1/courses/{b_course['id']}",
                              {"title": "Still here"}, TEACHER)
        self.assertEqual(st, 200, body)
        # Reads of the dead replica's course come from the cache.
        st, body, h = request(self.port("b"), "GET", f"/api/v1/courses/{cid}", tok=TEACHER)
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("X-Edgeclass-Cache"), "hit")
        # Its writes answer 503 course_home_unavailable.
        st, body, h = request(self.port("c"), "PATCH", f"/api/v1/courses/{cid}",
                              {"title": "x"}, TEACHER)
        self.assertEqual(st, 503, body)
        self.assertEqual(body["error"]["code"], "course_home_unavailable")
        self.assertIn("Retry-After", h)
        # The city-wide list still answers, without a's courses, and says a is missing.
        st, body, h = request(self.port("c"), "GET", "/api/v1/courses?limit=100", tok=TEACHER)
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("X-Edgeclass-Partial"), "a")
        ids = [x["id"] for x in body["items"]]
        self.assertIn(b_course["id"], ids)
        self.assertNotIn(cid, ids)
        # It comes back (same data dir) and serves its courses again within 30 s.
        t0 = time.time()
        self.replicas["a"] = self.replica("a").start()
        ok, _ = until(lambda: request(self.port("c"), "PATCH", f"/api/v1/courses/{cid}",
                                      {"title": "Back"}, TEACHER)[0] == 200, 30)
        took = time.time() - t0
        self.assertTrue(ok)
        self.assertLess(took, 30)
        st, body, _ = request(self.port("b"), "GET", f"/api/v1/courses/{cid}", tok=TEACHER)
        self.assertEqual(body["title"], "Back")
        st, body, h = request(self.port("c"), "GET", "/api/v1/courses?limit=100", tok=TEACHER)
        self.assertNotIn("X-Edgeclass-Partial", h)
        self.assertIn(cid, [x["id"] for x in body["items"]])
        print(f"\n  replica killed -9: back serving its courses after {took:.1f} s")


def make_cert(out, host):
    r = subprocess.run([BINARY, "cert", "--self-signed", "--host", host, "--out", out],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return os.path.join(out, "cert.pem"), os.path.join(out, "key.pem")


class CityTlsTest(unittest.TestCase):
    """The city when the replicas listen with TLS (as in K3s): their advertised URLs default
    to https://, and forwarding (writes, uncached reads, the course-list fan-out) runs over
    TLS, verified against EDGECLASS_CITY_CA (here the replicas' own self-signed
    certificate). A replica that trusts another certificate cannot forward."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="edgeclass-city-tls-")
        cls.cert, cls.key = make_cert(os.path.join(cls.tmp, "tls"), "127.0.0.1")
        cls.other_cert, _ = make_cert(os.path.join(cls.tmp, "other"), "127.0.0.1")
        cls.redis = Redis()
        cls.redis.start()
        cls.addClassCleanup(cls.redis.kill)  # as CityCase
        cls.replicas = {}
        for name in ("a", "b", "c"):
            srv = cls.replica(name, cls.cert)
            cls.addClassCleanup(kill_if_running, srv)
            cls.replicas[name] = srv.start()
        for r in cls.replicas.values():
            wait_connected(r, 1)

    @classmethod
    def replica(cls, name, city_ca):
        return Server(data_dir=os.path.join(cls.tmp, "data-" + name), env={
            "EDGECLASS_REDIS_URL": f"redis://127.0.0.1:{cls.redis.port}",
            "EDGECLASS_REPLICA_ID": name,
            "EDGECLASS_MEDIA_PORT": "0",
            "EDGECLASS_TLS_CERT": cls.cert, "EDGECLASS_TLS_KEY": cls.key,
            "EDGECLASS_CITY_CA": city_ca,
        })

    @classmethod
    def tearDownClass(cls):
        unclean = []  # as CityCase: SIGTERM stops every replica cleanly
        for name, r in cls.replicas.items():
            try:
                rc = r.stop()
            except Exception as e:  # noqa: BLE001
                rc = repr(e)
            if rc != 0:
                unclean.append((name, rc, [l.strip() for l in r.log[-5:]]))
        cls.redis.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if unclean:
            raise AssertionError(f"replicas did not stop cleanly: {unclean}")

    def request(self, name, method, path, body=None, tok=TEACHER):
        ctx = ssl.create_default_context(cafile=self.cert)
        return request(self.replicas[name].port, method, path, body, tok, context=ctx)

    def forwarded(self, name):
        _, text = self.replicas[name].request("GET", "/metrics", admin=True)
        for line in text.splitlines():
            if line.startswith('edgeclass_city_requests_total{outcome="forwarded"}'):
                return float(line.split()[-1])
        return 0.0

    def test_advertised_url_is_https(self):
        for name, r in self.replicas.items():
            log = "".join(r.log)
            self.assertIn(f'"advertise_url":"https://127.0.0.1:{r.port}"', log, name)

    def test_cross_replica_write_and_read_over_tls(self):
        st, c, _ = self.request("a", "POST", "/api/v1/courses",
                                {"title": "Secure", "status": "active"})
        self.assertEqual(st, 201, c)
        cid = c["id"]
        before = self.forwarded("b")
        # A read through b: forwarded to a over TLS (nothing cached yet).
        st, body, h = self.request("b", "GET", f"/api/v1/courses/{cid}")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["title"], "Secure")
        # Writes through b and c, ordered on a; then read everywhere.
        for name, title in (("b", "Secure B"), ("c", "Secure C")):
            st, body, h = self.request(name, "PATCH", f"/api/v1/courses/{cid}", {"title": title})
            self.assertEqual(st, 200, body)
            self.assertEqual(h.get("X-Edgeclass-Home"), "a")
            self.assertEqual(body["title"], title)
        self.assertGreaterEqual(self.forwarded("b") - before, 2)
        st, body, _ = self.request("a", "GET", f"/api/v1/courses/{cid}")
        self.assertEqual(body["title"], "Secure C")
        st, body, _ = self.request("c", "GET", f"/api/v1/courses/{cid}")
        self.assertEqual(body["title"], "Secure C")
        # A student joins through c (a write forwarded to a); the roster through b shows them.
        stu = token("tls-s", "student", "Tess")
        st, body, _ = self.request("c", "POST", f"/api/v1/courses/{cid}/join", tok=stu)
        self.assertEqual(st, 201, body)
        st, body, _ = self.request("b", "GET", f"/api/v1/courses/{cid}/students")
        self.assertEqual(st, 200, body)
        self.assertEqual([x["student_id"] for x in body["items"]], ["tls-s"])
        # The course list fans out to a and b over TLS: nobody missing.
        st, c2, _ = self.request("b", "POST", "/api/v1/courses",
                                 {"title": "Secure 2", "status": "active"})
        self.assertEqual(st, 201, c2)
        st, body, h = self.request("c", "GET", "/api/v1/courses?limit=100")
        self.assertEqual(st, 200, body)
        self.assertNotIn("X-Edgeclass-Partial", h)
        ids = [x["id"] for x in body["items"]]
        self.assertIn(cid, ids)
        self.assertIn(c2["id"], ids)

    def test_untrusted_home_is_refused_until_the_ca_file_changes(self):
        # d listens with the same certificate but trusts only another one: the handshake to
        # a fails verification, so writes of a's courses through d are refused (503).
        st, c, _ = self.request("a", "POST", "/api/v1/courses",
                                {"title": "Pinned", "status": "active"})
        self.assertEqual(st, 201, c)
        ca = os.path.join(self.tmp, "d-ca.pem")
        shutil.copy(self.other_cert, ca)
        d = self.replica("d", ca).start()

        def patch(title):
            ctx = ssl.create_default_context(cafile=self.cert)
            conn = http.client.HTTPSConnection("127.0.0.1", d.port, timeout=30, context=ctx)
            conn.request("PATCH", f"/api/v1/courses/{c['id']}", body=json.dumps({"title": title}),
                         headers={"Authorization": "Bearer " + TEACHER,
                                  "Content-Type": "application/json"})
            resp = conn.getresponse()
            body = json.loads(resp.read().decode())
            conn.close()
            return resp.status, body

        try:
            wait_connected(d, 1)
            st, body = patch("x")
            self.assertEqual(st, 503, body)
            self.assertEqual(body["error"]["code"], "course_home_unavailable")
            self.assertIn("certificate", body["error"]["message"])
            st, got, _ = self.request("a", "GET", f"/api/v1/courses/{c['id']}")
            self.assertEqual(got["title"], "Pinned")
            # The file is replaced (as a Secret update swaps it): the next connection trusts a.
            shutil.copy(self.cert, ca + ".new")
            os.replace(ca + ".new", ca)
            st, body = patch("Through d")
            self.assertEqual(st, 200, body)
            self.assertEqual(body["title"], "Through d")
            d.wait_log("city.ca_reloaded")  # logged from the server's log thread: wait
        finally:
            d.stop()

    def test_z_ca_signed_peers_must_name_the_advertised_host(self):
        # EDGECLASS_CITY_CA holding a CA (not the peers' own certificate): a peer's
        # certificate signed by it must name the advertised host. e's names only
        # elsewhere.example (refused), g's names 127.0.0.1 (forwarded); f forwards to both.
        openssl = shutil.which("openssl")
        if not openssl:
            self.skipTest("openssl is not installed")
        d = os.path.join(self.tmp, "ca")
        os.makedirs(d)

        def run(*args):
            r = subprocess.run([openssl, *args], capture_output=True, text=True, timeout=30,
                               cwd=d)
            self.assertEqual(r.returncode, 0, r.stderr)

        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=city test CA")
        for leaf, san in (("e", "DNS:elsewhere.example"), ("g", "IP:127.0.0.1")):
            run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{leaf}.key", "-out", f"{leaf}.csr", "-subj", f"/CN={leaf}")
            with open(os.path.join(d, f"{leaf}.ext"), "w") as f:
                f.write(f"subjectAltName={san}\n")
            run("x509", "-req", "-in", f"{leaf}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{leaf}.pem", "-days", "2", "-extfile", f"{leaf}.ext")
        started = []
        try:
            homes = {}
            for leaf in ("e", "g"):
                r = self.replica(leaf, os.path.join(d, "ca.pem"))
                r.env["EDGECLASS_TLS_CERT"] = os.path.join(d, f"{leaf}.pem")
                r.env["EDGECLASS_TLS_KEY"] = os.path.join(d, f"{leaf}.key")
                started.append(r.start())
                homes[leaf] = r
            f_ = self.replica("f", os.path.join(d, "ca.pem")).start()
            started.append(f_)
            for r in started:
                wait_connected(r, 1)
            ca_ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
            ca_ctx.check_hostname = False  # e's certificate names elsewhere.example

            def call(port, ctx, method, path, body=None):
                conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=ctx)
                h = {"Authorization": "Bearer " + TEACHER, "Content-Type": "application/json"}
                conn.request(method, path, body=json.dumps(body) if body else None, headers=h)
                resp = conn.getresponse()
                out = resp.status, json.loads(resp.read().decode())
                conn.close()
                return out

            f_ctx = ssl.create_default_context(cafile=self.cert)
            results = {}
            for leaf, r in homes.items():
                st, c = call(r.port, ca_ctx, "POST", "/api/v1/courses",
                             {"title": "CA " + leaf, "status": "active"})
                self.assertEqual(st, 201, c)
                results[leaf] = call(f_.port, f_ctx, "PATCH", f"/api/v1/courses/{c['id']}",
                                     {"title": "via f"})
            st, body = results["e"]
            self.assertEqual(st, 503, body)
            self.assertEqual(body["error"]["code"], "course_home_unavailable")
            self.assertIn("does not name 127.0.0.1", body["error"]["message"])
            st, body = results["g"]
            self.assertEqual(st, 200, body)
            self.assertEqual(body["title"], "via f")
        finally:
            for r in started:
                r.stop()

if __name__ == "__main__":
    unittest.main()
