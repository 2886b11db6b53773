package state

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/luma-db/luma/internal/jsonx"
	"github.com/luma-db/luma/internal/storage"
)

const recordVersion = 1

var errCorrupt = errors.New("corrupt state record")

type record struct {
	revision  uint64
	expiresAt uint64 // Unix ms; 0 = no TTL
	value     []byte // compact JSON
}

func (r record) expired(now uint64) bool { return r.expiresAt != 0 && r.expiresAt <= now }

func (r record) expiresPtr() *uint64 {
	if r.expiresAt == 0 {
		return nil
	}
	e := r.expiresAt
	return &e
}

func (r record) item(key string) Item {
	return Item{Key: key, Value: r.value, Revision: r.revision, ExpiresAtMs: r.expiresPtr()}
}

func (r record) encode() []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(r.value))
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, r.revision)
	b = binary.AppendUvarint(b, r.expiresAt)
	return append(b, r.value...)
}

// decodeRecord parses a stored record. The value aliases v.
func decodeRecord(v []byte) (record, error) {
	if len(v) < 1 || v[0] != recordVersion {
		return record{}, errCorrupt
	}
	p := v[1:]
	rev, n := binary.Uvarint(p)
	if n <= 0 {
		return record{}, errCorrupt
	}
	p = p[n:]
	exp, n := binary.Uvarint(p)
	if n <= 0 {
		return record{}, errCorrupt
	}
	return record{revision: rev, expiresAt: exp, value: p[n:]}, nil
}

func recordKey(key string) []byte {
	k := make([]byte, 1+len(key))
	k[0] = storage.PrefixState
	copy(k[1:], key)
	return k
}

func ttlKeyPrefix(exp uint64) []byte {
	k := make([]byte, 9)
	k[0] = storage.PrefixTTL
	binary.BigEndian.PutUint64(k[1:], exp)
	return k
}

func ttlKey(exp uint64, key string) []byte {
	return append(ttlKeyPrefix(exp), key...)
}

// updatedData is the data object of state_updated.
func updatedData(key string, r record) []byte {
	b := make([]byte, 0, len(key)+len(r.value)+80)
	b = append(b, `{"key":`...)
	b = jsonx.AppendString(b, key)
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, r.revision, 10)
	b = append(b, `,"value":`...)
	b = append(b, r.value...)
	b = append(b, `,"expires_at_ms":`...)
	if r.expiresAt == 0 {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendUint(b, r.expiresAt, 10)
	}
	return append(b, '}')
}

// deletedData is the data object of state_deleted.
func deletedData(key, reason string) []byte {
	b := make([]byte, 0, len(key)+40)
	b = append(b, `{"key":`...)
	b = jsonx.AppendString(b, key)
	b = append(b, `,"reason":`...)
	b = jsonx.AppendString(b, reason)
	return append(b, '}')
}
