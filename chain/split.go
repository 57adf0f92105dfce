package chain

import "fmt"

// Split moves bytes n.. of the view to a new chain, without copying: a
// buffer that straddles offset n is shared by both chains (each writes to
// it only after copying it). Every layer beneath the view loses the bytes
// moved. The new chain is bare, draws on the same pond and account with
// the same options, and is the caller's to Free.
func (c *Chain) Split(n int) (*Chain, error) {
	if err := c.live("split"); err != nil {
		return nil, err
	}
	t := c.top()
	if n < 0 || n > t.n {
		return nil, fmt.Errorf("split %d-byte view at %d: %w", t.n, n, ErrRange)
	}
	nc := c.sibling()
	c.moveTo(nc, t.off+n, t.n-n)
	return nc, nil
}

// moveTo moves chain bytes [a, a+k) to the end of the empty chain nc.
func (c *Chain) moveTo(nc *Chain, a, k int) {
	if k == 0 {
		return
	}
	c.cut(a, a+k, nc)
	nc.layers[0].n = k
	c.cutLayers(a, k)
}
