package docstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
)

// testEnv is a store on the real engine (in memory unless dir is set).
type testEnv struct {
	db *storage.DB
	st *state.Store
	ds *Store
}

// openEnv opens a store with its reconciler running, as in the server.
func openEnv(t testing.TB, dir string, o Options) *testEnv {
	t.Helper()
	return openEnvWith(t, dir, o, true)
}

func openEnvWith(t testing.TB, dir string, o Options, reconcile bool) *testEnv {
	t.Helper()
	e := &testEnv{}
	db, err := storage.Open(storage.Options{Dir: dir, InMemory: dir == ""})
	if err != nil {
		t.Fatal(err)
	}
	o.noReconcile = !reconcile
	st, err := state.New(db, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := New(db, st, o)
	if err != nil {
		t.Fatal(err)
	}
	e.db, e.st, e.ds = db, st, ds
	t.Cleanup(e.close)
	return e
}

func (e *testEnv) close() {
	if e.ds == nil {
		return
	}
	e.ds.Close()
	e.st.Close()
	_ = e.db.Close()
	e.ds = nil
}

func (e *testEnv) put(t testing.TB, c, id string, doc any) Doc {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.ds.Put(context.Background(), c, id, b, nil)
	if err != nil {
		t.Fatalf("put %s/%s: %v", c, id, err)
	}
	return d
}

func TestPutGetDelete(t *testing.T) {
	e := openEnv(t, "", Options{})
	ctx := context.Background()
	d := e.put(t, "c", "a:b", map[string]any{"x": 1})
	if d.Revision != 1 || string(d.Doc) != `{"x":1}` {
		t.Fatalf("put: %+v", d)
	}
	d = e.put(t, "c", "a:b", []any{1, 2})
	if d.Revision != 2 {
		t.Fatalf("revision %d", d.Revision)
	}
	it, err := e.st.Get("doc:c:a:b")
	if err != nil || string(it.Value) != "[1,2]" || it.Revision != 2 {
		t.Fatalf("state key: %+v %v", it, err)
	}
	got, err := e.ds.Get("c", "a:b")
	if err != nil || string(got.Doc) != "[1,2]" {
		t.Fatalf("get: %+v %v", got, err)
	}
	rev := uint64(1)
	if _, err := e.ds.Put(ctx, "c", "a:b", []byte(`3`), &rev); !errors.Is(err, state.ErrRevisionMismatch) {
		t.Fatalf("stale CAS put: %v", err)
	}
	if _, err := e.ds.Delete(ctx, "c", "a:b", &rev); !errors.Is(err, state.ErrRevisionMismatch) {
		t.Fatalf("stale CAS delete: %v", err)
	}
	ok, err := e.ds.Delete(ctx, "c", "a:b", nil)
	if err != nil || !ok {
		t.Fatalf("delete: %v %v", ok, err)
	}
	ok, err = e.ds.Delete(ctx, "c", "a:b", nil)
	if err != nil || ok {
		t.Fatalf("second delete: %v %v", ok, err)
	}
	if _, err := e.ds.Get("c", "a:b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if d := e.put(t, "c", "a:b", 1); d.Revision != 1 {
		t.Fatalf("recreated revision %d", d.Revision)
	}
}

func TestNameRules(t *testing.T) {
	e := openEnv(t, "", Options{Limits: Limits{MaxCollectionLen: 4, MaxIDLen: 3}})
	for _, tc := range []struct {
		c, id string
		want  error
	}{
		{"", "a", ErrEmptyCollection},
		{"abcde", "a", ErrCollectionTooLong},
		{"abcde", "abcd", ErrCollectionTooLong}, // collection is checked first
		{"a:b", "a", ErrCollectionColon},
		{"a\xff", "a", ErrCollectionEncoding},
		{"a", "", ErrEmptyID},
		{"a", "abcd", ErrIDTooLong},
		{"a", "\xff", ErrIDEncoding},
		{"abcd", "a:b", nil},
	} {
		if err := e.ds.CheckNames(tc.c, tc.id); !errors.Is(err, tc.want) {
			t.Errorf("CheckNames(%q, %q) = %v, want %v", tc.c, tc.id, err, tc.want)
		}
	}
}

func TestDocValidation(t *testing.T) {
	e := openEnv(t, "", Options{Limits: Limits{MaxJSONBytes: 10}})
	ctx := context.Background()
	for _, tc := range []struct {
		body string
		want error
	}{
		{"", ErrEmptyDoc},
		{"  ", ErrEmptyDoc},
		{"{", ErrInvalidDoc},
		{"1 2", ErrInvalidDoc},
		{`{"a":"0123456789"}`, ErrDocTooLarge},
	} {
		if _, err := e.ds.Put(ctx, "c", "x", []byte(tc.body), nil); !errors.Is(err, tc.want) {
			t.Errorf("put %q: %v, want %v", tc.body, err, tc.want)
		}
	}
	if e.db.LastOffset() != 0 {
		t.Fatalf("rejected puts wrote events: offset %d", e.db.LastOffset())
	}
	if d, err := e.ds.Put(ctx, "c", "x", []byte(` { "a" : 1 } `), nil); err != nil || string(d.Doc) != `{"a":1}` {
		t.Fatalf("compacting put: %+v %v", d, err)
	}
}

// TestIndexEntriesFollowWrites checks the stored entries against the
// footprints after puts, overwrites and deletes.
func TestIndexEntriesFollowWrites(t *testing.T) {
	e := openEnv(t, "", Options{})
	ctx := context.Background()
	if _, err := e.ds.CreateIndex(ctx, "c", "n", TypeAuto); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ds.CreateIndex(ctx, "c", "tags", TypeKeyword); err != nil {
		t.Fatal(err)
	}
	e.put(t, "c", "1", map[string]any{"n": 1, "tags": []any{"a", "b", "a", 3}})
	e.put(t, "c", "2", map[string]any{"n": "x"})
	e.put(t, "c", "1", map[string]any{"n": 2, "tags": "a"})
	if _, err := e.ds.Delete(ctx, "c", "2", nil); err != nil {
		t.Fatal(err)
	}
	e.put(t, "c", "3", 7)
	got := e.entries(t, "c")
	want := []string{"n/1/2#1", "n/3#3", "tags/1/a#1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	if err := e.ds.DropIndex(ctx, "c", "tags"); err != nil {
		t.Fatal(err)
	}
	if err := e.ds.DropIndex(ctx, "c", "tags"); !errors.Is(err, ErrIndexNotFound) {
		t.Fatalf("second drop: %v", err)
	}
	if got := e.entries(t, "c"); fmt.Sprint(got) != "[n/1/2#1 n/3#3]" {
		t.Fatalf("entries after drop %v", got)
	}
	if _, err := e.ds.CreateIndex(ctx, "c", "n", TypeAuto); !errors.Is(err, ErrIndexExists) {
		t.Fatalf("duplicate index: %v", err)
	}
}

// entries renders the index entries of c as field/band/value#id.
func (e *testEnv) entries(t testing.TB, c string) []string {
	t.Helper()
	var out []string
	cp := collPrefix(c)
	err := e.db.ScanPrefix(cp, func(k, _ []byte) (bool, error) {
		field, rest, ok := readLP(k[len(cp):])
		if !ok {
			t.Fatalf("bad key %x", k)
		}
		enc, id, ok := splitEntry(k, len(k)-len(rest))
		if !ok {
			t.Fatalf("bad entry %x", k)
		}
		s := fmt.Sprintf("%s/%d", field, rest[0])
		if len(enc) > 0 {
			s += "/" + renderEnc(enc)
		}
		out = append(out, s+"#"+id)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func renderEnc(enc []byte) string {
	switch enc[0] {
	case tagNull:
		return "null"
	case tagFalse:
		return "false"
	case tagTrue:
		return "true"
	case tagString:
		return string(enc[1 : len(enc)-2])
	}
	// Small integers only in these tests.
	for i := -1000; i <= 1000; i++ {
		if e := encodeNumber(nil, mustNumber(i)); string(e) == string(enc) {
			return fmt.Sprint(i)
		}
	}
	return fmt.Sprintf("%x", enc)
}

func TestIndexErrors(t *testing.T) {
	e := openEnv(t, "", Options{})
	ctx := context.Background()
	for _, f := range []string{"", "$x", string(make([]byte, MaxFieldLen+1)), "\xff"} {
		if _, err := e.ds.CreateIndex(ctx, "c", f, TypeAuto); !errors.Is(err, ErrInvalidField) {
			t.Errorf("field %q: %v", f, err)
		}
	}
	if _, err := e.ds.CreateIndex(ctx, "c", "a", "text"); !errors.Is(err, ErrInvalidIndexType) {
		t.Errorf("bad type: %v", err)
	}
	if _, err := ParseIndexType("text"); !errors.Is(err, ErrInvalidIndexType) {
		t.Errorf("ParseIndexType: %v", err)
	}
	for i := 0; i < MaxIndexes; i++ {
		if _, err := e.ds.CreateIndex(ctx, "c", fmt.Sprint("f", i), TypeAuto); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.ds.CreateIndex(ctx, "c", "one-more", TypeAuto); !errors.Is(err, ErrTooManyIndexes) {
		t.Fatalf("too many: %v", err)
	}
	if e.db.LastOffset() != 0 {
		t.Fatalf("index admin emitted events")
	}
}

func mustNumber(i int) filter.Number { return filter.IntNumber(int64(i)) }
