package bitmapindex

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/luma-db/luma/internal/filter"
)

// model is the brute-force reference: the documents by id.
type model map[uint32]any

func (m model) matching(f *filter.Filter) *roaring.Bitmap {
	out := roaring.New()
	for id, doc := range m {
		if f.Match(doc) {
			out.Add(id)
		}
	}
	return out
}

// check compares the index with Match over every document for f.
func check(t *testing.T, ix *Index, m model, f *filter.Filter) (exact bool) {
	t.Helper()
	want := m.matching(f)
	got, exact := ix.Eval(f)
	sure, maybe := ix.EvalSplit(f)
	switch {
	case exact && !got.Equals(want):
		t.Fatalf("filter %s: exact Eval = %v, Match says %v", f, got, want)
	case !exact && roaring.AndNot(want, got).GetCardinality() > 0:
		t.Fatalf("filter %s: inexact Eval = %v misses %v", f, got, roaring.AndNot(want, got))
	case roaring.AndNot(sure, want).GetCardinality() > 0:
		t.Fatalf("filter %s: sure %v holds non-matching %v", f, sure, roaring.AndNot(sure, want))
	case sure.Intersects(maybe):
		t.Fatalf("filter %s: sure and maybe overlap", f)
	case !roaring.Or(sure, maybe).Equals(got):
		t.Fatalf("filter %s: Eval != sure ∪ maybe", f)
	case exact != maybe.IsEmpty():
		t.Fatalf("filter %s: exact=%v but maybe=%v", f, exact, maybe)
	}
	if est := ix.Estimate(f); est > ix.Len() {
		t.Fatalf("filter %s: Estimate %d > Len %d", f, est, ix.Len())
	}
	return exact
}

// TestIndexMatchesBruteForce is the property test: for random filters over
// random documents, Eval equals the set of ids Match accepts when exact, and
// is a superset otherwise; it keeps holding through removes and updates, at
// several nesting limits and bucket sizes.
func TestIndexMatchesBruteForce(t *testing.T) {
	defer func(s int) { bucketSize = s }(bucketSize)
	for _, tc := range []struct {
		maxDepth, bucket int
		useNumber        bool
	}{
		{DefaultMaxDepth, 256, false},
		{DefaultMaxDepth, 2, true},
		{1, 3, false},
		{2, 4, true},
		{3, 64, false},
	} {
		t.Run(fmt.Sprintf("depth=%d,bucket=%d,number=%v", tc.maxDepth, tc.bucket, tc.useNumber), func(t *testing.T) {
			bucketSize = tc.bucket
			rng := rand.New(rand.NewPCG(uint64(tc.maxDepth), uint64(tc.bucket)))
			g := &gen{rng: rng, useNumber: tc.useNumber}
			ix := New(&Options{MaxDepth: tc.maxDepth})
			m := model{}
			for id := range uint32(400) {
				doc := g.doc()
				if !ix.Add(id*3, doc) {
					t.Fatalf("Add(%d) refused", id*3)
				}
				m[id*3] = doc
			}
			var exact, total int
			round := func() {
				for range 300 {
					total++
					if check(t, ix, m, g.filter()) {
						exact++
					}
				}
			}
			round()
			// Mutate: remove some, update some, add new ones.
			for id, doc := range m {
				switch rng.IntN(4) {
				case 0:
					if !ix.Remove(id, doc) {
						t.Fatalf("Remove(%d) refused", id)
					}
					delete(m, id)
				case 1:
					nd := g.doc()
					ix.Update(id, doc, nd)
					m[id] = nd
				}
			}
			for id := uint32(2000); id < 2100; id++ {
				doc := g.doc()
				ix.Add(id, doc)
				m[id] = doc
			}
			round()
			if ix.Len() != uint64(len(m)) {
				t.Fatalf("Len = %d, want %d", ix.Len(), len(m))
			}
			t.Logf("%d of %d random filters answered exactly", exact, total)
		})
	}
}

// TestRemoveAllLeavesNothing: removing every document with its metadata
// empties every structure, so nothing stale can answer later queries.
func TestRemoveAllLeavesNothing(t *testing.T) {
	defer func(s int) { bucketSize = s }(bucketSize)
	bucketSize = 3
	g := &gen{rng: rand.New(rand.NewPCG(7, 7))}
	ix := New(&Options{MaxDepth: 2})
	m := model{}
	for id := range uint32(500) {
		m[id] = g.doc()
		ix.Add(id, m[id])
	}
	for id, doc := range m {
		ix.Remove(id, doc)
	}
	if len(ix.fields) != 0 || !ix.all.IsEmpty() || !ix.truncated.IsEmpty() {
		t.Fatalf("left behind: %d fields, all=%v, truncated=%v", len(ix.fields), ix.all, ix.truncated)
	}
}

func parseT(t testing.TB, src string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse([]byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func decode(t testing.TB, src string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEvalCases pins exactness and results for hand-picked shapes.
func TestEvalCases(t *testing.T) {
	docs := []string{
		0: `{"tag":"x","n":1,"tags":["x","y"],"ok":true,"o":{"k":1},"a.b":5,"a":{"b":6,"c":{"d":"deep"}}}`,
		1: `{"tag":"y","n":2.5,"tags":["y"],"ok":false,"nul":null,"arr":[1,[2],{"k":1}]}`,
		2: `{"tag":"x","n":1.0,"tags":[],"nums":[1,5,10],"nul":[null]}`,
		3: `null`,
		4: `["tag"]`,
		5: `{"n":"1","s":"b"}`,
	}
	ix := New(nil)
	m := model{}
	for id, src := range docs {
		m[uint32(id)] = decode(t, src)
		ix.Add(uint32(id), m[uint32(id)])
	}
	cases := []struct {
		filter string
		want   []uint32
		exact  bool
	}{
		{`{}`, []uint32{0, 1, 2, 3, 4, 5}, true},
		{`[]`, nil, true},
		{`{"tag":"x"}`, []uint32{0, 2}, true},
		{`{"n":1}`, []uint32{0, 2}, true},
		{`{"n":{"$in":[1,"1"]}}`, []uint32{0, 2, 5}, true},
		{`{"tags":"x"}`, nil, true},
		{`{"tags":{"$eq":"x"}}`, []uint32{0}, true},
		{`{"tags":["x","y"]}`, []uint32{0}, false},
		{`{"tags":[]}`, []uint32{2}, false},
		{`{"o":{"k":1}}`, []uint32{0}, false},
		{`{"o.k":1}`, []uint32{0}, true},
		{`{"a.b":5}`, []uint32{0}, true},
		{`{"a.b":6}`, nil, true},
		{`{"a.c.d":"deep"}`, []uint32{0}, true},
		{`{"nul":null}`, []uint32{1}, true},
		{`{"nul":{"$eq":null}}`, []uint32{1, 2}, true},
		{`{"nums":{"$gt":7}}`, []uint32{2}, true},
		{`{"nums":{"$gt":1,"$lt":5}}`, []uint32{2}, true}, // 5 > 1 and 1 < 5
		{`{"nums":{"$gt":10}}`, nil, true},
		{`{"nums":{"$gt":1,"$lt":6}}`, []uint32{2}, true},
		{`{"n":{"$gte":1,"$lt":2.5}}`, []uint32{0, 2}, true},
		{`{"s":{"$gt":"a"}}`, []uint32{5}, true},
		{`{"tag":{"$lt":"y"}}`, []uint32{0, 2}, true},
		{`{"ok":{"$ne":true}}`, []uint32{1, 2, 3, 4, 5}, true},
		{`{"tag":{"$exists":false}}`, []uint32{3, 4, 5}, true},
		{`{"$or":[{"tag":"y"},{"ok":true}]}`, []uint32{0, 1}, true},
		{`{"$not":{"o":{"k":1}}}`, []uint32{1, 2, 3, 4, 5}, false},
		{`{"arr":{"$eq":[2]}}`, []uint32{1}, false},
		{`{"arr":{"$eq":{"k":1}}}`, []uint32{1}, false},
		{`{"arr":{"$in":[7,[2]]}}`, []uint32{1}, false},
		{`{"missing":1}`, nil, true},
		{`{"missing":{"$exists":false}}`, []uint32{0, 1, 2, 3, 4, 5}, true},
	}
	for _, tc := range cases {
		f := parseT(t, tc.filter)
		got, exact := ix.Eval(f)
		if exact != tc.exact {
			t.Errorf("%s: exact = %v, want %v", tc.filter, exact, tc.exact)
		}
		want := roaring.BitmapOf(tc.want...)
		if exact && !got.Equals(want) {
			t.Errorf("%s: Eval = %v, want %v", tc.filter, got, want)
		}
		if !m.matching(f).Equals(want) {
			t.Errorf("%s: Match gives %v, test says %v", tc.filter, m.matching(f), want)
		}
		check(t, ix, m, f)
	}
}

// TestDepthLimit: paths deeper than MaxDepth stay exact while no document
// has objects below the limit, and become candidates for those that do.
func TestDepthLimit(t *testing.T) {
	ix := New(&Options{MaxDepth: 2})
	m := model{0: decode(t, `{"a":{"b":1}}`), 1: decode(t, `{"a.b.c":1}`)}
	for id, doc := range m {
		ix.Add(id, doc)
	}
	f := parseT(t, `{"a.b.c":1}`)
	if got, exact := ix.Eval(f); !exact || !got.Equals(roaring.BitmapOf(1)) {
		t.Fatalf("no truncated docs: Eval = %v, %v", got, exact)
	}
	m[2] = decode(t, `{"a":{"b":{"c":1}}}`)
	ix.Add(2, m[2])
	sure, maybe := ix.EvalSplit(f)
	if !sure.Equals(roaring.BitmapOf(1)) || !maybe.Equals(roaring.BitmapOf(2)) {
		t.Fatalf("truncated doc: sure %v maybe %v", sure, maybe)
	}
	check(t, ix, m, f)
	check(t, ix, m, parseT(t, `{"$not":{"a.b.c":1}}`))
	ix.Remove(2, m[2])
	if _, exact := ix.Eval(f); !exact {
		t.Fatal("exact again after removing the truncated doc")
	}
}

func TestAddRemoveContract(t *testing.T) {
	ix := New(nil)
	doc := decode(t, `{"a":"x"}`)
	if !ix.Add(1, doc) || ix.Add(1, decode(t, `{"a":"y"}`)) {
		t.Fatal("second Add of the same id must be refused")
	}
	if got, _ := ix.Eval(parseT(t, `{"a":"y"}`)); !got.IsEmpty() {
		t.Fatal("refused Add changed the index")
	}
	if !ix.Has(1) || ix.Has(2) || ix.Len() != 1 {
		t.Fatal("Has/Len wrong")
	}
	if ix.Remove(2, doc) {
		t.Fatal("Remove of an absent id reported true")
	}
	ix.Update(2, nil, decode(t, `{"a":"z"}`)) // not indexed: plain Add
	if got, _ := ix.Eval(parseT(t, `{"a":"z"}`)); !got.Equals(roaring.BitmapOf(2)) {
		t.Fatalf("Update as Add: %v", got)
	}
	// Results are the caller's: changing them does not touch the index.
	got, _ := ix.Eval(parseT(t, `{"a":"x"}`))
	got.Add(99)
	all, _ := ix.Eval(nil)
	all.Add(100)
	if again, _ := ix.Eval(parseT(t, `{"a":"x"}`)); !again.Equals(roaring.BitmapOf(1)) {
		t.Fatalf("Eval result aliased the index: %v", again)
	}
	if ix.Len() != 2 {
		t.Fatal("Eval(nil) result aliased the index")
	}
	if ix.Estimate(nil) != 2 || New(nil).Estimate(parseT(t, `{"a":1}`)) != 0 {
		t.Fatal("Estimate of nil / empty index wrong")
	}
}

func TestEstimate(t *testing.T) {
	ix := New(nil)
	for id := range uint32(1000) {
		ix.Add(id, map[string]any{"k": []string{"a", "b"}[id%2], "n": float64(id), "s": fmt.Sprintf("%04d", id)})
	}
	cases := map[string]uint64{
		`{"k":"a"}`:                     500,
		`{"n":{"$lt":100}}`:             100,
		`{"n":{"$gte":100,"$lt":200}}`:  100, // both bounds as one range
		`{"s":{"$gt":"0899"}}`:          100,
		`{"$not":{"k":"a"}}`:            500,
		`{"$or":[{"k":"a"},{"k":"b"}]}`: 750,
		`{"k":{"$in":["a","b"]}}`:       1000,
		`{"n":5}`:                       1,
		`{"k":{"$exists":true}}`:        1000,
	}
	for src, want := range cases {
		if got := ix.Estimate(parseT(t, src)); got != want {
			t.Errorf("Estimate(%s) = %d, want %d", src, got, want)
		}
	}
}

// TestConcurrentReadersOneWriter runs Eval, Estimate and string ranges (which
// build lazy state) against a writer; run with -race.
func TestConcurrentReadersOneWriter(t *testing.T) {
	g := &gen{rng: rand.New(rand.NewPCG(3, 4))}
	ix := New(nil)
	docs := make([]any, 2000)
	for i := range docs {
		docs[i] = g.doc()
	}
	for i := range 500 {
		ix.Add(uint32(i), docs[i])
	}
	filters := make([]*filter.Filter, 50)
	for i := range filters {
		filters[i] = g.filter()
	}
	filters = append(filters, parseT(t, `{"a":{"$gt":"x"}}`), parseT(t, `{"b":{"$lte":"y"}}`))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				f := filters[i%len(filters)]
				ix.Eval(f)
				ix.Estimate(f)
			}
		}()
	}
	for i := 500; i < len(docs); i++ {
		ix.Add(uint32(i), docs[i])
		if i%3 == 0 {
			ix.Remove(uint32(i-250), docs[i-250])
		}
	}
	close(stop)
	wg.Wait()
}

// TestRangeBoundsExhaustive checks every pair and triple of bounds over a
// few keys, numbers and strings, against scalar and array values: the
// tightened range for scalars must treat equal keys and inclusivity right.
func TestRangeBoundsExhaustive(t *testing.T) {
	defer func(s int) { bucketSize = s }(bucketSize)
	bucketSize = 2
	ix := New(nil)
	m := model{}
	vals := []string{`0`, `1`, `2`, `"a"`, `"b"`, `"c"`, `[0,2]`, `[1]`, `["a","c"]`, `[]`, `null`}
	for i, v := range vals {
		m[uint32(i)] = decode(t, `{"v":`+v+`}`)
		ix.Add(uint32(i), m[uint32(i)])
	}
	ops := []string{"$gt", "$gte", "$lt", "$lte"}
	for _, keys := range [][]string{{`0`, `1`, `2`}, {`"a"`, `"b"`, `"c"`}} {
		for _, o1 := range ops {
			for _, o2 := range ops {
				for _, o3 := range append([]string{""}, ops...) {
					for _, k1 := range keys {
						for _, k2 := range keys {
							for _, k3 := range keys {
								// Separate objects so that repeated operators
								// are allowed.
								src := `{"$and":[{"v":{"` + o1 + `":` + k1 + `}},{"v":{"` + o2 + `":` + k2 + `}}`
								if o3 != "" {
									src += `,{"v":{"` + o3 + `":` + k3 + `}}`
								}
								src += `]}`
								if !check(t, ix, m, parseT(t, src)) {
									t.Fatalf("%s: not exact", src)
								}
							}
						}
					}
				}
			}
		}
	}
}
