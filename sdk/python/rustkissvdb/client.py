"""The original SDK's ``Client`` and sub-APIs, on the Luma transport.

Signatures, argument names, defaults and return shapes follow the original
``rustkissvdb`` 0.1.0 (CONTRACT.md §8). Differences, all fixes: keys and
ids are percent-encoded in paths, idempotent calls are retried on
connection errors, and the stream resumes after a dropped connection.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import luma
from luma._transport import UNSET, Transport, seg
from luma.errors import LumaError
from luma.stream import EventStream

from .errors import RustKissVDBError, from_luma

__all__ = ["Client", "StateAPI", "VectorAPI", "DocAPI", "SQLAPI", "StreamAPI", "RustKissVDBError"]


class Client:
    """``Client(base_url, api_key=None, timeout=30.0)``.

    Sends ``Authorization: Bearer <api_key>`` only when a key is given.
    ``base_url=None`` reads the environment (see :class:`Config`), as the
    legacy RAG client did. ``openai_key`` configures :attr:`rag`.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: float = 30.0,
        openai_key: Optional[str] = None,
    ) -> None:
        if base_url is None:
            from .config import Config

            cfg = Config.from_env()
            base_url = cfg.base_url
            api_key = api_key if api_key is not None else cfg.api_key
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._luma = luma.Client(self.base_url, api_key=api_key, timeout=timeout)
        self._transport: Transport = self._luma._transport
        self._openai_key = openai_key
        self._rag: Any = None
        self.state = StateAPI(self)
        self.vector = VectorAPI(self)
        self.doc = DocAPI(self)
        self.sql = SQLAPI(self)
        self.stream = StreamAPI(self)

    # -- the original's public helpers ------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Dict[str, Any]] = None,
        json: Any = None,
        idempotent: Optional[bool] = None,
    ) -> Any:
        """Send a request; returns the decoded JSON (or the text for other
        content types). Status >= 400 raises :class:`RustKissVDBError`."""
        try:
            r = self._transport.request(
                method, path, params=params, json_body=UNSET if json is None else json, idempotent=idempotent
            )
        except LumaError as e:
            raise from_luma(e) from e
        return r.json()

    def health(self) -> Any:
        """``GET /v1/health``."""
        return self.request("GET", "/v1/health")

    def close(self) -> None:
        self._luma.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def rag(self) -> Any:
        """The legacy RAG helper (``initialize_collection``, ``ingest_text``,
        ``chat``); see :mod:`rustkissvdb.rag`."""
        if self._rag is None:
            from .rag import RAGClient

            self._rag = RAGClient(self.vector, openai_key=self._openai_key)
        return self._rag


class StateAPI:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(self, prefix: str = "", limit: int = 100) -> List[Dict[str, Any]]:
        return self._c.request("GET", "/v1/state", params={"prefix": prefix, "limit": limit})

    def get(self, key: str) -> Dict[str, Any]:
        return self._c.request("GET", "/v1/state/" + seg(key))

    def put(self, key: str, value: Any, ttl_ms: Optional[int] = None, if_revision: Optional[int] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"value": value}
        if ttl_ms is not None:
            body["ttl_ms"] = ttl_ms
        if if_revision is not None:
            body["if_revision"] = if_revision
        return self._c.request("PUT", "/v1/state/" + seg(key), json=body)

    def delete(self, key: str) -> bool:
        return bool(self._c.request("DELETE", "/v1/state/" + seg(key)).get("deleted"))

    def batch_put(self, operations: List[Dict[str, Any]]) -> Dict[str, Any]:
        return self._c.request("POST", "/v1/state/batch_put", json={"operations": operations})


class VectorAPI:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(self) -> List[Dict[str, Any]]:
        return self._c.request("GET", "/v1/vector").get("collections", [])

    def info(self, collection: str) -> Dict[str, Any]:
        return self._c.request("GET", "/v1/vector/" + seg(collection))

    def create_collection(self, collection: str, dim: int, metric: str = "cosine") -> Dict[str, Any]:
        return self._c.request("POST", "/v1/vector/" + seg(collection), json={"dim": dim, "metric": metric})

    def upsert(self, collection: str, vector_id: str, vector: Sequence[float], meta: Any = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"id": vector_id, "vector": list(vector)}
        if meta is not None:
            body["meta"] = meta
        return self._c.request("POST", f"/v1/vector/{seg(collection)}/upsert", json=body, idempotent=True)

    def upsert_batch(self, collection: str, items: List[Dict[str, Any]]) -> Dict[str, Any]:
        return self._c.request("POST", f"/v1/vector/{seg(collection)}/upsert_batch", json={"items": items}, idempotent=True)

    def delete(self, collection: str, vector_id: str) -> bool:
        return bool(self._c.request("POST", f"/v1/vector/{seg(collection)}/delete", json={"id": vector_id}).get("deleted"))

    def delete_batch(self, collection: str, ids: List[str]) -> Dict[str, Any]:
        return self._c.request("POST", f"/v1/vector/{seg(collection)}/delete_batch", json={"ids": ids})

    def search(
        self,
        collection: str,
        vector: Sequence[float],
        k: int = 5,
        include_meta: bool = True,
        filters: Optional[Dict[str, Any]] = None,
    ) -> Dict[str, Any]:
        body: Dict[str, Any] = {"vector": list(vector), "k": k, "include_meta": include_meta}
        if filters is not None:
            body["filters"] = filters
        return self._c.request("POST", f"/v1/vector/{seg(collection)}/search", json=body, idempotent=True)


class DocAPI:
    def __init__(self, client: Client) -> None:
        self._c = client

    def put(self, collection: str, id: str, doc: Any) -> Dict[str, Any]:
        return self._c.request("PUT", f"/v1/doc/{seg(collection)}/{seg(id)}", json=doc if doc is not None else {})

    def get(self, collection: str, id: str) -> Dict[str, Any]:
        return self._c.request("GET", f"/v1/doc/{seg(collection)}/{seg(id)}")

    def delete(self, collection: str, id: str) -> bool:
        return bool(self._c.request("DELETE", f"/v1/doc/{seg(collection)}/{seg(id)}").get("deleted"))

    def find(self, collection: str, filter: Optional[Dict[str, Any]] = None, limit: int = 20) -> List[Dict[str, Any]]:
        body = {"filter": filter or {}, "limit": limit}
        return self._c.request("POST", f"/v1/doc/{seg(collection)}/find", json=body, idempotent=True).get("documents", [])


class SQLAPI:
    def __init__(self, client: Client) -> None:
        self._c = client

    def query(self, sql: str, params: Optional[List[Any]] = None) -> List[Dict[str, Any]]:
        body = {"sql": sql, "params": params or []}
        return self._c.request("POST", "/v1/sql/query", json=body, idempotent=True).get("rows", [])

    def execute(self, sql: str, params: Optional[List[Any]] = None) -> int:
        body = {"sql": sql, "params": params or []}
        return int(self._c.request("POST", "/v1/sql/exec", json=body).get("rows_affected", 0))

    #: Some of the original's examples call ``sql.exec``.
    exec = execute


class StreamAPI:
    def __init__(self, client: Client) -> None:
        self._c = client

    def events(
        self,
        since: Optional[int] = None,
        types: Union[str, Sequence[str], None] = None,
        key_prefix: Optional[str] = None,
    ) -> Iterator[Dict[str, Any]]:
        """Yield ``{"event", "id", "data"}`` dicts: ``data`` is the decoded
        envelope (``{offset, ts_ms, type, data}``), ``id`` the offset as a
        string (``None`` for ``gap`` notices). Resumes after a dropped
        connection without loss or duplicates."""
        params: Dict[str, Any] = {}
        if types:
            params["types"] = types if isinstance(types, str) else ",".join(types)
        if key_prefix is not None:
            params["key_prefix"] = key_prefix
        stream = EventStream(self._c._luma, "/v1/stream", params, since, True, 10, 60.0, None, None)
        try:
            while True:
                try:
                    item = next(stream)
                except StopIteration:
                    return
                except LumaError as e:
                    raise from_luma(e) from e
                if isinstance(item, luma.Gap):
                    yield {"event": "gap", "id": None, "data": item.raw}
                else:
                    yield {"event": item.type, "id": str(item.offset), "data": item.raw}
        finally:
            stream.close()

