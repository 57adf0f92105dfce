package chain

import "fmt"

// Append copies p to the end of the view, filling the tailroom of the last
// buffer first and then buffers from the pond (the first buffer of an
// empty chain keeps the chain's headroom free). The view must show the
// whole chain (ErrNarrowView) and the chain stay within MaxLen
// (ErrTooLong). p stays the caller's.
func (c *Chain) Append(p []byte) error {
	if err := c.live("append"); err != nil {
		return err
	}
	if err := c.growBack(len(c.layers)-1, 0, p); err != nil {
		return fmt.Errorf("append %d bytes: %w", len(p), err)
	}
	return nil
}

// Write is Append for io.Writer: it writes all of p or nothing.
func (c *Chain) Write(p []byte) (int, error) {
	if err := c.Append(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// AppendChain moves every segment of o (all of its bytes, whatever its
// view) to the end of c's view without copying, and frees o: on success
// the caller no longer owns o. Its layers are dropped; its buffers stay
// charged to the account that took them. On error o is untouched and
// still the caller's.
func (c *Chain) AppendChain(o *Chain) error {
	if err := c.live("append chain"); err != nil {
		return err
	}
	if err := c.joinable(o); err != nil {
		return fmt.Errorf("append chain: %w", err)
	}
	top, n := len(c.layers)-1, o.size()
	if err := c.canGrow(top, n); err != nil {
		return fmt.Errorf("append chain of %d bytes: %w", n, err)
	}
	c.absorb(o)
	c.grownBack(top, n)
	return nil
}

// joinable checks that o may be moved into c.
func (c *Chain) joinable(o *Chain) error {
	switch {
	case o == nil || o.p == nil:
		return fmt.Errorf("%w: nil or freed chain", ErrInvalid)
	case o == c:
		return fmt.Errorf("%w: a chain cannot absorb itself", ErrInvalid)
	case o.p != c.p:
		return fmt.Errorf("%w: chain of another pond", ErrInvalid)
	}
	return nil
}

// absorb moves o's segments to the end of c's and recycles o. A segment
// that continues c's last one in the same buffer joins it, which undoes a
// Split.
func (c *Chain) absorb(o *Chain) {
	for _, s := range o.segs {
		c.push(s)
	}
	o.recycle()
}

// growBack adds zeros zero bytes and then src at the end of the chain
// through layer k.
func (c *Chain) growBack(k, zeros int, src []byte) error {
	n := zeros + len(src)
	if n == 0 {
		return nil
	}
	if err := c.canGrow(k, n); err != nil {
		return err
	}
	if err := c.reserveBack(n); err != nil {
		c.settle()
		return err
	}
	c.fillBack(source{zeros: zeros, p: src})
	c.settle()
	c.grownBack(k, n)
	return nil
}

// reserveBack takes the buffers that n more bytes at the end need beyond
// the tailroom, plus the headroom when the chain has no buffer yet.
func (c *Chain) reserveBack(n int) error {
	need := n - c.room()
	if need <= 0 {
		return nil
	}
	if len(c.segs) == 0 {
		need += c.opt.Headroom
	}
	return c.reserveList(need)
}

// Tailroom is how many bytes are free after the view's last byte in its
// buffer: Append of that many takes no buffer. It is 0 when the view does
// not end the chain, when the buffer is shared, and for an empty chain.
func (c *Chain) Tailroom() int {
	if c.p == nil {
		return 0
	}
	if t := c.top(); t.off+t.n != c.size() {
		return 0
	}
	return c.room()
}

// room is the free space after the chain's last byte that it may fill: in
// a buffer no other chain refers to.
func (c *Chain) room() int {
	k := len(c.segs) - 1
	if k < 0 || !c.segs[k].exclusive() {
		return 0
	}
	s := &c.segs[k]
	return len(s.mem) - s.off - s.n
}

// fillBack writes src at the end of the chain: into the tailroom, then
// into the reserved buffers. The segments change; the layers do not.
func (c *Chain) fillBack(src source) {
	if t := min(c.room(), src.left()); t > 0 {
		s := &c.segs[len(c.segs)-1]
		src.fill(s.mem[s.off+s.n : s.off+s.n+t])
		s.n += t
	}
	first := len(c.segs) == 0
	for src.left() > 0 {
		b := c.take()
		off := 0
		if first {
			// A pond of buffers no larger than the headroom still gets a
			// byte of data into the first one, so no segment is empty.
			off, first = min(c.opt.Headroom, b.Size()-1), false
		}
		s := bufSeg(b, off, min(b.Size()-off, src.left()))
		src.fill(s.bytes())
		c.segs = append(c.segs, s)
	}
}

// source is the bytes an operation writes: zeros, then p.
type source struct {
	zeros int
	p     []byte
}

func (s *source) left() int { return s.zeros + len(s.p) }

// fill writes the next len(dst) bytes into dst.
func (s *source) fill(dst []byte) {
	z := min(s.zeros, len(dst))
	clear(dst[:z])
	s.zeros -= z
	s.p = s.p[copy(dst[z:], s.p):]
}
