// Command sqlitebench compares the two SQLite drivers Luma could use:
// modernc.org/sqlite (pure Go, a C-to-Go translation of SQLite) and
// github.com/mattn/go-sqlite3 (cgo bindings to the C amalgamation).
//
// It lives in its own Go module so that the cgo driver never enters the main
// module's dependency graph: a build tag would hide the import from a normal
// build, but `go mod tidy` considers every build tag and would still add
// mattn/go-sqlite3 to the main go.mod and go.sum.
//
// The access pattern mirrors internal/sqlstore: one writer connection
// (database/sql pool capped at one connection), a separate read-only reader
// pool, WAL mode, busy_timeout 5000 ms, and statements sent as ad-hoc SQL text
// (prepared per call, as the HTTP path does) rather than cached prepared
// statements.
//
// Workloads, each measured for -dur and repeated -rounds times, alternating
// the drivers inside every round so that disk noise hits both alike (the
// reported figure is the median round):
//
//	select    point SELECT by primary key, 1 and 8 goroutines on the reader pool
//	scan      1000-row range scan by primary key, 1 and 8 goroutines
//	insert    single-row INSERT, autocommit, 1 and 8 goroutines through the one
//	          writer connection, under synchronous=NORMAL and FULL
//	mixed     8 goroutines, 80% point selects (reader pool), 20% inserts (writer)
//
// Usage:
//
//	go run . -dur 2s -rounds 3 -rows 100000 > results.md
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3" (cgo)
	_ "modernc.org/sqlite"          // registers "sqlite" (pure Go)
)

// driver describes how to open one SQLite driver through database/sql.
type driver struct {
	name   string // label in the results
	sqlDrv string // database/sql driver name
	// writerDSN and readerDSN build the data source names for the writer
	// connection and the read-only reader pool.
	writerDSN func(path, sync string) string
	readerDSN func(path string) string
}

var drivers = []driver{
	{
		name:   "modernc",
		sqlDrv: "sqlite",
		writerDSN: func(path, sync string) string {
			return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
				"&_pragma=synchronous(" + sync + ")&_pragma=foreign_keys(1)"
		},
		readerDSN: func(path string) string {
			return "file:" + path + "?mode=ro&_pragma=busy_timeout(5000)&_query_only=1"
		},
	},
	{
		name:   "mattn",
		sqlDrv: "sqlite3",
		writerDSN: func(path, sync string) string {
			return "file:" + path + "?_busy_timeout=5000&_journal_mode=WAL" +
				"&_synchronous=" + sync + "&_foreign_keys=1"
		},
		readerDSN: func(path string) string {
			return "file:" + path + "?mode=ro&_busy_timeout=5000&_query_only=1"
		},
	},
}

// workload is one measured scenario.
type workload struct {
	name    string
	workers int
	sync    string // synchronous pragma of the writer
	op      func(ctx context.Context, e *env, rng *rand.Rand) (rows int, err error)
}

// env is one opened database for one driver.
type env struct {
	writer  *sql.DB
	readers *sql.DB
	rows    int   // rows preloaded in table kv
	nextKey int64 // insert key counter
	payload []byte
}

// result of one workload run.
type result struct {
	ops     int
	rows    int
	errs    int
	elapsed time.Duration
	p50     time.Duration
	p99     time.Duration
}

func (r result) opsPerSec() float64  { return float64(r.ops) / r.elapsed.Seconds() }
func (r result) rowsPerSec() float64 { return float64(r.rows) / r.elapsed.Seconds() }

func main() {
	dur := flag.Duration("dur", 2*time.Second, "measuring time of one workload run")
	rounds := flag.Int("rounds", 3, "rounds per workload; the median is reported")
	nrows := flag.Int("rows", 100000, "rows preloaded for reads")
	dir := flag.String("dir", "", "directory for the database files (default: a temporary directory)")
	only := flag.String("only", "", "run only workloads whose name contains this text")
	flag.Parse()

	if err := run(*dur, *rounds, *nrows, *dir, *only); err != nil {
		fmt.Fprintln(os.Stderr, "sqlitebench:", err)
		os.Exit(1)
	}
}

func run(dur time.Duration, rounds, nrows int, dir, only string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "sqlitebench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}

	workloads := []workload{
		{name: "point select, 1 reader", workers: 1, sync: "NORMAL", op: pointSelect},
		{name: "point select, 8 readers", workers: 8, sync: "NORMAL", op: pointSelect},
		{name: "range scan 1000 rows, 1 reader", workers: 1, sync: "NORMAL", op: rangeScan},
		{name: "range scan 1000 rows, 8 readers", workers: 8, sync: "NORMAL", op: rangeScan},
		{name: "insert, 1 writer, sync=NORMAL", workers: 1, sync: "NORMAL", op: insert},
		{name: "insert, 8 writers, sync=NORMAL", workers: 8, sync: "NORMAL", op: insert},
		{name: "insert, 1 writer, sync=FULL", workers: 1, sync: "FULL", op: insert},
		{name: "insert, 8 writers, sync=FULL", workers: 8, sync: "FULL", op: insert},
		{name: "mixed 80/20, 8 workers, sync=NORMAL", workers: 8, sync: "NORMAL", op: mixed},
		{name: "mixed 80/20, 8 workers, sync=FULL", workers: 8, sync: "FULL", op: mixed},
	}

	fmt.Printf("# sqlitebench: %s/%s, %d CPUs, %s, dur=%s rounds=%d rows=%d\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), dur, rounds, nrows)
	for _, d := range drivers {
		v, err := sqliteVersion(d, dir)
		if err != nil {
			return err
		}
		fmt.Printf("- %s: SQLite %s\n", d.name, v)
	}
	fmt.Println()
	fmt.Println("| workload | driver | ops/s | rows/s | p50 | p99 | errors |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")

	for _, w := range workloads {
		if only != "" && !strings.Contains(w.name, only) {
			continue
		}
		per := make(map[string][]result)
		for r := 0; r < rounds; r++ {
			// Alternate which driver goes first so neither always runs on a
			// warmer page cache or a quieter disk.
			order := slices.Clone(drivers)
			if r%2 == 1 {
				slices.Reverse(order)
			}
			for _, d := range order {
				res, err := measure(d, w, dir, nrows, dur)
				if err != nil {
					return fmt.Errorf("%s / %s: %w", w.name, d.name, err)
				}
				per[d.name] = append(per[d.name], res)
			}
		}
		for _, d := range drivers {
			m := median(per[d.name])
			rowsCol := "–"
			if m.rows != m.ops {
				rowsCol = fmt.Sprintf("%.0f", m.rowsPerSec())
			}
			fmt.Printf("| %s | %s | %.0f | %s | %s | %s | %d |\n", w.name, d.name,
				m.opsPerSec(), rowsCol, fmtDur(m.p50), fmtDur(m.p99), m.errs)
		}
	}
	return nil
}

func sqliteVersion(d driver, dir string) (string, error) {
	db, err := sql.Open(d.sqlDrv, d.writerDSN(filepath.Join(dir, "version-"+d.name+".db"), "NORMAL"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	err = db.QueryRow("SELECT sqlite_version()").Scan(&v)
	return v, err
}

// measure opens a fresh database for d, preloads it, runs w for dur and
// returns the figures.
func measure(d driver, w workload, dir string, nrows int, dur time.Duration) (result, error) {
	path := filepath.Join(dir, d.name+".db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return result{}, err
		}
	}
	e, err := openEnv(d, path, w.sync, nrows, w.workers)
	if err != nil {
		return result{}, err
	}
	defer e.writer.Close()
	defer e.readers.Close()

	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lats  []time.Duration
		ops   int
		rows  int
		errs  int
		first error
	)
	start := time.Now()
	for i := 0; i < w.workers; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed*7919+1))
			var (
				local  []time.Duration
				lrows  int
				lerrs  int
				lfirst error
			)
			for ctx.Err() == nil {
				t0 := time.Now()
				n, err := w.op(context.Background(), e, rng)
				local = append(local, time.Since(t0))
				if err != nil {
					lerrs++
					if lfirst == nil {
						lfirst = err
					}
					continue
				}
				lrows += n
			}
			mu.Lock()
			lats = append(lats, local...)
			ops += len(local)
			rows += lrows
			errs += lerrs
			if first == nil {
				first = lfirst
			}
			mu.Unlock()
		}(uint64(i + 1))
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		fmt.Fprintf(os.Stderr, "%s / %s: %d errors, first: %v\n", w.name, d.name, errs, first)
	}
	slices.Sort(lats)
	return result{
		ops: ops, rows: rows, errs: errs, elapsed: elapsed,
		p50: percentile(lats, 0.50), p99: percentile(lats, 0.99),
	}, nil
}

func openEnv(d driver, path, syncMode string, nrows, workers int) (*env, error) {
	w, err := sql.Open(d.sqlDrv, d.writerDSN(path, syncMode))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	e := &env{writer: w, rows: nrows, payload: make([]byte, 100)}
	for i := range e.payload {
		e.payload[i] = byte(i)
	}
	if err := preload(w, nrows, e.payload); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open(d.sqlDrv, d.readerDSN(path))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(workers)
	r.SetMaxIdleConns(workers)
	r.SetConnMaxLifetime(0)
	if err := r.Ping(); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	e.readers = r
	return e, nil
}

func preload(db *sql.DB, nrows int, payload []byte) error {
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE kv(id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL, n INTEGER NOT NULL);
		CREATE TABLE w(id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL)`); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO kv(id, k, v, n) VALUES(?, ?, ?, ?)")
	if err != nil {
		tx.Rollback()
		return err
	}
	for i := 1; i <= nrows; i++ {
		if _, err := stmt.ExecContext(ctx, i, fmt.Sprintf("key-%08d", i), payload, i*3); err != nil {
			stmt.Close()
			tx.Rollback()
			return err
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		return err
	}
	// Fold the preload into the main file so every run starts alike.
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

func pointSelect(ctx context.Context, e *env, rng *rand.Rand) (int, error) {
	id := rng.IntN(e.rows) + 1
	var (
		k string
		v []byte
		n int64
	)
	err := e.readers.QueryRowContext(ctx, "SELECT k, v, n FROM kv WHERE id = ?", id).Scan(&k, &v, &n)
	return 1, err
}

func rangeScan(ctx context.Context, e *env, rng *rand.Rand) (int, error) {
	from := rng.IntN(e.rows-1000) + 1
	rows, err := e.readers.QueryContext(ctx, "SELECT id, k, v, n FROM kv WHERE id >= ? ORDER BY id LIMIT 1000", from)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var (
		id, n int64
		k     string
		v     []byte
		count int
	)
	for rows.Next() {
		if err := rows.Scan(&id, &k, &v, &n); err != nil {
			return count, err
		}
		count++
	}
	return count, rows.Err()
}

func insert(ctx context.Context, e *env, _ *rand.Rand) (int, error) {
	key := atomic.AddInt64(&e.nextKey, 1)
	_, err := e.writer.ExecContext(ctx, "INSERT INTO w(k, v) VALUES(?, ?)", fmt.Sprintf("w-%d", key), e.payload)
	return 1, err
}

func mixed(ctx context.Context, e *env, rng *rand.Rand) (int, error) {
	if rng.IntN(10) < 8 {
		return pointSelect(ctx, e, rng)
	}
	return insert(ctx, e, rng)
}

func median(rs []result) result {
	slices.SortFunc(rs, func(a, b result) int {
		switch x, y := a.opsPerSec(), b.opsPerSec(); {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return rs[len(rs)/2]
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
}
