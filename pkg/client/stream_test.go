package client_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/servertest"
	"github.com/luma-db/luma/pkg/client"
)

func put(t *testing.T, c *client.Client, key string, v any) {
	t.Helper()
	if _, err := c.State.Put(context.Background(), key, v, nil); err != nil {
		t.Fatal(err)
	}
}

// next reads one item, failing the test if the subscription ends.
func next(t *testing.T, s *client.Subscription) client.Event {
	t.Helper()
	ev, err := s.Next()
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ev
}

func TestSubscribeReplayThenLive(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	for i := range 3 {
		put(t, c, fmt.Sprintf("a:%d", i), i)
	}
	put(t, c, "b:0", 0)
	s := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{KeyPrefix: "a:"}))
	defer s.Close()
	for i := range 3 {
		ev := next(t, s)
		if ev.Type != "state_updated" || ev.Key != fmt.Sprintf("a:%d", i) || ev.Offset != uint64(i+1) || ev.TsMs == 0 || ev.IsGap() {
			t.Fatalf("replayed %d: %+v", i, ev)
		}
	}
	put(t, c, "a:live", 9)
	ev := next(t, s)
	var data struct {
		Value    int    `json:"value"`
		Revision uint64 `json:"revision"`
	}
	if err := ev.Decode(&data); err != nil || ev.Key != "a:live" || data.Value != 9 || data.Revision != 1 {
		t.Fatalf("live: %+v %+v %v", ev, data, err)
	}
	if s.LastOffset() != ev.Offset {
		t.Fatalf("LastOffset %d, want %d", s.LastOffset(), ev.Offset)
	}
}

func TestSubscribeFiltersAndFromNow(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	put(t, c, "x:1", 1)
	s := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{FromNow: true, Types: []string{"state_deleted"}}))
	defer s.Close()
	put(t, c, "x:2", 2)
	if _, err := c.State.Delete(ctx, "x:1", 0); err != nil {
		t.Fatal(err)
	}
	ev := next(t, s)
	if ev.Type != "state_deleted" || ev.Key != "x:1" {
		t.Fatalf("got %+v", ev)
	}
	// The deprecated /v1/events spelling.
	l := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{Legacy: true, KeyPrefix: "x:2"}))
	defer l.Close()
	if ev := next(t, l); ev.Key != "x:2" {
		t.Fatalf("legacy got %+v", ev)
	}
	// Published events carry key and collection for the filters.
	pc := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{FromNow: true, Collection: "orders"}))
	defer pc.Close()
	res, err := c.Events.Publish(ctx, client.PublishRequest{Type: "order.created", Key: "o:1", Collection: "orders", Payload: map[string]int{"n": 1}})
	if client.IsNoRoute(err) {
		t.Skip("POST /v1/events not available yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	ev = next(t, pc)
	if ev.Type != "order.created" || ev.Offset != res.Offset || ev.Key != "o:1" || ev.Collection != "orders" {
		t.Fatalf("published: %+v (offset %d)", ev, res.Offset)
	}
}

func TestSubscribeErrorsAtStart(t *testing.T) {
	_, c := start(t, "--api-key", "secret")
	if _, err := c.Subscribe(ctxT(t), client.StreamOptions{}); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("no key: %v", err)
	}
	in, _ := start(t)
	// A bad parameter is an immediate error, not a retry loop.
	cl := newClient(t, in.URL)
	err := cl.Do(ctxT(t), "GET", "/v1/stream", map[string][]string{"since": {"-1"}}, nil, nil)
	if !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("since=-1: %v", err)
	}
}

func TestSubscribeResumesAfterDrop(t *testing.T) {
	in, _ := start(t)
	p := newProxy(t, in.URL)
	c := newClient(t, p.URL())
	ctx := ctxT(t)
	for i := range 10 {
		put(t, c, fmt.Sprintf("k:%02d", i), i)
	}
	s := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{}))
	defer s.Close()
	var got []client.Event
	for range 4 {
		got = append(got, next(t, s))
	}
	p.dropAll() // a network failure under the stream
	for i := 10; i < 15; i++ {
		put(t, c, fmt.Sprintf("k:%02d", i), i)
	}
	s.DropConnection() // and a second one, from the client side
	for len(got) < 15 {
		got = append(got, next(t, s))
	}
	for i, ev := range got {
		if ev.Offset != uint64(i+1) || ev.Key != fmt.Sprintf("k:%02d", i) {
			t.Fatalf("item %d = %+v: lost or duplicated events", i, ev)
		}
	}
	if s.Reconnects() < 1 {
		t.Fatalf("reconnects = %d", s.Reconnects())
	}
}

func TestSubscribeSurvivesServerRestart(t *testing.T) {
	dir := t.TempDir()
	in := servertest.Start(t, servertest.DiskConfig(t, dir))
	p := newProxy(t, in.URL)
	c := newClient(t, p.URL(), client.WithRetries(20))
	ctx := ctxT(t)
	for i := range 20 {
		put(t, c, fmt.Sprintf("r:%03d", i), i)
	}
	s := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{KeyPrefix: "r:"}))
	defer s.Close()
	var got []client.Event
	for range 10 {
		got = append(got, next(t, s))
	}
	for round := range 2 {
		in.Close()
		in = servertest.Start(t, servertest.DiskConfig(t, dir))
		p.setTarget(in.URL)
		for i := 20 * (round + 1); i < 20*(round+2); i++ {
			put(t, c, fmt.Sprintf("r:%03d", i), i)
		}
	}
	for len(got) < 60 {
		got = append(got, next(t, s))
	}
	for i, ev := range got {
		if ev.Key != fmt.Sprintf("r:%03d", i) || (i > 0 && ev.Offset <= got[i-1].Offset) {
			t.Fatalf("item %d = %+v: lost or duplicated events", i, ev)
		}
	}
}

func TestSubscribeGap(t *testing.T) {
	_, c := start(t, "--retain-events", "5")
	ctx := ctxT(t)
	for i := range 20 {
		put(t, c, fmt.Sprintf("g:%d", i), i)
	}
	for { // retention trims once a second
		h := must[*client.Health](t)(c.Health(ctx))
		if h.RetentionFloor > 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{Since: 1}))
	defer s.Close()
	g := next(t, s)
	if !g.IsGap() || g.Type != "gap" || g.Gap.From != 2 || g.Gap.To < 2 || g.Gap.Dropped == 0 {
		t.Fatalf("first item = %+v", g)
	}
	ev := next(t, s)
	if ev.IsGap() || ev.Offset != g.Gap.To+1 {
		t.Fatalf("after the gap: %+v", ev)
	}
	s.DropConnection() // resuming must not repeat the gap
	for off := ev.Offset + 1; off <= 20; off++ {
		if e := next(t, s); e.IsGap() || e.Offset != off {
			t.Fatalf("after reconnect: %+v, want offset %d", e, off)
		}
	}
}

func TestSubscriptionEndings(t *testing.T) {
	in, c := start(t)
	s := must[*client.Subscription](t)(c.Subscribe(ctxT(t), client.StreamOptions{}))
	s.Close()
	if _, err := s.Next(); !errors.Is(err, client.ErrSubscriptionClosed) {
		t.Fatalf("after Close: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s = must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{}))
	cancel()
	for range s.Events() {
	}
	if !errors.Is(s.Err(), context.Canceled) {
		t.Fatalf("after cancel: %v", s.Err())
	}
	s.Close()

	p := newProxy(t, in.URL)
	c2 := newClient(t, p.URL())
	s = must[*client.Subscription](t)(c2.Subscribe(ctxT(t), client.StreamOptions{NoReconnect: true}))
	defer s.Close()
	p.dropAll()
	if _, err := s.Next(); err == nil || errors.Is(err, client.ErrSubscriptionClosed) {
		t.Fatalf("NoReconnect drop: %v", err)
	}

	// A silent connection is reopened after ReadTimeout; nothing is lost.
	s = must[*client.Subscription](t)(c.Subscribe(ctxT(t), client.StreamOptions{FromNow: true, ReadTimeout: 100 * time.Millisecond}))
	defer s.Close()
	for s.Reconnects() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	put(t, c, "after-timeouts", 1)
	if ev := next(t, s); ev.Key != "after-timeouts" {
		t.Fatalf("got %+v", ev)
	}
}
