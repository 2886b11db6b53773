"""HTTP transport: a thread-safe keep-alive connection pool over
``http.client``, JSON encoding, typed errors and retries.

Retry policy (documented in docs/SDK_PYTHON.md):

* A request whose connection could not even be opened (refused, DNS,
  connect timeout) sent nothing, so it is retried whatever its method.
* Idempotent requests (GET, PUT, DELETE, and POSTs the SDK marks as reads:
  searches, ``find``, SQL ``query``) are also retried on errors after
  sending (reset, timeout, closed without answer) and on HTTP 503.
* Other POSTs are never retried once sent: their outcome is unknown.

Waits grow exponentially (``backoff * 2**attempt``, capped at
``backoff_max``) with random jitter; a ``Retry-After`` header on a 503 is
honoured up to ``backoff_max``.
"""

from __future__ import annotations

import http.client
import json
import random
import select
import socket
import ssl
import threading
import time
from collections import deque
from typing import Any, Deque, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlencode, urlsplit

from ._version import __version__
from .errors import LumaConnectionError, LumaError, LumaTimeoutError, error_from_response

__all__ = ["Transport", "Response", "seg", "UNSET"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

ParamValue = Union[None, str, int, float, bool, Sequence[str]]


def seg(value: str) -> str:
    """Percent-encode one path segment (a ``/`` becomes ``%2F``)."""
    if not isinstance(value, str):
        raise TypeError(f"path segment must be a str, got {type(value).__name__}")
    return quote(value, safe=":@!$'()*+,;=")


def encode_json(value: Any) -> bytes:
    """Compact JSON. NaN and infinities raise ``ValueError`` (the server only
    accepts standard JSON)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default).encode("utf-8")


def _default(o: Any) -> Any:
    # numpy arrays and scalars, array.array, memoryviews of floats...
    tolist = getattr(o, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    item = getattr(o, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class Response:
    """A finished HTTP answer."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The decoded body if it is JSON (by content type), else the text
        (``None`` for an empty body) — the original SDK's rule."""
        if self.content_type.startswith("application/json"):
            return json.loads(self.body.decode("utf-8")) if self.body else None
        return self.text if self.body else None


class _ConnectFailed(Exception):
    """Opening the connection failed: nothing was sent."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def encode_params(params: Optional[Mapping[str, ParamValue]]) -> str:
    if not params:
        return ""
    pairs: List[Tuple[str, str]] = []
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, bool):
            pairs.append((k, "true" if v else "false"))
        elif isinstance(v, (list, tuple, set, frozenset)):
            pairs.append((k, ",".join(str(x) for x in v)))
        else:
            pairs.append((k, str(v)))
    return urlencode(pairs)


class Transport:
    """Sends requests to one Luma server over pooled keep-alive connections.

    Thread-safe: each request borrows an idle connection (or opens one) and
    returns it when the answer has been read in full.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        timeout: Optional[float] = 30.0,
        max_retries: int = 3,
        backoff: float = 0.2,
        backoff_max: float = 5.0,
        pool_size: int = 10,
        headers: Optional[Mapping[str, str]] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be http://host[:port] or https://..., got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/")
        self.api_key = api_key or None
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.pool_size = max(1, int(pool_size))
        self.ssl_context = ssl_context
        self.default_headers: Dict[str, str] = {
            "User-Agent": f"luma-python/{__version__}",
            "Accept": "application/json",
        }
        if self.api_key:
            self.default_headers["Authorization"] = f"Bearer {self.api_key}"
        if headers:
            self.default_headers.update(headers)
        self._idle: Deque[http.client.HTTPConnection] = deque()
        self._lock = threading.Lock()  # guards _idle and _closed
        self._closed = False

    # -- connections ---------------------------------------------------

    def new_connection(self, timeout: Optional[float]) -> http.client.HTTPConnection:
        if self.scheme == "https":
            ctx = self.ssl_context or ssl.create_default_context()
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def _acquire(self) -> http.client.HTTPConnection:
        with self._lock:
            if self._closed:
                raise LumaError("closed", "the client is closed")
            while self._idle:
                conn = self._idle.pop()
                if not _is_dropped(conn):
                    return conn
                conn.close()
        return self.new_connection(self.timeout)

    def _release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.pool_size:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close idle connections; connections in use close when released."""
        with self._lock:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for c in idle:
            c.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __del__(self) -> None:
        # A client dropped without close(): release its idle sockets now
        # rather than at garbage collection of each connection.
        try:
            for c in list(self._idle):
                c.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    # -- requests ------------------------------------------------------

    def url(self, path: str, params: Optional[Mapping[str, ParamValue]] = None) -> str:
        qs = encode_params(params)
        return self.base_path + path + ("?" + qs if qs else "")

    def headers_for(self, extra: Optional[Mapping[str, str]], has_body: bool) -> Dict[str, str]:
        h = dict(self.default_headers)
        if has_body:
            h["Content-Type"] = "application/json"
        if extra:
            h.update(extra)
        return h

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, ParamValue]] = None,
        json_body: Any = UNSET,
        headers: Optional[Mapping[str, str]] = None,
        idempotent: Optional[bool] = None,
        timeout: Optional[float] = UNSET,
        max_retries: Optional[int] = None,
    ) -> Response:
        """Send one request (with retries as the module doc says) and return
        the answer; a status >= 400 raises the typed :class:`LumaError`."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        body = None if json_body is UNSET else encode_json(json_body)
        hdrs = self.headers_for(headers, body is not None)
        url = self.url(path, params)
        tmo = self.timeout if timeout is UNSET else timeout
        retries = self.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            retry_after: Optional[float] = None
            try:
                resp = self._once(method, url, body, hdrs, tmo)
            except _ConnectFailed as e:
                err: BaseException = e.cause
                retryable = True
            except (OSError, http.client.HTTPException) as e:
                err = e
                retryable = idempotent
            else:
                if resp.status < 400:
                    return resp
                if resp.status == 503 and idempotent and attempt < retries:
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
                    time.sleep(self._delay(attempt, retry_after))
                    attempt += 1
                    continue
                raise error_from_response(resp.status, resp.content_type, resp.body, resp.headers.get("X-Request-ID"))
            if not retryable or attempt >= retries:
                raise _to_luma_error(err, method, self.base_url + url) from err
            time.sleep(self._delay(attempt, None))
            attempt += 1

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        base = min(self.backoff_max, self.backoff * (2 ** attempt))
        return base / 2 + random.uniform(0, base / 2)

    def _once(self, method: str, url: str, body: Optional[bytes], headers: Mapping[str, str], timeout: Optional[float]) -> Response:
        conn = self._acquire()
        if conn.sock is None:
            conn.timeout = timeout
            try:
                conn.connect()
            except OSError as e:
                conn.close()
                raise _ConnectFailed(e) from e
            _nodelay(conn)
        else:
            conn.sock.settimeout(timeout)
        try:
            conn.request(method, url, body=body, headers=dict(headers))
            r = conn.getresponse()
            data = r.read()
        except BaseException:
            conn.close()
            raise
        if r.will_close:
            conn.close()
        else:
            self._release(conn)
        return Response(r.status, r.headers, data)

    def open_stream(
        self,
        path: str,
        params: Optional[Mapping[str, ParamValue]],
        headers: Optional[Mapping[str, str]],
        read_timeout: Optional[float],
    ) -> Tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Open a long-lived GET (SSE) on its own connection. Non-200 answers
        raise the typed error; connection failures raise
        :class:`LumaConnectionError`."""
        if self._closed:
            raise LumaError("closed", "the client is closed")
        url = self.url(path, params)
        hdrs = self.headers_for(headers, False)
        hdrs["Accept"] = "text/event-stream"
        hdrs["Cache-Control"] = "no-cache"
        conn = self.new_connection(self.timeout)
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(read_timeout)
            conn.request("GET", url, headers=hdrs)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise _to_luma_error(e, "GET", self.base_url + url) from e
        if resp.status != 200:
            try:
                data = resp.read()
            except (OSError, http.client.HTTPException):
                data = b""
            conn.close()
            raise error_from_response(resp.status, (resp.headers.get("Content-Type") or "").lower(), data, resp.headers.get("X-Request-ID"))
        return conn, resp


def _nodelay(conn: http.client.HTTPConnection) -> None:
    """Small requests and answers should not wait for delayed ACKs."""
    if conn.sock is not None:
        try:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def _is_dropped(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive connection that is readable has been closed by the
    server (or is out of sync): it must not be reused."""
    sock = conn.sock
    if sock is None:
        return False  # never connected: fine to use
    try:
        r, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(r)


def _retry_after(v: Optional[str]) -> Optional[float]:
    if not v:
        return None
    try:
        return max(0.0, float(v))
    except ValueError:
        return None


def _to_luma_error(err: BaseException, method: str, url: str) -> LumaError:
    if isinstance(err, LumaError):
        return err
    if isinstance(err, socket.timeout) or isinstance(err, TimeoutError):
        return LumaTimeoutError(f"{method} {url}: timed out ({err})")
    return LumaConnectionError(f"{method} {url}: {type(err).__name__}: {err}")


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
