package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/storage"
)

type fixture struct {
	db  *storage.DB
	s   *Store
	mu  sync.Mutex
	evs []*events.Event
}

func newFixture(t *testing.T, dir string, o Options) *fixture {
	t.Helper()
	f := &fixture{}
	db, err := storage.Open(storage.Options{Dir: dir, InMemory: dir == "", Publish: func(evs []*events.Event) {
		f.mu.Lock()
		f.evs = append(f.evs, evs...)
		f.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(db, o)
	if err != nil {
		t.Fatal(err)
	}
	f.db, f.s = db, s
	t.Cleanup(func() { s.Close(); db.Close() })
	return f
}

// events returns the published events once every committed one has been
// published (publishing follows the answer to the writer).
func (f *fixture) events() []*events.Event {
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.evs)
		f.mu.Unlock()
		if uint64(n) >= f.db.LastOffset() || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*events.Event(nil), f.evs...)
}

func u64(v uint64) *uint64 { return &v }

var ctx = context.Background()

func TestPutGetRevisions(t *testing.T) {
	f := newFixture(t, "", Options{})
	r, err := f.s.Put(ctx, "a", json.RawMessage(`{ "x" : 1 }`), PutOptions{})
	if err != nil || r.Revision != 1 || r.ExpiresAtMs != nil {
		t.Fatalf("first put %+v %v", r, err)
	}
	r, _ = f.s.Put(ctx, "a", json.RawMessage(`2`), PutOptions{})
	if r.Revision != 2 {
		t.Fatalf("second put revision %d", r.Revision)
	}
	it, err := f.s.Get("a")
	if err != nil || string(it.Value) != "2" || it.Revision != 2 {
		t.Fatalf("get %+v %v", it, err)
	}
	// Stored compact.
	f.s.Put(ctx, "b", json.RawMessage(`{ "y" : [1, 2] }`), PutOptions{})
	if it, _ := f.s.Get("b"); string(it.Value) != `{"y":[1,2]}` {
		t.Fatalf("value not compacted: %s", it.Value)
	}
	// Delete, then the revision restarts at 1.
	if ok, err := f.s.Delete(ctx, "a", nil); !ok || err != nil {
		t.Fatalf("delete %v %v", ok, err)
	}
	if ok, _ := f.s.Delete(ctx, "a", nil); ok {
		t.Fatal("second delete reported true")
	}
	if r, _ := f.s.Put(ctx, "a", json.RawMessage(`3`), PutOptions{}); r.Revision != 1 {
		t.Fatalf("revision after delete %d", r.Revision)
	}
	evs := f.events()
	want := []string{"state_updated", "state_updated", "state_updated", "state_deleted", "state_updated"}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for i, e := range evs {
		if e.Type != want[i] {
			t.Fatalf("event %d type %s, want %s", i, e.Type, want[i])
		}
	}
	if string(evs[3].Envelope) == "" || string(evs[0].Data) != `{"key":"a","revision":1,"value":{"x":1},"expires_at_ms":null}` {
		t.Fatalf("event data %s", evs[0].Data)
	}
}

func TestValidation(t *testing.T) {
	f := newFixture(t, "", Options{Limits: Limits{MaxKeyLen: 8, MaxJSONBytes: 10, MaxBatch: 2}})
	cases := []struct {
		key string
		val string
		o   PutOptions
		err error
	}{
		{"", "1", PutOptions{}, ErrEmptyKey},
		{"123456789", "1", PutOptions{}, ErrKeyTooLong},
		{"bad\xff", "1", PutOptions{}, ErrInvalidKey},
		{"k", `"0123456789"`, PutOptions{}, ErrValueTooLarge},
		{"k", `{"a":`, PutOptions{}, ErrInvalidValue},
		{"k", "1", PutOptions{TTLMs: u64(MaxTTLMs + 1)}, ErrTTLTooLarge},
	}
	for _, c := range cases {
		if _, err := f.s.Put(ctx, c.key, json.RawMessage(c.val), c.o); !errors.Is(err, c.err) {
			t.Errorf("put %q %s: %v, want %v", c.key, c.val, err, c.err)
		}
	}
	if f.db.LastOffset() != 0 {
		t.Fatal("invalid puts wrote events")
	}
	// Compaction counts: whitespace does not count against the limit.
	if _, err := f.s.Put(ctx, "k", json.RawMessage(`[ 1 , 2 , 3 ]`), PutOptions{}); err != nil {
		t.Fatalf("compact value within limit rejected: %v", err)
	}
}

func TestCASUnderConcurrency(t *testing.T) {
	f := newFixture(t, t.TempDir(), Options{})
	const workers, each = 8, 25
	if _, err := f.s.Put(ctx, "counter", json.RawMessage("0"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conflicts int64
	var mu sync.Mutex
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				it, err := f.s.Get("counter")
				if err != nil {
					t.Error(err)
					return
				}
				n, _ := strconv.Atoi(string(it.Value))
				_, err = f.s.Put(ctx, "counter", json.RawMessage(strconv.Itoa(n+1)), PutOptions{IfRevision: u64(it.Revision)})
				switch {
				case err == nil:
					done++
				case errors.Is(err, ErrRevisionMismatch):
					mu.Lock()
					conflicts++
					mu.Unlock()
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	it, _ := f.s.Get("counter")
	if string(it.Value) != strconv.Itoa(workers*each) || it.Revision != workers*each+1 {
		t.Fatalf("counter %s rev %d, want %d", it.Value, it.Revision, workers*each)
	}
	t.Logf("%d CAS conflicts retried", conflicts)
}

func TestCASRules(t *testing.T) {
	f := newFixture(t, "", Options{})
	if _, err := f.s.Put(ctx, "k", json.RawMessage("1"), PutOptions{IfRevision: u64(1)}); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("CAS on absent key: %v", err)
	}
	f.s.Put(ctx, "k", json.RawMessage("1"), PutOptions{})
	if _, err := f.s.Delete(ctx, "k", u64(7)); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("delete CAS mismatch: %v", err)
	}
	if ok, err := f.s.Delete(ctx, "k", u64(1)); !ok || err != nil {
		t.Fatalf("delete CAS match: %v %v", ok, err)
	}
	if _, err := f.s.Delete(ctx, "k", u64(1)); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("delete CAS on absent: %v", err)
	}
	// if_revision 0 = create only if absent.
	if r, err := f.s.Put(ctx, "new", json.RawMessage("1"), PutOptions{IfRevision: u64(0)}); err != nil || r.Revision != 1 {
		t.Fatalf("create-if-absent: %+v %v", r, err)
	}
	if _, err := f.s.Put(ctx, "new", json.RawMessage("2"), PutOptions{IfRevision: u64(0)}); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("create-if-absent on a live key: %v", err)
	}
	f.s.Put(ctx, "exp", json.RawMessage("1"), PutOptions{TTLMs: u64(0)})
	if _, err := f.s.Put(ctx, "exp", json.RawMessage("2"), PutOptions{IfRevision: u64(0)}); err != nil {
		t.Fatalf("create-if-absent over an expired key: %v", err)
	}
	if ok, err := f.s.Delete(ctx, "absent", u64(0)); ok || err != nil {
		t.Fatalf("delete if_revision 0 on absent: %v %v", ok, err)
	}
	if _, err := f.s.Delete(ctx, "new", u64(0)); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("delete if_revision 0 on a live key: %v", err)
	}
}

func TestTTL(t *testing.T) {
	f := newFixture(t, "", Options{SweepInterval: 20 * time.Millisecond})
	r, err := f.s.Put(ctx, "gone", json.RawMessage("1"), PutOptions{TTLMs: u64(0)})
	if err != nil || r.ExpiresAtMs == nil {
		t.Fatalf("ttl 0 put %+v %v", r, err)
	}
	// Invisible at once, before the sweeper runs.
	if _, err := f.s.Get("gone"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired key readable: %v", err)
	}
	if items, _, _ := f.s.List(ctx, "", "", 10); len(items) != 0 {
		t.Fatalf("expired key listed: %v", items)
	}
	// Deleting it is a no-op without event.
	if ok, _ := f.s.Delete(ctx, "gone", nil); ok {
		t.Fatal("deleting an expired key reported true")
	}
	// A longer TTL, then an overwrite without TTL clears it.
	f.s.Put(ctx, "kept", json.RawMessage("1"), PutOptions{TTLMs: u64(30)})
	r, _ = f.s.Put(ctx, "kept", json.RawMessage("2"), PutOptions{})
	if r.ExpiresAtMs != nil || r.Revision != 2 {
		t.Fatalf("overwrite should clear TTL: %+v", r)
	}
	// Another TTL key that stays until the sweeper emits its deletion.
	f.s.Put(ctx, "short", json.RawMessage("1"), PutOptions{TTLMs: u64(30)})
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ttlDeletes []string
		for _, e := range f.events() {
			if e.Type == "state_deleted" && string(e.Data) == `{"key":"`+e.Key+`","reason":"ttl"}` {
				ttlDeletes = append(ttlDeletes, e.Key)
			}
		}
		if len(ttlDeletes) == 2 {
			if fmt.Sprint(ttlDeletes) != "[gone short]" {
				t.Fatalf("ttl deletions %v", ttlDeletes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sweeper did not delete expired keys: %v", ttlDeletes)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if it, err := f.s.Get("kept"); err != nil || string(it.Value) != "2" {
		t.Fatalf("key whose TTL was cleared got swept: %v", err)
	}
	// The swept key restarts at revision 1.
	if r, _ := f.s.Put(ctx, "short", json.RawMessage("1"), PutOptions{}); r.Revision != 1 {
		t.Fatalf("revision after expiry %d", r.Revision)
	}
}

func TestStartupSweepAfterDowntime(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir, Options{SweepInterval: time.Hour})
	f.s.Put(ctx, "x", json.RawMessage("1"), PutOptions{TTLMs: u64(1)})
	f.s.Close()
	f.db.Close()
	time.Sleep(5 * time.Millisecond)
	g := newFixture(t, dir, Options{SweepInterval: time.Hour})
	if g.db.LastOffset() != 2 {
		t.Fatalf("start-up sweep should have emitted the ttl delete: last offset %d", g.db.LastOffset())
	}
	evs, _ := g.db.ReadEvents(2, 1)
	if evs[0].Type != "state_deleted" {
		t.Fatalf("event %s", evs[0].Type)
	}
}

func TestBatchPutAtomic(t *testing.T) {
	f := newFixture(t, "", Options{Limits: Limits{MaxBatch: 3}})
	if _, err := f.s.BatchPut(ctx, nil); !errors.Is(err, ErrNoOperations) {
		t.Fatal(err)
	}
	if _, err := f.s.BatchPut(ctx, make([]Op, 4)); !errors.Is(err, ErrTooManyOps) {
		t.Fatal(err)
	}
	f.s.Put(ctx, "a", json.RawMessage("1"), PutOptions{})
	before := f.db.LastOffset()
	_, err := f.s.BatchPut(ctx, []Op{
		{Key: "b", Value: json.RawMessage("1")},
		{Key: "a", Value: json.RawMessage("2"), PutOptions: PutOptions{IfRevision: u64(5)}},
		{Key: "c", Value: json.RawMessage("3")},
	})
	var be *BatchError
	if !errors.As(err, &be) || len(be.Items) != 1 || be.Items[0].Index != 1 || !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("batch error %v", err)
	}
	if f.db.LastOffset() != before {
		t.Fatal("failed batch wrote events")
	}
	if _, err := f.s.Get("b"); !errors.Is(err, ErrNotFound) {
		t.Fatal("failed batch wrote key b")
	}
	// Later operations see earlier ones: CAS on a key created in the batch.
	res, err := f.s.BatchPut(ctx, []Op{
		{Key: "n", Value: json.RawMessage("1")},
		{Key: "n", Value: json.RawMessage("2"), PutOptions: PutOptions{IfRevision: u64(1)}},
		{Key: "a", Value: json.RawMessage("3"), PutOptions: PutOptions{IfRevision: u64(1)}},
	})
	if err != nil || res[1].Revision != 2 || res[2].Revision != 2 {
		t.Fatalf("batch %+v %v", res, err)
	}
	if f.db.LastOffset() != before+3 {
		t.Fatalf("one event per operation: %d", f.db.LastOffset()-before)
	}
	// Static validation errors are reported for every item at once.
	_, err = f.s.BatchPut(ctx, []Op{{Key: ""}, {Key: "ok", Value: json.RawMessage("1")}, {Key: "x", Value: json.RawMessage("{")}})
	if !errors.As(err, &be) || len(be.Items) != 2 {
		t.Fatalf("static errors %v", err)
	}
}

func TestListPagingAndOrder(t *testing.T) {
	f := newFixture(t, "", Options{})
	keys := []string{"b", "a", "a/2", "a/10", "c", "ab"}
	for _, k := range keys {
		f.s.Put(ctx, k, json.RawMessage(`"`+k+`"`), PutOptions{})
	}
	f.s.Put(ctx, "a/exp", json.RawMessage("1"), PutOptions{TTLMs: u64(0)})
	items, more, _ := f.s.List(ctx, "a", "", 100)
	var got []string
	for _, it := range items {
		got = append(got, it.Key)
	}
	if fmt.Sprint(got) != "[a a/10 a/2 ab]" || more {
		t.Fatalf("list a: %v more=%v", got, more)
	}
	// Pages of 2 over everything.
	var all []string
	after := ""
	for {
		items, more, err := f.s.List(ctx, "", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			all = append(all, it.Key)
		}
		if !more {
			break
		}
		after = items[len(items)-1].Key
	}
	if fmt.Sprint(all) != "[a a/10 a/2 ab b c]" {
		t.Fatalf("paged %v", all)
	}
}
