package events_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/storage"
)

// setup opens a real in-memory store whose commits feed a hub.
func setup(t *testing.T, o storage.Options) (*storage.DB, *events.Hub) {
	t.Helper()
	var hub *events.Hub
	o.InMemory = true
	o.Publish = func(evs []*events.Event) { hub.Publish(evs) }
	db, err := storage.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	hub = events.NewHub(db.LastOffset())
	t.Cleanup(func() { db.Close() })
	return db, hub
}

func write(t *testing.T, db *storage.DB, typ, key, coll string) uint64 {
	t.Helper()
	c, err := db.Update(context.Background(), func(tx *storage.Tx) error {
		tx.Emit(&events.Event{Type: typ, Key: key, Collection: coll, Data: []byte(`{}`)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.LastOffset()
}

// collect reads n items from the stream (failing after a timeout).
func collect(t *testing.T, st *events.Stream, n int) []events.Item {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []events.Item
	for len(out) < n {
		it, err := st.Next(ctx, time.Second)
		if err != nil {
			t.Fatalf("after %d items: %v", len(out), err)
		}
		if it.Event != nil || it.Gap != nil {
			out = append(out, it)
		}
	}
	return out
}

func offsets(items []events.Item) []uint64 {
	var o []uint64
	for _, it := range items {
		if it.Event != nil {
			o = append(o, it.Event.Offset)
		}
	}
	return o
}

func TestReplayThenLive(t *testing.T) {
	db, hub := setup(t, storage.Options{})
	for i := 0; i < 5; i++ {
		write(t, db, "state_updated", fmt.Sprint("k", i), "")
	}
	st := events.NewStream(hub, db, events.StreamOptions{Since: 2, Explicit: true})
	defer st.Close()
	got := collect(t, st, 3)
	if fmt.Sprint(offsets(got)) != "[3 4 5]" {
		t.Fatalf("replay %v", offsets(got))
	}
	write(t, db, "state_updated", "live", "")
	got = collect(t, st, 1)
	if got[0].Event.Offset != 6 || got[0].Event.Key != "live" {
		t.Fatalf("live event %+v", got[0].Event)
	}
}

func TestFilters(t *testing.T) {
	db, hub := setup(t, storage.Options{})
	write(t, db, "state_updated", "user:1", "")
	write(t, db, "state_deleted", "user:1", "")
	write(t, db, "vector_upserted", "", "docs")
	write(t, db, "state_updated", "order:1", "")
	write(t, db, "vector_deleted", "", "other")
	tests := []struct {
		f    events.Filter
		want string
	}{
		{events.Filter{}, "[1 2 3 4 5]"},
		{events.Filter{Types: events.ParseTypes(" state_updated , vector_deleted")}, "[1 4 5]"},
		{events.Filter{KeyPrefix: "user:", HasPrefix: true}, "[1 2]"},
		{events.Filter{KeyPrefix: "", HasPrefix: true}, "[1 2 4]"},
		{events.Filter{Collection: "docs"}, "[3]"},
		{events.Filter{Types: events.ParseTypes("state_deleted"), KeyPrefix: "user", HasPrefix: true}, "[2]"},
	}
	for _, tt := range tests {
		st := events.NewStream(hub, db, events.StreamOptions{Filter: tt.f})
		var got []uint64
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for {
			it, err := st.Next(ctx, 50*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if it.Event == nil {
				break // caught up: the next wait timed out
			}
			got = append(got, it.Event.Offset)
		}
		cancel()
		st.Close()
		if fmt.Sprint(got) != tt.want {
			t.Errorf("filter %+v: got %v, want %s", tt.f, got, tt.want)
		}
	}
}

// A subscriber with a tiny live buffer that reads slowly loses nothing and
// sees no duplicate: it is served from the log when its buffer overflows.
func TestSlowSubscriberCatchesUpFromLog(t *testing.T) {
	db, hub := setup(t, storage.Options{})
	st := events.NewStream(hub, db, events.StreamOptions{Buffer: 1, PageSize: 7})
	defer st.Close()
	// Read a few, then fall far behind while the writer goes on: the live
	// buffer (1 event) overflows for certain.
	const n = 300
	got := offsets(collect(t, st, 0))
	write(t, db, "state_updated", "first", "")
	got = append(got, offsets(collect(t, st, 1))...)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i < n; i++ {
			if _, err := db.Update(context.Background(), func(tx *storage.Tx) error {
				tx.Emit(&events.Event{Type: "state_updated", Key: fmt.Sprint("k", i), Data: []byte(`{}`)})
				return nil
			}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	if hub.Dropped() == 0 {
		t.Fatal("the live buffer never overflowed: the test does not exercise catch-up")
	}
	got = append(got, offsets(collect(t, st, n-1))...)
	for i, o := range got {
		if o != uint64(i+1) {
			t.Fatalf("position %d has offset %d: loss or duplicate", i, o)
		}
	}
	// Live again after catching up.
	write(t, db, "state_updated", "after", "")
	if it := collect(t, st, 1); it[0].Event.Offset != n+1 {
		t.Fatalf("live after catch-up: %d", it[0].Event.Offset)
	}
}

// TestOverflowAtTheTail: a live stream whose buffer overflows on the last
// writes, with none after them, still delivers them (the hub's Lost signal
// sends it to the log; a later write is not needed to reveal the hole).
func TestOverflowAtTheTail(t *testing.T) {
	db, hub := setup(t, storage.Options{})
	st := events.NewStream(hub, db, events.StreamOptions{Buffer: 1})
	defer st.Close()
	// End the initial catch-up: the stream is live and its buffer empty.
	if it, err := st.Next(context.Background(), time.Millisecond); err != nil || it.Event != nil {
		t.Fatalf("empty log: %+v %v", it, err)
	}
	const n = 20
	for i := range n {
		write(t, db, "state_updated", fmt.Sprint("k", i), "")
	}
	// Publishing follows the writer's answer; wait until the hub has it.
	for hub.Head() < n {
		time.Sleep(time.Millisecond)
	}
	if hub.Dropped() == 0 {
		t.Fatal("the buffer never overflowed")
	}
	got := offsets(collect(t, st, n))
	for i, o := range got {
		if o != uint64(i+1) {
			t.Fatalf("position %d has offset %d", i, o)
		}
	}
}

func TestGapBelowRetentionFloor(t *testing.T) {
	db, hub := setup(t, storage.Options{Retention: storage.Retention{MaxEvents: 3, Interval: time.Hour}})
	for i := 0; i < 10; i++ {
		write(t, db, "state_updated", "k", "")
	}
	if _, err := db.EnforceRetention(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Explicit resume point below the floor: a gap first, then the retained events.
	st := events.NewStream(hub, db, events.StreamOptions{Since: 2, Explicit: true})
	got := collect(t, st, 4)
	st.Close()
	g := got[0].Gap
	if g == nil || g.From != 3 || g.To != 7 || g.Dropped != 5 {
		t.Fatalf("gap %+v", g)
	}
	if string(g.JSON()) != `{"from_offset":3,"to_offset":7,"dropped":5}` {
		t.Fatalf("gap json %s", g.JSON())
	}
	if fmt.Sprint(offsets(got[1:])) != "[8 9 10]" {
		t.Fatalf("after gap %v", offsets(got[1:]))
	}
	// A fresh client (no since) starts at the floor silently.
	st = events.NewStream(hub, db, events.StreamOptions{})
	got = collect(t, st, 3)
	st.Close()
	if got[0].Gap != nil || fmt.Sprint(offsets(got)) != "[8 9 10]" {
		t.Fatalf("fresh client %v", got)
	}
	// Resuming inside the retained range: no gap.
	st = events.NewStream(hub, db, events.StreamOptions{Since: 8, Explicit: true})
	got = collect(t, st, 2)
	st.Close()
	if got[0].Gap != nil || fmt.Sprint(offsets(got)) != "[9 10]" {
		t.Fatalf("resume %v", got)
	}
}

func TestHeartbeatTimeoutAndCancel(t *testing.T) {
	db, hub := setup(t, storage.Options{})
	st := events.NewStream(hub, db, events.StreamOptions{})
	defer st.Close()
	it, err := st.Next(context.Background(), 10*time.Millisecond)
	if err != nil || it.Event != nil || it.Gap != nil {
		t.Fatalf("idle stream should time out with an empty item: %+v %v", it, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Next(ctx, time.Second); err == nil {
		t.Fatal("canceled context not reported")
	}
	if hub.Subscribers() != 1 {
		t.Fatalf("subscribers %d", hub.Subscribers())
	}
	st.Close()
	if hub.Subscribers() != 0 {
		t.Fatalf("close did not unsubscribe")
	}
}
