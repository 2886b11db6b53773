package flat

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/luma-db/luma/internal/vector/distance"
	"github.com/luma-db/luma/internal/vector/hnsw"
)

// Metric selects how vectors are compared; it is hnsw.Metric, so one value
// configures either index kind.
type Metric = hnsw.Metric

// The metrics, as in package hnsw.
const (
	// Dot ranks by inner product, higher is nearer.
	Dot = hnsw.Dot
	// L2 ranks by squared Euclidean distance, smaller is nearer.
	L2 = hnsw.L2
)

// Result is one hit, the same type as hnsw.Result: Score is the inner
// product for Dot and the squared Euclidean distance for L2.
type Result = hnsw.Result

// Limits.
const (
	// MaxDim is the largest supported vector dimension.
	MaxDim = hnsw.MaxDim
	// MaxID is the largest id Add accepts.
	MaxID = hnsw.MaxID
)

// Errors returned by the package. Test them with errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("flat: invalid config")
	// ErrDimMismatch reports a vector or query whose length is not Dim.
	ErrDimMismatch = errors.New("flat: dimension mismatch")
	// ErrInvalidVector reports a vector holding NaN or ±Inf.
	ErrInvalidVector = errors.New("flat: vector has NaN or Inf")
	// ErrDuplicateID reports an Add of an id already in the index.
	ErrDuplicateID = errors.New("flat: duplicate id")
	// ErrIDRange reports an id above MaxID.
	ErrIDRange = errors.New("flat: id out of range")
	// ErrCorrupt marks a serialised index that failed a checksum or a
	// structural check.
	ErrCorrupt = errors.New("flat: corrupt index file")
)

// Config holds the per-index parameters.
type Config struct {
	// Dim is the vector dimension, 1..MaxDim.
	Dim int
	// Metric is Dot or L2.
	Metric Metric
}

func (c Config) validate() error {
	switch {
	case c.Dim < 1 || c.Dim > MaxDim:
		return fmt.Errorf("%w: dim %d not in 1..%d", ErrConfig, c.Dim, MaxDim)
	case c.Metric != Dot && c.Metric != L2:
		return fmt.Errorf("%w: unknown metric %d", ErrConfig, c.Metric)
	}
	return nil
}

// Row states.
const (
	stateAbsent   = 0
	stateReserved = 1 // Add in progress
	statePresent  = 2
)

// page is a fixed block of rows that never moves once allocated.
type page struct {
	vecs  []float32 // rows*dim, row-major
	state []uint32  // per row: stateAbsent, stateReserved or statePresent
}

// Index is an exact (brute-force) vector index over dense uint32 ids. Add
// and the searches may run concurrently; see doc.go.
type Index struct {
	dim       int
	metric    Metric
	pageShift uint
	pageMask  uint32

	// pages is the page directory; it only grows (growMu serialises
	// growers) and is published with an atomic store.
	pages  atomic.Pointer[[]*page]
	growMu sync.Mutex
	count  atomic.Int64
	// snapMu is read-locked by Add and write-locked by WriteTo.
	snapMu sync.RWMutex
}

// New returns an empty index; capacityHint sizes the arena pages and is not
// a limit.
func New(cfg Config, capacityHint int) (*Index, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ix := newIndex(cfg, capacityHint)
	empty := make([]*page, 0, 8)
	ix.pages.Store(&empty)
	return ix, nil
}

func newIndex(cfg Config, hint int) *Index {
	shift := uint(6)
	if hint > 1 {
		shift = uint(bits.Len(uint(hint - 1)))
	}
	for shift > 6 && (shift > 16 || (1<<shift)*cfg.Dim*4 > 64<<20) {
		shift--
	}
	shift = max(shift, 6)
	return &Index{dim: cfg.Dim, metric: cfg.Metric, pageShift: shift, pageMask: 1<<shift - 1}
}

// Config returns the index's configuration.
func (ix *Index) Config() Config { return Config{Dim: ix.dim, Metric: ix.metric} }

// Dim returns the vector dimension.
func (ix *Index) Dim() int { return ix.dim }

// Len returns the number of vectors added.
func (ix *Index) Len() int { return int(ix.count.Load()) }

// Has reports whether id has been added.
func (ix *Index) Has(id uint32) bool {
	p, row := ix.lookup(id)
	return p != nil && atomic.LoadUint32(&p.state[row]) == statePresent
}

// Vector returns the stored vector of id, or nil when id was never added.
// The slice aliases the arena: callers must not modify it.
func (ix *Index) Vector(id uint32) []float32 {
	p, row := ix.lookup(id)
	if p == nil || atomic.LoadUint32(&p.state[row]) != statePresent {
		return nil
	}
	off := row * ix.dim
	return p.vecs[off : off+ix.dim : off+ix.dim]
}

// MemoryBytes estimates the heap memory held by the index.
func (ix *Index) MemoryBytes() int64 {
	pgs := *ix.pages.Load()
	rows := int64(1) << ix.pageShift
	return int64(cap(pgs))*8 + int64(len(pgs))*(rows*(int64(ix.dim)*4+4)+64)
}

func (ix *Index) lookup(id uint32) (*page, int) {
	pgs := *ix.pages.Load()
	pi := int(id >> ix.pageShift)
	if pi >= len(pgs) {
		return nil, 0
	}
	return pgs[pi], int(id & ix.pageMask)
}

func (ix *Index) newPage() *page {
	rows := 1 << ix.pageShift
	return &page{vecs: distance.Make(rows * ix.dim), state: make([]uint32, rows)}
}

// grow makes sure the arena has a page for id and returns the directory.
func (ix *Index) grow(id uint32) []*page {
	pgs := *ix.pages.Load()
	need := int(id>>ix.pageShift) + 1
	if need <= len(pgs) {
		return pgs
	}
	ix.growMu.Lock()
	defer ix.growMu.Unlock()
	pgs = *ix.pages.Load()
	for len(pgs) < need {
		if len(pgs) == cap(pgs) {
			next := make([]*page, len(pgs), 2*cap(pgs)+8)
			copy(next, pgs)
			pgs = next
		}
		// The slot past len is invisible to readers until published.
		pgs = append(pgs, ix.newPage())
		published := pgs
		ix.pages.Store(&published)
	}
	return pgs
}

func (ix *Index) checkVector(v []float32) error {
	if len(v) != ix.dim {
		return fmt.Errorf("%w: got %d, index has %d", ErrDimMismatch, len(v), ix.dim)
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return ErrInvalidVector
		}
	}
	return nil
}

// Add stores a copy of vec under id. id must be new (ErrDuplicateID) and at
// most MaxID; vec must have Dim finite values. Safe for concurrent use with
// other Adds and with the searches.
func (ix *Index) Add(id uint32, vec []float32) error {
	if id > MaxID {
		return fmt.Errorf("%w: %d > %d", ErrIDRange, id, MaxID)
	}
	if err := ix.checkVector(vec); err != nil {
		return err
	}
	ix.snapMu.RLock()
	defer ix.snapMu.RUnlock()
	pgs := ix.grow(id)
	p := pgs[id>>ix.pageShift]
	row := int(id & ix.pageMask)
	if !atomic.CompareAndSwapUint32(&p.state[row], stateAbsent, stateReserved) {
		return fmt.Errorf("%w: %d", ErrDuplicateID, id)
	}
	copy(p.vecs[row*ix.dim:(row+1)*ix.dim], vec)
	// Publishing the state orders the vector write before any reader
	// that loads statePresent.
	atomic.StoreUint32(&p.state[row], statePresent)
	ix.count.Add(1)
	return nil
}

// item is a candidate with its internal distance (smaller is nearer).
type item struct {
	d  float32
	id uint32
}

// worse orders items farthest first, ties by larger id, so that results
// are deterministic.
func worse(a, b item) bool { return a.d > b.d || (a.d == b.d && a.id > b.id) }

// topK keeps the k nearest items seen in a max-heap.
type topK struct {
	k int
	h []item
}

func (t *topK) push(x item) {
	h := t.h
	if len(h) == t.k {
		if !worse(h[0], x) {
			return
		}
		siftDown(h, x)
		return
	}
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !worse(x, h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
	t.h = h
}

// siftDown replaces the root of the max-heap h by x.
func siftDown(h []item, x item) {
	n := len(h)
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && worse(h[r], h[c]) {
			c = r
		}
		if !worse(h[c], x) {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}

// worst is the distance a new item must beat, +Inf while not full.
func (t *topK) worst() float32 {
	if len(t.h) < t.k {
		return float32(math.Inf(1))
	}
	return t.h[0].d
}

func (ix *Index) results(t *topK) []Result {
	slices.SortFunc(t.h, func(a, b item) int {
		if c := cmp.Compare(a.d, b.d); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]Result, len(t.h))
	for i, it := range t.h {
		s := it.d
		if ix.metric == Dot {
			s = -s
		}
		out[i] = Result{ID: it.id, Score: s}
	}
	return out
}

func (ix *Index) dist(q, v []float32) float32 {
	if ix.metric == L2 {
		return distance.L2Sq(q, v)
	}
	return -distance.Dot(q, v)
}

func (ix *Index) checkQuery(q []float32) error {
	if len(q) != ix.dim {
		return fmt.Errorf("%w: query has %d, index has %d", ErrDimMismatch, len(q), ix.dim)
	}
	for _, x := range q {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return ErrInvalidVector
		}
	}
	return nil
}

// Search returns the k nearest stored vectors to q, nearest first, ties by
// smaller id. ef is ignored (the search is exact); it is there so that both
// index kinds share one method set. When allow is non-nil only ids for
// which it returns true are considered. It returns nil for k <= 0 and
// ErrDimMismatch or ErrInvalidVector for a bad query. Vectors whose Add has
// not returned may or may not be seen.
func (ix *Index) Search(q []float32, k, ef int, allow func(uint32) bool) ([]Result, error) {
	_ = ef
	if err := ix.checkQuery(q); err != nil {
		return nil, err
	}
	if k <= 0 {
		return nil, nil
	}
	t := &topK{k: k, h: make([]item, 0, min(k, ix.Len()+1))}
	for pi, p := range *ix.pages.Load() {
		base := uint32(pi) << ix.pageShift
		for r := range p.state {
			if atomic.LoadUint32(&p.state[r]) != statePresent {
				continue
			}
			id := base + uint32(r)
			if allow != nil && !allow(id) {
				continue
			}
			d := ix.dist(q, p.vecs[r*ix.dim:(r+1)*ix.dim])
			if d <= t.worst() {
				t.push(item{d, id})
			}
		}
	}
	return ix.results(t), nil
}

// SearchIDs returns the k nearest to q among ids only: the exact path of a
// filter planner when the filter matches few ids. Ids that are absent or
// listed twice are skipped. Errors are those of Search.
func (ix *Index) SearchIDs(q []float32, k int, ids []uint32) ([]Result, error) {
	if err := ix.checkQuery(q); err != nil {
		return nil, err
	}
	if k <= 0 {
		return nil, nil
	}
	t := &topK{k: k, h: make([]item, 0, min(k, len(ids)))}
	pgs := *ix.pages.Load()
	seen := make(map[uint32]struct{}, 0)
	sorted := slices.IsSorted(ids)
	var prev uint32
	for i, id := range ids {
		pi := int(id >> ix.pageShift)
		if pi >= len(pgs) {
			continue
		}
		if sorted {
			if i > 0 && id == prev {
				continue
			}
			prev = id
		} else {
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
		}
		p := pgs[pi]
		r := int(id & ix.pageMask)
		if atomic.LoadUint32(&p.state[r]) != statePresent {
			continue
		}
		d := ix.dist(q, p.vecs[r*ix.dim:(r+1)*ix.dim])
		if d <= t.worst() {
			t.push(item{d, id})
		}
	}
	return ix.results(t), nil
}
