"""Luma Python SDK: the client for Luma, the data layer for AI apps
(state store, event log + live stream, vector store, document store,
SQLite over HTTP). Standard library only.

Quick start::

    import luma

    db = luma.Client("http://127.0.0.1:9917")           # or luma.Client.from_env()
    db.state.put("session:1", {"turns": 0}, ttl_ms=3_600_000)
    db.vector.create_collection("docs", dim=384, exist_ok=True)
    db.vector.upsert("docs", "a", [0.1] * 384, meta={"title": "A"})
    hits = db.vector.search("docs", [0.1] * 384, k=5)
    for ev in db.stream.events(since=0, idle_timeout=1):
        print(ev.offset, ev.type, ev.data)
"""

from ._version import __version__
from .client import Client
from .config import Config
from .errors import (
    AlreadyExistsError,
    ConflictError,
    DimMismatchError,
    ForbiddenError,
    InvalidArgumentError,
    LumaConnectionError,
    LumaError,
    LumaTimeoutError,
    MethodNotAllowedError,
    NotEnabledError,
    NotFoundError,
    NotSupportedError,
    PayloadTooLargeError,
    PersistenceError,
    RequestTimeoutError,
    RevisionMismatchError,
    ServerError,
    SQLiteError,
    UnauthorizedError,
    UnavailableError,
    UnsupportedMediaTypeError,
)
from .models import (
    ApiKey,
    BatchResult,
    Collection,
    Document,
    Event,
    ExecResult,
    FindResult,
    Gap,
    Health,
    HybridResult,
    NewApiKey,
    PublishResult,
    PutResult,
    QueryHit,
    QueryResult,
    SearchGroup,
    SearchHit,
    SearchResult,
    StateItem,
    StatePage,
    VectorRecord,
)
from .stream import EventStream

__all__ = [
    "__version__",
    "Client",
    "Config",
    "EventStream",
    # errors
    "LumaError",
    "LumaConnectionError",
    "LumaTimeoutError",
    "InvalidArgumentError",
    "DimMismatchError",
    "UnsupportedMediaTypeError",
    "UnauthorizedError",
    "ForbiddenError",
    "NotFoundError",
    "MethodNotAllowedError",
    "RequestTimeoutError",
    "ConflictError",
    "RevisionMismatchError",
    "AlreadyExistsError",
    "PayloadTooLargeError",
    "NotEnabledError",
    "SQLiteError",
    "NotSupportedError",
    "ServerError",
    "PersistenceError",
    "UnavailableError",
    # models
    "ApiKey",
    "BatchResult",
    "Collection",
    "Document",
    "Event",
    "ExecResult",
    "FindResult",
    "Gap",
    "Health",
    "HybridResult",
    "NewApiKey",
    "PublishResult",
    "PutResult",
    "QueryHit",
    "QueryResult",
    "SearchGroup",
    "SearchHit",
    "SearchResult",
    "StateItem",
    "StatePage",
    "VectorRecord",
]
