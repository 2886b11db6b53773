package main

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// The Pebble variants. All of them open Pebble with its defaults (4 MiB
// memtable unless told otherwise, disk-health checking on) over a vfs that
// counts syncs, and write the two records of a logical write in one batch.

var errStopped = errors.New("storagebench: committer stopped")

func openPebble(dir string, memtable uint64, fs *countingFS) (*pebble.DB, error) {
	opts := &pebble.Options{FS: fs, MemTableSize: memtable, Logger: quietLogger{}}
	opts.WithFSDefaults() // disk-health checking, as a nil FS would get
	opts.EventListener = &pebble.EventListener{
		WriteStallBegin: func(pebble.WriteStallBeginInfo) {
			fs.stallStart.Store(time.Now().UnixNano())
		},
		WriteStallEnd: func() {
			if t := fs.stallStart.Swap(0); t != 0 {
				fs.stalls.Add(1)
				fs.stallNanos.Add(uint64(time.Now().UnixNano() - t))
			}
		},
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open pebble in %s: %w", dir, err)
	}
	return db, nil
}

// pebbleBase holds what every Pebble variant has.
type pebbleBase struct {
	db      *pebble.DB
	fs      *countingFS
	batches atomic.Uint64
	ops     atomic.Uint64
}

func (p *pebbleBase) counters() counters {
	return counters{
		Batches:    p.batches.Load(),
		BatchedOps: p.ops.Load(),
		LogSyncs:   p.fs.walSyncs.Load(),
		Syncs:      p.fs.syncs.Load(),
		Stalls:     p.fs.stalls.Load(),
		StallNanos: p.fs.stallNanos.Load(),
	}
}

func (p *pebbleBase) prefill(n, size int) error {
	w := newWriter(-1, size, 1)
	b := p.db.NewBatch()
	for done := 0; done < n; {
		w.next()
		if err := b.Set(w.req.key, w.req.value, nil); err != nil {
			_ = b.Close()
			return err
		}
		done += len(w.req.key) + len(w.req.value)
		if b.Len() >= 1<<20 || done >= n {
			opts := pebble.NoSync
			if done >= n {
				opts = pebble.Sync
			}
			err := p.db.Apply(b, opts)
			_ = b.Close()
			if err != nil {
				return err
			}
			b = p.db.NewBatch()
		}
	}
	_ = b.Close()
	// The first flush retires the WAL that holds the prefill; once that is
	// obsolete, the second makes Pebble take a recycled file as its WAL.
	if err := p.db.Flush(); err != nil {
		return err
	}
	if err := p.db.Set([]byte("p/rotate"), nil, pebble.Sync); err != nil {
		return err
	}
	return p.db.Flush()
}

// recordBuilder turns requests into batch records; its scratch buffers are
// reused (Batch.Set copies).
type recordBuilder struct {
	ekey []byte
	ev   []byte
}

// add appends the records of reqs to b, numbering their events from first,
// and returns the next free offset.
func (rb *recordBuilder) add(b *pebble.Batch, reqs []*request, first uint64) (uint64, error) {
	off := first
	for _, r := range reqs {
		if err := b.Set(r.key, r.value, nil); err != nil {
			return first, err
		}
		rb.ekey = appendEventKey(rb.ekey[:0], off)
		rb.ev = appendEnvelope(rb.ev[:0], off, r.tail)
		if err := b.Set(rb.ekey, rb.ev, nil); err != nil {
			return first, err
		}
		off++
	}
	return off, nil
}

// drain appends to group what is waiting on reqc, without blocking, up to
// limit requests in all.
func drain(group []*request, reqc <-chan *request, limit int) []*request {
	for len(group) < limit {
		select {
		case r := <-reqc:
			group = append(group, r)
		default:
			return group
		}
	}
	return group
}

func answer(group []*request, err error) {
	for _, r := range group {
		r.done <- err
	}
}

// pebbleCommitter is the design's committer: one goroutine owns the offset,
// takes what is waiting, commits it as one synced batch, answers everyone.
type pebbleCommitter struct {
	pebbleBase
	reqc     chan *request
	maxGroup int
	stopc    chan struct{}
	donec    chan struct{}
}

func openPebbleCommitter(dir string, cfg *config, memtable uint64) (target, error) {
	fs := newCountingFS(vfs.Default)
	db, err := openPebble(dir, memtable, fs)
	if err != nil {
		return nil, err
	}
	c := &pebbleCommitter{
		pebbleBase: pebbleBase{db: db, fs: fs},
		reqc:       make(chan *request, cfg.MaxGroup),
		maxGroup:   cfg.MaxGroup,
		stopc:      make(chan struct{}),
		donec:      make(chan struct{}),
	}
	go c.run()
	return c, nil
}

func (c *pebbleCommitter) write(w *writer) error {
	select {
	case c.reqc <- &w.req:
	case <-c.donec:
		return errStopped
	}
	return <-w.req.done
}

func (c *pebbleCommitter) run() {
	defer close(c.donec)
	var (
		next  uint64 = 1 // the offset of the next event; owned here
		group        = make([]*request, 0, c.maxGroup)
		rb    recordBuilder
	)
	for {
		select {
		case r := <-c.reqc:
			group = append(group[:0], r)
		case <-c.stopc:
			return
		}
		group = drain(group, c.reqc, c.maxGroup)
		b := c.db.NewBatch()
		end, err := rb.add(b, group, next)
		if err == nil {
			err = c.db.Apply(b, pebble.Sync)
		}
		_ = b.Close()
		if err == nil {
			next = end // offsets stay gap-free: a failed batch uses none
			c.batches.Add(1)
			c.ops.Add(uint64(len(group)))
		}
		answer(group, err)
	}
}

func (c *pebbleCommitter) close() error {
	close(c.stopc)
	<-c.donec
	return c.db.Close()
}

// pebbleApply leaves grouping to Pebble's commit pipeline: every writer
// applies its own synced batch; concurrent WAL syncs are merged by Pebble's
// log writer. Offsets come from an atomic counter, so the commit order may
// differ from the offset order (a real design would need more to keep the
// log gap-free when a batch fails).
type pebbleApply struct {
	pebbleBase
	next atomic.Uint64
}

func openPebbleApply(dir string, memtable uint64) (target, error) {
	fs := newCountingFS(vfs.Default)
	db, err := openPebble(dir, memtable, fs)
	if err != nil {
		return nil, err
	}
	return &pebbleApply{pebbleBase: pebbleBase{db: db, fs: fs}}, nil
}

func (p *pebbleApply) write(w *writer) error {
	off := p.next.Add(1)
	b := p.db.NewBatch()
	defer b.Close()
	if err := b.Set(w.req.key, w.req.value, nil); err != nil {
		return err
	}
	w.ekey = appendEventKey(w.ekey[:0], off)
	w.event = appendEnvelope(w.event[:0], off, w.req.tail)
	if err := b.Set(w.ekey, w.event, nil); err != nil {
		return err
	}
	if err := p.db.Apply(b, pebble.Sync); err != nil {
		return err
	}
	p.batches.Add(1)
	p.ops.Add(1)
	return nil
}

func (p *pebbleApply) close() error { return p.db.Close() }

// pebbleTwoStage splits the committer in two goroutines: the builder keeps
// adding arriving requests to batch N+1 while the applier runs Apply(Sync)
// on batch N, and hands N+1 over the moment the applier is free. Offsets are
// assigned by the builder and batches applied in order by the one applier,
// so the log stays in offset order.
type pebbleTwoStage struct {
	pebbleBase
	reqc     chan *request
	applyc   chan *stagedBatch // unbuffered: a send succeeds only when the applier is idle
	freec    chan *stagedBatch
	maxGroup int
	stopc    chan struct{}
	donec    chan struct{} // closed when the builder has stopped
	appliedc chan struct{} // closed when the applier has stopped
}

type stagedBatch struct {
	b     *pebble.Batch
	group []*request
	first uint64 // offset of the first event in b
	next  uint64 // offset after the last
	err   error  // a build error; the batch is then answered, not applied
}

func openPebbleTwoStage(dir string, cfg *config) (target, error) {
	fs := newCountingFS(vfs.Default)
	db, err := openPebble(dir, 0, fs)
	if err != nil {
		return nil, err
	}
	t := &pebbleTwoStage{
		pebbleBase: pebbleBase{db: db, fs: fs},
		reqc:       make(chan *request, cfg.MaxGroup),
		applyc:     make(chan *stagedBatch),
		freec:      make(chan *stagedBatch, 2),
		maxGroup:   cfg.MaxGroup,
		stopc:      make(chan struct{}),
		donec:      make(chan struct{}),
		appliedc:   make(chan struct{}),
	}
	for range 2 {
		t.freec <- &stagedBatch{group: make([]*request, 0, cfg.MaxGroup)}
	}
	go t.build()
	go t.apply()
	return t, nil
}

func (t *pebbleTwoStage) write(w *writer) error {
	select {
	case t.reqc <- &w.req:
	case <-t.donec:
		return errStopped
	}
	return <-w.req.done
}

func (t *pebbleTwoStage) build() {
	defer close(t.donec)
	defer close(t.applyc)
	var (
		next uint64 = 1
		cur  *stagedBatch
		rb   recordBuilder
	)
	for {
		if cur == nil {
			select {
			case cur = <-t.freec:
			case <-t.stopc:
				return
			}
			cur.b = t.db.NewBatch()
			cur.group = cur.group[:0]
			cur.first, cur.next, cur.err = next, next, nil
		}
		in, out := t.reqc, t.applyc
		if len(cur.group) >= t.maxGroup || cur.err != nil {
			in = nil
		}
		if len(cur.group) == 0 {
			out = nil
		}
		select {
		case r := <-in:
			cur.group = append(cur.group, r)
			cur.next, cur.err = rb.add(cur.b, cur.group[len(cur.group)-1:], cur.next)
			if cur.err == nil {
				next = cur.next
			}
		case out <- cur:
			cur = nil
		case <-t.stopc:
			if cur != nil {
				_ = cur.b.Close()
			}
			return
		}
	}
}

func (t *pebbleTwoStage) apply() {
	defer close(t.appliedc)
	for s := range t.applyc {
		err := s.err
		if err == nil {
			err = t.db.Apply(s.b, pebble.Sync)
		}
		_ = s.b.Close()
		if err == nil {
			t.batches.Add(1)
			t.ops.Add(uint64(len(s.group)))
		}
		// A failed batch leaves a hole at [s.first, s.next): a real committer
		// would stop here, as the storage engine is no longer trustworthy.
		answer(s.group, err)
		t.freec <- s
	}
}

func (t *pebbleTwoStage) close() error {
	close(t.stopc)
	<-t.donec
	<-t.appliedc
	return t.db.Close()
}

// pebblePipelined keeps the single committer but does not wait for the fsync:
// it calls ApplyNoSyncWait (the batch is in the WAL buffer and the memtable,
// in commit order) and passes the batch to a waiter goroutine that calls
// SyncWait and answers. So batch N+1 is built and written to the WAL while
// batch N's fsync is in flight, and Pebble's log writer covers everything
// written meanwhile with its next fsync. The events of a batch must not be
// published before SyncWait returns. ApplyNoSyncWait is marked experimental
// by Pebble.
type pebblePipelined struct {
	pebbleBase
	reqc     chan *request
	syncc    chan *stagedBatch // applied batches in commit order, for the waiter
	freec    chan *stagedBatch // depth batches; taking one bounds those between Apply and SyncWait
	maxGroup int
	stopc    chan struct{}
	donec    chan struct{}
	waitedc  chan struct{}
}

func openPebblePipelined(dir string, cfg *config) (target, error) {
	fs := newCountingFS(vfs.Default)
	db, err := openPebble(dir, 0, fs)
	if err != nil {
		return nil, err
	}
	p := &pebblePipelined{
		pebbleBase: pebbleBase{db: db, fs: fs},
		reqc:       make(chan *request, cfg.MaxGroup),
		syncc:      make(chan *stagedBatch, cfg.PipelineDepth),
		freec:      make(chan *stagedBatch, cfg.PipelineDepth),
		maxGroup:   cfg.MaxGroup,
		stopc:      make(chan struct{}),
		donec:      make(chan struct{}),
		waitedc:    make(chan struct{}),
	}
	for range cfg.PipelineDepth {
		p.freec <- &stagedBatch{group: make([]*request, 0, cfg.MaxGroup)}
	}
	go p.run()
	go p.wait()
	return p, nil
}

func (p *pebblePipelined) write(w *writer) error {
	select {
	case p.reqc <- &w.req:
	case <-p.donec:
		return errStopped
	}
	return <-w.req.done
}

func (p *pebblePipelined) run() {
	defer close(p.donec)
	defer close(p.syncc)
	var (
		next uint64 = 1
		rb   recordBuilder
	)
	for {
		var s *stagedBatch
		select {
		case s = <-p.freec: // at most depth batches between Apply and SyncWait
		case <-p.stopc:
			return
		}
		select {
		case r := <-p.reqc:
			s.group = append(s.group[:0], r)
		case <-p.stopc:
			return
		}
		s.group = drain(s.group, p.reqc, p.maxGroup)
		s.b = p.db.NewBatch()
		s.first = next
		s.next, s.err = rb.add(s.b, s.group, next)
		if s.err == nil {
			s.err = p.db.ApplyNoSyncWait(s.b, pebble.Sync)
		}
		if s.err == nil {
			next = s.next
		}
		p.syncc <- s
	}
}

func (p *pebblePipelined) wait() {
	defer close(p.waitedc)
	for s := range p.syncc {
		err := s.err
		if err == nil {
			// Applied batches must be waited for before Close; SyncWait
			// returns the commit error, if any.
			err = s.b.SyncWait()
		}
		_ = s.b.Close()
		if err == nil {
			p.batches.Add(1)
			p.ops.Add(uint64(len(s.group)))
		}
		answer(s.group, err)
		p.freec <- s
	}
}

func (p *pebblePipelined) close() error {
	close(p.stopc)
	<-p.donec
	<-p.waitedc
	return p.db.Close()
}

// countingFS counts the sync calls Pebble makes, on every file and on WAL
// files alone. It also keeps the write-stall figures of the DB on it, which
// openPebble's event listener records.
type countingFS struct {
	vfs.FS
	syncs    atomic.Uint64
	walSyncs atomic.Uint64

	stallStart atomic.Int64 // unix ns when the current stall began, 0 if none
	stalls     atomic.Uint64
	stallNanos atomic.Uint64
}

func newCountingFS(fs vfs.FS) *countingFS { return &countingFS{FS: fs} }

func (fs *countingFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, fs: fs, wal: strings.HasSuffix(name, ".log")}, nil
}

func (fs *countingFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, cat)
	return fs.wrap(name, f, err)
}

func (fs *countingFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.Open(name, opts...)
	return fs.wrap(name, f, err)
}

func (fs *countingFS) OpenReadWrite(name string, cat vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, cat, opts...)
	return fs.wrap(name, f, err)
}

func (fs *countingFS) OpenDir(name string) (vfs.File, error) {
	f, err := fs.FS.OpenDir(name)
	return fs.wrap(name, f, err)
}

func (fs *countingFS) ReuseForWrite(oldname, newname string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, cat)
	return fs.wrap(newname, f, err)
}

func (fs *countingFS) Unwrap() vfs.FS { return fs.FS }

type countingFile struct {
	vfs.File
	fs  *countingFS
	wal bool
}

func (f *countingFile) count() {
	f.fs.syncs.Add(1)
	if f.wal {
		f.fs.walSyncs.Add(1)
	}
}

func (f *countingFile) Sync() error {
	f.count()
	return f.File.Sync()
}

func (f *countingFile) SyncData() error {
	f.count()
	return f.File.SyncData()
}

func (f *countingFile) SyncTo(length int64) (bool, error) {
	full, err := f.File.SyncTo(length)
	if full {
		f.count()
	}
	return full, err
}

// quietLogger drops Pebble's informational messages ("Found 0 WALs") so
// that the report stays readable; errors still reach stderr.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}

func (quietLogger) Errorf(format string, args ...any) {
	pebble.DefaultLogger.Errorf(format, args...)
}

func (quietLogger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}
