"""OPA bundles end to end: nginx on loopback serves a bundle (built here with Python's tarfile
and signed with HMAC, independently of the server's own code); the server polls it with
If-None-Match, verifies the signature, activates new revisions atomically, keeps the active one
when a tampered bundle arrives, reports the revision on /v1/status and /metrics, and writes
OPA-format decision logs with masked input paths. Delta bundles (patch.json) patch the active
data. `edgeclass policy build` makes a bundle the server accepts too, signed with an HMAC
secret or an RSA key whose signature openssl checks."""
import base64
import hashlib
import hmac
import io
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import unittest

from harness import BINARY, Server, token, wait_until

ADMIN = token("a1", "admin", "Ada")
T = token("t1", "teacher", "Ms T")
KEY = "bundle-signing-secret"

POLICY = """package education

default allow = false

allow { input.action == "create_course" }
allow { input.action == "update_course" }
allow {
    input.action == "join"
    data.config.open == true
    input.course.capacity > count(input.course.students)
}

deny_reason["joining is closed by the bundle"] { input.action == "join"; data.config.open != true }
"""


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def canonical(v):
    # OPA's digest input for structured files: sorted keys, compact.
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(name, data):
    base = name.rsplit("/", 1)[-1]
    if base in ("data.json", ".manifest", ".signatures.json") or name == "patch.json":
        data = canonical(json.loads(data)).encode()
    return hashlib.sha256(data).hexdigest()


def make_bundle(revision, open_, sign=True, tamper=False, patch=None):
    files = {".manifest": json.dumps({"revision": revision, "roots": [""]}).encode(),
             "education/policy.rego": POLICY.encode(),
             "config/data.json": json.dumps({"open": open_}).encode()}
    if patch is not None:  # a delta bundle: the manifest and patch.json only
        files = {".manifest": files[".manifest"], "patch.json": json.dumps({"data": patch}).encode()}
    if sign:
        payload = {"files": [{"name": n, "hash": digest(n, d), "algorithm": "SHA-256"}
                             for n, d in files.items()]}
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps(payload).encode())
        sig = b64url(hmac.new(KEY.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
        files[".signatures.json"] = json.dumps({"signatures": [f"{head}.{body}.{sig}"]}).encode()
    if tamper:
        files["config/data.json"] = json.dumps({"open": not open_}).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo("/" + name)  # opa build writes rooted names
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self, tls=False):
        self.dir = tempfile.mkdtemp(prefix="edgeclass-nginx-")
        self.www = os.path.join(self.dir, "www")
        os.makedirs(self.www)
        d = self.dir
        self.cert = None
        if tls:
            self.cert = os.path.join(d, "cert.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                            "-keyout", os.path.join(d, "key.pem"), "-out", self.cert],
                           check=True, capture_output=True)
        # The port is picked here and bound by nginx a moment later; if another process took
        # it meanwhile, nginx exits ("Address already in use"): start again on another.
        for attempt in range(5):
            if self._start(free_port()):
                return
        raise RuntimeError("nginx exited: " + open(os.path.join(d, "error.log")).read())

    def _start(self, port):
        """Starts nginx on `port`; False if it exited because the port was taken."""
        self.port = port
        d = self.dir
        conf = os.path.join(d, "nginx.conf")
        listen = f"listen 127.0.0.1:{self.port};"
        if self.cert:
            listen = (f"listen 127.0.0.1:{self.port} ssl; ssl_certificate {self.cert}; "
                      f"ssl_certificate_key {d}/key.pem;")
        with open(conf, "w") as f:
            f.write(f"""daemon off; master_process off; worker_processes 1;
pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/cb; proxy_temp_path {d}/px; fastcgi_temp_path {d}/fc;
  uwsgi_temp_path {d}/uw; scgi_temp_path {d}/sc;
  server {{ {listen} root {self.www}; etag on; }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-p", d, "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                with open(os.path.join(d, "error.log")) as f:
                    err = f.read()
                if "in use" in err:
                    return False
                raise RuntimeError("nginx exited: " + err)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("nginx did not start")

    def publish(self, data, mtime):
        path = os.path.join(self.www, "bundle.tar.gz")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.utime(tmp, (mtime, mtime))  # nginx's ETag is mtime-size: make each one distinct
        os.replace(tmp, path)

    def statuses(self):
        with open(os.path.join(self.dir, "access.log")) as f:
            return [line.split('"')[2].split()[0] for line in f if "bundle.tar.gz" in line]

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(shutil.which("nginx"), "nginx is not installed (scripts/install-deps.sh)")
class BundleTest(unittest.TestCase):
    def setUp(self):
        self.nginx = Nginx()
        self.addCleanup(self.nginx.close)
        self.tmp = tempfile.mkdtemp(prefix="edgeclass-bundle-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.keyfile = os.path.join(self.tmp, "key")
        with open(self.keyfile, "w") as f:
            f.write(KEY + "\n")

    def status(self, s):
        st, body = s.request("GET", "/v1/status", tok=ADMIN, admin=True)
        self.assertEqual(st, 200, body)
        return body["result"]["bundles"]["edgeclass"]

    def wait_for(self, s, pred, what):
        deadline = time.time() + 20
        while time.time() < deadline:
            b = self.status(s)
            if pred(b):
                return b
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}: {b}")

    def test_signed_bundle_polling_status_and_decision_logs(self):
        self.nginx.publish(make_bundle("r1", False), 1_000_000)
        env = {"EDGECLASS_POLICY_BUNDLE_URL": f"http://127.0.0.1:{self.nginx.port}/bundle.tar.gz",
               "EDGECLASS_POLICY_BUNDLE_KEY": self.keyfile,
               "EDGECLASS_POLICY_BUNDLE_POLL": "200ms",
               "EDGECLASS_DECISION_LOG": "stdout",
               "EDGECLASS_DECISION_LOG_MASK": "/input/user/name"}
        with Server(env=env) as s:
            b = self.status(s)
            self.assertEqual(b["active_revision"], "r1")
            self.assertTrue(b["signature_verified"])
            self.assertRegex(b["last_successful_activation"], r"^\d{4}-\d\d-\d\dT")
            self.assertEqual(s.request("GET", "/v1/status", tok=T, admin=True)[0], 403)
            c = s.course(T, capacity=2)
            st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("b1", name="Bo"))
            self.assertEqual((st, body["error"]["message"]), (403, "joining is closed by the bundle"))
            # Unchanged bundle: the polls are answered 304 Not Modified (ETag).
            # (nginx writes its access log line after the answer: wait for it, do not look once)
            wait_until(lambda: "304" in self.nginx.statuses(), 15,
                       lambda _: f"a 304 in nginx's access log {self.nginx.statuses()}")
            self.assertEqual(self.status(s)["active_revision"], "r1")
            # A new revision activates without a restart.
            self.nginx.publish(make_bundle("r2", True), 1_000_100)
            self.wait_for(s, lambda b: b["active_revision"] == "r2", "revision r2")
            st, body = s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("b1", name="Bo"))
            self.assertEqual(st, 201, body)
            st, metrics = s.request("GET", "/metrics", admin=True)
            self.assertIn('edgeclass_policy_bundle_info{name="edgeclass",revision="r2"} 1', metrics)
            self.assertRegex(metrics, r"edgeclass_policy_bundle_activation_timestamp_seconds \d{10}")
            # A tampered bundle is refused; r2 stays in force.
            self.nginx.publish(make_bundle("r3", False, tamper=True), 1_000_200)
            b = self.wait_for(s, lambda b: "digest mismatch" in b.get("message", ""), "the refusal")
            self.assertEqual(b["active_revision"], "r2")
            self.assertRegex(s.request("GET", "/metrics", admin=True)[1],
                             r"edgeclass_policy_bundle_failures_total [1-9]")
            # So is an unsigned one.
            self.nginx.publish(make_bundle("r4", False, sign=False), 1_000_300)
            b = self.wait_for(s, lambda b: ".signatures.json" in b.get("message", ""), "unsigned")
            self.assertEqual(b["active_revision"], "r2")
            self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("b2"))[0], 201)
        events = [json.loads(l) for l in "".join(s.log).splitlines()
                  if l.startswith("{") and '"decision_id"' in l]
        joins = [e for e in events if e["input"].get("action") == "join"]
        self.assertGreaterEqual(len(joins), 3, events)
        first = joins[0]
        self.assertEqual(first["path"], "education/allow")
        self.assertEqual(first["result"], False)
        self.assertEqual(first["bundles"]["edgeclass"]["revision"], "r1")
        self.assertEqual(first["erased"], ["/input/user/name"])
        self.assertNotIn("name", first["input"]["user"])
        self.assertEqual(first["input"]["user"]["id"], "b1")
        self.assertIn("timer_rego_query_eval_ns", first["metrics"])
        self.assertEqual(joins[1]["result"], True)
        self.assertEqual(joins[1]["bundles"]["edgeclass"]["revision"], "r2")
        self.assertEqual(len({e["decision_id"] for e in events}), len(events))

    def test_policy_build_bundle_is_served_and_decision_logs_are_off_by_default(self):
        src = os.path.join(self.tmp, "src")
        os.makedirs(os.path.join(src, "config"))
        with open(os.path.join(src, "policy.rego"), "w") as f:
            f.write(POLICY)
        with open(os.path.join(src, "config", "data.json"), "w") as f:
            f.write('{"open": true}')
        out = os.path.join(self.tmp, "bundle.tar.gz")
        subprocess.run([BINARY, "policy", "build", "-r", "built-1", "--signing-key", self.keyfile,
                        "-o", out, src], check=True)
        with tarfile.open(out) as tar:  # a tar.gz any tool reads
            self.assertIn(".manifest", tar.getnames())
            self.assertIn(".signatures.json", tar.getnames())
        with open(out, "rb") as f:
            self.nginx.publish(f.read(), 1_000_000)
        env = {"EDGECLASS_POLICY_BUNDLE_URL": f"http://127.0.0.1:{self.nginx.port}/bundle.tar.gz",
               "EDGECLASS_POLICY_BUNDLE_KEY": self.keyfile}
        with Server(env=env) as s:
            self.assertEqual(self.status(s)["active_revision"], "built-1")
            c = s.course(T, capacity=1)
            self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("x1"))[0], 201)
            self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("x2"))[0], 403)
        self.assertNotIn('"decision_id"', "".join(s.log))


    def test_delta_bundles_patch_the_active_bundles_data(self):
        self.nginx.publish(make_bundle("s1", False), 1_000_000)
        env = {"EDGECLASS_POLICY_BUNDLE_URL": f"http://127.0.0.1:{self.nginx.port}/bundle.tar.gz",
               "EDGECLASS_POLICY_BUNDLE_KEY": self.keyfile,
               "EDGECLASS_POLICY_BUNDLE_POLL": "200ms"}
        with Server(env=env) as s:
            self.assertEqual(self.status(s)["active_revision"], "s1")
            c = s.course(T, capacity=2)
            join = lambda who: s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token(who))[0]
            self.assertEqual(join("d1"), 403)
            # A delta (signed like any bundle) opens joining without resending the policies.
            self.nginx.publish(make_bundle("s1+d1", None, patch=[
                {"op": "upsert", "path": "/config/open", "value": True},
                {"op": "upsert", "path": "/config/limits/seats", "value": 30}]), 1_000_100)
            self.wait_for(s, lambda b: b["active_revision"] == "s1+d1", "the delta")
            self.assertEqual(join("d1"), 201)
            st, body = s.request("GET", "/v1/data/config", tok=ADMIN, admin=True)
            self.assertEqual(body["result"], {"open": True, "limits": {"seats": 30}}, body)
            # A delta that does not apply is refused; the patched data stays.
            self.nginx.publish(make_bundle("s1+d2", None, patch=[
                {"op": "replace", "path": "/config/missing", "value": 1}]), 1_000_200)
            b = self.wait_for(s, lambda b: "does not exist" in b.get("message", ""), "the refusal")
            self.assertEqual(b["active_revision"], "s1+d1")
            self.assertEqual(join("d2"), 201)

    def test_policy_build_signs_with_an_rsa_key_that_openssl_verifies(self):
        src = os.path.join(self.tmp, "src")
        os.makedirs(os.path.join(src, "config"))
        with open(os.path.join(src, "policy.rego"), "w") as f:
            f.write(POLICY)
        with open(os.path.join(src, "config", "data.yaml"), "w") as f:
            f.write("open: true\n")
        key, pub = os.path.join(self.tmp, "rsa.pem"), os.path.join(self.tmp, "rsa.pub")
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out", pub], check=True,
                       capture_output=True)
        out = os.path.join(self.tmp, "bundle.tar.gz")
        subprocess.run([BINARY, "policy", "build", "-r", "rsa-1", "--signing-key", key, "-o", out,
                        src], check=True)
        with tarfile.open(out) as tar:
            names = tar.getnames()
            sigs = json.loads(tar.extractfile(".signatures.json").read())
            files = {n: tar.extractfile(n).read() for n in names if n != ".signatures.json"}
        self.assertIn("config/data.yaml", names)
        head, body, sig = sigs["signatures"][0].split(".")
        self.assertEqual(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))),
                         {"alg": "RS256", "typ": "JWT", "kid": "edgeclass"})
        # openssl, not our code, checks the RS256 signature over "header.payload".
        msg, sig_bin = os.path.join(self.tmp, "msg"), os.path.join(self.tmp, "sig")
        with open(msg, "w") as f:
            f.write(f"{head}.{body}")
        with open(sig_bin, "wb") as f:
            f.write(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
        v = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", sig_bin, msg],
                           capture_output=True, text=True)
        self.assertIn("Verified OK", v.stdout, v.stderr)
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        listed = {f["name"]: f["hash"] for f in payload["files"]}
        self.assertEqual(listed["policy.rego"], hashlib.sha256(files["policy.rego"]).hexdigest())
        self.assertEqual(listed["config/data.yaml"],
                         hashlib.sha256(canonical({"open": True}).encode()).hexdigest())
        with open(out, "rb") as f:
            self.nginx.publish(f.read(), 1_000_000)
        env = {"EDGECLASS_POLICY_BUNDLE_URL": f"http://127.0.0.1:{self.nginx.port}/bundle.tar.gz",
               "EDGECLASS_POLICY_BUNDLE_KEY": pub}
        with Server(env=env) as s:
            b = self.status(s)
            self.assertEqual((b["active_revision"], b["signature_verified"]), ("rsa-1", True))
            c = s.course(T, capacity=1)
            self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("y1"))[0], 201)

    def test_https_bundle_server_must_present_a_trusted_certificate(self):
        tls = Nginx(tls=True)
        self.addCleanup(tls.close)
        tls.publish(make_bundle("tls-1", True), 1_000_000)
        url = f"https://localhost:{tls.port}/bundle.tar.gz"
        env = {"EDGECLASS_POLICY_BUNDLE_URL": url, "EDGECLASS_POLICY_BUNDLE_KEY": self.keyfile,
               "EDGECLASS_POLICY_BUNDLE_CA": tls.cert}
        with Server(env=env) as s:
            self.assertEqual(self.status(s)["active_revision"], "tls-1")
        # The system's roots do not know the self-signed certificate: nothing activates.
        env.pop("EDGECLASS_POLICY_BUNDLE_CA")
        with Server(env=env) as s:
            b = self.status(s)
            self.assertEqual(b["active_revision"], "")
            self.assertIn("TLS handshake", b["message"])



class DecisionLogServiceTest(unittest.TestCase):
    def test_decisions_are_posted_to_the_service_as_gzipped_json_batches(self):
        import gzip
        import http.server
        import threading
        received, encodings = [], []
        SENT = r"edgeclass_policy_decision_logs_sent_total [1-9]"

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encodings.append(self.headers.get("Content-Encoding"))
                received.extend(json.loads(gzip.decompress(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        svc = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=svc.serve_forever, daemon=True).start()
        self.addCleanup(svc.server_close)
        self.addCleanup(svc.shutdown)
        env = {"EDGECLASS_DECISION_LOG": f"http://127.0.0.1:{svc.server_address[1]}/logs",
               "EDGECLASS_DECISION_LOG_MASK": "/input/course/students"}
        with Server(env=env) as s:
            c = s.course(T, capacity=5)
            self.assertEqual(s.request("POST", f"/api/v1/courses/{c['id']}/join", tok=token("d1"))[0], 201)
            deadline = time.time() + 20
            while time.time() < deadline and not any(
                    e["input"].get("action") == "join" for e in received):
                time.sleep(0.1)
            # The batch is counted as sent once the service has answered it, which may be
            # just after the service saw it: wait for the count, do not look once.

            def sent_counted():
                text = s.request("GET", "/metrics", admin=True)[1]
                return text if re.search(SENT, text) else None
            metrics = wait_until(sent_counted, 15, "a decision log batch counted as sent")
        joins = [e for e in received if e["input"].get("action") == "join"]
        self.assertEqual(len(joins), 1, received)
        self.assertEqual(joins[0]["result"], True)
        self.assertEqual(joins[0]["path"], "education/allow")
        self.assertEqual(joins[0]["erased"], ["/input/course/students"])
        self.assertNotIn("students", joins[0]["input"]["course"])
        self.assertTrue(all(e == "gzip" for e in encodings))
        self.assertRegex(metrics, SENT)
        self.assertNotIn('"decision_id"', "".join(s.log))  # not on stdout as well


if __name__ == "__main__":
    unittest.main()
