"""luma.rag: chunking, embedders (offline and HTTP, against scripted
servers), chat models, PDF text extraction."""

from __future__ import annotations

import math
import shutil
import unittest

from tests._fake import FakeServer, json_reply
from tests._server import FIXTURES

from luma import rag


def dot(a, b):  # type: ignore[no-untyped-def]
    return sum(x * y for x, y in zip(a, b))


class ChunkTest(unittest.TestCase):
    def test_overlap_and_bounds(self) -> None:
        text = " ".join(f"w{i}" for i in range(400))
        chunks = rag.chunk_text(text, 200, 60)
        self.assertGreater(len(chunks), 5)
        for c in chunks:
            self.assertLessEqual(len(c), 200)
            self.assertFalse(c.startswith(" ") or c.endswith(" "))
        for a, b in zip(chunks, chunks[1:]):
            tail = a.split()[-3:]
            self.assertTrue(all(w in b.split() for w in tail), "neighbouring chunks must overlap")
        words = [w for c in chunks for w in c.split()]
        self.assertEqual(sorted(set(words), key=lambda w: int(w[1:])), text.split())  # nothing lost

    def test_small_and_empty(self) -> None:
        self.assertEqual(rag.chunk_text("  short text \n", 100, 10), ["short text"])
        self.assertEqual(rag.chunk_text("   ", 100, 10), [])
        parts = rag.chunk_text("x" * 250, 100, 10)  # no space to cut at: hard cuts
        self.assertTrue(all(len(c) <= 100 for c in parts))
        self.assertGreaterEqual(sum(len(c) for c in parts), 250)
        with self.assertRaises(ValueError):
            rag.chunk_text("a", 10, 10)


class HashEmbedderTest(unittest.TestCase):
    def test_deterministic_normalised_and_lexical(self) -> None:
        e = rag.HashEmbedder(dim=256)
        a, b, c = e.embed(["the keeper of the Aurora lighthouse", "who keeps the aurora lighthouse?", "violet carrots in spring"])
        self.assertEqual(len(a), 256)
        self.assertAlmostEqual(math.sqrt(dot(a, a)), 1.0, places=9)
        self.assertEqual(a, rag.HashEmbedder(dim=256).embed_one("the keeper of the Aurora lighthouse"))
        self.assertGreater(dot(a, b), dot(a, c) + 0.2)
        empty = e.embed_one("")
        self.assertAlmostEqual(math.sqrt(dot(empty, empty)), 1.0)
        self.assertEqual(e.probe_dim(), 256)
        with self.assertRaises(ValueError):
            rag.HashEmbedder(dim=4)

    def test_from_env(self) -> None:
        self.assertIsInstance(rag.embedder_from_env({}), rag.HashEmbedder)
        self.assertEqual(rag.embedder_from_env({"LUMA_EMBED_DIM": "64"}).dim, 64)
        o = rag.embedder_from_env({"LUMA_EMBEDDER": "openai", "OPENAI_BASE_URL": "http://x/v1", "EMBEDDING_MODEL": "m"})
        self.assertIsInstance(o, rag.OpenAIEmbedder)
        self.assertEqual((o.base_url, o.model), ("http://x/v1", "m"))
        self.assertIsInstance(rag.embedder_from_env({"LUMA_EMBEDDER": "ollama"}), rag.OllamaEmbedder)
        with self.assertRaises(ValueError):
            rag.embedder_from_env({"LUMA_EMBEDDER": "magic"})
        self.assertIsNone(rag.chat_from_env({}))
        self.assertIsInstance(rag.chat_from_env({"LUMA_CHAT": "openai"}), rag.OpenAIChat)
        self.assertIsInstance(rag.chat_from_env({"LUMA_CHAT": "ollama"}), rag.OllamaChat)
        with self.assertRaises(ValueError):
            rag.chat_from_env({"LUMA_CHAT": "magic"})


class HTTPModelsTest(unittest.TestCase):
    def test_openai_embeddings_and_chat(self) -> None:
        def handler(req):  # type: ignore[no-untyped-def]
            body = req.json()
            if req.path == "/v1/embeddings":
                data = [{"index": i, "embedding": [float(len(t)), 1.0]} for i, t in enumerate(body["input"])]
                return json_reply(200, {"data": list(reversed(data))})
            if req.path == "/v1/chat/completions":
                return json_reply(200, {"choices": [{"message": {"content": f"echo: {body['messages'][-1]['content']}"}}]})
            return json_reply(404, {"error": "nope"})

        with FakeServer(handler=handler) as fs:
            e = rag.OpenAIEmbedder("m", fs.url + "/v1", api_key="sk-1", batch=2)
            self.assertEqual(e.embed(["a", "bb", "ccc"]), [[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
            self.assertEqual(e.dim, 2)
            self.assertEqual(len(fs.requests), 2)  # batched by 2
            self.assertEqual(fs.requests[0].headers["Authorization"], "Bearer sk-1")
            self.assertEqual(fs.requests[0].json()["model"], "m")
            chat = rag.OpenAIChat("gpt", fs.url + "/v1")
            self.assertEqual(chat.complete([{"role": "user", "content": "hi"}], max_tokens=5), "echo: hi")
            self.assertEqual(fs.requests[-1].json()["max_tokens"], 5)
            with self.assertRaises(rag.RAGError):
                rag.OpenAIChat("gpt", fs.url + "/nope").complete([{"role": "user", "content": "x"}])

    def test_ollama_embeddings_and_chat(self) -> None:
        def handler(req):  # type: ignore[no-untyped-def]
            body = req.json()
            if req.path == "/api/embed":
                return json_reply(200, {"embeddings": [[0.5, 0.5, 0.0] for _ in body["input"]]})
            if req.path == "/api/chat":
                assert body["stream"] is False
                return json_reply(200, {"message": {"role": "assistant", "content": "ollama says hi"}})
            return json_reply(404, {})

        with FakeServer(handler=handler) as fs:
            e = rag.OllamaEmbedder("nomic", fs.url)
            self.assertEqual(e.embed(["x", "y"]), [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
            self.assertEqual(e.probe_dim(), 3)
            self.assertEqual(rag.OllamaChat("llama", fs.url).complete([{"role": "user", "content": "x"}]), "ollama says hi")

    def test_unreachable(self) -> None:
        from tests._server import free_port

        with self.assertRaises(rag.RAGError):
            rag.OllamaEmbedder("m", f"http://127.0.0.1:{free_port()}").embed(["x"])


class PromptTest(unittest.TestCase):
    def test_build_prompt(self) -> None:
        p = rag.build_prompt("Q?", ["alpha", "beta"], ["a.pdf p.1", "b.pdf p.2"])
        self.assertIn("[1] a.pdf p.1\nalpha", p)
        self.assertIn("[2] b.pdf p.2\nbeta", p)
        self.assertTrue(p.endswith("Question: Q?\nAnswer:"))
        self.assertIn("(no context found)", rag.build_prompt("Q?", []))


@unittest.skipUnless(shutil.which("pdftotext"), "pdftotext (poppler-utils) is not installed")
class PDFTest(unittest.TestCase):
    def test_pdftotext_pages(self) -> None:
        pages = rag.extract_pdf_pages(str(FIXTURES / "handbook.pdf"), prefer="pdftotext")
        self.assertEqual(len(pages), 2)
        self.assertIn("Marisol Quintero", pages[0])
        self.assertIn("Cinnamon Protocol", pages[1])
        self.assertEqual(len(rag.extract_pdf_pages(str(FIXTURES / "almanac.pdf"))), 2)

    def test_errors(self) -> None:
        with self.assertRaises(rag.RAGError):
            rag.extract_pdf_pages(str(FIXTURES / "handbook.txt"), prefer="pdftotext")
        try:
            import pypdf  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            with self.assertRaises(rag.RAGError):
                rag.extract_pdf_pages(str(FIXTURES / "handbook.pdf"), prefer="pypdf")
        with self.assertRaises(ValueError):
            rag.extract_pdf_pages("x.pdf", prefer="ocr")


if __name__ == "__main__":
    unittest.main()
