"""client.query, the hybrid query: RAG with permissions in one call,
checked against the same steps done separately."""

from __future__ import annotations

import unittest

from tests._server import Server, route_or_skip, shared_server, uniq

import luma

CHUNKS = {
    # id: (vector, doc)
    "c1": ([1.0, 0.0, 0.0], "d1"),
    "c2": ([0.95, 0.05, 0.0], "d2"),
    "c3": ([0.9, 0.1, 0.0], "d1"),
    "c4": ([0.85, 0.15, 0.05], "d3"),
    "c5": ([0.8, 0.2, 0.0], "d2"),
    "c6": ([0.7, 0.3, 0.1], "d4"),
    "c7": ([0.6, 0.4, 0.0], "d1"),
    "c8": ([0.5, 0.5, 0.2], "d4"),
}


class HybridQueryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.c = luma.Client(shared_server().url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.close()

    def setUp(self) -> None:
        self.kb, self.acl, self.docs, self.views = uniq("kb"), uniq("acl"), uniq("kbdocs"), uniq("views")
        self.c.vector.create_collection(self.kb, dim=3)
        self.c.vector.upsert_batch(self.kb, [(i, v, {"doc_id": d, "text": f"chunk {i}"}) for i, (v, d) in CHUNKS.items()])
        self.c.sql.execute(f"CREATE TABLE {self.acl} (user_id TEXT, doc_id TEXT)")
        self.c.sql.batch([(f"INSERT INTO {self.acl} VALUES (?, ?)", [u, d]) for u, d in [("u1", "d2"), ("u1", "d4"), ("u2", "d1")]])
        for d in ("d1", "d2", "d3", "d4"):
            self.c.doc.put(self.docs, d, {"title": f"Document {d}"})
        self.c.state.put(f"{self.views}:d2", 5)

    def q(self, **kw):  # type: ignore[no-untyped-def]
        with route_or_skip(self):
            return self.c.query(self.kb, [1, 0, 0], **kw)

    def test_vector_stage_alone_equals_search(self) -> None:
        res = self.q(k=4)
        direct = self.c.vector.search(self.kb, [1, 0, 0], k=4)
        self.assertEqual([(h.id, h.score) for h in res], [(h.id, h.score) for h in direct])
        self.assertEqual(res.hits[0].meta["doc_id"], "d1")
        self.assertIsNone(res.audit_offset)
        self.assertIsNone(res.hits[0].doc)
        self.assertEqual(res.stages["vector_candidates"], 4)
        self.assertIsNone(res.stages["sql_kept"])

    def test_sql_predicate_matches_the_separate_steps(self) -> None:
        sql = f"SELECT doc_id AS id FROM {self.acl} WHERE user_id = ?"
        res = self.q(k=3, sql=sql, params=["u1"], sql_id_from="meta.doc_id")
        # The same steps, one by one.
        permitted = {r["id"] for r in self.c.sql.query(sql, ["u1"])}
        every = self.c.vector.search(self.kb, [1, 0, 0], k=len(CHUNKS))
        expected = [h.id for h in every if h.meta["doc_id"] in permitted][:3]
        self.assertEqual([h.id for h in res], expected)
        self.assertEqual(expected, ["c2", "c5", "c6"])
        self.assertGreaterEqual(res.stages["sql_kept"], 3)
        self.assertGreaterEqual(res.stages["rounds"], 1)
        # Named :ids binding: the candidates' keys as a JSON array.
        ids_sql = f"SELECT value AS id FROM json_each(:ids) WHERE value IN (SELECT doc_id FROM {self.acl} WHERE user_id = :u)"
        res2 = self.q(k=3, sql=ids_sql, params={"u": "u1"}, sql_id_from="meta.doc_id")
        self.assertEqual([h.id for h in res2], expected)
        # Nobody has rights: nothing comes back.
        self.assertEqual(len(self.q(k=3, sql=sql, params=["nobody"], sql_id_from="meta.doc_id")), 0)

    def test_enrichment_and_audit(self) -> None:
        p = uniq("audit") + ":"
        res = self.q(
            k=2, sql=f"SELECT doc_id FROM {self.acl} WHERE user_id = 'u1'", sql_id_from="meta.doc_id",
            enrich_doc=self.docs, doc_id_from="meta.doc_id",
            enrich_state=self.views + ":{id}", state_id_from="meta.doc_id",
            audit="rag.retrieval", audit_key=p + "u1", audit_payload={"user": "u1"},
        )
        self.assertEqual([h.id for h in res], ["c2", "c5"])
        self.assertEqual(res.hits[0].doc.doc, {"title": "Document d2"})  # type: ignore[union-attr]
        self.assertEqual(res.hits[0].state.value, 5)  # type: ignore[union-attr]
        self.assertIsNotNone(res.audit_offset)
        ev = next(self.c.stream.events(since=res.audit_offset - 1, key_prefix=p))  # type: ignore[operator]
        self.assertEqual((ev.type, ev.offset, ev.key), ("rag.retrieval", res.audit_offset, p + "u1"))
        self.assertIn("c2", str(ev.data))
        self.assertIn("u1", str(ev.data))
        # A missing document or state item is None.
        res = self.q(k=1, enrich_doc=uniq("nodocs"), enrich_state="none:{id}", audit={"type": "rag.retrieval"})
        self.assertIsNone(res.hits[0].doc)
        self.assertIsNone(res.hits[0].state)
        self.assertIsNotNone(res.audit_offset)

    def test_errors(self) -> None:
        with route_or_skip(self):
            self.c.query(self.kb, [1, 0, 0], k=1)
        with self.assertRaises(luma.NotFoundError):
            self.c.query(uniq("nope"), [1, 0, 0], k=1)
        with self.assertRaises(luma.DimMismatchError):
            self.c.query(self.kb, [1, 0], k=1)
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.query(self.kb, [1, 0, 0], k=1, sql=f"DELETE FROM {self.acl}")
        with self.assertRaises(luma.SQLiteError):
            self.c.query(self.kb, [1, 0, 0], k=1, sql="SELECT id FROM no_such_table")
        with self.assertRaises(luma.InvalidArgumentError):
            self.c.query(self.kb, [1, 0, 0], k=1, audit="state_updated")
        self.assertEqual(self.c.sql.query(f"SELECT count(*) AS n FROM {self.acl}")[0]["n"], 3)


class HybridQueryRolesTest(unittest.TestCase):
    def test_reader_key_cannot_audit(self) -> None:
        with Server(api_key="admin") as srv, luma.Client(srv.url, api_key="admin") as admin:
            admin.vector.create_collection("kb", dim=2)
            admin.vector.upsert("kb", "a", [1, 0])
            reader = luma.Client(srv.url, api_key=admin.auth.create("r", role="reader").key)
            with route_or_skip(self):
                self.assertEqual([h.id for h in reader.query("kb", [1, 0], k=1)], ["a"])
            with self.assertRaises(luma.ForbiddenError):
                reader.query("kb", [1, 0], k=1, audit="rag.retrieval")
            reader.close()


class HybridQuerySQLOffTest(unittest.TestCase):
    def test_sql_stage_needs_sqlite(self) -> None:
        with Server(args=["--no-sqlite"]) as srv, luma.Client(srv.url) as c:
            c.vector.create_collection("kb", dim=2)
            with route_or_skip(self):
                c.query("kb", [1, 0], k=1)
            with self.assertRaises(luma.NotEnabledError):
                c.query("kb", [1, 0], k=1, sql="SELECT 'a' AS id")


if __name__ == "__main__":
    unittest.main()
