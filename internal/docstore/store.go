package docstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/luma-db/luma/internal/metrics"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
)

// Errors returned by the store. The HTTP layer maps each to its wire code.
var (
	ErrNotFound           = errors.New("docstore: document not found")
	ErrCollectionTooLong  = errors.New("docstore: collection too long")
	ErrIDTooLong          = errors.New("docstore: id too long")
	ErrEmptyCollection    = errors.New("docstore: collection must not be empty")
	ErrEmptyID            = errors.New("docstore: id must not be empty")
	ErrCollectionColon    = errors.New("docstore: collection name must not contain ':'")
	ErrCollectionEncoding = errors.New("docstore: collection must be valid UTF-8")
	ErrIDEncoding         = errors.New("docstore: id must be valid UTF-8")
	ErrKeyTooLong         = errors.New("docstore: document key longer than the state key limit")
	ErrDocTooLarge        = errors.New("docstore: doc too large")
	ErrInvalidDoc         = errors.New("docstore: document is not valid JSON")
	ErrEmptyDoc           = errors.New("docstore: document required")
)

// Limits bound names, documents and find pages.
type Limits struct {
	MaxCollectionLen int // bytes; default 64
	MaxIDLen         int // bytes; default 128
	MaxJSONBytes     int // compact document size; default 100 MiB
	MaxFind          int // documents per find page; default 100
}

// Options configure New.
type Options struct {
	Limits  Limits
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// BuildBatch is how many documents one background index build
	// transaction indexes (default 512).
	BuildBatch int

	// buildHook, if set (tests), runs in the builder before each batch; it
	// returns false to stop the builder as Close would.
	buildHook func(c, field string, processed uint64) bool
	// noReconcile (tests) leaves the reconciler off.
	noReconcile bool
}

// Doc is a stored document.
type Doc struct {
	ID       string
	Revision uint64
	Doc      json.RawMessage // compact JSON
}

// Store is the document store. Create it with New and stop it with Close.
type Store struct {
	db  *storage.DB
	st  *state.Store
	lim Limits
	m   *metrics.Metrics
	log *slog.Logger

	buildBatch int
	buildHook  func(c, field string, processed uint64) bool

	defsMu    sync.Mutex            // guards defsCache
	defsCache map[string]cachedDefs // collection -> last decoded definitions

	kick   chan struct{} // wakes the builder
	stopc  chan struct{}
	cancel context.CancelFunc // stops the reconciler
	wg     sync.WaitGroup
	once   sync.Once
}

// New returns a store over db and st and starts the background index
// builder, which resumes any build interrupted by a restart.
func New(db *storage.DB, st *state.Store, o Options) (*Store, error) {
	if o.Limits.MaxCollectionLen <= 0 {
		o.Limits.MaxCollectionLen = 64
	}
	if o.Limits.MaxIDLen <= 0 {
		o.Limits.MaxIDLen = 128
	}
	if o.Limits.MaxJSONBytes <= 0 {
		o.Limits.MaxJSONBytes = 100 << 20
	}
	if o.Limits.MaxFind <= 0 {
		o.Limits.MaxFind = 100
	}
	if o.BuildBatch <= 0 {
		o.BuildBatch = 512
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Store{
		db: db, st: st, lim: o.Limits, m: o.Metrics, log: o.Logger,
		buildBatch: o.BuildBatch, buildHook: o.buildHook,
		defsCache: make(map[string]cachedDefs),
		kick:      make(chan struct{}, 1),
		stopc:     make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go s.builder()
	s.wake()
	if !o.noReconcile {
		s.wg.Add(1)
		go s.reconciler(ctx)
	}
	return s, nil
}

// Close stops the index builder and the reconciler; a build in progress
// resumes at the next New. It is safe to call more than once.
func (s *Store) Close() {
	s.once.Do(func() {
		close(s.stopc)
		s.cancel()
		s.wg.Wait()
	})
}

// Limits returns the store's limits.
func (s *Store) Limits() Limits { return s.lim }

// CheckCollection validates a collection name: 1..MaxCollectionLen bytes of
// UTF-8 without ':' (which would make the state key doc:{c}:{id} ambiguous).
func (s *Store) CheckCollection(c string) error {
	switch {
	case c == "":
		return ErrEmptyCollection
	case len(c) > s.lim.MaxCollectionLen:
		return ErrCollectionTooLong
	case strings.IndexByte(c, ':') >= 0:
		return ErrCollectionColon
	case !utf8.ValidString(c):
		return ErrCollectionEncoding
	}
	return nil
}

// CheckNames validates a collection and a document id, in the contract's
// order: collection length, then id length.
func (s *Store) CheckNames(c, id string) error {
	if err := s.CheckCollection(c); err != nil {
		return err
	}
	switch {
	case id == "":
		return ErrEmptyID
	case len(id) > s.lim.MaxIDLen:
		return ErrIDTooLong
	case !utf8.ValidString(id):
		return ErrIDEncoding
	}
	if err := s.st.CheckKey(docKey(c, id)); err != nil {
		return ErrKeyTooLong
	}
	return nil
}

// Compact validates raw as one JSON value and returns its compact form,
// checking the size limit.
func (s *Store) Compact(raw []byte) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, ErrEmptyDoc
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDoc, err)
	}
	if buf.Len() > s.lim.MaxJSONBytes {
		return nil, ErrDocTooLarge
	}
	return buf.Bytes(), nil
}

// Get returns the document c/id, or ErrNotFound.
func (s *Store) Get(c, id string) (Doc, error) {
	if err := s.CheckNames(c, id); err != nil {
		return Doc{}, err
	}
	it, err := s.st.Get(docKey(c, id))
	if errors.Is(err, state.ErrNotFound) {
		return Doc{}, ErrNotFound
	}
	if err != nil {
		return Doc{}, err
	}
	return Doc{ID: id, Revision: it.Revision, Doc: it.Value}, nil
}

// Put writes the document c/id (raw JSON, any value) and returns it as
// stored. With ifRevision set the document must exist with that revision,
// else state.ErrRevisionMismatch. The state key doc:{c}:{id}, its
// state_updated event and the document's index entries commit together.
func (s *Store) Put(ctx context.Context, c, id string, raw []byte, ifRevision *uint64) (Doc, error) {
	if err := s.CheckNames(c, id); err != nil {
		return Doc{}, err
	}
	val, err := s.Compact(raw)
	if err != nil {
		return Doc{}, err
	}
	// Index entries are computed outside the committer from the
	// definitions committed now; the transaction re-checks that they are
	// still the definitions in force and recomputes if not (rare).
	pre, err := s.committedDefs(c)
	if err != nil {
		return Doc{}, err
	}
	var entries [][]byte
	if len(pre) > 0 {
		parsed, err := decodeProjected(val, defsProjection(pre))
		if err != nil {
			return Doc{}, err
		}
		entries = computeEntries(pre, parsed)
	}
	key := docKey(c, id)
	var res state.PutResult
	_, err = s.db.Update(ctx, func(tx *storage.Tx) error {
		defs, err := s.defsTx(tx, c)
		if err != nil {
			return err
		}
		if !sameShape(defs, pre) {
			parsed, err := decodeProjected(val, defsProjection(defs))
			if err != nil {
				return err
			}
			entries = computeEntries(defs, parsed)
		}
		res, err = state.PutTx(tx, key, val, state.PutOptions{IfRevision: ifRevision})
		if err != nil {
			return err
		}
		if len(defs) > 0 {
			if err := replaceEntries(tx, c, id, entries); err != nil {
				return err
			}
		}
		tx.AfterCommit(func() { s.m.AddStatePut(1) })
		return nil
	})
	if err != nil {
		return Doc{}, err
	}
	return Doc{ID: id, Revision: res.Revision, Doc: val}, nil
}

// Delete removes the document c/id and reports whether it existed (never
// ErrNotFound). With ifRevision set the document must exist with that
// revision, else state.ErrRevisionMismatch.
func (s *Store) Delete(ctx context.Context, c, id string, ifRevision *uint64) (bool, error) {
	if err := s.CheckNames(c, id); err != nil {
		return false, err
	}
	key := docKey(c, id)
	var deleted bool
	_, err := s.db.Update(ctx, func(tx *storage.Tx) error {
		var err error
		deleted, err = state.DeleteTx(tx, key, ifRevision)
		if err != nil || !deleted {
			return err
		}
		if err := replaceEntries(tx, c, id, nil); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.m.AddStateDelete(1) })
		return nil
	})
	return deleted, err
}

// decodeDoc decodes a stored document for filters and index entries,
// keeping numbers exact.
func decodeDoc(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDoc, err)
	}
	return v, nil
}

// replaceEntries makes the index entries of c/id exactly entries (suffixes
// as computeEntries returns them; nil removes them all): it deletes what the
// document's footprint lists and is not wanted any more, writes the wanted
// ones, and stores the new footprint.
func replaceEntries(tx *storage.Tx, c, id string, entries [][]byte) error {
	fk := footprintKey(c, id)
	var old [][]byte
	if v, err := tx.Get(fk); err == nil {
		if old, err = decodeFootprint(v); err != nil {
			return fmt.Errorf("docstore: footprint of %s/%s: %w", c, id, err)
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if len(old) == 0 && len(entries) == 0 {
		return nil
	}
	cp := collPrefix(c)
	want := make(map[string]struct{}, len(entries))
	for _, e := range entries {
		want[string(e)] = struct{}{}
	}
	for _, e := range old {
		if _, keep := want[string(e)]; !keep {
			tx.Delete(entryKey(cp, e, id))
		}
	}
	// Every wanted entry is written, even one the footprint lists: the
	// footprint may predate a drop that range-deleted it (regression:
	// TestDropDuringBuild lost the entries of a re-created index).
	for _, e := range entries {
		tx.Set(entryKey(cp, e, id), nil)
	}
	switch {
	case len(entries) == 0:
		tx.Delete(fk)
	case !sameEntries(old, entries):
		tx.Set(fk, encodeFootprint(entries))
	}
	return nil
}

func entryKey(collPrefix, suffix []byte, id string) []byte {
	k := make([]byte, 0, len(collPrefix)+len(suffix)+len(id))
	k = append(k, collPrefix...)
	k = append(k, suffix...)
	return append(k, id...)
}

func sameEntries(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Footprint: a sequence of uvarint-length-prefixed entry suffixes.
func encodeFootprint(entries [][]byte) []byte {
	n := 0
	for _, e := range entries {
		n += len(e) + 2
	}
	b := make([]byte, 0, n)
	for _, e := range entries {
		b = appendLP(b, string(e))
	}
	return b
}

var errCorruptFootprint = errors.New("corrupt footprint")

func decodeFootprint(v []byte) ([][]byte, error) {
	var out [][]byte
	for len(v) > 0 {
		s, rest, ok := readLP(v)
		if !ok {
			return nil, errCorruptFootprint
		}
		out = append(out, []byte(s))
		v = rest
	}
	return out, nil
}
