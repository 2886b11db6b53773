"""client.state against a real server."""

from __future__ import annotations

import threading
import time
import unittest

from tests._server import shared_server, uniq

import luma


class StateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.srv = shared_server()
        cls.c = luma.Client(cls.srv.url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.close()

    def test_put_get_delete(self) -> None:
        k = uniq("st") + ":a/b c?#%"  # needs escaping
        r = self.c.state.put(k, {"x": [1, 2]})
        self.assertEqual((r.key, r.revision, r.expires_at_ms), (k, 1, None))
        it = self.c.state.get(k)
        self.assertIsInstance(it, luma.StateItem)
        self.assertEqual((it.key, it.value, it.revision), (k, {"x": [1, 2]}, 1))
        self.assertEqual(it["value"], {"x": [1, 2]})  # mapping access
        self.assertEqual(self.c.state.put(k, None).revision, 2)
        self.assertIsNone(self.c.state.get(k).value)
        self.assertTrue(self.c.state.delete(k))
        self.assertFalse(self.c.state.delete(k))
        with self.assertRaises(luma.NotFoundError) as cm:
            self.c.state.get(k)
        self.assertEqual(str(cm.exception), "not_found - key not found")
        self.assertEqual(cm.exception.status, 404)
        self.assertIsNone(self.c.state.get_or_none(k))

    def test_ttl(self) -> None:
        k = uniq("ttl")
        before = int(time.time() * 1000)
        r = self.c.state.put(k, 1, ttl_ms=60_000)
        self.assertIsNotNone(r.expires_at_ms)
        self.assertGreaterEqual(r.expires_at_ms, before + 60_000)
        # Overwriting without ttl_ms clears the TTL.
        self.assertIsNone(self.c.state.put(k, 2).expires_at_ms)
        self.c.state.put(k, 3, ttl_ms=0)  # expires at once
        self.assertIsNone(self.c.state.get_or_none(k))

    def test_cas(self) -> None:
        k = uniq("cas")
        self.c.state.put(k, "a")
        self.assertEqual(self.c.state.put(k, "b", if_revision=1).revision, 2)
        with self.assertRaises(luma.RevisionMismatchError) as cm:
            self.c.state.put(k, "c", if_revision=1)
        e = cm.exception
        self.assertIsInstance(e, luma.ConflictError)
        self.assertEqual((e.code, e.status), ("revision_mismatch", 409))
        self.assertIn("revision", str(e))
        self.assertEqual(self.c.state.get(k).value, "b")
        with self.assertRaises(luma.RevisionMismatchError):
            self.c.state.delete(k, if_revision=1)
        self.assertTrue(self.c.state.delete(k, if_revision=2))

    def test_update_read_modify_write_under_contention(self) -> None:
        k = uniq("counter")
        workers, per = 6, 15

        def bump() -> None:
            with luma.Client(self.srv.url) as c:
                for _ in range(per):
                    c.state.update(k, lambda v: (v or 0) + 1, default=0, max_attempts=200)

        self.c.state.put(k, 0)
        ts = [threading.Thread(target=bump) for _ in range(workers)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(self.c.state.get(k).value, workers * per)
        with self.assertRaises(luma.NotFoundError):
            self.c.state.update(uniq("absent"), lambda v: v)

    def test_list_pages_and_iter(self) -> None:
        p = uniq("list") + ":"
        keys = [f"{p}{i:03d}" for i in range(25)]
        self.c.state.batch_put([{"key": k, "value": i} for i, k in enumerate(keys)])
        self.c.state.put(uniq("other"), 0)
        page = self.c.state.list_page(p, limit=10)
        self.assertEqual([i.key for i in page], keys[:10])
        self.assertEqual(page.next_cursor, keys[9])
        page2 = self.c.state.list_page(p, limit=10, cursor=page.next_cursor)
        self.assertEqual([i.key for i in page2.items], keys[10:20])
        last = self.c.state.list_page(p, limit=10, cursor=page2.next_cursor)
        self.assertEqual(len(last), 5)
        self.assertIsNone(last.next_cursor)
        self.assertEqual([i.key for i in self.c.state.list(p, limit=3)], keys[:3])
        self.assertEqual([i.key for i in self.c.state.iter(p, page_size=7)], keys)
        self.assertEqual([i.value for i in self.c.state.iter(p, page_size=1000)], list(range(25)))

    def test_batch_put_atomic(self) -> None:
        a, b = uniq("ba"), uniq("bb")
        res = self.c.state.batch_put([{"key": a, "value": 1, "ttl_ms": 60_000}, {"key": b, "value": 2}])
        self.assertEqual([(r.key, r.revision) for r in res], [(a, 1), (b, 1)])
        self.assertIsNotNone(res[0].expires_at_ms)
        with self.assertRaises(luma.RevisionMismatchError) as cm:
            self.c.state.batch_put([{"key": a, "value": 9}, {"key": b, "value": 9, "if_revision": 7}])
        statuses = [r["status"] for r in cm.exception.results or []]
        self.assertEqual(statuses, ["skipped", "error"])
        self.assertEqual(self.c.state.get(a).value, 1)  # nothing applied
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.state.batch_put([])
        with self.assertRaises(ValueError):
            self.c.state.batch_put([{"key": a}])

    def test_invalid_key(self) -> None:
        with self.assertRaises(luma.InvalidArgumentError) as cm:
            self.c.state.put("k" * 600, 1)
        self.assertEqual(str(cm.exception), "invalid_argument - key too long")
        self.assertEqual(cm.exception.status, 400)
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.state.list("p" * 600)

    def test_method_not_allowed(self) -> None:
        with self.assertRaises(luma.MethodNotAllowedError) as cm:
            self.c.state.get("batch_put")
        self.assertEqual(cm.exception.status, 405)

    def test_concurrent_clients_share_pool(self) -> None:
        p = uniq("conc") + ":"
        errors: list = []

        def work(n: int) -> None:
            try:
                for i in range(20):
                    self.c.state.put(f"{p}{n}:{i}", i)
                    self.assertEqual(self.c.state.get(f"{p}{n}:{i}").value, i)
            except Exception as e:  # noqa: BLE001 - collected for the assertion
                errors.append(e)

        ts = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(list(self.c.state.iter(p))), 160)


class PayloadLimitTest(unittest.TestCase):
    def test_value_too_large(self) -> None:
        from tests._server import Server

        with Server(args=["--max-json-mb", "0.001"]) as srv, luma.Client(srv.url) as c:
            with self.assertRaises(luma.PayloadTooLargeError) as cm:
                c.state.put("big", "x" * 5000)
            self.assertEqual((cm.exception.status, cm.exception.code), (413, "payload_too_large"))
            self.assertEqual(str(cm.exception), "payload_too_large - value too large")


if __name__ == "__main__":
    unittest.main()
