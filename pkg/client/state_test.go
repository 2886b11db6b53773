package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luma-db/luma/pkg/client"
)

func TestStateCRUD(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	key := "user:42/a b?#"
	res := must[*client.PutResult](t)(c.State.Put(ctx, key, map[string]any{"name": "Ada"}, nil))
	if res.Key != key || res.Revision != 1 || res.ExpiresAtMs != nil {
		t.Fatalf("put = %+v", res)
	}
	it := must[*client.StateItem](t)(c.State.Get(ctx, key))
	var v struct{ Name string }
	if err := it.Decode(&v); err != nil || v.Name != "Ada" || it.Revision != 1 {
		t.Fatalf("get = %+v (%v)", it, err)
	}
	if r := must[*client.PutResult](t)(c.State.Put(ctx, key, json.RawMessage(`[1,2]`), nil)); r.Revision != 2 {
		t.Fatalf("revision = %d", r.Revision)
	}
	if r := must[*client.PutResult](t)(c.State.Put(ctx, key, nil, nil)); r.Revision != 3 {
		t.Fatalf("null put revision = %d", r.Revision)
	}
	if it := must[*client.StateItem](t)(c.State.Get(ctx, key)); string(it.Value) != "null" {
		t.Fatalf("value = %s", it.Value)
	}
	if ok := must[bool](t)(c.State.Delete(ctx, key, 0)); !ok {
		t.Fatal("delete = false")
	}
	if ok := must[bool](t)(c.State.Delete(ctx, key, 0)); ok {
		t.Fatal("second delete = true")
	}
	_, err := c.State.Get(ctx, key)
	var e *client.Error
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &e) || e.Status != 404 || e.Error() != "not_found - key not found" {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := c.State.Put(ctx, strings.Repeat("k", 600), 1, nil); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("long key: %v", err)
	}
	if _, err := c.State.Get(ctx, "batch_put"); !errors.Is(err, client.ErrMethodNotAllowed) {
		t.Fatalf("GET batch_put: %v", err)
	}
}

func TestStateTTLAndCAS(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	before := uint64(time.Now().UnixMilli())
	res := must[*client.PutResult](t)(c.State.Put(ctx, "t", 1, &client.PutOptions{TTL: time.Minute}))
	if res.ExpiresAtMs == nil || *res.ExpiresAtMs < before+60000 {
		t.Fatalf("expires = %v", res.ExpiresAtMs)
	}
	if r := must[*client.PutResult](t)(c.State.Put(ctx, "t", 2, &client.PutOptions{IfRevision: 1})); r.Revision != 2 || r.ExpiresAtMs != nil {
		t.Fatalf("cas put = %+v (an overwrite without TTL clears it)", r)
	}
	_, err := c.State.Put(ctx, "t", 3, &client.PutOptions{IfRevision: 1})
	if !errors.Is(err, client.ErrRevisionMismatch) || !errors.Is(err, client.ErrConflict) {
		t.Fatalf("stale cas: %v", err)
	}
	if _, err := c.State.Delete(ctx, "t", 1); !errors.Is(err, client.ErrRevisionMismatch) {
		t.Fatalf("stale cas delete: %v", err)
	}
	if ok := must[bool](t)(c.State.Delete(ctx, "t", 2)); !ok {
		t.Fatal("cas delete = false")
	}
}

func TestStateListAndAll(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	ops := make([]client.BatchOp, 25)
	for i := range ops {
		ops[i] = client.BatchOp{Key: fmt.Sprintf("p:%03d", i), Value: i}
	}
	res := must[[]client.PutResult](t)(c.State.BatchPut(ctx, ops))
	if len(res) != 25 || res[24].Key != "p:024" {
		t.Fatalf("batch = %+v", res)
	}
	must[*client.PutResult](t)(c.State.Put(ctx, "q", 0, nil))
	page := must[*client.StatePage](t)(c.State.List(ctx, client.ListOptions{Prefix: "p:", Limit: 10}))
	if len(page.Items) != 10 || page.NextCursor != "p:009" {
		t.Fatalf("page 1: %d items, cursor %q", len(page.Items), page.NextCursor)
	}
	page = must[*client.StatePage](t)(c.State.List(ctx, client.ListOptions{Prefix: "p:", Limit: 10, Cursor: "p:019"}))
	if len(page.Items) != 5 || page.NextCursor != "" {
		t.Fatalf("last page: %d items, cursor %q", len(page.Items), page.NextCursor)
	}
	var keys []string
	for it, err := range c.State.All(ctx, "p:", 7) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, it.Key)
	}
	if len(keys) != 25 || keys[0] != "p:000" || keys[24] != "p:024" {
		t.Fatalf("all = %v", keys)
	}
	for range c.State.All(ctx, "p:", 2) {
		break // stopping early is fine
	}
	for _, err := range c.State.All(ctx, strings.Repeat("p", 600), 0) {
		if !errors.Is(err, client.ErrInvalidArgument) {
			t.Fatalf("long prefix: %v", err)
		}
	}
}

func TestStateBatchPutIsAtomic(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	must[[]client.PutResult](t)(c.State.BatchPut(ctx, []client.BatchOp{{Key: "a", Value: 1}}))
	_, err := c.State.BatchPut(ctx, []client.BatchOp{
		{Key: "a", Value: 2},
		{Key: "b", Value: 2, Options: &client.PutOptions{IfRevision: 9}},
	})
	var e *client.Error
	if !errors.As(err, &e) || !errors.Is(err, client.ErrRevisionMismatch) {
		t.Fatalf("err = %v", err)
	}
	var results []struct{ Status, Key string }
	if err := json.Unmarshal(e.Results, &results); err != nil || len(results) != 2 || results[0].Status != "skipped" || results[1].Status != "error" {
		t.Fatalf("results = %s (%v)", e.Results, err)
	}
	it := must[*client.StateItem](t)(c.State.Get(ctx, "a"))
	if string(it.Value) != "1" {
		t.Fatalf("a = %s: the failed batch was partly applied", it.Value)
	}
	if _, err := c.State.BatchPut(ctx, nil); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("empty batch: %v", err)
	}
}

func TestStateUpdateUnderContention(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	const workers, per = 4, 10
	must[*client.PutResult](t)(c.State.Put(ctx, "counter", 0, nil))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				_, err := c.State.Update(ctx, "counter", 1000, func(cur json.RawMessage, exists bool) (any, error) {
					n := 0
					if exists {
						if err := json.Unmarshal(cur, &n); err != nil {
							return nil, err
						}
					}
					return n + 1, nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	it := must[*client.StateItem](t)(c.State.Get(ctx, "counter"))
	if string(it.Value) != fmt.Sprint(workers*per) {
		t.Fatalf("counter = %s, want %d", it.Value, workers*per)
	}
	boom := errors.New("boom")
	if _, err := c.State.Update(ctx, "counter", 0, func(json.RawMessage, bool) (any, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
}

func TestValueTooLarge(t *testing.T) {
	_, c := start(t, "--max-json-mb", "0.001")
	_, err := c.State.Put(ctxT(t), "big", strings.Repeat("x", 5000), nil)
	if !errors.Is(err, client.ErrPayloadTooLarge) {
		t.Fatalf("err = %v", err)
	}
}
