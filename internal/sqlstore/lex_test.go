package sqlstore

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestAnalyzeStatements(t *testing.T) {
	cases := []struct {
		sql      string
		multiple bool
		verb     string
		dml      string
		params   string // slots joined by ","
	}{
		{sql: "select 1", verb: "select"},
		{sql: "select 1;", verb: "select"},
		{sql: "select 1 ; ; ;", verb: "select"},
		{sql: ";; select 1", verb: "select"},
		{sql: "select 1; select 2", multiple: true, verb: "select"},
		{sql: "select ';' ; ", verb: "select"},
		{sql: `select "a;b", [c;d], ` + "`e;f`", verb: "select"},
		{sql: "select 1 -- ; drop table t", verb: "select"},
		{sql: "select 1 /* ; drop */", verb: "select"},
		{sql: "select 1 /* unterminated ; drop", verb: "select"},
		{sql: "select 'unterminated ; drop", verb: "select"},
		{sql: "select x'00ff'; x", multiple: true, verb: "select"},
		{sql: "insert into t values(1); --\n", verb: "insert", dml: "insert"},
		{sql: "REPLACE INTO t VALUES(1)", verb: "replace", dml: "replace"},
		{sql: "update t set a = 1", verb: "update", dml: "update"},
		{sql: "delete from t", verb: "delete", dml: "delete"},
		{sql: "with a as (select 1) delete from t where x in a", verb: "with", dml: "delete"},
		{sql: "with a(x) as materialized (select 1), b as (insert) select * from a", verb: "with"},
		{sql: "with recursive r(x) as (select 1 union all select x+1 from r) insert into t select x from r", verb: "with", dml: "insert"},
		{sql: "create table t(x)", verb: "create"},
		{sql: "create trigger tr after insert on t begin select 1; select 2; end; ", verb: "create"},
		{sql: "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; END", verb: "create"},
		{sql: "create trigger tr after insert on t begin select 1; end; select 2", multiple: true, verb: "create"},
		{sql: "explain create trigger tr after insert on t begin select 1; end", verb: "explain"},
		{sql: "create table t(x); create trigger", multiple: true, verb: "create"},
		{sql: "", verb: ""},
		{sql: " ; -- x", verb: ""},
		{sql: "select ?, ?, ?", verb: "select", params: ",,"},
		{sql: "select ?3, ?", verb: "select", params: "?,?,?3,"},
		{sql: "select ?2, ?1, ?2", verb: "select", params: "?1,?2"},
		{sql: "select :a, @b, :a, $c, ?", verb: "select", params: ":a,@b,$c,"},
		{sql: "select $1, $2, $1", verb: "select", params: "$1,$2"},
		{sql: "select $a::b, :x", verb: "select", params: "$a::b,:x"},
		{sql: "select '?', \"?\", [?], ? -- ?", verb: "select", params: ""},
		{sql: "select ?0", verb: "select", params: ""},
		{sql: "select 1e-5, 0x1F, 1_000, .5e+3", verb: "select"},
	}
	for _, tc := range cases {
		st := analyze(tc.sql)
		if st.multiple != tc.multiple || st.verb != tc.verb || st.dmlVerb != tc.dml {
			t.Errorf("analyze(%q) = multiple %v verb %q dml %q; want %v %q %q", tc.sql, st.multiple, st.verb, st.dmlVerb, tc.multiple, tc.verb, tc.dml)
		}
		if got := strings.Join(st.params, ","); tc.params != "" && got != tc.params {
			t.Errorf("analyze(%q) params = %q, want %q", tc.sql, got, tc.params)
		}
	}
	// The one-parameter case: an anonymous ? is the empty name.
	if st := analyze("select ? -- x"); len(st.params) != 1 || st.params[0] != "" {
		t.Errorf("params of 'select ?' = %q", st.params)
	}
	if st := analyze("select '?'"); len(st.params) != 0 {
		t.Errorf("params of a quoted ? = %q", st.params)
	}
}

func TestFingerprint(t *testing.T) {
	for sql, want := range map[string]string{
		"INSERT INTO t(a, b) VALUES (1, 'x')":                          "insert into t (a, b) values (?, ?)",
		"update  T\n set v = -2.5 ,\tw = x'00' where id = :id -- note": "update t set v = ?, w = ? where id = :id",
		"select a - 1 from t where b = -1":                             "select a - ? from t where b = ?",
		`select "Mixed"."Case" from "Mixed"`:                           `select "Mixed"."Case" from "Mixed"`,
		"delete from t where id in (1,2,3);":                           "delete from t where id in (?, ?, ?)",
		"select x->>'$.a' from t where y >= 10":                        "select x ->> ? from t where y >= ?",
	} {
		if got := fingerprint(analyze(sql).toks); got != want {
			t.Errorf("fingerprint(%q)\n got %q\nwant %q", sql, got, want)
		}
	}
}

func TestHasSelectPrefix(t *testing.T) {
	for q, want := range map[string]bool{
		"select 1": true, "SELECT": true, "\u00a0\t select": true, "selec": false,
		" with x as (select 1) select 1": false, "(select 1)": false, "sélect": false,
	} {
		if got := hasSelectPrefix(q); got != want {
			t.Errorf("hasSelectPrefix(%q) = %v", q, got)
		}
	}
}

// FuzzAnalyze checks that the statement classifier never panics and keeps
// its invariants on any input.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		"select 1", "select 1; drop table t", "select ';'", "create trigger a after insert on t begin select 1; end",
		"select ?1, :a, @b, $c::d", "/* ; */ select", "'", "x'", "[", "--", "select 1e+", "with a as (select 1) delete from t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		st := analyze(sql)
		if len(st.params) > maxParamIndex {
			t.Fatalf("%d parameter slots", len(st.params))
		}
		for _, p := range st.params {
			if p != "" && p != "?" && !strings.ContainsAny(p[:1], "?:@$") {
				t.Fatalf("parameter slot %q", p)
			}
		}
		fp := fingerprint(st.toks)
		if strings.Contains(fp, "--") && !strings.Contains(sql, "--") {
			t.Fatalf("fingerprint %q invents a comment", fp)
		}
		// Appending a second statement after a complete first one is
		// always detected, unless the input leaves a string, identifier,
		// comment or trigger body open.
		if !st.multiple && len(st.toks) > 0 && completes(sql) {
			if two := analyze(sql + "\n;select 2"); !two.multiple {
				t.Fatalf("second statement after %q not detected", sql)
			}
		}
		_ = hasSelectPrefix(sql)
	})
}

// completes reports whether sql ends outside any quote, comment or trigger
// body, by lexing it with a marker appended.
func completes(sql string) bool {
	toks := lex(sql + "\n;\x00")
	if len(toks) < 2 {
		return false
	}
	last, semi := toks[len(toks)-1], toks[len(toks)-2]
	if last.kind != tokPunct || last.text != "\x00" || semi.kind != tokSemi {
		return false
	}
	state := stInvalid
	for _, tk := range toks[:len(toks)-1] {
		state = int(completeTrans[state][completeClass(tk)])
	}
	return state == stStart
}

// FuzzDecodeParams checks that any request body's params either decode to
// values the driver can bind or fail with the contract's *SQLiteError.
func FuzzDecodeParams(f *testing.F) {
	for _, s := range []string{
		`[]`, `null`, `[1, 2.5, "x", true, null]`, `{":a": 1, "b": "x"}`, `[[1]]`, `{"a": {}}`,
		`[18446744073709551616]`, `[1e400]`, `[-0]`, `["\u0000"]`, `{"": 1}`, `{"a":1,":a":2}`, `[1] x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := DecodeParams(raw)
		if err != nil {
			var se *SQLiteError
			if !errors.As(err, &se) || se.Code != 0 {
				t.Fatalf("DecodeParams(%q) error %v is not a *SQLiteError", raw, err)
			}
			return
		}
		values := p.positional
		if p.isNamed {
			for k, v := range p.named {
				if k == "" {
					t.Fatal("empty name accepted")
				}
				values = append(values, v)
			}
		}
		for _, v := range values {
			nv, err := normValue(v)
			if err != nil {
				t.Fatalf("decoded value %#v does not bind: %v", v, err)
			}
			switch nv.(type) {
			case nil, int64, float64, string:
			default:
				t.Fatalf("bound value %#v has type %T", nv, nv)
			}
		}
		// A valid JSON array decodes to exactly its length.
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) == nil && arr != nil && !p.isNamed && len(p.positional) != len(arr) {
			t.Fatalf("array of %d decoded to %d values", len(arr), len(p.positional))
		}
	})
}
