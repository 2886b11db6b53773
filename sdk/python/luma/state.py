"""The key-value state store: ``client.state``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Union

from ._transport import UNSET, seg
from .models import PutResult, StateItem, StatePage

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["StateAPI"]


class StateAPI:
    """Keys hold any JSON value, a revision (1 on creation, +1 per write),
    and an optional expiry. Every write appends an event to the log."""

    def __init__(self, client: "Client") -> None:
        self._c = client

    def get(self, key: str) -> StateItem:
        """The live item at ``key``.

        Raises:
            NotFoundError: absent or expired.
        """
        r = self._c._request("GET", "/v1/state/" + seg(key))
        return StateItem.from_dict(r.json())

    def get_or_none(self, key: str) -> Optional[StateItem]:
        """Like :meth:`get`, but ``None`` when the key is absent."""
        from .errors import NotFoundError

        try:
            return self.get(key)
        except NotFoundError:
            return None

    def put(
        self,
        key: str,
        value: Any,
        ttl_ms: Optional[int] = None,
        if_revision: Optional[int] = None,
    ) -> PutResult:
        """Write ``value`` at ``key``.

        Args:
            ttl_ms: expire the key this many ms from now; omitting it on an
                overwrite clears a previous TTL.
            if_revision: compare-and-set: write only if the key is live with
                exactly this revision.

        Raises:
            RevisionMismatchError: ``if_revision`` did not match.
            PayloadTooLargeError: the value is over the server's JSON limit.
        """
        body: Dict[str, Any] = {"value": value}
        if ttl_ms is not None:
            body["ttl_ms"] = int(ttl_ms)
        if if_revision is not None:
            body["if_revision"] = int(if_revision)
        r = self._c._request("PUT", "/v1/state/" + seg(key), json_body=body)
        return PutResult.from_dict(r.json())

    def delete(self, key: str, if_revision: Optional[int] = None) -> bool:
        """Delete ``key``; ``False`` if it was absent (never an error).

        Args:
            if_revision: delete only if the key is live with this revision
                (else :class:`RevisionMismatchError`).
        """
        params = {"if_revision": int(if_revision)} if if_revision is not None else None
        r = self._c._request("DELETE", "/v1/state/" + seg(key), params=params)
        return bool(r.json().get("deleted"))

    def list_page(self, prefix: str = "", limit: int = 100, cursor: Optional[str] = None) -> StatePage:
        """One page of live items in key order, with the cursor of the next
        page (from the ``X-Next-Cursor`` header) or ``None``."""
        params: Dict[str, Any] = {"limit": int(limit)}
        if prefix:
            params["prefix"] = prefix
        if cursor is not None:
            params["cursor"] = cursor
        r = self._c._request("GET", "/v1/state", params=params)
        items = [StateItem.from_dict(d) for d in r.json() or []]
        return StatePage(items, r.headers.get("X-Next-Cursor") or None)

    def list(self, prefix: str = "", limit: int = 100, cursor: Optional[str] = None) -> List[StateItem]:
        """Up to ``limit`` (1..1000) live items whose key starts with
        ``prefix``, in key order, after ``cursor`` if given."""
        return self.list_page(prefix, limit, cursor).items

    def iter(self, prefix: str = "", page_size: int = 500) -> Iterator[StateItem]:
        """Every live item under ``prefix``, fetching pages as needed."""
        cursor: Optional[str] = None
        while True:
            page = self.list_page(prefix, page_size, cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def batch_put(self, operations: Iterable[Union[Mapping[str, Any], StateItem]]) -> List[PutResult]:
        """Put several keys in one atomic, durable commit: all or none.

        Each operation is ``{"key", "value", "ttl_ms"?, "if_revision"?}``.

        Raises:
            LumaError: the first failing operation's typed error (e.g.
                :class:`RevisionMismatchError`); ``exc.results`` lists every
                operation (``ok`` / ``error`` / ``skipped``). Nothing was
                written.
        """
        ops: List[Dict[str, Any]] = []
        for op in operations:
            if isinstance(op, StateItem):
                ops.append({"key": op.key, "value": op.value})
                continue
            d = {k: v for k, v in dict(op).items() if v is not None or k == "value"}
            if "value" not in d:
                raise ValueError(f"operation for key {d.get('key')!r} has no 'value'")
            ops.append(d)
        r = self._c._request("POST", "/v1/state/batch_put", json_body={"operations": ops})
        return [PutResult.from_dict(x) for x in r.json().get("results", [])]

    def update(self, key: str, fn: Any, default: Any = UNSET, ttl_ms: Optional[int] = None, max_attempts: int = 16) -> PutResult:
        """Read-modify-write with compare-and-set, retried on conflicts.

        ``fn(value) -> new_value`` is called with the current value (or
        ``default`` when the key is absent; without a default an absent key
        raises :class:`NotFoundError`).

        Raises:
            RevisionMismatchError: still conflicting after ``max_attempts``.
        """
        from .errors import NotFoundError, RevisionMismatchError

        last: Optional[RevisionMismatchError] = None
        for _ in range(max(1, max_attempts)):
            try:
                cur = self.get(key)
                value, rev = cur.value, cur.revision
            except NotFoundError:
                if default is UNSET:
                    raise
                value, rev = default, None
            new = fn(value)
            try:
                if rev is None:
                    # The server has no create-if-absent: creating a missing
                    # key is a plain put (the last creator wins).
                    return self.put(key, new, ttl_ms=ttl_ms)
                return self.put(key, new, ttl_ms=ttl_ms, if_revision=rev)
            except RevisionMismatchError as e:
                last = e
        assert last is not None
        raise last
