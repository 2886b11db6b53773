package sqlstore

import (
	"errors"
	"fmt"
)

// Errors returned by the store. Test for them with errors.Is / errors.As; the
// comment on each says how the HTTP layer maps it to the wire (CONTRACT.md §2,
// §4.6).
var (
	// ErrNotSelect: Query got a statement that does not start with SELECT.
	// Wire: 400 invalid_argument "sql query endpoint only accepts SELECT
	// statements" (the contract's exact text).
	ErrNotSelect = errors.New("sql query endpoint only accepts SELECT statements")

	// ErrMultipleStatements: the text holds more than one statement. Query
	// and Exec run exactly one; send a list to ExecBatch instead.
	// Wire: 400 sqlite_error (the original's driver refused these too).
	ErrMultipleStatements = errors.New("sqlstore: multiple statements provided; send exactly one statement (use a batch for several)")

	// ErrEmptyStatement: the text holds no statement (only whitespace,
	// comments or semicolons). Wire: 400 invalid_argument.
	ErrEmptyStatement = errors.New("sqlstore: empty SQL statement")

	// ErrTransactionControl: BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT or
	// RELEASE. The writer connection is shared by every client, so a
	// transaction left open by one request would swallow the writes of the
	// others; ExecBatch runs a list of statements in one transaction instead.
	// Wire: 400 invalid_argument.
	ErrTransactionControl = errors.New("sqlstore: transaction control statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) are not accepted; send the statements as one batch, which runs in a single transaction")

	// ErrTooManyRows: a query produced more rows than Options.MaxRows. The
	// result is discarded, never silently truncated. The error returned wraps
	// it with the limit in the message. Wire: 400 invalid_argument.
	ErrTooManyRows = errors.New("sqlstore: too many rows")

	// ErrTimeout: the statement ran past Options.QueryTimeout (or the
	// caller's deadline) and was interrupted; a write was rolled back.
	// Wire: 408 timeout.
	ErrTimeout = errors.New("sqlstore: statement timed out")

	// ErrClosed: the store is closed. Wire: 503 / 500 internal.
	ErrClosed = errors.New("sqlstore: store is closed")

	// ErrEventNotRecorded: the SQL write was committed but Options.OnExec
	// failed, so the sql_exec event is missing. Returned wrapped in an
	// *EventError together with the write's result. Wire: 500
	// persistence_error, with a message saying the write itself was
	// committed so clients do not blindly retry it.
	ErrEventNotRecorded = errors.New("sqlstore: statement committed but its event was not recorded")
)

// SQLiteError is an error reported by SQLite (or the driver) while preparing,
// binding or running a statement: a syntax error, a constraint violation, a
// missing table, a bad parameter. Msg carries the driver's text. Code is the
// SQLite result code (extended when SQLite gave one), or 0 when the error
// arose in the store or driver before SQLite saw the statement (parameter
// decoding and counting). Wire: 400 sqlite_error with Msg, unless ServerFault.
type SQLiteError struct {
	Code int
	Msg  string
}

func (e *SQLiteError) Error() string { return e.Msg }

// Primary result codes used by ServerFault.
const (
	codeInternal = 2
	codeNoMem    = 7
	codeIOErr    = 10
	codeCorrupt  = 11
	codeFull     = 13
	codeCantOpen = 14
	codeProtocol = 15
	codeNotADB   = 26
)

// ServerFault reports whether the error is the server's problem (disk full,
// I/O error, corruption, out of memory) rather than the statement's, so the
// HTTP layer can answer 500 persistence_error instead of 400 sqlite_error.
func (e *SQLiteError) ServerFault() bool {
	switch e.Code & 0xff {
	case codeInternal, codeNoMem, codeIOErr, codeCorrupt, codeFull, codeCantOpen, codeProtocol, codeNotADB:
		return true
	}
	return false
}

// paramErrorf returns a *SQLiteError with code 0 for a parameter problem.
func paramErrorf(format string, args ...any) error {
	return &SQLiteError{Msg: fmt.Sprintf(format, args...)}
}

// EventError is returned by Exec and ExecBatch when the statements were
// committed but Options.OnExec failed. The results that accompany it are
// valid. It matches ErrEventNotRecorded with errors.Is and unwraps to the
// hook's error too.
type EventError struct {
	Err error // what OnExec returned
}

func (e *EventError) Error() string {
	return ErrEventNotRecorded.Error() + ": " + e.Err.Error()
}

// Unwrap returns both the sentinel and the hook's error.
func (e *EventError) Unwrap() []error { return []error{ErrEventNotRecorded, e.Err} }
