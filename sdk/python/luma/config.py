"""Client configuration from the environment and a ``.env`` file.

The variable names are the original project's (CONTRACT.md §8) plus Luma's:

=================  ==========================================================
setting            variables, first set wins
=================  ==========================================================
base URL           ``LUMA_URL``, ``RUSTKISS_URL``, ``VDB_BASE_URL``, else
                   ``http://127.0.0.1:<port>`` with port from
                   ``PORT_LUMA_VDB``, ``PORT_RUST_KISS_VDB``, else 9917
API key            ``LUMA_API_KEY``, ``RUSTKISS_API_KEY``, ``API_KEY``
                   (unset: no key is sent; fine for a server in local mode)
timeout (s)        ``LUMA_TIMEOUT``, ``RUSTKISS_TIMEOUT``, else 30
retries            ``LUMA_MAX_RETRIES``, else 3
=================  ==========================================================

Variables already in the process environment win over the ``.env`` file
(like python-dotenv's default); the SDK parses the file itself and never
changes ``os.environ``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Union

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["Config", "parse_dotenv", "find_dotenv", "DEFAULT_PORT"]

DEFAULT_PORT = 9917
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$")


def parse_dotenv(text: str) -> Dict[str, str]:
    """Parse ``.env`` text: ``KEY=value`` lines, ``export`` prefixes, ``#``
    comments, single quotes (literal), double quotes (with ``\\n``, ``\\t``,
    ``\\"``, ``\\\\`` escapes, may span lines) and ``${VAR}`` expansion in
    unquoted and double-quoted values (from earlier lines or the
    environment)."""
    out: Dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        key, raw = m.group(1), m.group(2)
        if raw.startswith("'"):
            end = raw.find("'", 1)
            value = raw[1:end] if end > 0 else raw[1:]
        elif raw.startswith('"'):
            buf = raw[1:]
            while True:
                end = _closing_quote(buf)
                if end >= 0 or i >= len(lines):
                    break
                buf += "\n" + lines[i]
                i += 1
            body = buf[:end] if end >= 0 else buf
            value = _expand(_unescape(body), out)
        else:
            value = re.sub(r"\s+#.*$", "", raw).strip()
            value = _expand(value, out)
        out[key] = value
    return out


def _closing_quote(s: str) -> int:
    esc = False
    for j, ch in enumerate(s):
        if esc:
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == '"':
            return j
    return -1


def _unescape(s: str) -> str:
    repl = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}
    return re.sub(r"\\(.)", lambda m: repl.get(m.group(1), "\\" + m.group(1)), s)


def _expand(s: str, known: Mapping[str, str]) -> str:
    def sub(m: "re.Match[str]") -> str:
        name = m.group(1) or m.group(2)
        return known.get(name, os.environ.get(name, ""))

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", sub, s)


def find_dotenv(start: Optional[Union[str, Path]] = None) -> Optional[Path]:
    """The nearest ``.env`` in ``start`` (default: the working directory) or
    one of its parents, or ``None``."""
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        p = d / ".env"
        if p.is_file():
            return p
    return None


def _first(env: Mapping[str, str], *names: str) -> Optional[str]:
    for n in names:
        v = env.get(n)
        if v is not None and v.strip() != "":
            return v.strip()
    return None


@dataclass
class Config:
    """Where and how to reach a Luma server.

    Build it by hand, or with :meth:`from_env`; turn it into a client with
    :meth:`create_client`.
    """

    base_url: str = f"http://127.0.0.1:{DEFAULT_PORT}"
    api_key: Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_RETRIES

    @classmethod
    def from_env(
        cls,
        env_path: Optional[Union[str, Path]] = None,
        environ: Optional[Mapping[str, str]] = None,
    ) -> "Config":
        """Read the configuration from the environment and a ``.env`` file.

        Args:
            env_path: a ``.env`` file to read; default: the nearest ``.env``
                in the working directory or its parents (none is fine). A
                path that does not exist raises ``FileNotFoundError``.
            environ: the process environment to use (default ``os.environ``);
                it wins over the file.
        """
        env: Dict[str, str] = {}
        path = Path(env_path) if env_path is not None else find_dotenv()
        if path is not None:
            env.update(parse_dotenv(path.read_text(encoding="utf-8")))
        env.update(os.environ if environ is None else environ)

        url = _first(env, "LUMA_URL", "RUSTKISS_URL", "VDB_BASE_URL")
        if url is None:
            port = _first(env, "PORT_LUMA_VDB", "PORT_RUST_KISS_VDB") or str(DEFAULT_PORT)
            url = f"http://127.0.0.1:{port}"
        key = _first(env, "LUMA_API_KEY", "RUSTKISS_API_KEY", "API_KEY")
        timeout = _number(_first(env, "LUMA_TIMEOUT", "RUSTKISS_TIMEOUT"), DEFAULT_TIMEOUT, float)
        retries = _number(_first(env, "LUMA_MAX_RETRIES"), DEFAULT_RETRIES, int)
        return cls(base_url=url.rstrip("/"), api_key=key, timeout=timeout, max_retries=retries)

    def create_client(self, **kwargs: Any) -> "Client":
        """A :class:`luma.Client` for this configuration (keyword arguments
        are passed on and override the configuration)."""
        from .client import Client

        opts: Dict[str, Any] = {
            "base_url": self.base_url,
            "api_key": self.api_key,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }
        opts.update(kwargs)
        return Client(**opts)


def _number(raw: Optional[str], default: Any, kind: Any) -> Any:
    if raw is None:
        return default
    try:
        v = kind(raw)
    except ValueError:
        return default  # the contract: unparseable numbers use the default
    return v if v >= 0 else default
