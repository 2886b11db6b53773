package filter

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Filter is a parsed filter. The zero value and a nil *Filter match every
// document. A Filter is immutable after parsing and safe for concurrent use.
type Filter struct {
	// Root is the filter's tree. Parse produces *All for {} and null, *None
	// for a filter that is not an object, and otherwise a tree of *And, *Or,
	// *Not and *Cmp nodes.
	Root Node
}

// Node is one node of a filter tree: *All, *None, *And, *Or, *Not or *Cmp.
type Node interface{ node() }

// All matches every document ({} or null).
type All struct{}

// None matches no document (a filter that is not an object, e.g. "x" or [1]).
type None struct{}

// And matches when every one of Nodes matches. Parse never builds an empty And.
type And struct{ Nodes []Node }

// Or matches when at least one of Nodes matches. Parse never builds an empty Or.
type Or struct{ Nodes []Node }

// Not matches when Node does not match.
type Not struct{ Node Node }

// Cmp compares the value at path Field with a literal. Parse builds Cmp values
// for the positive operators only: $ne, $nin and {"$exists": false} become a
// *Not around the matching positive Cmp.
type Cmp struct {
	// Field is the field path, resolved as Resolve does.
	Field string
	// Op is the comparison.
	Op Op
	// Value is the literal for OpEqual, OpEq and the ordering operators, in
	// canonical form: nil, bool, string, Number, []any or map[string]any of
	// canonical values. For ordering operators it is a Number or a string.
	// It is unused for OpIn and OpExists.
	Value any
	// Values are the canonical literals of OpIn.
	Values []any

	set *valueSet // lookup table for OpIn, built by Parse; nil means scan Values
}

// Op is the comparison a Cmp makes.
type Op uint8

// The comparisons. With v the value at the field:
const (
	// OpEqual is the plain form {"field": value}: v is present and Equal to
	// Value. Arrays compare whole; this is the wire contract's rule.
	OpEqual Op = iota + 1
	// OpEq ($eq) matches when v is Equal to Value, or v is an array with an
	// element Equal to Value.
	OpEq
	// OpIn ($in) matches when OpEq would match for at least one of Values.
	OpIn
	// OpGt, OpGte, OpLt and OpLte ($gt, $gte, $lt, $lte) match when v, or an
	// element of v if v is an array, is of the same kind as Value (number or
	// string) and orders against it as the operator says. Numbers order by
	// value, strings bytewise (Unicode code point order).
	OpGt
	OpGte
	OpLt
	OpLte
	// OpExists ($exists: true) matches when v is present, even if null.
	OpExists
)

var opNames = [...]string{
	OpEqual:  "=",
	OpEq:     "$eq",
	OpIn:     "$in",
	OpGt:     "$gt",
	OpGte:    "$gte",
	OpLt:     "$lt",
	OpLte:    "$lte",
	OpExists: "$exists",
}

// String returns the operator as written in a filter ("=" for OpEqual).
func (op Op) String() string {
	if int(op) < len(opNames) && opNames[op] != "" {
		return opNames[op]
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// Ordering reports whether op is one of $gt, $gte, $lt, $lte.
func (op Op) Ordering() bool { return op >= OpGt && op <= OpLte }

func (*All) node()  {}
func (*None) node() {}
func (*And) node()  {}
func (*Or) node()   {}
func (*Not) node()  {}
func (*Cmp) node()  {}

// MatchesAll reports whether f matches every document without looking at it.
func (f *Filter) MatchesAll() bool {
	if f == nil || f.Root == nil {
		return true
	}
	_, ok := f.Root.(*All)
	return ok
}

// String renders f as filter JSON that parses back to an equivalent filter:
// {} for All, false for None, $ne/$nin/$exists:false as $not of the positive
// form. A hand-built OpEqual Cmp whose Value is a non-empty object with only
// "$" keys cannot be written in the plain form and is rendered with $eq.
func (f *Filter) String() string {
	var b bytes.Buffer
	if f == nil || f.Root == nil {
		b.WriteString("{}")
	} else {
		writeNode(&b, f.Root)
	}
	return b.String()
}

// MarshalJSON returns String() as JSON.
func (f *Filter) MarshalJSON() ([]byte, error) { return []byte(f.String()), nil }

func writeNode(b *bytes.Buffer, n Node) {
	switch n := n.(type) {
	case *All:
		b.WriteString("{}")
	case *None:
		b.WriteString("false")
	case *And:
		writeList(b, "$and", n.Nodes)
	case *Or:
		writeList(b, "$or", n.Nodes)
	case *Not:
		b.WriteString(`{"$not":`)
		writeNode(b, n.Node)
		b.WriteByte('}')
	case *Cmp:
		b.WriteByte('{')
		writeJSON(b, n.Field)
		b.WriteByte(':')
		switch {
		case n.Op == OpEqual && !isOperatorObject(n.Value):
			writeJSON(b, n.Value)
		case n.Op == OpEqual:
			b.WriteString(`{"$eq":`)
			writeJSON(b, n.Value)
			b.WriteByte('}')
		case n.Op == OpIn:
			b.WriteString(`{"$in":`)
			if n.Values == nil {
				b.WriteString("[]")
			} else {
				writeJSON(b, n.Values)
			}
			b.WriteByte('}')
		case n.Op == OpExists:
			b.WriteString(`{"$exists":true}`)
		default:
			b.WriteString(`{"` + n.Op.String() + `":`)
			writeJSON(b, n.Value)
			b.WriteByte('}')
		}
		b.WriteByte('}')
	default:
		b.WriteString("false")
	}
}

func writeList(b *bytes.Buffer, op string, nodes []Node) {
	b.WriteString(`{"` + op + `":[`)
	for i, c := range nodes {
		if i > 0 {
			b.WriteByte(',')
		}
		writeNode(b, c)
	}
	b.WriteString("]}")
}

// writeJSON writes a canonical literal. Canonical values always marshal;
// anything else (only possible in a hand-built tree) is written as null.
func writeJSON(b *bytes.Buffer, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte("null")
	}
	b.Write(data)
}
