package main

import (
	"encoding/binary"
	"strconv"
	"sync/atomic"
	"time"
)

// The shape of one logical write. The value record is what the state store
// keeps under the user's key; the event record is what the event log keeps
// under its offset, and its value is the change's JSON envelope
// (CONTRACT.md §5.2/§5.4: {"offset","ts_ms","type","data"}), which embeds the
// value again. The offset is known only once the write is ordered, so a writer
// prepares everything after it (the envelope "tail") and whoever assigns the
// offset prepends `{"offset":N`.

const (
	keyPrefix     = "s/bench:" // 8 bytes + 16 hex digits = 24-byte keys
	eventKeyByte  = 'e'
	eventKeyLen   = 9
	envelopeStart = `{"offset":`
)

// request is one logical write as a committer receives it. The writer that
// owns it does not touch it between sending it and receiving on done.
type request struct {
	key   []byte
	value []byte
	tail  []byte     // the envelope after the offset: `,"ts_ms":...}`
	done  chan error // buffered(1); the committer answers each request once
}

// appendEventKey appends the event-log key of offset off to dst.
func appendEventKey(dst []byte, off uint64) []byte {
	dst = append(dst, eventKeyByte)
	return binary.BigEndian.AppendUint64(dst, off)
}

// appendEnvelope appends the event-log value of offset off to dst.
func appendEnvelope(dst []byte, off uint64, tail []byte) []byte {
	dst = append(dst, envelopeStart...)
	dst = strconv.AppendUint(dst, off, 10)
	return append(dst, tail...)
}

func envelopeLen(off uint64, tail []byte) int {
	n := len(envelopeStart) + len(tail) + 1
	for ; off >= 10; off /= 10 {
		n++
	}
	return n
}

// writer is one client goroutine's state. Its buffers are reused for every
// write, as a server handler's would be pooled.
type writer struct {
	id    int
	rng   uint64
	rev   uint64
	req   request
	ekey  []byte // event key scratch, for variants where the writer builds records
	event []byte // event value scratch, idem
	lat   []time.Duration
	ops   uint64
}

func newWriter(id, valueSize int, seed uint64) *writer {
	w := &writer{
		id:  id,
		rng: seed ^ uint64(id+1)*0x9e3779b97f4a7c15,
		req: request{
			key:   make([]byte, 0, len(keyPrefix)+16),
			value: make([]byte, valueSize),
			tail:  make([]byte, 0, 2*valueSize+160),
			done:  make(chan error, 1),
		},
		ekey:  make([]byte, 0, eventKeyLen),
		event: make([]byte, 0, 2*valueSize+200),
		lat:   make([]time.Duration, 0, 1<<14),
	}
	return w
}

// next fills w.req with a fresh write: a random key, a random printable JSON
// string of the configured size as the value, and the envelope tail.
func (w *writer) next() {
	w.rev++
	k := splitmix(&w.rng)
	w.req.key = append(w.req.key[:0], keyPrefix...)
	w.req.key = appendHex16(w.req.key, k)

	v := w.req.value
	v[0], v[len(v)-1] = '"', '"'
	for i := 1; i < len(v)-1; {
		r := splitmix(&w.rng)
		for j := 0; j < 8 && i < len(v)-1; j, i = j+1, i+1 {
			v[i] = alphabet[r&63]
			r >>= 8
		}
	}

	t := append(w.req.tail[:0], `,"ts_ms":`...)
	t = strconv.AppendInt(t, time.Now().UnixMilli(), 10)
	t = append(t, `,"type":"state_updated","data":{"key":"`...)
	t = append(t, w.req.key[2:]...) // without the key-space prefix
	t = append(t, `","revision":`...)
	t = strconv.AppendUint(t, w.rev, 10)
	t = append(t, `,"value":`...)
	t = append(t, v...)
	t = append(t, `,"expires_at_ms":null}}`...)
	w.req.tail = t
}

// loop issues writes through t until the phase says stop, recording the
// latency of the writes that complete while the phase is phaseMeasure.
func (w *writer) loop(t target, phase *atomic.Int32, fail func(error)) {
	for {
		w.next()
		start := time.Now()
		err := t.write(w)
		lat := time.Since(start)
		if err != nil {
			fail(err)
			return
		}
		switch phase.Load() {
		case phaseMeasure:
			w.lat = append(w.lat, lat)
			w.ops++
		case phaseStop:
			return
		}
	}
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func appendHex16(dst []byte, x uint64) []byte {
	const hex = "0123456789abcdef"
	for s := 60; s >= 0; s -= 4 {
		dst = append(dst, hex[(x>>uint(s))&15])
	}
	return dst
}

// splitmix is SplitMix64: fast, and good enough to make keys land at random
// places in the key space and values incompressible-ish.
func splitmix(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
