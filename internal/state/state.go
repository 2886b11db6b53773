// Package state is Luma's key-value store: JSON values with a revision per
// key, optional TTL and compare-and-set, written through the storage
// committer so that every change and its event commit together.
//
// Records live under storage.PrefixState ('s' + key) as
//
//	version(1) | uvarint revision | uvarint expires_at_ms (0 = none) | value JSON
//
// and a TTL index under storage.PrefixTTL ('t' + 8-byte big-endian expiry +
// key) lets the sweeper find expired keys in expiry order. An expired key is
// invisible to reads at once; the sweeper deletes it through the committer
// and emits state_deleted with reason "ttl".
package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/metrics"
	"github.com/luma-db/luma/internal/storage"
)

// Errors returned by the store. The HTTP layer maps each to its wire code.
var (
	ErrNotFound         = errors.New("state: key not found")
	ErrRevisionMismatch = errors.New("state: if_revision mismatch")
	ErrKeyTooLong       = errors.New("state: key too long")
	ErrEmptyKey         = errors.New("state: key must not be empty")
	ErrInvalidKey       = errors.New("state: key must be valid UTF-8")
	ErrValueTooLarge    = errors.New("state: value too large")
	ErrInvalidValue     = errors.New("state: value is not valid JSON")
	ErrTTLTooLarge      = errors.New("state: ttl_ms too large")
	ErrNoOperations     = errors.New("state: operations required")
	ErrTooManyOps       = errors.New("state: too many operations")
)

// MaxTTLMs bounds ttl_ms (about 285 000 years) so expiry never overflows.
const MaxTTLMs = 1 << 53

// Limits bound keys, values and batches.
type Limits struct {
	MaxKeyLen    int // bytes; default 512
	MaxJSONBytes int // compact value size; default 100 MiB
	MaxBatch     int // batch_put operations; default 256
}

// Options configure New.
type Options struct {
	Limits  Limits
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// SweepInterval is the TTL sweeper period (default 1 s); SweepBatch the
	// keys deleted per transaction (default 1000); SweepAtStart the keys
	// swept synchronously by New (default 10000).
	SweepInterval time.Duration
	SweepBatch    int
	SweepAtStart  int
}

// Item is a stored key as reads return it.
type Item struct {
	Key         string
	Value       json.RawMessage
	Revision    uint64
	ExpiresAtMs *uint64
}

// PutResult is the outcome of a successful put.
type PutResult struct {
	Key         string
	Revision    uint64
	ExpiresAtMs *uint64
}

// Store is the state store. Create it with New and stop it with Close.
type Store struct {
	db  *storage.DB
	lim Limits
	m   *metrics.Metrics
	log *slog.Logger

	sweepEvery time.Duration
	sweepBatch int

	stopc chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

// New returns a store over db, sweeps keys that expired while the server was
// down (up to SweepAtStart) and starts the TTL sweeper.
func New(db *storage.DB, o Options) (*Store, error) {
	if o.Limits.MaxKeyLen <= 0 {
		o.Limits.MaxKeyLen = 512
	}
	if o.Limits.MaxJSONBytes <= 0 {
		o.Limits.MaxJSONBytes = 100 << 20
	}
	if o.Limits.MaxBatch <= 0 {
		o.Limits.MaxBatch = 256
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = time.Second
	}
	if o.SweepBatch <= 0 {
		o.SweepBatch = 1000
	}
	if o.SweepAtStart <= 0 {
		o.SweepAtStart = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Store{
		db: db, lim: o.Limits, m: o.Metrics, log: o.Logger,
		sweepEvery: o.SweepInterval, sweepBatch: o.SweepBatch,
		stopc: make(chan struct{}),
	}
	for swept := 0; swept < o.SweepAtStart; {
		n, err := s.Sweep(context.Background(), min(o.SweepBatch, o.SweepAtStart-swept))
		if err != nil {
			return nil, fmt.Errorf("state: start-up TTL sweep: %w", err)
		}
		if n == 0 {
			break
		}
		swept += n
	}
	s.wg.Add(1)
	go s.sweeper()
	return s, nil
}

// Close stops the sweeper.
func (s *Store) Close() {
	s.once.Do(func() {
		close(s.stopc)
		s.wg.Wait()
	})
}

// Limits returns the store's limits.
func (s *Store) Limits() Limits { return s.lim }

// CheckKey validates a key against the limits.
func (s *Store) CheckKey(key string) error {
	switch {
	case key == "":
		return ErrEmptyKey
	case len(key) > s.lim.MaxKeyLen:
		return ErrKeyTooLong
	case !utf8.ValidString(key):
		return ErrInvalidKey
	}
	return nil
}

// CompactValue validates raw as JSON and returns its compact form, checking
// the size limit. An absent value (nil) is JSON null.
func (s *Store) CompactValue(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return []byte("null"), nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return nil, ErrInvalidValue
	}
	if buf.Len() > s.lim.MaxJSONBytes {
		return nil, ErrValueTooLarge
	}
	return buf.Bytes(), nil
}

// Get returns the live item at key, or ErrNotFound (absent or expired).
func (s *Store) Get(key string) (Item, error) {
	if err := s.CheckKey(key); err != nil {
		return Item{}, err
	}
	v, err := s.db.Get(recordKey(key))
	if errors.Is(err, storage.ErrNotFound) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, err
	}
	rec, err := decodeRecord(v)
	if err != nil {
		return Item{}, fmt.Errorf("state: key %q: %w", key, err)
	}
	if rec.expired(nowMs()) {
		return Item{}, ErrNotFound
	}
	return rec.item(key), nil
}

// List returns live items whose key starts with prefix and is greater than
// after, in key byte order, at most limit of them, and whether more exist.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]Item, bool, error) {
	if len(prefix) > s.lim.MaxKeyLen {
		return nil, false, ErrKeyTooLong
	}
	start := recordKey(prefix)
	end := storage.PrefixEnd(start)
	if after != "" && after >= prefix {
		start = append(recordKey(after), 0)
	}
	now := nowMs()
	items := make([]Item, 0, min(limit, 64))
	more := false
	err := s.db.Scan(start, end, func(k, v []byte) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		rec, err := decodeRecord(v)
		if err != nil {
			return false, fmt.Errorf("state: key %q: %w", k[1:], err)
		}
		if rec.expired(now) {
			return true, nil
		}
		if len(items) == limit {
			more = true
			return false, nil
		}
		rec.value = bytes.Clone(rec.value)
		items = append(items, rec.item(string(k[1:])))
		return true, nil
	})
	return items, more, err
}

// PutOptions are the optional fields of a put.
type PutOptions struct {
	TTLMs      *uint64 // expire after this many ms; nil clears a previous TTL
	IfRevision *uint64 // compare-and-set: the live key must have this revision (0: the key must be absent)
}

// Put writes value (raw JSON) at key.
func (s *Store) Put(ctx context.Context, key string, value json.RawMessage, o PutOptions) (PutResult, error) {
	if err := s.CheckKey(key); err != nil {
		return PutResult{}, err
	}
	if o.TTLMs != nil && *o.TTLMs > MaxTTLMs {
		return PutResult{}, ErrTTLTooLarge
	}
	val, err := s.CompactValue(value)
	if err != nil {
		return PutResult{}, err
	}
	var res PutResult
	_, err = s.db.Update(ctx, func(tx *storage.Tx) error {
		res, err = PutTx(tx, key, val, o)
		if err == nil {
			tx.AfterCommit(func() { s.m.AddStatePut(1) })
		}
		return err
	})
	return res, err
}

// Delete removes a live key and reports whether it existed. An expired key
// that the sweeper has not removed yet counts as absent (no event). With
// ifRevision set, the key must be live with that revision.
func (s *Store) Delete(ctx context.Context, key string, ifRevision *uint64) (bool, error) {
	if err := s.CheckKey(key); err != nil {
		return false, err
	}
	var deleted bool
	_, err := s.db.Update(ctx, func(tx *storage.Tx) error {
		var err error
		deleted, err = DeleteTx(tx, key, ifRevision)
		if deleted {
			tx.AfterCommit(func() { s.m.AddStateDelete(1) })
		}
		return err
	})
	return deleted, err
}

// Op is one batch_put operation.
type Op struct {
	Key   string
	Value json.RawMessage
	PutOptions
}

// ItemError is the failure of one operation of a batch.
type ItemError struct {
	Index int
	Key   string
	Err   error
}

// BatchError reports why an atomic batch was not applied: every failing
// operation with its error. No operation of the batch was written.
type BatchError struct {
	Items []ItemError
}

func (e *BatchError) Error() string {
	if len(e.Items) == 0 {
		return "state: batch not applied"
	}
	f := e.Items[0]
	return fmt.Sprintf("operation %d (key %q): %v; batch not applied (%d failing operation(s))",
		f.Index, f.Key, trimPrefix(f.Err), len(e.Items))
}

// Unwrap returns the first item's error, so errors.Is(err, ErrRevisionMismatch) works.
func (e *BatchError) Unwrap() error {
	if len(e.Items) == 0 {
		return nil
	}
	return e.Items[0].Err
}

// BatchPut applies ops atomically: either every operation is written (in
// order, later ones seeing earlier ones, one event each) or none is, and a
// *BatchError lists every failing operation.
func (s *Store) BatchPut(ctx context.Context, ops []Op) ([]PutResult, error) {
	switch {
	case len(ops) == 0:
		return nil, ErrNoOperations
	case len(ops) > s.lim.MaxBatch:
		return nil, ErrTooManyOps
	}
	vals := make([][]byte, len(ops))
	var bad []ItemError
	for i, op := range ops {
		err := s.CheckKey(op.Key)
		if err == nil && op.TTLMs != nil && *op.TTLMs > MaxTTLMs {
			err = ErrTTLTooLarge
		}
		if err == nil {
			vals[i], err = s.CompactValue(op.Value)
		}
		if err != nil {
			bad = append(bad, ItemError{Index: i, Key: op.Key, Err: err})
		}
	}
	if len(bad) > 0 {
		return nil, &BatchError{Items: bad}
	}
	results := make([]PutResult, len(ops))
	_, err := s.db.Update(ctx, func(tx *storage.Tx) error {
		var bad []ItemError
		for i, op := range ops {
			r, err := PutTx(tx, op.Key, vals[i], op.PutOptions)
			if err != nil {
				bad = append(bad, ItemError{Index: i, Key: op.Key, Err: err})
				continue
			}
			results[i] = r
		}
		if len(bad) > 0 {
			return &BatchError{Items: bad}
		}
		tx.AfterCommit(func() { s.m.AddStatePut(len(ops)) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// PutTx writes a compact JSON value at key inside a committer transaction
// and emits state_updated. Other domains (documents, vector manifests) use
// it so that their keys behave exactly like state keys. The caller has
// validated key and value.
func PutTx(tx *storage.Tx, key string, value []byte, o PutOptions) (PutResult, error) {
	rk := recordKey(key)
	now := tx.NowMs()
	var old record
	oldExists, live := false, false
	if v, err := tx.Get(rk); err == nil {
		if old, err = decodeRecord(v); err != nil {
			return PutResult{}, fmt.Errorf("state: key %q: %w", key, err)
		}
		oldExists, live = true, !old.expired(now)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return PutResult{}, err
	}
	if o.IfRevision != nil {
		// Revisions start at 1, so if_revision 0 means "create only if
		// absent" (an expired key counts as absent).
		want := *o.IfRevision
		if (want == 0 && live) || (want != 0 && (!live || old.revision != want)) {
			return PutResult{}, ErrRevisionMismatch
		}
	}
	rec := record{revision: 1, value: value}
	if live {
		rec.revision = old.revision + 1
	}
	if oldExists && old.expiresAt != 0 {
		tx.Delete(ttlKey(old.expiresAt, key))
	}
	if o.TTLMs != nil {
		rec.expiresAt = now + *o.TTLMs
		if rec.expiresAt == 0 {
			rec.expiresAt = 1
		}
		tx.Set(ttlKey(rec.expiresAt, key), nil)
	}
	tx.Set(rk, rec.encode())
	res := PutResult{Key: key, Revision: rec.revision, ExpiresAtMs: rec.expiresPtr()}
	tx.Emit(&events.Event{Type: events.TypeStateUpdated, Key: key, Data: updatedData(key, rec)})
	return res, nil
}

// GetTx returns the live item at key as the transaction sees it.
func GetTx(tx *storage.Tx, key string) (Item, error) {
	v, err := tx.Get(recordKey(key))
	if errors.Is(err, storage.ErrNotFound) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, err
	}
	rec, err := decodeRecord(v)
	if err != nil {
		return Item{}, fmt.Errorf("state: key %q: %w", key, err)
	}
	if rec.expired(tx.NowMs()) {
		return Item{}, ErrNotFound
	}
	return rec.item(key), nil
}

// DeleteTx deletes a live key inside a committer transaction and emits
// state_deleted with reason "explicit". It reports whether the key was live.
func DeleteTx(tx *storage.Tx, key string, ifRevision *uint64) (bool, error) {
	rk := recordKey(key)
	v, err := tx.Get(rk)
	if errors.Is(err, storage.ErrNotFound) {
		if ifRevision != nil && *ifRevision != 0 {
			return false, ErrRevisionMismatch
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rec, err := decodeRecord(v)
	if err != nil {
		return false, fmt.Errorf("state: key %q: %w", key, err)
	}
	if rec.expired(tx.NowMs()) {
		if ifRevision != nil && *ifRevision != 0 {
			return false, ErrRevisionMismatch
		}
		return false, nil
	}
	if ifRevision != nil && rec.revision != *ifRevision {
		return false, ErrRevisionMismatch
	}
	if rec.expiresAt != 0 {
		tx.Delete(ttlKey(rec.expiresAt, key))
	}
	tx.Delete(rk)
	tx.Emit(&events.Event{Type: events.TypeStateDeleted, Key: key, Data: deletedData(key, "explicit")})
	return true, nil
}

func (s *Store) sweeper() {
	defer s.wg.Done()
	t := time.NewTicker(s.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopc:
			return
		case <-t.C:
			// Keep going while whole batches come back, but bounded per tick
			// so a flood of expiries cannot monopolise the committer.
			for i := 0; i < 10; i++ {
				n, err := s.Sweep(context.Background(), s.sweepBatch)
				if err != nil {
					if !errors.Is(err, storage.ErrClosed) {
						s.log.Error("TTL sweep failed", "err", err)
					}
					break
				}
				if n < s.sweepBatch {
					break
				}
			}
		}
	}
}

// Sweep deletes up to max expired keys in one transaction, emitting
// state_deleted with reason "ttl" for each, and returns how many TTL index
// entries it processed.
func (s *Store) Sweep(ctx context.Context, max int) (int, error) {
	type entry struct {
		exp uint64
		key string
	}
	now := nowMs()
	var due []entry
	end := ttlKeyPrefix(now + 1)
	err := s.db.Scan([]byte{storage.PrefixTTL}, end, func(k, _ []byte) (bool, error) {
		if len(k) < 9 {
			return true, nil
		}
		due = append(due, entry{exp: binary.BigEndian.Uint64(k[1:9]), key: string(k[9:])})
		return len(due) < max, nil
	})
	if err != nil || len(due) == 0 {
		return 0, err
	}
	deleted := 0
	_, err = s.db.Update(ctx, func(tx *storage.Tx) error {
		deleted = 0
		for _, d := range due {
			tk := ttlKey(d.exp, d.key)
			rk := recordKey(d.key)
			v, err := tx.Get(rk)
			if errors.Is(err, storage.ErrNotFound) {
				tx.Delete(tk) // stale index entry
				continue
			}
			if err != nil {
				return err
			}
			rec, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("state: key %q: %w", d.key, err)
			}
			tx.Delete(tk)
			if rec.expiresAt != d.exp {
				continue // the key was rewritten with another expiry
			}
			tx.Delete(rk)
			tx.Emit(&events.Event{Type: events.TypeStateDeleted, Key: d.key, Data: deletedData(d.key, "ttl")})
			deleted++
		}
		n := deleted
		tx.AfterCommit(func() { s.m.AddStateDelete(n) })
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(due), nil
}

func nowMs() uint64 { return uint64(time.Now().UnixMilli()) }

func trimPrefix(err error) string {
	const p = "state: "
	s := err.Error()
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
