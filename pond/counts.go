package pond

import "fmt"

// A pool's counts (min, max, grow_by) are numbers of buffers. None can
// mean more buffers than the arena's maximum holds, so each is bounded by
// the pool's capacity: then no count times the buffer size overflows, and
// no setting can ask the pool to carve more than the arena could give.

// classCapacity is the most buffers of size bytes an arena of arenaMax
// bytes holds.
func classCapacity(arenaMax int64, size int) int64 {
	return arenaMax / int64(max(size, 1))
}

// capacity is the most buffers the pool could ever hold.
func (c *Pool) capacity() int64 { return classCapacity(c.pond.arena.max, c.size) }

// checkCount refuses n, the value of the pool's setting what, unless it
// lies in lo..hi, with ErrInvalid naming the range.
func (c *Pool) checkCount(what string, n int, lo, hi int64) error {
	if int64(n) < lo || int64(n) > hi {
		return fmt.Errorf("pool %d: set %s %d (want %d..%d): %w", c.size, what, n, lo, hi, ErrInvalid)
	}
	return nil
}
