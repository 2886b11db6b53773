package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/servertest"
)

// docCase is one HTTP exchange of the document routes and what must come
// back. For errors, msg is the exact message (contract wording) unless
// contain is used instead.
type docCase struct {
	name    string
	method  string
	path    string
	body    any
	headers []string
	status  int
	code    string
	msg     string
	contain string
	writes  uint64 // events the request must append (0 for every failure)
}

func runDocCases(t *testing.T, in *servertest.Instance, cases []docCase) {
	t.Helper()
	for _, dc := range cases {
		t.Run(dc.name, func(t *testing.T) {
			before := in.App.DB.LastOffset()
			r := in.Do(dc.method, dc.path, dc.body, dc.headers...)
			if r.Status != dc.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", dc.method, dc.path, r.Status, dc.status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
			if dc.code != "" {
				var e struct{ Error, Message string }
				r.JSON(t, &e)
				if e.Error != dc.code {
					t.Fatalf("error code %q, want %q; body %s", e.Error, dc.code, r.Body)
				}
				if dc.msg != "" && e.Message != dc.msg {
					t.Fatalf("message %q, want %q", e.Message, dc.msg)
				}
				if !strings.Contains(e.Message, dc.contain) {
					t.Fatalf("message %q does not contain %q", e.Message, dc.contain)
				}
			} else if dc.contain != "" && !strings.Contains(string(r.Body), dc.contain) {
				t.Fatalf("body %s does not contain %q", r.Body, dc.contain)
			}
			if got := in.App.DB.LastOffset() - before; got != dc.writes {
				t.Fatalf("request appended %d events, want %d", got, dc.writes)
			}
		})
	}
}

func TestDocRoutes(t *testing.T) {
	cfg := servertest.Config(t, "--max-json-mb", "0.001")
	cfg.MaxDocFind = 5 // MAX_DOC_FIND is an environment variable only
	in := servertest.Start(t, cfg)
	long := func(n int) string { return strings.Repeat("c", n) }
	big := `{"a":"` + strings.Repeat("x", 1100) + `"}`
	runDocCases(t, in, []docCase{
		{name: "put", method: "PUT", path: "/v1/doc/users/u1", body: `{"name":"ann","age":30}`, status: 200, contain: `{"id":"u1","revision":1,"doc":{"name":"ann","age":30}}`, writes: 1},
		{name: "overwrite", method: "PUT", path: "/v1/doc/users/u1", body: `{"name":"ann","age":31}`, status: 200, contain: `"revision":2`, writes: 1},
		{name: "any JSON", method: "PUT", path: "/v1/doc/users/u2", body: `[1, "two", null]`, status: 200, contain: `"doc":[1,"two",null]`, writes: 1},
		{name: "id with colon and escapes", method: "PUT", path: "/v1/doc/users/a:b%2Fc", body: `"s"`, status: 200, contain: `"id":"a:b/c"`, writes: 1},
		{name: "get", method: "GET", path: "/v1/doc/users/u1", status: 200, contain: `{"id":"u1","revision":2,"doc":{"name":"ann","age":31}}`},
		{name: "get slash id", method: "GET", path: "/v1/doc/users/a:b%2Fc", status: 200, contain: `"doc":"s"`},
		{name: "get missing", method: "GET", path: "/v1/doc/users/nope", status: 404, code: "not_found", msg: "document not found"},
		{name: "cas ok", method: "PUT", path: "/v1/doc/users/u1?if_revision=2", body: `{"name":"ann","age":32}`, status: 200, contain: `"revision":3`, writes: 1},
		{name: "cas stale", method: "PUT", path: "/v1/doc/users/u1?if_revision=2", body: `{}`, status: 409, code: "revision_mismatch", msg: "if_revision mismatch"},
		{name: "cas on missing", method: "PUT", path: "/v1/doc/users/nope?if_revision=1", body: `{}`, status: 409, code: "revision_mismatch", msg: "if_revision mismatch"},
		{name: "cas bad number", method: "PUT", path: "/v1/doc/users/u1?if_revision=x", body: `{}`, status: 400, code: "invalid_argument", contain: "if_revision"},
		{name: "collection too long", method: "PUT", path: "/v1/doc/" + long(65) + "/x", body: `{}`, status: 400, code: "invalid_argument", msg: "collection too long"},
		{name: "collection checked before id", method: "GET", path: "/v1/doc/" + long(65) + "/" + long(129), status: 400, code: "invalid_argument", msg: "collection too long"},
		{name: "id too long", method: "PUT", path: "/v1/doc/users/" + long(129), body: `{}`, status: 400, code: "invalid_argument", msg: "id too long"},
		{name: "id too long on get", method: "GET", path: "/v1/doc/users/" + long(129), status: 400, code: "invalid_argument", msg: "id too long"},
		{name: "id too long on delete", method: "DELETE", path: "/v1/doc/users/" + long(129), status: 400, code: "invalid_argument", msg: "id too long"},
		{name: "colon in collection", method: "PUT", path: "/v1/doc/a:b/x", body: `{}`, status: 400, code: "invalid_argument", contain: "must not contain ':'"},
		{name: "doc too large", method: "PUT", path: "/v1/doc/users/big", body: big, status: 413, code: "payload_too_large", msg: "doc too large"},
		{name: "malformed", method: "PUT", path: "/v1/doc/users/x", body: `{"a":`, status: 400, code: "invalid_argument", contain: "malformed JSON"},
		{name: "two values", method: "PUT", path: "/v1/doc/users/x", body: `{} {}`, status: 400, code: "invalid_argument", contain: "malformed JSON"},
		{name: "empty body", method: "PUT", path: "/v1/doc/users/x", body: ``, status: 400, code: "invalid_argument", contain: "request body required"},
		{name: "wrong content type", method: "PUT", path: "/v1/doc/users/x", body: `{}`, headers: []string{"Content-Type: text/html"}, status: 415, code: "unsupported_media_type"},
		{name: "GET find is 405", method: "GET", path: "/v1/doc/users/find", status: 405, code: "method_not_allowed", contain: "allowed: POST"},
		{name: "PUT find is 405", method: "PUT", path: "/v1/doc/users/find", body: `{}`, status: 405, code: "method_not_allowed"},
		{name: "DELETE find is 405", method: "DELETE", path: "/v1/doc/users/find", status: 405, code: "method_not_allowed"},
		{name: "PUT _indexes is 405", method: "PUT", path: "/v1/doc/users/_indexes", body: `{}`, status: 405, code: "method_not_allowed", contain: "GET, POST"},
		{name: "POST doc is 405", method: "POST", path: "/v1/doc/users/u1", body: `{}`, status: 405, code: "method_not_allowed"},
		{name: "delete stale cas", method: "DELETE", path: "/v1/doc/users/u1?if_revision=1", status: 409, code: "revision_mismatch", msg: "if_revision mismatch"},
		{name: "delete", method: "DELETE", path: "/v1/doc/users/u1?if_revision=3", status: 200, contain: `{"deleted":true}`, writes: 1},
		{name: "delete missing", method: "DELETE", path: "/v1/doc/users/u1", status: 200, contain: `{"deleted":false}`},
		{name: "find", method: "POST", path: "/v1/doc/users/find", body: `{"filter":{}}`, status: 200, contain: `"documents":[{"id":"a:b/c","revision":1,"doc":"s"},{"id":"u2","revision":1,"doc":[1,"two",null]}],"next_cursor":null,"index_used":null,"scanned":2`},
		{name: "find empty body", method: "POST", path: "/v1/doc/users/find", body: ``, status: 200, contain: `"id":"u2"`},
		{name: "find bad filter", method: "POST", path: "/v1/doc/users/find", body: `{"filter":{"a":{"$gt":[1]}}}`, status: 400, code: "invalid_argument", contain: `filter: field "a": $gt needs a number or string`},
		{name: "find unknown operator", method: "POST", path: "/v1/doc/users/find", body: `{"filter":{"a":{"$foo":1}}}`, status: 400, code: "invalid_argument", contain: "$foo is not a known operator"},
		{name: "find filter too large", method: "POST", path: "/v1/doc/users/find", body: `{"filter":{"a":"` + strings.Repeat("x", 1100) + `"}}`, status: 413, code: "payload_too_large", msg: "filter too large"},
		{name: "find bad order", method: "POST", path: "/v1/doc/users/find", body: `{"sort":{"field":"a","order":"up"}}`, status: 400, code: "invalid_argument", contain: `sort.order must be "asc" or "desc"`},
		{name: "find sort without field", method: "POST", path: "/v1/doc/users/find", body: `{"sort":{"order":"asc"}}`, status: 422, code: "invalid_argument", contain: "sort.field"},
		{name: "find empty sort field", method: "POST", path: "/v1/doc/users/find", body: `{"sort":{"field":""}}`, status: 400, code: "invalid_argument", contain: "invalid sort"},
		{name: "find bad cursor", method: "POST", path: "/v1/doc/users/find", body: `{"cursor":"%%%"}`, status: 400, code: "invalid_argument", contain: "invalid cursor"},
		{name: "find limit type", method: "POST", path: "/v1/doc/users/find", body: `{"limit":"ten"}`, status: 422, code: "invalid_argument", contain: "limit"},
		{name: "find malformed", method: "POST", path: "/v1/doc/users/find", body: `{"filter":`, status: 400, code: "invalid_argument"},
		{name: "find collection too long", method: "POST", path: "/v1/doc/" + long(65) + "/find", body: `{}`, status: 400, code: "invalid_argument", msg: "collection too long"},
		{name: "index bad type", method: "POST", path: "/v1/doc/users/_indexes", body: `{"field":"a","type":"text"}`, status: 400, code: "invalid_argument", contain: `invalid index type "text"`},
		{name: "index missing field", method: "POST", path: "/v1/doc/users/_indexes", body: `{}`, status: 422, code: "invalid_argument", contain: `"field" is required`},
		{name: "index bad field", method: "POST", path: "/v1/doc/users/_indexes", body: `{"field":"$a"}`, status: 400, code: "invalid_argument", contain: "invalid index field"},
		{name: "index create", method: "POST", path: "/v1/doc/users/_indexes", body: `{"field":"age","type":"number"}`, status: 200, contain: `"field":"age","type":"number","state":"building","progress":{"processed":0,"total":2}`},
		{name: "index exists", method: "POST", path: "/v1/doc/users/_indexes", body: `{"field":"age"}`, status: 409, code: "already_exists", msg: "index already exists"},
		{name: "index list", method: "GET", path: "/v1/doc/users/_indexes", status: 200, contain: `"field":"age","type":"number"`},
		{name: "index list empty", method: "GET", path: "/v1/doc/other/_indexes", status: 200, contain: `{"indexes":[]}`},
		{name: "index drop", method: "DELETE", path: "/v1/doc/users/_indexes/age", status: 200, contain: `{"dropped":true}`},
		{name: "index drop missing", method: "DELETE", path: "/v1/doc/users/_indexes/age", status: 404, code: "not_found", msg: "index not found"},
	})
}

func TestDocFindLimitClamp(t *testing.T) {
	cfg := servertest.Config(t)
	cfg.MaxDocFind = 5
	in := servertest.Start(t, cfg)
	for i := 0; i < 8; i++ {
		in.MustStatus(200, "PUT", fmt.Sprintf("/v1/doc/c/d%d", i), `{}`)
	}
	for _, tc := range []struct {
		body string
		n    int
	}{
		{`{}`, 5}, {`{"limit":0}`, 1}, {`{"limit":-3}`, 1}, {`{"limit":3}`, 3}, {`{"limit":100000}`, 5}, {`{"limit":null}`, 5},
	} {
		var res findResult
		in.MustStatus(200, "POST", "/v1/doc/c/find", tc.body).JSON(t, &res)
		if len(res.Documents) != tc.n || (res.NextCursor == nil) {
			t.Errorf("%s: %d documents (cursor %v), want %d", tc.body, len(res.Documents), res.NextCursor, tc.n)
		}
	}
}

type findResult struct {
	Documents []struct {
		ID       string          `json:"id"`
		Doc      json.RawMessage `json:"doc"`
		Revision uint64          `json:"revision"`
	} `json:"documents"`
	NextCursor *string `json:"next_cursor"`
	IndexUsed  *string `json:"index_used"`
	Scanned    int     `json:"scanned"`
}

func (f findResult) ids() []string {
	out := make([]string, len(f.Documents))
	for i, d := range f.Documents {
		out[i] = d.ID
	}
	return out
}

// TestDocFindContract: the original's semantics (top-level deep equality,
// null / {} = all, non-object = none, ordered by id) and the operator
// language with dotted paths.
func TestDocFindContract(t *testing.T) {
	in := servertest.Start(t, nil)
	docs := map[string]string{
		"b": `{"kind":"x","n":1,"tags":["a","b"],"user":{"age":30}}`,
		"a": `{"kind":"x","n":1.0,"tags":["a"],"user":{"age":20}}`,
		"c": `{"kind":"y","n":2,"tags":"a","user":{"age":40}}`,
		"d": `{"kind":"x","n":"1"}`,
		"e": `"just a string"`,
	}
	for id, d := range docs {
		in.MustStatus(200, "PUT", "/v1/doc/c/"+id, d)
	}
	for _, tc := range []struct {
		filter string
		want   string
	}{
		{`null`, "[a b c d e]"},
		{`{}`, "[a b c d e]"},
		{`"x"`, "[]"},
		{`[1]`, "[]"},
		{`{"kind":"x"}`, "[a b d]"},
		{`{"kind":"x","n":1}`, "[a b]"}, // 1 == 1.0, "1" is a string
		{`{"tags":["a"]}`, "[a]"},       // arrays compare whole
		{`{"tags":"a"}`, "[c]"},
		{`{"tags":{"$eq":"a"}}`, "[a b c]"}, // $eq has membership
		{`{"user":{"age":20}}`, "[a]"},
		{`{"user.age":{"$gte":30}}`, "[b c]"},
		{`{"n":{"$in":[2,"1"]}}`, "[c d]"},
		{`{"kind":{"$ne":"x"}}`, "[c e]"},
		{`{"user":{"$exists":false}}`, "[d e]"},
		{`{"$or":[{"kind":"y"},{"user.age":{"$lt":25}}]}`, "[a c]"},
		{`{"$not":{"kind":"x"}}`, "[c e]"},
		{`{"missing":null}`, "[]"},
	} {
		var res findResult
		in.MustStatus(200, "POST", "/v1/doc/c/find", `{"filter":`+tc.filter+`}`).JSON(t, &res)
		if got := fmt.Sprint(res.ids()); got != tc.want {
			t.Errorf("filter %s: %s, want %s", tc.filter, got, tc.want)
		}
		if res.IndexUsed != nil {
			t.Errorf("filter %s used index %q without one declared", tc.filter, *res.IndexUsed)
		}
	}
	// The SDK's call: {filter: {}, limit}.
	var res findResult
	in.MustStatus(200, "POST", "/v1/doc/c/find", `{"filter":{},"limit":2}`).JSON(t, &res)
	if fmt.Sprint(res.ids()) != "[a b]" || res.NextCursor == nil {
		t.Fatalf("limit 2: %v %v", res.ids(), res.NextCursor)
	}
	var next findResult
	in.MustStatus(200, "POST", "/v1/doc/c/find", fmt.Sprintf(`{"filter":{},"limit":2,"cursor":%q}`, *res.NextCursor)).JSON(t, &next)
	if fmt.Sprint(next.ids()) != "[c d]" {
		t.Fatalf("page 2: %v", next.ids())
	}
	// A cursor from an unsorted find does not fit a sorted one.
	r := in.MustStatus(400, "POST", "/v1/doc/c/find", fmt.Sprintf(`{"sort":{"field":"n"},"cursor":%q}`, *res.NextCursor))
	if !strings.Contains(string(r.Body), "another sort") {
		t.Fatalf("mismatched cursor: %s", r.Body)
	}
	// Sort: kinds order null < bools < numbers < strings; missing (and
	// non-scalar) values last in both orders, by id; desc reverses
	// (value, id).
	for _, tc := range []struct{ sort, want string }{
		{`{"field":"user.age"}`, "[a b c d e]"},
		{`{"field":"user.age","order":"desc"}`, "[c b a d e]"},
		{`{"field":"n"}`, "[a b c d e]"},
		{`{"field":"n","order":"desc"}`, "[d c b a e]"},
		{`{"field":"tags"}`, "[c a b d e]"},
	} {
		var res findResult
		in.MustStatus(200, "POST", "/v1/doc/c/find", `{"sort":`+tc.sort+`}`).JSON(t, &res)
		if got := fmt.Sprint(res.ids()); got != tc.want {
			t.Errorf("sort %s: %s, want %s", tc.sort, got, tc.want)
		}
	}
}

// docReq sends one request from any goroutine (no testing.T).
func docReq(client *http.Client, method, url, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestDocCASConcurrent: N goroutines each add one to a counter field with
// read + PUT ?if_revision, retrying on 409; exactly N increments land.
func TestDocCASConcurrent(t *testing.T) {
	in := servertest.Start(t, nil)
	in.MustStatus(200, "PUT", "/v1/doc/c/counter", `{"n":0}`)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	var conflicts sync.Map
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := &http.Client{}
			for i := 0; i < each; i++ {
				for attempt := 0; ; attempt++ {
					st, b, err := docReq(client, "GET", in.URL+"/v1/doc/c/counter", "")
					if err != nil || st != 200 {
						errs <- fmt.Errorf("get: %d %s %v", st, b, err)
						return
					}
					var cur struct {
						Revision uint64
						Doc      struct{ N int }
					}
					if err := json.Unmarshal(b, &cur); err != nil {
						errs <- err
						return
					}
					body := fmt.Sprintf(`{"n":%d}`, cur.Doc.N+1)
					st, b, err = docReq(client, "PUT", fmt.Sprintf("%s/v1/doc/c/counter?if_revision=%d", in.URL, cur.Revision), body)
					if err != nil {
						errs <- err
						return
					}
					if st == 200 {
						break
					}
					if st != 409 || !bytes.Contains(b, []byte("if_revision mismatch")) {
						errs <- fmt.Errorf("put: %d %s", st, b)
						return
					}
					conflicts.Store(w, attempt+1)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var got struct {
		Revision uint64
		Doc      struct{ N int }
	}
	in.MustStatus(200, "GET", "/v1/doc/c/counter", nil).JSON(t, &got)
	if got.Doc.N != workers*each || got.Revision != workers*each+1 {
		t.Fatalf("counter %d at revision %d, want %d at %d", got.Doc.N, got.Revision, workers*each, workers*each+1)
	}
}

// TestDocEventsAndStateView: a doc is the state key doc:{c}:{id}; writes
// emit exactly the state events of the contract, and nothing else.
func TestDocEventsAndStateView(t *testing.T) {
	in := servertest.Start(t, nil)
	in.MustStatus(200, "POST", "/v1/doc/c/_indexes", `{"field":"k"}`)
	before := in.App.DB.LastOffset()
	in.MustStatus(200, "PUT", "/v1/doc/c/x:1", `{"k":"v"}`)
	in.MustStatus(200, "PUT", "/v1/doc/c/x:1", `{"k":"w"}`)
	var item struct {
		Key      string          `json:"key"`
		Value    json.RawMessage `json:"value"`
		Revision uint64          `json:"revision"`
	}
	in.MustStatus(200, "GET", "/v1/state/doc:c:x:1", nil).JSON(t, &item)
	if string(item.Value) != `{"k":"w"}` || item.Revision != 2 {
		t.Fatalf("state view %+v", item)
	}
	in.MustStatus(200, "DELETE", "/v1/doc/c/x:1", nil)
	evs, err := in.App.DB.ReadEvents(before+1, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Envelope[bytes.Index(e.Envelope, []byte(`"type"`)):]))
	}
	want := []string{
		`"type":"state_updated","data":{"key":"doc:c:x:1","revision":1,"value":{"k":"v"},"expires_at_ms":null}}`,
		`"type":"state_updated","data":{"key":"doc:c:x:1","revision":2,"value":{"k":"w"},"expires_at_ms":null}}`,
		`"type":"state_deleted","data":{"key":"doc:c:x:1","reason":"explicit"}}`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events:\n%v\nwant\n%v", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// No legacy docidx: keys (see docs/DATA_MODELS.md).
	var list []map[string]any
	in.MustStatus(200, "GET", "/v1/state?prefix=docidx:", nil).JSON(t, &list)
	if len(list) != 0 {
		t.Fatalf("docidx keys: %v", list)
	}
}

// TestDocIndexAdminAccess: creating and dropping indexes needs the admin
// role; listing needs any key.
func TestDocIndexAdminAccess(t *testing.T) {
	in := servertest.Start(t, servertest.DiskConfig(t, t.TempDir(), "--api-key", "root"))
	admin := "Authorization: Bearer root"
	m := in.MustStatus(200, "POST", "/v1/auth/keys", map[string]any{"name": "svc", "role": "user"}, admin).Map(t)
	user := "Authorization: Bearer " + m["key"].(string)
	runDocCases(t, in, []docCase{
		{name: "user writes docs", method: "PUT", path: "/v1/doc/c/a", body: `{"x":1}`, headers: []string{user}, status: 200, writes: 1},
		{name: "user cannot create index", method: "POST", path: "/v1/doc/c/_indexes", body: `{"field":"x"}`, headers: []string{user}, status: 403, code: "forbidden", msg: "admin role required"},
		{name: "admin creates index", method: "POST", path: "/v1/doc/c/_indexes", body: `{"field":"x"}`, headers: []string{admin}, status: 200},
		{name: "user lists", method: "GET", path: "/v1/doc/c/_indexes", headers: []string{user}, status: 200, contain: `"field":"x"`},
		{name: "user cannot drop", method: "DELETE", path: "/v1/doc/c/_indexes/x", headers: []string{user}, status: 403, code: "forbidden"},
		{name: "no key", method: "GET", path: "/v1/doc/c/a", status: 401, code: "unauthorized"},
	})
}

// waitIndexReady polls the index list until every index is ready and
// returns the progress reports seen (the bound is the test timeout).
func waitIndexReady(t testing.TB, in *servertest.Instance, c string) []string {
	t.Helper()
	var seen []string
	for {
		var res struct {
			Indexes []struct {
				Field    string `json:"field"`
				State    string `json:"state"`
				Progress struct {
					Processed, Total uint64
				} `json:"progress"`
				ReadyAtMs *uint64 `json:"ready_at_ms"`
			} `json:"indexes"`
		}
		in.MustStatus(200, "GET", "/v1/doc/"+c+"/_indexes", nil).JSON(t, &res)
		ready := true
		for _, ix := range res.Indexes {
			seen = append(seen, fmt.Sprintf("%s:%s:%d/%d", ix.Field, ix.State, ix.Progress.Processed, ix.Progress.Total))
			if ix.State != "ready" {
				ready = false
			} else if ix.ReadyAtMs == nil || ix.Progress.Processed != ix.Progress.Total {
				t.Fatalf("ready index reports %+v", ix)
			}
		}
		if ready {
			return seen
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func putDocs(t *testing.T, in *servertest.Instance, c string, docs map[string]string) {
	t.Helper()
	for id, d := range docs {
		in.MustStatus(200, "PUT", "/v1/doc/"+c+"/"+id, d)
	}
}

// findAllHTTP pages through a find; it fails on duplicates.
func findAllHTTP(t *testing.T, in *servertest.Instance, c, filter, sort string, limit int) ([]string, map[string]bool) {
	t.Helper()
	var ids []string
	used := map[string]bool{}
	cursor := ""
	for {
		body := fmt.Sprintf(`{"filter":%s,"limit":%d`, filter, limit)
		if sort != "" {
			body += `,"sort":` + sort
		}
		if cursor != "" {
			body += fmt.Sprintf(`,"cursor":%q`, cursor)
		}
		body += "}"
		var res findResult
		in.MustStatus(200, "POST", "/v1/doc/"+c+"/find", body).JSON(t, &res)
		ids = append(ids, res.ids()...)
		if res.IndexUsed != nil {
			used[*res.IndexUsed] = true
		} else {
			used[""] = true
		}
		if res.NextCursor == nil {
			return ids, used
		}
		cursor = *res.NextCursor
	}
}

// TestDocIndexScanEquivalenceHTTP: random documents in an indexed and an
// unindexed collection; random filters, sorts and page sizes answer the
// same through the API. (internal/docstore has the larger randomized
// version; this one covers the wire path.)
func TestDocIndexScanEquivalenceHTTP(t *testing.T) {
	in := servertest.Start(t, nil)
	r := rand.New(rand.NewPCG(7, 7))
	for _, f := range []string{`{"field":"n","type":"number"}`, `{"field":"s","type":"keyword"}`, `{"field":"o.v"}`, `{"field":"t"}`} {
		in.MustStatus(200, "POST", "/v1/doc/idx/_indexes", f)
	}
	for i := 0; i < 120; i++ {
		doc := map[string]any{}
		if r.IntN(6) > 0 {
			doc["n"] = r.IntN(10)
		}
		if r.IntN(6) > 0 {
			doc["s"] = []string{"a", "b", "c", "ab"}[r.IntN(4)]
		}
		if r.IntN(6) > 0 {
			doc["o"] = map[string]any{"v": []any{r.IntN(5), "x", true, nil}[r.IntN(4)]}
		}
		if r.IntN(3) > 0 {
			doc["t"] = []any{[]string{"a", "b"}[r.IntN(2)], r.IntN(3)}
		}
		b, _ := json.Marshal(doc)
		id := fmt.Sprintf("%03d", r.IntN(100))
		in.MustStatus(200, "PUT", "/v1/doc/idx/"+id, string(b))
		in.MustStatus(200, "PUT", "/v1/doc/raw/"+id, string(b))
	}
	waitIndexReady(t, in, "idx")
	filters := []string{
		`{}`, `{"n":3}`, `{"n":{"$gte":4,"$lt":8}}`, `{"n":{"$in":[1,2,9]}}`, `{"s":"ab"}`, `{"s":{"$gt":"a"}}`,
		`{"o.v":{"$lte":2}}`, `{"o.v":null}`, `{"t":{"$eq":"a"}}`, `{"t":{"$gt":0}}`, `{"n":{"$gt":2},"s":"b"}`,
		`{"$or":[{"n":1},{"s":"c"}]}`, `{"n":{"$ne":3}}`,
	}
	sorts := []string{"", `{"field":"n"}`, `{"field":"o.v","order":"desc"}`, `{"field":"o.v"}`, `{"field":"s","order":"desc"}`}
	indexed := 0
	for _, f := range filters {
		for _, so := range sorts {
			limit := 1 + r.IntN(15)
			got, used := findAllHTTP(t, in, "idx", f, so, limit)
			want, _ := findAllHTTP(t, in, "raw", f, so, limit)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("filter %s sort %s limit %d (index %v):\n got  %v\n want %v", f, so, limit, used, got, want)
			}
			if !used[""] {
				indexed++
			}
		}
	}
	if indexed < len(filters) {
		t.Fatalf("only %d finds used an index", indexed)
	}
}

// TestDocPagingUnderWrites pages through a sorted, indexed find while
// other clients insert, update (not the sort field) and delete documents:
// no document appears twice, and every document that stayed untouched
// appears exactly once.
func TestDocPagingUnderWrites(t *testing.T) {
	in := servertest.Start(t, nil)
	in.MustStatus(200, "POST", "/v1/doc/c/_indexes", `{"field":"rank"}`)
	const n = 300
	for i := 0; i < n; i++ {
		in.MustStatus(200, "PUT", fmt.Sprintf("/v1/doc/c/s%03d", i), fmt.Sprintf(`{"rank":%d,"v":0}`, (i*37)%101))
	}
	waitIndexReady(t, in, "c")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	touched := sync.Map{}
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := &http.Client{}
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var st int
				var err error
				switch r.IntN(3) {
				case 0: // a new document anywhere in the order
					st, _, err = docReq(client, "PUT", fmt.Sprintf("%s/v1/doc/c/w%d-%d", in.URL, w, i), fmt.Sprintf(`{"rank":%d}`, r.IntN(101)))
				case 1: // update a field that is not the sort key
					id := fmt.Sprintf("s%03d", r.IntN(n))
					st, _, err = docReq(client, "PUT", in.URL+"/v1/doc/c/"+id, fmt.Sprintf(`{"rank":%d,"v":%d}`, (mustAtoi(id[1:])*37)%101, i))
				default:
					id := fmt.Sprintf("s%03d", r.IntN(n))
					touched.Store(id, true)
					st, _, err = docReq(client, "DELETE", in.URL+"/v1/doc/c/"+id, "")
				}
				if err != nil || st != 200 {
					errs <- fmt.Errorf("writer: %d %v", st, err)
					return
				}
			}
		}(w)
	}
	for _, sort := range []string{`{"field":"rank"}`, `{"field":"rank","order":"desc"}`} {
		ids, used := findAllHTTP(t, in, "c", `{}`, sort, 7)
		if !used["rank"] || used[""] {
			t.Fatalf("paging did not use the index: %v", used)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("sort %s: %s returned twice", sort, id)
			}
			seen[id] = true
		}
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("s%03d", i)
			if _, gone := touched.Load(id); !gone && !seen[id] {
				t.Fatalf("sort %s: untouched document %s missing", sort, id)
			}
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func mustAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestDocIndexBuildAndRestart: an index declared on a populated collection
// builds in the background (building → ready, with progress), and docs and
// indexes survive restarts — including one taken while a build runs.
func TestDocIndexBuildAndRestart(t *testing.T) {
	dir := t.TempDir()
	in := servertest.Start(t, servertest.DiskConfig(t, dir))
	docs := map[string]string{}
	for i := 0; i < 1500; i++ {
		docs[fmt.Sprintf("d%04d", i)] = fmt.Sprintf(`{"g":%d,"name":"n%d"}`, i%10, i)
	}
	putDocs(t, in, "c", docs)
	var created struct {
		State    string `json:"state"`
		Progress struct{ Processed, Total uint64 }
	}
	in.MustStatus(200, "POST", "/v1/doc/c/_indexes", `{"field":"g","type":"number"}`).JSON(t, &created)
	if created.State != "building" || created.Progress.Total != 1500 {
		t.Fatalf("created %+v", created)
	}
	// Restart at once: the build is interrupted wherever it is and
	// resumes from its watermark.
	in.Close()
	in = servertest.Start(t, servertest.DiskConfig(t, dir))
	seen := waitIndexReady(t, in, "c")
	if !strings.HasSuffix(seen[len(seen)-1], "g:ready:1500/1500") {
		t.Fatalf("progress %v", seen)
	}
	in.MustStatus(200, "POST", "/v1/doc/c/_indexes", `{"field":"name","type":"keyword"}`)
	waitIndexReady(t, in, "c")
	in.Close()
	in = servertest.Start(t, servertest.DiskConfig(t, dir))
	var res findResult
	in.MustStatus(200, "POST", "/v1/doc/c/find", `{"filter":{"g":3},"limit":100}`).JSON(t, &res)
	if res.IndexUsed == nil || *res.IndexUsed != "g" || len(res.Documents) != 100 || res.Scanned != 101 {
		t.Fatalf("find after restart: index %v, %d docs, scanned %d", res.IndexUsed, len(res.Documents), res.Scanned)
	}
	in.MustStatus(200, "POST", "/v1/doc/c/find", `{"filter":{"name":"n77"}}`).JSON(t, &res)
	if res.IndexUsed == nil || *res.IndexUsed != "name" || fmt.Sprint(res.ids()) != "[d0077]" || res.Scanned != 1 {
		t.Fatalf("find by name: %v %v %d", res.IndexUsed, res.ids(), res.Scanned)
	}
	var got docCheck
	in.MustStatus(200, "GET", "/v1/doc/c/d1234", nil).JSON(t, &got)
	if string(got.Doc) != docs["d1234"] || got.Revision != 1 {
		t.Fatalf("doc after restart: %+v", got)
	}
	ids, _ := findAllHTTP(t, in, "c", `{"g":{"$gte":8}}`, `{"field":"g","order":"desc"}`, 100)
	if len(ids) != 300 || !slices.IsSortedFunc(ids[:150], func(a, b string) int { return -strings.Compare(a, b) }) {
		t.Fatalf("sorted range: %d ids, first %v", len(ids), ids[:3])
	}
}

type docCheck struct {
	ID       string          `json:"id"`
	Revision uint64          `json:"revision"`
	Doc      json.RawMessage `json:"doc"`
}

// FuzzDocFindBody: any find body gets a 200 or a JSON 4xx, never writes,
// respects the limit, and the indexed collection answers exactly like the
// unindexed copy of the same documents.
func FuzzDocFindBody(f *testing.F) {
	in := servertest.Start(f, servertest.Config(f, "--max-json-mb", "0.01"))
	for _, ix := range []string{`{"field":"n"}`, `{"field":"s","type":"keyword"}`, `{"field":"o.v","type":"number"}`, `{"field":"t"}`, `{"field":"b","type":"bool"}`} {
		in.MustStatus(200, "POST", "/v1/doc/idx/_indexes", ix)
	}
	docs := []string{
		`{"n":1,"s":"a","o":{"v":1},"t":["a",1],"b":true}`, `{"n":1.5,"s":"b","o":{"v":-2},"t":"a","b":false}`,
		`{"n":"1","s":"","o":"x","t":[],"b":null}`, `{"n":null,"s":"ab","t":[["a"]],"b":1}`, `{"s":"b\u0000","o":{"v":1e300}}`,
		`[1,2]`, `"str"`, `{"n":9007199254740993,"t":[true,null,2.5]}`, `{"n":-3,"o":{"v":"1"},"t":{"a":1}}`, `{}`,
	}
	for i, d := range docs {
		in.MustStatus(200, "PUT", fmt.Sprintf("/v1/doc/idx/d%d", i), d)
		in.MustStatus(200, "PUT", fmt.Sprintf("/v1/doc/raw/d%d", i), d)
	}
	waitIndexReady(f, in, "idx")
	f.Fuzz(func(t *testing.T, body string) {
		before := in.App.DB.LastOffset()
		ri := in.With(t).Do("POST", "/v1/doc/idx/find", body)
		rr := in.With(t).Do("POST", "/v1/doc/raw/find", body)
		if in.App.DB.LastOffset() != before {
			t.Fatal("find wrote events")
		}
		if ri.Status != rr.Status {
			t.Fatalf("indexed %d %s, scan %d %s", ri.Status, ri.Body, rr.Status, rr.Body)
		}
		switch ri.Status {
		case 200:
		case 400, 413, 422:
			var e struct{ Error, Message string }
			ri.JSON(t, &e)
			if e.Error == "" || e.Message == "" {
				t.Fatalf("error body %s", ri.Body)
			}
			return
		default:
			t.Fatalf("status %d: %s", ri.Status, ri.Body)
		}
		var a, b findResult
		ri.JSON(t, &a)
		rr.JSON(t, &b)
		if fmt.Sprint(a.ids()) != fmt.Sprint(b.ids()) || (a.NextCursor == nil) != (b.NextCursor == nil) {
			t.Fatalf("body %s: indexed %v (index %v), scan %v", body, a.ids(), a.IndexUsed, b.ids())
		}
		if len(a.Documents) > 100 || b.IndexUsed != nil {
			t.Fatalf("limit or plan broken: %d docs, scan index %v", len(a.Documents), b.IndexUsed)
		}
	})
}

// TestDocStateWritesReachIndexes: a document key written or deleted through
// /v1/state (allowed: documents are state keys) is indexed like one written
// through /v1/doc, by the store's reconciler following the event log.
func TestDocStateWritesReachIndexes(t *testing.T) {
	in := servertest.Start(t, nil)
	in.MustStatus(200, "POST", "/v1/doc/c/_indexes", `{"field":"k","type":"keyword"}`)
	in.MustStatus(200, "PUT", "/v1/doc/c/a", `{"k":"v"}`)
	in.MustStatus(200, "PUT", "/v1/state/doc:c:b", `{"value":{"k":"v"}}`)
	waitFindHTTP := func(want string) {
		t.Helper()
		for {
			var res findResult
			in.MustStatus(200, "POST", "/v1/doc/c/find", `{"filter":{"k":"v"}}`).JSON(t, &res)
			if res.IndexUsed == nil || *res.IndexUsed != "k" {
				t.Fatalf("index not used: %v", res.IndexUsed)
			}
			if fmt.Sprint(res.ids()) == want {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitFindHTTP("[a b]")
	in.MustStatus(200, "DELETE", "/v1/state/doc:c:a", nil)
	waitFindHTTP("[b]")
}
