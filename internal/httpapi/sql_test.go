package httpapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/servertest"
)

// sqlCase is one /v1/sql exchange and what must come back.
type sqlCase struct {
	name   string
	path   string // /v1/sql/query or /v1/sql/exec
	body   any
	status int
	code   string   // error code for error answers
	body2  string   // exact body for successes, when set
	has    []string // substrings of the body
	events int      // events the request must append
}

func runSQL(t *testing.T, in *servertest.Instance, cases []sqlCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := in.App.DB.LastOffset()
			r := in.Do("POST", c.path, c.body)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d; body %s", r.Status, c.status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
			if c.code != "" {
				var e struct{ Error, Message string }
				r.JSON(t, &e)
				if e.Error != c.code || e.Message == "" {
					t.Fatalf("error body %s, want code %q", r.Body, c.code)
				}
			}
			if c.body2 != "" && string(r.Body) != c.body2 {
				t.Fatalf("body\n got %s\nwant %s", r.Body, c.body2)
			}
			for _, h := range c.has {
				if !strings.Contains(string(r.Body), h) {
					t.Fatalf("body %s lacks %q", r.Body, h)
				}
			}
			if got := in.App.DB.LastOffset() - before; got != uint64(c.events) {
				t.Fatalf("%d events appended, want %d", got, c.events)
			}
		})
	}
}

func TestSQLRoutes(t *testing.T) {
	in := servertest.Start(t, nil)
	const q, x = "/v1/sql/query", "/v1/sql/exec"
	runSQL(t, in, []sqlCase{
		{name: "create table", path: x, body: map[string]any{"sql": "create table t(id integer primary key, i integer, r real, s text, b blob)"},
			status: 200, body2: `{"rows_affected":0,"last_insert_id":0}`, events: 1},
		{name: "insert with positional params", path: x,
			body:   `{"sql": "insert into t(i, r, s, b) values(?, ?, ?, x'ff00'), (?, ?, ?, null)", "params": [9007199254740993, 1.0, "a", true, 2.5, null]}`,
			status: 200, body2: `{"rows_affected":2,"last_insert_id":2}`, events: 1},
		{name: "query typed rows in column order", path: q, body: map[string]any{"sql": "select id, i, r, s, b from t order by id"},
			status: 200, body2: `{"rows":[{"id":1,"i":9007199254740993,"r":1.0,"s":"a","b":"/wA"},{"id":2,"i":1,"r":2.5,"s":null,"b":null}]}`},
		{name: "query with columns", path: q, body: map[string]any{"sql": "select s, id from t where id = ?", "params": []any{1}, "columns": true},
			status: 200, body2: `{"rows":[{"s":"a","id":1}],"columns":["s","id"]}`},
		{name: "named params", path: q, body: map[string]any{"sql": "select id from t where s = :s", "params": map[string]any{"s": "a"}},
			status: 200, body2: `{"rows":[{"id":1}]}`},
		{name: "empty result", path: q, body: map[string]any{"sql": "select * from t where id < 0"}, status: 200, body2: `{"rows":[]}`},
		{name: "non-finite REAL is null", path: q, body: map[string]any{"sql": "select 1e999 as inf"}, status: 200, body2: `{"rows":[{"inf":null}]}`},
		{name: "update", path: x, body: map[string]any{"sql": "update t set s = 'z' where id >= ?", "params": []any{1}},
			status: 200, body2: `{"rows_affected":2,"last_insert_id":0}`, events: 1},

		{name: "query rejects non-select", path: q, body: map[string]any{"sql": "delete from t"}, status: 400, code: "invalid_argument",
			has: []string{"sql query endpoint only accepts SELECT statements"}},
		{name: "query rejects WITH", path: q, body: map[string]any{"sql": "with a as (select 1) select * from a"}, status: 400, code: "invalid_argument"},
		{name: "query rejects a second statement", path: q, body: map[string]any{"sql": "select 1; drop table t"}, status: 400, code: "sqlite_error",
			has: []string{"multiple statements"}},
		{name: "sqlite error text", path: q, body: map[string]any{"sql": "select * from missing"}, status: 400, code: "sqlite_error", has: []string{"no such table: missing"}},
		{name: "array param", path: q, body: `{"sql": "select ?", "params": [[1]]}`, status: 400, code: "sqlite_error", has: []string{"unsupported parameter type"}},
		{name: "object param", path: x, body: `{"sql": "insert into t(s) values(?)", "params": [{"a": 1}]}`, status: 400, code: "sqlite_error"},
		{name: "wrong param count", path: q, body: `{"sql": "select ?, ?", "params": [1]}`, status: 400, code: "sqlite_error", has: []string{"2 parameter(s) but 1 value(s)"}},
		{name: "params of the wrong shape", path: q, body: `{"sql": "select 1", "params": "x"}`, status: 422, code: "invalid_argument"},
		{name: "sql missing", path: q, body: `{"params": []}`, status: 422, code: "invalid_argument"},
		{name: "sql not a string", path: x, body: `{"sql": 5}`, status: 422, code: "invalid_argument"},
		{name: "malformed JSON", path: x, body: `{"sql": `, status: 400, code: "invalid_argument"},
		{name: "constraint error writes nothing", path: x, body: `{"sql": "insert into t(id) values(1)"}`, status: 400, code: "sqlite_error",
			has: []string{"UNIQUE constraint failed"}},
		{name: "exec rejects two statements", path: x, body: `{"sql": "delete from t; drop table t"}`, status: 400, code: "sqlite_error"},
		{name: "exec rejects BEGIN", path: x, body: `{"sql": "BEGIN"}`, status: 400, code: "invalid_argument", has: []string{"batch"}},
		{name: "exec rejects empty", path: x, body: `{"sql": "  "}`, status: 400, code: "invalid_argument"},
	})

	// The rows still hold what the successful calls wrote.
	r := in.MustStatus(200, "POST", q, map[string]any{"sql": "select count(*) as n, min(s) as s from t"})
	if string(r.Body) != `{"rows":[{"n":2,"s":"z"}]}` {
		t.Fatalf("after the failures: %s", r.Body)
	}
}

func TestSQLExecEvent(t *testing.T) {
	in := servertest.Start(t, nil)
	in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)"})
	before := in.App.DB.LastOffset()
	in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": "insert into notes(body) values('secret text'), (?)", "params": []any{"secret param"}})
	evs, err := in.App.DB.ReadEvents(before+1, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events after exec: %d, %v", len(evs), err)
	}
	var env struct {
		Offset uint64 `json:"offset"`
		Type   string `json:"type"`
		Data   struct {
			Fingerprint  string `json:"fingerprint"`
			RowsAffected int64  `json:"rows_affected"`
			Statements   int    `json:"statements"`
		} `json:"data"`
	}
	if err := json.Unmarshal(evs[0].Envelope, &env); err != nil {
		t.Fatal(err)
	}
	if env.Type != "sql_exec" || env.Offset != before+1 || env.Data.Fingerprint != "insert into notes (body) values (?), (?)" ||
		env.Data.RowsAffected != 2 || env.Data.Statements != 1 {
		t.Fatalf("event %s", evs[0].Envelope)
	}
	if strings.Contains(string(evs[0].Envelope), "secret") {
		t.Fatalf("event leaks values: %s", evs[0].Envelope)
	}
}

func TestSQLExecBatch(t *testing.T) {
	in := servertest.Start(t, nil)
	const x = "/v1/sql/exec"
	in.MustStatus(200, "POST", x, map[string]any{"sql": "create table acct(id integer primary key, bal integer check (bal >= 0))"})
	runSQL(t, in, []sqlCase{
		{name: "batch commits together", path: x, body: `{"statements": [
			{"sql": "insert into acct values(1, 100)"},
			{"sql": "insert into acct values(?, ?)", "params": [2, 0]},
			{"sql": "update acct set bal = bal - 40 where id = :id", "params": {"id": 1}}]}`,
			status: 200, body2: `{"rows_affected":3,"last_insert_id":2,"results":[{"rows_affected":1,"last_insert_id":1},{"rows_affected":1,"last_insert_id":2},{"rows_affected":1,"last_insert_id":0}]}`,
			events: 1},
		{name: "failing statement rolls back all", path: x, body: `{"statements": [
			{"sql": "update acct set bal = bal + 100 where id = 2"},
			{"sql": "update acct set bal = bal - 100 where id = 1"}]}`,
			status: 400, code: "sqlite_error", has: []string{"statement 1", "CHECK constraint failed"}},
		{name: "sql and statements together", path: x, body: `{"sql": "select 1", "statements": [{"sql": "select 1"}]}`, status: 400, code: "invalid_argument"},
		{name: "empty batch", path: x, body: `{"statements": []}`, status: 400, code: "invalid_argument"},
		{name: "statement without sql", path: x, body: `{"statements": [{"params": []}]}`, status: 422, code: "invalid_argument", has: []string{"statements[0].sql"}},
		{name: "bad params in a batch", path: x, body: `{"statements": [{"sql": "select ?", "params": [[1]]}]}`, status: 400, code: "sqlite_error", has: []string{"statement 0"}},
		{name: "transaction control in a batch", path: x, body: `{"statements": [{"sql": "commit"}]}`, status: 400, code: "invalid_argument"},
	})
	r := in.MustStatus(200, "POST", "/v1/sql/query", map[string]any{"sql": "select id, bal from acct order by id"})
	if string(r.Body) != `{"rows":[{"id":1,"bal":60},{"id":2,"bal":0}]}` {
		t.Fatalf("balances %s", r.Body)
	}
}

func TestSQLLimits(t *testing.T) {
	cfg := servertest.Config(t)
	cfg.SQLMaxRows = 3
	in := servertest.Start(t, cfg)
	in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": "create table big(x integer)"})
	in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{
		"sql": "insert into big with recursive r(x) as (select 1 union all select x + 1 from r where x < 1500) select x from r"})
	runSQL(t, in, []sqlCase{
		{name: "at the cap", path: "/v1/sql/query", body: map[string]any{"sql": "select x from big limit 3"}, status: 200, body2: `{"rows":[{"x":1},{"x":2},{"x":3}]}`},
		{name: "over the cap", path: "/v1/sql/query", body: map[string]any{"sql": "select x from big"}, status: 400, code: "invalid_argument",
			has: []string{"more than 3 rows; add LIMIT or raise SQL_MAX_ROWS"}},
	})

	// A statement past SQL_QUERY_TIMEOUT_MS is interrupted (the triple
	// cross join would run for many minutes otherwise). The table is made
	// by an instance with the default limit, on a loaded machine too.
	dir := t.TempDir()
	setup := servertest.Start(t, servertest.DiskConfig(t, dir))
	setup.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{
		"sql": "create table big as with recursive r(x) as (select 1 union all select x + 1 from r where x < 1500) select x from r"})
	setup.Close()
	cfg2 := servertest.DiskConfig(t, dir)
	cfg2.SQLQueryTimeout = 100 * time.Millisecond
	in2 := servertest.Start(t, cfg2)
	runSQL(t, in2, []sqlCase{
		{name: "query timeout", path: "/v1/sql/query", body: map[string]any{"sql": "select count(*) from big a, big b, big c"},
			status: 408, code: "timeout", has: []string{"SQL_QUERY_TIMEOUT_MS"}},
		{name: "exec timeout writes nothing", path: "/v1/sql/exec", body: map[string]any{"sql": "insert into big select a.x from big a, big b, big c"},
			status: 408, code: "timeout"},
	})
	r := in2.MustStatus(200, "POST", "/v1/sql/query", map[string]any{"sql": "select count(*) as n from big"})
	if string(r.Body) != `{"rows":[{"n":1500}]}` {
		t.Fatalf("after the timed-out insert: %s", r.Body)
	}
}

func TestSQLDisabled(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--no-sqlite"))
	for _, p := range []string{"/v1/sql/query", "/v1/sql/exec"} {
		r := in.MustStatus(404, "POST", p, map[string]any{"sql": "select 1"})
		if string(r.Body) != `{"error":"not_enabled","message":"sqlite module is disabled"}` {
			t.Fatalf("%s: %s", p, r.Body)
		}
	}
}

func TestSQLSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	in := servertest.Start(t, servertest.DiskConfig(t, dir))
	in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": "create table kept(v text)"})
	in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": "insert into kept values(?)", "params": []any{"still here"}})
	in.Close()
	if _, err := os.Stat(filepath.Join(dir, "sqlite", "rustkiss.db")); err != nil {
		t.Fatalf("database file: %v", err)
	}
	in2 := servertest.Start(t, servertest.DiskConfig(t, dir))
	r := in2.MustStatus(200, "POST", "/v1/sql/query", map[string]any{"sql": "select v from kept"})
	if string(r.Body) != `{"rows":[{"v":"still here"}]}` {
		t.Fatalf("after restart: %s", r.Body)
	}
	r = in2.MustStatus(200, "POST", "/v1/sql/query", map[string]any{"sql": "select * from pragma_integrity_check"})
	if string(r.Body) != `{"rows":[{"integrity_check":"ok"}]}` {
		t.Fatalf("integrity: %s", r.Body)
	}
}
