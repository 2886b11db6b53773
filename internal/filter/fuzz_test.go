package filter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/filter"
)

// loose limits for re-parsing rendered filters, which may nest a little
// deeper than their source ($ne becomes $not of $eq).
var loose = &filter.Options{MaxDepth: 1 << 20, MaxClauses: 1 << 30}

// FuzzParse: Parse never panics; every error is a *filter.Error; every
// accepted filter renders to text that parses to the same rendering and
// matches the same documents.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `"x"`, `{"a":1}`, `{"a":{"$gt":5,"$lt":"z"}}`, `{"$or":[{"a":[1,2]},{"b":{"$in":[1,"x",null]}}]}`,
		`{"a.b":{"$not":{"$exists":false}}}`, `{"a":{"$gt":[1]}}`, `{"a":{"$foo":1}}`, `{"$and":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		flt, err := filter.Parse(data, nil)
		if err != nil {
			var fe *filter.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is %T, not *filter.Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), "filter: ") || fe.Msg == "" {
				t.Fatalf("badly formed error %q", err)
			}
			return
		}
		s := flt.String()
		again, err := filter.Parse([]byte(s), loose)
		if err != nil {
			t.Fatalf("rendering %s of %q does not parse: %v", s, data, err)
		}
		if s2 := again.String(); s2 != s {
			t.Fatalf("rendering not stable: %s -> %s", s, s2)
		}
		for _, doc := range probeDocs(flt) {
			if a, b := flt.Match(doc), again.Match(doc); a != b {
				t.Fatalf("%q and its rendering %s disagree on %v: %v vs %v", data, s, doc, a, b)
			}
		}
	})
}

// FuzzMatch: for any filter object and document, the filter, its rendering,
// its double negation and its conjunction with itself agree, and $not
// disagrees; Match never panics on either number decoding.
func FuzzMatch(f *testing.F) {
	seeds := [][2]string{
		{`{"a":1}`, `{"a":1.0}`},
		{`{"a":{"$eq":1}}`, `{"a":[0,1]}`},
		{`{"a.b":{"$gte":"m"}}`, `{"a":{"b":["a","z"]},"a.b":"n"}`},
		{`{"$or":[{"x":{"$exists":false}},{"y":{"$nin":[1,2]}}]}`, `{"y":[3]}`},
		{`{"a":{"$in":[[1],{"k":null}]}}`, `{"a":[[1],2]}`},
		{`{"n":{"$lt":9007199254740993}}`, `{"n":9007199254740992}`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, src, docText string) {
		flt, err := filter.Parse([]byte(src), nil)
		if err != nil {
			return
		}
		var doc, docF64 any
		dec := json.NewDecoder(strings.NewReader(docText))
		dec.UseNumber()
		if dec.Decode(&doc) != nil || json.Unmarshal([]byte(docText), &docF64) != nil {
			return
		}
		got := flt.Match(doc)
		flt.Match(docF64)
		if !bytes.HasPrefix(bytes.TrimSpace([]byte(src)), []byte("{")) {
			return
		}
		rendered := flt.String()
		for name, variant := range map[string]string{
			"rendering":   rendered,
			"not not":     `{"$not":{"$not":` + rendered + `}}`,
			"and itself":  `{"$and":[` + rendered + `,` + rendered + `]}`,
			"or itself":   `{"$or":[` + rendered + `,` + rendered + `]}`,
			"with {}":     `{"$and":[{},` + rendered + `]}`,
			"negated":     `{"$not":` + rendered + `}`,
			"nor negated": `{"$not":{"$or":[{"$not":` + rendered + `}]}}`,
		} {
			g, err := filter.Parse([]byte(variant), loose)
			if err != nil {
				if rendered == "false" {
					continue // None renders as a non-object, which $not rejects
				}
				t.Fatalf("%s %s: %v", name, variant, err)
			}
			want := got
			if name == "negated" {
				want = !got
			}
			if g.Match(doc) != want {
				t.Fatalf("%s of %s on %s: %v, want %v", name, src, docText, g.Match(doc), want)
			}
		}
	})
}

// probeDocs builds documents that exercise flt: one per comparison holding
// its literal at its field, plus a few fixed shapes.
func probeDocs(flt *filter.Filter) []any {
	docs := []any{nil, map[string]any{}, "x", []any{1.0}}
	var walk func(n filter.Node)
	walk = func(n filter.Node) {
		switch n := n.(type) {
		case *filter.And:
			for _, c := range n.Nodes {
				walk(c)
			}
		case *filter.Or:
			for _, c := range n.Nodes {
				walk(c)
			}
		case *filter.Not:
			walk(n.Node)
		case *filter.Cmp:
			v := n.Value
			if n.Op == filter.OpIn && len(n.Values) > 0 {
				v = n.Values[0]
			}
			docs = append(docs,
				map[string]any{n.Field: v},
				map[string]any{n.Field: []any{v, "other"}},
				nestAt(n.Field, v),
			)
		}
	}
	walk(flt.Root)
	if len(docs) > 64 {
		docs = docs[:64]
	}
	return docs
}

// nestAt builds {"a":{"b":v}} for the path "a.b".
func nestAt(path string, v any) any {
	parts := strings.Split(path, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		v = map[string]any{parts[i]: v}
	}
	return v
}
