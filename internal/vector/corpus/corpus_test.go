package corpus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/luma-db/luma/internal/storage"
)

func open(t *testing.T, dir string) (*storage.DB, *Store) {
	t.Helper()
	db, err := storage.Open(storage.Options{Dir: filepath.Join(dir, "store"), InMemory: dir == "", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(db, 1<<20, 256)
	if err != nil {
		t.Fatal(err)
	}
	return db, s
}

func sp(s string) *string { return &s }
func up(u uint64) *uint64 { return &u }
func gp(g uint32) *uint32 { return &g }
func ip(i int) *int       { return &i }

func ids(res []Result) []uint32 {
	out := make([]uint32, len(res))
	for i, r := range res {
		out[i] = r.Document.ID
	}
	return out
}

func TestQueryVector(t *testing.T) {
	if v := QueryVector("TEST_VEC:1, 2.5,-3"); !slices.Equal(v, []float32{1, 2.5, -3}) {
		t.Fatalf("TEST_VEC parse: %v", v)
	}
	a, b := QueryVector("hello"), QueryVector("hello")
	if len(a) != MockDim || !slices.Equal(a, b) {
		t.Fatal("mock vector not deterministic or wrong size")
	}
	if slices.Equal(a, QueryVector("world")) {
		t.Fatal("different queries, same mock vector")
	}
	for _, x := range a {
		if x < -1 || x >= 1 {
			t.Fatalf("mock value %v out of [-1,1)", x)
		}
	}
	if v := QueryVector("TEST_VEC:1,x"); len(v) != MockDim {
		t.Fatal("unparsable TEST_VEC should fall back to the mock")
	}
}

func TestSearchSemantics(t *testing.T) {
	dir := t.TempDir()
	db, s := open(t, dir)
	ctx := context.Background()
	docs := []Document{
		{ID: 1, Vector: []float32{1, 0}, Content: "a1", Metadata: Meta{GroupID: gp(1), ProcessedAt: up(10), Category: sp("x"), Language: sp("es"), DocumentID: sp("A")}},
		{ID: 2, Vector: []float32{1, 0.1}, Content: "a2", Metadata: Meta{GroupID: gp(1), ProcessedAt: up(20), Category: sp("x"), Language: sp("en"), DocumentID: sp("A")}},
		{ID: 3, Vector: []float32{1, 0.2}, Content: "b1", Metadata: Meta{GroupID: gp(2), Category: sp("y"), Language: sp("en"), DocumentID: sp("B")}},
		{ID: 4, Vector: []float32{1, 0.3}, Content: "b2", Metadata: Meta{GroupID: gp(2), Category: sp("y"), DocumentID: sp("B")}},
		{ID: 5, Vector: []float32{0, 1}, Content: "c", Metadata: Meta{Status: sp("draft")}},
		{ID: 6, Vector: []float32{1, 0, 0}, Content: "other dim"},
		{ID: 7, Vector: []float32{1, 0}, Content: "dup of 1", Metadata: Meta{GroupID: gp(1), ProcessedAt: up(20)}},
	}
	last := db.LastOffset()
	for _, d := range docs {
		if err := s.Ingest(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if db.LastOffset() != last {
		t.Fatal("ingest emitted events")
	}
	q := "TEST_VEC:1,0"
	cases := []struct {
		name string
		req  SearchRequest
		want []uint32
	}{
		{"plain", SearchRequest{Query: q}, []uint32{1, 7, 2, 3, 4, 5}},
		{"top_k", SearchRequest{Query: q, TopK: ip(2)}, []uint32{1, 7}},
		{"category", SearchRequest{Query: q, Filters: &Filters{Category: sp("y")}}, []uint32{3, 4}},
		{"language one", SearchRequest{Query: q, Filters: &Filters{Language: &LanguageFilter{One: sp("en")}}}, []uint32{2, 3}},
		{"language list", SearchRequest{Query: q, Filters: &Filters{Language: &LanguageFilter{Many: []string{"es", "fr"}}}}, []uint32{1}},
		{"status", SearchRequest{Query: q, Filters: &Filters{Status: sp("draft")}}, []uint32{5}},
		// latest: group 1 keeps doc 2 (processed_at 20, first of the tie
		// with 7), group 2 keeps doc 3 (both 0, first ingested wins).
		{"latest", SearchRequest{Query: q, Filters: &Filters{VersionPolicy: sp("latest")}}, []uint32{2, 3, 5}},
		{"all", SearchRequest{Query: q, Filters: &Filters{VersionPolicy: sp("all")}}, []uint32{1, 7, 2, 3, 4, 5}},
		{"group_by document_id", SearchRequest{Query: q, GroupBy: sp("document_id")}, []uint32{1, 7, 3, 5}},
		{"group_limit 2", SearchRequest{Query: q, GroupBy: sp("document_id"), GroupLimit: ip(2)}, []uint32{1, 2, 7, 3, 4, 5}},
		{"group_limit 0 is 1", SearchRequest{Query: q, GroupBy: sp("group_id"), GroupLimit: ip(0)}, []uint32{1, 3, 5}},
		{"group cut to top_k items", SearchRequest{Query: q, GroupBy: sp("document_id"), GroupLimit: ip(2), TopK: ip(3)}, []uint32{1, 2, 7}},
		{"unknown group field", SearchRequest{Query: q, GroupBy: sp("nope")}, []uint32{1, 7, 2, 3, 4, 5}},
		{"other dim", SearchRequest{Query: "TEST_VEC:1,0,0"}, []uint32{6}},
	}
	check := func() {
		for _, tc := range cases {
			res, _, err := s.Search(tc.req)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := ids(res); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	check()
	db.Close()
	db, s = open(t, dir)
	defer db.Close()
	check()
	if _, _, err := s.Search(SearchRequest{Query: q, TopK: ip(0)}); !errors.Is(err, ErrTopKInvalid) {
		t.Fatal(err)
	}
	if _, _, err := s.Search(SearchRequest{Query: q, TopK: ip(257)}); !errors.Is(err, ErrTopKInvalid) {
		t.Fatal(err)
	}
	if _, _, err := s.Search(SearchRequest{Query: fmt.Sprintf("%01025d", 0)}); !errors.Is(err, ErrQueryTooLong) {
		t.Fatal(err)
	}
	res, _, _ := s.Search(SearchRequest{Query: q, TopK: ip(1)})
	if res[0].Score != 1 {
		t.Fatalf("score %v", res[0].Score)
	}
}
