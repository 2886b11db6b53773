package vector

// Start-up: rebuild a collection's in-memory state from its records,
// using checkpoint files where they are valid.
//
//  1. Derive the segments from the counters (next internal id) and the
//     segment table: the table's entries, then regular segments of
//     SegmentSize slots, the last one active.
//  2. Load each segment's checkpoint (graph or arena covering locals
//     [0, covered), and the id map of mapped segments). A checkpoint that is
//     missing, stale or damaged is logged and the segment is rebuilt.
//  3. Scan the records (id → internal id, meta): slots, the metadata index,
//     and by elimination the tombstones (slots no record points to).
//  4. Replay the vectors not covered by a checkpoint, one contiguous key
//     range per segment, into the segment's arena.
//
// The collection is then searchable; the indexer inserts what the graphs
// do not hold yet in the background and re-writes checkpoints.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/luma-db/luma/internal/storage"
	"github.com/luma-db/luma/internal/vector/flat"
)

type skeleton struct {
	lo     uint32
	end    uint64 // end of the iid range (exclusive); 1<<32 max
	mapped bool
	sealed bool
	cap    uint32
}

// vectorRange returns the key range of the vectors with lo ≤ iid < end.
func (c *Collection) vectorRange(lo uint32, end uint64) (start, stop []byte) {
	start = vectorKey(c.cfg.Name, lo)
	if end > math.MaxUint32 {
		return start, storage.PrefixEnd(vectorPrefix(c.cfg.Name))
	}
	return start, vectorKey(c.cfg.Name, uint32(end))
}

// indexForm turns a stored vector into the form the index holds.
func (c *Collection) indexForm(v []float32) []float32 {
	if c.cfg.Metric == Cosine {
		return normalize(v)
	}
	return v
}

func (s *Store) load(cfg collConfig, raw []byte) (*Collection, error) {
	c := newCollection(s, cfg, s.collDir(cfg.Name))
	c.cfgRaw = raw
	name := cfg.Name
	var cnt counters
	if v, err := s.db.Get(nextKey(name)); err == nil {
		if cnt, err = decodeCounters(v); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	c.writes.Store(cnt.writes)
	c.applied.Store(cnt.applied)
	var table []tableEntry
	if v, err := s.db.Get(segsKey(name)); err == nil {
		if table, err = decodeTable(v); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}

	// 1. Segments.
	var sk []skeleton
	lo := uint64(0)
	for _, e := range table {
		sk = append(sk, skeleton{lo: e.lo, end: uint64(e.hi), mapped: e.mapped, sealed: true, cap: e.hi - e.lo})
		lo = uint64(e.hi)
	}
	if lo > cnt.next {
		return nil, fmt.Errorf("%w: segment table ends at %d past the next id %d", ErrPersistence, lo, cnt.next)
	}
	size := uint64(cfg.SegmentSize)
	for lo+size <= cnt.next {
		sk = append(sk, skeleton{lo: uint32(lo), end: lo + size, sealed: true, cap: uint32(size)})
		lo += size
	}
	if lo < cnt.next {
		sk = append(sk, skeleton{lo: uint32(lo), end: lo + size, cap: uint32(size)})
	}

	// 2. Checkpoints.
	metas := map[uint32]ckptMeta{}
	if c.dir != "" {
		err := s.db.ScanPrefix(ckptPrefix(name), func(k, v []byte) (bool, error) {
			var m ckptMeta
			if len(k) == len(ckptPrefix(name))+4 && json.Unmarshal(v, &m) == nil {
				metas[uint32(k[len(k)-4])<<24|uint32(k[len(k)-3])<<16|uint32(k[len(k)-2])<<8|uint32(k[len(k)-1])] = m
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	keep := map[string]bool{}
	var staleMetas []uint32
	segs := make([]*segment, len(sk))
	for i, k := range sk {
		sg := &segment{seq: i, lo: k.lo, capacity: k.cap}
		n := uint32(min(k.end, cnt.next) - uint64(k.lo))
		var ck *loadedCkpt
		if m, ok := metas[k.lo]; ok {
			var err error
			ck, err = c.readCheckpoint(m, k.lo)
			if err == nil && (k.mapped != (ck.hdr.mapped > 0) || (!k.mapped && ck.hdr.covered > n)) {
				err = fmt.Errorf("%w: does not match the segment", errBadCheckpoint)
			}
			if err != nil {
				s.log.Warn("checkpoint unusable, rebuilding the segment from records", "collection", name, "segment", i, "file", m.File, "err", err)
				s.met.ckptRebuilds.Inc()
				ck = nil
				staleMetas = append(staleMetas, k.lo)
			} else {
				keep[m.File] = true
				sg.ckFile, sg.ckCovered, sg.ckBytes = m.File, ck.hdr.covered, ck.size
			}
			delete(metas, k.lo)
		} else if c.dir != "" && k.sealed {
			s.log.Info("segment has no checkpoint, rebuilding it from records", "collection", name, "segment", i)
			s.met.ckptRebuilds.Inc()
		}
		covered := uint32(0)
		switch {
		case k.mapped && ck != nil:
			sg.iids = ck.iids
			n = uint32(len(ck.iids))
			covered = n
			sg.capacity = n
		case k.mapped:
			iids, arena, err := c.rebuildMapped(k)
			if err != nil {
				return nil, err
			}
			sg.iids, n, sg.capacity = iids, uint32(len(iids)), uint32(len(iids))
			sg.arena.Store(arena)
			covered = n // the arena holds every vector; the graph is rebuilt by the indexer
		case ck != nil:
			covered = ck.hdr.covered
		}
		if ck != nil {
			if ck.graph != nil {
				sg.graph = ck.graph
				sg.indexed.Store(covered)
				if covered < n {
					sg.arena.Store(c.newArena(int(min(sg.capacity, 1024))))
				}
			} else {
				sg.arena.Store(ck.arena)
			}
		} else {
			if sg.arena.Load() == nil {
				sg.arena.Store(c.newArena(int(min(sg.capacity, 1024))))
			}
			if cfg.Index == IndexHNSW {
				sg.graph = c.newGraph(int(min(sg.capacity, 1024)))
			}
		}
		sg.slots = newSegmentSlots(max(sg.capacity, n))
		sg.n.Store(n)
		sg.sealed.Store(k.sealed)
		segs[i] = sg
		if !k.mapped && covered < n {
			if err := c.replay(sg, covered, n); err != nil {
				return nil, err
			}
		}
		if k.sealed && ck != nil && covered == n && (sg.graph == nil || sg.arena.Load() == nil) {
			sg.finished.Store(true)
		}
	}
	for lo := range metas {
		staleMetas = append(staleMetas, lo)
	}
	c.nextSeq = len(segs)
	c.segs.Store(&segs)

	// 3. Records.
	live := &bitset{}
	prefix := recordPrefix(name)
	var total int64
	err := s.db.ScanPrefix(prefix, func(k, v []byte) (bool, error) {
		iid, meta, err := decodeRecord(v)
		if err != nil {
			return false, fmt.Errorf("record %q: %w", k[len(prefix):], err)
		}
		sg := locate(segs, iid)
		var local uint32
		ok := sg != nil
		if ok {
			local, ok = sg.localOf(iid)
		}
		if !ok || local >= sg.n.Load() {
			return false, fmt.Errorf("%w: record %q points at internal id %d outside every segment", ErrPersistence, k[len(prefix):], iid)
		}
		sl := slot{id: string(k[len(prefix):]), meta: bytes.Clone(meta)}
		sg.setSlot(local, sl)
		live.set(iid)
		c.meta.Add(iid, decodeMeta(sl.meta))
		c.live.Add(1)
		c.bytes.Add(c.slotBytes(&sl))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	for _, sg := range segs {
		n := sg.n.Load()
		total += int64(n)
		for l := range n {
			if iid := sg.iidOf(l); !live.has(iid) {
				c.dead.set(iid)
				sg.deleted.Add(1)
			}
		}
	}
	c.slotsN.Store(total)

	if c.dir != "" {
		if len(staleMetas) > 0 {
			_, err := s.db.Update(context.Background(), func(tx *storage.Tx) error {
				for _, lo := range staleMetas {
					tx.Delete(ckptKey(name, lo))
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		c.removeStrayFiles(keep)
	}
	return c, nil
}

func (c *Collection) newArena(hint int) *flat.Index {
	a, err := flat.New(flat.Config{Dim: c.cfg.Dim, Metric: c.cfg.Metric.hnsw()}, hint)
	if err != nil {
		panic("vector: flat config validated at creation: " + err.Error())
	}
	return a
}

// replay adds the stored vectors of locals [from, n) of a regular segment
// to its arena.
func (c *Collection) replay(sg *segment, from, n uint32) error {
	arena := sg.arena.Load()
	start, stop := c.vectorRange(sg.lo+from, uint64(sg.lo)+uint64(n))
	pl := len(vectorPrefix(c.cfg.Name))
	buf := make([]float32, c.cfg.Dim)
	return c.st.db.Scan(start, stop, func(k, v []byte) (bool, error) {
		if len(k) != pl+4 || len(v) != 4*c.cfg.Dim {
			return false, fmt.Errorf("%w: bad vector record", ErrPersistence)
		}
		iid := uint32(k[pl])<<24 | uint32(k[pl+1])<<16 | uint32(k[pl+2])<<8 | uint32(k[pl+3])
		decodeVectorInto(buf, v)
		if err := arena.Add(iid-sg.lo, c.indexForm(buf)); err != nil {
			return false, fmt.Errorf("%w: vector %d: %v", ErrPersistence, iid, err)
		}
		return true, nil
	})
}

// rebuildMapped rebuilds a mapped segment without its checkpoint: its
// locals are the live internal ids of its range (those with a vector
// record), in order.
func (c *Collection) rebuildMapped(k skeleton) ([]uint32, *flat.Index, error) {
	var iids []uint32
	var vecs [][]float32
	start, stop := c.vectorRange(k.lo, k.end)
	pl := len(vectorPrefix(c.cfg.Name))
	err := c.st.db.Scan(start, stop, func(key, v []byte) (bool, error) {
		if len(key) != pl+4 || len(v) != 4*c.cfg.Dim {
			return false, fmt.Errorf("%w: bad vector record", ErrPersistence)
		}
		iids = append(iids, uint32(key[pl])<<24|uint32(key[pl+1])<<16|uint32(key[pl+2])<<8|uint32(key[pl+3]))
		vec := make([]float32, c.cfg.Dim)
		decodeVectorInto(vec, v)
		vecs = append(vecs, c.indexForm(vec))
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	arena := c.newArena(max(len(iids), 1))
	for i, v := range vecs {
		if err := arena.Add(uint32(i), v); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrPersistence, err)
		}
	}
	return iids, arena, nil
}
