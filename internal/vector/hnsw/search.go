package hnsw

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/luma-db/luma/internal/vector/distance"
)

// item is a node with its distance to the current query.
type item struct {
	d  float32
	id uint32
}

// searcher is the per-query scratch space, pooled per index: the visited set
// and the two heaps of the paper's SEARCH-LAYER (candidates C as a min-heap,
// results W as a max-heap bounded by ef).
type searcher struct {
	// visited[id] == gen marks id as visited in the current pass. Bumping
	// gen clears the set in O(1); the array is zeroed only when gen wraps.
	visited []uint16
	gen     uint16

	cand []item    // min-heap on d
	res  []item    // max-heap on d
	nbuf []uint32  // unvisited neighbours of the node being expanded
	w    []item    // sorted drain of res
	sel  []item    // heuristic selection output
	tmp  []item    // reverse-link pruning candidates
	q    []float32 // the query, copied to a cache-line-aligned buffer
}

func (ix *Index) getSearcher(nodes int) *searcher {
	s, _ := ix.searchers.Get().(*searcher)
	if s == nil {
		s = &searcher{nbuf: make([]uint32, 0, ix.m0), q: distance.Make(ix.dim)}
	}
	if len(s.visited) < nodes {
		s.visited = make([]uint16, nodes)
		s.gen = 0
	}
	s.newPass()
	return s
}

func (ix *Index) putSearcher(s *searcher) { ix.searchers.Put(s) }

// newPass empties the visited set and both heaps.
func (s *searcher) newPass() {
	s.gen++
	if s.gen == 0 {
		clear(s.visited)
		s.gen = 1
	}
	s.cand = s.cand[:0]
	s.res = s.res[:0]
}

// visit marks id and reports whether it was unvisited. Ids past the array
// (nodes added after the pass started) grow it.
func (s *searcher) visit(id uint32) bool {
	if int(id) >= len(s.visited) {
		nv := make([]uint16, int(id)+1+len(s.visited)/2)
		copy(nv, s.visited)
		s.visited = nv
	}
	if s.visited[id] == s.gen {
		return false
	}
	s.visited[id] = s.gen
	return true
}

// pushMin adds x to the min-heap h.
func pushMin(h []item, x item) []item {
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].d <= x.d {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
	return h
}

// popMin removes the smallest element of the min-heap h.
func popMin(h []item) []item {
	n := len(h) - 1
	x := h[n]
	h = h[:n]
	if n == 0 {
		return h
	}
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].d < h[c].d {
			c = r
		}
		if x.d <= h[c].d {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
	return h
}

// pushMax adds x to the max-heap h.
func pushMax(h []item, x item) []item {
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].d >= x.d {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
	return h
}

// siftDownMax restores the max-heap h after h[0] was replaced by x.
func siftDownMax(h []item, x item) {
	n := len(h)
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].d > h[c].d {
			c = r
		}
		if x.d >= h[c].d {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}

// popMax removes the largest element of the max-heap h.
func popMax(h []item) []item {
	n := len(h) - 1
	x := h[n]
	h = h[:n]
	if n > 0 {
		siftDownMax(h, x)
	}
	return h
}

// pushBounded adds x to the max-heap h of at most ef elements, replacing the
// farthest element when h is full.
func pushBounded(h []item, x item, ef int) []item {
	if len(h) < ef {
		return pushMax(h, x)
	}
	if x.d < h[0].d {
		siftDownMax(h, x)
	}
	return h
}

// linkBlock returns the link block of id at level: [count, n_0 .. n_{max-1}].
// Entries are read with atomic loads because writers update them in place.
func (ix *Index) linkBlock(pgs *[]*page, id uint32, level int) []uint32 {
	p := ix.dirFor(pgs, id)
	row := int(id & ix.pageMask)
	if level == 0 {
		off := row * ix.stride0
		return p.links0[off : off+ix.stride0 : off+ix.stride0]
	}
	off := (level - 1) * ix.strideU
	return p.upper[row][off : off+ix.strideU : off+ix.strideU]
}

// greedy is SEARCH-LAYER with ef=1 on an upper level: move to the nearest
// neighbour while it improves.
func (ix *Index) greedy(pgs *[]*page, q []float32, cur uint32, curD float32, level int) (uint32, float32) {
	for changed := true; changed; {
		changed = false
		block := ix.linkBlock(pgs, cur, level)
		n := min(int(atomic.LoadUint32(&block[0])), len(block)-1)
		for i := 1; i <= n; i++ {
			prefetch(&ix.vecOf(pgs, atomic.LoadUint32(&block[i]))[0], ix.pfLines)
		}
		for i := 1; i <= n; i++ {
			id := atomic.LoadUint32(&block[i])
			if d := ix.dist(q, ix.vecOf(pgs, id)); d < curD {
				cur, curD, changed = id, d, true
			}
		}
	}
	return cur, curD
}

// searchLayer is the paper's SEARCH-LAYER (Algorithm 2) on the candidates and
// results already seeded in s. allow, when non-nil, restricts what enters the
// results; every node is still traversed. Because the stop test needs ef
// results, a filtered search keeps expanding until it holds ef allowed nodes
// or has exhausted what is reachable.
func (ix *Index) searchLayer(s *searcher, pgs *[]*page, q []float32, level, ef int, allow func(uint32) bool) {
	for len(s.cand) > 0 {
		c := s.cand[0]
		if len(s.res) >= ef && c.d > s.res[0].d {
			break
		}
		s.cand = popMin(s.cand)

		block := ix.linkBlock(pgs, c.id, level)
		n := min(int(atomic.LoadUint32(&block[0])), len(block)-1)
		nb := s.nbuf[:0]
		for i := 1; i <= n; i++ {
			if id := atomic.LoadUint32(&block[i]); s.visit(id) {
				nb = append(nb, id)
				prefetch(&ix.vecOf(pgs, id)[0], ix.pfLines)
			}
		}
		for _, id := range nb {
			d := ix.dist(q, ix.vecOf(pgs, id))
			if len(s.res) < ef || d < s.res[0].d {
				s.cand = pushMin(s.cand, item{d, id})
				if allow == nil || allow(id) {
					s.res = pushBounded(s.res, item{d, id}, ef)
				}
			}
		}
		s.nbuf = nb
	}
}

// drainSorted empties the result heap into s.w, nearest first.
func (s *searcher) drainSorted() []item {
	n := len(s.res)
	if cap(s.w) < n {
		s.w = make([]item, n)
	}
	w := s.w[:n]
	for i := n - 1; i >= 0; i-- {
		w[i] = s.res[0]
		s.res = popMax(s.res)
	}
	s.w = w
	return w
}

// Search returns up to k nodes nearest to q, nearest first, exploring with a
// candidate list of max(ef, k) (DefaultEf when ef <= 0). Larger ef is slower
// and more accurate. When allow is non-nil only ids for which it
// returns true are returned, but all nodes are traversed; the search widens
// beyond ef until it holds ef allowed nodes or has visited everything
// reachable, so k results come back whenever k allowed nodes are reachable.
// allow is called from the searching goroutine only, at most once per
// visited node.
//
// Search may run concurrently with other searches and with Add; a node whose
// Add has not returned may or may not be found. It returns nil for an empty
// index or k <= 0, and ErrDimMismatch or ErrInvalidVector for a bad query.
func (ix *Index) Search(q []float32, k, ef int, allow func(uint32) bool) ([]Result, error) {
	if len(q) != ix.dim {
		return nil, fmt.Errorf("%w: query has %d, index has %d", ErrDimMismatch, len(q), ix.dim)
	}
	for _, x := range q {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, ErrInvalidVector
		}
	}
	if k <= 0 {
		return nil, nil
	}
	if ef <= 0 {
		ef = DefaultEf
	}
	ef = max(ef, k)
	epID, epLevel, ok := ix.loadEntry()
	if !ok {
		return nil, nil
	}
	pgs := *ix.pages.Load()
	s := ix.getSearcher(len(pgs) << ix.pageShift)
	// The kernels align their second operand (the row); an aligned query
	// then makes every load of both operands a single cache line.
	q = s.q[:copy(s.q, q)]
	cur := epID
	curD := ix.dist(q, ix.vecOf(&pgs, cur))
	for l := epLevel; l > 0; l-- {
		cur, curD = ix.greedy(&pgs, q, cur, curD, l)
	}
	s.visit(cur)
	s.cand = pushMin(s.cand, item{curD, cur})
	if allow == nil || allow(cur) {
		s.res = pushMax(s.res, item{curD, cur})
	}
	ix.searchLayer(s, &pgs, q, 0, ef, allow)
	for len(s.res) > k {
		s.res = popMax(s.res)
	}
	w := s.drainSorted()
	out := make([]Result, len(w))
	for i, it := range w {
		out[i] = Result{ID: it.id, Score: ix.score(it.d)}
	}
	ix.putSearcher(s)
	return out, nil
}
