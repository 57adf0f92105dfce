package chain

import (
	"fmt"
	"sync/atomic"
)

// lender counts the segments, across every chain, that refer to one piece
// of lent memory, and gives it back to its owner when the last goes.
type lender struct {
	refs    atomic.Int32
	release func()
}

func (l *lender) ref() {
	if l.refs.Add(1) <= 1 {
		panic("chain: reference taken on returned lent memory")
	}
}

func (l *lender) unref() {
	switch r := l.refs.Add(-1); {
	case r == 0 && l.release != nil:
		l.release()
	case r < 0:
		panic("chain: lent memory returned twice")
	}
}

// AppendBorrowed appends p to the view without copying it: the chain, and
// every chain that comes to share it by Clone, Split or AppendChain, reads
// p in place until the last of them lets go, then calls release (if not
// nil) once, from whichever goroutine lets go. Until then the caller must
// not change p. The chain never writes into p: a write to those bytes
// first copies them into pond buffers. Lent memory is not in the arena and
// not charged to any account. On error the caller keeps p and release is
// not called; an empty p is released at once.
func (c *Chain) AppendBorrowed(p []byte, release func()) error {
	if err := c.live("append borrowed"); err != nil {
		return err
	}
	if len(p) == 0 {
		if release != nil {
			release()
		}
		return nil
	}
	top := len(c.layers) - 1
	if err := c.canGrow(top, len(p)); err != nil {
		return fmt.Errorf("append %d borrowed bytes: %w", len(p), err)
	}
	l := &lender{release: release}
	l.refs.Store(1)
	c.push(seg{mem: p[:len(p):len(p)], lent: l, n: len(p)})
	c.grownBack(top, len(p))
	return nil
}
