package vector

// The write path. Everything that needs no stored state is checked and
// computed in the caller's goroutine before the committer is involved:
// lengths, dim, finiteness, meta compaction and decoding, normalisation,
// the stored bytes and the event data. The committer function only reads
// the few keys it must (config, counters, the id's record), allocates
// internal ids, buffers the writes and emits one event per applied item.
// The AfterCommit hook then publishes the new slots (read-your-writes: a
// search after the answer finds them), and graph insertion happens later in
// the collection's indexer goroutine.

import (
	"context"
	"encoding/json"
	"errors"
	"math"

	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/storage"
)

// Item is one vector to write. Meta is raw JSON; nil or "null" is null.
type Item struct {
	ID     string
	Vector []float32
	Meta   json.RawMessage
	// Invalid, when set, is an error found while decoding the item (a bad
	// base64 vector, say): UpsertBatch reports it as the item's result,
	// after the id check, and skips the item.
	Invalid error
	// VectorJSON, when set, is Vector as the client sent it: a compact JSON
	// array of numbers that parse to exactly Vector. Events carry it
	// verbatim ("as sent") instead of re-formatting every float.
	VectorJSON []byte
}

// ItemResult is the outcome of one batch item: Err is nil when applied.
type ItemResult struct {
	ID  string
	Err error
}

type writeMode uint8

const (
	modeAdd writeMode = iota
	modeUpsert
	modeUpdate
)

// prepItem is an item ready for the committer.
type prepItem struct {
	id     string
	index  []float32 // index form
	stored []byte    // vector record value
	meta   []byte    // compact JSON, nil = null
	metaV  any       // decoded meta for the metadata index
	event  []byte    // event data
	// update only: which fields are given, and the vector as sent (for
	// the event, built in the committer once the meta is merged).
	hasVec, hasMeta bool
	sent            []float32
	sentJSON        []byte
}

// checkItem runs the contract's per-item checks that need no collection:
// id length, vector length, meta size. It returns the compact meta.
func (s *Store) checkItem(id string, vecLen int, meta json.RawMessage) ([]byte, error) {
	if err := s.lim.CheckID(id); err != nil {
		return nil, err
	}
	if err := s.lim.CheckVectorLen(vecLen); err != nil {
		return nil, err
	}
	return compactJSON(meta, s.lim.MaxJSONBytes, ErrMetaTooLarge)
}

func (c *Collection) prepare(id string, vec []float32, vecJSON, meta []byte) (*prepItem, error) {
	index, stored, err := c.prepareVector(vec)
	if err != nil {
		return nil, err
	}
	return &prepItem{
		id: id, index: index, stored: encodeVector(stored), meta: meta, metaV: decodeMeta(meta),
		event: vectorEventData(c.cfg.Name, id, vec, vecJSON, meta),
	}, nil
}

// Add stores a new vector; ErrIDExists if the id is stored. Checks run in
// the contract's order: name, id, vector length, meta size, collection,
// existing id, dim.
func (s *Store) Add(ctx context.Context, coll string, it Item) error {
	return s.writeOne(ctx, coll, it, modeAdd)
}

// Upsert stores a vector, replacing any vector of the same id.
func (s *Store) Upsert(ctx context.Context, coll string, it Item) error {
	return s.writeOne(ctx, coll, it, modeUpsert)
}

func (s *Store) writeOne(ctx context.Context, coll string, it Item, mode writeMode) error {
	if err := s.lim.CheckName(coll); err != nil {
		return err
	}
	meta, err := s.checkItem(it.ID, len(it.Vector), it.Meta)
	if err != nil {
		return err
	}
	c, err := s.collection(coll)
	if err != nil {
		return err
	}
	p, err := c.prepare(it.ID, it.Vector, it.VectorJSON, meta)
	if err != nil {
		if mode == modeAdd && errors.Is(err, ErrDimMismatch) && c.exists(it.ID) {
			return ErrIDExists
		}
		return err
	}
	res, err := c.write(ctx, []*prepItem{p}, mode)
	if err != nil {
		return err
	}
	if res[0] != nil {
		return res[0]
	}
	s.opts.Metrics.AddVectorOp(1)
	return nil
}

// exists reports whether id is stored (a committed read, outside the
// committer; used only to order error answers as the contract does).
func (c *Collection) exists(id string) bool {
	_, err := c.st.db.Get(recordKey(c.cfg.Name, id))
	return err == nil
}

// UpsertBatch upserts items one by one in one commit: items failing a
// check (id too long, vector too large, meta too large, dim mismatch,
// non-finite values) get their error in the result and the others are
// applied. A missing collection fails the whole request.
func (s *Store) UpsertBatch(ctx context.Context, coll string, items []Item) ([]ItemResult, error) {
	if err := s.lim.CheckName(coll); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, ErrNoItems
	}
	if len(items) > s.lim.MaxBatch {
		return nil, ErrTooManyItems
	}
	c, err := s.collection(coll)
	if err != nil {
		return nil, err
	}
	out := make([]ItemResult, len(items))
	preps := make([]*prepItem, len(items))
	ok := 0
	for i, it := range items {
		out[i].ID = it.ID
		meta, err := s.checkItem(it.ID, len(it.Vector), it.Meta)
		if it.Invalid != nil && !errors.Is(err, ErrIDTooLong) {
			err = it.Invalid
		}
		if err == nil {
			preps[i], err = c.prepare(it.ID, it.Vector, it.VectorJSON, meta)
		}
		if err != nil {
			out[i].Err = err
			continue
		}
		ok++
	}
	if ok == 0 {
		return out, nil
	}
	res, err := c.write(ctx, preps, modeUpsert)
	if err != nil {
		return nil, err
	}
	applied := 0
	for i, e := range res {
		if preps[i] == nil {
			continue
		}
		out[i].Err = e
		if e == nil {
			applied++
		}
	}
	s.opts.Metrics.AddVectorOp(applied)
	return out, nil
}

// Update changes the vector and/or meta of a stored id; a nil vector or
// meta keeps the current one. Checks: name, id, vector length, meta size,
// collection, id exists, dim. vecJSON is optional, as Item.VectorJSON.
func (s *Store) Update(ctx context.Context, coll, id string, vec []float32, vecJSON []byte, meta json.RawMessage) error {
	if err := s.lim.CheckName(coll); err != nil {
		return err
	}
	cmeta, err := s.checkItem(id, len(vec), meta)
	if err != nil {
		return err
	}
	c, err := s.collection(coll)
	if err != nil {
		return err
	}
	p := &prepItem{id: id, hasVec: vec != nil, hasMeta: cmeta != nil}
	if p.hasVec {
		index, stored, err := c.prepareVector(vec)
		if err != nil {
			if errors.Is(err, ErrDimMismatch) && !c.exists(id) {
				return ErrIDNotFound
			}
			return err
		}
		p.index, p.stored = index, encodeVector(stored)
		p.sent, p.sentJSON = vec, vecJSON
	}
	if p.hasMeta {
		p.meta, p.metaV = cmeta, decodeMeta(cmeta)
	}
	p.event = nil
	if p.hasVec && p.hasMeta {
		p.event = vectorEventData(c.cfg.Name, id, vec, vecJSON, cmeta)
	}
	res, err := c.write(ctx, []*prepItem{p}, modeUpdate)
	if err != nil {
		return err
	}
	if res[0] != nil {
		return res[0]
	}
	s.opts.Metrics.AddVectorOp(1)
	return nil
}

// errNothingApplied aborts a transaction in which every item failed.
var errNothingApplied = errors.New("vector: nothing applied")

type appliedItem struct {
	p       *prepItem
	iid     uint32
	old     uint32
	hadOld  bool
	vec     []float32 // index form
	meta    []byte
	metaV   any
	offset  uint64
	deleted bool // delete, not write
}

// txCounters reads the collection's counters inside tx.
func (c *Collection) txCounters(tx *storage.Tx) (counters, error) {
	v, err := tx.Get(nextKey(c.cfg.Name))
	if errors.Is(err, storage.ErrNotFound) {
		return counters{}, nil
	}
	if err != nil {
		return counters{}, err
	}
	return decodeCounters(v)
}

// write applies prepared items (nil entries are skipped) in one commit and
// returns the per-item errors.
func (c *Collection) write(ctx context.Context, items []*prepItem, mode writeMode) ([]error, error) {
	var errs []error
	_, err := c.st.db.Update(ctx, func(tx *storage.Tx) error {
		errs = make([]error, len(items))
		if err := c.txCheck(tx); err != nil {
			return err
		}
		cnt, err := c.txCounters(tx)
		if err != nil {
			return err
		}
		var done []appliedItem
		for i, p := range items {
			if p == nil {
				continue
			}
			rk := recordKey(c.cfg.Name, p.id)
			a := appliedItem{p: p, vec: p.index, meta: p.meta, metaV: p.metaV}
			if v, err := tx.Get(rk); err == nil {
				old, oldMeta, err := decodeRecord(v)
				if err != nil {
					return err
				}
				a.old, a.hadOld = old, true
				if mode == modeUpdate {
					if err := c.mergeUpdate(tx, &a, old, oldMeta); err != nil {
						return err
					}
				}
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			switch {
			case mode == modeAdd && a.hadOld:
				errs[i] = ErrIDExists
				continue
			case mode == modeUpdate && !a.hadOld:
				errs[i] = ErrIDNotFound
				continue
			}
			if cnt.next > math.MaxUint32 {
				return ErrCollectionFull
			}
			a.iid = uint32(cnt.next)
			cnt.next++
			cnt.writes++
			tx.Set(rk, encodeRecord(a.iid, a.meta))
			tx.Set(vectorKey(c.cfg.Name, a.iid), a.p.stored)
			if a.hadOld {
				tx.Delete(vectorKey(c.cfg.Name, a.old))
			}
			typ := events.TypeVectorUpserted
			switch mode {
			case modeAdd:
				typ = events.TypeVectorAdded
			case modeUpdate:
				typ = events.TypeVectorUpdated
			}
			a.offset = tx.Emit(&events.Event{Type: typ, Collection: c.cfg.Name, Data: a.p.event})
			cnt.applied = a.offset
			done = append(done, a)
		}
		if len(done) == 0 {
			return errNothingApplied
		}
		tx.Set(nextKey(c.cfg.Name), cnt.encode())
		tx.AfterCommit(func() { c.applyItems(done) })
		return nil
	})
	if errors.Is(err, errNothingApplied) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	c.afterWrite(ctx)
	return errs, nil
}

// mergeUpdate fills the fields an update keeps from the stored record. It
// runs in the committer.
func (c *Collection) mergeUpdate(tx *storage.Tx, a *appliedItem, old uint32, oldMeta []byte) error {
	p := *a.p
	if !p.hasVec {
		v, err := tx.Get(vectorKey(c.cfg.Name, old))
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return ErrPersistence
			}
			return err
		}
		stored, err := decodeVector(v, c.cfg.Dim)
		if err != nil {
			return err
		}
		p.stored = append([]byte(nil), v...)
		p.index = stored
		if c.cfg.Metric == Cosine {
			p.index = normalize(stored)
		}
	}
	if !p.hasMeta {
		p.meta = append([]byte(nil), oldMeta...)
		if len(p.meta) == 0 {
			p.meta = nil
		}
		p.metaV = nil // decoded by the hook
	}
	if p.event == nil {
		// The merged vector: as sent when given, else as stored (the
		// normalised one for dot).
		if p.hasVec {
			p.event = vectorEventData(c.cfg.Name, p.id, p.sent, p.sentJSON, p.meta)
		} else {
			sv := make([]float32, c.cfg.Dim)
			decodeVectorInto(sv, p.stored)
			p.event = vectorEventData(c.cfg.Name, p.id, sv, nil, p.meta)
		}
	}
	a.p, a.vec, a.meta, a.metaV = &p, p.index, p.meta, p.metaV
	return nil
}

// applyItems is the AfterCommit hook of a write.
func (c *Collection) applyItems(done []appliedItem) {
	for _, a := range done {
		if a.hadOld {
			c.applyTombstone(a.old)
		}
		if a.deleted {
			continue
		}
		c.applyAppend(a.iid, a.p.id, a.vec, a.meta, a.metaV)
		c.writes.Add(1)
	}
	if n := len(done); n > 0 {
		c.applied.Store(done[n-1].offset)
	}
}

// Delete removes a stored vector; ErrIDNotFound if absent.
func (s *Store) Delete(ctx context.Context, coll, id string) error {
	if err := s.lim.CheckName(coll); err != nil {
		return err
	}
	if err := s.lim.CheckID(id); err != nil {
		return err
	}
	c, err := s.collection(coll)
	if err != nil {
		return err
	}
	res, err := c.delete(ctx, []string{id}, []bool{true})
	if err != nil {
		return err
	}
	if res[0] != nil {
		return res[0]
	}
	s.opts.Metrics.AddVectorOp(1)
	return nil
}

// DeleteBatch deletes ids one by one in one commit; per-item errors are id
// too long and id not found. A missing collection fails the request.
func (s *Store) DeleteBatch(ctx context.Context, coll string, ids []string) ([]ItemResult, error) {
	if err := s.lim.CheckName(coll); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, ErrNoIDs
	}
	if len(ids) > s.lim.MaxBatch {
		return nil, ErrTooManyIDs
	}
	c, err := s.collection(coll)
	if err != nil {
		return nil, err
	}
	out := make([]ItemResult, len(ids))
	use := make([]bool, len(ids))
	anyOK := false
	for i, id := range ids {
		out[i].ID = id
		if err := s.lim.CheckID(id); err != nil {
			out[i].Err = err
			continue
		}
		use[i], anyOK = true, true
	}
	if !anyOK {
		return out, nil
	}
	res, err := c.delete(ctx, ids, use)
	if err != nil {
		return nil, err
	}
	n := 0
	for i := range ids {
		if use[i] {
			out[i].Err = res[i]
			if res[i] == nil {
				n++
			}
		}
	}
	s.opts.Metrics.AddVectorOp(n)
	return out, nil
}

func (c *Collection) delete(ctx context.Context, ids []string, use []bool) ([]error, error) {
	var errs []error
	_, err := c.st.db.Update(ctx, func(tx *storage.Tx) error {
		errs = make([]error, len(ids))
		if err := c.txCheck(tx); err != nil {
			return err
		}
		cnt, err := c.txCounters(tx)
		if err != nil {
			return err
		}
		var done []appliedItem
		for i, id := range ids {
			if !use[i] {
				continue
			}
			rk := recordKey(c.cfg.Name, id)
			v, err := tx.Get(rk)
			if errors.Is(err, storage.ErrNotFound) {
				errs[i] = ErrIDNotFound
				continue
			}
			if err != nil {
				return err
			}
			old, _, err := decodeRecord(v)
			if err != nil {
				return err
			}
			tx.Delete(rk)
			tx.Delete(vectorKey(c.cfg.Name, old))
			off := tx.Emit(&events.Event{Type: events.TypeVectorDeleted, Collection: c.cfg.Name, Data: deletedEventData(c.cfg.Name, id)})
			cnt.applied = off
			done = append(done, appliedItem{old: old, hadOld: true, deleted: true, offset: off})
		}
		if len(done) == 0 {
			return errNothingApplied
		}
		tx.Set(nextKey(c.cfg.Name), cnt.encode())
		tx.AfterCommit(func() { c.applyItems(done) })
		return nil
	})
	if errors.Is(err, errNothingApplied) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	c.maybeAutoVacuum()
	return errs, nil
}

// afterWrite applies back-pressure: when more than MaxIndexLag vectors
// wait for graph insertion, the (already durable) write is answered only
// once the indexer has caught up below the bound, or ctx ends.
func (c *Collection) afterWrite(ctx context.Context) {
	c.maybeAutoVacuum()
	limit := c.st.opts.MaxIndexLag
	for c.lag() > limit {
		ch := c.progress()
		if c.lag() <= limit {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		case <-c.stopc:
			return
		}
	}
}
