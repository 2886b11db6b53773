"""client.vector against a real server."""

from __future__ import annotations

import array
import math
import unittest

from tests._server import Server, route_or_skip, shared_server, uniq

import luma


def unit(*xs: float) -> list:
    n = math.sqrt(sum(x * x for x in xs))
    return [x / n for x in xs]


class VectorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.c = luma.Client(shared_server().url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.close()

    def coll(self, dim: int = 3, metric: str = "cosine", **settings) -> str:  # type: ignore[no-untyped-def]
        name = uniq("v")
        with route_or_skip(self):
            info = self.c.vector.create_collection(name, dim=dim, metric=metric, **settings)
        self.assertEqual((info.name, info.dim, info.metric), (name, dim, metric))
        return name

    def test_collections(self) -> None:
        name = self.coll(4, "dot", index="hnsw", m=8, ef_construction=64, ef_search=32)
        self.assertTrue(self.c.vector.exists(name))
        with self.assertRaises(luma.AlreadyExistsError) as cm:
            self.c.vector.create_collection(name, dim=4, metric="dot")
        self.assertEqual(str(cm.exception), "already_exists - collection already exists")
        self.assertEqual(self.c.vector.create_collection(name, dim=4, exist_ok=True).name, name)
        listed = {c.name: c for c in self.c.vector.list()}
        self.assertEqual((listed[name].dim, listed[name].metric, listed[name].count), (4, "dot", 0))
        self.assertIn("total_records", listed[name])
        info = self.c.vector.info(name)
        self.assertEqual((info.count, info.dim), (0, 4))
        self.assertEqual(info["manifest"]["dim"], 4)
        self.assertTrue(self.c.vector.delete_collection(name))  # alias of drop
        self.assertFalse(self.c.vector.exists(name))
        with self.assertRaises(luma.NotFoundError):
            self.c.vector.drop(name)
        with self.assertRaises(luma.NotFoundError) as cm:
            self.c.vector.info(name)
        self.assertEqual(cm.exception.message, "collection not found")

    def test_create_errors(self) -> None:
        with route_or_skip(self):
            self.c.vector.list()
        with self.assertRaises(luma.InvalidArgumentError) as cm:
            self.c.vector.create_collection(uniq("v"), dim=0)
        self.assertEqual(cm.exception.message, "invalid dim")
        with self.assertRaises(luma.InvalidArgumentError) as cm:
            self.c.vector.create_collection(uniq("v"), dim=3, metric="manhattan")
        self.assertEqual(cm.exception.status, 422)
        with self.assertRaises(luma.InvalidArgumentError) as cm:
            self.c.vector.create_collection("../etc", dim=3)
        self.assertEqual(cm.exception.message, "invalid collection name")
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.vector.create_collection(uniq("v"), dim=3, index="annoy")

    def test_single_writes_and_get(self) -> None:
        c = self.coll()
        self.assertTrue(self.c.vector.add(c, "a", [1, 0, 0], meta={"tag": "x"}))
        with self.assertRaises(luma.AlreadyExistsError) as cm:
            self.c.vector.add(c, "a", [1, 0, 0])
        self.assertEqual(cm.exception.message, "id already exists")
        self.c.vector.upsert(c, "b", (0.0, 1.0, 0.0))  # tuples, arrays... any sequence
        self.c.vector.upsert(c, "c", array.array("f", [0, 0, 1]), meta={"n": 1})
        rec = self.c.vector.get(c, "a")
        self.assertEqual((rec.id, rec.vector, rec.meta), ("a", [1.0, 0.0, 0.0], {"tag": "x"}))
        self.assertTrue(self.c.vector.update(c, "a", meta={"tag": "y"}))  # vector kept
        self.assertEqual(self.c.vector.get(c, "a").vector, [1.0, 0.0, 0.0])
        self.c.vector.update(c, "a", vector=[0, 1, 0])  # meta kept
        rec = self.c.vector.get(c, "a")
        self.assertEqual((rec.vector, rec.meta), ([0.0, 1.0, 0.0], {"tag": "y"}))
        with self.assertRaises(luma.NotFoundError) as cm:
            self.c.vector.update(c, "zz", meta={})
        self.assertEqual(cm.exception.message, "id not found")
        self.assertTrue(self.c.vector.delete(c, "a"))
        with self.assertRaises(luma.NotFoundError):
            self.c.vector.delete(c, "a")
        with self.assertRaises(luma.NotFoundError) as cm:
            self.c.vector.get(c, "a")
        self.assertEqual(cm.exception.message, "vector id not found")
        with self.assertRaises(luma.DimMismatchError) as cm:
            self.c.vector.upsert(c, "d", [1, 2])
        self.assertEqual(str(cm.exception), "dim_mismatch - vector dimension mismatch")
        self.assertIsInstance(cm.exception, luma.InvalidArgumentError)
        with self.assertRaises(luma.NotFoundError) as cm:
            self.c.vector.upsert(uniq("missing"), "d", [1, 2, 3])
        self.assertEqual(cm.exception.message, "collection or id not found")
        self.assertEqual(self.c.vector.info(c).count, 2)

    def test_batches_split_with_progress(self) -> None:
        c = self.coll(2)
        items = [{"id": f"i{i}", "vector": [1.0, i / 10], "meta": {"i": i}} for i in range(25)]
        items.append(("t1", [0.5, 0.5]))
        items.append(("t2", [0.5, 0.5], {"kind": "tuple"}))
        items.append(luma.VectorRecord("r1", [0.1, 0.9], {"kind": "record"}))
        items.append({"id": "bad", "vector": [1.0, 2.0, 3.0]})
        progress = []
        res = self.c.vector.upsert_batch(c, items, batch_size=7, on_progress=lambda d, t: progress.append((d, t)))
        self.assertEqual(res.requests, 5)
        self.assertEqual(progress, [(7, 29), (14, 29), (21, 29), (28, 29), (29, 29)])
        self.assertEqual(len(res.results), 29)
        self.assertEqual(res.ok, 28)
        self.assertEqual([(e["id"], e["error"]["error"]) for e in res.errors], [("bad", "dim_mismatch")])
        with self.assertRaises(luma.DimMismatchError):
            res.raise_for_errors()
        self.assertEqual(self.c.vector.get(c, "t2").meta, {"kind": "tuple"})
        self.assertEqual(self.c.vector.info(c).count, 28)
        res = self.c.vector.delete_batch(c, [f"i{i}" for i in range(25)] + ["nope"], batch_size=10)
        self.assertEqual(res.requests, 3)
        self.assertEqual([e["id"] for e in res.errors], ["nope"])
        self.assertEqual(self.c.vector.info(c).count, 3)
        small = luma.Client(self.c.base_url, batch_size=2)
        self.assertEqual(small.vector.upsert_batch(c, [(f"s{i}", [1, 0]) for i in range(5)]).requests, 3)
        with self.assertRaises(luma.NotFoundError):
            self.c.vector.upsert_batch(uniq("missing"), items[:3])
        with self.assertRaises(ValueError):
            self.c.vector.upsert_batch(c, [{"vector": [1, 0]}])

    def test_search(self) -> None:
        c = self.coll(3)
        pts = {
            "x1": ([1, 0, 0], {"lang": "en", "year": 2021, "doc": "A"}),
            "x2": ([0.9, 0.1, 0], {"lang": "es", "year": 2019, "doc": "A"}),
            "x3": ([0.8, 0.2, 0.1], {"lang": "en", "year": 2024, "doc": "B"}),
            "y1": ([0, 1, 0], {"lang": "en", "year": 2020, "doc": "C"}),
            "z1": ([0, 0, 1], {"doc": "D"}),
        }
        self.c.vector.upsert_batch(c, [(i, v, m) for i, (v, m) in pts.items()])
        res = self.c.vector.search(c, [1, 0, 0], k=3)
        self.assertEqual([h.id for h in res], ["x1", "x2", "x3"])
        self.assertAlmostEqual(res.hits[0].score, 1.0, places=5)
        self.assertEqual(res.hits[0].meta["doc"], "A")  # include_meta defaults to True
        self.assertIsNone(res.hits[0].vector)
        self.assertGreater(res.hits[0].score, res.hits[1].score)
        bare = self.c.vector.search(c, [1, 0, 0], k=1, include_meta=False, include_vector=True)
        self.assertIsNone(bare.hits[0].meta)
        self.assertEqual(len(bare.hits[0].vector or []), 3)
        res = self.c.vector.search(c, [1, 0, 0], k=5, filters={"lang": "en", "year": {"$gte": 2021}}, ef=64)
        self.assertEqual([h.id for h in res], ["x1", "x3"])
        res = self.c.vector.search(c, [1, 0, 0], k=5, filters={"$or": [{"doc": "C"}, {"doc": {"$in": ["D"]}}]})
        self.assertEqual(sorted(h.id for h in res), ["y1", "z1"])
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.vector.search(c, [1, 0, 0], k=3, filters={"year": {"$between": 1}})
        with self.assertRaises(luma.InvalidArgumentError) as cm:
            self.c.vector.search(c, [1, 0, 0], k=0)
        self.assertEqual(cm.exception.message, "invalid k")
        with self.assertRaises(luma.DimMismatchError):
            self.c.vector.search(c, [1, 0], k=3)
        with self.assertRaises(luma.NotFoundError):
            self.c.vector.search(uniq("missing"), [1, 0, 0], k=3)

        g = self.c.vector.search(c, [1, 0, 0], k=2, group_by="doc", group_limit=2)
        self.assertEqual([grp.group for grp in g.groups or []], ["A", "B"])
        self.assertEqual([h.id for h in (g.groups or [])[0].hits], ["x1", "x2"])
        self.assertEqual((g.groups or [])[0].count, 2)
        self.assertEqual([h.id for h in g.hits], ["x1", "x2", "x3"])

    def test_grouping_fallback_for_servers_without_group_by(self) -> None:
        c = self.coll(3)
        self.c.vector.upsert_batch(c, [("a1", [1, 0, 0], {"d": "a"}), ("a2", [0.9, 0.1, 0], {"d": "a"}), ("b1", [0.5, 0.5, 0], {"d": "b"}), ("n", [0, 1, 0])])
        res = self.c.vector._group_locally(c, [1, 0, 0], 3, None, False, "d", 1, None, {})
        self.assertEqual([(g.group, [h.id for h in g.hits], g.count) for g in res.groups or []], [("a", ["a1"], 2), ("b", ["b1"], 1), (None, ["n"], 1)])

    def test_metrics_and_b64(self) -> None:
        d = self.coll(2, "dot")
        self.c.vector.upsert(d, "a", [3, 4])
        self.assertAlmostEqual(self.c.vector.get(d, "a").vector[0], 0.6, places=5)  # dot stores normalised
        l2 = self.coll(2, "l2")
        self.c.vector.upsert_batch(l2, [("o", [0, 0]), ("far", [3, 4])])
        hits = self.c.vector.search(l2, [0, 0], k=2).hits
        self.assertEqual([h.id for h in hits], ["o", "far"])
        self.assertAlmostEqual(hits[1].score, -5.0, places=4)  # -distance: higher is better
        b = luma.Client(self.c.base_url, vector_b64=True)
        c = self.coll(3)
        b.vector.upsert(c, "a", [0.25, -1.5, 3.0], meta={"m": 1})
        b.vector.upsert_batch(c, [("b", [1, 2, 3])])
        b.vector.update(c, "b", vector=[0, 0, 1])
        self.assertEqual(self.c.vector.get(c, "a").vector, [0.25, -1.5, 3.0])
        self.assertEqual(self.c.vector.get(c, "b").vector, [0.0, 0.0, 1.0])
        self.assertEqual(b.vector.search(c, [0, 0, 1], k=1).hits[0].id, "b")
        b.close()

    def test_vacuum_keeps_results(self) -> None:
        c = self.coll(3)
        self.c.vector.upsert_batch(c, [(f"p{i}", unit(1, i / 40, (i % 7) / 7), {"i": i}) for i in range(60)])
        self.c.vector.delete_batch(c, [f"p{i}" for i in range(0, 60, 3)])
        before = [h.id for h in self.c.vector.search(c, unit(1, 0.5, 0.5), k=10)]
        out = self.c.vector.vacuum(c)
        self.assertEqual((out["collection"], out["live_count"]), (c, 40))
        self.assertGreaterEqual(out["tombstones_removed"], 0)
        self.assertEqual([h.id for h in self.c.vector.search(c, unit(1, 0.5, 0.5), k=10)], before)
        with self.assertRaises(luma.NotFoundError):
            self.c.vector.vacuum(uniq("missing"))

    def test_events_of_vector_writes(self) -> None:
        c = self.coll(2)
        start = int(self.c.health()["last_offset"])
        self.c.vector.add(c, "a", [1, 0], meta={"k": 1})
        self.c.vector.update(c, "a", meta={"k": 2})
        self.c.vector.delete(c, "a")
        evs = list(self.c.stream.events(since=start, collection=c, limit=3))
        self.assertEqual([e.type for e in evs], ["vector_added", "vector_updated", "vector_deleted"])
        self.assertEqual({e.collection for e in evs}, {c})
        self.assertEqual(evs[1].data["meta"], {"k": 2})


class VectorLimitsTest(unittest.TestCase):
    def test_meta_too_large(self) -> None:
        with Server(args=["--max-json-mb", "0.001"]) as srv, luma.Client(srv.url) as c:
            with route_or_skip(self):
                c.vector.create_collection("m", dim=2)
            with self.assertRaises(luma.PayloadTooLargeError) as cm:
                c.vector.upsert("m", "a", [1, 0], meta={"x": "y" * 5000})
            self.assertEqual(cm.exception.message, "meta too large")


if __name__ == "__main__":
    unittest.main()
