package fs

import (
	"fmt"
	"strconv"
)

// Numbers written to ctl files: offsets, lengths and counts are plain
// decimals, no sign, at most maxCount. The bound keeps arithmetic on them
// from overflowing anywhere; each command then checks its numbers against
// what they mean (a chain's length, a pool's capacity) before it acts.

// maxCount bounds every number a command takes: no chain is anywhere near
// as long, and no pool holds as many buffers.
const maxCount = 1 << 40

// parseCount reads one number of a command.
func parseCount(w string) (int, error) {
	n, err := strconv.ParseUint(w, 10, 64)
	if err != nil || n > maxCount {
		return 0, fmt.Errorf("%w: %q is not a count (a decimal from 0 to %d)", errInvalid, w, uint64(maxCount))
	}
	return int(n), nil
}

// parseCounts reads the numbers of a command.
func parseCounts(words []string) ([]int, error) {
	args := make([]int, len(words))
	for i, w := range words {
		n, err := parseCount(w)
		if err != nil {
			return nil, err
		}
		args[i] = n
	}
	return args, nil
}
