// Package sqlstore is Luma's embedded SQLite: the engine behind /v1/sql/query
// and /v1/sql/exec. It knows nothing of HTTP; the handlers decode requests,
// call Query, Exec or ExecBatch, and map the errors below to the wire
// (CONTRACT.md §4.6, §2).
//
// # Model
//
// One database file (by default DATA_DIR/sqlite/rustkiss.db) in WAL mode,
// opened through modernc.org/sqlite, the pure-Go driver (the choice and its
// measurements: docs/DEPENDENCIES.md and docs/BENCHMARKS.md, "SQLite
// driver"). Two connection pools:
//
//   - the writer: exactly one connection (database/sql pool of one), with
//     busy_timeout, foreign_keys=ON, the configured synchronous level and
//     BEGIN IMMEDIATE transactions. Exec and ExecBatch are serialized on it.
//   - the readers: Options.Readers connections opened with mode=ro and
//     query_only, used by Query only. WAL lets them read a consistent
//     snapshot while the writer commits.
//
// # Invariants
//
//   - Query never writes: the text must start with SELECT and be one
//     statement, and SQLite itself refuses writes on a mode=ro connection.
//   - Exec and ExecBatch are all or nothing: each runs in a transaction (a
//     batch in one), a failure or timeout rolls it back, and a nil error
//     means committed. (VACUUM, ATTACH, DETACH and PRAGMA run in autocommit
//     mode, as SQLite requires.)
//   - Writes, and their OnExec calls, happen one at a time in commit order.
//   - No statement runs past its time limit: the driver interrupts SQLite
//     (sqlite3_interrupt) when the context expires. For a query the
//     interrupt covers the computation of the first row; after that the
//     deadline is checked between rows.
//   - Nothing reserved lives in this database: Luma keeps API keys in its
//     main storage engine, so no table here is protected (the contract's
//     sys_api_keys rule has nothing to guard).
//
// # SQLite and the event log
//
// SQLite and the event log are two engines; no transaction spans them. The
// sql_exec event is appended by Options.OnExec after the SQLite commit. If
// that fails, the write stays committed and the call returns its results with
// an *EventError (ErrEventNotRecorded), so the handler can answer 500
// persistence_error saying that the write happened and should not be
// retried blindly. A crash between the commit and the append loses the event,
// never the write.
//
// # Errors and their wire mapping
//
//	ErrNotSelect           400 invalid_argument (contract text)
//	ErrMultipleStatements  400 sqlite_error
//	*SQLiteError           400 sqlite_error with the driver's text
//	                       (500 persistence_error if ServerFault)
//	ErrEmptyStatement      400 invalid_argument
//	ErrTransactionControl  400 invalid_argument
//	ErrTooManyRows         400 invalid_argument
//	ErrTimeout             408 timeout
//	*EventError            500 persistence_error
//	ErrClosed              500 internal
//
// Parameter problems (wrong count, unknown or missing name, array or object
// values) are *SQLiteError with Code 0, so they reach the client as the
// contract's 400 sqlite_error, never as a 500.
package sqlstore
