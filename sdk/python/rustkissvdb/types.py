"""The original SDK's ``types.py``: the shapes of two answers."""

from __future__ import annotations

from typing import Any, Dict, Optional, TypedDict

__all__ = ["CollectionInfo", "SearchResult"]


class CollectionInfo(TypedDict):
    """An entry of ``vector.list()``."""

    collection: str
    dim: int
    metric: str
    live_count: int
    total_records: int
    upsert_count: int


class SearchResult(TypedDict, total=False):
    """A search hit."""

    id: str
    score: float
    meta: Optional[Dict[str, Any]]
    content: Optional[str]
