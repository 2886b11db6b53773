package bitmapindex

import (
	"cmp"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/luma-db/luma/internal/filter"
)

// Eval returns the ids that may match f as a new bitmap the caller owns, and
// whether the answer is exact. When exact is false the bitmap is a superset:
// the caller must check its members with f.Match on their metadata. A nil f
// matches every indexed id. Use EvalSplit to post-filter only the ids the
// index could not decide.
func (ix *Index) Eval(f *filter.Filter) (ids *roaring.Bitmap, exact bool) {
	sure, maybe := ix.EvalSplit(f)
	if maybe.IsEmpty() {
		return sure, true
	}
	sure.Or(maybe)
	return sure, false
}

// EvalSplit answers f as two disjoint new bitmaps: sure holds ids that match,
// maybe holds ids the index cannot decide (they need f.Match). Every other
// indexed id does not match. maybe is empty whenever Eval would report exact.
func (ix *Index) EvalSplit(f *filter.Filter) (sure, maybe *roaring.Bitmap) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if f == nil || f.Root == nil {
		return ix.all.Clone(), roaring.New()
	}
	r := ix.eval(f.Root)
	sure, maybe = r.sure, r.maybe
	if r.borrowed {
		sure = sure.Clone()
		maybe = maybe.Clone()
	}
	return sure, maybe
}

// result is the answer for one node: sure ∪ maybe ⊇ matches ⊇ sure, with
// sure and maybe disjoint subsets of ix.all. When borrowed, the bitmaps may
// be the index's own and must not be modified; combining results always
// produces new bitmaps.
type result struct {
	sure, maybe *roaring.Bitmap
	borrowed    bool
}

// empty is shared by borrowed results; never modified.
var empty = roaring.New()

func (r result) exact() bool { return r.maybe.IsEmpty() }

func (ix *Index) eval(n filter.Node) result {
	switch n := n.(type) {
	case *filter.All:
		return result{sure: ix.all, maybe: empty, borrowed: true}
	case *filter.And:
		return ix.evalAnd(n.Nodes)
	case *filter.Or:
		return ix.evalOr(n.Nodes)
	case *filter.Not:
		r := ix.eval(n.Node)
		if r.exact() {
			return result{sure: roaring.AndNot(ix.all, r.sure), maybe: roaring.New()}
		}
		sure := roaring.AndNot(ix.all, r.sure)
		sure.AndNot(r.maybe)
		return result{sure: sure, maybe: r.maybe, borrowed: r.borrowed}
	case *filter.Cmp:
		return ix.evalCmp(n)
	}
	// *filter.None and anything unknown match nothing.
	return result{sure: empty, maybe: empty, borrowed: true}
}

func (ix *Index) evalAnd(nodes []filter.Node) result {
	rs := make([]result, 0, len(nodes))
	exact := true
	for _, c := range nodes {
		r := ix.eval(c)
		if r.exact() && r.sure.IsEmpty() {
			return result{sure: empty, maybe: empty, borrowed: true}
		}
		exact = exact && r.exact()
		rs = append(rs, r)
	}
	if len(rs) == 1 {
		return rs[0]
	}
	// Intersect the smallest first: every later And only shrinks it.
	slices.SortFunc(rs, func(a, b result) int {
		return cmp.Compare(a.sure.GetCardinality(), b.sure.GetCardinality())
	})
	sures := make([]*roaring.Bitmap, len(rs))
	for i, r := range rs {
		sures[i] = r.sure
	}
	sure := roaring.FastAnd(sures...)
	if exact {
		return result{sure: sure, maybe: roaring.New()}
	}
	// maybe = ∩(sure_i ∪ maybe_i) − sure.
	var possible *roaring.Bitmap
	for _, r := range rs {
		p := r.sure
		if !r.exact() {
			p = roaring.Or(r.sure, r.maybe)
		}
		if possible == nil {
			possible = p.Clone()
		} else {
			possible.And(p)
		}
	}
	possible.AndNot(sure)
	return result{sure: sure, maybe: possible}
}

func (ix *Index) evalOr(nodes []filter.Node) result {
	sures := make([]*roaring.Bitmap, 0, len(nodes))
	var maybes []*roaring.Bitmap
	for _, c := range nodes {
		r := ix.eval(c)
		sures = append(sures, r.sure)
		if !r.exact() {
			maybes = append(maybes, r.maybe)
		}
	}
	return orResults(sures, maybes)
}

// orResults unions results given as their sure and non-empty maybe parts.
func orResults(sures, maybes []*roaring.Bitmap) result {
	sure := roaring.FastOr(sures...)
	maybe := roaring.New()
	if len(maybes) > 0 {
		maybe = roaring.FastOr(maybes...)
		maybe.AndNot(sure)
	}
	return result{sure: sure, maybe: maybe}
}

// covered reports whether path is within the indexed nesting depth; deeper
// paths are exact only for documents without truncated objects.
func (ix *Index) covered(path string) bool {
	return strings.Count(path, ".") < ix.maxDepth
}

func (ix *Index) evalCmp(c *filter.Cmp) result {
	r := ix.evalField(ix.fields[c.Field], c)
	if ix.covered(c.Field) || ix.truncated.IsEmpty() {
		return r
	}
	// Documents with objects below the indexed depth may hold the path in
	// their unindexed part: they are undecided.
	sure := roaring.AndNot(r.sure, ix.truncated)
	maybe := roaring.Or(r.maybe, ix.truncated)
	return result{sure: sure, maybe: maybe}
}

// evalField answers one comparison from the field's index (f may be nil).
func (ix *Index) evalField(f *field, c *filter.Cmp) result {
	if f == nil {
		return result{sure: empty, maybe: empty, borrowed: true}
	}
	switch c.Op {
	case filter.OpExists:
		return borrowed(f.exists)
	case filter.OpEqual:
		switch v := c.Value.(type) {
		case []any:
			// Whole-array equality: candidates are arrays holding every
			// scalar element of the literal.
			maybe := orEmpty(f.arrays).Clone()
			distinctScalars(v, func(e any) {
				if filter.KindOf(e) != filter.Array && filter.KindOf(e) != filter.Object {
					maybe.And(f.scalar(e))
				}
			})
			return result{sure: roaring.New(), maybe: maybe}
		case map[string]any:
			return result{sure: empty, maybe: orEmpty(f.objects), borrowed: true}
		}
		// A scalar: the value itself, not an array containing it.
		return result{sure: roaring.AndNot(f.scalar(c.Value), orEmpty(f.arrays)), maybe: roaring.New()}
	case filter.OpEq:
		return f.eq(c.Value)
	case filter.OpIn:
		sures := make([]*roaring.Bitmap, 0, len(c.Values))
		var maybes []*roaring.Bitmap
		for _, v := range c.Values {
			r := f.eq(v)
			sures = append(sures, r.sure)
			if !r.exact() {
				maybes = append(maybes, r.maybe)
			}
		}
		return orResults(sures, maybes)
	case filter.OpGt, filter.OpGte, filter.OpLt, filter.OpLte:
		return result{sure: f.ordering(c), maybe: roaring.New()}
	}
	return result{sure: empty, maybe: empty, borrowed: true}
}

// eq answers $eq v: the value equals v, or is an array with an element equal
// to v. Exact for scalars; arrays and objects give candidates.
func (f *field) eq(v any) result {
	switch v.(type) {
	case []any:
		return result{sure: empty, maybe: orEmpty(f.arrays), borrowed: true}
	case map[string]any:
		return result{sure: roaring.New(), maybe: roaring.Or(orEmpty(f.objects), orEmpty(f.arrays))}
	}
	return borrowed(f.scalar(v))
}

// scalar returns the ids whose value is, or whose array value contains, the
// scalar v; it may be the index's own bitmap.
func (f *field) scalar(v any) *roaring.Bitmap {
	switch x := v.(type) {
	case nil:
		return orEmpty(f.nulls)
	case bool:
		if x {
			return orEmpty(f.trues)
		}
		return orEmpty(f.falses)
	case string:
		return orEmpty(f.strs[x])
	}
	n, ok := filter.AsNumber(v)
	if !ok {
		return empty
	}
	b := &bound[filter.Number]{k: n, inclusive: true}
	return f.nums.collect(b, b)
}

// ordering answers $gt, $gte, $lt, $lte as a new bitmap.
func (f *field) ordering(c *filter.Cmp) *roaring.Bitmap {
	incl := c.Op == filter.OpGte || c.Op == filter.OpLte
	lower := c.Op == filter.OpGt || c.Op == filter.OpGte
	if s, ok := c.Value.(string); ok {
		if len(f.strs) == 0 {
			return roaring.New()
		}
		b := &bound[strKey]{k: strKey(s), inclusive: incl}
		if lower {
			return f.stringOrder().collect(b, nil)
		}
		return f.stringOrder().collect(nil, b)
	}
	n, ok := filter.AsNumber(c.Value)
	if !ok {
		return roaring.New()
	}
	b := &bound[filter.Number]{k: n, inclusive: incl}
	if lower {
		return f.nums.collect(b, nil)
	}
	return f.nums.collect(nil, b)
}

func borrowed(bm *roaring.Bitmap) result {
	return result{sure: orEmpty(bm), maybe: empty, borrowed: true}
}

func orEmpty(bm *roaring.Bitmap) *roaring.Bitmap {
	if bm == nil {
		return empty
	}
	return bm
}
