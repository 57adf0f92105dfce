package chain

import (
	"fmt"
	"slices"
)

// Concat moves every byte of each chain in others to the end of c without
// copying (as AppendChain does) and pushes a new layer named proto over
// the whole chain, in which c's former bytes and each other chain's stay
// distinguishable as fragments (see Fragments) until SplitFragments takes
// them apart again. On success the caller no longer owns the chains in
// others; on error nothing changed and they stay the caller's. The view
// must show the whole chain and the result stay within MaxLen.
func (c *Chain) Concat(proto string, others ...*Chain) error {
	if err := c.live("concat"); err != nil {
		return err
	}
	total, err := c.concatLen(others)
	if err != nil {
		return fmt.Errorf("concat %d chains: %w", len(others), err)
	}
	top := len(c.layers) - 1
	if err := c.canGrow(top, total); err != nil {
		return fmt.Errorf("concat %d chains of %d bytes: %w", len(others), total, err)
	}
	if top >= MaxDepth {
		return fmt.Errorf("concat: %w: already %d layers deep", ErrRange, MaxDepth)
	}
	frags := make([]int, 0, 1+len(others))
	frags = append(frags, c.size())
	for _, o := range others {
		frags = append(frags, o.size())
		c.absorb(o)
	}
	c.grownBack(top, total)
	c.layers = append(c.layers, layer{n: c.size(), proto: proto, frags: frags})
	return nil
}

// concatLen checks the chains Concat is to absorb and sums their lengths.
func (c *Chain) concatLen(others []*Chain) (int, error) {
	total := 0
	for i, o := range others {
		if err := c.joinable(o); err != nil {
			return 0, err
		}
		for _, p := range others[:i] {
			if p == o {
				return 0, fmt.Errorf("%w: chain %d given twice", ErrInvalid, i)
			}
		}
		total += o.size()
	}
	return total, nil
}

// Fragments appends to dst the lengths of layer k's fragments, in order;
// it appends nothing for a layer Concat did not make. Edits keep the
// fragments in step: bytes trimmed leave the fragments that held them,
// bytes added at an end join the fragment at that end.
func (c *Chain) Fragments(k int, dst []int) ([]int, error) {
	if err := c.checkLayer("fragments of", k); err != nil {
		return dst, err
	}
	return append(dst, c.layers[k].frags...), nil
}

// SplitFragments takes the fragments of the top layer, which Concat made,
// apart again: it pops that layer, keeps the first fragment's bytes (and
// any outside the layer) in c, and moves each other fragment without
// copying to a new bare chain, appended to dst in order. The caller owns
// (and frees) the chains returned. It fails with ErrNoLayer when the top
// layer has no fragments.
func (c *Chain) SplitFragments(dst []*Chain) ([]*Chain, error) {
	if err := c.live("split fragments"); err != nil {
		return dst, err
	}
	t := c.top()
	if len(t.frags) == 0 {
		return dst, fmt.Errorf("split fragments: %w: the top layer has no fragments", ErrNoLayer)
	}
	frags, at := t.frags, t.off+t.n
	c.layers[len(c.layers)-1] = layer{}
	c.layers = c.layers[:len(c.layers)-1]
	// Moving the last fragment first keeps the earlier ones in place.
	first := len(dst)
	for j := len(frags) - 1; j > 0; j-- {
		at -= frags[j]
		nc := c.sibling()
		c.moveTo(nc, at, frags[j])
		dst = append(dst, nc)
	}
	slices.Reverse(dst[first:])
	return dst, nil
}
