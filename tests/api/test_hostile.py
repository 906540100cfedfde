"""Hostile and careless request bodies against the real binary: every field of every body-taking
route, replaced by null, by a value of the wrong type and by an out-of-range number, must get a
400 that names the field, change nothing, and leave the server answering (docs/api.md)."""
import copy
import unittest

from harness import Server, token

T = token("t1", "teacher", "Ms T")
S1 = token("s1", "student", "Student 1")
ADMIN = token("a1", "admin")

# What a careless client puts where a value belongs.
BAD_VALUES = [None, {}, [], "x", True, 1.5, -1, 10**20, "9" * 400]
CODES = {"invalid_field", "missing_field", "invalid_choice", "invalid_body", "duplicate_answer",
         "unknown_field"}


def paths(value, prefix=()):
    """Every path to a leaf or container inside `value` (dict keys and list indices)."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(prefix + (k,))
            out.extend(paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append(prefix + (i,))
            out.extend(paths(v, prefix + (i,)))
    return out


def replaced(body, path, new):
    b = copy.deepcopy(body)
    cur = b
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = new
    return b


class HostileBodiesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        s = cls.srv
        cls.course = s.course(T, capacity=10)
        assert s.request("POST", f"/api/v1/courses/{cls.course['id']}/join", tok=S1)[0] == 201
        st, cls.session = s.request("POST", f"/api/v1/courses/{cls.course['id']}/sessions",
                                    {"title": "L1"}, T)
        assert st == 201, cls.session
        cls.quiz_body = {"title": "Q", "questions": [
            {"kind": "single", "prompt": "2+2?", "options": ["3", "4"], "correct": [1]},
            {"kind": "multiple", "prompt": "primes", "options": ["2", "3", "4"], "correct": [0, 1]},
            {"kind": "true_false", "prompt": "sky is blue", "correct": [0]}]}
        st, cls.draft = s.request("POST", f"/api/v1/sessions/{cls.session['id']}/quizzes",
                                  cls.quiz_body, T)
        assert st == 201, cls.draft
        st, cls.live = s.request("POST", f"/api/v1/sessions/{cls.session['id']}/quizzes",
                                 cls.quiz_body, T)
        assert st == 201
        st, _ = s.request("POST", f"/api/v1/quizzes/{cls.live['id']}/publish",
                          {"time_limit_s": 3600}, T)
        assert st == 200

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def assert_refused(self, method, path, body, tok, what):
        st, resp = self.srv.request(method, path, body, tok)
        self.assertEqual(st, 400, f"{what}: {body} -> {st} {resp}")
        self.assertIn(resp["error"]["code"], CODES, f"{what}: {resp}")
        self.assertTrue(resp["error"]["message"], what)
        hz = self.srv.request("GET", "/healthz")
        self.assertEqual(hz[0], 200, f"server stopped answering after {what}: {body}")

    def sweep(self, method, path, body, tok, skip=()):
        for p in paths(body):
            if p in skip:
                continue
            for bad in BAD_VALUES:
                b = replaced(body, p, bad)
                # Some replacements are still valid (a "choice" given as one index, a title
                # that is a string); only check the ones the API must refuse.
                if self.still_valid(path, p, bad):
                    continue
                self.assert_refused(method, path, b, tok, f"{method} {path} {p}={bad!r}")

    @staticmethod
    def still_valid(path, p, bad):
        """A string replacement that fits a free-text field is still a valid body."""
        if not isinstance(bad, str):
            return False
        limits = {"title": 200, "description": 5000, "prompt": 1000}
        leaf = p[-1]
        if isinstance(leaf, int) and len(p) >= 2 and p[-2] == "options":
            return len(bad) <= 500
        return leaf in limits and len(bad) <= limits[leaf]

    def test_create_course(self):
        self.sweep("POST", "/api/v1/courses", {"title": "A", "description": "d", "capacity": 5,
                                               "status": "draft"}, T)

    def test_patch_course(self):
        c = self.srv.course(T, capacity=5)
        path = f"/api/v1/courses/{c['id']}"
        self.sweep("PATCH", path, {"title": "B", "capacity": 6}, T)
        st, after = self.srv.request("GET", path, tok=T)
        self.assertEqual((after["title"], after["capacity"]), ("Algebra", 5), "nothing changed")

    def test_go_live_title(self):
        c = self.srv.course(T)
        self.sweep("POST", f"/api/v1/courses/{c['id']}/sessions", {"title": "x"}, T)
        st, lst = self.srv.request("GET", f"/api/v1/courses/{c['id']}/sessions", tok=T)
        self.assertEqual(lst["items"], [], "no session was started by a refused request")

    def test_create_quiz(self):
        path = f"/api/v1/sessions/{self.session['id']}/quizzes"
        st, before = self.srv.request("GET", path, tok=T)
        self.sweep("POST", path, self.quiz_body, T)
        st, after = self.srv.request("GET", path, tok=T)
        self.assertEqual(len(after["items"]), len(before["items"]), "no quiz was created")

    def test_publish_time_limit(self):
        path = f"/api/v1/quizzes/{self.draft['id']}/publish"
        self.sweep("POST", path, {"time_limit_s": 60}, T)
        for bad in (0, 86401, 1.5, "60", None):
            self.assert_refused("POST", path, {"time_limit_s": bad}, T, f"time_limit_s={bad!r}")
        st, q = self.srv.request("GET", f"/api/v1/quizzes/{self.draft['id']}", tok=T)
        self.assertEqual(q["status"], "draft", "a refused publish publishes nothing")

    def test_answers(self):
        path = f"/api/v1/quizzes/{self.live['id']}/answers"
        body = {"answers": [{"question": 0, "choice": [1]}, {"question": 1, "choice": [0, 1]}]}
        # The example: a null question from an enrolled student.
        self.assert_refused("POST", path, {"answers": [{"question": None, "choice": [1]}]}, S1,
                            "null question")
        for p in paths(body):
            for bad in BAD_VALUES:
                self.assert_refused("POST", path, replaced(body, p, bad), S1, f"answers {p}={bad!r}")
        st, res = self.srv.request("GET", f"/api/v1/quizzes/{self.live['id']}/results", tok=S1)
        self.assertEqual(st, 200)
        self.assertEqual(res["answered"], 0, f"no refused request stored an answer: {res}")

    def test_bodies_that_are_not_objects(self):
        for raw in ("null", "[]", "1", "\"x\"", "true", "", "{", "{\"title\": }"):
            st, resp = self.srv.request("POST", "/api/v1/courses", tok=T, raw=raw)
            self.assertEqual(st, 400, raw)
            self.assertIn(resp["error"]["code"], {"invalid_body", "invalid_json"}, raw)

    def test_bad_query_parameters_are_400(self):
        # Every list's status filter refuses a value it does not know (before: the sessions
        # list answered 200 with no items, as if the course had no such session).
        c = self.course["id"]
        for path in (f"/api/v1/courses/{c}/sessions?status=bogus",
                     f"/api/v1/courses/{c}/sessions?status=",
                     f"/api/v1/courses/{c}/sessions?status=LIVE",
                     "/api/v1/courses?status=bogus", "/api/v1/courses?limit=0"):
            st, resp = self.srv.request("GET", path, tok=T)
            self.assertEqual(st, 400, f"{path}: {resp}")
            self.assertEqual(resp["error"]["code"], "invalid_query", path)
        st, resp = self.srv.request("GET", f"/api/v1/courses/{c}/sessions?status=live", tok=T)
        self.assertEqual((st, [s["id"] for s in resp["items"]]), (200, [self.session["id"]]))
        st, resp = self.srv.request("GET", f"/api/v1/courses/{c}/sessions?status=ended", tok=T)
        self.assertEqual((st, resp["items"]), (200, []))

    def test_policy_input_may_be_null(self):
        st, resp = self.srv.request("POST", "/v1/data/education/allow", {"input": None}, ADMIN,
                                    admin=True)
        self.assertEqual(st, 200, resp)


if __name__ == "__main__":
    unittest.main()
