package httpapi_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luma-db/luma/internal/server/proctest"
)

// docSlot is what a crash-test writer knows about one of its documents:
// the last acknowledged state and the operation in flight when the server
// died (nil if none), which may or may not have committed.
type docSlot struct {
	exists   bool
	rev      uint64
	value    string
	inflight *docOp
}

type docOp struct {
	del   bool
	value string
}

// docCrashWriter writes its own documents until stop or the first
// transport error (after which the slot's outcome is unknown, so it stops).
// It returns how many writes were acknowledged.
func docCrashWriter(url string, w, round int, slots map[string]*docSlot, stop <-chan struct{}) (acked int) {
	client := &http.Client{Timeout: 10 * time.Second}
	r := rand.New(rand.NewPCG(uint64(w), uint64(round)))
	ids := make([]string, 0, len(slots))
	for id := range slots {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		id := ids[r.IntN(len(ids))]
		s := slots[id]
		if r.IntN(5) == 0 {
			s.inflight = &docOp{del: true}
			st, _, err := docReq(client, "DELETE", url+"/v1/doc/crash/"+id, "")
			if err != nil || st != 200 {
				return
			}
			s.exists, s.inflight = false, nil
			acked++
			continue
		}
		val := fmt.Sprintf(`{"n":%d,"tag":"t%d","w":%d,"round":%d}`, r.IntN(50), r.IntN(4), w, round)
		s.inflight = &docOp{value: val}
		st, b, err := docReq(client, "PUT", url+"/v1/doc/crash/"+id, val)
		if err != nil || st != 200 {
			return
		}
		var res struct{ Revision uint64 }
		_ = json.Unmarshal(b, &res)
		s.exists, s.rev, s.value, s.inflight = true, res.Revision, val, nil
		acked++
	}
}

// TestDocCrashRecovery SIGKILLs the real binary while writers put and
// delete documents in an indexed collection (one round also builds a new
// index), restarts it, and checks that no acknowledged write is lost, that
// an unacknowledged one either fully happened or not at all, and that every
// index still answers exactly like the documents say.
func TestDocCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: starts and kills the real binary")
	}
	rounds := 4
	dir := t.TempDir()
	const writers, perWriter = 6, 40
	slots := make([]map[string]*docSlot, writers)
	for w := range slots {
		slots[w] = map[string]*docSlot{}
		for k := 0; k < perWriter; k++ {
			slots[w][fmt.Sprintf("w%d-%02d", w, k)] = &docSlot{}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round <= rounds; round++ {
		p := proctest.Start(t, dir)
		if round > 0 {
			docCrashVerify(t, p.URL, slots)
		}
		if round == rounds {
			break
		}
		client := &http.Client{}
		switch round {
		case 0:
			for _, ix := range []string{`{"field":"n"}`, `{"field":"tag","type":"keyword"}`} {
				if st, b, err := docReq(client, "POST", p.URL+"/v1/doc/crash/_indexes", ix); err != nil || st != 200 {
					t.Fatalf("create index: %d %s %v", st, b, err)
				}
			}
		case 2:
			// Built in the background while the writers run and the
			// process is killed: the build must resume after restart.
			if st, b, err := docReq(client, "POST", p.URL+"/v1/doc/crash/_indexes", `{"field":"w","type":"number"}`); err != nil || st != 200 {
				t.Fatalf("create index: %d %s %v", st, b, err)
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		acked := make([]int, writers)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				acked[w] = docCrashWriter(p.URL, w, round, slots[w], stop)
			}(w)
		}
		time.Sleep(time.Duration(800+rng.IntN(1500)) * time.Millisecond)
		p.Kill()
		close(stop)
		wg.Wait()
		total := 0
		for _, n := range acked {
			total += n
		}
		t.Logf("round %d: %d acknowledged document writes before SIGKILL", round, total)
	}
}

func docCrashVerify(t *testing.T, url string, slots []map[string]*docSlot) {
	t.Helper()
	client := &http.Client{}
	actual := map[string]docCheck{}
	for _, m := range slots {
		for id, s := range m {
			st, b, err := docReq(client, "GET", url+"/v1/doc/crash/"+id, "")
			if err != nil || (st != 200 && st != 404) {
				t.Fatalf("get %s: %d %s %v", id, st, b, err)
			}
			var got docCheck
			if st == 200 {
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				actual[id] = got
			}
			switch {
			case st == 200 && s.exists && got.Revision == s.rev && string(got.Doc) == s.value:
			case st == 404 && !s.exists:
			case s.inflight != nil && s.inflight.del && st == 404:
			case s.inflight != nil && !s.inflight.del && st == 200 && string(got.Doc) == s.inflight.value &&
				((s.exists && got.Revision == s.rev+1) || (!s.exists && got.Revision == 1)):
			default:
				t.Fatalf("document %s after the crash: status %d %s; acknowledged %+v, in flight %+v", id, st, b, *s, s.inflight)
			}
			// The outcome is now known: it is the next round's baseline.
			if st == 200 {
				s.exists, s.rev, s.value = true, got.Revision, string(got.Doc)
			} else {
				s.exists = false
			}
			s.inflight = nil
		}
	}
	// Indexes committed with the documents: wait for any build to finish,
	// then every indexed query must match the documents just read.
	waitReadyURL(t, client, url)
	byTag := map[string][]string{}
	type nid struct {
		n  float64
		id string
	}
	var byN []nid
	for id, d := range actual {
		var v struct {
			N   float64
			Tag string
		}
		if err := json.Unmarshal(d.Doc, &v); err != nil {
			t.Fatal(err)
		}
		byTag[v.Tag] = append(byTag[v.Tag], id)
		byN = append(byN, nid{v.N, id})
	}
	for tag, ids := range byTag {
		slices.Sort(ids)
		got := findIDsURL(t, client, url, fmt.Sprintf(`{"filter":{"tag":%q}`, tag)+`,"limit":100`, "tag")
		if fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Fatalf("index on tag %s after the crash: %v, documents say %v", tag, got, ids)
		}
	}
	slices.SortFunc(byN, func(a, b nid) int {
		if c := cmp.Compare(a.n, b.n); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	want := make([]string, len(byN))
	for i, x := range byN {
		want[i] = x.id
	}
	if got := findIDsURL(t, client, url, `{"sort":{"field":"n"},"limit":100`, "n"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("index on n after the crash:\n%v\ndocuments say\n%v", got, want)
	}
}

// findIDsURL pages through a find (body without its closing brace) and
// checks the expected index answered.
func findIDsURL(t *testing.T, client *http.Client, url, body, index string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		b := body
		if cursor != "" {
			b += fmt.Sprintf(`,"cursor":%q`, cursor)
		}
		st, raw, err := docReq(client, "POST", url+"/v1/doc/crash/find", b+"}")
		if err != nil || st != 200 {
			t.Fatalf("find: %d %s %v", st, raw, err)
		}
		var res findResult
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		if res.IndexUsed == nil || *res.IndexUsed != index {
			t.Fatalf("find %s used index %v, want %s", body, res.IndexUsed, index)
		}
		ids = append(ids, res.ids()...)
		if res.NextCursor == nil {
			return ids
		}
		cursor = *res.NextCursor
	}
}

// waitReadyURL polls until every index of the crash collection is ready.
func waitReadyURL(t *testing.T, client *http.Client, url string) {
	t.Helper()
	for {
		st, b, err := docReq(client, "GET", url+"/v1/doc/crash/_indexes", "")
		if err != nil || st != 200 {
			t.Fatalf("indexes: %d %s %v", st, b, err)
		}
		var res struct{ Indexes []struct{ State string } }
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(res.Indexes, func(ix struct{ State string }) bool { return ix.State != "ready" }) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
