// Package flat is the exact vector index: brute force over a paged float32
// arena, with the same method set as package hnsw (Add, Search with an
// allow filter, WriteTo/Read) so that a collection can use either kind. It
// also serves the filter planner's exact path: SearchIDs scores only the ids
// a selective filter matched.
//
// # Memory layout
//
// Rows live in pages of 2^k rows (k from the capacity hint, 64 to 65536
// rows, at most ~64 MiB of vectors per page): vecs[r*dim:(r+1)*dim] is row
// r's vector and state[r] says whether it is absent, being added or
// present. Pages are never moved, so growing the arena does not disturb
// concurrent readers. A search keeps the k best in a bounded binary max-heap
// on (distance, id) — O(n log k) — and returns them nearest first with ties
// broken by the smaller id, so results are deterministic.
//
// # Concurrency
//
// Add, Search and SearchIDs are safe from any number of goroutines and
// searches take no lock. Add writes the vector and then publishes the row
// with an atomic store of its state; searches load the state atomically and
// read the vector only when it is present, which orders the read after the
// write. The page directory is an atomic pointer to a slice that only
// grows (growers serialise on growMu). WriteTo write-locks snapMu, which
// every Add read-locks, so a checkpoint sees only complete rows.
//
// # Checkpoints
//
// WriteTo and Read use a versioned format with a magic number and CRC-32C
// checksums of header and body (described in persist.go); a damaged or
// truncated file is an error wrapping ErrCorrupt.
package flat
