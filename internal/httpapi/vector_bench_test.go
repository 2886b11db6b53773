package httpapi

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	gojson "github.com/goccy/go-json"

	"github.com/luma-db/luma/internal/vector"
)

// batchBody is an upsert_batch body of n items of dim floats, as a Python
// client's json.dumps would write it (full float64 digits).
func batchBody(n, dim int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	items := make([]map[string]any, n)
	for i := range items {
		v := make([]float64, dim)
		for j := range v {
			v[j] = float64(float32(r.NormFloat64()))
		}
		items[i] = map[string]any{"id": fmt.Sprint(i), "vector": v, "meta": map[string]any{"i": i}}
	}
	b, _ := json.Marshal(map[string]any{"items": items})
	return b
}

// batchBodyB64 is batchBody with vector_b64 instead of vector.
func batchBodyB64(n, dim int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	items := make([]map[string]any, n)
	for i := range items {
		v := make([]byte, 4*dim)
		for j := 0; j < dim; j++ {
			binary.LittleEndian.PutUint32(v[4*j:], math.Float32bits(float32(r.NormFloat64())))
		}
		items[i] = map[string]any{"id": fmt.Sprint(i), "vector_b64": base64.StdEncoding.EncodeToString(v), "meta": map[string]any{"i": i}}
	}
	b, _ := json.Marshal(map[string]any{"items": items})
	return b
}

type stdItem struct {
	ID     *string         `json:"id"`
	Vector *[]float32      `json:"vector"`
	Meta   json.RawMessage `json:"meta"`
}

// BenchmarkDecodeUpsertBatch compares ways to turn a 256 × 768 body into
// float32 vectors plus the event's JSON text of each vector: decoding with
// encoding/json or goccy/go-json and formatting the floats again, or
// goccy/go-json with jsonVector, which keeps the text as sent.
func BenchmarkDecodeUpsertBatch(b *testing.B) {
	body := batchBody(256, 768)
	b.Run("encoding-json+format", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var req struct{ Items []stdItem }
			if err := json.Unmarshal(body, &req); err != nil {
				b.Fatal(err)
			}
			for _, it := range req.Items {
				_ = vector.AppendVector(nil, *it.Vector)
			}
		}
	})
	b.Run("goccy+format", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var req struct{ Items []stdItem }
			if err := gojson.Unmarshal(body, &req); err != nil {
				b.Fatal(err)
			}
			for _, it := range req.Items {
				_ = vector.AppendVector(nil, *it.Vector)
			}
		}
	})
	b.Run("goccy+jsonVector", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var req struct{ Items []vectorItemBody }
			if err := unmarshalVectorBody(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b64body := batchBodyB64(256, 768)
	b.Run("goccy+vector_b64", func(b *testing.B) {
		b.SetBytes(int64(len(b64body)))
		for b.Loop() {
			var req struct{ Items []vectorItemBody }
			if err := unmarshalVectorBody(b64body, &req); err != nil {
				b.Fatal(err)
			}
			for _, it := range req.Items {
				v, _, err := it.vector(4096)
				if err != nil || len(v) != 768 {
					b.Fatal(err)
				}
				_ = vector.AppendVector(nil, v)
			}
		}
	})
	b.Run("encoding-json+jsonVector", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var req struct{ Items []vectorItemBody }
			if err := json.Unmarshal(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
