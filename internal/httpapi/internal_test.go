package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/config"
)

func bareServer(timeout time.Duration) *Server {
	return &Server{
		d:   Deps{Config: &config.Config{RequestTimeout: timeout, MaxBodyBytes: 1 << 20}},
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func TestRequestTimeoutIs408(t *testing.T) {
	s := bareServer(30 * time.Millisecond)
	release := make(chan struct{})
	defer close(release)
	h := s.wrap(&route{method: "GET", pattern: "/slow", access: accessPublic, handler: func(w http.ResponseWriter, r *http.Request) error {
		// Domain calls give up with the context's error, as the committer
		// and SQL do when the deadline passes.
		select {
		case <-release:
			writeJSON(w, 200, map[string]string{"late": "yes"})
			return nil
		case <-r.Context().Done():
			return r.Context().Err()
		}
	}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/slow", nil))
	if rec.Code != http.StatusRequestTimeout || !strings.Contains(rec.Body.String(), `"error":"timeout"`) {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}

func TestPanicIs500AndLogged(t *testing.T) {
	s := bareServer(time.Second)
	h := s.wrap(&route{method: "GET", pattern: "/boom", access: accessPublic, handler: func(w http.ResponseWriter, r *http.Request) error {
		panic("boom")
	}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"error":"internal"`) {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}

// FuzzStreamParams: any query string and Last-Event-ID either parse or give
// a 400 invalid_argument; never a panic.
func FuzzStreamParams(f *testing.F) {
	f.Add("since=5&types=a,b&key_prefix=x&collection=c", "7", false)
	f.Add("since=-1", "", false)
	f.Add("prefix=%zz&since=18446744073709551616", "abc", true)
	f.Add("types=,,,&key_prefix=", "", false)
	f.Fuzz(func(t *testing.T, query, lastID string, legacy bool) {
		r := httptest.NewRequest("GET", "/v1/stream", nil)
		r.URL.RawQuery = query
		if lastID != "" {
			r.Header.Set("Last-Event-ID", lastID)
		}
		p, err := parseStreamParams(r, legacy)
		if err != nil {
			ae, ok := err.(*apiError)
			if !ok || ae.Status != 400 || ae.Code != codeInvalidArgument {
				t.Fatalf("error %v is not a 400 invalid_argument", err)
			}
			return
		}
		q, _ := url.ParseQuery(query)
		if legacy && p.filter.Collection != "" {
			t.Fatal("legacy stream must ignore collection")
		}
		if !legacy && q.Get("collection") != p.filter.Collection {
			t.Fatalf("collection %q vs %q", p.filter.Collection, q.Get("collection"))
		}
	})
}
