package vector

// The indexer: one goroutine per collection inserts published slots into
// their segment's HNSW graph, in local-id order and in chunks, with up to
// Options.BuildThreads workers shared by all collections. A chunk's
// watermark (segment.indexed) is advanced only when the whole chunk is in
// the graph, so searches use the graph below it and scan the rest exactly:
// nothing is ever missed or returned twice.
//
// When a sealed segment is fully indexed the indexer drops its arena (the
// graph holds the vectors) and, with a data directory, writes its
// checkpoint. When idle it also checkpoints the active segment's graph
// every quarter segment of progress, so that a crash does not make the next
// start rebuild a whole segment.

import (
	"sync"
	"sync/atomic"
)

const indexChunk = 512

// start runs the indexer.
func (c *Collection) start() {
	go c.indexLoop()
	c.poke()
}

// signalStop asks the indexer to stop (idempotent, never blocks).
func (c *Collection) signalStop() {
	c.stopOnce.Do(func() { close(c.stopc) })
}

// stop stops the indexer and waits for it.
func (c *Collection) stop() {
	c.signalStop()
	<-c.donec
}

func (c *Collection) stopping() bool {
	select {
	case <-c.stopc:
		return true
	default:
		return false
	}
}

func (c *Collection) indexLoop() {
	defer close(c.donec)
	for {
		for !c.stopping() && c.indexOnce() {
		}
		if c.stopping() {
			return
		}
		c.checkpointActive(false)
		select {
		case <-c.stopc:
			return
		case <-c.kick:
		}
	}
}

// indexOnce does one unit of work and reports whether there was any.
func (c *Collection) indexOnce() bool {
	for _, sg := range c.segments() {
		if sg.retired.Load() || sg.vacuuming.Load() {
			continue
		}
		if sg.graph != nil {
			w, n := sg.indexed.Load(), sg.n.Load()
			if w < n {
				end := min(n, w+indexChunk)
				c.insertRange(sg, w, end)
				sg.indexed.Store(end)
				c.signalProgress()
				return true
			}
		}
		if sg.sealed.Load() && !sg.finished.Load() {
			c.finishSegment(sg)
			return true
		}
	}
	return false
}

// insertRange inserts locals [from, to) of sg into its graph, skipping
// tombstoned ones, with up to BuildThreads workers.
func (c *Collection) insertRange(sg *segment, from, to uint32) {
	arena := sg.arena.Load()
	if arena == nil {
		return
	}
	workers := min(cap(c.st.buildSem), int(to-from))
	var next atomic.Uint32
	next.Store(from)
	work := func() {
		c.st.buildSem <- struct{}{}
		defer func() { <-c.st.buildSem }()
		for {
			l := next.Add(1) - 1
			if l >= to {
				return
			}
			if c.dead.has(sg.iidOf(l)) {
				continue
			}
			v := arena.Vector(l)
			if v == nil {
				continue
			}
			if err := sg.graph.Add(l, v); err != nil {
				c.st.log.Error("graph insert failed", "collection", c.cfg.Name, "segment", sg.seq, "local", l, "err", err)
			}
		}
	}
	if workers <= 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	wg.Wait()
}

// finishSegment completes a sealed segment: drops the arena once the graph
// holds everything, and writes its checkpoint.
func (c *Collection) finishSegment(sg *segment) {
	if sg.graph != nil {
		sg.arena.Store(nil)
	}
	if c.dir != "" {
		if err := c.writeCheckpoint(sg); err != nil {
			c.st.log.Error("checkpoint failed; the segment will be rebuilt from records at the next start",
				"collection", c.cfg.Name, "segment", sg.seq, "err", err)
			c.st.met.ckptErrors.Inc()
		}
	}
	sg.finished.Store(true)
}

// checkpointActive writes the active segment's graph when it has grown by
// a quarter segment since its last checkpoint (or, with force, by anything).
func (c *Collection) checkpointActive(force bool) {
	if c.dir == "" || c.cfg.Index != IndexHNSW {
		return
	}
	segs := c.segments()
	for _, sg := range segs {
		if sg.retired.Load() || sg.finished.Load() || sg.graph == nil {
			continue
		}
		c.ckMu.Lock()
		covered := sg.ckCovered
		c.ckMu.Unlock()
		w := sg.indexed.Load()
		step := uint32(max(c.cfg.SegmentSize/4, 1))
		if w > covered && (force || w-covered >= step) {
			if err := c.writeCheckpoint(sg); err != nil {
				c.st.log.Error("checkpoint of the active segment failed", "collection", c.cfg.Name, "segment", sg.seq, "err", err)
				c.st.met.ckptErrors.Inc()
			}
		}
	}
}

// checkpointOnClose runs after the indexer has stopped: it saves the graph
// progress of unfinished segments.
func (c *Collection) checkpointOnClose() error {
	if c.dropped.Load() {
		return nil
	}
	c.checkpointActive(true)
	return nil
}
