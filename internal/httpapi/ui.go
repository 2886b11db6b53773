package httpapi

// The browser side: the dashboard (/, /index.html, /assets/{file}), the API
// reference (/docs, with the spec as JSON inside the page, and
// /docs/openapi.json), and /v1/info, the instance summary the dashboard's
// overview shows. The files are embedded (package web), so both pages work
// offline. The spec is converted from YAML once, keeping key order (paths
// appear as written), and each answer names the requesting host in
// `servers` (CONTRACT.md §4.0).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	yaml "github.com/oasdiff/yaml3"

	"github.com/luma-db/luma/docs"
	"github.com/luma-db/luma/internal/storage"
	"github.com/luma-db/luma/web"
)

func (s *Server) uiRoutes() []route {
	return []route{
		{method: "GET", pattern: "/{$}", access: accessPublic, handler: s.uiIndex},
		{method: "GET", pattern: "/index.html", access: accessPublic, handler: s.uiIndex},
		{method: "GET", pattern: "/assets/{file}", access: accessPublic, handler: s.uiAsset},
		{method: "GET", pattern: "/docs", access: accessPublic, handler: s.apiDocs},
		{method: "GET", pattern: "/docs/openapi.json", access: accessPublic, handler: s.openapiJSON},
		{method: "GET", pattern: "/v1/info", access: accessRead, handler: s.info},
	}
}

// uiCSP keeps the pages to their own origin: no inline scripts, no CDN.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// uiFile is an embedded file ready to serve.
type uiFile struct {
	body  []byte
	etag  string
	ctype string
}

var uiTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// uiFiles reads the embedded files once.
var uiFiles = sync.OnceValues(func() (map[string]uiFile, error) {
	out := map[string]uiFile{}
	err := fs.WalkDir(web.Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Files(), p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct, ok := uiTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		out[p] = uiFile{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ct}
		return nil
	})
	return out, err
})

func serveUIFile(w http.ResponseWriter, r *http.Request, name string) error {
	files, err := uiFiles()
	if err != nil {
		return fmt.Errorf("dashboard files: %w", err)
	}
	f, ok := files[name]
	if !ok {
		return errNotFound(fmt.Sprintf("no dashboard file %q", name))
	}
	h := w.Header()
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache") // revalidate: a new binary may bring new assets
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasSuffix(name, ".html") {
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("Referrer-Policy", "no-referrer")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && match == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", f.ctype)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.body)
	return nil
}

// GET / and /index.html: the dashboard.
func (s *Server) uiIndex(w http.ResponseWriter, r *http.Request) error {
	return serveUIFile(w, r, "index.html")
}

// GET /assets/{file}: the dashboard's scripts, styles and icon.
func (s *Server) uiAsset(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return errNotFound(fmt.Sprintf("no dashboard file %q", name))
	}
	return serveUIFile(w, r, "assets/"+name)
}

// specField is one top-level entry of the spec as JSON.
type specField struct {
	key   string
	value json.RawMessage
}

// specFields is docs/openapi.yaml as JSON, top-level entries in order.
var specFields = sync.OnceValues(func() ([]specField, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("docs/openapi.yaml: not a mapping")
	}
	top := doc.Content[0]
	out := make([]specField, 0, len(top.Content)/2)
	for i := 0; i+1 < len(top.Content); i += 2 {
		var buf bytes.Buffer
		if err := yamlToJSON(&buf, top.Content[i+1]); err != nil {
			return nil, fmt.Errorf("docs/openapi.yaml: %s: %w", top.Content[i].Value, err)
		}
		out = append(out, specField{key: top.Content[i].Value, value: buf.Bytes()})
	}
	return out, nil
})

// yamlToJSON writes a YAML node as JSON, keeping mapping order.
func yamlToJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.AliasNode:
		return yamlToJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, err := json.Marshal(n.Content[i].Value)
			if err != nil {
				return err
			}
			buf.Write(k)
			buf.WriteByte(':')
			if err := yamlToJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := yamlToJSON(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		b, err := json.Marshal(v) // escapes <, > and &: safe inside <script>
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(b)
	default:
		return fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
	return nil
}

// specFor returns the spec as JSON with servers set to the requesting host.
func specFor(r *http.Request) ([]byte, error) {
	fields, err := specFields()
	if err != nil {
		return nil, err
	}
	servers, err := json.Marshal([]map[string]string{{"url": "http://" + r.Host}})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	wrote := false
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		buf.Write(k)
		buf.WriteByte(':')
		if f.key == "servers" {
			buf.Write(servers)
			wrote = true
		} else {
			buf.Write(f.value)
		}
	}
	if !wrote {
		if len(fields) > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`"servers":`)
		buf.Write(servers)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// GET /docs/openapi.json: the spec as JSON.
func (s *Server) openapiJSON(w http.ResponseWriter, r *http.Request) error {
	b, err := specFor(r)
	if err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, b)
	return nil
}

// specMarker is where docs.html takes the spec.
const specMarker = "<!--openapi-json-->"

// GET /docs: the API reference, rendered in the browser from the spec
// embedded in the page.
func (s *Server) apiDocs(w http.ResponseWriter, r *http.Request) error {
	files, err := uiFiles()
	if err != nil {
		return fmt.Errorf("dashboard files: %w", err)
	}
	before, after, ok := bytes.Cut(files["docs.html"].body, []byte(specMarker))
	if !ok {
		return errors.New("web/static/docs.html lacks the spec marker")
	}
	spec, err := specFor(r)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(before)
	_, _ = w.Write(spec)
	_, _ = w.Write(after)
	return nil
}

// infoScanLimit bounds the state scan behind /v1/info's counts.
const infoScanLimit = 250_000

type docCollectionCount struct {
	Name      string `json:"name"`
	Documents int64  `json:"documents"`
}

type infoCounts struct {
	StateKeys         int64                `json:"state_keys"`
	Documents         int64                `json:"documents"`
	DocCollections    []docCollectionCount `json:"doc_collections"`
	VectorCollections int                  `json:"vector_collections"`
	Vectors           int64                `json:"vectors"`
	Exact             bool                 `json:"exact"`
}

type infoResponse struct {
	Version        string     `json:"version"`
	UptimeSecs     uint64     `json:"uptime_secs"`
	StartedAtMs    int64      `json:"started_at_ms"`
	GoVersion      string     `json:"go_version"`
	DataDir        *string    `json:"data_dir"`
	InMemory       bool       `json:"in_memory"`
	Auth           bool       `json:"auth"`
	SQLite         bool       `json:"sqlite"`
	LastOffset     uint64     `json:"last_offset"`
	RetentionFloor uint64     `json:"retention_floor"`
	EventLogBytes  int64      `json:"event_log_bytes"`
	DiskBytes      uint64     `json:"disk_bytes"`
	Counts         infoCounts `json:"counts"`
}

// GET /v1/info (Luma extension): what the dashboard's overview shows.
// State keys and documents are counted by a scan of the state key space
// (stored records, including expired keys the sweeper has not removed yet),
// which stops after infoScanLimit keys (then counts.exact is false).
func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	cfg := s.d.Config
	resp := infoResponse{
		Version:        s.d.Version,
		UptimeSecs:     uint64(time.Since(s.d.Started).Seconds()),
		StartedAtMs:    s.d.Started.UnixMilli(),
		GoVersion:      runtime.Version(),
		InMemory:       cfg.InMemory,
		Auth:           s.d.Auth.Enabled(),
		SQLite:         s.d.SQL != nil,
		LastOffset:     s.d.DB.LastOffset(),
		RetentionFloor: s.d.DB.Floor(),
		EventLogBytes:  s.d.DB.LogBytes(),
		DiskBytes:      s.d.DB.DiskUsage(),
	}
	if !cfg.InMemory {
		dir := cfg.DataDir
		resp.DataDir = &dir
	}
	c := &resp.Counts
	c.Exact = true
	docs := map[string]int64{}
	ctx := r.Context()
	err := s.d.DB.ScanPrefix([]byte{storage.PrefixState}, func(k, _ []byte) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if c.StateKeys == infoScanLimit {
			c.Exact = false
			return false, nil
		}
		c.StateKeys++
		if rest, ok := bytes.CutPrefix(k[1:], []byte("doc:")); ok {
			if name, _, ok := bytes.Cut(rest, []byte(":")); ok {
				docs[string(name)]++
				c.Documents++
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	c.DocCollections = make([]docCollectionCount, 0, len(docs))
	for name, n := range docs {
		c.DocCollections = append(c.DocCollections, docCollectionCount{Name: name, Documents: n})
	}
	sort.Slice(c.DocCollections, func(i, j int) bool { return c.DocCollections[i].Name < c.DocCollections[j].Name })
	if s.d.Vector != nil {
		cols, err := s.d.Vector.List(ctx)
		if err != nil {
			return err
		}
		c.VectorCollections = len(cols)
		for _, col := range cols {
			c.Vectors += col.LiveCount
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
