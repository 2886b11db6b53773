package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/luma-db/luma/internal/server/servertest"
)

// scenario is one HTTP exchange and what must come back.
type scenario struct {
	name    string
	method  string
	path    string
	body    any
	headers []string
	status  int
	code    string // error code, for error answers
	contain []string
	// writes: events the request must append (0 for every failure).
	writes int
}

func run(t *testing.T, in *servertest.Instance, scs []scenario) {
	t.Helper()
	for _, sc := range scs {
		t.Run(sc.name, func(t *testing.T) {
			before := in.App.DB.LastOffset()
			r := in.Do(sc.method, sc.path, sc.body, sc.headers...)
			if r.Status != sc.status {
				t.Fatalf("status %d, want %d; body %s", r.Status, sc.status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); (sc.code != "" || r.Status >= 400) && !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
			if sc.code != "" {
				m := r.Map(t)
				if m["error"] != sc.code {
					t.Fatalf("error code %v, want %s; body %s", m["error"], sc.code, r.Body)
				}
				if msg, _ := m["message"].(string); msg == "" {
					t.Fatalf("error without message: %s", r.Body)
				}
			}
			for _, c := range sc.contain {
				if !strings.Contains(string(r.Body), c) {
					t.Fatalf("body %s does not contain %s", r.Body, c)
				}
			}
			if got := in.App.DB.LastOffset() - before; got != uint64(sc.writes) {
				t.Fatalf("request appended %d events, want %d", got, sc.writes)
			}
		})
	}
}

func TestStateRoutes(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	in.MustStatus(200, "PUT", "/v1/state/existing", map[string]any{"value": 1})
	long := strings.Repeat("k", 513)
	run(t, in, []scenario{
		{name: "put", method: "PUT", path: "/v1/state/a", body: `{"value":{"x":1}}`, status: 200, contain: []string{`"key":"a"`, `"revision":1`, `"expires_at_ms":null`}, writes: 1},
		{name: "put null value", method: "PUT", path: "/v1/state/n", body: `{"value":null}`, status: 200, writes: 1},
		{name: "put ttl", method: "PUT", path: "/v1/state/t", body: `{"value":1,"ttl_ms":60000}`, status: 200, contain: []string{`"expires_at_ms":1`}, writes: 1},
		{name: "put unknown fields ignored", method: "PUT", path: "/v1/state/u", body: `{"value":1,"extra":true,"ttl_ms":null}`, status: 200, writes: 1},
		{name: "get", method: "GET", path: "/v1/state/a", status: 200, contain: []string{`"value":{"x":1}`, `"revision":1`}},
		{name: "get percent-encoded slash", method: "PUT", path: "/v1/state/dir%2Fkey", body: `{"value":1}`, status: 200, contain: []string{`"key":"dir/key"`}, writes: 1},
		{name: "get missing", method: "GET", path: "/v1/state/nope", status: 404, code: "not_found", contain: []string{"key not found"}},
		{name: "put missing value", method: "PUT", path: "/v1/state/a", body: `{"ttl_ms":5}`, status: 422, code: "invalid_argument"},
		{name: "put malformed json", method: "PUT", path: "/v1/state/a", body: `{"value":`, status: 400, code: "invalid_argument"},
		{name: "put empty body", method: "PUT", path: "/v1/state/a", body: ``, status: 400, code: "invalid_argument"},
		{name: "put wrong type", method: "PUT", path: "/v1/state/a", body: `{"value":1,"ttl_ms":"soon"}`, status: 422, code: "invalid_argument", contain: []string{"ttl_ms"}},
		{name: "put negative ttl", method: "PUT", path: "/v1/state/a", body: `{"value":1,"ttl_ms":-1}`, status: 422, code: "invalid_argument"},
		{name: "put body is array", method: "PUT", path: "/v1/state/a", body: `[1]`, status: 422, code: "invalid_argument"},
		{name: "put key too long", method: "PUT", path: "/v1/state/" + long, body: `{"value":1}`, status: 400, code: "invalid_argument", contain: []string{"key too long"}},
		{name: "get key too long", method: "GET", path: "/v1/state/" + long, status: 400, code: "invalid_argument", contain: []string{"key too long"}},
		{name: "put invalid utf8 key", method: "PUT", path: "/v1/state/%FF", body: `{"value":1}`, status: 400, code: "invalid_argument"},
		{name: "put cas mismatch", method: "PUT", path: "/v1/state/existing", body: `{"value":2,"if_revision":9}`, status: 409, code: "revision_mismatch", contain: []string{"if_revision mismatch"}},
		{name: "put cas on absent", method: "PUT", path: "/v1/state/absent", body: `{"value":2,"if_revision":1}`, status: 409, code: "revision_mismatch"},
		{name: "put cas match", method: "PUT", path: "/v1/state/existing", body: `{"value":2,"if_revision":1}`, status: 200, contain: []string{`"revision":2`}, writes: 1},
		{name: "put non-json content type", method: "PUT", path: "/v1/state/a", body: `{"value":1}`, headers: []string{"Content-Type: text/html"}, status: 415, code: "unsupported_media_type"},
		{name: "delete cas mismatch", method: "DELETE", path: "/v1/state/existing?if_revision=1", status: 409, code: "revision_mismatch"},
		{name: "delete bad cas", method: "DELETE", path: "/v1/state/existing?if_revision=x", status: 400, code: "invalid_argument"},
		{name: "delete", method: "DELETE", path: "/v1/state/existing?if_revision=2", status: 200, contain: []string{`{"deleted":true}`}, writes: 1},
		{name: "delete absent", method: "DELETE", path: "/v1/state/existing", status: 200, contain: []string{`{"deleted":false}`}},
		{name: "batch_put literal wins on GET", method: "GET", path: "/v1/state/batch_put", status: 405, code: "method_not_allowed"},
		{name: "batch_put literal wins on PUT", method: "PUT", path: "/v1/state/batch_put", body: `{"value":1}`, status: 405, code: "method_not_allowed"},
		{name: "unknown method", method: "PATCH", path: "/v1/state/a", status: 405, code: "method_not_allowed"},
		{name: "list", method: "GET", path: "/v1/state?prefix=a", status: 200, contain: []string{`[{"key":"a"`}},
		{name: "list bad limit", method: "GET", path: "/v1/state?limit=abc", status: 400, code: "invalid_argument"},
		{name: "list negative limit", method: "GET", path: "/v1/state?limit=-1", status: 400, code: "invalid_argument"},
		{name: "list prefix too long", method: "GET", path: "/v1/state?prefix=" + long, status: 400, code: "invalid_argument", contain: []string{"prefix too long"}},
		{name: "unknown route", method: "GET", path: "/v1/nope", status: 404, code: "not_found"},
	})
}

func TestStateBatchPutRoute(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	in.MustStatus(200, "PUT", "/v1/state/a", map[string]any{"value": 1})
	many := make([]map[string]any, 257)
	for i := range many {
		many[i] = map[string]any{"key": fmt.Sprint("k", i), "value": i}
	}
	run(t, in, []scenario{
		{name: "ok", method: "POST", path: "/v1/state/batch_put", body: `{"operations":[{"key":"x","value":1},{"key":"a","value":2,"if_revision":1,"ttl_ms":1000}]}`,
			status: 200, contain: []string{`{"status":"ok","key":"x","revision":1,"expires_at_ms":null}`, `"key":"a","revision":2`}, writes: 2},
		{name: "cas failure is atomic", method: "POST", path: "/v1/state/batch_put", body: `{"operations":[{"key":"y","value":1},{"key":"a","value":3,"if_revision":1}]}`,
			status: 409, code: "revision_mismatch", contain: []string{`"status":"skipped","key":"y"`, `"status":"error","key":"a"`, "batch not applied"}},
		{name: "value too large", method: "POST", path: "/v1/state/batch_put", body: `{"operations":[{"key":"","value":1}]}`, status: 400, code: "invalid_argument"},
		{name: "empty", method: "POST", path: "/v1/state/batch_put", body: `{"operations":[]}`, status: 400, code: "invalid_argument", contain: []string{"operations required"}},
		{name: "missing operations", method: "POST", path: "/v1/state/batch_put", body: `{}`, status: 400, code: "invalid_argument", contain: []string{"operations required"}},
		{name: "too many", method: "POST", path: "/v1/state/batch_put", body: map[string]any{"operations": many}, status: 400, code: "invalid_argument", contain: []string{"too many operations"}},
		{name: "missing key", method: "POST", path: "/v1/state/batch_put", body: `{"operations":[{"value":1}]}`, status: 422, code: "invalid_argument"},
		{name: "missing value", method: "POST", path: "/v1/state/batch_put", body: `{"operations":[{"key":"z"}]}`, status: 422, code: "invalid_argument"},
	})
	if r := in.Do("GET", "/v1/state/y", nil); r.Status != 404 {
		t.Fatalf("key of a failed batch exists: %d %s", r.Status, r.Body)
	}
}

func TestStateListPaging(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	for i := 0; i < 25; i++ {
		in.MustStatus(200, "PUT", fmt.Sprintf("/v1/state/p:%02d", i), map[string]any{"value": i})
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		r := in.MustStatus(200, "GET", "/v1/state?prefix=p:&limit=10&cursor="+cursor, nil)
		var items []struct{ Key string }
		r.JSON(t, &items)
		for _, it := range items {
			seen = append(seen, it.Key)
		}
		cursor = r.Header.Get("X-Next-Cursor")
		if cursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 25 || seen[0] != "p:00" || seen[24] != "p:24" {
		t.Fatalf("paged keys %v", seen)
	}
	// limit=0 is clamped to 1; limit above 1000 to 1000.
	var items []any
	in.MustStatus(200, "GET", "/v1/state?limit=0", nil).JSON(t, &items)
	if len(items) != 1 {
		t.Fatalf("limit=0 gave %d items", len(items))
	}
}

// N goroutines increment one key with CAS over HTTP: exactly N increments.
func TestStateCASConcurrencyOverHTTP(t *testing.T) {
	in := servertest.Start(t, servertest.DiskConfig(t, t.TempDir()))
	in.MustStatus(200, "PUT", "/v1/state/ctr", map[string]any{"value": 0})
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				var it struct {
					Value    int
					Revision uint64
				}
				r := in.Do("GET", "/v1/state/ctr", nil)
				if r.Status != 200 {
					t.Errorf("get %d", r.Status)
					return
				}
				r.JSON(t, &it)
				r = in.Do("PUT", "/v1/state/ctr", map[string]any{"value": it.Value + 1, "if_revision": it.Revision})
				switch r.Status {
				case http.StatusOK:
					done++
				case http.StatusConflict:
				default:
					t.Errorf("put %d %s", r.Status, r.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	m := in.MustStatus(200, "GET", "/v1/state/ctr", nil).Map(t)
	if m["value"].(float64) != workers*each {
		t.Fatalf("counter %v, want %d", m["value"], workers*each)
	}
}

func TestBodyLimit(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--max-body-mb", "0.001", "--max-json-mb", "0.0005"))
	big := `{"value":"` + strings.Repeat("x", 2000) + `"}`
	run(t, in, []scenario{
		{name: "body too large", method: "PUT", path: "/v1/state/a", body: big, status: 413, code: "payload_too_large"},
		{name: "value too large", method: "PUT", path: "/v1/state/a", body: `{"value":"` + strings.Repeat("x", 600) + `"}`, status: 413, code: "payload_too_large", contain: []string{"value too large"}},
	})
}
