package docstore

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMidKey(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	randKey := func() []byte {
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = []byte{0, 1, 0x7f, 0xfe, 0xff}[r.IntN(5)]
		}
		return b
	}
	for i := 0; i < 100000; i++ {
		a, b := randKey(), randKey()
		if bytes.Compare(a, b) >= 0 {
			continue
		}
		m := midKey(a, b)
		if m == nil {
			// Only when b is a's immediate successor (a + 0x00...).
			if !bytes.HasPrefix(b, a) || strings.Trim(string(b[len(a):]), "\x00") != "" {
				t.Fatalf("no midpoint between %x and %x", a, b)
			}
			continue
		}
		if bytes.Compare(a, m) >= 0 || bytes.Compare(m, b) >= 0 {
			t.Fatalf("midKey(%x, %x) = %x, not strictly between", a, b, m)
		}
	}
}

// TestDescendingWindows pages descending through thousands of entries with
// tiny pages, over distributions that make bisection work: runs of equal
// values (ids differ only), values in a narrow band, long strings that
// share MaxIndexedString bytes, and a filter that rejects most documents.
func TestDescendingWindows(t *testing.T) {
	e := openEnv(t, "", Options{Limits: Limits{MaxFind: 1000}})
	ctx := context.Background()
	if _, err := e.ds.CreateIndex(ctx, "c", "v", TypeAuto); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	docs := map[string]any{}
	long := strings.Repeat("L", MaxIndexedString)
	for i := 0; i < 2500; i++ {
		id := fmt.Sprintf("%05d", r.IntN(100000))
		var v any
		switch r.IntN(5) {
		case 0:
			v = 7 // a long run of one value
		case 1:
			v = 1e6 + float64(r.IntN(50))/1e3
		case 2:
			v = long + fmt.Sprint(r.IntN(30))
		case 3:
			v = fmt.Sprint("s", r.IntN(2000))
		default:
			v = r.IntN(1 << 40)
		}
		d := map[string]any{"v": v, "odd": r.IntN(10) == 0}
		docs[id] = d
		e.put(t, "c", id, d)
	}
	for _, tc := range []struct {
		filter string
		limit  int
	}{
		{`{}`, 1}, {`{}`, 7}, {`{"odd":true}`, 3}, {`{"v":{"$lt":1000001}}`, 5}, {`{"v":{"$gte":"s5"}}`, 4},
	} {
		so := &Sort{Field: "v", Desc: true}
		got := findAll(t, e.ds, "c", []byte(tc.filter), so, tc.limit)
		want := reference(t, docs, []byte(tc.filter), so)
		if fmt.Sprint(stripRev(got.ids)) != fmt.Sprint(want) {
			t.Fatalf("filter %s limit %d: %d ids, want %d", tc.filter, tc.limit, len(got.ids), len(want))
		}
		if !got.used["v"] {
			t.Fatalf("filter %s did not walk the index: %v", tc.filter, got.used)
		}
	}
}

// TestSortedLookupPlan: a sorted find with an equality on another indexed
// field looks the equality up when it is selective, and walks the sort
// index when it is not; both answer like the reference.
func TestSortedLookupPlan(t *testing.T) {
	e := openEnv(t, "", Options{Limits: Limits{MaxFind: 1000}})
	ctx := context.Background()
	for f, typ := range map[string]IndexType{"status": TypeKeyword, "n": TypeAuto} {
		if _, err := e.ds.CreateIndex(ctx, "c", f, typ); err != nil {
			t.Fatal(err)
		}
	}
	docs := map[string]any{}
	for i := 0; i < 1500; i++ {
		st := "common"
		if i%15 == 0 {
			st = "rare"
		}
		id := fmt.Sprintf("d%04d", i)
		docs[id] = map[string]any{"status": st, "n": (i * 7919) % 1500}
		e.put(t, "c", id, docs[id])
	}
	for _, tc := range []struct{ status, index string }{{"common", "n"}, {"rare", "status"}} {
		for _, so := range []*Sort{{Field: "n"}, {Field: "n", Desc: true}} {
			filt := []byte(fmt.Sprintf(`{"status":%q}`, tc.status))
			got := findAll(t, e.ds, "c", filt, so, 40)
			want := reference(t, docs, filt, so)
			if fmt.Sprint(stripRev(got.ids)) != fmt.Sprint(want) {
				t.Fatalf("%s sort %+v: %d ids, want %d", tc.status, so, len(got.ids), len(want))
			}
			if len(got.used) != 1 || !got.used[tc.index] {
				t.Fatalf("%s sort %+v used %v, want %s", tc.status, so, got.used, tc.index)
			}
		}
		// Unsorted: the equality lookup merges its ids and stops early.
		filt := []byte(fmt.Sprintf(`{"status":%q}`, tc.status))
		got := findAll(t, e.ds, "c", filt, nil, 40)
		if fmt.Sprint(stripRev(got.ids)) != fmt.Sprint(reference(t, docs, filt, nil)) || !got.used["status"] {
			t.Fatalf("%s unsorted: %d ids via %v", tc.status, len(got.ids), got.used)
		}
	}
}
