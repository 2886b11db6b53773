"""client.search: the grouped-search corpus (/search, /search/ingest)."""

from __future__ import annotations

import unittest

from tests._server import Server, route_or_skip

import luma


class CorpusTest(unittest.TestCase):
    def test_ingest_and_grouped_query(self) -> None:
        with Server() as srv, luma.Client(srv.url) as c:
            with route_or_skip(self):
                self.assertIsNone(c.search.ingest(1, [1, 0], "a1", {"document_id": "A", "language": "en"}))
            c.search.ingest(2, [0.9, 0.1], "a2", {"document_id": "A", "language": "en", "group_id": 7, "processed_at": 1})
            c.search.ingest(3, [0.7, 0.3], "b1", {"document_id": "B", "language": "es", "group_id": 7, "processed_at": 2})
            res = c.search.query("TEST_VEC:1,0", top_k=3)
            self.assertEqual([r["document"]["content"] for r in res], ["a1", "a2", "b1"])
            self.assertAlmostEqual(res[0]["score"], 1.0, places=5)
            self.assertEqual(res[0]["document"]["metadata"], {"document_id": "A", "language": "en"})
            res = c.search.query("TEST_VEC:1,0", top_k=5, group_by="document_id", group_limit=1)
            self.assertEqual([r["document"]["content"] for r in res], ["a1", "b1"])
            res = c.search.query("TEST_VEC:1,0", filters={"language": ["es"]})
            self.assertEqual([r["document"]["id"] for r in res], [3])
            res = c.search.query("TEST_VEC:1,0", filters={"version_policy": "latest"})
            self.assertEqual([r["document"]["id"] for r in res], [1, 3])
            self.assertEqual(len(c.search.query("any text at all", top_k=2)), 0)  # 384-d mock vs 2-d docs
            with self.assertRaises(luma.InvalidArgumentError) as cm:
                c.search.query("q" * 2000)
            self.assertEqual(cm.exception.message, "query too long")
            with self.assertRaises(luma.InvalidArgumentError):
                c.search.query("TEST_VEC:1,0", top_k=0)


if __name__ == "__main__":
    unittest.main()
