"""client.doc against a real server."""

from __future__ import annotations

import threading
import unittest

from tests._server import Server, route_or_skip, shared_server, uniq

import luma


class DocTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.c = luma.Client(shared_server().url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.close()

    def coll(self) -> str:
        c = uniq("tickets")
        with route_or_skip(self):
            self.c.doc.find(c)
        return c

    def test_put_get_delete_cas(self) -> None:
        c = self.coll()
        d = self.c.doc.put(c, "t/1", {"title": "Bug", "severity": "high"})
        self.assertIsInstance(d, luma.Document)
        self.assertEqual((d.id, d.revision, d.doc), ("t/1", 1, {"title": "Bug", "severity": "high"}))
        got = self.c.doc.get(c, "t/1")
        self.assertEqual((got.doc["title"], got.revision), ("Bug", 1))
        self.assertEqual(self.c.doc.put(c, "t/1", {"title": "Bug!"}, if_revision=1).revision, 2)
        with self.assertRaises(luma.RevisionMismatchError):
            self.c.doc.put(c, "t/1", {"title": "stale"}, if_revision=1)
        with self.assertRaises(luma.RevisionMismatchError):
            self.c.doc.delete(c, "t/1", if_revision=1)
        self.assertTrue(self.c.doc.delete(c, "t/1", if_revision=2))
        self.assertFalse(self.c.doc.delete(c, "t/1"))
        with self.assertRaises(luma.NotFoundError) as cm:
            self.c.doc.get(c, "t/1")
        self.assertEqual(str(cm.exception), "not_found - document not found")

    def test_cas_under_concurrency(self) -> None:
        c = self.coll()
        self.c.doc.put(c, "counter", {"n": 0})
        wins = []

        def worker() -> None:
            with luma.Client(self.c.base_url) as cl:
                for _ in range(10):
                    while True:
                        cur = cl.doc.get(c, "counter")
                        try:
                            cl.doc.put(c, "counter", {"n": cur.doc["n"] + 1}, if_revision=cur.revision)
                            wins.append(1)
                            break
                        except luma.RevisionMismatchError:
                            continue

        ts = [threading.Thread(target=worker) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(self.c.doc.get(c, "counter").doc["n"], 40)

    def test_find_filter_sort_cursor(self) -> None:
        c = self.coll()
        self.c.doc.put_many(c, {f"d{i:02d}": {"n": i, "kind": "odd" if i % 2 else "even", "meta": {"lvl": i % 3}} for i in range(12)})
        res = self.c.doc.find(c, {"kind": "odd"}, limit=100)
        self.assertEqual([d.id for d in res], [f"d{i:02d}" for i in range(1, 12, 2)])
        self.assertIsNone(res.next_cursor)
        self.assertIn("scanned", res)
        res = self.c.doc.find(c, {"n": {"$gte": 9}}, sort="-n")
        self.assertEqual([d.doc["n"] for d in res.documents], [11, 10, 9])
        res = self.c.doc.find(c, {"meta.lvl": 0}, sort={"field": "n", "order": "asc"})
        self.assertEqual([d.doc["n"] for d in res], [0, 3, 6, 9])
        page = self.c.doc.find(c, None, limit=5, sort="n")
        self.assertEqual(len(page), 5)
        self.assertIsNotNone(page.next_cursor)
        page2 = self.c.doc.find(c, None, limit=5, sort="n", cursor=page.next_cursor)
        self.assertEqual([d.doc["n"] for d in page2], [5, 6, 7, 8, 9])
        self.assertEqual([d.doc["n"] for d in self.c.doc.find_iter(c, {}, sort="n", page_size=5)], list(range(12)))
        self.assertEqual(self.c.doc.count(c, {"kind": "even"}), 6)
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.doc.find(c, {"n": {"$bogus": 1}})
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.doc.find(c, {}, cursor="not-a-cursor")

    def test_indexes(self) -> None:
        c = self.coll()
        for i in range(30):
            self.c.doc.put(c, f"u{i}", {"status": "active" if i % 3 else "gone", "age": i})
        ix = self.c.doc.create_index(c, "status", type="keyword")
        self.assertEqual(ix["field"], "status")
        with self.assertRaises(luma.AlreadyExistsError):
            self.c.doc.create_index(c, "status")
        ready = self.c.doc.wait_index(c, "status")
        self.assertEqual(ready["state"], "ready")
        self.assertEqual([x["field"] for x in self.c.doc.list_indexes(c)], ["status"])
        res = self.c.doc.find(c, {"status": "gone"}, limit=100)
        self.assertEqual(res.get("index_used"), "status")
        scan = [d.id for d in res]
        self.assertTrue(self.c.doc.drop_index(c, "status"))
        res2 = self.c.doc.find(c, {"status": "gone"}, limit=100)
        self.assertIsNone(res2.get("index_used"))
        self.assertEqual([d.id for d in res2], scan)  # index and scan agree
        with self.assertRaises(luma.NotFoundError):
            self.c.doc.drop_index(c, "status")
        with self.assertRaises(luma.NotFoundError):
            self.c.doc.wait_index(c, "status")

    def test_errors(self) -> None:
        c = self.coll()
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.doc.put("a:b", "x", {})  # ':' is not allowed in a doc collection
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.doc.put(c, "x" * 300, {})
        with self.assertRaises(luma.MethodNotAllowedError):
            self.c.doc.get(c, "find")


class DocLimitTest(unittest.TestCase):
    def test_doc_too_large(self) -> None:
        with Server(args=["--max-json-mb", "0.001"]) as srv, luma.Client(srv.url) as c:
            with self.assertRaises(luma.PayloadTooLargeError) as cm:
                with route_or_skip(self):
                    c.doc.put("d", "big", {"x": "y" * 5000})
            self.assertEqual(str(cm.exception), "payload_too_large - doc too large")


if __name__ == "__main__":
    unittest.main()
