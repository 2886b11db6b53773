// Package query is Luma's hybrid query: one call that chains the engines —
// a vector search with metadata filters, an SQL predicate that keeps only
// the hits a SELECT returns (an ACL table, say), enrichment of each hit
// with its document and state item, and an audit event naming what was
// returned. The HTTP route is POST /v1/query; this package knows nothing
// of HTTP.
//
// # Pipeline
//
//  1. Vector stage: vector.Store.Search on one collection, with the
//     caller's filters and ef, asking for more candidates than k when an
//     SQL stage follows (over-fetch, below).
//  2. SQL stage (optional): one read-only SELECT through sqlstore.Query
//     (the rules of /v1/sql/query). The value of each row's column named
//     id (any case), or else of its first column, is a permitted key.
//     TEXT is compared as is; INTEGER, and REAL holding an integer, as
//     their decimal text; other values permit nothing. A candidate is kept
//     when its key — its id, or with id_from "meta.<path>" the scalar at
//     that path of its meta — is permitted. If the statement names the
//     parameter :ids (or @ids, $ids), Luma binds it to a JSON array of the
//     candidates' distinct keys (strings, or integers for integer meta
//     values), for json_each(:ids); the caller's params must then be named.
//  3. Enrichment (optional): each kept hit gets the document
//     {collection}/{key} and/or the state item whose key is key_template
//     with {id} replaced by the key (the hit id, or with id_from
//     "meta.<path>" that meta value); absent ones are null.
//  4. Audit (optional): one user event, appended through the committer
//     after every other stage succeeded, whose payload holds the final ids
//     and the caller's payload. Nothing is written when any stage fails.
//
// # Over-fetch
//
// The SQL stage can only keep candidates the vector stage found, so with
// an SQL stage the vector stage asks for fetch = 4·k candidates, capped at
// Options.MaxCandidates (at most the vector store's MaxK, the largest k a
// search accepts). While fewer than k candidates are kept, the collection
// returned all it was asked for (so it may hold more matches) and the cap
// is not reached, it searches again with a larger fetch: 1.5·k divided by
// the keep rate seen so far, at least twice the previous fetch (eight times
// when nothing was kept). A statement without :ids runs once; one with
// :ids runs once per round over that round's candidates.
//
// When the cap is reached with fewer than k kept, the statement does not
// use :ids (so its rows are the whole permitted set, at most SQL_MAX_ROWS)
// and more permitted candidates may exist, the engine answers from the
// permitted set instead:
//
//   - keys are hit ids: every permitted id the vector stage did not return
//     is read (vector.Store.Get), checked against the filters and scored
//     exactly, as the vector store's exact re-scoring does ("scan");
//   - keys are meta values: one more search with the filters AND
//     {path: {$in: permitted}} ("filter").
//
// Either way k hits come back whenever k permitted matches exist. With
// :ids the guarantee holds among the collection's best MaxCandidates
// matches only.
//
// # Order and scores
//
// Hits keep the vector store's order and exact scores: score descending,
// ties by id ascending.
package query
