package chain

import (
	"fmt"

	"github.com/pondfs/pondfs/pond"
)

// grant is what AppendSpace handed out and Commit may append.
type grant struct {
	n     int      // bytes handed out; 0 when none
	spare bool     // in c.spare, not after the last segment
	buf   pond.Buf // otherwise the last segment's buffer,
	end   int      // and where in it that segment ended
}

// AppendSpace hands out n bytes of room at the end of the view for the
// caller to fill (by read(2) into it, say) before Commit appends them: the
// tailroom of the last buffer when it holds n, else a new buffer (with
// the headroom when the chain is empty). The slice is the chain's; it
// stays valid until Commit or any other change to the chain, and Commit
// must come before any other change (it fails with ErrRange otherwise).
// n may not exceed the largest buffer. Growth rules are as for Append.
func (c *Chain) AppendSpace(n int) ([]byte, error) {
	if err := c.live("append space"); err != nil {
		return nil, err
	}
	if n < 0 || n > c.p.MaxBuf() {
		return nil, fmt.Errorf("append space of %d bytes (largest buffer %d): %w", n, c.p.MaxBuf(), ErrRange)
	}
	if err := c.canGrow(len(c.layers)-1, n); err != nil {
		return nil, fmt.Errorf("append space of %d bytes: %w", n, err)
	}
	c.dropSpare()
	if n == 0 {
		return nil, nil
	}
	if c.room() >= n {
		s := &c.segs[len(c.segs)-1]
		end := s.off + s.n
		c.grant = grant{n: n, buf: s.buf, end: end}
		return s.mem[end : end+n : end+n], nil
	}
	hr := 0
	if len(c.segs) == 0 {
		hr = min(c.opt.Headroom, c.p.MaxBuf()-n)
	}
	if err := c.reserveOne(n + hr); err != nil {
		c.settle()
		return nil, fmt.Errorf("append space of %d bytes: %w", n, err)
	}
	b := c.take()
	c.settle()
	c.spare = bufSeg(b, hr, 0)
	c.grant = grant{n: n, spare: true}
	return b.Bytes()[hr : hr+n : hr+n], nil
}

// Commit appends the first n bytes of the space AppendSpace handed out;
// Commit(0) gives the space back.
func (c *Chain) Commit(n int) error {
	if err := c.live("commit"); err != nil {
		return err
	}
	g, top := c.grant, len(c.layers)-1
	if n < 0 || n > g.n {
		return fmt.Errorf("commit %d bytes of %d handed out: %w", n, g.n, ErrRange)
	}
	if n == 0 {
		c.dropSpare()
		return nil
	}
	if err := c.canGrow(top, n); err != nil {
		return fmt.Errorf("commit %d bytes: %w", n, err)
	}
	if g.spare {
		s := c.spare
		s.n = n
		c.segs = append(c.segs, s)
		c.spare = seg{}
	} else {
		k := len(c.segs) - 1
		if k < 0 || c.segs[k].buf != g.buf || c.segs[k].off+c.segs[k].n != g.end || !c.segs[k].exclusive() {
			return fmt.Errorf("commit %d bytes: %w: the chain changed since AppendSpace", n, ErrRange)
		}
		c.segs[k].n += n
	}
	c.grant = grant{}
	c.grownBack(top, n)
	return nil
}

// dropSpare gives back the buffer and forgets the room AppendSpace handed
// out and nobody committed.
func (c *Chain) dropSpare() {
	if c.spare.buf.Valid() {
		c.p.Put(c.spare.buf)
		c.spare = seg{}
	}
	if c.grant.n != 0 {
		c.grant = grant{}
	}
}
