package servertest

// The contract check: every exchange a test makes with an Instance is
// validated against docs/openapi.yaml by a middleware in front of the
// server's handler (kin-openapi's openapi3filter does the schema work).
//
//   - The route is found with a ServeMux built from the server's own route
//     table, so a route the server serves but the spec lacks is a violation,
//     and a path the server does not serve must get the error body of an
//     unmatched request (401, 404 or 405).
//   - Responses are always validated: the status must be one the operation
//     documents, and the body and documented headers must match. SSE
//     responses (text/event-stream) are checked for status and headers only.
//   - Requests are validated when the server accepted them (2xx): a test that
//     sends bad input on purpose gets a 4xx, whose request is not checked.
//     Requests the server accepts although the spec forbids them are marked
//     with BadInput (or the HeaderBadInput header) by tests that send them
//     on purpose.
//
// Non-streaming responses are buffered until validated, so when a client
// has the answer, its verdict is known: Do reports a violation to the test
// that made the exchange. Exchanges made with other clients (pkg/client, raw
// net/http) are reported to the test that started the instance.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/luma-db/luma/docs"
	"github.com/luma-db/luma/internal/httpapi"
)

// HeaderBadInput marks a request as intentionally invalid: the contract
// check validates its response but not the request itself. Instance.BadInput
// sets it; tests using another client may send it themselves.
const HeaderBadInput = "X-Servertest-Bad-Input"

// headerExchange carries Do's exchange id so that a violation is reported to
// the test that made the exchange.
const headerExchange = "X-Servertest-Exchange"

var (
	specOnce sync.Once
	spec     *openapi3.T
	specErr  error
)

// loadSpec parses and validates the embedded docs/openapi.yaml once.
func loadSpec() (*openapi3.T, error) {
	specOnce.Do(func() {
		// Text answers other than JSON: compared as strings.
		openapi3filter.RegisterBodyDecoder("text/yaml", openapi3filter.PlainBodyDecoder)
		for _, ct := range []string{"text/html", "text/css", "text/javascript", "image/svg+xml"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		}
		loader := openapi3.NewLoader()
		s, err := loader.LoadFromData(docs.OpenAPI)
		if err != nil {
			specErr = fmt.Errorf("docs/openapi.yaml does not parse: %w", err)
			return
		}
		if err := s.Validate(loader.Context); err != nil {
			specErr = fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %w", err)
			return
		}
		spec = s
	})
	return spec, specErr
}

// contract validates exchanges against the spec.
type contract struct {
	spec   *openapi3.T
	routes *http.ServeMux // the server's routes; handlers record the match
	errSch *openapi3.Schema

	report func(string) // violations of exchanges not made by Do

	nextID atomic.Uint64
	mu     sync.Mutex
	byID   map[string]string // exchange id → violation, until Do takes it
}

type routeMatch struct {
	method, path string
	params       map[string]string
}

type matchKey struct{}

var wildcard = regexp.MustCompile(`\{([^}.]+)(\.\.\.)?\}`)

func newContract(s *openapi3.T, table []httpapi.RouteInfo, report func(string)) *contract {
	c := &contract{spec: s, routes: http.NewServeMux(), report: report, byID: map[string]string{}}
	if ref := s.Components.Schemas["Error"]; ref != nil {
		c.errSch = ref.Value
	}
	for _, rt := range table {
		var names []string
		for _, m := range wildcard.FindAllStringSubmatch(rt.Path, -1) {
			names = append(names, m[1])
		}
		method, path := rt.Method, rt.Path
		pattern := path
		if strings.HasSuffix(pattern, "/") {
			pattern += "{$}" // RouteInfo drops it; "/" alone would match every path
		}
		c.routes.HandleFunc(method+" "+pattern, func(_ http.ResponseWriter, r *http.Request) {
			m := r.Context().Value(matchKey{}).(*routeMatch)
			m.method, m.path, m.params = method, path, map[string]string{}
			for _, n := range names {
				m.params[n] = r.PathValue(n)
			}
		})
	}
	return c
}

// match finds the server route a request reaches (ok false: none).
func (c *contract) match(r *http.Request) (routeMatch, bool) {
	m := &routeMatch{}
	probe := r.Clone(context.WithValue(r.Context(), matchKey{}, m))
	probe.Body = http.NoBody
	if _, pattern := c.routes.Handler(probe); pattern == "" {
		return routeMatch{}, false
	}
	c.routes.ServeHTTP(discard{}, probe)
	return *m, m.path != ""
}

// take returns and forgets the violation of exchange id.
func (c *contract) take(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.byID[id]
	delete(c.byID, id)
	return v
}

// wrap puts the check in front of next.
func (c *contract) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(headerExchange)
		badInput := r.Header.Get(HeaderBadInput) != ""
		r.Header.Del(headerExchange)
		r.Header.Del(HeaderBadInput)
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				return // the client went away
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		ex := &exchange{c: c, w: w, req: r, reqBody: body, badInput: badInput, header: http.Header{}}
		next.ServeHTTP(ex, r)
		if ex.streaming {
			c.record(id, ex.verdict)
			return
		}
		if !ex.wroteHeader {
			ex.status = http.StatusOK
		}
		c.record(id, c.check(r, body, badInput, ex.status, ex.header, ex.buf.Bytes(), false))
		ex.flushTo(w)
	})
}

func (c *contract) record(id, violation string) {
	if violation == "" {
		return
	}
	if id != "" {
		c.mu.Lock()
		c.byID[id] = violation
		c.mu.Unlock()
		return
	}
	c.report(violation)
}

// check validates one exchange and describes what is wrong ("" if nothing).
// headersOnly skips the response body (SSE).
func (c *contract) check(r *http.Request, reqBody []byte, badInput bool, status int, header http.Header, body []byte, headersOnly bool) string {
	fail := func(format string, args ...any) string {
		return fmt.Sprintf("contract (docs/openapi.yaml): %s %s → %d: %s", r.Method, r.URL.RequestURI(), status, fmt.Sprintf(format, args...))
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		return "" // CORS preflight, answered before routing
	}
	m, ok := c.match(r)
	if !ok {
		// No server route: only the unmatched answers are possible.
		if status != http.StatusUnauthorized && status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fail("no server route matches, yet the status is not 401, 404 or 405")
		}
		if err := c.errorBody(header, body); err != "" {
			return fail("%s", err)
		}
		return ""
	}
	item := c.spec.Paths.Value(m.path)
	var op *openapi3.Operation
	if item != nil {
		op = item.GetOperation(m.method)
	}
	if op == nil {
		return fail("the server route %s %s is not in the spec", m.method, m.path)
	}
	route := &routers.Route{Spec: c.spec, Path: m.path, PathItem: item, Method: m.method, Operation: op}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		ExcludeResponseBody:   headersOnly,
		SkipSettingDefaults:   true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	// Validate a copy of the request: the server has already read the original.
	vr := r.Clone(r.Context())
	vr.Method = m.method // HEAD is served by GET routes
	if len(reqBody) > 0 {
		vr.Body = io.NopCloser(bytes.NewReader(reqBody))
		if vr.Header.Get("Content-Type") == "" {
			vr.Header.Set("Content-Type", "application/json") // CONTRACT.md §9 #7
		}
	} else {
		vr.Body = http.NoBody
	}
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: m.params, Route: route, Options: opts}

	resp, declared := op.Responses.Status(status), true
	if resp == nil {
		resp, declared = op.Responses.Default(), false
	}
	if resp == nil {
		return fail("status %d is not documented for %s %s", status, m.method, m.path)
	}
	if declared && !headersOnly && len(resp.Value.Content) == 0 && len(body) > 0 {
		return fail("the spec documents no body for status %d, got %s", status, clip(body))
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		return fail("response: %s; body %s", describe(err), clip(body))
	}
	if status >= 200 && status < 300 && !badInput {
		// JSON numbers beyond float64 (1e999) are valid JSON the server
		// keeps as sent, but the validator cannot represent them: such a
		// body is not checked.
		opts.ExcludeRequestBody = hugeNumber(reqBody)
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fail("request (accepted by the server): %s; body %s", describe(err), clip(reqBody))
		}
	}
	return ""
}

// errorBody checks the contract's error body {"error", "message"}.
func (c *contract) errorBody(header http.Header, body []byte) string {
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/json" {
		return fmt.Sprintf("error answer with content type %q, want application/json", header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Sprintf("error body is not JSON: %v", err)
	}
	if c.errSch != nil {
		if err := c.errSch.VisitJSON(v); err != nil {
			return "error body: " + describe(err)
		}
	}
	return ""
}

// describe shortens kin-openapi errors to the field and the reason.
func describe(err error) string {
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		where := "body"
		if re.Parameter != nil {
			where = fmt.Sprintf("parameter %q in %s", re.Parameter.Name, re.Parameter.In)
		}
		switch {
		case re.Err != nil && re.Reason != "":
			return where + ": " + re.Reason + ": " + describe(re.Err)
		case re.Err != nil:
			return where + ": " + describe(re.Err)
		}
		return where + ": " + re.Reason
	}
	var rse *openapi3filter.ResponseError
	if errors.As(err, &rse) && rse.Err != nil {
		if rse.Reason != "" {
			return rse.Reason + ": " + describe(rse.Err)
		}
		return describe(rse.Err)
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		where := "/" + strings.Join(se.JSONPointer(), "/")
		msg := fmt.Sprintf("at %s: %s (value %s)", where, se.Reason, clip(mustJSON(se.Value)))
		if se.Origin != nil {
			msg += " because " + describe(se.Origin)
		}
		return msg
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		parts := make([]string, 0, len(me))
		for _, e := range me {
			parts = append(parts, describe(e))
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}

// hugeNumber reports whether a JSON body holds a number float64 cannot hold.
func hugeNumber(body []byte) bool {
	if len(body) == 0 {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if n, ok := tok.(json.Number); ok {
			if _, err := n.Float64(); err != nil {
				return true
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprint(v))
	}
	return b
}

func clip(b []byte) string {
	const max = 300
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}

// exchange records a handler's answer: buffered until validated, or passed
// through once it turns out to be an SSE stream.
type exchange struct {
	c        *contract
	w        http.ResponseWriter
	req      *http.Request
	reqBody  []byte
	badInput bool

	header      http.Header
	status      int
	wroteHeader bool
	buf         bytes.Buffer
	streaming   bool
	verdict     string // streaming: the header check
}

func (e *exchange) Header() http.Header {
	if e.streaming {
		return e.w.Header()
	}
	return e.header
}

func (e *exchange) WriteHeader(code int) {
	if e.wroteHeader {
		return
	}
	e.wroteHeader, e.status = true, code
	if mt, _, _ := mime.ParseMediaType(e.header.Get("Content-Type")); mt == "text/event-stream" {
		e.streaming = true
		e.verdict = e.c.check(e.req, e.reqBody, e.badInput, code, e.header, nil, true)
		copyHeader(e.w.Header(), e.header)
		e.w.WriteHeader(code)
	}
}

func (e *exchange) Write(p []byte) (int, error) {
	if !e.wroteHeader {
		e.WriteHeader(http.StatusOK)
	}
	if e.streaming {
		return e.w.Write(p)
	}
	return e.buf.Write(p)
}

// FlushError passes flushes through once streaming; buffered answers are
// flushed when complete.
func (e *exchange) FlushError() error {
	if e.streaming {
		return http.NewResponseController(e.w).Flush()
	}
	return nil
}

// Unwrap lets http.ResponseController reach deadlines.
func (e *exchange) Unwrap() http.ResponseWriter { return e.w }

func (e *exchange) flushTo(w http.ResponseWriter) {
	copyHeader(w.Header(), e.header)
	w.WriteHeader(e.status)
	_, _ = w.Write(e.buf.Bytes())
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = slices.Clone(v)
	}
}

// discard is the ResponseWriter of route probes.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}

// reporter sends violations of exchanges made outside Do to t: at once for
// tests and benchmarks, at the end for fuzz targets (whose F must not be
// used inside the fuzz function).
type reporter struct {
	t       testing.TB
	mu      sync.Mutex
	pending []string
}

func (rp *reporter) report(v string) {
	if _, ok := rp.t.(*testing.F); !ok {
		rp.t.Errorf("%s", v)
		return
	}
	rp.mu.Lock()
	rp.pending = append(rp.pending, v)
	rp.mu.Unlock()
}

func (rp *reporter) flush() {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for _, v := range rp.pending {
		rp.t.Errorf("%s", v)
	}
	rp.pending = nil
}
