package docstore

// Projected decoding. A find or an index entry reads a few fields of a
// document; decoding the whole document into maps dominated scans (about
// three quarters of their CPU). decodeProjected walks the top level of the
// stored (compact, valid) JSON, skips the values of keys no path needs, and
// decodes only the others, so filter.Match and filter.Resolve see the same
// values they would in the full decoding.

import (
	"encoding/json"

	"github.com/luma-db/luma/internal/filter"
)

// projection is the set of top-level keys some field paths can read: for
// "a.b.c", filter.Resolve looks up the top-level key "a.b.c" first and
// then walks "a". nil means "decode everything".
type projection map[string]struct{}

func (p projection) add(path string) {
	p[path] = struct{}{}
	for i := 0; i < len(path); i++ {
		if path[i] == '.' {
			p[path[:i]] = struct{}{}
			return
		}
	}
}

// filterProjection returns the keys a filter (and an optional sort field)
// reads.
func filterProjection(f *filter.Filter, sortField string) projection {
	p := projection{}
	if sortField != "" {
		p.add(sortField)
	}
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
			p.add(n.Field)
		}
	}
	if f != nil {
		walk(f.Root)
	}
	return p
}

func defsProjection(defs []indexDef) projection {
	p := projection{}
	for _, d := range defs {
		p.add(d.Field)
	}
	return p
}

// decodeProjected decodes b keeping, when b is an object, only the keys in
// p (nil p: everything). Any value that is not an object, and any input the
// fast path does not understand, is decoded whole.
func decodeProjected(b []byte, p projection) (any, error) {
	if p == nil {
		return decodeDoc(b)
	}
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return decodeDoc(b)
	}
	out := make(map[string]any, len(p))
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, nil
	}
	for i < len(b) {
		if b[i] != '"' {
			return decodeDoc(b)
		}
		end, escaped := skipString(b, i)
		if end < 0 {
			return decodeDoc(b)
		}
		key := string(b[i+1 : end-1])
		if escaped {
			if err := json.Unmarshal(b[i:end], &key); err != nil {
				return decodeDoc(b)
			}
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return decodeDoc(b)
		}
		i = skipWS(b, i+1)
		vend := skipValue(b, i)
		if vend < 0 {
			return decodeDoc(b)
		}
		if _, want := p[key]; want {
			v, err := decodeDoc(b[i:vend])
			if err != nil {
				return nil, err
			}
			out[key] = v // a repeated key: the last one wins, as in encoding/json
		}
		i = skipWS(b, vend)
		if i >= len(b) {
			return decodeDoc(b)
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			if skipWS(b, i+1) != len(b) {
				return decodeDoc(b)
			}
			return out, nil
		default:
			return decodeDoc(b)
		}
	}
	return decodeDoc(b)
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] (a '"')
// and whether it holds escapes, or -1.
func skipString(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, false
}

// skipValue returns the index after the JSON value starting at b[i], or
// -1. It trusts the input to be valid JSON (stored documents are) and only
// tracks strings and nesting.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := skipString(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := skipString(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}
