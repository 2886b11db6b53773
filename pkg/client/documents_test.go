package client_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/luma-db/luma/pkg/client"
)

func TestDocs(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	d, err := c.Docs.Put(ctx, "tickets", "t/1", map[string]any{"title": "Bug", "sev": "high"}, 0)
	skipNoRoute(t, err)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "t/1" || d.Revision != 1 {
		t.Fatalf("put = %+v", d)
	}
	got := must[*client.Document](t)(c.Docs.Get(ctx, "tickets", "t/1"))
	var v struct{ Title string }
	if err := got.Decode(&v); err != nil || v.Title != "Bug" {
		t.Fatalf("get = %+v %v", got, err)
	}
	if _, err := c.Docs.Put(ctx, "tickets", "t/1", map[string]any{"title": "x"}, 7); !errors.Is(err, client.ErrRevisionMismatch) {
		t.Fatalf("stale cas: %v", err)
	}
	if _, err := c.Docs.Delete(ctx, "tickets", "t/1", 7); !errors.Is(err, client.ErrRevisionMismatch) {
		t.Fatalf("stale cas delete: %v", err)
	}
	if ok := must[bool](t)(c.Docs.Delete(ctx, "tickets", "t/1", 1)); !ok {
		t.Fatal("delete = false")
	}
	if ok := must[bool](t)(c.Docs.Delete(ctx, "tickets", "t/1", 0)); ok {
		t.Fatal("second delete = true")
	}
	if _, err := c.Docs.Get(ctx, "tickets", "t/1"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}

	for i := range 12 {
		must[*client.Document](t)(c.Docs.Put(ctx, "nums", fmt.Sprintf("d%02d", i), map[string]any{"n": i, "odd": i%2 == 1}, 0))
	}
	res := must[*client.FindResult](t)(c.Docs.Find(ctx, "nums", client.FindRequest{Filter: map[string]any{"n": map[string]any{"$gte": 9}}, Sort: &client.Sort{Field: "n", Desc: true}}))
	if len(res.Documents) != 3 || res.Documents[0].ID != "d11" || res.NextCursor != nil {
		t.Fatalf("find = %+v", res)
	}
	var ids []string
	for doc, err := range c.Docs.All(ctx, "nums", client.FindRequest{Filter: map[string]any{"odd": true}, Limit: 2, Sort: &client.Sort{Field: "n"}}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, doc.ID)
	}
	if fmt.Sprint(ids) != "[d01 d03 d05 d07 d09 d11]" {
		t.Fatalf("all = %v", ids)
	}
	if _, err := c.Docs.Find(ctx, "nums", client.FindRequest{Filter: map[string]any{"n": map[string]any{"$bogus": 1}}}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("bad filter: %v", err)
	}

	ix := must[*client.Index](t)(c.Docs.CreateIndex(ctx, "nums", "n", "number"))
	if ix.Field != "n" {
		t.Fatalf("index = %+v", ix)
	}
	if _, err := c.Docs.CreateIndex(ctx, "nums", "n", ""); !errors.Is(err, client.ErrAlreadyExists) {
		t.Fatalf("index twice: %v", err)
	}
	for {
		list := must[[]client.Index](t)(c.Docs.Indexes(ctx, "nums"))
		if len(list) != 1 {
			t.Fatalf("indexes = %+v", list)
		}
		if list[0].State == "ready" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	res = must[*client.FindResult](t)(c.Docs.Find(ctx, "nums", client.FindRequest{Filter: map[string]any{"n": map[string]any{"$lt": 2}}}))
	if len(res.Documents) != 2 || res.IndexUsed == nil || *res.IndexUsed != "n" {
		t.Fatalf("indexed find = %+v", res)
	}
	if err := c.Docs.DropIndex(ctx, "nums", "n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Docs.DropIndex(ctx, "nums", "n"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("drop twice: %v", err)
	}
}

func TestDocCASUnderConcurrency(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	_, err := c.Docs.Put(ctx, "c", "counter", map[string]int{"n": 0}, 0)
	skipNoRoute(t, err)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				for {
					cur, err := c.Docs.Get(ctx, "c", "counter")
					if err != nil {
						t.Error(err)
						return
					}
					var v struct{ N int }
					_ = cur.Decode(&v)
					_, err = c.Docs.Put(ctx, "c", "counter", map[string]int{"n": v.N + 1}, cur.Revision)
					if errors.Is(err, client.ErrRevisionMismatch) {
						continue
					}
					if err != nil {
						t.Error(err)
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	var v struct{ N int }
	_ = must[*client.Document](t)(c.Docs.Get(ctx, "c", "counter")).Decode(&v)
	if v.N != 40 {
		t.Fatalf("n = %d, want 40", v.N)
	}
}
