package query

// Answering from the permitted set when over-fetch reaches its cap.
//
// A vector search returns at most MaxK hits, so when the nearest
// MaxCandidates matches hold fewer than k permitted ones, more rounds
// cannot help. If the SQL statement did not use :ids, its rows are the
// whole permitted set, and the best permitted matches can be found from
// that side instead:
//
//   - keys are hit ids: read each permitted id the vector stage did not
//     return, check it against the filters, and score it exactly. The
//     scores are those of the vector store's final re-scoring
//     (Collection.exactScore: float64 cosine of the unit vectors, or the
//     negated Euclidean distance), computed on the same float32 inputs,
//     so merged hits compare exactly; TestScanMatchesSearch checks it.
//   - keys are meta values: search again with the filters AND
//     {path: {$in: permitted}}; the metadata index answers the $in.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/vector"
)

// scanPermitted scores the permitted ids missing from cands and returns
// them with kept, best first.
func (e *Engine) scanPermitted(ctx context.Context, coll string, search vector.SearchRequest, permitted map[string]struct{},
	cands, kept []vector.Hit) ([]vector.Hit, error) {
	c, err := e.o.Vector.Collection(coll)
	if err != nil {
		return nil, err
	}
	metric := c.Metric()
	f, err := filter.Parse(search.Filters, nil)
	if err != nil {
		return nil, err
	}
	q := search.Vector
	if metric != vector.L2 {
		q = normalize(q)
	}
	seen := make(map[string]bool, len(cands))
	for _, h := range cands {
		seen[h.ID] = true
	}
	ids := make([]string, 0, len(permitted))
	for id := range permitted {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := slices.Clone(kept)
	for i, id := range ids {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		rec, err := e.o.Vector.Get(coll, id)
		if errors.Is(err, vector.ErrIDNotFound) || errors.Is(err, vector.ErrIDTooLong) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !f.MatchesAll() && !f.Match(decodeMeta(rec.Meta)) {
			continue
		}
		v := rec.Vector // as get returns it: normalised for dot, as sent otherwise
		if metric == vector.Cosine {
			v = normalize(v)
		}
		if len(v) != len(q) {
			continue
		}
		h := vector.Hit{ID: id, Score: exactScore(metric, q, v)}
		if search.IncludeMeta {
			h.Meta = rec.Meta
		}
		if search.IncludeVector {
			h.Vector = rec.Vector
		}
		out = append(out, h)
	}
	sortHits(out)
	return out, nil
}

// searchPermitted searches the best k matches whose meta value at from
// is permitted, and merges them with kept.
func (e *Engine) searchPermitted(ctx context.Context, coll string, search vector.SearchRequest, k int, from source,
	permitted map[string]struct{}, kept []vector.Hit) ([]vector.Hit, error) {
	texts := make([]string, 0, len(permitted))
	for t := range permitted {
		texts = append(texts, t)
	}
	slices.Sort(texts)
	in := make([]any, 0, len(texts))
	for _, t := range texts {
		in = append(in, t)
		// A permitted "7" also matches meta 7 (keys compare as text).
		if i, err := strconv.ParseInt(t, 10, 64); err == nil && strconv.FormatInt(i, 10) == t {
			in = append(in, i)
		}
	}
	var clause any = map[string]any{from.path: map[string]any{"$in": in}}
	if len(search.Filters) > 0 {
		clause = map[string]any{"$and": []any{json.RawMessage(search.Filters), clause}}
	}
	raw, err := json.Marshal(clause)
	if err != nil {
		return nil, err
	}
	search.Filters, search.K = raw, k
	res, err := e.o.Vector.Search(ctx, coll, search)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(kept)
	have := make(map[string]bool, len(kept))
	for _, h := range kept {
		have[h.ID] = true
	}
	for _, h := range res.Hits {
		// $in also matches arrays holding a permitted element; keys are
		// scalars only, so check again.
		if kk, ok := keyOf(h.ID, decodeMeta(h.Meta), from); ok && !have[h.ID] {
			if _, ok := permitted[kk.text]; ok {
				out = append(out, h)
			}
		}
	}
	sortHits(out)
	return out, nil
}

// sortHits orders hits as searches do: score descending, then id.
func sortHits(h []vector.Hit) {
	slices.SortFunc(h, func(a, b vector.Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// normalize returns a unit-length copy of v computed in float64, as the
// vector store normalises (a zero vector stays zero).
func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if s == 0 {
		return out
	}
	inv := 1 / math.Sqrt(s)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// exactScore is the vector store's final score of v for the query q, both
// in index form: the float64 cosine (clamped to [-1, 1], 0 for a zero
// vector), or for l2 the negated Euclidean distance.
func exactScore(metric vector.Metric, q, v []float32) float32 {
	if metric == vector.L2 {
		var d float64
		for i := range q {
			e := float64(q[i]) - float64(v[i])
			d += e * e
		}
		return float32(-math.Sqrt(d))
	}
	var dot, nq, nv float64
	for i := range q {
		dot += float64(q[i]) * float64(v[i])
		nq += float64(q[i]) * float64(q[i])
		nv += float64(v[i]) * float64(v[i])
	}
	if nq == 0 || nv == 0 {
		return 0
	}
	return float32(max(-1, min(1, dot/(math.Sqrt(nq)*math.Sqrt(nv)))))
}
