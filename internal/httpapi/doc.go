package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/luma-db/luma/internal/docstore"
	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/storage"
)

// Document store routes (CONTRACT.md §4.5) and Luma's index admin routes.
func (s *Server) docRoutes() []route {
	return []route{
		{method: "GET", pattern: "/v1/doc/{collection}/{id}", access: accessRead, handler: s.docGet},
		{method: "PUT", pattern: "/v1/doc/{collection}/{id}", access: accessWrite, handler: s.docPut},
		{method: "DELETE", pattern: "/v1/doc/{collection}/{id}", access: accessWrite, handler: s.docDelete},
		{method: "POST", pattern: "/v1/doc/{collection}/find", access: accessRead, handler: s.docFind},
		{method: "GET", pattern: "/v1/doc/{collection}/_indexes", access: accessRead, handler: s.docIndexList},
		{method: "POST", pattern: "/v1/doc/{collection}/_indexes", access: accessAdmin, handler: s.docIndexCreate},
		{method: "DELETE", pattern: "/v1/doc/{collection}/_indexes/{field}", access: accessAdmin, handler: s.docIndexDrop},
	}
}

// docItem is the wire document: {id, revision, doc} (find lists the same
// three fields).
type docItem struct {
	ID       string          `json:"id"`
	Revision uint64          `json:"revision"`
	Doc      json.RawMessage `json:"doc"`
}

func toDocItem(d docstore.Doc) docItem {
	return docItem{ID: d.ID, Revision: d.Revision, Doc: d.Doc}
}

// docPath returns {collection} and {id}, refusing the literal segments
// that other routes own: find (POST only, as in the original) and
// _indexes (GET, POST).
func docPath(r *http.Request) (string, string, error) {
	c, id := r.PathValue("collection"), r.PathValue("id")
	switch id {
	case "find":
		return "", "", errMethodNotAllowed(r, "POST")
	case "_indexes":
		return "", "", errMethodNotAllowed(r, "GET, POST")
	}
	return c, id, nil
}

// docWriteError turns a failed durable commit into the document store's
// wording (CONTRACT.md §4.5: "failed to persist document").
func docWriteError(err error) error {
	if errors.Is(err, storage.ErrPersistence) {
		return &apiError{Status: http.StatusInternalServerError, Code: codePersistence, Message: "failed to persist document", cause: err}
	}
	return err
}

// ifRevision reads the optional ?if_revision= compare-and-set parameter.
func ifRevision(r *http.Request) (*uint64, error) {
	v, ok, err := queryUint(r, "if_revision")
	if err != nil || !ok {
		return nil, err
	}
	return &v, nil
}

// GET /v1/doc/{collection}/{id}
func (s *Server) docGet(w http.ResponseWriter, r *http.Request) error {
	c, id, err := docPath(r)
	if err != nil {
		return err
	}
	d, err := s.d.Docs.Get(c, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDocItem(d))
	return nil
}

// PUT /v1/doc/{collection}/{id}?if_revision=N; the body is the document.
func (s *Server) docPut(w http.ResponseWriter, r *http.Request) error {
	c, id, err := docPath(r)
	if err != nil {
		return err
	}
	if err := s.d.Docs.CheckNames(c, id); err != nil {
		return err
	}
	ifRev, err := ifRevision(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	d, err := s.d.Docs.Put(r.Context(), c, id, body, ifRev)
	if err != nil {
		return docWriteError(err)
	}
	writeJSON(w, http.StatusOK, toDocItem(d))
	return nil
}

// DELETE /v1/doc/{collection}/{id}?if_revision=N → {deleted}, never 404.
func (s *Server) docDelete(w http.ResponseWriter, r *http.Request) error {
	c, id, err := docPath(r)
	if err != nil {
		return err
	}
	ifRev, err := ifRevision(r)
	if err != nil {
		return err
	}
	deleted, err := s.d.Docs.Delete(r.Context(), c, id, ifRev)
	if err != nil {
		return docWriteError(err)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": deleted})
	return nil
}

// findRequest is the body of POST /v1/doc/{collection}/find.
type findRequest struct {
	Filter json.RawMessage `json:"filter"`
	Limit  *int64          `json:"limit"`
	Sort   *struct {
		Field *string `json:"field"`
		Order *string `json:"order"`
	} `json:"sort"`
	Cursor *string `json:"cursor"`
}

// parseFindRequest decodes a find body (empty = {}) into a query with the
// limit defaulted and clamped to 1..maxFind.
func parseFindRequest(b []byte, maxFind int) (docstore.Query, error) {
	var req findRequest
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := unmarshalBody(b, &req); err != nil {
			return docstore.Query{}, err
		}
	}
	q := docstore.Query{Filter: req.Filter, Limit: docstore.DefaultFindLimit}
	if req.Limit != nil {
		q.Limit = int(min(max(*req.Limit, 1), int64(maxFind)))
	}
	q.Limit = min(q.Limit, maxFind)
	if req.Sort != nil {
		if req.Sort.Field == nil {
			return docstore.Query{}, errUnprocessable(`field "sort.field" is required when sort is given`)
		}
		q.Sort = &docstore.Sort{Field: *req.Sort.Field}
		if o := req.Sort.Order; o != nil {
			switch *o {
			case "asc":
			case "desc":
				q.Sort.Desc = true
			default:
				return docstore.Query{}, errInvalid(`sort.order must be "asc" or "desc", got %q`, *o)
			}
		}
		if err := docstore.CheckSort(q.Sort); err != nil {
			return docstore.Query{}, err
		}
	}
	if req.Cursor != nil {
		q.Cursor = *req.Cursor
	}
	return q, nil
}

// findResponse: the contract's {documents} plus paging and plan details.
type findResponse struct {
	Documents  []docItem `json:"documents"`
	NextCursor *string   `json:"next_cursor"`
	IndexUsed  *string   `json:"index_used"`
	Scanned    int       `json:"scanned"`
}

// POST /v1/doc/{collection}/find
func (s *Server) docFind(w http.ResponseWriter, r *http.Request) error {
	c := r.PathValue("collection")
	if err := s.d.Docs.CheckCollection(c); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	q, err := parseFindRequest(body, s.d.Docs.Limits().MaxFind)
	if err != nil {
		return err
	}
	res, err := s.d.Docs.Find(r.Context(), c, q)
	if err != nil {
		return err
	}
	out := findResponse{Documents: make([]docItem, len(res.Docs)), Scanned: res.Scanned}
	for i, d := range res.Docs {
		out.Documents[i] = toDocItem(d)
	}
	if res.NextCursor != "" {
		out.NextCursor = &res.NextCursor
	}
	if res.IndexUsed != "" {
		out.IndexUsed = &res.IndexUsed
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// indexInfo is the wire form of an index.
type indexInfo struct {
	Field       string        `json:"field"`
	Type        string        `json:"type"`
	State       string        `json:"state"`
	Progress    indexProgress `json:"progress"`
	CreatedAtMs uint64        `json:"created_at_ms"`
	ReadyAtMs   *uint64       `json:"ready_at_ms"`
}

type indexProgress struct {
	Processed uint64 `json:"processed"`
	Total     uint64 `json:"total"`
}

func toIndexInfo(in docstore.IndexInfo) indexInfo {
	return indexInfo{
		Field: in.Field, Type: string(in.Type), State: in.State,
		Progress:    indexProgress{Processed: in.Processed, Total: in.Total},
		CreatedAtMs: in.CreatedAtMs, ReadyAtMs: in.ReadyAtMs,
	}
}

// GET /v1/doc/{collection}/_indexes
func (s *Server) docIndexList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.d.Docs.Indexes(r.PathValue("collection"))
	if err != nil {
		return err
	}
	out := make([]indexInfo, len(list))
	for i, in := range list {
		out[i] = toIndexInfo(in)
	}
	writeJSON(w, http.StatusOK, map[string]any{"indexes": out})
	return nil
}

type indexCreateRequest struct {
	Field *string `json:"field"`
	Type  *string `json:"type"`
}

// POST /v1/doc/{collection}/_indexes {field, type?}
func (s *Server) docIndexCreate(w http.ResponseWriter, r *http.Request) error {
	c := r.PathValue("collection")
	if err := s.d.Docs.CheckCollection(c); err != nil {
		return err
	}
	var req indexCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Field == nil {
		return errUnprocessable(`field "field" is required: the document field to index, e.g. "status" or "user.age"`)
	}
	typ := ""
	if req.Type != nil {
		typ = *req.Type
	}
	t, err := docstore.ParseIndexType(typ)
	if err != nil {
		return err
	}
	info, err := s.d.Docs.CreateIndex(r.Context(), c, *req.Field, t)
	if err != nil {
		return docWriteError(err)
	}
	writeJSON(w, http.StatusOK, toIndexInfo(info))
	return nil
}

// DELETE /v1/doc/{collection}/_indexes/{field}
func (s *Server) docIndexDrop(w http.ResponseWriter, r *http.Request) error {
	if err := s.d.Docs.DropIndex(r.Context(), r.PathValue("collection"), r.PathValue("field")); err != nil {
		return docWriteError(err)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"dropped": true})
	return nil
}

// mapDocError covers the document store's errors.
func mapDocError(err error) *apiError {
	var fe *filter.Error
	switch {
	case errors.As(err, &fe):
		return errInvalid("%s", fe.Error())
	case errors.Is(err, docstore.ErrNotFound):
		return errNotFound("document not found")
	case errors.Is(err, docstore.ErrCollectionTooLong):
		return errInvalid("collection too long")
	case errors.Is(err, docstore.ErrIDTooLong):
		return errInvalid("id too long")
	case errors.Is(err, docstore.ErrEmptyCollection):
		return errInvalid("collection must not be empty")
	case errors.Is(err, docstore.ErrEmptyID):
		return errInvalid("id must not be empty")
	case errors.Is(err, docstore.ErrCollectionColon):
		return errInvalid("invalid collection name: a document collection must not contain ':' (the state key doc:{collection}:{id} would be ambiguous)")
	case errors.Is(err, docstore.ErrCollectionEncoding):
		return errInvalid("collection must be valid UTF-8")
	case errors.Is(err, docstore.ErrIDEncoding):
		return errInvalid("id must be valid UTF-8")
	case errors.Is(err, docstore.ErrKeyTooLong):
		return errInvalid("document key doc:{collection}:{id} is longer than MAX_KEY_LEN; use a shorter collection or id")
	case errors.Is(err, docstore.ErrDocTooLarge):
		return newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "doc too large")
	case errors.Is(err, docstore.ErrEmptyDoc):
		return errInvalid("request body required: send the document as JSON")
	case errors.Is(err, docstore.ErrInvalidDoc):
		return errInvalid("malformed JSON: %s", domainMessage(err, "docstore: document is not valid JSON: "))
	case errors.Is(err, docstore.ErrIndexExists):
		return newError(http.StatusConflict, codeAlreadyExists, "index already exists")
	case errors.Is(err, docstore.ErrIndexNotFound):
		return errNotFound("index not found")
	case errors.Is(err, docstore.ErrTooManyIndexes):
		return errInvalid("too many indexes: a collection has at most %d", docstore.MaxIndexes)
	case errors.Is(err, docstore.ErrInvalidField):
		return errInvalid("invalid index field: %s", domainMessage(err, "docstore: invalid index field: "))
	case errors.Is(err, docstore.ErrInvalidIndexType):
		return errInvalid("%s; use one of keyword, number, bool, auto", domainMessage(err, "docstore: "))
	case errors.Is(err, docstore.ErrInvalidSort):
		return errInvalid("invalid sort: %s", domainMessage(err, "docstore: invalid sort: "))
	case errors.Is(err, docstore.ErrInvalidCursor):
		return errInvalid("invalid cursor: pass next_cursor from the previous find answer unchanged")
	case errors.Is(err, docstore.ErrCursorMismatch):
		return errInvalid("cursor was made for a find with another sort: repeat the same sort, or start again without a cursor")
	case errors.Is(err, docstore.ErrFilterTooLarge):
		return newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "filter too large")
	}
	return nil
}

// domainMessage returns err's text without a known leading prefix.
func domainMessage(err error, prefix string) string {
	return strings.TrimPrefix(err.Error(), prefix)
}
