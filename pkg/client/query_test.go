package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/luma-db/luma/pkg/client"
)

// seedRAG makes a knowledge base of chunks (meta.doc_id), an ACL table,
// the documents and a state item per document.
func seedRAG(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := ctxT(t)
	createColl(t, c, "kb", client.CreateCollection{Dim: 3})
	chunks := []struct {
		id  string
		v   []float32
		doc string
	}{
		{"c1", []float32{1, 0, 0}, "d1"}, {"c2", []float32{0.95, 0.05, 0}, "d2"},
		{"c3", []float32{0.9, 0.1, 0}, "d1"}, {"c4", []float32{0.85, 0.15, 0.05}, "d3"},
		{"c5", []float32{0.8, 0.2, 0}, "d2"}, {"c6", []float32{0.7, 0.3, 0.1}, "d4"},
		{"c7", []float32{0.6, 0.4, 0}, "d1"}, {"c8", []float32{0.5, 0.5, 0.2}, "d4"},
	}
	items := make([]client.Item, len(chunks))
	for i, ch := range chunks {
		items[i] = client.Item{ID: ch.id, Vector: ch.v, Meta: map[string]string{"doc_id": ch.doc}}
	}
	must[*client.BatchResult](t)(c.Vector.UpsertBatch(ctx, "kb", items, nil))
	must[*client.ExecResult](t)(c.SQL.Exec(ctx, "CREATE TABLE acl (user_id TEXT, doc_id TEXT)"))
	must[*client.ExecResult](t)(c.SQL.Exec(ctx, "INSERT INTO acl VALUES ('u1','d2'), ('u1','d4'), ('u2','d1')"))
	for _, d := range []string{"d1", "d2", "d3", "d4"} {
		must[*client.Document](t)(c.Docs.Put(ctx, "kbdocs", d, map[string]string{"title": "Document " + d}, 0))
	}
	put(t, c, "views:d2", 5)
}

func TestHybridQuery(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	seedRAG(t, c)
	q := []float32{1, 0, 0}
	res, err := c.Query(ctx, client.HybridQuery{Collection: "kb", Vector: q, K: 4, IncludeMeta: true})
	skipNoRoute(t, err)
	if err != nil {
		t.Fatal(err)
	}
	direct := must[[]client.Hit](t)(c.Vector.Search(ctx, "kb", client.SearchRequest{Vector: q, K: 4, IncludeMeta: true}))
	if len(res.Hits) != 4 || res.AuditOffset != nil || res.Stages.SQLKept != nil || res.Stages.VectorCandidates != 4 {
		t.Fatalf("vector only = %+v", res)
	}
	for i := range direct {
		if res.Hits[i].ID != direct[i].ID || res.Hits[i].Score != direct[i].Score || res.Hits[i].Doc != nil {
			t.Fatalf("hit %d = %+v, search gave %+v", i, res.Hits[i], direct[i])
		}
	}

	// The SQL predicate, checked against the same steps done separately.
	pred := &client.SQLPredicate{SQL: "SELECT doc_id AS id FROM acl WHERE user_id = ?", Params: []any{"u1"}, IDFrom: "meta.doc_id"}
	res = must[*client.HybridResult](t)(c.Query(ctx, client.HybridQuery{Collection: "kb", Vector: q, K: 3, SQL: pred,
		EnrichDoc:   &client.DocEnrichment{Collection: "kbdocs", IDFrom: "meta.doc_id"},
		EnrichState: &client.StateEnrichment{KeyTemplate: "views:{id}", IDFrom: "meta.doc_id"},
		Audit:       &client.AuditEvent{Type: "rag.retrieval", Key: "audit:u1", Payload: map[string]string{"user": "u1"}},
	}))
	rows := must[[]client.Row](t)(c.SQL.Query(ctx, pred.SQL, "u1"))
	permitted := map[string]bool{}
	for _, r := range rows {
		permitted[r["id"].(string)] = true
	}
	all := must[[]client.Hit](t)(c.Vector.Search(ctx, "kb", client.SearchRequest{Vector: q, K: 8, IncludeMeta: true}))
	var want []string
	for _, h := range all {
		var meta struct {
			DocID string `json:"doc_id"`
		}
		if err := json.Unmarshal(h.Meta, &meta); err != nil {
			t.Fatal(err)
		}
		if len(want) < 3 && permitted[meta.DocID] {
			want = append(want, h.ID)
		}
	}
	var got []string
	for _, h := range res.Hits {
		got = append(got, h.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(got) != "[c2 c5 c6]" {
		t.Fatalf("hybrid = %v, separate steps = %v", got, want)
	}
	if res.Stages.SQLKept == nil || *res.Stages.SQLKept < 3 || res.AuditOffset == nil {
		t.Fatalf("stages = %+v audit = %v", res.Stages, res.AuditOffset)
	}
	var doc struct{ Title string }
	if res.Hits[0].Doc == nil || res.Hits[0].Doc.Decode(&doc) != nil || doc.Title != "Document d2" {
		t.Fatalf("doc enrichment = %+v", res.Hits[0].Doc)
	}
	if res.Hits[0].State == nil || string(res.Hits[0].State.Value) != "5" || res.Hits[2].State != nil {
		t.Fatalf("state enrichment = %+v / %+v", res.Hits[0].State, res.Hits[2].State)
	}
	sub := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{Since: *res.AuditOffset - 1, KeyPrefix: "audit:"}))
	defer sub.Close()
	if ev := next(t, sub); ev.Type != "rag.retrieval" || ev.Offset != *res.AuditOffset || !strings.Contains(string(ev.Data), "c2") {
		t.Fatalf("audit event = %+v %s", ev, ev.Data)
	}

	named := &client.SQLPredicate{
		SQL:    "SELECT value AS id FROM json_each(:ids) WHERE value IN (SELECT doc_id FROM acl WHERE user_id = :u)",
		Params: client.Named{"u": "u1"}, IDFrom: "meta.doc_id",
	}
	res = must[*client.HybridResult](t)(c.Query(ctx, client.HybridQuery{Collection: "kb", Vector: q, K: 3, SQL: named}))
	if len(res.Hits) != 3 || res.Hits[0].ID != "c2" {
		t.Fatalf(":ids = %+v", res.Hits)
	}

	for name, tc := range map[string]struct {
		q    client.HybridQuery
		want error
	}{
		"missing collection": {client.HybridQuery{Collection: "nope", Vector: q, K: 1}, client.ErrNotFound},
		"dim mismatch":       {client.HybridQuery{Collection: "kb", Vector: q[:2], K: 1}, client.ErrDimMismatch},
		"write statement":    {client.HybridQuery{Collection: "kb", Vector: q, K: 1, SQL: &client.SQLPredicate{SQL: "DELETE FROM acl"}}, client.ErrInvalidArgument},
		"bad statement":      {client.HybridQuery{Collection: "kb", Vector: q, K: 1, SQL: &client.SQLPredicate{SQL: "SELECT id FROM nope"}}, client.ErrSQLite},
		"reserved audit":     {client.HybridQuery{Collection: "kb", Vector: q, K: 1, Audit: &client.AuditEvent{Type: "gap"}}, client.ErrInvalidArgument},
	} {
		if _, err := c.Query(ctx, tc.q); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
