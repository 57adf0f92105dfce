package chain

import (
	"slices"

	"github.com/pondfs/pondfs/pond"
)

// seg is one run of the chain's bytes: n bytes at off in buf, whose whole
// memory is mem. The chain holds one reference to the buffer per segment.
type seg struct {
	mem []byte // buf.Bytes(), kept so that reading a run costs no lookup
	buf pond.Buf
	off int
	n   int
}

func bufSeg(b pond.Buf, off, n int) seg {
	return seg{mem: b.Bytes(), buf: b, off: off, n: n}
}

// bytes borrows the segment's run.
func (s *seg) bytes() []byte { return s.mem[s.off : s.off+s.n : s.off+s.n] }

// exclusive reports whether the chain may write anywhere in the segment's
// buffer, its free head and tail included: only when this segment holds
// the buffer's only reference. The count is read atomically, so a clone
// that drops its reference on another goroutine is seen once it has.
func (s *seg) exclusive() bool { return s.buf.Refs() == 1 }

// ref adds a reference for a second segment over the same buffer.
func (s *seg) ref() { s.buf.Ref() }

// adjoins reports whether t continues s in the same memory, so the two
// can be one segment.
func (s *seg) adjoins(t *seg) bool {
	return s.buf == t.buf && s.off+s.n == t.off
}

// drop releases the chain's reference held by s.
func (c *Chain) drop(s *seg) { c.p.Put(s.buf) }

// locate finds the segment holding chain offset x and x's offset in it;
// for x at the end it returns len(c.segs), 0.
func (c *Chain) locate(x int) (int, int) {
	for i := range c.segs {
		if x < c.segs[i].n {
			return i, x
		}
		x -= c.segs[i].n
	}
	return len(c.segs), x
}

// push appends s to the segments, joining it to the last one when it
// continues it (the join gives back the reference s carried).
func (c *Chain) push(s seg) {
	if k := len(c.segs) - 1; k >= 0 && c.segs[k].adjoins(&s) {
		c.segs[k].n += s.n
		c.drop(&s)
		return
	}
	c.segs = append(c.segs, s)
}

// cut takes bytes [a, b) out of the segments, a < b. The runs cut go to
// into, in order, when it is not nil (a run that shares its buffer with a
// segment staying behind takes a reference of its own); otherwise their
// references are released. Layers are the caller's business.
func (c *Chain) cut(a, b int, into *Chain) {
	i, w := c.locate(a)
	k := b - a
	if w > 0 {
		s := &c.segs[i]
		if w+k < s.n {
			c.cutInside(i, w, k, into)
			return
		}
		if into != nil {
			into.push(part(s, w, s.n-w))
		}
		k -= s.n - w
		s.n = w
		i++
	}
	j := i
	for ; j < len(c.segs) && c.segs[j].n <= k; j++ {
		k -= c.segs[j].n
		if into != nil {
			into.push(c.segs[j])
		} else {
			c.drop(&c.segs[j])
		}
	}
	if k > 0 {
		s := &c.segs[j]
		if into != nil {
			into.push(part(s, 0, k))
		}
		s.off += k
		s.n -= k
	}
	c.segs = slices.Delete(c.segs, i, j)
}

// cutInside cuts k bytes at w from the middle of segment i, which leaves
// two segments over its buffer.
func (c *Chain) cutInside(i, w, k int, into *Chain) {
	s := &c.segs[i]
	if into != nil {
		into.push(part(s, w, k))
	}
	right := part(s, w+k, s.n-w-k)
	s.n = w
	c.segs = slices.Insert(c.segs, i+1, right)
}

// part is a new reference to n bytes at w within s.
func part(s *seg, w, n int) seg {
	p := *s
	p.off += w
	p.n = n
	p.ref()
	return p
}

// copyOut copies chain bytes from offset x into dst and returns how many.
func (c *Chain) copyOut(dst []byte, x int) int {
	i, w := c.locate(x)
	n := 0
	for ; i < len(c.segs) && n < len(dst); i++ {
		n += copy(dst[n:], c.segs[i].bytes()[w:])
		w = 0
	}
	return n
}

// copyIn copies src over chain bytes from offset x on; every segment it
// touches must be exclusive.
func (c *Chain) copyIn(x int, src []byte) {
	i, w := c.locate(x)
	for ; len(src) > 0; i++ {
		k := copy(c.segs[i].bytes()[w:], src)
		src = src[k:]
		w = 0
	}
}
