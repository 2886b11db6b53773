package docstore

// The reconciler keeps index entries right when documents change without
// the document store: a doc:{c}:{id} key written or deleted through
// /v1/state, or expired by the TTL sweeper. Those writes go through
// state.PutTx / DeleteTx and never see the index definitions.
//
// It reads the event log (state_updated / state_deleted on keys starting
// with "doc:") behind the writers. For each event in a collection that
// has indexes it compares the document's footprint with the entries its
// current value wants — reads only, which is all a document-store write
// needs, since it committed its entries with the document — and when they
// differ it rewrites them in a committer transaction that re-reads the
// document, so it is idempotent and races with nothing. The offset it has
// handled is stored ('D' 0x04, at most once a second, and on Close), so
// after a restart or a crash it resumes from the log.

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
)

// metaReconciled holds the offset the reconciler has handled.
const metaReconciled byte = 0x04

func reconciledKey() []byte { return []byte{storage.PrefixDocMeta, metaReconciled} }

const (
	// reconcilePoll is how often the reconciler looks for new events when
	// it has caught up with the log.
	reconcilePoll = 200 * time.Millisecond
	// reconcileSave is how often, at most, it stores its offset.
	reconcileSave = time.Second
	reconcilePage = 512
)

// reconciler reads the log from its stored offset until ctx ends. It reads
// the durable log directly (no hub subscription: it is not a client, and a
// few hundred milliseconds of delay are fine for a repair).
func (s *Store) reconciler(ctx context.Context) {
	defer s.wg.Done()
	since := s.db.LastOffset()
	if v, err := s.db.Get(reconciledKey()); err == nil && len(v) == 8 {
		since = binary.BigEndian.Uint64(v)
	} else {
		// First start on this data: record the starting point, so that a
		// restart resumes from here rather than from its own last offset.
		if _, err := s.db.Update(ctx, func(tx *storage.Tx) error {
			tx.Set(reconciledKey(), binary.BigEndian.AppendUint64(nil, since))
			return nil
		}); err != nil {
			return
		}
	}
	next, stored := since+1, since
	var savedAt time.Time
	save := func(ctx context.Context) {
		last := next - 1
		if last == stored {
			return
		}
		if _, err := s.db.Update(ctx, func(tx *storage.Tx) error {
			tx.Set(reconciledKey(), binary.BigEndian.AppendUint64(nil, last))
			return nil
		}); err == nil {
			stored, savedAt = last, time.Now()
		}
	}
	// On the way out, store where it got (the committer is still running:
	// the store closes before the engine).
	defer func() { save(context.Background()) }()
	tick := time.NewTicker(reconcilePoll)
	defer tick.Stop()
	for {
		if floor := s.db.Floor(); next < floor {
			s.log.Warn("index reconciler: events trimmed by retention before they were checked; documents changed through /v1/state in that range may be missing from indexes until rewritten",
				"from_offset", next, "to_offset", floor-1)
			next = floor
		}
		evs, err := s.db.ReadEvents(next, reconcilePage)
		if err != nil {
			s.log.Error("index reconciler: reading the event log failed", "err", err)
		}
		for _, e := range evs {
			if (e.Type == events.TypeStateUpdated || e.Type == events.TypeStateDeleted) && strings.HasPrefix(e.Key, "doc:") {
				if err := s.reconcile(ctx, e.Key, e.Offset); err != nil {
					if ctx.Err() != nil || errors.Is(err, storage.ErrClosed) {
						return // not handled: the next start sees it again
					}
					s.log.Error("index reconciler: fixing entries failed", "key", e.Key, "err", err)
				}
			}
			next = e.Offset + 1
		}
		if len(evs) == reconcilePage && err == nil {
			continue
		}
		if time.Since(savedAt) >= reconcileSave {
			save(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// splitDocKey parses a state key doc:{c}:{id}.
func splitDocKey(key string) (c, id string, ok bool) {
	rest, ok := strings.CutPrefix(key, "doc:")
	if !ok {
		return "", "", false
	}
	c, id, ok = strings.Cut(rest, ":")
	return c, id, ok && c != "" && id != ""
}

// reconcile makes the entries of the document at key match its current
// value, if its collection has indexes. offset is stored with a fix.
func (s *Store) reconcile(ctx context.Context, key string, offset uint64) error {
	c, id, ok := splitDocKey(key)
	if !ok {
		return nil
	}
	defs, err := s.committedDefs(c)
	if err != nil || len(defs) == 0 {
		return err
	}
	want, err := s.wantedEntries(defs, key)
	if err != nil {
		return err
	}
	have, err := s.footprint(c, id)
	if err != nil || sameEntries(have, want) {
		return err
	}
	_, err = s.db.Update(ctx, func(tx *storage.Tx) error {
		defs, err := s.defsTx(tx, c)
		if err != nil {
			return err
		}
		var entries [][]byte
		if len(defs) > 0 {
			it, err := state.GetTx(tx, key)
			switch {
			case errors.Is(err, state.ErrNotFound):
			case err != nil:
				return err
			default:
				v, err := decodeProjected(it.Value, defsProjection(defs))
				if err != nil {
					return err
				}
				entries = computeEntries(defs, v)
			}
		}
		if err := replaceEntries(tx, c, id, entries); err != nil {
			return err
		}
		tx.Set(reconciledKey(), binary.BigEndian.AppendUint64(nil, offset))
		return nil
	})
	if err == nil {
		s.log.Debug("index reconciler: entries fixed for a document changed outside the document store", "key", key)
	}
	return err
}

// wantedEntries returns the entries the document at key wants now (nil if
// it does not exist).
func (s *Store) wantedEntries(defs []indexDef, key string) ([][]byte, error) {
	it, err := s.st.Get(key)
	if errors.Is(err, state.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := decodeProjected(it.Value, defsProjection(defs))
	if err != nil {
		return nil, err
	}
	return computeEntries(defs, v), nil
}

// footprint returns the stored entry list of c/id.
func (s *Store) footprint(c, id string) ([][]byte, error) {
	v, err := s.db.Get(footprintKey(c, id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeFootprint(v)
}
