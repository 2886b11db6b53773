package bitmapindex

import (
	"math"

	"github.com/luma-db/luma/internal/filter"
)

// Estimate returns roughly how many indexed ids match f, cheaply, for a
// planner choosing between an exact scan of the matching ids and a filtered
// graph search. A single comparison on a string, bool or null value, or
// $exists, is counted exactly; a numeric or string range counts matching
// (value, id) pairs, so an id matching through several array elements counts
// more than once; undecidable comparisons count their candidates. Clauses
// are combined as if independent. A nil f estimates Len().
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
		s := 1.0
		for _, c := range node.Nodes {
			s *= ix.selectivity(c, n)
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
		c := float64(ix.countCmp(node))
		return min(c/n, 1)
	}
	return 0
}

// countCmp counts the ids (or pairs, for ranges) a comparison selects.
func (ix *Index) countCmp(c *filter.Cmp) uint64 {
	var extra uint64
	if !ix.covered(c.Field) {
		extra = ix.truncated.GetCardinality()
	}
	f := ix.fields[c.Field]
	if f == nil {
		return extra
	}
	switch c.Op {
	case filter.OpExists:
		return extra + orEmpty(f.exists).GetCardinality()
	case filter.OpEqual, filter.OpEq:
		return extra + f.countEq(c.Value)
	case filter.OpIn:
		var total uint64
		for _, v := range c.Values {
			total += f.countEq(v)
		}
		return extra + total
	case filter.OpGt, filter.OpGte, filter.OpLt, filter.OpLte:
		incl := c.Op == filter.OpGte || c.Op == filter.OpLte
		lower := c.Op == filter.OpGt || c.Op == filter.OpGte
		if s, ok := c.Value.(string); ok {
			if len(f.strs) == 0 {
				return extra
			}
			b := &bound[strKey]{k: strKey(s), inclusive: incl}
			if lower {
				return extra + f.stringOrder().count(b, nil)
			}
			return extra + f.stringOrder().count(nil, b)
		}
		num, ok := filter.AsNumber(c.Value)
		if !ok {
			return extra
		}
		b := &bound[filter.Number]{k: num, inclusive: incl}
		if lower {
			return extra + f.nums.count(b, nil)
		}
		return extra + f.nums.count(nil, b)
	}
	return extra
}

func (f *field) countEq(v any) uint64 {
	switch x := v.(type) {
	case []any:
		return orEmpty(f.arrays).GetCardinality()
	case map[string]any:
		return orEmpty(f.objects).GetCardinality() + orEmpty(f.arrays).GetCardinality()
	case nil, bool:
		return f.scalar(x).GetCardinality()
	case string:
		return orEmpty(f.strs[x]).GetCardinality()
	}
	num, ok := filter.AsNumber(v)
	if !ok {
		return 0
	}
	b := &bound[filter.Number]{k: num, inclusive: true}
	return f.nums.count(b, b)
}
