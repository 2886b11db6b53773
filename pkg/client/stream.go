package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrSubscriptionClosed is returned by Next after Close.
var ErrSubscriptionClosed = errors.New("luma: subscription closed")

// StreamOptions select the events of a subscription.
type StreamOptions struct {
	// Since: deliver events with offset > Since (0 = everything retained).
	Since uint64
	// FromNow starts after the server's current last offset (Since is
	// ignored).
	FromNow bool
	// Types keeps only these event types.
	Types []string
	// KeyPrefix keeps only events whose data.key starts with it.
	KeyPrefix string
	// Collection keeps only events whose data.collection equals it.
	Collection string
	// NoReconnect ends the subscription (with an error) when the
	// connection drops, instead of resuming.
	NoReconnect bool
	// MaxReconnectAttempts is how many consecutive failed reconnects end
	// the subscription (0 = retry until the context ends).
	MaxReconnectAttempts int
	// ReadTimeout: a connection silent for this long (the server sends a
	// keep-alive every 15 s) is considered dead and reopened. Default 60 s.
	ReadTimeout time.Duration
	// Buffer is the capacity of the events channel (default 256).
	Buffer int
	// Legacy uses the deprecated GET /v1/events (KeyPrefix is sent as
	// prefix; Collection is not supported there).
	Legacy bool
}

// Gap says offsets From..To were not delivered (no longer retained, or
// dropped for a slow reader); Dropped counts them.
type Gap struct {
	From    uint64 `json:"from_offset"`
	To      uint64 `json:"to_offset"`
	Dropped uint64 `json:"dropped"`
}

// Event is one item of a subscription: an event of the log, or a gap
// notice (Gap != nil, Type "gap", Offset 0).
type Event struct {
	Type   string
	Offset uint64
	TsMs   uint64
	// Data is the type's fields (key, collection, value, ...).
	Data json.RawMessage
	// Key and Collection repeat data.key / data.collection ("" if absent).
	Key        string
	Collection string
	Gap        *Gap
}

// IsGap reports whether the item is a gap notice.
func (e *Event) IsGap() bool { return e.Gap != nil }

// Decode unmarshals the event's data into v.
func (e *Event) Decode(v any) error { return json.Unmarshal(e.Data, v) }

// Subscription is a live, resumable event stream. Read it with Next or from
// the Events channel (not both at once from different goroutines expecting
// a total order); Close it when done.
type Subscription struct {
	c    *Client
	opts StreamOptions
	path string
	q    url.Values

	ctx    context.Context
	cancel context.CancelFunc
	events chan Event
	done   chan struct{}

	mu         sync.Mutex // guards err, body, last, reconnects
	err        error
	body       io.ReadCloser
	last       uint64
	hasLast    bool
	reconnects int
}

// Subscribe opens the stream and returns once the server has accepted it
// (errors such as ErrUnauthorized or ErrInvalidArgument are returned here).
// The subscription ends when ctx ends, on Close, or on an error that a
// reconnect cannot fix.
func (c *Client) Subscribe(ctx context.Context, o StreamOptions) (*Subscription, error) {
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 60 * time.Second
	}
	if o.Buffer <= 0 {
		o.Buffer = 256
	}
	s := &Subscription{c: c, opts: o, path: "/v1/stream", q: url.Values{}, events: make(chan Event, o.Buffer), done: make(chan struct{})}
	if o.Legacy {
		s.path = "/v1/events"
	}
	if len(o.Types) > 0 {
		s.q.Set("types", strings.Join(o.Types, ","))
	}
	if o.KeyPrefix != "" {
		if o.Legacy {
			s.q.Set("prefix", o.KeyPrefix)
		} else {
			s.q.Set("key_prefix", o.KeyPrefix)
		}
	}
	if o.Collection != "" && !o.Legacy {
		s.q.Set("collection", o.Collection)
	}
	switch {
	case o.FromNow:
		h, err := c.Health(ctx)
		if err != nil {
			return nil, err
		}
		s.last, s.hasLast = h.LastOffset, true
	case o.Since > 0:
		s.last, s.hasLast = o.Since, true
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	body, err := s.connectWithRetry(c.maxRetries)
	if err != nil {
		s.cancel()
		return nil, err
	}
	go s.run(body)
	return s, nil
}

// Events returns the channel of items; it is closed when the subscription
// ends (then Err says why).
func (s *Subscription) Events() <-chan Event { return s.events }

// Next blocks until the next item. After the subscription ended it returns
// the reason: ErrSubscriptionClosed after Close, the context's error, or
// the error that ended it.
func (s *Subscription) Next() (Event, error) {
	ev, ok := <-s.events
	if ok {
		return ev, nil
	}
	return Event{}, s.Err()
}

// Err returns why the subscription ended (nil while it runs).
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// LastOffset returns the offset of the last event delivered (or the resume
// point after a gap).
func (s *Subscription) LastOffset() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Reconnects returns how many times the subscription reconnected.
func (s *Subscription) Reconnects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reconnects
}

// Close ends the subscription and waits for its goroutine.
func (s *Subscription) Close() error {
	s.finish(ErrSubscriptionClosed)
	s.cancel()
	s.mu.Lock()
	if s.body != nil {
		s.body.Close()
	}
	s.mu.Unlock()
	<-s.done
	return nil
}

// DropConnection closes the current connection as a network failure would;
// the subscription reconnects (tests and failover drills).
func (s *Subscription) DropConnection() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.body != nil {
		s.body.Close()
	}
}

func (s *Subscription) finish(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// connect opens one stream connection from the resume point.
func (s *Subscription) connect() (io.ReadCloser, error) {
	q := url.Values{}
	for k, v := range s.q {
		q[k] = v
	}
	s.mu.Lock()
	last, has := s.last, s.hasLast
	s.mu.Unlock()
	h := http.Header{"Accept": {"text/event-stream"}, "Cache-Control": {"no-cache"}}
	if has {
		q.Set("since", strconv.FormatUint(last, 10))
		h.Set("Last-Event-ID", strconv.FormatUint(last, 10))
	}
	req, err := s.c.newRequest(s.ctx, &request{method: "GET", path: s.path, query: q, header: h}, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := s.c.streamHC.Do(req)
	if err != nil {
		return nil, fmt.Errorf("luma: GET %s: %w", s.path, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return nil, parseError(resp.StatusCode, resp.Header.Get("Content-Type"), b, resp.Header.Get("X-Request-ID"))
	}
	return resp.Body, nil
}

// transient reports whether a connect error may go away by retrying.
func transient(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status == http.StatusServiceUnavailable || e.Status == http.StatusRequestTimeout || e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout
	}
	return true // network errors
}

// connectWithRetry connects, retrying transient failures up to limit
// times (limit < 0: until the context ends).
func (s *Subscription) connectWithRetry(limit int) (io.ReadCloser, error) {
	for attempt := 0; ; attempt++ {
		body, err := s.connect()
		if err == nil {
			return body, nil
		}
		if s.ctx.Err() != nil {
			return nil, s.ctx.Err()
		}
		if !transient(err) || (limit >= 0 && attempt >= limit) {
			return nil, err
		}
		if werr := s.c.sleep(s.ctx, attempt, 0); werr != nil {
			return nil, werr
		}
	}
}

// run reads the stream, delivering items, and reconnects after drops.
func (s *Subscription) run(body io.ReadCloser) {
	defer close(s.done)
	defer close(s.events)
	for {
		s.mu.Lock()
		s.body = body
		s.mu.Unlock()
		err := s.read(body)
		body.Close()
		if s.ctx.Err() != nil {
			s.finish(s.ctx.Err())
			return
		}
		if s.opts.NoReconnect {
			s.finish(fmt.Errorf("luma: stream dropped: %w", err))
			return
		}
		s.mu.Lock()
		s.reconnects++
		s.mu.Unlock()
		limit := -1
		if s.opts.MaxReconnectAttempts > 0 {
			limit = s.opts.MaxReconnectAttempts
		}
		body, err = s.connectWithRetry(limit)
		if err != nil {
			s.finish(err)
			return
		}
	}
}

// read parses one connection's SSE until it ends; it returns the reason.
func (s *Subscription) read(body io.ReadCloser) error {
	// A watchdog closes a connection that stays silent past ReadTimeout.
	watchdog := time.AfterFunc(s.opts.ReadTimeout, func() { body.Close() })
	defer watchdog.Stop()
	br := bufio.NewReaderSize(body, 64<<10)
	var (
		event, id string
		data      bytes.Buffer
		has       bool
	)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A long line: gather the rest.
			buf := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		watchdog.Reset(s.opts.ReadTimeout)
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if has {
				if !s.dispatch(event, id, data.Bytes()) {
					return context.Canceled
				}
			}
			event, id, has = "", "", false
			data.Reset()
			continue
		}
		if line[0] == ':' {
			continue // keep-alive comment
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(name) {
		case "event":
			event = string(value)
		case "id":
			id = string(value)
		case "data":
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.Write(value)
		default:
			continue
		}
		has = true
	}
}

// envelope is the data line of an event.
type envelope struct {
	Offset uint64          `json:"offset"`
	TsMs   uint64          `json:"ts_ms"`
	Type   string          `json:"type"`
	Data   json.RawMessage `json:"data"`
}

// dispatch turns one SSE message into an item and delivers it; it returns
// false when the subscription is ending.
func (s *Subscription) dispatch(event, id string, data []byte) bool {
	var ev Event
	if event == "gap" {
		var g Gap
		if json.Unmarshal(data, &g) != nil {
			return true
		}
		ev = Event{Type: "gap", Gap: &g}
		s.mu.Lock()
		if !s.hasLast || g.To > s.last {
			// Resume after the gap: a reconnect must not ask for the
			// missing range again.
			s.last, s.hasLast = g.To, true
		}
		s.mu.Unlock()
	} else {
		var env envelope
		if json.Unmarshal(data, &env) != nil {
			return true
		}
		if env.Offset == 0 {
			if n, err := strconv.ParseUint(id, 10, 64); err == nil {
				env.Offset = n
			}
		}
		if env.Type == "" {
			env.Type = event
		}
		s.mu.Lock()
		if s.hasLast && env.Offset <= s.last {
			s.mu.Unlock()
			return true // delivered before a reconnect
		}
		s.last, s.hasLast = env.Offset, true
		s.mu.Unlock()
		ev = Event{Type: env.Type, Offset: env.Offset, TsMs: env.TsMs, Data: env.Data}
		var keys struct {
			Key        string `json:"key"`
			Collection string `json:"collection"`
		}
		if json.Unmarshal(env.Data, &keys) == nil {
			ev.Key, ev.Collection = keys.Key, keys.Collection
		}
	}
	select {
	case s.events <- ev:
		return true
	case <-s.ctx.Done():
		return false
	}
}
