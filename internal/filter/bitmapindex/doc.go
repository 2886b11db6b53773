// Package bitmapindex is an in-memory inverted index over the metadata of a
// vector collection, answering filter trees (package filter) with roaring
// bitmaps of dense uint32 ids. It is derived state: the vector store rebuilds
// it from stored records (or replays records into it) and never persists it.
//
// # What is indexed
//
// For every field path of an object metadata value, up to Options.MaxDepth
// segments of nested objects ("a", "a.b", ...), the index keeps, as bitmaps
// of ids:
//
//   - exists: the path resolves (to any value, null included);
//   - arrays and objects: the value's kind;
//   - for scalar values, and separately for the scalar elements of array
//     values: null, true, false; a map from each string to its ids; and the
//     (number, id) pairs in buckets ordered by number (see ordered.go), each
//     bucket with a bitmap of its ids, for ranges and numeric equality.
//     Numbers compare as filter.Number (1 == 1.0). String ranges use an
//     ordered view of the strings built by the first range query over the
//     field and maintained after that.
//
// Keeping scalars apart from array elements makes plain equality (arrays
// compare whole) a direct lookup, and lets the bounds of one field in an AND
// ({"price": {"$gte": 10, "$lt": 20}}) be answered as one range for scalars,
// while arrays keep the filter language's rule that each bound may be met by
// a different element.
//
// Paths follow filter.Resolve exactly: a top-level key spelled like a path
// ("a.b") shadows the nested value for that path only; nested keys containing
// "." are unreachable and skipped; array elements are indexed one level deep
// (scalars only) and paths never go through arrays.
//
// # Answering a filter
//
// EvalSplit answers a tree with two disjoint bitmaps: sure (ids that match)
// and maybe (ids the index cannot decide, to be checked with Filter.Match).
// For every indexed id, Match is true for all of sure and false outside
// sure ∪ maybe. Combining: And intersects sures and intersects the
// "possible" sets sure ∪ maybe; Or unions both; Not takes the complement of
// possible within the indexed ids as its sure and keeps maybe. Eval returns
// sure ∪ maybe and exact = (maybe is empty).
//
// Exact answers: $exists; plain equality, $eq, $in with scalars (plain
// equality subtracts the arrays, since it compares arrays whole); $gt, $gte,
// $lt, $lte; and all logic over them. Undecided (maybe) answers: equality,
// $eq or $in with an array or object literal (candidates are the ids with an
// array or object there), and paths deeper than MaxDepth for ids that have
// non-empty objects at that depth (none, usually, so those stay exact).
//
// # Updates and locking
//
// Add indexes an id, Remove un-indexes it given the same metadata, Update
// swaps the metadata atomically for readers. The index keeps no copy of the
// metadata, so Remove and Update must be given exactly what was indexed.
//
// One sync.RWMutex guards the index: writers (Add, Remove, Update) hold it
// exclusively, readers (Eval, EvalSplit, Estimate, Len, Has) share it for the
// whole evaluation. It is built for one writer and many readers; several
// writers are safe too, just serialised. The one piece of state readers
// build, a field's ordered view of its strings, is guarded by a per-field
// mutex taken while the read lock is held (lock order: Index.mu, then
// field.lazyMu). Bitmaps returned to callers are always fresh copies.
package bitmapindex
