package docstore

// find: filter, order, page.
//
// Every plan produces candidates and re-checks each against the current
// document with the full filter, so an index only has to return a superset
// of the matches (its entries may also be stale after a write through
// /v1/state; re-checking hides that). Results are ordered by a position:
//
//	no sort:    id ascending
//	sort asc:   documents whose field is a scalar, by (enc(value), id)
//	            ascending, then the rest (field missing, array or object) by id
//	sort desc:  the scalar part by (enc(value), id) descending, then the
//	            rest by id ascending ("missing values last" in both orders)
//
// enc is the index's order-preserving encoding (keys.go), so the scan and the
// index order documents identically, and a cursor is simply the last
// position returned: the next page starts strictly after it, whichever plan
// serves it (keyset paging, stable under concurrent writes).

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
)

// Find errors.
var (
	ErrInvalidCursor  = errors.New("docstore: invalid cursor")
	ErrCursorMismatch = errors.New("docstore: cursor was made for another sort")
	ErrInvalidSort    = errors.New("docstore: invalid sort")
	ErrFilterTooLarge = errors.New("docstore: filter too large")
)

// DefaultFindLimit is the page size when a find gives none.
const DefaultFindLimit = 20

// Sort orders a find by one field.
type Sort struct {
	Field string
	Desc  bool
}

// Query is a find request.
type Query struct {
	// Filter is the filter JSON (internal/filter); nil or null or {} match
	// every document, a non-object matches none.
	Filter json.RawMessage
	// Limit is the page size, clamped to 1..MaxFind; 0 means DefaultFindLimit.
	Limit int
	// Sort, when set, orders by a field instead of by id.
	Sort *Sort
	// Cursor continues after the last document of a previous page (its
	// NextCursor); it must come from a find with the same Sort.
	Cursor string
}

// Result is one page of a find.
type Result struct {
	Docs []Doc
	// NextCursor continues after the last document; "" when there is no more.
	NextCursor string
	// IndexUsed names the index (its field) the plan used, "" for a scan.
	IndexUsed string
	// Scanned counts the documents read and checked against the filter.
	Scanned int
}

// CheckSort validates a sort.
func CheckSort(so *Sort) error {
	if so == nil {
		return nil
	}
	switch {
	case so.Field == "":
		return fmt.Errorf("%w: sort.field must not be empty", ErrInvalidSort)
	case len(so.Field) > MaxFieldLen:
		return fmt.Errorf("%w: sort.field longer than %d bytes", ErrInvalidSort, MaxFieldLen)
	case !utf8.ValidString(so.Field):
		return fmt.Errorf("%w: sort.field must be valid UTF-8", ErrInvalidSort)
	}
	return nil
}

// parseQuery validates a query and parses its filter and cursor, without
// reading any data.
func (s *Store) parseQuery(q Query) (*filter.Filter, position, bool, int, error) {
	limit := q.Limit
	if limit == 0 {
		limit = DefaultFindLimit
	}
	limit = min(max(limit, 1), s.lim.MaxFind)
	if len(q.Filter) > s.lim.MaxJSONBytes {
		return nil, position{}, false, 0, ErrFilterTooLarge
	}
	f, err := filter.Parse(q.Filter, nil)
	if err != nil {
		return nil, position{}, false, 0, err
	}
	if err := CheckSort(q.Sort); err != nil {
		return nil, position{}, false, 0, err
	}
	var cur position
	hasCur := q.Cursor != ""
	if hasCur {
		if cur, err = decodeCursor(q.Cursor, q.Sort); err != nil {
			return nil, position{}, false, 0, err
		}
	}
	return f, cur, hasCur, limit, nil
}

// Find returns one page of the documents of c that match q.Filter, in the
// order q.Sort asks (by id without one). It uses a ready index when the
// filter has an indexable predicate (equality, $in or a range on an indexed
// field) or the sort field has a ready auto index, and scans otherwise;
// Result.IndexUsed and Result.Scanned say which and how much. Reads see
// each document as committed when read (no snapshot across the page).
func (s *Store) Find(ctx context.Context, c string, q Query) (Result, error) {
	if err := s.CheckCollection(c); err != nil {
		return Result{}, err
	}
	f, cur, hasCur, limit, err := s.parseQuery(q)
	if err != nil {
		return Result{}, err
	}
	if _, none := f.Root.(*filter.None); none {
		return Result{Docs: []Doc{}}, nil
	}
	defs, err := s.committedDefs(c)
	if err != nil {
		return Result{}, err
	}
	r := &run{
		s: s, ctx: ctx, c: c, f: f, sort: q.Sort, limit: limit,
		cur: cur, hasCur: hasCur, prefix: docKeyPrefix(c),
	}
	sortField := ""
	if q.Sort != nil {
		sortField = q.Sort.Field
	}
	r.proj = filterProjection(f, sortField)
	pl := choosePlan(c, f, q.Sort, defs)
	if pl.alt != nil {
		// A sorted lookup reads every candidate to sort them; when the
		// equality is not selective, walking the sort index and filtering
		// reads far fewer documents.
		n, err := r.countCapped(pl, lookupSortCap(limit))
		if err != nil {
			return Result{}, err
		}
		if n > lookupSortCap(limit) {
			pl = *pl.alt
		}
	}
	switch pl.kind {
	case planOrdered:
		err = r.ordered(pl)
	case planLookup:
		err = r.lookup(pl)
	default:
		err = r.scan()
	}
	if err != nil {
		return Result{}, err
	}
	return r.result(pl), nil
}

// position is where a document sits in the result order.
type position struct {
	rest bool   // sorted: the field is missing or not a scalar; unsorted: always true
	enc  []byte // enc(value) when !rest
	id   string
}

// before reports whether a comes before b in the order of a find sorted by
// so (nil = by id).
func before(so *Sort, a, b position) bool {
	if a.rest != b.rest {
		return !a.rest
	}
	if a.rest {
		return a.id < b.id
	}
	c := bytes.Compare(a.enc, b.enc)
	if c == 0 {
		c = strings.Compare(a.id, b.id)
	}
	if so != nil && so.Desc {
		return c > 0
	}
	return c < 0
}

// positionOf returns the position of a decoded document.
func positionOf(so *Sort, id string, doc any) position {
	if so == nil {
		return position{rest: true, id: id}
	}
	v, ok := filter.Resolve(doc, so.Field)
	if !ok || !isScalar(v) {
		return position{rest: true, id: id}
	}
	enc, _ := encodeScalar(nil, v)
	return position{enc: enc, id: id}
}

// Cursor: base64url (unpadded) of
//
//	version(1) | flags(1: 1 sorted, 2 desc, 4 rest) | [lp(sort field)] | [lp(enc)] | id
const cursorVersion = 1

const (
	curSorted = 1 << iota
	curDesc
	curRest
)

func encodeCursor(so *Sort, p position) string {
	b := []byte{cursorVersion, 0}
	if so != nil {
		b[1] |= curSorted
		if so.Desc {
			b[1] |= curDesc
		}
		b = appendLP(b, so.Field)
		if p.rest {
			b[1] |= curRest
		} else {
			b = appendLP(b, string(p.enc))
		}
	}
	b = append(b, p.id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, so *Sort) (position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != cursorVersion || b[1]&^(curSorted|curDesc|curRest) != 0 {
		return position{}, ErrInvalidCursor
	}
	flags, p := b[1], b[2:]
	if (flags&curSorted != 0) != (so != nil) {
		return position{}, ErrCursorMismatch
	}
	if so == nil {
		if flags != 0 {
			return position{}, ErrInvalidCursor
		}
		return position{rest: true, id: string(p)}, nil
	}
	field, p, ok := readLP(p)
	if !ok {
		return position{}, ErrInvalidCursor
	}
	if field != so.Field || (flags&curDesc != 0) != so.Desc {
		return position{}, ErrCursorMismatch
	}
	if flags&curRest != 0 {
		return position{rest: true, id: string(p)}, nil
	}
	enc, p, ok := readLP(p)
	if !ok || encLen([]byte(enc)) != len(enc) {
		return position{}, ErrInvalidCursor
	}
	return position{enc: []byte(enc), id: string(p)}, nil
}

// Plans.

type planKind uint8

const (
	planScan planKind = iota
	planLookup
	planOrdered
)

// interval is [start, end) of absolute index keys.
type interval struct{ start, end []byte }

type plan struct {
	kind planKind
	def  indexDef
	// lookup: candidates are the ids in scalar and element intervals.
	// ordered: scalar intervals bound the ordered walk (nil = the whole
	// scalar band); when bounded is set, the rest of the order comes from
	// the element intervals (array documents), else from the rest band.
	scalar, element []interval
	bounded         bool
	// points: every lookup interval holds one value, so its ids come in
	// id order and an unsorted lookup can merge them and stop early.
	points bool
	// alt, for a sorted lookup, is the ordered walk of the sort field's
	// index; Find switches to it when the lookup has many candidates.
	alt *plan
}

// pred is an indexable predicate on one field.
type pred struct {
	eq              bool // equality or $in (preferred over ranges)
	scalar, element []interval
}

// choosePlan picks how to answer a find (see Find).
func choosePlan(c string, f *filter.Filter, so *Sort, defs []indexDef) plan {
	ready := make(map[string]indexDef)
	for _, d := range defs {
		if d.State == StateReady {
			ready[d.Field] = d
		}
	}
	if len(ready) == 0 {
		return plan{kind: planScan}
	}
	var conj []*filter.Cmp
	collectConjuncts(f.Root, &conj)
	// The best predicate per indexed field, in filter order.
	var fields []string
	preds := make(map[string]pred)
	for _, cmp := range conj {
		d, ok := ready[cmp.Field]
		if !ok || slices.Contains(fields, cmp.Field) {
			continue
		}
		if p, ok := indexPred(c, d, conj); ok {
			fields = append(fields, cmp.Field)
			preds[cmp.Field] = p
		}
	}
	if so != nil {
		if d, ok := ready[so.Field]; ok && d.Type == TypeAuto {
			if p, ok := preds[so.Field]; ok {
				return plan{kind: planOrdered, def: d, scalar: p.scalar, element: p.element, bounded: true}
			}
			eqElsewhere := slices.ContainsFunc(fields, func(f string) bool { return preds[f].eq })
			if !eqElsewhere {
				return plan{kind: planOrdered, def: d}
			}
			best := bestPred(fields, preds)
			p := preds[best]
			return plan{kind: planLookup, def: ready[best], scalar: p.scalar, element: p.element, points: p.eq,
				alt: &plan{kind: planOrdered, def: d}}
		}
	}
	best := bestPred(fields, preds)
	if best == "" {
		return plan{kind: planScan}
	}
	p := preds[best]
	return plan{kind: planLookup, def: ready[best], scalar: p.scalar, element: p.element, points: p.eq}
}

// bestPred picks the field whose predicate drives a lookup: the first
// equality or $in, else the first range.
func bestPred(fields []string, preds map[string]pred) string {
	best := ""
	for _, f := range fields {
		if best == "" || (preds[f].eq && !preds[best].eq) {
			best = f
		}
	}
	return best
}

// collectConjuncts appends the comparisons that every match must satisfy
// (the top-level AND, flattened).
func collectConjuncts(n filter.Node, out *[]*filter.Cmp) {
	switch n := n.(type) {
	case *filter.And:
		for _, c := range n.Nodes {
			collectConjuncts(c, out)
		}
	case *filter.Cmp:
		*out = append(*out, n)
	}
}

// indexPred builds the candidate intervals for the conjuncts on d.Field,
// or reports false when none can use the index. The intervals must cover
// every document that satisfies those conjuncts (a superset is fine: each
// candidate is re-checked). Equality and $in are preferred; otherwise the
// ordering comparisons of the first literal kind the index holds are
// combined into one range.
func indexPred(c string, d indexDef, conj []*filter.Cmp) (pred, bool) {
	sp := append(fieldPrefix(c, d.Field), bandScalar)
	ep := append(fieldPrefix(c, d.Field), bandElement)
	for _, cmp := range conj {
		if cmp.Field != d.Field {
			continue
		}
		switch cmp.Op {
		case filter.OpEqual, filter.OpEq:
			enc, ok := encodeScalar(nil, cmp.Value)
			if !ok || !d.Type.accepts(enc[0]) {
				continue
			}
			p := pred{eq: true, scalar: []interval{point(sp, enc)}}
			if cmp.Op == filter.OpEq {
				// $eq also matches arrays holding the value; the plain
				// form compares arrays whole, so never matches them.
				p.element = []interval{point(ep, enc)}
			}
			return p, true
		case filter.OpIn:
			p := pred{eq: true}
			usable := true
			for _, v := range cmp.Values {
				enc, ok := encodeScalar(nil, v)
				if !ok || !d.Type.accepts(enc[0]) {
					usable = false
					break
				}
				p.scalar = append(p.scalar, point(sp, enc))
				p.element = append(p.element, point(ep, enc))
			}
			if usable {
				p.scalar, p.element = dedupe(p.scalar), dedupe(p.element)
				return p, true
			}
		}
	}
	var first *filter.Cmp
	var lo, hi []byte
	var tag byte
	for _, cmp := range conj {
		if cmp.Field != d.Field || !cmp.Op.Ordering() {
			continue
		}
		t := kindTag(cmp.Value)
		if !d.Type.accepts(t) || (first != nil && t != tag) {
			continue
		}
		l, h := rangeOf(sp, t, cmp)
		if first == nil {
			first, tag, lo, hi = cmp, t, l, h
			continue
		}
		if bytes.Compare(l, lo) > 0 {
			lo = l
		}
		if bytes.Compare(h, hi) < 0 {
			hi = h
		}
	}
	if first == nil {
		return pred{}, false
	}
	var p pred
	if bytes.Compare(lo, hi) < 0 {
		p.scalar = []interval{{start: lo, end: hi}}
	}
	// An array matches when, for each comparison, some element satisfies
	// it; the first comparison's range alone covers every such array.
	el, eh := rangeOf(ep, tag, first)
	if bytes.Compare(el, eh) < 0 {
		p.element = []interval{{start: el, end: eh}}
	}
	return p, true
}

// rangeOf returns the [lo, hi) keys of a band whose values satisfy one
// ordering comparison (values of the literal's kind only). A literal
// longer than MaxIndexedString is truncated like the stored values, so its
// bound is made inclusive.
func rangeOf(bandPrefix []byte, tag byte, cmp *filter.Cmp) (lo, hi []byte) {
	lo, hi = kindRange(bandPrefix, tag)
	enc, _ := encodeScalar(nil, cmp.Value)
	k := append(slices.Clip(bandPrefix), enc...)
	truncated := enc[0] == tagString && enc[len(enc)-1] == strTruncated
	switch cmp.Op {
	case filter.OpGt:
		if truncated {
			lo = k
		} else {
			lo = storage.PrefixEnd(k)
		}
	case filter.OpGte:
		lo = k
	case filter.OpLt:
		if truncated {
			hi = storage.PrefixEnd(k)
		} else {
			hi = k
		}
	case filter.OpLte:
		hi = storage.PrefixEnd(k)
	}
	return lo, hi
}

// dedupe sorts point intervals and drops repeats.
func dedupe(ivs []interval) []interval {
	slices.SortFunc(ivs, func(a, b interval) int { return bytes.Compare(a.start, b.start) })
	return slices.CompactFunc(ivs, func(a, b interval) bool { return bytes.Equal(a.start, b.start) })
}

// point returns the interval of every entry with exactly enc in a band.
func point(bandPrefix, enc []byte) interval {
	start := append(slices.Clip(bandPrefix), enc...)
	return interval{start: start, end: storage.PrefixEnd(start)}
}

// run is one find execution.
type run struct {
	s      *Store
	ctx    context.Context
	c      string
	f      *filter.Filter
	sort   *Sort
	limit  int
	cur    position
	hasCur bool
	prefix string     // state-key prefix of the collection's documents
	proj   projection // the top-level keys the filter and the sort read

	out     []hit // in result order, up to limit+1
	top     *hitHeap
	scanned int
}

type hit struct {
	pos position
	doc Doc
}

// afterCursor reports whether p comes after the cursor.
func (r *run) afterCursor(p position) bool {
	return !r.hasCur || before(r.sort, r.cur, p)
}

func (r *run) full() bool { return len(r.out) > r.limit }

// fetch reads document id and decodes it when the filter or the sort
// needs it. ok is false when the document does not exist any more.
func (r *run) fetch(id string) (Doc, any, bool, error) {
	it, err := r.s.st.Get(r.prefix + id)
	if errors.Is(err, state.ErrNotFound) {
		return Doc{}, nil, false, nil
	}
	if err != nil {
		return Doc{}, nil, false, err
	}
	d := Doc{ID: id, Revision: it.Revision, Doc: it.Value}
	v, err := r.decode(d)
	return d, v, err == nil, err
}

// decode counts and decodes one examined document (nil when neither the
// filter nor the sort reads it).
func (r *run) decode(d Doc) (any, error) {
	r.scanned++
	if r.f.MatchesAll() && r.sort == nil {
		return nil, nil
	}
	v, err := decodeProjected(d.Doc, r.proj)
	if err != nil {
		return nil, fmt.Errorf("docstore: stored document %s/%s: %w", r.c, d.ID, storage.ErrCorrupt)
	}
	return v, nil
}

// offer keeps a matching document for the sorted (heap) plans.
func (r *run) offer(h hit) {
	if r.top == nil {
		r.top = &hitHeap{so: r.sort}
	}
	if r.top.Len() <= r.limit {
		heap.Push(r.top, h)
		return
	}
	if before(r.sort, h.pos, r.top.h[0].pos) {
		r.top.h[0] = h
		heap.Fix(r.top, 0)
	}
}

// finishHeap moves the heap's content, sorted, to out.
func (r *run) finishHeap() {
	if r.top == nil {
		return
	}
	r.out = append(r.out, r.top.h...)
	slices.SortFunc(r.out, func(a, b hit) int {
		if before(r.sort, a.pos, b.pos) {
			return -1
		}
		return 1
	})
	r.top = nil
}

// hitHeap is a max-heap in result order: its root is the worst kept hit.
type hitHeap struct {
	so *Sort
	h  []hit
}

func (h *hitHeap) Len() int           { return len(h.h) }
func (h *hitHeap) Less(i, j int) bool { return before(h.so, h.h[j].pos, h.h[i].pos) }
func (h *hitHeap) Swap(i, j int)      { h.h[i], h.h[j] = h.h[j], h.h[i] }
func (h *hitHeap) Push(x any)         { h.h = append(h.h, x.(hit)) }
func (h *hitHeap) Pop() any {
	x := h.h[len(h.h)-1]
	h.h = h.h[:len(h.h)-1]
	return x
}

func (r *run) result(pl plan) Result {
	res := Result{Docs: make([]Doc, 0, min(len(r.out), r.limit)), Scanned: r.scanned}
	if pl.kind != planScan {
		res.IndexUsed = pl.def.Field
	}
	for i, h := range r.out {
		if i == r.limit {
			res.NextCursor = encodeCursor(r.sort, r.out[i-1].pos)
			break
		}
		res.Docs = append(res.Docs, h.doc)
	}
	return res
}

// scan walks every document of the collection in id order.
func (r *run) scan() error {
	after := ""
	if r.hasCur && r.sort == nil {
		after = r.prefix + r.cur.id
	}
	for {
		items, more, err := r.s.st.List(r.ctx, r.prefix, after, scanBatch)
		if err != nil {
			return err
		}
		for _, it := range items {
			d := Doc{ID: it.Key[len(r.prefix):], Revision: it.Revision, Doc: it.Value}
			v, err := r.decode(d)
			if err != nil {
				return err
			}
			if !r.matches(v) {
				continue
			}
			p := positionOf(r.sort, d.ID, v)
			if !r.afterCursor(p) {
				continue
			}
			if r.sort == nil {
				r.out = append(r.out, hit{pos: p, doc: d})
				if r.full() {
					return nil
				}
				continue
			}
			r.offer(hit{pos: p, doc: d})
		}
		if !more || len(items) == 0 {
			break
		}
		after = items[len(items)-1].Key
	}
	r.finishHeap()
	return nil
}

const scanBatch = 256

// matches reports whether a decoded document passes the filter.
func (r *run) matches(v any) bool { return r.f.MatchesAll() || r.f.Match(v) }

// lookupSortCap is how many candidates a sorted lookup may have before the
// ordered walk of the sort index is preferred.
func lookupSortCap(limit int) int { return max(1000, 20*limit) }

// countCapped counts the entries of a lookup's intervals, stopping past capN.
func (r *run) countCapped(pl plan, capN int) (int, error) {
	n := 0
	for _, iv := range append(slices.Clone(pl.scalar), pl.element...) {
		keys, _, err := r.scanCapped(iv.start, iv.end, capN-n)
		if err != nil {
			return 0, err
		}
		n += len(keys)
		if n > capN {
			break
		}
	}
	return n, nil
}

// lookupPoints answers an unsorted lookup whose intervals each hold one
// value: the ids of each interval come in id order, so it reads a batch of
// each, merges them, handles the ids below the smallest batch end (every
// candidate up to there is known) and continues from there with bigger
// batches — reading about a page of entries instead of every candidate.
func (r *run) lookupPoints(pl plan) error {
	fpl := len(r.s.bandPrefix(r.c, pl.def.Field, 0))
	ivs := append(slices.Clone(pl.scalar), pl.element...)
	after, hasAfter := r.cur.id, r.hasCur
	batch := 2 * (r.limit + 1)
	for {
		var ids []string
		var frontier string
		truncated := false
		for _, iv := range ivs {
			start := iv.start
			if hasAfter {
				start = append(append(slices.Clip(iv.start), after...), 0)
			}
			keys, full, err := r.scanCapped(start, iv.end, batch)
			if err != nil {
				return err
			}
			for _, k := range keys {
				_, id, ok := splitEntry(k, fpl)
				if !ok {
					return fmt.Errorf("docstore: index entry %q: %w", k, storage.ErrCorrupt)
				}
				ids = append(ids, id)
			}
			if full {
				if last := ids[len(ids)-1]; !truncated || last < frontier {
					frontier = last
				}
				truncated = true
			}
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		for _, id := range ids {
			if truncated && id > frontier {
				break
			}
			d, v, ok, err := r.fetch(id)
			if err != nil {
				return err
			}
			if ok && r.matches(v) {
				r.out = append(r.out, hit{pos: positionOf(nil, id, v), doc: d})
				if r.full() {
					return nil
				}
			}
		}
		if !truncated {
			return nil
		}
		after, hasAfter = frontier, true
		batch = min(batch*2, 1<<16)
	}
}

// lookup fetches the candidates an index returns, in id order when
// unsorted, through a top-k heap when sorted.
func (r *run) lookup(pl plan) error {
	if pl.points && r.sort == nil {
		return r.lookupPoints(pl)
	}
	ids, err := r.collectIDs(pl.def, append(slices.Clone(pl.scalar), pl.element...))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if r.sort == nil && r.hasCur && id <= r.cur.id {
			continue
		}
		d, v, ok, err := r.fetch(id)
		if err != nil {
			return err
		}
		if !ok || !r.matches(v) {
			continue
		}
		p := positionOf(r.sort, id, v)
		if r.sort == nil {
			r.out = append(r.out, hit{pos: p, doc: d})
			if r.full() {
				return nil
			}
			continue
		}
		if r.afterCursor(p) {
			r.offer(hit{pos: p, doc: d})
		}
	}
	r.finishHeap()
	return nil
}

// collectIDs returns the distinct ids of the entries in the intervals,
// sorted.
func (r *run) collectIDs(d indexDef, ivs []interval) ([]string, error) {
	seen := make(map[string]struct{})
	var ids []string
	for _, iv := range ivs {
		err := r.s.db.Scan(iv.start, iv.end, func(k, _ []byte) (bool, error) {
			if err := r.ctx.Err(); err != nil {
				return false, err
			}
			_, id, ok := splitEntry(k, len(r.s.bandPrefix(r.c, d.Field, 0)))
			if !ok {
				return false, fmt.Errorf("docstore: index entry %q: %w", k, storage.ErrCorrupt)
			}
			if _, dup := seen[id]; !dup {
				seen[id] = struct{}{}
				ids = append(ids, id)
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// bandPrefix returns the prefix of one band of an index (band 0: the
// field prefix, whose length plus one is where every band's payload starts).
func (s *Store) bandPrefix(c, field string, band byte) []byte {
	p := fieldPrefix(c, field)
	if band != 0 {
		p = append(p, band)
	}
	return p
}

// splitEntry splits an entry key into its encoded value (empty in the rest
// band) and id; fieldPrefixLen is the length of the index's field prefix.
func splitEntry(k []byte, fieldPrefixLen int) (enc []byte, id string, ok bool) {
	if len(k) <= fieldPrefixLen {
		return nil, "", false
	}
	band, p := k[fieldPrefixLen], k[fieldPrefixLen+1:]
	if band == bandRest {
		return nil, string(p), true
	}
	n := encLen(p)
	if n < 0 {
		return nil, "", false
	}
	return p[:n], string(p[n:]), true
}

// ordered walks the sort field's index in order: the scalar band (bounded
// by the filter's predicate on that field, if any), then the documents
// whose field is missing or not a scalar.
func (r *run) ordered(pl plan) error {
	fpl := len(r.s.bandPrefix(r.c, pl.def.Field, 0))
	scalarPrefix := r.s.bandPrefix(r.c, pl.def.Field, bandScalar)
	ivs := pl.scalar
	if !pl.bounded {
		ivs = []interval{{start: scalarPrefix, end: storage.PrefixEnd(scalarPrefix)}}
	}
	// Entries strictly after the cursor in key order (ascending).
	var curKey []byte
	if r.hasCur && !r.cur.rest {
		curKey = append(append(slices.Clip(scalarPrefix), r.cur.enc...), r.cur.id...)
	}
	visit := func(k []byte) (bool, error) {
		enc, id, ok := splitEntry(k, fpl)
		if !ok {
			return false, fmt.Errorf("docstore: index entry %q: %w", k, storage.ErrCorrupt)
		}
		d, v, ok, err := r.fetch(id)
		if err != nil || !ok {
			return err == nil, err
		}
		p := positionOf(r.sort, id, v)
		if p.rest || !bytes.Equal(p.enc, enc) {
			return true, nil // stale entry: the document moved
		}
		if r.matches(v) {
			r.out = append(r.out, hit{pos: p, doc: d})
		}
		return !r.full(), nil
	}
	if !(r.hasCur && r.cur.rest) {
		if r.sort.Desc {
			if err := r.walkDesc(ivs, curKey, visit); err != nil {
				return err
			}
		} else {
			if err := r.walkAsc(ivs, curKey, visit); err != nil {
				return err
			}
		}
	}
	if r.full() {
		return nil
	}
	return r.orderedRest(pl, fpl, r.visitRest)
}

// walkAsc visits the entries of sorted, disjoint intervals in key order,
// starting strictly after curKey.
func (r *run) walkAsc(ivs []interval, curKey []byte, visit func([]byte) (bool, error)) error {
	ivs = slices.Clone(ivs)
	slices.SortFunc(ivs, func(a, b interval) int { return bytes.Compare(a.start, b.start) })
	for _, iv := range ivs {
		start := iv.start
		if curKey != nil {
			if bytes.Compare(curKey, iv.end) >= 0 && iv.end != nil {
				continue
			}
			if after := append(slices.Clip(curKey), 0); bytes.Compare(after, start) > 0 {
				start = after
			}
		}
		stop := false
		err := r.s.db.Scan(start, iv.end, func(k, _ []byte) (bool, error) {
			if err := r.ctx.Err(); err != nil {
				return false, err
			}
			more, err := visit(k)
			stop = !more
			return more, err
		})
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// visitRest visits one document of the rest part of an ordered walk
// (sort field missing or not a scalar); ids come in ascending order.
func (r *run) visitRest(id string) (bool, error) {
	if r.hasCur && r.cur.rest && id <= r.cur.id {
		return true, nil
	}
	d, v, ok, err := r.fetch(id)
	if err != nil || !ok {
		return err == nil, err
	}
	p := positionOf(r.sort, id, v)
	if !p.rest {
		return true, nil // stale entry: the field holds a scalar now
	}
	if r.matches(v) {
		r.out = append(r.out, hit{pos: p, doc: d})
	}
	return !r.full(), nil
}

// orderedRest walks the rest part: the array documents that the element
// intervals of a bounded plan return (only they can satisfy a predicate on
// the sort field without a scalar value there), or the whole rest band.
func (r *run) orderedRest(pl plan, fpl int, visit func(string) (bool, error)) error {
	if pl.bounded {
		ids, err := r.collectIDs(pl.def, pl.element)
		if err != nil {
			return err
		}
		for _, id := range ids {
			more, err := visit(id)
			if err != nil || !more {
				return err
			}
		}
		return nil
	}
	restPrefix := r.s.bandPrefix(r.c, pl.def.Field, bandRest)
	start := restPrefix
	if r.hasCur && r.cur.rest {
		start = append(append(slices.Clip(restPrefix), r.cur.id...), 0)
	}
	return r.s.db.Scan(start, storage.PrefixEnd(restPrefix), func(k, _ []byte) (bool, error) {
		if err := r.ctx.Err(); err != nil {
			return false, err
		}
		_, id, ok := splitEntry(k, fpl)
		if !ok {
			return false, fmt.Errorf("docstore: index entry %q: %w", k, storage.ErrCorrupt)
		}
		return visit(id)
	})
}
