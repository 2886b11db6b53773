package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/luma-db/luma/pkg/client"
)

func createColl(t *testing.T, c *client.Client, name string, cc client.CreateCollection) {
	t.Helper()
	_, err := c.Vector.Create(ctxT(t), name, cc)
	skipNoRoute(t, err)
	if err != nil {
		t.Fatal(err)
	}
}

func TestVectorCollections(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	createColl(t, c, "docs", client.CreateCollection{Dim: 4, Metric: client.MetricDot, Index: client.IndexHNSW, M: 8, EfConstruction: 64, EfSearch: 32})
	if _, err := c.Vector.Create(ctx, "docs", client.CreateCollection{Dim: 4}); !errors.Is(err, client.ErrAlreadyExists) || !errors.Is(err, client.ErrConflict) {
		t.Fatalf("create twice: %v", err)
	}
	list := must[[]client.CollectionInfo](t)(c.Vector.List(ctx))
	if len(list) != 1 || list[0].Collection != "docs" || list[0].Dim != 4 || list[0].Metric != "dot" || len(list[0].Raw) == 0 {
		t.Fatalf("list = %+v", list)
	}
	var settings struct {
		Index string `json:"index"`
		M     int    `json:"m"`
	}
	if err := json.Unmarshal(list[0].IndexSettings, &settings); err != nil || settings.Index != "hnsw" || settings.M != 8 {
		t.Fatalf("index settings = %s (%v)", list[0].IndexSettings, err)
	}
	d := must[*client.CollectionDetail](t)(c.Vector.Info(ctx, "docs"))
	if d.Count == nil || *d.Count != 0 || d.Dim == nil || *d.Dim != 4 {
		t.Fatalf("detail = %+v", d)
	}
	if err := c.Vector.Drop(ctx, "docs"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Vector.Info(ctx, "docs"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("info after drop: %v", err)
	}
	if err := c.Vector.Drop(ctx, "docs"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("drop twice: %v", err)
	}
	for _, tc := range []struct {
		name string
		cc   client.CreateCollection
	}{
		{"zero-dim", client.CreateCollection{Dim: 0}},
		{"bad-metric", client.CreateCollection{Dim: 2, Metric: "manhattan"}},
		{"bad-index", client.CreateCollection{Dim: 2, Index: "annoy"}},
		{"../escape", client.CreateCollection{Dim: 2}},
	} {
		if _, err := c.Vector.Create(ctx, tc.name, tc.cc); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestVectorWritesAndSearch(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	createColl(t, c, "v", client.CreateCollection{Dim: 3})
	if err := c.Vector.Add(ctx, "v", client.Item{ID: "a", Vector: []float32{1, 0, 0}, Meta: map[string]any{"doc": "A", "year": 2021}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Vector.Add(ctx, "v", client.Item{ID: "a", Vector: []float32{1, 0, 0}}); !errors.Is(err, client.ErrAlreadyExists) {
		t.Fatalf("add twice: %v", err)
	}
	for id, p := range map[string]struct {
		v    []float32
		meta map[string]any
	}{
		"b": {[]float32{0.9, 0.1, 0}, map[string]any{"doc": "A", "year": 2019}},
		"c": {[]float32{0.8, 0.2, 0.1}, map[string]any{"doc": "B", "year": 2024}},
		"d": {[]float32{0, 1, 0}, map[string]any{"doc": "C"}},
	} {
		if err := c.Vector.Upsert(ctx, "v", client.Item{ID: id, Vector: p.v, Meta: p.meta}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Vector.Upsert(ctx, "v", client.Item{ID: "x", Vector: []float32{1, 2}}); !errors.Is(err, client.ErrDimMismatch) || !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("dim mismatch: %v", err)
	}
	if err := c.Vector.Update(ctx, "v", "a", nil, map[string]any{"doc": "A", "year": 2022}); err != nil {
		t.Fatal(err)
	}
	rec := must[*client.Record](t)(c.Vector.Get(ctx, "v", "a"))
	if rec.ID != "a" || len(rec.Vector) != 3 || rec.Vector[0] != 1 || string(rec.Meta) != `{"doc":"A","year":2022}` {
		t.Fatalf("get = %+v meta %s", rec, rec.Meta)
	}
	if err := c.Vector.Update(ctx, "v", "zz", []float32{1, 0, 0}, nil); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}

	hits := must[[]client.Hit](t)(c.Vector.Search(ctx, "v", client.SearchRequest{Vector: []float32{1, 0, 0}, K: 3, IncludeMeta: true}))
	if len(hits) != 3 || hits[0].ID != "a" || math.Abs(float64(hits[0].Score)-1) > 1e-5 || hits[1].ID != "b" || len(hits[0].Meta) == 0 || hits[0].Vector != nil {
		t.Fatalf("hits = %+v", hits)
	}
	hits = must[[]client.Hit](t)(c.Vector.Search(ctx, "v", client.SearchRequest{
		Vector: []float32{1, 0, 0}, K: 5, Ef: 64, IncludeVector: true,
		Filters: map[string]any{"year": map[string]any{"$gte": 2021}},
	}))
	if len(hits) != 2 || hits[0].ID != "a" || hits[1].ID != "c" || string(hits[0].Meta) != "null" || len(hits[0].Vector) != 3 {
		t.Fatalf("filtered hits = %+v", hits)
	}
	res := must[*client.SearchResult](t)(c.Vector.SearchGroups(ctx, "v", client.SearchRequest{Vector: []float32{1, 0, 0}, K: 2, GroupBy: "doc", GroupLimit: 2}))
	if len(res.Groups) != 2 || string(res.Groups[0].Group) != `"A"` || res.Groups[0].Count != 2 || len(res.Groups[0].Hits) != 2 || string(res.Groups[1].Group) != `"B"` || len(res.Hits) != 3 {
		t.Fatalf("groups = %+v", res)
	}
	if _, err := c.Vector.Search(ctx, "v", client.SearchRequest{Vector: []float32{1, 0, 0}, Filters: map[string]any{"year": map[string]any{"$between": 1}}}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("bad filter: %v", err)
	}
	if _, err := c.Vector.Search(ctx, "nope", client.SearchRequest{Vector: []float32{1, 0, 0}}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("missing collection: %v", err)
	}
	if err := c.Vector.Delete(ctx, "v", "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Vector.Delete(ctx, "v", "a"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := c.Vector.Get(ctx, "v", "a"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestVectorBatches(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	createColl(t, c, "b", client.CreateCollection{Dim: 2})
	items := make([]client.Item, 0, 26)
	for i := range 25 {
		items = append(items, client.Item{ID: fmt.Sprintf("i%02d", i), Vector: []float32{1, float32(i) / 10}, Meta: map[string]int{"i": i}})
	}
	items = append(items, client.Item{ID: "bad", Vector: []float32{1, 2, 3}})
	var progress []int
	res, err := c.Vector.UpsertBatch(ctx, "b", items, &client.BatchOptions{Size: 7, Progress: func(done, total int) {
		if total != 26 {
			t.Errorf("total = %d", total)
		}
		progress = append(progress, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 4 || fmt.Sprint(progress) != "[7 14 21 26]" || len(res.Results) != 26 {
		t.Fatalf("requests %d progress %v results %d", res.Requests, progress, len(res.Results))
	}
	failed := res.Failed()
	if len(failed) != 1 || failed[0].ID != "bad" || failed[0].Error.Code != "dim_mismatch" || !errors.Is(res.Err(), client.ErrDimMismatch) {
		t.Fatalf("failed = %+v, Err = %v", failed, res.Err())
	}
	ids := []string{"i00", "i01", "i02", "missing"}
	del := must[*client.BatchResult](t)(c.Vector.DeleteBatch(ctx, "b", ids, &client.BatchOptions{Size: 3}))
	if del.Requests != 2 || len(del.Failed()) != 1 || del.Failed()[0].ID != "missing" {
		t.Fatalf("delete batch = %+v", del)
	}
	if d := must[*client.CollectionDetail](t)(c.Vector.Info(ctx, "b")); *d.Count != 22 {
		t.Fatalf("count = %d", *d.Count)
	}
	if _, err := c.Vector.UpsertBatch(ctx, "nope", items[:2], nil); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("missing collection: %v", err)
	}
	small := newClient(t, c.BaseURL(), client.WithBatchSize(10))
	if r := must[*client.BatchResult](t)(small.Vector.UpsertBatch(ctx, "b", items[:25], nil)); r.Requests != 3 {
		t.Fatalf("WithBatchSize(10): %d requests", r.Requests)
	}
}

func TestVectorBinaryAndMetrics(t *testing.T) {
	in, c := start(t)
	ctx := ctxT(t)
	createColl(t, c, "l2", client.CreateCollection{Dim: 2, Metric: client.MetricL2})
	bin := newClient(t, in.URL, client.WithBinaryVectors())
	must[*client.BatchResult](t)(bin.Vector.UpsertBatch(ctx, "l2", []client.Item{{ID: "o", Vector: []float32{0, 0}}, {ID: "far", Vector: []float32{3, 4}}}, nil))
	if err := bin.Vector.Upsert(ctx, "l2", client.Item{ID: "q", Vector: []float32{0.25, -1.5}}); err != nil {
		t.Fatal(err)
	}
	if err := bin.Vector.Update(ctx, "l2", "q", []float32{0.5, -1.5}, nil); err != nil {
		t.Fatal(err)
	}
	if rec := must[*client.Record](t)(c.Vector.Get(ctx, "l2", "q")); rec.Vector[0] != 0.5 || rec.Vector[1] != -1.5 {
		t.Fatalf("binary round trip = %v", rec.Vector)
	}
	hits := must[[]client.Hit](t)(bin.Vector.Search(ctx, "l2", client.SearchRequest{Vector: []float32{0, 0}, K: 3}))
	if hits[0].ID != "o" || hits[2].ID != "far" || math.Abs(float64(hits[2].Score)+5) > 1e-4 {
		t.Fatalf("l2 hits = %+v (score = -distance)", hits)
	}
	if got := client.EncodeVectorB64([]float32{1}); got != "AACAPw==" {
		t.Fatalf("EncodeVectorB64(1) = %q", got)
	}
}

func TestVectorVacuumAndEvents(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	createColl(t, c, "vac", client.CreateCollection{Dim: 2})
	sub := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{FromNow: true, Collection: "vac"}))
	defer sub.Close()
	items := make([]client.Item, 30)
	for i := range items {
		items[i] = client.Item{ID: fmt.Sprintf("p%d", i), Vector: []float32{1, float32(i)}}
	}
	must[*client.BatchResult](t)(c.Vector.UpsertBatch(ctx, "vac", items, nil))
	must[*client.BatchResult](t)(c.Vector.DeleteBatch(ctx, "vac", []string{"p0", "p1", "p2"}, nil))
	before := must[[]client.Hit](t)(c.Vector.Search(ctx, "vac", client.SearchRequest{Vector: []float32{1, 5}, K: 5}))
	v := must[*client.VacuumResult](t)(c.Vector.Vacuum(ctx, "vac"))
	if v.Collection != "vac" || v.LiveCount != 27 {
		t.Fatalf("vacuum = %+v", v)
	}
	after := must[[]client.Hit](t)(c.Vector.Search(ctx, "vac", client.SearchRequest{Vector: []float32{1, 5}, K: 5}))
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("vacuum changed results: %v vs %v", before, after)
	}
	if _, err := c.Vector.Vacuum(ctx, "nope"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("vacuum missing: %v", err)
	}
	for i := range 33 {
		ev := next(t, sub)
		want := "vector_upserted"
		if i >= 30 {
			want = "vector_deleted"
		}
		if ev.Type != want || ev.Collection != "vac" {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
}
