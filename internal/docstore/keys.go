package docstore

// Key layout and the order-preserving value encoding. See doc.go for the
// overview and docs/DATA_MODELS.md for the byte diagrams.

import (
	"encoding/binary"
	"math"

	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/storage"
)

// Sub-spaces of storage.PrefixDocMeta.
const (
	metaDefs      byte = 0x01 // 'D' 0x01 collection            -> index definitions
	metaProgress  byte = 0x02 // 'D' 0x02 lp(collection) field  -> build progress
	metaFootprint byte = 0x03 // 'D' 0x03 lp(collection) id     -> the doc's index entries
)

// Bands of one index. Every entry key is
//
//	'd' lp(collection) lp(field) band [enc(value)] id
//
// where lp is a uvarint length prefix.
const (
	bandScalar  byte = 0x01 // the field holds a scalar: enc(value) id
	bandElement byte = 0x02 // the field holds an array: enc(element) id, one per distinct scalar element
	bandRest    byte = 0x03 // auto indexes only: the field is missing, an array or an object: id
)

// Value tags of enc(v). Their order is the order of kinds in a sort:
// null < false < true < numbers < strings.
const (
	tagNull   byte = 0x01
	tagFalse  byte = 0x02
	tagTrue   byte = 0x03
	tagNumber byte = 0x04
	tagString byte = 0x05
)

// MaxIndexedString is how many leading bytes of a string an index entry (and
// a sort key) holds. Longer strings are truncated: filters stay exact (every
// candidate is re-checked against the document), sorts compare only these
// bytes and break ties by id.
const MaxIndexedString = 1024

// String terminators: a truncated string sorts after the untruncated string
// equal to its kept prefix.
const (
	strEnd       byte = 0x01
	strTruncated byte = 0x02
	strEscape    byte = 0xff // 0x00 in the string is written 0x00 0xff
)

func appendLP(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// readLP reads a length-prefixed string; ok is false on malformed input.
func readLP(p []byte) (s string, rest []byte, ok bool) {
	l, n := binary.Uvarint(p)
	if n <= 0 || uint64(len(p)-n) < l {
		return "", nil, false
	}
	return string(p[n : n+int(l)]), p[n+int(l):], true
}

// defsKey holds the index definitions of a collection. Collections never
// contain ':', but may contain anything else, so the name is the rest of the
// key.
func defsKey(c string) []byte {
	return append([]byte{storage.PrefixDocMeta, metaDefs}, c...)
}

func progressKey(c, field string) []byte {
	b := []byte{storage.PrefixDocMeta, metaProgress}
	b = appendLP(b, c)
	return append(b, field...)
}

func footprintKey(c, id string) []byte {
	b := []byte{storage.PrefixDocMeta, metaFootprint}
	b = appendLP(b, c)
	return append(b, id...)
}

// collPrefix is the prefix of every index entry of collection c.
func collPrefix(c string) []byte {
	return appendLP([]byte{storage.PrefixDocIndex}, c)
}

// fieldPrefix is the prefix of every entry of the index on field.
func fieldPrefix(c, field string) []byte {
	return appendLP(collPrefix(c), field)
}

// entrySuffix is an entry key without its collection prefix and without the
// id: lp(field) band [enc]. Footprints store these.
func entrySuffix(field string, band byte, enc []byte) []byte {
	b := make([]byte, 0, len(field)+len(enc)+3)
	b = appendLP(b, field)
	b = append(b, band)
	return append(b, enc...)
}

// docKey is the state key of a document (CONTRACT.md §4.5).
func docKey(c, id string) string { return "doc:" + c + ":" + id }

// docKeyPrefix is the state-key prefix of every document of c. It is
// unambiguous because collection names cannot contain ':'.
func docKeyPrefix(c string) string { return "doc:" + c + ":" }

// encodeScalar appends the order-preserving encoding of a scalar JSON value
// (nil, bool, string, or anything filter.AsNumber accepts) and reports
// whether v was a scalar. Byte order of encodings is: null < false < true <
// numbers by value < strings bytewise (first MaxIndexedString bytes).
func encodeScalar(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNull), true
	case bool:
		if x {
			return append(b, tagTrue), true
		}
		return append(b, tagFalse), true
	case string:
		return encodeString(b, x), true
	case []any, map[string]any:
		return b, false
	}
	n, ok := filter.AsNumber(v)
	if !ok {
		return b, false
	}
	return encodeNumber(b, n), true
}

func encodeString(b []byte, s string) []byte {
	b = append(b, tagString)
	term := strEnd
	if len(s) > MaxIndexedString {
		s, term = s[:MaxIndexedString], strTruncated
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, strEscape)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, 0, term)
}

// encodeNumber writes tag, the nearest double in order-preserving form, then
// the exact signed distance from that double to an integer value (non-zero
// only for integers beyond 2^53), so every int64 and double orders exactly
// and equal Numbers encode equally.
func encodeNumber(b []byte, n filter.Number) []byte {
	f := n.Float64()
	var d int64
	if i, isInt := n.Int64(); isInt {
		var fi uint64
		if f >= 9223372036854775808.0 {
			fi = 1 << 63
		} else {
			fi = uint64(int64(f))
		}
		d = int64(uint64(i) - fi) // small; modular arithmetic is exact
	}
	bits := math.Float64bits(f)
	if bits>>63 == 1 {
		bits = ^bits
	} else {
		bits |= 1 << 63
	}
	b = append(b, tagNumber)
	b = binary.BigEndian.AppendUint64(b, bits)
	return binary.BigEndian.AppendUint64(b, uint64(d)^(1<<63))
}

// encLen returns the length of the encoded value at the start of p, or -1.
func encLen(p []byte) int {
	if len(p) == 0 {
		return -1
	}
	switch p[0] {
	case tagNull, tagFalse, tagTrue:
		return 1
	case tagNumber:
		if len(p) < 17 {
			return -1
		}
		return 17
	case tagString:
		for i := 1; i+1 < len(p); i++ {
			if p[i] != 0 {
				continue
			}
			switch p[i+1] {
			case strEscape:
				i++
			case strEnd, strTruncated:
				return i + 2
			default:
				return -1
			}
		}
	}
	return -1
}

// kindRange returns the [start, end) encodings of every value of one kind
// tag, relative to a band prefix.
func kindRange(prefix []byte, tag byte) (start, end []byte) {
	start = append(append([]byte(nil), prefix...), tag)
	return start, storage.PrefixEnd(start)
}

func isScalar(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return false
	}
	return true
}

// kindTag returns the tag a scalar encodes with.
func kindTag(v any) byte {
	enc, ok := encodeScalar(nil, v)
	if !ok {
		return 0
	}
	return enc[0]
}
