package main

import "slices"

// target is one variant opened on one directory. write is called
// concurrently by every writer and returns once w.req's value record and its
// event record are durable, or with the error that prevented it.
type target interface {
	write(w *writer) error
	// counters returns cumulative counts since open; safe to call while
	// writers run.
	counters() counters
	// close stops the variant's goroutines and closes the engine. No write
	// may be in progress.
	close() error
}

// prefiller is implemented by every target: it loads the engine before a
// point is measured, with -prefill.
type prefiller interface {
	// prefill writes about n bytes of value records (random keys, values of
	// size bytes) in large unsynced commits, then makes them durable. The
	// measurement then starts past the engine's first memtable and WAL, as
	// in a server that has run a while (Pebble reuses old WAL files, whose
	// fsync does not have to journal a growing file).
	prefill(n, size int) error
}

// counters are cumulative; a point reports the difference between two
// snapshots taken at the start and the end of its measured window.
type counters struct {
	// Batches is how many engine commits (Pebble batches, bbolt
	// transactions) were made, and BatchedOps how many writer requests they
	// carried.
	Batches    uint64 `json:"batches"`
	BatchedOps uint64 `json:"batched_ops"`
	// LogSyncs is how many syncs made the commit log durable: WAL fsyncs for
	// Pebble, committed transactions for bbolt (whose data file is its log).
	LogSyncs uint64 `json:"log_syncs"`
	// Syncs is every fsync/fdatasync the engine issued, on any file. Pebble:
	// counted through its vfs. bbolt: two per transaction (pages, then meta
	// page; tx.go), file growth not counted.
	Syncs uint64 `json:"syncs"`
	// Stalls and StallNanos are Pebble's write stalls (memtables or L0 full)
	// that ended, and their total time; always 0 for bbolt.
	Stalls     uint64 `json:"write_stalls"`
	StallNanos uint64 `json:"write_stall_ns"`
}

func (c counters) sub(o counters) counters {
	return counters{
		Batches:    c.Batches - o.Batches,
		BatchedOps: c.BatchedOps - o.BatchedOps,
		LogSyncs:   c.LogSyncs - o.LogSyncs,
		Syncs:      c.Syncs - o.Syncs,
		Stalls:     c.Stalls - o.Stalls,
		StallNanos: c.StallNanos - o.StallNanos,
	}
}

// variant describes how to open one target.
type variant struct {
	name string
	// only, when non-nil, limits the writer counts the variant runs at.
	only func(cfg *config, writers int) bool
	open func(dir string, cfg *config) (target, error)
}

var variants = []variant{
	{name: "pebble-committer", open: func(dir string, cfg *config) (target, error) {
		return openPebbleCommitter(dir, cfg, 0)
	}},
	{name: "pebble-apply", open: func(dir string, _ *config) (target, error) {
		return openPebbleApply(dir, 0)
	}},
	{name: "pebble-2stage", open: openPebbleTwoStage},
	{name: "pebble-pipelined", open: openPebblePipelined},
	{name: "pebble-committer-mt64", only: atBigMemtableWriters,
		open: func(dir string, cfg *config) (target, error) {
			return openPebbleCommitter(dir, cfg, uint64(cfg.BigMemtable))
		}},
	{name: "pebble-apply-mt64", only: atBigMemtableWriters,
		open: func(dir string, cfg *config) (target, error) {
			return openPebbleApply(dir, uint64(cfg.BigMemtable))
		}},
	{name: "bbolt-committer", open: openBoltCommitter},
	{name: "bbolt-batch", open: openBoltBatch},
}

// defaultVariants are those a run without -variants measures.
var defaultVariants = []string{
	"pebble-committer", "pebble-apply", "pebble-2stage", "pebble-pipelined",
	"pebble-committer-mt64", "bbolt-committer", "bbolt-batch",
}

func atBigMemtableWriters(cfg *config, writers int) bool {
	return slices.Contains(cfg.BigMemtableWriter, writers)
}

func variantNames() []string {
	names := make([]string, len(variants))
	for i, v := range variants {
		names[i] = v.name
	}
	return names
}

func lookupVariant(name string) *variant {
	for i := range variants {
		if variants[i].name == name {
			return &variants[i]
		}
	}
	return nil
}
