package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"modernc.org/sqlite"
)

// Defaults applied by Options.EnsureDefaults.
const (
	DefaultBusyTimeout  = 5 * time.Second
	DefaultReaders      = 4
	DefaultQueryTimeout = 30 * time.Second
	DefaultMaxRows      = 10000
	DefaultSynchronous  = "FULL"
)

// Options configure a Store. Zero fields take the defaults above.
type Options struct {
	// Path of the database file. Parent directories are created.
	Path string
	// BusyTimeout is SQLite's busy_timeout: how long a connection waits for
	// a lock held by another connection or process.
	BusyTimeout time.Duration
	// Readers is the size of the read-only connection pool used by Query.
	Readers int
	// QueryTimeout bounds every Query, Exec and ExecBatch (including the wait
	// for the writer). The caller's context may set an earlier deadline.
	QueryTimeout time.Duration
	// MaxRows is the most rows Query returns; more is ErrTooManyRows.
	MaxRows int
	// Synchronous is the writer's synchronous pragma: "FULL" (default: a
	// commit is fsynced before Exec returns, so it survives power loss),
	// "NORMAL" (WAL is fsynced at checkpoints only: survives a process
	// crash, may lose the latest commits on power loss; 35–85× more
	// single-row inserts per second, see docs/BENCHMARKS.md), "EXTRA" or
	// "OFF".
	Synchronous string
	// OnExec, if set, is called after every successful Exec or ExecBatch,
	// after the SQLite commit, while the writer is still held (so calls come
	// in commit order). Its context does not carry the request's
	// cancellation: a client that hangs up after the commit must not lose
	// the event. If it fails, the write stays committed and the call
	// returns its results with an *EventError.
	OnExec func(ctx context.Context, e ExecEvent) error
}

// EnsureDefaults fills zero fields with the defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.Readers <= 0 {
		o.Readers = DefaultReaders
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.Synchronous == "" {
		o.Synchronous = DefaultSynchronous
	}
	o.Synchronous = strings.ToUpper(o.Synchronous)
	return o
}

func (o *Options) validate() error {
	if o.Path == "" {
		return errors.New("sqlstore: Options.Path is empty")
	}
	switch o.Synchronous {
	case "OFF", "NORMAL", "FULL", "EXTRA":
	default:
		return fmt.Errorf("sqlstore: Options.Synchronous %q is not one of OFF, NORMAL, FULL, EXTRA", o.Synchronous)
	}
	return nil
}

// Statement is one entry of an ExecBatch.
type Statement struct {
	SQL    string
	Params Params
}

// ExecResult is the outcome of one statement run by Exec or ExecBatch.
// RowsAffected counts the rows changed by an INSERT, REPLACE, UPDATE or
// DELETE (also after WITH); it is 0 for every other statement (DDL,
// PRAGMA, SELECT). LastInsertID is the rowid of the last row inserted by an
// INSERT or REPLACE that inserted rows, else 0.
type ExecResult struct {
	RowsAffected int64
	LastInsertID int64
}

// ExecEvent describes a committed Exec or ExecBatch for Options.OnExec.
type ExecEvent struct {
	// Fingerprint is the statement text normalized: literals replaced by
	// '?', keywords and bare identifiers lower-cased, comments dropped,
	// whitespace collapsed; the statements of a batch are joined by "; ".
	// Parameter values never appear in it.
	Fingerprint  string
	RowsAffected int64 // sum over the statements
	Statements   int   // 1 for Exec, the batch length for ExecBatch
}

// MarshalJSON writes the event's data object for the event log:
// {"fingerprint": ..., "rows_affected": ..., "statements": ...}.
func (e ExecEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Fingerprint  string `json:"fingerprint"`
		RowsAffected int64  `json:"rows_affected"`
		Statements   int    `json:"statements"`
	}{e.Fingerprint, e.RowsAffected, e.Statements})
}

// Stats are counters for metrics. Counters only grow.
type Stats struct {
	OpenReaders  int // reader connections open now
	InUseReaders int // reader connections running a query now
	Queries      uint64
	Execs        uint64 // Exec calls plus ExecBatch calls
	Statements   uint64 // statements committed by Exec and ExecBatch
	Errors       uint64 // calls that returned an error
	Timeouts     uint64 // calls that returned ErrTimeout
	RowsReturned uint64
}

// Store is an SQLite database with one writer connection and a pool of
// read-only reader connections. It is safe for concurrent use.
type Store struct {
	opts    Options
	writer  *sql.DB // MaxOpenConns 1
	readers *sql.DB // opened with mode=ro and query_only

	// wsem holds one token; a write holds it from before BEGIN until its
	// OnExec call has returned, so writes and their events are serialized
	// in commit order. A channel rather than a mutex so that waiting
	// honours the caller's context.
	wsem chan struct{}

	// closeMu guards closed. Calls take it shared to register in inflight;
	// Close takes it exclusively to stop new calls, then waits.
	closeMu  sync.RWMutex
	closed   bool
	inflight sync.WaitGroup

	queries, execs, statements, errs, timeouts, rowsReturned atomic.Uint64
}

// Open opens (creating if needed) the database at o.Path in WAL mode.
func Open(o Options) (*Store, error) {
	o.EnsureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	path, err := filepath.Abs(o.Path)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("sqlstore: creating the database directory: %w", err)
	}
	busy := strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10)
	uri := "file:" + escapeURIPath(path)

	// BEGIN IMMEDIATE takes the write lock at once, so a batch never fails
	// half-way on a lock upgrade; busy_timeout makes it wait for another
	// process's writer instead of failing.
	writer, err := sql.Open("sqlite", uri+"?_txlock=immediate&_pragma=busy_timeout("+busy+")"+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous("+o.Synchronous+")&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	var mode string
	if err := writer.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: opening %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: %s: journal_mode is %q, WAL could not be enabled", path, mode)
	}

	// mode=ro makes every write on these connections fail inside SQLite,
	// whatever slips past the statement checks; query_only is a second
	// lock on the same door.
	readers, err := sql.Open("sqlite", uri+"?mode=ro&_pragma=busy_timeout("+busy+")&_query_only=1")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	readers.SetMaxOpenConns(o.Readers)
	readers.SetMaxIdleConns(o.Readers)
	readers.SetConnMaxLifetime(0)
	if err := readers.Ping(); err != nil {
		readers.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlstore: opening reader connection on %s: %w", path, err)
	}
	o.Path = path
	return &Store{opts: o, writer: writer, readers: readers, wsem: make(chan struct{}, 1)}, nil
}

// escapeURIPath escapes the characters that end or alter the path part of
// an SQLite URI filename.
func escapeURIPath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(p)
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.opts.Path }

// Close stops accepting calls, waits for the calls in flight to finish and
// closes the connections (the last one checkpoints the WAL). Calls after
// Close return ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	s.closeMu.Unlock()
	s.inflight.Wait()
	return errors.Join(s.readers.Close(), s.writer.Close())
}

// enter registers a call in flight; the caller must call s.inflight.Done.
func (s *Store) enter() error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.inflight.Add(1)
	return nil
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	rs := s.readers.Stats()
	return Stats{
		OpenReaders:  rs.OpenConnections,
		InUseReaders: rs.InUse,
		Queries:      s.queries.Load(),
		Execs:        s.execs.Load(),
		Statements:   s.statements.Load(),
		Errors:       s.errs.Load(),
		Timeouts:     s.timeouts.Load(),
		RowsReturned: s.rowsReturned.Load(),
	}
}

func (s *Store) count(err error) {
	if err == nil {
		return
	}
	s.errs.Add(1)
	if errors.Is(err, ErrTimeout) {
		s.timeouts.Add(1)
	}
}

// hasSelectPrefix is the contract's check: after leading whitespace the text
// starts with "select", ASCII case-insensitively.
func hasSelectPrefix(q string) bool {
	q = strings.TrimLeftFunc(q, unicode.IsSpace)
	if len(q) < 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if q[i]|0x20 != "select"[i] {
			return false
		}
	}
	return true
}

// Query runs one read-only statement on a reader connection and returns all
// its rows. The text must start with SELECT after leading whitespace (so a
// leading comment or WITH ... SELECT is refused: ErrNotSelect, the
// contract's rule) and hold exactly one statement (ErrMultipleStatements).
// The reader connections are read-only, so a statement that would write
// fails in SQLite with "attempt to write a readonly database". More than
// MaxRows rows is ErrTooManyRows; a statement running past QueryTimeout or
// ctx's deadline is interrupted and returns ErrTimeout.
func (s *Store) Query(ctx context.Context, query string, params Params) (*Result, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	s.queries.Add(1)
	res, err := s.query(ctx, query, params)
	s.count(err)
	if res != nil {
		s.rowsReturned.Add(uint64(len(res.Rows)))
	}
	return res, err
}

func (s *Store) query(ctx context.Context, query string, params Params) (*Result, error) {
	if !hasSelectPrefix(query) {
		return nil, ErrNotSelect
	}
	st := analyze(query)
	if st.multiple {
		return nil, ErrMultipleStatements
	}
	args, err := bindArgs(st, params)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()

	rows, err := s.readers.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.wrapErr(ctx, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, s.wrapErr(ctx, err)
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, s.wrapErr(ctx, err)
	}
	decl := make([]string, len(types))
	for i, t := range types {
		decl[i] = strings.ToUpper(t.DatabaseTypeName())
	}
	res := &Result{Columns: cols, Rows: [][]any{}}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		// The driver interrupts SQLite while it computes the first row;
		// between rows the deadline is checked here.
		if err := ctx.Err(); err != nil {
			return nil, s.wrapErr(ctx, err)
		}
		if len(res.Rows) == s.opts.MaxRows {
			return nil, fmt.Errorf("%w: query returned more than %d rows; add LIMIT or raise SQL_MAX_ROWS", ErrTooManyRows, s.opts.MaxRows)
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, s.wrapErr(ctx, err)
		}
		row := make([]any, len(cols))
		for i, v := range vals {
			row[i] = columnValue(v, decl[i])
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrapErr(ctx, err)
	}
	return res, nil
}

// wrapErr turns a driver or context error into the store's errors.
func (s *Store) wrapErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if errors.Is(ctxErr, context.Canceled) || errors.Is(err, context.Canceled) {
			return fmt.Errorf("sqlstore: statement canceled by the caller: %w", context.Canceled)
		}
		return fmt.Errorf("%w: the statement did not finish within its time limit (%s) and was interrupted", ErrTimeout, s.opts.QueryTimeout)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return &SQLiteError{Code: se.Code(), Msg: se.Error()}
	}
	var own *SQLiteError
	if errors.As(err, &own) {
		return err
	}
	return &SQLiteError{Msg: err.Error()}
}

// prepared is a checked write statement.
type prepared struct {
	sql  string
	st   statement
	args []any
}

func prepareWrite(query string, params Params) (prepared, error) {
	st := analyze(query)
	switch {
	case st.multiple:
		return prepared{}, ErrMultipleStatements
	case len(st.toks) == 0:
		return prepared{}, ErrEmptyStatement
	}
	switch st.verb {
	case "begin", "commit", "end", "rollback", "savepoint", "release":
		return prepared{}, ErrTransactionControl
	}
	args, err := bindArgs(st, params)
	if err != nil {
		return prepared{}, err
	}
	return prepared{sql: query, st: st, args: args}, nil
}

// Exec runs one statement of any kind but transaction control on the writer
// connection: ErrMultipleStatements for several, ErrEmptyStatement for none,
// ErrTransactionControl for BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE. It runs
// in its own transaction (VACUUM, ATTACH, DETACH and PRAGMA, which cannot,
// run in autocommit mode), so an error or ErrTimeout means nothing was
// written. After a PRAGMA the connection's own settings (journal_mode,
// busy_timeout, foreign_keys, synchronous, query_only) are restored.
// Options.OnExec runs after the commit; if it fails, the result is returned
// with an *EventError.
func (s *Store) Exec(ctx context.Context, query string, params Params) (ExecResult, error) {
	if err := s.enter(); err != nil {
		return ExecResult{}, err
	}
	defer s.inflight.Done()
	s.execs.Add(1)
	p, err := prepareWrite(query, params)
	if err != nil {
		s.count(err)
		return ExecResult{}, err
	}
	res, err := s.write(ctx, []prepared{p}, false)
	s.count(err)
	if len(res) == 0 {
		return ExecResult{}, err
	}
	return res[0], err
}

// ExecBatch runs the statements in order in one transaction: all are
// committed or, if any fails, none (the error names the failing statement's
// index and wraps its error). The same statement rules as Exec apply;
// statements that cannot run inside a transaction (VACUUM, ATTACH) fail.
// An empty batch is ErrEmptyStatement. Options.OnExec is called once for
// the batch.
func (s *Store) ExecBatch(ctx context.Context, stmts []Statement) ([]ExecResult, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	s.execs.Add(1)
	if len(stmts) == 0 {
		s.count(ErrEmptyStatement)
		return nil, ErrEmptyStatement
	}
	ps := make([]prepared, len(stmts))
	for i, st := range stmts {
		p, err := prepareWrite(st.SQL, st.Params)
		if err != nil {
			err = fmt.Errorf("statement %d: %w", i, err)
			s.count(err)
			return nil, err
		}
		ps[i] = p
	}
	res, err := s.write(ctx, ps, true)
	s.count(err)
	return res, err
}

// autocommitVerbs cannot run inside a transaction (or should not: a PRAGMA
// such as journal_mode is a no-op there).
var autocommitVerbs = map[string]bool{"vacuum": true, "attach": true, "detach": true, "pragma": true}

func (s *Store) write(ctx context.Context, ps []prepared, batch bool) ([]ExecResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return nil, s.wrapErr(ctx, ctx.Err())
	}
	defer func() { <-s.wsem }()

	var (
		results []ExecResult
		err     error
	)
	if !batch && autocommitVerbs[ps[0].st.verb] {
		results, err = s.writeAutocommit(ctx, ps[0])
	} else {
		results, err = s.writeTx(ctx, ps)
	}
	if err != nil {
		return nil, err
	}
	s.statements.Add(uint64(len(ps)))
	for _, p := range ps {
		if p.st.verb == "pragma" {
			if err := s.restorePragmas(); err != nil {
				return results, err
			}
			break
		}
	}
	if s.opts.OnExec == nil {
		return results, nil
	}
	ev := ExecEvent{Statements: len(ps)}
	fps := make([]string, len(ps))
	for i, p := range ps {
		fps[i] = fingerprint(p.st.toks)
		ev.RowsAffected += results[i].RowsAffected
	}
	ev.Fingerprint = strings.Join(fps, "; ")
	if err := s.opts.OnExec(context.WithoutCancel(ctx), ev); err != nil {
		return results, &EventError{Err: err}
	}
	return results, nil
}

func (s *Store) writeAutocommit(ctx context.Context, p prepared) ([]ExecResult, error) {
	r, err := s.writer.ExecContext(ctx, p.sql, p.args...)
	if err != nil {
		return nil, s.wrapErr(ctx, err)
	}
	return []ExecResult{execResult(p.st, r)}, nil
}

// writeTx runs ps in one transaction. The transaction is begun without the
// deadline so that database/sql cannot roll it back behind our back: a
// statement that overruns is interrupted through its own context, and the
// commit is not subject to the deadline, so a nil error means committed and
// an error means rolled back.
func (s *Store) writeTx(ctx context.Context, ps []prepared) ([]ExecResult, error) {
	tx, err := s.writer.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, s.wrapErr(ctx, err)
	}
	results := make([]ExecResult, len(ps))
	for i, p := range ps {
		r, err := tx.ExecContext(ctx, p.sql, p.args...)
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			rbErr := tx.Rollback()
			err = s.wrapErr(ctx, err)
			if len(ps) > 1 {
				err = fmt.Errorf("statement %d: %w", i, err)
			}
			if rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && !autoRolledBack(rbErr) {
				err = errors.Join(err, fmt.Errorf("sqlstore: rollback: %w", rbErr))
			}
			return nil, err
		}
		results[i] = execResult(p.st, r)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrapErr(context.Background(), err)
	}
	return results, nil
}

// autoRolledBack reports whether a ROLLBACK failed because SQLite had already
// rolled the transaction back itself, as it does after an interrupt, a full
// disk or an I/O error.
func autoRolledBack(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && strings.Contains(se.Error(), "no transaction is active")
}

func execResult(st statement, r sql.Result) ExecResult {
	if st.dmlVerb == "" {
		return ExecResult{}
	}
	var out ExecResult
	out.RowsAffected, _ = r.RowsAffected()
	if out.RowsAffected > 0 && (st.dmlVerb == "insert" || st.dmlVerb == "replace") {
		out.LastInsertID, _ = r.LastInsertId()
	}
	return out
}

// restorePragmas puts back the writer's connection settings after a PRAGMA
// statement from a client.
func (s *Store) restorePragmas() error {
	busy := strconv.FormatInt(s.opts.BusyTimeout.Milliseconds(), 10)
	_, err := s.writer.Exec("PRAGMA query_only=0; PRAGMA journal_mode=WAL; PRAGMA busy_timeout=" + busy +
		"; PRAGMA foreign_keys=1; PRAGMA synchronous=" + s.opts.Synchronous)
	if err != nil {
		return fmt.Errorf("sqlstore: restoring connection settings after PRAGMA: %w", err)
	}
	return nil
}
