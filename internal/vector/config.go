package vector

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"runtime"

	"github.com/luma-db/luma/internal/metrics"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/vector/hnsw"
)

// Metric is a collection's similarity. Scores are always "higher is better".
type Metric string

const (
	// Cosine: score = cos(q, v), 0 when either norm is 0. Vectors are stored
	// as sent; the index holds unit-length copies.
	Cosine Metric = "cosine"
	// Dot: stored and query vectors are L2-normalised, so the score is the
	// cosine too (CONTRACT.md §6, §9 #16); get returns the normalised vector.
	Dot Metric = "dot"
	// L2 (Luma extension): score = −‖q − v‖, the negated Euclidean distance.
	L2 Metric = "l2"
)

// ParseMetric accepts "cosine", "dot" and "l2" exactly.
func ParseMetric(s string) (Metric, error) {
	switch Metric(s) {
	case Cosine, Dot, L2:
		return Metric(s), nil
	}
	return "", fmt.Errorf("%w: %q (use cosine, dot or l2)", ErrInvalidMetric, s)
}

// normalized reports whether the index holds unit-length vectors.
func (m Metric) normalized() bool { return m != L2 }

func (m Metric) hnsw() hnsw.Metric {
	if m == L2 {
		return hnsw.L2
	}
	return hnsw.Dot
}

// IndexKind is how a collection's sealed segments are searched.
type IndexKind string

const (
	// IndexHNSW builds an HNSW graph per segment (the default).
	IndexHNSW IndexKind = "hnsw"
	// IndexFlat scans every vector: exact and slower on large collections.
	IndexFlat IndexKind = "flat"
)

// IndexSettings are a collection's index parameters. Zero fields take the
// store's defaults at creation.
type IndexSettings struct {
	Kind           IndexKind `json:"index"`
	M              int       `json:"m"`
	EfConstruction int       `json:"ef_construction"`
	EfSearch       int       `json:"ef_search"`
}

// Ranges accepted for the index settings (as the server's config).
const (
	minM, maxM         = 2, 128
	minEfc, maxEfc     = 4, 4096
	minEfs, maxEfs     = 1, 65536
	minSegmentSize     = 16
	defaultSegmentSize = 65536
)

func (s IndexSettings) validate() error {
	switch {
	case s.Kind != IndexHNSW && s.Kind != IndexFlat:
		return fmt.Errorf("%w: index must be \"hnsw\" or \"flat\", got %q", ErrInvalidIndex, s.Kind)
	case s.M < minM || s.M > maxM:
		return fmt.Errorf("%w: m must be in %d..%d, got %d", ErrInvalidIndex, minM, maxM, s.M)
	case s.EfConstruction < minEfc || s.EfConstruction > maxEfc:
		return fmt.Errorf("%w: ef_construction must be in %d..%d, got %d", ErrInvalidIndex, minEfc, maxEfc, s.EfConstruction)
	case s.EfSearch < minEfs || s.EfSearch > maxEfs:
		return fmt.Errorf("%w: ef_search must be in %d..%d, got %d", ErrInvalidIndex, minEfs, maxEfs, s.EfSearch)
	}
	return nil
}

// collConfig is the stored configuration of a collection ('v' 'C' name).
type collConfig struct {
	Name        string    `json:"name"`
	Dim         int       `json:"dim"`
	Metric      Metric    `json:"metric"`
	Index       IndexKind `json:"index"`
	M           int       `json:"m"`
	EfC         int       `json:"ef_construction"`
	EfS         int       `json:"ef_search"`
	SegmentSize int       `json:"segment_size"`
	CreatedAtMs uint64    `json:"created_at_ms"`
	// UID is the offset of the collection's creation event: it tells a
	// collection from an earlier one of the same name.
	UID uint64 `json:"uid"`
}

func (c collConfig) settings() IndexSettings {
	return IndexSettings{Kind: c.Index, M: c.M, EfConstruction: c.EfC, EfSearch: c.EfS}
}

func decodeConfig(v []byte) (collConfig, error) {
	var c collConfig
	if err := json.Unmarshal(v, &c); err != nil {
		return c, fmt.Errorf("%w: collection config: %v", ErrPersistence, err)
	}
	if c.Dim < 1 || c.SegmentSize < minSegmentSize {
		return c, fmt.Errorf("%w: collection config: dim %d, segment size %d", ErrPersistence, c.Dim, c.SegmentSize)
	}
	if _, err := ParseMetric(string(c.Metric)); err != nil {
		return c, fmt.Errorf("%w: collection config: %v", ErrPersistence, err)
	}
	if err := c.settings().validate(); err != nil {
		return c, fmt.Errorf("%w: collection config: %v", ErrPersistence, err)
	}
	return c, nil
}

// Limits bound names, vectors, metadata and batches (CONTRACT.md §7).
type Limits struct {
	MaxCollectionLen int   // bytes, default 64
	MaxIDLen         int   // bytes, default 128
	MaxVectorDim     int   // default 4096
	MaxJSONBytes     int64 // meta and filters, compact; default 100 MiB
	MaxK             int   // default 256
	MaxBatch         int   // upsert_batch / delete_batch items, default 256
}

// Options configure Open.
type Options struct {
	Limits Limits
	// Defaults are the index settings of collections created without them.
	Defaults IndexSettings
	// SegmentSize is the number of vectors after which a segment is sealed
	// (default 65536). It is fixed per collection at creation.
	SegmentSize int
	// DataDir holds checkpoint files (vectors/<collection>/...). Empty:
	// no files are written and indexes are rebuilt from records at start.
	DataDir string
	// BuildThreads bounds the goroutines inserting into HNSW graphs across
	// all collections (default GOMAXPROCS).
	BuildThreads int
	// SearchThreads bounds the goroutines of one search probing segments in
	// parallel (default GOMAXPROCS); ParallelProbe enables it once a
	// collection has at least ParallelProbeMinSegments segments.
	SearchThreads            int
	ParallelProbe            bool
	ParallelProbeMinSegments int
	// MaxIndexLag bounds how many vectors of a collection may wait for
	// graph insertion; writes beyond it are answered only once the indexer
	// has caught up (their data is already durable). 0 = 4 × SegmentSize,
	// negative = unbounded.
	MaxIndexLag int
	// TombstoneRatio triggers an automatic vacuum of a collection when
	// deleted/total slots of its segments reaches it (0 = never).
	TombstoneRatio float64
	// Collections, when non-nil, loads only these collections (the offline
	// vacuum command).
	Collections []string
	// State is the state store, read for the manifest keys.
	State   *state.Store
	Metrics *metrics.Metrics
	Logger  *slog.Logger

	// exactThreshold, when set, replaces the planner's threshold (tests
	// exercise the filtered graph path on small collections with it).
	exactThreshold int
}

// EnsureDefaults fills zero fields.
func (o *Options) EnsureDefaults() {
	l := &o.Limits
	if l.MaxCollectionLen <= 0 {
		l.MaxCollectionLen = 64
	}
	if l.MaxIDLen <= 0 {
		l.MaxIDLen = 128
	}
	if l.MaxVectorDim <= 0 {
		l.MaxVectorDim = 4096
	}
	l.MaxVectorDim = min(l.MaxVectorDim, hnsw.MaxDim)
	if l.MaxJSONBytes <= 0 {
		l.MaxJSONBytes = 100 << 20
	}
	if l.MaxK <= 0 {
		l.MaxK = 256
	}
	if l.MaxBatch <= 0 {
		l.MaxBatch = 256
	}
	d := &o.Defaults
	if d.Kind == "" {
		d.Kind = IndexHNSW
	}
	if d.M == 0 {
		d.M = hnsw.DefaultM
	}
	if d.EfConstruction == 0 {
		d.EfConstruction = hnsw.DefaultEfConstruction
	}
	if d.EfSearch == 0 {
		d.EfSearch = hnsw.DefaultEf
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = defaultSegmentSize
	}
	o.SegmentSize = max(o.SegmentSize, minSegmentSize)
	if o.BuildThreads <= 0 {
		o.BuildThreads = runtime.GOMAXPROCS(0)
	}
	if o.SearchThreads <= 0 {
		o.SearchThreads = runtime.GOMAXPROCS(0)
	}
	if o.ParallelProbeMinSegments <= 0 {
		o.ParallelProbeMinSegments = 4
	}
	if o.MaxIndexLag == 0 {
		o.MaxIndexLag = 4 * o.SegmentSize
	}
	if o.MaxIndexLag < 0 {
		o.MaxIndexLag = math.MaxInt
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// CheckName validates a collection name: 1..MaxCollectionLen bytes of
// [A-Za-z0-9_.-], not starting with '.' (CONTRACT.md §9 #11). The length is
// checked first, so an over-long name is ErrCollectionTooLong whatever it
// holds.
func (l Limits) CheckName(name string) error {
	if len(name) > l.MaxCollectionLen {
		return ErrCollectionTooLong
	}
	if name == "" || name[0] == '.' {
		return ErrInvalidName
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return ErrInvalidName
		}
	}
	return nil
}

// CheckID validates a vector id (any string up to MaxIDLen bytes).
func (l Limits) CheckID(id string) error {
	if len(id) > l.MaxIDLen {
		return ErrIDTooLong
	}
	return nil
}

// CheckVectorLen rejects vectors longer than MaxVectorDim.
func (l Limits) CheckVectorLen(n int) error {
	if n > l.MaxVectorDim {
		return ErrVectorTooLarge
	}
	return nil
}
