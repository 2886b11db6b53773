package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/luma-db/luma/pkg/client"
)

func TestHealthMetricsOpenAPI(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	h := must[*client.Health](t)(c.Health(ctx))
	if h.Status != "ok" || h.Version == "" || h.Auth {
		t.Fatalf("health = %+v", h)
	}
	must[*client.PutResult](t)(c.State.Put(ctx, "m", 1, nil))
	m := must[string](t)(c.Metrics(ctx))
	if !strings.Contains(m, "state_put_total 1") {
		t.Fatalf("metrics lack state_put_total 1:\n%.400s", m)
	}
	if spec := must[string](t)(c.OpenAPI(ctx)); !strings.HasPrefix(spec, "openapi:") {
		t.Fatalf("openapi = %.80q", spec)
	}
	if doc, err := c.OpenAPIJSON(ctx); !client.IsNoRoute(err) && (err != nil || !strings.Contains(string(doc), `"/v1/state/{key}"`)) {
		t.Fatalf("openapi.json: %v %.80s", err, doc)
	}
	if info, err := c.Info(ctx); !client.IsNoRoute(err) && (err != nil || !info.InMemory || info.Counts.StateKeys != 1 || info.LastOffset == 0) {
		t.Fatalf("info: %+v %v", info, err)
	}
	var out map[string]any
	if err := c.Do(ctx, "GET", "/v1/health", nil, nil, &out); err != nil || out["status"] != "ok" {
		t.Fatalf("Do: %v %v", out, err)
	}
	err := c.Do(ctx, "GET", "/v1/nothing", nil, nil, nil)
	if !client.IsNoRoute(err) || !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("unknown route: %v", err)
	}
	if c.BaseURL() == "" {
		t.Fatal("BaseURL empty")
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"ftp://x", "localhost:9917", "http://"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) = nil error", u)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		status int
		code   string
		is     []error
	}{
		{400, "invalid_argument", []error{client.ErrInvalidArgument}},
		{400, "dim_mismatch", []error{client.ErrDimMismatch, client.ErrInvalidArgument}},
		{415, "unsupported_media_type", []error{client.ErrUnsupportedMedia}},
		{401, "unauthorized", []error{client.ErrUnauthorized}},
		{403, "forbidden", []error{client.ErrForbidden}},
		{404, "not_found", []error{client.ErrNotFound}},
		{405, "method_not_allowed", []error{client.ErrMethodNotAllowed}},
		{408, "timeout", []error{client.ErrTimeout}},
		{409, "revision_mismatch", []error{client.ErrRevisionMismatch, client.ErrConflict}},
		{409, "already_exists", []error{client.ErrAlreadyExists, client.ErrConflict}},
		{413, "payload_too_large", []error{client.ErrPayloadTooLarge}},
		{404, "not_enabled", []error{client.ErrNotEnabled}},
		{501, "not_enabled", []error{client.ErrNotEnabled, client.ErrServer}},
		{400, "sqlite_error", []error{client.ErrSQLite}},
		{501, "not_supported", []error{client.ErrNotSupported}},
		{500, "persistence_error", []error{client.ErrPersistence, client.ErrServer}},
		{500, "internal", []error{client.ErrServer}},
		{500, "internal_error", []error{client.ErrServer}},
		{503, "unavailable", []error{client.ErrUnavailable, client.ErrServer}},
	}
	srv := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		var i int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/case/"), "%d", &i)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-ID", "rid")
		w.WriteHeader(cases[i].status)
		fmt.Fprintf(w, `{"error":%q,"message":"msg","results":[1]}`, cases[i].code)
	})
	c := newClient(t, srv.URL, client.WithRetries(0))
	for i, tc := range cases {
		err := c.Do(ctxT(t), "POST", fmt.Sprintf("/case/%d", i), nil, map[string]int{}, nil)
		var e *client.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %T %v", tc.code, err, err)
		}
		if e.Status != tc.status || e.Code != tc.code || e.Message != "msg" || e.RequestID != "rid" || string(e.Results) != "[1]" {
			t.Errorf("%s: %+v", tc.code, e)
		}
		if e.Error() != tc.code+" - msg" {
			t.Errorf("Error() = %q", e.Error())
		}
		for _, s := range tc.is {
			if !errors.Is(err, s) {
				t.Errorf("%s: errors.Is(%v) = false", tc.code, s)
			}
		}
		if errors.Is(err, client.ErrSubscriptionClosed) || (tc.code != "not_found" && errors.Is(err, client.ErrNotFound)) {
			t.Errorf("%s matches an unrelated sentinel", tc.code)
		}
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	srv := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(502)
		fmt.Fprint(w, "upstream down")
	})
	err := newClient(t, srv.URL, client.WithRetries(0)).Do(ctxT(t), "GET", "/x", nil, nil, nil)
	var e *client.Error
	if !errors.As(err, &e) || e.Code != "http_502" || e.Message != "upstream down" || !errors.Is(err, client.ErrServer) {
		t.Fatalf("err = %#v", err)
	}
}

func TestRetryPolicy(t *testing.T) {
	var n atomic.Int32
	srv := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		if k <= 2 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(503)
			fmt.Fprint(w, `{"error":"unavailable","message":"later"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"key":"k","value":1,"revision":7,"expires_at_ms":null}`)
	})
	c := newClient(t, srv.URL)
	it := must[*client.StateItem](t)(c.State.Get(ctxT(t), "k"))
	if it.Revision != 7 || n.Load() != 3 {
		t.Fatalf("GET: revision %d after %d requests", it.Revision, n.Load())
	}

	// A POST that is not idempotent is sent once.
	n.Store(0)
	_, err := c.Events.Publish(ctxT(t), client.PublishRequest{Type: "x"})
	if !errors.Is(err, client.ErrUnavailable) || n.Load() != 1 {
		t.Fatalf("POST: %v after %d requests", err, n.Load())
	}

	// Retries are bounded.
	n.Store(-100)
	c2 := newClient(t, srv.URL, client.WithRetries(2))
	if _, err := c2.State.Get(ctxT(t), "k"); !errors.Is(err, client.ErrUnavailable) || n.Load() != -97 {
		t.Fatalf("bounded: %v after %d requests", err, n.Load()+100)
	}
}

func TestDialErrorsAreRetriedForAnyMethod(t *testing.T) {
	var dials atomic.Int32
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("refused")}
		},
	}}
	c := newClient(t, "http://127.0.0.1:1", client.WithRetries(2), client.WithHTTPClient(hc))
	_, err := c.Events.Publish(ctxT(t), client.PublishRequest{Type: "x"})
	var op *net.OpError
	if !errors.As(err, &op) || dials.Load() != 3 {
		t.Fatalf("err = %v after %d dials; nothing was sent, so even a POST is retried", err, dials.Load())
	}
}

func TestDroppedConnectionRetry(t *testing.T) {
	var n atomic.Int32
	srv := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close() // no answer at all
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"hits":[]}`)
	})
	c := newClient(t, srv.URL)
	if _, err := c.Vector.Search(ctxT(t), "c", client.SearchRequest{Vector: []float32{1}, K: 1}); err != nil || n.Load() != 2 {
		t.Fatalf("search (a read) should be retried: %v after %d", err, n.Load())
	}
	n.Store(0)
	if err := c.Vector.Add(ctxT(t), "c", client.Item{ID: "a", Vector: []float32{1}}); err == nil || n.Load() != 1 {
		t.Fatalf("add must not be retried: %v after %d", err, n.Load())
	}
}

func TestHeadersAndAuth(t *testing.T) {
	var got http.Header
	var path string
	srv := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		got, path = r.Header.Clone(), r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"deleted":true}`)
	})
	c := newClient(t, srv.URL+"/prefix/", client.WithAPIKey("sekret"), client.WithHeader("X-Trace", "1"))
	if ok := must[bool](t)(c.State.Delete(ctxT(t), "a/b c", 0)); !ok {
		t.Fatal("deleted = false")
	}
	if path != "/prefix/v1/state/a%2Fb%20c" || got.Get("Authorization") != "Bearer sekret" || got.Get("X-Trace") != "1" ||
		!strings.HasPrefix(got.Get("User-Agent"), "luma-go/") {
		t.Fatalf("path %q headers %v", path, got)
	}
}
