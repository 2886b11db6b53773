package docstore

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/filter"
)

// refCompare is the sort order the encoding must reproduce: kinds
// null < false < true < numbers < strings; numbers by value, strings by
// their first MaxIndexedString bytes, and a truncated string after the
// untruncated string equal to its prefix.
func refCompare(a, b any) int {
	ka, kb := refRank(a), refRank(b)
	if ka != kb {
		return ka - kb
	}
	switch x := a.(type) {
	case string:
		y := b.(string)
		tx, ty := len(x) > MaxIndexedString, len(y) > MaxIndexedString
		x, y = x[:min(len(x), MaxIndexedString)], y[:min(len(y), MaxIndexedString)]
		if c := strings.Compare(x, y); c != 0 || tx == ty {
			return c
		}
		if tx {
			return 1
		}
		return -1
	case nil, bool:
		return 0
	}
	na, _ := filter.AsNumber(a)
	nb, _ := filter.AsNumber(b)
	return na.Compare(nb)
}

func refRank(v any) int {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 2
		}
		return 1
	case string:
		return 4
	}
	return 3
}

func randScalar(r *rand.Rand) any {
	switch r.IntN(9) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		edges := []int64{0, 1, -1, 1 << 53, 1<<53 + 1, 1<<53 - 1, -(1 << 53) - 1, math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1, 1 << 62}
		return json.Number(itoa64(edges[r.IntN(len(edges))] + int64(r.IntN(3)) - 1))
	case 3:
		floats := []string{"0.5", "-0.5", "1e300", "-1e300", "9223372036854775808", "9.3e18", "-9.3e18", "1e999", "-1e999", "2.5", "1e-300", "18446744073709551616"}
		return json.Number(floats[r.IntN(len(floats))])
	case 4:
		return float64(r.IntN(100)-50) / 4
	case 5:
		return json.Number(itoa64(r.Int64() - math.MaxInt64/2))
	case 6:
		alpha := []string{"", "a", "ab", "a\x00", "a\x00b", "b", "\xff", "é", "a\x01"}
		return alpha[r.IntN(len(alpha))] + alpha[r.IntN(len(alpha))]
	case 7:
		base := strings.Repeat("x", MaxIndexedString-1)
		tails := []string{"", "a", "ab", "b", "\x00", "aa", "a\x00z"}
		return base + tails[r.IntN(len(tails))] + tails[r.IntN(len(tails))]
	default:
		return r.Float64()*2e6 - 1e6
	}
}

func itoa64(i int64) string { b, _ := json.Marshal(i); return string(b) }

// TestEncodingOrder: byte order of encodings equals the reference order on
// random scalars, including the int64/double boundaries and long strings.
func TestEncodingOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		a, b := randScalar(r), randScalar(r)
		ea, ok1 := encodeScalar(nil, a)
		eb, ok2 := encodeScalar(nil, b)
		if !ok1 || !ok2 {
			t.Fatalf("not scalars: %v %v", a, b)
		}
		want := refCompare(a, b)
		got := bytes.Compare(ea, eb)
		if sign(want) != sign(got) {
			t.Fatalf("order of %#v and %#v: encoding says %d, reference %d (%x vs %x)", a, b, got, want, ea, eb)
		}
		if n := encLen(append(ea, "tail-id"...)); n != len(ea) {
			t.Fatalf("encLen of %#v = %d, want %d", a, n, len(ea))
		}
	}
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

func TestEncodingEqualNumbers(t *testing.T) {
	for _, pair := range [][2]any{
		{json.Number("1"), json.Number("1.0")},
		{json.Number("1e2"), float64(100)},
		{json.Number("-0"), json.Number("0.0")},
		{json.Number("9007199254740993"), json.Number("9007199254740993")},
	} {
		a, _ := encodeScalar(nil, pair[0])
		b, _ := encodeScalar(nil, pair[1])
		if !bytes.Equal(a, b) {
			t.Errorf("%v and %v encode differently: %x %x", pair[0], pair[1], a, b)
		}
	}
	a, _ := encodeScalar(nil, json.Number("9007199254740993"))
	b, _ := encodeScalar(nil, json.Number("9007199254740992"))
	if bytes.Compare(a, b) <= 0 {
		t.Errorf("2^53+1 must sort after 2^53")
	}
}

func TestEncLenRejectsGarbage(t *testing.T) {
	for _, p := range [][]byte{nil, {0}, {tagNumber, 1, 2}, {tagString, 'a'}, {tagString, 'a', 0, 7}, {0x09}} {
		if n := encLen(p); n != -1 {
			t.Errorf("encLen(%x) = %d, want -1", p, n)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	so := &Sort{Field: "a.b", Desc: true}
	for _, p := range []position{
		{enc: []byte{tagNull}, id: "x"},
		{enc: encodeString(nil, "a\x00b"), id: ""},
		{rest: true, id: "zz:1"},
	} {
		c := encodeCursor(so, p)
		got, err := decodeCursor(c, so)
		if err != nil || got.rest != p.rest || !bytes.Equal(got.enc, p.enc) || got.id != p.id {
			t.Fatalf("round trip of %+v: %+v, %v", p, got, err)
		}
		if _, err := decodeCursor(c, &Sort{Field: "a.b"}); err != ErrCursorMismatch {
			t.Fatalf("order mismatch: %v", err)
		}
		if _, err := decodeCursor(c, nil); err != ErrCursorMismatch {
			t.Fatalf("sort mismatch: %v", err)
		}
	}
	for _, bad := range []string{"!", "AA", "AQ", "AgA", "AQE", "AQEFYWJjZA"} {
		if _, err := decodeCursor(bad, &Sort{Field: "abc"}); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}
