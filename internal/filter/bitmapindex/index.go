package bitmapindex

import (
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/luma-db/luma/internal/filter"
)

// DefaultMaxDepth is the default Options.MaxDepth.
const DefaultMaxDepth = 8

// Options configure an Index. The zero value means the defaults.
type Options struct {
	// MaxDepth is how many path segments of nested objects are indexed:
	// with 2, "a" and "a.b" are indexed but "a.b.c" is not. Queries on
	// deeper paths are still answered, inexactly for the documents that have
	// objects below the limit. Default DefaultMaxDepth.
	MaxDepth int
}

// EnsureDefaults fills unset fields and returns o (new Options if o is nil).
func (o *Options) EnsureDefaults() *Options {
	if o == nil {
		o = &Options{}
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	return o
}

// Index is an inverted index from metadata values to ids. See the package
// documentation for what it indexes and how Eval answers filters.
type Index struct {
	maxDepth int

	// mu guards every field below and everything they point to. Add, Remove
	// and Update hold it for writing; Eval, Estimate, Len and Has hold it for
	// reading. The only state readers change is values.strOrd, built lazily
	// under field.lazyMu while mu is read-locked (lock order: mu, then lazyMu).
	mu        sync.RWMutex
	all       *roaring.Bitmap   // every indexed id
	truncated *roaring.Bitmap   // ids with a non-empty object at depth maxDepth
	fields    map[string]*field // by path
}

// field is the index of one path; nil bitmaps are empty.
type field struct {
	exists  *roaring.Bitmap // the path resolves, to any value
	arrays  *roaring.Bitmap // the value is an array
	objects *roaring.Bitmap // the value is an object
	// value indexes scalar values; elems indexes the scalar elements of array
	// values. Keeping them apart makes plain equality (which compares arrays
	// whole) a direct lookup, and lets a range with two bounds be one lookup
	// for scalars while arrays keep "each bound by any element" semantics.
	value, elems values

	// lazyMu serialises readers that race to build values.strOrd.
	lazyMu sync.Mutex
}

// values indexes scalars by value; see field.
type values struct {
	nulls  *roaring.Bitmap
	trues  *roaring.Bitmap
	falses *roaring.Bitmap
	strs   map[string]*roaring.Bitmap
	nums   ordered[filter.Number]
	// strOrd orders the keys of strs for string ranges. It is built by the
	// first query that needs it (under field.lazyMu, with Index.mu
	// read-locked) and kept up to date by writers after that.
	strOrd *ordered[strKey]
}

// New returns an empty Index. opts may be nil.
func New(opts *Options) *Index {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.EnsureDefaults()
	return &Index{
		maxDepth:  o.MaxDepth,
		all:       roaring.New(),
		truncated: roaring.New(),
		fields:    make(map[string]*field),
	}
}

// Len returns the number of indexed ids.
func (ix *Index) Len() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.all.GetCardinality()
}

// Has reports whether id is indexed.
func (ix *Index) Has(id uint32) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.all.Contains(id)
}

// Add indexes meta (a decoded JSON value, numbers as float64 or json.Number)
// under id. It reports false and changes nothing if id is already indexed:
// use Update to change an id's metadata. meta may be anything, null and
// non-objects included; such ids have no fields but are still part of the
// universe that $not and $ne complement.
func (ix *Index) Add(id uint32, meta any) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.add(id, meta)
}

// Remove un-indexes id. meta must be the value that was given to Add (or
// Update) for id, as the index keeps no copy of it; passing anything else
// leaves stale entries behind. It reports false if id was not indexed.
func (ix *Index) Remove(id uint32, meta any) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.remove(id, meta)
}

// Update replaces the metadata of id, old being what was indexed for it (as
// for Remove). Readers see either the old or the new state. If id is not
// indexed, Update is Add.
func (ix *Index) Update(id uint32, old, meta any) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.remove(id, old)
	ix.add(id, meta)
}

func (ix *Index) add(id uint32, meta any) bool {
	if !ix.all.CheckedAdd(id) {
		return false
	}
	if ix.walk(meta, func(path string, v any) { ix.addValue(path, id, v) }) {
		ix.truncated.Add(id)
	}
	return true
}

func (ix *Index) remove(id uint32, meta any) bool {
	if !ix.all.CheckedRemove(id) {
		return false
	}
	ix.truncated.Remove(id)
	ix.walk(meta, func(path string, v any) { ix.removeValue(path, id, v) })
	return true
}

// walk calls fn for every path of meta up to maxDepth segments, with the
// value filter.Resolve returns for that path, and reports whether meta has a
// non-empty object at depth maxDepth whose contents were not visited.
func (ix *Index) walk(meta any, fn func(path string, v any)) (truncated bool) {
	top, ok := meta.(map[string]any)
	if !ok {
		return false
	}
	var nested func(prefix string, obj map[string]any, depth int)
	nested = func(prefix string, obj map[string]any, depth int) {
		if depth >= ix.maxDepth {
			truncated = truncated || len(obj) > 0
			return
		}
		for k, v := range obj {
			if strings.Contains(k, ".") {
				continue // a path cannot name a nested key with a dot
			}
			p := prefix + "." + k
			if _, shadowed := top[p]; !shadowed {
				fn(p, v) // a top-level key spelled like the path wins
			}
			if o, ok := v.(map[string]any); ok {
				nested(p, o, depth+1)
			}
		}
	}
	for k, v := range top {
		fn(k, v)
		if o, ok := v.(map[string]any); ok && !strings.Contains(k, ".") {
			nested(k, o, 1)
		}
	}
	return truncated
}

func (ix *Index) addValue(path string, id uint32, v any) {
	f := ix.fields[path]
	if f == nil {
		f = &field{}
		ix.fields[path] = f
	}
	addTo(&f.exists, id)
	switch x := v.(type) {
	case []any:
		addTo(&f.arrays, id)
		distinctScalars(x, func(e any) { f.elems.add(id, e) })
	case map[string]any:
		addTo(&f.objects, id)
	default:
		f.value.add(id, v)
	}
}

func (ix *Index) removeValue(path string, id uint32, v any) {
	f := ix.fields[path]
	if f == nil {
		return
	}
	removeFrom(&f.exists, id)
	switch x := v.(type) {
	case []any:
		removeFrom(&f.arrays, id)
		distinctScalars(x, func(e any) { f.elems.remove(id, e) })
	case map[string]any:
		removeFrom(&f.objects, id)
	default:
		f.value.remove(id, v)
	}
	if f.exists == nil {
		delete(ix.fields, path)
	}
}

// add indexes a scalar; other values (arrays and objects inside arrays,
// non-JSON Go values) are not indexed.
func (vs *values) add(id uint32, v any) {
	switch x := v.(type) {
	case nil:
		addTo(&vs.nulls, id)
	case bool:
		if x {
			addTo(&vs.trues, id)
		} else {
			addTo(&vs.falses, id)
		}
	case string:
		bm := vs.strs[x]
		if bm == nil {
			if vs.strs == nil {
				vs.strs = make(map[string]*roaring.Bitmap)
			}
			bm = roaring.New()
			vs.strs[x] = bm
		}
		bm.Add(id)
		if vs.strOrd != nil {
			vs.strOrd.insert(strKey(x), id)
		}
	case []any, map[string]any:
	default:
		if n, ok := filter.AsNumber(v); ok {
			vs.nums.insert(n, id)
		}
	}
}

func (vs *values) remove(id uint32, v any) {
	switch x := v.(type) {
	case nil:
		removeFrom(&vs.nulls, id)
	case bool:
		if x {
			removeFrom(&vs.trues, id)
		} else {
			removeFrom(&vs.falses, id)
		}
	case string:
		bm := vs.strs[x]
		if bm == nil {
			return
		}
		bm.Remove(id)
		if bm.IsEmpty() {
			delete(vs.strs, x)
		}
		if vs.strOrd != nil {
			vs.strOrd.remove(strKey(x), id)
		}
	case []any, map[string]any:
	default:
		if n, ok := filter.AsNumber(v); ok {
			vs.nums.remove(n, id)
		}
	}
}

// stringOrder returns the ordered view of vs's strings, building it on first
// use. The caller holds Index.mu for reading; mu is the owning field's lazyMu.
func (vs *values) stringOrder(mu *sync.Mutex) *ordered[strKey] {
	mu.Lock()
	defer mu.Unlock()
	if vs.strOrd == nil {
		o := &ordered[strKey]{}
		for s, bm := range vs.strs {
			it := bm.Iterator()
			for it.HasNext() {
				o.insert(strKey(s), it.Next())
			}
		}
		vs.strOrd = o
	}
	return vs.strOrd
}

func addTo(p **roaring.Bitmap, id uint32) {
	if *p == nil {
		*p = roaring.New()
	}
	(*p).Add(id)
}

func removeFrom(p **roaring.Bitmap, id uint32) {
	if *p == nil {
		return
	}
	(*p).Remove(id)
	if (*p).IsEmpty() {
		*p = nil
	}
}

// distinctScalars calls fn once for each distinct (by filter.Equal) scalar
// element of arr: null, bool, string or number. It may also call fn with
// non-scalars, which the callers ignore.
func distinctScalars(arr []any, fn func(any)) {
	if len(arr) <= 1 {
		for _, e := range arr {
			fn(e) // values.add and values.remove skip non-scalars
		}
		return
	}
	seen := make(map[any]struct{}, len(arr))
	for _, e := range arr {
		var k any
		switch x := e.(type) {
		case nil, bool, string:
			k = x
		case []any, map[string]any:
			continue
		default:
			n, ok := filter.AsNumber(e)
			if !ok {
				continue
			}
			k = n
		}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		fn(e)
	}
}
