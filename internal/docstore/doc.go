// Package docstore is Luma's JSON document store: documents addressed by
// collection and id, stored as state keys, with secondary indexes and a
// find that filters, sorts and pages.
//
// # Model
//
// A document is any JSON value. Document c/id is the state key
// doc:{c}:{id} (CONTRACT.md §4.5), written with state.PutTx / DeleteTx
// inside a committer transaction, so its revision, its state_updated /
// state_deleted events and its visibility in /v1/state are exactly those of
// a state key. Collection names are 1..MaxCollectionLen bytes of UTF-8
// without ':' (with one, doc:a:b:c could be collection "a" id "b:c" or
// collection "a:b" id "c"); ids are 1..MaxIDLen bytes of UTF-8 and may
// contain ':'.
//
// # Indexes
//
// An index is declared on a field path of a collection, with a type that
// says which values it holds (keyword: strings, number, bool, auto: every
// scalar). Its entries are keys without values under storage.PrefixDocIndex:
//
//	'd' lp(collection) lp(field) band enc(value) id
//
// where lp is a uvarint length prefix and band is 1 when the field holds a
// scalar, 2 for each distinct scalar element of an array, and 3 (auto
// indexes only, no value) when the field is missing or not a scalar. enc is
// an order-preserving encoding (keys.go): byte order of encodings is the
// sort order null < false < true < numbers (exact, int64 and double mixed)
// < strings (bytewise, first MaxIndexedString bytes). So equality and $in
// are point lookups, ranges are key ranges, and an auto index lists the
// documents in sort order.
//
// Definitions live under storage.PrefixDocMeta: 'D' 0x01 c holds the
// collection's definitions (read by every document write, in the
// transaction), 'D' 0x02 lp(c) field the build progress, and 'D' 0x03 lp(c)
// id the document's footprint, the list of its entry keys, so a write
// replaces a document's entries without decoding the old document. Entries
// of a document are written in the same transaction as the document.
//
// A new index is built in the background (index.go): batches of documents
// in id order, one committer transaction each, storing a watermark, so a
// restart resumes. find uses an index only once it is ready.
//
// # Find
//
// find (find.go) parses the filter with internal/filter, picks a plan (an
// ordered walk of the sort field's auto index, a lookup of the best
// indexable predicate, or a scan), re-checks every candidate against the
// whole filter (so index and scan agree, and entries left stale by a write
// through /v1/state only cost a read), and pages by position: the cursor is
// the last (sort value, id) returned.
//
// # Concurrency
//
// Writes are serialized by the committer; reads go to the engine directly
// and see each document as committed when read (no snapshot across a
// page). The Store owns two goroutines, started by New and stopped by
// Close: the builder and the reconciler (reconcile.go), which fixes the
// entries of documents changed through /v1/state by reading the event log
// behind the writers. defsMu guards only the decoded-definitions cache.
package docstore
