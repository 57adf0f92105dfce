package chain

import (
	"fmt"
	"io"
)

// A chain is a reader and writer for the io package.
var (
	_ io.ReaderAt = (*Chain)(nil)
	_ io.WriterAt = (*Chain)(nil)
	_ io.Reader   = (*Chain)(nil)
	_ io.Writer   = (*Chain)(nil)
)

// ReadAt copies view bytes from off into p, as io.ReaderAt: fewer than
// len(p) only at the end of the view, with io.EOF.
func (c *Chain) ReadAt(p []byte, off int64) (int, error) {
	if err := c.live("read"); err != nil {
		return 0, err
	}
	return c.readLayer(len(c.layers)-1, p, off)
}

// ReadAtLayer is ReadAt of layer k's bytes, 0 <= k <= Depth().
func (c *Chain) ReadAtLayer(k int, p []byte, off int64) (int, error) {
	if err := c.checkLayer("read", k); err != nil {
		return 0, err
	}
	return c.readLayer(k, p, off)
}

func (c *Chain) readLayer(k int, p []byte, off int64) (int, error) {
	l := &c.layers[k]
	switch {
	case off < 0:
		return 0, fmt.Errorf("read at %d: %w", off, ErrRange)
	case off >= int64(l.n):
		if len(p) == 0 && off == int64(l.n) {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := c.copyOut(p[:min(int64(len(p)), int64(l.n)-off)], l.off+int(off))
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt copies p over view bytes from off, as io.WriterAt: all of p or,
// with an error, nothing. Shared buffers it writes into are copied first
// (copy-on-write). Writing past the end extends the view (zeros fill any
// gap) under the growth rules of Append.
func (c *Chain) WriteAt(p []byte, off int64) (int, error) {
	if err := c.live("write"); err != nil {
		return 0, err
	}
	return c.writeLayer(len(c.layers)-1, p, off)
}

// WriteAtLayer is WriteAt into layer k's bytes, 0 <= k <= Depth(). Growth
// extends layers 0..k; layers above k keep their place.
func (c *Chain) WriteAtLayer(k int, p []byte, off int64) (int, error) {
	if err := c.checkLayer("write", k); err != nil {
		return 0, err
	}
	return c.writeLayer(k, p, off)
}

func (c *Chain) writeLayer(k int, p []byte, off int64) (int, error) {
	l := &c.layers[k]
	switch {
	case off < 0:
		return 0, fmt.Errorf("write %d bytes at %d: %w", len(p), off, ErrRange)
	case len(p) == 0:
		return 0, nil
	case off > int64(c.opt.MaxLen):
		return 0, fmt.Errorf("write %d bytes at %d: %w (max %d)", len(p), off, ErrTooLong, c.opt.MaxLen)
	}
	if err := c.write(k, int(off), p); err != nil {
		return 0, fmt.Errorf("write %d bytes at %d of %d: %w", len(p), off, l.n, err)
	}
	return len(p), nil
}

// write takes every buffer it needs (copies of shared segments, room to
// grow) before it changes anything, then writes.
func (c *Chain) write(k, off int, p []byte) error {
	l := &c.layers[k]
	in := min(len(p), max(0, l.n-off))
	grow, zeros := len(p)-in, max(0, off-l.n)
	if grow+zeros > 0 {
		if err := c.canGrow(k, grow+zeros); err != nil {
			return err
		}
	}
	a := l.off + off
	err := c.reserveOwn(a, a+in)
	if err == nil && grow+zeros > 0 {
		err = c.reserveBack(grow + zeros)
	}
	if err != nil {
		c.settle()
		return err
	}
	c.own()
	if grow+zeros > 0 {
		c.fillBack(source{zeros: zeros, p: p[in:]})
		c.grownBack(k, grow+zeros)
	}
	c.settle()
	c.copyIn(a, p[:in])
	return nil
}

// Read consumes the first bytes of the view into p, as bytes.Buffer does:
// they leave the chain (see TrimFront). At the end it returns io.EOF.
func (c *Chain) Read(p []byte) (int, error) {
	if err := c.live("read"); err != nil {
		return 0, err
	}
	t := c.top()
	if t.n == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := c.copyOut(p[:min(len(p), t.n)], t.off)
	c.remove(t.off, n)
	return n, nil
}
