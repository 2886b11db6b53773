package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/events"
)

func openTest(t *testing.T, o Options) *DB {
	t.Helper()
	if o.Dir == "" && !o.InMemory {
		o.Dir = t.TempDir()
	}
	db, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func emit(tx *Tx, key string) uint64 {
	return tx.Emit(&events.Event{Type: "test", Key: key, Data: []byte(`{"key":"` + key + `"}`)})
}

// TestOffsetsGapFreeUnderConcurrency: many writers, each event gets a unique
// offset and together they are exactly 1..N, in commit order.
func TestOffsetsGapFreeUnderConcurrency(t *testing.T) {
	var mu sync.Mutex
	var published []uint64
	db := openTest(t, Options{Publish: func(evs []*events.Event) {
		mu.Lock()
		for _, e := range evs {
			published = append(published, e.Offset)
		}
		mu.Unlock()
	}})
	const writers, each = 16, 50
	var wg sync.WaitGroup
	offsets := make(chan uint64, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				c, err := db.Update(context.Background(), func(tx *Tx) error {
					emit(tx, fmt.Sprintf("k%d-%d", w, i))
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				offsets <- c.LastOffset()
			}
		}(w)
	}
	wg.Wait()
	close(offsets)
	var got []uint64
	for o := range offsets {
		got = append(got, o)
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i, o := range got {
		if o != uint64(i+1) {
			t.Fatalf("offset %d at position %d: not gap-free", o, i)
		}
	}
	if db.LastOffset() != writers*each {
		t.Fatalf("last offset %d", db.LastOffset())
	}
	// Publishing follows the answers: wait for the last group.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(published)
		mu.Unlock()
		if n == writers*each || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(published) != writers*each {
		t.Fatalf("published %d events, want %d", len(published), writers*each)
	}
	for i, o := range published {
		if o != uint64(i+1) {
			t.Fatalf("published out of order at %d: %d", i, o)
		}
	}
	evs, err := db.ReadEvents(1, 10000)
	if err != nil || len(evs) != writers*each {
		t.Fatalf("log holds %d events, err %v", len(evs), err)
	}
}

// A failing request writes nothing and consumes no offset, even when it
// shares a group with successful ones.
func TestFailedRequestWritesNothing(t *testing.T) {
	db := openTest(t, Options{InMemory: true})
	errBoom := errors.New("boom")
	_, err := db.Update(context.Background(), func(tx *Tx) error {
		tx.Set([]byte("sa"), []byte("1"))
		emit(tx, "a")
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("err %v", err)
	}
	if _, err := db.Get([]byte("sa")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("failed write visible: %v", err)
	}
	c, err := db.Update(context.Background(), func(tx *Tx) error { emit(tx, "b"); return nil })
	if err != nil || c.LastOffset() != 1 {
		t.Fatalf("offset after failure %d, %v", c.LastOffset(), err)
	}
}

func TestPanicInUpdateIsAnError(t *testing.T) {
	db := openTest(t, Options{InMemory: true})
	_, err := db.Update(context.Background(), func(tx *Tx) error { panic("bad") })
	if err == nil {
		t.Fatal("panic not reported")
	}
	if _, err := db.Update(context.Background(), func(tx *Tx) error { return nil }); err != nil {
		t.Fatalf("committer dead after panic: %v", err)
	}
}

func TestOverlaySemantics(t *testing.T) {
	o := newOverlay()
	o.set([]byte("a"), []byte("1"))
	o.delRange([]byte("a"), []byte("c"))
	o.set([]byte("b"), []byte("2"))
	if _, found, decided := o.lookup([]byte("a")); !decided || found {
		t.Fatal("a should be deleted by the later range")
	}
	if v, found, _ := o.lookup([]byte("b")); !found || string(v) != "2" {
		t.Fatal("b written after the range must win")
	}
	if _, _, decided := o.lookup([]byte("d")); decided {
		t.Fatal("d is outside the overlay")
	}
	// Merging keeps order: a later request's delete beats an earlier set.
	g := newOverlay()
	g.set([]byte("x"), []byte("1"))
	l := newOverlay()
	l.del([]byte("x"))
	g.merge(l)
	if _, found, decided := g.lookup([]byte("x")); !decided || found {
		t.Fatal("merged delete lost")
	}
	l2 := newOverlay()
	l2.set([]byte("b"), []byte("3"))
	g.merge(l2)
	g2 := newOverlay()
	g2.delRange([]byte("a"), []byte("z"))
	g.merge(g2)
	if _, found, _ := g.lookup([]byte("b")); found {
		t.Fatal("range merged later must delete b")
	}
}

// Requests committed in one group see each other's writes (compare-and-set
// inside a group must not lose updates).
func TestGroupReadsOwnWrites(t *testing.T) {
	db := openTest(t, Options{InMemory: true})
	const n = 200
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.Update(context.Background(), func(tx *Tx) error {
				v, err := tx.Get([]byte("scounter"))
				c := 0
				if err == nil {
					fmt.Sscan(string(v), &c)
				} else if !errors.Is(err, ErrNotFound) {
					return err
				}
				tx.Set([]byte("scounter"), []byte(fmt.Sprint(c+1)))
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	v, err := db.Get([]byte("scounter"))
	if err != nil || string(v) != fmt.Sprint(n) {
		t.Fatalf("counter %q, want %d (%v)", v, n, err)
	}
}

func TestAfterCommitOrderAndRestart(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var order []int
	for i := 0; i < 5; i++ {
		i := i
		if _, err := db.Update(context.Background(), func(tx *Tx) error {
			emit(tx, "k")
			tx.AfterCommit(func() { order = append(order, i) })
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(order) != "[0 1 2 3 4]" {
		t.Fatalf("hooks ran %v", order)
	}
	bytesBefore := db.LogBytes()
	db.Close()
	if _, err := db.Update(context.Background(), func(tx *Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("update after close: %v", err)
	}
	db2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if db2.LastOffset() != 5 || db2.Floor() != 1 || db2.LogBytes() != bytesBefore {
		t.Fatalf("after restart: last %d floor %d bytes %d (want 5, 1, %d)", db2.LastOffset(), db2.Floor(), db2.LogBytes(), bytesBefore)
	}
	c, _ := db2.Update(context.Background(), func(tx *Tx) error { emit(tx, "k"); return nil })
	if c.LastOffset() != 6 {
		t.Fatalf("offsets must continue across restarts: got %d", c.LastOffset())
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	write := func(db *DB, n int) {
		for i := 0; i < n; i++ {
			if _, err := db.Update(ctx, func(tx *Tx) error { emit(tx, "k"); return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Run("count", func(t *testing.T) {
		db := openTest(t, Options{Retention: Retention{MaxEvents: 10, Interval: time.Hour}})
		write(db, 25)
		n, err := db.EnforceRetention(ctx)
		if err != nil || n != 15 {
			t.Fatalf("trimmed %d, %v", n, err)
		}
		if db.Floor() != 16 {
			t.Fatalf("floor %d", db.Floor())
		}
		evs, _ := db.ReadEvents(1, 100)
		if len(evs) != 10 || evs[0].Offset != 16 {
			t.Fatalf("log after trim: %d events from %d", len(evs), evs[0].Offset)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		db := openTest(t, Options{Retention: Retention{MaxBytes: 1, Interval: time.Hour}})
		write(db, 5)
		if _, err := db.EnforceRetention(ctx); err != nil {
			t.Fatal(err)
		}
		if db.Floor() != 6 || db.LogBytes() != 0 {
			t.Fatalf("floor %d bytes %d", db.Floor(), db.LogBytes())
		}
		write(db, 1)
		if db.LastOffset() != 6 {
			t.Fatalf("offsets continue after trimming everything: %d", db.LastOffset())
		}
	})
	t.Run("age", func(t *testing.T) {
		db := openTest(t, Options{Retention: Retention{MaxAge: 50 * time.Millisecond, Interval: time.Hour}})
		write(db, 3)
		time.Sleep(80 * time.Millisecond)
		write(db, 2)
		if _, err := db.EnforceRetention(ctx); err != nil {
			t.Fatal(err)
		}
		if db.Floor() != 4 {
			t.Fatalf("floor %d, want 4", db.Floor())
		}
	})
	t.Run("floor survives restart", func(t *testing.T) {
		dir := t.TempDir()
		db, _ := Open(Options{Dir: dir, Retention: Retention{MaxEvents: 2, Interval: time.Hour}})
		write(db, 5)
		db.EnforceRetention(ctx)
		db.Close()
		db2, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		if db2.Floor() != 4 || db2.LastOffset() != 5 {
			t.Fatalf("floor %d last %d", db2.Floor(), db2.LastOffset())
		}
	})
}

func TestCanceledBeforePickupWritesNothing(t *testing.T) {
	db := openTest(t, Options{InMemory: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := db.Update(ctx, func(tx *Tx) error { emit(tx, "x"); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if db.LastOffset() != 0 {
		t.Fatal("canceled request was committed")
	}
}

func TestEventRecordRoundTrip(t *testing.T) {
	e := &events.Event{Offset: 7, TsMs: 123, Type: "state_updated", Key: "k\x00é", Collection: "c", Data: []byte(`{"a":1}`)}
	e.BuildEnvelope()
	got, err := events.UnmarshalRecord(7, e.MarshalRecord())
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != e.Type || got.Key != e.Key || got.Collection != e.Collection || got.TsMs != 123 || string(got.Envelope) != string(e.Envelope) {
		t.Fatalf("round trip: %+v", got)
	}
	if string(e.Envelope) != `{"offset":7,"ts_ms":123,"type":"state_updated","data":{"a":1}}` {
		t.Fatalf("envelope %s", e.Envelope)
	}
	for _, bad := range [][]byte{nil, {9}, {1}, {1, 5, 200}} {
		if _, err := events.UnmarshalRecord(1, bad); err == nil {
			t.Fatalf("corrupt record %v accepted", bad)
		}
	}
}
