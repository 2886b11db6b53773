"""client.events.publish: custom events reach subscribers like built-in ones."""

from __future__ import annotations

import unittest

from tests._server import route_or_skip, shared_server, uniq

import luma


class PublishTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.c = luma.Client(shared_server().url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.close()

    def test_publish_and_receive(self) -> None:
        key = uniq("agent") + ":task"
        s = self.c.stream.events(since="now", key_prefix=key)
        with route_or_skip(self):
            r = self.c.events.publish("agent.task_done", {"ok": True, "n": 3}, key=key, collection="agents")
        self.assertGreater(r.offset, 0)
        self.assertIn("ts_ms", r)
        ev = next(s)
        s.close()
        self.assertEqual((ev.type, ev.offset, ev.key, ev.collection), ("agent.task_done", r.offset, key, "agents"))
        self.assertEqual(ev.data["payload"], {"ok": True, "n": 3})
        coll = list(self.c.stream.events(since=r.offset - 1, collection="agents", limit=1))
        self.assertEqual(coll[0].offset, r.offset)

    def test_reserved_and_invalid_types(self) -> None:
        with route_or_skip(self):
            self.c.events.publish("app.ping")
        for bad in ("state_updated", "gap", "has space", ""):
            with self.subTest(type=bad), self.assertRaises(luma.InvalidArgumentError):
                self.c.events.publish(bad, {})


if __name__ == "__main__":
    unittest.main()
