package vector

import (
	"errors"

	"github.com/luma-db/luma/internal/storage"
)

// Record is a stored vector as get returns it.
type Record struct {
	ID     string
	Vector []float32 // as sent for cosine and l2, normalised for dot
	Meta   []byte    // JSON, nil = null
}

// Get returns the stored vector of id. Errors: ErrCollectionNotFound,
// ErrIDNotFound (and the name and id checks).
func (s *Store) Get(coll, id string) (Record, error) {
	if err := s.lim.CheckName(coll); err != nil {
		return Record{}, err
	}
	if err := s.lim.CheckID(id); err != nil {
		return Record{}, err
	}
	c, err := s.collection(coll)
	if err != nil {
		return Record{}, err
	}
	// The record and its vector are written and deleted together, but read
	// separately: retry if an upsert replaced the vector in between.
	for range 8 {
		v, err := s.db.Get(recordKey(coll, id))
		if errors.Is(err, storage.ErrNotFound) {
			return Record{}, ErrIDNotFound
		}
		if err != nil {
			return Record{}, err
		}
		iid, meta, err := decodeRecord(v)
		if err != nil {
			return Record{}, err
		}
		vb, err := s.db.Get(vectorKey(coll, iid))
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return Record{}, err
		}
		vec, err := decodeVector(vb, c.cfg.Dim)
		if err != nil {
			return Record{}, err
		}
		return Record{ID: id, Vector: vec, Meta: meta}, nil
	}
	return Record{}, ErrIDNotFound
}
