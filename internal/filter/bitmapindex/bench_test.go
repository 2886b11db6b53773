package bitmapindex

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/luma-db/luma/internal/filter"
)

const benchN = 100_000

// benchDocs returns benchN product-like metadata documents.
func benchDocs() []any {
	rng := rand.New(rand.NewPCG(42, 42))
	tiers := []string{"free", "pro", "gold"}
	docs := make([]any, benchN)
	for i := range docs {
		tags := make([]any, 1+rng.IntN(3))
		for j := range tags {
			tags[j] = "t" + strconv.Itoa(rng.IntN(50))
		}
		docs[i] = map[string]any{
			"category": "c" + strconv.Itoa(int(rng.ExpFloat64()*4)%20),
			"price":    float64(rng.IntN(100000)) / 100,
			"year":     float64(1990 + rng.IntN(35)),
			"tags":     tags,
			"in_stock": rng.IntN(3) > 0,
			"sku":      fmt.Sprintf("sku-%06d", i),
			"user":     map[string]any{"tier": tiers[rng.IntN(3)]},
		}
	}
	return docs
}

var benchFilters = []struct{ name, src string }{
	{"keyword", `{"category":"c3"}`},
	{"range_1pct", `{"price":{"$gte":100,"$lt":110}}`},
	{"range_50pct", `{"price":{"$gt":500}}`},
	{"int_eq", `{"year":2001}`},
	{"and3", `{"category":"c1","price":{"$lt":500},"in_stock":true}`},
	{"or3", `{"$or":[{"category":"c5"},{"category":"c6"},{"tags":{"$eq":"t7"}}]}`},
	{"in10", `{"tags":{"$in":["t1","t2","t3","t4","t5","t6","t7","t8","t9","t10"]}}`},
	{"not", `{"$not":{"category":"c0"}}`},
	{"nested_path", `{"user.tier":"gold"}`},
	{"string_range", `{"sku":{"$gte":"sku-050000","$lt":"sku-051000"}}`},
	{"inexact_object", `{"user":{"tier":"gold"}}`},
}

func buildBenchIndex(b *testing.B, docs []any) *Index {
	b.Helper()
	ix := New(nil)
	for i, d := range docs {
		ix.Add(uint32(i), d)
	}
	return ix
}

// BenchmarkEval: Eval over 100k ids for several filter shapes; "matches" is
// the result size (candidates when inexact).
func BenchmarkEval(b *testing.B) {
	docs := benchDocs()
	ix := buildBenchIndex(b, docs)
	for _, bf := range benchFilters {
		f, err := filter.Parse([]byte(bf.src), nil)
		if err != nil {
			b.Fatal(err)
		}
		ix.Eval(f) // build lazy state
		b.Run(bf.name, func(b *testing.B) {
			var n uint64
			for b.Loop() {
				ids, _ := ix.Eval(f)
				n = ids.GetCardinality()
			}
			b.ReportMetric(float64(n), "matches")
		})
	}
}

// BenchmarkMatchScan is the baseline Eval replaces: Match over every document.
func BenchmarkMatchScan(b *testing.B) {
	docs := benchDocs()
	for _, bf := range benchFilters[:5] {
		f, err := filter.Parse([]byte(bf.src), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bf.name, func(b *testing.B) {
			for b.Loop() {
				n := 0
				for _, d := range docs {
					if f.Match(d) {
						n++
					}
				}
			}
		})
	}
}

// BenchmarkEstimate: the planner's cost for a few shapes.
func BenchmarkEstimate(b *testing.B) {
	ix := buildBenchIndex(b, benchDocs())
	for _, bf := range benchFilters[:5] {
		f, _ := filter.Parse([]byte(bf.src), nil)
		b.Run(bf.name, func(b *testing.B) {
			for b.Loop() {
				ix.Estimate(f)
			}
		})
	}
}

// BenchmarkBucketSize compares bucket sizes of the numeric index: building
// 100k documents, a 1% and a 50% range, and a delete+insert churn.
func BenchmarkBucketSize(b *testing.B) {
	defer func(s int) { bucketSize = s }(bucketSize)
	docs := benchDocs()
	narrow, _ := filter.Parse([]byte(`{"price":{"$gte":100,"$lt":110}}`), nil)
	wide, _ := filter.Parse([]byte(`{"price":{"$gt":500}}`), nil)
	for _, size := range []int{32, 128, 512, 2048} {
		bucketSize = size
		b.Run(fmt.Sprintf("size=%d/add100k", size), func(b *testing.B) {
			for b.Loop() {
				buildBenchIndex(b, docs)
			}
		})
		ix := buildBenchIndex(b, docs)
		b.Run(fmt.Sprintf("size=%d/range_1pct", size), func(b *testing.B) {
			for b.Loop() {
				ix.Eval(narrow)
			}
		})
		b.Run(fmt.Sprintf("size=%d/range_50pct", size), func(b *testing.B) {
			for b.Loop() {
				ix.Eval(wide)
			}
		})
		b.Run(fmt.Sprintf("size=%d/update", size), func(b *testing.B) {
			i := 0
			for b.Loop() {
				id := uint32(i % benchN)
				ix.Update(id, docs[id], docs[id])
				i += 7919
			}
		})
	}
}
