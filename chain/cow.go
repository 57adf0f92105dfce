package chain

import "fmt"

// Copy-on-write: a chain writes only into buffers no other chain refers
// to. Before a write lands on a shared segment, the segment is copied into
// a buffer of the chain's own and the chain's reference to the original is
// dropped; the other holders keep it.

// reserveOwn takes a buffer for the private copy of each shared segment
// over chain bytes [a, b), in order, and notes which segment each copies.
// It is the operation's first reservation, so the copy of c.cows[k] is
// c.res[k]. The first segment's copy keeps its offset, so its headroom
// stays; the others start their buffers.
func (c *Chain) reserveOwn(a, b int) error {
	i, w := c.locate(a)
	for x := a - w; i < len(c.segs) && x < b; i++ {
		s := &c.segs[i]
		x += s.n
		if s.exclusive() {
			continue
		}
		if err := c.reserveOne(c.copyOff(i) + s.n); err != nil {
			return fmt.Errorf("copy shared %d-byte segment: %w", s.n, err)
		}
		c.cows = append(c.cows, i)
	}
	return nil
}

// copyOff is where the private copy of segment i starts in its buffer.
func (c *Chain) copyOff(i int) int {
	if i == 0 {
		return c.segs[0].off
	}
	return 0
}

// own carries out the copies reserveOwn planned. Each old reference is
// released: the other holders keep the original.
func (c *Chain) own() {
	for _, i := range c.cows {
		s := &c.segs[i]
		cp := bufSeg(c.take(), c.copyOff(i), s.n)
		copy(cp.bytes(), s.bytes())
		c.drop(s)
		*s = cp
	}
}
