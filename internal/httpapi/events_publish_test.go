package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/servertest"
)

func TestPublishEventRoutes(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--max-json-mb", "0.001"))
	runDocCases(t, in, []docCase{
		{name: "publish", method: "POST", path: "/v1/events", body: `{"type":"order.created","key":"orders/1","collection":"orders","payload":{"total":5}}`, status: 200, contain: `"offset":1`, writes: 1},
		{name: "minimal", method: "POST", path: "/v1/events", body: `{"type":"ping","payload":null}`, status: 200, contain: `"ts_ms":`, writes: 1},
		{name: "all type characters", method: "POST", path: "/v1/events", body: `{"type":"A.b_c:d-9","payload":1}`, status: 200, writes: 1},
		{name: "missing type", method: "POST", path: "/v1/events", body: `{"payload":1}`, status: 422, code: "invalid_argument", contain: `"type" is required`},
		{name: "missing payload", method: "POST", path: "/v1/events", body: `{"type":"x"}`, status: 422, code: "invalid_argument", contain: `"payload" is required`},
		{name: "type with newline", method: "POST", path: "/v1/events", body: `{"type":"a\nid:9","payload":1}`, status: 400, code: "invalid_argument", contain: "invalid event type"},
		{name: "type with space", method: "POST", path: "/v1/events", body: `{"type":"a b","payload":1}`, status: 400, code: "invalid_argument", contain: "invalid event type"},
		{name: "type starts with digit", method: "POST", path: "/v1/events", body: `{"type":"1a","payload":1}`, status: 400, code: "invalid_argument", contain: "invalid event type"},
		{name: "empty type", method: "POST", path: "/v1/events", body: `{"type":"","payload":1}`, status: 400, code: "invalid_argument", contain: "invalid event type"},
		{name: "type too long", method: "POST", path: "/v1/events", body: `{"type":"` + strings.Repeat("a", 65) + `","payload":1}`, status: 400, code: "invalid_argument", contain: "invalid event type"},
		{name: "type not a string", method: "POST", path: "/v1/events", body: `{"type":5,"payload":1}`, status: 422, code: "invalid_argument"},
		{name: "reserved state_updated", method: "POST", path: "/v1/events", body: `{"type":"state_updated","payload":1}`, status: 400, code: "invalid_argument", contain: "reserved"},
		{name: "reserved gap", method: "POST", path: "/v1/events", body: `{"type":"gap","payload":1}`, status: 400, code: "invalid_argument", contain: "reserved"},
		{name: "reserved vector_upserted", method: "POST", path: "/v1/events", body: `{"type":"vector_upserted","payload":1}`, status: 400, code: "invalid_argument", contain: "reserved"},
		{name: "empty key", method: "POST", path: "/v1/events", body: `{"type":"x","key":"","payload":1}`, status: 400, code: "invalid_argument", contain: "key must not be empty"},
		{name: "key too long", method: "POST", path: "/v1/events", body: `{"type":"x","key":"` + strings.Repeat("k", 513) + `","payload":1}`, status: 400, code: "invalid_argument", msg: "key too long"},
		{name: "collection too long", method: "POST", path: "/v1/events", body: `{"type":"x","collection":"` + strings.Repeat("c", 65) + `","payload":1}`, status: 400, code: "invalid_argument", msg: "collection too long"},
		{name: "payload too large", method: "POST", path: "/v1/events", body: `{"type":"x","payload":"` + strings.Repeat("p", 1100) + `"}`, status: 413, code: "payload_too_large", msg: "payload too large"},
		{name: "malformed", method: "POST", path: "/v1/events", body: `{"type":`, status: 400, code: "invalid_argument"},
		{name: "not an object", method: "POST", path: "/v1/events", body: `[1]`, status: 422, code: "invalid_argument"},
		{name: "empty body", method: "POST", path: "/v1/events", body: ``, status: 400, code: "invalid_argument", contain: "request body required"},
	})
}

func TestPublishEventNeedsWriteRole(t *testing.T) {
	in := servertest.Start(t, servertest.DiskConfig(t, t.TempDir(), "--api-key", "root"))
	m := in.MustStatus(200, "POST", "/v1/auth/keys", map[string]any{"name": "dash", "role": "reader"}, "Authorization: Bearer root").Map(t)
	runDocCases(t, in, []docCase{
		{name: "reader cannot publish", method: "POST", path: "/v1/events", body: `{"type":"x","payload":1}`, headers: []string{"x-api-key: " + m["key"].(string)}, status: 403, code: "forbidden"},
		{name: "admin publishes", method: "POST", path: "/v1/events", body: `{"type":"x","payload":1}`, headers: []string{"x-api-key: root"}, status: 200, writes: 1},
	})
}

// pubEvent is one SSE message read by pubStream.
type pubEvent struct{ event, id, data string }

// pubStream reads an SSE response into a channel.
func pubStream(t *testing.T, url string) <-chan pubEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream status %d", resp.StatusCode)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	ch := make(chan pubEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		var ev pubEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					ch <- ev
				}
				ev = pubEvent{}
			case strings.HasPrefix(line, "event:"):
				ev.event = line[len("event:"):]
			case strings.HasPrefix(line, "id:"):
				ev.id = line[len("id:"):]
			case strings.HasPrefix(line, "data:"):
				ev.data = line[len("data:"):]
			}
		}
	}()
	return ch
}

// nextEvent waits for the next event; the bound only guards against a
// hang (it fails the test, it does not measure anything).
func nextEvent(t *testing.T, ch <-chan pubEvent) pubEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no event arrived")
	}
	return pubEvent{}
}

// TestPublishEventThroughSSE: published events reach live subscribers and
// replaying readers like built-in ones, and the stream filters (types,
// key_prefix, collection) select them by the fields of their data.
func TestPublishEventThroughSSE(t *testing.T) {
	in := servertest.Start(t, nil)
	all := pubStream(t, in.URL+"/v1/stream")
	byType := pubStream(t, in.URL+"/v1/stream?types=order.created")
	byKey := pubStream(t, in.URL+"/v1/stream?key_prefix=orders/")
	byColl := pubStream(t, in.URL+"/v1/stream?collection=orders")
	legacy := pubStream(t, in.URL+"/v1/events?prefix=orders/")

	publish := func(body string) uint64 {
		var r struct {
			Offset uint64 `json:"offset"`
			TsMs   uint64 `json:"ts_ms"`
		}
		in.MustStatus(200, "POST", "/v1/events", body).JSON(t, &r)
		if r.TsMs == 0 {
			t.Fatalf("no ts_ms: %s", body)
		}
		return r.Offset
	}
	o1 := publish(`{"type":"order.created","key":"orders/1","collection":"orders","payload":{"total":5}}`)
	in.MustStatus(200, "PUT", "/v1/state/orders%2Fx", `{"value":1}`) // a built-in event in between (key "orders/x")
	o3 := publish(`{"type":"order.paid","key":"orders/1","payload":[1,2]}`)
	o4 := publish(`{"type":"audit","collection":"orders","payload":"text"}`)
	o5 := publish(`{"type":"order.created","payload":null}`)

	wantAll := []string{
		fmt.Sprintf(`order.created|%d|{"offset":%d,"ts_ms":*,"type":"order.created","data":{"key":"orders/1","collection":"orders","payload":{"total":5}}}`, o1, o1),
		`state_updated|2|*`,
		fmt.Sprintf(`order.paid|%d|{"offset":%d,"ts_ms":*,"type":"order.paid","data":{"key":"orders/1","collection":null,"payload":[1,2]}}`, o3, o3),
		fmt.Sprintf(`audit|%d|{"offset":%d,"ts_ms":*,"type":"audit","data":{"key":null,"collection":"orders","payload":"text"}}`, o4, o4),
		fmt.Sprintf(`order.created|%d|{"offset":%d,"ts_ms":*,"type":"order.created","data":{"key":null,"collection":null,"payload":null}}`, o5, o5),
	}
	for _, want := range wantAll {
		ev := nextEvent(t, all)
		got := ev.event + "|" + ev.id + "|" + ev.data
		if !wildcardMatch(want, got) {
			t.Fatalf("all: got %s\nwant %s", got, want)
		}
		var env map[string]any
		if err := json.Unmarshal([]byte(ev.data), &env); err != nil {
			t.Fatalf("data is not one JSON line: %v", err)
		}
	}
	expectIDs := func(name string, ch <-chan pubEvent, ids ...uint64) {
		t.Helper()
		for _, id := range ids {
			if ev := nextEvent(t, ch); ev.id != fmt.Sprint(id) {
				t.Fatalf("%s: got event %s (%s), want id %d", name, ev.id, ev.event, id)
			}
		}
	}
	expectIDs("types", byType, o1, o5)
	expectIDs("key_prefix", byKey, o1, 2, o3)
	expectIDs("collection", byColl, o1, o4)
	expectIDs("legacy prefix", legacy, o1, 2, o3)

	// Replay from the log sees the same events.
	replay := pubStream(t, in.URL+"/v1/stream?since=2&types=order.paid,audit")
	expectIDs("replay", replay, o3, o4)
}

// wildcardMatch compares with '*' matching any run of characters.
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return s == ""
}

// FuzzPublishEventBody: any publish body gets a 200 that appended exactly
// one well-formed event (type safe for an SSE line, filter fields equal to
// data.key / data.collection), or a JSON 4xx that appended nothing.
func FuzzPublishEventBody(f *testing.F) {
	in := servertest.Start(f, servertest.Config(f, "--max-json-mb", "0.01"))
	f.Fuzz(func(t *testing.T, body string) {
		before := in.App.DB.LastOffset()
		r := in.With(t).Do("POST", "/v1/events", body)
		switch r.Status {
		case 200:
		case 400, 413, 422:
			var e struct{ Error, Message string }
			r.JSON(t, &e)
			if e.Error == "" || e.Message == "" {
				t.Fatalf("error body %s", r.Body)
			}
			if in.App.DB.LastOffset() != before {
				t.Fatalf("a %d answer wrote events", r.Status)
			}
			return
		default:
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		var res struct{ Offset uint64 }
		r.JSON(t, &res)
		if res.Offset != before+1 || in.App.DB.LastOffset() != before+1 {
			t.Fatalf("offset %d, log %d, before %d", res.Offset, in.App.DB.LastOffset(), before)
		}
		evs, err := in.App.DB.ReadEvents(res.Offset, 1)
		if err != nil || len(evs) != 1 {
			t.Fatalf("read back: %v %v", evs, err)
		}
		ev := evs[0]
		if ev.Type == "" || len(ev.Type) > 64 || strings.ContainsAny(ev.Type, "\r\n\t ") {
			t.Fatalf("unsafe type %q", ev.Type)
		}
		var env struct {
			Type string
			Data struct {
				Key        *string
				Collection *string
				Payload    json.RawMessage
			}
		}
		if err := json.Unmarshal(ev.Envelope, &env); err != nil || env.Type != ev.Type {
			t.Fatalf("envelope %s: %v", ev.Envelope, err)
		}
		if deref(env.Data.Key) != ev.Key || deref(env.Data.Collection) != ev.Collection || env.Data.Payload == nil {
			t.Fatalf("filter fields %q %q vs data %s", ev.Key, ev.Collection, ev.Envelope)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
