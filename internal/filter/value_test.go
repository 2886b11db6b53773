package filter_test

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/luma-db/luma/internal/filter"
)

func nan() float64 { return math.NaN() }

func TestParseNumber(t *testing.T) {
	cases := []struct {
		in     string
		ok     bool
		str    string
		isInt  bool
		approx float64
	}{
		{"0", true, "0", true, 0},
		{"-0", true, "0", true, 0},
		{"-0.0", true, "0", true, 0},
		{"1.0", true, "1", true, 1},
		{"1e2", true, "100", true, 100},
		{"1E+2", true, "100", true, 100},
		{"2.5", true, "2.5", false, 2.5},
		{"9007199254740993", true, "9007199254740993", true, 9007199254740992},
		{"-9223372036854775808", true, "-9223372036854775808", true, -9223372036854775808},
		{"9223372036854775808", true, "9.223372036854776e+18", false, 9223372036854775808},
		{"1e400", true, "1e999", false, math.Inf(1)},
		{"-1e400", true, "-1e999", false, math.Inf(-1)},
		{"1e-400", true, "0", true, 0},
		{"", false, "", false, 0},
		{"+1", false, "", false, 0},
		{"01", false, "", false, 0},
		{"1.", false, "", false, 0},
		{".5", false, "", false, 0},
		{"1e", false, "", false, 0},
		{"Inf", false, "", false, 0},
		{"NaN", false, "", false, 0},
		{"0x10", false, "", false, 0},
		{"1_000", false, "", false, 0},
		{"--1", false, "", false, 0},
	}
	for _, tc := range cases {
		n, ok := filter.ParseNumber(tc.in)
		if ok != tc.ok {
			t.Errorf("ParseNumber(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if n.String() != tc.str {
			t.Errorf("ParseNumber(%q) = %s, want %s", tc.in, n, tc.str)
		}
		if _, isInt := n.Int64(); isInt != tc.isInt {
			t.Errorf("ParseNumber(%q) isInt = %v", tc.in, isInt)
		}
		if n.Float64() != tc.approx {
			t.Errorf("ParseNumber(%q).Float64() = %v", tc.in, n.Float64())
		}
		// String renders a number that parses back to itself.
		if m, ok := filter.ParseNumber(n.String()); !ok || m != n {
			t.Errorf("ParseNumber(%q) does not round-trip via %s", tc.in, n)
		}
	}
}

// rat returns the exact value of n (±Inf as ±1e400).
func rat(n filter.Number) *big.Rat {
	if i, ok := n.Int64(); ok {
		return new(big.Rat).SetInt64(i)
	}
	f := n.Float64()
	if math.IsInf(f, 0) {
		r, _ := new(big.Rat).SetString(strconv.Itoa(int(math.Copysign(1, f))) + "e400")
		return r
	}
	return new(big.Rat).SetFloat64(f)
}

// TestNumberCompareExact checks Compare and == against exact rational
// arithmetic on numbers clustered where int64 and float64 meet.
func TestNumberCompareExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float64{0, 0.5, -0.5, 1 << 52, 1 << 53, 1<<53 + 2, 1 << 62, 1 << 63, -(1 << 63), 1e300, math.Inf(1), math.Inf(-1), 4.9e-324}
	gen := func() filter.Number {
		switch rng.IntN(5) {
		case 0:
			return filter.IntNumber(rng.Int64() >> rng.IntN(64))
		case 1:
			i := []int64{math.MaxInt64, math.MinInt64, 1 << 53, 1<<53 + 1, -(1 << 53) - 1, 0}[rng.IntN(6)]
			return filter.IntNumber(i + int64(rng.IntN(5)) - 2)
		case 2:
			n, _ := filter.FloatNumber(special[rng.IntN(len(special))])
			return n
		case 3:
			n, _ := filter.FloatNumber(math.Ldexp(rng.Float64()-0.5, rng.IntN(70)))
			return n
		default:
			n, _ := filter.FloatNumber(float64(rng.Int64()>>rng.IntN(64)) + 0.5)
			return n
		}
	}
	for range 200000 {
		a, b := gen(), gen()
		want := rat(a).Cmp(rat(b))
		if got := a.Compare(b); got != want {
			t.Fatalf("Compare(%s, %s) = %d, want %d", a, b, got, want)
		}
		if (a == b) != (want == 0) {
			t.Fatalf("(%s == %s) = %v, want %v", a, b, a == b, want == 0)
		}
	}
}

func TestAsNumberAndKind(t *testing.T) {
	one := filter.IntNumber(1)
	for _, v := range []any{1.0, json.Number("1"), json.Number("1.0"), 1, int8(1), int16(1), int32(1), int64(1), uint(1), uint8(1), uint16(1), uint32(1), uint64(1), float32(1), one} {
		n, ok := filter.AsNumber(v)
		if !ok || n != one {
			t.Errorf("AsNumber(%T %v) = %v, %v", v, v, n, ok)
		}
		if filter.KindOf(v) != filter.NumberKind {
			t.Errorf("KindOf(%T) = %v", v, filter.KindOf(v))
		}
	}
	for _, v := range []any{nan(), json.Number("x"), "1", true, nil, struct{}{}} {
		if _, ok := filter.AsNumber(v); ok {
			t.Errorf("AsNumber(%T %v) ok", v, v)
		}
	}
	kinds := map[filter.Kind]any{
		filter.Null: nil, filter.Bool: false, filter.String: "", filter.Array: []any{},
		filter.Object: map[string]any{}, filter.Invalid: struct{}{},
	}
	for k, v := range kinds {
		if filter.KindOf(v) != k {
			t.Errorf("KindOf(%T) = %v, want %v", v, filter.KindOf(v), k)
		}
	}
	if filter.Kind(99).String() != "invalid" || filter.Array.String() != "array" {
		t.Error("Kind.String wrong")
	}
}

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b any
		want bool
	}{
		{nil, nil, true},
		{nil, false, false},
		{1.0, json.Number("1"), true},
		{json.Number("1e0"), filter.IntNumber(1), true},
		{"a", "a", true},
		{[]any{1.0, "x"}, []any{json.Number("1"), "x"}, true},
		{[]any{1.0}, []any{1.0, 1.0}, false},
		{map[string]any{"a": 1.0}, map[string]any{"a": 1}, true},
		{map[string]any{"a": 1.0}, map[string]any{"b": 1.0}, false},
		{map[string]any{"a": nil}, map[string]any{}, false},
		{struct{}{}, struct{}{}, false},
		{nan(), nan(), false},
		{[]any{}, map[string]any{}, false},
	}
	for _, tc := range cases {
		if got := filter.Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%v, %v) = %v", tc.a, tc.b, got)
		}
		if got := filter.Equal(tc.b, tc.a); got != tc.want {
			t.Errorf("Equal(%v, %v) = %v (swapped)", tc.b, tc.a, got)
		}
	}
}

func TestResolve(t *testing.T) {
	doc := map[string]any{
		"a":   map[string]any{"b": map[string]any{"c": 1.0}, "x.y": 2.0},
		"a.b": "lit",
		"":    map[string]any{"": 3.0},
		"arr": []any{map[string]any{"k": 1.0}},
	}
	cases := []struct {
		path string
		want any
		ok   bool
	}{
		{"a.b", "lit", true},
		{"a.b.c", 1.0, true},
		{"a.x.y", nil, false},
		{"a.c", nil, false},
		{"", doc[""], true},
		{".", 3.0, true},
		{"arr.0.k", nil, false},
		{"arr.k", nil, false},
		{"missing", nil, false},
		{"missing.deeper", nil, false},
	}
	for _, tc := range cases {
		got, ok := filter.Resolve(doc, tc.path)
		if ok != tc.ok || (ok && !filter.Equal(got, tc.want)) {
			t.Errorf("Resolve(%q) = %v, %v; want %v, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := filter.Resolve([]any{1.0}, "0"); ok {
		t.Error("Resolve on an array found something")
	}
}
