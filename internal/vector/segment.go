package vector

// Segments. A collection's internal ids (iids) are allocated densely, in
// commit order, and never reused. The iid space is cut into segments: the
// segment starting at lo owns every iid from lo up to the next segment's lo.
//
//   - A regular segment numbers its slots by iid: local = iid − lo. The last
//     segment is the active one: the committer appends to it (AfterCommit),
//     and it is sealed when it holds SegmentSize slots.
//   - A mapped segment, built by vacuum, holds only the iids that were live
//     when it was built, densely numbered: local = position in iids.
//
// A slot is immutable once published (n is stored after the slot is
// written): an update is a tombstone plus a new slot. Deletes set a bit in
// the collection's tombstone bitset (keyed by iid), so a segment's
// tombstones are the bits of its iids.
//
// Vectors live in the segment's arena (a flat index, exact scans) until the
// graph holds them: for HNSW segments the indexer inserts locals in order
// and advances indexed; locals below indexed are searched in the graph,
// the rest exactly. Once a sealed segment is fully indexed its arena is
// dropped.

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/luma-db/luma/internal/vector/flat"
	"github.com/luma-db/luma/internal/vector/hnsw"
)

const (
	slotPageBits = 10
	slotPageSize = 1 << slotPageBits
)

// slot is what a segment keeps per vector besides the vector itself.
type slot struct {
	id   string
	meta []byte // compact JSON; nil means null
}

type slotPage [slotPageSize]slot

type segment struct {
	seq int    // display number, increasing in creation order
	lo  uint32 // first iid of the segment's range
	// iids maps local → iid for mapped segments (sorted); nil = regular.
	iids []uint32
	// capacity is the number of slots the segment takes before it is
	// sealed. Written only by the committer (hooks), before sealing.
	capacity uint32

	n         atomic.Uint32 // published slots
	sealed    atomic.Bool
	retired   atomic.Bool // replaced by vacuum or dropped
	finished  atomic.Bool // sealed, fully indexed, arena dropped, checkpointed
	vacuuming atomic.Bool // being rebuilt by vacuum: the indexer leaves it alone

	arena   atomic.Pointer[flat.Index] // nil once the graph holds every vector
	graph   *hnsw.Index                // nil for flat collections
	indexed atomic.Uint32              // locals < indexed are in graph (or dead)
	deleted atomic.Int64

	slots []atomic.Pointer[slotPage]

	// Checkpoint state, guarded by Collection.ckMu.
	ckCovered uint32 // locals covered by the checkpoint file
	ckFile    string // file name, "" = none
	ckBytes   int64
}

func newSegmentSlots(capacity uint32) []atomic.Pointer[slotPage] {
	return make([]atomic.Pointer[slotPage], (int(capacity)+slotPageSize-1)/slotPageSize)
}

// setSlot writes slot local. Only the owner of the segment's appends calls
// it, before publishing n.
func (sg *segment) setSlot(local uint32, s slot) {
	pi := local >> slotPageBits
	p := sg.slots[pi].Load()
	if p == nil {
		p = new(slotPage)
		sg.slots[pi].Store(p)
	}
	p[local&(slotPageSize-1)] = s
}

// slot returns slot local, which must be below n.
func (sg *segment) slot(local uint32) *slot {
	p := sg.slots[local>>slotPageBits].Load()
	if p == nil {
		return &slot{}
	}
	return &p[local&(slotPageSize-1)]
}

// iidOf maps a local id to its iid.
func (sg *segment) iidOf(local uint32) uint32 {
	if sg.iids != nil {
		return sg.iids[local]
	}
	return sg.lo + local
}

// localOf maps an iid of the segment's range to its local id; ok is false
// when a mapped segment does not hold it.
func (sg *segment) localOf(iid uint32) (uint32, bool) {
	if sg.iids == nil {
		return iid - sg.lo, true
	}
	i := sort.Search(len(sg.iids), func(i int) bool { return sg.iids[i] >= iid })
	if i < len(sg.iids) && sg.iids[i] == iid {
		return uint32(i), true
	}
	return 0, false
}

// vec returns the vector of local, or nil if it is not available (dead
// and never indexed).
func (sg *segment) vec(local uint32) []float32 {
	if sg.graph != nil && local < sg.indexed.Load() {
		if v := sg.graph.Vector(local); v != nil {
			return v
		}
	}
	if a := sg.arena.Load(); a != nil {
		if v := a.Vector(local); v != nil {
			return v
		}
	}
	if sg.graph != nil {
		return sg.graph.Vector(local)
	}
	return nil
}

// lag is the number of published slots the graph does not cover yet.
func (sg *segment) lag() int {
	if sg.graph == nil || sg.retired.Load() || sg.vacuuming.Load() {
		return 0
	}
	return int(sg.n.Load()) - int(sg.indexed.Load())
}

// bitset is a paged bit set over iids with lock-free reads. Bits are only
// set, by one writer at a time (the committer, or the loader before the
// collection is published).
type bitset struct {
	mu    sync.Mutex // serialises growers
	pages atomic.Pointer[[]*bitPage]
}

const bitPageBits = 16 // 65536 bits = 8 KiB per page

type bitPage [1 << (bitPageBits - 6)]atomic.Uint64

func (b *bitset) has(i uint32) bool {
	pp := b.pages.Load()
	if pp == nil {
		return false
	}
	pi := int(i >> bitPageBits)
	if pi >= len(*pp) || (*pp)[pi] == nil {
		return false
	}
	w := (i & (1<<bitPageBits - 1)) >> 6
	return (*pp)[pi][w].Load()&(1<<(i&63)) != 0
}

// set sets bit i and reports whether it was clear.
func (b *bitset) set(i uint32) bool {
	pi := int(i >> bitPageBits)
	pp := b.pages.Load()
	if pp == nil || pi >= len(*pp) || (*pp)[pi] == nil {
		b.mu.Lock()
		pp = b.pages.Load()
		var cur []*bitPage
		if pp != nil {
			cur = *pp
		}
		if pi >= len(cur) || cur[pi] == nil {
			next := make([]*bitPage, max(len(cur), pi+1))
			copy(next, cur)
			next[pi] = new(bitPage)
			b.pages.Store(&next)
			pp = &next
		}
		b.mu.Unlock()
	}
	w := &(*pp)[pi][(i&(1<<bitPageBits-1))>>6]
	bit := uint64(1) << (i & 63)
	old := w.Or(bit)
	return old&bit == 0
}
