package client

import (
	"context"
	"encoding/json"
)

// SearchService is the grouped-search corpus (/search, /search/ingest): an
// append-only corpus of documents with content and typed metadata, searched
// by text with grouping — the original server's RAG endpoint, independent
// of the vector collections.
type SearchService struct{ c *Client }

// SearchDocument is a corpus document.
type SearchDocument struct {
	ID       uint32         `json:"id"`
	Vector   []float32      `json:"vector,omitempty"`
	Content  string         `json:"content"`
	Metadata SearchMetadata `json:"metadata"`
}

// SearchMetadata are the corpus's typed metadata fields (all optional).
type SearchMetadata struct {
	Filename    string  `json:"filename,omitempty"`
	Category    string  `json:"category,omitempty"`
	Language    string  `json:"language,omitempty"`
	Status      string  `json:"status,omitempty"`
	Version     string  `json:"version,omitempty"`
	DocumentID  string  `json:"document_id,omitempty"`
	ProcessedAt *uint64 `json:"processed_at,omitempty"`
	GroupID     *uint32 `json:"group_id,omitempty"`
}

// GroupedSearch is a corpus query. A Query "TEST_VEC:0.1,0.2,..." is used
// as the vector itself.
type GroupedSearch struct {
	Query      string         `json:"query"`
	TopK       int            `json:"top_k,omitempty"`
	Filters    map[string]any `json:"filters,omitempty"`
	GroupBy    string         `json:"group_by,omitempty"`
	GroupLimit int            `json:"group_limit,omitempty"`
}

// GroupedResult is one result, best first.
type GroupedResult struct {
	Score    float32 `json:"score"`
	Document struct {
		ID       uint32          `json:"id"`
		Content  string          `json:"content"`
		Metadata json.RawMessage `json:"metadata"`
	} `json:"document"`
}

// Ingest appends a document to the corpus (duplicates are allowed).
func (s *SearchService) Ingest(ctx context.Context, d SearchDocument) error {
	_, err := s.c.call(ctx, &request{method: "POST", path: "/search/ingest", body: map[string]any{"document": d}}, nil)
	return err
}

// Query searches the corpus.
func (s *SearchService) Query(ctx context.Context, q GroupedSearch) ([]GroupedResult, error) {
	var out struct {
		Results []GroupedResult `json:"results"`
	}
	if _, err := s.c.call(ctx, &request{method: "POST", path: "/search", body: q, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}
