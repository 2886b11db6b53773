package docstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// TestBuildResumesAfterRestart stops the builder after a few batches
// (deterministically, through the build hook), writes more documents while
// the index is half built, closes the store, reopens it and checks that the
// build resumes from the stored watermark rather than restarting, and that
// the finished index answers like a scan.
func TestBuildResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	const batch, stopAt = 10, 50
	stopped := make(chan uint64, 1)
	e := openEnv(t, dir, Options{BuildBatch: batch, buildHook: func(c, field string, processed uint64) bool {
		if processed >= stopAt {
			stopped <- processed
			return false
		}
		return true
	}})
	ctx := context.Background()
	docs := map[string]any{}
	for i := 0; i < 200; i++ {
		id := fmt.Sprintf("d%03d", i)
		docs[id] = map[string]any{"n": i % 17, "tag": []any{"x", fmt.Sprint(i % 3)}}
		e.put(t, "c", id, docs[id])
	}
	info, err := e.ds.CreateIndex(ctx, "c", "n", TypeAuto)
	if err != nil || info.State != StateBuilding || info.Total != 200 {
		t.Fatalf("create: %+v %v", info, err)
	}
	if got := <-stopped; got != stopAt {
		t.Fatalf("builder stopped at %d, want %d", got, stopAt)
	}
	// Writes while the index is building: after the watermark, before it,
	// and deletes; all must end up indexed correctly.
	for i := 0; i < 200; i += 7 {
		id := fmt.Sprintf("d%03d", i)
		if i%2 == 0 {
			docs[id] = map[string]any{"n": 1000 + i}
			e.put(t, "c", id, docs[id])
		} else {
			delete(docs, id)
			if _, err := e.ds.Delete(ctx, "c", id, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	docs["new"] = map[string]any{"n": 5}
	e.put(t, "c", "new", docs["new"])
	list, err := e.ds.Indexes("c")
	if err != nil || len(list) != 1 || list[0].State != StateBuilding || list[0].Processed != stopAt {
		t.Fatalf("status while stopped: %+v %v", list, err)
	}
	// The half-built index is not used.
	res, err := e.ds.Find(ctx, "c", Query{Filter: []byte(`{"n":5}`)})
	if err != nil || res.IndexUsed != "" {
		t.Fatalf("find during build: index %q, %v", res.IndexUsed, err)
	}
	e.close()

	var mu sync.Mutex
	var resumedAt []uint64
	e = openEnv(t, dir, Options{BuildBatch: batch, buildHook: func(c, field string, processed uint64) bool {
		mu.Lock()
		resumedAt = append(resumedAt, processed)
		mu.Unlock()
		return true
	}})
	waitReady(t, e.ds, "c")
	mu.Lock()
	defer mu.Unlock()
	if len(resumedAt) == 0 || resumedAt[0] != stopAt {
		t.Fatalf("the build restarted from %v, want it to resume at %d", resumedAt, stopAt)
	}
	list, err = e.ds.Indexes("c")
	if err != nil || list[0].State != StateReady || list[0].ReadyAtMs == nil {
		t.Fatalf("status after resume: %+v %v", list, err)
	}
	for _, filt := range []string{`{"n":5}`, `{"n":{"$gte":1000}}`, `{"n":{"$in":[1,2,3]}}`, `{}`} {
		for _, so := range []*Sort{nil, {Field: "n"}, {Field: "n", Desc: true}} {
			got := findAll(t, e.ds, "c", []byte(filt), so, 7)
			want := reference(t, docs, []byte(filt), so)
			if fmt.Sprint(stripRev(got.ids)) != fmt.Sprint(want) {
				t.Fatalf("filter %s sort %+v:\n got  %v\n want %v", filt, so, stripRev(got.ids), want)
			}
			if filt != `{}` || so != nil {
				if !got.used["n"] {
					t.Fatalf("filter %s sort %+v did not use the index: %v", filt, so, got.used)
				}
			}
		}
	}
}

// TestRestartKeepsIndexes: a ready index survives a restart and is used.
func TestRestartKeepsIndexes(t *testing.T) {
	dir := t.TempDir()
	e := openEnv(t, dir, Options{})
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		e.put(t, "c", fmt.Sprint("d", i), map[string]any{"k": fmt.Sprint("v", i%4)})
	}
	if _, err := e.ds.CreateIndex(ctx, "c", "k", TypeKeyword); err != nil {
		t.Fatal(err)
	}
	waitReady(t, e.ds, "c")
	e.close()
	e = openEnv(t, dir, Options{})
	res, err := e.ds.Find(ctx, "c", Query{Filter: []byte(`{"k":"v1"}`), Limit: 100})
	if err != nil || res.IndexUsed != "k" || len(res.Docs) != 8 || res.Scanned != 8 {
		t.Fatalf("find after restart: %d docs, index %q, scanned %d, %v", len(res.Docs), res.IndexUsed, res.Scanned, err)
	}
}

// TestDropDuringBuild: dropping an index while it builds removes every
// entry and stops the build; re-creating it builds from scratch.
func TestDropDuringBuild(t *testing.T) {
	gate := make(chan struct{})
	first := true
	e := openEnv(t, "", Options{BuildBatch: 5, buildHook: func(c, field string, processed uint64) bool {
		if processed == 10 && first {
			first = false
			<-gate
		}
		return true
	}})
	ctx := context.Background()
	for i := 0; i < 40; i++ {
		e.put(t, "c", fmt.Sprintf("d%02d", i), map[string]any{"a": i})
	}
	if _, err := e.ds.CreateIndex(ctx, "c", "a", TypeNumber); err != nil {
		t.Fatal(err)
	}
	if err := e.ds.DropIndex(ctx, "c", "a"); err != nil {
		t.Fatal(err)
	}
	close(gate)
	if _, err := e.ds.CreateIndex(ctx, "c", "a", TypeNumber); err != nil {
		t.Fatal(err)
	}
	waitReady(t, e.ds, "c")
	got := e.entries(t, "c")
	if len(got) != 40 {
		t.Fatalf("entries after drop and re-create: %d %v", len(got), got)
	}
	res, err := e.ds.Find(ctx, "c", Query{Filter: json.RawMessage(`{"a":{"$lt":3}}`)})
	if err != nil || len(res.Docs) != 3 || res.IndexUsed != "a" {
		t.Fatalf("find: %+v %v", res, err)
	}
}

// TestRecreateIndexAfterDrop is the regression test for lost entries: the
// footprints of a dropped index listed the very keys a re-created index
// wanted, and writes skipped them as "already there".
func TestRecreateIndexAfterDrop(t *testing.T) {
	e := openEnv(t, "", Options{})
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		e.put(t, "c", fmt.Sprintf("d%02d", i), map[string]any{"a": i % 4})
	}
	for round := 0; round < 2; round++ {
		if _, err := e.ds.CreateIndex(ctx, "c", "a", TypeNumber); err != nil {
			t.Fatal(err)
		}
		waitReady(t, e.ds, "c")
		e.put(t, "c", "d00", map[string]any{"a": 0}) // an unchanged value, written again
		if got := e.entries(t, "c"); len(got) != 20 {
			t.Fatalf("round %d: %d entries, want 20: %v", round, len(got), got)
		}
		res, err := e.ds.Find(ctx, "c", Query{Filter: json.RawMessage(`{"a":1}`)})
		if err != nil || len(res.Docs) != 5 || res.IndexUsed != "a" {
			t.Fatalf("round %d: %d docs via %q, %v", round, len(res.Docs), res.IndexUsed, err)
		}
		if err := e.ds.DropIndex(ctx, "c", "a"); err != nil {
			t.Fatal(err)
		}
		if got := e.entries(t, "c"); len(got) != 0 {
			t.Fatalf("entries left after drop: %v", got)
		}
	}
}
