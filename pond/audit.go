package pond

import (
	"errors"
	"fmt"
	"sync"
)

// Audit walks every free buffer and checks the pond's invariants: no buffer
// free twice, every free buffer unreferenced and inside one of its pool's
// slabs, buffers == free + in_use in every pool, and no account using more
// than its pools hold. It is exact when no allocation runs concurrently.
func (p *Pond) Audit() error {
	var errs []error
	for _, c := range p.pools {
		errs = append(errs, c.audit())
	}
	var held int64
	for _, c := range p.pools {
		held += c.buffers.Load() * int64(c.size)
	}
	for _, a := range p.Accounts() {
		if used, _ := a.used(); used > held {
			errs = append(errs, fmt.Errorf("account %s uses %d bytes, pools hold %d", a.name, used, held))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, err)
	}
	return nil
}

func (c *Pool) audit() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	free := c.freeListLocked()
	seen := make(map[*meta]bool, len(free))
	for _, m := range free {
		switch {
		case seen[m]:
			return fmt.Errorf("pool %d: buffer %s is free twice", c.size, Buf{c, m})
		case m.state >= 0:
			return fmt.Errorf("pool %d: free buffer %s has %d references", c.size, Buf{c, m}, m.state&refMask)
		case !c.inSlabLocked(m):
			return fmt.Errorf("pool %d: free buffer %s lies outside the pool's slabs", c.size, Buf{c, m})
		}
		seen[m] = true
	}
	allocs, frees := c.countsLocked()
	used := int64(allocs) - int64(frees)
	if int64(len(free))+used != c.buffers.Load() {
		return fmt.Errorf("pool %d: %d free + %d in use != %d buffers", c.size, len(free), used, c.buffers.Load())
	}
	return nil
}

// freeListLocked collects the depot and every CPU's magazine.
func (c *Pool) freeListLocked() []*meta {
	free := make([]*meta, 0, c.depotN+int64(len(c.pond.locals)*magSize))
	for s := c.depot; s >= 0; s = c.metaAt(s).next() {
		free = append(free, c.metaAt(s))
	}
	for i := range c.pond.locals {
		l := c.pond.locals.lockAt(i)
		g := &l.mags[c.idx]
		n := len(free)
		free = free[:n+g.n]
		copy(free[n:], g.m[:g.n])
		l.unlockAt()
	}
	return free
}

func (c *Pool) inSlabLocked(m *meta) bool {
	off := int64(m.off) * offAlign
	i := c.slabOf(off)
	return i >= 0 && off+int64(c.size) <= c.slabs[i].off+c.slabs[i].count*int64(c.size) && (off-c.slabs[i].off)%int64(c.size) == 0
}

// countsLocked sums the pool's allocations over every CPU, then its frees:
// counters only grow, so a reader racing gets and puts can understate the
// buffers in use but never overstate them (see inUse).
func (c *Pool) countsLocked() (allocs, frees uint64) {
	allocs = c.slowAlloc
	for i := range c.pond.locals {
		c.pond.locals.peek(i, func(l *local) { allocs += l.classAllocs(c.idx) })
	}
	return allocs, c.freesLocked()
}

// inUse is allocs - frees from countsLocked, within 0..buffers.
func inUse(allocs, frees uint64, buffers int64) int64 {
	return min(max(int64(allocs)-int64(frees), 0), buffers)
}

// open is every pond not yet closed, for AuditAll.
var open struct {
	sync.Mutex
	ponds map[*Pond]bool
}

func register(p *Pond) {
	open.Lock()
	defer open.Unlock()
	if open.ponds == nil {
		open.ponds = make(map[*Pond]bool)
	}
	open.ponds[p] = true
}

func unregister(p *Pond) {
	open.Lock()
	defer open.Unlock()
	delete(open.ponds, p)
}

// AuditAll audits every pond of this process that is not closed and
// reports any buffer not back in its pool. Each test binary's TestMain
// calls it after the tests, so a leak anywhere fails the run.
func AuditAll() error {
	open.Lock()
	ponds := make([]*Pond, 0, len(open.ponds))
	for p := range open.ponds {
		ponds = append(ponds, p)
	}
	open.Unlock()
	var errs []error
	for _, p := range ponds {
		if err := p.Audit(); err != nil {
			errs = append(errs, err)
		}
		if n := p.Stats().InUse; n != 0 {
			errs = append(errs, fmt.Errorf("pond: %d buffers never came back", n))
		}
	}
	return errors.Join(errs...)
}
