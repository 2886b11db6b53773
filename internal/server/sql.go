package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/luma-db/luma/internal/events"
	"github.com/luma-db/luma/internal/sqlstore"
	"github.com/luma-db/luma/internal/storage"
)

// openSQL opens the SQLite module when it is enabled: the database file, the
// sql_exec event hook and its metrics. With --memory the database lives in a
// temporary directory removed when the instance closes.
func (a *App) openSQL() error {
	cfg := a.Config
	if !cfg.SQLiteEnabled {
		return nil
	}
	path := cfg.SQLitePath
	if path == "" {
		dir, err := os.MkdirTemp("", "luma-sqlite-")
		if err != nil {
			return fmt.Errorf("sqlite: temporary directory for --memory: %w", err)
		}
		a.closers = append(a.closers, func() error { return os.RemoveAll(dir) })
		path = filepath.Join(dir, "rustkiss.db")
	}
	// --fsync off relaxes SQLite the same way: commits survive a process
	// crash but not a power loss.
	sync := "FULL"
	if cfg.NoSync {
		sync = "NORMAL"
	}
	db := a.DB
	store, err := sqlstore.Open(sqlstore.Options{
		Path:         path,
		Readers:      cfg.SQLReaders,
		QueryTimeout: cfg.SQLQueryTimeout,
		MaxRows:      cfg.SQLMaxRows,
		Synchronous:  sync,
		OnExec:       SQLExecHook(db),
	})
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	a.SQL = store
	a.closers = append(a.closers, store.Close)

	a.Metrics.GaugeFunc("luma_sql_readers_open", "Open read-only SQLite connections.", func() float64 { return float64(store.Stats().OpenReaders) })
	a.Metrics.GaugeFunc("luma_sql_readers_in_use", "Read-only SQLite connections running a query.", func() float64 { return float64(store.Stats().InUseReaders) })
	counter := func(name, help string, f func(sqlstore.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(store.Stats())) })
	}
	a.Metrics.Register(
		counter("luma_sql_queries_total", "Calls of /v1/sql/query.", func(s sqlstore.Stats) uint64 { return s.Queries }),
		counter("luma_sql_execs_total", "Calls of /v1/sql/exec (single statements and batches).", func(s sqlstore.Stats) uint64 { return s.Execs }),
		counter("luma_sql_statements_total", "SQL statements committed by /v1/sql/exec.", func(s sqlstore.Stats) uint64 { return s.Statements }),
		counter("luma_sql_errors_total", "SQL calls that returned an error.", func(s sqlstore.Stats) uint64 { return s.Errors }),
		counter("luma_sql_timeouts_total", "SQL statements interrupted by their time limit.", func(s sqlstore.Stats) uint64 { return s.Timeouts }),
		counter("luma_sql_rows_returned_total", "Rows returned by /v1/sql/query.", func(s sqlstore.Stats) uint64 { return s.RowsReturned }),
	)
	return nil
}

// SQLExecHook is the sqlstore OnExec hook of the server: it appends the
// sql_exec event of each successful exec through db's committer (the
// benchmarks use it to measure what the server does).
func SQLExecHook(db *storage.DB) func(context.Context, sqlstore.ExecEvent) error {
	return func(ctx context.Context, e sqlstore.ExecEvent) error {
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = db.Update(ctx, func(tx *storage.Tx) error {
			tx.Emit(&events.Event{Type: events.TypeSQLExec, Data: data})
			return nil
		})
		return err
	}
}
