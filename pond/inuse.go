package pond

import (
	"cmp"
	"slices"
	"sync/atomic"
)

// BufInfo describes one buffer in use, for finding what holds memory and
// for how long.
type BufInfo struct {
	Offset  int64  // arena offset
	Refs    int    // references held on it
	Account string // the account it is charged to
	AgeMs   uint64 // milliseconds since it was handed out, to clockTick
}

// InUse lists the pool's buffers in use, oldest first (then by offset).
// It does not stop allocation: a buffer taken or given back meanwhile may
// be listed or not, and its age is the pond clock's, coarse to 10 ms. Who
// holds each buffer is known to the layers above (chains, devices), which
// match the offsets to their own buffers.
func (c *Pool) InUse() []BufInfo {
	p := c.pond
	naccts := int(p.naccts.Load())
	c.mu.Lock()
	var out []BufInfo
	for slot := range c.nslots {
		m := c.metaAt(slot)
		// A free buffer's state is negative; one in use has a
		// reference and the index of its account.
		s := atomic.LoadInt32(&m.state)
		ai := int(s >> refBits)
		if s <= 0 || s&refMask == 0 || ai >= naccts {
			continue
		}
		out = append(out, BufInfo{
			Offset: int64(m.off) * offAlign, Refs: int(s & refMask),
			Account: p.accounts[ai].name, AgeMs: p.clock.ageMs(atomic.LoadUint32(&m.born)),
		})
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b BufInfo) int {
		return cmp.Or(cmp.Compare(b.AgeMs, a.AgeMs), cmp.Compare(a.Offset, b.Offset))
	})
	return out
}
