package storage

import (
	"context"
	"time"

	"github.com/luma-db/luma/internal/events"
)

// Retention bounds the event log. Trimming removes only a prefix of the log
// (the oldest events) and moves the retention floor; readers asking for
// offsets below the floor get a gap notice. Zero fields mean unbounded.
type Retention struct {
	MaxEvents uint64        // keep at most this many events
	MaxBytes  int64         // keep at most this many bytes of event records
	MaxAge    time.Duration // drop events older than this
	Interval  time.Duration // how often to check (default 1 s)
	// MaxTrimPerPass bounds one trim transaction (default 100000 events).
	MaxTrimPerPass int
}

func (r Retention) enabled() bool { return r.MaxEvents > 0 || r.MaxBytes > 0 || r.MaxAge > 0 }

func (db *DB) retentionLoop() {
	defer db.bgWG.Done()
	iv := db.opts.Retention.Interval
	if iv <= 0 {
		iv = time.Second
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-db.stopc:
			return
		case <-t.C:
			for {
				n, err := db.EnforceRetention(context.Background())
				if err != nil {
					db.log.Error("event log retention failed", "err", err)
					break
				}
				if n < db.maxTrim() {
					break
				}
			}
		}
	}
}

func (db *DB) maxTrim() uint64 {
	if db.opts.Retention.MaxTrimPerPass > 0 {
		return uint64(db.opts.Retention.MaxTrimPerPass)
	}
	return 100000
}

// EnforceRetention trims the oldest events that exceed the retention limits
// and returns how many it removed (at most MaxTrimPerPass per call).
func (db *DB) EnforceRetention(ctx context.Context) (uint64, error) {
	r := db.opts.Retention
	if !r.enabled() {
		return 0, nil
	}
	db.retMu.Lock()
	defer db.retMu.Unlock()

	floor, last := db.Floor(), db.LastOffset()
	if floor > last {
		return 0, nil
	}
	countTarget := floor
	if r.MaxEvents > 0 && last-floor+1 > r.MaxEvents {
		countTarget = last - r.MaxEvents + 1
	}
	var cutoff uint64
	if r.MaxAge > 0 {
		cutoff = uint64(time.Now().Add(-r.MaxAge).UnixMilli())
	}
	total := db.LogBytes()
	limit := db.maxTrim()
	newFloor := floor
	var removed int64
	err := db.Scan(EventKey(floor), []byte{PrefixEvent + 1}, func(k, v []byte) (bool, error) {
		off := getU64(k[1:])
		if off > last || newFloor-floor >= limit {
			return false, nil
		}
		drop := off < countTarget || (r.MaxBytes > 0 && total-removed > r.MaxBytes)
		if !drop && cutoff > 0 {
			ts, err := events.RecordTsMs(v)
			if err != nil {
				return false, err
			}
			drop = ts < cutoff
		}
		if !drop {
			return false, nil
		}
		removed += int64(len(k) + len(v))
		newFloor = off + 1
		return true, nil
	})
	if err != nil || newFloor == floor {
		return 0, err
	}
	_, err = db.Update(ctx, func(tx *Tx) error {
		tx.DeleteRange(EventKey(floor), EventKey(newFloor))
		tx.floor = newFloor
		tx.logBytesDelta = -removed
		return nil
	})
	if err != nil {
		return 0, err
	}
	db.log.Debug("event log trimmed", "from", floor, "to", newFloor-1)
	return newFloor - floor, nil
}
