"""The grouped-search corpus (``/search``, ``/search/ingest``):
``client.search``.

A separate, append-only corpus of documents with content and typed
metadata, searched by text (the server embeds the query) with grouping by
a metadata field — the original server's RAG endpoint. It is independent of
the vector collections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from .vector import as_vector

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["SearchAPI"]


class SearchAPI:
    def __init__(self, client: "Client") -> None:
        self._c = client

    def ingest(
        self,
        id: int,
        vector: Sequence[float],
        content: str,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Append a document (``id`` is a u32; duplicates are allowed).

        ``metadata`` fields the server knows: ``filename``, ``category``,
        ``language``, ``status``, ``version``, ``document_id`` (strings),
        ``processed_at`` (ms), ``group_id`` (u32)."""
        body = {"document": {"id": int(id), "vector": as_vector(vector), "content": content, "metadata": dict(metadata or {})}}
        self._c._request("POST", "/search/ingest", json_body=body)

    def query(
        self,
        query: str,
        top_k: int = 10,
        *,
        filters: Optional[Mapping[str, Any]] = None,
        group_by: Optional[str] = None,
        group_limit: Optional[int] = None,
    ) -> List[Dict[str, Any]]:
        """Search the corpus; results ``[{score, document: {id, content,
        metadata}}]`` best first (with ``group_by``: the best
        ``group_limit`` per group, groups ranked by their best hit, cut to
        ``top_k`` items). A query ``"TEST_VEC:0.1,0.2,..."`` is used as the
        vector itself."""
        body: Dict[str, Any] = {"query": query, "top_k": int(top_k)}
        if filters is not None:
            body["filters"] = dict(filters)
        if group_by is not None:
            body["group_by"] = group_by
        if group_limit is not None:
            body["group_limit"] = int(group_limit)
        r = self._c._request("POST", "/search", json_body=body, idempotent=True)
        return list((r.json() or {}).get("results", []))
