package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strconv"
)

// DocService is the JSON document store: documents addressed by
// (collection, id), each with a revision, found by filters.
type DocService struct{ c *Client }

// Document is a stored document.
type Document struct {
	ID       string          `json:"id"`
	Revision uint64          `json:"revision"`
	Doc      json.RawMessage `json:"doc"`
}

// Decode unmarshals the document into v.
func (d *Document) Decode(v any) error { return json.Unmarshal(d.Doc, v) }

func docPath(collection string, rest ...string) string {
	p := "/v1/doc/" + seg(collection)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func ifRevisionQuery(rev uint64) url.Values {
	if rev == 0 {
		return nil
	}
	return url.Values{"if_revision": {strconv.FormatUint(rev, 10)}}
}

// Put stores doc (any JSON value) at collection/id, replacing it.
// ifRevision > 0 makes it a compare-and-set (ErrRevisionMismatch).
func (d *DocService) Put(ctx context.Context, collection, id string, doc any, ifRevision uint64) (*Document, error) {
	if doc == nil {
		doc = json.RawMessage("null")
	}
	var out Document
	if _, err := d.c.call(ctx, &request{method: "PUT", path: docPath(collection, seg(id)), query: ifRevisionQuery(ifRevision), body: doc, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns the document (ErrNotFound if absent).
func (d *DocService) Get(ctx context.Context, collection, id string) (*Document, error) {
	var out Document
	if _, err := d.c.call(ctx, &request{method: "GET", path: docPath(collection, seg(id)), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes the document and reports whether it existed; ifRevision
// > 0 makes it conditional.
func (d *DocService) Delete(ctx context.Context, collection, id string, ifRevision uint64) (bool, error) {
	var out struct {
		Deleted bool `json:"deleted"`
	}
	if _, err := d.c.call(ctx, &request{method: "DELETE", path: docPath(collection, seg(id)), query: ifRevisionQuery(ifRevision), idempotent: true}, &out); err != nil {
		return false, err
	}
	return out.Deleted, nil
}

// Sort orders find results by a field (dotted path allowed).
type Sort struct {
	Field string `json:"field"`
	Desc  bool   `json:"-"`
}

// MarshalJSON writes {"field", "order"}.
func (s Sort) MarshalJSON() ([]byte, error) {
	order := "asc"
	if s.Desc {
		order = "desc"
	}
	return json.Marshal(struct {
		Field string `json:"field"`
		Order string `json:"order"`
	}{s.Field, order})
}

// FindRequest selects documents.
type FindRequest struct {
	// Filter: {"field": value} equality (AND), operators ($eq $ne $in $nin
	// $gt $gte $lt $lte $exists $and $or $not) and dotted paths. nil = all.
	Filter any
	// Limit is the page size (0 = the server's default, 20).
	Limit int
	// Sort orders the results (nil = by id).
	Sort *Sort
	// Cursor is the previous page's NextCursor.
	Cursor string
}

// FindResult is one page of documents.
type FindResult struct {
	Documents  []Document `json:"documents"`
	NextCursor *string    `json:"next_cursor"`
	// IndexUsed names the index that answered (nil: a scan).
	IndexUsed *string `json:"index_used"`
	Scanned   int     `json:"scanned"`
}

// Find returns one page of matching documents.
func (d *DocService) Find(ctx context.Context, collection string, r FindRequest) (*FindResult, error) {
	body := map[string]any{"filter": r.Filter}
	if r.Filter == nil {
		body["filter"] = map[string]any{}
	}
	if r.Limit > 0 {
		body["limit"] = r.Limit
	}
	if r.Sort != nil {
		body["sort"] = r.Sort
	}
	if r.Cursor != "" {
		body["cursor"] = r.Cursor
	}
	var out FindResult
	if _, err := d.c.call(ctx, &request{method: "POST", path: docPath(collection, "find"), body: body, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// All iterates over every matching document, page by page (r.Cursor is
// the starting point). It stops at the first error, which it yields.
func (d *DocService) All(ctx context.Context, collection string, r FindRequest) iter.Seq2[Document, error] {
	return func(yield func(Document, error) bool) {
		for {
			page, err := d.Find(ctx, collection, r)
			if err != nil {
				yield(Document{}, err)
				return
			}
			for _, doc := range page.Documents {
				if !yield(doc, nil) {
					return
				}
			}
			if page.NextCursor == nil || *page.NextCursor == "" {
				return
			}
			r.Cursor = *page.NextCursor
		}
	}
}

// Index is a secondary index of a document collection.
type Index struct {
	Field    string `json:"field"`
	Type     string `json:"type"`
	State    string `json:"state"` // building, ready
	Progress struct {
		Processed uint64 `json:"processed"`
		Total     uint64 `json:"total"`
	} `json:"progress"`
	CreatedAtMs uint64  `json:"created_at_ms"`
	ReadyAtMs   *uint64 `json:"ready_at_ms"`
}

// CreateIndex declares an index on field (dotted path) of type keyword,
// number, bool or auto ("" = auto); existing documents are indexed in the
// background. Admin only.
func (d *DocService) CreateIndex(ctx context.Context, collection, field, typ string) (*Index, error) {
	body := map[string]any{"field": field}
	if typ != "" {
		body["type"] = typ
	}
	var out Index
	if _, err := d.c.call(ctx, &request{method: "POST", path: docPath(collection, "_indexes"), body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Indexes lists the collection's indexes.
func (d *DocService) Indexes(ctx context.Context, collection string) ([]Index, error) {
	var out struct {
		Indexes []Index `json:"indexes"`
	}
	if _, err := d.c.call(ctx, &request{method: "GET", path: docPath(collection, "_indexes"), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return out.Indexes, nil
}

// DropIndex drops the index on field (ErrNotFound if there is none).
// Admin only.
func (d *DocService) DropIndex(ctx context.Context, collection, field string) error {
	_, err := d.c.call(ctx, &request{method: "DELETE", path: docPath(collection, "_indexes", seg(field)), idempotent: true}, nil)
	return err
}
