package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/servertest"
)

// sqlHTTP sends one SQL request and decodes a 200 answer into out.
func sqlHTTP(client *http.Client, url, path string, body any, out any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Post(url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode == 200 && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, raw, err
		}
	}
	return resp.StatusCode, raw, nil
}

// sqlClientLog is what one concurrent client was told.
type sqlClientLog struct {
	items    []int // seqs of its acknowledged item inserts
	counter  int   // acknowledged increments of the shared counter
	own      int   // acknowledged increments of its own counter row
	execs    int   // acknowledged /v1/sql/exec calls (each appends one sql_exec event)
	reads    int
	failures []string
}

// TestSQLConcurrentHTTP runs 20 keep-alive clients against /v1/sql/query
// and /v1/sql/exec for a bounded time: single inserts, increments of one
// shared counter row (UPDATE … SET n = n + 1), increments of a row per
// client, batches that insert and increment in one transaction, and reads
// that must see the client's own acknowledged writes. Every answer must be
// a 200; at the end every acknowledged insert is present and nothing else,
// the counters equal the acknowledged increments (no lost update), and the
// event log holds exactly one sql_exec event per acknowledged exec.
func TestSQLConcurrentHTTP(t *testing.T) {
	in := servertest.Start(t, nil)
	for _, q := range []string{
		"CREATE TABLE items(id INTEGER PRIMARY KEY, client INTEGER NOT NULL, seq INTEGER NOT NULL, body TEXT, UNIQUE (client, seq))",
		"CREATE TABLE counter(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
		"INSERT INTO counter VALUES (1, 0)",
		"CREATE TABLE own(client INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
		"INSERT INTO own SELECT value, 0 FROM json_each('[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]')",
	} {
		in.MustStatus(200, "POST", "/v1/sql/exec", map[string]any{"sql": q})
	}
	before := in.App.DB.LastOffset()

	const clients = 20
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Second)
	logs := make([]*sqlClientLog, clients)
	var wg sync.WaitGroup
	for c := range clients {
		logs[c] = &sqlClientLog{}
		wg.Add(1)
		go func(c int, l *sqlClientLog) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 99))
			seq := 0
			fail := func(op string, st int, body []byte, err error) {
				l.failures = append(l.failures, fmt.Sprintf("client %d %s: status %d %s %v", c, op, st, body, err))
			}
			for time.Now().Before(deadline) && len(l.failures) == 0 {
				var res struct {
					RowsAffected int64 `json:"rows_affected"`
				}
				switch op := r.IntN(20); {
				case op < 7: // single insert
					seq++
					st, b, err := sqlHTTP(client, in.URL, "/v1/sql/exec", map[string]any{
						"sql": "INSERT INTO items(client, seq, body) VALUES (?, ?, ?)", "params": []any{c, seq, fmt.Sprintf("c%d-%d", c, seq)}}, &res)
					if err != nil || st != 200 || res.RowsAffected != 1 {
						fail("insert", st, b, err)
						continue
					}
					l.items = append(l.items, seq)
					l.execs++
				case op < 11: // shared counter
					st, b, err := sqlHTTP(client, in.URL, "/v1/sql/exec", map[string]any{"sql": "UPDATE counter SET n = n + 1 WHERE id = 1"}, &res)
					if err != nil || st != 200 || res.RowsAffected != 1 {
						fail("increment", st, b, err)
						continue
					}
					l.counter++
					l.execs++
				case op < 13: // own counter, named params
					st, b, err := sqlHTTP(client, in.URL, "/v1/sql/exec", map[string]any{
						"sql": "UPDATE own SET n = n + :d WHERE client = :c", "params": map[string]any{"d": 1, "c": c}}, &res)
					if err != nil || st != 200 || res.RowsAffected != 1 {
						fail("own increment", st, b, err)
						continue
					}
					l.own++
					l.execs++
				case op < 15: // a transaction: two inserts and both counters
					s1, s2 := seq+1, seq+2
					seq += 2
					st, b, err := sqlHTTP(client, in.URL, "/v1/sql/exec", map[string]any{"statements": []map[string]any{
						{"sql": "INSERT INTO items(client, seq) VALUES (?, ?), (?, ?)", "params": []any{c, s1, c, s2}},
						{"sql": "UPDATE counter SET n = n + 1 WHERE id = 1"},
						{"sql": "UPDATE own SET n = n + 1 WHERE client = ?", "params": []any{c}},
					}}, &res)
					if err != nil || st != 200 || res.RowsAffected != 4 {
						fail("batch", st, b, err)
						continue
					}
					l.items = append(l.items, s1, s2)
					l.counter++
					l.own++
					l.execs++
				default: // reads see this client's acknowledged writes
					var q struct {
						Rows []struct {
							N   int `json:"n"`
							Own int `json:"own"`
						} `json:"rows"`
					}
					st, b, err := sqlHTTP(client, in.URL, "/v1/sql/query", map[string]any{
						"sql":    "SELECT (SELECT count(*) FROM items WHERE client = ?) AS n, (SELECT n FROM own WHERE client = ?) AS own",
						"params": []any{c, c}}, &q)
					if err != nil || st != 200 || len(q.Rows) != 1 {
						fail("read", st, b, err)
						continue
					}
					if q.Rows[0].N != len(l.items) || q.Rows[0].Own != l.own {
						fail("read", st, b, fmt.Errorf("saw %d items and own %d, acknowledged %d and %d", q.Rows[0].N, q.Rows[0].Own, len(l.items), l.own))
					}
					l.reads++
				}
			}
		}(c, logs[c])
	}
	wg.Wait()

	var counter, execs, reads, inserts int
	for _, l := range logs {
		for _, f := range l.failures {
			t.Error(f)
		}
		counter += l.counter
		execs += l.execs
		reads += l.reads
		inserts += len(l.items)
	}
	if t.Failed() {
		return
	}

	// Every acknowledged insert is there, and nothing else.
	var rows struct {
		Rows []struct{ Client, Seq int } `json:"rows"`
	}
	in.MustStatus(200, "POST", "/v1/sql/query", map[string]any{"sql": "SELECT client, seq FROM items ORDER BY client, seq"}).JSON(t, &rows)
	got := make([][]int, clients)
	for _, r := range rows.Rows {
		got[r.Client] = append(got[r.Client], r.Seq)
	}
	for c, l := range logs {
		want := slices.Sorted(slices.Values(l.items))
		if !slices.Equal(got[c], want) {
			t.Errorf("client %d: rows %v, acknowledged %v", c, got[c], want)
		}
	}
	// No lost update.
	var n struct {
		Rows []struct{ N int } `json:"rows"`
	}
	in.MustStatus(200, "POST", "/v1/sql/query", map[string]any{"sql": "SELECT n FROM counter WHERE id = 1"}).JSON(t, &n)
	if n.Rows[0].N != counter {
		t.Errorf("shared counter %d, acknowledged increments %d", n.Rows[0].N, counter)
	}
	var own struct {
		Rows []struct{ Client, N int } `json:"rows"`
	}
	in.MustStatus(200, "POST", "/v1/sql/query", map[string]any{"sql": "SELECT client, n FROM own ORDER BY client"}).JSON(t, &own)
	for _, r := range own.Rows {
		if r.N != logs[r.Client].own {
			t.Errorf("client %d: own counter %d, acknowledged %d", r.Client, r.N, logs[r.Client].own)
		}
	}
	// One sql_exec event per acknowledged exec, none for reads.
	if d := in.App.DB.LastOffset() - before; d != uint64(execs) {
		t.Errorf("%d events appended, %d execs acknowledged", d, execs)
	}
	t.Logf("%d clients: %d execs (%d rows inserted, %d shared increments), %d reads", clients, execs, inserts, counter, reads)
}
