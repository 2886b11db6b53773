package filter_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/luma-db/luma/internal/filter"
)

// decodeBoth decodes doc JSON with float64 numbers and with json.Number.
func decodeBoth(t testing.TB, doc string) (f64, num any) {
	t.Helper()
	if err := json.Unmarshal([]byte(doc), &f64); err != nil {
		t.Fatalf("doc %s: %v", doc, err)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.UseNumber()
	if err := dec.Decode(&num); err != nil {
		t.Fatalf("doc %s: %v", doc, err)
	}
	return f64, num
}

func mustParse(t testing.TB, src string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse([]byte(src), nil)
	if err != nil {
		t.Fatalf("Parse(%s): %v", src, err)
	}
	return f
}

type matchCase struct {
	filter, doc string
	want        bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.filter+" ~ "+tc.doc, func(t *testing.T) {
			f := mustParse(t, tc.filter)
			f64, num := decodeBoth(t, tc.doc)
			if got := f.Match(f64); got != tc.want {
				t.Errorf("float64 doc: Match = %v, want %v", got, tc.want)
			}
			if got := f.Match(num); got != tc.want {
				t.Errorf("json.Number doc: Match = %v, want %v", got, tc.want)
			}
			// The rendered filter must mean the same thing.
			g := mustParse(t, f.String())
			if got := g.Match(num); got != tc.want {
				t.Errorf("reparsed %s: Match = %v, want %v", f.String(), got, tc.want)
			}
		})
	}
}

// TestContractCases pins the wire contract's filter rules (§4.5, §6, §9 #17).
func TestContractCases(t *testing.T) {
	runMatchCases(t, []matchCase{
		// {} and null match everything, whatever the document is.
		{`{}`, `{"a":1}`, true},
		{`{}`, `null`, true},
		{`{}`, `[1,2]`, true},
		{`null`, `{"a":1}`, true},
		{``, `{"a":1}`, true},
		{`  `, `"x"`, true},
		// A filter that is not an object matches nothing, not even {}.
		{`"a"`, `{"a":1}`, false},
		{`1`, `{}`, false},
		{`[]`, `{}`, false},
		{`[{"a":1}]`, `{"a":1}`, false},
		{`true`, `{}`, false},
		{`false`, `{}`, false},
		// Every key must exist with a deep-equal value; AND.
		{`{"a":1}`, `{"a":1,"b":2}`, true},
		{`{"a":1,"b":2}`, `{"a":1,"b":2}`, true},
		{`{"a":1,"b":3}`, `{"a":1,"b":2}`, false},
		{`{"c":1}`, `{"a":1}`, false},
		{`{"a":"x"}`, `{"a":"x"}`, true},
		{`{"a":"x"}`, `{"a":"X"}`, false},
		{`{"a":true}`, `{"a":true}`, true},
		{`{"a":true}`, `{"a":1}`, false},
		{`{"a":1}`, `{"a":"1"}`, false},
		// null must be present.
		{`{"a":null}`, `{"a":null}`, true},
		{`{"a":null}`, `{}`, false},
		// Numbers by value (§9 #17).
		{`{"a":1}`, `{"a":1.0}`, true},
		{`{"a":1.0}`, `{"a":1}`, true},
		{`{"a":100}`, `{"a":1e2}`, true},
		{`{"a":0}`, `{"a":-0.0}`, true},
		{`{"a":1.5}`, `{"a":1.50}`, true},
		{`{"a":[1,2.0]}`, `{"a":[1.0,2]}`, true},
		{`{"a":{"b":1}}`, `{"a":{"b":1.0}}`, true},
		// Arrays compare whole: no membership in the plain form.
		{`{"a":[1,2]}`, `{"a":[1,2]}`, true},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{"a":[1,2]}`, `{"a":[1,2,3]}`, false},
		{`{"a":1}`, `{"a":[1,2]}`, false},
		{`{"a":[]}`, `{"a":[]}`, true},
		// Objects compare whole too, and are not paths.
		{`{"a":{"b":1}}`, `{"a":{"b":1}}`, true},
		{`{"a":{"b":1}}`, `{"a":{"b":1,"c":2}}`, false},
		{`{"a":{}}`, `{"a":{}}`, true},
		{`{"a":{}}`, `{"a":{"b":1}}`, false},
		// Only objects have fields.
		{`{"a":1}`, `null`, false},
		{`{"a":1}`, `[{"a":1}]`, false},
		{`{"a":1}`, `"a"`, false},
	})
}

func TestOperatorCases(t *testing.T) {
	runMatchCases(t, []matchCase{
		// $eq: whole equality or membership in an array.
		{`{"a":{"$eq":1}}`, `{"a":1.0}`, true},
		{`{"a":{"$eq":1}}`, `{"a":[3,1]}`, true},
		{`{"a":{"$eq":1}}`, `{"a":[3,[1]]}`, false},
		{`{"a":{"$eq":[1,2]}}`, `{"a":[1,2]}`, true},
		{`{"a":{"$eq":[1,2]}}`, `{"a":[[1,2],3]}`, true},
		{`{"a":{"$eq":[1,2]}}`, `{"a":[2,1]}`, false},
		{`{"a":{"$eq":{"$gt":5}}}`, `{"a":{"$gt":5}}`, true},
		{`{"a":{"$eq":null}}`, `{"a":[1,null]}`, true},
		{`{"a":{"$eq":null}}`, `{}`, false},
		// $ne is the negation of $eq, so it matches a missing field.
		{`{"a":{"$ne":1}}`, `{"a":2}`, true},
		{`{"a":{"$ne":1}}`, `{"a":1}`, false},
		{`{"a":{"$ne":1}}`, `{"a":[0,1]}`, false},
		{`{"a":{"$ne":1}}`, `{}`, true},
		{`{"a":{"$ne":1}}`, `null`, true},
		// $in / $nin.
		{`{"a":{"$in":[1,"x",true]}}`, `{"a":"x"}`, true},
		{`{"a":{"$in":[1,"x",true]}}`, `{"a":1.0}`, true},
		{`{"a":{"$in":[1,"x",true]}}`, `{"a":false}`, false},
		{`{"a":{"$in":[1,"x",true]}}`, `{"a":["y",true]}`, true},
		{`{"a":{"$in":[null]}}`, `{"a":null}`, true},
		{`{"a":{"$in":[null]}}`, `{}`, false},
		{`{"a":{"$in":[[1,2],{"b":1}]}}`, `{"a":{"b":1.0}}`, true},
		{`{"a":{"$in":[[1,2],{"b":1}]}}`, `{"a":[1,2]}`, true},
		{`{"a":{"$in":[[1,2],{"b":1}]}}`, `{"a":[1]}`, false},
		{`{"a":{"$in":[]}}`, `{"a":1}`, false},
		{`{"a":{"$nin":[]}}`, `{"a":1}`, true},
		{`{"a":{"$nin":[1,2]}}`, `{"a":3}`, true},
		{`{"a":{"$nin":[1,2]}}`, `{"a":[3,2]}`, false},
		{`{"a":{"$nin":[1,2]}}`, `{}`, true},
		// Ordering: numbers by value, strings bytewise, no cross-kind order.
		{`{"a":{"$gt":5}}`, `{"a":6}`, true},
		{`{"a":{"$gt":5}}`, `{"a":5.0}`, false},
		{`{"a":{"$gte":5}}`, `{"a":5.0}`, true},
		{`{"a":{"$lt":5}}`, `{"a":-1e300}`, true},
		{`{"a":{"$lte":-0.5}}`, `{"a":-0.5}`, true},
		{`{"a":{"$gt":5}}`, `{"a":"6"}`, false},
		{`{"a":{"$gt":"5"}}`, `{"a":6}`, false},
		{`{"a":{"$gt":"b"}}`, `{"a":"ba"}`, true},
		{`{"a":{"$gt":"b"}}`, `{"a":"B"}`, false},
		{`{"a":{"$lt":"é"}}`, `{"a":"z"}`, true},
		{`{"a":{"$gt":5}}`, `{"a":null}`, false},
		{`{"a":{"$gt":5}}`, `{"a":true}`, false},
		{`{"a":{"$gt":5}}`, `{}`, false},
		{`{"a":{"$gt":5}}`, `{"a":{"b":6}}`, false},
		// Ordering on arrays: any element; each operator separately.
		{`{"a":{"$gt":5}}`, `{"a":[1,9]}`, true},
		{`{"a":{"$gt":5}}`, `{"a":[1,2]}`, false},
		{`{"a":{"$gt":1,"$lt":5}}`, `{"a":[0,10]}`, true},
		{`{"a":{"$gt":1,"$lt":5}}`, `{"a":0}`, false},
		{`{"a":{"$gt":1,"$lt":5}}`, `{"a":3}`, true},
		// $exists.
		{`{"a":{"$exists":true}}`, `{"a":null}`, true},
		{`{"a":{"$exists":true}}`, `{"b":1}`, false},
		{`{"a":{"$exists":false}}`, `{"b":1}`, true},
		{`{"a":{"$exists":false}}`, `{"a":false}`, false},
		{`{"a":{"$exists":false}}`, `7`, true},
		// Logical.
		{`{"$or":[{"a":1},{"b":2}]}`, `{"b":2}`, true},
		{`{"$or":[{"a":1},{"b":2}]}`, `{"b":3}`, false},
		{`{"$and":[{"a":1},{"b":2}]}`, `{"a":1,"b":2}`, true},
		{`{"$and":[{"a":1},{"b":2}]}`, `{"a":1}`, false},
		{`{"$not":{"a":1}}`, `{"a":2}`, true},
		{`{"$not":{"a":1}}`, `{"a":1}`, false},
		{`{"$not":{}}`, `{"a":1}`, false},
		{`{"$and":[{}]}`, `{"a":1}`, true},
		{`{"a":1,"$or":[{"b":1},{"c":1}]}`, `{"a":1,"c":1}`, true},
		{`{"a":1,"$or":[{"b":1},{"c":1}]}`, `{"a":2,"c":1}`, false},
		{`{"$or":[{"$and":[{"a":1},{"$not":{"b":1}}]},{"c":{"$exists":true}}]}`, `{"a":1,"b":2}`, true},
		{`{"$or":[{"$and":[{"a":1},{"$not":{"b":1}}]},{"c":{"$exists":true}}]}`, `{"a":1,"b":1}`, false},
		// Logical inside a field.
		{`{"a":{"$not":{"$gt":5}}}`, `{"a":3}`, true},
		{`{"a":{"$not":{"$gt":5}}}`, `{}`, true},
		{`{"a":{"$or":[{"$lt":0},{"$gt":10}]}}`, `{"a":11}`, true},
		{`{"a":{"$or":[{"$lt":0},{"$gt":10}]}}`, `{"a":5}`, false},
		{`{"a":{"$and":[{"$gte":0},{"$lte":10}]}}`, `{"a":10}`, true},
	})
}

// TestBigIntegers: integers beyond 2^53 compare exactly against documents
// decoded with UseNumber; float64 decoding has already rounded them.
func TestBigIntegers(t *testing.T) {
	f := mustParse(t, `{"a":{"$gt":9007199254740992}}`)
	eq := mustParse(t, `{"a":9007199254740993}`)
	f64, num := decodeBoth(t, `{"a":9007199254740993}`)
	if !f.Match(num) || !eq.Match(num) {
		t.Error("json.Number doc: 2^53+1 must be > 2^53 and equal to itself")
	}
	if f.Match(f64) || eq.Match(f64) {
		t.Error("float64 doc: 2^53+1 was rounded to 2^53 by the decoder")
	}
}

func TestDottedPaths(t *testing.T) {
	runMatchCases(t, []matchCase{
		{`{"a.b":1}`, `{"a":{"b":1}}`, true},
		{`{"a.b.c":"x"}`, `{"a":{"b":{"c":"x"}}}`, true},
		{`{"a.b":1}`, `{"a":{"b":2}}`, false},
		{`{"a.b":1}`, `{"a":1}`, false},
		{`{"a.b":1}`, `{"a":[{"b":1}]}`, false},
		// A literal top-level key wins over the nested path.
		{`{"a.b":1}`, `{"a.b":1,"a":{"b":2}}`, true},
		{`{"a.b":2}`, `{"a.b":1,"a":{"b":2}}`, false},
		{`{"a.b":{"$exists":true}}`, `{"a.b":null}`, true},
		// Nested keys containing dots are not reachable by a path.
		{`{"a.b.c":1}`, `{"a":{"b.c":1}}`, false},
		{`{"a.b.c":1}`, `{"a.b":{"c":1}}`, false},
		// Operators work on paths.
		{`{"a.n":{"$gt":1}}`, `{"a":{"n":[0,2]}}`, true},
		{`{"a.n":{"$exists":false}}`, `{"a":{"m":1}}`, true},
		// Odd paths are still just keys.
		{`{"":1}`, `{"":1}`, true},
		{`{"a.":1}`, `{"a":{"":1}}`, true},
		{`{".a":1}`, `{"":{"a":1}}`, true},
	})
}

func TestNilAndZeroFilter(t *testing.T) {
	var f *filter.Filter
	if !f.Match(map[string]any{"a": 1.0}) || !f.MatchesAll() {
		t.Fatal("nil filter must match everything")
	}
	if !(&filter.Filter{}).Match(nil) {
		t.Fatal("zero filter must match everything")
	}
	if f.String() != "{}" {
		t.Fatalf("nil filter renders as %q", f.String())
	}
	if !mustParse(t, `{}`).MatchesAll() || mustParse(t, `{"a":1}`).MatchesAll() {
		t.Fatal("MatchesAll wrong")
	}
}

// TestGoTypedDocuments: documents built in Go (ints, float32, Number) match
// like decoded ones; other Go types equal nothing but still exist.
func TestGoTypedDocuments(t *testing.T) {
	doc := map[string]any{
		"i": 3, "u": uint64(1 << 63), "f": float32(0.5), "n": filter.IntNumber(7),
		"s": struct{}{}, "nan": nan(), "jn": json.Number("12.0"),
	}
	cases := []struct {
		filter string
		want   bool
	}{
		{`{"i":3.0}`, true},
		{`{"i":{"$gt":2}}`, true},
		{`{"u":9223372036854775808}`, true},
		{`{"u":{"$gt":9223372036854775807}}`, true},
		{`{"f":0.5}`, true},
		{`{"n":{"$in":[7]}}`, true},
		{`{"jn":12}`, true},
		{`{"s":{"$exists":true}}`, true},
		{`{"s":{"$eq":{}}}`, false},
		{`{"s":{"$ne":null}}`, true},
		{`{"nan":{"$gte":0}}`, false},
		{`{"nan":{"$lt":0}}`, false},
		{`{"nan":{"$exists":true}}`, true},
	}
	for _, tc := range cases {
		if got := mustParse(t, tc.filter).Match(doc); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestMatchNodeHandBuilt(t *testing.T) {
	// A hand-built tree works without Parse's lookup set and with
	// non-canonical literals.
	c := &filter.Cmp{Field: "a", Op: filter.OpIn, Values: []any{1.0, "x"}}
	if !c.Match(map[string]any{"a": json.Number("1")}) {
		t.Fatal("hand-built $in missed 1")
	}
	r := &filter.Cmp{Field: "a", Op: filter.OpGte, Value: 2}
	if !r.Match(map[string]any{"a": 2.0}) || r.Match(map[string]any{"a": 1.0}) {
		t.Fatal("hand-built $gte wrong")
	}
	if filter.MatchNode(&filter.None{}, nil) || !filter.MatchNode(&filter.All{}, nil) {
		t.Fatal("All/None wrong")
	}
	// A hand-built OpEqual on an operator-looking object renders via $eq.
	eq := &filter.Filter{Root: &filter.Cmp{Field: "a", Op: filter.OpEqual, Value: map[string]any{"$gt": 1.0}}}
	if got := eq.String(); got != `{"a":{"$eq":{"$gt":1}}}` {
		t.Fatalf("String = %s", got)
	}
}
