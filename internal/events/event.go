// Package events defines the event envelope every mutation produces, the
// live hub that fans committed events out to subscribers, and the stream
// reader that replays the durable log and then follows the hub without loss
// or duplicates.
//
// The package knows nothing about storage: the durable log is reached through
// the Log interface, which the storage engine implements.
package events

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Event types of the wire contract (CONTRACT.md §5.4) and Luma's additions.
const (
	TypeStateUpdated      = "state_updated"
	TypeStateDeleted      = "state_deleted"
	TypeCollectionCreated = "vector_collection_created"
	TypeCollectionDeleted = "collection_deleted"
	TypeVectorAdded       = "vector_added"
	TypeVectorUpserted    = "vector_upserted"
	TypeVectorUpdated     = "vector_updated"
	TypeVectorDeleted     = "vector_deleted"
	TypeSQLExec           = "sql_exec"
	TypeGap               = "gap"
)

// builtinTypes are reserved: user-published events may not use them.
var builtinTypes = map[string]bool{
	TypeStateUpdated: true, TypeStateDeleted: true, TypeCollectionCreated: true,
	TypeCollectionDeleted: true, TypeVectorAdded: true, TypeVectorUpserted: true,
	TypeVectorUpdated: true, TypeVectorDeleted: true, TypeSQLExec: true, TypeGap: true,
}

// IsBuiltinType reports whether t is a type that only Luma itself may emit.
func IsBuiltinType(t string) bool { return builtinTypes[t] }

// Event is one entry of the global event log.
//
// Data is the JSON object of the type's fields; Key and Collection repeat
// data.key and data.collection (empty when absent) so that stream filters do
// not have to parse JSON. Offset and TsMs are assigned by the committer, which
// also fills Envelope, the exact bytes sent as an SSE data line.
type Event struct {
	Offset     uint64
	TsMs       uint64
	Type       string
	Key        string
	Collection string
	Data       []byte
	Envelope   []byte
}

// BuildEnvelope fills e.Envelope from the other fields:
// {"offset":N,"ts_ms":T,"type":"...","data":{...}}.
func (e *Event) BuildEnvelope() {
	b := make([]byte, 0, len(e.Data)+len(e.Type)+64)
	b = append(b, `{"offset":`...)
	b = strconv.AppendUint(b, e.Offset, 10)
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendUint(b, e.TsMs, 10)
	b = append(b, `,"type":`...)
	b = strconv.AppendQuote(b, e.Type)
	b = append(b, `,"data":`...)
	if len(e.Data) == 0 {
		b = append(b, "{}"...)
	} else {
		b = append(b, e.Data...)
	}
	b = append(b, '}')
	e.Envelope = b
}

// recordVersion is the first byte of every stored event record.
const recordVersion = 1

// ErrCorruptRecord is returned when a stored event record cannot be decoded.
var ErrCorruptRecord = errors.New("events: corrupt event record")

// MarshalRecord encodes e for the durable log: a version byte, ts_ms, the
// filter fields (type, key, collection) as length-prefixed strings, then the
// envelope. Keeping the filter fields outside the JSON lets catch-up readers
// filter without parsing it.
func (e *Event) MarshalRecord() []byte {
	n := 1 + 3*binary.MaxVarintLen64 + len(e.Type) + len(e.Key) + len(e.Collection) + binary.MaxVarintLen64 + len(e.Envelope)
	b := make([]byte, 0, n)
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, e.TsMs)
	b = appendString(b, e.Type)
	b = appendString(b, e.Key)
	b = appendString(b, e.Collection)
	b = append(b, e.Envelope...)
	return b
}

// UnmarshalRecord decodes a record written by MarshalRecord. The offset is
// not part of the record; it is the log key.
func UnmarshalRecord(offset uint64, rec []byte) (*Event, error) {
	if len(rec) < 1 || rec[0] != recordVersion {
		return nil, ErrCorruptRecord
	}
	p := rec[1:]
	ts, n := binary.Uvarint(p)
	if n <= 0 {
		return nil, ErrCorruptRecord
	}
	p = p[n:]
	e := &Event{Offset: offset, TsMs: ts}
	var ok bool
	if e.Type, p, ok = readString(p); !ok {
		return nil, ErrCorruptRecord
	}
	if e.Key, p, ok = readString(p); !ok {
		return nil, ErrCorruptRecord
	}
	if e.Collection, p, ok = readString(p); !ok {
		return nil, ErrCorruptRecord
	}
	e.Envelope = append([]byte(nil), p...)
	return e, nil
}

// RecordTsMs returns the timestamp of a stored record without decoding the
// rest of it.
func RecordTsMs(rec []byte) (uint64, error) {
	if len(rec) < 1 || rec[0] != recordVersion {
		return 0, ErrCorruptRecord
	}
	ts, n := binary.Uvarint(rec[1:])
	if n <= 0 {
		return 0, ErrCorruptRecord
	}
	return ts, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readString(p []byte) (string, []byte, bool) {
	l, n := binary.Uvarint(p)
	if n <= 0 || uint64(len(p)-n) < l {
		return "", nil, false
	}
	return string(p[n : n+int(l)]), p[n+int(l):], true
}
