package client_test

import (
	"errors"
	"testing"

	"github.com/luma-db/luma/pkg/client"
)

func skipNoRoute(t *testing.T, err error) {
	t.Helper()
	if client.IsNoRoute(err) {
		t.Skipf("route not available yet: %v", err)
	}
}

func TestSQL(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	_, err := c.SQL.Exec(ctx, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, score REAL, data BLOB)")
	skipNoRoute(t, err)
	if err != nil {
		t.Fatal(err)
	}
	res := must[*client.ExecResult](t)(c.SQL.Exec(ctx, "INSERT INTO notes(body, score, data) VALUES (?, ?, x'00ff')", "hello", 1.5))
	if res.RowsAffected != 1 || res.LastInsertID != 1 {
		t.Fatalf("exec = %+v", res)
	}
	must[*client.ExecResult](t)(c.SQL.Exec(ctx, "INSERT INTO notes(body) VALUES (:b)", client.Named{"b": "named"}))
	rows := must[[]client.Row](t)(c.SQL.Query(ctx, "SELECT id, body, score, data FROM notes ORDER BY id"))
	if len(rows) != 2 || rows[0]["body"] != "hello" || rows[0]["score"] != 1.5 || rows[0]["data"] != "AP8" || rows[1]["score"] != nil {
		t.Fatalf("rows = %v", rows)
	}
	sel := must[*client.Rows](t)(c.SQL.Select(ctx, "SELECT id, body FROM notes WHERE id > ?", 100))
	if len(sel.Rows) != 0 || len(sel.Columns) != 2 || sel.Columns[1] != "body" {
		t.Fatalf("select = %+v", sel)
	}
	var typed []struct {
		ID   int    `json:"id"`
		Body string `json:"body"`
	}
	if err := c.SQL.QueryInto(ctx, &typed, "SELECT id, body FROM notes ORDER BY id"); err != nil || len(typed) != 2 || typed[1].Body != "named" {
		t.Fatalf("QueryInto = %+v %v", typed, err)
	}
	b := must[*client.ExecResult](t)(c.SQL.Batch(ctx, []client.Statement{
		{SQL: "INSERT INTO notes(body) VALUES (?)", Params: []any{"a"}},
		{SQL: "UPDATE notes SET score = 2"},
	}))
	if b.RowsAffected != 4 || len(b.Results) != 2 || b.Results[1].RowsAffected != 3 {
		t.Fatalf("batch = %+v", b)
	}
	_, err = c.SQL.Batch(ctx, []client.Statement{{SQL: "INSERT INTO notes(body) VALUES ('x')"}, {SQL: "INSERT INTO nope VALUES (1)"}})
	if !errors.Is(err, client.ErrSQLite) {
		t.Fatalf("failing batch: %v", err)
	}
	if n := must[[]client.Row](t)(c.SQL.Query(ctx, "SELECT count(*) AS n FROM notes")); n[0]["n"] != 3.0 {
		t.Fatalf("count = %v: the failed batch was partly applied", n)
	}
	if _, err := c.SQL.Query(ctx, "DELETE FROM notes"); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("write via query: %v", err)
	}
	if _, err := c.SQL.Query(ctx, "SELECT * FROM nope"); !errors.Is(err, client.ErrSQLite) {
		t.Fatalf("bad table: %v", err)
	}
	_, off := start(t, "--no-sqlite")
	if _, err := off.SQL.Query(ctx, "SELECT 1"); !errors.Is(err, client.ErrNotEnabled) {
		t.Fatalf("disabled: %v", err)
	}
}
