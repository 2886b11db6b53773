package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/server/servertest"
)

// checkAnswer asserts the invariants every answer keeps: a 2xx or a 4xx
// with a JSON {error, message}, never a 5xx, and nothing written on a 4xx.
func checkAnswer(t *testing.T, in *servertest.Instance, before uint64, r *servertest.Response) {
	t.Helper()
	switch {
	case r.Status >= 200 && r.Status < 300:
	case r.Status >= 400 && r.Status < 500:
		m := r.Map(t)
		if m["error"] == nil || m["message"] == nil {
			t.Fatalf("error body %s", r.Body)
		}
		// The TTL sweeper may delete keys that earlier inputs wrote with a
		// TTL; anything else after `before` was written by this request.
		evs, err := in.App.DB.ReadEvents(before+1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if !strings.Contains(string(e.Envelope), `"reason":"ttl"`) {
				t.Fatalf("a %d answer wrote event %s", r.Status, e.Envelope)
			}
		}
	default:
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
}

func FuzzStatePutBody(f *testing.F) {
	in := servertest.Start(f, servertest.Config(f, "--max-json-mb", "0.01", "--max-key-len", "64"))
	for _, s := range []string{
		`{"value":1}`, `{"value":null,"ttl_ms":0}`, `{"value":{"a":[1,2,{"b":null}]},"if_revision":1}`,
		`{"value":"x","ttl_ms":-5}`, `{"ttl_ms":1}`, `[]`, `null`, `{"value":1e999}`, `{"value":"\ud800"}`,
		`{"value":1,"if_revision":18446744073709551615}`, `{"value":` + strings.Repeat("[", 600) + `}`,
	} {
		f.Add("k", s)
	}
	f.Add("", `{"value":1}`)
	f.Add("a%2Fb", `{"value":true}`)
	f.Fuzz(func(t *testing.T, key, body string) {
		before := in.App.DB.LastOffset()
		r := in.With(t).Do("PUT", "/v1/state/"+url.PathEscape(key), body)
		checkAnswer(t, in, before, r)
		if r.Status == 200 && in.App.DB.LastOffset() <= before {
			t.Fatal("a successful put appended no event")
		}
	})
}

func FuzzStateBatchPutBody(f *testing.F) {
	in := servertest.Start(f, servertest.Config(f, "--max-json-mb", "0.01"))
	f.Add(`{"operations":[{"key":"a","value":1}]}`)
	f.Add(`{"operations":[{"key":"a","value":1},{"key":"a","value":2,"if_revision":1}]}`)
	f.Add(`{"operations":[{"key":"","value":1}]}`)
	f.Add(`{"operations":null}`)
	f.Add(`{"operations":[{"key":1}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		before := in.App.DB.LastOffset()
		r := in.With(t).Do("POST", "/v1/state/batch_put", body)
		checkAnswer(t, in, before, r)
	})
}
