"""client.sql against a real server."""

from __future__ import annotations

import unittest

from tests._server import Server, route_or_skip, shared_server, uniq

import luma


class SQLTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.c = luma.Client(shared_server().url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.close()

    def table(self) -> str:
        t = uniq("notes")
        with route_or_skip(self):
            self.c.sql.execute(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, body TEXT, score REAL, data BLOB, flag INTEGER)")
        return t

    def test_exec_query_types(self) -> None:
        t = self.table()
        r = self.c.sql.execute(f"INSERT INTO {t}(body, score, data, flag) VALUES (?, ?, x'00ff', ?)", ["hello", 1.5, True])
        self.assertEqual(r.rows_affected, 1)
        self.assertEqual(r.last_insert_id, 1)
        self.c.sql.exec(f"INSERT INTO {t}(body) VALUES (:b)", {"b": "named"})  # the original's examples say exec
        rows = self.c.sql.query(f"SELECT id, body, score, data, flag FROM {t} ORDER BY id")
        self.assertEqual(rows[0], {"id": 1, "body": "hello", "score": 1.5, "data": "AP8", "flag": 1})
        self.assertEqual(rows[1]["body"], "named")
        self.assertIsNone(rows[1]["score"])
        self.assertEqual(self.c.sql.query_one(f"SELECT count(*) AS n FROM {t} WHERE body = ?", ["named"]), {"n": 1})
        self.assertIsNone(self.c.sql.query_one(f"SELECT * FROM {t} WHERE id = ?", [99]))
        res = self.c.sql.select(f"SELECT id, body FROM {t} WHERE id > ?", [100])
        self.assertEqual((res.columns, res.rows, len(res)), (["id", "body"], [], 0))
        self.assertEqual(self.c.sql.execute(f"DROP TABLE {t}").rows_affected, 0)

    def test_batch_is_one_transaction(self) -> None:
        t = self.table()
        r = self.c.sql.batch([
            (f"INSERT INTO {t}(body) VALUES (?)", ["a"]),
            {"sql": f"INSERT INTO {t}(body) VALUES (?)", "params": ["b"]},
            f"UPDATE {t} SET flag = 1",
        ])
        self.assertEqual(r.rows_affected, 4)
        self.assertEqual([x["rows_affected"] for x in r.results], [1, 1, 2])
        with self.assertRaises(luma.SQLiteError):
            self.c.sql.transaction([(f"INSERT INTO {t}(body) VALUES (?)", ["c"]), "INSERT INTO no_such_table VALUES (1)"])
        self.assertEqual(self.c.sql.query(f"SELECT count(*) AS n FROM {t}")[0]["n"], 2)  # nothing applied

    def test_errors(self) -> None:
        t = self.table()
        with self.assertRaises(luma.InvalidArgumentError) as cm:
            self.c.sql.query(f"DELETE FROM {t}")
        self.assertEqual(cm.exception.status, 400)
        with self.assertRaises(luma.SQLiteError) as cm:
            self.c.sql.query("SELECT * FROM no_such_table")
        self.assertEqual((cm.exception.code, cm.exception.status), ("sqlite_error", 400))
        self.assertIn("no such table", str(cm.exception))
        with self.assertRaises(luma.LumaError):
            self.c.sql.execute(f"INSERT INTO {t}(body) VALUES (?, ?)", ["only one"])

    def test_sql_exec_event(self) -> None:
        t = self.table()
        start = int(self.c.health()["last_offset"])
        self.c.sql.execute(f"INSERT INTO {t}(body) VALUES ('e')")
        evs = list(self.c.stream.events(since=start, types=["sql_exec"], limit=1))
        self.assertEqual(evs[0].type, "sql_exec")
        self.assertEqual(evs[0].data.get("rows_affected"), 1)


class SQLDisabledTest(unittest.TestCase):
    def test_not_enabled(self) -> None:
        with Server(args=["--no-sqlite"]) as srv, luma.Client(srv.url) as c:
            with self.assertRaises(luma.NotEnabledError) as cm:
                with route_or_skip(self):
                    c.sql.query("SELECT 1")
            self.assertEqual((cm.exception.status, str(cm.exception)), (404, "not_enabled - sqlite module is disabled"))


if __name__ == "__main__":
    unittest.main()
