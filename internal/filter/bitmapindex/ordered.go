package bitmapindex

// Why buckets: an ordering query ($gt and friends) wants the ids whose value
// lies in a key range, and the index must also take inserts and deletes one at
// a time while serving reads. A sorted slice of (key, id) pairs answers ranges
// well but pays a memmove per insert (or a re-sort before reads that follow a
// write); a key -> bitmap map with sorted keys answers equality well but ORs
// one bitmap per distinct key in the range. Buckets take the middle road: the
// (key, id) pairs are partitioned into consecutive runs of at most
// 2*bucketSize pairs, unsorted inside a run, each run with a bitmap of its ids.
// A range ORs the bitmaps of the runs it covers whole and scans the pairs of
// the (at most two) runs it cuts; an insert or delete touches one run.

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// bucketSize is the target number of pairs per bucket; a bucket splits in two
// when it reaches twice that. Benchmarks in this package compare sizes.
var bucketSize = 128

// key is the constraint for ordered keys: filter.Number and strKey.
type key[K any] interface {
	comparable
	Compare(K) int
}

type pair[K key[K]] struct {
	k  K
	id uint32
}

func (p pair[K]) compare(q pair[K]) int {
	if c := p.k.Compare(q.k); c != 0 {
		return c
	}
	switch {
	case p.id < q.id:
		return -1
	case p.id > q.id:
		return 1
	}
	return 0
}

type bucket[K key[K]] struct {
	// lo is a lower bound of every pair in the bucket, and every pair is below
	// the next bucket's lo, in (key, id) order. It never changes after the
	// bucket is created except to widen the first bucket downwards.
	lo pair[K]
	// max is an upper bound of the keys in the bucket: exact after a split,
	// raised by inserts, left as is by deletes.
	max   K
	pairs []pair[K] // unordered
	ids   *roaring.Bitmap
}

// ordered maps keys to ids with range queries; see the file comment. An id
// may appear under several keys (array elements) but a (key, id) pair at most
// once: callers insert distinct pairs and delete only inserted ones.
type ordered[K key[K]] struct {
	buckets []*bucket[K]
	n       int // number of pairs
}

// find returns the index of the bucket that holds (or would hold) p: the last
// bucket whose lo is <= p, or 0.
func (o *ordered[K]) find(p pair[K]) int {
	i, _ := slices.BinarySearchFunc(o.buckets, p, func(b *bucket[K], p pair[K]) int {
		if b.lo.compare(p) <= 0 {
			return -1
		}
		return 1
	})
	return max(i-1, 0)
}

func (o *ordered[K]) insert(k K, id uint32) {
	p := pair[K]{k, id}
	o.n++
	if len(o.buckets) == 0 {
		o.buckets = []*bucket[K]{{lo: p, max: k, pairs: []pair[K]{p}, ids: roaring.BitmapOf(id)}}
		return
	}
	i := o.find(p)
	b := o.buckets[i]
	if p.compare(b.lo) < 0 {
		b.lo = p // only possible for the first bucket
	}
	if k.Compare(b.max) > 0 {
		b.max = k
	}
	b.pairs = append(b.pairs, p)
	b.ids.Add(id)
	if len(b.pairs) >= 2*bucketSize {
		o.split(i)
	}
}

// split halves bucket i in (key, id) order.
func (o *ordered[K]) split(i int) {
	b := o.buckets[i]
	slices.SortFunc(b.pairs, pair[K].compare)
	half := len(b.pairs) / 2
	upper := &bucket[K]{
		lo:    b.pairs[half],
		max:   b.pairs[len(b.pairs)-1].k,
		pairs: slices.Clone(b.pairs[half:]),
	}
	upper.ids = idsOf(upper.pairs)
	clear(b.pairs[half:])
	b.pairs = b.pairs[:half]
	b.max = b.pairs[half-1].k
	b.ids = idsOf(b.pairs)
	o.buckets = slices.Insert(o.buckets, i+1, upper)
}

func idsOf[K key[K]](pairs []pair[K]) *roaring.Bitmap {
	ids := make([]uint32, len(pairs))
	for i, p := range pairs {
		ids[i] = p.id
	}
	slices.Sort(ids)
	return roaring.BitmapOf(ids...)
}

// remove deletes the pair (k, id) and reports whether it was there.
func (o *ordered[K]) remove(k K, id uint32) bool {
	if len(o.buckets) == 0 {
		return false
	}
	p := pair[K]{k, id}
	i := o.find(p)
	b := o.buckets[i]
	at := -1
	still := false // id still present under another key of this bucket
	for j, q := range b.pairs {
		if q.id != id {
			continue
		}
		if at < 0 && q.k == k {
			at = j
		} else {
			still = true
		}
	}
	if at < 0 {
		return false
	}
	last := len(b.pairs) - 1
	b.pairs[at] = b.pairs[last]
	b.pairs[last] = pair[K]{}
	b.pairs = b.pairs[:last]
	if !still {
		b.ids.Remove(id)
	}
	o.n--
	if len(b.pairs) == 0 && len(o.buckets) > 1 {
		// The previous bucket's range absorbs this one's; if this was the
		// first bucket, the next one becomes first and widens on demand.
		o.buckets = slices.Delete(o.buckets, i, i+1)
	}
	return true
}

// bound is one end of a key range; a nil *bound is unbounded.
type bound[K key[K]] struct {
	k         K
	inclusive bool
}

// aboveLo reports whether k satisfies the lower bound lo.
func aboveLo[K key[K]](k K, lo *bound[K]) bool {
	if lo == nil {
		return true
	}
	c := k.Compare(lo.k)
	return c > 0 || (c == 0 && lo.inclusive)
}

// belowHi reports whether k satisfies the upper bound hi.
func belowHi[K key[K]](k K, hi *bound[K]) bool {
	if hi == nil {
		return true
	}
	c := k.Compare(hi.k)
	return c < 0 || (c == 0 && hi.inclusive)
}

// scan calls whole for each bucket entirely inside [lo, hi] and part for each
// pair inside it that sits in a bucket cut by the range. whole's bitmap must
// not be modified.
func (o *ordered[K]) scan(lo, hi *bound[K], whole func(*roaring.Bitmap, int), part func(uint32)) {
	start := 0
	if lo != nil {
		// Bucket i holds keys <= buckets[i+1].lo.k; skip those below lo.
		start, _ = slices.BinarySearchFunc(o.buckets[min(1, len(o.buckets)):], lo.k, func(b *bucket[K], k K) int {
			return b.lo.k.Compare(k)
		})
	}
	for _, b := range o.buckets[start:] {
		if !belowHi(b.lo.k, hi) {
			break
		}
		if len(b.pairs) == 0 {
			continue
		}
		if aboveLo(b.lo.k, lo) && belowHi(b.max, hi) {
			whole(b.ids, len(b.pairs))
			continue
		}
		if !aboveLo(b.max, lo) {
			continue
		}
		for _, p := range b.pairs {
			if aboveLo(p.k, lo) && belowHi(p.k, hi) {
				part(p.id)
			}
		}
	}
}

// denseMinBuckets is the number of whole buckets from which collect builds
// its answer in a plain bit array instead of ORing bitmaps: roaring's OR of
// many small array containers re-merges the growing result each time, while
// setting bits costs the same per id however many buckets there are
// (measured: 128 buckets of 390 ids, ~3x faster dense).
const denseMinBuckets = 16

// collect returns the ids with at least one key in [lo, hi] as a new bitmap.
func (o *ordered[K]) collect(lo, hi *bound[K]) *roaring.Bitmap {
	var (
		wholes []*roaring.Bitmap
		parts  []uint32
		pairs  int
	)
	o.scan(lo, hi,
		func(ids *roaring.Bitmap, n int) { wholes = append(wholes, ids); pairs += n },
		func(id uint32) { parts = append(parts, id) })
	if len(wholes) >= denseMinBuckets {
		if out := collectDense(wholes, parts, pairs+len(parts)); out != nil {
			return out
		}
	}
	var out *roaring.Bitmap
	switch len(wholes) {
	case 0:
		out = roaring.New()
	case 1:
		out = wholes[0].Clone()
	default:
		out = roaring.FastOr(wholes...)
	}
	if len(parts) > 0 {
		slices.Sort(parts)
		out.AddMany(parts)
	}
	return out
}

// collectDense unions wholes and parts through a bit array, or returns nil
// when the ids are too sparse for one (its size would dwarf the answer).
func collectDense(wholes []*roaring.Bitmap, parts []uint32, n int) *roaring.Bitmap {
	var maxID uint32
	for _, bm := range wholes {
		maxID = max(maxID, bm.Maximum())
	}
	for _, id := range parts {
		maxID = max(maxID, id)
	}
	words := int(maxID>>6) + 1
	if words > 2*n+1024 {
		return nil
	}
	dense := make([]uint64, words)
	var buf [256]uint32
	for _, bm := range wholes {
		it := bm.ManyIterator()
		for k := it.NextMany(buf[:]); k > 0; k = it.NextMany(buf[:]) {
			for _, id := range buf[:k] {
				dense[id>>6] |= 1 << (id & 63)
			}
		}
	}
	for _, id := range parts {
		dense[id>>6] |= 1 << (id & 63)
	}
	return roaring.FromDense(dense, false)
}

// count returns the number of pairs with a key in [lo, hi]: the number of
// matching ids, counting an id once per matching array element.
func (o *ordered[K]) count(lo, hi *bound[K]) uint64 {
	var n uint64
	o.scan(lo, hi,
		func(_ *roaring.Bitmap, pairs int) { n += uint64(pairs) },
		func(uint32) { n++ })
	return n
}

// strKey orders strings bytewise, as the filter language does.
type strKey string

func (s strKey) Compare(t strKey) int {
	switch {
	case s < t:
		return -1
	case s > t:
		return 1
	}
	return 0
}
