package chain

import "slices"

// Clone returns a new chain with the same bytes and the same layer stack,
// sharing every buffer by reference instead of copying.
// Whichever of the two later writes into a shared buffer first copies the
// part it uses into a buffer of its own, so neither sees the other's
// writes. The clone draws on the same pond and account with the same
// options and is the caller's to Free; clones may be used from different
// goroutines.
func (c *Chain) Clone() (*Chain, error) {
	if err := c.live("clone"); err != nil {
		return nil, err
	}
	nc := c.sibling()
	nc.segs = append(nc.segs, c.segs...)
	for i := range nc.segs {
		nc.segs[i].ref()
	}
	nc.layers = append(nc.layers[:0], c.layers...)
	for i := range nc.layers {
		if f := nc.layers[i].frags; f != nil {
			nc.layers[i].frags = slices.Clone(f)
		}
	}
	return nc, nil
}
