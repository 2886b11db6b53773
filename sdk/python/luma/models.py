"""Typed results. Every model keeps the server's full answer in ``raw`` and
also reads like a mapping (``hit["meta"]``, ``item.get("revision")``), so
fields a newer server adds are never lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional

__all__ = [
    "Model",
    "Health",
    "StateItem",
    "PutResult",
    "StatePage",
    "Collection",
    "SearchHit",
    "SearchResult",
    "SearchGroup",
    "VectorRecord",
    "BatchResult",
    "Document",
    "FindResult",
    "ExecResult",
    "QueryResult",
    "Event",
    "Gap",
    "ApiKey",
    "NewApiKey",
    "PublishResult",
    "QueryHit",
    "HybridResult",
]


class Model:
    """Mapping-style access to the raw answer."""

    raw: Dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __contains__(self, key: object) -> bool:
        return key in self.raw

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def keys(self) -> Any:
        return self.raw.keys()

    def to_dict(self) -> Dict[str, Any]:
        """A copy of the server's answer."""
        return dict(self.raw)


def _raw() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


@dataclass
class Health(Model):
    """``GET /v1/health``."""

    status: str
    version: str
    uptime_secs: int
    raw: Dict[str, Any] = _raw()

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Health":
        return cls(str(d.get("status", "")), str(d.get("version", "")), int(d.get("uptime_secs") or 0), d)


@dataclass
class StateItem(Model):
    """A live key: its JSON value, revision and expiry (Unix ms or None)."""

    key: str
    value: Any
    revision: int
    expires_at_ms: Optional[int] = None
    raw: Dict[str, Any] = _raw()

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "StateItem":
        return cls(d["key"], d.get("value"), int(d.get("revision") or 0), d.get("expires_at_ms"), d)


@dataclass
class PutResult(Model):
    """The answer to a state put: the key's new revision and expiry."""

    key: str
    revision: int
    expires_at_ms: Optional[int] = None
    raw: Dict[str, Any] = _raw()

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "PutResult":
        return cls(d.get("key", ""), int(d.get("revision") or 0), d.get("expires_at_ms"), d)


@dataclass
class StatePage:
    """One page of ``state.list_page``; ``next_cursor`` is None on the last."""

    items: List[StateItem]
    next_cursor: Optional[str] = None

    def __iter__(self) -> Iterator[StateItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Collection(Model):
    """A vector collection as ``vector.list`` / ``vector.info`` describe it.

    ``count`` is the number of live vectors (``live_count`` in the list,
    ``count`` in the detail)."""

    name: str
    dim: Optional[int]
    metric: Optional[str]
    count: Optional[int]
    raw: Dict[str, Any] = _raw()

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Collection":
        count = d.get("count")
        if count is None:
            count = d.get("live_count")
        dim = d.get("dim")
        if dim is None and isinstance(d.get("manifest"), dict):
            dim = d["manifest"].get("dim")
        metric = d.get("metric")
        if metric is None and isinstance(d.get("manifest"), dict):
            metric = d["manifest"].get("metric")
        return cls(d.get("collection") or d.get("name") or "", dim, metric, count, d)


@dataclass
class SearchHit(Model):
    """One search hit: ``score`` is a similarity, higher is better."""

    id: str
    score: float
    meta: Any = None
    vector: Optional[List[float]] = None
    raw: Dict[str, Any] = _raw()

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "SearchHit":
        return cls(d["id"], float(d.get("score") or 0.0), d.get("meta"), d.get("vector"), d)


@dataclass
class SearchGroup(Model):
    """One group of a grouped search: the meta field's ``group`` value
    (``None`` for points without it), ``count`` matching points, and its
    best ``hits``."""

    group: Any
    count: int
    hits: List[SearchHit]
    raw: Dict[str, Any] = _raw()

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "SearchGroup":
        return cls(d.get("group"), int(d.get("count") or 0), [SearchHit.from_dict(h) for h in d.get("hits", [])], d)


@dataclass
class SearchResult(Model):
    """The answer to ``vector.search``: ``hits`` best first; with
    ``group_by``, ``groups`` in rank order (``hits`` then lists the groups'
    hits in group order)."""

    hits: List[SearchHit]
    groups: Optional[List[SearchGroup]] = None
    raw: Dict[str, Any] = _raw()

    def __iter__(self) -> Iterator[SearchHit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


@dataclass
class VectorRecord(Model):
    """A stored vector (``vector.get``)."""

    id: str
    vector: List[float]
    meta: Any = None
    raw: Dict[str, Any] = _raw()

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "VectorRecord":
        return cls(d["id"], list(d.get("vector") or []), d.get("meta"), d)


@dataclass
class BatchResult:
    """The merged answer of a (possibly split) vector batch.

    ``results`` holds one entry per input item, in input order
    (``{"status": "upserted"|"deleted"|"error", "id": ..., "error": ...}``);
    ``errors`` only the failed ones."""

    results: List[Dict[str, Any]]
    requests: int = 0

    @property
    def errors(self) -> List[Dict[str, Any]]:
        return [r for r in self.results if r.get("status") == "error"]

    @property
    def ok(self) -> int:
        return sum(1 for r in self.results if r.get("status") != "error")

    def raise_for_errors(self) -> None:
        """Raise the first item error as its typed exception."""
        from .errors import error_class

        for r in self.results:
            if r.get("status") == "error":
                e = r.get("error") or {}
                code = str(e.get("error", "error"))
                raise error_class(code, None)(code, f"item {r.get('id')!r}: {e.get('message', '')}", None, e)


@dataclass
class Document(Model):
    """A JSON document with its revision."""

    id: str
    doc: Any
    revision: int
    raw: Dict[str, Any] = _raw()

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Document":
        return cls(d.get("id", ""), d.get("doc"), int(d.get("revision") or 0), d)


@dataclass
class FindResult(Model):
    """The answer to ``doc.find``: documents in order, ``next_cursor`` when
    more match (servers that page), and the server's extra fields in
    ``raw`` (for example which index answered)."""

    documents: List[Document]
    next_cursor: Optional[str] = None
    raw: Dict[str, Any] = _raw()

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)


@dataclass
class ExecResult(Model):
    """The answer to ``sql.execute`` / ``sql.batch``."""

    rows_affected: int
    raw: Dict[str, Any] = _raw()

    @property
    def last_insert_id(self) -> Optional[int]:
        """The rowid of the last INSERT (``None`` if the server did not say)."""
        v = self.raw.get("last_insert_id")
        return int(v) if v is not None else None

    @property
    def results(self) -> List[Dict[str, Any]]:
        """Per-statement ``{rows_affected, last_insert_id}`` of a batch."""
        r = self.raw.get("results")
        return list(r) if isinstance(r, list) else []


@dataclass
class QueryResult(Model):
    """The answer to ``sql.select``: rows and the column names in order."""

    rows: List[Dict[str, Any]]
    columns: List[str]
    raw: Dict[str, Any] = _raw()

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Event(Model):
    """One event of the log. ``offset`` is its global position (also the SSE
    ``id``); ``data`` the type's fields (``key``, ``collection``, ...)."""

    type: str
    offset: int
    ts_ms: int
    data: Dict[str, Any]
    raw: Dict[str, Any] = _raw()

    @property
    def id(self) -> str:
        return str(self.offset)

    @property
    def key(self) -> Optional[str]:
        return self.data.get("key") if isinstance(self.data, dict) else None

    @property
    def collection(self) -> Optional[str]:
        return self.data.get("collection") if isinstance(self.data, dict) else None


@dataclass
class Gap(Model):
    """Offsets ``from_offset..to_offset`` were not delivered (no longer
    retained, or the subscriber fell behind); ``dropped`` counts them."""

    from_offset: int
    to_offset: int
    dropped: int
    raw: Dict[str, Any] = _raw()

    type: str = "gap"


@dataclass
class ApiKey(Model):
    """A managed API key (never the secret itself)."""

    id: str
    name: str
    role: str
    permissions: Any
    created_at_ms: int
    raw: Dict[str, Any] = _raw()

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "ApiKey":
        return cls(d["id"], d.get("name", ""), d.get("role", ""), d.get("permissions"), int(d.get("created_at_ms") or 0), d)


@dataclass
class NewApiKey(Model):
    """A key just created: ``key`` is the secret, shown only this once."""

    id: str
    key: str
    raw: Dict[str, Any] = _raw()

    @property
    def role(self) -> Optional[str]:
        return self.raw.get("role")

    @property
    def name(self) -> Optional[str]:
        return self.raw.get("name")


@dataclass
class PublishResult(Model):
    """The answer to ``events.publish``: the event's offset."""

    offset: int
    raw: Dict[str, Any] = _raw()


@dataclass
class QueryHit(SearchHit):
    """A hit of the hybrid query: a search hit plus, when enrichment was
    asked for, its ``doc`` (a :class:`Document` or ``None``) and its
    ``state`` item (a :class:`StateItem` or ``None``)."""

    doc: Optional[Document] = None
    state: Optional[StateItem] = None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "QueryHit":
        doc = d.get("doc")
        st = d.get("state")
        return cls(
            d["id"], float(d.get("score") or 0.0), d.get("meta"), d.get("vector"), d,
            Document.from_dict(doc) if isinstance(doc, dict) else None,
            StateItem.from_dict(st) if isinstance(st, dict) else None,
        )


@dataclass
class HybridResult(Model):
    """The answer to ``client.query``: the kept hits best first, what each
    stage did (``stages``: ``vector_candidates``, ``sql_kept``, ``rounds``,
    ``fallback``) and the audit event's offset (``None`` without audit)."""

    hits: List[QueryHit]
    stages: Dict[str, Any]
    audit_offset: Optional[int] = None
    raw: Dict[str, Any] = _raw()

    def __iter__(self) -> Iterator[QueryHit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)
