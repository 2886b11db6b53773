package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/luma-db/luma/pkg/client"
)

func TestGroupedSearchCorpus(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	docs := []client.SearchDocument{
		{ID: 1, Vector: []float32{1, 0}, Content: "a1", Metadata: client.SearchMetadata{DocumentID: "A", Language: "en"}},
		{ID: 2, Vector: []float32{0.9, 0.1}, Content: "a2", Metadata: client.SearchMetadata{DocumentID: "A", Language: "en"}},
		{ID: 3, Vector: []float32{0.7, 0.3}, Content: "b1", Metadata: client.SearchMetadata{DocumentID: "B", Language: "es"}},
	}
	for _, d := range docs {
		err := c.Search.Ingest(ctx, d)
		skipNoRoute(t, err)
		if err != nil {
			t.Fatal(err)
		}
	}
	res := must[[]client.GroupedResult](t)(c.Search.Query(ctx, client.GroupedSearch{Query: "TEST_VEC:1,0", TopK: 3}))
	if len(res) != 3 || res[0].Document.Content != "a1" || res[0].Score < 0.99 {
		t.Fatalf("results = %+v", res)
	}
	res = must[[]client.GroupedResult](t)(c.Search.Query(ctx, client.GroupedSearch{Query: "TEST_VEC:1,0", TopK: 5, GroupBy: "document_id"}))
	if len(res) != 2 || res[0].Document.Content != "a1" || res[1].Document.Content != "b1" {
		t.Fatalf("grouped = %+v", res)
	}
	res = must[[]client.GroupedResult](t)(c.Search.Query(ctx, client.GroupedSearch{Query: "TEST_VEC:1,0", Filters: map[string]any{"language": "es"}}))
	if len(res) != 1 || !strings.Contains(string(res[0].Document.Metadata), `"document_id":"B"`) {
		t.Fatalf("filtered = %+v", res)
	}
	if _, err := c.Search.Query(ctx, client.GroupedSearch{Query: strings.Repeat("q", 2000)}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("long query: %v", err)
	}
}
