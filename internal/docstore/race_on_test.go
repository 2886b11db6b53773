//go:build race

package docstore

// raceEnabled shrinks the randomized tests under the race detector, which
// makes them an order of magnitude slower; the plain run covers the volume.
const raceEnabled = true
