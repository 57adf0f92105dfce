package chain

import (
	"fmt"
	"slices"
)

// Pullup makes the first n bytes of the view contiguous in one buffer, so
// that a header can be parsed from one slice (see Iovecs); the bytes do
// not change. When the buffer holding the view's first byte is the
// chain's alone and has room after its segment, the following bytes are
// copied into it; otherwise the n bytes are copied into a new buffer
// (keeping the headroom when the view starts the chain). n may not exceed
// the largest buffer.
func (c *Chain) Pullup(n int) error {
	if err := c.live("pullup"); err != nil {
		return err
	}
	t := c.top()
	if n < 0 || n > t.n || n > c.p.MaxBuf() {
		return fmt.Errorf("pullup %d bytes of %d (largest buffer %d): %w", n, t.n, c.p.MaxBuf(), ErrRange)
	}
	i, w := c.locate(t.off)
	if n == 0 || c.segs[i].n-w >= n {
		return nil
	}
	if s := &c.segs[i]; s.exclusive() && len(s.mem)-s.off-w >= n {
		c.pullInto(i, n-(s.n-w))
		return nil
	}
	if err := c.pullCopy(t.off, n); err != nil {
		return fmt.Errorf("pullup %d bytes: %w", n, err)
	}
	return nil
}

// pullInto moves the next m bytes after segment i into the free space that
// follows it in its buffer.
func (c *Chain) pullInto(i, m int) {
	s := &c.segs[i]
	end := s.off + s.n
	at := 0
	for _, t := range c.segs[:i+1] {
		at += t.n
	}
	c.copyOut(s.mem[end:end+m], at)
	c.cut(at, at+m, nil)
	c.segs[i].n += m
}

// pullCopy replaces chain bytes [a, a+n) by a copy in one new buffer.
func (c *Chain) pullCopy(a, n int) error {
	hr := 0
	if a == 0 && n+c.opt.Headroom <= c.p.MaxBuf() {
		hr = c.opt.Headroom
	}
	if err := c.reserveOne(hr + n); err != nil {
		c.settle()
		return err
	}
	s := bufSeg(c.take(), hr, n)
	c.settle()
	c.copyOut(s.bytes(), a)
	c.cut(a, a+n, nil)
	i, _ := c.locate(a)
	c.segs = slices.Insert(c.segs, i, s)
	return nil
}
