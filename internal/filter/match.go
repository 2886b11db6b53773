package filter

import "strings"

// Match reports whether doc satisfies f. doc is a decoded JSON value as
// encoding/json produces it, with numbers as float64 or json.Number (both
// work, and may be mixed); Go integer types are read as numbers too. Fields
// are looked up only when doc is an object, so a filter with any comparison
// fails on other documents except through $not, $ne, $nin or $exists:false,
// while {} matches every document, null included. A nil f matches everything.
func (f *Filter) Match(doc any) bool {
	if f == nil || f.Root == nil {
		return true
	}
	return MatchNode(f.Root, doc)
}

// MatchNode reports whether doc satisfies the tree n (see Filter.Match).
func MatchNode(n Node, doc any) bool {
	switch n := n.(type) {
	case *All:
		return true
	case *And:
		for _, c := range n.Nodes {
			if !MatchNode(c, doc) {
				return false
			}
		}
		return true
	case *Or:
		for _, c := range n.Nodes {
			if MatchNode(c, doc) {
				return true
			}
		}
		return false
	case *Not:
		return !MatchNode(n.Node, doc)
	case *Cmp:
		return n.Match(doc)
	}
	return false
}

// Match reports whether doc satisfies the single comparison c.
func (c *Cmp) Match(doc any) bool {
	v, ok := Resolve(doc, c.Field)
	if c.Op == OpExists || !ok {
		return ok
	}
	return c.matchValue(v)
}

// matchValue reports whether c holds for v, the value present at c.Field.
func (c *Cmp) matchValue(v any) bool {
	switch c.Op {
	case OpEqual:
		return Equal(c.Value, v)
	case OpEq:
		if Equal(c.Value, v) {
			return true
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if Equal(c.Value, e) {
					return true
				}
			}
		}
		return false
	case OpIn:
		if c.in(v) {
			return true
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if c.in(e) {
					return true
				}
			}
		}
		return false
	case OpGt, OpGte, OpLt, OpLte:
		if c.ordered(v) {
			return true
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if c.ordered(e) {
					return true
				}
			}
		}
		return false
	case OpExists:
		return true
	}
	return false
}

// in reports whether v is Equal to one of c.Values.
func (c *Cmp) in(v any) bool {
	if c.set != nil {
		return c.set.contains(v)
	}
	for _, w := range c.Values {
		if Equal(w, v) {
			return true
		}
	}
	return false
}

// ordered reports whether the scalar v has the kind of c.Value and compares
// against it as c.Op requires.
func (c *Cmp) ordered(v any) bool {
	var r int
	switch lit := c.Value.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return false
		}
		r = strings.Compare(s, lit)
	default:
		ln, ok := AsNumber(lit)
		if !ok {
			return false
		}
		n, ok := AsNumber(v)
		if !ok {
			return false
		}
		r = n.Compare(ln)
	}
	return orderHolds(c.Op, r)
}

// orderHolds reports whether an ordering operator holds for a value that
// compares to the literal as r (-1, 0, +1). It is false for other operators.
func orderHolds(op Op, r int) bool {
	switch op {
	case OpGt:
		return r > 0
	case OpGte:
		return r >= 0
	case OpLt:
		return r < 0
	case OpLte:
		return r <= 0
	}
	return false
}

// valueSet answers Equal-membership in a $in list in O(1) for scalars.
type valueSet struct {
	nums                map[Number]struct{}
	strs                map[string]struct{}
	hasNull, hasT, hasF bool
	composite           []any // arrays and objects, compared with Equal
}

func newValueSet(vals []any) *valueSet {
	s := &valueSet{}
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			s.hasNull = true
		case bool:
			if x {
				s.hasT = true
			} else {
				s.hasF = true
			}
		case string:
			if s.strs == nil {
				s.strs = make(map[string]struct{})
			}
			s.strs[x] = struct{}{}
		case Number:
			if s.nums == nil {
				s.nums = make(map[Number]struct{})
			}
			s.nums[x] = struct{}{}
		default:
			s.composite = append(s.composite, v)
		}
	}
	return s
}

func (s *valueSet) contains(v any) bool {
	switch x := v.(type) {
	case nil:
		return s.hasNull
	case bool:
		return (x && s.hasT) || (!x && s.hasF)
	case string:
		_, ok := s.strs[x]
		return ok
	case []any, map[string]any:
		for _, w := range s.composite {
			if Equal(w, v) {
				return true
			}
		}
		return false
	}
	n, ok := AsNumber(v)
	if !ok {
		return false
	}
	_, ok = s.nums[n]
	return ok
}
