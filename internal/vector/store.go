package vector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
)

// Store is the vector store: every collection of one server.
type Store struct {
	db   *storage.DB
	opts Options
	lim  Limits
	log  *slog.Logger
	met  *storeMetrics

	mu    sync.RWMutex // guards colls (short critical sections only)
	colls map[string]*Collection

	buildSem chan struct{} // tokens for HNSW insertion workers, store-wide

	forcedThreshold atomic.Int64 // ForcePlannerPath
	bgWG            sync.WaitGroup
	closing         chan struct{}
	closed          atomic.Bool
	once            sync.Once
}

// Open loads every collection stored in db (checkpoint files from
// opts.DataDir, then the records they do not cover) and starts their
// indexers. Collections are searchable as soon as Open returns; graph
// insertion of vectors not covered by a checkpoint continues in the
// background (they are searched exactly meanwhile).
func Open(db *storage.DB, opts Options) (*Store, error) {
	opts.EnsureDefaults()
	s := &Store{
		db:       db,
		opts:     opts,
		lim:      opts.Limits,
		log:      opts.Logger.With("component", "vector"),
		colls:    make(map[string]*Collection),
		buildSem: make(chan struct{}, opts.BuildThreads),
		closing:  make(chan struct{}),
	}
	s.met = newStoreMetrics(s, opts.Metrics)
	var cfgs []collConfig
	var raws [][]byte
	err := db.ScanPrefix([]byte{storage.PrefixVector, kindConfig}, func(k, v []byte) (bool, error) {
		cfg, err := decodeConfig(v)
		if err != nil {
			return false, fmt.Errorf("collection %q: %w", k[2:], err)
		}
		cfg.Name = string(k[2:])
		if opts.Collections == nil || slices.Contains(opts.Collections, cfg.Name) {
			cfgs = append(cfgs, cfg)
			raws = append(raws, bytes.Clone(v))
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("vector: load collections: %w", err)
	}
	for i, cfg := range cfgs {
		c, err := s.load(cfg, raws[i])
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("vector: load collection %q: %w", cfg.Name, err)
		}
		s.colls[cfg.Name] = c
		c.start()
	}
	if opts.Collections == nil {
		s.removeStrayDirs()
	}
	return s, nil
}

// Close stops the indexers and background vacuums and, with a data
// directory, checkpoints the graphs built since the last checkpoint so the
// next start does not rebuild them. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		s.mu.Lock() // orders against the closed checks before bgWG.Add
		s.closed.Store(true)
		s.mu.Unlock()
		close(s.closing)
		s.bgWG.Wait()
		s.mu.RLock()
		colls := make([]*Collection, 0, len(s.colls))
		for _, c := range s.colls {
			colls = append(colls, c)
		}
		s.mu.RUnlock()
		for _, c := range colls {
			c.stop()
		}
		var errs []error
		for _, c := range colls {
			if e := c.checkpointOnClose(); e != nil {
				errs = append(errs, e)
			}
		}
		err = errors.Join(errs...)
	})
	return err
}

// Limits returns the store's limits.
func (s *Store) Limits() Limits { return s.lim }

// collection returns the named collection or ErrCollectionNotFound. The
// name is validated first.
func (s *Store) collection(name string) (*Collection, error) {
	if err := s.lim.CheckName(name); err != nil {
		return nil, err
	}
	s.mu.RLock()
	c := s.colls[name]
	s.mu.RUnlock()
	if c == nil {
		return nil, ErrCollectionNotFound
	}
	return c, nil
}

// Collection returns the named collection, for in-process callers
// (benchmarks, tests).
func (s *Store) Collection(name string) (*Collection, error) { return s.collection(name) }

// CreateRequest describes a new collection. Zero index settings take the
// store's defaults.
type CreateRequest struct {
	Name   string
	Dim    int
	Metric Metric
	Index  IndexSettings
}

// manifestKey is the state key the contract names for a collection.
func manifestKey(name string) string { return "vector:" + name + ":manifest" }

type manifest struct {
	Collection  string `json:"collection"`
	Dim         int    `json:"dim"`
	Metric      Metric `json:"metric"`
	CreatedAtMs uint64 `json:"created_at_ms"`
	UpdatedAtMs uint64 `json:"updated_at_ms"`
}

// Create makes a collection: it stores the configuration, writes the
// manifest state key and emits vector_collection_created then the
// manifest's state_updated, in one commit.
func (s *Store) Create(ctx context.Context, req CreateRequest) error {
	if err := s.lim.CheckName(req.Name); err != nil {
		return err
	}
	if req.Dim < 1 || req.Dim > s.lim.MaxVectorDim {
		return ErrInvalidDim
	}
	if _, err := ParseMetric(string(req.Metric)); err != nil {
		return err
	}
	set := req.Index
	d := s.opts.Defaults
	if set.Kind == "" {
		set.Kind = d.Kind
	}
	if set.M == 0 {
		set.M = d.M
	}
	if set.EfConstruction == 0 {
		set.EfConstruction = d.EfConstruction
	}
	if set.EfSearch == 0 {
		set.EfSearch = d.EfSearch
	}
	if err := set.validate(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	if _, err := s.collection(req.Name); err == nil {
		return ErrCollectionExists
	}
	cfg := collConfig{
		Name: req.Name, Dim: req.Dim, Metric: req.Metric, Index: set.Kind, M: set.M,
		EfC: set.EfConstruction, EfS: set.EfSearch, SegmentSize: s.opts.SegmentSize,
	}
	evData, _ := json.Marshal(map[string]any{"collection": req.Name, "dim": req.Dim, "metric": req.Metric})
	_, err := s.db.Update(ctx, func(tx *storage.Tx) error {
		if _, err := tx.Get(configKey(cfg.Name)); err == nil {
			return ErrCollectionExists
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		cfg.UID = tx.Emit(&events.Event{Type: events.TypeCollectionCreated, Collection: cfg.Name, Data: evData})
		cfg.CreatedAtMs = tx.NowMs()
		raw, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		tx.Set(configKey(cfg.Name), raw)
		tx.Set(nextKey(cfg.Name), counters{applied: cfg.UID}.encode())
		mf, _ := json.Marshal(manifest{Collection: cfg.Name, Dim: cfg.Dim, Metric: cfg.Metric, CreatedAtMs: cfg.CreatedAtMs, UpdatedAtMs: cfg.CreatedAtMs})
		if _, err := state.PutTx(tx, manifestKey(cfg.Name), mf, state.PutOptions{}); err != nil {
			return err
		}
		created := cfg
		tx.AfterCommit(func() {
			c := newCollection(s, created, s.collDir(created.Name))
			c.cfgRaw = raw
			c.applied.Store(created.UID)
			s.mu.Lock()
			s.colls[created.Name] = c
			s.mu.Unlock()
			c.start()
		})
		return nil
	})
	if err != nil {
		return err
	}
	s.opts.Metrics.AddVectorOp(1)
	s.opts.Metrics.AddStatePut(1)
	return nil
}

// Drop deletes a collection: its records, configuration, checkpoints and
// manifest key, emitting collection_deleted then the manifest's
// state_deleted (Luma extension, CONTRACT.md §9 #25).
func (s *Store) Drop(ctx context.Context, name string) error {
	c, err := s.collection(name)
	if err != nil {
		return err
	}
	evData, _ := json.Marshal(map[string]any{"collection": name})
	var stateDeleted bool
	_, err = s.db.Update(ctx, func(tx *storage.Tx) error {
		if _, err := tx.Get(configKey(name)); errors.Is(err, storage.ErrNotFound) {
			return ErrCollectionNotFound
		} else if err != nil {
			return err
		}
		tx.Emit(&events.Event{Type: events.TypeCollectionDeleted, Collection: name, Data: evData})
		tx.Delete(configKey(name))
		tx.Delete(nextKey(name))
		tx.Delete(segsKey(name))
		for _, p := range [][]byte{recordPrefix(name), vectorPrefix(name), ckptPrefix(name)} {
			tx.DeleteRange(p, storage.PrefixEnd(p))
		}
		deleted, err := state.DeleteTx(tx, manifestKey(name), nil)
		if err != nil {
			return err
		}
		stateDeleted = deleted
		tx.AfterCommit(func() {
			s.mu.Lock()
			cur := s.colls[name]
			delete(s.colls, name)
			s.mu.Unlock()
			if cur != nil {
				cur.dropped.Store(true)
				for _, sg := range cur.segments() {
					sg.retired.Store(true)
				}
				cur.signalStop()
			}
		})
		return nil
	})
	if err != nil {
		return err
	}
	if stateDeleted {
		s.opts.Metrics.AddStateDelete(1)
	}
	<-c.donec
	c.removeFiles()
	return nil
}

// collDir is the checkpoint directory of a collection, "" in memory mode.
func (s *Store) collDir(name string) string {
	if s.opts.DataDir == "" {
		return ""
	}
	return filepath.Join(s.opts.DataDir, name)
}

// removeStrayDirs deletes checkpoint directories of collections that no
// longer exist (dropped while a file was being written, or by a crash).
func (s *Store) removeStrayDirs() {
	if s.opts.DataDir == "" {
		return
	}
	ents, err := os.ReadDir(s.opts.DataDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, ok := s.colls[e.Name()]; ok {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.opts.DataDir, e.Name())); err == nil {
			s.log.Info("removed checkpoint directory of a deleted collection", "dir", e.Name())
		}
	}
}

// Info is the wire CollectionInfo (CONTRACT.md §4.3) plus Luma's index
// settings.
type Info struct {
	Collection    string         `json:"collection"`
	Dim           int            `json:"dim"`
	Metric        Metric         `json:"metric"`
	LiveCount     int64          `json:"live_count"`
	TotalRecords  int64          `json:"total_records"`
	UpsertCount   uint64         `json:"upsert_count"`
	FileLen       int64          `json:"file_len"`
	AppliedOffset uint64         `json:"applied_offset"`
	CreatedAtMs   *uint64        `json:"created_at_ms"`
	UpdatedAtMs   *uint64        `json:"updated_at_ms"`
	Segments      *int           `json:"segments"`
	DeletedCount  *int64         `json:"deleted_count"`
	Index         *IndexSettings `json:"index_settings"`
}

// SegmentInfo describes one segment in Detail (Luma extension).
type SegmentInfo struct {
	ID      int    `json:"id"`
	Count   int    `json:"count"`
	Deleted int64  `json:"deleted"`
	Sealed  bool   `json:"sealed"`
	Index   string `json:"index"`
	// Indexed is how many of Count are in the graph (HNSW); the rest are
	// searched exactly until the indexer reaches them.
	Indexed      int  `json:"indexed"`
	Checkpointed bool `json:"checkpointed"`
}

// Detail is the wire collection detail (CONTRACT.md §4.3) plus Luma's
// fields: index settings, the segment list and the tombstone count.
type Detail struct {
	Collection  string          `json:"collection"`
	Dim         *int            `json:"dim"`
	Metric      *Metric         `json:"metric"`
	Count       *int64          `json:"count"`
	CreatedAtMs *uint64         `json:"created_at_ms"`
	UpdatedAtMs *uint64         `json:"updated_at_ms"`
	Manifest    json.RawMessage `json:"manifest"`
	Notes       *string         `json:"notes"`
	Segments    *int            `json:"segments"`
	Deleted     *int64          `json:"deleted"`

	Index       *IndexSettings `json:"index_settings"`
	SegmentSize *int           `json:"segment_size"`
	SegmentList []SegmentInfo  `json:"segment_list"`
	Tombstones  *int64         `json:"tombstones"`
	IndexLag    *int           `json:"index_lag"`
}

func (c *Collection) info() Info {
	segs := c.segments()
	n := len(segs)
	total := c.slotsN.Load()
	live := c.live.Load()
	del := total - live
	set := c.cfg.settings()
	return Info{
		Collection: c.cfg.Name, Dim: c.cfg.Dim, Metric: c.cfg.Metric,
		LiveCount: live, TotalRecords: total, UpsertCount: c.writes.Load(),
		FileLen: c.bytes.Load() + c.checkpointBytes(), AppliedOffset: c.applied.Load(),
		Segments: &n, DeletedCount: &del, Index: &set,
	}
}

// manifestOf reads the manifest state key of name: its raw value, or nil.
func (s *Store) manifestOf(name string) json.RawMessage {
	if s.opts.State == nil {
		return nil
	}
	it, err := s.opts.State.Get(manifestKey(name))
	if err != nil {
		return nil
	}
	return it.Value
}

// manifestTimes extracts created_at_ms and updated_at_ms from a manifest.
func manifestTimes(raw json.RawMessage) (created, updated *uint64) {
	var m struct {
		Created *uint64 `json:"created_at_ms"`
		Updated *uint64 `json:"updated_at_ms"`
	}
	if raw != nil && json.Unmarshal(raw, &m) == nil {
		return m.Created, m.Updated
	}
	return nil, nil
}

// List returns every collection, including names known only from a
// manifest state key (with zero counters), sorted by name.
func (s *Store) List(ctx context.Context) ([]Info, error) {
	s.mu.RLock()
	out := make([]Info, 0, len(s.colls))
	for _, c := range s.colls {
		out = append(out, c.info())
	}
	s.mu.RUnlock()
	for i := range out {
		out[i].CreatedAtMs, out[i].UpdatedAtMs = manifestTimes(s.manifestOf(out[i].Collection))
	}
	if s.opts.State != nil {
		have := make(map[string]bool, len(out))
		for _, in := range out {
			have[in.Collection] = true
		}
		after := ""
		for {
			items, more, err := s.opts.State.List(ctx, "vector:", after, 1000)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				name, ok := strings.CutSuffix(strings.TrimPrefix(it.Key, "vector:"), ":manifest")
				if !ok || have[name] || strings.Contains(name, ":") {
					continue
				}
				var m manifest
				_ = json.Unmarshal(it.Value, &m)
				in := Info{Collection: name, Dim: m.Dim, Metric: m.Metric}
				in.CreatedAtMs, in.UpdatedAtMs = manifestTimes(it.Value)
				out = append(out, in)
			}
			if !more || len(items) == 0 {
				break
			}
			after = items[len(items)-1].Key
		}
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Collection, b.Collection) })
	return out, nil
}

// Detail describes one collection. A name known only from its manifest key
// is described from it with notes "using manifest fallback".
func (s *Store) Detail(name string) (Detail, error) {
	if err := s.lim.CheckName(name); err != nil {
		return Detail{}, err
	}
	mf := s.manifestOf(name)
	s.mu.RLock()
	c := s.colls[name]
	s.mu.RUnlock()
	d := Detail{Collection: name, Manifest: mf}
	d.CreatedAtMs, d.UpdatedAtMs = manifestTimes(mf)
	if c == nil {
		if mf == nil {
			return Detail{}, ErrCollectionNotFound
		}
		var m struct {
			Dim    *int    `json:"dim"`
			Metric *Metric `json:"metric"`
		}
		_ = json.Unmarshal(mf, &m)
		d.Dim, d.Metric = m.Dim, m.Metric
		note := "using manifest fallback"
		d.Notes = &note
		return d, nil
	}
	in := c.info()
	dim, metric := c.cfg.Dim, c.cfg.Metric
	d.Dim, d.Metric, d.Count = &dim, &metric, &in.LiveCount
	d.Segments, d.Deleted = in.Segments, in.DeletedCount
	d.Index = in.Index
	size := c.cfg.SegmentSize
	d.SegmentSize = &size
	tomb := *in.DeletedCount
	d.Tombstones = &tomb
	lag := c.lag()
	d.IndexLag = &lag
	c.ckMu.Lock()
	for _, sg := range c.segments() {
		n := sg.n.Load()
		si := SegmentInfo{ID: sg.seq, Count: int(n), Deleted: sg.deleted.Load(), Sealed: sg.sealed.Load(),
			Index: string(c.cfg.Index), Indexed: int(n), Checkpointed: sg.ckFile != "" && sg.ckCovered >= n}
		if sg.graph != nil {
			si.Indexed = int(min(sg.indexed.Load(), n))
		}
		d.SegmentList = append(d.SegmentList, si)
	}
	c.ckMu.Unlock()
	if d.SegmentList == nil {
		d.SegmentList = []SegmentInfo{}
	}
	return d, nil
}

// txCheck verifies inside a transaction that the collection c still exists
// and is the same incarnation (not dropped and re-created meanwhile).
func (c *Collection) txCheck(tx *storage.Tx) error {
	v, err := tx.Get(configKey(c.cfg.Name))
	if errors.Is(err, storage.ErrNotFound) {
		return ErrCollectionNotFound
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(v, c.cfgRaw) {
		return ErrCollectionNotFound
	}
	return nil
}
