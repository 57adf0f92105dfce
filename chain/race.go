//go:build race

package chain

// raceEnabled is set in race builds, where chain structs are never
// recycled: a second Free then always finds its chain freed and panics,
// even when a pooled build would have handed the struct to a new chain
// meanwhile. The test suite runs under the race detector, so a double Free
// anywhere in it is caught.
const raceEnabled = true
