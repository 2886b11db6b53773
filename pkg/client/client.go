package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Version is the client version, sent in the User-Agent header.
const Version = "0.3.0-dev"

// Client talks to one Luma server. Create it with New; it is safe for
// concurrent use.
type Client struct {
	base       *url.URL
	apiKey     string
	hc         *http.Client
	streamHC   *http.Client
	timeout    time.Duration
	maxRetries int
	backoff    time.Duration
	backoffMax time.Duration
	batchSize  int
	header     http.Header
	// binaryVectors sends vectors as vector_b64.
	binaryVectors bool

	// State is the key-value state store (/v1/state).
	State *StateService
	// Vector is the vector store (/v1/vector).
	Vector *VectorService
	// Docs is the JSON document store (/v1/doc).
	Docs *DocService
	// SQL is the embedded SQLite database (/v1/sql).
	SQL *SQLService
	// Events publishes custom events (POST /v1/events).
	Events *EventsService
	// Keys manages API keys (/v1/auth/keys).
	Keys *KeysService
	// Search is the grouped-search corpus (/search, /search/ingest).
	Search *SearchService
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends key as "Authorization: Bearer <key>". Without it no key
// is sent (fine for a server in local mode).
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithHTTPClient uses hc for requests (its Timeout applies; streams use a
// copy without Timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithTimeout bounds each request (default 30 s; 0 = none). Streams are not
// bounded by it.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetries sets how many times a retryable request is retried (default 3).
func WithRetries(n int) Option { return func(c *Client) { c.maxRetries = max(0, n) } }

// WithBackoff sets the first retry wait and its cap (default 200 ms, 5 s);
// waits double per attempt with jitter.
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *Client) { c.backoff, c.backoffMax = base, maxWait }
}

// WithBatchSize sets the largest vector batch per request (default 256,
// the server's MAX_VECTOR_BATCH default).
func WithBatchSize(n int) Option { return func(c *Client) { c.batchSize = max(1, n) } }

// WithBinaryVectors sends vectors as vector_b64 (base64 of little-endian
// float32: smaller bodies, much cheaper to encode and decode than JSON
// numbers). A Luma extension: leave it off for the original server.
func WithBinaryVectors() Option { return func(c *Client) { c.binaryVectors = true } }

// WithHeader adds a header to every request.
func WithHeader(name, value string) Option { return func(c *Client) { c.header.Add(name, value) } }

// New returns a client for the server at baseURL (http://host:port, with an
// optional path prefix).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("luma: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("luma: base URL must be http(s)://host[:port], got %q", baseURL)
	}
	c := &Client{
		base: u, timeout: 30 * time.Second, maxRetries: 3,
		backoff: 200 * time.Millisecond, backoffMax: 5 * time.Second,
		batchSize: 256, header: http.Header{},
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		c.hc = &http.Client{Transport: tr, Timeout: c.timeout}
	}
	sc := *c.hc
	sc.Timeout = 0
	c.streamHC = &sc
	c.State = &StateService{c: c}
	c.Vector = &VectorService{c: c}
	c.Docs = &DocService{c: c}
	c.SQL = &SQLService{c: c}
	c.Events = &EventsService{c: c}
	c.Keys = &KeysService{c: c}
	c.Search = &SearchService{c: c}
	return c, nil
}

// BaseURL returns the server's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// Close releases idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// request describes one call.
type request struct {
	method     string
	path       string // already escaped
	query      url.Values
	body       any // JSON-encoded unless nil; json.RawMessage is sent as is
	header     http.Header
	idempotent bool // safe to repeat after it was sent
}

// response is a finished answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.RawPath = ""
	u.Path = ""
	s := u.String() + c.base.EscapedPath() + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func (c *Client) newRequest(ctx context.Context, r *request, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.url(r.path, r.query), rd)
	if err != nil {
		return nil, fmt.Errorf("luma: %w", err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "luma-go/"+Version)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	return req, nil
}

// do sends r with the retry policy and returns the answer; a status >= 400
// is returned as *Error.
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	var body []byte
	if r.body != nil {
		var err error
		if raw, ok := r.body.(json.RawMessage); ok {
			body = raw
		} else if body, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("luma: encode %s %s body: %w", r.method, r.path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, r, body)
		if err != nil {
			return nil, err
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if attempt < c.maxRetries && (r.idempotent || isDialError(err)) {
				if werr := c.sleep(ctx, attempt, 0); werr != nil {
					return nil, werr
				}
				continue
			}
			return nil, fmt.Errorf("luma: %s %s: %w", r.method, r.path, err)
		}
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if attempt < c.maxRetries && r.idempotent {
				if werr := c.sleep(ctx, attempt, 0); werr != nil {
					return nil, werr
				}
				continue
			}
			return nil, fmt.Errorf("luma: %s %s: read answer: %w", r.method, r.path, rerr)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && r.idempotent && attempt < c.maxRetries {
			if werr := c.sleep(ctx, attempt, retryAfter(resp.Header.Get("Retry-After"))); werr != nil {
				return nil, werr
			}
			continue
		}
		if resp.StatusCode >= 400 {
			return nil, parseError(resp.StatusCode, resp.Header.Get("Content-Type"), b, resp.Header.Get("X-Request-ID"))
		}
		return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
	}
}

// call sends r and decodes a JSON answer into out (when not nil).
func (c *Client) call(ctx context.Context, r *request, out any) (*response, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	if out != nil && len(resp.body) > 0 {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return nil, fmt.Errorf("luma: decode %s %s answer: %w", r.method, r.path, err)
		}
	}
	return resp, nil
}

// Do sends any request and decodes the JSON answer into out (nil: discard).
// in is JSON-encoded (nil: no body; json.RawMessage: sent as is). path is
// the escaped path, e.g. "/v1/state/a%2Fb". Only GET, PUT and DELETE are
// retried.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	_, err := c.call(ctx, &request{method: method, path: path, query: query, body: in,
		idempotent: method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete}, out)
	return err
}

func (c *Client) sleep(ctx context.Context, attempt int, hint time.Duration) error {
	d := hint
	if d <= 0 {
		d = min(c.backoffMax, c.backoff<<min(attempt, 20))
		d = d/2 + rand.N(d/2+1)
	}
	d = min(d, c.backoffMax)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// isDialError reports whether err happened while opening the connection,
// so nothing was sent.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second))
	}
	return 0
}

// seg escapes one path segment ("/" becomes %2F).
func seg(s string) string { return url.PathEscape(s) }

// Health is GET /v1/health.
type Health struct {
	Status     string `json:"status"`
	Version    string `json:"version"`
	UptimeSecs uint64 `json:"uptime_secs"`
	// Luma additions.
	LastOffset     uint64 `json:"last_offset"`
	RetentionFloor uint64 `json:"retention_floor"`
	Auth           bool   `json:"auth"`
}

// Health reports the server's status (needs no key).
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var h Health
	if _, err := c.call(ctx, &request{method: "GET", path: "/v1/health", idempotent: true}, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// Metrics returns the Prometheus metrics text.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.do(ctx, &request{method: "GET", path: "/v1/metrics", idempotent: true})
	if err != nil {
		return "", err
	}
	return string(resp.body), nil
}

// Info is GET /v1/info: what the dashboard's overview shows.
type Info struct {
	Version        string  `json:"version"`
	UptimeSecs     uint64  `json:"uptime_secs"`
	StartedAtMs    uint64  `json:"started_at_ms"`
	GoVersion      string  `json:"go_version"`
	DataDir        *string `json:"data_dir"` // nil in memory
	InMemory       bool    `json:"in_memory"`
	Auth           bool    `json:"auth"`
	SQLite         bool    `json:"sqlite"`
	LastOffset     uint64  `json:"last_offset"`
	RetentionFloor uint64  `json:"retention_floor"`
	EventLogBytes  uint64  `json:"event_log_bytes"`
	DiskBytes      uint64  `json:"disk_bytes"`
	Counts         struct {
		StateKeys      uint64 `json:"state_keys"`
		Documents      uint64 `json:"documents"`
		DocCollections []struct {
			Name      string `json:"name"`
			Documents uint64 `json:"documents"`
		} `json:"doc_collections"`
		VectorCollections uint64 `json:"vector_collections"`
		Vectors           uint64 `json:"vectors"`
		// Exact is false when the scan stopped early (lower bounds).
		Exact bool `json:"exact"`
	} `json:"counts"`
}

// Info returns the instance summary: version, modules, log position, sizes
// and counts.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	var out Info
	if _, err := c.call(ctx, &request{method: "GET", path: "/v1/info", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// OpenAPIJSON returns the server's OpenAPI document as JSON.
func (c *Client) OpenAPIJSON(ctx context.Context) (json.RawMessage, error) {
	resp, err := c.do(ctx, &request{method: "GET", path: "/docs/openapi.json", idempotent: true})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

// OpenAPI returns the server's OpenAPI document (YAML).
func (c *Client) OpenAPI(ctx context.Context) (string, error) {
	resp, err := c.do(ctx, &request{method: "GET", path: "/openapi.yaml", idempotent: true})
	if err != nil {
		return "", err
	}
	return string(resp.body), nil
}
