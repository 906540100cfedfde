"""Prepares a running edgeclass for scripts/bench.sh (stdlib only).

    python3 setup.py BASE_URL SECRET OUT_DIR STUDENTS QUIZZES QUESTIONS

Creates QUIZZES active courses (capacity STUDENTS + 1) owned by teacher "bench-teacher", joins
STUDENTS students (s0..) to each, starts a live session in each (a session runs one open
quiz at a time), creates and publishes one quiz per course, QUIZZES quizzes of
QUESTIONS single-choice questions each, and writes to OUT_DIR:
  course_path    /api/v1/courses/{id}
  student_token  a token of an enrolled student (for GET benchmarks)
  course.json    the body of GET course_path as that student (nginx serves the same size)
  answer.json    the body of one real answer acknowledgement (ditto)
  answers.txt    the work list for tools/bench/answers.lua
Tokens are HS256 JWTs minted here with SECRET, the same way the platform mints them.
"""
import base64
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret, sub, role, ttl=24 * 3600):
    now = int(time.time())
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64url(json.dumps({"sub": sub, "name": sub, "role": role, "iat": now,
                                 "exp": now + ttl}, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(sig)}"


class Client:
    """One keep-alive HTTP/1.1 connection per thread."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def request(self, method, path, token, body=None, want=(200, 201)):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Authorization": "Bearer " + token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        if resp.status not in want:
            raise SystemExit(f"setup: {method} {path} -> {resp.status}: {raw[:300]!r}")
        return raw


def main():
    base, secret, out, students, quizzes, questions = sys.argv[1:7]
    students, quizzes, questions = int(students), int(quizzes), int(questions)
    os.makedirs(out, exist_ok=True)
    c = Client(base)
    teacher = mint(secret, "bench-teacher", "teacher")
    tokens = [mint(secret, f"s{i}", "student") for i in range(students)]
    probe = mint(secret, "probe", "student")
    quiz = {"title": "q", "questions": [
        {"kind": "single", "prompt": f"{i}+{i}?", "options": [str(2 * i), str(2 * i + 1)],
         "correct": [0]} for i in range(questions)]}

    # A session runs one open quiz at a time, and a course one live session: each quiz gets a
    # course (the same students) and a live session of its own.
    def live_course(n):
        course = json.loads(c.request("POST", "/api/v1/courses", teacher,
                                      {"title": f"Benchmark course {n}", "capacity": students + 1}))
        cid = course["id"]
        c.request("PATCH", f"/api/v1/courses/{cid}", teacher, {"status": "active"})
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda t: c.request("POST", f"/api/v1/courses/{cid}/join", t),
                          tokens + [probe]))
        print(f"setup: {students + 1} students joined course {n} in {time.time() - t0:.1f} s",
              file=sys.stderr)
        session = json.loads(c.request("POST", f"/api/v1/courses/{cid}/sessions", teacher,
                                       {"title": "Benchmark session"}))
        q = json.loads(c.request("POST", f"/api/v1/sessions/{session['id']}/quizzes", teacher, quiz))
        c.request("POST", f"/api/v1/quizzes/{q['id']}/publish", teacher, {"time_limit_s": 3600})
        return cid, q["id"]

    made = [live_course(n) for n in range(quizzes)]
    cid = made[0][0]
    quiz_ids = [qid for _, qid in made]

    course_body = c.request("GET", f"/api/v1/courses/{cid}", tokens[0])
    # The probe student's answer gives the size of a real acknowledgement without using up
    # any (student, question) pair of the work list.
    answer_body = c.request("POST", f"/api/v1/quizzes/{quiz_ids[0]}/answers", probe,
                            {"answers": [{"question": 0, "choice": [1]}]})

    def write(name, data):
        with open(os.path.join(out, name), "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)

    write("course_path", f"/api/v1/courses/{cid}")
    write("student_token", tokens[0])
    write("course.json", course_body)
    write("answer.json", answer_body)
    write("answers.txt", f"{students} {quizzes} {questions}\n" + "\n".join(tokens) + "\n" +
          "\n".join(quiz_ids) + "\n")


if __name__ == "__main__":
    main()
