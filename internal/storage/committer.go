package storage

// The committer is the only writer. Why one goroutine:
//
//   - Offsets must be gap-free and in commit order. A single owner assigns
//     them without locks, and a failed request consumes none.
//   - Compare-and-set and existence checks must see every earlier write,
//     including those of requests in the same group that are not yet on disk.
//     Each group keeps an overlay of its pending writes, and each request
//     gets its own overlay on top, discarded if the request fails. So a
//     failing request writes nothing and leaves no trace in the group.
//   - Durability is bought per group: all waiting requests go into one Pebble
//     batch committed with one fsync (group commit). Under load the group
//     grows and the fsync cost per request shrinks.
//
// After the batch is durable, the committer runs the requests' AfterCommit
// hooks in commit order (derived in-memory indexes apply changes there),
// answers the callers, then publishes the events to the hub.

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/luma-db/luma/internal/events"
)

// Commit describes a successful Update.
type Commit struct {
	// Events emitted by the request, with offsets and envelopes filled.
	Events []*events.Event
	// TsMs is the commit timestamp shared by the whole group.
	TsMs uint64
}

// LastOffset returns the offset of the request's last event, or 0.
func (c Commit) LastOffset() uint64 {
	if len(c.Events) == 0 {
		return 0
	}
	return c.Events[len(c.Events)-1].Offset
}

type request struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan struct{}

	commit Commit
	err    error
	hooks  []func()
}

// Update runs fn in the committer and waits until its writes and events are
// durable. fn must not block or call Update; it validates first and returns
// an error to abort, in which case nothing it wrote is applied. If ctx ends
// before the committer picks the request up, Update returns ctx.Err() and
// nothing is written; once picked up, the request completes even if ctx ends.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) (Commit, error) {
	r := &request{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case db.reqc <- r:
	case <-db.stopc:
		return Commit{}, ErrClosed
	case <-ctx.Done():
		return Commit{}, ctx.Err()
	}
	select {
	case <-r.done:
	case <-db.donec:
		// The committer exited; it answers everything it took, so r.done
		// is closed too unless r was never taken.
		select {
		case <-r.done:
		default:
			return Commit{}, ErrClosed
		}
	}
	return r.commit, r.err
}

func (db *DB) run() {
	defer close(db.donec)
	var queue []*request
	for {
		if len(queue) == 0 {
			select {
			case r := <-db.reqc:
				queue = append(queue, r)
			case <-db.stopc:
				db.failPending()
				return
			}
		}
		// Take whatever else is waiting: that is the group.
	drain:
		for len(queue) < db.opts.MaxGroupRequests {
			select {
			case r := <-db.reqc:
				queue = append(queue, r)
			default:
				break drain
			}
		}
		n := db.commitGroup(queue)
		queue = append(queue[:0], queue[n:]...)
	}
}

// failPending answers every queued request with ErrClosed.
func (db *DB) failPending() {
	for {
		select {
		case r := <-db.reqc:
			r.err = ErrClosed
			close(r.done)
		default:
			return
		}
	}
}

// commitGroup runs and commits a prefix of reqs and returns its length (it
// stops early when the batch grows past MaxGroupBytes).
func (db *DB) commitGroup(reqs []*request) int {
	b := db.pdb.NewBatch()
	defer b.Close()
	group := newOverlay()
	now := time.Now()
	tsMs := uint64(now.UnixMilli())
	next := db.lastOffset.Load() + 1
	logBytes := db.logBytes.Load()
	floor := db.floor.Load()
	var evs []*events.Event
	var ok []*request
	n := 0
	for _, r := range reqs {
		n++
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		tx := &Tx{db: db, group: group, local: newOverlay(), tsMs: tsMs, nextOffset: next}
		if err := runTx(r.fn, tx); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		for _, e := range tx.events {
			e.TsMs = tsMs
			e.BuildEnvelope()
			key := EventKey(e.Offset)
			rec := e.MarshalRecord()
			if err := b.Set(key, rec, nil); err != nil {
				r.err = fmt.Errorf("storage: batch: %w", err)
				break
			}
			logBytes += int64(len(key) + len(rec))
		}
		for _, op := range tx.ops {
			if err := op.apply(b); err != nil {
				r.err = fmt.Errorf("storage: batch: %w", err)
				break
			}
		}
		if r.err != nil {
			// A Pebble batch error is not recoverable mid-group: fail the
			// whole group rather than commit half a request.
			for _, o := range ok {
				o.err = ErrPersistence
				close(o.done)
			}
			close(r.done)
			return n
		}
		group.merge(tx.local)
		next = tx.nextOffset
		if tx.floor != 0 {
			floor = tx.floor
		}
		if tx.logBytesDelta != 0 {
			logBytes += tx.logBytesDelta
		}
		r.commit = Commit{Events: tx.events, TsMs: tsMs}
		r.hooks = tx.hooks
		evs = append(evs, tx.events...)
		ok = append(ok, r)
		if b.Len() >= db.opts.MaxGroupBytes {
			break
		}
	}
	if len(ok) == 0 {
		return n
	}
	last := next - 1
	if len(evs) > 0 || floor != db.floor.Load() {
		_ = b.Set(metaLastOffset, putU64(last), nil)
		_ = b.Set(metaLogBytes, putU64(uint64(max(logBytes, 0))), nil)
		if floor > last+1 {
			floor = last + 1
		}
		_ = b.Set(metaFloor, putU64(floor), nil)
	}
	wopts := pebble.Sync
	if db.opts.NoSync {
		wopts = pebble.NoSync
	}
	size := b.Len()
	start := time.Now()
	err := db.pdb.Apply(b, wopts)
	syncDur := time.Since(start)
	if db.opts.Observe != nil {
		db.opts.Observe(GroupStats{Requests: len(ok), Events: len(evs), Bytes: size, Sync: syncDur, Err: err})
	}
	if err != nil {
		db.log.Error("group commit failed", "err", err, "requests", len(ok))
		for _, r := range ok {
			r.err = fmt.Errorf("%w: %v", ErrPersistence, err)
			close(r.done)
		}
		return n
	}
	db.lastOffset.Store(last)
	db.logBytes.Store(logBytes)
	if floor != db.floor.Load() {
		db.floor.Store(floor)
	}
	for _, r := range ok {
		for _, h := range r.hooks {
			runHook(db, h)
		}
	}
	// Answer the writers first: waking every stream subscriber can take a
	// while with many of them, and the writers need not wait for it.
	for _, r := range ok {
		close(r.done)
	}
	if len(evs) > 0 {
		db.opts.Publish(evs)
	}
	return n
}

// runTx calls fn, turning a panic into an error so one bad request cannot
// take the committer down.
func runTx(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("storage: update panicked: %v", p)
		}
	}()
	return fn(tx)
}

func runHook(db *DB, h func()) {
	defer func() {
		if p := recover(); p != nil {
			db.log.Error("after-commit hook panicked", "panic", p)
		}
	}()
	h()
}

// Tx is the view a request's function gets inside the committer. Reads see
// committed data plus the writes of earlier requests in the group and of
// this request itself. Writes are buffered and applied only if the function
// returns nil.
type Tx struct {
	db         *DB
	group      *overlay
	local      *overlay
	ops        []op
	events     []*events.Event
	hooks      []func()
	tsMs       uint64
	nextOffset uint64

	floor         uint64 // retention: new floor, 0 = unchanged
	logBytesDelta int64
}

// Get returns the value of key as this transaction sees it, or ErrNotFound.
// The returned slice must not be modified.
func (tx *Tx) Get(key []byte) ([]byte, error) {
	if v, found, decided := tx.local.lookup(key); decided {
		if !found {
			return nil, ErrNotFound
		}
		return v, nil
	}
	if v, found, decided := tx.group.lookup(key); decided {
		if !found {
			return nil, ErrNotFound
		}
		return v, nil
	}
	return tx.db.Get(key)
}

// Set writes key = value. The slices must not be modified afterwards.
func (tx *Tx) Set(key, value []byte) {
	tx.local.set(key, value)
	tx.ops = append(tx.ops, op{kind: opSet, key: key, value: value})
}

// Delete removes key.
func (tx *Tx) Delete(key []byte) {
	tx.local.del(key)
	tx.ops = append(tx.ops, op{kind: opDelete, key: key})
}

// DeleteRange removes every key in [start, end).
func (tx *Tx) DeleteRange(start, end []byte) {
	tx.local.delRange(start, end)
	tx.ops = append(tx.ops, op{kind: opDeleteRange, key: start, value: end})
}

// Emit appends ev to the event log in this transaction and returns the
// offset it will have. Type, Key, Collection and Data must be set.
func (tx *Tx) Emit(ev *events.Event) uint64 {
	ev.Offset = tx.nextOffset
	tx.nextOffset++
	tx.events = append(tx.events, ev)
	return ev.Offset
}

// NowMs is the commit timestamp of the group (Unix milliseconds).
func (tx *Tx) NowMs() uint64 { return tx.tsMs }

// AfterCommit registers fn to run in the committer after the group is
// durable, before events are published and callers answered, in commit
// order. Keep it short: derived in-memory structures apply changes here.
func (tx *Tx) AfterCommit(fn func()) { tx.hooks = append(tx.hooks, fn) }

type opKind uint8

const (
	opSet opKind = iota
	opDelete
	opDeleteRange
)

type op struct {
	kind       opKind
	key, value []byte
}

func (o op) apply(b *pebble.Batch) error {
	switch o.kind {
	case opSet:
		return b.Set(o.key, o.value, nil)
	case opDelete:
		return b.Delete(o.key, nil)
	default:
		return b.DeleteRange(o.key, o.value, nil)
	}
}

// overlay holds uncommitted writes. Point writes and range deletes carry a
// sequence number so that the later of the two wins on lookup.
type overlay struct {
	seq    uint64
	points map[string]overlayEntry
	ranges []overlayRange
}

type overlayEntry struct {
	value   []byte
	deleted bool
	seq     uint64
}

type overlayRange struct {
	start, end []byte
	seq        uint64
}

func newOverlay() *overlay { return &overlay{} }

func (o *overlay) set(key, value []byte) {
	if o.points == nil {
		o.points = make(map[string]overlayEntry)
	}
	o.seq++
	o.points[string(key)] = overlayEntry{value: value, seq: o.seq}
}

func (o *overlay) del(key []byte) {
	if o.points == nil {
		o.points = make(map[string]overlayEntry)
	}
	o.seq++
	o.points[string(key)] = overlayEntry{deleted: true, seq: o.seq}
}

func (o *overlay) delRange(start, end []byte) {
	o.seq++
	o.ranges = append(o.ranges, overlayRange{start: start, end: end, seq: o.seq})
}

// lookup reports the overlay's verdict on key: decided=false means the
// overlay does not know and the caller must look further down.
func (o *overlay) lookup(key []byte) (value []byte, found, decided bool) {
	p, hasPoint := o.points[string(key)]
	var rangeSeq uint64
	for _, r := range o.ranges {
		if bytes.Compare(key, r.start) >= 0 && bytes.Compare(key, r.end) < 0 && r.seq > rangeSeq {
			rangeSeq = r.seq
		}
	}
	switch {
	case hasPoint && p.seq > rangeSeq:
		return p.value, !p.deleted, true
	case rangeSeq > 0:
		return nil, false, true
	default:
		return nil, false, false
	}
}

// merge folds a successful request's overlay into the group's, keeping the
// request's order relative to earlier writes.
func (o *overlay) merge(l *overlay) {
	if len(l.points) == 0 && len(l.ranges) == 0 {
		return
	}
	// Re-sequence l's entries after o's so they win over earlier writes.
	base := o.seq
	for _, r := range l.ranges {
		o.ranges = append(o.ranges, overlayRange{start: r.start, end: r.end, seq: base + r.seq})
	}
	if len(l.points) > 0 && o.points == nil {
		o.points = make(map[string]overlayEntry, len(l.points))
	}
	for k, p := range l.points {
		p.seq += base
		o.points[k] = p
	}
	o.seq = base + l.seq
}
