package docstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/state"
)

// waitFind polls a find until it returns want (ids) through index; the
// bound is the test timeout.
func waitFind(t *testing.T, ds *Store, c, filt, index string, want []string) {
	t.Helper()
	for {
		res, err := ds.Find(context.Background(), c, Query{Filter: json.RawMessage(filt), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range res.Docs {
			ids = append(ids, d.ID)
		}
		if res.IndexUsed == index && slices.Equal(ids, want) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestReconcileStateWrites: documents written, deleted or expired through
// the state API (not the document store) get their index entries fixed by
// the reconciler, so index answers match scans again.
func TestReconcileStateWrites(t *testing.T) {
	e := openEnv(t, "", Options{})
	ctx := context.Background()
	if _, err := e.ds.CreateIndex(ctx, "c", "k", TypeKeyword); err != nil {
		t.Fatal(err)
	}
	e.put(t, "c", "a", map[string]any{"k": "v"})
	ttl := uint64(1)
	for _, w := range []struct {
		key, value string
		ttl        *uint64
	}{
		{"doc:c:b", `{"k":"v"}`, nil},   // created outside the store
		{"doc:c:a", `{"k":"w"}`, nil},   // changed outside the store
		{"doc:c:t", `{"k":"v"}`, &ttl},  // expires: the sweeper deletes it
		{"doc:other:x", `{"k":1}`, nil}, // a collection without indexes
		{"doc:bad", `1`, nil},           // not a document key
	} {
		if _, err := e.st.Put(ctx, w.key, json.RawMessage(w.value), state.PutOptions{TTLMs: w.ttl}); err != nil {
			t.Fatal(err)
		}
	}
	waitFind(t, e.ds, "c", `{"k":"v"}`, "k", []string{"b"})
	waitFind(t, e.ds, "c", `{"k":"w"}`, "k", []string{"a"})
	if _, err := e.st.Delete(ctx, "doc:c:b", nil); err != nil {
		t.Fatal(err)
	}
	waitFind(t, e.ds, "c", `{"k":"v"}`, "k", nil)
	for {
		if got := e.entries(t, "c"); fmt.Sprint(got) == "[k/1/w#a]" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReconcileResumesAfterRestart: a state write the reconciler has not
// seen (it was not running) is fixed after the next start, from the log.
func TestReconcileResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	e := openEnv(t, dir, Options{})
	ctx := context.Background()
	if _, err := e.ds.CreateIndex(ctx, "c", "k", TypeKeyword); err != nil {
		t.Fatal(err)
	}
	e.put(t, "c", "a", map[string]any{"k": "v"})
	e.close()
	e = openEnvWith(t, dir, Options{}, false) // no reconciler
	if _, err := e.st.Put(ctx, "doc:c:b", json.RawMessage(`{"k":"v"}`), state.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	e.close()
	e = openEnv(t, dir, Options{})
	waitFind(t, e.ds, "c", `{"k":"v"}`, "k", []string{"a", "b"})
}
