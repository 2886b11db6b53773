package events

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Log is the durable event log as the stream reader needs it. The storage
// engine implements it.
type Log interface {
	// ReadEvents returns up to max events with offset >= from, in order.
	ReadEvents(from uint64, max int) ([]*Event, error)
	// Floor returns the oldest offset still retained (head+1 when empty).
	Floor() uint64
}

// Filter selects events for a stream. Zero value = everything.
type Filter struct {
	Types      map[string]bool // exact types; nil = any
	KeyPrefix  string          // data.key starts with it; events without a key are dropped
	HasPrefix  bool            // KeyPrefix was given (an empty prefix still drops key-less events)
	Collection string          // data.collection equals it; events without one are dropped
}

// ParseTypes turns the comma-separated types parameter into a set (nil when
// empty, meaning any type).
func ParseTypes(s string) map[string]bool {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	m := make(map[string]bool)
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			m[t] = true
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// Match reports whether e passes the filter.
func (f *Filter) Match(e *Event) bool {
	if f.Types != nil && !f.Types[e.Type] {
		return false
	}
	if f.HasPrefix && (e.Key == "" || !strings.HasPrefix(e.Key, f.KeyPrefix)) {
		return false
	}
	if f.Collection != "" && e.Collection != f.Collection {
		return false
	}
	return true
}

// Gap tells a reader that offsets From..To are no longer retained.
type Gap struct {
	From, To, Dropped uint64
}

// JSON returns the gap's SSE data line.
func (g Gap) JSON() []byte {
	b := []byte(`{"from_offset":`)
	b = strconv.AppendUint(b, g.From, 10)
	b = append(b, `,"to_offset":`...)
	b = strconv.AppendUint(b, g.To, 10)
	b = append(b, `,"dropped":`...)
	b = strconv.AppendUint(b, g.Dropped, 10)
	return append(b, '}')
}

// Item is what a stream yields: an event or a gap notice.
type Item struct {
	Event *Event
	Gap   *Gap
}

// StreamOptions configure NewStream.
type StreamOptions struct {
	// Since: deliver events with offset > Since.
	Since uint64
	// Explicit: the client asked for Since (query or Last-Event-ID). Only then
	// is a start below the retention floor reported as a gap; a fresh client
	// simply starts at the oldest retained event.
	Explicit bool
	Filter   Filter
	// Buffer is the live channel size in commit groups (default 1024).
	Buffer int
	// PageSize is how many events a catch-up read fetches (default 512).
	PageSize int
}

// Stream replays the durable log from an offset and then follows the hub,
// delivering every event exactly once, in offset order.
//
// It subscribes to the hub before reading the log, so nothing published
// during the replay is missed; live events at or below the last delivered
// offset are skipped. When a live event arrives with an offset beyond the
// next expected one, or the hub signals that it dropped a group for this
// subscriber (the buffer overflowed), the stream goes back to the log to
// fill the hole. Offsets below the retention floor become
// a Gap item.
type Stream struct {
	hub      *Hub
	log      Log
	sub      *Subscription
	filter   Filter
	next     uint64 // next offset to deliver
	explicit bool
	catchUp  bool
	page     int
	pending  []*Event
	live     []*Event // rest of the last group received from the hub
	timer    *time.Timer
}

// NewStream starts a stream. Close it when done.
func NewStream(hub *Hub, log Log, o StreamOptions) *Stream {
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	if o.PageSize <= 0 {
		o.PageSize = 512
	}
	return &Stream{
		hub:      hub,
		log:      log,
		sub:      hub.Subscribe(o.Buffer),
		filter:   o.Filter,
		next:     o.Since + 1,
		explicit: o.Explicit,
		catchUp:  true,
		page:     o.PageSize,
	}
}

// Close releases the hub subscription.
func (s *Stream) Close() {
	s.sub.Close()
	if s.timer != nil {
		s.timer.Stop()
	}
}

// Next returns the next item. It waits at most wait for one; on timeout it
// returns a zero Item and a nil error so the caller can send a heartbeat.
// It returns ctx.Err() when ctx ends.
func (s *Stream) Next(ctx context.Context, wait time.Duration) (Item, error) {
	var timer *time.Timer
	for {
		if len(s.pending) > 0 {
			e := s.pending[0]
			s.pending = s.pending[1:]
			return Item{Event: e}, nil
		}
		if err := ctx.Err(); err != nil {
			return Item{}, err
		}
		if s.catchUp {
			gap, err := s.fill()
			if err != nil {
				return Item{}, err
			}
			if gap != nil {
				return Item{Gap: gap}, nil
			}
			continue
		}
		for len(s.live) > 0 && !s.catchUp {
			e := s.live[0]
			s.live = s.live[1:]
			switch {
			case e.Offset < s.next:
				// Already delivered from the log.
			case e.Offset > s.next:
				// Our buffer overflowed: the missing events are in the log.
				s.catchUp = true
				s.live = nil
			default:
				s.next = e.Offset + 1
				if s.filter.Match(e) {
					return Item{Event: e}, nil
				}
			}
		}
		if s.catchUp {
			continue
		}
		if wait <= 0 {
			// Only what is ready now, without a timer.
			select {
			case <-ctx.Done():
				return Item{}, ctx.Err()
			case s.live = <-s.sub.C:
				continue
			case <-s.sub.Lost:
				s.catchUp = true
				continue
			default:
				return Item{}, nil
			}
		}
		if timer == nil {
			timer = s.timerFor(wait)
		}
		select {
		case <-ctx.Done():
			return Item{}, ctx.Err()
		case <-timer.C:
			return Item{}, nil
		case s.live = <-s.sub.C:
		case <-s.sub.Lost:
			// A group was dropped: what is queued on C is older, and the
			// log holds the rest up to the head.
			s.catchUp = true
		}
	}
}

// timerFor returns the stream's timer, reset to fire after d. One timer
// serves every wait of the stream (Go 1.23+ timers need no draining).
func (s *Stream) timerFor(d time.Duration) *time.Timer {
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		s.timer.Reset(d)
	}
	return s.timer
}

// fill reads one page of the log into pending, or ends catch-up when the
// stream has reached the published head.
func (s *Stream) fill() (*Gap, error) {
	floor := s.log.Floor()
	if s.next < floor {
		from := s.next
		s.next = floor
		if s.explicit {
			return &Gap{From: from, To: floor - 1, Dropped: floor - from}, nil
		}
	}
	head := s.hub.Head()
	if s.next > head {
		s.catchUp = false
		s.explicit = true // from now on every hole is a real gap
		return nil, nil
	}
	evs, err := s.log.ReadEvents(s.next, s.page)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 || evs[0].Offset != s.next {
		// Retention trimmed the range between Floor and ReadEvents; the next
		// round's Floor reports it. If the floor did not move, the log lost
		// offsets it should hold: report them instead of spinning.
		if s.log.Floor() <= s.next {
			to := head
			if len(evs) > 0 {
				to = evs[0].Offset - 1
			}
			gap := &Gap{From: s.next, To: to, Dropped: to - s.next + 1}
			s.next = to + 1
			return gap, nil
		}
		return nil, nil
	}
	for _, e := range evs {
		if e.Offset > head {
			break
		}
		s.next = e.Offset + 1
		if s.filter.Match(e) {
			s.pending = append(s.pending, e)
		}
	}
	return nil, nil
}
