//go:build race

package hnsw

// raceEnabled shrinks the test data under the race detector, which slows
// the distance loops about tenfold.
const raceEnabled = true
