package chain

import (
	"fmt"
	"slices"
)

// Prepend puts n zero bytes in front of the view: in the headroom of the
// first buffer when it has n free bytes there and no other chain shares
// it (as sk_buff's skb_push), else in new buffers in front, filled from
// their end so that the chain's headroom is free again for the next
// header. Growth rules are as for Append.
func (c *Chain) Prepend(n int) error {
	if err := c.live("prepend"); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("prepend %d bytes: %w", n, ErrRange)
	}
	if n == 0 {
		return nil
	}
	if err := c.canGrow(len(c.layers)-1, n); err != nil {
		return fmt.Errorf("prepend %d bytes: %w", n, err)
	}
	if c.front() >= n {
		s := &c.segs[0]
		s.off -= n
		s.n += n
		clear(s.mem[s.off : s.off+n])
	} else if err := c.prependBuffers(n); err != nil {
		return fmt.Errorf("prepend %d bytes: %w", n, err)
	}
	c.grownFront(n)
	return nil
}

// prependBuffers puts n zero bytes in front of the chain in new buffers.
func (c *Chain) prependBuffers(n int) error {
	if err := c.reserveList(n + c.opt.Headroom); err != nil {
		c.settle()
		return err
	}
	// The last buffers take the bytes in full, the first one what is left
	// at its end; its front is the new headroom.
	var front [inlineRes]seg
	add := front[:0]
	for i := len(c.res) - 1; i >= 0 && n > 0; i-- {
		b := c.res[i]
		k := min(n, b.Size())
		n -= k
		s := bufSeg(b, b.Size()-k, k)
		clear(s.bytes())
		add = append(add, s)
	}
	slices.Reverse(add)
	c.segs = slices.Insert(c.segs, 0, add...)
	// Buffers the bytes did not reach (the first ones) go back.
	for _, b := range c.res[:len(c.res)-len(add)] {
		c.p.Put(b)
	}
	c.next = len(c.res)
	c.settle()
	return nil
}

// front is the free space before the chain's first byte that it may fill.
func (c *Chain) front() int {
	if len(c.segs) == 0 || !c.segs[0].exclusive() {
		return 0
	}
	return c.segs[0].off
}

// Headroom is how many bytes are free before the view's first byte in its
// buffer: Prepend of that many takes no buffer. It is 0 when the view does
// not start the chain (the bytes before it are hidden, not free), when the
// buffer is shared, and for an empty chain.
func (c *Chain) Headroom() int {
	if c.p == nil || c.top().off != 0 {
		return 0
	}
	return c.front()
}
