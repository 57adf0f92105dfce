package chain

import "fmt"

// layer is one view of the chain. Layers nest: each lies within the one
// beneath it, and layer 0 is always the whole chain.
type layer struct {
	off, n int // where the layer lies in the whole chain
	proto  string
	frags  []int // lengths of the fragments Concat joined under this layer
}

// LayerInfo describes one layer of a chain.
type LayerInfo struct {
	Offset int    // where the layer starts in the layer beneath (0 for layer 0)
	Length int    // the layer's length
	Proto  string // the protocol its bytes are, for decoded frames; may be empty
}

func (c *Chain) top() *layer { return &c.layers[len(c.layers)-1] }

// Depth is the number of pushed layers: 0 for a bare chain, whose view is
// layer 0.
func (c *Chain) Depth() int {
	if c.p == nil {
		return 0
	}
	return len(c.layers) - 1
}

// Push makes bytes off..off+length of the view the new view, named proto.
// Reads, writes and edits then act on it until Pop.
func (c *Chain) Push(off, length int, proto string) error {
	if err := c.live("push layer"); err != nil {
		return err
	}
	t := c.top()
	switch {
	case off < 0 || length < 0 || off > t.n || length > t.n-off:
		return fmt.Errorf("push layer %d+%d on a view of %d bytes: %w", off, length, t.n, ErrRange)
	case len(c.layers) > MaxDepth:
		return fmt.Errorf("push layer: %w: already %d layers deep", ErrRange, MaxDepth)
	}
	c.layers = append(c.layers, layer{off: t.off + off, n: length, proto: proto})
	return nil
}

// Pop drops the top layer, so the view is the layer beneath again. It
// fails with ErrNoLayer on a bare chain.
func (c *Chain) Pop() error {
	if err := c.live("pop layer"); err != nil {
		return err
	}
	k := len(c.layers) - 1
	if k == 0 {
		return fmt.Errorf("pop layer: %w: the chain is bare", ErrNoLayer)
	}
	c.layers[k] = layer{}
	c.layers = c.layers[:k]
	return nil
}

// Layer describes layer k, 0 <= k <= Depth().
func (c *Chain) Layer(k int) (LayerInfo, error) {
	if err := c.checkLayer("describe", k); err != nil {
		return LayerInfo{}, err
	}
	l := &c.layers[k]
	info := LayerInfo{Length: l.n, Proto: l.proto}
	if k > 0 {
		info.Offset = l.off - c.layers[k-1].off
	}
	return info, nil
}

// SetProto names the protocol of the view's bytes (layer 0's, for a bare
// chain).
func (c *Chain) SetProto(proto string) error {
	if err := c.live("set proto"); err != nil {
		return err
	}
	c.top().proto = proto
	return nil
}

func (c *Chain) checkLayer(op string, k int) error {
	if err := c.live(op); err != nil {
		return err
	}
	if k < 0 || k >= len(c.layers) {
		return fmt.Errorf("%s layer %d of %d: %w", op, k, len(c.layers)-1, ErrNoLayer)
	}
	return nil
}

// canGrow applies the rule for growing through layer k by n bytes: layer
// k must show the whole chain, so that new bytes land at an end of every
// layer rather than among bytes a narrower view hides, and the chain must
// stay within MaxLen.
func (c *Chain) canGrow(k, n int) error {
	if l := &c.layers[k]; l.off == 0 && l.n == c.size() && n <= c.opt.MaxLen-l.n {
		return nil
	}
	return c.growErr(k, n)
}

// growErr says why canGrow refused.
func (c *Chain) growErr(k, n int) error {
	if l := &c.layers[k]; l.off != 0 || l.n != c.size() {
		return fmt.Errorf("%w: layer %d shows %d bytes at %d of %d", ErrNarrowView, k, l.n, l.off, c.size())
	}
	return fmt.Errorf("%w: %d + %d bytes (max %d)", ErrTooLong, c.size(), n, c.opt.MaxLen)
}

// grownBack records n bytes added at the end of the chain through layer k:
// layers 0..k (all whole, by canGrow) take them; layers above keep their
// place.
func (c *Chain) grownBack(k, n int) {
	for i := range c.layers[:k+1] {
		l := &c.layers[i]
		l.n += n
		if len(l.frags) > 0 {
			l.frags[len(l.frags)-1] += n
		}
	}
}

// grownFront records n bytes added in front of the chain through the top
// layer; every layer is whole (by canGrow) and takes them.
func (c *Chain) grownFront(n int) {
	for i := range c.layers {
		l := &c.layers[i]
		l.n += n
		if len(l.frags) > 0 {
			l.frags[0] += n
		}
	}
}

// cutLayers records that bytes [a, a+k) left the chain: every layer and
// fragment loses the part of them it held, and whatever lay after them
// moves down.
func (c *Chain) cutLayers(a, k int) {
	for i := range c.layers {
		l := &c.layers[i]
		start, end := moved(l.off, a, k), moved(l.off+l.n, a, k)
		lo, at := start, l.off
		for j, n := range l.frags {
			hi := moved(at+n, a, k)
			l.frags[j] = hi - lo
			at += n
			lo = hi
		}
		l.off, l.n = start, end-start
	}
}

// moved is where chain offset x lies once bytes [a, a+k) are gone.
func moved(x, a, k int) int {
	switch {
	case x <= a:
		return x
	case x <= a+k:
		return a
	}
	return x - k
}
