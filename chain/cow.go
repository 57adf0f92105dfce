package chain

import (
	"fmt"
	"slices"
)

// Copy-on-write: a chain writes only into buffers no other chain refers
// to. Before a write lands on a shared segment (or lent memory), the
// segment is copied into buffers of the chain's own and the chain's
// reference to the original is dropped; the other holders keep it.

// reserveOwn takes the buffers that private copies of the shared segments
// over chain bytes [a, b) need, and plans which copies which. A pond
// segment's copy keeps its offset when it is the first (its headroom
// stays) and starts its buffer otherwise; lent memory is copied into as
// many buffers as it takes.
func (c *Chain) reserveOwn(a, b int) error {
	i, w := c.locate(a)
	for x := a - w; i < len(c.segs) && x < b; i++ {
		s := &c.segs[i]
		x += s.n
		if s.exclusive() {
			continue
		}
		from := len(c.res)
		var err error
		if s.lent != nil {
			err = c.reserveList(s.n)
		} else {
			err = c.reserveOne(c.copyOff(i) + s.n)
		}
		if err != nil {
			return fmt.Errorf("copy shared %d-byte segment: %w", s.n, err)
		}
		c.cows = append(c.cows, cowPlan{seg: i, from: from, to: len(c.res)})
	}
	return nil
}

// copyOff is where the private copy of segment i starts in its buffer.
func (c *Chain) copyOff(i int) int {
	if i == 0 && c.segs[0].lent == nil {
		return c.segs[0].off
	}
	return 0
}

// own carries out the plans of reserveOwn, last first, so that a lent
// segment becoming several does not move the segments planned before it.
// Each old reference is released: the other holders keep the original.
func (c *Chain) own() {
	for k := len(c.cows) - 1; k >= 0; k-- {
		p := c.cows[k]
		src := c.segs[p.seg].bytes()
		var buf [inlineRes]seg
		add := buf[:0]
		for j, b := range c.res[p.from:p.to] {
			off := 0
			if j == 0 {
				off = c.copyOff(p.seg)
			}
			s := bufSeg(b, off, min(b.Size()-off, len(src)))
			src = src[copy(s.bytes(), src):]
			add = append(add, s)
		}
		c.drop(&c.segs[p.seg])
		c.segs = slices.Replace(c.segs, p.seg, p.seg+1, add...)
		c.next = max(c.next, p.to)
	}
}
