package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// openTest opens a store under t.TempDir (in a nested directory, which Open
// must create) and, on cleanup, closes it and checks the file's integrity
// through a fresh store.
func openTest(t *testing.T, o Options) *Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "sqlite", "nested", "luma.db")
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		checkIntegrity(t, o.Path)
	})
	return s
}

func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatalf("reopen for integrity check: %v", err)
	}
	defer s.Close()
	res, err := s.Query(context.Background(), "select * from pragma_integrity_check", Params{})
	if err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != "ok" {
		t.Fatalf("integrity_check = %v, want [[ok]]", res.Rows)
	}
}

func mustExec(t *testing.T, s *Store, q string, args ...any) ExecResult {
	t.Helper()
	r, err := s.Exec(context.Background(), q, Positional(args...))
	if err != nil {
		t.Fatalf("Exec(%q): %v", q, err)
	}
	return r
}

func mustQuery(t *testing.T, s *Store, q string, p Params) *Result {
	t.Helper()
	r, err := s.Query(context.Background(), q, p)
	if err != nil {
		t.Fatalf("Query(%q): %v", q, err)
	}
	return r
}

func decode(t *testing.T, raw string) Params {
	t.Helper()
	p, err := DecodeParams([]byte(raw))
	if err != nil {
		t.Fatalf("DecodeParams(%s): %v", raw, err)
	}
	return p
}

func TestOpenDefaultsAndValidation(t *testing.T) {
	if _, err := Open(Options{}); err == nil {
		t.Fatal("Open with empty path succeeded")
	}
	if _, err := Open(Options{Path: filepath.Join(t.TempDir(), "x.db"), Synchronous: "sometimes"}); err == nil {
		t.Fatal("Open with a bad synchronous level succeeded")
	}
	s := openTest(t, Options{Synchronous: "normal"})
	if s.opts.BusyTimeout != DefaultBusyTimeout || s.opts.Readers != DefaultReaders ||
		s.opts.QueryTimeout != DefaultQueryTimeout || s.opts.MaxRows != DefaultMaxRows || s.opts.Synchronous != "NORMAL" {
		t.Fatalf("defaults not applied: %+v", s.opts)
	}
	if !filepath.IsAbs(s.Path()) {
		t.Fatalf("Path() = %q, want absolute", s.Path())
	}
	var mode string
	if err := s.readers.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk, busy int
	if err := s.writer.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v", fk, err)
	}
	if err := s.writer.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 5000 {
		t.Fatalf("busy_timeout = %d, %v", busy, err)
	}
}

func TestQueryTyping(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table t(i integer, r real, s text, b blob, n)")
	mustExec(t, s, "insert into t values(?, ?, ?, ?, ?)", int64(-7), 2.5, "héllo", []byte{0xff, 0x00, 0x01}, nil)
	mustExec(t, s, "insert into t values(?, ?, ?, ?, ?)", int64(9007199254740993), 1.0, "", []byte{0x01}, nil)

	res := mustQuery(t, s, "select i, r, s, b, n, 1e999 as inf, -1e999 as ninf, 0.0/0 as nan from t order by rowid", Params{})
	wantCols := []string{"i", "r", "s", "b", "n", "inf", "ninf", "nan"}
	if strings.Join(res.Columns, ",") != strings.Join(wantCols, ",") {
		t.Fatalf("columns = %v, want %v", res.Columns, wantCols)
	}
	want := [][]any{
		{int64(-7), 2.5, "héllo", "/wAB", nil, nil, nil, nil},
		{int64(9007199254740993), 1.0, "", "AQ", nil, nil, nil, nil},
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(res.Rows), len(want))
	}
	for i, row := range res.Rows {
		for j, v := range row {
			if v != want[i][j] {
				t.Errorf("row %d col %s = %#v (%T), want %#v (%T)", i, res.Columns[j], v, v, want[i][j], want[i][j])
			}
		}
	}

	// JSON: keys in column order, exact integers, REAL keeps its fraction,
	// unpadded base64, non-finite as null.
	got := rowsJSON(t, res)
	wantJSON := `[{"i":-7,"r":2.5,"s":"héllo","b":"/wAB","n":null,"inf":null,"ninf":null,"nan":null},` +
		`{"i":9007199254740993,"r":1.0,"s":"","b":"AQ","n":null,"inf":null,"ninf":null,"nan":null}]`
	if string(got) != wantJSON {
		t.Fatalf("JSON\n got %s\nwant %s", got, wantJSON)
	}
}

func TestQueryEmptyResultAndDuplicateColumns(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table a(id integer, v text)")
	res := mustQuery(t, s, "select * from a", Params{})
	if res.Rows == nil || len(res.Rows) != 0 {
		t.Fatalf("rows = %#v, want empty non-nil", res.Rows)
	}
	if got := rowsJSON(t, res); string(got) != "[]" {
		t.Fatalf("JSON = %s, want []", got)
	}

	res = mustQuery(t, s, "select 1 as id, 'x' as v, 2 as id", Params{})
	if strings.Join(res.Columns, ",") != "id,v,id" {
		t.Fatalf("columns = %v", res.Columns)
	}
	got := rowsJSON(t, res)
	if string(got) != `[{"id":2,"v":"x"}]` {
		t.Fatalf("duplicate columns JSON = %s", got)
	}
	if v, ok := res.Objects()[0].Get("id"); !ok || v != int64(2) {
		t.Fatalf("Get(id) = %v, %v", v, ok)
	}
}

// rowsJSON returns res.AppendRows, after checking that it is the same
// JSON, token for token and in the same order, as json.Marshal of
// res.Objects() (which escapes <, > and & where AppendRows does not).
func rowsJSON(t *testing.T, res *Result) []byte {
	t.Helper()
	got := res.AppendRows(nil)
	ref, err := json.Marshal(res.Objects())
	if err != nil {
		t.Fatal(err)
	}
	tokens := func(b []byte) []any {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var out []any
		for {
			tok, err := d.Token()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			out = append(out, tok)
		}
	}
	if !reflect.DeepEqual(tokens(got), tokens(ref)) {
		t.Fatalf("AppendRows %s\n differs from json.Marshal %s", got, ref)
	}
	return got
}

func TestRowsJSONStrings(t *testing.T) {
	s := openTest(t, Options{})
	res := mustQuery(t, s, `select '<a href="x">&amp;</a>' as "quoted ""name""", char(0, 8, 9, 10, 12, 13, 31) as ctl, 'é 日本 🚀' || char(8232) as uni, x'00ff' as b`, Params{})
	got := string(rowsJSON(t, res))
	want := `[{"quoted \"name\"":"<a href=\"x\">&amp;</a>","ctl":"\u0000\b\t\n\f\r\u001f","uni":"é 日本 🚀\u2028","b":"AP8"}]`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestFloatJSON(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -3: "-3.0", 2.5: "2.5", 1e20: "100000000000000000000.0",
		1e21: "1e+21", 1e-7: "1e-07", 0.000001: "0.000001",
	} {
		if got := string(appendFloat(nil, f)); got != want {
			t.Errorf("appendFloat(%v) = %s, want %s", f, got, want)
		}
		var back float64
		if err := json.Unmarshal(appendFloat(nil, f), &back); err != nil || back != f {
			t.Errorf("appendFloat(%v) does not read back: %v %v", f, back, err)
		}
	}
}

func TestDateDeclaredColumnsStayText(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table ev(d date, dt datetime, ts timestamp default current_timestamp, ms timestamp)")
	mustExec(t, s, "insert into ev(d, dt, ms) values(date('now'), datetime('now'), '2024-02-29 10:11:12.345')")
	mustExec(t, s, "insert into ev(d, dt, ts, ms) values('2024-02-29', '2024-02-29 23:59:58', '2024-02-29 00:00:00', '2024-02-29 10:11:12.345')")
	mustExec(t, s, "insert into ev(d, dt, ts, ms) values('not a date', 'x', '1999-12-31 23:59:59+02:00', 'tomorrow')")
	res := mustQuery(t, s, "select d, dt, ts, ms, d||'', dt||'', ts||'', ms||'' from ev order by rowid", Params{})
	for i, row := range res.Rows {
		for j := 0; j < 4; j++ {
			if row[j] != row[j+4] {
				t.Errorf("row %d column %s = %#v, stored text %#v", i, res.Columns[j], row[j], row[j+4])
			}
		}
	}
}

func TestParamsPositional(t *testing.T) {
	s := openTest(t, Options{})
	p := decode(t, `[true, false, 9007199254740993, 1.5, 2.0, "txt", null, 18446744073709551615, -9223372036854775808]`)
	res := mustQuery(t, s, "select ?, ?, ?, ?, typeof(?), ?, ?, typeof(?), ?", p)
	want := []any{int64(1), int64(0), int64(9007199254740993), 1.5, "real", "txt", nil, "real", int64(-9223372036854775808)}
	for i, v := range res.Rows[0] {
		if v != want[i] {
			t.Errorf("param %d = %#v, want %#v", i, v, want[i])
		}
	}
	// ?NNN numbering and reuse.
	res = mustQuery(t, s, "select ?2, ?1, ?2", Positional("a", "b"))
	if fmt.Sprint(res.Rows[0]) != "[b a b]" {
		t.Fatalf("?NNN = %v", res.Rows[0])
	}
	// A positional list also binds named placeholders by index.
	res = mustQuery(t, s, "select :x, @y, :x, ?", Positional(int64(1), int64(2), int64(3)))
	if fmt.Sprint(res.Rows[0]) != "[1 2 1 3]" {
		t.Fatalf("positional to named = %v", res.Rows[0])
	}
	// Postgres-style $N are bound by their number.
	res = mustQuery(t, s, "select $2, $1", Positional("one", "two"))
	if fmt.Sprint(res.Rows[0]) != "[two one]" {
		t.Fatalf("$N = %v", res.Rows[0])
	}
	// Placeholders inside strings, identifiers and comments do not count.
	res = mustQuery(t, s, "select '?', \"?\" , ? -- ?\n /* :x */", decode(t, `[5]`))
	if fmt.Sprint(res.Rows[0]) != "[? ? 5]" {
		t.Fatalf("quoted placeholders = %v", res.Rows[0])
	}
	// No params: absent, null and [] are alike.
	for _, raw := range []string{``, `null`, `[]`, ` `} {
		mustQuery(t, s, "select 1", decode(t, raw))
	}
}

func TestParamsNamed(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table u(id integer primary key, name text, age integer)")
	p := decode(t, `{":id": 1, "name": "ann", "$age": 40}`)
	if _, err := s.Exec(context.Background(), "insert into u values(:id, @name, $age)", p); err != nil {
		t.Fatal(err)
	}
	res := mustQuery(t, s, "select name, age from u where id = :id and age = :age", decode(t, `{"id": 1, "age": 40}`))
	if len(res.Rows) != 1 || res.Rows[0][0] != "ann" || res.Rows[0][1] != int64(40) {
		t.Fatalf("named query = %v", res.Rows)
	}
	// The same name used twice binds once.
	res = mustQuery(t, s, "select :v + :v", decode(t, `{"v": 2}`))
	if res.Rows[0][0] != int64(4) {
		t.Fatalf(":v + :v = %v", res.Rows[0][0])
	}
	if _, err := Named(map[string]any{":a": 1, "a": 2}); err == nil {
		t.Fatal("Named accepted :a and a together")
	}
}

func TestParamErrors(t *testing.T) {
	s := openTest(t, Options{})
	cases := []struct {
		name, sql string
		params    Params
		msg       string
	}{
		{"too few", "select ?, ?", Positional(int64(1)), "2 parameter(s) but 1 value(s)"},
		{"too many", "select ?", Positional(int64(1), int64(2)), "1 parameter(s) but 2 value(s)"},
		{"none expected", "select 1", Positional(int64(1)), "0 parameter(s) but 1 value(s)"},
		{"array value", "select ?", decodeErrless(`[[1]]`), "unsupported parameter type"},
		{"object value", "select ?", Positional(map[string]any{"a": 1}), "unsupported parameter type"},
		{"missing name", "select :a, :b", decodeErrless(`{"a": 1}`), "missing value for parameter :b"},
		{"unknown name", "select :a", decodeErrless(`{"a": 1, "zz": 2}`), "unknown parameter(s) zz"},
		{"named for positional", "select ?", decodeErrless(`{"a": 1}`), "send params as an array"},
		{"shared name", "select :a, @a", Positional(int64(1), int64(2)), "share a name"},
		{"odd name", "select :_x", Positional(int64(1)), "not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Query(context.Background(), tc.sql, tc.params)
			var se *SQLiteError
			if !errors.As(err, &se) || se.Code != 0 || se.ServerFault() {
				t.Fatalf("err = %v (%T), want *SQLiteError with code 0", err, err)
			}
			if !strings.Contains(se.Msg, tc.msg) {
				t.Fatalf("message %q does not contain %q", se.Msg, tc.msg)
			}
		})
	}
	// DecodeParams rejects nested values and non-container params at once.
	for _, raw := range []string{`[1, [2]]`, `[{"a":1}]`, `{"a": [1]}`, `"x"`, `5`, `[1] [2]`, `[1,`, `[1e400]`} {
		_, err := DecodeParams([]byte(raw))
		var se *SQLiteError
		if !errors.As(err, &se) {
			t.Errorf("DecodeParams(%s) = %v, want *SQLiteError", raw, err)
		}
	}
}

// decodeErrless builds Params from JSON without rejecting nested values, to
// reach the check at bind time.
func decodeErrless(raw string) Params {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		panic(err)
	}
	switch x := v.(type) {
	case []any:
		return Positional(x...)
	case map[string]any:
		p, err := Named(x)
		if err != nil {
			panic(err)
		}
		return p
	}
	panic("not a container")
}

func TestSQLiteErrors(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table t(id integer primary key, v text not null unique)")
	mustExec(t, s, "insert into t(v) values('a')")
	for _, tc := range []struct{ sql, msg string }{
		{"select * from nope", "no such table"},
		{"selectx 1", "syntax error"},
		{"insert into t(v) values('a')", "UNIQUE constraint failed"},
		{"insert into t(v) values(null)", "NOT NULL constraint failed"},
	} {
		var err error
		if hasSelectPrefix(tc.sql) {
			_, err = s.Query(context.Background(), tc.sql, Params{})
		} else {
			_, err = s.Exec(context.Background(), tc.sql, Params{})
		}
		var se *SQLiteError
		if !errors.As(err, &se) || se.Code == 0 || se.ServerFault() || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%s: err = %v (%T), want *SQLiteError containing %q", tc.sql, err, err, tc.msg)
		}
	}
}

func TestQueryRejectsNonSelect(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table t(x)")
	for _, q := range []string{
		"insert into t values(1)",
		"with a as (select 1) select * from a",
		"/* comment */ select 1",
		"-- c\nselect 1",
		"pragma query_only=0",
		"sel",
		"",
		"explain select 1",
	} {
		if _, err := s.Query(context.Background(), q, Params{}); !errors.Is(err, ErrNotSelect) {
			t.Errorf("Query(%q) = %v, want ErrNotSelect", q, err)
		}
	}
	if ErrNotSelect.Error() != "sql query endpoint only accepts SELECT statements" {
		t.Fatal("ErrNotSelect text differs from the contract")
	}
	for _, q := range []string{"SELECT 1", " \t\n select 1", "SeLeCt 1;", "select 1;;", "select ';' -- ;\n"} {
		if _, err := s.Query(context.Background(), q, Params{}); err != nil {
			t.Errorf("Query(%q): %v", q, err)
		}
	}
}

func TestQueryCannotWrite(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table x(v)")
	mustExec(t, s, "insert into x values(1)")
	for _, q := range []string{
		"select 1; drop table x",
		"select 1; delete from x",
		"SELECT * FROM x;\n PRAGMA query_only=0; DELETE FROM x",
		"select 1 /* ; */ ; insert into x values(2)",
	} {
		if _, err := s.Query(context.Background(), q, Params{}); !errors.Is(err, ErrMultipleStatements) {
			t.Errorf("Query(%q) = %v, want ErrMultipleStatements", q, err)
		}
	}
	// Even a write sent straight to a reader connection fails in SQLite.
	for _, q := range []string{"delete from x", "drop table x", "pragma query_only=0; insert into x values(3)"} {
		if _, err := s.readers.Exec(q); err == nil {
			t.Errorf("reader connection ran %q", q)
		}
	}
	res := mustQuery(t, s, "select count(*) from x", Params{})
	if res.Rows[0][0] != int64(1) {
		t.Fatalf("table x changed: %v", res.Rows)
	}
}

func TestRowCap(t *testing.T) {
	s := openTest(t, Options{MaxRows: 10})
	mustExec(t, s, "create table t(x)")
	for i := 0; i < 10; i++ {
		mustExec(t, s, "insert into t values(?)", int64(i))
	}
	if res := mustQuery(t, s, "select * from t", Params{}); len(res.Rows) != 10 {
		t.Fatalf("got %d rows, want 10", len(res.Rows))
	}
	mustExec(t, s, "insert into t values(10)")
	_, err := s.Query(context.Background(), "select * from t", Params{})
	if !errors.Is(err, ErrTooManyRows) || !strings.Contains(err.Error(), "more than 10 rows; add LIMIT or raise SQL_MAX_ROWS") {
		t.Fatalf("err = %v, want ErrTooManyRows with the limit", err)
	}
	if res := mustQuery(t, s, "select * from t limit 10", Params{}); len(res.Rows) != 10 {
		t.Fatalf("with LIMIT: %d rows", len(res.Rows))
	}
}

// slowSetup creates a table big enough that a triple cross join runs for
// minutes: the tests below only finish because the statement is interrupted.
func slowSetup(t *testing.T, s *Store) {
	t.Helper()
	mustExec(t, s, "create table big(x integer)")
	mustExec(t, s, "insert into big with recursive r(x) as (select 1 union all select x + 1 from r where x < 2000) select x from r")
}

func TestQueryTimeoutInterrupts(t *testing.T) {
	s := openTest(t, Options{Readers: 1})
	slowSetup(t, s)
	s.opts.QueryTimeout = 200 * time.Millisecond
	_, err := s.Query(context.Background(), "select count(*) from big a, big b, big c", Params{})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if st := s.Stats(); st.Timeouts != 1 {
		t.Fatalf("Stats.Timeouts = %d", st.Timeouts)
	}
	// The single reader connection is usable again.
	if res := mustQuery(t, s, "select count(*) from big", Params{}); res.Rows[0][0].(int64) == 0 {
		t.Fatal("big is empty")
	}
	// A caller deadline earlier than QueryTimeout also interrupts.
	s.opts.QueryTimeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Query(ctx, "select count(*) from big a, big b, big c", Params{}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("caller deadline: err = %v, want ErrTimeout", err)
	}
	// Cancellation (a client hanging up) is not a timeout.
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		for s.Stats().InUseReaders == 0 {
			runtime.Gosched()
		}
		cancel()
	}()
	if _, err := s.Query(ctx, "select count(*) from big a, big b, big c", Params{}); !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("cancel: err = %v, want context.Canceled", err)
	}
}

func TestExecTimeoutRollsBack(t *testing.T) {
	s := openTest(t, Options{})
	slowSetup(t, s)
	mustExec(t, s, "create table sink(x)")
	s.opts.QueryTimeout = 200 * time.Millisecond
	_, err := s.Exec(context.Background(), "insert into sink select a.x from big a, big b, big c", Params{})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if res := mustQuery(t, s, "select count(*) from sink", Params{}); res.Rows[0][0] != int64(0) {
		t.Fatalf("sink has %v rows after a timed-out insert", res.Rows[0][0])
	}
	// The writer is usable again.
	s.opts.QueryTimeout = DefaultQueryTimeout
	mustExec(t, s, "insert into sink values(1)")
}

func TestExecResults(t *testing.T) {
	s := openTest(t, Options{})
	if r := mustExec(t, s, "create table t(id integer primary key, v text)"); r != (ExecResult{}) {
		t.Fatalf("create table = %+v", r)
	}
	if r := mustExec(t, s, "insert into t(v) values('a'), ('b'), ('c')"); r.RowsAffected != 3 || r.LastInsertID != 3 {
		t.Fatalf("insert = %+v", r)
	}
	// DDL after DML reports 0, not the previous statement's count.
	if r := mustExec(t, s, "create index t_v on t(v)"); r != (ExecResult{}) {
		t.Fatalf("create index after insert = %+v", r)
	}
	if r := mustExec(t, s, "update t set v = v || '!' where id >= ?", int64(2)); r.RowsAffected != 2 || r.LastInsertID != 0 {
		t.Fatalf("update = %+v", r)
	}
	if r := mustExec(t, s, "with old as (select id from t where id = 1) delete from t where id in old"); r.RowsAffected != 1 {
		t.Fatalf("with ... delete = %+v", r)
	}
	if r := mustExec(t, s, "insert or ignore into t(id, v) values(2, 'dup')"); r != (ExecResult{}) {
		t.Fatalf("ignored insert = %+v", r)
	}
	if r := mustExec(t, s, "select 1"); r != (ExecResult{}) {
		t.Fatalf("select via exec = %+v", r)
	}
	if r := mustExec(t, s, "vacuum"); r != (ExecResult{}) {
		t.Fatalf("vacuum = %+v", r)
	}
	// A trigger body's semicolons belong to one statement.
	mustExec(t, s, `create trigger tr after insert on t begin
		update t set v = upper(v) where id = new.id;
		select case when new.v = 'x' then 1 end;
	end;`)
	mustExec(t, s, "insert into t(v) values('low')")
	if res := mustQuery(t, s, "select v from t order by id desc limit 1", Params{}); res.Rows[0][0] != "LOW" {
		t.Fatalf("trigger did not run: %v", res.Rows)
	}
}

func TestExecRejects(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table t(x)")
	for q, want := range map[string]error{
		"":                                      ErrEmptyStatement,
		" ;; -- nothing\n":                      ErrEmptyStatement,
		"insert into t values(1); drop table t": ErrMultipleStatements,
		"begin":                                 ErrTransactionControl,
		"BEGIN IMMEDIATE":                       ErrTransactionControl,
		"commit":                                ErrTransactionControl,
		"end transaction":                       ErrTransactionControl,
		"rollback":                              ErrTransactionControl,
		"savepoint a":                           ErrTransactionControl,
		"release a":                             ErrTransactionControl,
	} {
		if _, err := s.Exec(context.Background(), q, Params{}); !errors.Is(err, want) {
			t.Errorf("Exec(%q) = %v, want %v", q, err, want)
		}
	}
	if res := mustQuery(t, s, "select count(*) from t", Params{}); res.Rows[0][0] != int64(0) {
		t.Fatal("a rejected statement wrote")
	}
	if _, err := s.ExecBatch(context.Background(), nil); !errors.Is(err, ErrEmptyStatement) {
		t.Fatalf("empty batch = %v", err)
	}
}

func TestExecBatchAtomic(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table acct(id integer primary key, bal integer not null check (bal >= 0))")
	mustExec(t, s, "insert into acct values(1, 100), (2, 0)")

	_, err := s.ExecBatch(context.Background(), []Statement{
		{SQL: "create table audit(msg text)"},
		{SQL: "insert into audit values('moving')"},
		{SQL: "update acct set bal = bal + 150 where id = 2"},
		{SQL: "update acct set bal = bal - 150 where id = ?", Params: Positional(int64(1))},
	})
	var se *SQLiteError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "statement 3") || !strings.Contains(se.Msg, "CHECK constraint failed") {
		t.Fatalf("err = %v, want statement 3 CHECK failure", err)
	}
	res := mustQuery(t, s, "select bal from acct order by id", Params{})
	if fmt.Sprint(res.Rows) != "[[100] [0]]" {
		t.Fatalf("balances changed: %v", res.Rows)
	}
	if _, err := s.Query(context.Background(), "select * from audit", Params{}); err == nil {
		t.Fatal("table created in a failed batch exists")
	}

	// A bad statement is refused before anything runs.
	if _, err := s.ExecBatch(context.Background(), []Statement{{SQL: "delete from acct"}, {SQL: "commit"}}); !errors.Is(err, ErrTransactionControl) {
		t.Fatalf("batch with commit = %v", err)
	}
	results, err := s.ExecBatch(context.Background(), []Statement{
		{SQL: "update acct set bal = bal - 30 where id = 1"},
		{SQL: "update acct set bal = bal + 30 where id = 2"},
		{SQL: "insert into acct values(3, 7)"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(results) != "[{1 0} {1 0} {1 3}]" {
		t.Fatalf("results = %v", results)
	}
	res = mustQuery(t, s, "select bal from acct order by id", Params{})
	if fmt.Sprint(res.Rows) != "[[70] [30] [7]]" {
		t.Fatalf("balances = %v", res.Rows)
	}
}

func TestOnExecEvents(t *testing.T) {
	var (
		mu     sync.Mutex
		events []ExecEvent
		fail   atomic.Bool
	)
	s := openTest(t, Options{OnExec: func(ctx context.Context, e ExecEvent) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fail.Load() {
			return errors.New("log unavailable")
		}
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		return nil
	}})
	mustExec(t, s, "CREATE TABLE  t(id INTEGER PRIMARY KEY, v TEXT) -- the table")
	mustExec(t, s, "insert into t(v) values('secret'), (?)", "param-secret")
	if _, err := s.ExecBatch(context.Background(), []Statement{
		{SQL: "update t set v = 'x' where id = 1"},
		{SQL: "delete from t where id = -2"},
	}); err != nil {
		t.Fatal(err)
	}
	// A failing statement emits nothing.
	if _, err := s.Exec(context.Background(), "insert into nope values(1)", Params{}); err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
	want := []ExecEvent{
		{Fingerprint: "create table t (id integer primary key, v text)", Statements: 1},
		{Fingerprint: "insert into t (v) values (?), (?)", RowsAffected: 2, Statements: 1},
		{Fingerprint: "update t set v = ? where id = ?; delete from t where id = ?", RowsAffected: 1, Statements: 2},
	}
	mu.Lock()
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("events\n got %+v\nwant %+v", events, want)
	}
	mu.Unlock()

	// The hook fails: the write is committed, the error says so.
	fail.Store(true)
	r, err := s.Exec(context.Background(), "insert into t(v) values('kept')", Params{})
	var ee *EventError
	if !errors.Is(err, ErrEventNotRecorded) || !errors.As(err, &ee) || ee.Err.Error() != "log unavailable" {
		t.Fatalf("err = %v, want *EventError", err)
	}
	if r.RowsAffected != 1 {
		t.Fatalf("result with event error = %+v", r)
	}
	if res := mustQuery(t, s, "select count(*) from t where v = 'kept'", Params{}); res.Rows[0][0] != int64(1) {
		t.Fatal("write not committed when the event failed")
	}
	fail.Store(false)

	// A caller that cancels after the commit still gets its event recorded:
	// the hook's context is not cancelled with the request.
	ctx, cancel := context.WithCancel(context.Background())
	s.opts.OnExec = func(hctx context.Context, e ExecEvent) error {
		cancel()
		return hctx.Err()
	}
	if _, err := s.Exec(ctx, "insert into t(v) values('late')", Params{}); err != nil {
		t.Fatalf("exec with cancel during hook: %v", err)
	}
}

func TestPragmaRestoresConnectionSettings(t *testing.T) {
	s := openTest(t, Options{})
	mustExec(t, s, "create table p(id integer primary key)")
	mustExec(t, s, "create table c(pid integer references p(id))")
	mustExec(t, s, "pragma foreign_keys = off")
	mustExec(t, s, "pragma query_only = 1")
	// Leaving WAL needs exclusive access; with readers open SQLite refuses.
	if _, err := s.Exec(context.Background(), "pragma journal_mode = delete", Params{}); err == nil {
		t.Fatal("journal_mode = delete succeeded with readers open")
	}
	mustExec(t, s, "pragma user_version = 7")
	if _, err := s.Exec(context.Background(), "insert into c values(42)", Params{}); err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Fatalf("foreign key not enforced after pragma: %v", err)
	}
	mustExec(t, s, "insert into p values(1)")
	if res := mustQuery(t, s, "select * from pragma_user_version", Params{}); res.Rows[0][0] != int64(7) {
		t.Fatalf("user_version = %v", res.Rows)
	}
	var mode string
	if err := s.writer.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
}

func TestConcurrentReadersAndWriters(t *testing.T) {
	s := openTest(t, Options{Readers: 4, Synchronous: "NORMAL"})
	mustExec(t, s, "create table c(id integer primary key, w integer, n integer)")
	const (
		goroutines = 20
		opsEach    = 150
		// The run is bounded in time too: under -race on a loaded
		// machine the driver is slow. The checks do not depend on how
		// many operations ran.
		maxRun = 3 * time.Second
	)
	deadline := time.Now().Add(maxRun)
	var (
		wg       sync.WaitGroup
		inserted atomic.Int64
		errCount atomic.Int64
		firstErr sync.Once
	)
	report := func(err error) {
		errCount.Add(1)
		firstErr.Do(func() { t.Errorf("unexpected error: %v", err) })
	}
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; i < opsEach && time.Now().Before(deadline); i++ {
				switch {
				case g%2 == 0 && i%5 == 0:
					_, err := s.ExecBatch(ctx, []Statement{
						{SQL: "insert into c(w, n) values(?, ?)", Params: Positional(int64(g), int64(i))},
						{SQL: "insert into c(w, n) values(:w, :n)", Params: mustNamed(map[string]any{"w": g, "n": -i})},
					})
					if err != nil {
						report(err)
						continue
					}
					inserted.Add(2)
				case g%2 == 0:
					if _, err := s.Exec(ctx, "insert into c(w, n) values(?, ?)", Positional(int64(g), int64(i))); err != nil {
						report(err)
						continue
					}
					inserted.Add(1)
				default:
					res, err := s.Query(ctx, "select count(*), coalesce(max(id), 0) from c where w >= ?", Positional(int64(0)))
					if err != nil {
						report(err)
						continue
					}
					if n, max := res.Rows[0][0].(int64), res.Rows[0][1].(int64); n > max {
						report(fmt.Errorf("count %d > max id %d", n, max))
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if errCount.Load() != 0 {
		t.Fatalf("%d unexpected errors", errCount.Load())
	}
	res := mustQuery(t, s, "select count(*) from c", Params{})
	if got := res.Rows[0][0].(int64); got != inserted.Load() {
		t.Fatalf("rows = %d, acknowledged inserts = %d", got, inserted.Load())
	}
	st := s.Stats()
	if st.Errors != 0 || st.OpenReaders > 4 || st.Queries == 0 || st.Execs == 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func mustNamed(m map[string]any) Params {
	p, err := Named(m)
	if err != nil {
		panic(err)
	}
	return p
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "re.db")
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, "create table k(v)")
	mustExec(t, s, "insert into k values('persisted')")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Query(context.Background(), "select 1", Params{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Query after Close = %v", err)
	}
	if _, err := s.Exec(context.Background(), "select 1", Params{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Exec after Close = %v", err)
	}
	s2 := openTest(t, Options{Path: path})
	res := mustQuery(t, s2, "select v from k", Params{})
	if len(res.Rows) != 1 || res.Rows[0][0] != "persisted" {
		t.Fatalf("after reopen: %v", res.Rows)
	}
}

func TestCloseWaitsForInFlight(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	var hookDone atomic.Bool
	s, err := Open(Options{
		Path: filepath.Join(t.TempDir(), "w.db"),
		OnExec: func(context.Context, ExecEvent) error {
			close(entered)
			<-release
			hookDone.Store(true)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	execErr := make(chan error, 1)
	go func() {
		_, err := s.Exec(context.Background(), "create table w(x)", Params{})
		execErr <- err
	}()
	<-entered
	closed := make(chan bool, 1)
	go func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		closed <- hookDone.Load()
	}()
	// Wait until Close has stopped new calls, then let the exec finish.
	for {
		if _, err := s.Query(context.Background(), "select 1", Params{}); errors.Is(err, ErrClosed) {
			break
		}
		runtime.Gosched()
	}
	close(release)
	if !<-closed {
		t.Fatal("Close returned before the in-flight Exec finished")
	}
	if err := <-execErr; err != nil {
		t.Fatalf("in-flight Exec: %v", err)
	}
}

// BenchmarkRowsJSON encodes a 1000-row answer (integer id, 100-byte text,
// real) through encoding/json over the row objects, as /v1/sql/query did
// before (the objects' MarshalJSON now shares appendObject, so this
// understates the old cost a little), and with AppendRows, as it does now.
func BenchmarkRowsJSON(b *testing.B) {
	res := &Result{Columns: []string{"id", "v", "score"}}
	for i := range 1000 {
		res.Rows = append(res.Rows, []any{int64(i), strings.Repeat("x", 90) + fmt.Sprintf("%010d", i), float64(i) / 7})
	}
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(struct {
				Rows []Object `json:"rows"`
			}{res.Objects()}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			buf := append(make([]byte, 0, 64), `{"rows":`...)
			_ = append(res.AppendRows(buf), '}')
		}
	})
}
