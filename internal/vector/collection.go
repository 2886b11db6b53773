package vector

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/luma-db/luma/internal/filter/bitmapindex"
	"github.com/luma-db/luma/internal/vector/flat"
	"github.com/luma-db/luma/internal/vector/hnsw"
)

// Collection is the in-memory side of one collection: its segments, the
// tombstone bitset, the metadata index and counters. Everything here is
// derived from the stored records (and checkpoint files).
//
// Writers: the committer goroutine, through AfterCommit hooks, is the only
// one that appends slots, sets tombstones, updates the metadata index and
// replaces the segment list (vacuum swaps it from a hook too). Readers
// (searches, get, detail) never lock against it: they load the segment list
// once and each segment's published count.
type Collection struct {
	st     *Store
	cfg    collConfig
	cfgRaw []byte // the stored config record, compared by txCheck
	dir    string // checkpoint directory; "" = no files (memory mode)

	segs atomic.Pointer[[]*segment]
	dead bitset
	meta *bitmapindex.Index

	live    atomic.Int64  // live vectors
	slotsN  atomic.Int64  // slots in segments (live + tombstoned): total_records
	writes  atomic.Uint64 // add/upsert/update items since creation
	applied atomic.Uint64 // offset of the last event applied
	bytes   atomic.Int64  // approximate stored bytes of the live records
	nextSeq int           // next segment display number; committer/loader only

	// The indexer goroutine (see indexer.go).
	kick     chan struct{}
	stopc    chan struct{}
	donec    chan struct{}
	stopOnce sync.Once
	progMu   sync.Mutex
	progCh   chan struct{} // closed and replaced whenever the indexer progresses

	ckMu    sync.Mutex // serialises checkpoint writes and vacuum swaps
	vacMu   sync.Mutex // one vacuum at a time
	vacAuto atomic.Bool
	dropped atomic.Bool
}

// Name returns the collection's name.
func (c *Collection) Name() string { return c.cfg.Name }

// Dim returns the vector dimension.
func (c *Collection) Dim() int { return c.cfg.Dim }

// Metric returns the metric.
func (c *Collection) Metric() Metric { return c.cfg.Metric }

func newCollection(st *Store, cfg collConfig, dir string) *Collection {
	c := &Collection{
		st:     st,
		cfg:    cfg,
		dir:    dir,
		meta:   bitmapindex.New(nil),
		kick:   make(chan struct{}, 1),
		stopc:  make(chan struct{}),
		donec:  make(chan struct{}),
		progCh: make(chan struct{}),
	}
	empty := []*segment{}
	c.segs.Store(&empty)
	return c
}

// newSegment returns an empty regular segment starting at lo.
func (c *Collection) newSegment(lo uint32, capacity uint32) *segment {
	sg := &segment{seq: c.nextSeq, lo: lo, capacity: capacity, slots: newSegmentSlots(capacity)}
	c.nextSeq++
	hint := int(min(capacity, 1024))
	a, err := flat.New(flat.Config{Dim: c.cfg.Dim, Metric: c.cfg.Metric.hnsw()}, hint)
	if err != nil {
		panic("vector: flat config validated at creation: " + err.Error())
	}
	sg.arena.Store(a)
	if c.cfg.Index == IndexHNSW {
		sg.graph = c.newGraph(hint)
	}
	return sg
}

func (c *Collection) newGraph(hint int) *hnsw.Index {
	g, err := hnsw.New(hnsw.Config{
		Dim: c.cfg.Dim, Metric: c.cfg.Metric.hnsw(), M: c.cfg.M, EfConstruction: c.cfg.EfC,
		Seed: int64(c.cfg.UID),
	}, hint)
	if err != nil {
		panic("vector: hnsw config validated at creation: " + err.Error())
	}
	return g
}

// segments returns the current segment list (do not modify).
func (c *Collection) segments() []*segment { return *c.segs.Load() }

// locate returns the segment owning iid (the one with the greatest lo ≤
// iid) in segs, or nil.
func locate(segs []*segment, iid uint32) *segment {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].lo > iid })
	if i == 0 {
		return nil
	}
	return segs[i-1]
}

// slotBytes approximates the storage bytes of a live record (record key
// and value, vector key and value).
func (c *Collection) slotBytes(s *slot) int64 {
	return int64(2*(len(c.cfg.Name)+8) + len(s.id) + len(s.meta) + 4*c.cfg.Dim)
}

// applyAppend publishes a new slot at iid. Runs in the committer (or the
// loader). iid must be the next iid of the collection.
func (c *Collection) applyAppend(iid uint32, id string, vec []float32, meta []byte, metaV any) {
	segs := c.segments()
	var sg *segment
	if len(segs) > 0 {
		sg = segs[len(segs)-1]
	}
	if sg == nil || sg.sealed.Load() {
		lo := iid
		if sg != nil {
			lo = sg.lo + sg.n.Load()
			if sg.iids != nil {
				lo = iid // a mapped segment is never the append target
			}
		}
		if lo != iid {
			c.st.log.Error("vector: append out of order; restart to rebuild", "collection", c.cfg.Name, "iid", iid, "expected", lo)
		}
		sg = c.newSegment(iid, uint32(c.cfg.SegmentSize))
		next := append(append([]*segment(nil), segs...), sg)
		c.segs.Store(&next)
	}
	local := sg.n.Load()
	if sg.lo+local != iid {
		c.st.log.Error("vector: append out of order; restart to rebuild", "collection", c.cfg.Name, "iid", iid, "expected", sg.lo+local)
		return
	}
	s := slot{id: id, meta: meta}
	sg.setSlot(local, s)
	if err := sg.arena.Load().Add(local, vec); err != nil {
		c.st.log.Error("vector: arena add failed", "collection", c.cfg.Name, "iid", iid, "err", err)
	}
	sg.n.Store(local + 1)
	if local+1 >= sg.capacity {
		sg.sealed.Store(true)
	}
	if metaV == nil && meta != nil {
		metaV = decodeMeta(meta)
	}
	c.meta.Add(iid, metaV)
	c.live.Add(1)
	c.slotsN.Add(1)
	c.bytes.Add(c.slotBytes(&s))
	c.poke()
}

// applyTombstone marks iid deleted. Runs in the committer.
func (c *Collection) applyTombstone(iid uint32) {
	if !c.dead.set(iid) {
		return
	}
	sg := locate(c.segments(), iid)
	if sg == nil {
		return
	}
	local, ok := sg.localOf(iid)
	if !ok || local >= sg.n.Load() {
		return
	}
	sg.deleted.Add(1)
	s := sg.slot(local)
	c.meta.Remove(iid, decodeMeta(s.meta))
	c.live.Add(-1)
	c.bytes.Add(-c.slotBytes(s))
}

// decodeMeta decodes stored meta JSON for the metadata index, numbers as
// json.Number so that large integers compare exactly. nil is null.
func decodeMeta(meta []byte) any {
	if meta == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(meta))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return v
}

// poke wakes the indexer without blocking.
func (c *Collection) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// lag returns the vectors waiting for graph insertion.
func (c *Collection) lag() int {
	n := 0
	for _, sg := range c.segments() {
		n += sg.lag()
	}
	return n
}

// progress returns a channel closed at the indexer's next progress.
func (c *Collection) progress() <-chan struct{} {
	c.progMu.Lock()
	defer c.progMu.Unlock()
	return c.progCh
}

func (c *Collection) signalProgress() {
	c.progMu.Lock()
	close(c.progCh)
	c.progCh = make(chan struct{})
	c.progMu.Unlock()
}

// prepareVector validates v against the collection and returns the index
// form (normalised for cosine and dot) and the stored form (as sent for
// cosine and l2, normalised for dot).
func (c *Collection) prepareVector(v []float32) (index, stored []float32, err error) {
	if len(v) != c.cfg.Dim {
		return nil, nil, ErrDimMismatch
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, nil, ErrNonFinite
		}
	}
	if !c.cfg.Metric.normalized() {
		return v, v, nil
	}
	index = normalize(v)
	if c.cfg.Metric == Dot {
		return index, index, nil
	}
	return index, v, nil
}

// normalize returns a unit-length copy of v, computed in float64 (squares of
// float32 values cannot overflow it); a zero vector stays zero.
func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if s == 0 {
		return out
	}
	inv := 1 / math.Sqrt(s)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}
