package docstore

// Descending walks over an index with a forward-only engine.
//
// storage.DB iterates forward only. A descending page must not read every
// entry below the cursor, so walkDesc finds a window at the top of the
// remaining range — a start key p such that [p, hi) holds a handful of
// entries — by bisecting the key space, reads that window forward, visits
// it backwards, and continues below p. Each probe is a forward scan capped
// at a few dozen keys, and probes snap to real keys, so a page costs a few
// dozen short scans instead of a scan of everything below the cursor.

import (
	"bytes"
	"math/big"
	"slices"
)

// maxBisect bounds the probes of one window; past it (a pathological key
// distribution) the window falls back to reading its whole range.
const maxBisect = 512

// walkDesc visits the entries of disjoint intervals in descending key
// order, starting strictly before curKey (nil: from the top).
func (r *run) walkDesc(ivs []interval, curKey []byte, visit func([]byte) (bool, error)) error {
	ivs = slices.Clone(ivs)
	slices.SortFunc(ivs, func(a, b interval) int { return -bytes.Compare(a.start, b.start) })
	want := 16
	for _, iv := range ivs {
		lo, hi := iv.start, iv.end
		if curKey != nil && bytes.Compare(curKey, hi) < 0 {
			hi = curKey
		}
		for bytes.Compare(lo, hi) < 0 {
			want = max(want, r.limit+1-len(r.out))
			keys, p, err := r.window(lo, hi, want)
			if err != nil {
				return err
			}
			for i := len(keys) - 1; i >= 0; i-- {
				more, err := visit(keys[i])
				if err != nil || !more {
					return err
				}
			}
			hi = p
			want = min(want*2, 4096) // the filter is rejecting: take bigger windows
		}
	}
	return nil
}

// window returns, in ascending order, the keys of [p, hi) for a start p in
// [lo, hi) such that the window holds at least want keys (or every key of
// [lo, hi) when there are fewer) and usually at most a few times want.
func (r *run) window(lo, hi []byte, want int) ([][]byte, []byte, error) {
	capN := max(4*want, 64)
	keys, full, err := r.scanCapped(lo, hi, capN)
	if err != nil || !full {
		return keys, lo, err
	}
	// Invariants: [a, hi) holds more than capN keys, [b, hi) fewer than
	// want; each probe moves a up to a real key or b down to the midpoint.
	a, b := lo, hi
	for i := 0; i < maxBisect; i++ {
		m := midKey(a, b)
		if m == nil {
			break
		}
		keys, full, err = r.scanCapped(m, hi, capN)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case full:
			a = keys[0] // a real key: the next midpoint skips empty key space
		case len(keys) < want:
			b = m
		default:
			return keys, m, nil
		}
	}
	keys, _, err = r.scanCapped(a, hi, -1)
	return keys, a, err
}

// scanCapped returns the keys of [start, end) in order, at most capN+1 of
// them (capN < 0: all), and whether there were more than capN.
func (r *run) scanCapped(start, end []byte, capN int) ([][]byte, bool, error) {
	var keys [][]byte
	full := false
	err := r.s.db.Scan(start, end, func(k, _ []byte) (bool, error) {
		if err := r.ctx.Err(); err != nil {
			return false, err
		}
		keys = append(keys, bytes.Clone(k))
		if capN >= 0 && len(keys) > capN {
			full = true
			return false, nil
		}
		return true, nil
	})
	return keys, full, err
}

// midKey returns a key strictly between a and b (a < b), or nil when there
// is none. Both are read as big-endian numbers of one length (zero-padded,
// one byte longer than the longer of them) and averaged; a string of that
// length orders like the number, so the mean orders strictly between them.
func midKey(a, b []byte) []byte {
	n := max(len(a), len(b)) + 1
	pa, pb := make([]byte, n), make([]byte, n)
	copy(pa, a)
	copy(pb, b)
	x, y := new(big.Int).SetBytes(pa), new(big.Int).SetBytes(pb)
	diff := new(big.Int).Sub(y, x)
	if diff.Cmp(big.NewInt(1)) <= 0 {
		return nil
	}
	m := x.Add(x, y)
	m.Rsh(m, 1)
	return m.FillBytes(make([]byte, n))
}
