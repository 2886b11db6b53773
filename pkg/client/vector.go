package client

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/url"
)

// VectorService is the vector store: collections of fixed-dimension vectors
// with JSON metadata, searched by similarity (higher score = closer) with
// metadata filters.
type VectorService struct{ c *Client }

// Metrics of a collection.
const (
	MetricCosine = "cosine"
	MetricDot    = "dot"
	MetricL2     = "l2"
)

// CollectionInfo is an entry of List.
type CollectionInfo struct {
	Collection   string  `json:"collection"`
	Dim          int     `json:"dim"`
	Metric       string  `json:"metric"`
	LiveCount    uint64  `json:"live_count"`
	TotalRecords uint64  `json:"total_records"`
	UpsertCount  uint64  `json:"upsert_count"`
	FileLen      uint64  `json:"file_len"`
	AppliedOff   uint64  `json:"applied_offset"`
	CreatedAtMs  *uint64 `json:"created_at_ms"`
	UpdatedAtMs  *uint64 `json:"updated_at_ms"`
	DeletedCount *uint64 `json:"deleted_count"`
	// IndexSettings: {index, m, ef_construction, ef_search}.
	IndexSettings json.RawMessage `json:"index_settings"`
	// Raw is the full entry (index settings and other server fields).
	Raw json.RawMessage `json:"-"`
}

// CollectionDetail is the answer of Info.
type CollectionDetail struct {
	Collection  string          `json:"collection"`
	Dim         *int            `json:"dim"`
	Metric      *string         `json:"metric"`
	Count       *uint64         `json:"count"`
	CreatedAtMs *uint64         `json:"created_at_ms"`
	UpdatedAtMs *uint64         `json:"updated_at_ms"`
	Manifest    json.RawMessage `json:"manifest"`
	// IndexSettings: {index, m, ef_construction, ef_search}.
	IndexSettings json.RawMessage `json:"index_settings"`
	// Raw is the full answer (segments, tombstones, index lag, ...).
	Raw json.RawMessage `json:"-"`
}

// Index kinds.
const (
	IndexHNSW = "hnsw"
	IndexFlat = "flat"
)

// CreateCollection describes a new collection.
type CreateCollection struct {
	Dim    int
	Metric string // MetricCosine (default), MetricDot, MetricL2
	// Index is IndexHNSW or IndexFlat ("" = the server's INDEX_KIND).
	Index string
	// HNSW settings (0 = the server's defaults).
	M, EfConstruction, EfSearch int
	// Settings are further settings sent as they are.
	Settings map[string]any
}

// Item is a vector to write, or a stored vector.
type Item struct {
	ID     string    `json:"id"`
	Vector []float32 `json:"vector"`
	Meta   any       `json:"meta,omitempty"`
}

// Record is a stored vector as Get returns it.
type Record struct {
	ID     string          `json:"id"`
	Vector []float32       `json:"vector"`
	Meta   json.RawMessage `json:"meta"`
}

// Hit is a search result; Meta is set when IncludeMeta was asked, Vector
// when IncludeVector was.
type Hit struct {
	ID     string          `json:"id"`
	Score  float32         `json:"score"`
	Meta   json.RawMessage `json:"meta"`
	Vector []float32       `json:"vector,omitempty"`
}

// SearchRequest is a similarity search.
type SearchRequest struct {
	Vector []float32
	// K is the number of hits (of groups with GroupBy); default 10.
	K int
	// Filters: {"field": value} equality, operators ($eq $ne $in $nin $gt
	// $gte $lt $lte $exists $and $or $not) and dotted paths.
	Filters       any
	IncludeMeta   bool
	IncludeVector bool
	// Ef is the HNSW search breadth for this query (0 = the collection's).
	Ef int
	// GroupBy groups hits by a meta field (dotted path): K groups, each
	// with its GroupLimit (default 1) best hits, ranked by their best hit.
	GroupBy    string
	GroupLimit int
	// Options are further settings sent as they are.
	Options map[string]any
}

// SearchResult is the answer of SearchGroups: the hits and, for a grouped
// search, the groups in rank order.
type SearchResult struct {
	Hits   []Hit   `json:"hits"`
	Groups []Group `json:"groups"`
}

// Group is one group of a grouped search: the meta field's value (JSON
// null for points without it), how many points matched, its best hits.
type Group struct {
	Group json.RawMessage `json:"group"`
	Count int64           `json:"count"`
	Hits  []Hit           `json:"hits"`
}

// VacuumResult is the answer of Vacuum.
type VacuumResult struct {
	Collection        string `json:"collection"`
	SegmentsBefore    int    `json:"segments_before"`
	SegmentsAfter     int    `json:"segments_after"`
	Rebuilt           int    `json:"rebuilt"`
	TombstonesRemoved int64  `json:"tombstones_removed"`
	LiveCount         int64  `json:"live_count"`
	DurationMs        int64  `json:"duration_ms"`
}

// ItemResult is one item's outcome in a batch: Status "upserted",
// "deleted" or "error" (then Error is set).
type ItemResult struct {
	Status string `json:"status"`
	ID     string `json:"id"`
	Error  *struct {
		Code    string `json:"error"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// BatchResult merges the answers of a split batch, in input order.
type BatchResult struct {
	Results  []ItemResult
	Requests int
}

// Failed returns the items that failed.
func (b *BatchResult) Failed() []ItemResult {
	var out []ItemResult
	for _, r := range b.Results {
		if r.Status == "error" {
			out = append(out, r)
		}
	}
	return out
}

// Err returns the first item error as *Error (nil when all succeeded).
func (b *BatchResult) Err() error {
	for _, r := range b.Results {
		if r.Status == "error" && r.Error != nil {
			return &Error{Code: r.Error.Code, Message: "item " + r.ID + ": " + r.Error.Message}
		}
	}
	return nil
}

// BatchOptions tune a batch helper.
type BatchOptions struct {
	// Size is the largest batch per request (0 = the client's batch size).
	Size int
	// Progress is called after each request with the items done so far.
	Progress func(done, total int)
}

func vecPath(collection string, rest ...string) string {
	p := "/v1/vector/" + seg(collection)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// List returns every collection, sorted by name.
func (v *VectorService) List(ctx context.Context) ([]CollectionInfo, error) {
	var out struct {
		Collections []json.RawMessage `json:"collections"`
	}
	if _, err := v.c.call(ctx, &request{method: "GET", path: "/v1/vector", idempotent: true}, &out); err != nil {
		return nil, err
	}
	infos := make([]CollectionInfo, len(out.Collections))
	for i, raw := range out.Collections {
		if err := json.Unmarshal(raw, &infos[i]); err != nil {
			return nil, err
		}
		infos[i].Raw = raw
	}
	return infos, nil
}

// Info returns a collection's detail (ErrNotFound if absent).
func (v *VectorService) Info(ctx context.Context, collection string) (*CollectionDetail, error) {
	resp, err := v.c.do(ctx, &request{method: "GET", path: vecPath(collection), idempotent: true})
	if err != nil {
		return nil, err
	}
	var d CollectionDetail
	if err := json.Unmarshal(resp.body, &d); err != nil {
		return nil, err
	}
	d.Raw = resp.body
	return &d, nil
}

// Create makes a collection (ErrAlreadyExists if it exists).
func (v *VectorService) Create(ctx context.Context, collection string, cc CreateCollection) (*CollectionInfo, error) {
	body := map[string]any{}
	for k, val := range cc.Settings {
		body[k] = val
	}
	body["dim"] = cc.Dim
	body["metric"] = cc.Metric
	if cc.Metric == "" {
		body["metric"] = MetricCosine
	}
	if cc.Index != "" {
		body["index"] = cc.Index
	}
	for k, v := range map[string]int{"m": cc.M, "ef_construction": cc.EfConstruction, "ef_search": cc.EfSearch} {
		if v > 0 {
			body[k] = v
		}
	}
	resp, err := v.c.do(ctx, &request{method: "POST", path: vecPath(collection), body: body})
	if err != nil {
		return nil, err
	}
	var info CollectionInfo
	if err := json.Unmarshal(resp.body, &info); err != nil {
		return nil, err
	}
	info.Raw = resp.body
	return &info, nil
}

// Drop deletes a collection and its vectors (ErrNotFound if absent).
func (v *VectorService) Drop(ctx context.Context, collection string) error {
	_, err := v.c.call(ctx, &request{method: "DELETE", path: vecPath(collection), idempotent: true}, nil)
	return err
}

// b64Item is an Item sent with vector_b64 (WithBinaryVectors).
type b64Item struct {
	ID        string `json:"id"`
	VectorB64 string `json:"vector_b64"`
	Meta      any    `json:"meta,omitempty"`
}

// EncodeVectorB64 returns v as the server's vector_b64: standard base64 of
// little-endian float32 values.
func EncodeVectorB64(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (v *VectorService) wire(it Item) any {
	if v.c.binaryVectors {
		return b64Item{ID: it.ID, VectorB64: EncodeVectorB64(it.Vector), Meta: it.Meta}
	}
	return it
}

// Add inserts a new vector (ErrAlreadyExists if the id exists,
// ErrDimMismatch for a wrong length).
func (v *VectorService) Add(ctx context.Context, collection string, it Item) error {
	_, err := v.c.call(ctx, &request{method: "POST", path: vecPath(collection, "add"), body: v.wire(it)}, nil)
	return err
}

// Upsert inserts or replaces a vector and its meta.
func (v *VectorService) Upsert(ctx context.Context, collection string, it Item) error {
	_, err := v.c.call(ctx, &request{method: "POST", path: vecPath(collection, "upsert"), body: v.wire(it), idempotent: true}, nil)
	return err
}

// Update changes an existing vector's values and/or meta (nil keeps the
// current one; ErrNotFound if the id is absent).
func (v *VectorService) Update(ctx context.Context, collection, id string, vector []float32, meta any) error {
	body := map[string]any{"id": id}
	switch {
	case vector != nil && v.c.binaryVectors:
		body["vector_b64"] = EncodeVectorB64(vector)
	case vector != nil:
		body["vector"] = vector
	}
	if meta != nil {
		body["meta"] = meta
	}
	_, err := v.c.call(ctx, &request{method: "POST", path: vecPath(collection, "update"), body: body, idempotent: true}, nil)
	return err
}

// Delete deletes a vector (ErrNotFound if the id is absent).
func (v *VectorService) Delete(ctx context.Context, collection, id string) error {
	_, err := v.c.call(ctx, &request{method: "POST", path: vecPath(collection, "delete"), body: map[string]string{"id": id}}, nil)
	return err
}

// Get returns a stored vector (dot collections: normalised).
func (v *VectorService) Get(ctx context.Context, collection, id string) (*Record, error) {
	var out Record
	q := url.Values{"id": {id}}
	if _, err := v.c.call(ctx, &request{method: "GET", path: vecPath(collection, "get"), query: q, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpsertBatch upserts items in requests of at most o.Size items. Items
// fail one by one (see BatchResult.Err); a request that fails as a whole
// (e.g. ErrNotFound for the collection) returns the error with the results
// so far, earlier requests staying applied.
func (v *VectorService) UpsertBatch(ctx context.Context, collection string, items []Item, o *BatchOptions) (*BatchResult, error) {
	wire := make([]any, len(items))
	for i, it := range items {
		wire[i] = v.wire(it)
	}
	return batched(ctx, v, collection, "upsert_batch", "items", wire, o, true)
}

// DeleteBatch deletes ids like UpsertBatch (a missing id is an item error).
func (v *VectorService) DeleteBatch(ctx context.Context, collection string, ids []string, o *BatchOptions) (*BatchResult, error) {
	return batched(ctx, v, collection, "delete_batch", "ids", ids, o, false)
}

func batched[T any](ctx context.Context, v *VectorService, collection, op, field string, items []T, o *BatchOptions, idempotent bool) (*BatchResult, error) {
	size := v.c.batchSize
	if o != nil && o.Size > 0 {
		size = o.Size
	}
	res := &BatchResult{}
	for start := 0; start < len(items); start += size {
		part := items[start:min(start+size, len(items))]
		var out struct {
			Results []ItemResult `json:"results"`
		}
		if _, err := v.c.call(ctx, &request{method: "POST", path: vecPath(collection, op), body: map[string]any{field: part}, idempotent: idempotent}, &out); err != nil {
			return res, err
		}
		res.Results = append(res.Results, out.Results...)
		res.Requests++
		if o != nil && o.Progress != nil {
			o.Progress(min(start+size, len(items)), len(items))
		}
	}
	return res, nil
}

// Search returns the K most similar vectors, best first (for a grouped
// search, the groups' hits in group order; see SearchGroups).
func (v *VectorService) Search(ctx context.Context, collection string, r SearchRequest) ([]Hit, error) {
	res, err := v.SearchGroups(ctx, collection, r)
	if err != nil {
		return nil, err
	}
	return res.Hits, nil
}

// SearchGroups is Search returning the groups too (with r.GroupBy).
func (v *VectorService) SearchGroups(ctx context.Context, collection string, r SearchRequest) (*SearchResult, error) {
	body := map[string]any{}
	for k, val := range r.Options {
		body[k] = val
	}
	if v.c.binaryVectors {
		body["vector_b64"] = EncodeVectorB64(r.Vector)
	} else {
		body["vector"] = r.Vector
	}
	body["k"] = r.K
	if r.K <= 0 {
		body["k"] = 10
	}
	body["include_meta"] = r.IncludeMeta
	if r.IncludeVector {
		body["include_vector"] = true
	}
	if r.Filters != nil {
		body["filters"] = r.Filters
	}
	if r.Ef > 0 {
		body["ef"] = r.Ef
	}
	if r.GroupBy != "" {
		body["group_by"] = r.GroupBy
		body["group_limit"] = max(1, r.GroupLimit)
	}
	var out SearchResult
	if _, err := v.c.call(ctx, &request{method: "POST", path: vecPath(collection, "search"), body: body, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Vacuum rebuilds the collection's segments without tombstones (admin).
func (v *VectorService) Vacuum(ctx context.Context, collection string) (*VacuumResult, error) {
	var out VacuumResult
	if _, err := v.c.call(ctx, &request{method: "POST", path: vecPath(collection, "vacuum"), body: map[string]any{}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
