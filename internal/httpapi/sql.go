package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/luma-db/luma/internal/jsonx"
	"github.com/luma-db/luma/internal/sqlstore"
)

// SQL routes (CONTRACT.md §4.6). Both exist even with SQLite disabled, so
// that auth applies first and the answer is the contract's 404 not_enabled.
func (s *Server) sqlRoutes() []route {
	return []route{
		{method: "POST", pattern: "/v1/sql/query", access: accessRead, handler: s.sqlQuery},
		{method: "POST", pattern: "/v1/sql/exec", access: accessWrite, handler: s.sqlExec},
	}
}

// maxSQLBatch bounds the statements of one /v1/sql/exec batch.
const maxSQLBatch = 1000

// sqlRequest is the body of both routes. sql and params are the contract's;
// columns (query) and statements (exec) are Luma extensions.
type sqlRequest struct {
	SQL        *string           `json:"sql"`
	Params     json.RawMessage   `json:"params"`
	Columns    bool              `json:"columns"`
	Statements []sqlStatementReq `json:"statements"`
}

type sqlStatementReq struct {
	SQL    *string         `json:"sql"`
	Params json.RawMessage `json:"params"`
}

type sqlExecResponse struct {
	RowsAffected int64            `json:"rows_affected"`
	LastInsertID int64            `json:"last_insert_id"`
	Results      []sqlExecOutcome `json:"results,omitempty"`
}

type sqlExecOutcome struct {
	RowsAffected int64 `json:"rows_affected"`
	LastInsertID int64 `json:"last_insert_id"`
}

var errSQLDisabled = newError(http.StatusNotFound, codeNotEnabled, "sqlite module is disabled")

// sqlParams decodes a params member. Absent and null bind nothing; an array
// is positional (contract), an object named (extension); anything else is a
// body of the wrong shape (422, as the original's typed decoding did).
func sqlParams(raw json.RawMessage, field string) (sqlstore.Params, error) {
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] != '[' && t[0] != '{' && !bytes.Equal(t, []byte("null")) {
		return sqlstore.Params{}, errUnprocessable("field %q: expected an array (positional) or an object (named), got %s", field, t)
	}
	return sqlstore.DecodeParams(t)
}

func requiredSQL(v *string, field string) (string, error) {
	if v == nil {
		return "", errUnprocessable("field %q is required: the SQL statement", field)
	}
	return *v, nil
}

// POST /v1/sql/query {sql, params?, columns?} → {rows: [{column: value}], columns?}
func (s *Server) sqlQuery(w http.ResponseWriter, r *http.Request) error {
	if s.d.SQL == nil {
		return errSQLDisabled
	}
	var req sqlRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	q, err := requiredSQL(req.SQL, "sql")
	if err != nil {
		return err
	}
	params, err := sqlParams(req.Params, "params")
	if err != nil {
		return err
	}
	res, err := s.d.SQL.Query(r.Context(), q, params)
	if err != nil {
		return err
	}
	// {"rows":[...],"columns":[...]} appended directly: going through
	// encoding/json re-validates every row's JSON, which doubled the
	// encoding time of a 1000-row answer (docs/BENCHMARKS.md).
	b := make([]byte, 0, 64+len(res.Rows)*16*max(len(res.Columns), 1))
	b = append(b, `{"rows":`...)
	b = res.AppendRows(b)
	if req.Columns {
		b = append(b, `,"columns":[`...)
		for i, c := range res.Columns {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonx.AppendString(b, c)
		}
		b = append(b, ']')
	}
	writeRawJSON(w, http.StatusOK, append(b, '}'))
	return nil
}

// POST /v1/sql/exec {sql, params?} → {rows_affected, last_insert_id}
// POST /v1/sql/exec {statements: [{sql, params?}]} → the same with the
// total and per-statement results, all in one transaction.
func (s *Server) sqlExec(w http.ResponseWriter, r *http.Request) error {
	if s.d.SQL == nil {
		return errSQLDisabled
	}
	var req sqlRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Statements != nil {
		return s.sqlExecBatch(w, r, req)
	}
	q, err := requiredSQL(req.SQL, "sql")
	if err != nil {
		return err
	}
	params, err := sqlParams(req.Params, "params")
	if err != nil {
		return err
	}
	res, err := s.d.SQL.Exec(r.Context(), q, params)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sqlExecResponse{RowsAffected: res.RowsAffected, LastInsertID: res.LastInsertID})
	return nil
}

func (s *Server) sqlExecBatch(w http.ResponseWriter, r *http.Request, req sqlRequest) error {
	if req.SQL != nil {
		return errInvalid(`send either "sql" (one statement) or "statements" (a batch), not both`)
	}
	if len(req.Statements) == 0 {
		return errInvalid(`"statements" must hold at least one statement`)
	}
	if len(req.Statements) > maxSQLBatch {
		return errInvalid("too many statements: at most %d per batch", maxSQLBatch)
	}
	stmts := make([]sqlstore.Statement, len(req.Statements))
	for i, st := range req.Statements {
		field := fmt.Sprintf("statements[%d].sql", i)
		q, err := requiredSQL(st.SQL, field)
		if err != nil {
			return err
		}
		params, err := sqlParams(st.Params, fmt.Sprintf("statements[%d].params", i))
		if err != nil {
			return fmt.Errorf("statement %d: %w", i, err)
		}
		stmts[i] = sqlstore.Statement{SQL: q, Params: params}
	}
	results, err := s.d.SQL.ExecBatch(r.Context(), stmts)
	if err != nil {
		return err
	}
	out := sqlExecResponse{Results: make([]sqlExecOutcome, len(results))}
	for i, res := range results {
		out.RowsAffected += res.RowsAffected
		out.Results[i] = sqlExecOutcome{RowsAffected: res.RowsAffected, LastInsertID: res.LastInsertID}
		if res.LastInsertID != 0 {
			out.LastInsertID = res.LastInsertID
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// sqlMessage is the wire text of a store error: the store's own error text
// without its package prefix.
func sqlMessage(err error) string {
	return strings.ReplaceAll(err.Error(), "sqlstore: ", "")
}

// mapSQLError maps the sqlstore errors (see internal/sqlstore/doc.go).
func mapSQLError(err error) *apiError {
	var (
		se *sqlstore.SQLiteError
		ee *sqlstore.EventError
	)
	switch {
	case errors.Is(err, sqlstore.ErrNotSelect):
		return errInvalid("%s", sqlstore.ErrNotSelect.Error())
	case errors.As(err, &ee):
		return newError(http.StatusInternalServerError, codePersistence,
			"the SQL write was committed, but its sql_exec event could not be recorded ("+ee.Err.Error()+"); do not retry the write")
	case errors.Is(err, sqlstore.ErrTimeout):
		return newError(http.StatusRequestTimeout, codeTimeout,
			sqlMessage(err)+" (SQL_QUERY_TIMEOUT_MS); nothing was written")
	case errors.Is(err, sqlstore.ErrTooManyRows):
		return errInvalid("%s", strings.TrimPrefix(sqlMessage(err), "too many rows: "))
	case errors.Is(err, sqlstore.ErrEmptyStatement), errors.Is(err, sqlstore.ErrTransactionControl):
		return errInvalid("%s", sqlMessage(err))
	case errors.Is(err, sqlstore.ErrMultipleStatements):
		return newError(http.StatusBadRequest, codeSQLiteError, sqlMessage(err))
	case errors.As(err, &se):
		if se.ServerFault() {
			return newError(http.StatusInternalServerError, codePersistence, sqlMessage(err))
		}
		return newError(http.StatusBadRequest, codeSQLiteError, sqlMessage(err))
	case errors.Is(err, sqlstore.ErrClosed):
		return newError(http.StatusServiceUnavailable, codeUnavailable, "server is shutting down; retry against a running instance")
	}
	return nil
}
