package docstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/filter"
)

// The index and the scan must answer every find identically. These tests
// keep the same random documents in three collections — one without
// indexes (always scanned), one with auto indexes, one with typed indexes —
// apply the same random writes to each, and compare every page of random
// finds (filters, sorts, limits, cursors) across the three and against a
// brute-force reference.

var eqFields = []string{"n", "s", "b", "tags", "obj.x", "mix", "m"}

func randDocValue(r *rand.Rand, field string) (any, bool) {
	if r.IntN(8) == 0 {
		return nil, false // missing
	}
	switch field {
	case "n":
		switch r.IntN(5) {
		case 0:
			return json.Number(fmt.Sprint(r.IntN(20) - 5)), true
		case 1:
			return float64(r.IntN(40)) / 4, true
		case 2:
			return json.Number("9007199254740993"), true
		case 3:
			return "7", true // a string where numbers are expected
		default:
			return json.Number(fmt.Sprint(r.IntN(10))), true
		}
	case "s":
		if r.IntN(6) == 0 {
			return strings.Repeat("p", MaxIndexedString) + []string{"a", "b", "ab"}[r.IntN(3)], true
		}
		return []string{"", "a", "b", "ab", "ba", "é", "a\x00"}[r.IntN(7)], true
	case "b":
		if r.IntN(6) == 0 {
			return nil, true
		}
		return r.IntN(2) == 0, true
	case "tags":
		if r.IntN(5) == 0 {
			return []string{"a", "b"}[r.IntN(2)], true // a scalar sometimes
		}
		n := r.IntN(4)
		arr := make([]any, n)
		for i := range arr {
			v, _ := randScalarSmall(r)
			arr[i] = v
		}
		return arr, true
	case "obj.x":
		return json.Number(fmt.Sprint(r.IntN(6))), true
	case "mix", "m":
		switch r.IntN(6) {
		case 0:
			return map[string]any{"k": 1}, true
		case 1:
			return []any{json.Number("1"), "a"}, true
		default:
			return randScalarSmall(r)
		}
	}
	return nil, false
}

func randScalarSmall(r *rand.Rand) (any, bool) {
	switch r.IntN(5) {
	case 0:
		return nil, true
	case 1:
		return r.IntN(2) == 0, true
	case 2:
		return json.Number(fmt.Sprint(r.IntN(8) - 2)), true
	case 3:
		return float64(r.IntN(8)) / 2, true
	default:
		return []string{"a", "b", "c", "ab"}[r.IntN(4)], true
	}
}

func randDoc(r *rand.Rand) any {
	if r.IntN(40) == 0 {
		return []any{1, 2} // not an object
	}
	doc := map[string]any{}
	for _, f := range eqFields {
		v, ok := randDocValue(r, f)
		if !ok {
			continue
		}
		if f == "obj.x" {
			if r.IntN(5) == 0 {
				doc["obj"] = "flat"
			} else {
				doc["obj"] = map[string]any{"x": v}
			}
			continue
		}
		doc[f] = v
	}
	return doc
}

func randLiteral(r *rand.Rand, field string) any {
	v, ok := randDocValue(r, field)
	if !ok || r.IntN(4) == 0 {
		v, _ = randScalarSmall(r)
	}
	return v
}

func randOrderLiteral(r *rand.Rand, field string) any {
	for {
		v := randLiteral(r, field)
		switch v.(type) {
		case string, json.Number, float64:
			return v
		}
		if r.IntN(3) == 0 {
			return json.Number(fmt.Sprint(r.IntN(10)))
		}
	}
}

func randCmp(r *rand.Rand) map[string]any {
	f := eqFields[r.IntN(len(eqFields))]
	lit := func() any { return randLiteral(r, f) }
	ord := func() any { return randOrderLiteral(r, f) }
	ops := []string{"$gt", "$gte", "$lt", "$lte"}
	switch r.IntN(10) {
	case 0, 1:
		return map[string]any{f: lit()}
	case 2:
		return map[string]any{f: map[string]any{"$eq": lit()}}
	case 3:
		vals := make([]any, r.IntN(4))
		for i := range vals {
			vals[i] = lit()
		}
		return map[string]any{f: map[string]any{"$in": vals}}
	case 4, 5:
		return map[string]any{f: map[string]any{ops[r.IntN(4)]: ord()}}
	case 6:
		return map[string]any{f: map[string]any{ops[r.IntN(2)]: ord(), ops[2+r.IntN(2)]: ord()}}
	case 7:
		return map[string]any{f: map[string]any{"$exists": r.IntN(2) == 0}}
	case 8:
		return map[string]any{f: map[string]any{"$ne": lit()}}
	default:
		return map[string]any{f: map[string]any{"$nin": []any{lit(), lit()}}}
	}
}

func randFilter(r *rand.Rand, depth int) any {
	switch r.IntN(12) {
	case 0:
		if depth == 0 {
			return nil
		}
		return map[string]any{}
	case 1:
		return map[string]any{}
	case 2:
		if depth < 2 {
			return map[string]any{"$or": []any{randFilter(r, depth+1), randFilter(r, depth+1)}}
		}
	case 3:
		if depth < 2 {
			return map[string]any{"$not": randFilter(r, depth+1)}
		}
	case 4:
		if depth == 0 && r.IntN(3) == 0 {
			return "not an object"
		}
	}
	m := randCmp(r)
	for r.IntN(2) == 0 {
		for k, v := range randCmp(r) {
			if _, dup := m[k]; !dup {
				m[k] = v
			}
		}
	}
	if m2, ok := randFilter(r, 2).(map[string]any); ok && depth == 0 && r.IntN(3) == 0 {
		return map[string]any{"$and": []any{m, m2}}
	}
	return m
}

func randSort(r *rand.Rand) *Sort {
	if r.IntN(3) == 0 {
		return nil
	}
	fields := append(slices.Clone(eqFields), "absent")
	return &Sort{Field: fields[r.IntN(len(fields))], Desc: r.IntN(2) == 0}
}

type pageRun struct {
	ids   []string
	used  map[string]bool
	pages int
}

// findAll pages through a find and returns every id in order.
func findAll(t *testing.T, ds *Store, c string, filt []byte, so *Sort, limit int) pageRun {
	t.Helper()
	pr := pageRun{used: map[string]bool{}}
	cursor := ""
	for {
		res, err := ds.Find(context.Background(), c, Query{Filter: filt, Limit: limit, Sort: so, Cursor: cursor})
		if err != nil {
			t.Fatalf("find %s %s sort %+v: %v", c, filt, so, err)
		}
		pr.pages++
		for _, d := range res.Docs {
			pr.ids = append(pr.ids, d.ID+"@"+fmt.Sprint(d.Revision))
		}
		pr.used[res.IndexUsed] = true
		if res.NextCursor == "" {
			return pr
		}
		if len(res.Docs) != limit {
			t.Fatalf("page of %d with a next cursor, limit %d", len(res.Docs), limit)
		}
		cursor = res.NextCursor
		if pr.pages > 10000 {
			t.Fatal("paging does not end")
		}
	}
}

// reference answers a find by brute force over the current documents.
func reference(t *testing.T, docs map[string]any, filt []byte, so *Sort) []string {
	t.Helper()
	f, err := filter.Parse(filt, nil)
	if err != nil {
		t.Fatal(err)
	}
	type item struct {
		p   position
		key string
	}
	var items []item
	for id, d := range docs {
		b, _ := json.Marshal(d)
		v, _ := decodeDoc(b)
		if f.Match(v) {
			items = append(items, item{positionOf(so, id, v), id})
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		if before(so, a.p, b.p) {
			return -1
		}
		return 1
	})
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.key
	}
	return out
}

func stripRev(ids []string) []string {
	out := make([]string, len(ids))
	for i, s := range ids {
		out[i] = s[:strings.LastIndexByte(s, '@')]
	}
	return out
}

func TestIndexScanEquivalence(t *testing.T) {
	seeds, queries := 3, 120
	if testing.Short() || raceEnabled {
		seeds, queries = 1, 40
	}
	for seed := 0; seed < seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			equivalenceRound(t, uint64(seed), queries)
		})
	}
}

func equivalenceRound(t *testing.T, seed uint64, queries int) {
	r := rand.New(rand.NewPCG(seed, 99))
	e := openEnv(t, "", Options{Limits: Limits{MaxFind: 1000}, BuildBatch: 7})
	ctx := context.Background()
	colls := []string{"scan", "auto", "typed"}
	typed := map[string]IndexType{"n": TypeNumber, "s": TypeKeyword, "b": TypeBool, "tags": TypeKeyword, "obj.x": TypeNumber, "mix": TypeAuto}
	// Half the documents exist before the indexes (background build), half
	// are written after (maintained by the writes).
	docs := map[string]any{}
	write := func(n int) {
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("d%03d", r.IntN(100))
			if r.IntN(6) == 0 {
				delete(docs, id)
				for _, c := range colls {
					if _, err := e.ds.Delete(ctx, c, id, nil); err != nil {
						t.Fatal(err)
					}
				}
				continue
			}
			d := randDoc(r)
			docs[id] = d
			for _, c := range colls {
				e.put(t, c, id, d)
			}
		}
	}
	write(80)
	for _, f := range eqFields {
		if f == "m" {
			continue
		}
		if _, err := e.ds.CreateIndex(ctx, "auto", f, TypeAuto); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ds.CreateIndex(ctx, "typed", f, typed[f]); err != nil {
			t.Fatal(err)
		}
	}
	write(80)
	waitReady(t, e.ds, "auto", "typed")
	used := map[string]int{}
	for q := 0; q < queries; q++ {
		if q%50 == 49 {
			write(20)
		}
		if q == queries/2 {
			// Drop and re-create indexes over live footprints.
			for _, f := range []string{"n", "tags"} {
				if err := e.ds.DropIndex(ctx, "auto", f); err != nil {
					t.Fatal(err)
				}
				write(10)
				if _, err := e.ds.CreateIndex(ctx, "auto", f, TypeAuto); err != nil {
					t.Fatal(err)
				}
			}
			waitReady(t, e.ds, "auto")
		}
		fv := randFilter(r, 0)
		filt, _ := json.Marshal(fv)
		if fv == nil && r.IntN(2) == 0 {
			filt = nil
		}
		so := randSort(r)
		limit := 1 + r.IntN(12)
		want := reference(t, docs, filt, so)
		var first []string
		for _, c := range colls {
			got := findAll(t, e.ds, c, filt, so, limit)
			for u := range got.used {
				used[c+":"+u]++
			}
			if c == "scan" && (len(got.used) != 1 || !got.used[""]) {
				t.Fatalf("the unindexed collection used an index: %v", got.used)
			}
			if fmt.Sprint(stripRev(got.ids)) != fmt.Sprint(want) {
				t.Fatalf("collection %s, filter %s, sort %+v, limit %d (index %v):\n got  %v\n want %v", c, filt, so, limit, got.used, stripRev(got.ids), want)
			}
			if first == nil {
				first = got.ids
			} else if fmt.Sprint(first) != fmt.Sprint(got.ids) {
				t.Fatalf("revisions differ between collections: %v vs %v", first, got.ids)
			}
		}
	}
	// The index paths were exercised, not only the scan.
	for _, c := range []string{"auto", "typed"} {
		n := 0
		for k, v := range used {
			if strings.HasPrefix(k, c+":") && k != c+":" {
				n += v
			}
		}
		if n < queries/10 {
			t.Fatalf("collection %s used an index in only %d page runs: %v", c, n, used)
		}
	}
}

// waitReady waits until every index of the collections is ready (the
// builder runs in the background; this waits for it without a deadline of
// its own — the test binary's timeout is the bound).
func waitReady(t testing.TB, ds *Store, colls ...string) {
	t.Helper()
	for _, c := range colls {
		for {
			list, err := ds.Indexes(c)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(list, func(in IndexInfo) bool { return in.State != StateReady }) {
				break
			}
			ds.wake()
			waitBuilderIdle(ds)
		}
	}
}

// waitBuilderIdle yields to the builder between polls.
func waitBuilderIdle(*Store) { time.Sleep(time.Millisecond) }
