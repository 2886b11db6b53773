// Package httpapi is Luma's HTTP surface: routes, request decoding, error
// mapping and middleware. Handlers hold no business logic: they decode,
// validate the wire shape, call a domain package and encode the answer.
// Every error leaves through one function (Server.toAPIError) so the
// contract's codes and statuses live in one place (errors.go).
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/luma-db/luma/internal/auth"
	"github.com/luma-db/luma/internal/config"
	"github.com/luma-db/luma/internal/docstore"
	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/metrics"
	"github.com/luma-db/luma/internal/query"
	"github.com/luma-db/luma/internal/sqlstore"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
	"github.com/luma-db/luma/internal/vector"
	"github.com/luma-db/luma/internal/vector/corpus"
)

// Deps are the domain services the HTTP layer serves.
type Deps struct {
	Config  *config.Config
	DB      *storage.DB
	Hub     *events.Hub
	State   *state.Store
	Docs    *docstore.Store
	Auth    *auth.Store
	SQL     *sqlstore.Store // nil when SQLite is disabled
	Vector  *vector.Store
	Corpus  *corpus.Store // the /search corpus
	Query   *query.Engine // POST /v1/query; nil: no route
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	Version string
	Started time.Time
}

// access says who may call a route.
type access uint8

const (
	accessPublic access = iota // no key needed (health, docs, dashboard)
	accessRead                 // any valid key
	accessWrite                // admin or user keys
	accessAdmin                // admin keys only
)

// route is one method + pattern and its handler.
type route struct {
	method  string
	pattern string // net/http pattern path, e.g. /v1/state/{key}
	access  access
	stream  bool // long-lived response: no timeout, no latency histogram
	handler func(w http.ResponseWriter, r *http.Request) error
}

// RouteInfo describes a registered route (for the OpenAPI check).
type RouteInfo struct {
	Method, Path string
}

// Server is the HTTP handler of one instance.
type Server struct {
	d       Deps
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []route
	mappers []errorMapper
	handler http.Handler

	closing   chan struct{} // closed by Shutdown: long-lived streams end
	closeOnce sync.Once
}

// New builds the server and its routes.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Started.IsZero() {
		d.Started = time.Now()
	}
	s := &Server{d: d, log: d.Logger, mux: http.NewServeMux(), closing: make(chan struct{})}
	s.mappers = []errorMapper{mapCoreError, mapDocError}
	s.routes = slices.Concat(
		s.systemRoutes(),
		s.stateRoutes(),
		s.streamRoutes(),
		s.authRoutes(),
		s.sqlRoutes(),
		s.docRoutes(),
		s.eventsPublishRoutes(),
		s.vectorRoutes(),
		s.searchRoutes(),
		s.queryRoutes(),
		s.uiRoutes(),
	)
	s.mappers = append(s.mappers, mapSQLError, mapVectorError, mapCorpusError, mapQueryError)
	for i := range s.routes {
		rt := &s.routes[i]
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
	}
	s.handler = http.HandlerFunc(s.serveOuter)
	return s
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists every registered route. Path is the route's OpenAPI path:
// the pattern without ServeMux's {$} ("/{$}" is "/").
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, 0, len(s.routes))
	for _, r := range s.routes {
		out = append(out, RouteInfo{Method: r.method, Path: strings.TrimSuffix(r.pattern, "{$}")})
	}
	return out
}

// Shutdown ends long-lived streams so that http.Server.Shutdown can finish.
func (s *Server) Shutdown() { s.closeOnce.Do(func() { close(s.closing) }) }

// methods tried when telling 405 from 404.
var knownMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}

// serveOuter is the outermost layer: panic recovery, request id, CORS
// (outermost, so preflights never need a key: CONTRACT.md §9 #9), and the
// JSON 401/404/405 answers for requests that match no route.
func (s *Server) serveOuter(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("handler panicked", "panic", p, "method", r.Method, "path", r.URL.Path, "stack", string(debug.Stack()))
			writeError(w, newError(http.StatusInternalServerError, codeInternal, "internal error"))
		}
	}()
	rid := r.Header.Get("X-Request-ID")
	if rid == "" || len(rid) > 128 {
		rid = newRequestID()
	}
	w.Header().Set("X-Request-ID", rid)
	if s.cors(w, r) {
		return
	}
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// No route matched. Auth first (the original answers 401 to unknown
	// paths without a key), then 405 if another method would match, else 404.
	if !isExemptPath(r.URL.Path) {
		if _, err := s.authenticate(r); err != nil {
			writeError(w, err)
			s.count("unmatched", r.Method, err.Status)
			return
		}
	}
	var allow []string
	for _, m := range knownMethods {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		e := newError(http.StatusMethodNotAllowed, codeMethodNotAllowed,
			fmt.Sprintf("method %s not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		e.Allow = strings.Join(allow, ", ")
		writeError(w, e)
		s.count("unmatched", r.Method, e.Status)
		return
	}
	writeError(w, errNotFound(fmt.Sprintf("no route for %s %s; see /openapi.yaml for the API", r.Method, r.URL.Path)))
	s.count("unmatched", r.Method, http.StatusNotFound)
}

func (s *Server) count(route, method string, status int) {
	if s.d.Metrics != nil {
		s.d.Metrics.HTTPRequests.WithLabelValues(route, method, itoa(status)).Inc()
	}
}

// cors sets CORS headers and answers preflights. It reports whether the
// request was fully answered.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	allowed := s.d.Config.CORSOrigins == nil || slices.Contains(s.d.Config.CORSOrigins, origin)
	if !allowed {
		return false
	}
	h := w.Header()
	if s.d.Config.CORSOrigins == nil {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	h.Set("Access-Control-Expose-Headers", "X-Request-ID, X-Next-Cursor")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-API-Key, Last-Event-ID, X-Request-ID")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// isExemptPath lists the paths that never need a key (CONTRACT.md §3).
func isExemptPath(p string) bool {
	return p == "/" || p == "/index.html" || strings.HasPrefix(p, "/assets/") || p == "/v1/health" ||
		strings.HasPrefix(p, "/docs") || strings.HasSuffix(p, "openapi.yaml")
}

type principalKey struct{}

// authenticate reads the token as the contract orders it: Authorization
// (must be "Bearer <token>"), then x-api-key, then the api_key query
// parameter (for EventSource, which cannot set headers).
func (s *Server) authenticate(r *http.Request) (auth.Principal, *apiError) {
	if !s.d.Auth.Enabled() {
		return auth.Principal{Name: "local", Role: auth.RoleAdmin}, nil
	}
	unauthorized := func(err error) *apiError {
		return newError(http.StatusUnauthorized, codeUnauthorized, err.Error())
	}
	var token string
	if h, ok := r.Header["Authorization"]; ok {
		v := ""
		if len(h) > 0 {
			v = h[0]
		}
		if !strings.HasPrefix(v, "Bearer ") {
			return auth.Principal{}, unauthorized(auth.ErrBadHeader)
		}
		token = strings.TrimSpace(v[len("Bearer "):])
	} else if v := r.Header.Get("X-Api-Key"); v != "" {
		token = strings.TrimSpace(v)
	} else if v := r.URL.Query().Get("api_key"); v != "" {
		token = v
	} else {
		return auth.Principal{}, unauthorized(auth.ErrMissing)
	}
	p, err := s.d.Auth.Authenticate(token)
	if err != nil {
		return auth.Principal{}, unauthorized(err)
	}
	return p, nil
}

// principal returns the authenticated caller of a request.
func principal(r *http.Request) auth.Principal {
	p, _ := r.Context().Value(principalKey{}).(auth.Principal)
	return p
}

// wrap turns a route into an http.Handler: auth and role check, body limit,
// timeout (408), error mapping, metrics and logging.
func (s *Server) wrap(rt *route) http.Handler {
	rm := s.newRouteMetrics(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panicked", "panic", p, "method", r.Method, "path", r.URL.Path, "stack", string(debug.Stack()))
				if !sw.wrote {
					writeError(sw, newError(http.StatusInternalServerError, codeInternal, "internal error"))
				}
				rm.observe(s, r, sw.status, start)
			}
		}()
		if rt.access != accessPublic {
			p, aerr := s.authenticate(r)
			if aerr == nil {
				aerr = checkRole(p, rt.access)
			}
			if aerr != nil {
				writeError(sw, aerr)
				rm.observe(s, r, sw.status, start)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(sw, r.Body, s.d.Config.MaxBodyBytes)
		}
		var err error
		if rt.stream {
			err = rt.handler(sw, r)
		} else {
			err = s.withTimeout(sw, r, rt.handler)
		}
		if err != nil {
			ae := s.toAPIError(err)
			if ae.Status >= 500 && ae.Status != http.StatusNotImplemented {
				s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", ae.Status, "err", err)
			}
			if !sw.wrote {
				writeError(sw, ae)
			}
		}
		rm.observe(s, r, sw.status, start)
	})
}

func checkRole(p auth.Principal, a access) *apiError {
	switch {
	case a == accessAdmin && !p.IsAdmin():
		return newError(http.StatusForbidden, codeForbidden, "admin role required")
	case a == accessWrite && !p.CanWrite():
		return newError(http.StatusForbidden, codeForbidden, fmt.Sprintf("this key has role %q, which is read-only; use a user or admin key to write", p.Role))
	}
	return nil
}

// routeMetrics holds one route's collectors, resolved once instead of by
// label lookup on every request.
type routeMetrics struct {
	route    string
	method   string
	stream   bool
	duration prometheus.Observer
	counts   sync.Map // status code -> prometheus.Counter
}

func (s *Server) newRouteMetrics(rt *route) *routeMetrics {
	rm := &routeMetrics{route: rt.pattern, method: rt.method, stream: rt.stream}
	if s.d.Metrics != nil && !rt.stream {
		rm.duration = s.d.Metrics.HTTPDuration.WithLabelValues(rt.pattern, rt.method)
	}
	return rm
}

func (rm *routeMetrics) observe(s *Server, r *http.Request, status int, start time.Time) {
	if status == 0 {
		status = http.StatusOK
	}
	d := time.Since(start)
	if m := s.d.Metrics; m != nil {
		c, ok := rm.counts.Load(status)
		if !ok {
			c, _ = rm.counts.LoadOrStore(status, m.HTTPRequests.WithLabelValues(rm.route, rm.method, itoa(status)))
		}
		c.(prometheus.Counter).Inc()
		if rm.duration != nil {
			rm.duration.Observe(d.Seconds())
		}
	}
	if !rm.stream && d > time.Second {
		s.log.Warn("slow request", "method", r.Method, "path", r.URL.Path, "status", status, "duration", d)
	} else if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", status, "duration", d)
	}
}

// withTimeout runs h inline with the request timeout as its context
// deadline. Domain calls observe the deadline (a write not yet taken by the
// committer is dropped, SQL is interrupted, scans stop), and a handler that
// gives up with context.DeadlineExceeded becomes 408. Running inline, rather
// than in a goroutine writing into a buffer, saves a goroutine, a copy of the
// answer and stack growth per request (measured: GET 1.4x; see
// docs/BENCHMARKS.md). A write the committer already took completes and
// answers with its real outcome.
func (s *Server) withTimeout(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request) error) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.d.Config.RequestTimeout)
	defer cancel()
	err := h(w, r.WithContext(ctx))
	if err != nil && errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
		return &apiError{Status: http.StatusRequestTimeout, Code: codeTimeout, cause: err,
			Message: fmt.Sprintf("request took longer than %s (REQUEST_TIMEOUT_SECS); it was not applied unless it had already reached the commit queue", s.d.Config.RequestTimeout)}
	}
	return err
}

// statusWriter records the status code for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var statusText sync.Map // int -> string, avoids strconv allocations per request

func itoa(n int) string {
	if v, ok := statusText.Load(n); ok {
		return v.(string)
	}
	s := fmt.Sprint(n)
	statusText.Store(n, s)
	return s
}

// errMethodNotAllowed is the 405 for a literal path segment that a
// parameter route would otherwise capture (CONTRACT.md §1: state key
// batch_put and doc id find are unreachable).
func errMethodNotAllowed(r *http.Request, allow string) *apiError {
	e := newError(http.StatusMethodNotAllowed, codeMethodNotAllowed,
		fmt.Sprintf("method %s not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
	e.Allow = allow
	return e
}
