package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	yaml "github.com/oasdiff/yaml3"

	"github.com/luma-db/luma/docs"
	"github.com/luma-db/luma/internal/server/servertest"
	"github.com/luma-db/luma/web"
)

func TestDashboardServed(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--api-key", "s3cret"))
	for _, p := range []string{"/", "/index.html"} {
		r := in.MustStatus(200, "GET", p, nil) // no key: the page is public
		if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Fatalf("%s: content type %q", p, ct)
		}
		if !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("%s: CSP %q", p, r.Header.Get("Content-Security-Policy"))
		}
		if !bytes.Contains(r.Body, []byte(`src="/assets/app.js"`)) {
			t.Fatalf("%s: %.200s", p, r.Body)
		}
		etag := r.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", p)
		}
		if r := in.MustStatus(304, "GET", p, nil, "If-None-Match: "+etag); len(r.Body) != 0 {
			t.Fatalf("304 with a body")
		}
	}
	for file, ct := range map[string]string{
		"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml",
	} {
		r := in.MustStatus(200, "GET", "/assets/"+file, nil)
		if got := r.Header.Get("Content-Type"); got != ct {
			t.Fatalf("%s: content type %q, want %q", file, got, ct)
		}
	}
	for _, p := range []string{"/assets/nope.js", "/assets/..%2Fweb.go", "/assets/%2E%2E%2Findex.html", "/assets/.hidden"} {
		in.MustStatus(404, "GET", p, nil)
	}
	// The API the dashboard calls still needs the key.
	in.MustStatus(401, "GET", "/v1/info", nil)
	in.MustStatus(200, "GET", "/v1/info", nil, "Authorization: Bearer s3cret")
}

// TestDashboardFilesResolve: every asset the pages load and every module a
// script imports is embedded (a missing one would only show in a browser).
func TestDashboardFilesResolve(t *testing.T) {
	files := web.Files()
	ref := regexp.MustCompile(`(?:src|href)="/assets/([^"]+)"`)
	imp := regexp.MustCompile(`(?:from |import\()'\./([^']+)'`)
	for _, page := range []string{"index.html", "docs.html"} {
		b, err := fs.ReadFile(files, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ref.FindAllSubmatch(b, -1) {
			if _, err := fs.Stat(files, "assets/"+string(m[1])); err != nil {
				t.Errorf("%s loads /assets/%s: %v", page, m[1], err)
			}
		}
	}
	js, _ := fs.Glob(files, "assets/*.js")
	if len(js) == 0 {
		t.Fatal("no scripts embedded")
	}
	for _, f := range js {
		b, _ := fs.ReadFile(files, f)
		for _, m := range imp.FindAllSubmatch(b, -1) {
			if _, err := fs.Stat(files, "assets/"+string(m[1])); err != nil {
				t.Errorf("%s imports ./%s: %v", f, m[1], err)
			}
		}
	}
}

func TestAPIDocsPage(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--api-key", "s3cret"))
	host := strings.TrimPrefix(in.URL, "http://")

	r := in.MustStatus(200, "GET", "/docs", nil)
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="spec">(.*?)</script>`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no embedded spec: %.300s", r.Body)
	}
	checkSpecJSON(t, m[1], "http://"+host)

	// Another Host header: the servers entry follows it.
	req, _ := http.NewRequest("GET", in.URL+"/docs/openapi.json", nil)
	req.Host = "docs.example:8080"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkSpecJSON(t, body, "http://docs.example:8080")
	if !bytes.Equal(body, bytes.Replace(m[1], []byte(host), []byte("docs.example:8080"), 1)) {
		t.Fatal("/docs and /docs/openapi.json embed different documents")
	}
}

// checkSpecJSON: the JSON is docs/openapi.yaml (same content, paths in the
// YAML's order) with servers set to the request's host.
func checkSpecJSON(t *testing.T, b []byte, server string) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("spec JSON: %v", err)
	}
	var want map[string]any
	if err := yaml.Unmarshal(docs.OpenAPI, &want); err != nil {
		t.Fatal(err)
	}
	servers, _ := json.Marshal(got["servers"])
	if string(servers) != `[{"url":"`+server+`"}]` {
		t.Fatalf("servers %s, want %s", servers, server)
	}
	delete(got, "servers")
	delete(want, "servers")
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Fatal("the JSON spec differs from docs/openapi.yaml")
	}
	// Order: paths appear as in the YAML.
	var node yaml.Node
	if err := yaml.Unmarshal(docs.OpenAPI, &node); err != nil {
		t.Fatal(err)
	}
	var yamlPaths []string
	top := node.Content[0]
	for i := 0; i < len(top.Content); i += 2 {
		if top.Content[i].Value == "paths" {
			for j := 0; j < len(top.Content[i+1].Content); j += 2 {
				yamlPaths = append(yamlPaths, top.Content[i+1].Content[j].Value)
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var jsonPaths []string
	depth, inPaths := 0, false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
				if depth == 1 {
					inPaths = false
				}
			}
		case string:
			if depth == 1 && v == "paths" {
				inPaths = true
			} else if inPaths && depth == 2 && dec.More() {
				jsonPaths = append(jsonPaths, v)
			}
		}
	}
	if strings.Join(jsonPaths, " ") != strings.Join(yamlPaths, " ") {
		t.Fatalf("path order:\n json %v\n yaml %v", jsonPaths, yamlPaths)
	}
}

func TestInfo(t *testing.T) {
	in := servertest.Start(t, servertest.DiskConfig(t, t.TempDir()))
	put(t, in, "a", 1)
	put(t, in, "b", 2)
	for _, id := range []string{"x", "y"} {
		in.MustStatus(200, "PUT", "/v1/doc/notes/"+id, map[string]any{"t": id})
	}
	in.MustStatus(200, "PUT", "/v1/doc/"+url.PathEscape("other")+"/z", map[string]any{"t": 1})
	in.MustStatus(200, "POST", "/v1/vector/v", map[string]any{"dim": 2, "metric": "cosine"})
	for _, id := range []string{"p", "q", "r"} {
		in.MustStatus(200, "POST", "/v1/vector/v/upsert", map[string]any{"id": id, "vector": []float64{1, 0.5}})
	}
	var info struct {
		Version  string  `json:"version"`
		DataDir  *string `json:"data_dir"`
		InMemory bool    `json:"in_memory"`
		Auth     bool    `json:"auth"`
		SQLite   bool    `json:"sqlite"`
		Counts   struct {
			StateKeys      int64 `json:"state_keys"`
			Documents      int64 `json:"documents"`
			DocCollections []struct {
				Name      string `json:"name"`
				Documents int64  `json:"documents"`
			} `json:"doc_collections"`
			VectorCollections int   `json:"vector_collections"`
			Vectors           int64 `json:"vectors"`
			Exact             bool  `json:"exact"`
		} `json:"counts"`
	}
	in.MustStatus(200, "GET", "/v1/info", nil).JSON(t, &info)
	c := info.Counts
	// State keys: a, b, three doc keys and the vector manifest.
	if c.StateKeys != 6 || c.Documents != 3 || c.VectorCollections != 1 || c.Vectors != 3 || !c.Exact {
		t.Fatalf("counts %+v", c)
	}
	if len(c.DocCollections) != 2 || c.DocCollections[0].Name != "notes" || c.DocCollections[0].Documents != 2 ||
		c.DocCollections[1].Name != "other" || c.DocCollections[1].Documents != 1 {
		t.Fatalf("doc collections %+v", c.DocCollections)
	}
	if info.InMemory || info.DataDir == nil || *info.DataDir != in.Config.DataDir || info.Auth || !info.SQLite || info.Version == "" {
		t.Fatalf("info %+v", info)
	}

	mem := servertest.Start(t, servertest.Config(t))
	m := mem.MustStatus(200, "GET", "/v1/info", nil).Map(t)
	if m["data_dir"] != nil || m["in_memory"] != true {
		t.Fatalf("in-memory info %v", m)
	}
}
