package docstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// benchEnv holds n documents of about 400 bytes with indexes on group
// (number) and score (auto) in collection "idx", and the same documents
// without indexes in "raw".
func benchEnv(b *testing.B, n int) *testEnv {
	b.Helper()
	e := openEnv(b, "", Options{})
	ctx := context.Background()
	for _, c := range []string{"idx"} {
		if _, err := e.ds.CreateIndex(ctx, c, "group", TypeNumber); err != nil {
			b.Fatal(err)
		}
		if _, err := e.ds.CreateIndex(ctx, c, "score", TypeAuto); err != nil {
			b.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < n; i++ {
		body := fmt.Sprintf(`{"n":%d,"group":%d,"score":%.3f,"name":"user-%d","active":%t,"tags":["t%d","u%d"],"profile":{"age":%d,"city":"lima"},"bio":%q}`,
			i, i%100, r.Float64()*1e6, i, i%3 == 0, i%10, i%7, 18+i%60, strings.Repeat("lorem ipsum ", 18))
		for _, c := range []string{"idx", "raw"} {
			if _, err := e.ds.Put(ctx, c, fmt.Sprintf("doc-%07d", i), []byte(body), nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	return e
}

func benchFind(b *testing.B, e *testEnv, c string, q func(r *rand.Rand) Query, wantIndex string) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(2, 2))
	b.ReportAllocs()
	b.ResetTimer()
	scanned := 0
	for i := 0; i < b.N; i++ {
		res, err := e.ds.Find(ctx, c, q(r))
		if err != nil || res.IndexUsed != wantIndex {
			b.Fatalf("find: %v, index %q", err, res.IndexUsed)
		}
		scanned += res.Scanned
	}
	b.ReportMetric(float64(scanned)/float64(b.N), "scanned/op")
}

func BenchmarkFind(b *testing.B) {
	e := benchEnv(b, benchDocs())
	eq := func(r *rand.Rand) Query {
		return Query{Filter: []byte(fmt.Sprintf(`{"group":%d}`, r.IntN(100)))}
	}
	b.Run("eq/index", func(b *testing.B) { benchFind(b, e, "idx", eq, "group") })
	b.Run("eq/scan", func(b *testing.B) { benchFind(b, e, "raw", eq, "") })
	desc := func(r *rand.Rand) Query {
		return Query{Filter: []byte(fmt.Sprintf(`{"score":{"$lt":%f}}`, r.Float64()*1e6)), Sort: &Sort{Field: "score", Desc: true}}
	}
	b.Run("sort-desc/index", func(b *testing.B) { benchFind(b, e, "idx", desc, "score") })
	b.Run("sort-desc/scan", func(b *testing.B) { benchFind(b, e, "raw", desc, "") })
	asc := func(r *rand.Rand) Query {
		return Query{Filter: []byte(fmt.Sprintf(`{"score":{"$gte":%f}}`, r.Float64()*1e6)), Sort: &Sort{Field: "score"}}
	}
	b.Run("sort-asc/index", func(b *testing.B) { benchFind(b, e, "idx", asc, "score") })
}

func BenchmarkPut(b *testing.B) {
	e := benchEnv(b, 0)
	ctx := context.Background()
	body := []byte(fmt.Sprintf(`{"n":1,"group":5,"score":12.5,"name":"user","active":true,"tags":["t1","u2"],"profile":{"age":30,"city":"lima"},"bio":%q}`, strings.Repeat("lorem ipsum ", 18)))
	for _, c := range []string{"raw", "idx"} {
		b.Run(c, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := e.ds.Put(ctx, c, fmt.Sprint("d", i%1000), body, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchDocs is the collection size of BenchmarkFind (DOCBENCH_DOCS, default
// 10000).
func benchDocs() int {
	if v, err := strconv.Atoi(os.Getenv("DOCBENCH_DOCS")); err == nil && v > 0 {
		return v
	}
	return 10000
}
