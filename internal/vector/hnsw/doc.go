// Package hnsw is the in-memory approximate nearest neighbour index of a
// vector segment: a Hierarchical Navigable Small World graph (Malkov and
// Yashunin, "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs", 2016/2018) over float32
// vectors addressed by dense uint32 ids that the caller assigns (the vector
// store maps external string ids to them).
//
// # Algorithm
//
// Insertion is the paper's Algorithm 1: the node's top level is
// floor(-ln(u)·mL) with mL = 1/ln(M) and u drawn from (Seed, id) alone; a
// greedy descent from the entry point to that level, then SEARCH-LAYER
// (Algorithm 2) with EfConstruction candidates on each lower level, whose
// result is both the candidate set for the node's links and the entry set
// of the next level. Links are chosen with SELECT-NEIGHBORS-HEURISTIC
// (Algorithm 4): M per level for the new node; a neighbour whose list is
// full (M on upper levels, 2·M on level 0) re-runs the heuristic over its
// links plus the new node. Search descends greedily to level 0 and runs
// SEARCH-LAYER with max(ef, k) candidates. Distances follow one convention
// inside the package, smaller is nearer (squared L2, or the negated inner
// product for Dot); Result.Score gives the metric's own value back.
//
// Deletes are the caller's: it passes an allow function (a tombstone or
// filter bitmap) to Search. Disallowed nodes are still traversed, only not
// returned, and the search keeps expanding until it has ef allowed nodes or
// has exhausted the reachable graph.
//
// # Memory layout
//
// Rows live in pages of 2^k rows (k from the capacity hint, 64 to 65536 rows,
// at most ~64 MiB of vectors per page). Row r of a page holds
//
//	vecs[r*dim : (r+1)*dim]             the vector (float32)
//	links0[r*(1+2M) : (r+1)*(1+2M)]     level-0 links: count, then 2M ids
//	upper[r]                            nil, or levels 1..L: L blocks of
//	                                    (count, M ids), allocated per node
//	state[r]                            absent / being added / top level
//	locks[r]                            the row's writer lock
//
// so vectors and level-0 lists, the data every search touches, are each one
// contiguous slice per page with fixed strides and no pointers. Pages are
// never moved or freed: growing the arena appends a page to the page
// directory, so a row keeps its address while other goroutines read it. A
// search visits nodes through a pooled generation-stamped visited array
// ([]uint16 per searcher, reset by bumping the generation) and two binary
// heaps on (distance, id) pairs, so a query allocates only its result.
// Before scoring a neighbour list it prefetches the first cache lines of
// every unvisited neighbour's row (prefetch_amd64.s), so that the DRAM
// loads of the list overlap: search is bound by memory latency once the
// vectors outgrow the caches. Pages and the query copy are 64-byte aligned
// for the AVX kernels.
//
// # Concurrency
//
// Add and Search are safe from any number of goroutines.
//
//   - Searches take no lock. They read link counts and ids with atomic
//     loads, and writers store them with atomic stores, ids before the
//     count. Vectors, upper-level slice headers and node states are written
//     before the node's id is first stored in any link list or in the entry
//     point (both atomic), so a reader that loads the id is ordered after
//     those writes under the Go memory model: plain reads of them are
//     race-free and the race detector agrees. A reader may see a list half
//     rewritten by a concurrent prune; every id it can see then is a valid,
//     fully written node, so the search stays correct, at worst a little
//     less thorough.
//   - The page directory is an atomic pointer to a slice that only grows;
//     growers serialise on growMu. A reader that meets an id past its copy
//     of the directory reloads it (the page was published before the id).
//   - Each row has a mutex taken by writers of that row's links (the new
//     node setting its own list, an insert adding or pruning a reverse
//     link); writers never hold two row locks at once.
//   - epMu serialises changes of the entry point; an insert whose level is
//     above the current top holds it for its whole insertion, which happens
//     about log_M(n) times in an index's life.
//   - snapMu is read-locked by Add and write-locked by WriteTo, so a
//     checkpoint never contains a half-linked node. Searches never take it.
//
// Lock order: snapMu, then epMu, then growMu or one row lock.
//
// # Checkpoints
//
// WriteTo and Read use a versioned format with a magic number and CRC-32C
// checksums on the header and on the body (described in persist.go). Read
// fills whole pages from the stream without per-node allocations (all upper
// lists share one allocation), then validates every link, so a damaged file
// gives an error wrapping ErrCorrupt rather than a panic or a wrong index.
package hnsw
