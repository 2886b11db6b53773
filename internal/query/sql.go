package query

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math"
	"strconv"
	"strings"

	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/sqlstore"
	"github.com/luma-db/luma/internal/vector"
)

// idsParam is the parameter Luma binds to the candidates' keys.
const idsParam = "ids"

// sqlPlan is a checked SQL stage.
type sqlPlan struct {
	sql     string
	from    source
	usesIDs bool
	params  sqlstore.Params // without :ids
	named   map[string]any  // with :ids: the caller's named values
}

func planSQL(s SQLStage) (*sqlPlan, error) {
	from, err := parseSource("sql.id_from", s.IDFrom)
	if err != nil {
		return nil, err
	}
	p := &sqlPlan{sql: s.SQL, from: from, usesIDs: usesParam(s.SQL, idsParam)}
	raw := bytes.TrimSpace(s.Params)
	if !p.usesIDs {
		// The /v1/sql/query rules, errors included (400 sqlite_error).
		if p.params, err = sqlstore.DecodeParams(raw); err != nil {
			return nil, err
		}
		return p, nil
	}
	if len(raw) == 0 || string(raw) == "null" {
		return p, nil
	}
	if raw[0] != '{' {
		return nil, invalid("sql.params", "must be an object (named parameters) or absent when the statement uses :ids")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&p.named); err != nil {
		return nil, invalid("sql.params", "invalid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("sql.params", "unexpected data after the JSON value")
	}
	for k := range p.named {
		if strings.TrimLeft(k, ":@$") == idsParam {
			return nil, invalid("sql.params", "must not set %q: Luma binds :ids to the candidate keys", k)
		}
	}
	return p, nil
}

// usesParam reports whether statement q names the parameter :name, @name
// or $name outside string literals, quoted identifiers and comments. It
// follows SQLite's tokenizer only as far as needed to find parameters; a
// wrong guess ends in the SQL store's precise parameter error, never in a
// statement run with other values.
func usesParam(q, name string) bool {
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j + 1
		case c == '[':
			j := strings.IndexByte(q[i:], ']')
			if j < 0 {
				return false
			}
			i += j + 1
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				return false
			}
			i += j + 1
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return false
			}
			i += j + 4
		case c == ':' || c == '@' || c == '$':
			j := i + 1
			for j < len(q) && isIDChar(q[j]) {
				j++
			}
			if q[i+1:j] == name {
				return true
			}
			i = max(j, i+1)
		case isIDChar(c):
			// A word (identifiers may contain $), skipped whole.
			for i < len(q) && isIDChar(q[i]) {
				i++
			}
		default:
			i++
		}
	}
	return false
}

func isIDChar(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= 0x80
}

// key is a hit's key: its text (what SQL values are compared with) and
// its JSON value (what :ids holds).
type key struct {
	text  string
	value any // string or int64
}

// keyOf returns the key of a hit from src: its id, or the scalar at the
// meta path (a string, or an integer-valued number as decimal text).
func keyOf(id string, meta any, src source) (key, bool) {
	if src.path == "" {
		return key{id, id}, true
	}
	v, ok := filter.Resolve(meta, src.path)
	if !ok {
		return key{}, false
	}
	switch x := v.(type) {
	case string:
		return key{x, x}, true
	default:
		if n, ok := filter.AsNumber(x); ok {
			if i, ok := n.Int64(); ok {
				return key{strconv.FormatInt(i, 10), i}, true
			}
		}
	}
	return key{}, false
}

// sqlKey returns the text of an SQL value as a key: TEXT as is, INTEGER
// and integral REAL as decimal text.
func sqlKey(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return strconv.FormatInt(int64(x), 10), true
		}
	}
	return "", false
}

// decodeMeta decodes meta JSON with numbers kept exact (nil = null).
func decodeMeta(meta []byte) any {
	if meta == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(meta))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return v
}

// runSQL runs the statement, binding :ids to vals when it uses them, and
// returns the permitted keys.
func (e *Engine) runSQL(ctx context.Context, p *sqlPlan, vals []any) (map[string]struct{}, error) {
	params := p.params
	if p.usesIDs {
		ids, err := json.Marshal(vals)
		if err != nil {
			return nil, err
		}
		m := maps.Clone(p.named)
		if m == nil {
			m = make(map[string]any, 1)
		}
		m[idsParam] = string(ids)
		if params, err = sqlstore.Named(m); err != nil {
			return nil, err
		}
	}
	res, err := e.o.SQL.Query(ctx, p.sql, params)
	if err != nil {
		return nil, err
	}
	col := 0
	for i, c := range res.Columns {
		if strings.EqualFold(c, "id") {
			col = i
			break
		}
	}
	set := make(map[string]struct{}, len(res.Rows))
	for _, row := range res.Rows {
		if col < len(row) {
			if k, ok := sqlKey(row[col]); ok {
				set[k] = struct{}{}
			}
		}
	}
	return set, nil
}

// initialFactor is the first round's over-fetch: fetch = initialFactor·k.
const initialFactor = 4

// grow returns the next round's fetch after a round that fetched fetch
// candidates, got cands and kept kept of them (fewer than k): enough to
// keep 1.5·k at the rate seen, at least twice fetch (eight times when
// nothing was kept), at most limit.
func grow(fetch, k, cands, kept, limit int) int {
	next := 8 * fetch
	if kept > 0 {
		next = (3*k*cands + 2*kept - 1) / (2 * kept)
	}
	return min(max(next, 2*fetch), limit)
}

// filtered runs the vector stage with over-fetch and the SQL stage, and
// completes the answer from the permitted set when the vector stage's cap
// is not enough (see the package comment). It returns at most k hits.
func (e *Engine) filtered(ctx context.Context, coll string, search vector.SearchRequest, p *sqlPlan) ([]vector.Hit, Stages, error) {
	k := search.K
	limit := max(e.o.MaxCandidates, k)
	fetch := min(limit, initialFactor*k)
	var (
		st        Stages
		permitted map[string]struct{} // the statement's rows, when it does not use :ids
		cands     []vector.Hit
		kept      []vector.Hit
	)
	for {
		st.Rounds++
		search.K = fetch
		res, err := e.o.Vector.Search(ctx, coll, search)
		if err != nil {
			return nil, st, err
		}
		cands = res.Hits
		keys := make([]key, len(cands))
		has := make([]bool, len(cands))
		var vals []any
		seen := make(map[string]bool, len(cands))
		for i, h := range cands {
			var meta any
			if p.from.path != "" {
				meta = decodeMeta(h.Meta)
			}
			keys[i], has[i] = keyOf(h.ID, meta, p.from)
			if has[i] && !seen[keys[i].text] {
				seen[keys[i].text] = true
				vals = append(vals, keys[i].value)
			}
		}
		allowed := permitted
		switch {
		case p.usesIDs:
			if vals == nil {
				vals = []any{}
			}
			if allowed, err = e.runSQL(ctx, p, vals); err != nil {
				return nil, st, err
			}
		case permitted == nil:
			if permitted, err = e.runSQL(ctx, p, nil); err != nil {
				return nil, st, err
			}
			allowed = permitted
		}
		kept = kept[:0]
		for i, h := range cands {
			if _, ok := allowed[keys[i].text]; has[i] && ok {
				kept = append(kept, h)
			}
		}
		if len(kept) >= k || len(cands) < fetch || fetch >= limit {
			break
		}
		fetch = grow(fetch, k, len(cands), len(kept), limit)
	}
	st.VectorCandidates, st.SQLKept = len(cands), len(kept)

	// The cap was reached with too few kept and more matches may exist:
	// answer from the permitted set if the statement gave all of it.
	more := len(permitted) > len(kept)
	if p.from.path != "" {
		more = len(permitted) > 0
	}
	if len(kept) < k && len(cands) == fetch && !p.usesIDs && more {
		var err error
		if p.from.path == "" {
			st.Fallback = FallbackScan
			kept, err = e.scanPermitted(ctx, coll, search, permitted, cands, kept)
		} else {
			st.Fallback = FallbackFilter
			st.Rounds++
			kept, err = e.searchPermitted(ctx, coll, search, k, p.from, permitted, kept)
		}
		if err != nil {
			return nil, st, err
		}
	}
	return kept[:min(k, len(kept))], st, nil
}
