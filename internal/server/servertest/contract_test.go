package servertest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/luma-db/luma/internal/httpapi"
)

// A small spec and handler exercise the check itself; the real spec is
// exercised by every HTTP test.
const testSpec = `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /items/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    put:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [n]
              properties:
                n: {type: integer}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [id, n]
                properties:
                  id: {type: string}
                  n: {type: integer}
        "400":
          description: bad
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
  /events:
    get:
      responses:
        "200":
          description: stream
          content:
            text/event-stream:
              schema: {type: string}
components:
  schemas:
    Error:
      type: object
      required: [error, message]
      properties:
        error: {type: string}
        message: {type: string}
`

// checkedServer serves a small handler behind the check of testSpec;
// violations of exchanges made outside Do land in the returned list.
func checkedServer(t *testing.T) (*contract, *httptest.Server, func() []string) {
	loader := openapi3.NewLoader()
	s, err := loader.LoadFromData([]byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(loader.Context); err != nil {
		t.Fatal(err)
	}
	// The server's answers are steered by the request's query.
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("answer") {
		case "bad-body":
			_, _ = io.WriteString(w, `{"id":"x","n":"one"}`)
		case "undocumented":
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, `{"error":"teapot","message":"no"}`)
		case "400":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_argument","message":"bad"}`)
		default:
			_, _ = io.WriteString(w, `{"id":"`+r.PathValue("id")+`","n":1}`)
		}
	})
	mux.HandleFunc("GET /hidden", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "event:x\ndata:{}\n\n")
		http.NewResponseController(w).Flush()
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":"not_found","message":"no route"}`)
	})
	var mu sync.Mutex
	var got []string
	c := newContract(s, []httpapi.RouteInfo{
		{Method: "PUT", Path: "/items/{id}"}, {Method: "GET", Path: "/hidden"}, {Method: "GET", Path: "/events"},
	}, func(v string) { mu.Lock(); got = append(got, v); mu.Unlock() })
	srv := httptest.NewServer(c.wrap(mux))
	t.Cleanup(srv.Close)
	return c, srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		v := got
		got = nil
		return v
	}
}

func TestContractCheck(t *testing.T) {
	_, srv, violations := checkedServer(t)
	for _, tc := range []struct {
		name, method, path, body string
		header                   string
		want                     string // substring of the violation, "" = none
	}{
		{"valid", "PUT", "/items/a%2Fb", `{"n":1}`, "", ""},
		{"response body", "PUT", "/items/a?answer=bad-body", `{"n":1}`, "", "at /n"},
		{"undocumented status", "PUT", "/items/a?answer=undocumented", `{"n":1}`, "", "status 418 is not documented"},
		{"accepted bad request", "PUT", "/items/a", `{"n":"x"}`, "", "request (accepted by the server)"},
		{"marked bad request", "PUT", "/items/a", `{"n":"x"}`, HeaderBadInput + ": 1", ""},
		{"rejected bad request", "PUT", "/items/a?answer=400", `{"n":"x"}`, "", ""},
		{"route missing from spec", "GET", "/hidden", "", "", "is not in the spec"},
		{"no route", "GET", "/nowhere", "", "", ""},
		{"sse headers", "GET", "/events", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			violations()
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if tc.header != "" {
				k, v, _ := strings.Cut(tc.header, ":")
				req.Header.Set(k, strings.TrimSpace(v))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.path == "/events" && !strings.Contains(string(b), "event:x") {
				t.Fatalf("stream body not passed through: %q", b)
			}
			got := violations()
			switch {
			case tc.want == "" && len(got) > 0:
				t.Fatalf("unexpected violation: %v", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Fatalf("violations %v, want one containing %q", got, tc.want)
			}
		})
	}
}

// TestInstanceDo: Do hands a violation to the test that made the exchange
// (not to the instance's reporter); BadInput views skip request validation.
func TestInstanceDo(t *testing.T) {
	c, srv, violations := checkedServer(t)
	ft := &fakeT{TB: t}
	in := &Instance{t: ft, URL: srv.URL, contract: c}
	in.MustStatus(200, "PUT", "/items/a", map[string]any{"n": "x"})
	if len(ft.errs) != 1 || !strings.Contains(ft.errs[0], "PUT /items/a → 200: request (accepted by the server): body") {
		t.Fatalf("violations reported to the caller: %q", ft.errs)
	}
	ft.errs = nil
	in.BadInput().MustStatus(200, "PUT", "/items/a", map[string]any{"n": "x"})
	in.MustStatus(200, "PUT", "/items/a", map[string]any{"n": 2})
	if len(ft.errs) != 0 {
		t.Fatalf("unexpected violations: %q", ft.errs)
	}
	if v := violations(); len(v) != 0 {
		t.Fatalf("Do's violations went to the reporter: %q", v)
	}
}

type fakeT struct {
	testing.TB
	errs []string
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Helper() {}
