// Package servertest starts real Luma servers for tests: the real storage
// engine (in memory or in a temporary directory), the real HTTP stack over
// loopback, no mocks. Every exchange with an instance is checked against
// docs/openapi.yaml (contract.go): a mismatch fails the test.
package servertest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/config"
	"github.com/luma-db/luma/internal/server"
)

// Instance is a running test server.
type Instance struct {
	t      testing.TB
	URL    string
	App    *server.App
	Config *config.Config
	srv    *httptest.Server
	closed bool

	contract *contract
	reporter *reporter
	badInput bool // Do marks requests as intentionally invalid
}

// Config returns a default configuration (as with no flags and an empty
// environment) running in memory; extra flags are applied on top.
func Config(t testing.TB, flags ...string) *config.Config {
	t.Helper()
	args := append([]string{"--memory"}, flags...)
	cfg, err := config.Load(args, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// DiskConfig is Config with data in dir instead of memory.
func DiskConfig(t testing.TB, dir string, flags ...string) *config.Config {
	t.Helper()
	args := append([]string{"--data-dir", dir}, flags...)
	cfg, err := config.Load(args, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// Start opens an instance for cfg (Config(t) when nil) and closes it when
// the test ends.
func Start(t testing.TB, cfg *config.Config) *Instance {
	t.Helper()
	if cfg == nil {
		cfg = Config(t)
	}
	level := slog.LevelWarn
	if os.Getenv("LUMA_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	s, err := loadSpec()
	if err != nil {
		t.Fatalf("contract check: %v", err)
	}
	app, err := server.Open(cfg, log)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	rp := &reporter{t: t}
	c := newContract(s, app.HTTP.Routes(), rp.report)
	srv := httptest.NewServer(c.wrap(app.Handler()))
	in := &Instance{t: t, URL: srv.URL, App: app, Config: cfg, srv: srv, contract: c, reporter: rp}
	t.Cleanup(in.Close)
	return in
}

// Close stops the server (idempotent). Data in a data dir stays.
func (in *Instance) Close() {
	if in.closed {
		return
	}
	in.closed = true
	in.App.HTTP.Shutdown()
	in.srv.CloseClientConnections()
	in.srv.Close()
	if err := in.App.Close(); err != nil {
		in.t.Errorf("close server: %v", err)
	}
	in.reporter.flush()
}

// With returns a view of the instance whose helpers report to t (use it
// inside subtests and fuzz targets, where the starting test's t must not be
// used).
func (in *Instance) With(t testing.TB) *Instance {
	c := *in
	c.t = t
	c.closed = true // the copy never closes the server
	return &c
}

// BadInput returns a view of the instance whose requests are intentionally
// invalid: the contract check validates their responses, not the requests
// (use it where the server accepts input the spec forbids on purpose).
func (in *Instance) BadInput() *Instance {
	c := *in
	c.closed = true
	c.badInput = true
	return &c
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Do sends a request. body may be nil, a string / []byte (sent as is) or
// any other value (JSON-encoded). headers are "Name: value" strings.
func (in *Instance) Do(method, path string, body any, headers ...string) *Response {
	in.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			in.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, in.URL+path, rd)
	if err != nil {
		in.t.Fatalf("request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	id := strconv.FormatUint(in.contract.nextID.Add(1), 10)
	req.Header.Set(headerExchange, id)
	if in.badInput {
		req.Header.Set(HeaderBadInput, "1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		in.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if v := in.contract.take(id); v != "" {
		in.t.Errorf("%s", v)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// MustStatus sends a request and fails the test unless the status matches.
func (in *Instance) MustStatus(want int, method, path string, body any, headers ...string) *Response {
	in.t.Helper()
	r := in.Do(method, path, body, headers...)
	if r.Status != want {
		in.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// testWriter sends server logs to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
