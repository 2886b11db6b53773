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

var none = result{sure: empty, maybe: empty, borrowed: true}

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
		sure := roaring.AndNot(ix.all, r.sure)
		if r.exact() {
			return result{sure: sure, maybe: roaring.New()}
		}
		sure.AndNot(r.maybe)
		return result{sure: sure, maybe: r.maybe, borrowed: r.borrowed}
	case *filter.Cmp:
		if g, ok := rangeGroupOf(n); ok {
			return ix.evalRanges(g, []*filter.Cmp{n})
		}
		return ix.adjustDepth(n.Field, ix.evalCmp(ix.fields[n.Field], n))
	}
	// *filter.None and anything unknown match nothing.
	return none
}

func (ix *Index) evalAnd(nodes []filter.Node) result {
	nodes = flattenAnd(nil, nodes)
	rs := make([]result, 0, len(nodes))
	grouped := make([]bool, len(nodes))
	exact := true
	for i, c := range nodes {
		if grouped[i] {
			continue
		}
		var r result
		if g, ok := rangeGroupOf(c); ok {
			// Bounds on one field are answered together; see evalRanges.
			cmps := []*filter.Cmp{c.(*filter.Cmp)}
			for j := i + 1; j < len(nodes); j++ {
				if h, ok := rangeGroupOf(nodes[j]); ok && h == g {
					cmps = append(cmps, nodes[j].(*filter.Cmp))
					grouped[j] = true
				}
			}
			r = ix.evalRanges(g, cmps)
		} else {
			r = ix.eval(c)
		}
		if r.exact() && r.sure.IsEmpty() {
			return none
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

// flattenAnd appends nodes to dst, splicing in the children of nested Ands.
func flattenAnd(dst, nodes []filter.Node) []filter.Node {
	for _, n := range nodes {
		if a, ok := n.(*filter.And); ok {
			dst = flattenAnd(dst, a.Nodes)
		} else {
			dst = append(dst, n)
		}
	}
	return dst
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

// adjustDepth turns the ids with unindexed deep objects into undecided ids
// when path is deeper than the index goes: their unindexed part may hold it.
func (ix *Index) adjustDepth(path string, r result) result {
	if ix.covered(path) || ix.truncated.IsEmpty() {
		return r
	}
	return result{sure: roaring.AndNot(r.sure, ix.truncated), maybe: roaring.Or(r.maybe, ix.truncated)}
}

// evalCmp answers a comparison other than an ordering from the field's index
// (f may be nil).
func (ix *Index) evalCmp(f *field, c *filter.Cmp) result {
	if f == nil {
		return none
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
				if k := filter.KindOf(e); k != filter.Array && k != filter.Object {
					maybe.And(f.elems.lookup(e))
				}
			})
			return result{sure: roaring.New(), maybe: maybe}
		case map[string]any:
			return result{sure: empty, maybe: orEmpty(f.objects), borrowed: true}
		}
		return borrowed(f.value.lookup(c.Value))
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
	}
	return none
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
	a, b := f.value.lookup(v), f.elems.lookup(v)
	switch {
	case b.IsEmpty():
		return borrowed(a)
	case a.IsEmpty():
		return borrowed(b)
	}
	return result{sure: roaring.Or(a, b), maybe: roaring.New()}
}

// lookup returns the ids indexed under the scalar v; it may be the index's
// own bitmap and must not be modified.
func (vs *values) lookup(v any) *roaring.Bitmap {
	switch x := v.(type) {
	case nil:
		return orEmpty(vs.nulls)
	case bool:
		if x {
			return orEmpty(vs.trues)
		}
		return orEmpty(vs.falses)
	case string:
		return orEmpty(vs.strs[x])
	}
	n, ok := filter.AsNumber(v)
	if !ok || vs.nums.n == 0 {
		return empty
	}
	b := &bound[filter.Number]{k: n, inclusive: true}
	return vs.nums.collect(b, b)
}

// rangeGroup identifies ordering comparisons that evalRanges answers
// together: same field, same literal kind.
type rangeGroup struct {
	field string
	str   bool
}

func rangeGroupOf(n filter.Node) (rangeGroup, bool) {
	c, ok := n.(*filter.Cmp)
	if !ok || !c.Op.Ordering() {
		return rangeGroup{}, false
	}
	if _, ok := c.Value.(string); ok {
		return rangeGroup{c.Field, true}, true
	}
	if _, ok := filter.AsNumber(c.Value); ok {
		return rangeGroup{c.Field, false}, true
	}
	return rangeGroup{}, false
}

// evalRanges answers the AND of ordering comparisons on one field, all with
// string or all with number literals. A scalar value must satisfy every
// bound, which is one lookup of the tightened range; an array value needs
// each bound satisfied by some element, possibly different ones (see the
// filter package), which is an intersection of one lookup per bound over
// the elements only.
func (ix *Index) evalRanges(g rangeGroup, cmps []*filter.Cmp) result {
	f := ix.fields[g.field]
	if f == nil {
		return ix.adjustDepth(g.field, none)
	}
	var ids *roaring.Bitmap
	if g.str {
		var value, elems *ordered[strKey]
		if len(f.value.strs) > 0 {
			value = f.value.stringOrder(&f.lazyMu)
		}
		if len(f.elems.strs) > 0 {
			elems = f.elems.stringOrder(&f.lazyMu)
		}
		ids = rangeIDs(value, elems, boundsOf(cmps, func(v any) strKey { return strKey(v.(string)) }))
	} else {
		ids = rangeIDs(&f.value.nums, &f.elems.nums, boundsOf(cmps, func(v any) filter.Number {
			n, _ := filter.AsNumber(v)
			return n
		}))
	}
	return ix.adjustDepth(g.field, result{sure: ids, maybe: roaring.New()})
}

// interval is a key range; nil ends are unbounded.
type interval[K key[K]] struct{ lo, hi *bound[K] }

func boundsOf[K key[K]](cmps []*filter.Cmp, conv func(any) K) []interval[K] {
	out := make([]interval[K], len(cmps))
	for i, c := range cmps {
		b := &bound[K]{k: conv(c.Value), inclusive: c.Op == filter.OpGte || c.Op == filter.OpLte}
		if c.Op == filter.OpGt || c.Op == filter.OpGte {
			out[i].lo = b
		} else {
			out[i].hi = b
		}
	}
	return out
}

// tighten intersects intervals and reports whether the result is non-empty.
func tighten[K key[K]](ivs []interval[K]) (interval[K], bool) {
	var t interval[K]
	for _, iv := range ivs {
		if lo := iv.lo; lo != nil {
			if t.lo == nil {
				t.lo = lo
			} else if c := lo.k.Compare(t.lo.k); c > 0 || (c == 0 && !lo.inclusive) {
				t.lo = lo
			}
		}
		if hi := iv.hi; hi != nil {
			if t.hi == nil {
				t.hi = hi
			} else if c := hi.k.Compare(t.hi.k); c < 0 || (c == 0 && !hi.inclusive) {
				t.hi = hi
			}
		}
	}
	if t.lo != nil && t.hi != nil {
		c := t.lo.k.Compare(t.hi.k)
		if c > 0 || (c == 0 && !(t.lo.inclusive && t.hi.inclusive)) {
			return t, false
		}
	}
	return t, true
}

// rangeIDs returns, as a new bitmap, the ids whose scalar value lies in every
// interval or whose array value has, for each interval, an element in it.
func rangeIDs[K key[K]](value, elems *ordered[K], ivs []interval[K]) *roaring.Bitmap {
	var out *roaring.Bitmap
	if value != nil && value.n > 0 {
		if t, ok := tighten(ivs); ok {
			out = value.collect(t.lo, t.hi)
		}
	}
	if out == nil {
		out = roaring.New()
	}
	if elems == nil || elems.n == 0 {
		return out
	}
	var in *roaring.Bitmap
	for _, iv := range ivs {
		ids := elems.collect(iv.lo, iv.hi)
		if in == nil {
			in = ids
		} else {
			in.And(ids)
		}
		if in.IsEmpty() {
			return out
		}
	}
	out.Or(in)
	return out
}

// rangeCount estimates rangeIDs' cardinality: the scalar pairs in the
// tightened range plus the fewest element pairs in any one interval.
func rangeCount[K key[K]](value, elems *ordered[K], ivs []interval[K]) uint64 {
	var n uint64
	if value != nil && value.n > 0 {
		if t, ok := tighten(ivs); ok {
			n = value.count(t.lo, t.hi)
		}
	}
	if elems != nil && elems.n > 0 {
		least := uint64(elems.n)
		for _, iv := range ivs {
			least = min(least, elems.count(iv.lo, iv.hi))
		}
		n += least
	}
	return n
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
