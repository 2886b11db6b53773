package hnsw

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/luma-db/luma/internal/vector/distance"
)

// Metric selects how two vectors are compared.
type Metric uint8

const (
	// Dot ranks by inner product, higher is nearer. Cosine collections store
	// unit-length vectors and use Dot.
	Dot Metric = 1
	// L2 ranks by squared Euclidean distance, smaller is nearer.
	L2 Metric = 2
)

// String returns "dot" or "l2".
func (m Metric) String() string {
	switch m {
	case Dot:
		return "dot"
	case L2:
		return "l2"
	}
	return fmt.Sprintf("metric(%d)", uint8(m))
}

// Default build parameters, used when the corresponding Config field is zero.
const (
	DefaultM              = 16
	DefaultEfConstruction = 200
	// DefaultEf is the search candidate list size used when Search is
	// given ef <= 0.
	DefaultEf = 64
)

// Limits on the configuration and on ids.
const (
	// MaxDim is the largest supported vector dimension.
	MaxDim = 1 << 16
	// MaxM is the largest supported M.
	MaxM = 256
	// MaxID is the largest id Add accepts.
	MaxID = 1<<31 - 1
	// maxLevel caps the random level of a node (P(level >= 32) is 16^-32).
	maxLevel = 31
)

// Errors returned by the package. Test them with errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("hnsw: invalid config")
	// ErrDimMismatch reports a vector or query whose length is not Dim.
	ErrDimMismatch = errors.New("hnsw: dimension mismatch")
	// ErrInvalidVector reports a vector holding NaN or ±Inf.
	ErrInvalidVector = errors.New("hnsw: vector has NaN or Inf")
	// ErrDuplicateID reports an Add of an id that is already in the index.
	ErrDuplicateID = errors.New("hnsw: duplicate id")
	// ErrIDRange reports an id above MaxID.
	ErrIDRange = errors.New("hnsw: id out of range")
	// ErrCorrupt marks a serialised index that failed a checksum or a
	// structural check. Read wraps it with the details.
	ErrCorrupt = errors.New("hnsw: corrupt index file")
)

// Config holds the per-index parameters. Zero M and EfConstruction select the
// defaults.
type Config struct {
	// Dim is the vector dimension, 1..MaxDim.
	Dim int
	// Metric is Dot or L2.
	Metric Metric
	// M is the number of links a node gets per upper level when it is
	// inserted; level 0 keeps up to 2*M. 2..MaxM, default 16.
	M int
	// EfConstruction is the candidate list size used while inserting,
	// default 200. Values below M are raised to M.
	EfConstruction int
	// Seed makes the random levels reproducible: the level of a node is a
	// function of (Seed, id) only, whatever the insertion order.
	Seed int64
}

// withDefaults returns c with zero fields defaulted, or an error.
func (c Config) withDefaults() (Config, error) {
	if c.M == 0 {
		c.M = DefaultM
	}
	if c.EfConstruction == 0 {
		c.EfConstruction = DefaultEfConstruction
	}
	switch {
	case c.Dim < 1 || c.Dim > MaxDim:
		return c, fmt.Errorf("%w: dim %d not in 1..%d", ErrConfig, c.Dim, MaxDim)
	case c.Metric != Dot && c.Metric != L2:
		return c, fmt.Errorf("%w: unknown metric %d", ErrConfig, c.Metric)
	case c.M < 2 || c.M > MaxM:
		return c, fmt.Errorf("%w: M %d not in 2..%d", ErrConfig, c.M, MaxM)
	case c.EfConstruction < 0:
		return c, fmt.Errorf("%w: negative efConstruction", ErrConfig)
	}
	if c.EfConstruction < c.M {
		c.EfConstruction = c.M
	}
	return c, nil
}

// Result is one search hit. Score is the metric's own value: the inner
// product for Dot (higher is nearer), the squared Euclidean distance for L2
// (smaller is nearer). Results are ordered nearest first.
type Result struct {
	ID    uint32
	Score float32
}

// Node states, kept per row in page.state.
const (
	stateAbsent   = 0 // never added
	stateReserved = 1 // Add in progress: vector not yet written
	stateLevel0   = 2 // present; state-stateLevel0 is the node's top level
)

// page is a fixed block of rows. Pages are allocated whole and never move or
// shrink, so a row's vector and links stay at one address for the index's
// life (see doc.go).
type page struct {
	vecs   []float32    // rows*dim: the vectors, row-major
	links0 []uint32     // rows*stride0: per row [count, n_0 .. n_{2M-1}]
	upper  [][]uint32   // per row: levels 1..top, each [count, n_0 .. n_{M-1}]
	state  []uint32     // per row: stateAbsent, stateReserved or stateLevel0+level
	locks  []sync.Mutex // per row: serialises writers of the row's links
}

// Index is an HNSW graph over float32 vectors addressed by dense uint32 ids.
// Add and Search may be called concurrently from any number of goroutines;
// see doc.go for what is locked and what is not.
type Index struct {
	dim       int
	metric    Metric
	m         int // links per upper level
	m0        int // links at level 0 (2*m)
	efc       int
	seed      uint64
	ml        float64 // level multiplier 1/ln(M)
	stride0   int     // 1 + m0
	strideU   int     // 1 + m
	pfLines   int     // cache lines of a vector to prefetch, 1..8
	pageShift uint
	pageMask  uint32

	// pages is the page directory. It only grows: growMu serialises
	// growers, who write the new page into spare capacity (or a copied
	// backing array) and then publish a longer slice header. Readers load
	// it once and reload when they meet an id past its end.
	pages  atomic.Pointer[[]*page]
	growMu sync.Mutex

	// entry is the entry point: 0 when empty, else
	// 1<<63 | level<<32 | id. epMu serialises inserts that raise the top
	// level (held for the whole of such an insert, as rare as 1/M^level).
	entry atomic.Uint64
	epMu  sync.Mutex

	count atomic.Int64 // nodes added

	// snapMu is read-locked by Add and write-locked by WriteTo, so that a
	// checkpoint sees no half-inserted node. Search never takes it.
	snapMu sync.RWMutex

	searchers sync.Pool // *searcher
}

// New returns an empty index. capacityHint, the expected number of ids, sizes
// the arena pages; it is not a limit.
func New(cfg Config, capacityHint int) (*Index, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ix := newIndex(cfg, capacityHint)
	empty := make([]*page, 0, 8)
	ix.pages.Store(&empty)
	return ix, nil
}

func newIndex(cfg Config, capacityHint int) *Index {
	ix := &Index{
		dim:    cfg.Dim,
		metric: cfg.Metric,
		m:      cfg.M,
		m0:     2 * cfg.M,
		efc:    cfg.EfConstruction,
		seed:   uint64(cfg.Seed),
		ml:     1 / math.Log(float64(cfg.M)),
	}
	ix.stride0 = 1 + ix.m0
	ix.strideU = 1 + ix.m
	ix.pfLines = min(8, (4*cfg.Dim+63)/64)
	ix.pageShift = pageShiftFor(capacityHint, cfg.Dim)
	ix.pageMask = 1<<ix.pageShift - 1
	return ix
}

// pageShiftFor picks log2(rows per page): the hint rounded up to a power of
// two, at least 64 rows, and at most 64 Ki rows or about 64 MiB of vectors.
func pageShiftFor(hint, dim int) uint {
	shift := uint(6)
	if hint > 1 {
		shift = uint(bits.Len(uint(hint - 1)))
	}
	for shift > 6 && (shift > 16 || (1<<shift)*dim*4 > 64<<20) {
		shift--
	}
	if shift < 6 {
		shift = 6
	}
	return shift
}

// Config returns the index's configuration, defaults filled in.
func (ix *Index) Config() Config {
	return Config{Dim: ix.dim, Metric: ix.metric, M: ix.m, EfConstruction: ix.efc, Seed: int64(ix.seed)}
}

// Dim returns the vector dimension.
func (ix *Index) Dim() int { return ix.dim }

// Len returns the number of nodes added (including those still being linked
// by a concurrent Add).
func (ix *Index) Len() int { return int(ix.count.Load()) }

// Has reports whether id has been added.
func (ix *Index) Has(id uint32) bool {
	p, row := ix.lookup(id)
	return p != nil && atomic.LoadUint32(&p.state[row]) >= stateLevel0
}

// Vector returns the stored vector of id, or nil when id was never added.
// The slice aliases the arena: callers must not modify it.
func (ix *Index) Vector(id uint32) []float32 {
	p, row := ix.lookup(id)
	if p == nil || atomic.LoadUint32(&p.state[row]) < stateLevel0 {
		return nil
	}
	off := row * ix.dim
	return p.vecs[off : off+ix.dim : off+ix.dim]
}

// MemoryBytes estimates the heap memory held by the index: arena pages
// (vectors, level-0 links, per-row state and locks), upper-level link lists
// and the page directory. Search scratch space is not counted.
func (ix *Index) MemoryBytes() int64 {
	pgs := *ix.pages.Load()
	rows := int64(1) << ix.pageShift
	perRow := int64(ix.dim)*4 + int64(ix.stride0)*4 + 24 + 4 + 8
	total := int64(cap(pgs))*8 + int64(len(pgs))*(rows*perRow+128)
	for _, p := range pgs {
		for i := range p.upper {
			if atomic.LoadUint32(&p.state[i]) >= stateLevel0 {
				total += int64(cap(p.upper[i])) * 4
			}
		}
	}
	return total
}

// lookup returns the page and row of id, or nil when id is past the arena.
func (ix *Index) lookup(id uint32) (*page, int) {
	pgs := *ix.pages.Load()
	pi := int(id >> ix.pageShift)
	if pi >= len(pgs) {
		return nil, 0
	}
	return pgs[pi], int(id & ix.pageMask)
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
		p := ix.newPage()
		if len(pgs) < cap(pgs) {
			// The slot past len is invisible to readers until the new
			// header is published below.
			pgs = append(pgs, p)
		} else {
			next := make([]*page, len(pgs), 2*cap(pgs)+8)
			copy(next, pgs)
			pgs = append(next, p)
		}
		published := pgs
		ix.pages.Store(&published)
	}
	return pgs
}

func (ix *Index) newPage() *page {
	rows := 1 << ix.pageShift
	return &page{
		vecs:   distance.Make(rows * ix.dim),
		links0: make([]uint32, rows*ix.stride0),
		upper:  make([][]uint32, rows),
		state:  make([]uint32, rows),
		locks:  make([]sync.Mutex, rows),
	}
}

// dirFor returns a directory that covers id, reloading *pgs when id was
// published after *pgs was loaded. Every id reached through a link or the
// entry point has its page published before it, so one reload suffices.
func (ix *Index) dirFor(pgs *[]*page, id uint32) *page {
	pi := int(id >> ix.pageShift)
	if pi >= len(*pgs) {
		*pgs = *ix.pages.Load()
	}
	return (*pgs)[pi]
}

// vecOf returns the vector of id.
func (ix *Index) vecOf(pgs *[]*page, id uint32) []float32 {
	p := ix.dirFor(pgs, id)
	off := int(id&ix.pageMask) * ix.dim
	return p.vecs[off : off+ix.dim : off+ix.dim]
}

// dist is the internal distance, smaller is nearer: squared L2, or the
// negated inner product for Dot.
func (ix *Index) dist(a, b []float32) float32 {
	if ix.metric == L2 {
		return distance.L2Sq(a, b)
	}
	return -distance.Dot(a, b)
}

// score converts an internal distance to Result.Score.
func (ix *Index) score(d float32) float32 {
	if ix.metric == L2 {
		return d
	}
	return -d
}

// levelFor draws the level of id: floor(-ln(u) * mL) with u uniform in
// (0,1] derived from splitmix64(seed, id), so levels do not depend on the
// insertion order or on a shared random source.
func (ix *Index) levelFor(id uint32) int {
	z := ix.seed + uint64(id)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	u := (float64(z>>11) + 1) / (1 << 53) // (0, 1]
	l := int(-math.Log(u) * ix.ml)
	if l > maxLevel {
		l = maxLevel
	}
	return l
}

// loadEntry decodes the entry point; ok is false for an empty index.
func (ix *Index) loadEntry() (id uint32, level int, ok bool) {
	e := ix.entry.Load()
	if e == 0 {
		return 0, 0, false
	}
	return uint32(e), int(e>>32) & 0x7fffffff, true
}

func packEntry(id uint32, level int) uint64 {
	return 1<<63 | uint64(level)<<32 | uint64(id)
}

// checkVector validates the length and values of v.
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
