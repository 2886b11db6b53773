"""Publishing custom events: ``client.events``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from .models import PublishResult

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["EventsAPI"]


class EventsAPI:
    """Append your own events to the log; every stream subscriber sees them
    like built-in ones (this is how agents and services talk through Luma)."""

    def __init__(self, client: "Client") -> None:
        self._c = client

    def publish(
        self,
        type: str,
        payload: Any = None,
        key: Optional[str] = None,
        collection: Optional[str] = None,
    ) -> PublishResult:
        """Append an event of ``type`` (built-in type names are reserved)
        with ``payload``; ``key`` / ``collection`` make it match the stream's
        ``key_prefix`` / ``collection`` filters.

        Returns:
            the event's ``offset`` (and ``raw["ts_ms"]``). Never retried
            once sent (a retry could publish twice).
        """
        body: Dict[str, Any] = {"type": type, "payload": payload if payload is not None else {}}
        if key is not None:
            body["key"] = key
        if collection is not None:
            body["collection"] = collection
        r = self._c._request("POST", "/v1/events", json_body=body)
        data = r.json() or {}
        return PublishResult(int(data.get("offset") or 0), data)
