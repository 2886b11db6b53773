package client

import "context"

// HybridQuery is the one-call pipeline of POST /v1/query: a vector search,
// an optional SQL predicate over the hits, optional document and state
// enrichment, and an optional audit event.
type HybridQuery struct {
	// The vector stage (as Vector.Search).
	Collection    string
	Vector        []float32
	K             int // default 10
	Filters       any
	Ef            int
	IncludeMeta   bool
	IncludeVector bool
	// SQL keeps the hits whose key a SELECT returns (nil: no SQL stage).
	SQL *SQLPredicate
	// EnrichDoc attaches each hit's document (nil: none).
	EnrichDoc *DocEnrichment
	// EnrichState attaches each hit's state item (nil: none).
	EnrichState *StateEnrichment
	// Audit appends one event naming the final ids (nil: none). It needs
	// a writing key, and the query is then never retried.
	Audit *AuditEvent
}

// SQLPredicate is the SQL stage: one SELECT whose rows are the permitted
// keys (the column named id, else the first column). The server
// over-fetches so that K hits come back whenever K permitted matches
// exist. A statement naming :ids gets the candidates' keys as a JSON array
// (for json_each(:ids)); Params must then be Named.
type SQLPredicate struct {
	SQL    string
	Params any // []any or Named; nil = none
	// IDFrom is the hit's key: "" = its id, or "meta.<path>".
	IDFrom string
}

// DocEnrichment attaches the document Collection/<key> to each hit.
type DocEnrichment struct {
	Collection string
	IDFrom     string // "" = the hit id, or "meta.<path>"
}

// StateEnrichment attaches the state item KeyTemplate (with {id} replaced by
// the key, e.g. "views:{id}") to each hit.
type StateEnrichment struct {
	KeyTemplate string
	IDFrom      string
}

// AuditEvent is the event appended after the other stages succeeded.
type AuditEvent struct {
	Type    string
	Key     string
	Payload any
}

// HybridHit is a kept hit, with Doc / State when enrichment was asked for
// (nil when absent).
type HybridHit struct {
	Hit
	Doc   *Document  `json:"doc"`
	State *StateItem `json:"state"`
}

// QueryStages says what the pipeline did.
type QueryStages struct {
	// VectorCandidates is how many candidates the vector stage fetched.
	VectorCandidates int `json:"vector_candidates"`
	// SQLKept is how many candidates the SQL stage kept (nil: no stage).
	SQLKept *int `json:"sql_kept"`
	// Rounds counts vector searches (over-fetch rounds).
	Rounds int `json:"rounds"`
	// Fallback is "scan" or "filter" when the permitted set was searched
	// directly (nil otherwise).
	Fallback *string `json:"fallback"`
}

// HybridResult is the answer of Query.
type HybridResult struct {
	Hits        []HybridHit `json:"hits"`
	Stages      QueryStages `json:"stages"`
	AuditOffset *uint64     `json:"audit_offset"`
}

// Query runs the hybrid query in one round trip.
func (c *Client) Query(ctx context.Context, q HybridQuery) (*HybridResult, error) {
	vs := map[string]any{"collection": q.Collection, "k": q.K, "include_meta": q.IncludeMeta}
	if q.K <= 0 {
		vs["k"] = 10
	}
	if c.binaryVectors {
		vs["vector_b64"] = EncodeVectorB64(q.Vector)
	} else {
		vs["vector"] = q.Vector
	}
	if q.Filters != nil {
		vs["filters"] = q.Filters
	}
	if q.Ef > 0 {
		vs["ef"] = q.Ef
	}
	if q.IncludeVector {
		vs["include_vector"] = true
	}
	body := map[string]any{"vector": vs}
	if s := q.SQL; s != nil {
		st := map[string]any{"sql": s.SQL}
		switch p := s.Params.(type) {
		case nil:
		case Named:
			st["params"] = map[string]any(p)
		default:
			st["params"] = p
		}
		if s.IDFrom != "" {
			st["id_from"] = s.IDFrom
		}
		body["sql"] = st
	}
	enrich := map[string]any{}
	if d := q.EnrichDoc; d != nil {
		m := map[string]any{"collection": d.Collection}
		if d.IDFrom != "" {
			m["id_from"] = d.IDFrom
		}
		enrich["doc"] = m
	}
	if s := q.EnrichState; s != nil {
		m := map[string]any{"key_template": s.KeyTemplate}
		if s.IDFrom != "" {
			m["id_from"] = s.IDFrom
		}
		enrich["state"] = m
	}
	if len(enrich) > 0 {
		body["enrich"] = enrich
	}
	if a := q.Audit; a != nil {
		m := map[string]any{"type": a.Type}
		if a.Key != "" {
			m["key"] = a.Key
		}
		if a.Payload != nil {
			m["payload"] = a.Payload
		}
		body["audit"] = m
	}
	var out HybridResult
	if _, err := c.call(ctx, &request{method: "POST", path: "/v1/query", body: body, idempotent: q.Audit == nil}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
