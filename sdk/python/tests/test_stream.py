"""client.stream: replay, live, filters, lossless reconnect, gaps."""

from __future__ import annotations

import socket
import threading
import time
import unittest
from typing import List

from tests._server import Server, shared_server, uniq

import luma
from luma.stream import SSEParser, to_item


def offsets(items: List[object]) -> List[int]:
    return [i.offset for i in items if isinstance(i, luma.Event)]


class SSEParserTest(unittest.TestCase):
    def feed(self, text: str) -> list:
        p = SSEParser()
        out = []
        for line in text.split("\n"):
            m = p.feed_line(line.rstrip("\r"))
            if m is not None:
                out.append(m)
        return out

    def test_fields_comments_and_multiline_data(self) -> None:
        msgs = self.feed(":keepalive\n\nevent:state_updated\nid:7\ndata:{\"a\":\ndata: 1}\nretry:5\n\n: c\ndata:x\n\n")
        self.assertEqual(len(msgs), 2)
        self.assertEqual((msgs[0].event, msgs[0].id, msgs[0].data), ("state_updated", "7", '{"a":\n1}'))
        self.assertEqual((msgs[1].event, msgs[1].id, msgs[1].data), ("message", None, "x"))

    def test_crlf_and_space_after_colon(self) -> None:
        msgs = self.feed("event: gap\r\ndata: {\"from_offset\":2,\"to_offset\":5,\"dropped\":4}\r\n\r\n")
        item = to_item(msgs[0])
        self.assertIsInstance(item, luma.Gap)
        self.assertEqual((item.from_offset, item.to_offset, item.dropped), (2, 5, 4))

    def test_event_item(self) -> None:
        (m,) = self.feed('event:state_updated\nid:3\ndata:{"offset":3,"ts_ms":9,"type":"state_updated","data":{"key":"k"}}\n\n')
        ev = to_item(m)
        self.assertIsInstance(ev, luma.Event)
        self.assertEqual((ev.type, ev.offset, ev.ts_ms, ev.key, ev.id), ("state_updated", 3, 9, "k", "3"))


class StreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.srv = shared_server()
        cls.c = luma.Client(cls.srv.url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.close()

    def head(self) -> int:
        return int(self.c.health()["last_offset"])

    def test_replay_then_live(self) -> None:
        p = uniq("sr") + ":"
        start = self.head()
        for i in range(5):
            self.c.state.put(f"{p}{i}", i)
        got: List[luma.Event] = []
        with self.c.stream.events(since=start, key_prefix=p) as s:
            for ev in s:
                got.append(ev)
                if len(got) == 5:
                    threading.Thread(target=lambda: [self.c.state.put(f"{p}live{i}", i) for i in range(3)]).start()
                if len(got) == 8:
                    break
        self.assertEqual([e.key for e in got[:5]], [f"{p}{i}" for i in range(5)])
        self.assertEqual([e.key for e in got[5:]], [f"{p}live{i}" for i in range(3)])
        self.assertEqual(offsets(got), sorted(offsets(got)))
        self.assertTrue(all(e.type == "state_updated" for e in got))
        self.assertEqual(got[0].data["value"], 0)
        self.assertGreater(got[0].ts_ms, 0)

    def test_filters(self) -> None:
        p = uniq("sf") + ":"
        start = self.head()
        self.c.state.put(p + "a", 1)
        self.c.state.delete(p + "a")
        self.c.state.put(uniq("elsewhere"), 1)
        # The first event delivered is the delete: the earlier update and the
        # other key were filtered out.
        got = list(self.c.stream.events(since=start, types=["state_deleted"], key_prefix=p, limit=1))
        self.assertEqual([(e.type, e.key, e.data["reason"]) for e in got], [("state_deleted", p + "a", "explicit")])
        got = list(self.c.stream.events(since=start, types="state_updated,state_deleted", key_prefix=p, limit=2))
        self.assertEqual([e.type for e in got], ["state_updated", "state_deleted"])
        # The deprecated /v1/events spelling.
        got = list(self.c.stream.events_legacy(since=start, prefix=p, limit=2))
        self.assertEqual([e.key for e in got], [p + "a", p + "a"])

    def test_since_now_and_idle_timeout(self) -> None:
        p = uniq("now") + ":"
        self.c.state.put(p + "old", 1)
        s = self.c.stream.events(since="now", key_prefix=p, limit=1)
        self.c.state.put(p + "new", 1)
        self.assertEqual([e.key for e in s], [p + "new"])  # not the older key
        self.assertTrue(s.closed)
        # idle_timeout ends an iteration that has nothing to deliver.
        idle = self.c.stream.events(since="now", key_prefix=uniq("silent"), idle_timeout=0.3)
        self.assertEqual(list(idle), [])
        self.assertTrue(idle.closed)

    def test_close_from_another_thread(self) -> None:
        s = self.c.stream.events(since="now", key_prefix=uniq("never"))
        threading.Timer(0.3, s.close).start()
        self.assertEqual(list(s), [])

    def test_client_side_drop_resumes_without_loss(self) -> None:
        p = uniq("drop") + ":"
        start = self.head()
        for i in range(10):
            self.c.state.put(f"{p}{i:02d}", i)
        s = self.c.stream.events(since=start, key_prefix=p)
        got = [next(s) for _ in range(4)]
        # Cut the TCP connection under the iterator, as a network failure would.
        s._conn.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        for i in range(10, 15):
            self.c.state.put(f"{p}{i:02d}", i)
        for ev in s:
            got.append(ev)
            if len(got) == 15:
                break
        s.close()
        self.assertEqual([e.key for e in got], [f"{p}{i:02d}" for i in range(15)])
        self.assertEqual(len(set(offsets(got))), 15)
        self.assertGreaterEqual(s.reconnects, 1)

    def test_read_timeout_reconnects_silently(self) -> None:
        p = uniq("rt") + ":"
        start = self.head()
        s = self.c.stream.events(since=start, key_prefix=p, read_timeout=0.3)
        got: List[luma.Event] = []

        def writer() -> None:
            for i in range(3):
                time.sleep(0.5)  # longer than the read timeout: forces reconnects
                self.c.state.put(f"{p}{i}", i)

        t = threading.Thread(target=writer)
        t.start()
        for ev in s:
            got.append(ev)
            if len(got) == 3:
                break
        s.close()
        t.join()
        self.assertEqual([e.key for e in got], [f"{p}{i}" for i in range(3)])
        self.assertGreaterEqual(s.reconnects, 1)

    def test_no_reconnect_raises(self) -> None:
        p = uniq("nr") + ":"
        start = self.head()
        self.c.state.put(p + "x", 1)
        s = self.c.stream.events(since=start, key_prefix=p, reconnect=False)
        next(s)
        s._conn.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        with self.assertRaises(luma.LumaConnectionError):
            next(s)

    def test_raw_messages(self) -> None:
        p = uniq("raw") + ":"
        start = self.head()
        self.c.state.put(p + "a", 1)
        msgs = self.c.stream.raw(since=start, types="state_updated", key_prefix=p)
        m = next(msgs)
        msgs.close()
        self.assertEqual((m.event, m.id), ("state_updated", str(start + 1)))
        self.assertIn('"key":"' + p + 'a"', m.data)
        ev = to_item(m)
        self.assertEqual(ev.to_dict()["type"], "state_updated")  # type: ignore[union-attr]
        self.assertEqual(list(ev.keys()), ["offset", "ts_ms", "type", "data"])  # type: ignore[union-attr]

    def test_bad_since_is_typed_error(self) -> None:
        with self.assertRaises(luma.InvalidArgumentError):
            next(self.c.stream.events(since=-1))


class StreamRestartTest(unittest.TestCase):
    """The server restarts (same data dir, same port) in the middle of a
    subscription: the iterator reconnects with Last-Event-ID and delivers
    every event exactly once."""

    def test_restart_no_loss_no_duplicates(self) -> None:
        srv = Server(memory=False).start()
        self.addCleanup(srv.close)
        c = luma.Client(srv.url, max_retries=10)
        self.addCleanup(c.close)
        total = 60
        for i in range(20):
            c.state.put(f"r:{i:03d}", i)
        got: List[luma.Event] = []
        done = threading.Event()
        err: List[BaseException] = []

        def reader() -> None:
            try:
                for ev in c.stream.events(since=0, key_prefix="r:", max_reconnect_attempts=None):
                    got.append(ev)
                    if len(got) == total:
                        break
            except BaseException as e:  # noqa: BLE001 - reported below
                err.append(e)
            finally:
                done.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        while len(got) < 10 and not done.is_set():
            time.sleep(0.01)
        srv.restart()
        for i in range(20, 40):
            c.state.put(f"r:{i:03d}", i)
        srv.restart()
        for i in range(40, total):
            c.state.put(f"r:{i:03d}", i)
        done.wait(60)
        self.assertEqual(err, [])
        self.assertEqual([e.key for e in got], [f"r:{i:03d}" for i in range(total)])
        self.assertEqual(offsets(got), sorted(set(offsets(got))))


class GapTest(unittest.TestCase):
    def test_gap_is_surfaced_once(self) -> None:
        with Server(args=["--retain-events", "5"]) as srv, luma.Client(srv.url) as c:
            for i in range(20):
                c.state.put(f"g:{i}", i)
            deadline = time.monotonic() + 30
            while int(c.health()["retention_floor"]) <= 2 and time.monotonic() < deadline:
                time.sleep(0.05)  # retention trims the log once a second
            s = c.stream.events(since=1)
            first = next(s)
            self.assertIsInstance(first, luma.Gap)
            self.assertEqual(first.from_offset, 2)
            self.assertGreaterEqual(first.to_offset, 2)
            self.assertGreater(first.dropped, 0)
            self.assertEqual(first.type, "gap")
            ev = next(s)
            self.assertIsInstance(ev, luma.Event)
            self.assertEqual(ev.offset, first.to_offset + 1)
            # A reconnect resumes after the gap: no second gap notice.
            s._conn.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
            rest = [next(s) for _ in range(20 - ev.offset)]
            s.close()
            self.assertTrue(all(isinstance(x, luma.Event) for x in rest))
            self.assertEqual(offsets([ev] + rest), list(range(ev.offset, 21)))


class HeartbeatTest(unittest.TestCase):
    def test_keepalive_comments_are_ignored(self) -> None:
        with Server(env={"SSE_HEARTBEAT_SECS": "1"}) as srv, luma.Client(srv.url) as c:
            raw = socket.create_connection(("127.0.0.1", srv.port))
            raw.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
            raw.settimeout(5)
            seen = b""
            while b":keepalive" not in seen:
                chunk = raw.recv(4096)
                if not chunk:
                    break
                seen += chunk
            raw.close()
            self.assertIn(b":keepalive", seen)  # the server does send them
            s = c.stream.events(since="now")
            threading.Timer(1.5, lambda: c.state.put("hb", 1)).start()
            ev = next(s)  # only the event: the keep-alive in between was skipped
            s.close()
            self.assertEqual((ev.type, ev.key), ("state_updated", "hb"))


if __name__ == "__main__":
    unittest.main()
