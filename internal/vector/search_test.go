package vector

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestFilteredSearchSelectivity compares filtered searches with brute force
// at selectivities from 0.1% to 50%, through both planner paths: with the
// default threshold (exact scans at this size) and with the threshold
// forced down so that the graph is traversed with the filter as its
// allow-list. Every answer must hold min(k, matches) hits, all matching.
func TestFilteredSearchSelectivity(t *testing.T) {
	n, dim, nq := 4000, 16, 20
	if raceEnabled {
		n, nq = 1200, 6
	}
	r := rand.New(rand.NewPCG(3, 4))
	vecs := clustered(r, n, dim)
	queries := clustered(r, nq, dim)
	sel := func(i int) int { return (i * 7919) % 1000 }
	filters := []struct {
		name   string
		filter string
		keep   func(i int) bool
	}{
		{"0.1%", `{"sel": 7}`, func(i int) bool { return sel(i) == 7 }},
		{"1%", `{"sel": {"$lt": 10}}`, func(i int) bool { return sel(i) < 10 }},
		{"10%", `{"sel": {"$lt": 100}, "tag": {"$exists": true}}`, func(i int) bool { return sel(i) < 100 }},
		{"50%", `{"$or": [{"sel": {"$lt": 250}}, {"sel": {"$gte": 750}}]}`, func(i int) bool { return sel(i) < 250 || sel(i) >= 750 }},
		{"50% not", `{"$not": {"parity": "odd"}}`, func(i int) bool { return i%2 == 0 }},
	}
	for _, planner := range []struct {
		name      string
		threshold int
	}{{"default", 0}, {"graph", 8}} {
		t.Run(planner.name, func(t *testing.T) {
			f := newFixture(t, "", Options{SegmentSize: 1024, exactThreshold: planner.threshold})
			f.create("c", dim, Cosine, IndexSettings{EfSearch: 64, EfConstruction: 100})
			f.upsertAll("c", vecs, func(i int) any {
				p := "even"
				if i%2 == 1 {
					p = "odd"
				}
				return map[string]any{"sel": sel(i), "tag": "x", "parity": p}
			})
			f.waitIndexed("c")
			for _, fl := range filters {
				matches := 0
				for i := range vecs {
					if fl.keep(i) {
						matches++
					}
				}
				var sum float64
				for _, q := range queries {
					res := f.search("c", SearchRequest{Vector: q, K: 10, Filters: json.RawMessage(fl.filter), IncludeMeta: true})
					want := brute(Cosine, vecs, q, 10, fl.keep)
					if len(res.Hits) != len(want) {
						t.Fatalf("%s: %d hits, want %d (matches %d)", fl.name, len(res.Hits), len(want), matches)
					}
					for _, h := range res.Hits {
						var i int
						fmt.Sscanf(h.ID, "v%d", &i)
						if !fl.keep(i) {
							t.Fatalf("%s: hit %s does not match the filter (meta %s)", fl.name, h.ID, h.Meta)
						}
					}
					sum += float64(overlap(ids(res.Hits), want)) / float64(len(want))
				}
				rec := sum / float64(nq)
				min := 0.9
				if planner.threshold == 0 && fl.name != "50%" && fl.name != "50% not" {
					min = 1 // exact scans
				}
				if rec < min {
					t.Errorf("%s: recall %.3f, want >= %.2f", fl.name, rec, min)
				}
			}
		})
	}
}

// TestTombstonesNeverReturned deletes and replaces vectors and searches
// with each removed vector itself: it must never come back, before or
// after a restart.
func TestTombstonesNeverReturned(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			n, dim := 1200, 8
			if raceEnabled {
				n = 600
			}
			r := rand.New(rand.NewPCG(5, 6))
			vecs := randVecs(r, n, dim)
			f := newFixture(t, t.TempDir(), Options{SegmentSize: 256})
			f.create("c", dim, L2, IndexSettings{Kind: kind, EfConstruction: 64})
			f.upsertAll("c", vecs, nil)
			deleted := map[string]bool{}
			var del []string
			for i := 0; i < n; i += 3 {
				del = append(del, fmt.Sprintf("v%d", i))
				deleted[fmt.Sprintf("v%d", i)] = true
			}
			for s := 0; s < len(del); s += 200 {
				res, err := f.vs.DeleteBatch(bg, "c", del[s:min(len(del), s+200)])
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range res {
					if x.Err != nil {
						t.Fatal(x.Err)
					}
				}
			}
			// Replace some vectors: the old ones are tombstones too.
			moved := map[int][]float32{}
			for i := 1; i < n; i += 5 {
				if deleted[fmt.Sprintf("v%d", i)] {
					continue
				}
				nv := randVecs(r, 1, dim)[0]
				moved[i] = vecs[i]
				if err := f.vs.Upsert(bg, "c", Item{ID: fmt.Sprintf("v%d", i), Vector: nv}); err != nil {
					t.Fatal(err)
				}
				vecs[i] = nv
			}
			check := func() {
				t.Helper()
				for i := 0; i < n; i += 3 {
					for _, h := range f.search("c", SearchRequest{Vector: vecs[i], K: 5}).Hits {
						if deleted[h.ID] {
							t.Fatalf("deleted %s returned for its own vector", h.ID)
						}
					}
				}
				for i, old := range moved {
					res := f.search("c", SearchRequest{Vector: old, K: 1, Ef: 200})
					if len(res.Hits) == 1 && res.Hits[0].ID == fmt.Sprintf("v%d", i) && res.Hits[0].Score == 0 {
						t.Fatalf("replaced vector of v%d still found", i)
					}
					res = f.search("c", SearchRequest{Vector: vecs[i], K: 1, Ef: 200})
					if res.Hits[0].ID != fmt.Sprintf("v%d", i) {
						t.Fatalf("v%d not found by its new vector: %v", i, res.Hits)
					}
				}
			}
			check()
			f.waitIndexed("c")
			check()
			f.restart()
			check()
			d, _ := f.vs.Detail("c")
			if *d.Count != int64(n-len(del)) {
				t.Fatalf("count %d, want %d", *d.Count, n-len(del))
			}
		})
	}
}

// TestVacuumKeepsResults checks that a vacuum removes tombstones without
// changing any answer, online and after a restart.
func TestVacuumKeepsResults(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			n, dim := 1000, 8
			r := rand.New(rand.NewPCG(7, 8))
			vecs := randVecs(r, n, dim)
			queries := randVecs(r, 20, dim)
			f := newFixture(t, t.TempDir(), Options{SegmentSize: 128})
			f.create("c", dim, Cosine, IndexSettings{Kind: kind})
			f.upsertAll("c", vecs, func(i int) any { return map[string]any{"g": i % 7} })
			var del []string
			for i := 0; i < n; i++ {
				if i%4 == 0 || (i > 300 && i < 500) {
					del = append(del, fmt.Sprintf("v%d", i))
				}
			}
			for s := 0; s < len(del); s += 256 {
				if _, err := f.vs.DeleteBatch(bg, "c", del[s:min(len(del), s+256)]); err != nil {
					t.Fatal(err)
				}
			}
			f.waitIndexed("c")
			// ef as large as the collection makes graph searches exhaustive,
			// so answers are comparable exactly.
			answers := func() []string {
				var out []string
				for _, q := range queries {
					for _, fl := range []string{"", `{"g": 3}`} {
						req := SearchRequest{Vector: q, K: 10, Ef: n, IncludeMeta: true}
						if fl != "" {
							req.Filters = json.RawMessage(fl)
						}
						for _, h := range f.search("c", req).Hits {
							out = append(out, fmt.Sprintf("%s %.6f %s", h.ID, h.Score, h.Meta))
						}
					}
				}
				return out
			}
			before := answers()
			last := f.db.LastOffset()
			res, err := f.vs.Vacuum(bg, "c")
			if err != nil {
				t.Fatal(err)
			}
			if res.Removed != int64(len(del)) || res.Live != int64(n-len(del)) {
				t.Fatalf("vacuum result %+v, want %d removed", res, len(del))
			}
			if f.db.LastOffset() != last {
				t.Fatal("vacuum emitted events")
			}
			d, _ := f.vs.Detail("c")
			if *d.Tombstones != 0 || *d.Count != int64(n-len(del)) {
				t.Fatalf("after vacuum: tombstones %d count %d", *d.Tombstones, *d.Count)
			}
			if after := answers(); !slices.Equal(before, after) {
				t.Fatalf("answers changed by vacuum:\n%v\n%v", before[:10], after[:10])
			}
			// Writes after the vacuum go to a fresh segment and survive.
			if err := f.vs.Upsert(bg, "c", Item{ID: "new", Vector: vecs[1]}); err != nil {
				t.Fatal(err)
			}
			if err := f.vs.Delete(bg, "c", "new"); err != nil {
				t.Fatal(err)
			}
			f.restart()
			if after := answers(); !slices.Equal(before, after) {
				t.Fatal("answers changed by vacuum + restart")
			}
			d, _ = f.vs.Detail("c")
			if *d.Tombstones != 1 || *d.Count != int64(n-len(del)) {
				t.Fatalf("after restart: tombstones %d count %d", *d.Tombstones, *d.Count)
			}
			for _, sg := range d.SegmentList {
				if sg.Count-int(sg.Deleted) > 128 {
					t.Fatalf("segment %d holds %d live vectors, more than a segment", sg.ID, sg.Count)
				}
			}
			// A second vacuum has nothing but the one tombstone to remove.
			if res, err = f.vs.Vacuum(bg, "c"); err != nil || res.Removed != 1 {
				t.Fatalf("second vacuum: %+v %v", res, err)
			}
		})
	}
}

func TestAutoVacuum(t *testing.T) {
	f := newFixture(t, "", Options{SegmentSize: 128, TombstoneRatio: 0.2})
	r := rand.New(rand.NewPCG(9, 10))
	vecs := randVecs(r, 1000, 4)
	f.create("c", 4, Cosine, IndexSettings{Kind: IndexFlat})
	f.upsertAll("c", vecs, nil)
	var del []string
	for i := 0; i < 400; i++ {
		del = append(del, fmt.Sprintf("v%d", i))
	}
	for s := 0; s < len(del); s += 200 {
		if _, err := f.vs.DeleteBatch(bg, "c", del[s:s+200]); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := f.vs.collection("c")
	// The trigger runs inside DeleteBatch, so the vacuum has started (or
	// finished) by now.
	for c.vacAuto.Load() {
		time.Sleep(time.Millisecond)
	}
	if c.slotsN.Load() != c.live.Load() {
		t.Fatalf("no automatic vacuum: %d slots, %d live", c.slotsN.Load(), c.live.Load())
	}
}

func TestGroupedSearch(t *testing.T) {
	f := newFixture(t, "", Options{SegmentSize: 64})
	f.create("c", 2, Cosine, IndexSettings{})
	// Documents d0..d4, three chunks each, a few chunks without doc.
	var items []Item
	for d := 0; d < 5; d++ {
		for ch := 0; ch < 3; ch++ {
			ang := float32(d)*0.3 + float32(ch)*0.01
			items = append(items, Item{ID: fmt.Sprintf("d%d-%d", d, ch), Vector: []float32{1, ang},
				Meta: json.RawMessage(fmt.Sprintf(`{"doc": "d%d", "n": %d.0}`, d, ch))})
		}
	}
	items = append(items, Item{ID: "lone", Vector: []float32{1, 0.05}, Meta: json.RawMessage(`{"other": 1}`)})
	if _, err := f.vs.UpsertBatch(bg, "c", items); err != nil {
		t.Fatal(err)
	}
	res := f.search("c", SearchRequest{Vector: []float32{1, 0}, K: 3, GroupBy: "doc", GroupLimit: 2})
	var got []string
	for _, g := range res.Groups {
		got = append(got, fmt.Sprintf("%s:%d:%v", g.Value, g.Count, ids(g.Hits)))
	}
	want := []string{`"d0":3:[d0-0 d0-1]`, `null:1:[lone]`, `"d1":3:[d1-0 d1-1]`}
	if !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	if !slices.Equal(ids(res.Hits), []string{"d0-0", "d0-1", "lone", "d1-0", "d1-1"}) {
		t.Fatalf("hits %v", ids(res.Hits))
	}
	// Numbers group by value (1 and 1.0 are one group), with a filter.
	res = f.search("c", SearchRequest{Vector: []float32{1, 0}, K: 10, GroupBy: "n", Filters: json.RawMessage(`{"doc": {"$in": ["d1", "d2"]}}`)})
	got = nil
	for _, g := range res.Groups {
		got = append(got, fmt.Sprintf("%s:%d:%v", g.Value, g.Count, ids(g.Hits)))
	}
	want = []string{`0.0:2:[d1-0]`, `1.0:2:[d1-1]`, `2.0:2:[d1-2]`}
	if !slices.Equal(got, want) {
		t.Fatalf("numeric groups %v, want %v", got, want)
	}
}

// TestReadYourWrites runs writers that search for each vector right after
// its upsert returns, while the indexer inserts in the background.
func TestReadYourWrites(t *testing.T) {
	f := newFixture(t, "", Options{SegmentSize: 64, BuildThreads: 2})
	dim := 8
	f.create("c", dim, Cosine, IndexSettings{})
	per := 150
	if raceEnabled {
		per = 60
	}
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 11))
			for i := 0; i < per; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				v := randVecs(r, 1, dim)[0]
				if err := f.vs.Upsert(bg, "c", Item{ID: id, Vector: v}); err != nil {
					errc <- err
					return
				}
				res, err := f.vs.Search(bg, "c", SearchRequest{Vector: v, K: 1, Ef: 400})
				if err != nil {
					errc <- err
					return
				}
				if len(res.Hits) == 0 || res.Hits[0].ID != id {
					errc <- fmt.Errorf("%s not found right after its upsert: %v", id, res.Hits)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func TestDropAndRecreate(t *testing.T) {
	f := newFixture(t, t.TempDir(), Options{SegmentSize: 32})
	f.create("c", 4, Cosine, IndexSettings{})
	r := rand.New(rand.NewPCG(1, 1))
	f.upsertAll("c", randVecs(r, 100, 4), nil)
	f.waitIndexed("c")
	if err := f.vs.Drop(bg, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.vs.Detail("c"); err == nil {
		t.Fatal("detail after drop")
	}
	f.create("c", 2, Dot, IndexSettings{})
	if err := f.vs.Upsert(bg, "c", Item{ID: "v1", Vector: []float32{1, 1}}); err != nil {
		t.Fatal(err)
	}
	f.restart()
	d, err := f.vs.Detail("c")
	if err != nil || *d.Dim != 2 || *d.Count != 1 {
		t.Fatalf("recreated collection: %+v %v", d, err)
	}
	list, _ := f.vs.List(bg)
	if len(list) != 1 || list[0].LiveCount != 1 {
		t.Fatalf("list %+v", list)
	}
}

func TestManifestFallback(t *testing.T) {
	f := newFixture(t, "", Options{})
	if _, err := f.st.Put(bg, "vector:ghost:manifest", json.RawMessage(`{"collection":"ghost","dim":3,"metric":"dot","created_at_ms":5,"updated_at_ms":6}`), stateOpts()); err != nil {
		t.Fatal(err)
	}
	f.create("real", 2, Cosine, IndexSettings{})
	list, err := f.vs.List(bg)
	if err != nil || len(list) != 2 || list[0].Collection != "ghost" || list[0].Dim != 3 || list[0].LiveCount != 0 || list[0].Segments != nil {
		t.Fatalf("list %+v %v", list, err)
	}
	if list[1].CreatedAtMs == nil || *list[1].Segments != 0 {
		t.Fatalf("real %+v", list[1])
	}
	d, err := f.vs.Detail("ghost")
	if err != nil || d.Notes == nil || *d.Notes != "using manifest fallback" || *d.Dim != 3 || d.Count != nil {
		t.Fatalf("detail %+v %v", d, err)
	}
}
