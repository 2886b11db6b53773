package httpapi

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/luma-db/luma/docs"
)

func (s *Server) systemRoutes() []route {
	return []route{
		{method: "GET", pattern: "/v1/health", access: accessPublic, handler: s.health},
		{method: "GET", pattern: "/v1/metrics", access: accessRead, handler: s.metrics},
		{method: "GET", pattern: "/metrics", access: accessRead, handler: s.metrics},
		{method: "GET", pattern: "/openapi.yaml", access: accessPublic, handler: s.openapi},
		{method: "GET", pattern: "/docs/openapi.yaml", access: accessPublic, handler: s.openapi},
	}
}

type healthResponse struct {
	Status     string `json:"status"`
	Version    string `json:"version"`
	UptimeSecs uint64 `json:"uptime_secs"`
	// Luma additions.
	LastOffset     uint64 `json:"last_offset"`
	RetentionFloor uint64 `json:"retention_floor"`
	Auth           bool   `json:"auth"`
}

// GET /v1/health: always public; answers while the server can serve.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, healthResponse{
		Status:         "ok",
		Version:        s.d.Version,
		UptimeSecs:     uint64(time.Since(s.d.Started).Seconds()),
		LastOffset:     s.d.DB.LastOffset(),
		RetentionFloor: s.d.DB.Floor(),
		Auth:           s.d.Auth.Enabled(),
	})
	return nil
}

// GET /v1/metrics and /metrics: Prometheus text format.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	var g prometheus.Gatherer = prometheus.NewRegistry()
	if s.d.Metrics != nil {
		g = s.d.Metrics.Registry
	}
	mfs, err := g.Gather()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil // headers are out; nothing more to say
		}
	}
	return nil
}

// GET /openapi.yaml: the embedded canonical spec.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/yaml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(docs.OpenAPI)
	return nil
}
