package bitmapindex

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/luma-db/luma/internal/filter"
)

// FuzzEvalMatch: for any filter and any list of documents, the index agrees
// with Match (equal when exact, a superset otherwise, sure ⊆ matches), also
// after removing every other document, with small buckets and a shallow
// depth limit so splits and truncation happen on small inputs.
func FuzzEvalMatch(f *testing.F) {
	seeds := [][2]string{
		{`{"a":1}`, `[{"a":1.0},{"a":[1]},{"a":"1"},null]`},
		{`{"a":{"$eq":1}}`, `[{"a":[0,1]},{"a":1},{"b":1}]`},
		{`{"a.b":{"$gte":"m"}}`, `[{"a":{"b":["a","z"]},"a.b":"n"},{"a":{"b":"m"}}]`},
		{`{"$not":{"x":{"$in":[[1],{"k":null}]}}}`, `[{"x":[[1],2]},{"x":{"k":null}},{}]`},
		{`{"a.b.c":{"$exists":true}}`, `[{"a":{"b":{"c":null}}},{"a.b.c":0}]`},
		{`{"n":{"$gt":9007199254740992}}`, `[{"n":9007199254740993},{"n":9007199254740992.0},{"n":1e300}]`},
		{`{"$or":[{"t":{"$lt":"b"}},{"t":[]}]}`, `[{"t":["a","c"]},{"t":[]},{"t":"b"},{"t":"a"}]`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, src, docsText string) {
		flt, err := filter.Parse([]byte(src), nil)
		if err != nil {
			return
		}
		var docs []any
		dec := json.NewDecoder(bytes.NewReader([]byte(docsText)))
		dec.UseNumber()
		if dec.Decode(&docs) != nil || len(docs) > 64 {
			return
		}
		defer func(s int) { bucketSize = s }(bucketSize)
		bucketSize = 2
		ix := New(&Options{MaxDepth: 2})
		m := model{}
		for i, d := range docs {
			ix.Add(uint32(i), d)
			m[uint32(i)] = d
		}
		fuzzCheck(t, ix, m, flt)
		for i := 0; i < len(docs); i += 2 {
			ix.Remove(uint32(i), docs[i])
			delete(m, uint32(i))
		}
		fuzzCheck(t, ix, m, flt)
	})
}

func fuzzCheck(t *testing.T, ix *Index, m model, flt *filter.Filter) {
	t.Helper()
	want := m.matching(flt)
	sure, maybe := ix.EvalSplit(flt)
	got := roaring.Or(sure, maybe)
	if roaring.AndNot(want, got).GetCardinality() > 0 || roaring.AndNot(sure, want).GetCardinality() > 0 {
		t.Fatalf("filter %s: sure %v maybe %v, Match %v", flt, sure, maybe, want)
	}
	if maybe.IsEmpty() && !sure.Equals(want) {
		t.Fatalf("filter %s: exact %v, Match %v", flt, sure, want)
	}
	if sure.Intersects(maybe) {
		t.Fatalf("filter %s: sure and maybe overlap", flt)
	}
}
