package client

import (
	"context"
	"encoding/json"
)

// SQLService is the server's embedded SQLite database.
type SQLService struct{ c *Client }

// Named passes named parameters (:name, @name, $name) instead of
// positional ones: c.SQL.Query(ctx, "SELECT * FROM t WHERE id = :id",
// client.Named{"id": 1}).
type Named map[string]any

// Row is one result row: column name → value (NULL → nil, INTEGER/REAL →
// float64 or json.Number-like float64, TEXT → string, BLOB → base64 text).
type Row map[string]any

// Rows is a query result with its column names in order.
type Rows struct {
	Columns []string `json:"columns"`
	Rows    []Row    `json:"rows"`
}

// ExecResult is the answer to Exec / Batch.
type ExecResult struct {
	RowsAffected int64 `json:"rows_affected"`
	LastInsertID int64 `json:"last_insert_id"`
	// Results holds each statement's outcome for a Batch.
	Results []StatementResult `json:"results"`
}

// StatementResult is one statement's outcome in a batch.
type StatementResult struct {
	RowsAffected int64 `json:"rows_affected"`
	LastInsertID int64 `json:"last_insert_id"`
}

// Statement is one statement of a batch.
type Statement struct {
	SQL    string
	Params []any // or one Named
}

type sqlBody struct {
	SQL        string    `json:"sql,omitempty"`
	Params     any       `json:"params"`
	Columns    bool      `json:"columns,omitempty"`
	Statements []sqlBody `json:"statements,omitempty"`
}

func params(args []any) any {
	if len(args) == 1 {
		if n, ok := args[0].(Named); ok {
			return map[string]any(n)
		}
	}
	if args == nil {
		return []any{}
	}
	return args
}

// Query runs a read-only statement with positional args (or one Named) and
// returns its rows. ErrInvalidArgument for a write; ErrSQLite when SQLite
// rejects it; ErrNotEnabled when SQLite is off.
func (s *SQLService) Query(ctx context.Context, sql string, args ...any) ([]Row, error) {
	r, err := s.query(ctx, sql, args, false)
	if err != nil {
		return nil, err
	}
	return r.Rows, nil
}

// Select is Query with the column names (also for an empty result).
func (s *SQLService) Select(ctx context.Context, sql string, args ...any) (*Rows, error) {
	return s.query(ctx, sql, args, true)
}

func (s *SQLService) query(ctx context.Context, sql string, args []any, columns bool) (*Rows, error) {
	var out Rows
	_, err := s.c.call(ctx, &request{method: "POST", path: "/v1/sql/query", body: sqlBody{SQL: sql, Params: params(args), Columns: columns}, idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// QueryInto runs Query and decodes the rows into out (a pointer to a
// slice of structs with json tags, or of maps).
func (s *SQLService) QueryInto(ctx context.Context, out any, sql string, args ...any) error {
	rows, err := s.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// Exec runs one statement of any kind.
func (s *SQLService) Exec(ctx context.Context, sql string, args ...any) (*ExecResult, error) {
	var out ExecResult
	if _, err := s.c.call(ctx, &request{method: "POST", path: "/v1/sql/exec", body: sqlBody{SQL: sql, Params: params(args)}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Batch runs statements in one transaction: all or none.
func (s *SQLService) Batch(ctx context.Context, stmts []Statement) (*ExecResult, error) {
	body := sqlBody{Statements: make([]sqlBody, len(stmts))}
	for i, st := range stmts {
		body.Statements[i] = sqlBody{SQL: st.SQL, Params: params(st.Params)}
	}
	body.Params = nil
	var out ExecResult
	if _, err := s.c.call(ctx, &request{method: "POST", path: "/v1/sql/exec", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
