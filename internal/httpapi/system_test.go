package httpapi_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/luma-db/luma/docs"
	"github.com/luma-db/luma/internal/server/servertest"
)

func TestHealth(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	m := in.MustStatus(200, "GET", "/v1/health", nil).Map(t)
	for _, k := range []string{"status", "version", "uptime_secs"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("health lacks %s: %v", k, m)
		}
	}
	if m["status"] != "ok" {
		t.Fatalf("health %v", m)
	}
}

func TestMetricsSeries(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	put(t, in, "a", 1)
	in.MustStatus(200, "DELETE", "/v1/state/a", nil)
	for _, path := range []string{"/v1/metrics", "/metrics"} {
		r := in.MustStatus(200, "GET", path, nil)
		if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Fatalf("content type %q", ct)
		}
		body := string(r.Body)
		for _, want := range []string{
			"# TYPE state_put_total counter\nstate_put_total 1\n",
			"# TYPE state_delete_total counter\nstate_delete_total 1\n",
			"# TYPE vector_ops_total counter\n",
			"# TYPE events_total counter\nevents_total 2\n",
			"# TYPE sse_clients gauge\nsse_clients 0\n",
			"luma_http_requests_total{code=\"200\",method=\"PUT\",route=\"/v1/state/{key}\"} 1",
			"luma_commit_sync_seconds_bucket",
			"luma_commit_group_requests_bucket",
			"luma_last_offset 2",
			"luma_retention_floor 1",
			"luma_stream_subscribers 0",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	for _, p := range []string{"/openapi.yaml", "/docs/openapi.yaml"} {
		r := in.MustStatus(200, "GET", p, nil)
		if r.Header.Get("Content-Type") != "text/yaml; charset=utf-8" || string(r.Body) != string(docs.OpenAPI) {
			t.Fatalf("%s: %q", p, r.Header.Get("Content-Type"))
		}
	}
}

// TestOpenAPIMatchesRoutes: the spec describes exactly the routes the
// server registers, method by method.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(docs.OpenAPI)
	if err != nil {
		t.Fatalf("docs/openapi.yaml does not parse: %v", err)
	}
	if err := spec.Validate(loader.Context); err != nil {
		t.Fatalf("docs/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	specRoutes := map[string]bool{}
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			specRoutes[strings.ToUpper(method)+" "+path] = true
		}
	}
	in := servertest.Start(t, servertest.Config(t))
	serverRoutes := map[string]bool{}
	for _, r := range in.App.HTTP.Routes() {
		serverRoutes[r.Method+" "+r.Path] = true
	}
	var missing, extra []string
	for r := range serverRoutes {
		if !specRoutes[r] {
			missing = append(missing, r)
		}
	}
	for r := range specRoutes {
		if !serverRoutes[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from docs/openapi.yaml: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("docs/openapi.yaml describes routes the server lacks: %v", extra)
	}
	_ = http.MethodGet
}
