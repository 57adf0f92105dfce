package chain

import (
	"context"
	"errors"

	"github.com/pondfs/pondfs/pond"
)

// An operation that needs buffers takes all of them before it changes
// anything, so that a failed allocation leaves the chain exactly as it was:
// reserve*, then either the changes (which take from the reservation and
// cannot fail) or nothing, then settle.

// reserveOne takes one buffer of at least size bytes.
func (c *Chain) reserveOne(size int) error {
	b, err := c.p.Get(c.acct, size)
	if err != nil && c.mayWait(err) {
		ctx, cancel := context.WithTimeout(context.Background(), c.opt.Wait)
		b, err = c.p.GetWait(ctx, c.acct, size)
		cancel()
	}
	if err != nil {
		return err
	}
	c.res = append(c.res, b)
	return nil
}

// reserveList takes buffers holding n > 0 bytes in all, as few as the
// pond can (several when n exceeds its largest buffer).
func (c *Chain) reserveList(n int) error {
	res, err := c.p.GetList(c.acct, n, c.res)
	if err != nil && c.mayWait(err) {
		ctx, cancel := context.WithTimeout(context.Background(), c.opt.Wait)
		res, err = c.p.GetListWait(ctx, c.acct, n, c.res)
		cancel()
	}
	c.res = res
	return err
}

// mayWait reports whether a failed allocation should be retried waiting:
// the chain allows it, and a free or a raised limit could cure it (an
// injected failure is final). The first try never waits, so the common
// path makes no context.
func (c *Chain) mayWait(err error) bool {
	return c.opt.Wait > 0 && (errors.Is(err, pond.ErrExhausted) || errors.Is(err, pond.ErrQuota)) &&
		!errors.Is(err, pond.ErrInjected)
}

// take hands out the next reserved buffer.
func (c *Chain) take() pond.Buf {
	b := c.res[c.next]
	c.next++
	return b
}

// settle gives back the reserved buffers the operation did not use (all
// of them when it failed) and readies the reservation for the next one.
func (c *Chain) settle() {
	for _, b := range c.res[c.next:] {
		c.p.Put(b)
	}
	clear(c.res)
	if cap(c.res) > inlineRes {
		c.res = c.resBuf[:0]
	}
	c.res, c.next, c.cows = c.res[:0], 0, c.cows[:0]
}
