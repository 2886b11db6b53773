package vector

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// TestCheckpointsRestartAndCorruption: a restart loads every segment from
// its checkpoint (no rebuild, no index lag); damaged, truncated or missing
// files are rebuilt from the records with the same answers.
func TestCheckpointsRestartAndCorruption(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			n, dim := 300, 8
			r := rand.New(rand.NewPCG(21, 22))
			vecs := randVecs(r, n, dim)
			dir := t.TempDir()
			f := newFixture(t, dir, Options{SegmentSize: 64})
			f.create("c", dim, Cosine, IndexSettings{Kind: kind, EfConstruction: 64})
			f.upsertAll("c", vecs, func(i int) any { return map[string]any{"i": i} })
			if _, err := f.vs.DeleteBatch(bg, "c", []string{"v3", "v70", "v299"}); err != nil {
				t.Fatal(err)
			}
			f.waitIndexed("c")
			answers := func() []string {
				var out []string
				for i := 0; i < n; i += 7 {
					for _, h := range f.search("c", SearchRequest{Vector: vecs[i], K: 5, Ef: n, IncludeMeta: true}).Hits {
						out = append(out, fmt.Sprintf("%s %.6f %s", h.ID, h.Score, h.Meta))
					}
				}
				return out
			}
			before := answers()
			f.restart()
			if got := counterValue(f.vs.met.ckptRebuilds); got != 0 {
				t.Fatalf("%v segments rebuilt after a clean restart", got)
			}
			c, _ := f.vs.collection("c")
			if kind == IndexHNSW && c.lag() != 0 {
				t.Fatalf("index lag %d after a clean restart: the active segment was not checkpointed", c.lag())
			}
			if after := answers(); !slices.Equal(before, after) {
				t.Fatal("answers changed across a restart")
			}
			// Four sealed segments, and for HNSW the active one's graph.
			files := segFiles(t, filepath.Join(dir, "vectors", "c"))
			want := 4
			if kind == IndexHNSW {
				want = 5
			}
			if len(files) != want {
				t.Fatalf("checkpoint files %v, want %d", files, want)
			}
			f.close()
			// Damage three of them: a flipped byte, a truncation, a deletion.
			cdir := filepath.Join(dir, "vectors", "c")
			p0 := filepath.Join(cdir, files[0])
			b, _ := os.ReadFile(p0)
			b[len(b)/2] ^= 0x55
			os.WriteFile(p0, b, 0o644)
			p1 := filepath.Join(cdir, files[1])
			b, _ = os.ReadFile(p1)
			os.WriteFile(p1, b[:len(b)-10], 0o644)
			os.Remove(filepath.Join(cdir, files[2]))
			os.WriteFile(filepath.Join(cdir, "seg-999-0-stray.hnsw"), []byte("junk"), 0o644)
			f.open()
			if got := counterValue(f.vs.met.ckptRebuilds); got != 3 {
				t.Fatalf("%v segments rebuilt, want 3", got)
			}
			if after := answers(); !slices.Equal(before, after) {
				t.Fatal("answers changed after rebuilding damaged checkpoints")
			}
			f.waitIndexed("c")
			if after := answers(); !slices.Equal(before, after) {
				t.Fatal("answers changed after re-indexing")
			}
			d, _ := f.vs.Detail("c")
			for _, sg := range d.SegmentList {
				if sg.Sealed && !sg.Checkpointed {
					t.Fatalf("segment %d not checkpointed again: %+v", sg.ID, d.SegmentList)
				}
			}
			if slices.Contains(segFiles(t, cdir), "seg-999-0-stray.hnsw") {
				t.Fatal("stray file not removed")
			}
			f.restart()
			if got := counterValue(f.vs.met.ckptRebuilds); got != 0 {
				t.Fatalf("%v segments rebuilt after re-checkpointing", got)
			}
		})
	}
}

// TestMemoryModeWritesNoFiles: without a data directory nothing is written
// outside the storage engine.
func TestMemoryModeWritesNoFiles(t *testing.T) {
	f := newFixture(t, "", Options{SegmentSize: 32})
	f.create("c", 4, Cosine, IndexSettings{})
	f.upsertAll("c", randVecs(rand.New(rand.NewPCG(1, 3)), 100, 4), nil)
	f.waitIndexed("c")
	c, _ := f.vs.collection("c")
	if c.dir != "" || c.checkpointBytes() != 0 {
		t.Fatal("memory mode wrote checkpoints")
	}
}
