"""The rustkissvdb compatibility package: the original SDK's API, and a
script written for the original running unchanged on it."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from tests._server import HERE, SDK, Server, route_or_skip, uniq

import luma
import rustkissvdb
from rustkissvdb import Client, Config, RustKissVDBError


class SignatureTest(unittest.TestCase):
    """Argument names and defaults of CONTRACT.md §8."""

    def sig(self, f):  # type: ignore[no-untyped-def]
        """Parameter names and defaults, e.g. "(key, ttl_ms=None)"."""
        parts = []
        for p in inspect.signature(f).parameters.values():
            parts.append(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}")
        return "(" + ", ".join(parts) + ")"

    def test_signatures(self) -> None:
        c = Client("http://127.0.0.1:1")
        self.assertTrue(self.sig(Client).startswith("(base_url=None, api_key=None, timeout=30.0"))
        expect = {
            c.state.list: "(prefix='', limit=100)",
            c.state.get: "(key)",
            c.state.put: "(key, value, ttl_ms=None, if_revision=None)",
            c.state.delete: "(key)",
            c.state.batch_put: "(operations)",
            c.vector.list: "()",
            c.vector.info: "(collection)",
            c.vector.create_collection: "(collection, dim, metric='cosine')",
            c.vector.upsert: "(collection, vector_id, vector, meta=None)",
            c.vector.upsert_batch: "(collection, items)",
            c.vector.delete: "(collection, vector_id)",
            c.vector.delete_batch: "(collection, ids)",
            c.vector.search: "(collection, vector, k=5, include_meta=True, filters=None)",
            c.doc.put: "(collection, id, doc)",
            c.doc.get: "(collection, id)",
            c.doc.delete: "(collection, id)",
            c.doc.find: "(collection, filter=None, limit=20)",
            c.sql.query: "(sql, params=None)",
            c.sql.execute: "(sql, params=None)",
            c.stream.events: "(since=None, types=None, key_prefix=None)",
            Config.from_env: "(env_path=None)",
        }
        for f, want in expect.items():
            with self.subTest(f=f.__qualname__):
                self.assertEqual(self.sig(f), want)
        self.assertEqual(c.sql.exec.__func__, c.sql.execute.__func__)  # the original's examples call exec
        self.assertEqual(rustkissvdb.__version__, luma.__version__)

    def test_error_strings(self) -> None:
        e = RustKissVDBError("already_exists", "collection already exists", 409)
        self.assertEqual(str(e), "already_exists - collection already exists")
        self.assertIsInstance(e, luma.LumaError)
        self.assertEqual(str(RustKissVDBError("plain text")), "plain text")
        self.assertEqual(str(RustKissVDBError("http_502", "upstream down", 502)), "upstream down")

    def test_config(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / ".env"
            p.write_text("PORT_RUST_KISS_VDB=4321\nRUSTKISS_API_KEY=k1\nRUSTKISS_TIMEOUT=12\n")
            with mock.patch.dict(os.environ, {}, clear=True):
                cfg = Config.from_env(p)
                self.assertEqual((cfg.base_url, cfg.api_key, cfg.timeout), ("http://127.0.0.1:4321", "k1", 12.0))
                cli = cfg.create_client()
                self.assertEqual((cli.base_url, cli.api_key, cli.timeout), ("http://127.0.0.1:4321", "k1", 12.0))
            with mock.patch.dict(os.environ, {"RUSTKISS_URL": "http://r:1/", "VDB_BASE_URL": "http://v:1", "API_KEY": "a"}, clear=True):
                cfg = Config.from_env(p)
                self.assertEqual((cfg.base_url, cfg.api_key), ("http://r:1", "k1"))
            with mock.patch.dict(os.environ, {"KISS_VDB_URL": "http://legacy:9917", "KISS_VDB_KEY": "dev"}, clear=True):
                cfg = Config.from_env(os.devnull)
                self.assertEqual((cfg.base_url, cfg.api_key), ("http://legacy:9917", "dev"))


class CompatServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.srv = Server().start()
        cls.c = Client(cls.srv.url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.close()
        cls.srv.close()

    def test_state(self) -> None:
        k = uniq("k")
        r = self.c.state.put(k, {"a": 1}, ttl_ms=60000)
        self.assertEqual(set(r), {"key", "revision", "expires_at_ms"})
        it = self.c.state.get(k)
        self.assertIsInstance(it, dict)
        self.assertEqual((it["value"], it["revision"]), ({"a": 1}, 1))
        with self.assertRaises(RustKissVDBError) as cm:
            self.c.state.put(k, 2, if_revision=5)
        self.assertIn("revision", str(cm.exception))
        self.assertEqual(str(cm.exception), "revision_mismatch - if_revision mismatch")
        lst = self.c.state.list(prefix=k)
        self.assertEqual([x["key"] for x in lst], [k])
        self.assertTrue(self.c.state.delete(k))
        self.assertFalse(self.c.state.delete(k))
        with self.assertRaises(RustKissVDBError) as cm:
            self.c.state.get(k)
        self.assertEqual(str(cm.exception), "not_found - key not found")
        self.assertEqual(self.c.health()["status"], "ok")
        self.assertEqual(self.c.request("GET", "/v1/health")["status"], "ok")

    def test_doc_sql_stream(self) -> None:
        with route_or_skip(self):
            self.c.doc.put("tickets", "t1", {"severity": "high"})
        self.assertEqual(self.c.doc.get("tickets", "t1")["doc"], {"severity": "high"})
        self.assertEqual([d["id"] for d in self.c.doc.find("tickets", {"severity": "high"})], ["t1"])
        self.assertTrue(self.c.doc.delete("tickets", "t1"))
        with route_or_skip(self):
            self.c.sql.execute("CREATE TABLE t (x INTEGER)")
        self.assertEqual(self.c.sql.exec("INSERT INTO t VALUES (?)", [7]), 1)
        self.assertEqual(self.c.sql.query("SELECT x FROM t"), [{"x": 7}])
        k = uniq("s")
        self.c.state.put(k, 1)
        ev = next(self.c.stream.events(since=0, types=["state_updated"], key_prefix=k))
        self.assertEqual(ev["event"], "state_updated")
        self.assertTrue(ev["id"].isdigit())
        self.assertEqual(ev["data"]["data"]["key"], k)
        self.assertEqual(ev["data"]["offset"], int(ev["id"]))

    def test_connection_error(self) -> None:
        from tests._server import free_port

        c = Client(f"http://127.0.0.1:{free_port()}", timeout=2)
        c._transport.max_retries = 0
        with self.assertRaises(RustKissVDBError) as cm:
            c.health()
        self.assertTrue(str(cm.exception).startswith("Connection error: "))

    def test_auth(self) -> None:
        with Server(api_key="sekret") as srv:
            with self.assertRaises(RustKissVDBError) as cm:
                Client(srv.url).state.get("x")
            self.assertEqual(str(cm.exception), "unauthorized - missing authorization header")
            Client(srv.url, api_key="sekret").state.put("x", 1)


class LegacyRAGTest(unittest.TestCase):
    def test_rag_offline(self) -> None:
        with Server() as srv, mock.patch.dict(os.environ, {}, clear=True):
            c = Client(srv.url, api_key="dev")  # a server in local mode ignores the key
            coll = uniq("rag")
            with route_or_skip(self):
                dim = c.rag.initialize_collection(coll)
            self.assertEqual(c.rag.initialize_collection(coll), dim)  # exists: fine
            text = (HERE / "fixtures" / "handbook.txt").read_text()
            n = c.rag.ingest_text(coll, text, metadata={"source": "handbook"}, chunk_size=60, overlap=10, id_prefix="hb")
            self.assertGreater(n, 2)
            out = c.rag.chat(coll, "Who is the keeper of the Aurora Lighthouse ledger?", k=2)
            self.assertIn("Marisol Quintero", out["answer"])
            self.assertEqual(out["sources"][0]["meta"]["source"], "handbook")
            self.assertTrue(out["sources"][0]["id"].startswith("hb_"))
            with self.assertRaises(RustKissVDBError) as cm:
                c.rag.ingest_text(coll, " ".join(["w"] * 3000), chunk_size=10, overlap=0)
            self.assertIn("too many items", str(cm.exception))


class OriginalScriptTest(unittest.TestCase):
    """A script in the original SDK's style runs unchanged (twice: the
    second run meets the existing collection and must ignore
    already_exists)."""

    def test_script_runs_unchanged(self) -> None:
        script = HERE / "compat" / "original_sdk_script.py"
        with Server() as srv:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("LUMA_", "RUSTKISS_", "VDB_", "PORT_", "API_KEY"))}
            env.update({"PORT_RUST_KISS_VDB": str(srv.port), "PYTHONPATH": str(SDK)})
            outs = []
            for _ in range(2):
                with tempfile.TemporaryDirectory() as cwd:
                    p = subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
                out = p.stdout + p.stderr
                if "no route for" in out:
                    self.skipTest("route not available yet: " + out.strip().splitlines()[-1])
                self.assertEqual(p.returncode, 0, out)
                outs.append(out)
        first, second = outs
        self.assertIn("HEALTH -> ok", first)
        self.assertIn("BATCH -> ['ok', 'ok']", first)
        self.assertIn("DELETE -> True False", first)
        self.assertIn("CAS OK messages=2 revision=3 attempts=2", first)
        self.assertIn("GET -> Bug 1", first)
        self.assertIn("FIND -> ['ticket_1']", first)
        self.assertIn("MISSING -> not_found - document not found", first)
        self.assertIn("QUERY -> [{'id': 2, 'body': 'demo2'}] affected 1", first)
        self.assertIn("SQL ERROR -> invalid_argument - ", first)
        self.assertIn("Collection 'sdk_quickstart' created.", first)
        self.assertRegex(first, r"SEARCH -> demo_vec sdk_demo 1(\.0)?\n")
        self.assertIn("FILTERED -> ['b1']", first)
        self.assertIn("DELETE -> True", first)
        self.assertIn("DELETE_BATCH -> ['deleted', 'error']", first)
        self.assertIn("LIST -> sdk_quickstart (dim=3, metric=cosine, count=2)", first)
        self.assertIn("INFO -> count=2 dim=3 manifest_dim=3", first)
        self.assertIn("DIM ERROR -> dim_mismatch - vector dimension mismatch", first)
        self.assertIn("EVENT -> state_updated 1 sdk:demo:state", first)
        self.assertIn("ALL DONE", first)
        self.assertIn("Collection 'sdk_quickstart' already exists.", second)
        self.assertIn("ALL DONE", second)


if __name__ == "__main__":
    unittest.main()
