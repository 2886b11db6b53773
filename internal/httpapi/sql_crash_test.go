package httpapi_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/luma-db/luma/internal/server/proctest"
)

// sqlCrashWriter is what one crash-test SQL writer knows: the seqs it was
// told are committed, and the write in flight when the server died (its
// outcome is unknown: all of it or none of it may be there).
type sqlCrashWriter struct {
	acked       map[int]bool // seq -> acknowledged (single rows and both rows of a batch)
	batches     int          // acknowledged batches (each bumps the writer's ctr row)
	next        int          // next seq to use
	inflight    []int        // seqs of the write in flight (1 or 2)
	inflightCtr bool         // the write in flight bumps ctr
}

// run writes until stop or the first failed request: single inserts, and
// now and then a batch of two inserts plus an increment of the writer's
// counter row, in one transaction.
func (s *sqlCrashWriter) run(client *http.Client, url string, w int, r *rand.Rand, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		var body map[string]any
		if r.IntN(5) == 0 {
			s.inflight, s.inflightCtr = []int{s.next, s.next + 1}, true
			body = map[string]any{"statements": []map[string]any{
				{"sql": "INSERT INTO t(w, seq, kind) VALUES (?, ?, 'batch'), (?, ?, 'batch')", "params": []any{w, s.next, w, s.next + 1}},
				{"sql": "UPDATE ctr SET n = n + 1 WHERE w = ?", "params": []any{w}},
			}}
		} else {
			s.inflight, s.inflightCtr = []int{s.next}, false
			body = map[string]any{"sql": "INSERT INTO t(w, seq, kind, pad) VALUES (?, ?, 'one', ?)", "params": []any{w, s.next, fmt.Sprintf("%0200d", s.next)}}
		}
		st, _, err := sqlHTTP(client, url, "/v1/sql/exec", body, nil)
		if err != nil || st != 200 {
			return // killed: the outcome of the write in flight is unknown
		}
		for _, q := range s.inflight {
			s.acked[q] = true
		}
		if s.inflightCtr {
			s.batches++
		}
		s.next += len(s.inflight)
		s.inflight, s.inflightCtr = nil, false
	}
}

// settle checks what survived against what the writer knows, then makes
// it the baseline for the next round. rows are the writer's seqs found,
// ctr its counter row.
func (s *sqlCrashWriter) settle(t *testing.T, w int, rows map[int]bool, ctr int) {
	t.Helper()
	for q := range s.acked {
		if !rows[q] {
			t.Fatalf("writer %d: acknowledged row %d lost", w, q)
		}
	}
	in := 0
	for _, q := range s.inflight {
		if rows[q] {
			in++
		}
	}
	if in != 0 && in != len(s.inflight) {
		t.Fatalf("writer %d: half of the batch %v in flight committed", w, s.inflight)
	}
	for q := range rows {
		if !s.acked[q] && !slices.Contains(s.inflight, q) {
			t.Fatalf("writer %d: row %d was never written", w, q)
		}
	}
	batches := s.batches
	if in > 0 && s.inflightCtr {
		batches++
	}
	if ctr != batches {
		t.Fatalf("writer %d: ctr %d, %d batches committed", w, ctr, batches)
	}
	if in > 0 {
		for _, q := range s.inflight {
			s.acked[q] = true
		}
		s.batches = batches
	}
	s.next += len(s.inflight)
	s.inflight, s.inflightCtr = nil, false
}

// TestSQLCrashRecovery SIGKILLs the real binary ten times while writers
// insert rows through /v1/sql/exec (single statements and transactions)
// and others put documents. After each restart every acknowledged insert
// and document is there, a transaction in flight is all there or absent,
// nothing unacknowledged appeared, counters match the committed
// transactions, and SQLite's integrity check is ok — through
// /v1/sql/query after each restart, and on the killed file itself, opened
// directly, after the last kill.
func TestSQLCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: starts and kills the real binary")
	}
	const rounds, writers, docWriters = 10, 6, 1
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(21, 22))
	ws := make([]*sqlCrashWriter, writers)
	for w := range ws {
		ws[w] = &sqlCrashWriter{acked: map[int]bool{}}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: writers + docWriters}}
	defer client.CloseIdleConnections()
	var docsAcked []string // this round's acknowledged document puts

	for round := 0; round <= rounds; round++ {
		if round == rounds {
			sqlCrashCheckFile(t, filepath.Join(dir, "sqlite", "rustkiss.db"), ws)
		}
		p := proctest.Start(t, dir)
		if round == 0 {
			for _, q := range []string{
				"CREATE TABLE t(w INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, pad TEXT, PRIMARY KEY (w, seq))",
				"CREATE TABLE ctr(w INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
				"INSERT INTO ctr SELECT value, 0 FROM json_each('[0,1,2,3,4,5]')",
			} {
				if st, b, err := sqlHTTP(client, p.URL, "/v1/sql/exec", map[string]any{"sql": q}, nil); err != nil || st != 200 {
					t.Fatalf("%s: %d %s %v", q, st, b, err)
				}
			}
		} else {
			sqlCrashVerify(t, client, p.URL, ws)
			for _, id := range docsAcked {
				st, b, err := docReq(client, "GET", p.URL+"/v1/doc/sqlcrash/"+id, "")
				if err != nil || st != 200 || string(b) != fmt.Sprintf(`{"id":%q,"revision":1,"doc":{"id":%q}}`, id, id) {
					t.Fatalf("acknowledged document %s after the crash: %d %s %v", id, st, b, err)
				}
			}
		}
		if round == rounds {
			p.Stop()
			break
		}
		docsAcked = nil
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				ws[w].run(client, p.URL, w, rand.New(rand.NewPCG(uint64(w), uint64(round))), stop)
			}(w)
		}
		for d := range docWriters {
			wg.Add(1)
			go func(d int) {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("r%d-w%d-%d", round, d, n)
					st, _, err := docReq(client, "PUT", p.URL+"/v1/doc/sqlcrash/"+id, fmt.Sprintf(`{"id":%q}`, id))
					if err != nil || st != 200 {
						return
					}
					mu.Lock()
					docsAcked = append(docsAcked, id)
					mu.Unlock()
				}
			}(d)
		}
		time.Sleep(time.Duration(300+rng.IntN(500)) * time.Millisecond)
		p.Kill()
		close(stop)
		wg.Wait()
		n := 0
		for _, w := range ws {
			n += len(w.acked)
		}
		t.Logf("round %d: killed with %d rows and %d documents of this round acknowledged", round, n, len(docsAcked))
	}
}

// sqlCrashVerify reads every writer's rows and counter through the server
// and runs SQLite's integrity check there.
func sqlCrashVerify(t *testing.T, client *http.Client, url string, ws []*sqlCrashWriter) {
	t.Helper()
	var ic struct {
		Rows []map[string]string `json:"rows"`
	}
	if st, b, err := sqlHTTP(client, url, "/v1/sql/query", map[string]any{"sql": "SELECT * FROM pragma_integrity_check"}, &ic); err != nil || st != 200 ||
		len(ic.Rows) != 1 || ic.Rows[0]["integrity_check"] != "ok" {
		t.Fatalf("integrity check after the crash: %d %s %v", st, b, err)
	}
	// Paged: the table may outgrow SQL_MAX_ROWS.
	var pairs [][2]int
	for last := [2]int{-1, -1}; ; {
		var rows struct {
			Rows []struct{ W, Seq int } `json:"rows"`
		}
		if st, b, err := sqlHTTP(client, url, "/v1/sql/query", map[string]any{
			"sql": "SELECT w, seq FROM t WHERE (w, seq) > (?, ?) ORDER BY w, seq LIMIT 5000", "params": []any{last[0], last[1]}}, &rows); err != nil || st != 200 {
			t.Fatalf("rows: %d %s %v", st, b, err)
		}
		for _, r := range rows.Rows {
			pairs = append(pairs, [2]int{r.W, r.Seq})
		}
		if len(rows.Rows) < 5000 {
			break
		}
		last = pairs[len(pairs)-1]
	}
	var ctr struct {
		Rows []struct{ W, N int } `json:"rows"`
	}
	if st, b, err := sqlHTTP(client, url, "/v1/sql/query", map[string]any{"sql": "SELECT w, n FROM ctr"}, &ctr); err != nil || st != 200 {
		t.Fatalf("ctr: %d %s %v", st, b, err)
	}
	counters := map[int]int{}
	for _, c := range ctr.Rows {
		counters[c.W] = c.N
	}
	settleAll(t, ws, pairs, counters)
}

// settleAll settles every writer against the rows (w, seq) and counters
// found.
func settleAll(t *testing.T, ws []*sqlCrashWriter, pairs [][2]int, ctr map[int]int) {
	t.Helper()
	rows := make([]map[int]bool, len(ws))
	for i := range rows {
		rows[i] = map[int]bool{}
	}
	for _, p := range pairs {
		rows[p[0]][p[1]] = true
	}
	for w, s := range ws {
		n, ok := ctr[w]
		if !ok {
			t.Fatalf("writer %d: counter row missing", w)
		}
		s.settle(t, w, rows[w], n)
	}
}

// sqlCrashCheckFile opens the database the killed server left, directly
// with the driver (SQLite recovers the WAL as the server would), runs
// PRAGMA integrity_check and checks the rows against the writers.
func sqlCrashCheckFile(t *testing.T, path string, ws []*sqlCrashWriter) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("PRAGMA integrity_check on the killed file: %q %v", res, err)
	}
	q, err := db.Query("SELECT w, seq FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var pairs [][2]int
	for q.Next() {
		var w, seq int
		if err := q.Scan(&w, &seq); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, [2]int{w, seq})
	}
	if err := q.Err(); err != nil {
		t.Fatal(err)
	}
	ctr := map[int]int{}
	cr, err := db.Query("SELECT w, n FROM ctr")
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	for cr.Next() {
		var w, n int
		if err := cr.Scan(&w, &n); err != nil {
			t.Fatal(err)
		}
		ctr[w] = n
	}
	if err := cr.Err(); err != nil {
		t.Fatal(err)
	}
	settleAll(t, ws, pairs, ctr)
}
