package hnsw

import (
	"bytes"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read: it must return an index or an
// error, never panic, and a returned index must be searchable.
func FuzzRead(f *testing.F) {
	ix, _ := New(Config{Dim: 3, Metric: L2, M: 2, EfConstruction: 4}, 0)
	for i := range 20 {
		_ = ix.Add(uint32(i), []float32{float32(i), float32(i % 3), 1})
	}
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:70])
	f.Add([]byte("LUMAHNSW"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		if _, err := got.Search(make([]float32, got.Dim()), 3, 8, nil); err != nil {
			t.Fatal(err)
		}
	})
}
