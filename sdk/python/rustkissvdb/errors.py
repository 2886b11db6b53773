"""The original SDK's single exception type."""

from __future__ import annotations

from luma.errors import LumaError

__all__ = ["RustKissVDBError", "from_luma"]


class RustKissVDBError(LumaError):
    """Raised for every failed request. ``str(e)`` is ``"<error> - <message>"``
    for JSON error bodies, the raw text otherwise, and ``"Connection error:
    ..."`` when the server could not be reached. The typed details are kept
    in ``code``, ``message``, ``status`` (it is a :class:`luma.LumaError`)."""

    def __init__(self, code: str = "", message: str = "", status=None, body=None, request_id=None) -> None:  # type: ignore[no-untyped-def]
        if code and not message and status is None and body is None:
            # RustKissVDBError("some text"): the original's one-string form.
            code, message = "", code
        super().__init__(code, message, status, body, request_id)

    def __str__(self) -> str:
        if self.code in ("connection_error", "timeout"):
            return f"Connection error: {self.message}"
        if not self.code or self.code.startswith("http_"):
            return self.message
        return f"{self.code} - {self.message}"


def from_luma(e: LumaError) -> RustKissVDBError:
    return RustKissVDBError(e.code, e.message, e.status, e.body, e.request_id)
