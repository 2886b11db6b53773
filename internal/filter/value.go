package filter

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Number is a JSON number normalised for comparison by value, so that 1, 1.0
// and 1e0 are the same Number. Integers that fit an int64 are held exactly;
// every other number is held as the nearest IEEE-754 double. The zero value
// is the number 0.
//
// Number is comparable: two Numbers are == exactly when they denote the same
// value under the rule above, so it can be used as a map key.
type Number struct {
	i     int64   // the value when isInt
	f     float64 // the value when !isInt
	isInt bool
}

// Limits of the int64 range as float64: [-2^63, 2^63).
const (
	minInt64Float = -9223372036854775808.0
	maxInt64Float = 9223372036854775808.0
)

// IntNumber returns the Number for an integer.
func IntNumber(i int64) Number { return Number{i: i, isInt: true} }

// FloatNumber returns the Number for a float. An integral f within the int64
// range becomes the equal integer (so FloatNumber(2) == IntNumber(2), and -0
// is 0). It reports false for NaN, which is not a JSON number.
func FloatNumber(f float64) (Number, bool) {
	if math.IsNaN(f) {
		return Number{}, false
	}
	if f >= minInt64Float && f < maxInt64Float && f == math.Trunc(f) {
		return Number{i: int64(f), isInt: true}, true
	}
	return Number{f: f}, true
}

// ParseNumber parses the text of a JSON number (as held by json.Number).
// Integer literals that fit an int64 are exact; anything else is rounded to the
// nearest double (a literal beyond the double range becomes ±Inf).
func ParseNumber(s string) (Number, bool) {
	if !isJSONNumber(s) {
		return Number{}, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return IntNumber(i), true
	}
	// The syntax is valid, so the only possible error is ErrRange, and then
	// f is ±Inf (overflow) or the nearest denormal/zero (underflow).
	f, _ := strconv.ParseFloat(s, 64)
	return FloatNumber(f)
}

// isJSONNumber reports whether s follows the JSON number grammar, which is
// narrower than what strconv accepts ("Inf", "0x10", "1_000", "+1").
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// AsNumber reports whether v is a number and returns it normalised. It accepts
// the types encoding/json produces (float64, json.Number), Number itself, and
// Go's integer and float types, so that documents built in Go also work.
func AsNumber(v any) (Number, bool) {
	switch x := v.(type) {
	case float64:
		return FloatNumber(x)
	case json.Number:
		return ParseNumber(string(x))
	case Number:
		return x, true
	case int:
		return IntNumber(int64(x)), true
	case int64:
		return IntNumber(x), true
	case int32:
		return IntNumber(int64(x)), true
	case int16:
		return IntNumber(int64(x)), true
	case int8:
		return IntNumber(int64(x)), true
	case uint:
		return uintNumber(uint64(x)), true
	case uint64:
		return uintNumber(x), true
	case uint32:
		return IntNumber(int64(x)), true
	case uint16:
		return IntNumber(int64(x)), true
	case uint8:
		return IntNumber(int64(x)), true
	case float32:
		return FloatNumber(float64(x))
	}
	return Number{}, false
}

func uintNumber(u uint64) Number {
	if u <= math.MaxInt64 {
		return IntNumber(int64(u))
	}
	return Number{f: float64(u)}
}

// Compare returns -1, 0 or +1 as n is less than, equal to or greater than m.
// The order is exact between integers and doubles (2^53+1 > 2^53 as a double).
func (n Number) Compare(m Number) int {
	switch {
	case n.isInt && m.isInt:
		return cmpOrdered(n.i, m.i)
	case !n.isInt && !m.isInt:
		return cmpOrdered(n.f, m.f)
	case n.isInt:
		return cmpIntFloat(n.i, m.f)
	default:
		return -cmpIntFloat(m.i, n.f)
	}
}

// cmpIntFloat compares an int64 with a double that is either non-integral or
// outside the int64 range (the only doubles a non-int Number holds).
func cmpIntFloat(i int64, f float64) int {
	switch {
	case f >= maxInt64Float:
		return -1
	case f < minInt64Float:
		return 1
	}
	// f is non-integral, so |f| < 2^52: if |i| <= 2^53 the conversion is exact;
	// otherwise |float64(i)| > 2^53 > |f| and the sign alone decides. Either way
	// float64(i) != f.
	return cmpOrdered(float64(i), f)
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Float64 returns n as the nearest double.
func (n Number) Float64() float64 {
	if n.isInt {
		return float64(n.i)
	}
	return n.f
}

// Int64 returns n and true when n is an integer within the int64 range.
func (n Number) Int64() (int64, bool) { return n.i, n.isInt }

// String renders n as a JSON number. ±Inf (from a literal such as 1e999)
// renders as ±1e999, which parses back to the same Number.
func (n Number) String() string {
	if n.isInt {
		return strconv.FormatInt(n.i, 10)
	}
	switch {
	case math.IsInf(n.f, 1):
		return "1e999"
	case math.IsInf(n.f, -1):
		return "-1e999"
	}
	return strconv.FormatFloat(n.f, 'g', -1, 64)
}

// MarshalJSON renders n as a JSON number.
func (n Number) MarshalJSON() ([]byte, error) { return []byte(n.String()), nil }

// Kind is the JSON type of a value.
type Kind uint8

// The JSON kinds. Invalid is any Go value that is not a JSON value (for
// example a struct, or NaN); it equals nothing and orders against nothing.
const (
	Invalid Kind = iota
	Null
	Bool
	NumberKind
	String
	Array
	Object
)

var kindNames = [...]string{
	Invalid:    "invalid",
	Null:       "null",
	Bool:       "bool",
	NumberKind: "number",
	String:     "string",
	Array:      "array",
	Object:     "object",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// KindOf returns the JSON kind of a decoded value.
func KindOf(v any) Kind {
	switch v.(type) {
	case nil:
		return Null
	case bool:
		return Bool
	case string:
		return String
	case []any:
		return Array
	case map[string]any:
		return Object
	}
	if _, ok := AsNumber(v); ok {
		return NumberKind
	}
	return Invalid
}

// Equal reports whether a and b are the same JSON value: numbers by value
// (1 == 1.0), arrays element by element in order, objects with the same keys
// and equal values. Values of kind Invalid are equal to nothing.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !Equal(xv, yv) {
				return false
			}
		}
		return true
	}
	n, ok := AsNumber(a)
	if !ok {
		return false
	}
	m, ok := AsNumber(b)
	return ok && n == m
}

// Resolve returns the value at path in doc and whether it is present. doc must
// be an object (map[string]any) for anything to be present. A top-level key
// equal to the whole path wins; otherwise the path is split at every "." and
// each segment selects a key of a nested object ("a.b.c"). Segments never
// index into arrays, and a nested key that itself contains "." cannot be
// reached.
func Resolve(doc any, path string) (any, bool) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, false
	}
	if v, ok := m[path]; ok {
		return v, true
	}
	rest := path
	for {
		seg, tail, more := strings.Cut(rest, ".")
		if !more {
			// No dot at all means the literal lookup above already missed.
			if rest == path {
				return nil, false
			}
			v, ok := m[seg]
			return v, ok
		}
		next, ok := m[seg].(map[string]any)
		if !ok {
			return nil, false
		}
		m, rest = next, tail
	}
}
