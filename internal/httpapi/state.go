package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/luma-db/luma/internal/jsonx"
	"github.com/luma-db/luma/internal/state"
)

func (s *Server) stateRoutes() []route {
	return []route{
		{method: "GET", pattern: "/v1/state", access: accessRead, handler: s.stateList},
		{method: "POST", pattern: "/v1/state/batch_put", access: accessWrite, handler: s.stateBatchPut},
		{method: "GET", pattern: "/v1/state/{key}", access: accessRead, handler: s.stateGet},
		{method: "PUT", pattern: "/v1/state/{key}", access: accessWrite, handler: s.statePut},
		{method: "DELETE", pattern: "/v1/state/{key}", access: accessWrite, handler: s.stateDelete},
	}
}

// stateItem is the wire StateItem (CONTRACT.md §4.2).
type stateItem struct {
	Key         string          `json:"key"`
	Value       json.RawMessage `json:"value"`
	Revision    uint64          `json:"revision"`
	ExpiresAtMs *uint64         `json:"expires_at_ms"`
}

type putResponse struct {
	Key         string  `json:"key"`
	Revision    uint64  `json:"revision"`
	ExpiresAtMs *uint64 `json:"expires_at_ms"`
}

func toStateItem(it state.Item) stateItem {
	return stateItem{Key: it.Key, Value: it.Value, Revision: it.Revision, ExpiresAtMs: it.ExpiresAtMs}
}

// stateKey returns the {key} path value, refusing the literal batch_put
// (POST only) as the original does.
func stateKey(r *http.Request) (string, error) {
	k := r.PathValue("key")
	if k == "batch_put" {
		return "", errMethodNotAllowed(r, "POST")
	}
	return k, nil
}

// GET /v1/state?prefix=&limit=&cursor=
func (s *Server) stateList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	prefix := q.Get("prefix")
	if len(prefix) > s.d.State.Limits().MaxKeyLen {
		return errInvalid("prefix too long")
	}
	limit := 100
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return errInvalid("query parameter limit must be a non-negative integer, got %q", raw)
		}
		limit = int(min(max(n, 1), 1000))
	}
	items, more, err := s.d.State.List(r.Context(), prefix, q.Get("cursor"), limit)
	if err != nil {
		if errors.Is(err, state.ErrKeyTooLong) {
			return errInvalid("prefix too long")
		}
		return err
	}
	b := make([]byte, 0, 256*len(items)+2)
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStateItem(b, it)
	}
	b = append(b, ']')
	if more && len(items) > 0 {
		// The body must stay a bare array (contract), so the next page's
		// cursor travels in a header.
		w.Header().Set("X-Next-Cursor", items[len(items)-1].Key)
	}
	writeRawJSON(w, http.StatusOK, b)
	return nil
}

// GET /v1/state/{key}
func (s *Server) stateGet(w http.ResponseWriter, r *http.Request) error {
	key, err := stateKey(r)
	if err != nil {
		return err
	}
	it, err := s.d.State.Get(key)
	if err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, appendStateItem(make([]byte, 0, len(it.Value)+len(key)+80), it))
	return nil
}

// appendStateItem encodes a StateItem by hand: the stored value is already
// compact, valid JSON, which json.Marshal would scan and copy again.
func appendStateItem(b []byte, it state.Item) []byte {
	b = append(b, `{"key":`...)
	b = jsonx.AppendString(b, it.Key)
	b = append(b, `,"value":`...)
	b = append(b, it.Value...)
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, it.Revision, 10)
	b = append(b, `,"expires_at_ms":`...)
	if it.ExpiresAtMs == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendUint(b, *it.ExpiresAtMs, 10)
	}
	return append(b, '}')
}

type putRequest struct {
	Value      json.RawMessage `json:"value"`
	TTLMs      *uint64         `json:"ttl_ms"`
	IfRevision *uint64         `json:"if_revision"`
}

// PUT /v1/state/{key}
func (s *Server) statePut(w http.ResponseWriter, r *http.Request) error {
	key, err := stateKey(r)
	if err != nil {
		return err
	}
	if err := s.d.State.CheckKey(key); err != nil {
		return err
	}
	var req putRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Value == nil {
		return errUnprocessable("field \"value\" is required (any JSON, null allowed)")
	}
	res, err := s.d.State.Put(r.Context(), key, req.Value, state.PutOptions{TTLMs: req.TTLMs, IfRevision: req.IfRevision})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, putResponse{Key: res.Key, Revision: res.Revision, ExpiresAtMs: res.ExpiresAtMs})
	return nil
}

// DELETE /v1/state/{key}?if_revision=
func (s *Server) stateDelete(w http.ResponseWriter, r *http.Request) error {
	key, err := stateKey(r)
	if err != nil {
		return err
	}
	var ifRev *uint64
	if v, ok, err := queryUint(r, "if_revision"); err != nil {
		return err
	} else if ok {
		ifRev = &v
	}
	deleted, err := s.d.State.Delete(r.Context(), key, ifRev)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": deleted})
	return nil
}

type batchPutRequest struct {
	Operations []struct {
		Key        *string         `json:"key"`
		Value      json.RawMessage `json:"value"`
		TTLMs      *uint64         `json:"ttl_ms"`
		IfRevision *uint64         `json:"if_revision"`
	} `json:"operations"`
}

type batchResult struct {
	Status      string     `json:"status"`
	Key         string     `json:"key"`
	Revision    *uint64    `json:"revision,omitempty"`
	ExpiresAtMs *uint64    `json:"expires_at_ms"`
	Error       *errorBody `json:"error,omitempty"`
}

// POST /v1/state/batch_put. Luma applies the batch atomically: all
// operations or none (the original applied them one by one). On failure the
// answer is the first failing operation's status and code, with a results
// array naming every failing operation; the others are "skipped".
func (s *Server) stateBatchPut(w http.ResponseWriter, r *http.Request) error {
	var req batchPutRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ops := make([]state.Op, len(req.Operations))
	for i, o := range req.Operations {
		if o.Key == nil {
			return errUnprocessable("operations[%d]: field \"key\" is required", i)
		}
		if o.Value == nil {
			return errUnprocessable("operations[%d]: field \"value\" is required (any JSON, null allowed)", i)
		}
		ops[i] = state.Op{Key: *o.Key, Value: o.Value, PutOptions: state.PutOptions{TTLMs: o.TTLMs, IfRevision: o.IfRevision}}
	}
	res, err := s.d.State.BatchPut(r.Context(), ops)
	var be *state.BatchError
	if errors.As(err, &be) {
		return s.batchFailure(ops, be)
	}
	if err != nil {
		return err
	}
	out := make([]batchResult, len(res))
	for i, pr := range res {
		rev := pr.Revision
		out[i] = batchResult{Status: "ok", Key: pr.Key, Revision: &rev, ExpiresAtMs: pr.ExpiresAtMs}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

func (s *Server) batchFailure(ops []state.Op, be *state.BatchError) error {
	out := make([]batchResult, len(ops))
	for i, op := range ops {
		out[i] = batchResult{Status: "skipped", Key: op.Key}
	}
	for _, it := range be.Items {
		ae := s.toAPIError(it.Err)
		out[it.Index] = batchResult{Status: "error", Key: it.Key, Error: &errorBody{Error: ae.Code, Message: ae.Message}}
	}
	first := s.toAPIError(be.Items[0].Err)
	return &apiError{
		Status:  first.Status,
		Code:    first.Code,
		Message: "batch not applied: operation " + strconv.Itoa(be.Items[0].Index) + " (key " + strconv.Quote(be.Items[0].Key) + "): " + first.Message + "; fix the failing operations and resend the whole batch",
		Results: out,
		cause:   be,
	}
}
