package bitmapindex

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"

	"github.com/luma-db/luma/internal/filter"
)

// gen builds random documents and filters over a small vocabulary, so that
// filters hit documents often and edge cases (1 vs 1.0, dotted keys that
// shadow nested ones, arrays of mixed kinds, big integers) come up.
type gen struct {
	rng *rand.Rand
	// useNumber makes documents hold json.Number instead of float64.
	useNumber bool
}

var (
	genKeys    = []string{"a", "b", "c", "n", "a.b", "x.y", ""}
	genPaths   = []string{"a", "b", "c", "n", "a.b", "a.b.c", "a.n", "b.a.n", "x.y", "x", "a.a.a.a", "", "missing"}
	genStrings = []string{"", "x", "y", "xy", "X", "é", "a.b"}
	genNums    = []string{"0", "1", "1.0", "-1", "2.5", "-0.5", "1e300", "9007199254740993", "9007199254740992", "3", "100"}
)

func (g *gen) num() any {
	s := genNums[g.rng.IntN(len(genNums))]
	if g.useNumber {
		return json.Number(s)
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func (g *gen) scalar() any {
	switch g.rng.IntN(6) {
	case 0:
		return nil
	case 1:
		return g.rng.IntN(2) == 0
	case 2, 3:
		return genStrings[g.rng.IntN(len(genStrings))]
	default:
		return g.num()
	}
}

// value returns a random JSON value nesting at most depth more levels.
func (g *gen) value(depth int) any {
	r := g.rng.IntN(10)
	switch {
	case depth > 0 && r < 2:
		return g.object(depth - 1)
	case depth > 0 && r < 4:
		arr := make([]any, g.rng.IntN(4))
		for i := range arr {
			if g.rng.IntN(6) == 0 {
				arr[i] = g.value(depth - 1)
			} else {
				arr[i] = g.scalar()
			}
		}
		return arr
	}
	return g.scalar()
}

func (g *gen) object(depth int) map[string]any {
	m := make(map[string]any)
	for range g.rng.IntN(4) {
		m[genKeys[g.rng.IntN(len(genKeys))]] = g.value(depth)
	}
	return m
}

// doc returns a random document: mostly objects, sometimes not.
func (g *gen) doc() any {
	if g.rng.IntN(12) == 0 {
		return g.value(1)
	}
	return g.object(4)
}

// filterValue returns a random filter object (as a decoded value) nesting
// logical operators at most depth levels.
func (g *gen) filterValue(depth int) map[string]any {
	m := make(map[string]any)
	for range 1 + g.rng.IntN(2) {
		if depth > 0 && g.rng.IntN(4) == 0 {
			switch g.rng.IntN(3) {
			case 0:
				m["$not"] = g.filterValue(depth - 1)
			default:
				arr := make([]any, 1+g.rng.IntN(3))
				for i := range arr {
					arr[i] = g.filterValue(depth - 1)
				}
				m[[]string{"$and", "$or"}[g.rng.IntN(2)]] = arr
			}
			continue
		}
		m[genPaths[g.rng.IntN(len(genPaths))]] = g.fieldValue(depth)
	}
	return m
}

// fieldValue returns a plain literal or an operator object.
func (g *gen) fieldValue(depth int) any {
	if g.rng.IntN(3) == 0 {
		return g.value(1) // objects in it have plain keys: a literal
	}
	ops := make(map[string]any)
	for range 1 + g.rng.IntN(2) {
		switch g.rng.IntN(11) {
		case 0:
			ops["$eq"] = g.value(1)
		case 1:
			ops["$ne"] = g.scalar()
		case 2, 3:
			op := []string{"$gt", "$gte", "$lt", "$lte"}[g.rng.IntN(4)]
			if g.rng.IntN(3) == 0 {
				ops[op] = genStrings[g.rng.IntN(len(genStrings))]
			} else {
				ops[op] = g.num()
			}
		case 4, 5:
			vals := make([]any, g.rng.IntN(4))
			for i := range vals {
				vals[i] = g.value(1)
			}
			ops[[]string{"$in", "$nin"}[g.rng.IntN(2)]] = vals
		case 6:
			ops["$exists"] = g.rng.IntN(2) == 0
		case 7:
			if depth > 0 {
				ops["$not"] = g.fieldValueOps(depth - 1)
			}
		case 8:
			if depth > 0 {
				ops["$or"] = []any{g.fieldValueOps(depth - 1), g.fieldValueOps(depth - 1)}
			}
		default:
			ops["$eq"] = g.scalar()
		}
	}
	if len(ops) == 0 {
		ops["$exists"] = true
	}
	return ops
}

// fieldValueOps returns an operator object (never a plain literal).
func (g *gen) fieldValueOps(depth int) map[string]any {
	for {
		if m, ok := g.fieldValue(depth).(map[string]any); ok && len(m) > 0 && allDollar(m) {
			return m
		}
	}
}

func allDollar(m map[string]any) bool {
	for k := range m {
		if len(k) == 0 || k[0] != '$' {
			return false
		}
	}
	return true
}

// filter returns a random parsed filter; it round-trips through JSON text
// so that numbers are json.Number as the server would see them.
func (g *gen) filter() *filter.Filter {
	data, err := json.Marshal(g.filterValue(2))
	if err != nil {
		panic(err)
	}
	f, err := filter.Parse(data, nil)
	if err != nil {
		panic(string(data) + ": " + err.Error())
	}
	return f
}
