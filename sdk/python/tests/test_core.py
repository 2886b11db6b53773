"""Health, metrics, configuration, API keys and auth errors against real
servers."""

from __future__ import annotations

import os
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from tests._server import Server, route_or_skip, shared_server, uniq

import luma
from luma.config import Config, parse_dotenv


class SystemTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.srv = shared_server()
        cls.c = luma.Client(cls.srv.url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.close()

    def test_health(self) -> None:
        h = self.c.health()
        self.assertEqual(h.status, "ok")
        self.assertTrue(h.version)
        self.assertGreaterEqual(h.uptime_secs, 0)
        self.assertIn("last_offset", h)
        self.assertFalse(h["auth"])
        self.assertTrue(self.c.ping())
        self.assertFalse(luma.Client("http://127.0.0.1:1", max_retries=0).ping())

    def test_metrics(self) -> None:
        self.c.state.put(uniq("m"), 1)
        text = self.c.metrics()
        self.assertIn("# TYPE state_put_total counter", text)
        m = self.c.metrics_dict()
        self.assertGreaterEqual(m["state_put_total"], 1)
        self.assertIn("sse_clients", m)
        self.assertIn("state_put_total", self.c.request("GET", "/metrics"))  # the alias

    def test_openapi(self) -> None:
        self.assertIn("openapi:", self.c.openapi())
        self.assertIn("openapi:", self.c.request("GET", "/docs/openapi.yaml"))
        with route_or_skip(self):
            doc = self.c.openapi_json()
        self.assertIn("/v1/state/{key}", doc["paths"])

    def test_info(self) -> None:
        self.c.state.put(uniq("info"), 1)
        with route_or_skip(self):
            info = self.c.info()
        self.assertTrue(info["in_memory"])
        self.assertIsNone(info["data_dir"])
        self.assertGreaterEqual(info["counts"]["state_keys"], 1)
        self.assertIn("vectors", info["counts"])
        self.assertGreater(info["last_offset"], 0)

    def test_raw_request(self) -> None:
        self.assertEqual(self.c.request("GET", "/v1/health")["status"], "ok")
        with self.assertRaises(luma.NotFoundError) as cm:
            self.c.request("GET", "/v1/nothing-here")
        self.assertTrue(cm.exception.is_no_route)

    def test_repr_and_props(self) -> None:
        c = luma.Client(self.srv.url + "/", api_key="k", timeout=3)
        self.assertEqual(c.base_url, self.srv.url)
        self.assertEqual((c.api_key, c.timeout), ("k", 3))
        self.assertIn(self.srv.url, repr(c))
        c.close()
        with self.assertRaises(luma.LumaError):
            c.health()
        with self.assertRaises(ValueError):
            luma.Client("ftp://x")


class ConfigTest(unittest.TestCase):
    def test_parse_dotenv(self) -> None:
        text = (
            "# comment\n"
            "export LUMA_URL=http://h:1 # trailing\n"
            "A='lit ${X}'\n"
            'B="multi\nline \\"q\\" ${A}"\n'
            "C=${A}-x\n"
            "bad line\n"
            "EMPTY=\n"
        )
        env = parse_dotenv(text)
        self.assertEqual(env["LUMA_URL"], "http://h:1")
        self.assertEqual(env["A"], "lit ${X}")
        self.assertEqual(env["B"], 'multi\nline "q" lit ${X}')
        self.assertEqual(env["C"], "lit ${X}-x")
        self.assertEqual(env["EMPTY"], "")

    def test_from_env_precedence(self) -> None:
        cfg = Config.from_env(environ={}, env_path=os.devnull)
        self.assertEqual((cfg.base_url, cfg.api_key, cfg.timeout, cfg.max_retries), ("http://127.0.0.1:9917", None, 30.0, 3))
        cfg = Config.from_env(environ={"PORT_RUST_KISS_VDB": "1234", "RUSTKISS_API_KEY": "old", "RUSTKISS_TIMEOUT": "7"}, env_path=os.devnull)
        self.assertEqual((cfg.base_url, cfg.api_key, cfg.timeout), ("http://127.0.0.1:1234", "old", 7.0))
        cfg = Config.from_env(
            environ={"PORT_LUMA_VDB": "5", "PORT_RUST_KISS_VDB": "6", "API_KEY": "a", "RUSTKISS_API_KEY": "r", "LUMA_API_KEY": "l"},
            env_path=os.devnull,
        )
        self.assertEqual((cfg.base_url, cfg.api_key), ("http://127.0.0.1:5", "l"))
        cfg = Config.from_env(environ={"VDB_BASE_URL": "http://v:1/", "RUSTKISS_URL": "http://r:1", "LUMA_TIMEOUT": "x"}, env_path=os.devnull)
        self.assertEqual((cfg.base_url, cfg.timeout), ("http://r:1", 30.0))
        cfg = Config.from_env(environ={"VDB_BASE_URL": "http://v:1/", "LUMA_MAX_RETRIES": "0"}, env_path=os.devnull)
        self.assertEqual((cfg.base_url, cfg.max_retries), ("http://v:1", 0))

    def test_dotenv_file_and_environment_wins(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / ".env"
            p.write_text("LUMA_URL=http://file:1\nLUMA_API_KEY=filekey\n")
            cfg = Config.from_env(p, environ={"LUMA_API_KEY": "envkey"})
            self.assertEqual((cfg.base_url, cfg.api_key), ("http://file:1", "envkey"))
            sub = Path(d) / "a" / "b"
            sub.mkdir(parents=True)
            old = os.getcwd()
            os.chdir(sub)
            try:
                with mock.patch.dict(os.environ, {}, clear=True):
                    self.assertEqual(Config.from_env().base_url, "http://file:1")  # found in a parent
            finally:
                os.chdir(old)
        with self.assertRaises(FileNotFoundError):
            Config.from_env("/nonexistent/.env")

    def test_client_from_env(self) -> None:
        srv = shared_server()
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / ".env"
            p.write_text(f"PORT_LUMA_VDB={srv.port}\n")
            with mock.patch.dict(os.environ, {}, clear=True):
                with luma.Client.from_env(str(p)) as c:
                    self.assertEqual(c.health().status, "ok")
                with Config.from_env(p).create_client(timeout=5) as c:
                    self.assertEqual(c.timeout, 5)
                old = os.getcwd()
                os.chdir(d)
                try:
                    with luma.Client() as c:  # no URL: from the environment / .env
                        self.assertEqual(c.base_url, srv.url)
                finally:
                    os.chdir(old)


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.srv = Server(api_key="admin-secret").start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.srv.close()

    def test_unauthorized(self) -> None:
        with luma.Client(self.srv.url, max_retries=0) as c:
            self.assertEqual(c.health().status, "ok")  # exempt
            with self.assertRaises(luma.UnauthorizedError) as cm:
                c.state.get("k")
            self.assertEqual(str(cm.exception), "unauthorized - missing authorization header")
            self.assertEqual(cm.exception.status, 401)
        with luma.Client(self.srv.url, api_key="wrong") as c:
            with self.assertRaises(luma.UnauthorizedError) as cm:
                c.metrics()
            self.assertEqual(cm.exception.message, "invalid api key")
            with self.assertRaises(luma.UnauthorizedError):
                next(c.stream.events(since=0))

    def test_keys_lifecycle_and_roles(self) -> None:
        with luma.Client(self.srv.url, api_key="admin-secret") as admin:
            self.assertTrue(admin.health()["auth"])
            name = uniq("reader")
            k = admin.auth.create(name, role="reader", permissions={"note": "test"})
            self.assertTrue(k.key.startswith("rk_live_"))
            self.assertEqual((k.name, k.role), (name, "reader"))
            listed = {x.id: x for x in admin.auth.list()}
            self.assertIn(k.id, listed)
            self.assertEqual((listed[k.id].role, listed[k.id].permissions), ("reader", {"note": "test"}))
            self.assertGreater(listed[k.id].created_at_ms, 0)
            self.assertEqual(admin.auth.get(k.id).name, name)  # type: ignore[union-attr]
            self.assertIsNone(admin.auth.get("nope"))

            with luma.Client(self.srv.url, api_key=k.key) as reader:
                admin.state.put("shared", 1)
                self.assertEqual(reader.state.get("shared").value, 1)
                with self.assertRaises(luma.ForbiddenError) as cm:
                    reader.state.put("shared", 2)
                self.assertEqual((cm.exception.status, cm.exception.code), (403, "forbidden"))
                with self.assertRaises(luma.ForbiddenError):
                    reader.auth.list()

            u = admin.auth.create(uniq("user"))
            self.assertEqual(u.role, "user")
            with luma.Client(self.srv.url, api_key=u.key) as user:
                self.assertEqual(user.state.put("by-user", 1).revision, 1)
                with self.assertRaises(luma.ForbiddenError) as cm:
                    user.auth.create("x")
                self.assertEqual(cm.exception.message, "admin role required")

            admin.auth.revoke(k.id)
            with luma.Client(self.srv.url, api_key=k.key) as revoked:
                with self.assertRaises(luma.UnauthorizedError):
                    revoked.state.get("shared")
            with self.assertRaises(luma.NotFoundError) as cm:
                admin.auth.revoke(k.id)
            self.assertEqual(str(cm.exception), "not_found - key id not found")
            with self.assertRaises(luma.InvalidArgumentError):
                admin.auth.create("x", role="emperor")

    def test_not_enabled_in_local_mode(self) -> None:
        with luma.Client(shared_server().url) as c:
            with self.assertRaises(luma.NotEnabledError) as cm:
                c.auth.list()
            self.assertEqual((cm.exception.status, str(cm.exception)), (501, "not_enabled - auth store not enabled"))


if __name__ == "__main__":
    unittest.main()
