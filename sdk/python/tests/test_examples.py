"""The examples run offline against a real server, on the PDF fixtures, and
their output is checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from typing import Dict, Optional

from tests._fake import FakeServer, json_reply
from tests._server import EXAMPLES, FIXTURES, SDK, Server, uniq

import luma


class ExamplesTest(unittest.TestCase):
    srv: Server

    @classmethod
    def setUpClass(cls) -> None:
        cls.srv = Server().start()
        cls.cwd = tempfile.mkdtemp(prefix="luma-examples-")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.srv.close()
        shutil.rmtree(cls.cwd, ignore_errors=True)

    def run_example(self, name: str, *args: str, env: Optional[Dict[str, str]] = None, stdin: str = "") -> str:
        e = {k: v for k, v in os.environ.items() if not k.startswith(("LUMA_", "RUSTKISS_", "OPENAI_", "OLLAMA_", "VDB_"))}
        e["LUMA_URL"] = self.srv.url
        e["PYTHONPATH"] = str(SDK)
        e.update(env or {})
        p = subprocess.run(
            [sys.executable, str(EXAMPLES / name), *args],
            cwd=self.cwd, env=e, input=stdin, capture_output=True, text=True, timeout=120,
        )
        out = p.stdout + p.stderr
        if "no route for" in out:
            self.skipTest(f"route not available yet: {out.strip().splitlines()[-1]}")
        self.assertEqual(p.returncode, 0, f"{name} failed:\n{out}")
        return out

    def ingest(self, collection: str) -> str:
        return self.run_example("ingest_pdf.py", str(FIXTURES / "handbook.pdf"), str(FIXTURES / "almanac.pdf"), "--collection", collection, "--batch-size", "4")

    @unittest.skipUnless(shutil.which("pdftotext"), "pdftotext (poppler-utils) is not installed")
    def test_ingest_then_chat_offline(self) -> None:
        coll = uniq("pdfs")
        out = self.ingest(coll)
        self.assertIn("handbook.pdf: 2 pages", out)
        self.assertIn("upserted 4/", out)  # progress, batch by batch
        self.assertRegex(out, rf"collection '{coll}': \d+ vectors")
        with luma.Client(self.srv.url) as db:
            n = db.vector.info(coll).count
            manifest = db.state.get(f"docs:{coll}:manifest").value
        self.assertEqual(set(manifest["docs"]), {"handbook", "almanac"})
        self.assertEqual(n, sum(d["chunks"] for d in manifest["docs"].values()))
        # Ingesting again replaces the chunks (stable ids): no duplicates.
        self.ingest(coll)
        with luma.Client(self.srv.url) as db:
            self.assertEqual(db.vector.info(coll).count, n)

        out = self.run_example("chat_rag_pdf.py", "Who keeps the green ledger of the Aurora Lighthouse?", "--collection", coll)
        self.assertIn("no chat model configured", out)
        context = out.split("the retrieved context:", 1)[1]
        self.assertIn("Marisol Quintero", context)
        first_source = out.split("[1] ", 1)[1].split("\n", 1)[0]
        self.assertTrue(first_source.startswith("handbook.pdf p.1"), first_source)

        out = self.run_example("chat_rag_pdf.py", "When are the violet carrots of Valle Escondido ready?", "--collection", coll, "--docs", "1")
        self.assertIn("from 1 documents", out)
        self.assertIn("seventy days", out.split("the retrieved context:", 1)[1])

        # Interactive mode, and a collection that does not exist.
        out = self.run_example("chat_rag_pdf.py", "--collection", coll, stdin="What is the Cinnamon Protocol?\n/exit\n")
        self.assertIn("higher offset wins", out)
        p = subprocess.run([sys.executable, str(EXAMPLES / "chat_rag_pdf.py"), "x", "--collection", uniq("nope")],
                           env={**os.environ, "LUMA_URL": self.srv.url, "PYTHONPATH": str(SDK)}, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("does not exist; run ingest_pdf.py first", p.stdout)

        out = self.run_example("vector_list_info.py", coll)
        self.assertIn(f"- {coll} (dim=384, metric=cosine, count={n})", out)
        self.assertIn('"collection"', out)

    @unittest.skipUnless(shutil.which("pdftotext"), "pdftotext (poppler-utils) is not installed")
    def test_chat_with_an_openai_compatible_model(self) -> None:
        coll = uniq("pdfs")
        self.ingest(coll)
        prompts = []

        def handler(req):  # type: ignore[no-untyped-def]
            if req.path == "/v1/chat/completions":
                prompts.append(req.json()["messages"][-1]["content"])
                return json_reply(200, {"choices": [{"message": {"content": "The keeper is Marisol Quintero [1]."}}]})
            return json_reply(404, {"error": "not_found"})

        with FakeServer(handler=handler) as fs:
            env = {"LUMA_CHAT": "openai", "OPENAI_BASE_URL": fs.url + "/v1", "LLM_MODEL": "test-model"}
            session = uniq("sess")
            out = self.run_example("chat_rag_pdf.py", "Who keeps the Aurora lighthouse?", "--collection", coll, "--session", session, env=env)
        self.assertIn("answer (test-model):\nThe keeper is Marisol Quintero [1].", out)
        self.assertIn("Marisol Quintero", prompts[0])  # the retrieved passage is in the prompt
        self.assertIn("Question: Who keeps the Aurora lighthouse?", prompts[0])
        with luma.Client(self.srv.url) as db:
            msgs = db.state.get(f"chat:{session}:history").value["messages"]
        self.assertEqual([m["role"] for m in msgs], ["user", "assistant"])

    def test_state_chat_memory(self) -> None:
        s = uniq("s")
        out = self.run_example("state_chat_memory.py", "--session", s, "hello there", "/assistant hi, how can I help?", "/show")
        self.assertIn("saved user message (revision 2)", out)  # revision 1: the empty session
        self.assertIn("saved assistant message (revision 3)", out)
        self.assertIn("user: hello there", out)
        self.assertIn("assistant: hi, how can I help?", out)
        out = self.run_example("state_chat_memory.py", "--session", s, stdin="more\n/show\n/exit\n")
        self.assertIn("saved user message (revision 4)", out)
        self.assertIn("user: more", out)
        out = self.run_example("state_chat_memory.py", "--list")
        self.assertIn(f"{s}: 3 messages, revision 4", out)
        out = self.run_example("state_chat_memory.py", "--session", s, "/clear", "/show")
        self.assertIn("(empty history)", out)

    def test_state_chat_memory_concurrent_writers(self) -> None:
        s = uniq("c")
        self.run_example("state_chat_memory.py", "--session", s, "/show")  # the session starts
        procs = [
            subprocess.Popen([sys.executable, str(EXAMPLES / "state_chat_memory.py"), "--session", s, *[f"w{w}-m{i}" for i in range(5)]],
                             env={**os.environ, "LUMA_URL": self.srv.url, "PYTHONPATH": str(SDK)}, stdout=subprocess.DEVNULL)
            for w in range(3)
        ]
        for p in procs:
            self.assertEqual(p.wait(60), 0)
        with luma.Client(self.srv.url) as db:
            msgs = db.state.get(f"chat:{s}:history").value["messages"]
        self.assertEqual(len(msgs), 15)  # compare-and-set: no message lost

    def test_stream_tail(self) -> None:
        p = uniq("tail") + ":"
        with luma.Client(self.srv.url) as db:
            start = int(db.health()["last_offset"])
            db.state.put(p + "a", {"x": 1})
            db.state.delete(p + "a")
        out = self.run_example("stream_tail.py", "--since", str(start), "--key-prefix", p, "--limit", "2")
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 2, out)
        self.assertIn("state_updated", lines[0])
        self.assertIn(p + "a", lines[0])
        self.assertIn('"value": {"x": 1}', lines[0])
        self.assertIn("state_deleted", lines[1])
        out = self.run_example("stream_tail.py", "--since", str(start), "--key-prefix", p, "--limit", "2", "--json")
        self.assertEqual([json.loads(line)["type"] for line in out.strip().splitlines()], ["state_updated", "state_deleted"])
        out = self.run_example("stream_tail.py", "--since", "now", "--idle", "0.3")
        self.assertEqual(out.strip(), "")


if __name__ == "__main__":
    unittest.main()
