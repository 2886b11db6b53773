"""SQLite over HTTP: ``client.sql``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union

from .models import ExecResult, QueryResult

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["SQLAPI", "Params"]

#: Positional (``[1, "a"]`` for ``?``) or named (``{"name": 1}`` for
#: ``:name``) parameters: null, bool, numbers and strings.
Params = Union[Sequence[Any], Mapping[str, Any], None]


def _body(sql: str, params: Params) -> Dict[str, Any]:
    body: Dict[str, Any] = {"sql": sql}
    if params is None:
        body["params"] = []
    elif isinstance(params, Mapping):
        body["params"] = dict(params)
    else:
        body["params"] = list(params)
    return body


class SQLAPI:
    """The server's embedded SQLite database."""

    def __init__(self, client: "Client") -> None:
        self._c = client

    def query(self, sql: str, params: Params = None) -> List[Dict[str, Any]]:
        """Run a read-only statement; rows as ``{column: value}`` dicts
        (BLOBs come back as base64 text).

        Raises:
            InvalidArgumentError: not a read statement.
            SQLiteError: SQLite rejected it.
            NotEnabledError: SQLite is off on this server.
        """
        r = self._c._request("POST", "/v1/sql/query", json_body=_body(sql, params), idempotent=True)
        return list((r.json() or {}).get("rows", []))

    def select(self, sql: str, params: Params = None) -> QueryResult:
        """Like :meth:`query`, with the column names in order (also for an
        empty result)."""
        body = _body(sql, params)
        body["columns"] = True
        r = self._c._request("POST", "/v1/sql/query", json_body=body, idempotent=True)
        data = r.json() or {}
        return QueryResult(list(data.get("rows", [])), list(data.get("columns") or []), data)

    def query_one(self, sql: str, params: Params = None) -> Optional[Dict[str, Any]]:
        """The first row of :meth:`query`, or ``None``."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Params = None) -> ExecResult:
        """Run one statement of any kind (DDL, INSERT, UPDATE...).

        Raises:
            SQLiteError: SQLite rejected it.
        """
        r = self._c._request("POST", "/v1/sql/exec", json_body=_body(sql, params))
        data = r.json() or {}
        return ExecResult(int(data.get("rows_affected") or 0), data)

    #: The original SDK's examples call ``sql.exec``.
    exec = execute

    def batch(self, statements: Sequence[Union[str, Sequence[Any], Mapping[str, Any]]]) -> ExecResult:
        """Run several statements in one transaction: all or none.

        Each statement is ``"SQL"``, ``("SQL", params)`` or ``{"sql",
        "params"}``. ``result.results`` has each statement's
        ``{rows_affected, last_insert_id}``; ``result.rows_affected`` is the
        total.

        Raises:
            SQLiteError: a statement failed; nothing was applied.
        """
        stmts: List[Dict[str, Any]] = []
        for st in statements:
            if isinstance(st, str):
                stmts.append(_body(st, None))
            elif isinstance(st, Mapping):
                stmts.append(_body(str(st["sql"]), st.get("params")))
            else:
                sql, params = st[0], (st[1] if len(st) > 1 else None)
                stmts.append(_body(str(sql), params))
        r = self._c._request("POST", "/v1/sql/exec", json_body={"statements": stmts})
        data = r.json() or {}
        return ExecResult(int(data.get("rows_affected") or 0), data)

    transaction = batch
