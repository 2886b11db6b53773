package httpapi

// POST /v1/query: the hybrid query (Luma extension). One round trip runs a
// vector search, an optional SQL predicate over the hits, optional
// document and state enrichment, and an optional audit event; the pipeline
// lives in internal/query. The route is a read (reader keys may call it)
// unless the body asks for an audit event, which is a write.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/jsonx"
	"github.com/luma-db/luma/internal/query"
	"github.com/luma-db/luma/internal/vector"
)

func (s *Server) queryRoutes() []route {
	if s.d.Query == nil {
		return nil
	}
	return []route{
		{method: "POST", pattern: "/v1/query", access: accessRead, handler: s.hybridQuery},
	}
}

type queryBody struct {
	Vector *queryVectorBody `json:"vector"`
	SQL    *querySQLBody    `json:"sql"`
	Enrich *queryEnrichBody `json:"enrich"`
	Audit  *queryAuditBody  `json:"audit"`
}

type queryVectorBody struct {
	Collection    *string         `json:"collection"`
	Vector        *[]float32      `json:"vector"`
	VectorB64     *string         `json:"vector_b64"`
	K             *int            `json:"k"`
	Filters       json.RawMessage `json:"filters"`
	Ef            *int            `json:"ef"`
	IncludeMeta   *bool           `json:"include_meta"`
	IncludeVector *bool           `json:"include_vector"`
}

type querySQLBody struct {
	SQL    *string         `json:"sql"`
	Params json.RawMessage `json:"params"`
	IDFrom *string         `json:"id_from"`
}

type queryEnrichBody struct {
	Doc *struct {
		Collection *string `json:"collection"`
		IDFrom     *string `json:"id_from"`
	} `json:"doc"`
	State *struct {
		KeyTemplate *string `json:"key_template"`
		IDFrom      *string `json:"id_from"`
	} `json:"state"`
}

type queryAuditBody struct {
	Type    *string         `json:"type"`
	Key     *string         `json:"key"`
	Payload json.RawMessage `json:"payload"`
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// parseQueryBody turns a body into a request: shape errors (422), the
// vector, and the audit event checked as POST /v1/events checks one.
func (s *Server) parseQueryBody(b []byte) (query.Request, error) {
	var qb queryBody
	if err := unmarshalVectorBody(b, &qb); err != nil {
		return query.Request{}, err
	}
	v := qb.Vector
	switch {
	case v == nil:
		return query.Request{}, errUnprocessable(`field "vector" is required: {collection, vector or vector_b64, k, filters?, ef?, include_meta?, include_vector?}`)
	case v.Collection == nil:
		return query.Request{}, errUnprocessable(`field "vector.collection" is required (a vector collection name)`)
	case v.K == nil:
		return query.Request{}, errUnprocessable(`field "vector.k" is required (an integer from 1 to MAX_K)`)
	}
	maxDim := s.d.Vector.Limits().MaxVectorDim
	var vec []float32
	switch {
	case v.Vector != nil && v.VectorB64 != nil:
		return query.Request{}, errInvalid("send either vector.vector or vector.vector_b64, not both")
	case v.Vector != nil:
		vec = *v.Vector
		if vec == nil {
			vec = []float32{}
		}
	case v.VectorB64 != nil:
		var err error
		if vec, err = decodeB64Vector(*v.VectorB64, maxDim); err != nil {
			return query.Request{}, err
		}
	default:
		return query.Request{}, errUnprocessable(`field "vector.vector" is required (an array of numbers, or vector.vector_b64)`)
	}
	if len(vec) > maxDim {
		return query.Request{}, vector.ErrVectorTooLarge
	}
	req := query.Request{
		Collection: *v.Collection,
		Search:     vector.SearchRequest{Vector: vec, K: *v.K},
	}
	if !isNull(v.Filters) {
		req.Search.Filters = v.Filters
	}
	if v.Ef != nil {
		if *v.Ef <= 0 {
			return query.Request{}, errInvalid("vector.ef must be a positive integer")
		}
		req.Search.Ef = *v.Ef
	}
	req.Search.IncludeMeta = v.IncludeMeta != nil && *v.IncludeMeta
	req.Search.IncludeVector = v.IncludeVector != nil && *v.IncludeVector

	if q := qb.SQL; q != nil {
		if q.SQL == nil {
			return query.Request{}, errUnprocessable(`field "sql.sql" is required: one SELECT statement`)
		}
		if t := bytes.TrimSpace(q.Params); len(t) > 0 && t[0] != '[' && t[0] != '{' && !isNull(t) {
			return query.Request{}, errUnprocessable(`field "sql.params": expected an array (positional) or an object (named), got %s`, t)
		}
		req.SQL = &query.SQLStage{SQL: *q.SQL, Params: q.Params, IDFrom: deref(q.IDFrom)}
	}
	if en := qb.Enrich; en != nil {
		if d := en.Doc; d != nil {
			if d.Collection == nil {
				return query.Request{}, errUnprocessable(`field "enrich.doc.collection" is required (a document collection)`)
			}
			req.Doc = &query.DocEnrich{Collection: *d.Collection, IDFrom: deref(d.IDFrom)}
		}
		if st := en.State; st != nil {
			if st.KeyTemplate == nil {
				return query.Request{}, errUnprocessable(`field "enrich.state.key_template" is required, e.g. "user:{id}"`)
			}
			req.State = &query.StateEnrich{KeyTemplate: *st.KeyTemplate, IDFrom: deref(st.IDFrom)}
		}
	}
	if a := qb.Audit; a != nil {
		au, err := s.parseAudit(a)
		if err != nil {
			return query.Request{}, err
		}
		req.Audit = au
	}
	return req, nil
}

// parseAudit checks the audit event as POST /v1/events checks a user
// event (same type rule, reserved built-in types, key and payload limits).
func (s *Server) parseAudit(a *queryAuditBody) (*query.Audit, error) {
	if a.Type == nil {
		return nil, errUnprocessable(`field "audit.type" is required: the event type, e.g. "rag.retrieval"`)
	}
	t := *a.Type
	if !validEventType(t) {
		return nil, errInvalid("invalid event type %q: use 1 to %d characters matching ^[A-Za-z][A-Za-z0-9_.:-]*$", t, maxEventTypeLen)
	}
	if events.IsBuiltinType(t) {
		return nil, errInvalid("event type %q is reserved for events Luma emits itself; choose another name, e.g. \"app.%s\"", t, t)
	}
	au := &query.Audit{Type: t}
	if k := a.Key; k != nil {
		switch {
		case *k == "":
			return nil, errInvalid("audit.key must not be empty; omit it for an event without a key")
		case len(*k) > s.d.State.Limits().MaxKeyLen:
			return nil, errInvalid("key too long")
		}
		au.Key = *k
	}
	if !isNull(a.Payload) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, a.Payload); err != nil {
			return nil, errInvalid("audit.payload is not valid JSON: %v", err)
		}
		if int64(buf.Len()) > s.d.Config.MaxJSONBytes {
			return nil, newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "payload too large")
		}
		au.Payload = buf.Bytes()
	}
	return au, nil
}

// POST /v1/query
func (s *Server) hybridQuery(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	req, err := s.parseQueryBody(body)
	if err != nil {
		return err
	}
	if req.Audit != nil {
		if p := principal(r); !p.CanWrite() {
			return newError(http.StatusForbidden, codeForbidden, fmt.Sprintf(
				"audit appends an event, which needs a user or admin key; this key has role %q (read-only): drop \"audit\" or use another key", p.Role))
		}
	}
	res, err := s.d.Query.Run(r.Context(), req)
	if err != nil {
		return err
	}
	out, err := appendQueryResult(nil, res, req.Doc != nil, req.State != nil)
	if err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, out)
	return nil
}

// appendQueryResult writes {"hits": [...], "stages": {...}, "audit_offset": n|null}.
// A hit carries "doc" only when document enrichment was asked for, and
// "state" only with state enrichment (null when absent).
func appendQueryResult(b []byte, res query.Result, withDoc, withState bool) ([]byte, error) {
	var err error
	b = append(b, `{"hits":[`...)
	for i, h := range res.Hits {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = jsonx.AppendString(b, h.ID)
		b = append(b, `,"score":`...)
		b = vector.AppendFloat32(b, h.Score)
		b = append(b, `,"meta":`...)
		b = appendRawOrNull(b, h.Meta)
		if h.Vector != nil {
			b = append(b, `,"vector":`...)
			b = vector.AppendVector(b, h.Vector)
		}
		if withDoc {
			b = append(b, `,"doc":`...)
			if h.Doc == nil {
				b = append(b, "null"...)
			} else {
				if b, err = appendMarshal(b, toDocItem(*h.Doc)); err != nil {
					return nil, err
				}
			}
		}
		if withState {
			b = append(b, `,"state":`...)
			if h.State == nil {
				b = append(b, "null"...)
			} else {
				if b, err = appendMarshal(b, toStateItem(*h.State)); err != nil {
					return nil, err
				}
			}
		}
		b = append(b, '}')
	}
	st := res.Stages
	b = append(b, `],"stages":{"vector_candidates":`...)
	b = strconv.AppendInt(b, int64(st.VectorCandidates), 10)
	b = append(b, `,"sql_kept":`...)
	if st.SQLKept < 0 {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, int64(st.SQLKept), 10)
	}
	b = append(b, `,"rounds":`...)
	b = strconv.AppendInt(b, int64(st.Rounds), 10)
	b = append(b, `,"fallback":`...)
	if st.Fallback == query.FallbackNone {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, string(st.Fallback))
	}
	b = append(b, `},"audit_offset":`...)
	if res.AuditOffset == 0 {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendUint(b, res.AuditOffset, 10)
	}
	return append(b, '}'), nil
}

// appendMarshal appends v's JSON.
func appendMarshal(b []byte, v any) ([]byte, error) {
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return append(b, enc...), nil
}

// mapQueryError covers the hybrid query's own errors; the stages' errors
// are the vector, SQL and document mappers'.
func mapQueryError(err error) *apiError {
	var ie *query.InvalidError
	switch {
	case errors.Is(err, query.ErrSQLDisabled):
		return newError(http.StatusNotFound, codeNotEnabled, "sqlite module is disabled")
	case errors.As(err, &ie):
		return errInvalid("%s: %s", ie.Field, ie.Msg)
	}
	return nil
}
