package vector_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/proctest"
)

// crashWriter is one writer's view: acknowledged vectors, acknowledged
// deletes, and the ids of requests in flight when the server died (their
// outcome is unknown, so they are not checked).
type crashWriter struct {
	live    map[string][]float32
	deleted map[string]bool
	unknown map[string]bool
}

func post(client *http.Client, url string, body any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	resp, err := client.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func (cw *crashWriter) run(url string, w, round int, stop <-chan struct{}) {
	client := &http.Client{Timeout: 20 * time.Second}
	r := rand.New(rand.NewPCG(uint64(w), uint64(round)))
	for b := 0; b < 16; b++ {
		select {
		case <-stop:
			return
		default:
		}
		if b%4 == 3 && len(cw.live) > 0 {
			// Delete a few acknowledged vectors.
			var ids []string
			for id := range cw.live {
				ids = append(ids, id)
				if len(ids) == 5 {
					break
				}
			}
			for _, id := range ids {
				cw.unknown[id] = true
			}
			st, _, err := post(client, url+"/v1/vector/crash/delete_batch", map[string]any{"ids": ids})
			if err != nil || st != 200 {
				return
			}
			for _, id := range ids {
				delete(cw.live, id)
				delete(cw.unknown, id)
				cw.deleted[id] = true
			}
			continue
		}
		items := make([]map[string]any, 64)
		vecs := map[string][]float32{}
		for i := range items {
			id := fmt.Sprintf("r%d-w%d-b%d-%d", round, w, b, i)
			v := make([]float32, 16)
			for j := range v {
				v[j] = float32(r.NormFloat64())
			}
			items[i] = map[string]any{"id": id, "vector": v, "meta": map[string]any{"w": w, "round": round}}
			vecs[id] = v
			cw.unknown[id] = true
		}
		st, _, err := post(client, url+"/v1/vector/crash/upsert_batch", map[string]any{"items": items})
		if err != nil || st != 200 {
			return
		}
		for id, v := range vecs {
			cw.live[id] = v
			delete(cw.unknown, id)
		}
	}
}

// verify checks that every acknowledged vector is stored as sent and is
// the top hit for itself, and that acknowledged deletes stay deleted.
func (cw *crashWriter) verify(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: 20 * time.Second}
	type job struct {
		id string
		v  []float32
	}
	jobs := make(chan job)
	errc := make(chan error, 8)
	var approx atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				err := checkVector(client, url, j.id, j.v)
				if errors.Is(err, errApproximate) {
					approx.Add(1)
					continue
				}
				if err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		}()
	}
	for id, v := range cw.live {
		if !cw.unknown[id] { // else a delete of it was in flight
			jobs <- job{id, v}
		}
	}
	for id := range cw.deleted {
		if !cw.unknown[id] {
			jobs <- job{id, nil}
		}
	}
	close(jobs)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if n := approx.Load(); n > int64(2+len(cw.live)/100) {
		t.Fatalf("%d of %d vectors missed by the graphs (found by an exact scan): the graphs are damaged", n, len(cw.live))
	} else if n > 0 {
		t.Logf("%d of %d vectors missed by the graphs at ef 256 (found by an exact scan; HNSW is approximate)", n, len(cw.live))
	}
}

// checkVector checks one id: v nil means it must be deleted.
func checkVector(client *http.Client, url, id string, v []float32) error {
	resp, err := client.Get(url + "/v1/vector/crash/get?id=" + id)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if v == nil {
		if resp.StatusCode != 404 {
			return fmt.Errorf("acknowledged delete of %s undone: status %d", id, resp.StatusCode)
		}
		return nil
	}
	var got struct{ Vector []float32 }
	json.Unmarshal(body, &got)
	if resp.StatusCode != 200 || len(got.Vector) != len(v) {
		return fmt.Errorf("acknowledged %s lost: status %d %s", id, resp.StatusCode, body)
	}
	for i := range v {
		if got.Vector[i] != v[i] {
			return fmt.Errorf("%s: stored vector differs at %d", id, i)
		}
	}
	// Through the graphs (no filter), at k 10 and ef 256.
	found, err := selfSearch(client, url, id, v, nil)
	if err != nil || found {
		return err
	}
	// HNSW is approximate: about 1 in 200,000 such self-queries on 16-d
	// random graphs misses (hnsw.TestSelfQueries). The writer's filter
	// matches at most a segment's worth of vectors, which the planner
	// scans exactly: the vector must be found there.
	var w, round, b, i int
	if _, err := fmt.Sscanf(id, "r%d-w%d-b%d-%d", &round, &w, &b, &i); err != nil {
		return fmt.Errorf("id %q: %v", id, err)
	}
	found, err = selfSearch(client, url, id, v, map[string]any{"w": w, "round": round})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s not found by its own vector, even by an exact scan", id)
	}
	return errApproximate
}

// errApproximate marks a vector the graphs missed but an exact scan found.
var errApproximate = errors.New("found only by an exact scan")

// selfSearch reports whether a search for v (k 10, ef 256) returns id with
// score 1.
func selfSearch(client *http.Client, url, id string, v []float32, filters map[string]any) (bool, error) {
	body := map[string]any{"vector": v, "k": 10, "ef": 256}
	if filters != nil {
		body["filters"] = filters
	}
	st, b, err := post(client, url+"/v1/vector/crash/search", body)
	if err != nil || st != 200 {
		return false, fmt.Errorf("search: %d %s %v", st, b, err)
	}
	var res struct {
		Hits []struct {
			ID    string
			Score float64
		}
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return false, fmt.Errorf("search answer %s: %v", b, err)
	}
	for _, h := range res.Hits {
		if h.ID == id && math.Abs(h.Score-1) <= 1e-6 {
			return true, nil
		}
	}
	return false, nil
}

// TestVectorCrashRecovery SIGKILLs the real binary during upsert_batch
// and delete_batch loads (one round also runs a vacuum), restarts it and
// checks that no acknowledged vector is lost and each is found by its own
// vector; a last round stops it gracefully and checks again.
func TestVectorCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: starts and kills the real binary")
	}
	t.Setenv("SEGMENT_SIZE", "1024")
	dir := t.TempDir()
	const writers = 4
	ws := make([]*crashWriter, writers)
	for i := range ws {
		ws[i] = &crashWriter{live: map[string][]float32{}, deleted: map[string]bool{}, unknown: map[string]bool{}}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	const rounds = 3
	for round := 0; round <= rounds; round++ {
		p := proctest.Start(t, dir)
		client := &http.Client{}
		if round == 0 {
			if st, b, err := post(client, p.URL+"/v1/vector/crash", map[string]any{"dim": 16, "metric": "cosine"}); err != nil || st != 200 {
				t.Fatalf("create: %d %s %v", st, b, err)
			}
		} else {
			for _, w := range ws {
				w.verify(t, p.URL)
			}
		}
		if round == rounds {
			// Graceful restart: stop, start, verify once more.
			p.Stop()
			p = proctest.Start(t, dir)
			for _, w := range ws {
				w.verify(t, p.URL)
			}
			p.Stop()
			// Offline vacuum with the CLI, then once more.
			out, err := exec.Command(proctest.Binary(t), "vacuum", "--collection", "crash", "--data-dir", dir, "--logs", "warning").CombinedOutput()
			var res struct {
				Removed int `json:"tombstones_removed"`
				Live    int `json:"live_count"`
			}
			if err != nil || json.Unmarshal(out, &res) != nil {
				t.Fatalf("luma vacuum: %v: %s", err, out)
			}
			t.Logf("offline vacuum: %s", out)
			p = proctest.Start(t, dir)
			for _, w := range ws {
				w.verify(t, p.URL)
			}
			p.Stop()
			break
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.run(p.URL, i, round, stop)
			}()
		}
		if round == 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(300 * time.Millisecond)
				post(client, p.URL+"/v1/vector/crash/vacuum", nil)
			}()
		}
		time.Sleep(time.Duration(400+rng.IntN(1200)) * time.Millisecond)
		p.Kill()
		close(stop)
		wg.Wait()
		n := 0
		for _, w := range ws {
			n += len(w.live)
		}
		t.Logf("round %d: %d acknowledged live vectors", round, n)
	}
}
