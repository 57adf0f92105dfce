//go:build !race

package chain

// raceEnabled is false in ordinary builds, which recycle chain structs;
// see race.go.
const raceEnabled = false
