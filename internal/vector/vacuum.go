package vector

// Vacuum rebuilds a collection's segments without their tombstones.
//
//  1. Seal the active segment through the committer (the segment table
//     records the boundary), so that every segment to rebuild is immutable
//     apart from new tombstones; new writes go to a fresh active segment.
//  2. Plan: keep sealed segments that have no tombstone, are at least half
//     full and fully indexed; pack runs of the others, whole segments at a
//     time, into new mapped segments of at most SegmentSize live vectors.
//  3. Build the new segments (slots, arena, graph) from the live vectors,
//     off the write path; searches keep using the old segments.
//  4. With a data directory, write their checkpoint files (temporary name,
//     fsync, rename).
//  5. Swap through the committer: one transaction writes the new segment
//     table and checkpoint records; its hook replaces the segments in
//     memory. Tombstones set meanwhile are keyed by internal id, so they
//     apply to the new segments as they did to the old.
//  6. Remove the old files and compact the collection's key ranges.
//
// No event is emitted (CONTRACT.md §5.4), and search results are the same
// before and after: the live vectors, ids, metas and scores do not change.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/luma-db/luma/internal/storage"
)

// minAutoVacuum is the fewest tombstones that trigger an automatic vacuum.
const minAutoVacuum = 256

// VacuumResult reports what a vacuum did.
type VacuumResult struct {
	Collection     string `json:"collection"`
	SegmentsBefore int    `json:"segments_before"`
	SegmentsAfter  int    `json:"segments_after"`
	Rebuilt        int    `json:"rebuilt"`
	Removed        int64  `json:"tombstones_removed"`
	Live           int64  `json:"live_count"`
	DurationMs     int64  `json:"duration_ms"`
}

// Vacuum rebuilds the named collection's segments without tombstones. Once
// started it runs to completion even if ctx ends (only Close stops it), so
// that a client timeout does not waste the work.
func (s *Store) Vacuum(ctx context.Context, name string) (VacuumResult, error) {
	c, err := s.collection(name)
	if err != nil {
		return VacuumResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return VacuumResult{}, err
	}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return VacuumResult{}, ErrClosed
	}
	s.bgWG.Add(1)
	s.mu.RUnlock()
	defer s.bgWG.Done()
	vctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-vctx.Done():
		}
	}()
	return c.vacuum(vctx)
}

// maybeAutoVacuum starts a background vacuum when the tombstone ratio
// reaches Options.TombstoneRatio.
func (c *Collection) maybeAutoVacuum() {
	ratio := c.st.opts.TombstoneRatio
	if ratio <= 0 {
		return
	}
	total := c.slotsN.Load()
	dead := total - c.live.Load()
	if dead < minAutoVacuum || float64(dead) < ratio*float64(total) {
		return
	}
	if !c.vacAuto.CompareAndSwap(false, true) {
		return
	}
	s := c.st
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		c.vacAuto.Store(false)
		return
	}
	s.bgWG.Add(1)
	s.mu.RUnlock()
	go func() {
		defer s.bgWG.Done()
		defer c.vacAuto.Store(false)
		res, err := s.Vacuum(context.Background(), c.cfg.Name)
		if err != nil {
			if !errors.Is(err, ErrCollectionNotFound) && !errors.Is(err, context.Canceled) {
				s.log.Error("automatic vacuum failed", "collection", c.cfg.Name, "err", err)
			}
			return
		}
		s.log.Info("automatic vacuum", "collection", c.cfg.Name, "tombstones_removed", res.Removed, "segments", res.SegmentsAfter, "duration_ms", res.DurationMs)
	}()
}

func (c *Collection) vacuum(ctx context.Context) (VacuumResult, error) {
	c.vacMu.Lock()
	defer c.vacMu.Unlock()
	start := time.Now()
	res := VacuumResult{Collection: c.cfg.Name, SegmentsBefore: len(c.segments())}
	boundary, err := c.sealActive(ctx)
	if err != nil {
		return res, err
	}
	var old []*segment
	for _, sg := range c.segments() {
		if sg.lo < boundary && sg.sealed.Load() {
			old = append(old, sg)
		}
	}
	packs := c.plan(old)
	if len(packs) == 0 {
		res.SegmentsAfter, res.Live = len(c.segments()), c.live.Load()
		res.DurationMs = time.Since(start).Milliseconds()
		return res, nil
	}
	for _, p := range packs {
		for _, sg := range p {
			sg.vacuuming.Store(true)
		}
	}
	abort := func(err error) (VacuumResult, error) {
		for _, p := range packs {
			for _, sg := range p {
				sg.vacuuming.Store(false)
			}
		}
		c.poke()
		return res, err
	}
	built := make([]*segment, len(packs))
	files := make([]ckptMeta, len(packs))
	for i, p := range packs {
		if err := ctx.Err(); err != nil {
			return abort(err)
		}
		if c.dropped.Load() {
			return abort(ErrCollectionNotFound)
		}
		sg, removed, err := c.buildPacked(ctx, p)
		if err != nil {
			return abort(err)
		}
		res.Removed += removed
		built[i] = sg
		if c.dir != "" && sg.n.Load() > 0 {
			name, size, err := c.writeSegmentFile(sg, sg.n.Load())
			if err != nil {
				return abort(fmt.Errorf("vector: vacuum: write checkpoint: %w", err))
			}
			files[i] = ckptMeta{File: name, Covered: sg.n.Load(), Mapped: sg.n.Load(), Kind: string(c.cfg.Index), Offset: c.applied.Load(), Bytes: size}
			sg.ckFile, sg.ckCovered, sg.ckBytes = name, sg.n.Load(), size
		}
	}
	removeNew := func() {
		for _, f := range files {
			if f.File != "" {
				os.Remove(filepath.Join(c.dir, f.File))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		removeNew()
		return abort(err)
	}
	var oldFiles []string
	c.ckMu.Lock()
	_, err = c.st.db.Update(ctx, func(tx *storage.Tx) error {
		if err := c.txCheck(tx); err != nil {
			return err
		}
		cur := c.segments()
		next := replaceSegments(cur, packs, built)
		var table []tableEntry
		for i, sg := range next {
			if sg.lo >= boundary {
				break
			}
			hi := boundary
			if i+1 < len(next) && next[i+1].lo < boundary {
				hi = next[i+1].lo
			}
			table = append(table, tableEntry{lo: sg.lo, hi: hi, mapped: sg.iids != nil})
		}
		tx.Set(segsKey(c.cfg.Name), encodeTable(table))
		newLo := map[uint32]bool{}
		for i, sg := range built {
			newLo[sg.lo] = true
			if files[i].File != "" {
				raw, _ := json.Marshal(files[i])
				tx.Set(ckptKey(c.cfg.Name, sg.lo), raw)
			} else {
				tx.Delete(ckptKey(c.cfg.Name, sg.lo))
			}
		}
		for _, p := range packs {
			for _, sg := range p {
				if !newLo[sg.lo] {
					tx.Delete(ckptKey(c.cfg.Name, sg.lo))
				}
			}
		}
		tx.AfterCommit(func() {
			next := replaceSegments(c.segments(), packs, built)
			var total int64
			for _, sg := range next {
				total += int64(sg.n.Load())
			}
			for _, sg := range built {
				sg.seq = c.nextSeq
				c.nextSeq++
				var dead int64
				for l := range sg.n.Load() {
					if c.dead.has(sg.iidOf(l)) {
						dead++
					}
				}
				sg.deleted.Store(dead)
			}
			for _, p := range packs {
				for _, sg := range p {
					sg.retired.Store(true)
					if sg.ckFile != "" {
						oldFiles = append(oldFiles, sg.ckFile)
					}
				}
			}
			c.segs.Store(&next)
			c.slotsN.Store(total)
		})
		return nil
	})
	c.ckMu.Unlock()
	if err != nil {
		removeNew()
		return abort(err)
	}
	for _, f := range oldFiles {
		os.Remove(filepath.Join(c.dir, f))
	}
	for _, p := range [][]byte{recordPrefix(c.cfg.Name), vectorPrefix(c.cfg.Name)} {
		if err := c.st.db.Compact(p, storage.PrefixEnd(p)); err != nil {
			c.st.log.Warn("vacuum: storage compaction failed", "collection", c.cfg.Name, "err", err)
		}
	}
	c.poke()
	c.st.met.vacuums.Inc()
	res.Rebuilt = len(packs)
	res.SegmentsAfter = len(c.segments())
	res.Live = c.live.Load()
	res.DurationMs = time.Since(start).Milliseconds()
	return res, nil
}

// sealActive seals the active segment at the current next internal id and
// returns that boundary.
func (c *Collection) sealActive(ctx context.Context) (uint32, error) {
	var boundary uint32
	_, err := c.st.db.Update(ctx, func(tx *storage.Tx) error {
		if err := c.txCheck(tx); err != nil {
			return err
		}
		cnt, err := c.txCounters(tx)
		if err != nil {
			return err
		}
		var table []tableEntry
		if v, err := tx.Get(segsKey(c.cfg.Name)); err == nil {
			if table, err = decodeTable(v); err != nil {
				return err
			}
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		lo := uint64(0)
		if len(table) > 0 {
			lo = uint64(table[len(table)-1].hi)
		}
		boundary = uint32(lo)
		if lo >= cnt.next {
			return nil
		}
		size := uint64(c.cfg.SegmentSize)
		for lo+size <= cnt.next {
			table = append(table, tableEntry{lo: uint32(lo), hi: uint32(lo + size)})
			lo += size
		}
		if lo < cnt.next {
			table = append(table, tableEntry{lo: uint32(lo), hi: uint32(cnt.next)})
		}
		if cnt.next > 1<<32-1 {
			return ErrCollectionFull
		}
		boundary = uint32(cnt.next)
		tx.Set(segsKey(c.cfg.Name), encodeTable(table))
		b := boundary
		tx.AfterCommit(func() {
			segs := c.segments()
			if len(segs) == 0 {
				return
			}
			last := segs[len(segs)-1]
			if !last.sealed.Load() && last.lo+last.n.Load() == b {
				last.capacity = last.n.Load()
				last.sealed.Store(true)
				c.poke()
			}
		})
		return nil
	})
	return boundary, err
}

// plan picks the segments to rebuild and packs them: runs of consecutive
// segments needing a rebuild, cut so that each pack holds at most
// SegmentSize live vectors.
func (c *Collection) plan(segs []*segment) [][]*segment {
	size := int64(c.cfg.SegmentSize)
	var packs [][]*segment
	var cur []*segment
	var curLive int64
	flush := func() {
		if len(cur) > 0 {
			packs = append(packs, cur)
		}
		cur, curLive = nil, 0
	}
	for _, sg := range segs {
		n := int64(sg.n.Load())
		dead := sg.deleted.Load()
		fine := dead == 0 && 2*n >= size && sg.finished.Load()
		if fine {
			flush()
			continue
		}
		live := n - dead
		if curLive+live > size {
			flush()
		}
		cur = append(cur, sg)
		curLive += live
	}
	flush()
	return packs
}

// buildPacked builds one mapped segment from the live vectors of p and
// returns it with the number of tombstones it leaves out. It stops early
// when ctx ends.
func (c *Collection) buildPacked(ctx context.Context, p []*segment) (*segment, int64, error) {
	var iids []uint32
	var slots []slot
	var vecs [][]float32
	var removed int64
	for _, sg := range p {
		n := sg.n.Load()
		for l := range n {
			iid := sg.iidOf(l)
			v := sg.vec(l)
			if c.dead.has(iid) || v == nil {
				removed++
				continue
			}
			iids = append(iids, iid)
			slots = append(slots, *sg.slot(l))
			vecs = append(vecs, v)
		}
	}
	cnt := uint32(len(iids))
	ns := &segment{lo: p[0].lo, iids: iids, capacity: cnt, slots: newSegmentSlots(max(cnt, 1))}
	if iids == nil {
		ns.iids = []uint32{}
	}
	arena := c.newArena(max(len(iids), 1))
	for i, v := range vecs {
		if err := arena.Add(uint32(i), v); err != nil {
			c.st.log.Error("vacuum: arena add failed", "collection", c.cfg.Name, "err", err)
		}
		ns.setSlot(uint32(i), slots[i])
	}
	ns.arena.Store(arena)
	ns.n.Store(cnt)
	ns.sealed.Store(true)
	if c.cfg.Index == IndexHNSW {
		ns.graph = c.newGraph(max(len(iids), 1))
		for from := uint32(0); from < cnt; from += indexChunk {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
			c.insertRange(ns, from, min(cnt, from+indexChunk))
		}
		ns.indexed.Store(cnt)
		ns.arena.Store(nil)
	}
	ns.finished.Store(true)
	return ns, removed, nil
}

// replaceSegments returns cur with each pack's segments replaced by its
// built segment.
func replaceSegments(cur []*segment, packs [][]*segment, built []*segment) []*segment {
	first := map[*segment]*segment{}
	drop := map[*segment]bool{}
	for i, p := range packs {
		first[p[0]] = built[i]
		for _, sg := range p {
			drop[sg] = true
		}
	}
	out := make([]*segment, 0, len(cur))
	for _, sg := range cur {
		if b, ok := first[sg]; ok {
			out = append(out, b)
			continue
		}
		if !drop[sg] {
			out = append(out, sg)
		}
	}
	return out
}
