package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/servertest"
)

type queryHit struct {
	ID    string          `json:"id"`
	Score float64         `json:"score"`
	Meta  json.RawMessage `json:"meta"`
	Doc   json.RawMessage `json:"doc"`
	State json.RawMessage `json:"state"`
}

type queryResult struct {
	Hits   []queryHit `json:"hits"`
	Stages struct {
		VectorCandidates int     `json:"vector_candidates"`
		SQLKept          *int    `json:"sql_kept"`
		Rounds           int     `json:"rounds"`
		Fallback         *string `json:"fallback"`
	} `json:"stages"`
	AuditOffset *uint64 `json:"audit_offset"`
}

func (q queryResult) ids() []string {
	out := []string{}
	for _, h := range q.Hits {
		out = append(out, h.ID)
	}
	return out
}

func randVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// ragCorpus makes the RAG-with-permissions data over HTTP: a collection
// of chunks (meta {doc_id, lang, chunk}), the source documents, and an
// ACL table acl(user, doc_id) granting each user a random share of the
// documents (and, for the hit-id form, of the chunks). It returns the
// grants per user: document ids and chunk ids.
func ragCorpus(t *testing.T, in *servertest.Instance, r *rand.Rand, docs, chunksPerDoc int, share map[string]float64) map[string]map[string]bool {
	t.Helper()
	in.MustStatus(200, "POST", "/v1/vector/chunks", map[string]any{"dim": 8, "metric": "cosine"})
	var items []map[string]any
	for d := range docs {
		doc := fmt.Sprintf("doc-%02d", d)
		in.MustStatus(200, "PUT", "/v1/doc/sources/"+doc, map[string]any{"title": "Source " + doc, "owner": d % 3})
		for c := range chunksPerDoc {
			items = append(items, map[string]any{
				"id":     fmt.Sprintf("%s#%d", doc, c),
				"vector": randVector(r, 8),
				"meta":   map[string]any{"doc_id": doc, "lang": []string{"en", "es"}[r.IntN(2)], "chunk": c},
			})
		}
	}
	for len(items) > 0 {
		n := min(len(items), 200)
		in.MustStatus(200, "POST", "/v1/vector/chunks/upsert_batch", map[string]any{"items": items[:n]})
		items = items[n:]
	}
	in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": "CREATE TABLE acl(user TEXT NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (user, doc_id))"})
	grants := map[string]map[string]bool{}
	var stmts []map[string]any
	for _, user := range slices.Sorted(maps.Keys(share)) {
		grants[user] = map[string]bool{}
		for d := range docs {
			doc := fmt.Sprintf("doc-%02d", d)
			if r.Float64() < share[user] {
				grants[user][doc] = true
				stmts = append(stmts, map[string]any{"sql": "INSERT INTO acl VALUES (?, ?)", "params": []any{user, doc}})
				for c := range chunksPerDoc {
					id := fmt.Sprintf("%s#%d", doc, c)
					grants[user][id] = true
					stmts = append(stmts, map[string]any{"sql": "INSERT INTO acl VALUES (?, ?)", "params": []any{user, id}})
				}
			}
		}
	}
	if len(stmts) > 0 {
		in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"statements": stmts})
	}
	return grants
}

// TestHybridQueryMatchesSeparateSteps runs the RAG-with-permissions query
// in one call and checks it against the same steps done separately over
// HTTP: a search listing every match, the ACL SELECT, then a document get
// per kept hit. Each call also writes an audit event, which must reach a
// stream subscriber with the final ids.
func TestHybridQueryMatchesSeparateSteps(t *testing.T) {
	in := servertest.Start(t, nil)
	r := rand.New(rand.NewPCG(11, 12))
	const docs, perDoc = 24, 5
	grants := ragCorpus(t, in, r, docs, perDoc, map[string]float64{"ada": 0.15, "bob": 0.6, "eve": 0})
	stream := openStream(t, in, "/v1/stream?types=rag.retrieval")

	forms := []struct {
		name, sql string
		named     bool
		idFrom    string
	}{
		{"chunk ids", "SELECT doc_id FROM acl WHERE user = ?", false, ""},
		{"chunk ids with :ids", "SELECT doc_id AS id FROM acl WHERE user = :user AND doc_id IN (SELECT value FROM json_each(:ids))", true, "id"},
		{"source documents", "SELECT doc_id FROM acl WHERE user = ?", false, "meta.doc_id"},
		{"source documents with :ids", "SELECT doc_id FROM acl WHERE user = :user AND doc_id IN (SELECT value FROM json_each(:ids))", true, "meta.doc_id"},
	}
	for i := range 12 {
		form := forms[i%len(forms)]
		user := []string{"ada", "bob", "eve"}[r.IntN(3)]
		k := []int{1, 3, 8}[r.IntN(3)]
		var filters any
		if r.IntN(2) == 0 {
			filters = map[string]any{"lang": "en"}
		}
		q := randVector(r, 8)
		var params any = []any{user}
		if form.named {
			params = map[string]any{"user": user}
		}
		question := fmt.Sprintf("question %d", i)
		body := map[string]any{
			"vector": map[string]any{"collection": "chunks", "vector": q, "k": k, "filters": filters, "include_meta": true},
			"sql":    map[string]any{"sql": form.sql, "params": params, "id_from": form.idFrom},
			"enrich": map[string]any{"doc": map[string]any{"collection": "sources", "id_from": "meta.doc_id"}},
			"audit":  map[string]any{"type": "rag.retrieval", "key": "user:" + user, "payload": map[string]any{"question": question}},
		}
		var got queryResult
		in.MustStatus(200, "POST", "/v1/query", body).JSON(t, &got)

		// The same steps, separately.
		var all struct{ Hits []queryHit }
		in.MustStatus(200, "POST", "/v1/vector/chunks/search", map[string]any{"vector": q, "k": docs * perDoc, "filters": filters, "include_meta": true}).JSON(t, &all)
		var acl struct {
			Rows []struct {
				DocID string `json:"doc_id"`
			}
		}
		in.MustStatus(200, "POST", "/v1/sql/query", map[string]any{"sql": "SELECT doc_id FROM acl WHERE user = ?", "params": []any{user}}).JSON(t, &acl)
		allowed := map[string]bool{}
		for _, row := range acl.Rows {
			allowed[row.DocID] = true
		}
		if len(allowed) != len(grants[user]) {
			t.Fatalf("acl rows %d, granted %d", len(allowed), len(grants[user]))
		}
		var want []queryHit
		for _, h := range all.Hits {
			var m struct {
				DocID string `json:"doc_id"`
			}
			if err := json.Unmarshal(h.Meta, &m); err != nil {
				t.Fatal(err)
			}
			key := h.ID
			if form.idFrom == "meta.doc_id" {
				key = m.DocID
			}
			if allowed[key] && len(want) < k {
				h.Doc = in.MustStatus(200, "GET", "/v1/doc/sources/"+m.DocID, nil).Body
				want = append(want, h)
			}
		}
		if len(got.Hits) != len(want) {
			t.Fatalf("%s, user %s, k %d: %d hits %v, separately %d", form.name, user, k, len(got.Hits), got.ids(), len(want))
		}
		for j, h := range got.Hits {
			w := want[j]
			if h.ID != w.ID || h.Score != w.Score || string(h.Meta) != string(w.Meta) || string(h.Doc) != string(w.Doc) {
				t.Fatalf("%s, user %s: hit %d\n got %s %v %s %s\nwant %s %v %s %s", form.name, user, j, h.ID, h.Score, h.Meta, h.Doc, w.ID, w.Score, w.Meta, w.Doc)
			}
		}
		if got.Stages.SQLKept == nil || got.Stages.Rounds < 1 || got.AuditOffset == nil {
			t.Fatalf("stages %+v, audit %v", got.Stages, got.AuditOffset)
		}

		// The audit event, live on the stream.
		ev := stream.next(t)
		if ev.Event != "rag.retrieval" || ev.ID != fmt.Sprint(*got.AuditOffset) {
			t.Fatalf("stream event %+v, want rag.retrieval at %d", ev, *got.AuditOffset)
		}
		var env struct {
			Data struct {
				Key        string `json:"key"`
				Collection string `json:"collection"`
				Payload    struct {
					IDs     []string `json:"ids"`
					Payload struct{ Question string }
				} `json:"payload"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &env); err != nil {
			t.Fatal(err)
		}
		d := env.Data
		if d.Key != "user:"+user || d.Collection != "chunks" || !slices.Equal(d.Payload.IDs, got.ids()) || d.Payload.Payload.Question != question {
			t.Fatalf("audit event %s, hits %v", ev.Data, got.ids())
		}
	}
}

// TestHybridQueryNearestForbidden: the best MAX_K matches are all
// forbidden, yet k permitted hits come back, equal to a search restricted
// to the permitted points.
func TestHybridQueryNearestForbidden(t *testing.T) {
	in := servertest.Start(t, nil)
	r := rand.New(rand.NewPCG(13, 14))
	const n = 300 // more than MAX_K (256)
	in.MustStatus(200, "POST", "/v1/vector/pts", map[string]any{"dim": 8, "metric": "dot"})
	var items []map[string]any
	for i := range n {
		items = append(items, map[string]any{"id": fmt.Sprintf("p%03d", i), "vector": randVector(r, 8), "meta": map[string]any{"doc": fmt.Sprintf("d%03d", i)}})
	}
	in.MustStatus(200, "POST", "/v1/vector/pts/upsert_batch", map[string]any{"items": items[:150]})
	in.MustStatus(200, "POST", "/v1/vector/pts/upsert_batch", map[string]any{"items": items[150:]})
	q := randVector(r, 8)
	var top struct{ Hits []queryHit }
	in.MustStatus(200, "POST", "/v1/vector/pts/search", map[string]any{"vector": q, "k": 256}).JSON(t, &top)
	inTop := map[string]bool{}
	for _, h := range top.Hits {
		inTop[h.ID] = true
	}
	// Grant 8 points outside the best 256, by point id and by doc.
	in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": "CREATE TABLE acl(user TEXT, point TEXT, doc TEXT)"})
	var granted, grantedDocs []string
	for i := range n {
		id := fmt.Sprintf("p%03d", i)
		if !inTop[id] && len(granted) < 8 {
			granted = append(granted, id)
			grantedDocs = append(grantedDocs, fmt.Sprintf("d%03d", i))
			in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": "INSERT INTO acl VALUES ('ada', ?, ?)", "params": []any{id, fmt.Sprintf("d%03d", i)}})
		}
	}
	var want struct{ Hits []queryHit }
	in.MustStatus(200, "POST", "/v1/vector/pts/search", map[string]any{"vector": q, "k": 5, "include_meta": true,
		"filters": map[string]any{"doc": map[string]any{"$in": grantedDocs}}}).JSON(t, &want)
	if len(want.Hits) != 5 {
		t.Fatalf("restricted search: %d hits", len(want.Hits))
	}
	for _, tc := range []struct{ sql, idFrom, fallback string }{
		{"SELECT point FROM acl WHERE user = 'ada'", "id", "scan"},
		{"SELECT doc FROM acl WHERE user = 'ada'", "meta.doc", "filter"},
	} {
		var got queryResult
		in.MustStatus(200, "POST", "/v1/query", map[string]any{
			"vector": map[string]any{"collection": "pts", "vector": q, "k": 5, "include_meta": true},
			"sql":    map[string]any{"sql": tc.sql, "id_from": tc.idFrom},
		}).JSON(t, &got)
		if got.Stages.Fallback == nil || *got.Stages.Fallback != tc.fallback || got.Stages.VectorCandidates != 256 || *got.Stages.SQLKept != 0 {
			t.Fatalf("%s: stages %+v", tc.idFrom, got.Stages)
		}
		if len(got.Hits) != 5 {
			t.Fatalf("%s: %d hits, want 5", tc.idFrom, len(got.Hits))
		}
		for i, h := range got.Hits {
			if w := want.Hits[i]; h.ID != w.ID || h.Score != w.Score || string(h.Meta) != string(w.Meta) {
				t.Fatalf("%s: hit %d %s %v %s, want %s %v %s", tc.idFrom, i, h.ID, h.Score, h.Meta, w.ID, w.Score, w.Meta)
			}
		}
	}
}

// TestHybridQueryErrors: every failure is a 4xx naming the problem, and
// none appends the audit event the request asked for.
func TestHybridQueryErrors(t *testing.T) {
	cfg := servertest.Config(t)
	cfg.SQLMaxRows = 3
	cfg.SQLQueryTimeout = 100 * time.Millisecond
	cfg.MaxJSONBytes = 4096
	in := servertest.Start(t, cfg)
	in.MustStatus(200, "POST", "/v1/vector/c", map[string]any{"dim": 3, "metric": "cosine"})
	in.MustStatus(200, "POST", "/v1/vector/c/upsert", map[string]any{"id": "a", "vector": []float32{1, 0, 0}, "meta": map[string]any{"n": 1}})
	in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": "CREATE TABLE acl(user TEXT, doc_id TEXT)"})
	audit := `"audit":{"type":"rag.retrieval","payload":1}`
	vec := `"vector":{"collection":"c","vector":[1,0,0],"k":1}`
	body := func(parts ...string) string { return "{" + strings.Join(append(parts, audit), ",") + "}" }
	runDocCases(t, in, []docCase{
		{name: "unknown collection", method: "POST", path: "/v1/query", body: body(`"vector":{"collection":"nope","vector":[1,0,0],"k":1}`), status: 404, code: "not_found"},
		{name: "bad filter names field and operator", method: "POST", path: "/v1/query", body: body(`"vector":{"collection":"c","vector":[1,0,0],"k":1,"filters":{"n":{"$gt":[1]}}}`),
			status: 400, code: "invalid_argument", contain: `field "n": $gt`},
		{name: "dim mismatch", method: "POST", path: "/v1/query", body: body(`"vector":{"collection":"c","vector":[1,0],"k":1}`), status: 400, code: "dim_mismatch"},
		{name: "invalid k", method: "POST", path: "/v1/query", body: body(`"vector":{"collection":"c","vector":[1,0,0],"k":0}`), status: 400, code: "invalid_argument", msg: "invalid k"},
		{name: "bad sql", method: "POST", path: "/v1/query", body: body(vec, `"sql":{"sql":"SELECT doc_id FROM nope"}`), status: 400, code: "sqlite_error", contain: "no such table: nope"},
		{name: "write sql", method: "POST", path: "/v1/query", body: body(vec, `"sql":{"sql":"DELETE FROM acl"}`), status: 400, code: "invalid_argument",
			msg: "sql query endpoint only accepts SELECT statements"},
		{name: "too many rows", method: "POST", path: "/v1/query", body: body(vec, `"sql":{"sql":"SELECT value FROM json_each('[1,2,3,4]')"}`), status: 400, code: "invalid_argument",
			contain: "more than 3 rows; add LIMIT or raise SQL_MAX_ROWS"},
		{name: "sql timeout", method: "POST", path: "/v1/query",
			body:   body(vec, `"sql":{"sql":"SELECT count(*) FROM (WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT x FROM r)"}`),
			status: 408, code: "timeout", contain: "SQL_QUERY_TIMEOUT_MS"},
		{name: "param count", method: "POST", path: "/v1/query", body: body(vec, `"sql":{"sql":"SELECT doc_id FROM acl WHERE user = ?","params":[]}`), status: 400, code: "sqlite_error"},
		{name: ":ids with positional params", method: "POST", path: "/v1/query", body: body(vec, `"sql":{"sql":"SELECT value FROM json_each(:ids) WHERE ? = 1","params":[1]}`),
			status: 400, code: "invalid_argument", contain: "sql.params"},
		{name: "caller sets :ids", method: "POST", path: "/v1/query", body: body(vec, `"sql":{"sql":"SELECT value FROM json_each(:ids)","params":{"ids":"[]"}}`),
			status: 400, code: "invalid_argument", contain: "Luma binds :ids"},
		{name: "bad id_from", method: "POST", path: "/v1/query", body: body(vec, `"sql":{"sql":"SELECT 1","id_from":"meta"}`), status: 400, code: "invalid_argument", contain: "sql.id_from"},
		{name: "doc collection with colon", method: "POST", path: "/v1/query", body: body(vec, `"enrich":{"doc":{"collection":"a:b"}}`), status: 400, code: "invalid_argument", contain: "enrich.doc.collection"},
		{name: "template without {id}", method: "POST", path: "/v1/query", body: body(vec, `"enrich":{"state":{"key_template":"user"}}`), status: 400, code: "invalid_argument", contain: "{id}"},
		{name: "reserved audit type", method: "POST", path: "/v1/query", body: "{" + vec + `,"audit":{"type":"state_updated"}}`, status: 400, code: "invalid_argument", contain: "reserved"},
		{name: "empty audit key", method: "POST", path: "/v1/query", body: "{" + vec + `,"audit":{"type":"x","key":""}}`, status: 400, code: "invalid_argument", contain: "audit.key"},
		{name: "audit payload too large", method: "POST", path: "/v1/query", body: "{" + vec + `,"audit":{"type":"x","payload":"` + strings.Repeat("p", 5000) + `"}}`,
			status: 413, code: "payload_too_large", msg: "payload too large"},
		{name: "vector and vector_b64", method: "POST", path: "/v1/query", body: body(`"vector":{"collection":"c","vector":[1,0,0],"vector_b64":"AACAPw==","k":1}`), status: 400, code: "invalid_argument"},
		{name: "bad vector_b64", method: "POST", path: "/v1/query", body: body(`"vector":{"collection":"c","vector_b64":"!!","k":1}`), status: 400, code: "invalid_argument"},
		{name: "malformed", method: "POST", path: "/v1/query", body: `{"vector":`, status: 400, code: "invalid_argument"},
		{name: "empty body", method: "POST", path: "/v1/query", body: ``, status: 400, code: "invalid_argument"},
	})
	bad := in.BadInput()
	runDocCases(t, bad, []docCase{
		{name: "missing vector stage", method: "POST", path: "/v1/query", body: body(), status: 422, code: "invalid_argument", contain: `"vector"`},
		{name: "missing collection", method: "POST", path: "/v1/query", body: body(`"vector":{"vector":[1,0,0],"k":1}`), status: 422, code: "invalid_argument", contain: "vector.collection"},
		{name: "missing k", method: "POST", path: "/v1/query", body: body(`"vector":{"collection":"c","vector":[1,0,0]}`), status: 422, code: "invalid_argument", contain: "vector.k"},
		{name: "missing vector", method: "POST", path: "/v1/query", body: body(`"vector":{"collection":"c","k":1}`), status: 422, code: "invalid_argument", contain: "vector.vector"},
		{name: "missing sql text", method: "POST", path: "/v1/query", body: body(vec, `"sql":{}`), status: 422, code: "invalid_argument", contain: "sql.sql"},
		{name: "params not array or object", method: "POST", path: "/v1/query", body: body(vec, `"sql":{"sql":"SELECT 1","params":5}`), status: 422, code: "invalid_argument"},
		{name: "missing audit type", method: "POST", path: "/v1/query", body: "{" + vec + `,"audit":{}}`, status: 422, code: "invalid_argument", contain: "audit.type"},
		{name: "invalid audit type", method: "POST", path: "/v1/query", body: "{" + vec + `,"audit":{"type":"a b"}}`, status: 400, code: "invalid_argument", contain: "invalid event type"},
		{name: "k not a number", method: "POST", path: "/v1/query", body: body(`"vector":{"collection":"c","vector":[1,0,0],"k":"1"}`), status: 422, code: "invalid_argument"},
		{name: "missing doc collection", method: "POST", path: "/v1/query", body: body(vec, `"enrich":{"doc":{}}`), status: 422, code: "invalid_argument", contain: "enrich.doc.collection"},
	})

	// The same request succeeds once fixed, and writes exactly its event.
	runDocCases(t, in, []docCase{
		{name: "valid", method: "POST", path: "/v1/query", body: body(vec, `"sql":{"sql":"SELECT 'a'"}`), status: 200, contain: `"audit_offset":`, writes: 1},
	})
}

func TestHybridQuerySQLDisabled(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--no-sqlite"))
	in.MustStatus(200, "POST", "/v1/vector/c", map[string]any{"dim": 2, "metric": "cosine"})
	in.MustStatus(200, "POST", "/v1/vector/c/upsert", map[string]any{"id": "a", "vector": []float32{1, 0}})
	runDocCases(t, in, []docCase{
		{name: "with sql", method: "POST", path: "/v1/query", body: `{"vector":{"collection":"c","vector":[1,0],"k":1},"sql":{"sql":"SELECT 1"},"audit":{"type":"x"}}`,
			status: 404, code: "not_enabled"},
		{name: "without sql", method: "POST", path: "/v1/query", body: `{"vector":{"collection":"c","vector":[1,0],"k":1}}`, status: 200,
			contain: `{"hits":[{"id":"a","score":1.0,"meta":null}],"stages":{"vector_candidates":1,"sql_kept":null,"rounds":1,"fallback":null},"audit_offset":null}`},
	})
}

// TestHybridQueryRoles: a read-only key may query, but not with audit.
func TestHybridQueryRoles(t *testing.T) {
	in := servertest.Start(t, servertest.DiskConfig(t, t.TempDir(), "--api-key", "root"))
	root := "Authorization: Bearer root"
	reader := "x-api-key: " + in.MustStatus(200, "POST", "/v1/auth/keys", map[string]any{"name": "ro", "role": "reader"}, root).Map(t)["key"].(string)
	user := "x-api-key: " + in.MustStatus(200, "POST", "/v1/auth/keys", map[string]any{"name": "rw", "role": "user"}, root).Map(t)["key"].(string)
	in.MustStatus(200, "POST", "/v1/vector/c", map[string]any{"dim": 2, "metric": "cosine"}, root)
	in.MustStatus(200, "POST", "/v1/vector/c/upsert", map[string]any{"id": "a", "vector": []float32{1, 0}}, root)
	q := `{"vector":{"collection":"c","vector":[1,0],"k":1}`
	withAudit := q + `,"audit":{"type":"rag.retrieval","payload":{"by":"test"}}}`
	runDocCases(t, in, []docCase{
		{name: "no key", method: "POST", path: "/v1/query", body: q + "}", status: 401, code: "unauthorized"},
		{name: "reader queries", method: "POST", path: "/v1/query", body: q + "}", headers: []string{reader}, status: 200, contain: `"audit_offset":null`},
		{name: "reader cannot audit", method: "POST", path: "/v1/query", body: withAudit, headers: []string{reader}, status: 403, code: "forbidden", contain: "read-only"},
		{name: "user audits", method: "POST", path: "/v1/query", body: withAudit, headers: []string{user}, status: 200, contain: `"audit_offset":`, writes: 1},
	})
}
