"""Compatibility package: the original ``rustkissvdb`` 0.1.0 SDK's API on
top of the Luma SDK, so code written for the original runs unchanged.

    from rustkissvdb import Client, Config, RustKissVDBError

Every call returns what the original returned (plain dicts and lists, as
decoded from the server's JSON) and every error is a
:class:`RustKissVDBError` whose ``str()`` is ``"<error> - <message>"``.
New code should use the :mod:`luma` package.
"""

from luma._version import __version__

from .client import Client, DocAPI, SQLAPI, StateAPI, StreamAPI, VectorAPI
from .config import Config
from .errors import RustKissVDBError
from .types import CollectionInfo, SearchResult

__all__ = [
    "__version__",
    "Client",
    "Config",
    "RustKissVDBError",
    "StateAPI",
    "VectorAPI",
    "DocAPI",
    "SQLAPI",
    "StreamAPI",
    "CollectionInfo",
    "SearchResult",
]
