// Package vector is Luma's vector store: collections of fixed-dimension
// float32 vectors with JSON metadata, searched by similarity with metadata
// filters (CONTRACT.md §4.3, §6). docs/VECTOR_STORAGE.md describes the
// on-disk layout in bytes; this comment is the model.
//
// # Source of truth and derived state
//
// Records are written through the storage committer (storage.DB.Update)
// together with their events, under storage.PrefixVector: a collection
// config, counters (next internal id, writes, last applied offset), a
// segment table, one record per id (internal id + meta) and one vector
// record per internal id. Everything in memory — segments, HNSW graphs,
// tombstones, the metadata bitmap index — is derived from those records,
// or loaded from checkpoint files and caught up from the records.
//
// # Internal ids and segments
//
// Each write of a vector (add, upsert, update) takes the next internal id
// (iid) of its collection, allocated in commit order and never reused; the
// record of the external id then points at it, and the previous iid of the
// id becomes a tombstone. The iid space is cut into segments (see
// segment.go). The active segment receives appends in the committer's
// AfterCommit hook (a copy into its arena: O(dim)), which makes a write
// visible to searches before it is acknowledged. A per-collection indexer
// goroutine inserts appended vectors into the segment's HNSW graph in the
// background; searches use the graph below its watermark and scan the rest
// exactly. A segment is sealed at SegmentSize vectors; its graph is then
// finished, its arena dropped and its checkpoint written.
//
// # Search
//
// Searches probe every segment (in parallel past ParallelProbeMinSegments)
// and merge: score descending, ties by id. The planner (search.go) answers
// selective filters with an exact scan of the matching ids from the bitmap
// index and broad ones with a filtered graph traversal; every returned
// score is computed on the full vectors. Grouped search (GroupBy) ranks
// groups of a meta field by their best hit.
//
// # Concurrency
//
// The committer goroutine is the only writer of a collection's in-memory
// state (hooks); vacuum swaps segments from a hook too. Readers never take
// a lock shared with it: segment lists are copy-on-write atomic pointers,
// slots are immutable once their segment's count is published, tombstones
// are atomic bit sets, and the HNSW and flat indexes allow concurrent
// insert and search. Locks: Store.mu guards the collection map (short
// sections); Collection.vacMu serialises vacuums; Collection.ckMu
// serialises checkpoint writes and vacuum swaps (taken before, and held
// across, the swap's Update; never taken inside a hook). Order: vacMu, then
// ckMu.
//
// # Durability
//
// An acknowledged write is in Pebble (fsynced by the committer). Checkpoint
// files are written after the data they cover is durable and are named in
// Pebble only once they are durable themselves; a missing or damaged one
// is rebuilt from the records, so losing every file loses no data.
package vector
