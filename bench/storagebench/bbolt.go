package main

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The bbolt variants. bbolt is opened as etcd opens it (hash-map freelist not
// synced, a large initial mmap so growth does not remap under load), with
// NoSync=false: every committed transaction is fdatasync'ed twice, once
// after the data pages and once after the meta page.

var (
	boltValues = []byte("s")
	boltEvents = []byte("e")
)

func openBolt(dir string) (*bolt.DB, error) {
	db, err := bolt.Open(filepath.Join(dir, "luma.db"), 0o600, &bolt.Options{
		Timeout:         time.Second,
		NoFreelistSync:  true,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("open bbolt in %s: %w", dir, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{boltValues, boltEvents} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create buckets: %w", err)
	}
	return db, nil
}

// putEvent stores one event. The event log is append-only with increasing
// keys, so its pages are filled completely instead of split in half.
func putEvent(tx *bolt.Tx, key, value []byte) error {
	b := tx.Bucket(boltEvents)
	b.FillPercent = 1.0
	return b.Put(key, value)
}

type boltBase struct {
	db      *bolt.DB
	batches atomic.Uint64
	ops     atomic.Uint64
}

func (b *boltBase) counters() counters {
	n := b.batches.Load()
	return counters{Batches: n, BatchedOps: b.ops.Load(), LogSyncs: n, Syncs: 2 * n}
}

func (b *boltBase) prefill(n, size int) error {
	w := newWriter(-1, size, 1)
	for done := 0; done < n; {
		err := b.db.Update(func(tx *bolt.Tx) error {
			values := tx.Bucket(boltValues)
			for end := min(n, done+4<<20); done < end; {
				w.next()
				// bbolt keeps the slices until commit: copy them.
				k := append([]byte(nil), w.req.key...)
				v := append([]byte(nil), w.req.value...)
				if err := values.Put(k, v); err != nil {
					return err
				}
				done += len(k) + len(v)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// boltCommitter is the committer design on bbolt: one goroutine drains the
// waiting requests into one read-write transaction.
type boltCommitter struct {
	boltBase
	reqc     chan *request
	maxGroup int
	stopc    chan struct{}
	donec    chan struct{}
}

func openBoltCommitter(dir string, cfg *config) (target, error) {
	db, err := openBolt(dir)
	if err != nil {
		return nil, err
	}
	c := &boltCommitter{
		boltBase: boltBase{db: db},
		reqc:     make(chan *request, cfg.MaxGroup),
		maxGroup: cfg.MaxGroup,
		stopc:    make(chan struct{}),
		donec:    make(chan struct{}),
	}
	go c.run()
	return c, nil
}

func (c *boltCommitter) write(w *writer) error {
	select {
	case c.reqc <- &w.req:
	case <-c.donec:
		return errStopped
	}
	return <-w.req.done
}

func (c *boltCommitter) run() {
	defer close(c.donec)
	var (
		next  uint64 = 1
		group        = make([]*request, 0, c.maxGroup)
		arena []byte
	)
	for {
		select {
		case r := <-c.reqc:
			group = append(group[:0], r)
		case <-c.stopc:
			return
		}
		group = drain(group, c.reqc, c.maxGroup)
		// bbolt keeps the key and value slices until the transaction ends,
		// so every event gets its own bytes; size the arena up front so
		// appending never moves what earlier records point into.
		size := 0
		for i, r := range group {
			size += eventKeyLen + envelopeLen(next+uint64(i), r.tail)
		}
		if cap(arena) < size {
			arena = make([]byte, 0, size)
		}
		err := c.db.Update(func(tx *bolt.Tx) error {
			values := tx.Bucket(boltValues)
			a := arena[:0]
			for i, r := range group {
				off := next + uint64(i)
				if err := values.Put(r.key, r.value); err != nil {
					return err
				}
				ks := len(a)
				a = appendEventKey(a, off)
				vs := len(a)
				a = appendEnvelope(a, off, r.tail)
				if cap(a) != cap(arena) {
					panic("storagebench: event arena reallocated under bbolt's feet")
				}
				k, v := a[ks:vs:vs], a[vs:len(a):len(a)]
				if err := putEvent(tx, k, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			next += uint64(len(group))
			c.batches.Add(1)
			c.ops.Add(uint64(len(group)))
		}
		answer(group, err)
	}
}

func (c *boltCommitter) close() error {
	close(c.stopc)
	<-c.donec
	return c.db.Close()
}

// boltBatch lets bbolt group: every writer calls db.Batch, which collects
// calls for up to MaxBatchDelay (10 ms) or MaxBatchSize (1000) calls and
// runs them in one transaction.
type boltBatch struct {
	boltBase
	next   atomic.Uint64
	lastTx atomic.Int64
}

func openBoltBatch(dir string, _ *config) (target, error) {
	db, err := openBolt(dir)
	if err != nil {
		return nil, err
	}
	return &boltBatch{boltBase: boltBase{db: db}}, nil
}

func (b *boltBatch) write(w *writer) error {
	off := b.next.Add(1)
	w.ekey = appendEventKey(w.ekey[:0], off)
	w.event = appendEnvelope(w.event[:0], off, w.req.tail)
	err := b.db.Batch(func(tx *bolt.Tx) error {
		// The functions of one batch run one after the other in one
		// transaction, so a new transaction id starts a new batch.
		if id := int64(tx.ID()); b.lastTx.Swap(id) != id {
			b.batches.Add(1)
		}
		if err := tx.Bucket(boltValues).Put(w.req.key, w.req.value); err != nil {
			return err
		}
		return putEvent(tx, w.ekey, w.event)
	})
	if err == nil {
		b.ops.Add(1)
	}
	return err
}

func (b *boltBatch) close() error { return b.db.Close() }
