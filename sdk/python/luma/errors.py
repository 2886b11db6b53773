"""Typed exceptions for every error code of the Luma wire contract.

Every error the server sends has the body ``{"error": "<code>", "message":
"<text>"}``; the SDK raises the exception class registered for ``<code>``
(falling back on the HTTP status class for codes it does not know), and
``str(exc)`` is ``"<code> - <message>"``, exactly like the original
``rustkissvdb`` SDK, so code that matches substrings such as
``"already_exists"`` or ``"revision"`` keeps working.

Hierarchy::

    LumaError
    ├── LumaConnectionError          (no HTTP answer; .code == "connection_error")
    │   └── LumaTimeoutError         (socket timeout; .code == "timeout")
    ├── InvalidArgumentError         400/422 invalid_argument
    │   ├── DimMismatchError         dim_mismatch
    │   └── UnsupportedMediaTypeError
    ├── UnauthorizedError            401
    ├── ForbiddenError               403
    ├── NotFoundError                404 not_found
    ├── MethodNotAllowedError        405
    ├── RequestTimeoutError          408 timeout
    ├── ConflictError                409
    │   ├── RevisionMismatchError    revision_mismatch
    │   └── AlreadyExistsError       already_exists
    ├── PayloadTooLargeError         413
    ├── NotEnabledError              not_enabled (404 for SQL, 501 for keys)
    ├── SQLiteError                  sqlite_error
    ├── NotSupportedError            not_supported
    └── ServerError                  5xx
        ├── PersistenceError         persistence_error
        └── UnavailableError         503 unavailable
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Type

__all__ = [
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
    "error_from_response",
]


class LumaError(Exception):
    """Base class of every error the SDK raises.

    Attributes:
        code: the server's error code (``"not_found"``, ``"revision_mismatch"``,
            ...), ``"connection_error"`` / ``"timeout"`` when no answer came, or
            ``"http_<status>"`` when the body was not a JSON error.
        message: the server's message (or the raw body / the OS error).
        status: the HTTP status, ``None`` when no answer came.
        body: the decoded JSON error body (``{}`` when there was none). Atomic
            batches put a ``results`` list in it (see :attr:`results`).
        request_id: the ``X-Request-ID`` of the answer, when there was one.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        status: Optional[int] = None,
        body: Optional[Dict[str, Any]] = None,
        request_id: Optional[str] = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.body: Dict[str, Any] = body or {}
        self.request_id = request_id
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.code:
            return self.message
        return f"{self.code} - {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, status={self.status!r})"

    @property
    def results(self) -> Optional[list]:
        """Per-item results sent with a failed atomic batch, if any."""
        r = self.body.get("results")
        return r if isinstance(r, list) else None

    @property
    def is_no_route(self) -> bool:
        """True when the server has no route for the request (an older or
        newer server than this SDK): a 404 whose message starts with
        ``no route``."""
        return self.status == 404 and self.code == "not_found" and self.message.startswith("no route")


class LumaConnectionError(LumaError):
    """The request got no HTTP answer (refused, reset, DNS failure...)."""

    def __init__(self, message: str) -> None:
        super().__init__("connection_error", message)

    def __str__(self) -> str:
        # The legacy RAG client raised "Connection error: ..." (CONTRACT.md §8).
        return f"Connection error: {self.message}"


class LumaTimeoutError(LumaConnectionError):
    """No answer within the client's timeout."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "timeout"


class InvalidArgumentError(LumaError):
    """400/422 ``invalid_argument``: the request was malformed or out of range."""


class DimMismatchError(InvalidArgumentError):
    """400 ``dim_mismatch``: a vector's length differs from the collection's dim."""


class UnsupportedMediaTypeError(InvalidArgumentError):
    """415 ``unsupported_media_type``."""


class UnauthorizedError(LumaError):
    """401 ``unauthorized``: missing, malformed or wrong API key."""


class ForbiddenError(LumaError):
    """403 ``forbidden``: the key's role does not allow this route."""


class NotFoundError(LumaError):
    """404 ``not_found``: key, collection, vector, document or route missing."""


class MethodNotAllowedError(LumaError):
    """405 ``method_not_allowed``."""


class RequestTimeoutError(LumaError):
    """408 ``timeout``: the server gave up on the request (a write's outcome
    is unknown)."""


class ConflictError(LumaError):
    """409: a conflict (see the two subclasses)."""


class RevisionMismatchError(ConflictError):
    """409 ``revision_mismatch``: a compare-and-set (``if_revision``) failed."""


class AlreadyExistsError(ConflictError):
    """409 ``already_exists``: the collection or id exists."""


class PayloadTooLargeError(LumaError):
    """413 ``payload_too_large``: body or JSON value over the server's limit."""


class NotEnabledError(LumaError):
    """``not_enabled``: the module (SQLite, key store) is off on this server."""


class SQLiteError(LumaError):
    """400 ``sqlite_error``: SQLite rejected the statement (driver text)."""


class NotSupportedError(LumaError):
    """501 ``not_supported``."""


class ServerError(LumaError):
    """5xx: the server failed (``internal``, ``internal_error``, ...)."""


class PersistenceError(ServerError):
    """500 ``persistence_error``: a durable write failed."""


class UnavailableError(ServerError):
    """503 ``unavailable``: the server is shutting down; retry elsewhere or later."""


_BY_CODE: Dict[str, Type[LumaError]] = {
    "invalid_argument": InvalidArgumentError,
    "dim_mismatch": DimMismatchError,
    "unsupported_media_type": UnsupportedMediaTypeError,
    "unauthorized": UnauthorizedError,
    "forbidden": ForbiddenError,
    "not_found": NotFoundError,
    "method_not_allowed": MethodNotAllowedError,
    "timeout": RequestTimeoutError,
    "revision_mismatch": RevisionMismatchError,
    "already_exists": AlreadyExistsError,
    "payload_too_large": PayloadTooLargeError,
    "not_enabled": NotEnabledError,
    "sqlite_error": SQLiteError,
    "not_supported": NotSupportedError,
    "persistence_error": PersistenceError,
    "internal": ServerError,
    "internal_error": ServerError,
    "unavailable": UnavailableError,
}

_BY_STATUS: Dict[int, Type[LumaError]] = {
    400: InvalidArgumentError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    408: RequestTimeoutError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: InvalidArgumentError,
    503: UnavailableError,
}


def error_class(code: str, status: Optional[int]) -> Type[LumaError]:
    """The exception class for an error code (or, for unknown codes, the
    HTTP status)."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls
    if status is not None:
        if status in _BY_STATUS:
            return _BY_STATUS[status]
        if status >= 500:
            return ServerError
    return LumaError


def error_from_response(
    status: int, content_type: str, body: bytes, request_id: Optional[str] = None
) -> LumaError:
    """Build the exception for an HTTP answer with status >= 400."""
    data: Any = None
    if content_type.startswith("application/json") and body:
        try:
            data = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        code = data["error"]
        message = data.get("message")
        if not isinstance(message, str):
            message = body.decode("utf-8", "replace")
        return error_class(code, status)(code, message, status, data, request_id)
    text = body.decode("utf-8", "replace").strip()
    code = f"http_{status}"
    return error_class(code, status)(code, text or f"HTTP {status}", status, {}, request_id)
