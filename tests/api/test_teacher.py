"""What a teacher needs every day, against the real binary: class codes (join by code under
the same policy and capacity rules as by id, rotation), attendance recorded by the live room,
the session history with attendance counts, and the gradebook as JSON and as a CSV file a
spreadsheet opens correctly (BOM, quoting, Chinese names, formula-looking cells)."""
import csv
import http.client
import io
import json
import re
import time
import unittest

from harness import Server, ServerTestCase, token
from test_live_room import WebSocket

T = token("t1", "teacher", "王老师")
T2 = token("t2", "teacher", "Other")
ADMIN = token("a1", "admin", "Admin")
CODE_RE = re.compile(r"^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$")


def raw_get(port, path, tok):
    """GET returning (status, headers, body bytes), for files that are not JSON."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Authorization": "Bearer " + tok})
    resp = conn.getresponse()
    body = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, headers, body


class ClassCodeTest(ServerTestCase):
    def code_of(self, course_id, tok=T):
        st, body = self.srv.request("GET", f"/api/v1/courses/{course_id}/join_code", tok=tok)
        self.assertEqual(st, 200, body)
        return body["join_code"]

    def test_code_shape_visibility_and_join(self):
        s = self.srv
        c = s.course(T, capacity=2)
        code = self.code_of(c["id"])
        self.assertRegex(code, CODE_RE, "a code has no 0/O, 1/I/L and is 8 characters")
        self.assertEqual(self.code_of(c["id"], ADMIN), code)
        self.assertNotIn("join_code", c, "the course itself does not carry the code")
        st, pub = s.request("GET", f"/api/v1/courses/{c['id']}", tok=token("sx"))
        self.assertNotIn(code, json.dumps(pub), "students must not see the code")
        for tok in (token("sx"), T2):
            st, body = s.request("GET", f"/api/v1/courses/{c['id']}/join_code", tok=tok)
            self.assertEqual((st, body["error"]["code"]), (403, "forbidden"))

        # Typed as a person would: lower case, a dash, spaces.
        typed = f" {code[:4].lower()}-{code[4:]} "
        st, e = s.request("POST", "/api/v1/join", {"code": typed}, token("s1", name="Ana"))
        self.assertEqual(st, 201, e)
        self.assertEqual((e["course_id"], e["student_id"]), (c["id"], "s1"))
        st, e = s.request("POST", "/api/v1/join", {"code": code}, token("s1", name="Ana"))
        self.assertEqual(st, 200, "already enrolled")
        # The same policy as joining by id: teachers may not join; capacity holds.
        st, body = s.request("POST", "/api/v1/join", {"code": code}, T2)
        self.assertEqual((st, body["error"]["code"]), (403, "join_denied"))
        self.assertEqual(s.request("POST", "/api/v1/join", {"code": code}, token("s2"))[0], 201)
        st, body = s.request("POST", "/api/v1/join", {"code": code}, token("s3"))
        self.assertEqual((st, body["error"]["code"]), (403, "join_denied"))
        self.assertIn("full", body["error"]["message"])

    def test_draft_course_code_is_refused_like_its_id(self):
        s = self.srv
        c = s.course(T, active=False)
        code = self.code_of(c["id"])
        st, body = s.request("POST", "/api/v1/join", {"code": code}, token("s9"))
        self.assertEqual((st, body["error"]["code"]), (403, "join_denied"))
        self.assertIn("not active", body["error"]["message"])

    def test_rotation_retires_the_old_code(self):
        s = self.srv
        c = s.course(T)
        old = self.code_of(c["id"])
        st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join_code/rotate", tok=token("s1"))
        self.assertEqual(st, 403)
        st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join_code/rotate", tok=T2)
        self.assertEqual(st, 403)
        st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join_code/rotate", tok=T)
        self.assertEqual(st, 200, body)
        new = body["join_code"]
        self.assertRegex(new, CODE_RE)
        self.assertNotEqual(new, old)
        self.assertEqual(self.code_of(c["id"]), new)
        st, body = s.request("POST", "/api/v1/join", {"code": old}, token("s5"))
        self.assertEqual((st, body["error"]["code"]), (404, "join_code_not_found"))
        self.assertEqual(s.request("POST", "/api/v1/join", {"code": new}, token("s5"))[0], 201)

    def test_guessing_codes_costs_no_writes(self):
        s = self.srv

        def ops_written():
            # /metrics is on the admin listener.
            conn = http.client.HTTPConnection("127.0.0.1", s.admin_port, timeout=30)
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
            conn.close()
            m = re.search(r"^edgeclass_store_commit_batch_size_sum (\S+)$", text, re.M)
            self.assertIsNotNone(m, "no edgeclass_store_commit_batch_size_sum in /metrics")
            return float(m.group(1))

        s.course(T)
        # The writer records a commit's batch once its callers are answered, which can be
        # just after the 201 arrives: wait for the count to settle (the same for a whole
        # second: one look 0.2 s later could still be ahead of a writer thread the loaded
        # machine had not run yet) before taking it.
        before, still, deadline = ops_written(), 0, time.time() + 30
        while still < 5 and time.time() < deadline:
            time.sleep(0.2)
            now = ops_written()
            still = still + 1 if now == before else 0
            before = now
        for guess in ("ABCDEFGH", "JKMNPQRS", "TUVWXYZ2", "23456789"):
            st, body = s.request("POST", "/api/v1/join", {"code": guess}, token("s_guess"))
            self.assertEqual((st, body["error"]["code"]), (404, "join_code_not_found"))
        self.assertEqual(ops_written(), before, "an unknown code reached the writer")

    def test_codes_are_distinct_and_bad_input_is_refused(self):
        s = self.srv
        codes = {self.code_of(s.course(T, title=f"C{i}")["id"]) for i in range(20)}
        self.assertEqual(len(codes), 20)
        for bad, why in ((["x"], "invalid_field"), ("", "invalid_field"),
                         ("ABCD0FGH", "invalid_join_code"), ("ABCDEFG", "invalid_join_code"),
                         ("ABCDEFGHJ", "invalid_join_code"), ("ABCDIFGH", "invalid_join_code")):
            st, body = s.request("POST", "/api/v1/join", {"code": bad}, token("s1"))
            self.assertEqual((st, body["error"]["code"]), (400, why), bad)
        st, body = s.request("POST", "/api/v1/join", {"code": "ABCDEFGH", "x": 1}, token("s1"))
        self.assertEqual((st, body["error"]["code"]), (400, "unknown_field"))
        st, body = s.request("POST", "/api/v1/join", {}, token("s1"))
        self.assertEqual((st, body["error"]["code"]), (400, "missing_field"))
        self.assertEqual(s.request("POST", "/api/v1/join", {"code": "ABCDEFGH"})[0], 401)


class AttendanceTest(unittest.TestCase):
    def setUp(self):
        self.srv = Server().start()
        s = self.srv
        self.course = s.course(T, capacity=10)["id"]
        for sub, name in (("s1", "李雷"), ("s2", "Han Meimei"), ("s3", "Absent")):
            st, _ = s.request("POST", f"/api/v1/courses/{self.course}/join",
                              tok=token(sub, name=name))
            self.assertEqual(st, 201)
        st, ses = s.request("POST", f"/api/v1/courses/{self.course}/sessions", {"title": "L1"}, T)
        self.assertEqual(st, 201, ses)
        self.session = ses["id"]
        self.sockets = []

    def tearDown(self):
        for w in self.sockets:
            w.close()
        self.srv.stop()

    def live(self, tok):
        w = WebSocket(self.srv.port, f"/api/v1/sessions/{self.session}/live?token={tok}")
        self.sockets.append(w)
        w.expect("welcome")
        return w

    def attendance(self, tok=T):
        return self.srv.request("GET", f"/api/v1/sessions/{self.session}/attendance", tok=tok)

    def wait_for(self, pred, what):
        deadline = time.time() + 15
        while time.time() < deadline:
            st, a = self.attendance()
            self.assertEqual(st, 200, a)
            if pred(a):
                return a
            time.sleep(0.05)
        self.fail(f"attendance never showed {what}: {a}")

    def test_visits_are_recorded_with_times_and_durations(self):
        s1 = token("s1", name="李雷")
        t = self.live(T)
        a = self.live(s1)
        b = self.live(token("s2", name="Han Meimei"))
        a2 = self.live(s1)  # a second tab: still one visit
        att = self.wait_for(lambda x: x["students"] == 2, "two students present")
        by = {e["user_id"]: e for e in att["items"]}
        self.assertEqual(set(by), {"t1", "s1", "s2"}, "s3 never came")
        self.assertEqual([e["role"] for e in att["items"]], ["student", "student", "teacher"])
        self.assertEqual(by["s1"]["name"], "李雷")
        self.assertTrue(by["s1"]["present"])
        self.assertIsNone(by["s1"]["last_left_at"])
        self.assertEqual(by["s1"]["visits"], 1)

        time.sleep(1.1)
        a.close()
        a2.close()
        self.sockets = [t, b]
        att = self.wait_for(lambda x: not {e["user_id"]: e for e in x["items"]}["s1"]["present"],
                            "s1 gone")
        s1e = {e["user_id"]: e for e in att["items"]}["s1"]
        self.assertIsNotNone(s1e["last_left_at"])
        self.assertGreaterEqual(s1e["duration_s"], 1)
        self.assertLess(s1e["duration_s"], 30)
        self.assertGreaterEqual(s1e["last_left_at"], s1e["first_joined_at"])

        self.live(s1)  # comes back: a second visit
        att = self.wait_for(lambda x: {e["user_id"]: e for e in x["items"]}["s1"]["visits"] == 2,
                            "s1's second visit")

        # The teacher removes s2 from the room: its visit closes.
        t.send({"type": "remove", "user_id": "s2"})
        self.wait_for(lambda x: not {e["user_id"]: e for e in x["items"]}["s2"]["present"],
                      "s2 removed")

        st, ended = self.srv.request("POST", f"/api/v1/sessions/{self.session}/end", None, T)
        self.assertEqual(st, 200)
        att = self.wait_for(lambda x: not any(e["present"] for e in x["items"]), "nobody present")
        self.assertEqual(att["status"], "ended")
        self.assertEqual(att["students"], 2)
        for e in att["items"]:  # RFC 3339 UTC strings of one format compare as times
            self.assertLessEqual(e["last_left_at"], att["ended_at"], e)

        # The course's session history carries the counts (for the teacher only).
        st, hist = self.srv.request("GET", f"/api/v1/courses/{self.course}/sessions", tok=T)
        self.assertEqual(st, 200)
        self.assertEqual([x["attendance"] for x in hist["items"]], [2])
        st, hist = self.srv.request("GET", f"/api/v1/courses/{self.course}/sessions",
                                    tok=token("s1"))
        self.assertNotIn("attendance", hist["items"][0])

    def test_only_the_teacher_and_admins_read_attendance(self):
        self.assertEqual(self.attendance(ADMIN)[0], 200)
        for tok in (token("s1"), token("s3"), T2):
            st, body = self.attendance(tok)
            self.assertEqual((st, body["error"]["code"]), (403, "forbidden"))
        st, body = self.srv.request("GET", "/api/v1/sessions/ses_nope/attendance", tok=T)
        self.assertEqual((st, body["error"]["code"]), (404, "session_not_found"))

    def test_a_visit_left_open_by_a_stopped_server_ends_by_the_restart(self):
        self.live(token("s1", name="李雷"))
        self.wait_for(lambda x: x["students"] == 1, "s1 present")
        data_dir = self.srv.data_dir
        self.srv.stop(sig=9)  # no chance to record the leave
        for w in self.sockets:
            w.close()
        self.sockets = []
        self.srv = Server(data_dir=data_dir).start()
        self.live(T)  # the room is rebuilt: open visits are closed
        att = self.wait_for(lambda x: not {e["user_id"]: e for e in x["items"]}["s1"]["present"],
                            "s1's visit closed after the restart")
        self.assertIsNotNone({e["user_id"]: e for e in att["items"]}["s1"]["last_left_at"])


class GradebookTest(ServerTestCase):
    def test_gradebook_json_and_csv(self):
        s = self.srv
        c = s.course(T, title="数学 Math")
        # Names a spreadsheet could get wrong: quotes, commas, newlines, Chinese, formulas.
        students = [("s1", "张三"), ("s2", 'O"Brien, "Bob"'), ("s3", "Line\nBreak"),
                    ("s4", "=HYPERLINK(\"http://x\")"), ("s5", "-5+3"), ("s6", "@SUM(A1)"),
                    ("s7", "+86 138"), ("s8", "Never answered")]
        for sub, name in students:
            st, _ = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token(sub, name=name))
            self.assertEqual(st, 201)
        st, ses = s.request("POST", f"/api/v1/courses/{c['id']}/sessions", None, T)
        self.assertEqual(st, 201)

        def quiz(title, n):
            qs = [{"kind": "single", "prompt": f"Q{i}", "options": ["a", "b"], "correct": [1]}
                  for i in range(n)]
            st, q = s.request("POST", f"/api/v1/sessions/{ses['id']}/quizzes",
                              {"title": title, "questions": qs}, T)
            self.assertEqual(st, 201, q)
            return q["id"]

        q1 = quiz("第一次测验, \"warm-up\"", 2)
        draft = quiz("Draft only", 1)
        self.assertEqual(s.request("POST", f"/api/v1/quizzes/{q1}/publish",
                                   {"time_limit_s": 600}, T)[0], 200)
        answers = {"s1": [1, 1], "s2": [1, 0], "s4": [0, 0], "s5": [1, 1], "s6": [0, 1], "s7": [1, 1]}
        for sub, picks in answers.items():
            st, body = s.request("POST", f"/api/v1/quizzes/{q1}/answers", {"answers": [
                {"question": i, "choice": [p]} for i, p in enumerate(picks)]}, token(sub))
            self.assertEqual(st, 201, body)
        s.request("POST", f"/api/v1/quizzes/{q1}/close", None, T)
        q2 = quiz("=1+1", 3)
        self.assertEqual(s.request("POST", f"/api/v1/quizzes/{q2}/publish",
                                   {"time_limit_s": 600}, T)[0], 200)
        st, _ = s.request("POST", f"/api/v1/quizzes/{q2}/answers", {"answers": [
            {"question": 0, "choice": [1]}, {"question": 2, "choice": [1]}]}, token("s1"))
        self.assertEqual(st, 201)
        # A student who answered and then left is not in the gradebook.
        st, _ = s.request("POST", f"/api/v1/courses/{c['id']}/leave", tok=token("s7"))
        self.assertEqual(st, 200)

        st, g = s.request("GET", f"/api/v1/courses/{c['id']}/gradebook.json", tok=T)
        self.assertEqual(st, 200, g)
        self.assertEqual([q["id"] for q in g["quizzes"]], [q1, q2], "drafts are left out")
        self.assertNotIn(draft, json.dumps(g))
        self.assertEqual([q["max_score"] for q in g["quizzes"]], [2, 3])
        self.assertEqual(g["max_total"], 5)
        rows = {r["student_id"]: r for r in g["students"]}
        self.assertEqual(set(rows), {sub for sub, _ in students} - {"s7"})
        self.assertEqual(rows["s1"]["scores"], [2, 2])
        self.assertEqual(rows["s1"]["total"], 4)
        self.assertEqual(rows["s2"]["scores"], [1, None])
        self.assertEqual(rows["s8"]["scores"], [None, None])
        self.assertEqual(rows["s8"]["total"], 0)
        self.assertEqual(rows["s2"]["name"], 'O"Brien, "Bob"')

        st, h, body = raw_get(s.port, f"/api/v1/courses/{c['id']}/gradebook.csv", T)
        self.assertEqual(st, 200, body[:300])
        self.assertTrue(h["content-type"].startswith("text/csv"))
        self.assertIn("charset=utf-8", h["content-type"])
        self.assertIn("attachment", h["content-disposition"])
        self.assertIn(".csv", h["content-disposition"])
        self.assertTrue(body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark")
        text = body[3:].decode("utf-8")
        self.assertTrue(text.endswith("\r\n"))
        table = list(csv.reader(io.StringIO(text, newline="")))
        self.assertEqual(table[0], ["Student ID", "Name", '第一次测验, "warm-up"', "'=1+1",
                                    "Total", "Out of"])
        by = {r[0]: r for r in table[1:]}
        self.assertEqual(len(by), 7)
        self.assertEqual(by["s1"], ["s1", "张三", "2", "2", "4", "5"])
        self.assertEqual(by["s2"], ["s2", 'O"Brien, "Bob"', "1", "", "1", "5"])
        self.assertEqual(by["s3"][1], "Line\nBreak", "a newline stays inside its cell")
        # Cells a spreadsheet would run as formulas are shown as text.
        self.assertEqual(by["s4"][1], "'=HYPERLINK(\"http://x\")")
        self.assertEqual(by["s5"][1], "'-5+3")
        self.assertEqual(by["s6"][1], "'@SUM(A1)")
        self.assertEqual(by["s8"][2:], ["", "", "0", "5"])
        # Every text cell is quoted; raw bytes check the quoting itself.
        self.assertIn('"O""Brien, ""Bob"""', text)

        st, h, body = raw_get(s.port, f"/api/v1/courses/{c['id']}/gradebook.csv?lang=zh-CN", T)
        self.assertEqual(st, 200)
        header = next(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))
        self.assertEqual(header[:2] + header[-2:], ["学号", "姓名", "总分", "满分"])
        st, _, body = raw_get(s.port, f"/api/v1/courses/{c['id']}/gradebook.csv?lang=fr", T)
        self.assertEqual((st, json.loads(body)["error"]["code"]), (400, "invalid_query"))

        self.assertEqual(raw_get(s.port, f"/api/v1/courses/{c['id']}/gradebook.csv", ADMIN)[0], 200)
        for tok in (token("s1"), T2):
            for ext in ("csv", "json"):
                st, _, body = raw_get(s.port, f"/api/v1/courses/{c['id']}/gradebook.{ext}", tok)
                self.assertEqual((st, json.loads(body)["error"]["code"]), (403, "forbidden"))


if __name__ == "__main__":
    unittest.main()
