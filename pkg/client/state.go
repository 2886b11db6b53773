package client

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// StateService is the key-value state store: JSON values with a revision
// (1 on creation, +1 per write) and an optional expiry. Every write appends
// an event to the log.
type StateService struct{ c *Client }

// StateItem is a live key.
type StateItem struct {
	Key         string          `json:"key"`
	Value       json.RawMessage `json:"value"`
	Revision    uint64          `json:"revision"`
	ExpiresAtMs *uint64         `json:"expires_at_ms"`
}

// Decode unmarshals the item's value into v.
func (it *StateItem) Decode(v any) error { return json.Unmarshal(it.Value, v) }

// PutResult is the answer to a put: the key's new revision and expiry.
type PutResult struct {
	Key         string  `json:"key"`
	Revision    uint64  `json:"revision"`
	ExpiresAtMs *uint64 `json:"expires_at_ms"`
}

// PutOptions are the optional parts of a put.
type PutOptions struct {
	// TTL expires the key this long from now (rounded down to ms). Zero:
	// no expiry — and an overwrite without TTL clears a previous one.
	TTL time.Duration
	// IfRevision makes the write conditional (compare-and-set): the key
	// must be live with exactly this revision, else ErrRevisionMismatch.
	// Zero: unconditional (live keys have revisions >= 1).
	IfRevision uint64
}

type putBody struct {
	Key        string  `json:"key,omitempty"`
	Value      any     `json:"value"`
	TTLMs      *uint64 `json:"ttl_ms,omitempty"`
	IfRevision *uint64 `json:"if_revision,omitempty"`
}

func newPutBody(key string, value any, o *PutOptions) putBody {
	b := putBody{Key: key, Value: value}
	if b.Value == nil {
		b.Value = json.RawMessage("null")
	}
	if o != nil {
		if o.TTL > 0 {
			ms := uint64(o.TTL / time.Millisecond)
			b.TTLMs = &ms
		}
		if o.IfRevision > 0 {
			r := o.IfRevision
			b.IfRevision = &r
		}
	}
	return b
}

// Get returns the live item at key; ErrNotFound if absent or expired.
func (s *StateService) Get(ctx context.Context, key string) (*StateItem, error) {
	var it StateItem
	if _, err := s.c.call(ctx, &request{method: "GET", path: "/v1/state/" + seg(key), idempotent: true}, &it); err != nil {
		return nil, err
	}
	return &it, nil
}

// Put writes value (any JSON-encodable value; json.RawMessage is sent as
// is) at key.
func (s *StateService) Put(ctx context.Context, key string, value any, o *PutOptions) (*PutResult, error) {
	var res PutResult
	_, err := s.c.call(ctx, &request{method: "PUT", path: "/v1/state/" + seg(key), body: newPutBody("", value, o), idempotent: true}, &res)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Delete deletes key and reports whether it existed. ifRevision > 0 makes
// it conditional (ErrRevisionMismatch when the live revision differs).
func (s *StateService) Delete(ctx context.Context, key string, ifRevision uint64) (bool, error) {
	var q url.Values
	if ifRevision > 0 {
		q = url.Values{"if_revision": {strconv.FormatUint(ifRevision, 10)}}
	}
	var out struct {
		Deleted bool `json:"deleted"`
	}
	if _, err := s.c.call(ctx, &request{method: "DELETE", path: "/v1/state/" + seg(key), query: q, idempotent: true}, &out); err != nil {
		return false, err
	}
	return out.Deleted, nil
}

// ListOptions select a page of keys.
type ListOptions struct {
	Prefix string // keys starting with it ("" = all)
	Limit  int    // 1..1000 (0 = the server's default, 100)
	Cursor string // the previous page's NextCursor
}

// StatePage is one page of a listing.
type StatePage struct {
	Items []StateItem
	// NextCursor is set when more keys match (from X-Next-Cursor).
	NextCursor string
}

// List returns one page of live items in key order.
func (s *StateService) List(ctx context.Context, o ListOptions) (*StatePage, error) {
	q := url.Values{}
	if o.Prefix != "" {
		q.Set("prefix", o.Prefix)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	var items []StateItem
	resp, err := s.c.call(ctx, &request{method: "GET", path: "/v1/state", query: q, idempotent: true}, &items)
	if err != nil {
		return nil, err
	}
	return &StatePage{Items: items, NextCursor: resp.header.Get("X-Next-Cursor")}, nil
}

// All iterates over every live item under prefix, fetching pages of
// pageSize (0 = 500) as needed. It stops at the first error, which it
// yields.
func (s *StateService) All(ctx context.Context, prefix string, pageSize int) iter.Seq2[StateItem, error] {
	if pageSize <= 0 {
		pageSize = 500
	}
	return func(yield func(StateItem, error) bool) {
		cursor := ""
		for {
			page, err := s.List(ctx, ListOptions{Prefix: prefix, Limit: pageSize, Cursor: cursor})
			if err != nil {
				yield(StateItem{}, err)
				return
			}
			for _, it := range page.Items {
				if !yield(it, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			cursor = page.NextCursor
		}
	}
}

// BatchOp is one operation of a batch put.
type BatchOp struct {
	Key     string
	Value   any
	Options *PutOptions
}

// BatchPut puts several keys in one atomic, durable commit: all or none.
// On failure the error is the first failing operation's *Error, whose
// Results lists every operation (ok / error / skipped).
func (s *StateService) BatchPut(ctx context.Context, ops []BatchOp) ([]PutResult, error) {
	body := struct {
		Operations []putBody `json:"operations"`
	}{Operations: make([]putBody, len(ops))}
	for i, op := range ops {
		body.Operations[i] = newPutBody(op.Key, op.Value, op.Options)
	}
	var out struct {
		Results []PutResult `json:"results"`
	}
	if _, err := s.c.call(ctx, &request{method: "POST", path: "/v1/state/batch_put", body: body}, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// Update does a read-modify-write with compare-and-set, retrying on
// conflicts up to maxAttempts (0 = 16). fn gets the current value (nil and
// exists=false when the key is absent) and returns the new value. Updates
// of an existing key are atomic; creating an absent key is a plain put
// (the server has no create-if-absent).
func (s *StateService) Update(ctx context.Context, key string, maxAttempts int, fn func(current json.RawMessage, exists bool) (any, error)) (*PutResult, error) {
	if maxAttempts <= 0 {
		maxAttempts = 16
	}
	var last error
	for range maxAttempts {
		it, err := s.Get(ctx, key)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		var cur json.RawMessage
		var rev uint64
		if exists {
			cur, rev = it.Value, it.Revision
		}
		v, err := fn(cur, exists)
		if err != nil {
			return nil, err
		}
		res, err := s.Put(ctx, key, v, &PutOptions{IfRevision: rev})
		if errors.Is(err, ErrRevisionMismatch) {
			last = err
			continue
		}
		return res, err
	}
	return nil, last
}
