package chain

import "github.com/pondfs/pondfs/pond"

// Segment describes one run of the view's bytes, as the chain's segments
// file shows it.
type Segment struct {
	BufSize     int   // size of the pond buffer
	ArenaOffset int64 // arena offset of the run's first byte
	Length      int   // bytes in the run
	Refs        int   // references to the buffer; > 1 is shared
}

// runs calls f with each segment of the view and the part of its memory
// the view shows, mem[at:at+n], in order.
func (c *Chain) runs(f func(s *seg, at, n int)) {
	t := c.top()
	i, w := c.locate(t.off)
	for left := t.n; left > 0; i++ {
		s := &c.segs[i]
		n := min(s.n-w, left)
		f(s, s.off+w, n)
		left -= n
		w = 0
	}
}

// Segments appends a description of each run of the view to dst.
func (c *Chain) Segments(dst []Segment) []Segment {
	if c.p == nil {
		return dst
	}
	c.runs(func(s *seg, at, n int) {
		dst = append(dst, Segment{BufSize: s.buf.Size(), ArenaOffset: s.buf.Offset() + int64(at), Length: n, Refs: s.buf.Refs()})
	})
	return dst
}

// Buffers appends to dst every pond buffer the chain holds a reference
// to, in all its layers and headroom, in chain order (a buffer split into
// several segments is listed for each). They are borrowed: valid while the
// chain holds them, and not to be Put.
func (c *Chain) Buffers(dst []pond.Buf) []pond.Buf {
	for i := range c.segs {
		if c.segs[i].buf.Valid() {
			dst = append(dst, c.segs[i].buf)
		}
	}
	return dst
}

// NumSegments is how many runs the view is made of.
func (c *Chain) NumSegments() int {
	n := 0
	if c.p != nil {
		c.runs(func(*seg, int, int) { n++ })
	}
	return n
}

// Iovecs appends the view's runs to dst, for writev(2). The slices borrow
// the chain's buffers: they are valid until the chain next changes or is
// freed, and are only to be read, since other chains may share them.
func (c *Chain) Iovecs(dst [][]byte) [][]byte {
	if c.p == nil {
		return dst
	}
	c.runs(func(s *seg, at, n int) { dst = append(dst, s.mem[at:at+n:at+n]) })
	return dst
}
