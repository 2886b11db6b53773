package vector

// Key layout (see docs/VECTOR_STORAGE.md for the byte diagrams). Every key of
// the vector store starts with storage.PrefixVector ('v'); checkpoint
// metadata lives under storage.PrefixCheckpnt ('c'). Collection names are
// restricted to [A-Za-z0-9_.-], so the 0x00 separator cannot occur in them.
//
//	'v' 'C' name              collection config (JSON)
//	'v' 'N' name              counters: next internal id, writes, applied offset
//	'v' 'S' name              segment table (segments before the regular tail)
//	'v' 'R' name 0x00 id      record: internal id + meta JSON
//	'v' 'V' name 0x00 iid     vector: dim × float32 little-endian (iid big-endian)
//	'c' 'V' name 0x00 lo      checkpoint of the segment starting at internal id lo
//
// Vectors are keyed by internal id rather than by external id so that the
// records a checkpoint does not cover are one contiguous key range: start-up
// replays exactly [lo+covered, end) of each segment.

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/luma-db/luma/internal/storage"
)

const (
	kindConfig byte = 'C'
	kindNext   byte = 'N'
	kindSegs   byte = 'S'
	kindRecord byte = 'R'
	kindVector byte = 'V'
	kindCkpt   byte = 'V' // under storage.PrefixCheckpnt
)

func nameKey(kind byte, name string) []byte {
	k := make([]byte, 0, 2+len(name))
	k = append(k, storage.PrefixVector, kind)
	return append(k, name...)
}

func configKey(name string) []byte { return nameKey(kindConfig, name) }
func nextKey(name string) []byte   { return nameKey(kindNext, name) }
func segsKey(name string) []byte   { return nameKey(kindSegs, name) }

// recordPrefix is the prefix of every record key of a collection.
func recordPrefix(name string) []byte {
	return append(nameKey(kindRecord, name), 0)
}

func recordKey(name, id string) []byte {
	k := make([]byte, 0, 3+len(name)+len(id))
	k = append(k, storage.PrefixVector, kindRecord)
	k = append(k, name...)
	k = append(k, 0)
	return append(k, id...)
}

func vectorPrefix(name string) []byte {
	return append(nameKey(kindVector, name), 0)
}

func vectorKey(name string, iid uint32) []byte {
	k := make([]byte, 0, 7+len(name))
	k = append(k, storage.PrefixVector, kindVector)
	k = append(k, name...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, iid)
}

func ckptPrefix(name string) []byte {
	k := make([]byte, 0, 3+len(name))
	k = append(k, storage.PrefixCheckpnt, kindCkpt)
	k = append(k, name...)
	return append(k, 0)
}

func ckptKey(name string, lo uint32) []byte {
	return binary.BigEndian.AppendUint32(ckptPrefix(name), lo)
}

// Record value: version(1) | uvarint iid | meta JSON (empty = null).
const recordVersion = 1

func encodeRecord(iid uint32, meta []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen32+len(meta))
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(iid))
	return append(b, meta...)
}

// decodeRecord returns the internal id and the meta JSON (nil for null).
// meta aliases v.
func decodeRecord(v []byte) (iid uint32, meta []byte, err error) {
	if len(v) < 2 || v[0] != recordVersion {
		return 0, nil, fmt.Errorf("%w: bad record header", ErrPersistence)
	}
	x, n := binary.Uvarint(v[1:])
	if n <= 0 || x > math.MaxUint32 {
		return 0, nil, fmt.Errorf("%w: bad record id", ErrPersistence)
	}
	meta = v[1+n:]
	if len(meta) == 0 {
		meta = nil
	}
	return uint32(x), meta, nil
}

// Counters value: version(1) | uvarint next iid | uvarint writes | uvarint
// applied offset.
type counters struct {
	next    uint64 // next internal id to allocate
	writes  uint64 // add/upsert/update items since creation
	applied uint64 // offset of the last event of this collection
}

const countersVersion = 1

func (c counters) encode() []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64)
	b = append(b, countersVersion)
	b = binary.AppendUvarint(b, c.next)
	b = binary.AppendUvarint(b, c.writes)
	return binary.AppendUvarint(b, c.applied)
}

func decodeCounters(v []byte) (counters, error) {
	var c counters
	if len(v) < 1 || v[0] != countersVersion {
		return c, fmt.Errorf("%w: bad counters", ErrPersistence)
	}
	p := v[1:]
	for _, dst := range []*uint64{&c.next, &c.writes, &c.applied} {
		x, n := binary.Uvarint(p)
		if n <= 0 {
			return c, fmt.Errorf("%w: bad counters", ErrPersistence)
		}
		*dst, p = x, p[n:]
	}
	return c, nil
}

// Segment table value: version(1) | uvarint count | count × (u32 lo | u32 hi
// | u8 flags), flags bit 0 = mapped (local ids are dense over the live
// internal ids of [lo, hi), listed in the checkpoint file).
type tableEntry struct {
	lo, hi uint32
	mapped bool
}

const tableVersion = 1

func encodeTable(t []tableEntry) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen32+9*len(t))
	b = append(b, tableVersion)
	b = binary.AppendUvarint(b, uint64(len(t)))
	for _, e := range t {
		b = binary.BigEndian.AppendUint32(b, e.lo)
		b = binary.BigEndian.AppendUint32(b, e.hi)
		var f byte
		if e.mapped {
			f = 1
		}
		b = append(b, f)
	}
	return b
}

func decodeTable(v []byte) ([]tableEntry, error) {
	if len(v) < 1 || v[0] != tableVersion {
		return nil, fmt.Errorf("%w: bad segment table", ErrPersistence)
	}
	cnt, n := binary.Uvarint(v[1:])
	p := v[1+n:]
	if n <= 0 || cnt > uint64(len(p))/9 || uint64(len(p)) != cnt*9 {
		return nil, fmt.Errorf("%w: bad segment table", ErrPersistence)
	}
	out := make([]tableEntry, cnt)
	prev := uint32(0)
	for i := range out {
		e := tableEntry{
			lo:     binary.BigEndian.Uint32(p[9*i:]),
			hi:     binary.BigEndian.Uint32(p[9*i+4:]),
			mapped: p[9*i+8]&1 != 0,
		}
		if e.lo != prev || e.hi <= e.lo {
			return nil, fmt.Errorf("%w: segment table not contiguous at entry %d", ErrPersistence, i)
		}
		prev = e.hi
		out[i] = e
	}
	return out, nil
}

// encodeVector returns v as little-endian float32 bytes.
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// decodeVectorInto decodes little-endian float32 bytes into dst, which must
// have len(b)/4 entries.
func decodeVectorInto(dst []float32, b []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

func decodeVector(b []byte, dim int) ([]float32, error) {
	if len(b) != 4*dim {
		return nil, fmt.Errorf("%w: vector record has %d bytes, want %d", ErrPersistence, len(b), 4*dim)
	}
	v := make([]float32, dim)
	decodeVectorInto(v, b)
	return v, nil
}
