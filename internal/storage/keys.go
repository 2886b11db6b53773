package storage

import "encoding/binary"

// Key spaces. Every key stored by Luma starts with one of these bytes, so the
// domains never collide and each can be scanned or range-deleted on its own.
// A new domain takes a new byte here; a byte is never reused.
const (
	PrefixMeta      byte = 'm' // engine metadata (schema, last offset, retention floor)
	PrefixEvent     byte = 'e' // event log: 'e' + 8-byte big-endian offset
	PrefixState     byte = 's' // state records: 's' + key
	PrefixTTL       byte = 't' // TTL index: 't' + 8-byte big-endian expiry ms + key
	PrefixAuthKey   byte = 'k' // managed API keys: 'k' + id
	PrefixVector    byte = 'v' // vector collections and records (see internal/vector)
	PrefixDocIndex  byte = 'd' // document secondary indexes (see internal/docstore)
	PrefixDocMeta   byte = 'D' // document index definitions (see internal/docstore)
	PrefixCheckpnt  byte = 'c' // derived-index checkpoint metadata
	PrefixSearchDoc byte = 'g' // grouped-search corpus (/search/ingest)
)

var (
	metaLastOffset = []byte{PrefixMeta, 'o'}
	metaFloor      = []byte{PrefixMeta, 'f'}
	metaLogBytes   = []byte{PrefixMeta, 'b'}
	metaSchema     = []byte{PrefixMeta, 'v'}
)

// schemaVersion is written at creation and checked at open.
const schemaVersion = 1

// EventKey returns the log key of an offset.
func EventKey(off uint64) []byte {
	k := make([]byte, 9)
	k[0] = PrefixEvent
	binary.BigEndian.PutUint64(k[1:], off)
	return k
}

// PrefixEnd returns the smallest key greater than every key with the given
// prefix, or nil if there is none (prefix of 0xff bytes).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

func putU64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func getU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
