"""Managed API keys: ``client.auth`` (admin keys only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._transport import seg
from .models import ApiKey, NewApiKey

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["AuthAPI"]


class AuthAPI:
    """Create, list and revoke API keys. Needs an admin key; a server in
    local mode (no key configured) answers :class:`NotEnabledError`."""

    def __init__(self, client: "Client") -> None:
        self._c = client

    def list(self) -> List[ApiKey]:
        """Every managed key, newest first (never the secrets)."""
        r = self._c._request("GET", "/v1/auth/keys")
        return [ApiKey.from_dict(d) for d in r.json() or []]

    def create(self, name: str, role: str = "user", permissions: Any = None) -> NewApiKey:
        """Create a key; ``result.key`` is the secret, shown only here.

        Args:
            role: ``"admin"``, ``"user"`` (read/write data) or ``"reader"``
                (read only).
        """
        body: Dict[str, Any] = {"name": name, "role": role}
        if permissions is not None:
            body["permissions"] = permissions
        r = self._c._request("POST", "/v1/auth/keys", json_body=body)
        data = r.json() or {}
        return NewApiKey(data["id"], data["key"], data)

    def revoke(self, id: str) -> None:
        """Revoke a key at once.

        Raises:
            NotFoundError: no key with this id.
        """
        self._c._request("DELETE", "/v1/auth/keys/" + seg(id))

    def get(self, id: str) -> Optional[ApiKey]:
        """The key with this id, or ``None``."""
        for k in self.list():
            if k.id == id:
                return k
        return None
