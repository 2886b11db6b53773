package server

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/luma-db/luma/internal/config"
)

// TestVectorOptionsThreads: INDEX_BUILD_THREADS and SEARCH_THREADS reach
// the vector store, 0 meaning the CPUs Go schedules on, and a bad value
// stops start-up naming the setting.
func TestVectorOptionsThreads(t *testing.T) {
	load := func(env map[string]string) (*config.Config, error) {
		return config.Load([]string{"--memory"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}
	cfg, err := load(map[string]string{"INDEX_BUILD_THREADS": "3", "SEARCH_THREADS": "5"})
	if err != nil {
		t.Fatal(err)
	}
	if o := VectorOptions(cfg, nil, nil, nil); o.BuildThreads != 3 || o.SearchThreads != 5 {
		t.Fatalf("BuildThreads %d, SearchThreads %d; want 3, 5", o.BuildThreads, o.SearchThreads)
	}
	cfg, err = load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o := VectorOptions(cfg, nil, nil, nil); o.BuildThreads != runtime.GOMAXPROCS(0) {
		t.Fatalf("default BuildThreads %d, want GOMAXPROCS %d", o.BuildThreads, runtime.GOMAXPROCS(0))
	}
	_, err = load(map[string]string{"INDEX_BUILD_THREADS": "-1"})
	var ce *config.Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "INDEX_BUILD_THREADS") {
		t.Fatalf("INDEX_BUILD_THREADS=-1: %v", err)
	}
}
