"""The original SDK's ``Config``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Mapping, Optional, Union

from luma.config import find_dotenv, parse_dotenv

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["Config"]


def _first(env: Mapping[str, str], *names: str) -> Optional[str]:
    for n in names:
        v = env.get(n)
        if v is not None and v.strip():
            return v.strip()
    return None


@dataclass
class Config:
    """``base_url``, ``api_key`` and ``timeout`` of a client.

    :meth:`from_env` reads (first set wins) ``RUSTKISS_URL``,
    ``VDB_BASE_URL``, ``LUMA_URL``, ``KISS_VDB_URL``, else
    ``http://127.0.0.1:${PORT_RUST_KISS_VDB or PORT_LUMA_VDB or 9917}``; the
    key from ``RUSTKISS_API_KEY``, ``API_KEY``, ``LUMA_API_KEY``,
    ``KISS_VDB_KEY`` (unset: no key is sent); the timeout from
    ``RUSTKISS_TIMEOUT`` (30 s). A ``.env`` file is read too (the process
    environment wins), without python-dotenv.
    """

    base_url: str
    api_key: Optional[str] = None
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env_path: Optional[Union[str, Path]] = None) -> "Config":
        env: Dict[str, str] = {}
        path = Path(env_path) if env_path is not None else find_dotenv()
        if path is not None and path.is_file():
            env.update(parse_dotenv(path.read_text(encoding="utf-8")))
        env.update(os.environ)
        url = _first(env, "RUSTKISS_URL", "VDB_BASE_URL", "LUMA_URL", "KISS_VDB_URL")
        if url is None:
            port = _first(env, "PORT_RUST_KISS_VDB", "PORT_LUMA_VDB") or "9917"
            url = f"http://127.0.0.1:{port}"
        key = _first(env, "RUSTKISS_API_KEY", "API_KEY", "LUMA_API_KEY", "KISS_VDB_KEY")
        raw = _first(env, "RUSTKISS_TIMEOUT", "LUMA_TIMEOUT")
        try:
            timeout = float(raw) if raw is not None else 30.0
        except ValueError:
            timeout = 30.0
        return cls(base_url=url.rstrip("/"), api_key=key, timeout=timeout)

    def create_client(self) -> "Client":
        from .client import Client

        return Client(self.base_url, api_key=self.api_key, timeout=self.timeout)
