package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Default limits; see Options.
const (
	DefaultMaxDepth   = 32
	DefaultMaxClauses = 1024
)

// Options bound what Parse accepts, so that hostile input cannot exhaust the
// stack or make every match expensive. The zero value means the defaults.
type Options struct {
	// MaxDepth is the deepest JSON nesting the filter may have, counting the
	// filter object itself as 1, every operator object, $and/$or/$in array and
	// literal array or object as one more level. Default DefaultMaxDepth.
	MaxDepth int
	// MaxClauses is the most tree nodes (comparisons and $and/$or/$not, with
	// $ne, $nin and $exists:false counting two, and a multi-key object
	// counting one for its implied $and) a filter may have. The values of a
	// $in list do not count: they are looked up in a hash set. Default
	// DefaultMaxClauses.
	MaxClauses int
}

// EnsureDefaults fills unset (zero or negative) fields with the defaults and
// returns o; on a nil receiver it returns new default Options.
func (o *Options) EnsureDefaults() *Options {
	if o == nil {
		o = &Options{}
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxClauses <= 0 {
		o.MaxClauses = DefaultMaxClauses
	}
	return o
}

// Parse parses filter JSON, such as the "filters" member of a vector search or
// the "filter" member of a document find. Empty input (only white space) and
// null give a filter matching everything, as does {}; any JSON value that is
// not an object (a string, number, bool or array) gives a filter matching
// nothing, as the wire contract requires. Numbers keep their exact text, so
// integers beyond 2^53 compare exactly. opts may be nil. Every error is an
// *Error.
func Parse(data []byte, opts *Options) (*Filter, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return &Filter{Root: &All{}}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &Error{Msg: "invalid JSON: " + err.Error(), Err: ErrInvalidJSON}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Error{Msg: "invalid JSON: data after the filter value", Err: ErrInvalidJSON}
	}
	return ParseValue(v, opts)
}

// ParseValue is Parse for an already decoded value: nil, bool, string,
// float64, json.Number, []any and map[string]any as encoding/json produces
// them (Go integer types, float32 and Number are accepted too). Anything else
// inside the filter is an error; at the top level it is "not an object" and
// matches nothing. opts may be nil.
func ParseValue(v any, opts *Options) (*Filter, error) {
	var o Options
	if opts != nil {
		o = *opts // a copy: callers may share one Options across goroutines
	}
	o.EnsureDefaults()
	p := parser{maxDepth: o.MaxDepth, maxClauses: o.MaxClauses}
	switch x := v.(type) {
	case nil:
		return &Filter{Root: &All{}}, nil
	case map[string]any:
		root, err := p.object(x, 1)
		if err != nil {
			return nil, err
		}
		return &Filter{Root: root}, nil
	}
	return &Filter{Root: &None{}}, nil
}

// filterOps are the operators allowed where a filter object is expected.
const filterOps = "$and, $or, $not"

// fieldOps are the operators allowed in a field's operator object.
const fieldOps = "$eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $not, $and, $or"

type parser struct {
	maxDepth   int
	maxClauses int
	clauses    int
}

// count accounts for one more tree node.
func (p *parser) count() error {
	p.clauses++
	if p.clauses > p.maxClauses {
		return &Error{
			Msg: fmt.Sprintf("has more than %d clauses; split the query or raise the limit", p.maxClauses),
			Err: ErrTooManyClauses,
		}
	}
	return nil
}

// nest checks the nesting level of a container about to be walked.
func (p *parser) nest(depth int, field, op string) error {
	if depth > p.maxDepth {
		return &Error{
			Field: field,
			Op:    op,
			Msg:   fmt.Sprintf("nests deeper than %d levels", p.maxDepth),
			Err:   ErrTooDeep,
		}
	}
	return nil
}

// object parses a filter object found at nesting level depth.
func (p *parser) object(m map[string]any, depth int) (Node, error) {
	if err := p.nest(depth, "", ""); err != nil {
		return nil, err
	}
	nodes := make([]Node, 0, len(m))
	for _, k := range sortedKeys(m) {
		var (
			n   Node
			err error
		)
		if strings.HasPrefix(k, "$") {
			n, err = p.logical(k, m[k], depth+1)
		} else {
			n, err = p.field(k, m[k], depth+1)
		}
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return p.and(nodes)
}

// logical parses a $-key of a filter object; arg sits at level depth.
func (p *parser) logical(op string, arg any, depth int) (Node, error) {
	switch op {
	case "$and", "$or":
		arr, ok := arg.([]any)
		if !ok || len(arr) == 0 {
			return nil, &Error{Op: op, Msg: "needs a non-empty array of filter objects, got " + describe(arg)}
		}
		if err := p.nest(depth, "", op); err != nil {
			return nil, err
		}
		nodes := make([]Node, len(arr))
		for i, e := range arr {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, &Error{Op: op, Msg: fmt.Sprintf("needs filter objects, but element %d is %s", i, describe(e))}
			}
			n, err := p.object(m, depth+1)
			if err != nil {
				return nil, err
			}
			nodes[i] = n
		}
		if op == "$and" {
			return p.and(nodes)
		}
		return p.or(nodes)
	case "$not":
		m, ok := arg.(map[string]any)
		if !ok {
			return nil, &Error{Op: op, Msg: "needs a filter object, got " + describe(arg)}
		}
		n, err := p.object(m, depth)
		if err != nil {
			return nil, err
		}
		return p.not(n)
	case "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists":
		return nil, &Error{Op: op, Msg: `must be used inside a field, as {"field": {"` + op + `": ...}}; allowed here: ` + filterOps}
	}
	return nil, &Error{Op: op, Msg: "is not a known operator; allowed here: " + filterOps}
}

// field parses the value of a field key; v sits at level depth.
func (p *parser) field(name string, v any, depth int) (Node, error) {
	if m, ok := v.(map[string]any); ok && len(m) > 0 {
		var ops, plain []string
		for _, k := range sortedKeys(m) {
			if strings.HasPrefix(k, "$") {
				ops = append(ops, k)
			} else {
				plain = append(plain, k)
			}
		}
		if len(ops) > 0 {
			if len(plain) > 0 {
				return nil, &Error{Field: name, Msg: fmt.Sprintf(
					"mixes operators (%s) with plain keys (%s) in one object; use only operators, or {\"$eq\": {...}} to match an object literally",
					strings.Join(ops, ", "), strings.Join(plain, ", "))}
			}
			return p.ops(name, m, depth)
		}
	}
	lit, err := p.literal(name, "", v, depth)
	if err != nil {
		return nil, err
	}
	return p.cmp(&Cmp{Field: name, Op: OpEqual, Value: lit})
}

// ops parses an operator object (non-empty, every key starting with "$") of
// field name, found at level depth.
func (p *parser) ops(name string, m map[string]any, depth int) (Node, error) {
	if err := p.nest(depth, name, ""); err != nil {
		return nil, err
	}
	nodes := make([]Node, 0, len(m))
	for _, op := range sortedKeys(m) {
		n, err := p.op(name, op, m[op], depth+1)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return p.and(nodes)
}

// op parses one operator of field name; arg sits at level depth.
func (p *parser) op(name, op string, arg any, depth int) (Node, error) {
	switch op {
	case "$eq", "$ne":
		lit, err := p.literal(name, op, arg, depth)
		if err != nil {
			return nil, err
		}
		n, err := p.cmp(&Cmp{Field: name, Op: OpEq, Value: lit})
		if err != nil || op == "$eq" {
			return n, err
		}
		return p.not(n)
	case "$gt", "$gte", "$lt", "$lte":
		var lit any
		if s, ok := arg.(string); ok {
			lit = s
		} else if n, ok := AsNumber(arg); ok {
			lit = n
		} else {
			return nil, &Error{Field: name, Op: op, Msg: "needs a number or string, got " + describe(arg)}
		}
		return p.cmp(&Cmp{Field: name, Op: orderingOps[op], Value: lit})
	case "$in", "$nin":
		arr, ok := arg.([]any)
		if !ok {
			return nil, &Error{Field: name, Op: op, Msg: "needs an array of values, got " + describe(arg)}
		}
		if err := p.nest(depth, name, op); err != nil {
			return nil, err
		}
		vals := make([]any, len(arr))
		for i, e := range arr {
			lit, err := p.literal(name, op, e, depth+1)
			if err != nil {
				return nil, err
			}
			vals[i] = lit
		}
		n, err := p.cmp(&Cmp{Field: name, Op: OpIn, Values: vals, set: newValueSet(vals)})
		if err != nil || op == "$in" {
			return n, err
		}
		return p.not(n)
	case "$exists":
		want, ok := arg.(bool)
		if !ok {
			return nil, &Error{Field: name, Op: op, Msg: "needs true or false, got " + describe(arg)}
		}
		n, err := p.cmp(&Cmp{Field: name, Op: OpExists})
		if err != nil || want {
			return n, err
		}
		return p.not(n)
	case "$not":
		m, ok := arg.(map[string]any)
		if !ok || !isOperatorObject(arg) {
			return nil, &Error{Field: name, Op: op, Msg: `needs an operator object such as {"$gt": 5}, got ` + describe(arg)}
		}
		n, err := p.ops(name, m, depth)
		if err != nil {
			return nil, err
		}
		return p.not(n)
	case "$and", "$or":
		arr, ok := arg.([]any)
		if !ok || len(arr) == 0 {
			return nil, &Error{Field: name, Op: op, Msg: `needs a non-empty array of operator objects such as {"$gt": 5}, got ` + describe(arg)}
		}
		if err := p.nest(depth, name, op); err != nil {
			return nil, err
		}
		nodes := make([]Node, len(arr))
		for i, e := range arr {
			m, ok := e.(map[string]any)
			if !ok || !isOperatorObject(e) {
				return nil, &Error{Field: name, Op: op, Msg: fmt.Sprintf(`needs operator objects such as {"$gt": 5}, but element %d is %s`, i, describe(e))}
			}
			n, err := p.ops(name, m, depth+1)
			if err != nil {
				return nil, err
			}
			nodes[i] = n
		}
		if op == "$and" {
			return p.and(nodes)
		}
		return p.or(nodes)
	}
	return nil, &Error{Field: name, Op: op, Msg: "is not a known operator; allowed in a field: " + fieldOps}
}

var orderingOps = map[string]Op{"$gt": OpGt, "$gte": OpGte, "$lt": OpLt, "$lte": OpLte}

// literal converts a value to canonical form (see Cmp.Value); v sits at level
// depth. Objects inside literals are data, never operators.
func (p *parser) literal(name, op string, v any, depth int) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case []any:
		if err := p.nest(depth, name, op); err != nil {
			return nil, err
		}
		out := make([]any, len(x))
		for i, e := range x {
			c, err := p.literal(name, op, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		if err := p.nest(depth, name, op); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := p.literal(name, op, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	if n, ok := AsNumber(v); ok {
		return n, nil
	}
	return nil, &Error{Field: name, Op: op, Msg: "has a value that is not JSON: " + describe(v)}
}

func (p *parser) cmp(c *Cmp) (Node, error) {
	if err := p.count(); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) not(n Node) (Node, error) {
	if err := p.count(); err != nil {
		return nil, err
	}
	return &Not{Node: n}, nil
}

// and joins the clauses of one object: none is All, one is itself.
func (p *parser) and(nodes []Node) (Node, error) {
	switch len(nodes) {
	case 0:
		return &All{}, nil
	case 1:
		return nodes[0], nil
	}
	if err := p.count(); err != nil {
		return nil, err
	}
	return &And{Nodes: nodes}, nil
}

func (p *parser) or(nodes []Node) (Node, error) {
	if len(nodes) == 1 {
		return nodes[0], nil
	}
	if err := p.count(); err != nil {
		return nil, err
	}
	return &Or{Nodes: nodes}, nil
}

// isOperatorObject reports whether v is a non-empty object whose keys all
// start with "$", which in a field position is read as operators.
func isOperatorObject(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	for k := range m {
		if !strings.HasPrefix(k, "$") {
			return false
		}
	}
	return true
}

// describe names the JSON kind of v for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return "an empty array"
		}
		return "array"
	case map[string]any:
		if len(x) == 0 {
			return "an empty object"
		}
		return "object"
	case float64:
		if math.IsNaN(x) {
			return "NaN"
		}
	case json.Number:
		if _, ok := ParseNumber(string(x)); !ok {
			return fmt.Sprintf("malformed number %q", string(x))
		}
	}
	if k := KindOf(v); k != Invalid {
		return k.String()
	}
	return fmt.Sprintf("Go type %T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
