//go:build !amd64

package hnsw

// prefetch is a no-op where no assembly hint is provided.
func prefetch(*float32, int) {}
