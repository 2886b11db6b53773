package httpapi

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/luma-db/luma/internal/events"
)

func (s *Server) streamRoutes() []route {
	return []route{
		{method: "GET", pattern: "/v1/stream", access: accessRead, stream: true, handler: s.stream},
		// Deprecated alias: `prefix` instead of key_prefix, no collection.
		{method: "GET", pattern: "/v1/events", access: accessRead, stream: true, handler: s.streamLegacy},
	}
}

// streamParams are the parsed query of a stream request.
type streamParams struct {
	since    uint64
	explicit bool
	filter   events.Filter
}

// parseStreamParams reads since / Last-Event-ID and the filters. legacy
// selects the /v1/events spelling.
func parseStreamParams(r *http.Request, legacy bool) (streamParams, error) {
	var p streamParams
	q := r.URL.Query()
	if raw := q.Get("since"); raw != "" {
		v, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return p, errInvalid("query parameter since must be a non-negative integer (an offset), got %q", raw)
		}
		p.since, p.explicit = v, true
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if v, err := strconv.ParseUint(id, 10, 64); err == nil {
			p.since, p.explicit = v, true
		}
	}
	p.filter.Types = events.ParseTypes(q.Get("types"))
	prefixParam := "key_prefix"
	if legacy {
		prefixParam = "prefix"
	}
	if q.Has(prefixParam) {
		p.filter.KeyPrefix, p.filter.HasPrefix = q.Get(prefixParam), true
	}
	if !legacy {
		p.filter.Collection = q.Get("collection")
	}
	return p, nil
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	return s.serveStream(w, r, false)
}

func (s *Server) streamLegacy(w http.ResponseWriter, r *http.Request) error {
	return s.serveStream(w, r, true)
}

// sseWriteTimeout bounds one write to a stream client, so a client that
// stopped reading cannot pin a handler forever.
const sseWriteTimeout = 30 * time.Second

// serveStream replays the log from the requested offset and then follows
// live events (CONTRACT.md §5). Every event carries id: = offset, so a
// client that reconnects with Last-Event-ID resumes exactly.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, legacy bool) error {
	p, err := parseStreamParams(r, legacy)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil
	}
	st := events.NewStream(s.d.Hub, s.d.DB, events.StreamOptions{
		Since: p.since, Explicit: p.explicit, Filter: p.filter, Buffer: s.d.Config.LiveBuffer,
	})
	defer st.Close()
	if m := s.d.Metrics; m != nil {
		m.SSEClients.Inc()
		defer m.SSEClients.Dec()
	}

	// End the stream when the client goes or the server shuts down.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	bw := bufio.NewWriterSize(w, 32<<10)
	heartbeat := s.d.Config.SSEHeartbeat
	var deadline time.Time
	for {
		it, err := st.Next(ctx, heartbeat)
		if err != nil {
			if errors.Is(err, ctx.Err()) {
				return nil
			}
			s.log.Error("stream read failed", "err", err)
			return nil
		}
		// Move the write deadline only when half of it is used up: setting
		// it costs a syscall-heavy path per write otherwise.
		if now := time.Now(); deadline.Sub(now) < sseWriteTimeout/2 {
			deadline = now.Add(sseWriteTimeout)
			_ = rc.SetWriteDeadline(deadline)
		}
		if it.Event == nil && it.Gap == nil {
			_, _ = bw.WriteString(":keepalive\n\n")
		}
		// Write this item and whatever else is ready, then flush once.
		for it.Event != nil || it.Gap != nil {
			writeSSEItem(bw, it)
			if bw.Buffered() > 16<<10 {
				break
			}
			if it, err = st.Next(ctx, 0); err != nil {
				break
			}
		}
		if err := bw.Flush(); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

func writeSSEItem(bw *bufio.Writer, it events.Item) {
	if it.Gap != nil {
		_, _ = bw.WriteString("event:gap\ndata:")
		_, _ = bw.Write(it.Gap.JSON())
		_, _ = bw.WriteString("\n\n")
		return
	}
	e := it.Event
	var num [20]byte
	_, _ = bw.WriteString("event:")
	_, _ = bw.WriteString(e.Type)
	_, _ = bw.WriteString("\nid:")
	_, _ = bw.Write(strconv.AppendUint(num[:0], e.Offset, 10))
	_, _ = bw.WriteString("\ndata:")
	_, _ = bw.Write(e.Envelope)
	_, _ = bw.WriteString("\n\n")
}
