package httpapi_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/server/servertest"
)

func b64(v ...float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestVectorRoutes(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--max-json-mb", "0.0001", "--max-vector-dim", "8", "--max-k", "5"))
	in.MustStatus(200, "POST", "/v1/vector/docs", `{"dim":3,"metric":"cosine"}`)
	in.MustStatus(200, "POST", "/v1/vector/docs/upsert", `{"id":"x","vector":[1,0,0],"meta":{"tag":"a"}}`)
	long := strings.Repeat("c", 65)
	longID := strings.Repeat("i", 129)
	bigMeta := `{"m":"` + strings.Repeat("m", 200) + `"}`
	run(t, in, []scenario{
		// Collections.
		{name: "create", method: "POST", path: "/v1/vector/c2", body: `{"dim":2,"metric":"dot"}`, status: 200, contain: []string{`"collection":"c2"`, `"dim":2`, `"metric":"dot"`}, writes: 2},
		{name: "create l2 flat", method: "POST", path: "/v1/vector/c3", body: `{"dim":2,"metric":"l2","index":"flat","ef_search":32}`, status: 200, writes: 2},
		{name: "create exists", method: "POST", path: "/v1/vector/c2", body: `{"dim":2,"metric":"dot"}`, status: 409, code: "already_exists", contain: []string{"collection already exists"}},
		{name: "create dim 0", method: "POST", path: "/v1/vector/c4", body: `{"dim":0,"metric":"dot"}`, status: 400, code: "invalid_argument", contain: []string{"invalid dim"}},
		{name: "create dim too big", method: "POST", path: "/v1/vector/c4", body: `{"dim":9,"metric":"dot"}`, status: 400, code: "invalid_argument", contain: []string{"invalid dim"}},
		{name: "create missing dim", method: "POST", path: "/v1/vector/c4", body: `{"metric":"dot"}`, status: 422, code: "invalid_argument"},
		{name: "create missing metric", method: "POST", path: "/v1/vector/c4", body: `{"dim":2}`, status: 422, code: "invalid_argument"},
		{name: "create bad metric", method: "POST", path: "/v1/vector/c4", body: `{"dim":2,"metric":"euclid"}`, status: 422, code: "invalid_argument"},
		{name: "create bad index", method: "POST", path: "/v1/vector/c4", body: `{"dim":2,"metric":"dot","index":"ivf"}`, status: 400, code: "invalid_argument", contain: []string{"hnsw"}},
		{name: "create bad m", method: "POST", path: "/v1/vector/c4", body: `{"dim":2,"metric":"dot","m":1}`, status: 400, code: "invalid_argument", contain: []string{"m must be"}},
		{name: "create name too long", method: "POST", path: "/v1/vector/" + long, body: `{"dim":2,"metric":"dot"}`, status: 400, code: "invalid_argument", contain: []string{"collection too long"}},
		{name: "create bad name", method: "POST", path: "/v1/vector/a%2Fb", body: `{"dim":2,"metric":"dot"}`, status: 400, code: "invalid_argument", contain: []string{"invalid collection name"}},
		{name: "create dot name", method: "POST", path: "/v1/vector/.hidden", body: `{"dim":2,"metric":"dot"}`, status: 400, code: "invalid_argument", contain: []string{"invalid collection name"}},
		{name: "list", method: "GET", path: "/v1/vector", status: 200, contain: []string{`"collection":"c2"`, `"live_count":0`, `"segments":0`, `"collection":"docs"`, `"live_count":1`}},
		{name: "detail", method: "GET", path: "/v1/vector/docs", status: 200, contain: []string{`"count":1`, `"dim":3`, `"manifest":{"collection":"docs"`, `"notes":null`, `"segment_list":[{"id":0,"count":1`, `"index_settings":{"index":"hnsw"`}},
		{name: "detail missing", method: "GET", path: "/v1/vector/nope", status: 404, code: "not_found", contain: []string{"collection not found"}},
		// Writes.
		{name: "add", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"a","vector":[0,1,0]}`, status: 200, contain: []string{`{"ok":true}`}, writes: 1},
		{name: "add b64", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"b","vector_b64":"` + b64(0, 0, 1) + `","meta":{"tag":"b"}}`, status: 200, writes: 1},
		{name: "add exists", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"a","vector":[0,1,0]}`, status: 409, code: "already_exists", contain: []string{"id already exists"}},
		{name: "add exists bad dim", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"a","vector":[0,1]}`, status: 409, code: "already_exists"},
		{name: "add dim", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector":[0,1]}`, status: 400, code: "dim_mismatch", contain: []string{"vector dimension mismatch"}},
		{name: "add empty vector", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector":[]}`, status: 400, code: "dim_mismatch"},
		{name: "add missing collection", method: "POST", path: "/v1/vector/nope/add", body: `{"id":"z","vector":[0,1,0]}`, status: 404, code: "not_found", contain: []string{"collection or id not found"}},
		{name: "add missing vector", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z"}`, status: 422, code: "invalid_argument"},
		{name: "add missing id", method: "POST", path: "/v1/vector/docs/add", body: `{"vector":[0,1,0]}`, status: 422, code: "invalid_argument"},
		{name: "add trailing comma", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector":[0,1,]}`, status: 400, code: "invalid_argument"},
		{name: "add non-JSON number", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector":[0,1,.5]}`, status: 400, code: "invalid_argument"},
		{name: "add vector object", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector":{"a":1}}`, status: 422, code: "invalid_argument"},
		{name: "add string in vector", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector":[0,"1",0]}`, status: 422, code: "invalid_argument"},
		{name: "add float32 overflow", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector":[0,1e39,0]}`, status: 422, code: "invalid_argument", contain: []string{"float32"}},
		{name: "add NaN b64", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector_b64":"` + b64(0, float32(math.NaN()), 0) + `"}`, status: 400, code: "invalid_argument", contain: []string{"finite"}},
		{name: "add bad b64", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector_b64":"AAA"}`, status: 400, code: "invalid_argument", contain: []string{"vector_b64"}},
		{name: "add both", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector":[1,1,1],"vector_b64":"` + b64(1, 1, 1) + `"}`, status: 400, code: "invalid_argument"},
		{name: "add malformed", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector":[0,1`, status: 400, code: "invalid_argument"},
		{name: "add empty body", method: "POST", path: "/v1/vector/docs/add", body: ``, status: 400, code: "invalid_argument"},
		// Check order: collection > id > vector length > meta size > engine.
		{name: "order collection first", method: "POST", path: "/v1/vector/" + long + "/add", body: `{"id":"` + longID + `","vector":[1,2,3,4,5,6,7,8,9]}`, status: 400, contain: []string{"collection too long"}},
		{name: "order id second", method: "POST", path: "/v1/vector/nope/add", body: `{"id":"` + longID + `","vector":[1,2,3,4,5,6,7,8,9],"meta":` + bigMeta + `}`, status: 400, contain: []string{"id too long"}},
		{name: "order vector third", method: "POST", path: "/v1/vector/nope/add", body: `{"id":"z","vector":[1,2,3,4,5,6,7,8,9],"meta":` + bigMeta + `}`, status: 400, contain: []string{"vector too large"}},
		{name: "order meta fourth", method: "POST", path: "/v1/vector/nope/add", body: `{"id":"z","vector":[1,2],"meta":` + bigMeta + `}`, status: 413, code: "payload_too_large", contain: []string{"meta too large"}},
		{name: "b64 too large", method: "POST", path: "/v1/vector/docs/add", body: `{"id":"z","vector_b64":"` + b64(make([]float32, 9)...) + `"}`, status: 400, contain: []string{"vector too large"}},
		{name: "upsert", method: "POST", path: "/v1/vector/docs/upsert", body: `{"id":"a","vector":[0,1,0.5],"meta":{"tag":"a2"}}`, status: 200, writes: 1},
		{name: "upsert dim", method: "POST", path: "/v1/vector/docs/upsert", body: `{"id":"a","vector":[0,1,0.5,1]}`, status: 400, code: "dim_mismatch"},
		{name: "update meta only", method: "POST", path: "/v1/vector/docs/update", body: `{"id":"a","meta":{"tag":"a3"},"vector":null}`, status: 200, writes: 1},
		{name: "update missing id", method: "POST", path: "/v1/vector/docs/update", body: `{"id":"q","meta":1}`, status: 404, code: "not_found", contain: []string{"id not found"}},
		{name: "update dim", method: "POST", path: "/v1/vector/docs/update", body: `{"id":"a","vector":[1]}`, status: 400, code: "dim_mismatch"},
		{name: "get", method: "GET", path: "/v1/vector/docs/get?id=a", status: 200, contain: []string{`"id":"a"`, `"vector":[0.0,1.0,0.5]`, `"meta":{"tag":"a3"}`}},
		{name: "get missing id param", method: "GET", path: "/v1/vector/docs/get", status: 400, code: "invalid_argument"},
		{name: "get unknown id", method: "GET", path: "/v1/vector/docs/get?id=q", status: 404, code: "not_found", contain: []string{"vector id not found"}},
		{name: "get unknown collection", method: "GET", path: "/v1/vector/nope/get?id=a", status: 404, code: "not_found", contain: []string{"collection or id not found"}},
		{name: "get id too long", method: "GET", path: "/v1/vector/docs/get?id=" + longID, status: 400, contain: []string{"id too long"}},
		// Search.
		{name: "search", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":2}`, status: 200, contain: []string{`{"hits":[{"id":"a","score":1.0,"meta":null}`}},
		{name: "search meta", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":1,"include_meta":true}`, status: 200, contain: []string{`"meta":{"tag":"a3"}`}},
		{name: "search vector", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":1,"include_vector":true}`, status: 200, contain: []string{`"vector":[0.0,1.0,0.5]`}},
		{name: "search filter", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":5,"filters":{"tag":"b"}}`, status: 200, contain: []string{`{"hits":[{"id":"b",`}},
		{name: "search filter none", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":5,"filters":"x"}`, status: 200, contain: []string{`{"hits":[]}`}},
		{name: "search filter op", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":5,"filters":{"tag":{"$in":["a3","b"]}}}`, status: 200, contain: []string{`"id":"a"`, `"id":"b"`}},
		{name: "search bad filter", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":5,"filters":{"tag":{"$gt":[1]}}}`, status: 400, code: "invalid_argument", contain: []string{`field \"tag\"`, "$gt"}},
		{name: "search unknown op", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":5,"filters":{"tag":{"$regex":"a"}}}`, status: 400, code: "invalid_argument", contain: []string{"$regex"}},
		{name: "search k 0", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":0}`, status: 400, code: "invalid_argument", contain: []string{"invalid k"}},
		{name: "search k too big", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":6}`, status: 400, contain: []string{"invalid k"}},
		{name: "search missing k", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5]}`, status: 422, code: "invalid_argument"},
		{name: "search dim", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1],"k":1}`, status: 400, code: "dim_mismatch"},
		{name: "search missing collection", method: "POST", path: "/v1/vector/nope/search", body: `{"vector":[0,1],"k":1}`, status: 404, code: "not_found"},
		{name: "search filters too large", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0],"k":1,"filters":` + bigMeta + `}`, status: 413, code: "payload_too_large", contain: []string{"filters too large"}},
		{name: "search k before vector", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[1,2,3,4,5,6,7,8,9],"k":0}`, status: 400, contain: []string{"invalid k"}},
		{name: "search group", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":5,"group_by":"tag","include_meta":true}`, status: 200, contain: []string{`"groups":[{"group":"a3","count":1,"hits":[{"id":"a"`}},
		{name: "search bad ef", method: "POST", path: "/v1/vector/docs/search", body: `{"vector":[0,1,0.5],"k":1,"ef":0}`, status: 400, code: "invalid_argument"},
		{name: "search GET", method: "GET", path: "/v1/vector/docs/search", status: 405, code: "method_not_allowed"},
		// Batches.
		{name: "upsert_batch", method: "POST", path: "/v1/vector/docs/upsert_batch", body: `{"items":[{"id":"p","vector":[1,1,0]},{"id":"` + longID + `","vector":[1,1,0]},{"id":"q","vector":[1,1]},{"id":"r","vector_b64":"AAA"},{"id":"s","vector":[1,1,1],"meta":` + bigMeta + `},{"id":"t","vector_b64":"` + b64(1, 2, 3) + `"}]}`, status: 200,
			contain: []string{`{"status":"upserted","id":"p"}`, `"error":{"error":"invalid_argument","message":"id too long"}`, `{"status":"error","id":"q","error":{"error":"dim_mismatch"`, `"id":"r","error":{"error":"invalid_argument"`, `"id":"s","error":{"error":"payload_too_large","message":"meta too large"}`, `{"status":"upserted","id":"t"}`}, writes: 2},
		{name: "upsert_batch empty", method: "POST", path: "/v1/vector/docs/upsert_batch", body: `{"items":[]}`, status: 400, contain: []string{"items required"}},
		{name: "upsert_batch missing", method: "POST", path: "/v1/vector/nope/upsert_batch", body: `{"items":[{"id":"p","vector":[1,1,0]}]}`, status: 404, code: "not_found"},
		{name: "upsert_batch all invalid", method: "POST", path: "/v1/vector/docs/upsert_batch", body: `{"items":[{"id":"p","vector":[1]}]}`, status: 200, contain: []string{"dim_mismatch"}},
		{name: "upsert_batch no items", method: "POST", path: "/v1/vector/docs/upsert_batch", body: `{}`, status: 422},
		{name: "delete_batch", method: "POST", path: "/v1/vector/docs/delete_batch", body: `{"ids":["p","nope","` + longID + `"]}`, status: 200,
			contain: []string{`{"status":"deleted","id":"p"}`, `{"status":"error","id":"nope","error":{"error":"not_found","message":"id not found"}}`, `"message":"id too long"`}, writes: 1},
		{name: "delete_batch empty", method: "POST", path: "/v1/vector/docs/delete_batch", body: `{"ids":[]}`, status: 400, contain: []string{"ids required"}},
		{name: "delete", method: "POST", path: "/v1/vector/docs/delete", body: `{"id":"t"}`, status: 200, contain: []string{`{"deleted":true}`}, writes: 1},
		{name: "delete missing", method: "POST", path: "/v1/vector/docs/delete", body: `{"id":"t"}`, status: 404, code: "not_found", contain: []string{"id not found"}},
		{name: "delete missing collection", method: "POST", path: "/v1/vector/nope/delete", body: `{"id":"t"}`, status: 404, code: "not_found", contain: []string{"collection or id not found"}},
		// Vacuum and drop.
		{name: "vacuum", method: "POST", path: "/v1/vector/docs/vacuum", status: 200, contain: []string{`"tombstones_removed"`}},
		{name: "vacuum missing", method: "POST", path: "/v1/vector/nope/vacuum", status: 404, code: "not_found"},
		{name: "drop", method: "DELETE", path: "/v1/vector/c2", status: 200, contain: []string{`{"deleted":true}`}, writes: 2},
		{name: "drop again", method: "DELETE", path: "/v1/vector/c2", status: 404, code: "not_found"},
	})
}

// TestVectorManifestFallback: a manifest key written through the state API
// lists a collection with zero counters and a detail note.
func TestVectorManifestFallback(t *testing.T) {
	in := servertest.Start(t, nil)
	in.MustStatus(200, "PUT", "/v1/state/vector:ghost:manifest", `{"value":{"collection":"ghost","dim":4,"metric":"cosine","created_at_ms":1,"updated_at_ms":2}}`)
	r := in.MustStatus(200, "GET", "/v1/vector/ghost", nil)
	if m := r.Map(t); m["notes"] != "using manifest fallback" || m["dim"] != float64(4) || m["count"] != nil {
		t.Fatalf("detail %s", r.Body)
	}
	r = in.MustStatus(200, "GET", "/v1/vector", nil)
	if !strings.Contains(string(r.Body), `"collection":"ghost","dim":4,"metric":"cosine","live_count":0`) {
		t.Fatalf("list %s", r.Body)
	}
}

// TestVectorEventsOverHTTP checks the event payloads the contract lists.
func TestVectorEventsOverHTTP(t *testing.T) {
	in := servertest.Start(t, nil)
	in.MustStatus(200, "POST", "/v1/vector/e", `{"dim":2,"metric":"dot"}`)
	in.MustStatus(200, "POST", "/v1/vector/e/upsert_batch", `{"items":[{"id":"a","vector":[3,4]},{"id":"b","vector":[1,0],"meta":{"k":1}}]}`)
	// Compact vectors go into the event as sent; others are re-formatted.
	in.MustStatus(200, "POST", "/v1/vector/e/upsert", `{"id":"c","vector":[1.50,2e0]}`)
	in.MustStatus(200, "POST", "/v1/vector/e/upsert", `{"id":"d","vector":[ 1.50 ,
		2e0 ]}`)
	in.MustStatus(200, "POST", "/v1/vector/e/update", `{"id":"d","vector":null,"meta":{"m":1}}`)
	in.MustStatus(200, "POST", "/v1/vector/e/update", `{"id":"d","vector":[3,4]}`)
	evs, _ := in.App.DB.ReadEvents(1, 20)
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Envelope[strings.Index(string(e.Envelope), `"type"`):]))
	}
	want := []string{
		`"type":"vector_collection_created","data":{"collection":"e","dim":2,"metric":"dot"}}`,
		`"type":"state_updated","data":{"key":"vector:e:manifest"`,
		`"type":"vector_upserted","data":{"collection":"e","id":"a","vector":[3,4],"meta":null}}`,
		`"type":"vector_upserted","data":{"collection":"e","id":"b","vector":[1,0],"meta":{"k":1}}}`,
		`"type":"vector_upserted","data":{"collection":"e","id":"c","vector":[1.50,2e0],"meta":null}}`,
		`"type":"vector_upserted","data":{"collection":"e","id":"d","vector":[1.5,2.0],"meta":null}}`,
		`"type":"vector_updated","data":{"collection":"e","id":"d","vector":[0.6,0.8],"meta":{"m":1}}}`,
		`"type":"vector_updated","data":{"collection":"e","id":"d","vector":[3,4],"meta":{"m":1}}}`,
	}
	if len(got) != len(want) {
		t.Fatalf("events %v", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("event %d: %s, want prefix %s", i, got[i], want[i])
		}
	}
	// get returns the normalised vector of a dot collection.
	r := in.MustStatus(200, "GET", "/v1/vector/e/get?id=a", nil)
	if !strings.Contains(string(r.Body), `"vector":[0.6,0.8]`) {
		t.Fatalf("get %s", r.Body)
	}
}

func TestVectorMetrics(t *testing.T) {
	in := servertest.Start(t, nil)
	in.MustStatus(200, "POST", "/v1/vector/m", `{"dim":2,"metric":"cosine"}`)
	in.MustStatus(200, "POST", "/v1/vector/m/upsert_batch", `{"items":[{"id":"a","vector":[1,0]},{"id":"b","vector":[0,1]},{"id":"c","vector":[1]}]}`)
	in.MustStatus(200, "POST", "/v1/vector/m/search", `{"vector":[1,0],"k":1}`)
	in.MustStatus(200, "POST", "/v1/vector/m/search", `{"vector":[1,0],"k":1,"filters":{"x":1}}`)
	body := string(in.MustStatus(200, "GET", "/v1/metrics", nil).Body)
	for _, want := range []string{
		"vector_ops_total 5", // create, two upserted items, two searches
		"state_put_total 1",  // the manifest
		`luma_vector_search_seconds_count{filtered="false",path="exact"} 1`,
		`luma_vector_search_seconds_count{filtered="true",path="empty"} 1`,
		"luma_vector_collections 1", "luma_vector_live 2", "luma_vector_segments 1", "luma_vector_tombstones 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestVectorAdminVacuumNeedsAdmin(t *testing.T) {
	in := servertest.Start(t, servertest.Config(t, "--api-key", "root"))
	in.MustStatus(200, "POST", "/v1/vector/c", `{"dim":2,"metric":"cosine"}`, "Authorization: Bearer root")
	in.MustStatus(401, "POST", "/v1/vector/c/vacuum", nil)
	in.MustStatus(200, "POST", "/v1/vector/c/vacuum", nil, "Authorization: Bearer root")
}

// TestVectorRestartHTTP: data written over HTTP survives a restart of a
// disk-backed server, searchable by its own vectors.
func TestVectorRestartHTTP(t *testing.T) {
	dir := t.TempDir()
	cfg := servertest.DiskConfig(t, dir)
	cfg.SegmentSize = 1024
	in := servertest.Start(t, cfg)
	in.MustStatus(200, "POST", "/v1/vector/r", `{"dim":8,"metric":"l2"}`)
	r := rand.New(rand.NewPCG(1, 2))
	vecs := make([][]float32, 1500)
	for s := 0; s < len(vecs); s += 250 {
		var items []map[string]any
		for i := s; i < s+250; i++ {
			v := make([]float32, 8)
			for j := range v {
				v[j] = float32(r.NormFloat64())
			}
			vecs[i] = v
			items = append(items, map[string]any{"id": fmt.Sprint(i), "vector": v, "meta": map[string]any{"i": i}})
		}
		in.MustStatus(200, "POST", "/v1/vector/r/upsert_batch", map[string]any{"items": items})
	}
	in.Close()
	in = servertest.Start(t, cfg)
	for i := 0; i < len(vecs); i += 37 {
		res := in.MustStatus(200, "POST", "/v1/vector/r/search", map[string]any{"vector": vecs[i], "k": 1, "include_meta": true})
		var out struct {
			Hits []struct {
				ID   string
				Meta map[string]int
			}
		}
		res.JSON(t, &out)
		if len(out.Hits) != 1 || out.Hits[0].ID != fmt.Sprint(i) || out.Hits[0].Meta["i"] != i {
			t.Fatalf("vector %d: %s", i, res.Body)
		}
	}
}

// TestGroupedSearchRoutes covers /search and /search/ingest (§4.7).
func TestGroupedSearchRoutes(t *testing.T) {
	in := servertest.Start(t, nil)
	ingest := func(id int, vec string, meta string) string {
		return fmt.Sprintf(`{"document":{"id":%d,"vector":%s,"content":"c%d","metadata":%s}}`, id, vec, id, meta)
	}
	run(t, in, []scenario{
		{name: "ingest", method: "POST", path: "/search/ingest", body: ingest(1, "[1,0]", `{"category":"x","group_id":7,"processed_at":1}`), status: 200},
		{name: "ingest 2", method: "POST", path: "/search/ingest", body: ingest(2, "[1,0.5]", `{"category":"x","group_id":7,"processed_at":2}`), status: 200},
		{name: "ingest 3", method: "POST", path: "/search/ingest", body: ingest(3, "[0,1]", `{}`), status: 200},
		{name: "ingest missing metadata", method: "POST", path: "/search/ingest", body: `{"document":{"id":4,"vector":[1,0],"content":"c"}}`, status: 422},
		{name: "ingest bad id", method: "POST", path: "/search/ingest", body: ingest(-1, "[1,0]", `{}`), status: 422},
		{name: "search", method: "POST", path: "/search", body: `{"query":"TEST_VEC:1,0"}`, status: 200,
			contain: []string{`"query":"TEST_VEC:1,0"`, `"top_k":10`, `"results":[{"score":1.0,"document":{"id":1,"content":"c1","metadata":{"processed_at":1,"category":"x","group_id":7}}}`}},
		{name: "search latest", method: "POST", path: "/search", body: `{"query":"TEST_VEC:1,0","filters":{"version_policy":"latest"},"top_k":1}`, status: 200, contain: []string{`"id":2`}},
		{name: "search group", method: "POST", path: "/search", body: `{"query":"TEST_VEC:1,0","group_by":"group_id","group_limit":0}`, status: 200, contain: []string{`"id":1`, `"id":3`}},
		{name: "search mock", method: "POST", path: "/search", body: `{"query":"hello world"}`, status: 200, contain: []string{`"results":[]`}},
		{name: "search top_k 0", method: "POST", path: "/search", body: `{"query":"q","top_k":0}`, status: 400, code: "invalid_argument", contain: []string{"top_k invalid"}},
		{name: "search top_k big", method: "POST", path: "/search", body: `{"query":"q","top_k":257}`, status: 400, contain: []string{"top_k invalid"}},
		{name: "search query too long", method: "POST", path: "/search", body: `{"query":"` + strings.Repeat("q", 1025) + `"}`, status: 400, contain: []string{"query too long"}},
		{name: "search missing query", method: "POST", path: "/search", body: `{}`, status: 422},
	})
	r := in.MustStatus(200, "POST", "/search/ingest", ingest(9, "[1,1]", `{}`))
	if len(r.Body) != 0 {
		t.Fatalf("ingest body %q, want empty", r.Body)
	}
}

func FuzzVectorSearchBody(f *testing.F) {
	in := servertest.Start(f, servertest.Config(f, "--max-json-mb", "0.01", "--max-k", "16"))
	in.MustStatus(200, "POST", "/v1/vector/f", `{"dim":3,"metric":"cosine"}`)
	in.MustStatus(200, "POST", "/v1/vector/f/upsert_batch", `{"items":[{"id":"a","vector":[1,0,0],"meta":{"n":1,"s":"x","t":[1,2]}},{"id":"b","vector":[0,1,0],"meta":{"n":2.5}},{"id":"c","vector":[0,0,1]}]}`)
	for _, s := range []string{
		`{"vector":[1,0,0],"k":2}`,
		`{"vector":[1,0,0],"k":2,"filters":{"n":{"$gte":1}},"include_meta":true}`,
		`{"vector":[1,0,0],"k":3,"filters":{"$or":[{"s":"x"},{"t":{"$in":[2]}}]},"group_by":"s","group_limit":2}`,
		`{"vector_b64":"AACAPwAAAAAAAAAA","k":1,"ef":5,"include_vector":true}`,
		`{"vector":[1,0],"k":1}`, `{"vector":[1,0,0],"k":0}`, `{"k":1}`, `[]`, `{"vector":[1,0,0],"k":1,"filters":{"n":{"$bad":1}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		before := in.App.DB.LastOffset()
		r := in.With(t).Do("POST", "/v1/vector/f/search", body)
		checkAnswer(t, in, before, r)
		if r.Status == 200 {
			var out struct {
				Hits []struct {
					ID    string   `json:"id"`
					Score *float64 `json:"score"`
				} `json:"hits"`
			}
			if err := json.Unmarshal(r.Body, &out); err != nil || out.Hits == nil {
				t.Fatalf("200 body %s: %v", r.Body, err)
			}
		}
	})
}

func FuzzVectorFilter(f *testing.F) {
	in := servertest.Start(f, servertest.Config(f, "--max-json-mb", "0.01"))
	in.MustStatus(200, "POST", "/v1/vector/f", `{"dim":2,"metric":"l2"}`)
	in.MustStatus(200, "POST", "/v1/vector/f/upsert_batch", `{"items":[{"id":"a","vector":[1,0],"meta":{"n":1,"s":"x","o":{"p":true}}},{"id":"b","vector":[0,1],"meta":[1]},{"id":"c","vector":[1,1],"meta":{"n":"1"}}]}`)
	for _, s := range []string{`{}`, `null`, `{"n":1}`, `{"n":{"$in":[1,"1"]}}`, `{"o.p":true}`, `{"$not":{"s":{"$exists":true}}}`, `{"$and":[]}`, `{"n":{"$lt":"2"}}`, `5`, `{"$or":[{"n":{"$ne":1}},{"s":{"$nin":["x"]}}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		before := in.App.DB.LastOffset()
		body := `{"vector":[0.5,0.5],"k":3,"filters":` + filter + `}`
		if !json.Valid([]byte(body)) {
			body = `{"vector":[0.5,0.5],"k":3,"filters":` + string(mustJSON(filter)) + `}`
		}
		checkAnswer(t, in, before, in.With(t).Do("POST", "/v1/vector/f/search", body))
	})
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
