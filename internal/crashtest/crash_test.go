// Package crashtest kills the real luma binary with SIGKILL while clients
// write, restarts it, and checks the durability promises:
//
//   - every acknowledged write is present after the restart;
//   - event offsets are contiguous from 1, without duplicates;
//   - the state equals what replaying the event log gives.
package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/proctest"
)

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func do(method, url string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// acked records what clients were told succeeded.
type acked struct {
	mu      sync.Mutex
	keys    map[string]int    // key -> value acknowledged by a plain put (unique keys)
	deleted map[string]bool   // keys acknowledged as deleted
	tried   map[string]bool   // keys whose delete was sent (it may have applied without an answer)
	ctr     map[string]uint64 // counter key -> highest revision acknowledged
}

func newAcked() *acked {
	return &acked{keys: map[string]int{}, deleted: map[string]bool{}, tried: map[string]bool{}, ctr: map[string]uint64{}}
}

// writer runs one client's write loop until stop: unique-key puts, CAS
// increments of its counter, atomic batches and deletes of its own keys.
func writer(url string, id int, round int, a *acked, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(id), uint64(round)))
	ctrKey := fmt.Sprintf("ctr:%d", id)
	var mine []string
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		switch op := rng.IntN(10); {
		case op < 5:
			key := fmt.Sprintf("k:%d:%d:%d", round, id, n)
			st, _, err := do("PUT", url+"/v1/state/"+key, map[string]any{"value": n})
			if err == nil && st == 200 {
				a.mu.Lock()
				a.keys[key] = n
				a.mu.Unlock()
				mine = append(mine, key)
			}
		case op < 7:
			st, b, err := do("GET", url+"/v1/state/"+ctrKey, nil)
			var it struct {
				Value    int
				Revision uint64
			}
			body := map[string]any{"value": 1}
			if err == nil && st == 200 && json.Unmarshal(b, &it) == nil {
				body = map[string]any{"value": it.Value + 1, "if_revision": it.Revision}
			} else if err != nil || st != 404 {
				continue
			}
			st, b, err = do("PUT", url+"/v1/state/"+ctrKey, body)
			if err == nil && st == 200 {
				var r struct{ Revision uint64 }
				json.Unmarshal(b, &r)
				a.mu.Lock()
				if r.Revision > a.ctr[ctrKey] {
					a.ctr[ctrKey] = r.Revision
				}
				a.mu.Unlock()
			}
		case op < 9:
			var ops []map[string]any
			var keys []string
			for j := 0; j < 1+rng.IntN(8); j++ {
				key := fmt.Sprintf("b:%d:%d:%d:%d", round, id, n, j)
				keys = append(keys, key)
				ops = append(ops, map[string]any{"key": key, "value": n*100 + j})
			}
			st, _, err := do("POST", url+"/v1/state/batch_put", map[string]any{"operations": ops})
			if err == nil && st == 200 {
				a.mu.Lock()
				for j, k := range keys {
					a.keys[k] = n*100 + j
				}
				a.mu.Unlock()
			}
		default:
			if len(mine) == 0 {
				continue
			}
			key := mine[0]
			mine = mine[1:]
			a.mu.Lock()
			a.tried[key] = true
			a.mu.Unlock()
			st, _, err := do("DELETE", url+"/v1/state/"+key, nil)
			if err == nil && st == 200 {
				a.mu.Lock()
				a.deleted[key] = true
				a.mu.Unlock()
			}
		}
	}
}

// readLog replays the whole event log through the SSE stream, up to the
// server's last offset, and returns the state it implies.
func readLog(t *testing.T, url string) (map[string]json.RawMessage, uint64) {
	t.Helper()
	st, b, err := do("GET", url+"/v1/health", nil)
	if err != nil || st != 200 {
		t.Fatalf("health: %d %v", st, err)
	}
	var h struct {
		LastOffset     uint64 `json:"last_offset"`
		RetentionFloor uint64 `json:"retention_floor"`
	}
	json.Unmarshal(b, &h)
	if h.RetentionFloor != 1 {
		t.Fatalf("retention trimmed the log (floor %d); the test needs all of it", h.RetentionFloor)
	}
	state := map[string]json.RawMessage{}
	if h.LastOffset == 0 {
		return state, 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/stream?since=0", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var want uint64 = 1
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data:") {
			continue
		}
		var env struct {
			Offset uint64
			Type   string
			Data   struct {
				Key   string
				Value json.RawMessage
			}
		}
		if err := json.Unmarshal([]byte(line[5:]), &env); err != nil {
			t.Fatalf("bad envelope %q: %v", line, err)
		}
		if env.Offset != want {
			t.Fatalf("offset %d where %d was expected: offsets must be contiguous without duplicates", env.Offset, want)
		}
		want++
		switch env.Type {
		case "state_updated":
			state[env.Data.Key] = env.Data.Value
		case "state_deleted":
			delete(state, env.Data.Key)
		default:
			t.Fatalf("unexpected event type %s", env.Type)
		}
		if env.Offset == h.LastOffset {
			return state, h.LastOffset
		}
	}
	t.Fatalf("stream ended at offset %d before the last offset %d: %v", want-1, h.LastOffset, sc.Err())
	return nil, 0
}

// listState pages through every key.
func listState(t *testing.T, url string) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", url+"/v1/state?limit=1000&cursor="+cursor, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var items []struct {
			Key   string
			Value json.RawMessage
		}
		err = json.NewDecoder(resp.Body).Decode(&items)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			out[it.Key] = it.Value
		}
		cursor = resp.Header.Get("X-Next-Cursor")
		if cursor == "" {
			return out
		}
	}
}

func verify(t *testing.T, url string, a *acked) {
	t.Helper()
	replayed, last := readLog(t, url)
	listed := listState(t, url)
	if len(replayed) != len(listed) {
		t.Fatalf("replaying %d events gives %d keys; the store lists %d", last, len(replayed), len(listed))
	}
	for k, v := range listed {
		if rv, ok := replayed[k]; !ok || string(rv) != string(v) {
			t.Fatalf("key %s: store has %s, log replay gives %s", k, v, rv)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, n := range a.keys {
		v, ok := listed[k]
		if a.deleted[k] {
			if ok {
				t.Fatalf("acknowledged delete of %s lost", k)
			}
			continue
		}
		if !ok && a.tried[k] {
			continue // a delete was sent; it may have committed before the kill
		}
		if !ok || string(v) != strconv.Itoa(n) {
			t.Fatalf("acknowledged write %s = %d lost (store has %s)", k, n, v)
		}
	}
	for k, rev := range a.ctr {
		st, b, err := do("GET", url+"/v1/state/"+k, nil)
		var it struct{ Revision uint64 }
		if err != nil || st != 200 || json.Unmarshal(b, &it) != nil || it.Revision < rev {
			t.Fatalf("counter %s: acknowledged revision %d, store has %s", k, rev, b)
		}
	}
}

// TestCrashRecovery runs at least 20 kill -9 rounds.
func TestCrashRecovery(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	dir := t.TempDir()
	a := newAcked()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < rounds; round++ {
		p := proctest.Start(t, dir)
		if round > 0 {
			verify(t, p.URL, a)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				writer(p.URL, w, round, a, stop)
			}(w)
		}
		time.Sleep(time.Duration(100+rng.IntN(500)) * time.Millisecond)
		p.Kill() // mid-flight: some requests were acknowledged, some not
		close(stop)
		wg.Wait()
	}
	p := proctest.Start(t, dir)
	verify(t, p.URL, a)
	a.mu.Lock()
	t.Logf("%d rounds, %d acknowledged keys, %d deletes, %d counters verified", rounds, len(a.keys), len(a.deleted), len(a.ctr))
	a.mu.Unlock()
	p.Stop()
}
