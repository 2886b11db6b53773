package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/storage"
)

// POST /v1/events publishes a user event into the global log (the GET on
// the same path is the deprecated SSE alias).
func (s *Server) eventsPublishRoutes() []route {
	return []route{
		{method: "POST", pattern: "/v1/events", access: accessWrite, handler: s.eventsPublish},
	}
}

// MaxEventTypeLen bounds a user event type.
const maxEventTypeLen = 64

// publishLimits bound a user event.
type publishLimits struct {
	maxKeyLen        int
	maxCollectionLen int
	maxJSONBytes     int
}

type publishRequest struct {
	Type       *string         `json:"type"`
	Key        *string         `json:"key"`
	Collection *string         `json:"collection"`
	Payload    json.RawMessage `json:"payload"`
}

// publishData is the event's data object. key and collection are repeated
// in the event's filter fields, so the stream's key_prefix and collection
// filters select user events like built-in ones.
type publishData struct {
	Key        *string         `json:"key"`
	Collection *string         `json:"collection"`
	Payload    json.RawMessage `json:"payload"`
}

// validEventType reports whether t matches ^[A-Za-z][A-Za-z0-9_.:-]{0,63}$
// (no spaces or newlines: the type is written into the SSE event: line).
func validEventType(t string) bool {
	if len(t) == 0 || len(t) > maxEventTypeLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		letter := (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != ':' && c != '-' {
			return false
		}
	}
	return true
}

// parsePublishRequest validates a publish body and returns the event to
// emit (Offset and TsMs are left to the committer).
func parsePublishRequest(b []byte, lim publishLimits) (*events.Event, error) {
	var req publishRequest
	if err := unmarshalBody(b, &req); err != nil {
		return nil, err
	}
	if req.Type == nil {
		return nil, errUnprocessable(`field "type" is required: the event type, e.g. "order.created"`)
	}
	t := *req.Type
	if !validEventType(t) {
		return nil, errInvalid("invalid event type %q: use 1 to %d characters matching ^[A-Za-z][A-Za-z0-9_.:-]*$", t, maxEventTypeLen)
	}
	if events.IsBuiltinType(t) {
		return nil, errInvalid("event type %q is reserved for events Luma emits itself; choose another name, e.g. \"app.%s\"", t, t)
	}
	ev := &events.Event{Type: t}
	if k := req.Key; k != nil {
		switch {
		case *k == "":
			return nil, errInvalid("key must not be empty; omit it for an event without a key")
		case len(*k) > lim.maxKeyLen:
			return nil, errInvalid("key too long")
		}
		ev.Key = *k
	}
	if c := req.Collection; c != nil {
		switch {
		case *c == "":
			return nil, errInvalid("collection must not be empty; omit it for an event without a collection")
		case len(*c) > lim.maxCollectionLen:
			return nil, errInvalid("collection too long")
		}
		ev.Collection = *c
	}
	if req.Payload == nil {
		return nil, errUnprocessable(`field "payload" is required (any JSON, null allowed)`)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, req.Payload); err != nil {
		return nil, errInvalid("payload is not valid JSON: %v", err)
	}
	if buf.Len() > lim.maxJSONBytes {
		return nil, newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "payload too large")
	}
	data, err := json.Marshal(publishData{Key: req.Key, Collection: req.Collection, Payload: buf.Bytes()})
	if err != nil {
		return nil, fmt.Errorf("encode event data: %w", err)
	}
	ev.Data = data
	return ev, nil
}

type publishResponse struct {
	Offset uint64 `json:"offset"`
	TsMs   uint64 `json:"ts_ms"`
}

// POST /v1/events {type, key?, collection?, payload} → {offset, ts_ms}
func (s *Server) eventsPublish(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	ev, err := parsePublishRequest(body, publishLimits{
		maxKeyLen:        s.d.State.Limits().MaxKeyLen,
		maxCollectionLen: s.d.Config.MaxCollectionLen,
		maxJSONBytes:     int(s.d.Config.MaxJSONBytes),
	})
	if err != nil {
		return err
	}
	commit, err := s.d.DB.Update(r.Context(), func(tx *storage.Tx) error {
		tx.Emit(ev)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, publishResponse{Offset: commit.LastOffset(), TsMs: commit.TsMs})
	return nil
}
