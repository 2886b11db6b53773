package config

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the settings table in docs/CONFIG.md")

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9917 || c.Bind != "127.0.0.1" || c.Exposed || c.APIKey != "" {
		t.Fatalf("network defaults: %+v", c)
	}
	if !strings.HasSuffix(c.DataDir, "/data") || c.InMemory {
		t.Fatalf("data dir default %q", c.DataDir)
	}
	if c.MaxBodyBytes != 100<<20 || c.MaxJSONBytes != 100<<20 || c.MaxKeyLen != 512 || c.MaxK != 256 ||
		c.MaxStateBatch != 256 || c.MaxVectorBatch != 256 || c.MaxDocFind != 100 || c.MaxIDLen != 128 ||
		c.MaxCollectionLen != 64 || c.MaxVectorDim != 4096 || c.RequestTimeout != 30*time.Second {
		t.Fatalf("limit defaults: %+v", c)
	}
	if !c.SQLiteEnabled || c.IndexKind != "hnsw" || c.RetainBytes != 8*64<<20 || c.SSEHeartbeat != 15*time.Second {
		t.Fatalf("other defaults: %+v", c)
	}
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"default", nil, nil, 9917},
		{"old env", nil, map[string]string{"PORT_RUST_KISS_VDB": "1000"}, 1000},
		{"new env beats old", nil, map[string]string{"PORT_RUST_KISS_VDB": "1000", "PORT_LUMA_VDB": "2000"}, 2000},
		{"LUMA_ alias beats bare", nil, map[string]string{"PORT_LUMA_VDB": "2000", "LUMA_PORT_LUMA_VDB": "3000"}, 3000},
		{"flag beats env", []string{"--port", "4000"}, map[string]string{"PORT_LUMA_VDB": "2000"}, 4000},
		{"flag with =", []string{"--port=4001"}, nil, 4001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Port != tt.want {
				t.Fatalf("port %d, want %d", c.Port, tt.want)
			}
		})
	}
}

func TestBindAndAuthRules(t *testing.T) {
	// First bind flag wins.
	c, err := Load([]string{"--bind", "::1", "--unsafe-bind"}, env(nil))
	if err != nil || c.Bind != "::1" || c.Exposed {
		t.Fatalf("first flag should win: %+v %v", c, err)
	}
	// Exposed without a key is refused...
	if _, err := Load([]string{"--unsafe-bind"}, env(nil)); err == nil || !strings.Contains(err.Error(), "without an API key") {
		t.Fatalf("exposed without key: %v", err)
	}
	// ...unless a key is set or --allow-no-auth is given.
	c, err = Load([]string{"--host", "0.0.0.0"}, env(map[string]string{"LUMA_API_KEY": "k"}))
	if err != nil || !c.Exposed || c.APIKey != "k" {
		t.Fatalf("exposed with key: %+v %v", c, err)
	}
	c, err = Load([]string{"--unsafe-bind", "--allow-no-auth"}, env(nil))
	if err != nil || c.Bind != "0.0.0.0" || !c.Exposed {
		t.Fatalf("allow-no-auth: %+v %v", c, err)
	}
	// Key precedence: LUMA_API_KEY > RUSTKISS_API_KEY > API_KEY.
	c, _ = Load(nil, env(map[string]string{"API_KEY": "c", "RUSTKISS_API_KEY": "b"}))
	if c.APIKey != "b" {
		t.Fatalf("key %q", c.APIKey)
	}
}

func TestSizes(t *testing.T) {
	c, err := Load([]string{"--max-json-mb", "0.5"}, env(map[string]string{"MAX_BODY_BYTES": "1048576"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBodyBytes != 1<<20 || c.MaxJSONBytes != 1<<19 {
		t.Fatalf("sizes %d %d", c.MaxBodyBytes, c.MaxJSONBytes)
	}
	// BYTES beats MB.
	c, _ = Load(nil, env(map[string]string{"MAX_JSON_BYTES": "65536", "MAX_JSON_MB": "3"}))
	if c.MaxJSONBytes != 65536 {
		t.Fatalf("json %d", c.MaxJSONBytes)
	}
	if _, err := Load(nil, env(map[string]string{"MAX_BODY_MB": "1", "MAX_JSON_MB": "2"})); err == nil {
		t.Fatal("json limit above body limit must fail")
	}
}

func TestBadValuesNameTheSetting(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--port", "abc"}, nil, "--port"},
		{[]string{"--port", "70000"}, nil, "1 to 65535"},
		{nil, map[string]string{"BIND_ADDR": "localhost:1"}, "BIND_ADDR"},
		{nil, map[string]string{"MAX_K": "-1"}, "MAX_K"},
		{nil, map[string]string{"SQLITE_ENABLED": "maybe"}, "1, true, on, yes"},
		{nil, map[string]string{"INDEX_KIND": "IVF_MAGIC"}, "hnsw, flat"},
		{[]string{"--logs", "loud"}, nil, "debug, info"},
		{[]string{"--fsync", "sometimes"}, nil, "always, off"},
		{nil, map[string]string{"CORS_ALLOWED_ORIGINS": "example.com"}, "CORS_ALLOWED_ORIGINS"},
	}
	for _, tt := range tests {
		_, err := Load(tt.args, env(tt.env))
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: got %v, want a config error mentioning %q", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestFlagsParsing(t *testing.T) {
	if _, err := Load([]string{"--nope"}, env(nil)); err == nil || !strings.Contains(err.Error(), "unknown flag --nope") {
		t.Fatalf("unknown flag: %v", err)
	}
	if _, err := Load([]string{"--port"}, env(nil)); err == nil || !strings.Contains(err.Error(), "needs a value") {
		t.Fatalf("missing value: %v", err)
	}
	if _, err := Load([]string{"stray"}, env(nil)); err == nil {
		t.Fatal("stray argument accepted")
	}
	if _, err := Load([]string{"--help"}, env(nil)); !errors.Is(err, ErrHelp) {
		t.Fatalf("help: %v", err)
	}
	c, err := Load([]string{"--no-sqlite", "--memory", "--data", "/tmp/x"}, env(nil))
	if err != nil || c.SQLiteEnabled || !c.InMemory {
		t.Fatalf("bool flags: %+v %v", c, err)
	}
	c, err = Load([]string{"--sqlite=false"}, env(map[string]string{"SQLITE_ENABLED": "1"}))
	if err != nil || c.SQLiteEnabled {
		t.Fatalf("--sqlite=false: %+v %v", c, err)
	}
}

func TestDataDirMustBeADirectory(t *testing.T) {
	f := t.TempDir() + "/file"
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load([]string{"--data-dir", f}, env(nil)); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Fatalf("file as data dir: %v", err)
	}
}

func TestParseDotEnv(t *testing.T) {
	m := ParseDotEnv("# comment\nA=1\nexport B = \"two words\"\nC='x' \nD=val # trailing\n\nbad line\n")
	want := map[string]string{"A": "1", "B": "two words", "C": "x", "D": "val"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("extra keys: %v", m)
	}
}

// TestConfigDocIsCurrent keeps docs/CONFIG.md's table equal to the settings.
func TestConfigDocIsCurrent(t *testing.T) {
	const path = "../../docs/CONFIG.md"
	const begin, end = "<!-- settings:begin -->", "<!-- settings:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %s ... %s markers", path, begin, end)
	}
	want := doc[:i+len(begin)] + "\n" + Markdown() + "\n" + doc[j:]
	if want == doc {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("docs/CONFIG.md is out of date with internal/config/settings.go: run go test ./internal/config -update")
}
