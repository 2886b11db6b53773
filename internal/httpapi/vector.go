package httpapi

// Vector store routes (CONTRACT.md §4.3) and Luma's additions: DELETE of a
// collection (§9 #25), the online vacuum, vectors as base64 ("vector_b64"),
// include_vector, ef and grouped search.
//
// Vector bodies are decoded with github.com/goccy/go-json: a 256 × 768
// upsert_batch decodes several times faster than with encoding/json (see
// docs/DEPENDENCIES.md and BenchmarkDecodeUpsertBatch). Answers carrying
// vectors are written by hand with the shortest float32 form.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"

	gojson "github.com/goccy/go-json"

	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/jsonx"
	"github.com/luma-db/luma/internal/vector"
)

func (s *Server) vectorRoutes() []route {
	if s.d.Vector == nil {
		return nil
	}
	return []route{
		{method: "GET", pattern: "/v1/vector", access: accessRead, handler: s.vectorList},
		{method: "GET", pattern: "/v1/vector/{collection}", access: accessRead, handler: s.vectorDetail},
		{method: "POST", pattern: "/v1/vector/{collection}", access: accessWrite, handler: s.vectorCreate},
		{method: "DELETE", pattern: "/v1/vector/{collection}", access: accessWrite, handler: s.vectorDrop},
		{method: "POST", pattern: "/v1/vector/{collection}/add", access: accessWrite, handler: s.vectorAdd},
		{method: "POST", pattern: "/v1/vector/{collection}/upsert", access: accessWrite, handler: s.vectorUpsert},
		{method: "POST", pattern: "/v1/vector/{collection}/upsert_batch", access: accessWrite, handler: s.vectorUpsertBatch},
		{method: "POST", pattern: "/v1/vector/{collection}/update", access: accessWrite, handler: s.vectorUpdate},
		{method: "POST", pattern: "/v1/vector/{collection}/delete", access: accessWrite, handler: s.vectorDelete},
		{method: "POST", pattern: "/v1/vector/{collection}/delete_batch", access: accessWrite, handler: s.vectorDeleteBatch},
		{method: "POST", pattern: "/v1/vector/{collection}/search", access: accessRead, handler: s.vectorSearch},
		{method: "GET", pattern: "/v1/vector/{collection}/get", access: accessRead, handler: s.vectorGet},
		{method: "POST", pattern: "/v1/vector/{collection}/vacuum", access: accessAdmin, handler: s.vectorVacuum},
	}
}

// decodeVectorBody reads a vector route's body with goccy/go-json, mapping
// errors as decodeJSON does (400 malformed, 422 wrong shape).
func decodeVectorBody(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return unmarshalVectorBody(b, v)
}

func unmarshalVectorBody(b []byte, v any) error {
	if len(b) == 0 || isBlank(b) {
		return errInvalid("request body required: send a JSON object")
	}
	if err := gojson.Unmarshal(b, v); err != nil {
		var te *gojson.UnmarshalTypeError
		var se *gojson.SyntaxError
		var ve *errVectorShape
		switch {
		case errors.As(err, &ve):
			return errUnprocessable("%s", ve.msg)
		case errors.As(err, &te):
			if te.Field == "" {
				return errUnprocessable("request body must be a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)
			}
			want := jsonKind(te.Type.Kind().String())
			if te.Type.Kind() == reflect.Float32 {
				want = "number in float32 range"
			}
			return errUnprocessable("field %q: expected %s, got %s", te.Field, want, te.Value)
		case errors.As(err, &se):
			return errInvalid("malformed JSON at byte %d: %v", se.Offset, se)
		}
		return errInvalid("malformed JSON: %v", err)
	}
	return nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// wireVector is a vector as sent: a JSON array of numbers ("vector") or,
// as a Luma extension, base64 of little-endian float32 ("vector_b64").
type wireVector struct {
	Vector    *jsonVector `json:"vector"`
	VectorB64 *string     `json:"vector_b64"`
}

// vector returns the sent vector, nil when neither field is given, and its
// compact JSON text when it was sent as JSON.
func (w wireVector) vector(maxDim int) ([]float32, []byte, error) {
	switch {
	case w.Vector != nil && w.Vector.null:
		w.Vector = nil
		return w.vector(maxDim)
	case w.Vector != nil && w.VectorB64 != nil:
		return nil, nil, errInvalid("send either vector or vector_b64, not both")
	case w.Vector != nil:
		return w.Vector.vals, w.Vector.raw, nil
	case w.VectorB64 != nil:
		v, err := decodeB64Vector(*w.VectorB64, maxDim)
		return v, nil, err
	}
	return nil, nil, nil
}

// jsonVector is a JSON array of numbers decoded to float32, keeping its
// compact text so that events carry the vector exactly as sent without
// formatting every float again (that formatting was a third of the CPU of
// an upsert_batch).
type jsonVector struct {
	vals []float32
	raw  []byte
	null bool
}

// errVectorShape is the 422 of a "vector" that is not an array of numbers
// in float32 range.
type errVectorShape struct{ msg string }

func (e *errVectorShape) Error() string { return e.msg }

// UnmarshalJSON decodes the array with goccy/go-json and keeps its text
// when it is compact (no white space: what JSON encoders write), since SSE
// data must stay on one line.
func (v *jsonVector) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		v.null = true
		return nil
	}
	var vals []float32
	if err := gojson.Unmarshal(b, &vals); err != nil {
		var te *gojson.UnmarshalTypeError
		if errors.As(err, &te) && te.Type != nil && te.Type.Kind() == reflect.Float32 {
			return &errVectorShape{msg: fmt.Sprintf("field \"vector\": expected numbers in float32 range, got %s", te.Value)}
		}
		return &errVectorShape{msg: "field \"vector\": expected an array of numbers"}
	}
	if vals == nil {
		vals = []float32{}
	}
	v.vals = vals
	if !bytes.ContainsAny(b, " \t\r\n") {
		// The decoder's buffer is not ours to keep.
		v.raw = append([]byte(nil), b...)
	}
	return nil
}

// errBadB64 is the per-item error of an undecodable vector_b64.
var errBadB64 = errors.New("vector_b64 must be standard base64 of little-endian float32 values (a multiple of 4 bytes)")

func decodeB64Vector(s string, maxDim int) ([]float32, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > 4*maxDim+3 {
		return nil, vector.ErrVectorTooLarge
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw)%4 != 0 {
		return nil, errBadB64
	}
	if len(raw)/4 > maxDim {
		return nil, vector.ErrVectorTooLarge
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, nil
}

// collectionName returns the {collection} path value.
func collectionName(r *http.Request) string { return r.PathValue("collection") }

// GET /v1/vector
func (s *Server) vectorList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.d.Vector.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"collections": list})
	return nil
}

// GET /v1/vector/{collection}
func (s *Server) vectorDetail(w http.ResponseWriter, r *http.Request) error {
	d, err := s.d.Vector.Detail(collectionName(r))
	if errors.Is(err, vector.ErrCollectionNotFound) {
		return errNotFound("collection not found")
	}
	if err != nil {
		return err
	}
	if d.Manifest == nil {
		d.Manifest = json.RawMessage("null")
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

type createVectorRequest struct {
	Dim            *int    `json:"dim"`
	Metric         *string `json:"metric"`
	Index          *string `json:"index"`
	M              *int    `json:"m"`
	EfConstruction *int    `json:"ef_construction"`
	EfSearch       *int    `json:"ef_search"`
}

// POST /v1/vector/{collection}
func (s *Server) vectorCreate(w http.ResponseWriter, r *http.Request) error {
	name := collectionName(r)
	if err := s.d.Vector.Limits().CheckName(name); err != nil {
		return err
	}
	var req createVectorRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Dim == nil {
		return errUnprocessable("field \"dim\" is required (a positive integer)")
	}
	if req.Metric == nil {
		return errUnprocessable("field \"metric\" is required: \"cosine\", \"dot\" or \"l2\"")
	}
	metric, err := vector.ParseMetric(*req.Metric)
	if err != nil {
		return errUnprocessable("field \"metric\": unknown metric %q; use \"cosine\", \"dot\" or \"l2\"", *req.Metric)
	}
	idx := vector.IndexSettings{}
	if req.Index != nil {
		idx.Kind = vector.IndexKind(*req.Index)
		if idx.Kind == "" {
			return errInvalid("index must be \"hnsw\" or \"flat\"")
		}
	}
	for _, p := range []struct {
		v   *int
		dst *int
		f   string
	}{{req.M, &idx.M, "m"}, {req.EfConstruction, &idx.EfConstruction, "ef_construction"}, {req.EfSearch, &idx.EfSearch, "ef_search"}} {
		if p.v != nil {
			if *p.v <= 0 {
				return errInvalid("%s must be a positive integer", p.f)
			}
			*p.dst = *p.v
		}
	}
	if err := s.d.Vector.Create(r.Context(), vector.CreateRequest{Name: name, Dim: *req.Dim, Metric: metric, Index: idx}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"collection": name, "dim": *req.Dim, "metric": metric})
	return nil
}

// DELETE /v1/vector/{collection} (Luma extension)
func (s *Server) vectorDrop(w http.ResponseWriter, r *http.Request) error {
	err := s.d.Vector.Drop(r.Context(), collectionName(r))
	if errors.Is(err, vector.ErrCollectionNotFound) {
		return errNotFound("collection not found")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": true})
	return nil
}

type vectorItemBody struct {
	ID *string `json:"id"`
	wireVector
	Meta json.RawMessage `json:"meta"`
}

var okBody = []byte(`{"ok":true}`)

// item decodes a single-vector body (add, upsert), checking the contract's
// order: collection name, id, vector length, then the rest in the store.
func (s *Server) item(r *http.Request) (vector.Item, error) {
	lim := s.d.Vector.Limits()
	if err := lim.CheckName(collectionName(r)); err != nil {
		return vector.Item{}, err
	}
	var b vectorItemBody
	if err := decodeVectorBody(r, &b); err != nil {
		return vector.Item{}, err
	}
	if b.ID == nil {
		return vector.Item{}, errUnprocessable("field \"id\" is required (a string)")
	}
	if err := lim.CheckID(*b.ID); err != nil {
		return vector.Item{}, err
	}
	vec, raw, err := b.vector(lim.MaxVectorDim)
	if err != nil {
		return vector.Item{}, err
	}
	if vec == nil {
		return vector.Item{}, errUnprocessable("field \"vector\" is required (an array of numbers, or vector_b64)")
	}
	return vector.Item{ID: *b.ID, Vector: vec, VectorJSON: raw, Meta: b.Meta}, nil
}

// POST /v1/vector/{collection}/add
func (s *Server) vectorAdd(w http.ResponseWriter, r *http.Request) error {
	it, err := s.item(r)
	if err != nil {
		return err
	}
	if err := s.d.Vector.Add(r.Context(), collectionName(r), it); err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, okBody)
	return nil
}

// POST /v1/vector/{collection}/upsert
func (s *Server) vectorUpsert(w http.ResponseWriter, r *http.Request) error {
	it, err := s.item(r)
	if err != nil {
		return err
	}
	if err := s.d.Vector.Upsert(r.Context(), collectionName(r), it); err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, okBody)
	return nil
}

// POST /v1/vector/{collection}/update
func (s *Server) vectorUpdate(w http.ResponseWriter, r *http.Request) error {
	lim := s.d.Vector.Limits()
	name := collectionName(r)
	if err := lim.CheckName(name); err != nil {
		return err
	}
	var b vectorItemBody
	if err := decodeVectorBody(r, &b); err != nil {
		return err
	}
	if b.ID == nil {
		return errUnprocessable("field \"id\" is required (a string)")
	}
	if err := lim.CheckID(*b.ID); err != nil {
		return err
	}
	vec, raw, err := b.vector(lim.MaxVectorDim)
	if err != nil {
		return err
	}
	if err := s.d.Vector.Update(r.Context(), name, *b.ID, vec, raw, b.Meta); err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, okBody)
	return nil
}

// POST /v1/vector/{collection}/delete
func (s *Server) vectorDelete(w http.ResponseWriter, r *http.Request) error {
	name := collectionName(r)
	if err := s.d.Vector.Limits().CheckName(name); err != nil {
		return err
	}
	var b struct {
		ID *string `json:"id"`
	}
	if err := decodeVectorBody(r, &b); err != nil {
		return err
	}
	if b.ID == nil {
		return errUnprocessable("field \"id\" is required (a string)")
	}
	if err := s.d.Vector.Delete(r.Context(), name, *b.ID); err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, []byte(`{"deleted":true}`))
	return nil
}

// batchItemResult is one entry of a batch answer.
type batchItemResult struct {
	Status string     `json:"status"`
	ID     string     `json:"id"`
	Error  *errorBody `json:"error,omitempty"`
}

func (s *Server) batchResults(res []vector.ItemResult, okStatus string) []batchItemResult {
	out := make([]batchItemResult, len(res))
	for i, x := range res {
		out[i] = batchItemResult{Status: okStatus, ID: x.ID}
		if x.Err != nil {
			ae := s.toAPIError(x.Err)
			out[i] = batchItemResult{Status: "error", ID: x.ID, Error: &errorBody{Error: ae.Code, Message: ae.Message}}
		}
	}
	return out
}

// POST /v1/vector/{collection}/upsert_batch
func (s *Server) vectorUpsertBatch(w http.ResponseWriter, r *http.Request) error {
	lim := s.d.Vector.Limits()
	name := collectionName(r)
	if err := lim.CheckName(name); err != nil {
		return err
	}
	var b struct {
		Items *[]vectorItemBody `json:"items"`
	}
	if err := decodeVectorBody(r, &b); err != nil {
		return err
	}
	if b.Items == nil {
		return errUnprocessable("field \"items\" is required (an array of {id, vector, meta?})")
	}
	items := make([]vector.Item, len(*b.Items))
	for i, it := range *b.Items {
		if it.ID == nil {
			return errUnprocessable("items[%d]: field \"id\" is required (a string)", i)
		}
		vec, raw, err := it.vector(lim.MaxVectorDim)
		var ae *apiError
		switch {
		case errors.As(err, &ae):
			return errInvalid("items[%d]: %s", i, ae.Message)
		case err == nil && vec == nil:
			return errUnprocessable("items[%d]: field \"vector\" is required (an array of numbers, or vector_b64)", i)
		}
		// An undecodable vector_b64 is this item's error, not the request's.
		items[i] = vector.Item{ID: *it.ID, Vector: vec, VectorJSON: raw, Meta: it.Meta, Invalid: err}
	}
	res, err := s.d.Vector.UpsertBatch(r.Context(), name, items)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": s.batchResults(res, "upserted")})
	return nil
}

// POST /v1/vector/{collection}/delete_batch
func (s *Server) vectorDeleteBatch(w http.ResponseWriter, r *http.Request) error {
	name := collectionName(r)
	if err := s.d.Vector.Limits().CheckName(name); err != nil {
		return err
	}
	var b struct {
		IDs *[]string `json:"ids"`
	}
	if err := decodeVectorBody(r, &b); err != nil {
		return err
	}
	if b.IDs == nil {
		return errUnprocessable("field \"ids\" is required (an array of strings)")
	}
	res, err := s.d.Vector.DeleteBatch(r.Context(), name, *b.IDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": s.batchResults(res, "deleted")})
	return nil
}

// GET /v1/vector/{collection}/get?id=
func (s *Server) vectorGet(w http.ResponseWriter, r *http.Request) error {
	name := collectionName(r)
	lim := s.d.Vector.Limits()
	if err := lim.CheckName(name); err != nil {
		return err
	}
	q := r.URL.Query()
	if !q.Has("id") {
		return errInvalid("query parameter id is required: GET /v1/vector/%s/get?id=<vector id>", name)
	}
	rec, err := s.d.Vector.Get(name, q.Get("id"))
	if errors.Is(err, vector.ErrIDNotFound) {
		return errNotFound("vector id not found")
	}
	if err != nil {
		return err
	}
	b := make([]byte, 0, 32+len(rec.ID)+len(rec.Meta)+12*len(rec.Vector))
	b = append(b, `{"id":`...)
	b = jsonx.AppendString(b, rec.ID)
	b = append(b, `,"vector":`...)
	b = vector.AppendVector(b, rec.Vector)
	b = append(b, `,"meta":`...)
	b = appendRawOrNull(b, rec.Meta)
	b = append(b, '}')
	writeRawJSON(w, http.StatusOK, b)
	return nil
}

func appendRawOrNull(b, raw []byte) []byte {
	if raw == nil {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

type searchBody struct {
	wireVector
	K             *int            `json:"k"`
	Filters       json.RawMessage `json:"filters"`
	IncludeMeta   *bool           `json:"include_meta"`
	IncludeVector *bool           `json:"include_vector"`
	Ef            *int            `json:"ef"`
	GroupBy       *string         `json:"group_by"`
	GroupLimit    *int            `json:"group_limit"`
}

// parseSearchBody decodes a search body into a request (shape errors
// only; value checks are the store's).
func parseSearchBody(b []byte, maxDim int) (vector.SearchRequest, error) {
	var sb searchBody
	if err := unmarshalVectorBody(b, &sb); err != nil {
		return vector.SearchRequest{}, err
	}
	if sb.K == nil {
		return vector.SearchRequest{}, errUnprocessable("field \"k\" is required (an integer from 1 to MAX_K)")
	}
	vec, _, err := sb.vector(maxDim)
	if err != nil {
		return vector.SearchRequest{}, err
	}
	if vec == nil {
		return vector.SearchRequest{}, errUnprocessable("field \"vector\" is required (an array of numbers, or vector_b64)")
	}
	req := vector.SearchRequest{Vector: vec, K: *sb.K}
	if len(sb.Filters) > 0 && string(sb.Filters) != "null" {
		req.Filters = sb.Filters
	}
	if sb.IncludeMeta != nil {
		req.IncludeMeta = *sb.IncludeMeta
	}
	if sb.IncludeVector != nil {
		req.IncludeVector = *sb.IncludeVector
	}
	if sb.Ef != nil {
		if *sb.Ef <= 0 {
			return vector.SearchRequest{}, errInvalid("ef must be a positive integer")
		}
		req.Ef = *sb.Ef
	}
	if sb.GroupBy != nil {
		if *sb.GroupBy == "" {
			return vector.SearchRequest{}, errInvalid("group_by must name a meta field")
		}
		req.GroupBy = *sb.GroupBy
	}
	if sb.GroupLimit != nil {
		req.GroupLimit = *sb.GroupLimit
	}
	return req, nil
}

// POST /v1/vector/{collection}/search
func (s *Server) vectorSearch(w http.ResponseWriter, r *http.Request) error {
	name := collectionName(r)
	lim := s.d.Vector.Limits()
	if err := lim.CheckName(name); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	req, err := parseSearchBody(body, lim.MaxVectorDim)
	if err != nil {
		return err
	}
	res, err := s.d.Vector.Search(r.Context(), name, req)
	if err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, appendSearchResult(nil, res))
	return nil
}

func appendHits(b []byte, hits []vector.Hit) []byte {
	b = append(b, '[')
	for i, h := range hits {
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
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendSearchResult writes {"hits": [...]} and, for a grouped search,
// "groups": [{"group", "count", "hits"}].
func appendSearchResult(b []byte, res vector.SearchResult) []byte {
	b = append(b, `{"hits":`...)
	b = appendHits(b, res.Hits)
	if res.Groups != nil {
		b = append(b, `,"groups":[`...)
		for i, g := range res.Groups {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"group":`...)
			b = appendRawOrNull(b, g.Value)
			b = append(b, `,"count":`...)
			b = strconv.AppendInt(b, g.Count, 10)
			b = append(b, `,"hits":`...)
			b = appendHits(b, g.Hits)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// POST /v1/vector/{collection}/vacuum (admin; Luma extension)
func (s *Server) vectorVacuum(w http.ResponseWriter, r *http.Request) error {
	res, err := s.d.Vector.Vacuum(r.Context(), collectionName(r))
	if errors.Is(err, vector.ErrCollectionNotFound) {
		return errNotFound("collection not found")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// mapVectorError covers the vector store's errors (CONTRACT.md §4.3).
func mapVectorError(err error) *apiError {
	var fe *filter.Error
	switch {
	case errors.As(err, &fe):
		return errInvalid("%s", fe.Error())
	case errors.Is(err, errBadB64):
		return errInvalid("%s", errBadB64.Error())
	case errors.Is(err, vector.ErrCollectionTooLong):
		return errInvalid("collection too long")
	case errors.Is(err, vector.ErrInvalidName):
		return errInvalid("invalid collection name")
	case errors.Is(err, vector.ErrIDTooLong):
		return errInvalid("id too long")
	case errors.Is(err, vector.ErrVectorTooLarge):
		return errInvalid("vector too large")
	case errors.Is(err, vector.ErrMetaTooLarge):
		return newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "meta too large")
	case errors.Is(err, vector.ErrFiltersTooLarge):
		return newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "filters too large")
	case errors.Is(err, vector.ErrInvalidMeta):
		return errInvalid("meta is not valid JSON")
	case errors.Is(err, vector.ErrInvalidDim):
		return errInvalid("invalid dim")
	case errors.Is(err, vector.ErrInvalidMetric):
		return errUnprocessable("unknown metric; use \"cosine\", \"dot\" or \"l2\"")
	case errors.Is(err, vector.ErrInvalidIndex), errors.Is(err, vector.ErrInvalidSearch):
		return errInvalid("%s", trimPkg(err.Error()))
	case errors.Is(err, vector.ErrCollectionNotFound):
		return errNotFound("collection or id not found")
	case errors.Is(err, vector.ErrCollectionExists):
		return newError(http.StatusConflict, codeAlreadyExists, "collection already exists")
	case errors.Is(err, vector.ErrIDNotFound):
		return errNotFound("id not found")
	case errors.Is(err, vector.ErrIDExists):
		return newError(http.StatusConflict, codeAlreadyExists, "id already exists")
	case errors.Is(err, vector.ErrDimMismatch):
		return newError(http.StatusBadRequest, codeDimMismatch, "vector dimension mismatch")
	case errors.Is(err, vector.ErrNonFinite):
		return errInvalid("vector values must be finite numbers (no NaN or Infinity)")
	case errors.Is(err, vector.ErrInvalidK):
		return errInvalid("invalid k")
	case errors.Is(err, vector.ErrNoItems):
		return errInvalid("items required")
	case errors.Is(err, vector.ErrTooManyItems):
		return errInvalid("too many items")
	case errors.Is(err, vector.ErrNoIDs):
		return errInvalid("ids required")
	case errors.Is(err, vector.ErrTooManyIDs):
		return errInvalid("too many ids")
	case errors.Is(err, vector.ErrCollectionFull):
		return errInvalid("collection has used all 2^32 internal ids; copy its vectors into a new collection")
	case errors.Is(err, vector.ErrPersistence):
		return newError(http.StatusInternalServerError, codePersistence, "vector persistence error")
	case errors.Is(err, vector.ErrClosed):
		return newError(http.StatusServiceUnavailable, codeUnavailable, "server is shutting down; retry against a running instance")
	}
	return nil
}

// trimPkg drops the "vector: " prefix of a domain error message.
func trimPkg(msg string) string {
	const p = "vector: "
	for len(msg) >= len(p) && msg[:len(p)] == p {
		msg = msg[len(p):]
	}
	return msg
}
