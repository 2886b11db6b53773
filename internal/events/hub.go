package events

import (
	"sync"
	"sync/atomic"
)

// Hub fans committed events out to live subscribers.
//
// Publish never blocks: each subscriber has a bounded buffer, and when it is
// full the event is dropped for that subscriber only. The subscriber notices
// the hole in the offsets it receives and catches up from the durable log
// (see Stream), so a slow reader never slows the writers and never loses an
// event. This is etcd's synced/unsynced watcher split in miniature.
type Hub struct {
	head atomic.Uint64 // offset of the last published event

	mu   sync.RWMutex // guards subs
	subs map[*Subscription]struct{}

	dropped atomic.Uint64 // events not delivered to a full buffer, for metrics
}

// NewHub returns a hub whose head starts at head (the last durable offset).
func NewHub(head uint64) *Hub {
	h := &Hub{subs: make(map[*Subscription]struct{})}
	h.head.Store(head)
	return h
}

// Subscription receives live events on C, one commit group per receive,
// in offset order, possibly with holes where its buffer overflowed. The
// slices are shared by every subscriber and must not be modified.
type Subscription struct {
	C chan []*Event
	// Lost receives a signal (buffered, coalesced) when a group could not
	// be delivered on C because the buffer was full. A reader that has
	// drained C would otherwise not learn of a hole at the tail until the
	// next write.
	Lost chan struct{}
	hub  *Hub
}

// Subscribe registers a live subscriber whose buffer holds buf commit
// groups (at least 1).
func (h *Hub) Subscribe(buf int) *Subscription {
	if buf < 1 {
		buf = 1
	}
	s := &Subscription{C: make(chan []*Event, buf), Lost: make(chan struct{}, 1), hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close unregisters the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
}

// Publish hands one commit group's events, already durable and in offset
// order, to every subscriber (one channel send each, so the cost does not
// grow with the group size), and advances the head. Only the committer
// calls it.
func (h *Hub) Publish(evs []*Event) {
	if len(evs) == 0 {
		return
	}
	// The head moves while the read lock is held: Subscribe takes the write
	// lock, so a new subscriber either receives these events on its channel
	// or sees the new head when it starts catching up from the log.
	h.mu.RLock()
	h.head.Store(evs[len(evs)-1].Offset)
	for s := range h.subs {
		select {
		case s.C <- evs:
		default:
			h.dropped.Add(uint64(len(evs)))
			select {
			case s.Lost <- struct{}{}:
			default:
			}
		}
	}
	h.mu.RUnlock()
}

// Head returns the offset of the last published event.
func (h *Hub) Head() uint64 { return h.head.Load() }

// Subscribers returns the number of live subscribers.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs)
}

// Dropped returns how many live deliveries were skipped because a
// subscriber's buffer was full (each was later served from the log).
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }
