"""The Luma client."""

from __future__ import annotations

import ssl
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from ._transport import UNSET, ParamValue, Response, Transport
from .auth import AuthAPI
from .config import DEFAULT_TIMEOUT, Config
from .doc import DocAPI
from .events import EventsAPI
from .models import Health, HybridResult, QueryHit
from .search import SearchAPI
from .sql import SQLAPI
from .state import StateAPI
from .stream import StreamAPI
from .vector import VectorAPI, as_vector

__all__ = ["Client"]


class Client:
    """A connection to one Luma server.

    Example::

        import luma

        with luma.Client("http://127.0.0.1:9917") as db:
            db.state.put("user:42", {"name": "Ada"})
            print(db.state.get("user:42").value)

    Args:
        base_url: ``http(s)://host:port``; default from
            :meth:`Config.from_env` (``LUMA_URL``... or
            ``http://127.0.0.1:9917``).
        api_key: sent as ``Authorization: Bearer <key>``; ``None`` sends no
            key (fine for a server in local mode). Default from the
            environment when ``base_url`` is not given either.
        timeout: seconds per request (connect and each read).
        max_retries: retries of idempotent requests on connection errors and
            503 (see :mod:`luma._transport`).
        batch_size: largest vector batch per request (the server's
            ``MAX_VECTOR_BATCH``, 256 by default).
        max_k: the server's ``MAX_K`` (256 by default), used when the SDK
            over-fetches to group hits for a server that cannot.
        vector_b64: send vectors as ``vector_b64`` (base64 of little-endian
            float32: smaller bodies, much faster to encode and decode)
            instead of JSON number arrays. Luma extension: leave it off for
            the original server.
        pool_size: idle keep-alive connections kept.
        headers: extra headers on every request.

    Thread-safe: share one client between threads.

    Sub-APIs: :attr:`state`, :attr:`vector`, :attr:`doc`, :attr:`sql`,
    :attr:`stream`, :attr:`events`, :attr:`auth`, :attr:`search`.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        *,
        max_retries: int = 3,
        backoff: float = 0.2,
        backoff_max: float = 5.0,
        batch_size: int = 256,
        max_k: int = 256,
        vector_b64: bool = False,
        pool_size: int = 10,
        headers: Optional[Mapping[str, str]] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        if base_url is None:
            cfg = Config.from_env()
            base_url = cfg.base_url
            if api_key is None:
                api_key = cfg.api_key
        self._transport = Transport(
            base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            backoff_max=backoff_max,
            pool_size=pool_size,
            headers=headers,
            ssl_context=ssl_context,
        )
        self.batch_size = int(batch_size)
        self.max_k = int(max_k)
        self.vector_b64 = bool(vector_b64)
        self.state = StateAPI(self)
        self.vector = VectorAPI(self)
        self.doc = DocAPI(self)
        self.sql = SQLAPI(self)
        self.stream = StreamAPI(self)
        self.events = EventsAPI(self)
        self.auth = AuthAPI(self)
        self.search = SearchAPI(self)

    @classmethod
    def from_env(cls, env_path: Optional[str] = None, **kwargs: Any) -> "Client":
        """A client configured by :meth:`Config.from_env`."""
        return Config.from_env(env_path).create_client(**kwargs)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def api_key(self) -> Optional[str]:
        return self._transport.api_key

    @property
    def timeout(self) -> Optional[float]:
        return self._transport.timeout

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        """Close pooled connections (open streams are not affected)."""
        self._transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"luma.Client({self.base_url!r})"

    # -- raw access ----------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, ParamValue]] = None,
        json_body: Any = UNSET,
        idempotent: Optional[bool] = None,
    ) -> Response:
        return self._transport.request(method, path, params=params, json_body=json_body, idempotent=idempotent)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, ParamValue]] = None,
        json: Any = UNSET,
        idempotent: Optional[bool] = None,
        timeout: Optional[float] = UNSET,
    ) -> Any:
        """Send any request; returns the decoded JSON (or text, or ``None``
        for an empty body). Errors raise the typed :class:`LumaError`."""
        r = self._transport.request(method, path, params=params, json_body=json, idempotent=idempotent, timeout=timeout)
        return r.json()

    # -- system --------------------------------------------------------------

    def health(self) -> Health:
        """``GET /v1/health`` (needs no key): status, version, uptime, and
        Luma's ``last_offset``, ``retention_floor``, ``auth`` in ``raw``."""
        return Health.from_dict(self._request("GET", "/v1/health").json() or {})

    def ping(self) -> bool:
        """Whether the server answers its health check."""
        from .errors import LumaError

        try:
            return self.health().status == "ok"
        except LumaError:
            return False

    def metrics(self) -> str:
        """The Prometheus metrics text."""
        return self._request("GET", "/v1/metrics").text

    def metrics_dict(self) -> Dict[str, float]:
        """The metrics as ``{"series{labels}": value}`` (comments dropped)."""
        out: Dict[str, float] = {}
        for line in self.metrics().splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                continue
        return out

    def openapi(self) -> str:
        """The server's OpenAPI document (YAML text)."""
        return self._request("GET", "/openapi.yaml").text

    def openapi_json(self) -> Dict[str, Any]:
        """The server's OpenAPI document, decoded from ``/docs/openapi.json``."""
        return self._request("GET", "/docs/openapi.json").json() or {}

    def info(self) -> Dict[str, Any]:
        """``GET /v1/info``: version, uptime, data directory, modules
        (``auth``, ``sqlite``), log position and sizes, and ``counts``
        (state keys, documents per collection, vector collections and
        vectors; ``counts.exact`` is false when the scan stopped early)."""
        return self._request("GET", "/v1/info").json() or {}

    # -- hybrid query ----------------------------------------------------------

    def query(
        self,
        collection: str,
        vector: Sequence[float],
        k: int = 10,
        *,
        filters: Optional[Mapping[str, Any]] = None,
        ef: Optional[int] = None,
        include_meta: bool = True,
        include_vector: bool = False,
        sql: Optional[str] = None,
        params: Union[Sequence[Any], Mapping[str, Any], None] = None,
        sql_id_from: Optional[str] = None,
        enrich_doc: Optional[str] = None,
        doc_id_from: Optional[str] = None,
        enrich_state: Optional[str] = None,
        state_id_from: Optional[str] = None,
        audit: Union[str, Mapping[str, Any], None] = None,
        audit_key: Optional[str] = None,
        audit_payload: Any = None,
    ) -> HybridResult:
        """The hybrid query, in one round trip: vector search → SQL
        predicate → enrichment → audit event.

        Args:
            collection, vector, k, filters, ef, include_meta,
            include_vector: the vector stage (as :meth:`VectorAPI.search`).
            sql: one SELECT whose rows are the permitted keys (the column
                named ``id``, else the first column); a hit is kept when its
                key is permitted. The server over-fetches so that ``k`` hits
                come back whenever ``k`` permitted matches exist. A statement
                naming ``:ids`` gets the candidates' keys as a JSON array
                (for ``json_each(:ids)``; ``params`` must then be named).
            params: the statement's parameters (list or dict).
            sql_id_from: the hit's key for the SQL stage: ``None`` = its id,
                or ``"meta.<path>"`` (e.g. ``"meta.doc_id"``).
            enrich_doc: attach each hit's document from this document
                collection (``hit.doc``; id from ``doc_id_from``).
            enrich_state: attach each hit's state item; a key template
                such as ``"views:{id}"`` (``hit.state``; id from
                ``state_id_from``).
            audit: append one event naming the final ids: its type, or a
                dict ``{type, key?, payload?}`` (then ``audit_key`` and
                ``audit_payload`` are not used). Needs a writing key; the
                call is then never retried.

        Raises:
            NotFoundError: no such collection.
            SQLiteError / InvalidArgumentError: the statement failed or is
                not a read.
            NotEnabledError: an SQL stage on a server with SQLite off.
        """
        vstage: Dict[str, Any] = {"collection": collection, "k": int(k), "include_meta": bool(include_meta)}
        if self.vector_b64:
            from .vector import b64_vector

            vstage["vector_b64"] = b64_vector(vector)
        else:
            vstage["vector"] = as_vector(vector)
        if filters is not None:
            vstage["filters"] = filters
        if ef is not None:
            vstage["ef"] = int(ef)
        if include_vector:
            vstage["include_vector"] = True
        body: Dict[str, Any] = {"vector": vstage}
        if sql is not None:
            st: Dict[str, Any] = {"sql": sql}
            if params is not None:
                st["params"] = dict(params) if isinstance(params, Mapping) else list(params)
            if sql_id_from:
                st["id_from"] = sql_id_from
            body["sql"] = st
        enrich: Dict[str, Any] = {}
        if enrich_doc is not None:
            enrich["doc"] = {"collection": enrich_doc, **({"id_from": doc_id_from} if doc_id_from else {})}
        if enrich_state is not None:
            enrich["state"] = {"key_template": enrich_state, **({"id_from": state_id_from} if state_id_from else {})}
        if enrich:
            body["enrich"] = enrich
        if audit is not None:
            if isinstance(audit, Mapping):
                body["audit"] = dict(audit)
            else:
                a: Dict[str, Any] = {"type": audit}
                if audit_key is not None:
                    a["key"] = audit_key
                if audit_payload is not None:
                    a["payload"] = audit_payload
                body["audit"] = a
        r = self._request("POST", "/v1/query", json_body=body, idempotent=audit is None)
        data = r.json() or {}
        return HybridResult(
            [QueryHit.from_dict(h) for h in data.get("hits", [])],
            dict(data.get("stages") or {}),
            data.get("audit_offset"),
            data,
        )
