package httpapi_test

import (
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/server/servertest"
)

func TestLocalModeNeedsNoKey(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t))
	run(t, in, []scenario{
		{name: "no key", method: "GET", path: "/v1/state", status: 200},
		{name: "any bearer ignored", method: "GET", path: "/v1/state", headers: []string{"Authorization: Bearer dev"}, status: 200},
		{name: "malformed header ignored", method: "GET", path: "/v1/metrics", headers: []string{"Authorization: Basic x"}, status: 200},
		{name: "key routes not enabled", method: "GET", path: "/v1/auth/keys", status: 501, code: "not_enabled", contain: []string{"auth store not enabled"}},
	})
}

func TestConfiguredKey(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--api-key", "s3cret"))
	run(t, in, []scenario{
		{name: "missing", method: "GET", path: "/v1/state", status: 401, code: "unauthorized", contain: []string{"missing authorization header"}},
		{name: "bad scheme", method: "GET", path: "/v1/state", headers: []string{"Authorization: Basic s3cret"}, status: 401, code: "unauthorized", contain: []string{"invalid authorization header format"}},
		{name: "bad scheme beats x-api-key", method: "GET", path: "/v1/state", headers: []string{"Authorization: bearer s3cret", "X-Api-Key: s3cret"}, status: 401, code: "unauthorized"},
		{name: "wrong key", method: "GET", path: "/v1/state", headers: []string{"Authorization: Bearer nope"}, status: 401, code: "unauthorized", contain: []string{"invalid api key"}},
		{name: "bearer", method: "GET", path: "/v1/state", headers: []string{"Authorization: Bearer s3cret"}, status: 200},
		{name: "bearer trimmed", method: "GET", path: "/v1/state", headers: []string{"Authorization: Bearer   s3cret "}, status: 200},
		{name: "x-api-key", method: "GET", path: "/v1/state", headers: []string{"x-api-key: s3cret"}, status: 200},
		{name: "query", method: "GET", path: "/v1/state?api_key=s3cret", status: 200},
		{name: "metrics not exempt", method: "GET", path: "/v1/metrics", status: 401, code: "unauthorized"},
		{name: "health exempt", method: "GET", path: "/v1/health", status: 200},
		{name: "spec exempt", method: "GET", path: "/openapi.yaml", status: 200},
		{name: "unknown path needs key first", method: "GET", path: "/v1/nope", status: 401, code: "unauthorized"},
		{name: "unknown path with key", method: "GET", path: "/v1/nope", headers: []string{"x-api-key: s3cret"}, status: 404, code: "not_found"},
		{name: "write without key writes nothing", method: "PUT", path: "/v1/state/a", body: `{"value":1}`, status: 401, code: "unauthorized"},
	})
}

func TestManagedKeysAndRoles(t *testing.T) {
	dir := t.TempDir()
	in := servertest.Start(t, servertest.DiskConfig(t, dir, "--api-key", "root"))
	admin := "Authorization: Bearer root"
	create := func(name, role string) (id, key string) {
		m := in.MustStatus(200, "POST", "/v1/auth/keys", map[string]any{"name": name, "role": role}, admin).Map(t)
		id, key = m["id"].(string), m["key"].(string)
		if !strings.HasPrefix(key, "rk_live_") || len(key) != len("rk_live_")+43 || len(id) != 36 {
			t.Fatalf("created %v", m)
		}
		return id, key
	}
	userID, userKey := create("svc", "user")
	_, readerKey := create("dash", "reader")
	run(t, in, []scenario{
		{name: "user writes", method: "PUT", path: "/v1/state/a", body: `{"value":1}`, headers: []string{"Authorization: Bearer " + userKey}, status: 200, writes: 1},
		{name: "reader reads", method: "GET", path: "/v1/state/a", headers: []string{"x-api-key: " + readerKey}, status: 200},
		{name: "reader streams", method: "GET", path: "/v1/metrics", headers: []string{"x-api-key: " + readerKey}, status: 200},
		{name: "reader cannot write", method: "PUT", path: "/v1/state/a", body: `{"value":2}`, headers: []string{"x-api-key: " + readerKey}, status: 403, code: "forbidden"},
		{name: "user cannot manage keys", method: "GET", path: "/v1/auth/keys", headers: []string{"Authorization: Bearer " + userKey}, status: 403, code: "forbidden", contain: []string{"admin role required"}},
		{name: "bad role", method: "POST", path: "/v1/auth/keys", body: `{"name":"x","role":"god"}`, headers: []string{admin}, status: 400, code: "invalid_argument"},
		{name: "missing name", method: "POST", path: "/v1/auth/keys", body: `{"role":"user"}`, headers: []string{admin}, status: 422, code: "invalid_argument"},
		{name: "revoke unknown", method: "DELETE", path: "/v1/auth/keys/nope", headers: []string{admin}, status: 404, code: "not_found", contain: []string{"key id not found"}},
	})
	var keys []map[string]any
	in.MustStatus(200, "GET", "/v1/auth/keys", nil, admin).JSON(t, &keys)
	if len(keys) != 2 || keys[0]["name"] != "dash" || keys[0]["permissions"] == nil {
		t.Fatalf("list (newest first) %v", keys)
	}
	for _, k := range keys {
		if _, leaked := k["hash"]; leaked {
			t.Fatal("hash leaked in list")
		}
	}
	// Keys survive a restart; revocation takes effect at once.
	in.Close()
	in = servertest.Start(t, servertest.DiskConfig(t, dir, "--api-key", "root"))
	in.MustStatus(200, "GET", "/v1/state/a", nil, "Authorization: Bearer "+userKey)
	in.MustStatus(204, "DELETE", "/v1/auth/keys/"+userID, nil, admin)
	in.MustStatus(401, "GET", "/v1/state/a", nil, "Authorization: Bearer "+userKey)
}

func TestKeyRoutesNeedSQLite(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--api-key", "k", "--no-sqlite"))
	in.MustStatus(501, "GET", "/v1/auth/keys", nil, "x-api-key: k")
}

func TestCORS(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--api-key", "k"))
	// Preflight skips auth (CONTRACT.md §9 #9).
	r := in.Do("OPTIONS", "/v1/state", nil, "Origin: http://app.test", "Access-Control-Request-Method: GET")
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight %d %v", r.Status, r.Header)
	}
	r = in.Do("GET", "/v1/state", nil, "Origin: http://app.test", "x-api-key: k")
	if r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("simple request CORS %v", r.Header)
	}
	// With an allow-list, other origins get no CORS headers.
	cfg := servertest.Config(t)
	cfg.CORSOrigins = []string{"https://ok.test"}
	in2 := servertest.Start(t, cfg)
	if r := in2.Do("GET", "/v1/state", nil, "Origin: https://evil.test"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("origin outside the list allowed")
	}
	if r := in2.Do("GET", "/v1/state", nil, "Origin: https://ok.test"); r.Header.Get("Access-Control-Allow-Origin") != "https://ok.test" {
		t.Fatal("listed origin refused")
	}
}
