package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/docstore"
	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/sqlstore"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
	"github.com/luma-db/luma/internal/vector"
)

// fixture is the real stores: storage in memory, SQLite in a temporary
// directory. The vector store accepts k up to 1024 so that a reference
// search can list every match of a test collection, while the engine's
// over-fetch is capped at maxCand to reach its fallbacks on small data.
type fixture struct {
	t   *testing.T
	db  *storage.DB
	st  *state.Store
	vs  *vector.Store
	ds  *docstore.Store
	sql *sqlstore.Store
	e   *Engine
}

const maxCand = 48

func newFixture(t *testing.T) *fixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := storage.Open(storage.Options{InMemory: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.New(db, state.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := vector.Open(db, vector.Options{
		Limits:   vector.Limits{MaxK: 1024},
		Defaults: vector.IndexSettings{Kind: vector.IndexFlat},
		State:    st, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := docstore.New(db, st, docstore.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sq, err := sqlstore.Open(sqlstore.Options{Path: filepath.Join(t.TempDir(), "q.db"), Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, st: st, vs: vs, ds: ds, sql: sq}
	f.e = New(Options{DB: db, Vector: vs, SQL: sq, Docs: ds, State: st, MaxCandidates: maxCand})
	t.Cleanup(func() {
		_ = sq.Close()
		ds.Close()
		_ = vs.Close()
		st.Close()
		_ = db.Close()
	})
	return f
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.sql.Exec(context.Background(), q, sqlstore.Positional(args...)); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

// corpus fills collection c with n random points of dim 8 whose meta is
// {"doc": "d<i%docs>", "lang": ..., "n": i}, and returns the ids.
func (f *fixture) corpus(c string, metric vector.Metric, n, docs int, r *rand.Rand) []string {
	f.t.Helper()
	ctx := context.Background()
	if err := f.vs.Create(ctx, vector.CreateRequest{Name: c, Dim: 8, Metric: metric}); err != nil {
		f.t.Fatal(err)
	}
	langs := []string{"en", "fr", "de"}
	ids := make([]string, n)
	var batch []vector.Item
	for i := range n {
		ids[i] = fmt.Sprintf("p%04d", i)
		v := make([]float32, 8)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		meta := fmt.Sprintf(`{"doc":"d%d","lang":%q,"n":%d}`, i%docs, langs[r.IntN(len(langs))], i)
		batch = append(batch, vector.Item{ID: ids[i], Vector: v, Meta: json.RawMessage(meta)})
		if len(batch) == 200 || i == n-1 {
			res, err := f.vs.UpsertBatch(ctx, c, batch)
			if err != nil {
				f.t.Fatal(err)
			}
			for _, x := range res {
				if x.Err != nil {
					f.t.Fatal(x.Err)
				}
			}
			batch = batch[:0]
		}
	}
	return ids
}

func randVec(r *rand.Rand) []float32 {
	v := make([]float32, 8)
	for j := range v {
		v[j] = float32(r.NormFloat64())
	}
	return v
}

// hitsString prints hits with exact scores for comparison.
func hitsString(hs []vector.Hit) string {
	var b strings.Builder
	for _, h := range hs {
		fmt.Fprintf(&b, "%s:%x ", h.ID, h.Score)
	}
	return b.String()
}

// TestMatchesSeparateSteps is the RAG-with-permissions case on random data:
// every answer of the engine must equal doing the steps separately — a
// search listing every match, the ACL SELECT on its own, keeping the
// matches the ACL permits — for keys that are hit ids or meta values,
// statements with and without :ids, users permitted on all, half, few or
// none of the points, every metric, and filters. Over-fetch is capped at
// maxCand, so users with few permissions reach the fallbacks.
func TestMatchesSeparateSteps(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	const n, docs = 400, 40
	users := map[string]float64{"all": 1, "half": 0.5, "few": 0.04, "rare": 0.01, "none": 0}
	f.exec("CREATE TABLE acl(user TEXT, doc_id TEXT)")
	f.exec("CREATE TABLE acl_docs(user TEXT, doc_id TEXT)")
	f.exec("CREATE INDEX acl_user ON acl(user, doc_id)")
	f.exec("CREATE INDEX acl_docs_user ON acl_docs(user, doc_id)")
	for _, u := range slices.Sorted(maps.Keys(users)) {
		ids, docIDs := []string{}, []string{}
		for i := range n {
			if r.Float64() < users[u] {
				ids = append(ids, fmt.Sprintf("p%04d", i))
			}
		}
		for d := range docs {
			if r.Float64() < users[u] {
				docIDs = append(docIDs, fmt.Sprintf("d%d", d))
			}
		}
		a, _ := json.Marshal(ids)
		b, _ := json.Marshal(docIDs)
		f.exec("INSERT INTO acl SELECT ?, value FROM json_each(?)", u, string(a))
		f.exec("INSERT INTO acl_docs SELECT ?, value FROM json_each(?)", u, string(b))
	}
	type variant struct {
		name, sql, plain, idFrom string
		named                    bool
	}
	variants := []variant{
		{"ids", "SELECT doc_id FROM acl WHERE user = ?", "", "id", false},
		{"ids with :ids", "SELECT doc_id AS id FROM acl WHERE user = :user AND doc_id IN (SELECT value FROM json_each(:ids))",
			"SELECT doc_id FROM acl WHERE user = ?", "", true},
		{"meta", "SELECT doc_id FROM acl_docs WHERE user = ?", "", "meta.doc", false},
		{"meta with :ids", "SELECT user, doc_id AS ID FROM acl_docs WHERE user = @user AND doc_id IN (SELECT value FROM json_each($ids))",
			"SELECT doc_id FROM acl_docs WHERE user = ?", "meta.doc", true},
	}
	filters := []string{"", `{"lang":"en"}`, `{"n":{"$lt":150}}`}
	userNames := []string{"all", "half", "few", "rare", "none"}
	fallbacks := map[Fallback]int{}
	permitted := map[string]map[string]bool{} // the ACL statement's answer per statement and user
	for _, metric := range []vector.Metric{vector.Cosine, vector.Dot, vector.L2} {
		coll := "c_" + string(metric)
		f.corpus(coll, metric, n, docs, r)
		for _, v := range variants {
			t.Run(string(metric)+"/"+v.name, func(t *testing.T) {
				for range 8 {
					user := userNames[r.IntN(len(userNames))]
					k := []int{1, 5, 20}[r.IntN(3)]
					flt := filters[r.IntN(len(filters))]
					q := randVec(r)
					includeMeta := r.IntN(2) == 0

					// The steps, separately.
					all, err := f.vs.Search(ctx, coll, vector.SearchRequest{Vector: q, K: n, Filters: json.RawMessage(flt), IncludeMeta: true})
					if err != nil {
						t.Fatal(err)
					}
					plain := v.sql
					if v.plain != "" {
						plain = v.plain
					}
					allowed := permitted[plain+"\x00"+user]
					if allowed == nil {
						rows, err := f.sql.Query(ctx, plain, sqlstore.Positional(user))
						if err != nil {
							t.Fatal(err)
						}
						allowed = map[string]bool{}
						for _, row := range rows.Rows {
							allowed[row[len(row)-1].(string)] = true
						}
						permitted[plain+"\x00"+user] = allowed
					}
					src, _ := parseSource("", v.idFrom)
					var want []vector.Hit
					for i, h := range all.Hits {
						if v.named && i >= maxCand {
							break // with :ids the guarantee covers the best maxCand matches
						}
						kk, ok := keyOf(h.ID, decodeMeta(h.Meta), src)
						if ok && allowed[kk.text] && len(want) < k {
							if !includeMeta {
								h.Meta = nil
							}
							want = append(want, h)
						}
					}

					params := json.RawMessage(fmt.Sprintf("[%q]", user))
					if v.named {
						params = json.RawMessage(fmt.Sprintf(`{"user":%q}`, user))
					}
					res, err := f.e.Run(ctx, Request{
						Collection: coll,
						Search:     vector.SearchRequest{Vector: q, K: k, Filters: json.RawMessage(flt), IncludeMeta: includeMeta},
						SQL:        &SQLStage{SQL: v.sql, Params: params, IDFrom: v.idFrom},
					})
					if err != nil {
						t.Fatal(err)
					}
					got := make([]vector.Hit, len(res.Hits))
					for i, h := range res.Hits {
						got[i] = h.Hit
					}
					if hitsString(got) != hitsString(want) {
						t.Fatalf("user %s k %d filter %s: engine\n%s\nseparate steps\n%s\nstages %+v", user, k, flt, hitsString(got), hitsString(want), res.Stages)
					}
					for i := range got {
						if string(got[i].Meta) != string(want[i].Meta) {
							t.Fatalf("hit %s meta %s, want %s", got[i].ID, got[i].Meta, want[i].Meta)
						}
					}
					if res.Stages.Rounds < 1 || res.Stages.SQLKept > res.Stages.VectorCandidates || res.Stages.VectorCandidates > maxCand {
						t.Fatalf("stages %+v", res.Stages)
					}
					fallbacks[res.Stages.Fallback]++
				}
			})
		}
	}
	t.Logf("fallbacks used: %v", fallbacks)
}

// TestFewPermittedNearest: when the nearest points are all forbidden, k
// permitted ones still come back, through the scan (keys are ids) or the
// filtered search (keys are meta values), with exactly the scores a plain
// search gives them, for every metric.
func TestFewPermittedNearest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	const n = 200
	f.exec("CREATE TABLE acl(coll TEXT, doc_id TEXT)")
	for _, metric := range []vector.Metric{vector.Cosine, vector.Dot, vector.L2} {
		coll := "c_" + string(metric)
		f.corpus(coll, metric, n, n, r) // doc = "d<i>": one point per doc
		q := randVec(r)
		all, err := f.vs.Search(ctx, coll, vector.SearchRequest{Vector: q, K: n})
		if err != nil {
			t.Fatal(err)
		}
		// Permit only the 6 farthest points.
		var want []string
		for _, h := range all.Hits[n-6:] {
			var i int
			fmt.Sscanf(h.ID, "p%d", &i)
			f.exec("INSERT INTO acl VALUES (?, ?), (?, ?)", coll, h.ID, coll, fmt.Sprintf("d%d", i))
			want = append(want, h.ID)
		}
		for _, tc := range []struct {
			idFrom   string
			fallback Fallback
			rounds   int
		}{{"id", FallbackScan, 2}, {"meta.doc", FallbackFilter, 3}} {
			res, err := f.e.Run(ctx, Request{
				Collection: coll,
				Search:     vector.SearchRequest{Vector: q, K: 5},
				SQL:        &SQLStage{SQL: "SELECT doc_id FROM acl WHERE coll = ?", Params: json.RawMessage(fmt.Sprintf("[%q]", coll)), IDFrom: tc.idFrom},
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, h := range res.Hits {
				got = append(got, h.ID)
				if ref := all.Hits[n-6+i]; h.ID != ref.ID || h.Score != ref.Score {
					t.Fatalf("%s %s: hit %d = %s %v, search gives %s %v", metric, tc.idFrom, i, h.ID, h.Score, ref.ID, ref.Score)
				}
			}
			if !slices.Equal(got, want[:5]) {
				t.Fatalf("%s %s: got %v, want %v", metric, tc.idFrom, got, want[:5])
			}
			// Rounds: fetch 20 keeps nothing, 8× is capped at 48, then the
			// fallback (a search of its own for meta keys).
			if st := res.Stages; st.Fallback != tc.fallback || st.VectorCandidates != maxCand || st.SQLKept != 0 || st.Rounds != tc.rounds {
				t.Fatalf("%s %s: stages %+v", metric, tc.idFrom, st)
			}
		}

		// With :ids the statement sees only candidates: the guarantee
		// covers the best maxCand matches, so nothing comes back here.
		res, err := f.e.Run(ctx, Request{
			Collection: coll,
			Search:     vector.SearchRequest{Vector: q, K: 5},
			SQL: &SQLStage{SQL: "SELECT doc_id FROM acl WHERE coll = :c AND doc_id IN (SELECT value FROM json_each(:ids))",
				Params: json.RawMessage(fmt.Sprintf(`{"c":%q}`, coll))},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != 0 || res.Stages.Fallback != FallbackNone || res.Stages.VectorCandidates != maxCand {
			t.Fatalf("%s with :ids: %d hits, stages %+v", metric, len(res.Hits), res.Stages)
		}
	}
}

func TestEnrichAndAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	f.corpus("c", vector.Dot, 20, 5, r)
	for _, d := range []string{"d0", "d1", "d2"} {
		if _, err := f.ds.Put(ctx, "src", d, []byte(fmt.Sprintf(`{"title":"doc %s"}`, d)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.st.Put(ctx, "views:p0003", json.RawMessage(`7`), state.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	q := randVec(r)
	before := f.db.LastOffset()
	res, err := f.e.Run(ctx, Request{
		Collection: "c",
		Search:     vector.SearchRequest{Vector: q, K: 20},
		Doc:        &DocEnrich{Collection: "src", IDFrom: "meta.doc"},
		State:      &StateEnrich{KeyTemplate: "views:{id}"},
		Audit:      &Audit{Type: "rag.retrieval", Key: "user:ada", Payload: json.RawMessage(`{"q":"why"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 20 {
		t.Fatalf("%d hits", len(res.Hits))
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
		if h.Meta != nil {
			t.Fatalf("meta returned without include_meta: %s", h.Meta)
		}
		var i int
		fmt.Sscanf(h.ID, "p%d", &i)
		doc := fmt.Sprintf("d%d", i%5)
		switch {
		case i%5 <= 2 && (h.Doc == nil || h.Doc.ID != doc || string(h.Doc.Doc) != fmt.Sprintf(`{"title":"doc %s"}`, doc) || h.Doc.Revision != 1):
			t.Fatalf("%s: doc %+v", h.ID, h.Doc)
		case i%5 > 2 && h.Doc != nil:
			t.Fatalf("%s: doc %+v, want none", h.ID, h.Doc)
		case h.ID == "p0003" && (h.State == nil || h.State.Key != "views:p0003" || string(h.State.Value) != "7"):
			t.Fatalf("%s: state %+v", h.ID, h.State)
		case h.ID != "p0003" && h.State != nil:
			t.Fatalf("%s: state %+v, want none", h.ID, h.State)
		}
	}
	if res.AuditOffset != before+1 || f.db.LastOffset() != before+1 {
		t.Fatalf("audit offset %d, log at %d, before %d", res.AuditOffset, f.db.LastOffset(), before)
	}
	evs, err := f.db.ReadEvents(res.AuditOffset, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("read audit event: %v %v", evs, err)
	}
	ev := evs[0]
	idsJSON, _ := json.Marshal(ids)
	wantData := `{"key":"user:ada","collection":"c","payload":{"ids":` + string(idsJSON) + `,"payload":{"q":"why"}}}`
	var env struct{ Data json.RawMessage }
	if err := json.Unmarshal(ev.Envelope, &env); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "rag.retrieval" || ev.Key != "user:ada" || ev.Collection != "c" || string(env.Data) != wantData {
		t.Fatalf("audit event %s %q %q %s, want data %s", ev.Type, ev.Key, ev.Collection, ev.Envelope, wantData)
	}

	// Without audit nothing is written; include_meta keeps meta.
	res, err = f.e.Run(ctx, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 2, IncludeMeta: true},
		Doc: &DocEnrich{Collection: "src"}})
	if err != nil || res.AuditOffset != 0 || f.db.LastOffset() != before+1 {
		t.Fatalf("no audit: %v, offset %d, log %d", err, res.AuditOffset, f.db.LastOffset())
	}
	for _, h := range res.Hits {
		if h.Meta == nil || h.Doc != nil || h.State != nil {
			t.Fatalf("hit %+v", h)
		}
	}
}

func TestErrorsWriteNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(9, 10))
	f.corpus("c", vector.Cosine, 10, 2, r)
	f.exec("CREATE TABLE acl(user TEXT, doc_id TEXT)")
	noSQL := New(Options{DB: f.db, Vector: f.vs, Docs: f.ds, State: f.st})
	q := randVec(r)
	audit := &Audit{Type: "x"}
	sql := func(s, params, from string) *SQLStage {
		return &SQLStage{SQL: s, Params: json.RawMessage(params), IDFrom: from}
	}
	var (
		fe *filter.Error
		se *sqlstore.SQLiteError
		ie *InvalidError
	)
	for _, tc := range []struct {
		name  string
		e     *Engine
		req   Request
		check func(error) bool
	}{
		{"unknown collection", f.e, Request{Collection: "nope", Search: vector.SearchRequest{Vector: q, K: 1}, Audit: audit},
			func(err error) bool { return errors.Is(err, vector.ErrCollectionNotFound) }},
		{"bad collection name", f.e, Request{Collection: "../x", Search: vector.SearchRequest{Vector: q, K: 1}, Audit: audit},
			func(err error) bool { return errors.Is(err, vector.ErrInvalidName) }},
		{"k zero", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 0}, Audit: audit},
			func(err error) bool { return errors.Is(err, vector.ErrInvalidK) }},
		{"k over max", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1025}, Audit: audit},
			func(err error) bool { return errors.Is(err, vector.ErrInvalidK) }},
		{"dim mismatch", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q[:3], K: 1}, Audit: audit},
			func(err error) bool { return errors.Is(err, vector.ErrDimMismatch) }},
		{"bad filter", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1, Filters: json.RawMessage(`{"n":{"$gt":[1]}}`)}, Audit: audit},
			func(err error) bool { return errors.As(err, &fe) && fe.Field == "n" && fe.Op == "$gt" }},
		{"sql disabled", noSQL, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, SQL: sql("SELECT 1", "", ""), Audit: audit},
			func(err error) bool { return errors.Is(err, ErrSQLDisabled) }},
		{"bad sql", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, SQL: sql("SELECT * FROM nope", "", ""), Audit: audit},
			func(err error) bool { return errors.As(err, &se) }},
		{"write sql", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, SQL: sql("DELETE FROM acl", "", ""), Audit: audit},
			func(err error) bool { return errors.Is(err, sqlstore.ErrNotSelect) }},
		{"two statements", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, SQL: sql("SELECT 1; DELETE FROM acl", "", ""), Audit: audit},
			func(err error) bool { return errors.Is(err, sqlstore.ErrMultipleStatements) }},
		{"param count", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, SQL: sql("SELECT ?", "[]", ""), Audit: audit},
			func(err error) bool { return errors.As(err, &se) }},
		{":ids with positional params", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, SQL: sql("SELECT value FROM json_each(:ids)", `[1]`, ""), Audit: audit},
			func(err error) bool { return errors.As(err, &ie) && ie.Field == "sql.params" }},
		{":ids set by the caller", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, SQL: sql("SELECT value FROM json_each(:ids)", `{":ids":"[]"}`, ""), Audit: audit},
			func(err error) bool { return errors.As(err, &ie) && ie.Field == "sql.params" }},
		{"bad sql id_from", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, SQL: sql("SELECT 1", "", "doc"), Audit: audit},
			func(err error) bool { return errors.As(err, &ie) && ie.Field == "sql.id_from" }},
		{"empty meta path", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, SQL: sql("SELECT 1", "", "meta."), Audit: audit},
			func(err error) bool { return errors.As(err, &ie) && ie.Field == "sql.id_from" }},
		{"bad doc collection", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, Doc: &DocEnrich{Collection: "a:b"}, Audit: audit},
			func(err error) bool { return errors.As(err, &ie) && ie.Field == "enrich.doc.collection" }},
		{"template without {id}", f.e, Request{Collection: "c", Search: vector.SearchRequest{Vector: q, K: 1}, State: &StateEnrich{KeyTemplate: "user:"}, Audit: audit},
			func(err error) bool { return errors.As(err, &ie) && ie.Field == "enrich.state.key_template" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.db.LastOffset()
			_, err := tc.e.Run(ctx, tc.req)
			if err == nil || !tc.check(err) {
				t.Fatalf("error %v (%T)", err, err)
			}
			if f.db.LastOffset() != before {
				t.Fatalf("the log moved from %d to %d", before, f.db.LastOffset())
			}
		})
	}
}

func TestUsesParam(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT value FROM json_each(:ids)":       true,
		"SELECT value FROM json_each(@ids)":       true,
		"SELECT value FROM json_each($ids)":       true,
		"SELECT x FROM t WHERE y IN (:ids)":       true,
		"SELECT ':ids'":                           false,
		`SELECT ":ids" FROM t`:                    false,
		"SELECT [:ids] FROM t":                    false,
		"SELECT `:ids` FROM t":                    false,
		"SELECT 1 -- :ids\n":                      false,
		"SELECT 1 /* :ids */":                     false,
		"SELECT 1 /* :ids */ + :ids":              true,
		"SELECT :ids2":                            false,
		"SELECT :idsx, :id":                       false,
		"SELECT a$ids FROM t":                     false,
		"SELECT 'it''s :ids' || :ids":             true,
		"SELECT :IDS":                             false,
		"SELECT x'00' FROM t WHERE a = :ids":      true,
		"SELECT 1 /* unterminated :ids":           false,
		"SELECT 1 FROM t WHERE a=:ids AND b=:u":   true,
		"SELECT json_extract(:ids, '$[0]')":       true,
		"SELECT 1 FROM t WHERE a = ? AND b = ?10": false,
	} {
		if got := usesParam(q, "ids"); got != want {
			t.Errorf("usesParam(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestGrow(t *testing.T) {
	for _, tc := range []struct{ fetch, k, cands, kept, limit, want int }{
		{20, 5, 20, 0, 256, 160},   // nothing kept: ×8
		{20, 5, 20, 1, 256, 150},   // 1 in 20 kept: 1.5·5·20
		{20, 5, 20, 4, 256, 40},    // nearly there: at least ×2
		{160, 5, 160, 0, 256, 256}, // capped
		{4, 1, 4, 0, 48, 32},
	} {
		if got := grow(tc.fetch, tc.k, tc.cands, tc.kept, tc.limit); got != tc.want {
			t.Errorf("grow(%+v) = %d", tc, got)
		}
	}
}
