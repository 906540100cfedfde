"""One live class across the replicas of a city (docs/design.md, "One live class across
replicas"), against a real redis-server and three replicas on loopback: the course's home
(a) runs the room; students whose sockets land on b and c are relayed through those
replicas' edge rooms. Chat, hands, quizzes and answers behave as on the home (same events,
same error codes, answers counted once), capacity is exact city-wide, resume works on any
replica, presence is in Redis, and the failures are defined: an edge replica killed (its
students resume elsewhere, the home drops them), Redis lost mid-class (edge sockets close
with 1001, joins through an edge answer 503 city_unavailable, the home's own sockets go on),
the home killed mid-class (edge sockets close with 1001, joins answer 503 until it is back,
then a snapshot of the rebuilt room), a replica stopped with SIGTERM (it says goodbye: its
sockets close with 1012 and leave the class at once, edge or home), and Redis back empty
(restarted, then flushed: the presence of the live sockets is written again).
Run by tests/scripts/city.sh (skips when redis-server is missing)."""
import os
import re
import signal
import socket
import threading
import time
import unittest

from harness import token
from test_city import CityCase, request, until, wait_connected
from test_live_room import WebSocket, HttpRefused

TEACHER = token("t-live", "teacher", "Ms L")
QUIZ = {"title": "Q", "questions": [{"kind": "single", "prompt": "1+1?", "options": ["1", "2"],
                                     "correct": [1]}]}


def redis_command(port, *args):
    """One command over RESP; the reply as str, int, list or None (enough for HGETALL)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    out = f"*{len(args)}\r\n".encode()
    for a in args:
        b = a.encode()
        out += f"${len(b)}\r\n".encode() + b + b"\r\n"
    s.sendall(out)
    f = s.makefile("rb")

    def read():
        line = f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data.decode()
        if t == b"*":
            return [read() for _ in range(int(rest))]
        raise RuntimeError("unexpected reply " + repr(line))

    try:
        return read()
    finally:
        f.close()
        s.close()


class CityLiveTest(CityCase):
    prefix = "edgeclass-citylive"
    # A transport nobody connects to fails soon (test_7 waits for it).
    extra_env = {"EDGECLASS_MEDIA_ICE_TIMEOUT": "2s"}

    def setUp(self):
        self.sockets = []

    def tearDown(self):
        for w in self.sockets:
            w.close()

    def metric(self, name, metric):
        _, text = self.replicas[name].request("GET", "/metrics", admin=True)
        for line in text.splitlines():
            if line.startswith(metric + " "):
                return float(line.split()[-1])
        return None

    def live_class(self, students, capacity=10):
        """A course homed on a with `students` enrolled (through c) and a live session."""
        st, c, _ = request(self.port("a"), "POST", "/api/v1/courses",
                           {"title": "City class", "status": "active", "capacity": capacity},
                           TEACHER)
        self.assertEqual(st, 201, c)
        for t in students:
            st, body, _ = request(self.port("c"), "POST", f"/api/v1/courses/{c['id']}/join",
                                  tok=t)
            self.assertEqual(st, 201, (body, [l.strip() for l in self.replicas["c"].log
                                              if "lookup_failed" in l][-1:]))
        st, ses, _ = request(self.port("b"), "POST", f"/api/v1/courses/{c['id']}/sessions",
                             {"title": "Live"}, TEACHER)
        self.assertEqual(st, 201, ses)
        return c["id"], ses["id"]

    def live(self, name, session, tok, query="", browser=True):
        w = WebSocket(self.port(name), f"/api/v1/sessions/{session}/live?token={tok}{query}",
                      browser=browser)
        self.sockets.append(w)
        return w

    @staticmethod
    def chat_seen(w, text, timeout=15):
        """Reads w until the chat message `text` arrives; the message or None."""
        end = time.time() + timeout
        while time.time() < end:
            m = w.expect("chat_message", max(0.1, end - time.time()))
            if m is None:
                return None
            if m.get("text") == text:
                return m
        return None

    def test_1_one_class_spans_replicas(self):
        s1, s2 = token("cl-1", "student", "Bea"), token("cl-2", "student", "Cy")
        course, session = self.live_class([s1, s2])
        st, q, _ = request(self.port("c"), "POST", f"/api/v1/sessions/{session}/quizzes", QUIZ,
                           TEACHER)
        self.assertEqual(st, 201, q)
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        bea = self.live("b", session, s1)
        w = bea.expect("welcome")
        self.assertIsNotNone(w, "a student on b (not the course's home) got no welcome")
        self.assertEqual(w["you"]["id"], "cl-1")
        self.assertEqual(teacher.expect("participant_joined")["user"]["id"], "cl-1")
        cy = self.live("c", session, s2)
        w = cy.expect("welcome")
        self.assertIsNotNone(w)
        # Presence counts everyone, wherever their socket is.
        self.assertEqual((w["snapshot"]["count"], w["snapshot"]["students"]), (3, 2))
        self.assertEqual(sorted(p["id"] for p in w["snapshot"]["participants"]),
                         ["cl-1", "cl-2", "t-live"])
        self.assertEqual(bea.expect("participant_joined")["user"]["id"], "cl-2")
        # Presence is in Redis too, for the whole city (written there by the replicas
        # asynchronously: wait for it).
        ok, _ = until(lambda: self.presence(session) == ["cl-1", "cl-2", "t-live"], 15)
        self.assertTrue(ok, self.presence(session))

        # Chat from b reaches a and c; from c reaches a and b; each once, same seq everywhere.
        bea.send({"type": "chat", "text": "hello from b", "ref": "c1"})
        seen = [self.chat_seen(x, "hello from b") for x in (teacher, bea, cy)]
        self.assertTrue(all(seen), seen)
        self.assertEqual(len({m["seq"] for m in seen}), 1)
        cy.send({"type": "chat", "text": "and from c"})
        for x in (teacher, bea, cy):
            self.assertIsNotNone(self.chat_seen(x, "and from c"))
        # Hands: to the teacher and the student; the same errors as on the home.
        cy.send({"type": "hand_raise", "ref": "h1"})
        self.assertEqual(teacher.expect("hand_raised")["user"]["id"], "cl-2")
        self.assertEqual(cy.expect("hand_raised")["position"], 1)
        cy.send({"type": "hand_raise", "ref": "h2"})
        err = cy.expect("error")
        self.assertEqual((err["code"], err["ref"]), ("hand_already_raised", "h2"))
        bea.send({"type": "mute", "muted": True, "ref": "m1"})
        err = bea.expect("error")
        self.assertEqual((err["code"], err["ref"]), ("not_teacher", "m1"))
        bea.send({"type": "nonsense"})
        self.assertIn(bea.expect("error")["code"], ("invalid_field", "invalid_body"))
        bea.send({"type": "ping", "ref": "p1"})
        self.assertEqual(bea.expect("pong")["ref"], "p1")

        # The quiz made through c is published by the teacher on a and answered through b
        # and c; the teacher sees live results for both; a repeated answer is counted once.
        teacher.send({"type": "quiz_publish", "quiz_id": q["id"], "time_limit_s": 60})
        for x in (bea, cy):
            self.assertEqual(x.expect("quiz_published")["quiz"]["id"], q["id"])
        bea.send({"type": "answer", "quiz_id": q["id"], "answers": [{"question": 0, "choice": [1]}]})
        cy.send({"type": "answer", "quiz_id": q["id"], "answers": [{"question": 0, "choice": [0]}]})
        self.assertEqual(bea.expect("answer_accepted")["quiz_id"], q["id"])
        self.assertEqual(cy.expect("answer_accepted")["quiz_id"], q["id"])
        bea.send({"type": "answer", "quiz_id": q["id"], "answers": [{"question": 0, "choice": [1]}]})
        self.assertIsNotNone(bea.expect("answer_accepted"))  # the same set: acknowledged again
        bea.send({"type": "answer", "quiz_id": q["id"], "ref": "a3",
                  "answers": [{"question": 0, "choice": [0]}]})
        err = bea.expect("error")
        self.assertEqual((err["code"], err["ref"]), ("already_answered", "a3"))
        end = time.time() + 15
        answered = 0
        while time.time() < end and answered < 2:
            r = teacher.expect("quiz_results", max(0.1, end - time.time()))
            if r is None:
                break
            answered = r["answered"]
        self.assertEqual(answered, 2)
        st, res, _ = request(self.port("b"), "GET", f"/api/v1/quizzes/{q['id']}/results",
                             tok=TEACHER)
        self.assertEqual(st, 200, res)
        self.assertEqual(res["answered_students"], 2)
        self.assertEqual(res["questions"][0]["counts"], [1, 1])
        teacher.send({"type": "quiz_close", "quiz_id": q["id"]})
        self.assertEqual(cy.expect("quiz_score")["score"], 0)
        self.assertEqual(bea.expect("quiz_score")["score"], 1)

        # The home's decisions at the door, through an edge: a program gets the HTTP status,
        # a browser the close code.
        stranger = token("cl-x", "student")
        with self.assertRaises(HttpRefused) as refused:
            self.live("b", session, stranger, browser=False)
        self.assertEqual(refused.exception.status, 403)
        self.assertEqual(self.live("c", session, stranger).closed(), 4003)
        # Moderation reaches a socket on another replica: removed, close 4011.
        teacher.send({"type": "remove", "user_id": "cl-2"})
        self.assertEqual(cy.expect("removed")["reason"], "removed")
        self.assertEqual(cy.closed(), 4011)
        self.assertEqual(self.live("b", session, s2).closed(), 4011)
        # (the refused socket's edge connection goes a moment after its close frame)
        until(lambda: self.metric("b", "edgeclass_city_live_edge_connections") == 1, 15)
        self.assertEqual(self.metric("b", "edgeclass_city_live_edge_connections"), 1)
        self.assertGreaterEqual(self.metric("a", "edgeclass_city_live_remote_connections"), 1)
        # The end reaches everyone: session_ended, then 1000.
        st, _, _ = request(self.port("c"), "POST", f"/api/v1/sessions/{session}/end", None,
                           TEACHER)
        self.assertEqual(st, 200)
        self.assertEqual(bea.expect("session_ended")["reason"], "teacher_ended")
        self.assertEqual(bea.closed(), 1000)
        # The ended room forgets the edges' connections (their sockets are closed), and
        # takes none of them for lost edges.
        gone, _ = until(lambda: self.metric("a", "edgeclass_city_live_remote_connections") == 0, 15)
        self.assertTrue(gone)
        until(lambda: self.metric("b", "edgeclass_city_live_edge_connections") == 0, 15)
        self.assertEqual(self.metric("b", "edgeclass_city_live_edge_connections"), 0)
        self.assertFalse([l for l in self.replicas["a"].log if "live.edge_lost" in l])
        # Attendance counts the students who came through other replicas, and their visits
        # are closed by the end.
        st, att, _ = request(self.port("c"), "GET", f"/api/v1/sessions/{session}/attendance",
                             tok=TEACHER)
        self.assertEqual(st, 200, att)
        rows = {x["user_id"]: x for x in att["items"]}
        self.assertEqual(att["students"], 2, att)
        self.assertFalse(rows["cl-1"]["present"], rows["cl-1"])
        self.assertIsNotNone(rows["cl-1"]["last_left_at"])
        self.assertEqual(teacher.closed(), 1000)  # answers the close: the teacher leaves too
        empty, _ = until(lambda: redis_command(self.redis.port, "HGETALL",
                                               f"ec:presence:{session}") == [], 15)
        self.assertTrue(empty, redis_command(self.redis.port, "HGETALL", f"ec:presence:{session}"))

    def test_1b_a_spread_room_on_the_home_serves_its_edges_too(self):
        """A large class (capacity above EDGECLASS_LIVE_SPREAD_ABOVE, 50 by default) is spread
        over the home's two I/O threads, and its students on other replicas are relayed as
        for any room: each chat reaches every socket once with one seq, and the home counts
        it once per socket of its own, on both threads."""
        students = [token(f"sp-{i}", "student", f"S{i}") for i in range(22)]
        course, session = self.live_class(students, capacity=60)
        spread = "edgeclass_live_spread_connections_total"
        sent = 'edgeclass_live_messages_sent_total{type="chat_message"}'
        spread_before = self.metric("a", spread) or 0
        sent_before = self.metric("a", sent) or 0
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        home = [teacher]
        # The kernel spreads accepts over the two listeners; join until some socket landed on
        # the thread that is not the room's (served through its shard), 4 at least.
        for tok in students[:20]:
            w = self.live("a", session, tok)
            self.assertIsNotNone(w.expect("welcome"))
            home.append(w)
            if len(home) > 4 and self.metric("a", spread) > spread_before:
                break
        self.assertGreater(self.metric("a", spread), spread_before)
        edges = [self.live("b", session, students[20]), self.live("c", session, students[21])]
        for w in edges:
            self.assertIsNotNone(w.expect("welcome"))
        everyone = home + edges
        chats = [("from the teacher", teacher), ("from a home student", home[-1]),
                 ("from b", edges[0])]
        for text, sender in chats:
            sender.send({"type": "chat", "text": text})
            seen = [self.chat_seen(x, text) for x in everyone]
            self.assertTrue(all(seen), (text, seen))
            self.assertEqual(len({m["seq"] for m in seen}), 1, text)
        # (a shard counts a message right after queuing it, so the count may trail the last
        # socket's read by a moment: wait for it, then check it is exact)
        want = len(chats) * len(home)
        until(lambda: self.metric("a", sent) - sent_before >= want, 15)
        self.assertEqual(self.metric("a", sent) - sent_before, want)
        # An error reply to a socket on either thread and to one on an edge.
        for w in (home[1], home[-1], edges[1]):
            w.send({"type": "nonsense", "ref": "y"})
            self.assertIn(w.expect("error")["code"], ("invalid_field", "invalid_body"))

    def test_2_capacity_is_exact_across_replicas(self):
        students = [token(f"cap-{i}", "student") for i in range(9)]
        course, session = self.live_class(students, capacity=10)
        # The course now holds 9 enrolled (capacity was checked at enrollment: lower it).
        st, body, _ = request(self.port("b"), "PATCH", f"/api/v1/courses/{course}",
                              {"capacity": 3}, TEACHER)
        self.assertEqual(st, 200, body)
        outcomes = []
        lock = threading.Lock()

        def join(i, t):
            try:
                w = WebSocket(self.port("abc"[i % 3]), f"/api/v1/sessions/{session}/live?token={t}")
            except Exception as e:  # noqa: BLE001
                with lock:
                    outcomes.append(("error", str(e)))
                return
            with lock:
                self.sockets.append(w)
            m = w.recv(10)
            with lock:
                outcomes.append(("welcome", None) if m and m["type"] == "welcome"
                                else ("closed", w.close_code))

        threads = [threading.Thread(target=join, args=(i, t)) for i, t in enumerate(students)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        welcomed = [o for o in outcomes if o[0] == "welcome"]
        full = [o for o in outcomes if o == ("closed", 4009)]
        self.assertEqual((len(welcomed), len(full)), (3, 6), outcomes)

    def test_3_resume_on_another_replica(self):
        s1 = token("rs-1", "student", "Di")
        course, session = self.live_class([s1])
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        di = self.live("b", session, s1)
        w = di.expect("welcome")
        epoch = w["epoch"]
        teacher.send({"type": "chat", "text": "one"})
        last = self.chat_seen(di, "one")["seq"]
        di.close()  # the connection is lost (no close frame)
        # b tells the home at once: Di leaves the room everywhere.
        self.assertEqual(teacher.expect("participant_left")["user_id"], "rs-1")
        for text in ("two", "three"):
            teacher.send({"type": "chat", "text": text})
            self.assertIsNotNone(self.chat_seen(teacher, text))
        # Back on c (neither the home nor where it was): exactly what it missed, in order.
        di2 = self.live("c", session, s1, f"&epoch={epoch}&last_seq={last}")
        w2 = di2.expect("welcome")
        self.assertTrue(w2["resumed"], w2)
        self.assertNotIn("snapshot", w2)
        # (the replay: every event after `last` addressed to this student, oldest first)
        # (read until "three", with a deadline: a pause between two replayed messages is not
        # their end on a loaded machine)
        replay = []
        end = time.time() + 15
        while time.time() < end:
            m = di2.recv(max(0.1, end - time.time()))
            if m is None:
                break
            replay.append(m)
            if m.get("type") == "chat_message" and m.get("text") == "three":
                break
        chats = [m["text"] for m in replay if m["type"] == "chat_message"]
        self.assertEqual(chats[-2:], ["two", "three"], replay)
        seqs = [m["seq"] for m in replay]
        self.assertEqual(seqs, sorted(seqs))
        self.assertGreater(seqs[0], last)
        # A resume on the home itself works the same way.
        di2.close()
        teacher.send({"type": "chat", "text": "four"})
        self.assertIsNotNone(self.chat_seen(teacher, "four"))
        di3 = self.live("a", session, s1, f"&epoch={epoch}&last_seq={seqs[-1]}")
        self.assertTrue(di3.expect("welcome")["resumed"])
        self.assertIsNotNone(self.chat_seen(di3, "four"))

    def test_4_edge_replica_killed_mid_class(self):
        s1 = token("kl-1", "student", "Eve")
        course, session = self.live_class([s1])
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        eve = self.live("c", session, s1)
        epoch = eve.expect("welcome")["epoch"]
        teacher.send({"type": "chat", "text": "before"})
        last = self.chat_seen(eve, "before")["seq"]
        self.replicas["c"].stop(sig=signal.SIGKILL)
        try:
            # The home stops hearing from c and drops its student (the room stays exact).
            t0 = time.time()
            left = teacher.expect("participant_left", 15)
            self.assertIsNotNone(left, "the home never dropped the dead edge's student")
            self.assertEqual(left["user_id"], "kl-1")
            print(f"\n  edge killed -9: its student left the home's room after "
                  f"{time.time() - t0:.1f} s")
            teacher.send({"type": "chat", "text": "after"})
            self.assertIsNotNone(self.chat_seen(teacher, "after"))
            # The student reconnects to another replica and resumes.
            eve2 = self.live("b", session, s1, f"&epoch={epoch}&last_seq={last}")
            w = eve2.expect("welcome")
            self.assertTrue(w["resumed"], w)
            self.assertIsNotNone(self.chat_seen(eve2, "after"))
            self.assertGreaterEqual(self.metric("a", "edgeclass_city_live_edge_lost_total"), 1)
        finally:
            self.replicas["c"] = self.replica("c").start()
            wait_connected(self.replicas["c"], 1)

    def test_5_redis_lost_mid_class(self):
        s1, s2 = token("rd-1", "student", "Flo"), token("rd-2", "student", "Gus")
        course, session = self.live_class([s1, s2])
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        flo = self.live("b", session, s1)  # through an edge
        gus = self.live("a", session, s2)  # on the home
        self.assertIsNotNone(flo.expect("welcome"))
        self.assertIsNotNone(gus.expect("welcome"))
        self.redis.kill()
        try:
            # The edge's student is told to reconnect (1001) ...
            self.assertEqual(flo.closed(15), 1001)
            self.assertIn("city", flo.close_reason)
            # ... and the home drops it; the home's own sockets go on.
            self.assertEqual(teacher.expect("participant_left", 15)["user_id"], "rd-1")
            gus.send({"type": "chat", "text": "still on a"})
            self.assertIsNotNone(self.chat_seen(teacher, "still on a"))
            # A join through an edge while Redis is away: 503 city_unavailable for a program,
            # 1001 for a browser (reconnect later).
            with self.assertRaises(HttpRefused) as refused:
                self.live("b", session, s1, browser=False)
            self.assertEqual(refused.exception.status, 503)
            self.assertEqual(self.live("c", session, s1).closed(), 1001)
            self.assertGreaterEqual(self.metric("b", "edgeclass_city_live_edge_cut_total"), 1)
        finally:
            self.redis.start()
            for r in self.replicas.values():
                wait_connected(r, 1)
        # Back: the class spans replicas again (a re-registered its sessions).
        ok, _ = until(lambda: self._joins_through("b", session, s1), 10, 0.5)
        self.assertTrue(ok, "the student could not rejoin through b after Redis came back")

    def test_6_home_killed_mid_class(self):
        s1 = token("hk-1", "student", "Hal")
        course, session = self.live_class([s1])
        hal = self.live("b", session, s1)
        epoch = hal.expect("welcome")["epoch"]
        self.replicas["a"].stop(sig=signal.SIGKILL)
        restarted = False
        try:
            # The edge notices that nobody receives its beats and tells the student to
            # reconnect; until the home is back a join through an edge is 503.
            t0 = time.time()
            self.assertEqual(hal.closed(12), 1001)
            print(f"\n  home killed -9: the edge's student told to reconnect after "
                  f"{time.time() - t0:.1f} s")
            with self.assertRaises(HttpRefused) as refused:
                self.live("c", session, s1, browser=False)
            self.assertEqual(refused.exception.status, 503)
            self.assertGreaterEqual(self.metric("b", "edgeclass_city_live_edge_cut_total"), 1)
            self.replicas["a"] = self.replica("a").start()
            restarted = True
            # The home rebuilt the room from SQLite: a resume from the old epoch gets a
            # snapshot, through any replica.
            ok, _ = until(lambda: self._joins_through("c", session, s1), 30, 0.5)
            self.assertTrue(ok, "the student could not rejoin through c after the home came back")
            hal2 = self.live("b", session, s1, f"&epoch={epoch}&last_seq=1")
            w = hal2.expect("welcome")
            self.assertFalse(w["resumed"])
            self.assertNotEqual(w["epoch"], epoch)
            self.assertIn("snapshot", w)
        finally:
            if not restarted:
                self.replicas["a"] = self.replica("a").start()
            wait_connected(self.replicas["a"], 1)

    def media_port(self, name):
        """The UDP port replica `name`'s SFU announced (its media.ready log line)."""
        for line in self.replicas[name].log:
            if "media.ready" in line:
                m = re.search(r'"?port"?\s*[:=]\s*"?(\d+)', line)
                if m:
                    return int(m.group(1))
        self.fail(f"replica {name} logged no media.ready line")

    @staticmethod
    def candidate_ports(sdp):
        """The ports of the a=candidate lines of an SDP."""
        ports = set()
        for line in sdp.splitlines():
            if line.startswith("a=candidate:"):
                ports.add(int(line.split()[5]))
        return ports

    def test_7_video_for_a_student_on_an_edge(self):
        """Video across replicas: a student whose socket is on an edge watches on the edge's
        own SFU (the streams relayed once per replica from the home's, docs/design.md "A class
        relayed between replicas"): media.subscribe from the edge gets the edge's answer (its
        ICE candidates are the edge's media port), the feeds (media.tracks) and the
        per-connection media events reach the edge socket; publishing (the stage) goes to the
        home's SFU."""
        data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "media", "data")
        with open(os.path.join(data, "chromium_publish_offer.sdp")) as f:
            publish_offer = f.read()
        with open(os.path.join(data, "chromium_subscribe_offer.sdp")) as f:
            subscribe_offer = f.read()
        s1 = token("mv-1", "student", "Ivy")
        course, session = self.live_class([s1])
        home_port, edge_port = self.media_port("a"), self.media_port("b")
        self.assertNotEqual(home_port, edge_port)
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        teacher.send({"type": "media.publish", "sdp": publish_offer, "ref": "tp"})
        ans = teacher.expect("media.answer")
        self.assertIsNotNone(ans, "the teacher on the home got no publish answer")
        # A student joining through b learns how to publish and which feeds are live.
        ivy = self.live("b", session, s1)
        self.assertIsNotNone(ivy.expect("welcome"))
        cfg = ivy.expect("media.config")
        self.assertIsNotNone(cfg, "the edge's student got no media.config")
        tracks = ivy.expect("media.tracks")
        self.assertIsNotNone(tracks, "the edge's student got no media.tracks")
        main = [f for f in tracks["feeds"] if f["feed"] == "main"]
        self.assertEqual(len(main), 1, tracks)
        self.assertEqual(main[0]["participant"], "t-live")
        self.assertTrue(main[0]["video"], tracks)
        # media.subscribe through the edge: the edge's own SFU answers, with the edge's media
        # address; the student's browser connects its media to its own replica.
        ivy.send({"type": "media.subscribe", "sdp": subscribe_offer, "ref": "s1"})
        ans = ivy.expect("media.answer")
        self.assertIsNotNone(ans, "media.subscribe through an edge got no answer")
        self.assertEqual((ans["kind"], ans["ref"]), ("subscribe", "s1"))
        sdp = ans["sdp"]
        self.assertTrue(sdp.startswith("v=0"), sdp[:80])
        self.assertIn("a=fingerprint:sha-256", sdp)
        self.assertIn("m=video", sdp)
        self.assertEqual(self.candidate_ports(sdp), {edge_port}, sdp)
        # Nobody connects to it here: the edge's SFU gives up and the edge's socket is told.
        gone = ivy.expect("media.disconnected", 10)
        self.assertIsNotNone(gone, "the edge's student was not told its media transport failed")
        self.assertEqual(gone["connection"], "subscribe")
        # Publishing through the edge: the same decision as on the home (not on stage: no),
        # then, on stage, the home's SFU takes the student's feed and everyone sees it.
        ivy.send({"type": "media.publish", "sdp": publish_offer, "ref": "ip1"})
        err = ivy.expect("error")
        self.assertEqual((err["code"], err["ref"]), ("not_allowed", "ip1"))
        teacher.send({"type": "stage_give", "user_id": "mv-1"})
        self.assertEqual(ivy.expect("stage")["user_id"], "mv-1")
        # (the fixture's SSRCs are the teacher's: the student's browser would pick its own)
        student_offer = (publish_offer.replace("3735928559", "3735928560")
                         .replace("2863311530", "2863311531").replace("1431655765", "1431655766"))
        ivy.send({"type": "media.publish", "sdp": student_offer, "ref": "ip2"})
        ans = ivy.expect("media.answer")
        self.assertIsNotNone(ans, "a student on stage through an edge got no publish answer")
        self.assertEqual((ans["kind"], ans["ref"]), ("publish", "ip2"))
        self.assertEqual(self.candidate_ports(ans["sdp"]), {home_port})

        def stage_feed(w):
            end = time.time() + 15
            while time.time() < end:
                m = w.expect("media.tracks", max(0.1, end - time.time()))
                if m is None:
                    return None
                f = [x for x in m["feeds"] if x["feed"] == "stage"]
                if f:
                    return f[0]
            return None

        self.assertEqual(stage_feed(teacher)["participant"], "mv-1")
        self.assertEqual(stage_feed(ivy)["participant"], "mv-1")
        # media.unpublish through the edge ends the stage feed for everyone.
        ivy.send({"type": "media.unpublish"})
        end = time.time() + 15
        cleared = False
        while time.time() < end and not cleared:
            m = teacher.expect("media.tracks", max(0.1, end - time.time()))
            if m is None:
                break
            cleared = not [x for x in m["feeds"] if x["feed"] == "stage"]
        self.assertTrue(cleared, "media.unpublish through an edge left the stage feed live")

    def test_8_an_edge_students_media_goes_when_it_leaves(self):
        """When the last connection of a student on an edge leaves, the edge drops its media
        transports at once (as the home does for its own sockets): its subscription never
        lives on to fail its ICE timeout (2 s here) on either replica."""
        data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "media", "data")
        with open(os.path.join(data, "chromium_subscribe_offer.sdp")) as f:
            subscribe_offer = f.read()
        s1 = token("ml-1", "student", "Jo")
        course, session = self.live_class([s1])
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        jo = self.live("c", session, s1)
        self.assertIsNotNone(jo.expect("welcome"))
        jo.send({"type": "media.subscribe", "sdp": subscribe_offer, "ref": "s1"})
        ans = jo.expect("media.answer")
        self.assertIsNotNone(ans, "media.subscribe through an edge got no answer")
        self.assertEqual(self.candidate_ports(ans["sdp"]), {self.media_port("c")})
        jo.close()
        self.assertEqual(teacher.expect("participant_left")["user_id"], "ml-1")
        time.sleep(3)  # past the ICE timeout the transport would have failed at
        for r in ("a", "c"):
            failed = [l for l in self.replicas[r].log if "media.ice_failed" in l and "ml-1" in l]
            self.assertEqual(failed, [], f"replica {r} kept the media of an edge student who left")

    def presence(self, session):
        """The user ids in the session's presence hash in Redis, sorted."""
        return sorted(redis_command(self.redis.port, "HGETALL", f"ec:presence:{session}")[0::2])

    def restart(self, name):
        self.replicas[name] = self.replica(name).start()
        wait_connected(self.replicas[name], 1)

    def assert_clean_stop(self, name):
        """Replica `name` was sent SIGTERM: it exits 0 without the drain timeout and with its
        last Redis commands answered."""
        r = self.replicas[name]
        rc = r.stop()
        self.assertEqual(rc, 0, "".join(l for l in r.log[-30:] if "http.access" not in l))
        bad = [l for l in r.log if "http.drain_timeout" in l or "city.stop_unflushed" in l]
        self.assertEqual(bad, [], f"replica {name} did not stop cleanly")
        self.assertTrue([l for l in r.log if "city.goodbye" in l], f"{name} said no goodbye")

    def test_9a_edge_replica_stopped_mid_class_says_goodbye(self):
        """SIGTERM to an edge: its students are told to reconnect now (1012) and leave the
        home's room at once (not after the 7 s a killed edge takes), so the others and the
        city's presence see them go; the edge stops without the drain timeout."""
        s1, s2 = token("gb-1", "student", "Kim"), token("gb-2", "student", "Lu")
        course, session = self.live_class([s1, s2])
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        kim = self.live("c", session, s1)
        epoch = kim.expect("welcome")["epoch"]
        lu = self.live("b", session, s2)
        self.assertIsNotNone(lu.expect("welcome"))
        ok, _ = until(lambda: self.presence(session) == ["gb-1", "gb-2", "t-live"], 15)
        self.assertTrue(ok, self.presence(session))
        teacher.send({"type": "chat", "text": "before"})
        last = self.chat_seen(kim, "before")["seq"]
        self.assertIsNotNone(self.chat_seen(lu, "before"))
        t0 = time.time()
        self.replicas["c"].proc.send_signal(signal.SIGTERM)
        try:
            self.assertEqual(kim.closed(5), 1012)
            self.assertIn("reconnect", kim.close_reason)
            left = None
            while left is None or left["user_id"] != "gb-1":
                left = teacher.expect("participant_left", 5)
                self.assertIsNotNone(left, "the home never heard that the edge's student left")
            took = time.time() - t0
            gone, _ = until(lambda: "gb-1" not in self.presence(session), 3, 0.05)
            print(f"\n  edge stopped (SIGTERM): its student left the home's room after "
                  f"{took:.2f} s, presence {time.time() - t0:.2f} s")
            self.assertTrue(gone, self.presence(session))
            self.assertLess(took, 3.0, "the home heard of the leave no sooner than of a dead edge")
            self.assertEqual(self.presence(session), ["gb-2", "t-live"])
            self.assert_clean_stop("c")
            self.assertFalse([l for l in self.replicas["a"].log
                              if "live.edge_lost" in l and '"c"' in l])
            # The class goes on for the others; the student resumes through another replica.
            teacher.send({"type": "chat", "text": "after"})
            self.assertIsNotNone(self.chat_seen(lu, "after"))
            kim2 = self.live("b", session, s1, f"&epoch={epoch}&last_seq={last}")
            w = kim2.expect("welcome")
            self.assertTrue(w["resumed"], w)
            self.assertIsNotNone(self.chat_seen(kim2, "after"))
        finally:
            self.restart("c")

    def test_9b_home_stopped_mid_class_says_goodbye(self):
        """SIGTERM to the course's home: every socket of the class, its own and the edges',
        is told to reconnect (1012) at once, the session's presence and the replica's key go
        from Redis at once (joins through an edge answer 503 course_home_unavailable, not
        after a timeout), and it stops without the drain timeout. Back, the class resumes."""
        s1 = token("hs-1", "student", "Mo")
        course, session = self.live_class([s1])
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        mo = self.live("b", session, s1)
        self.assertIsNotNone(mo.expect("welcome"))
        ok, _ = until(lambda: self.presence(session) == ["hs-1", "t-live"], 15)
        self.assertTrue(ok, self.presence(session))
        t0 = time.time()
        self.replicas["a"].proc.send_signal(signal.SIGTERM)
        restarted = False
        try:
            self.assertEqual(mo.closed(5), 1012)
            took = time.time() - t0
            self.assertEqual(teacher.closed(5), 1012)
            empty, _ = until(lambda: self.presence(session) == [], 3, 0.05)
            print(f"\n  home stopped (SIGTERM): the edge's student told to reconnect after "
                  f"{took:.2f} s, presence gone after {time.time() - t0:.2f} s")
            self.assertTrue(empty, self.presence(session))
            self.assertLess(took, 3.0)
            self.assert_clean_stop("a")
            self.assertIsNone(redis_command(self.redis.port, "GET", "ec:replica:a"))
            with self.assertRaises(HttpRefused) as refused:
                self.live("b", session, s1, browser=False)
            self.assertEqual(refused.exception.status, 503)
            self.restart("a")
            restarted = True
            ok, _ = until(lambda: self._joins_through("b", session, s1), 10, 0.5)
            self.assertTrue(ok, "the student could not rejoin through b after the home came back")
        finally:
            if not restarted:
                self.restart("a")

    def test_9c_redis_back_empty_mid_class(self):
        """Redis restarts with no data mid-class, then is flushed: within 10 s each replica
        has written again what it owns, the presence of the live sockets included, and
        chat flows across replicas again (the edge's student, cut while Redis was away,
        reconnects as a page does)."""
        s1, s2 = token("re-1", "student", "Ned"), token("re-2", "student", "Ola")
        course, session = self.live_class([s1, s2])
        teacher = self.live("a", session, TEACHER)
        self.assertIsNotNone(teacher.expect("welcome"))
        ned = self.live("a", session, s1)  # on the home
        self.assertIsNotNone(ned.expect("welcome"))
        ola = self.live("b", session, s2)  # through an edge
        self.assertIsNotNone(ola.expect("welcome"))
        everyone = ["re-1", "re-2", "t-live"]
        ok, _ = until(lambda: self.presence(session) == everyone, 15)
        self.assertTrue(ok, self.presence(session))
        self.redis.kill()
        try:
            self.assertEqual(ola.closed(15), 1001)  # the edge cut it (Redis lost)
        finally:
            self.redis.start()  # empty: no persistence
        t0 = time.time()
        # The home writes its room's presence again (its own sockets: the teacher and Ned).
        ok, _ = until(lambda: self.presence(session) == ["re-1", "t-live"], 10, 0.1)
        print(f"\n  Redis back empty: the home's presence written again after "
              f"{time.time() - t0:.2f} s")
        if not ok:
            print("".join(l for l in self.replicas["a"].log[-60:] if "access" not in l))
        self.assertTrue(ok, self.presence(session))
        # The page reconnects through the edge (as soon as the edge is back in the city).
        w = None
        refusals = []  # close codes before the welcome: "try again" (1001), never final
        end = time.time() + 10
        while time.time() < end:
            ola = self.live("b", session, s2)
            w = ola.expect("welcome")
            if w is not None:
                break
            refusals.append(getattr(ola, "close_code", None))
            time.sleep(0.2)
        self.assertIsNotNone(w, "the edge's student could not rejoin after Redis came back")
        self.assertEqual([c for c in refusals if c not in (1001, None)], [], refusals)
        ok, _ = until(lambda: self.presence(session) == everyone, 5)
        self.assertTrue(ok, self.presence(session))
        self.assertLess(time.time() - t0, 10.0)
        ola.send({"type": "chat", "text": "from b again"})
        for x in (teacher, ned, ola):
            self.assertIsNotNone(self.chat_seen(x, "from b again"))
        # Flushed while everyone stays connected: written again within a heartbeat or so.
        redis_command(self.redis.port, "FLUSHALL")
        t0 = time.time()
        ok, _ = until(lambda: self.presence(session) == everyone, 10, 0.1)
        print(f"  Redis flushed: presence whole again after {time.time() - t0:.2f} s")
        self.assertTrue(ok, self.presence(session))
        self.assertIsNotNone(redis_command(self.redis.port, "GET", f"ec:home:{session}"))
        teacher.send({"type": "chat", "text": "after the flush"})
        for x in (teacher, ned, ola):
            self.assertIsNotNone(self.chat_seen(x, "after the flush"))
        ola.send({"type": "chat", "text": "from b after the flush"})
        self.assertIsNotNone(self.chat_seen(teacher, "from b after the flush"))

    def _joins_through(self, name, session, tok):
        w = WebSocket(self.port(name), f"/api/v1/sessions/{session}/live?token={tok}")
        self.sockets.append(w)
        m = w.recv(5)
        return m is not None and m["type"] == "welcome"


if __name__ == "__main__":
    unittest.main()
