"""The event stream (Server-Sent Events): ``client.stream``.

:meth:`StreamAPI.events` returns an :class:`EventStream`, an iterator of
:class:`~luma.models.Event` and :class:`~luma.models.Gap` objects that

* replays the retained log from ``since`` and then follows live events;
* reconnects after a dropped connection (server restart, network error,
  read timeout) with ``Last-Event-ID`` set to the last offset it yielded,
  so nothing is lost and nothing is yielded twice (it also skips any
  offset it has already yielded);
* yields ``gap`` notices as :class:`~luma.models.Gap` objects (offsets no
  longer retained, or dropped for a slow reader) instead of hiding them;
* ignores ``:keepalive`` comments.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import time
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Union

from .errors import LumaConnectionError, UnavailableError
from .models import Event, Gap

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["StreamAPI", "EventStream", "SSEMessage", "SSEParser", "StreamItem"]

StreamItem = Union[Event, Gap]


class SSEMessage:
    """One dispatched SSE message: ``event`` (default ``"message"``),
    ``id`` (``None`` when the message had no ``id:`` line) and ``data``."""

    __slots__ = ("event", "id", "data")

    def __init__(self, event: str, id: Optional[str], data: str) -> None:
        self.event = event
        self.id = id
        self.data = data

    def __repr__(self) -> str:
        return f"SSEMessage(event={self.event!r}, id={self.id!r}, data={self.data[:80]!r})"


class SSEParser:
    """Incremental parser of the ``text/event-stream`` format (WHATWG
    rules: ``field:value`` with one optional space after the colon,
    comments start with ``:``, a blank line dispatches, ``data`` lines
    join with ``\\n``)."""

    def __init__(self) -> None:
        self._event = ""
        self._id: Optional[str] = None
        self._data: List[str] = []
        self._has = False

    def feed_line(self, line: str) -> Optional[SSEMessage]:
        """Feed one line (without its line ending); returns a message when
        the line completes one."""
        if line == "":
            if not self._has:
                return None
            msg = SSEMessage(self._event or "message", self._id, "\n".join(self._data))
            self._event, self._id, self._data, self._has = "", None, [], False
            return msg
        if line.startswith(":"):
            return None  # comment (keep-alive)
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id = value
        else:
            return None  # retry and unknown fields
        self._has = True
        return None


def to_item(msg: SSEMessage) -> Optional[StreamItem]:
    """Turn an SSE message of the Luma stream into an Event or Gap."""
    try:
        payload: Any = json.loads(msg.data) if msg.data else {}
    except ValueError:
        payload = None
    if msg.event == "gap":
        p = payload if isinstance(payload, dict) else {}
        return Gap(int(p.get("from_offset") or 0), int(p.get("to_offset") or 0), int(p.get("dropped") or 0), p)
    if not isinstance(payload, dict):
        return None
    offset = payload.get("offset")
    if offset is None and msg.id is not None and msg.id.isdigit():
        offset = int(msg.id)
    if offset is None:
        return None
    data = payload.get("data")
    return Event(
        str(payload.get("type") or msg.event),
        int(offset),
        int(payload.get("ts_ms") or 0),
        data if isinstance(data, dict) else {},
        payload,
    )


class EventStream(Iterator[StreamItem]):
    """An iterator over the event stream with automatic, lossless resume.

    Use it in a ``for`` loop or a ``with`` block; :meth:`close` (from any
    thread) ends the iteration. Iterate from one thread at a time.

    Attributes:
        last_offset: the offset of the last event yielded (or the resume
            point after a gap), ``None`` before the first.
        reconnects: how many times the stream reconnected.
    """

    def __init__(
        self,
        client: "Client",
        path: str,
        params: Dict[str, Any],
        since: Optional[int],
        reconnect: bool,
        max_reconnect_attempts: Optional[int],
        read_timeout: Optional[float],
        idle_timeout: Optional[float],
        limit: Optional[int],
    ) -> None:
        self._c = client
        self._path = path
        self._params = params
        self.last_offset: Optional[int] = since
        self._reconnect = reconnect
        self._max_attempts = max_reconnect_attempts
        self._read_timeout = read_timeout
        self._idle_timeout = idle_timeout
        self._limit = limit
        self._yielded = 0
        self._conn: Optional[http.client.HTTPConnection] = None
        self._resp: Optional[http.client.HTTPResponse] = None
        self._parser = SSEParser()
        self._closed = False
        self._last_item_at = time.monotonic()
        self._started = False
        self.reconnects = 0

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self._drop()
        except Exception:
            pass

    def close(self) -> None:
        """End the stream (safe from another thread: a blocked read returns)."""
        self._closed = True
        conn = self._conn
        if conn is not None and conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def closed(self) -> bool:
        return self._closed

    def _drop(self) -> None:
        conn, self._conn, self._resp = self._conn, None, None
        self._parser = SSEParser()
        if conn is not None:
            conn.close()

    def _connect(self) -> None:
        params = dict(self._params)
        headers: Dict[str, str] = {}
        if self.last_offset is not None:
            params["since"] = self.last_offset
            headers["Last-Event-ID"] = str(self.last_offset)
        sock_timeout = self._read_timeout
        if self._idle_timeout is not None and (sock_timeout is None or self._idle_timeout < sock_timeout):
            sock_timeout = self._idle_timeout
        self._conn, self._resp = self._c._transport.open_stream(self._path, params, headers, sock_timeout)
        self._parser = SSEParser()

    def _connect_with_retry(self) -> None:
        """Connect; retry connection failures and 503 with backoff (the
        first connection uses the client's retry budget, reconnects use
        ``max_reconnect_attempts``)."""
        limit = self._max_attempts if self._started else self._c._transport.max_retries
        attempt = 0
        while True:
            if self._closed:
                raise StopIteration
            try:
                self._connect()
                self._started = True
                return
            except (LumaConnectionError, UnavailableError):
                if limit is not None and attempt >= limit:
                    raise
            delay = min(self._c._transport.backoff_max, self._c._transport.backoff * (2 ** attempt))
            time.sleep(delay / 2 + random.uniform(0, delay / 2))
            attempt += 1

    # -- iteration -----------------------------------------------------------

    def __iter__(self) -> "EventStream":
        return self

    def __next__(self) -> StreamItem:
        while True:
            if self._closed or (self._limit is not None and self._yielded >= self._limit):
                self._closed = True
                self._drop()
                raise StopIteration
            if self._resp is None:
                try:
                    self._connect_with_retry()
                except StopIteration:
                    self._drop()
                    raise
                self._last_item_at = time.monotonic()
            try:
                item = self._read_item()
            except (OSError, http.client.HTTPException, ValueError) as e:
                timed_out = isinstance(e, (socket.timeout, TimeoutError))
                self._drop()
                if self._closed:
                    raise StopIteration
                if timed_out and self._idle_timeout is not None and time.monotonic() - self._last_item_at >= self._idle_timeout:
                    self._closed = True
                    raise StopIteration
                if not self._reconnect:
                    self._closed = True
                    raise LumaConnectionError(f"stream dropped: {type(e).__name__}: {e}") from e
                self.reconnects += 1
                continue
            if item is None:
                continue
            self._last_item_at = time.monotonic()
            self._yielded += 1
            return item

    def _read_item(self) -> Optional[StreamItem]:
        """Read until one item is ready. Raises ConnectionError at EOF."""
        resp = self._resp
        assert resp is not None
        while True:
            raw = resp.readline(1 << 24)
            if not raw:
                raise ConnectionResetError("stream closed by the server")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            msg = self._parser.feed_line(line)
            if msg is None:
                continue
            item = to_item(msg)
            if item is None:
                continue
            if isinstance(item, Gap):
                # Resume after the gap: a reconnect must not ask for the
                # missing range again (it would get the same gap twice).
                if self.last_offset is None or item.to_offset > self.last_offset:
                    self.last_offset = item.to_offset
                return item
            if self.last_offset is not None and item.offset <= self.last_offset:
                continue  # already yielded before a reconnect
            self.last_offset = item.offset
            return item


class StreamAPI:
    """``client.stream``: subscribe to the event log."""

    def __init__(self, client: "Client") -> None:
        self._c = client

    def events(
        self,
        since: Union[int, str, None] = None,
        types: Union[str, Sequence[str], None] = None,
        key_prefix: Optional[str] = None,
        collection: Optional[str] = None,
        *,
        reconnect: bool = True,
        max_reconnect_attempts: Optional[int] = 10,
        read_timeout: Optional[float] = 60.0,
        idle_timeout: Optional[float] = None,
        limit: Optional[int] = None,
    ) -> EventStream:
        """Subscribe to events with offset > ``since``.

        Args:
            since: an offset; ``None`` replays everything retained;
                ``"now"`` starts after the server's current last offset.
            types: event types (list or comma-separated string).
            key_prefix: only events whose ``data.key`` starts with it.
            collection: only events whose ``data.collection`` equals it.
            reconnect: resume automatically after a dropped connection.
            max_reconnect_attempts: consecutive failed reconnects before
                :class:`LumaConnectionError` is raised (``None``: forever).
            read_timeout: seconds without any byte (the server sends a
                keep-alive every 15 s) before the connection is considered
                dead and reopened.
            idle_timeout: end the iteration after this many seconds without
                an event (useful to drain the backlog and stop).
            limit: end the iteration after this many items.

        Returns:
            An :class:`EventStream` (iterate it; close it when done). The
            connection opens on the first ``next()``.
        """
        start: Optional[int]
        if since == "now":
            start = int(self._c.health().raw.get("last_offset") or 0)
        elif since is None:
            start = None
        else:
            start = int(since)
        params: Dict[str, Any] = {}
        if types:
            params["types"] = types if isinstance(types, str) else ",".join(types)
        if key_prefix is not None:
            params["key_prefix"] = key_prefix
        if collection is not None:
            params["collection"] = collection
        return EventStream(self._c, "/v1/stream", params, start, reconnect, max_reconnect_attempts, read_timeout, idle_timeout, limit)

    def events_legacy(
        self,
        since: Optional[int] = None,
        types: Union[str, Sequence[str], None] = None,
        prefix: Optional[str] = None,
        **kwargs: Any,
    ) -> EventStream:
        """The deprecated ``GET /v1/events`` spelling (``prefix`` instead of
        ``key_prefix``, no ``collection``); same iterator."""
        params: Dict[str, Any] = {}
        if types:
            params["types"] = types if isinstance(types, str) else ",".join(types)
        if prefix is not None:
            params["prefix"] = prefix
        return EventStream(
            self._c, "/v1/events", params, since,
            kwargs.get("reconnect", True), kwargs.get("max_reconnect_attempts", 10),
            kwargs.get("read_timeout", 60.0), kwargs.get("idle_timeout"), kwargs.get("limit"),
        )

    def raw(
        self,
        since: Optional[int] = None,
        types: Union[str, Sequence[str], None] = None,
        key_prefix: Optional[str] = None,
        collection: Optional[str] = None,
        read_timeout: Optional[float] = 60.0,
    ) -> Iterator[SSEMessage]:
        """The raw SSE messages of one connection (no reconnect, no
        decoding): for debugging and for tools that re-serve the stream."""
        params: Dict[str, Any] = {}
        if since is not None:
            params["since"] = int(since)
        if types:
            params["types"] = types if isinstance(types, str) else ",".join(types)
        if key_prefix is not None:
            params["key_prefix"] = key_prefix
        if collection is not None:
            params["collection"] = collection
        conn, resp = self._c._transport.open_stream("/v1/stream", params, None, read_timeout)
        parser = SSEParser()
        try:
            while True:
                raw = resp.readline(1 << 24)
                if not raw:
                    return
                msg = parser.feed_line(raw.decode("utf-8", "replace").rstrip("\r\n"))
                if msg is not None:
                    yield msg
        finally:
            conn.close()

