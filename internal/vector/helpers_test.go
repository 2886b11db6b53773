package vector

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
)

// fixture is a real storage engine (in memory or in a directory) with a
// state store and a vector store on top.
type fixture struct {
	t    testing.TB
	dir  string // "" = memory
	opts Options
	db   *storage.DB
	st   *state.Store
	vs   *Store
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newFixture opens a store; dir "" runs in memory. opts may set segment
// size, index defaults and so on.
func newFixture(t testing.TB, dir string, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: dir, opts: opts}
	f.open()
	t.Cleanup(f.close)
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	db, err := storage.Open(storage.Options{Dir: filepath.Join(f.dir, "store"), InMemory: f.dir == "", Logger: testLogger(f.t)})
	if err != nil {
		f.t.Fatalf("open storage: %v", err)
	}
	st, err := state.New(db, state.Options{Logger: testLogger(f.t)})
	if err != nil {
		f.t.Fatalf("open state: %v", err)
	}
	o := f.opts
	o.State = st
	if f.dir != "" {
		o.DataDir = filepath.Join(f.dir, "vectors")
	}
	if o.Logger == nil {
		o.Logger = testLogger(f.t)
	}
	vs, err := Open(db, o)
	if err != nil {
		f.t.Fatalf("open vector store: %v", err)
	}
	f.db, f.st, f.vs = db, st, vs
}

func (f *fixture) close() {
	if f.vs == nil {
		return
	}
	if err := f.vs.Close(); err != nil {
		f.t.Errorf("close vector store: %v", err)
	}
	f.st.Close()
	if err := f.db.Close(); err != nil {
		f.t.Errorf("close storage: %v", err)
	}
	f.vs = nil
}

func (f *fixture) restart() {
	f.t.Helper()
	f.close()
	f.open()
}

func (f *fixture) create(name string, dim int, metric Metric, idx IndexSettings) {
	f.t.Helper()
	if err := f.vs.Create(context.Background(), CreateRequest{Name: name, Dim: dim, Metric: metric, Index: idx}); err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
}

// upsertAll writes vecs as ids "v<i>" with meta in batches.
func (f *fixture) upsertAll(coll string, vecs [][]float32, meta func(i int) any) {
	f.t.Helper()
	for start := 0; start < len(vecs); start += 256 {
		end := min(len(vecs), start+256)
		items := make([]Item, 0, end-start)
		for i := start; i < end; i++ {
			it := Item{ID: fmt.Sprintf("v%d", i), Vector: vecs[i]}
			if meta != nil {
				b, _ := json.Marshal(meta(i))
				it.Meta = b
			}
			items = append(items, it)
		}
		res, err := f.vs.UpsertBatch(context.Background(), coll, items)
		if err != nil {
			f.t.Fatalf("upsert_batch: %v", err)
		}
		for _, r := range res {
			if r.Err != nil {
				f.t.Fatalf("upsert_batch item %s: %v", r.ID, r.Err)
			}
		}
	}
}

// waitIndexed waits until the indexer has caught up (no lag, every sealed
// segment finished).
func (f *fixture) waitIndexed(coll string) {
	f.t.Helper()
	c, err := f.vs.collection(coll)
	if err != nil {
		f.t.Fatal(err)
	}
	for {
		done := c.lag() == 0
		for _, sg := range c.segments() {
			if sg.sealed.Load() && !sg.finished.Load() && !sg.retired.Load() {
				done = false
			}
		}
		if done {
			return
		}
		c.poke()
		time.Sleep(5 * time.Millisecond)
	}
}

func randVecs(r *rand.Rand, n, dim int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		out[i] = v
	}
	return out
}

// clustered returns n vectors around 32 centres, a harder and more
// realistic dataset than uniform noise.
func clustered(r *rand.Rand, n, dim int) [][]float32 {
	centres := randVecs(r, 32, dim)
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.IntN(len(centres))]
		v := make([]float32, dim)
		for j := range v {
			v[j] = c[j] + 0.35*float32(r.NormFloat64())
		}
		out[i] = v
	}
	return out
}

// brute returns the exact top k ids (score desc, id asc) among the vectors
// for which keep is true.
func brute(metric Metric, vecs [][]float32, q []float32, k int, keep func(i int) bool) []string {
	type sc struct {
		id string
		s  float64
	}
	qq := q
	if metric != L2 {
		qq = normalize(q)
	}
	var all []sc
	for i, v := range vecs {
		if keep != nil && !keep(i) {
			continue
		}
		var s float64
		if metric == L2 {
			var d float64
			for j := range v {
				x := float64(v[j]) - float64(qq[j])
				d += x * x
			}
			s = -math.Sqrt(d)
		} else {
			vv := normalize(v)
			for j := range vv {
				s += float64(vv[j]) * float64(qq[j])
			}
		}
		all = append(all, sc{fmt.Sprintf("v%d", i), s})
	}
	slices.SortFunc(all, func(a, b sc) int {
		if c := cmp.Compare(b.s, a.s); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]string, 0, k)
	for i := 0; i < len(all) && i < k; i++ {
		out = append(out, all[i].id)
	}
	return out
}

func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func overlap(got, want []string) int {
	set := map[string]bool{}
	for _, w := range want {
		set[w] = true
	}
	n := 0
	for _, g := range got {
		if set[g] {
			n++
		}
	}
	return n
}

func (f *fixture) search(coll string, req SearchRequest) SearchResult {
	f.t.Helper()
	res, err := f.vs.Search(context.Background(), coll, req)
	if err != nil {
		f.t.Fatalf("search: %v", err)
	}
	return res
}

func stateOpts() state.PutOptions { return state.PutOptions{} }
