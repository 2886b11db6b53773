package client

import "context"

// EventsService publishes custom events: every subscriber sees them like
// built-in ones (this is how agents and services talk through Luma).
type EventsService struct{ c *Client }

// PublishRequest is a custom event. Type must not be a built-in type; Key
// and Collection make it match the stream's KeyPrefix / Collection filters.
type PublishRequest struct {
	Type       string `json:"type"`
	Key        string `json:"key,omitempty"`
	Collection string `json:"collection,omitempty"`
	Payload    any    `json:"payload"`
}

// PublishResult is the event's place in the log.
type PublishResult struct {
	Offset uint64 `json:"offset"`
	TsMs   uint64 `json:"ts_ms"`
}

// Publish appends the event. It is never retried once sent (a retry could
// publish it twice).
func (e *EventsService) Publish(ctx context.Context, r PublishRequest) (*PublishResult, error) {
	if r.Payload == nil {
		r.Payload = map[string]any{}
	}
	var out PublishResult
	if _, err := e.c.call(ctx, &request{method: "POST", path: "/v1/events", body: r}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
