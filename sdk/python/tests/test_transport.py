"""Transport behaviour against a scripted server: keep-alive reuse, retry
policy, typed errors for every code, non-JSON bodies."""

from __future__ import annotations

import unittest

from tests._fake import FakeServer, json_reply

import luma
from luma.errors import error_class


def err(status: int, code: str, message: str = "m", headers=None):  # type: ignore[no-untyped-def]
    return json_reply(status, {"error": code, "message": message}, headers)


class KeepAliveTest(unittest.TestCase):
    def test_connections_are_reused(self) -> None:
        with FakeServer([json_reply(200, {"key": "k", "value": 1, "revision": 1, "expires_at_ms": None})]) as fs:
            with luma.Client(fs.url) as c:
                for _ in range(20):
                    c.state.get("k")
            ports = {r.client_port for r in fs.requests}
            self.assertEqual(len(fs.requests), 20)
            self.assertEqual(len(ports), 1, "all requests should share one keep-alive connection")

    def test_headers(self) -> None:
        with FakeServer([json_reply(200, {"deleted": True})]) as fs:
            with luma.Client(fs.url, api_key="sekret", headers={"X-Trace": "1"}) as c:
                c.state.delete("a/b")
            r = fs.requests[0]
            self.assertEqual(r.path, "/v1/state/a%2Fb")
            self.assertEqual(r.headers["Authorization"], "Bearer sekret")
            self.assertEqual(r.headers["X-Trace"], "1")
            self.assertTrue(r.headers["User-Agent"].startswith("luma-python/"))
        with FakeServer([json_reply(200, {"deleted": True})]) as fs:
            with luma.Client(fs.url) as c:
                c.state.delete("k")
            self.assertNotIn("Authorization", fs.requests[0].headers)

    def test_base_path_prefix(self) -> None:
        with FakeServer([json_reply(200, {"status": "ok", "version": "x", "uptime_secs": 1})]) as fs:
            with luma.Client(fs.url + "/luma/") as c:
                c.health()
            self.assertEqual(fs.requests[0].path, "/luma/v1/health")


class RetryTest(unittest.TestCase):
    def client(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return luma.Client(url, backoff=0.001, backoff_max=0.01, **kw)

    def test_idempotent_503_is_retried(self) -> None:
        ok = json_reply(200, {"key": "k", "value": 1, "revision": 3, "expires_at_ms": None})
        with FakeServer([err(503, "unavailable"), err(503, "unavailable", headers={"Retry-After": "0"}), ok]) as fs:
            with self.client(fs.url) as c:
                self.assertEqual(c.state.get("k").revision, 3)
            self.assertEqual(len(fs.requests), 3)

    def test_retries_are_bounded(self) -> None:
        with FakeServer([err(503, "unavailable", "shutting down")]) as fs:
            with self.client(fs.url, max_retries=2) as c:
                with self.assertRaises(luma.UnavailableError) as cm:
                    c.state.get("k")
            self.assertEqual(len(fs.requests), 3)
            self.assertEqual(str(cm.exception), "unavailable - shutting down")
            self.assertIsInstance(cm.exception, luma.ServerError)

    def test_post_is_not_retried(self) -> None:
        with FakeServer([err(503, "unavailable")]) as fs:
            with self.client(fs.url) as c:
                with self.assertRaises(luma.UnavailableError):
                    c.state.batch_put([{"key": "a", "value": 1}])
                with self.assertRaises(luma.UnavailableError):
                    c.events.publish("x", {})
            self.assertEqual(len(fs.requests), 2)

    def test_dropped_connection(self) -> None:
        calls = {"n": 0}

        def handler(req):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 1:
                return None  # close without an answer
            return json_reply(200, {"hits": []} if req.method == "POST" else {"deleted": True})

        with FakeServer(handler=handler) as fs:
            with self.client(fs.url) as c:
                self.assertTrue(c.state.delete("k"))  # DELETE: retried
                self.assertEqual(calls["n"], 2)
                calls["n"] = 0
                self.assertEqual(len(c.vector.search("c", [1.0], k=1)), 0)  # search: a read, retried
                self.assertEqual(calls["n"], 2)
                calls["n"] = 0
                with self.assertRaises(luma.LumaConnectionError) as cm:
                    c.vector.add("c", "id", [1.0])  # add: not idempotent
                self.assertEqual(calls["n"], 1)
                self.assertTrue(str(cm.exception).startswith("Connection error: "))

    def test_connection_refused_is_retried_then_raised(self) -> None:
        from tests._server import free_port

        c = self.client(f"http://127.0.0.1:{free_port()}", max_retries=2)
        with self.assertRaises(luma.LumaConnectionError) as cm:
            c.events.publish("x", {})  # nothing was sent: even a POST may retry
        self.assertEqual(cm.exception.code, "connection_error")
        self.assertIsNone(cm.exception.status)

    def test_timeout(self) -> None:
        import threading

        gate = threading.Event()

        def handler(req):  # type: ignore[no-untyped-def]
            gate.wait(5)
            return json_reply(200, {})

        with FakeServer(handler=handler) as fs:
            with luma.Client(fs.url, timeout=0.2, max_retries=0) as c:
                with self.assertRaises(luma.LumaTimeoutError) as cm:
                    c.state.get("k")
            gate.set()
            self.assertEqual(cm.exception.code, "timeout")
            self.assertIsInstance(cm.exception, luma.LumaConnectionError)


class ErrorMappingTest(unittest.TestCase):
    CASES = [
        (400, "invalid_argument", luma.InvalidArgumentError),
        (422, "invalid_argument", luma.InvalidArgumentError),
        (400, "dim_mismatch", luma.DimMismatchError),
        (415, "unsupported_media_type", luma.UnsupportedMediaTypeError),
        (401, "unauthorized", luma.UnauthorizedError),
        (403, "forbidden", luma.ForbiddenError),
        (404, "not_found", luma.NotFoundError),
        (405, "method_not_allowed", luma.MethodNotAllowedError),
        (408, "timeout", luma.RequestTimeoutError),
        (409, "revision_mismatch", luma.RevisionMismatchError),
        (409, "already_exists", luma.AlreadyExistsError),
        (413, "payload_too_large", luma.PayloadTooLargeError),
        (404, "not_enabled", luma.NotEnabledError),
        (501, "not_enabled", luma.NotEnabledError),
        (400, "sqlite_error", luma.SQLiteError),
        (501, "not_supported", luma.NotSupportedError),
        (500, "persistence_error", luma.PersistenceError),
        (500, "internal", luma.ServerError),
        (500, "internal_error", luma.ServerError),
        (503, "unavailable", luma.UnavailableError),
        (409, "some_new_conflict", luma.ConflictError),
        (502, "bad_gateway", luma.ServerError),
        (418, "teapot", luma.LumaError),
    ]

    def test_every_code(self) -> None:
        def handler(req):  # type: ignore[no-untyped-def]
            status, code, _ = self.CASES[int(req.path.rsplit("/", 1)[1])]
            return err(status, code, f"msg of {code}", {"X-Request-ID": "rid1"})

        with FakeServer(handler=handler) as fs, luma.Client(fs.url, max_retries=0) as c:
            for i, (status, code, cls) in enumerate(self.CASES):
                with self.subTest(code=code, status=status):
                    self.assertIs(error_class(code, status), cls)
                    with self.assertRaises(cls) as cm:
                        c.request("POST", f"/x/{i}", json={})
                    e = cm.exception
                    self.assertIs(type(e), cls)
                    self.assertEqual((e.code, e.message, e.status, e.request_id), (code, f"msg of {code}", status, "rid1"))
                    self.assertEqual(str(e), f"{code} - msg of {code}")

    def test_non_json_error_body(self) -> None:
        with FakeServer([(502, {"Content-Type": "text/plain"}, b"upstream down")]) as fs:
            with luma.Client(fs.url, max_retries=0) as c:
                with self.assertRaises(luma.ServerError) as cm:
                    c.health()
        self.assertEqual((cm.exception.code, cm.exception.message, cm.exception.status), ("http_502", "upstream down", 502))

    def test_non_json_success_body(self) -> None:
        with FakeServer([(200, {"Content-Type": "text/plain"}, b"ok")]) as fs:
            with luma.Client(fs.url) as c:
                self.assertEqual(c.request("GET", "/v1/health"), "ok")


if __name__ == "__main__":
    unittest.main()
