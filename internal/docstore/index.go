package docstore

// Secondary indexes: definitions, entries, and the background builder.
//
// Why entries are maintained by every write and the builder only fills in
// the past: a definition is committed (state "building") before the builder
// reads anything, and from that commit on every document write computes the
// entries of every defined index, building or ready, in the same
// transaction as the document. The builder then walks the documents that
// existed before, in id order, a batch per transaction, and writes their
// entries; a document that changed since the builder read it already has
// the right entries (its write saw the definition) and is skipped. The
// batch transaction also stores the watermark (last id done), so a restart
// resumes where the last durable batch ended. When the walk reaches the end
// the index turns "ready" and find may use it.
//
// Each document's entries are listed in its footprint key, so replacing
// them never needs the old document decoded, and entries of an index that
// was dropped (its key range deleted) are harmless leftovers in a footprint:
// deleting an absent key does nothing.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/luma-db/luma/internal/filter"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
)

// Index errors.
var (
	ErrIndexExists      = errors.New("docstore: index already exists")
	ErrIndexNotFound    = errors.New("docstore: index not found")
	ErrTooManyIndexes   = errors.New("docstore: too many indexes on this collection")
	ErrInvalidField     = errors.New("docstore: invalid index field")
	ErrInvalidIndexType = errors.New("docstore: invalid index type")
)

// MaxIndexes is the most indexes one collection may have.
const MaxIndexes = 32

// MaxFieldLen bounds an index field path, in bytes.
const MaxFieldLen = 256

// IndexType says which values an index holds.
type IndexType string

// Index types.
const (
	// TypeKeyword holds strings.
	TypeKeyword IndexType = "keyword"
	// TypeNumber holds numbers.
	TypeNumber IndexType = "number"
	// TypeBool holds true and false.
	TypeBool IndexType = "bool"
	// TypeAuto holds every scalar (null, booleans, numbers, strings) and
	// records documents where the field is missing or not a scalar, so it
	// can also order a find (sort).
	TypeAuto IndexType = "auto"
)

// IndexTypes lists the valid types.
var IndexTypes = []IndexType{TypeKeyword, TypeNumber, TypeBool, TypeAuto}

// accepts reports whether the index holds scalars with this tag.
func (t IndexType) accepts(tag byte) bool {
	switch t {
	case TypeKeyword:
		return tag == tagString
	case TypeNumber:
		return tag == tagNumber
	case TypeBool:
		return tag == tagFalse || tag == tagTrue
	case TypeAuto:
		return tag != 0
	}
	return false
}

// Build states.
const (
	StateBuilding = "building"
	StateReady    = "ready"
)

// indexDef is one stored index definition.
type indexDef struct {
	Field       string    `json:"field"`
	Type        IndexType `json:"type"`
	Gen         uint64    `json:"gen"` // random; tells a re-created index from the dropped one
	State       string    `json:"state"`
	CreatedAtMs uint64    `json:"created_at_ms"`
	ReadyAtMs   uint64    `json:"ready_at_ms,omitempty"`
}

// progress is the stored state of a build.
type progress struct {
	Watermark string `json:"watermark"` // last document id indexed
	Processed uint64 `json:"processed"`
	Total     uint64 `json:"total"` // documents when the build started
}

// IndexInfo describes an index for the admin routes.
type IndexInfo struct {
	Field       string
	Type        IndexType
	State       string
	Processed   uint64
	Total       uint64
	CreatedAtMs uint64
	ReadyAtMs   *uint64
}

type cachedDefs struct {
	raw  []byte
	defs []indexDef
}

// decodeDefs decodes a definitions value, reusing the last decoding of the
// same bytes (document writes read it on every transaction).
func (s *Store) decodeDefs(c string, raw []byte) ([]indexDef, error) {
	s.defsMu.Lock()
	cd, ok := s.defsCache[c]
	s.defsMu.Unlock()
	if ok && bytes.Equal(cd.raw, raw) {
		return cd.defs, nil
	}
	var defs []indexDef
	if err := json.Unmarshal(raw, &defs); err != nil {
		return nil, fmt.Errorf("docstore: index definitions of %q: %w", c, storage.ErrCorrupt)
	}
	s.defsMu.Lock()
	s.defsCache[c] = cachedDefs{raw: bytes.Clone(raw), defs: defs}
	s.defsMu.Unlock()
	return defs, nil
}

// committedDefs returns the committed definitions of c (nil when none).
func (s *Store) committedDefs(c string) ([]indexDef, error) {
	raw, err := s.db.Get(defsKey(c))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.decodeDefs(c, raw)
}

// defsTx returns the definitions of c as the transaction sees them.
func (s *Store) defsTx(tx *storage.Tx, c string) ([]indexDef, error) {
	raw, err := tx.Get(defsKey(c))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.decodeDefs(c, raw)
}

// sameShape reports whether two definition lists produce the same entries.
func sameShape(a, b []indexDef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Field != b[i].Field || a[i].Type != b[i].Type {
			return false
		}
	}
	return true
}

// computeEntries returns the sorted entry suffixes of a decoded document.
func computeEntries(defs []indexDef, doc any) [][]byte {
	var out [][]byte
	for _, d := range defs {
		v, ok := filter.Resolve(doc, d.Field)
		switch {
		case ok && isScalar(v):
			if enc, _ := encodeScalar(nil, v); d.Type.accepts(enc[0]) {
				out = append(out, entrySuffix(d.Field, bandScalar, enc))
			} else if d.Type == TypeAuto {
				out = append(out, entrySuffix(d.Field, bandRest, nil))
			}
		case ok:
			if arr, isArr := v.([]any); isArr {
				var seen [][]byte
				for _, e := range arr {
					enc, scalar := encodeScalar(nil, e)
					if !scalar || !d.Type.accepts(enc[0]) || slices.ContainsFunc(seen, func(x []byte) bool { return bytes.Equal(x, enc) }) {
						continue
					}
					seen = append(seen, enc)
					out = append(out, entrySuffix(d.Field, bandElement, enc))
				}
			}
			if d.Type == TypeAuto {
				out = append(out, entrySuffix(d.Field, bandRest, nil))
			}
		case d.Type == TypeAuto:
			out = append(out, entrySuffix(d.Field, bandRest, nil))
		}
	}
	slices.SortFunc(out, bytes.Compare)
	return out
}

// CheckField validates an index field path.
func CheckField(field string) error {
	switch {
	case field == "":
		return fmt.Errorf("%w: field must not be empty", ErrInvalidField)
	case len(field) > MaxFieldLen:
		return fmt.Errorf("%w: field longer than %d bytes", ErrInvalidField, MaxFieldLen)
	case !utf8.ValidString(field):
		return fmt.Errorf("%w: field must be valid UTF-8", ErrInvalidField)
	case field[0] == '$':
		return fmt.Errorf("%w: field must not start with '$' (filters read such keys as operators)", ErrInvalidField)
	}
	return nil
}

// ParseIndexType reads a type name; "" means auto.
func ParseIndexType(t string) (IndexType, error) {
	if t == "" {
		return TypeAuto, nil
	}
	for _, v := range IndexTypes {
		if string(v) == t {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w %q", ErrInvalidIndexType, t)
}

// CreateIndex declares an index on field of collection c. Existing
// documents are indexed in the background (state "building", then
// "ready"); until then find does not use it.
func (s *Store) CreateIndex(ctx context.Context, c, field string, typ IndexType) (IndexInfo, error) {
	if err := s.CheckCollection(c); err != nil {
		return IndexInfo{}, err
	}
	if err := CheckField(field); err != nil {
		return IndexInfo{}, err
	}
	if !slices.Contains(IndexTypes, typ) {
		return IndexInfo{}, fmt.Errorf("%w %q", ErrInvalidIndexType, typ)
	}
	// Count the documents for progress reporting (keys only, outside the
	// committer; concurrent writes make it an estimate).
	total, err := s.countDocs(ctx, c)
	if err != nil {
		return IndexInfo{}, err
	}
	var gen [8]byte
	if _, err := rand.Read(gen[:]); err != nil {
		return IndexInfo{}, err
	}
	var info IndexInfo
	_, err = s.db.Update(ctx, func(tx *storage.Tx) error {
		defs, err := s.defsTx(tx, c)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(defs, func(d indexDef) bool { return d.Field == field }) {
			return ErrIndexExists
		}
		if len(defs) >= MaxIndexes {
			return ErrTooManyIndexes
		}
		d := indexDef{Field: field, Type: typ, Gen: binary.LittleEndian.Uint64(gen[:]), State: StateBuilding, CreatedAtMs: tx.NowMs()}
		p := progress{Total: total}
		if total == 0 {
			d.State, d.ReadyAtMs = StateReady, tx.NowMs()
		}
		next := append(slices.Clone(defs), d)
		if err := putJSON(tx, defsKey(c), next); err != nil {
			return err
		}
		if err := putJSON(tx, progressKey(c, field), p); err != nil {
			return err
		}
		info = d.info(p)
		if d.State == StateBuilding {
			tx.AfterCommit(s.wake)
		}
		return nil
	})
	return info, err
}

// DropIndex removes the index on field and all its entries at once.
func (s *Store) DropIndex(ctx context.Context, c, field string) error {
	if err := s.CheckCollection(c); err != nil {
		return err
	}
	if err := CheckField(field); err != nil {
		return err
	}
	_, err := s.db.Update(ctx, func(tx *storage.Tx) error {
		defs, err := s.defsTx(tx, c)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(defs, func(d indexDef) bool { return d.Field == field })
		if i < 0 {
			return ErrIndexNotFound
		}
		next := slices.Delete(slices.Clone(defs), i, i+1)
		if len(next) == 0 {
			tx.Delete(defsKey(c))
		} else if err := putJSON(tx, defsKey(c), next); err != nil {
			return err
		}
		tx.Delete(progressKey(c, field))
		fp := fieldPrefix(c, field)
		tx.DeleteRange(fp, storage.PrefixEnd(fp))
		return nil
	})
	return err
}

// Indexes lists the indexes of c in creation order.
func (s *Store) Indexes(c string) ([]IndexInfo, error) {
	if err := s.CheckCollection(c); err != nil {
		return nil, err
	}
	defs, err := s.committedDefs(c)
	if err != nil {
		return nil, err
	}
	out := make([]IndexInfo, 0, len(defs))
	for _, d := range defs {
		p, err := s.progress(c, d.Field)
		if err != nil {
			return nil, err
		}
		out = append(out, d.info(p))
	}
	return out, nil
}

func (d indexDef) info(p progress) IndexInfo {
	in := IndexInfo{Field: d.Field, Type: d.Type, State: d.State, Processed: p.Processed, Total: p.Total, CreatedAtMs: d.CreatedAtMs}
	if d.State == StateReady {
		r := d.ReadyAtMs
		in.ReadyAtMs = &r
		if in.Processed < in.Total {
			in.Processed = in.Total
		}
	}
	return in
}

func (s *Store) progress(c, field string) (progress, error) {
	var p progress
	raw, err := s.db.Get(progressKey(c, field))
	if errors.Is(err, storage.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("docstore: build progress of %s/%s: %w", c, field, storage.ErrCorrupt)
	}
	return p, nil
}

func putJSON(tx *storage.Tx, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tx.Set(key, b)
	return nil
}

// countDocs counts the live documents of c.
func (s *Store) countDocs(ctx context.Context, c string) (uint64, error) {
	var n uint64
	prefix := docKeyPrefix(c)
	after := ""
	for {
		items, more, err := s.st.List(ctx, prefix, after, 1000)
		if err != nil {
			return 0, err
		}
		n += uint64(len(items))
		if !more || len(items) == 0 {
			return n, nil
		}
		after = items[len(items)-1].Key
	}
}

func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// builder runs index builds, one batch transaction at a time, until no
// index is building; then it waits to be woken.
func (s *Store) builder() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stopc:
			return
		case <-s.kick:
		}
		for {
			c, d, ok, err := s.nextBuilding()
			if err != nil {
				s.log.Error("index builder: reading definitions failed", "err", err)
				if !s.pause() {
					return
				}
				continue
			}
			if !ok {
				break
			}
			if !s.build(c, d) {
				return
			}
		}
	}
}

// buildRetry is how long the builder waits after a failed batch.
const buildRetry = time.Second

// pause waits buildRetry and reports false if the store stopped meanwhile.
func (s *Store) pause() bool {
	t := time.NewTimer(buildRetry)
	defer t.Stop()
	select {
	case <-s.stopc:
		return false
	case <-t.C:
		return true
	}
}

// nextBuilding finds an index in state building.
func (s *Store) nextBuilding() (c string, d indexDef, found bool, err error) {
	err = s.db.ScanPrefix([]byte{storage.PrefixDocMeta, metaDefs}, func(k, v []byte) (bool, error) {
		coll := string(k[2:])
		defs, err := s.decodeDefs(coll, v)
		if err != nil {
			return false, err
		}
		for _, x := range defs {
			if x.State == StateBuilding {
				c, d, found = coll, x, true
				return false, nil
			}
		}
		return true, nil
	})
	return c, d, found, err
}

// errBuildStale aborts a build batch whose index was dropped or whose
// definitions changed under it.
var errBuildStale = errors.New("docstore: index definitions changed during a build batch")

// build runs batches of one index until it is ready, dropped or the store
// stops. It returns false when the store is stopping.
func (s *Store) build(c string, d indexDef) bool {
	ctx := context.Background()
	for {
		select {
		case <-s.stopc:
			return false
		default:
		}
		p, err := s.progress(c, d.Field)
		if err != nil {
			s.log.Error("index builder: reading progress failed", "collection", c, "field", d.Field, "err", err)
			return s.pause()
		}
		if s.buildHook != nil && !s.buildHook(c, d.Field, p.Processed) {
			<-s.stopc
			return false
		}
		done, n, err := s.buildBatch1(ctx, c, d, p)
		switch {
		case errors.Is(err, errBuildStale):
			return true // look again at what is building
		case errors.Is(err, storage.ErrClosed):
			return false
		case err != nil:
			s.log.Error("index build batch failed; retrying", "collection", c, "field", d.Field, "err", err, "retry_in", buildRetry)
			return s.pause()
		case done:
			s.log.Info("index ready", "collection", c, "field", d.Field, "documents", p.Processed+n)
			return true
		}
	}
}

type buildDoc struct {
	id      string
	rev     uint64
	value   []byte
	entries [][]byte
}

// buildBatch1 indexes the next batch of documents after the watermark and
// reports whether the build finished and how many documents it visited.
func (s *Store) buildBatch1(ctx context.Context, c string, d indexDef, p progress) (bool, uint64, error) {
	defs, err := s.committedDefs(c)
	if err != nil {
		return false, 0, err
	}
	prefix := docKeyPrefix(c)
	after := ""
	if p.Watermark != "" {
		after = prefix + p.Watermark
	}
	items, more, err := s.st.List(ctx, prefix, after, s.buildBatch)
	if err != nil {
		return false, 0, err
	}
	docs := make([]buildDoc, 0, len(items))
	proj := defsProjection(defs)
	for _, it := range items {
		bd := buildDoc{id: it.Key[len(prefix):], rev: it.Revision, value: it.Value}
		if v, err := decodeProjected(it.Value, proj); err == nil {
			bd.entries = computeEntries(defs, v)
		} else {
			// A value written through /v1/state that is not JSON cannot
			// happen (state validates), but never let one stop a build.
			s.log.Warn("index builder: undecodable document skipped", "collection", c, "id", bd.id, "err", err)
			continue
		}
		docs = append(docs, bd)
	}
	done := !more
	_, err = s.db.Update(ctx, func(tx *storage.Tx) error {
		cur, err := s.defsTx(tx, c)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(cur, func(x indexDef) bool { return x.Field == d.Field && x.Gen == d.Gen })
		if i < 0 || cur[i].State != StateBuilding || !sameShape(cur, defs) {
			return errBuildStale
		}
		for _, bd := range docs {
			it, err := state.GetTx(tx, prefix+bd.id)
			if errors.Is(err, state.ErrNotFound) {
				continue // deleted since: its write removed its entries
			}
			if err != nil {
				return err
			}
			if it.Revision != bd.rev || !bytes.Equal(it.Value, bd.value) {
				continue // rewritten since: its write saw this index
			}
			if err := replaceEntries(tx, c, bd.id, bd.entries); err != nil {
				return err
			}
		}
		np := progress{Watermark: p.Watermark, Processed: p.Processed + uint64(len(items)), Total: p.Total}
		if len(items) > 0 {
			np.Watermark = items[len(items)-1].Key[len(prefix):]
		}
		if np.Total < np.Processed {
			np.Total = np.Processed
		}
		if err := putJSON(tx, progressKey(c, d.Field), np); err != nil {
			return err
		}
		if done {
			next := slices.Clone(cur)
			next[i].State, next[i].ReadyAtMs = StateReady, tx.NowMs()
			if err := putJSON(tx, defsKey(c), next); err != nil {
				return err
			}
		}
		return nil
	})
	return done, uint64(len(items)), err
}
