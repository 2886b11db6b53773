// Package client is the Go client of Luma, the data layer for AI apps: the
// state store (KV with revisions, TTL, compare-and-set), the event log and
// its live stream, the vector store, the document store, SQLite over HTTP,
// API keys, and the hybrid query.
//
// It uses only the standard library. Every call takes a context first;
// server errors are *Error values with the wire contract's Code, Message and
// HTTP Status, and match the sentinels with errors.Is:
//
//	c, err := client.New("http://127.0.0.1:9917", client.WithAPIKey(key))
//	if err != nil { ... }
//	_, err = c.State.Put(ctx, "user:42", map[string]any{"name": "Ada"}, nil)
//	it, err := c.State.Get(ctx, "user:42")
//	if errors.Is(err, client.ErrNotFound) { ... }
//
// Retries: requests that are safe to repeat (GET, PUT, DELETE, and the POSTs
// that only read or overwrite: searches, find, SQL query, upserts) are
// retried with exponential backoff and jitter on network errors and HTTP
// 503; any request whose connection could not be opened is retried (nothing
// was sent); other POSTs are never retried once sent.
//
// Streams: Subscribe returns a Subscription that replays the event log from
// an offset and follows live events, reconnecting after a dropped connection
// with Last-Event-ID set to the last offset it delivered, so no event is lost
// or delivered twice; gap notices (offsets no longer retained) are delivered
// as events with Gap set.
//
// A Client is safe for concurrent use; its connections are pooled by the
// underlying http.Client.
package client
