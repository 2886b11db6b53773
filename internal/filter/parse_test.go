package filter_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/filter"
)

// TestParseErrors: every rejected filter gives an *Error that names the field
// (when inside one) and the operator at fault, and says what is allowed.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		src   string
		field string
		op    string
		msg   string // substring of Error()
	}{
		// Ordering operators.
		{`{"price":{"$gt":[1]}}`, "price", "$gt", `filter: field "price": $gt needs a number or string, got array`},
		{`{"price":{"$gte":true}}`, "price", "$gte", "needs a number or string, got bool"},
		{`{"price":{"$lt":null}}`, "price", "$lt", "needs a number or string, got null"},
		{`{"price":{"$lte":{"a":1}}}`, "price", "$lte", "needs a number or string, got object"},
		{`{"price":{"$gt":{}}}`, "price", "$gt", "got an empty object"},
		// $in / $nin.
		{`{"tag":{"$in":"x"}}`, "tag", "$in", `filter: field "tag": $in needs an array of values, got string`},
		{`{"tag":{"$nin":{"a":1}}}`, "tag", "$nin", "needs an array of values, got object"},
		{`{"tag":{"$in":null}}`, "tag", "$in", "got null"},
		// $exists.
		{`{"a":{"$exists":1}}`, "a", "$exists", `filter: field "a": $exists needs true or false, got number`},
		{`{"a":{"$exists":"yes"}}`, "a", "$exists", "got string"},
		// Unknown operators, in a field and at filter level.
		{`{"a":{"$foo":1}}`, "a", "$foo", `filter: field "a": $foo is not a known operator; allowed in a field: $eq, $ne, $gt`},
		{`{"a":{"$gt":1,"$regex":"x"}}`, "a", "$regex", "is not a known operator"},
		{`{"$foo":1}`, "", "$foo", "filter: $foo is not a known operator; allowed here: $and, $or, $not"},
		{`{"$nor":[{"a":1}]}`, "", "$nor", "is not a known operator"},
		// Field operators at filter level.
		{`{"$gt":5}`, "", "$gt", `filter: $gt must be used inside a field, as {"field": {"$gt": ...}}`},
		{`{"$in":[1]}`, "", "$in", "must be used inside a field"},
		{`{"$exists":true}`, "", "$exists", "must be used inside a field"},
		// Mixed operator and plain keys.
		{`{"a":{"$gt":1,"b":2}}`, "a", "", `filter: field "a": mixes operators ($gt) with plain keys (b) in one object`},
		// Logical operators at filter level.
		{`{"$and":{"a":1}}`, "", "$and", "filter: $and needs a non-empty array of filter objects, got object"},
		{`{"$or":[]}`, "", "$or", "got an empty array"},
		{`{"$or":[{"a":1},2]}`, "", "$or", "needs filter objects, but element 1 is number"},
		{`{"$and":[[]]}`, "", "$and", "element 0 is an empty array"},
		{`{"$not":[{"a":1}]}`, "", "$not", "$not needs a filter object, got array"},
		{`{"$not":null}`, "", "$not", "got null"},
		// Logical operators inside a field.
		{`{"a":{"$not":5}}`, "a", "$not", `filter: field "a": $not needs an operator object such as {"$gt": 5}, got number`},
		{`{"a":{"$not":{"b":1}}}`, "a", "$not", "got object"},
		{`{"a":{"$not":{}}}`, "a", "$not", "got an empty object"},
		{`{"a":{"$or":[1]}}`, "a", "$or", "but element 0 is number"},
		{`{"a":{"$and":"x"}}`, "a", "$and", "needs a non-empty array of operator objects"},
		// Errors nested inside logical operators still name the field.
		{`{"$or":[{"x":1},{"$and":[{"y.z":{"$gt":[]}}]}]}`, "y.z", "$gt", `field "y.z": $gt needs a number or string, got an empty array`},
		{`{"a":{"$not":{"$in":5}}}`, "a", "$in", "needs an array"},
		{`{"a":{"$or":[{"$gt":1},{"$bad":1}]}}`, "a", "$bad", "is not a known operator"},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			_, err := filter.Parse([]byte(tc.src), nil)
			var fe *filter.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error = %v (%T), want *filter.Error", err, err)
			}
			if fe.Field != tc.field || fe.Op != tc.op {
				t.Errorf("Field, Op = %q, %q; want %q, %q", fe.Field, fe.Op, tc.field, tc.op)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Error() = %q, want it to contain %q", err.Error(), tc.msg)
			}
			if tc.field != "" && !strings.Contains(err.Error(), strconv.Quote(tc.field)) {
				t.Errorf("Error() = %q does not name the field", err.Error())
			}
			if tc.op != "" && !strings.Contains(err.Error(), tc.op) {
				t.Errorf("Error() = %q does not name the operator", err.Error())
			}
		})
	}
}

func TestParseInvalidJSON(t *testing.T) {
	for _, src := range []string{`{`, `{"a":}`, `{"a":1} x`, `{"a":1}{}`, `nul`, `{'a':1}`} {
		_, err := filter.Parse([]byte(src), nil)
		var fe *filter.Error
		if !errors.As(err, &fe) || !errors.Is(err, filter.ErrInvalidJSON) {
			t.Errorf("Parse(%s) = %v, want *Error wrapping ErrInvalidJSON", src, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "filter: invalid JSON: ") {
			t.Errorf("Parse(%s) error = %q", src, err)
		}
	}
}

func TestParseValueRejectsNonJSON(t *testing.T) {
	cases := []struct {
		v   any
		msg string
	}{
		{map[string]any{"a": struct{}{}}, `field "a": has a value that is not JSON: Go type struct {}`},
		{map[string]any{"a": map[string]any{"$gt": nan()}}, `field "a": $gt needs a number or string, got NaN`},
		{map[string]any{"a": json.Number("1x")}, `malformed number "1x"`},
		{map[string]any{"a": map[string]any{"$in": []any{1.0, []int{1}}}}, `$in has a value that is not JSON: Go type []int`},
	}
	for _, tc := range cases {
		_, err := filter.ParseValue(tc.v, nil)
		var fe *filter.Error
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseValue(%v) = %v, want *Error containing %q", tc.v, err, tc.msg)
		}
	}
	// At top level a non-object Go value is simply "not an object".
	for _, v := range []any{"x", 1.0, []any{}, true, struct{}{}, map[string]string{"a": "b"}} {
		f, err := filter.ParseValue(v, nil)
		if err != nil || f.Match(map[string]any{}) {
			t.Errorf("ParseValue(%v) = %v, %v; want a match-nothing filter", v, f, err)
		}
	}
	// Go-typed numbers are accepted and canonicalised.
	f, err := filter.ParseValue(map[string]any{"a": 2, "b": map[string]any{"$lt": int64(3)}}, nil)
	if err != nil || !f.Match(map[string]any{"a": 2.0, "b": 1.0}) {
		t.Errorf("ParseValue with Go ints: %v, %v", f, err)
	}
}

func nested(levels int, inner string) string {
	return strings.Repeat(`{"$not":`, levels) + inner + strings.Repeat(`}`, levels)
}

func TestLimits(t *testing.T) {
	t.Run("depth default", func(t *testing.T) {
		// {"a":1} is 1 level, each $not adds one.
		if _, err := filter.Parse([]byte(nested(filter.DefaultMaxDepth-1, `{"a":1}`)), nil); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		_, err := filter.Parse([]byte(nested(filter.DefaultMaxDepth, `{"a":1}`)), nil)
		if !errors.Is(err, filter.ErrTooDeep) {
			t.Fatalf("over the limit: %v", err)
		}
		var fe *filter.Error
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "nests deeper than 32 levels") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("depth counts literals, arrays and operator objects", func(t *testing.T) {
		opts := &filter.Options{MaxDepth: 3}
		ok := []string{
			`{"a":[[1]]}`, `{"a":{"$in":[1]}}`, `{"$and":[{"a":1}]}`, `{"a":{"$not":{"$gt":1}}}`,
			`{"a":{"b":{}}}`, `{"a":{"$eq":[1]}}`,
		}
		bad := map[string]string{
			`{"a":[[[1]]]}`:                     `field "a": nests deeper than 3 levels`,
			`{"a":{"$in":[[1]]}}`:               `field "a": $in nests deeper`,
			`{"$and":[{"a":{"$gt":1}}]}`:        `field "a": nests deeper`,
			`{"$and":[{"$or":[{"a":1}]}]}`:      `$or nests deeper`,
			`{"a":{"$not":{"$not":{"$gt":1}}}}`: `field "a": nests deeper`,
			`{"a":{"b":{"c":{}}}}`:              `field "a": nests deeper`,
		}
		for _, src := range ok {
			if _, err := filter.Parse([]byte(src), opts); err != nil {
				t.Errorf("%s: %v", src, err)
			}
		}
		for src, msg := range bad {
			_, err := filter.Parse([]byte(src), opts)
			if !errors.Is(err, filter.ErrTooDeep) || !strings.Contains(err.Error(), msg) {
				t.Errorf("%s: %v, want ErrTooDeep containing %q", src, err, msg)
			}
		}
	})
	t.Run("hostile nesting does not blow the stack", func(t *testing.T) {
		// Deeper than encoding/json allows, and deep in an already decoded value.
		_, err := filter.Parse([]byte(nested(20000, `{}`)), nil)
		if err == nil {
			t.Fatal("accepted 20000 levels")
		}
		var v any = 1.0
		for range 1_000_000 {
			v = []any{v}
		}
		if _, err := filter.ParseValue(map[string]any{"a": v}, nil); !errors.Is(err, filter.ErrTooDeep) {
			t.Fatalf("deep decoded value: %v", err)
		}
	})
	t.Run("clauses", func(t *testing.T) {
		opts := &filter.Options{MaxClauses: 5}
		// 4 comparisons + the implied $and = 5 nodes.
		if _, err := filter.Parse([]byte(`{"a":1,"b":2,"c":3,"d":4}`), opts); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		for _, src := range []string{
			`{"a":1,"b":2,"c":3,"d":4,"e":5}`,
			`{"a":{"$ne":1},"b":{"$nin":[2]},"c":3}`,
			`{"$or":[{"a":1},{"b":1},{"c":1},{"d":1},{"e":1}]}`,
		} {
			_, err := filter.Parse([]byte(src), opts)
			if !errors.Is(err, filter.ErrTooManyClauses) || !strings.Contains(err.Error(), "more than 5 clauses") {
				t.Errorf("%s: %v", src, err)
			}
		}
		// $in values do not count.
		in := `{"a":{"$in":[` + strings.TrimSuffix(strings.Repeat("1,", 10000), ",") + `]}}`
		if _, err := filter.Parse([]byte(in), opts); err != nil {
			t.Errorf("large $in: %v", err)
		}
		many := "{" + strings.TrimSuffix(strings.Repeat(`"k":1,`, 1), ",")
		for i := range filter.DefaultMaxClauses {
			many += `,"k` + strconv.Itoa(i) + `":1`
		}
		many += "}"
		if _, err := filter.Parse([]byte(many), nil); !errors.Is(err, filter.ErrTooManyClauses) {
			t.Errorf("default clause limit not enforced: %v", err)
		}
	})
	t.Run("EnsureDefaults", func(t *testing.T) {
		var o *filter.Options
		d := o.EnsureDefaults()
		if d.MaxDepth != filter.DefaultMaxDepth || d.MaxClauses != filter.DefaultMaxClauses {
			t.Fatalf("defaults = %+v", d)
		}
		c := (&filter.Options{MaxDepth: 4, MaxClauses: -1}).EnsureDefaults()
		if c.MaxDepth != 4 || c.MaxClauses != filter.DefaultMaxClauses {
			t.Fatalf("EnsureDefaults = %+v", c)
		}
	})
}

// TestDollarKeyChange documents the deliberate change from the original,
// where "$gt" was a plain key compared by deep equality.
func TestDollarKeyChange(t *testing.T) {
	doc := map[string]any{"price": map[string]any{"$gt": 5.0}, "n": 7.0}
	if mustParse(t, `{"price":{"$gt":5}}`).Match(doc) {
		t.Error(`{"$gt":5} is now an operator; an object is not > 5`)
	}
	if !mustParse(t, `{"n":{"$gt":5}}`).Match(doc) {
		t.Error(`$gt as an operator`)
	}
	if !mustParse(t, `{"price":{"$eq":{"$gt":5}}}`).Match(doc) {
		t.Error(`$eq matches the stored object literally`)
	}
	if _, err := filter.Parse([]byte(`{"$gt":5}`), nil); err == nil {
		t.Error(`a top-level "$gt" key is an error now`)
	}
}

func TestStringRoundTrip(t *testing.T) {
	cases := map[string]string{
		`{}`:                                 `{}`,
		`null`:                               `{}`,
		`"x"`:                                `false`,
		`{"b":1,"a":"x"}`:                    `{"$and":[{"a":"x"},{"b":1}]}`,
		`{"a":1.0}`:                          `{"a":1}`,
		`{"a":{"$ne":2.5}}`:                  `{"$not":{"a":{"$eq":2.5}}}`,
		`{"a":{"$nin":[]}}`:                  `{"$not":{"a":{"$in":[]}}}`,
		`{"a":{"$exists":false}}`:            `{"$not":{"a":{"$exists":true}}}`,
		`{"a":{"$gte":"m","$lt":1e400}}`:     `{"$and":[{"a":{"$gte":"m"}},{"a":{"$lt":1e999}}]}`,
		`{"$or":[{"a":[1,{"$x":2}]},{}]}`:    `{"$or":[{"a":[1,{"$x":2}]},{}]}`,
		`{"a":{"$or":[{"$gt":1}]}}`:          `{"a":{"$gt":1}}`,
		`{"a.b":{"$in":[null,true,"s",[]]}}`: `{"a.b":{"$in":[null,true,"s",[]]}}`,
	}
	for src, want := range cases {
		f := mustParse(t, src)
		if got := f.String(); got != want {
			t.Errorf("String(%s) = %s, want %s", src, got, want)
		}
		data, err := json.Marshal(f)
		if err != nil || string(data) != want {
			t.Errorf("MarshalJSON(%s) = %s, %v", src, data, err)
		}
		g := mustParse(t, want)
		if g.String() != want {
			t.Errorf("String not stable: %s -> %s", want, g.String())
		}
	}
}

func TestOpString(t *testing.T) {
	if filter.OpEqual.String() != "=" || filter.OpLte.String() != "$lte" || filter.Op(200).String() != "Op(200)" {
		t.Error("Op.String wrong")
	}
	if !filter.OpGt.Ordering() || filter.OpIn.Ordering() {
		t.Error("Op.Ordering wrong")
	}
}
