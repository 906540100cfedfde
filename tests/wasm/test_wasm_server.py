"""The wasm32-wasi server (build/wasm/edgeclass.wasm) under WasmEdge on loopback: the REST
flow and bad-input cases of tests/api/test_api.py run unchanged against it (harness.Server is
replaced by WasmServer before test_api is imported), and one database file is used in turn by
the native and the wasm server. Run by tests/wasm/wasm_server.sh."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import shutil
import signal
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "api"))
import harness  # noqa: E402

WASMEDGE = os.environ["WASMEDGE"]
MODULE = os.environ.get("EDGECLASS_WASM", os.path.join(ROOT, "build", "wasm", "edgeclass.wasm"))
NATIVE = os.environ.get("EDGECLASS_BIN", os.path.join(ROOT, "build", "release", "edgeclass"))
START_TIMEOUT = float(os.environ.get("WASM_START_TIMEOUT", "120"))


class WasmServer(harness.Server):
    """edgeclass.wasm serve under WasmEdge, on a port the kernel picks (EDGECLASS_LISTEN
    127.0.0.1:0; the module logs it in edgeclass.ready, as the native server does)."""

    def start(self):
        env = {"EDGECLASS_LISTEN": "127.0.0.1:0", "EDGECLASS_DATA_DIR": self.data_dir,
               "EDGECLASS_JWT_SECRET": harness.SECRET, "EDGECLASS_LOG_LEVEL": "info"}
        for k, v in self.env.items():
            if k.startswith("EDGECLASS_") and k not in env and k not in (
                    "EDGECLASS_BIN", "EDGECLASS_THREADS", "EDGECLASS_ADMIN_LISTEN"):
                env[k] = v
        cmd = [WASMEDGE, "--dir", f"{self.data_dir}:{self.data_dir}"]
        for k, v in env.items():
            cmd += ["--env", f"{k}={v}"]
        cmd += [MODULE, "serve"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.log.append(line)
            if '"edgeclass.ready"' in line:
                self.port = int(json.loads(line)["url"].rsplit(":", 1)[1].strip("/"))
                self.reader = threading.Thread(target=self._drain, daemon=True)
                self.reader.start()
                return self
        self.proc.kill()
        self.proc.wait()
        self.close_output()  # (harness.Server: the rest of the output, and the pipe closed)
        raise RuntimeError("edgeclass.wasm did not become ready:\n" + "".join(self.log))


NativeServer = harness.Server
harness.Server = WasmServer
import test_api  # noqa: E402  (binds test_api.Server to WasmServer)


class SharedDatabaseTest(unittest.TestCase):
    """One data directory: native writes, wasm reads and writes, native reads again."""

    def test_native_and_wasm_share_one_database(self):
        data = tempfile.mkdtemp(prefix="edgeclass-wasm-shared-")
        try:
            t = harness.token("shared_t", "teacher")
            with NativeServer(data_dir=data) as native:
                c1 = native.course(t, title="made by native")
            with WasmServer(data_dir=data) as w:
                st, got = w.request("GET", f"/api/v1/courses/{c1['id']}", tok=t)
                self.assertEqual((st, got.get("title")), (200, "made by native"), got)
                c2 = w.course(t, title="made by wasm")
                st, body = w.request("POST", f"/api/v1/courses/{c2['id']}/join",
                                     tok=harness.token("shared_s"))
                self.assertEqual(st, 201, body)
            with NativeServer(data_dir=data) as native2:
                st, got = native2.request("GET", f"/api/v1/courses/{c2['id']}", tok=t)
                self.assertEqual((st, got.get("title"), got.get("enrolled")),
                                 (200, "made by wasm", 1), got)
                st, page = native2.request("GET", "/api/v1/courses?teacher_id=shared_t", tok=t)
                self.assertEqual(sorted(x["title"] for x in page["items"]),
                                 ["made by native", "made by wasm"])
        finally:
            shutil.rmtree(data, ignore_errors=True)


class CheckpointTest(unittest.TestCase):
    """A module cannot catch SIGTERM, so it checkpoints the WAL itself once writes stop
    (wasi/serve.cc, checkpoint_if_idle): the WAL file shrinks to zero bytes, and after a kill
    the next start has nothing to replay and still has every acknowledged write."""

    def test_wal_is_checkpointed_when_idle_and_survives_a_kill(self):
        data = tempfile.mkdtemp(prefix="edgeclass-wasm-ckpt-")
        wal = os.path.join(data, "edgeclass.db-wal")
        try:
            t = harness.token("ckpt_t", "teacher")
            w = WasmServer(data_dir=data).start()
            try:
                course = w.course(t, title="checkpointed")
                sizes = []
                deadline = time.time() + 60
                while time.time() < deadline:
                    sizes.append(os.path.getsize(wal) if os.path.exists(wal) else -1)
                    if sizes[-1] == 0:
                        break
                    time.sleep(0.05)
                self.assertEqual(sizes[-1], 0, f"WAL sizes seen after the write: {sizes[:5]} ... "
                                 f"{sizes[-5:]}\n" + "".join(w.log[-20:]))
            finally:
                w.stop(sig=signal.SIGKILL)
            with WasmServer(data_dir=data) as again:
                st, got = again.request("GET", f"/api/v1/courses/{course['id']}", tok=t)
                self.assertEqual((st, got.get("title")), (200, "checkpointed"), got)
        finally:
            shutil.rmtree(data, ignore_errors=True)


class WasmHttpTest(unittest.TestCase):
    """What the module's own HTTP/1.1 layer does (wasi/http1.cc, wasi/serve.cc)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = WasmServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def exchange(self, raw, want_responses):
        """Sends `raw` on one connection; returns the bytes read until `want_responses`
        status lines arrived (or the server closed)."""
        sk = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        sk.sendall(raw)
        data = b""
        deadline = time.time() + 10
        while data.count(b"HTTP/1.") < want_responses and time.time() < deadline:
            chunk = sk.recv(65536)
            if not chunk:
                break
            data += chunk
        sk.close()
        return data

    def test_keep_alive_and_pipelining(self):
        req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        data = self.exchange(req * 3 + b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 4)
        self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 4, data)
        self.assertNotIn(b"Connection: close", data, data)
        # The HEAD answer carries the GET's Content-Length and no body: the data ends there.
        self.assertTrue(data.endswith(b"\r\n\r\n"), data[-80:])

    def test_chunked_body(self):
        # A chunked POST creates the course (201), and the pipelined GET behind it is answered:
        # the framing was consumed exactly. Transfer codings other than chunked are 501.
        body = b'{"title": "Chunked course"}'
        chunks = b"".join(b"%x;n=1\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7])
                          for i in range(0, len(body), 7))
        tok = harness.token("chunk_t", "teacher").encode()
        data = self.exchange(b"POST /api/v1/courses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                             + tok + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks +
                             b"0\r\nX-T: 1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2)
        self.assertTrue(data.startswith(b"HTTP/1.1 201 "), data[:200])
        self.assertIn(b'"title":"Chunked course"', data)
        self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 1, data)
        data = self.exchange(b"POST /api/v1/courses HTTP/1.1\r\nHost: x\r\n"
                             b"Transfer-Encoding: gzip\r\n\r\n", 1)
        self.assertTrue(data.startswith(b"HTTP/1.1 501 "), data[:80])

    def test_limits_and_http10(self):
        data = self.exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                             b"\r\n\r\n", 1)
        self.assertTrue(data.startswith(b"HTTP/1.1 431 "), data[:80])
        self.assertIn(b"headers_too_large", data)
        data = self.exchange(b"POST /api/v1/courses HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 2000000\r\n\r\n", 1)
        self.assertTrue(data.startswith(b"HTTP/1.1 413 "), data[:80])
        self.assertIn(b"body_too_large", data)
        data = self.exchange(b"GET /healthz HTTP/1.0\r\n\r\n", 1)
        self.assertTrue(data.startswith(b"HTTP/1.0 200 OK"), data[:80])
        self.assertIn(b"Connection: close", data)
        self.assertEqual(self.srv.request("GET", "/healthz")[0], 200)


def suite():
    names = [
        "test_api.FlowTest.test_course_join_session_quiz_results",
        "test_api.FlowTest.test_late_answer_is_refused",
        "test_api.FlowTest.test_listing_filters_and_cursor",
        "test_api.BadInputTest.test_quiz_questions_only_for_members",
        "test_api.BadInputTest.test_bodies",
        "test_api.BadInputTest.test_ids_and_routes",
        "test_api.BadInputTest.test_quiz_validation",
        "test_api.BadInputTest.test_malformed_http_does_not_crash",
    ]
    s = unittest.defaultTestLoader.loadTestsFromNames(names)
    s.addTest(SharedDatabaseTest("test_native_and_wasm_share_one_database"))
    s.addTest(CheckpointTest("test_wal_is_checkpointed_when_idle_and_survives_a_kill"))
    s.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(WasmHttpTest))
    return s


if __name__ == "__main__":
    result = unittest.TextTestRunner(verbosity=2).run(suite())
    sys.exit(0 if result.wasSuccessful() else 1)
