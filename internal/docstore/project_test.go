package docstore

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/filter"
)

// randJSON writes a random JSON value with awkward keys (escapes, dots,
// duplicates), strings with quotes and backslashes, and some white space.
func randJSON(r *rand.Rand, depth int, sb *strings.Builder) {
	ws := func() {
		if r.IntN(4) == 0 {
			sb.WriteString([]string{" ", "\n", "\t ", "\r\n"}[r.IntN(4)])
		}
	}
	keys := []string{`"a"`, `"b"`, `"a.b"`, `"\u0061"`, `"c\"d"`, `"e\\"`, `"x"`, `"a"`, `"\u00e9"`, `"é"`}
	switch k := r.IntN(10); {
	case depth < 3 && k < 3:
		sb.WriteByte('{')
		n := r.IntN(5)
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			ws()
			sb.WriteString(keys[r.IntN(len(keys))])
			ws()
			sb.WriteByte(':')
			ws()
			randJSON(r, depth+1, sb)
			ws()
		}
		sb.WriteByte('}')
	case depth < 3 && k < 5:
		sb.WriteByte('[')
		n := r.IntN(4)
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			ws()
			randJSON(r, depth+1, sb)
		}
		sb.WriteByte(']')
	case k < 6:
		sb.WriteString([]string{`"s"`, `"q\"}]"`, `"back\\"`, `"{["`, `""`}[r.IntN(5)])
	case k < 8:
		sb.WriteString([]string{"0", "-1.5e3", "12345678901234567890", "3"}[r.IntN(4)])
	default:
		sb.WriteString([]string{"true", "false", "null"}[r.IntN(3)])
	}
}

// TestDecodeProjected: for random documents and paths, the projected
// decoding resolves every path exactly like the full decoding.
func TestDecodeProjected(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	paths := []string{"a", "b", "a.b", "x", `c"d`, `e\`, "é", "a.b.c", "x.a", "nope"}
	for i := 0; i < 20000; i++ {
		var sb strings.Builder
		if r.IntN(3) > 0 {
			sb.WriteString(" ")
		}
		randJSON(r, 0, &sb)
		doc := []byte(sb.String())
		if !json.Valid(doc) {
			t.Fatalf("generator made invalid JSON %s", doc)
		}
		full, err := decodeDoc(doc)
		if err != nil {
			t.Fatal(err)
		}
		p := projection{}
		var use []string
		for _, path := range paths {
			if r.IntN(3) == 0 {
				p.add(path)
				use = append(use, path)
			}
		}
		got, err := decodeProjected(doc, p)
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		for _, path := range use {
			v1, ok1 := filter.Resolve(full, path)
			v2, ok2 := filter.Resolve(got, path)
			if ok1 != ok2 || !reflect.DeepEqual(v1, v2) {
				t.Fatalf("doc %s path %q: full %v %v, projected %v %v", doc, path, v1, ok1, v2, ok2)
			}
		}
		if _, isObj := full.(map[string]any); isObj != (fmt.Sprintf("%T", got) == "map[string]interface {}") {
			t.Fatalf("doc %s: object-ness changed: %T vs %T", doc, full, got)
		}
	}
}
