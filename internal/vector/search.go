package vector

// Search and its planner.
//
// A search probes every segment (in parallel once a collection has
// ParallelProbeMinSegments segments) and merges the per-segment top-k into
// the answer: score descending, ties by id ascending. Scores are computed
// on the full float32 vectors, by the graph or by an exact scan, so every
// returned score is exact; only the candidate set of a graph search is
// approximate.
//
// Per segment the planner picks:
//
//   - unfiltered: the graph for the locals it holds (below the indexer's
//     watermark) and an exact scan of the rest; segments of at most
//     smallSegment vectors are scanned exactly;
//   - filtered: the metadata index answers the filter with a bitmap M of
//     matching internal ids. If the segment holds at most
//     exactThreshold(n, ef) = max(exactScanMin, √(plannerC·ef·n)) of them,
//     those are scored exactly (cost ∝ |M|); otherwise the graph is
//     traversed with M as the allow-list (cost ∝ ef/selectivity), plus an
//     exact scan of the unindexed tail.
//
// Either way k results come back whenever k matching points exist: if a
// graph search returns fewer than k while the segment provably holds more
// allowed points (disconnected by tombstones, say), the segment is
// re-scanned exactly.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/jsonx"
	"github.com/luma-db/luma/internal/vector/distance"
)

const (
	smallSegment = 512
	exactScanMin = 1024
	// plannerC places the crossover between an exact scan of the matches
	// and a filtered graph traversal; measured (docs/BENCHMARKS.md, planner
	// table) at about 4 500 matches of 65 536 for 768-d and 4 900 of 32 768
	// for 128-d with ef 64, which √(8·ef·n) approximates.
	plannerC      = 8
	maxGroupByLen = 256
)

// exactThreshold is the largest number of matching vectors of a segment
// that the planner scores exactly rather than through the graph.
func (s *Store) exactThreshold(n uint32, ef int) int {
	if t := s.forcedThreshold.Load(); t > 0 {
		return int(t)
	}
	if s.opts.exactThreshold > 0 {
		return s.opts.exactThreshold
	}
	return max(exactScanMin, int(math.Sqrt(plannerC*float64(ef)*float64(n))))
}

// ForcePlannerPath makes filtered searches of s take one planner path,
// "exact" or "graph"; "" restores the planner. It is meant for benchmarks
// that place the planner's threshold.
func ForcePlannerPath(s *Store, path string) {
	switch path {
	case "exact":
		s.forcedThreshold.Store(math.MaxInt32)
	case "graph":
		s.forcedThreshold.Store(1)
	default:
		s.forcedThreshold.Store(0)
	}
}

// SearchRequest is a vector search.
type SearchRequest struct {
	Vector []float32
	K      int
	// Filters is the raw filter JSON (nil or null: none); see package filter.
	Filters       json.RawMessage
	IncludeMeta   bool
	IncludeVector bool
	// Ef is the graph search breadth (0 = the collection's ef_search); at
	// least K is used.
	Ef int
	// GroupBy, when set, groups hits by the value of this meta field path;
	// K is then the number of groups and GroupLimit (0 = 1) the hits per
	// group.
	GroupBy    string
	GroupLimit int
}

// Hit is one search result.
type Hit struct {
	ID     string
	Score  float32
	Meta   []byte    // JSON, nil = null (always nil without IncludeMeta)
	Vector []float32 // only with IncludeVector
}

// Group is one group of a grouped search.
type Group struct {
	// Value is the group's field value as JSON (null for points without
	// the field).
	Value json.RawMessage
	// Count is the number of points of the group matching the filter.
	Count int64
	Hits  []Hit
}

// SearchResult is the answer to a search.
type SearchResult struct {
	Hits   []Hit
	Groups []Group // nil unless GroupBy was set
}

// cand is a scored slot.
type cand struct {
	score float32
	sg    *segment
	local uint32
}

func (x cand) id() string { return x.sg.slot(x.local).id }

// better orders candidates: higher score first, then smaller id.
func better(a, b cand) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.id() < b.id()
}

// topk keeps the k best candidates in a heap whose root is the worst.
type topk struct {
	k int
	h []cand
}

func (t *topk) push(x cand) {
	if len(t.h) < t.k {
		t.h = append(t.h, x)
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !better(t.h[p], t.h[i]) {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	if !better(x, t.h[0]) {
		return
	}
	t.h[0] = x
	n, i := len(t.h), 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && better(t.h[c], t.h[r]) {
			c = r
		}
		if !better(t.h[i], t.h[c]) {
			break
		}
		t.h[i], t.h[c] = t.h[c], t.h[i]
		i = c
	}
}

// admits reports whether a candidate of score s could enter.
func (t *topk) admits(s float32) bool { return len(t.h) < t.k || s >= t.h[0].score }

func (t *topk) sorted() []cand {
	out := slices.Clone(t.h)
	slices.SortFunc(out, func(a, b cand) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return out
}

// searchStats counts how segments were searched.
type searchStats struct {
	graph, exact, fallback atomic.Int32
}

func (st *searchStats) path() string {
	g, e := st.graph.Load(), st.exact.Load()
	switch {
	case g == 0 && e == 0:
		return "empty"
	case g == 0:
		return "exact"
	case e == 0:
		return "graph"
	}
	return "mixed"
}

func (c *Collection) score(q, v []float32) float32 {
	if c.cfg.Metric == L2 {
		return -float32(math.Sqrt(float64(distance.L2Sq(q, v))))
	}
	return distance.Dot(q, v)
}

func (c *Collection) graphScore(s float32) float32 {
	if c.cfg.Metric == L2 {
		return -float32(math.Sqrt(float64(s)))
	}
	return s
}

// rangeCard counts the members of m in [lo, end).
func rangeCard(m *roaring.Bitmap, lo uint32, end uint64) uint64 {
	var below uint64
	if lo > 0 {
		below = m.Rank(lo - 1)
	}
	top := m.GetCardinality()
	if end <= math.MaxUint32 {
		top = m.Rank(uint32(end - 1))
	}
	return top - below
}

// scanRange scores locals [from, to) of sg exactly.
func (c *Collection) scanRange(sg *segment, q []float32, from, to uint32, m *roaring.Bitmap, t *topk) {
	arena := sg.arena.Load()
	for l := from; l < to; l++ {
		iid := sg.iidOf(l)
		if c.dead.has(iid) || (m != nil && !m.Contains(iid)) {
			continue
		}
		var v []float32
		if arena != nil {
			v = arena.Vector(l)
		}
		if v == nil {
			if v = sg.vec(l); v == nil {
				continue
			}
		}
		if s := c.score(q, v); t.admits(s) {
			t.push(cand{s, sg, l})
		}
	}
}

// scanIDs scores the members of m in the segment's range exactly.
func (c *Collection) scanIDs(sg *segment, q []float32, m *roaring.Bitmap, end uint64, n uint32, t *topk) {
	it := m.Iterator()
	it.AdvanceIfNeeded(sg.lo)
	for it.HasNext() {
		iid := it.Next()
		if uint64(iid) >= end {
			break
		}
		local, ok := sg.localOf(iid)
		if !ok || local >= n || c.dead.has(iid) {
			continue
		}
		v := sg.vec(local)
		if v == nil {
			continue
		}
		if s := c.score(q, v); t.admits(s) {
			t.push(cand{s, sg, local})
		}
	}
}

// searchSegment returns the segment's best k candidates for q, restricted
// to m when it is not nil. end is the end of the segment's iid range.
func (c *Collection) searchSegment(sg *segment, end uint64, q []float32, k, ef int, m *roaring.Bitmap, st *searchStats) []cand {
	n := sg.n.Load()
	if n == 0 {
		return nil
	}
	t := &topk{k: k}
	var matches uint64
	if m != nil {
		matches = rangeCard(m, sg.lo, end)
		if matches == 0 {
			return nil
		}
		if sg.graph == nil || matches <= uint64(c.st.exactThreshold(n, ef)) {
			c.scanIDs(sg, q, m, end, n, t)
			st.exact.Add(1)
			return t.h
		}
	}
	w := uint32(0)
	if sg.graph != nil {
		w = min(sg.indexed.Load(), n)
	}
	if w == 0 || (m == nil && n <= smallSegment) {
		c.scanRange(sg, q, 0, n, m, t)
		st.exact.Add(1)
		return t.h
	}
	deleted := sg.deleted.Load()
	var allow func(uint32) bool
	if m != nil || deleted > 0 || w < n {
		allow = func(l uint32) bool {
			if l >= w {
				return false
			}
			iid := sg.iidOf(l)
			return !c.dead.has(iid) && (m == nil || m.Contains(iid))
		}
	}
	res, err := sg.graph.Search(q, k, ef, allow)
	if err != nil {
		c.st.log.Error("graph search failed", "collection", c.cfg.Name, "segment", sg.seq, "err", err)
	}
	st.graph.Add(1)
	// Allowed points the graph holds, at least.
	var inGraph int64
	if m == nil {
		inGraph = int64(w) - deleted
	} else {
		inGraph = int64(rangeCard(m, sg.lo, uint64(sg.iidOf(w-1))+1)) - deleted
	}
	if int64(len(res)) < min(int64(k), inGraph) {
		st.fallback.Add(1)
		c.scanRange(sg, q, 0, n, m, t)
		return t.h
	}
	for _, r := range res {
		t.push(cand{c.graphScore(r.Score), sg, r.ID})
	}
	if w < n {
		c.scanRange(sg, q, w, n, m, t)
	}
	return t.h
}

// topK searches every segment and merges their candidates.
func (c *Collection) topK(q []float32, k, ef int, m *roaring.Bitmap, st *searchStats) []cand {
	segs := c.segments()
	ends := make([]uint64, len(segs))
	for i := range segs {
		ends[i] = math.MaxUint32 + 1
		if i+1 < len(segs) {
			ends[i] = uint64(segs[i+1].lo)
		}
	}
	o := &c.st.opts
	t := &topk{k: k}
	if o.ParallelProbe && o.SearchThreads > 1 && len(segs) >= o.ParallelProbeMinSegments {
		results := make([][]cand, len(segs))
		var next atomic.Int32
		var wg sync.WaitGroup
		for range min(o.SearchThreads, len(segs)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(segs) {
						return
					}
					results[i] = c.searchSegment(segs[i], ends[i], q, k, ef, m, st)
				}
			}()
		}
		wg.Wait()
		for _, r := range results {
			for _, x := range r {
				t.push(x)
			}
		}
	} else {
		for i, sg := range segs {
			for _, x := range c.searchSegment(sg, ends[i], q, k, ef, m, st) {
				t.push(x)
			}
		}
	}
	return t.sorted()
}

// evalFilter answers f with the live internal ids matching it.
func (c *Collection) evalFilter(f *filter.Filter) *roaring.Bitmap {
	sure, maybe := c.meta.EvalSplit(f)
	if !maybe.IsEmpty() {
		segs := c.segments()
		it := maybe.Iterator()
		for it.HasNext() {
			iid := it.Next()
			sg := locate(segs, iid)
			if sg == nil {
				continue
			}
			local, ok := sg.localOf(iid)
			if !ok || local >= sg.n.Load() {
				continue
			}
			if f.Match(decodeMeta(sg.slot(local).meta)) {
				sure.Add(iid)
			}
		}
	}
	return sure
}

// checkSearch validates a request in the contract's order (k, vector
// length, filters size) and parses the filter.
func (s *Store) checkSearch(req *SearchRequest) (*filter.Filter, error) {
	if req.K < 1 || req.K > s.lim.MaxK {
		return nil, ErrInvalidK
	}
	if err := s.lim.CheckVectorLen(len(req.Vector)); err != nil {
		return nil, err
	}
	var f *filter.Filter
	if len(req.Filters) > 0 {
		if int64(len(req.Filters)) > s.lim.MaxJSONBytes {
			if _, err := compactJSON(req.Filters, s.lim.MaxJSONBytes, ErrFiltersTooLarge); err != nil {
				return nil, ErrFiltersTooLarge
			}
		}
		var err error
		if f, err = filter.Parse(req.Filters, nil); err != nil {
			return nil, err
		}
	}
	if req.Ef < 0 || req.Ef > maxEfs {
		return nil, fmt.Errorf("%w: ef must be in 1..%d", ErrInvalidSearch, maxEfs)
	}
	if req.GroupBy != "" {
		if len(req.GroupBy) > maxGroupByLen || strings.HasPrefix(req.GroupBy, "$") {
			return nil, fmt.Errorf("%w: group_by must be a meta field path of at most %d bytes, not starting with $", ErrInvalidSearch, maxGroupByLen)
		}
		if req.GroupLimit < 0 || req.GroupLimit > s.lim.MaxK {
			return nil, fmt.Errorf("%w: group_limit must be in 0..%d (0 means 1)", ErrInvalidSearch, s.lim.MaxK)
		}
	}
	return f, nil
}

// Search runs a search. Checks, in order: collection name, k, vector
// length, filters size and syntax, other parameters, collection, dim,
// finite values.
func (s *Store) Search(ctx context.Context, coll string, req SearchRequest) (SearchResult, error) {
	start := time.Now()
	if err := s.lim.CheckName(coll); err != nil {
		return SearchResult{}, err
	}
	f, err := s.checkSearch(&req)
	if err != nil {
		return SearchResult{}, err
	}
	c, err := s.collection(coll)
	if err != nil {
		return SearchResult{}, err
	}
	q, _, err := c.prepareVector(req.Vector)
	if err != nil {
		return SearchResult{}, err
	}
	res, path, err := c.search(ctx, q, req, f)
	if err != nil {
		return SearchResult{}, err
	}
	s.opts.Metrics.AddVectorOp(1)
	s.met.observeSearch(path, f != nil && !f.MatchesAll(), time.Since(start))
	return res, nil
}

func (c *Collection) search(ctx context.Context, q []float32, req SearchRequest, f *filter.Filter) (SearchResult, string, error) {
	st := &searchStats{}
	empty := SearchResult{Hits: []Hit{}}
	if req.GroupBy != "" {
		empty.Groups = []Group{}
	}
	var m *roaring.Bitmap
	if f != nil && !f.MatchesAll() {
		if _, none := f.Root.(*filter.None); none {
			return empty, "empty", nil
		}
		m = c.evalFilter(f)
		if m.IsEmpty() {
			return empty, "empty", nil
		}
	}
	ef := c.cfg.EfS
	if req.Ef > 0 {
		ef = req.Ef
	}
	ef = max(ef, req.K)
	if err := ctx.Err(); err != nil {
		return SearchResult{}, "", err
	}
	if req.GroupBy != "" {
		res := c.searchGrouped(q, req, ef, m, st)
		return res, st.path(), nil
	}
	cands := c.rescore(q, c.topK(q, req.K, ef, m, st))
	return SearchResult{Hits: c.hits(cands, req)}, st.path(), nil
}

// exactScore re-scores a final candidate in float64: the cosine of the
// unit vectors (so identical vectors score exactly 1), or the negated
// Euclidean distance.
func (c *Collection) exactScore(q []float32, x cand) float32 {
	v := x.sg.vec(x.local)
	if v == nil {
		return x.score
	}
	if c.cfg.Metric == L2 {
		var d float64
		for i := range q {
			e := float64(q[i]) - float64(v[i])
			d += e * e
		}
		return float32(-math.Sqrt(d))
	}
	var dot, nq, nv float64
	for i := range q {
		dot += float64(q[i]) * float64(v[i])
		nq += float64(q[i]) * float64(q[i])
		nv += float64(v[i]) * float64(v[i])
	}
	if nq == 0 || nv == 0 {
		return 0
	}
	return float32(max(-1, min(1, dot/(math.Sqrt(nq)*math.Sqrt(nv)))))
}

// rescore replaces the scores of final candidates by exact ones and
// re-sorts them.
func (c *Collection) rescore(q []float32, cands []cand) []cand {
	for i := range cands {
		cands[i].score = c.exactScore(q, cands[i])
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return cands
}

// hits turns candidates into results.
func (c *Collection) hits(cands []cand, req SearchRequest) []Hit {
	out := make([]Hit, len(cands))
	for i, x := range cands {
		sl := x.sg.slot(x.local)
		h := Hit{ID: sl.id, Score: x.score}
		if req.IncludeMeta {
			h.Meta = sl.meta
		}
		if req.IncludeVector {
			h.Vector = c.storedVector(x)
		}
		out[i] = h
	}
	return out
}

// storedVector returns the vector of a candidate as get returns it: the
// raw vector for cosine collections (read from its record), the indexed
// one otherwise.
func (c *Collection) storedVector(x cand) []float32 {
	if c.cfg.Metric == Cosine {
		if v, err := c.st.db.Get(vectorKey(c.cfg.Name, x.sg.iidOf(x.local))); err == nil {
			if vec, err := decodeVector(v, c.cfg.Dim); err == nil {
				return vec
			}
		}
	}
	return slices.Clone(x.sg.vec(x.local))
}

// Grouped search.
//
// Hits are grouped by the value of the GroupBy field (compared as filter
// literals: arrays and objects whole, 1 equal to 1.0; a point without the
// field falls in the null group). Groups are ranked by their best hit;
// each keeps its GroupLimit best hits; Count is the number of points of
// the group matching the filter. The search widens its candidate list
// until it has seen K groups (any group it has not seen scores no higher
// than every candidate, so the K groups found are the top K), then a group
// whose candidates are fewer than GroupLimit and fewer than its Count gets
// its own search restricted to the group.

type groupAcc struct {
	key   string
	value any
	cands []cand
}

func (c *Collection) searchGrouped(q []float32, req SearchRequest, ef int, m *roaring.Bitmap, st *searchStats) SearchResult {
	gl := max(req.GroupLimit, 1)
	k := req.K
	total := uint64(c.live.Load())
	if m != nil {
		total = m.GetCardinality()
	}
	want := max(2*k*gl, 32)
	maxCand := max(4096, 4*k*gl)
	var groups []*groupAcc
	for {
		cands := c.topK(q, want, max(ef, want), m, st)
		groups = groupCands(c, cands, req.GroupBy)
		if len(groups) >= k || len(cands) < want || uint64(want) >= total || want >= maxCand {
			break
		}
		want = min(2*want, maxCand)
	}
	if len(groups) > k {
		groups = groups[:k]
	}
	out := SearchResult{Hits: []Hit{}, Groups: make([]Group, 0, len(groups))}
	for _, g := range groups {
		gm := c.groupBitmap(req.GroupBy, g.value, m)
		count := int64(gm.GetCardinality())
		cands := g.cands
		if len(cands) < gl && int64(len(cands)) < count {
			cands = c.topK(q, gl, max(ef, gl), gm, st)
		}
		if len(cands) > gl {
			cands = cands[:gl]
		}
		hits := c.hits(c.rescore(q, slices.Clone(cands)), req)
		val, _ := json.Marshal(g.value)
		out.Groups = append(out.Groups, Group{Value: val, Count: max(count, int64(len(hits))), Hits: hits})
		out.Hits = append(out.Hits, hits...)
	}
	return out
}

// groupCands groups sorted candidates by field, keeping first-seen order
// (which is the groups' rank).
func groupCands(c *Collection, cands []cand, field string) []*groupAcc {
	idx := map[string]*groupAcc{}
	var out []*groupAcc
	for _, x := range cands {
		doc := decodeMeta(x.sg.slot(x.local).meta)
		v, ok := filter.Resolve(doc, field)
		if !ok {
			v = nil
		}
		key := canonicalKey(v)
		g := idx[key]
		if g == nil {
			g = &groupAcc{key: key, value: v}
			idx[key] = g
			out = append(out, g)
		}
		g.cands = append(g.cands, x)
	}
	return out
}

// groupBitmap returns the live points of the group (field = value, or the
// field missing or null for the null group), within m when not nil.
func (c *Collection) groupBitmap(field string, value any, m *roaring.Bitmap) *roaring.Bitmap {
	var fv any
	switch v := value.(type) {
	case nil:
		fv = map[string]any{"$or": []any{
			map[string]any{field: nil},
			map[string]any{field: map[string]any{"$exists": false}},
		}}
	case map[string]any:
		fv = map[string]any{field: map[string]any{"$eq": v}}
	default:
		fv = map[string]any{field: v}
	}
	f, err := filter.ParseValue(fv, &filter.Options{MaxDepth: 1 << 10, MaxClauses: 1 << 20})
	if err != nil {
		return roaring.New()
	}
	b := c.evalFilter(f)
	if m != nil {
		b.And(m)
	}
	return b
}

// canonicalKey renders a decoded JSON value so that values Equal as filter
// literals get the same key.
func canonicalKey(v any) string {
	var b strings.Builder
	writeCanonical(&b, v)
	return b.String()
}

func writeCanonical(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		b.Write(jsonx.AppendString(nil, x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(jsonx.AppendString(nil, k))
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	default:
		if n, ok := filter.AsNumber(x); ok {
			b.WriteString(n.String())
			return
		}
		fmt.Fprint(b, x)
	}
}
