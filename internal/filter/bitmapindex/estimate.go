package bitmapindex

import (
	"math"

	"github.com/luma-db/luma/internal/filter"
)

// Estimate returns roughly how many indexed ids match f, cheaply, for a
// planner choosing between an exact scan of the matching ids and a filtered
// graph search. A single comparison on a string, bool or null value, or
// $exists, is counted exactly, and so is a range on a field of scalars (both
// bounds of {"$gte": a, "$lt": b} together); array elements count once per
// matching element; undecidable comparisons count their candidates. Other
// clauses are combined as if independent. A nil f estimates Len().
func (ix *Index) Estimate(f *filter.Filter) uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := ix.all.GetCardinality()
	if n == 0 {
		return 0
	}
	if f == nil || f.Root == nil {
		return n
	}
	return uint64(math.Round(ix.selectivity(f.Root, float64(n)) * float64(n)))
}

// selectivity returns the estimated fraction of the n ids matching node.
func (ix *Index) selectivity(node filter.Node, n float64) float64 {
	switch node := node.(type) {
	case *filter.All:
		return 1
	case *filter.And:
		nodes := flattenAnd(nil, node.Nodes)
		grouped := make([]bool, len(nodes))
		s := 1.0
		for i, c := range nodes {
			if grouped[i] {
				continue
			}
			g, ok := rangeGroupOf(c)
			if !ok {
				s *= ix.selectivity(c, n)
				continue
			}
			cmps := []*filter.Cmp{c.(*filter.Cmp)}
			for j := i + 1; j < len(nodes); j++ {
				if h, ok := rangeGroupOf(nodes[j]); ok && h == g {
					cmps = append(cmps, nodes[j].(*filter.Cmp))
					grouped[j] = true
				}
			}
			s *= min(float64(ix.countRanges(g, cmps))/n, 1)
		}
		return s
	case *filter.Or:
		miss := 1.0
		for _, c := range node.Nodes {
			miss *= 1 - ix.selectivity(c, n)
		}
		return 1 - miss
	case *filter.Not:
		return 1 - ix.selectivity(node.Node, n)
	case *filter.Cmp:
		if g, ok := rangeGroupOf(node); ok {
			return min(float64(ix.countRanges(g, []*filter.Cmp{node}))/n, 1)
		}
		return min(float64(ix.countCmp(node))/n, 1)
	}
	return 0
}

// depthExtra is what adjustDepth adds to a count: the ids that may hold path
// in their unindexed part.
func (ix *Index) depthExtra(path string) uint64 {
	if ix.covered(path) {
		return 0
	}
	return ix.truncated.GetCardinality()
}

// countRanges estimates evalRanges.
func (ix *Index) countRanges(g rangeGroup, cmps []*filter.Cmp) uint64 {
	extra := ix.depthExtra(g.field)
	f := ix.fields[g.field]
	if f == nil {
		return extra
	}
	if g.str {
		var value, elems *ordered[strKey]
		if len(f.value.strs) > 0 {
			value = f.value.stringOrder(&f.lazyMu)
		}
		if len(f.elems.strs) > 0 {
			elems = f.elems.stringOrder(&f.lazyMu)
		}
		return extra + rangeCount(value, elems, boundsOf(cmps, func(v any) strKey { return strKey(v.(string)) }))
	}
	return extra + rangeCount(&f.value.nums, &f.elems.nums, boundsOf(cmps, func(v any) filter.Number {
		n, _ := filter.AsNumber(v)
		return n
	}))
}

// countCmp counts the ids a comparison other than an ordering selects.
func (ix *Index) countCmp(c *filter.Cmp) uint64 {
	extra := ix.depthExtra(c.Field)
	f := ix.fields[c.Field]
	if f == nil {
		return extra
	}
	switch c.Op {
	case filter.OpExists:
		return extra + orEmpty(f.exists).GetCardinality()
	case filter.OpEqual:
		switch c.Value.(type) {
		case []any:
			return extra + orEmpty(f.arrays).GetCardinality()
		case map[string]any:
			return extra + orEmpty(f.objects).GetCardinality()
		}
		return extra + f.value.count(c.Value)
	case filter.OpEq:
		return extra + f.countEq(c.Value)
	case filter.OpIn:
		var total uint64
		for _, v := range c.Values {
			total += f.countEq(v)
		}
		return extra + total
	}
	return extra
}

func (f *field) countEq(v any) uint64 {
	switch v.(type) {
	case []any:
		return orEmpty(f.arrays).GetCardinality()
	case map[string]any:
		return orEmpty(f.objects).GetCardinality() + orEmpty(f.arrays).GetCardinality()
	}
	return f.value.count(v) + f.elems.count(v)
}

// count returns the number of ids indexed under the scalar v.
func (vs *values) count(v any) uint64 {
	switch x := v.(type) {
	case nil, bool:
		return vs.lookup(x).GetCardinality()
	case string:
		return orEmpty(vs.strs[x]).GetCardinality()
	}
	n, ok := filter.AsNumber(v)
	if !ok || vs.nums.n == 0 {
		return 0
	}
	b := &bound[filter.Number]{k: n, inclusive: true}
	return vs.nums.count(b, b)
}
