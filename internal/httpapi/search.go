package httpapi

// Grouped search over the separate /search corpus (CONTRACT.md §4.7). Its
// errors use the spelling internal_error, unlike the rest of the API.

import (
	"errors"
	"net/http"

	"github.com/luma-db/luma/internal/vector"
	"github.com/luma-db/luma/internal/vector/corpus"
)

func (s *Server) searchRoutes() []route {
	if s.d.Corpus == nil {
		return nil
	}
	return []route{
		{method: "POST", pattern: "/search", access: accessRead, handler: s.corpusSearch},
		{method: "POST", pattern: "/search/ingest", access: accessWrite, handler: s.corpusIngest},
	}
}

type ingestRequest struct {
	Document *struct {
		ID       *uint32      `json:"id"`
		Vector   *[]float32   `json:"vector"`
		Content  *string      `json:"content"`
		Metadata *corpus.Meta `json:"metadata"`
	} `json:"document"`
}

// POST /search/ingest → 200 with an empty body.
func (s *Server) corpusIngest(w http.ResponseWriter, r *http.Request) error {
	var req ingestRequest
	if err := decodeVectorBody(r, &req); err != nil {
		return err
	}
	d := req.Document
	switch {
	case d == nil:
		return errUnprocessable("field \"document\" is required: {id, vector, content, metadata}")
	case d.ID == nil:
		return errUnprocessable("field \"document.id\" is required (an unsigned 32-bit integer)")
	case d.Vector == nil:
		return errUnprocessable("field \"document.vector\" is required (an array of numbers)")
	case d.Content == nil:
		return errUnprocessable("field \"document.content\" is required (a string)")
	case d.Metadata == nil:
		return errUnprocessable("field \"document.metadata\" is required (an object, {} allowed)")
	}
	vec := *d.Vector
	if vec == nil {
		vec = []float32{}
	}
	err := s.d.Corpus.Ingest(r.Context(), corpus.Document{ID: *d.ID, Vector: vec, Content: *d.Content, Metadata: *d.Metadata})
	if err != nil {
		if errors.Is(err, corpus.ErrContentTooLong) {
			return err
		}
		s.log.Error("ingest failed", "err", err)
		return &apiError{Status: http.StatusInternalServerError, Code: codeInternalError, Message: "ingest failed", cause: err}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// float32JSON is a float32 written as the original's serde_json writes an
// f32: shortest form, integral values with ".0" (1.0, not 1).
type float32JSON float32

func (f float32JSON) MarshalJSON() ([]byte, error) { return vector.AppendFloat32(nil, float32(f)), nil }

type corpusResult struct {
	Score    float32JSON `json:"score"`
	Document struct {
		ID       uint32      `json:"id"`
		Content  string      `json:"content"`
		Metadata corpus.Meta `json:"metadata"`
	} `json:"document"`
}

// POST /search
func (s *Server) corpusSearch(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Query      *string         `json:"query"`
		TopK       *int            `json:"top_k"`
		Filters    *corpus.Filters `json:"filters"`
		GroupBy    *string         `json:"group_by"`
		GroupLimit *int            `json:"group_limit"`
	}
	if err := decodeVectorBody(r, &body); err != nil {
		return err
	}
	if body.Query == nil {
		return errUnprocessable("field \"query\" is required (a string)")
	}
	req := corpus.SearchRequest{Query: *body.Query, TopK: body.TopK, Filters: body.Filters, GroupBy: body.GroupBy, GroupLimit: body.GroupLimit}
	res, topK, err := s.d.Corpus.Search(req)
	if err != nil {
		if errors.Is(err, corpus.ErrQueryTooLong) || errors.Is(err, corpus.ErrTopKInvalid) {
			return err
		}
		return &apiError{Status: http.StatusInternalServerError, Code: codeInternalError, Message: "search failed", cause: err}
	}
	out := make([]corpusResult, len(res))
	for i, x := range res {
		out[i].Score = float32JSON(x.Score)
		out[i].Document.ID = x.Document.ID
		out[i].Document.Content = x.Document.Content
		out[i].Document.Metadata = x.Document.Metadata
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": req.Query, "top_k": topK, "results": out})
	return nil
}

// mapCorpusError covers the /search corpus's errors.
func mapCorpusError(err error) *apiError {
	switch {
	case errors.Is(err, corpus.ErrQueryTooLong):
		return errInvalid("query too long")
	case errors.Is(err, corpus.ErrTopKInvalid):
		return errInvalid("top_k invalid")
	case errors.Is(err, corpus.ErrContentTooLong):
		return newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "document content too large")
	}
	return nil
}
