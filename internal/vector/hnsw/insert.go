package hnsw

// Insertion: the paper's INSERT (Algorithm 1) with SELECT-NEIGHBORS-HEURISTIC
// (Algorithm 4) both for the new node's links and for pruning the reverse
// links of a neighbour that is full.
//
// Why the locking is enough: a node's link block is only written while
// holding that node's row lock, entries and count are written with atomic
// stores (entries first, then the count), and readers load them atomically.
// A reader may therefore see a mix of an old and a new list, but every slot
// below any count ever published holds the id of a node whose vector and
// link blocks were fully written before the id was first stored anywhere,
// so whatever it reads is a valid node. The graph is briefly less connected
// than the final one, never wrong.

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"
)

// Add inserts vec under id. The vector is copied. id must not have been
// added before (ErrDuplicateID) and must be at most MaxID; vec must have Dim
// finite values. For cosine similarity the caller normalises vec and uses
// Dot.
//
// Add is safe for concurrent use with other Adds (distinct ids) and with
// Search. It does not return before the node is linked at every level.
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
	level := ix.levelFor(id)
	if level > 0 {
		p.upper[row] = make([]uint32, level*ix.strideU)
	}
	atomic.StoreUint32(&p.state[row], stateLevel0+uint32(level))
	ix.count.Add(1)
	ix.insert(pgs, id, level)
	return nil
}

// insert links the already stored node id into the graph.
func (ix *Index) insert(pgs []*page, id uint32, level int) {
	q := ix.vecOf(&pgs, id)
	epID, epLevel, ok := ix.loadEntry()
	raise := false
	if !ok || level > epLevel {
		ix.epMu.Lock()
		epID, epLevel, ok = ix.loadEntry()
		switch {
		case !ok:
			ix.entry.Store(packEntry(id, level))
			ix.epMu.Unlock()
			return
		case level > epLevel:
			// Keep epMu until the node is linked, so that no other insert
			// raises the top level meanwhile.
			raise = true
			defer ix.epMu.Unlock()
		default:
			ix.epMu.Unlock()
		}
	}

	cur := epID
	curD := ix.dist(q, ix.vecOf(&pgs, cur))
	for l := epLevel; l > level; l-- {
		cur, curD = ix.greedy(&pgs, q, cur, curD, l)
	}

	s := ix.getSearcher(len(pgs) << ix.pageShift)
	s.visit(cur)
	s.cand = pushMin(s.cand, item{curD, cur})
	s.res = pushMax(s.res, item{curD, cur})
	for l := min(level, epLevel); l >= 0; l-- {
		ix.searchLayer(s, &pgs, q, l, ix.efc, nil)
		w := s.drainSorted()
		// A concurrent insert may already have linked this node at l.
		w = slices.DeleteFunc(w, func(it item) bool { return it.id == id })
		s.sel = ix.selectNeighbors(&pgs, w, ix.m, s.sel[:0])
		ix.setLinks(&pgs, id, l, s.sel)
		maxN := ix.m
		if l == 0 {
			maxN = ix.m0
		}
		for _, nb := range s.sel {
			ix.addLink(&pgs, s, nb.id, id, nb.d, l, maxN)
		}
		if l > 0 {
			// W seeds the next level down: sorted ascending it is a
			// min-heap already, and reversed a max-heap.
			s.newPass()
			for i := range w {
				s.visit(w[i].id)
				s.cand = append(s.cand, w[i])
				s.res = append(s.res, w[len(w)-1-i])
			}
		}
	}
	ix.putSearcher(s)
	if raise {
		ix.entry.Store(packEntry(id, level))
	}
}

// selectNeighbors is SELECT-NEIGHBORS-HEURISTIC: from w, sorted nearest
// first, keep a candidate only if it is nearer to the base element than to
// every candidate kept so far, up to m of them. This keeps links that point
// in different directions, which is what makes the graph navigable on
// clustered data. Exact duplicates of a kept candidate are dropped. Fewer
// than m candidates are all kept.
func (ix *Index) selectNeighbors(pgs *[]*page, w []item, m int, out []item) []item {
	if len(w) <= m {
		return append(out, w...)
	}
	for _, c := range w {
		if len(out) >= m {
			break
		}
		cv := ix.vecOf(pgs, c.id)
		good := true
		for _, s := range out {
			sv := ix.vecOf(pgs, s.id)
			// An exact copy of a kept neighbour adds no direction. Keeping
			// copies (the paper's rule lets them through, distance ties)
			// fills lists with them and can cut a cluster of duplicates
			// off from the rest of the graph.
			if ix.dist(cv, sv) < c.d || (c.d == s.d && slices.Equal(cv, sv)) {
				good = false
				break
			}
		}
		if good {
			out = append(out, c)
		}
	}
	return out
}

// setLinks writes the new node's own links at level. Links that concurrent
// inserts already added to it are kept while there is room.
func (ix *Index) setLinks(pgs *[]*page, id uint32, level int, sel []item) {
	p := ix.dirFor(pgs, id)
	mu := &p.locks[id&ix.pageMask]
	mu.Lock()
	block := ix.linkBlock(pgs, id, level)
	old := int(block[0])
	// Entries of the old list not in sel go after sel; read them first.
	var keep [2 * MaxM]uint32
	nk := 0
	for i := 1; i <= old; i++ {
		x := block[i]
		if !containsID(sel, x) {
			keep[nk] = x
			nk++
		}
	}
	n := 0
	for _, it := range sel {
		n++
		atomic.StoreUint32(&block[n], it.id)
	}
	for i := 0; i < nk && n < len(block)-1; i++ {
		n++
		atomic.StoreUint32(&block[n], keep[i])
	}
	atomic.StoreUint32(&block[0], uint32(n))
	mu.Unlock()
}

func containsID(items []item, id uint32) bool {
	for _, it := range items {
		if it.id == id {
			return true
		}
	}
	return false
}

// addLink adds the reverse link nb -> id at level, where d is their
// distance. A full list is pruned with the heuristic over its current
// entries plus id.
func (ix *Index) addLink(pgs *[]*page, s *searcher, nb, id uint32, d float32, level, maxN int) {
	p := ix.dirFor(pgs, nb)
	mu := &p.locks[nb&ix.pageMask]
	mu.Lock()
	defer mu.Unlock()
	block := ix.linkBlock(pgs, nb, level)
	n := int(block[0])
	for i := 1; i <= n; i++ {
		if block[i] == id {
			return
		}
	}
	if n < maxN {
		atomic.StoreUint32(&block[n+1], id)
		atomic.StoreUint32(&block[0], uint32(n+1))
		return
	}
	nv := ix.vecOf(pgs, nb)
	cands := append(s.tmp[:0], item{d, id})
	for i := 1; i <= n; i++ {
		x := block[i]
		cands = append(cands, item{ix.dist(nv, ix.vecOf(pgs, x)), x})
	}
	slices.SortFunc(cands, func(a, b item) int { return cmp.Compare(a.d, b.d) })
	sel := ix.selectNeighbors(pgs, cands, maxN, cands[len(cands):])
	for i, it := range sel {
		atomic.StoreUint32(&block[i+1], it.id)
	}
	atomic.StoreUint32(&block[0], uint32(len(sel)))
	s.tmp = cands
}
