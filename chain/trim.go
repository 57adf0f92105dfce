package chain

import "fmt"

// TrimFront drops the first n bytes of the view from the chain; every
// layer beneath loses them too. Buffers no longer referenced go back to
// the pond.
func (c *Chain) TrimFront(n int) error {
	if err := c.live("trim front"); err != nil {
		return err
	}
	t := c.top()
	if n < 0 || n > t.n {
		return fmt.Errorf("trim %d bytes off the front of %d: %w", n, t.n, ErrRange)
	}
	c.remove(t.off, n)
	return nil
}

// TrimBack drops the last n bytes of the view from the chain, like
// TrimFront.
func (c *Chain) TrimBack(n int) error {
	if err := c.live("trim back"); err != nil {
		return err
	}
	t := c.top()
	if n < 0 || n > t.n {
		return fmt.Errorf("trim %d bytes off the back of %d: %w", n, t.n, ErrRange)
	}
	c.remove(t.off+t.n-n, n)
	return nil
}

// Truncate makes the view n bytes long: it drops bytes from its end, or
// appends zeros under the growth rules of Append.
func (c *Chain) Truncate(n int) error {
	if err := c.live("truncate"); err != nil {
		return err
	}
	t := c.top()
	switch {
	case n < 0:
		return fmt.Errorf("truncate to %d bytes: %w", n, ErrRange)
	case n <= t.n:
		c.remove(t.off+n, t.n-n)
	default:
		if err := c.growBack(len(c.layers)-1, n-t.n, nil); err != nil {
			return fmt.Errorf("truncate %d bytes up to %d: %w", t.n, n, err)
		}
	}
	return nil
}

// remove drops chain bytes [a, a+k) from the segments and the layers.
func (c *Chain) remove(a, k int) {
	if k == 0 {
		return
	}
	c.cut(a, a+k, nil)
	c.cutLayers(a, k)
}
