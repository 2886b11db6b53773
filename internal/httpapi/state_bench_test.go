package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/server/servertest"
)

// BenchmarkStateHandlers runs PUT and GET /v1/state/{key} through the
// server's handler, without a network (in-memory store, so no fsync): the
// CPU and allocations of Luma's own request path, which bench/loadbench
// measures end to end.
//
//	go test -run NONE -bench StateHandlers -benchmem ./internal/httpapi
func BenchmarkStateHandlers(b *testing.B) {
	in := servertest.Start(b, servertest.Config(b, "--logs", "error"))
	h := in.App.Handler()
	body := []byte(`{"value":"` + strings.Repeat("x", 98) + `"}`)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("/v1/state/lb:100:%d", i)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, keys[i], bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatalf("preload: %d %s", rec.Code, rec.Body)
		}
	}
	run := func(method string, body []byte) func(*testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					var rd io.Reader
					if body != nil {
						rd = bytes.NewReader(body)
					}
					req := httptest.NewRequest(method, keys[i%len(keys)], rd)
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: %d %s", method, rec.Code, rec.Body)
					}
					i++
				}
			})
		}
	}
	b.Run("put", run(http.MethodPut, body))
	b.Run("get", run(http.MethodGet, nil))
}
