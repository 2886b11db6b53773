package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/luma-db/luma/internal/docstore"
	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/sqlstore"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
	"github.com/luma-db/luma/internal/vector"
)

// ErrSQLDisabled: the request has an SQL stage and SQLite is disabled.
var ErrSQLDisabled = errors.New("query: sqlite module is disabled")

// InvalidError is a request the engine refuses before running any stage:
// Field names the request member, Msg says what is wrong.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string { return "query: " + e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Options are the engine's stores. SQL is nil when SQLite is disabled.
type Options struct {
	DB     *storage.DB
	Vector *vector.Store
	SQL    *sqlstore.Store
	Docs   *docstore.Store
	State  *state.Store
	// MaxCandidates caps the candidates the vector stage fetches in one
	// search. Zero or more than the vector store's MaxK (the largest k a
	// search accepts) means MaxK.
	MaxCandidates int
}

// Engine runs hybrid queries. It holds no state of its own and is safe
// for concurrent use.
type Engine struct {
	o Options
}

// New returns an engine over the stores of o.
func New(o Options) *Engine {
	if maxK := o.Vector.Limits().MaxK; o.MaxCandidates <= 0 || o.MaxCandidates > maxK {
		o.MaxCandidates = maxK
	}
	return &Engine{o: o}
}

// Request is one hybrid query.
type Request struct {
	// Collection is the vector collection searched.
	Collection string
	// Search is the vector stage: Vector, K (the hits wanted), Filters,
	// Ef, IncludeMeta, IncludeVector. GroupBy must be empty.
	Search vector.SearchRequest
	SQL    *SQLStage    // nil: no SQL stage
	Doc    *DocEnrich   // nil: no document enrichment
	State  *StateEnrich // nil: no state enrichment
	Audit  *Audit       // nil: no audit event
}

// SQLStage is the SQL predicate.
type SQLStage struct {
	// SQL is one SELECT, run as /v1/sql/query runs it.
	SQL string
	// Params is the JSON params member: absent or null, an array
	// (positional) or an object (named). With :ids in SQL it must be an
	// object or absent, and may not name ids.
	Params json.RawMessage
	// IDFrom is what the returned keys are compared with: "" or "id" (the
	// hit id) or "meta.<path>" (that meta value of the hit).
	IDFrom string
}

// DocEnrich attaches the document Collection/<key> to each hit.
type DocEnrich struct {
	Collection string
	IDFrom     string // "" or "id", or "meta.<path>"
}

// StateEnrich attaches the state item KeyTemplate (with {id} replaced by
// the hit's key) to each hit.
type StateEnrich struct {
	KeyTemplate string
	IDFrom      string // "" or "id", or "meta.<path>"
}

// Audit is the user event appended after a successful query. The caller
// validates Type and Key as for POST /v1/events (built-in types are
// reserved). Payload is compact JSON (nil = null).
type Audit struct {
	Type    string
	Key     string // "" = none
	Payload json.RawMessage
}

// Hit is one result: the vector hit and, when asked, its enrichments
// (nil = null).
type Hit struct {
	vector.Hit
	Doc   *docstore.Doc
	State *state.Item
}

// Fallback names how the engine completed a result when the vector stage
// reached its cap (see the package comment).
type Fallback string

const (
	FallbackNone   Fallback = ""
	FallbackScan   Fallback = "scan"
	FallbackFilter Fallback = "filter"
)

// Stages reports what the pipeline did.
type Stages struct {
	// VectorCandidates is the number of hits of the last over-fetch
	// round, before the SQL stage (a fallback's search is not counted).
	VectorCandidates int
	// SQLKept is how many of those the SQL stage kept; -1 without an SQL
	// stage.
	SQLKept int
	// Rounds is the number of vector searches run.
	Rounds   int
	Fallback Fallback
}

// Result is the answer to a query.
type Result struct {
	Hits   []Hit
	Stages Stages
	// AuditOffset is the audit event's offset (0: no audit requested).
	AuditOffset uint64
}

// maxPathLen bounds a meta path in id_from.
const maxPathLen = 256

// source is where a hit's key comes from: its id (path "") or the meta
// value at path.
type source struct{ path string }

func parseSource(field, s string) (source, error) {
	switch {
	case s == "" || s == "id":
		return source{}, nil
	case strings.HasPrefix(s, "meta."):
		p := s[len("meta."):]
		if p == "" || len(p) > maxPathLen || p[0] == '$' {
			return source{}, invalid(field, "meta path must be 1 to %d bytes and not start with $, got %q", maxPathLen, s)
		}
		return source{path: p}, nil
	}
	return source{}, invalid(field, `must be "id" or "meta.<field>", got %q`, s)
}

// plan is a checked request.
type plan struct {
	req       Request
	sql       *sqlPlan
	doc       source
	state     source
	needsMeta bool
}

// check validates everything that can be validated before running a
// stage, in this order: collection name, k, SQL availability and params,
// id_from values, enrichment targets.
func (e *Engine) check(req Request) (*plan, error) {
	lim := e.o.Vector.Limits()
	if err := lim.CheckName(req.Collection); err != nil {
		return nil, err
	}
	if req.Search.K < 1 || req.Search.K > lim.MaxK {
		return nil, vector.ErrInvalidK
	}
	if req.Search.GroupBy != "" {
		return nil, invalid("vector.group_by", "is not supported in a hybrid query")
	}
	p := &plan{req: req}
	if req.SQL != nil {
		if e.o.SQL == nil {
			return nil, ErrSQLDisabled
		}
		sp, err := planSQL(*req.SQL)
		if err != nil {
			return nil, err
		}
		p.sql = sp
		p.needsMeta = sp.from.path != ""
	}
	if d := req.Doc; d != nil {
		if err := e.o.Docs.CheckCollection(d.Collection); err != nil {
			return nil, invalid("enrich.doc.collection", "%s", strings.TrimPrefix(err.Error(), "docstore: "))
		}
		src, err := parseSource("enrich.doc.id_from", d.IDFrom)
		if err != nil {
			return nil, err
		}
		p.doc = src
		p.needsMeta = p.needsMeta || src.path != ""
	}
	if st := req.State; st != nil {
		if !strings.Contains(st.KeyTemplate, "{id}") {
			return nil, invalid("enrich.state.key_template", `must contain {id}, e.g. "user:{id}"`)
		}
		src, err := parseSource("enrich.state.id_from", st.IDFrom)
		if err != nil {
			return nil, err
		}
		p.state = src
		p.needsMeta = p.needsMeta || src.path != ""
	}
	return p, nil
}

// Run answers a query. Errors, each before anything is written: the
// vector store's (ErrCollectionNotFound, ErrDimMismatch, ErrInvalidK, a
// *filter.Error, ...), the SQL store's (ErrNotSelect, *SQLiteError,
// ErrTooManyRows, ErrTimeout, ...), ErrSQLDisabled, *InvalidError, and a
// storage error from the audit append.
func (e *Engine) Run(ctx context.Context, req Request) (Result, error) {
	p, err := e.check(req)
	if err != nil {
		return Result{}, err
	}
	search := req.Search
	search.IncludeMeta = search.IncludeMeta || p.needsMeta

	var (
		found  []vector.Hit
		stages Stages
	)
	if p.sql == nil {
		res, err := e.o.Vector.Search(ctx, req.Collection, search)
		if err != nil {
			return Result{}, err
		}
		found = res.Hits
		stages = Stages{VectorCandidates: len(found), SQLKept: -1, Rounds: 1}
	} else {
		found, stages, err = e.filtered(ctx, req.Collection, search, p.sql)
		if err != nil {
			return Result{}, err
		}
	}

	hits := make([]Hit, len(found))
	for i, h := range found {
		hits[i].Hit = h
	}
	if err := e.enrich(hits, p); err != nil {
		return Result{}, err
	}
	if !req.Search.IncludeMeta {
		for i := range hits {
			hits[i].Meta = nil
		}
	}
	res := Result{Hits: hits, Stages: stages}
	if req.Audit != nil {
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		off, err := e.audit(ctx, req.Collection, *req.Audit, ids)
		if err != nil {
			return Result{}, err
		}
		res.AuditOffset = off
	}
	return res, nil
}

// enrich attaches documents and state items. Absent targets, and keys
// that cannot name one (empty, too long), are null.
func (e *Engine) enrich(hits []Hit, p *plan) error {
	if p.req.Doc == nil && p.req.State == nil {
		return nil
	}
	for i := range hits {
		h := &hits[i]
		var meta any
		if p.needsMeta {
			meta = decodeMeta(h.Meta)
		}
		if d := p.req.Doc; d != nil {
			if k, ok := keyOf(h.ID, meta, p.doc); ok {
				doc, err := e.o.Docs.Get(d.Collection, k.text)
				switch {
				case err == nil:
					h.Doc = &doc
				case !absentDoc(err):
					return err
				}
			}
		}
		if st := p.req.State; st != nil {
			if k, ok := keyOf(h.ID, meta, p.state); ok {
				it, err := e.o.State.Get(strings.ReplaceAll(st.KeyTemplate, "{id}", k.text))
				switch {
				case err == nil:
					h.State = &it
				case !absentState(err):
					return err
				}
			}
		}
	}
	return nil
}

func absentDoc(err error) bool {
	for _, e := range []error{docstore.ErrNotFound, docstore.ErrIDTooLong, docstore.ErrEmptyID,
		docstore.ErrIDEncoding, docstore.ErrKeyTooLong} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func absentState(err error) bool {
	return errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrKeyTooLong) ||
		errors.Is(err, state.ErrEmptyKey) || errors.Is(err, state.ErrInvalidKey)
}

// auditData is the audit event's data: the user-event shape of POST
// /v1/events, with the payload wrapping the caller's.
type auditData struct {
	Key        *string      `json:"key"`
	Collection string       `json:"collection"`
	Payload    auditPayload `json:"payload"`
}

type auditPayload struct {
	IDs     []string        `json:"ids"`
	Payload json.RawMessage `json:"payload"`
}

// audit appends the audit event through the committer and returns its
// offset.
func (e *Engine) audit(ctx context.Context, coll string, a Audit, ids []string) (uint64, error) {
	d := auditData{Collection: coll, Payload: auditPayload{IDs: ids, Payload: a.Payload}}
	if a.Key != "" {
		d.Key = &a.Key
	}
	if len(d.Payload.Payload) == 0 {
		d.Payload.Payload = json.RawMessage("null")
	}
	data, err := json.Marshal(d)
	if err != nil {
		return 0, fmt.Errorf("query: encode audit event: %w", err)
	}
	ev := &events.Event{Type: a.Type, Key: a.Key, Collection: coll, Data: data}
	commit, err := e.o.DB.Update(ctx, func(tx *storage.Tx) error {
		tx.Emit(ev)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return commit.LastOffset(), nil
}
