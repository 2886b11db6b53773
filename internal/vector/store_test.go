package vector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/luma-db/luma/internal/filter"
)

var bg = context.Background()

// Every behaviour below runs against both index kinds and both storage
// modes, as one suite.
var kinds = []IndexKind{IndexHNSW, IndexFlat}

func TestBasicWriteReadSearch(t *testing.T) {
	for _, kind := range kinds {
		for _, disk := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/disk=%v", kind, disk), func(t *testing.T) {
				dir := ""
				if disk {
					dir = t.TempDir()
				}
				f := newFixture(t, dir, Options{SegmentSize: 64})
				f.create("c", 3, Cosine, IndexSettings{Kind: kind})
				must := func(err error) {
					t.Helper()
					if err != nil {
						t.Fatal(err)
					}
				}
				must(f.vs.Add(bg, "c", Item{ID: "a", Vector: []float32{1, 0, 0}, Meta: json.RawMessage(`{"k":1}`)}))
				if err := f.vs.Add(bg, "c", Item{ID: "a", Vector: []float32{1, 0, 0}}); !errors.Is(err, ErrIDExists) {
					t.Fatalf("second add: %v", err)
				}
				// 409 comes before the dim check (contract order).
				if err := f.vs.Add(bg, "c", Item{ID: "a", Vector: []float32{1, 0}}); !errors.Is(err, ErrIDExists) {
					t.Fatalf("add existing with bad dim: %v", err)
				}
				must(f.vs.Upsert(bg, "c", Item{ID: "b", Vector: []float32{0, 2, 0}}))
				must(f.vs.Upsert(bg, "c", Item{ID: "a", Vector: []float32{3, 4, 0}, Meta: json.RawMessage(`{"k": 2}`)}))
				rec, err := f.vs.Get("c", "a")
				must(err)
				if !slices.Equal(rec.Vector, []float32{3, 4, 0}) || string(rec.Meta) != `{"k":2}` {
					t.Fatalf("get a = %+v %s", rec.Vector, rec.Meta)
				}
				res := f.search("c", SearchRequest{Vector: []float32{3, 4, 0}, K: 5, IncludeMeta: true})
				if got := ids(res.Hits); !slices.Equal(got, []string{"a", "b"}) {
					t.Fatalf("hits %v", got)
				}
				if math.Abs(float64(res.Hits[0].Score)-1) > 1e-6 || string(res.Hits[0].Meta) != `{"k":2}` {
					t.Fatalf("hit %+v", res.Hits[0])
				}
				// Update keeps what is not given.
				must(f.vs.Update(bg, "c", "a", nil, nil, json.RawMessage(`{"k":3}`)))
				rec, _ = f.vs.Get("c", "a")
				if !slices.Equal(rec.Vector, []float32{3, 4, 0}) || string(rec.Meta) != `{"k":3}` {
					t.Fatalf("after meta update: %v %s", rec.Vector, rec.Meta)
				}
				must(f.vs.Update(bg, "c", "a", []float32{0, 0, 1}, nil, nil))
				rec, _ = f.vs.Get("c", "a")
				if !slices.Equal(rec.Vector, []float32{0, 0, 1}) || string(rec.Meta) != `{"k":3}` {
					t.Fatalf("after vector update: %v %s", rec.Vector, rec.Meta)
				}
				if err := f.vs.Update(bg, "c", "zz", nil, nil, json.RawMessage(`1`)); !errors.Is(err, ErrIDNotFound) {
					t.Fatalf("update missing: %v", err)
				}
				if err := f.vs.Update(bg, "c", "zz", []float32{1}, nil, nil); !errors.Is(err, ErrIDNotFound) {
					t.Fatalf("update missing with bad dim: %v", err)
				}
				must(f.vs.Delete(bg, "c", "b"))
				if err := f.vs.Delete(bg, "c", "b"); !errors.Is(err, ErrIDNotFound) {
					t.Fatalf("delete twice: %v", err)
				}
				if _, err := f.vs.Get("c", "b"); !errors.Is(err, ErrIDNotFound) {
					t.Fatalf("get deleted: %v", err)
				}
				res = f.search("c", SearchRequest{Vector: []float32{0, 1, 0}, K: 5})
				if got := ids(res.Hits); !slices.Equal(got, []string{"a"}) || res.Hits[0].Meta != nil {
					t.Fatalf("after delete: %v", res.Hits)
				}
				d, err := f.vs.Detail("c")
				must(err)
				if *d.Count != 1 || *d.Deleted != 4 {
					t.Fatalf("detail count %d deleted %d", *d.Count, *d.Deleted)
				}
				if disk {
					f.restart()
					res = f.search("c", SearchRequest{Vector: []float32{0, 1, 0}, K: 5, IncludeMeta: true})
					if got := ids(res.Hits); !slices.Equal(got, []string{"a"}) || string(res.Hits[0].Meta) != `{"k":3}` {
						t.Fatalf("after restart: %v", res.Hits)
					}
					d, _ := f.vs.Detail("c")
					if *d.Count != 1 || *d.Deleted != 4 {
						t.Fatalf("detail after restart: count %d deleted %d", *d.Count, *d.Deleted)
					}
				}
			})
		}
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, "", Options{SegmentSize: 64})
	for _, m := range []Metric{Cosine, Dot, L2} {
		f.create(string(m), 2, m, IndexSettings{})
		if err := f.vs.Upsert(bg, string(m), Item{ID: "x", Vector: []float32{3, 4}}); err != nil {
			t.Fatal(err)
		}
		if err := f.vs.Upsert(bg, string(m), Item{ID: "z", Vector: []float32{0, 0}}); err != nil {
			t.Fatal(err)
		}
		rec, _ := f.vs.Get(string(m), "x")
		want := []float32{3, 4}
		if m == Dot {
			want = []float32{0.6, 0.8}
		}
		if !slices.Equal(rec.Vector, want) {
			t.Errorf("%s: get = %v, want %v", m, rec.Vector, want)
		}
		res := f.search(string(m), SearchRequest{Vector: []float32{6, 8}, K: 2, IncludeVector: true})
		wantScore := float32(1)
		if m == L2 {
			wantScore = -5
		}
		if res.Hits[0].ID != "x" || math.Abs(float64(res.Hits[0].Score-wantScore)) > 1e-6 {
			t.Errorf("%s: top hit %+v, want x %v", m, res.Hits[0], wantScore)
		}
		if !slices.Equal(res.Hits[0].Vector, want) {
			t.Errorf("%s: include_vector = %v, want %v", m, res.Hits[0].Vector, want)
		}
		// A zero vector scores 0 under cosine and dot.
		if m != L2 && res.Hits[1].Score != 0 {
			t.Errorf("%s: zero vector score %v", m, res.Hits[1].Score)
		}
	}
}

func TestValidation(t *testing.T) {
	f := newFixture(t, "", Options{SegmentSize: 64, Limits: Limits{MaxIDLen: 4, MaxVectorDim: 8, MaxJSONBytes: 16, MaxK: 10, MaxBatch: 3}})
	f.create("c", 2, Cosine, IndexSettings{})
	last := f.db.LastOffset()
	cases := []struct {
		name string
		err  error
		fn   func() error
	}{
		{"bad name", ErrInvalidName, func() error { return f.vs.Upsert(bg, "../x", Item{ID: "a", Vector: []float32{1, 2}}) }},
		{"leading dot", ErrInvalidName, func() error { return f.vs.Upsert(bg, ".x", Item{ID: "a", Vector: []float32{1, 2}}) }},
		{"name too long", ErrCollectionTooLong, func() error {
			return f.vs.Upsert(bg, string(make([]byte, 65)), Item{ID: "a", Vector: []float32{1, 2}})
		}},
		{"id too long", ErrIDTooLong, func() error { return f.vs.Upsert(bg, "c", Item{ID: "abcde", Vector: []float32{1, 2}}) }},
		{"vector too large", ErrVectorTooLarge, func() error { return f.vs.Upsert(bg, "c", Item{ID: "a", Vector: make([]float32, 9)}) }},
		{"meta too large", ErrMetaTooLarge, func() error {
			return f.vs.Upsert(bg, "c", Item{ID: "a", Vector: []float32{1, 2}, Meta: json.RawMessage(`{"aaaaaaaaaa":"bbbbbbbb"}`)})
		}},
		{"missing collection", ErrCollectionNotFound, func() error { return f.vs.Upsert(bg, "nope", Item{ID: "a", Vector: []float32{1, 2}}) }},
		{"dim", ErrDimMismatch, func() error { return f.vs.Upsert(bg, "c", Item{ID: "a", Vector: []float32{1, 2, 3}}) }},
		{"empty vector", ErrDimMismatch, func() error { return f.vs.Upsert(bg, "c", Item{ID: "a", Vector: []float32{}}) }},
		{"nan", ErrNonFinite, func() error {
			return f.vs.Upsert(bg, "c", Item{ID: "a", Vector: []float32{float32(math.NaN()), 1}})
		}},
		{"inf", ErrNonFinite, func() error {
			return f.vs.Upsert(bg, "c", Item{ID: "a", Vector: []float32{float32(math.Inf(1)), 1}})
		}},
		{"no items", ErrNoItems, func() error { _, err := f.vs.UpsertBatch(bg, "c", nil); return err }},
		{"too many items", ErrTooManyItems, func() error { _, err := f.vs.UpsertBatch(bg, "c", make([]Item, 4)); return err }},
		{"batch missing collection", ErrCollectionNotFound, func() error {
			_, err := f.vs.UpsertBatch(bg, "nope", []Item{{ID: "a", Vector: []float32{1, 2}}})
			return err
		}},
		{"no ids", ErrNoIDs, func() error { _, err := f.vs.DeleteBatch(bg, "c", nil); return err }},
		{"too many ids", ErrTooManyIDs, func() error { _, err := f.vs.DeleteBatch(bg, "c", []string{"a", "b", "c", "d"}); return err }},
		{"delete missing", ErrIDNotFound, func() error { return f.vs.Delete(bg, "c", "a") }},
		{"k zero", ErrInvalidK, func() error { _, err := f.vs.Search(bg, "c", SearchRequest{Vector: []float32{1, 2}}); return err }},
		{"k too big", ErrInvalidK, func() error {
			_, err := f.vs.Search(bg, "c", SearchRequest{Vector: []float32{1, 2}, K: 11})
			return err
		}},
		{"search dim", ErrDimMismatch, func() error { _, err := f.vs.Search(bg, "c", SearchRequest{Vector: []float32{1}, K: 1}); return err }},
		{"filters too large", ErrFiltersTooLarge, func() error {
			_, err := f.vs.Search(bg, "c", SearchRequest{Vector: []float32{1, 2}, K: 1, Filters: json.RawMessage(`{"aaaaaaaaaa":"bbbbbbbbbb"}`)})
			return err
		}},
		{"create dim 0", ErrInvalidDim, func() error { return f.vs.Create(bg, CreateRequest{Name: "d", Dim: 0, Metric: Cosine}) }},
		{"create dim too big", ErrInvalidDim, func() error { return f.vs.Create(bg, CreateRequest{Name: "d", Dim: 9, Metric: Cosine}) }},
		{"create metric", ErrInvalidMetric, func() error { return f.vs.Create(bg, CreateRequest{Name: "d", Dim: 2, Metric: "euclid"}) }},
		{"create index", ErrInvalidIndex, func() error {
			return f.vs.Create(bg, CreateRequest{Name: "d", Dim: 2, Metric: Cosine, Index: IndexSettings{Kind: "ivf"}})
		}},
		{"create m", ErrInvalidIndex, func() error {
			return f.vs.Create(bg, CreateRequest{Name: "d", Dim: 2, Metric: Cosine, Index: IndexSettings{M: 1000}})
		}},
		{"create exists", ErrCollectionExists, func() error { return f.vs.Create(bg, CreateRequest{Name: "c", Dim: 2, Metric: Cosine}) }},
		{"drop missing", ErrCollectionNotFound, func() error { return f.vs.Drop(bg, "nope") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fn(); !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if got := f.db.LastOffset(); got != last {
				t.Fatalf("offset moved from %d to %d: a rejected request wrote", last, got)
			}
		})
	}
	// A bad filter names the field and operator.
	_, err := f.vs.Search(bg, "c", SearchRequest{Vector: []float32{1, 2}, K: 1, Filters: json.RawMessage(`{"p":{"$gt":[]}}`)})
	var fe *filter.Error
	if !errors.As(err, &fe) || fe.Field != "p" || fe.Op != "$gt" {
		t.Fatalf("bad filter: %v", err)
	}
}

func TestBatchPerItemErrors(t *testing.T) {
	f := newFixture(t, "", Options{SegmentSize: 64, Limits: Limits{MaxIDLen: 4}})
	f.create("c", 2, Cosine, IndexSettings{})
	res, err := f.vs.UpsertBatch(bg, "c", []Item{
		{ID: "a", Vector: []float32{1, 0}},
		{ID: "toolong", Vector: []float32{1, 0}},
		{ID: "b", Vector: []float32{1}},
		{ID: "a", Vector: []float32{0, 1}, Meta: json.RawMessage(`"second"`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []error{nil, ErrIDTooLong, ErrDimMismatch, nil}
	for i, r := range res {
		if !errors.Is(r.Err, want[i]) || (want[i] == nil && r.Err != nil) {
			t.Errorf("item %d: %v, want %v", i, r.Err, want[i])
		}
	}
	rec, _ := f.vs.Get("c", "a")
	if !slices.Equal(rec.Vector, []float32{0, 1}) || string(rec.Meta) != `"second"` {
		t.Fatalf("a = %v %s", rec.Vector, rec.Meta)
	}
	evs, _ := f.db.ReadEvents(1, 100)
	var ups int
	for _, e := range evs {
		if e.Type == "vector_upserted" {
			ups++
		}
	}
	if ups != 2 {
		t.Fatalf("%d vector_upserted events, want 2", ups)
	}
	dres, err := f.vs.DeleteBatch(bg, "c", []string{"a", "nope", "toolong", "a"})
	if err != nil {
		t.Fatal(err)
	}
	wantD := []error{nil, ErrIDNotFound, ErrIDTooLong, ErrIDNotFound}
	for i, r := range dres {
		if !errors.Is(r.Err, wantD[i]) || (wantD[i] == nil && r.Err != nil) {
			t.Errorf("delete item %d: %v, want %v", i, r.Err, wantD[i])
		}
	}
	// A batch whose items all fail writes nothing.
	last := f.db.LastOffset()
	if _, err := f.vs.DeleteBatch(bg, "c", []string{"x", "y"}); err != nil {
		t.Fatal(err)
	}
	if f.db.LastOffset() != last {
		t.Fatal("failed delete_batch wrote")
	}
}

func TestEvents(t *testing.T) {
	f := newFixture(t, "", Options{SegmentSize: 64})
	f.create("c", 2, Dot, IndexSettings{})
	if err := f.vs.Add(bg, "c", Item{ID: "a", Vector: []float32{3, 4}}); err != nil {
		t.Fatal(err)
	}
	if err := f.vs.Update(bg, "c", "a", nil, nil, json.RawMessage(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.vs.Delete(bg, "c", "a"); err != nil {
		t.Fatal(err)
	}
	if err := f.vs.Drop(bg, "c"); err != nil {
		t.Fatal(err)
	}
	evs, _ := f.db.ReadEvents(1, 100)
	var got []string
	for _, e := range evs {
		got = append(got, e.Type+" "+string(e.Envelope[len(`{"offset":`):]))
	}
	want := []string{
		`vector_collection_created {"collection":"c","dim":2,"metric":"dot"}`,
		`state_updated`, `vector_added {"collection":"c","id":"a","vector":[3.0,4.0],"meta":null}`,
		`vector_updated {"collection":"c","id":"a","vector":[0.6,0.8],"meta":{"x":1}}`,
		`vector_deleted {"collection":"c","id":"a"}`,
		`collection_deleted {"collection":"c"}`, `state_deleted`,
	}
	if len(evs) != len(want) {
		t.Fatalf("events %v", got)
	}
	for i, e := range evs {
		wantType, wantData, _ := cutSpace(want[i])
		if e.Type != wantType {
			t.Errorf("event %d type %s, want %s", i, e.Type, wantType)
		}
		if wantData != "" {
			var env struct{ Data json.RawMessage }
			_ = json.Unmarshal(e.Envelope, &env)
			if string(env.Data) != wantData {
				t.Errorf("event %d data %s, want %s", i, env.Data, wantData)
			}
		}
		if e.Collection != "c" && e.Type[:5] != "state" {
			t.Errorf("event %d collection %q", i, e.Collection)
		}
	}
	if _, err := f.st.Get("vector:c:manifest"); err == nil {
		t.Fatal("manifest survived the drop")
	}
}

func cutSpace(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestRecall(t *testing.T) {
	n, dim, nq := 4000, 32, 50
	if raceEnabled {
		n, nq = 1500, 30
	}
	r := rand.New(rand.NewPCG(1, 2))
	vecs := clustered(r, n, dim)
	queries := clustered(r, nq, dim)
	f := newFixture(t, "", Options{SegmentSize: 1024})
	f.create("c", dim, Cosine, IndexSettings{})
	f.upsertAll("c", vecs, nil)
	f.waitIndexed("c")
	var sum float64
	for _, q := range queries {
		got := ids(f.search("c", SearchRequest{Vector: q, K: 10}).Hits)
		sum += float64(overlap(got, brute(Cosine, vecs, q, 10, nil))) / 10
	}
	if rec := sum / float64(nq); rec < 0.95 {
		t.Fatalf("recall@10 = %.3f, want >= 0.95", rec)
	} else {
		t.Logf("recall@10 = %.3f", rec)
	}
}
