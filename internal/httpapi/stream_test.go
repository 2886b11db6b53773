package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/servertest"
)

// sseEvent is one parsed SSE message (or comment).
type sseEvent struct {
	Event, ID, Data string
	Comment         bool
}

// sseClient reads events from an open stream.
type sseClient struct {
	resp   *http.Response
	sc     *bufio.Scanner
	cancel context.CancelFunc
	events chan sseEvent
}

func openStream(t *testing.T, in *servertest.Instance, path string, headers ...string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", in.URL+path, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("stream %s: status %d", path, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("headers %v", resp.Header)
	}
	c := &sseClient{resp: resp, sc: bufio.NewScanner(resp.Body), cancel: cancel, events: make(chan sseEvent, 1024)}
	c.sc.Buffer(make([]byte, 1<<20), 1<<20)
	go func() {
		defer close(c.events)
		var ev sseEvent
		for c.sc.Scan() {
			line := c.sc.Text()
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					c.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev.Comment = true
			case strings.HasPrefix(line, "event:"):
				ev.Event = line[len("event:"):]
			case strings.HasPrefix(line, "id:"):
				ev.ID = line[len("id:"):]
			case strings.HasPrefix(line, "data:"):
				ev.Data = line[len("data:"):]
			}
		}
	}()
	t.Cleanup(c.Close)
	return c
}

func (c *sseClient) Close() { c.cancel(); c.resp.Body.Close() }

// next returns the next non-comment event.
func (c *sseClient) next(t *testing.T) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatal("stream closed")
			}
			if !ev.Comment {
				return ev
			}
		case <-timeout:
			t.Fatal("no event within 10s")
		}
	}
}

// quiet fails if an event (not a comment) arrives within d.
func (c *sseClient) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-c.events:
			if ok && !ev.Comment {
				t.Fatalf("unexpected event %+v", ev)
			}
			if !ok {
				return
			}
		case <-timeout:
			return
		}
	}
}

func (c *sseClient) ids(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, c.next(t).ID)
	}
	return out
}

func put(t *testing.T, in *servertest.Instance, key string, v any) {
	t.Helper()
	in.MustStatus(200, "PUT", "/v1/state/"+key, map[string]any{"value": v})
}

func TestStreamReplayAndLive(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	put(t, in, "a", 1)
	put(t, in, "b", 2)
	s := openStream(t, in, "/v1/stream")
	ev := s.next(t)
	if ev.Event != "state_updated" || ev.ID != "1" {
		t.Fatalf("first event %+v", ev)
	}
	var env struct {
		Offset uint64
		TsMs   uint64 `json:"ts_ms"`
		Type   string
		Data   map[string]any
	}
	if err := json.Unmarshal([]byte(ev.Data), &env); err != nil {
		t.Fatal(err)
	}
	if env.Offset != 1 || env.Type != "state_updated" || env.TsMs == 0 || env.Data["key"] != "a" || env.Data["revision"].(float64) != 1 {
		t.Fatalf("envelope %+v", env)
	}
	if id := s.next(t).ID; id != "2" {
		t.Fatalf("second id %s", id)
	}
	put(t, in, "c", 3)
	if ev := s.next(t); ev.ID != "3" || !strings.Contains(ev.Data, `"key":"c"`) {
		t.Fatalf("live %+v", ev)
	}
}

func TestStreamSinceAndLastEventID(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	for i := 0; i < 5; i++ {
		put(t, in, fmt.Sprint("k", i), i)
	}
	if got := openStream(t, in, "/v1/stream?since=3").ids(t, 2); fmt.Sprint(got) != "[4 5]" {
		t.Fatalf("since=3: %v", got)
	}
	if got := openStream(t, in, "/v1/stream?since=1", "Last-Event-ID: 4").ids(t, 1); fmt.Sprint(got) != "[5]" {
		t.Fatalf("Last-Event-ID overrides since: %v", got)
	}
	if got := openStream(t, in, "/v1/stream?since=2", "Last-Event-ID: junk").ids(t, 1); fmt.Sprint(got) != "[3]" {
		t.Fatalf("non-numeric Last-Event-ID ignored: %v", got)
	}
	if r := in.Do("GET", "/v1/stream?since=-1", nil); r.Status != 400 {
		t.Fatalf("since=-1: %d", r.Status)
	}
}

func TestStreamFilters(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	put(t, in, "user:1", 1)                               // 1
	put(t, in, "order:1", 1)                              // 2
	in.MustStatus(200, "DELETE", "/v1/state/user:1", nil) // 3
	put(t, in, "user:2", 1)                               // 4
	tests := []struct{ path, want string }{
		{"/v1/stream?types=state_deleted", "[3]"},
		{"/v1/stream?key_prefix=user:", "[1 3 4]"},
		{"/v1/stream?key_prefix=user:&types=state_updated", "[1 4]"},
		{"/v1/events?prefix=order", "[2]"},
		{"/v1/events?since=2&types=state_updated,state_deleted", "[3 4]"},
	}
	for _, tt := range tests {
		want := strings.Fields(strings.Trim(tt.want, "[]"))
		s := openStream(t, in, tt.path)
		if got := s.ids(t, len(want)); fmt.Sprint(got) != tt.want {
			t.Errorf("%s: %v, want %s", tt.path, got, tt.want)
		}
		s.quiet(t, 100*time.Millisecond)
		s.Close()
	}
	// collection filter: state events have no collection, so nothing matches
	// until an event with that collection arrives.
	openStream(t, in, "/v1/stream?collection=docs").quiet(t, 200*time.Millisecond)
}

// Disconnect mid-stream and resume with Last-Event-ID: no loss, no duplicates.
func TestStreamResumeAfterDisconnect(t *testing.T) {
	in := servertest.Start(t, servertest.DiskConfig(t, t.TempDir()))
	const total = 60
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < total; i++ {
			put(t, in, fmt.Sprint("k", i), i)
		}
	}()
	var got []string
	last := ""
	for len(got) < total {
		var s *sseClient
		if last == "" {
			s = openStream(t, in, "/v1/stream")
		} else {
			s = openStream(t, in, "/v1/stream", "Last-Event-ID: "+last)
		}
		// Read a few, then drop the connection.
		for i := 0; i < 7 && len(got) < total; i++ {
			ev := s.next(t)
			got = append(got, ev.ID)
			last = ev.ID
		}
		s.Close()
	}
	<-done
	for i, id := range got {
		if id != strconv.Itoa(i+1) {
			t.Fatalf("position %d has id %s: loss or duplicate (%v)", i, id, got)
		}
	}
}

func TestStreamGapBelowRetention(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--retain-events", "3"))
	for i := 0; i < 10; i++ {
		put(t, in, "k", i)
	}
	if _, err := in.App.DB.EnforceRetention(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := openStream(t, in, "/v1/stream?since=1")
	gap := s.next(t)
	if gap.Event != "gap" || gap.ID != "" || gap.Data != `{"from_offset":2,"to_offset":7,"dropped":6}` {
		t.Fatalf("gap %+v", gap)
	}
	if got := s.ids(t, 3); fmt.Sprint(got) != "[8 9 10]" {
		t.Fatalf("after gap %v", got)
	}
	// Without since: no gap, starts at the floor.
	if ev := openStream(t, in, "/v1/stream").next(t); ev.Event != "state_updated" || ev.ID != "8" {
		t.Fatalf("fresh stream starts with %+v", ev)
	}
}

func TestStreamHeartbeat(t *testing.T) {
	cfg := servertest.Config(t)
	cfg.SSEHeartbeat = 50 * time.Millisecond
	in := servertest.Start(t, cfg)
	s := openStream(t, in, "/v1/stream")
	select {
	case ev := <-s.events:
		if !ev.Comment {
			t.Fatalf("expected a keepalive comment, got %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no keepalive")
	}
}

func TestStreamEndsOnShutdownAndCountsClients(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	s := openStream(t, in, "/v1/stream")
	put(t, in, "a", 1)
	s.next(t)
	m := in.MustStatus(200, "GET", "/v1/metrics", nil)
	if !strings.Contains(string(m.Body), "\nsse_clients 1\n") {
		t.Fatalf("sse_clients not 1:\n%s", m.Body)
	}
	in.App.HTTP.Shutdown()
	select {
	case _, ok := <-s.events:
		for ok {
			_, ok = <-s.events
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not end on shutdown")
	}
}
