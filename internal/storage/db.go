// Package storage is Luma's single source of truth: one Pebble database that
// holds every key space (see keys.go), and the committer, the one goroutine
// through which every mutation is written together with its event record in
// one durable batch.
//
// Reads go straight to Pebble and never wait for the committer. Writes are
// functions run by the committer against a transactional view (Tx) that
// sees the effects of the requests committed earlier in the same group.
package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/luma-db/luma/internal/events"
)

// Sentinel errors.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrClosed: the database is closed or closing.
	ErrClosed = errors.New("storage: closed")
	// ErrPersistence: the durable commit failed; nothing of the request was
	// applied.
	ErrPersistence = errors.New("storage: durable commit failed")
	// ErrCorrupt: stored data failed validation.
	ErrCorrupt = errors.New("storage: corrupt data")
)

// Options configure Open.
type Options struct {
	// Dir holds the Pebble files. Ignored when InMemory.
	Dir string
	// InMemory keeps everything in memory (tests, demos); nothing survives Close.
	InMemory bool
	// NoSync acknowledges writes before they reach the disk. Off by default:
	// a 2xx answer means fsynced.
	NoSync bool
	// CacheBytes is Pebble's block cache size (default 128 MiB).
	CacheBytes int64
	// MemTableBytes is Pebble's memtable size (default 64 MiB).
	MemTableBytes uint64
	// MaxGroupRequests and MaxGroupBytes bound one commit group
	// (defaults 4096 and 16 MiB: below half the memtable, where Pebble
	// would turn the batch into a flushable batch of its own).
	MaxGroupRequests int
	MaxGroupBytes    int
	// Retention bounds the event log; zero fields mean unbounded.
	Retention Retention
	// Publish receives the events of each durable commit, in order.
	Publish func([]*events.Event)
	// Observe, if set, is called after each group commit.
	Observe func(GroupStats)
	Logger  *slog.Logger
}

// GroupStats describe one commit group, for metrics.
type GroupStats struct {
	Requests int
	Events   int
	Bytes    int
	Sync     time.Duration
	Err      error
}

// EnsureDefaults fills zero fields with defaults.
func (o *Options) EnsureDefaults() {
	if o.CacheBytes <= 0 {
		o.CacheBytes = 128 << 20
	}
	if o.MemTableBytes == 0 {
		o.MemTableBytes = 64 << 20
	}
	if o.MaxGroupRequests <= 0 {
		o.MaxGroupRequests = 4096
	}
	if o.MaxGroupBytes <= 0 {
		o.MaxGroupBytes = 16 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Publish == nil {
		o.Publish = func([]*events.Event) {}
	}
}

// DB is the storage engine plus its committer.
type DB struct {
	opts Options
	pdb  *pebble.DB
	log  *slog.Logger

	reqc  chan *request
	stopc chan struct{} // closed by Close to stop the committer
	donec chan struct{} // closed when the committer has exited

	lastOffset atomic.Uint64 // last durable offset; written by the committer only
	floor      atomic.Uint64 // oldest retained offset; written by the committer only
	logBytes   atomic.Int64  // bytes of retained event records; committer only

	retMu     sync.Mutex // serialises retention passes
	closeOnce sync.Once
	bgWG      sync.WaitGroup // retention loop
}

// Open opens (creating if needed) the database and starts the committer.
func Open(opts Options) (*DB, error) {
	opts.EnsureDefaults()
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	popts := &pebble.Options{
		Cache:        cache,
		MemTableSize: opts.MemTableBytes,
		Logger:       pebbleLogger{opts.Logger},
	}
	dir := opts.Dir
	if opts.InMemory {
		popts.FS = vfs.NewMem()
		dir = ""
	} else {
		if dir == "" {
			return nil, errors.New("storage: no directory given")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("storage: create %s: %w", dir, err)
		}
	}
	pdb, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, fmt.Errorf("storage: open pebble in %q: %w", dir, err)
	}
	db := &DB{
		opts:  opts,
		pdb:   pdb,
		log:   opts.Logger,
		reqc:  make(chan *request, opts.MaxGroupRequests),
		stopc: make(chan struct{}),
		donec: make(chan struct{}),
	}
	if err := db.loadMeta(); err != nil {
		pdb.Close()
		return nil, err
	}
	go db.run()
	if opts.Retention.enabled() {
		db.bgWG.Add(1)
		go db.retentionLoop()
	}
	return db, nil
}

// loadMeta reads the schema version, the last offset, the retention floor and
// the log size, cross-checking the offset against the log itself.
func (db *DB) loadMeta() error {
	v, err := db.Get(metaSchema)
	switch {
	case errors.Is(err, ErrNotFound):
		if err := db.pdb.Set(metaSchema, putU64(schemaVersion), pebble.Sync); err != nil {
			return fmt.Errorf("storage: write schema version: %w", err)
		}
	case err != nil:
		return err
	case getU64(v) != schemaVersion:
		return fmt.Errorf("%w: schema version %d, this binary reads %d", ErrCorrupt, getU64(v), schemaVersion)
	}
	var last, floor uint64
	if v, err := db.Get(metaLastOffset); err == nil {
		last = getU64(v)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	// The newest log key wins if it is ahead of the meta record.
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{PrefixEvent}, UpperBound: []byte{PrefixEvent + 1}})
	if err != nil {
		return err
	}
	if it.Last() {
		if o := getU64(it.Key()[1:]); o > last {
			last = o
		}
	}
	firstKey := uint64(0)
	if it.First() {
		firstKey = getU64(it.Key()[1:])
	}
	if err := it.Close(); err != nil {
		return err
	}
	if v, err := db.Get(metaFloor); err == nil {
		floor = getU64(v)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if floor == 0 {
		floor = 1
		if firstKey != 0 {
			floor = firstKey
		}
	}
	if floor > last+1 {
		floor = last + 1
	}
	if v, err := db.Get(metaLogBytes); err == nil {
		db.logBytes.Store(int64(getU64(v)))
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	db.lastOffset.Store(last)
	db.floor.Store(floor)
	return nil
}

// Close stops the committer (pending requests fail with ErrClosed), then
// closes Pebble. It is safe to call more than once.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		close(db.stopc)
		<-db.donec
		db.bgWG.Wait()
		err = db.pdb.Close()
	})
	return err
}

// LastOffset returns the offset of the last durable event.
func (db *DB) LastOffset() uint64 { return db.lastOffset.Load() }

// Floor returns the oldest retained offset (LastOffset()+1 when the log is empty).
func (db *DB) Floor() uint64 { return db.floor.Load() }

// LogBytes returns the size of the retained event records.
func (db *DB) LogBytes() int64 { return db.logBytes.Load() }

// Get returns a copy of the committed value of key, or ErrNotFound.
func (db *DB) Get(key []byte) ([]byte, error) {
	v, closer, err := db.pdb.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: get: %w", err)
	}
	out := bytes.Clone(v)
	if out == nil {
		out = []byte{}
	}
	closer.Close()
	return out, nil
}

// Scan calls fn for each committed key in [start, end) in order, until fn
// returns false or an error. Key and value are only valid during the call.
// A nil end means the end of start's key space byte.
func (db *DB) Scan(start, end []byte, fn func(key, value []byte) (bool, error)) error {
	if end == nil && len(start) > 0 {
		end = []byte{start[0] + 1}
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return fmt.Errorf("storage: scan: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("storage: scan: %w", err)
		}
		more, err := fn(it.Key(), v)
		if err != nil || !more {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// ScanPrefix is Scan over every key starting with prefix.
func (db *DB) ScanPrefix(prefix []byte, fn func(key, value []byte) (bool, error)) error {
	return db.Scan(prefix, PrefixEnd(prefix), fn)
}

// ReadEvents returns up to max events with offset >= from, in order.
func (db *DB) ReadEvents(from uint64, max int) ([]*events.Event, error) {
	var out []*events.Event
	err := db.Scan(EventKey(from), []byte{PrefixEvent + 1}, func(k, v []byte) (bool, error) {
		e, err := events.UnmarshalRecord(getU64(k[1:]), v)
		if err != nil {
			return false, fmt.Errorf("%w: event %d: %v", ErrCorrupt, getU64(k[1:]), err)
		}
		out = append(out, e)
		return len(out) < max, nil
	})
	return out, err
}

var _ events.Log = (*DB)(nil)

// Metrics returns Pebble's own metrics, for diagnostics.
func (db *DB) Metrics() *pebble.Metrics { return db.pdb.Metrics() }

// DiskUsage returns the bytes Pebble uses on disk.
func (db *DB) DiskUsage() uint64 { return db.pdb.Metrics().DiskSpaceUsage() }

// Compact asks Pebble to compact [start, end), reclaiming space after large
// deletes (vacuum, retention).
func (db *DB) Compact(start, end []byte) error {
	return db.pdb.Compact(context.Background(), start, end, true)
}

// pebbleLogger sends Pebble's log lines to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	os.Exit(1)
}
