"""The JSON document store: ``client.doc``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Union

from ._transport import seg
from .models import Document, FindResult

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["DocAPI"]

Sort = Union[str, Mapping[str, Any], None]


def sort_spec(sort: Sort) -> Optional[Dict[str, Any]]:
    """``"field"`` / ``"-field"`` (descending) or ``{"field", "order"}``."""
    if sort is None:
        return None
    if isinstance(sort, str):
        if sort.startswith("-"):
            return {"field": sort[1:], "order": "desc"}
        return {"field": sort.lstrip("+"), "order": "asc"}
    return dict(sort)


class DocAPI:
    """JSON documents addressed by ``(collection, id)``, each with a
    revision, found by filters."""

    def __init__(self, client: "Client") -> None:
        self._c = client

    def _p(self, collection: str, *rest: str) -> str:
        return "/v1/doc/" + seg(collection) + "".join("/" + r for r in rest)

    def put(self, collection: str, id: str, doc: Any, if_revision: Optional[int] = None) -> Document:
        """Store ``doc`` (any JSON) at ``collection/id``, replacing it.

        Args:
            if_revision: compare-and-set: write only if the document exists
                with exactly this revision.

        Raises:
            RevisionMismatchError: ``if_revision`` did not match.
            PayloadTooLargeError: the document is over the JSON limit.
        """
        params = {"if_revision": int(if_revision)} if if_revision is not None else None
        r = self._c._request("PUT", self._p(collection, seg(id)), params=params, json_body=doc)
        return Document.from_dict(r.json())

    def get(self, collection: str, id: str) -> Document:
        """The document with its revision.

        Raises:
            NotFoundError: no such document.
        """
        r = self._c._request("GET", self._p(collection, seg(id)))
        return Document.from_dict(r.json())

    def delete(self, collection: str, id: str, if_revision: Optional[int] = None) -> bool:
        """Delete a document; ``False`` if it did not exist."""
        params = {"if_revision": int(if_revision)} if if_revision is not None else None
        r = self._c._request("DELETE", self._p(collection, seg(id)), params=params)
        return bool((r.json() or {}).get("deleted"))

    def find(
        self,
        collection: str,
        filter: Optional[Mapping[str, Any]] = None,
        limit: int = 20,
        *,
        sort: Sort = None,
        cursor: Optional[str] = None,
        **options: Any,
    ) -> FindResult:
        """One page of documents matching ``filter`` (``None`` or ``{}`` =
        all). ``result.next_cursor`` fetches the next page;
        ``result["index_used"]`` names the index that answered (``None`` =
        a scan) and ``result["scanned"]`` how many documents were read.

        Args:
            filter: ``{"field": value}`` equality (AND), plus operators
                (``$eq $ne $in $nin $gt $gte $lt $lte $exists $and $or
                $not``) and dotted paths where the server supports them.
            limit: page size (the server caps it).
            sort: a field to sort by (dotted paths allowed), ``"-field"``
                for descending, or ``{"field": ..., "order": "asc"|"desc"}``.
                Without it documents come in id order.
            cursor: the previous page's ``next_cursor``.
        """
        body: Dict[str, Any] = {"filter": dict(filter) if filter is not None else {}, "limit": int(limit)}
        if sort is not None:
            body["sort"] = sort_spec(sort)
        if cursor is not None:
            body["cursor"] = cursor
        body.update({k: v for k, v in options.items() if v is not None})
        r = self._c._request("POST", self._p(collection, "find"), json_body=body, idempotent=True)
        data = r.json() or {}
        docs = [Document.from_dict(d) for d in data.get("documents", [])]
        return FindResult(docs, data.get("next_cursor"), data)

    def find_iter(
        self,
        collection: str,
        filter: Optional[Mapping[str, Any]] = None,
        *,
        sort: Sort = None,
        page_size: int = 100,
        **options: Any,
    ) -> Iterator[Document]:
        """Every matching document, following ``next_cursor`` page by page."""
        cursor: Optional[str] = None
        while True:
            page = self.find(collection, filter, page_size, sort=sort, cursor=cursor, **options)
            yield from page.documents
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def count(self, collection: str, filter: Optional[Mapping[str, Any]] = None) -> int:
        """How many documents match (pages through them)."""
        return sum(1 for _ in self.find_iter(collection, filter))

    # -- secondary indexes -------------------------------------------------------

    def create_index(self, collection: str, field: str, type: str = "auto") -> Dict[str, Any]:
        """Declare a secondary index on ``field`` (dotted path) for ``find``;
        existing documents are indexed in the background (``state`` goes
        from ``building`` to ``ready``; see :meth:`wait_index`). Admin only.

        Args:
            type: ``"keyword"``, ``"number"``, ``"bool"`` or ``"auto"``.

        Raises:
            AlreadyExistsError: the field is already indexed.
        """
        r = self._c._request("POST", self._p(collection, "_indexes"), json_body={"field": field, "type": type})
        return r.json() or {}

    def list_indexes(self, collection: str) -> List[Dict[str, Any]]:
        """The collection's indexes: ``{field, type, state, progress:
        {processed, total}, created_at_ms, ready_at_ms}``."""
        r = self._c._request("GET", self._p(collection, "_indexes"))
        return list((r.json() or {}).get("indexes", []))

    def drop_index(self, collection: str, field: str) -> bool:
        """Drop the index on ``field``. Admin only.

        Raises:
            NotFoundError: no such index.
        """
        r = self._c._request("DELETE", self._p(collection, "_indexes", seg(field)))
        return bool((r.json() or {}).get("dropped", True))

    def wait_index(self, collection: str, field: str, timeout: float = 60.0, poll: float = 0.05) -> Dict[str, Any]:
        """Wait until the index on ``field`` is ``ready``; returns it.

        Raises:
            NotFoundError: no such index.
            TimeoutError: not ready within ``timeout`` seconds.
        """
        import time

        from .errors import NotFoundError

        deadline = time.monotonic() + timeout
        while True:
            for ix in self.list_indexes(collection):
                if ix.get("field") == field:
                    if ix.get("state") == "ready":
                        return ix
                    break
            else:
                raise NotFoundError("not_found", f"no index on {field!r} in {collection!r}", 404)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"index on {field!r} not ready after {timeout}s")
            time.sleep(poll)

    def put_many(self, collection: str, docs: Mapping[str, Any]) -> List[Document]:
        """Put several documents (one request each); returns them in order."""
        return [self.put(collection, i, d) for i, d in docs.items()]
