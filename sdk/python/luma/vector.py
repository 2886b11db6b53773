"""The vector store: ``client.vector``."""

from __future__ import annotations

import array
import base64
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._transport import seg
from .models import BatchResult, Collection, SearchGroup, SearchHit, SearchResult, VectorRecord

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["VectorAPI", "ProgressCallback", "VectorItem"]

#: ``callback(done, total)`` after each batch request.
ProgressCallback = Callable[[int, int], None]

#: A vector to write: ``{"id", "vector", "meta"?}``, ``(id, vector)``,
#: ``(id, vector, meta)`` or a :class:`VectorRecord`.
VectorItem = Union[Mapping[str, Any], Tuple[Any, ...], VectorRecord]


def as_vector(v: Any) -> List[float]:
    """A JSON-ready list of floats from a list, tuple, ``array.array`` or
    numpy array."""
    if type(v) is list:
        return v
    tolist = getattr(v, "tolist", None)
    if callable(tolist):
        out = tolist()
        if isinstance(out, list):
            return out
    return [float(x) for x in v]


def b64_vector(v: Any) -> str:
    """A vector as ``vector_b64``: standard base64 of little-endian float32."""
    a = array.array("f", as_vector(v))
    if sys.byteorder == "big":  # pragma: no cover - no big-endian CI
        a.byteswap()
    return base64.b64encode(a.tobytes()).decode("ascii")


def as_item(item: VectorItem) -> Dict[str, Any]:
    if isinstance(item, VectorRecord):
        d: Dict[str, Any] = {"id": item.id, "vector": as_vector(item.vector)}
        if item.meta is not None:
            d["meta"] = item.meta
        return d
    if isinstance(item, tuple):
        if len(item) not in (2, 3):
            raise ValueError("a vector tuple is (id, vector) or (id, vector, meta)")
        d = {"id": str(item[0]), "vector": as_vector(item[1])}
        if len(item) == 3 and item[2] is not None:
            d["meta"] = item[2]
        return d
    if "id" not in item or "vector" not in item:
        raise ValueError("a vector item needs 'id' and 'vector'")
    d = {"id": str(item["id"]), "vector": as_vector(item["vector"])}
    if item.get("meta") is not None:
        d["meta"] = item["meta"]
    return d


def _path_get(meta: Any, path: str) -> Any:
    cur = meta
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


class VectorAPI:
    """Collections of fixed-dimension vectors with JSON metadata, searched
    by similarity (higher score = closer) with metadata filters."""

    def __init__(self, client: "Client") -> None:
        self._c = client

    def _p(self, collection: str, *rest: str) -> str:
        return "/v1/vector/" + seg(collection) + "".join("/" + r for r in rest)

    def _wire(self, item: Dict[str, Any]) -> Dict[str, Any]:
        """Send the vector as ``vector_b64`` when the client asks for it."""
        if self._c.vector_b64 and "vector" in item:
            item = dict(item)
            item["vector_b64"] = b64_vector(item.pop("vector"))
        return item

    # -- collections ------------------------------------------------------

    def list(self) -> List[Collection]:
        """Every collection, sorted by name, with its counters."""
        r = self._c._request("GET", "/v1/vector")
        return [Collection.from_dict(d) for d in (r.json() or {}).get("collections", [])]

    def info(self, collection: str) -> Collection:
        """A collection's detail (``count``, ``dim``, ``metric``,
        ``manifest``, ... in ``raw``).

        Raises:
            NotFoundError: no such collection.
        """
        r = self._c._request("GET", self._p(collection))
        return Collection.from_dict(r.json())

    def exists(self, collection: str) -> bool:
        """Whether the collection exists."""
        from .errors import NotFoundError

        try:
            self.info(collection)
            return True
        except NotFoundError:
            return False

    def create_collection(
        self,
        collection: str,
        dim: int,
        metric: str = "cosine",
        *,
        exist_ok: bool = False,
        **settings: Any,
    ) -> Collection:
        """Create a collection of ``dim``-dimensional vectors.

        Args:
            metric: ``"cosine"`` or ``"dot"`` (``"l2"`` where the server
                supports it). Scores are similarities: higher is better.
            exist_ok: return the existing collection instead of raising
                :class:`AlreadyExistsError` (its dim is not checked).
            **settings: index settings: ``index`` (``"hnsw"`` or
                ``"flat"``), ``m``, ``ef_construction``, ``ef_search``
                (HNSW); other keys are sent as they are.

        Raises:
            AlreadyExistsError: the collection exists (and not ``exist_ok``).
            InvalidArgumentError: bad dim, metric or name.
        """
        from .errors import AlreadyExistsError

        body: Dict[str, Any] = {"dim": int(dim), "metric": metric}
        body.update({k: v for k, v in settings.items() if v is not None})
        try:
            r = self._c._request("POST", self._p(collection), json_body=body)
        except AlreadyExistsError:
            if not exist_ok:
                raise
            return self.info(collection)
        return Collection.from_dict(r.json())

    def drop(self, collection: str) -> bool:
        """Delete a collection and all its vectors.

        Raises:
            NotFoundError: no such collection.
        """
        r = self._c._request("DELETE", self._p(collection))
        return bool((r.json() or {}).get("deleted", True))

    delete_collection = drop

    # -- single vectors ---------------------------------------------------

    def add(self, collection: str, id: str, vector: Sequence[float], meta: Any = None) -> bool:
        """Insert a new vector.

        Raises:
            AlreadyExistsError: the id exists.
            DimMismatchError: wrong length.
            NotFoundError: no such collection.
        """
        body = self._wire(as_item({"id": id, "vector": vector, "meta": meta}))
        self._c._request("POST", self._p(collection, "add"), json_body=body)
        return True

    def upsert(self, collection: str, id: str, vector: Sequence[float], meta: Any = None) -> bool:
        """Insert or replace a vector (and its meta)."""
        body = self._wire(as_item({"id": id, "vector": vector, "meta": meta}))
        self._c._request("POST", self._p(collection, "upsert"), json_body=body, idempotent=True)
        return True

    def update(self, collection: str, id: str, vector: Optional[Sequence[float]] = None, meta: Any = None) -> bool:
        """Change an existing vector's values and/or meta (``None`` keeps
        the current one).

        Raises:
            NotFoundError: no such collection or id.
        """
        body: Dict[str, Any] = {"id": id}
        if vector is not None:
            body["vector"] = as_vector(vector)
        if meta is not None:
            body["meta"] = meta
        self._c._request("POST", self._p(collection, "update"), json_body=self._wire(body), idempotent=True)
        return True

    def delete(self, collection: str, id: str) -> bool:
        """Delete a vector.

        Raises:
            NotFoundError: no such collection or id.
        """
        r = self._c._request("POST", self._p(collection, "delete"), json_body={"id": id})
        return bool((r.json() or {}).get("deleted", True))

    def get(self, collection: str, id: str) -> VectorRecord:
        """A stored vector with its meta (``dot`` collections return the
        normalised vector).

        Raises:
            NotFoundError: no such collection or id.
        """
        r = self._c._request("GET", self._p(collection, "get"), params={"id": id})
        return VectorRecord.from_dict(r.json())

    # -- batches ------------------------------------------------------------

    def upsert_batch(
        self,
        collection: str,
        items: Iterable[VectorItem],
        *,
        batch_size: Optional[int] = None,
        on_progress: Optional[ProgressCallback] = None,
    ) -> BatchResult:
        """Upsert many vectors, split into requests of at most
        ``batch_size`` items (default: the client's ``batch_size``, 256 =
        the server's ``MAX_VECTOR_BATCH`` default).

        Items fail one by one (``result.errors``; ``result.raise_for_errors()``
        turns the first into an exception). Requests are sent in order; if
        one fails as a whole (e.g. :class:`NotFoundError` for the
        collection), earlier ones stay applied.

        Args:
            on_progress: ``on_progress(done, total)`` after each request.
        """
        prepared = [self._wire(as_item(it)) for it in items]
        return self._batched(collection, "upsert_batch", "items", prepared, batch_size, on_progress)

    def delete_batch(
        self,
        collection: str,
        ids: Iterable[str],
        *,
        batch_size: Optional[int] = None,
        on_progress: Optional[ProgressCallback] = None,
    ) -> BatchResult:
        """Delete many vectors (split like :meth:`upsert_batch`); a missing
        id is an item error, not an exception."""
        return self._batched(collection, "delete_batch", "ids", [str(i) for i in ids], batch_size, on_progress)

    def _batched(
        self,
        collection: str,
        op: str,
        field: str,
        items: List[Any],
        batch_size: Optional[int],
        on_progress: Optional[ProgressCallback],
    ) -> BatchResult:
        size = int(batch_size or self._c.batch_size)
        if size < 1:
            raise ValueError("batch_size must be >= 1")
        out = BatchResult(results=[])
        total = len(items)
        for start in range(0, total, size):
            part = items[start : start + size]
            r = self._c._request("POST", self._p(collection, op), json_body={field: part}, idempotent=(op == "upsert_batch"))
            out.results.extend((r.json() or {}).get("results", []))
            out.requests += 1
            if on_progress is not None:
                on_progress(min(start + size, total), total)
        return out

    # -- search -------------------------------------------------------------

    def search(
        self,
        collection: str,
        vector: Sequence[float],
        k: int = 10,
        *,
        filters: Optional[Mapping[str, Any]] = None,
        include_meta: bool = True,
        include_vector: bool = False,
        ef: Optional[int] = None,
        group_by: Optional[str] = None,
        group_limit: int = 1,
        **options: Any,
    ) -> SearchResult:
        """The ``k`` most similar vectors, best first.

        Args:
            filters: metadata filter: ``{"field": value}`` equality (AND),
                operators ``$eq $ne $in $nin $gt $gte $lt $lte $exists
                $and $or $not`` and dotted paths (docs/FILTERS.md).
            include_meta: return each hit's meta (the server's default is
                not to; the SDK's is to).
            include_vector: return each hit's vector.
            ef: HNSW search breadth for this query (recall vs latency).
            group_by: a meta field (dotted path allowed): ``k`` is then the
                number of groups (e.g. documents), each with its best
                ``group_limit`` hits, ranked by their best hit;
                ``result.groups`` lists them and ``result.hits`` has their
                hits in group order. Against a server that does not group,
                the SDK over-fetches and groups the hits itself.
            **options: extra search settings sent as they are.
        """
        body: Dict[str, Any] = {"k": int(k), "include_meta": bool(include_meta)}
        if self._c.vector_b64:
            body["vector_b64"] = b64_vector(vector)
        else:
            body["vector"] = as_vector(vector)
        if include_vector:
            body["include_vector"] = True
        if filters is not None:
            body["filters"] = filters
        if ef is not None:
            body["ef"] = int(ef)
        if group_by:
            body["group_by"] = group_by
            body["group_limit"] = max(1, int(group_limit))
        body.update({k2: v for k2, v in options.items() if v is not None})
        r = self._c._request("POST", self._p(collection, "search"), json_body=body, idempotent=True)
        data = r.json() or {}
        hits = [SearchHit.from_dict(h) for h in data.get("hits", [])]
        if not group_by:
            return SearchResult(hits, None, data)
        if isinstance(data.get("groups"), list):
            return SearchResult(hits, [SearchGroup.from_dict(g) for g in data["groups"]], data)
        return self._group_locally(collection, vector, k, filters, include_vector, group_by, group_limit, ef, options)

    def _group_locally(
        self,
        collection: str,
        vector: Sequence[float],
        k: int,
        filters: Optional[Mapping[str, Any]],
        include_vector: bool,
        group_by: str,
        group_limit: int,
        ef: Optional[int],
        options: Mapping[str, Any],
    ) -> SearchResult:
        """Grouping for servers without ``group_by`` (the original): fetch
        up to ``max_k`` hits and group them here."""
        group_limit = max(1, int(group_limit))
        fetch = min(self._c.max_k, max(k * group_limit * 4, 32))
        res = self.search(collection, vector, fetch, filters=filters, include_meta=True, include_vector=include_vector, ef=ef, **options)
        groups: Dict[str, SearchGroup] = {}
        for h in res.hits:  # best first, so groups come out in rank order
            value = _path_get(h.meta, group_by)
            key = repr(value)
            g = groups.get(key)
            if g is None:
                if len(groups) >= k:
                    continue
                g = groups[key] = SearchGroup(value, 0, [], {})
            g.count += 1
            if len(g.hits) < group_limit:
                g.hits.append(h)
        ordered = list(groups.values())
        return SearchResult([h for g in ordered for h in g.hits], ordered, res.raw)

    # -- maintenance -----------------------------------------------------------

    def vacuum(self, collection: str) -> Dict[str, Any]:
        """Rebuild the collection's segments without tombstones (admin):
        ``{collection, segments_before, segments_after, rebuilt,
        tombstones_removed, live_count, duration_ms}``."""
        r = self._c._request("POST", self._p(collection, "vacuum"), json_body={})
        return r.json() or {}
