package pond

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Pool is one size class: buffers of one size, the slabs carved for them,
// the depot of free buffers no CPU holds, its tuning and its counters.
// A Pool lives as long as its pond.
type Pool struct {
	pond *Pond
	idx  int
	size int

	buffers   atomic.Int64 // carved and not yet released by Shrink
	highWater atomic.Int64
	fails     atomic.Uint64
	waits     atomic.Uint64
	grows     atomic.Uint64
	shrinks   atomic.Uint64
	min       atomic.Int64
	max       atomic.Int64
	growBy    atomic.Int64
	// fastCharge is what Get's per-CPU fast path charges: the size, or
	// armedCharge while fault injection is armed (see inject.go).
	fastCharge atomic.Int64
	inject     injection

	mu        sync.Mutex   // guards the fields below
	metas     []*metaBlock // chunked table of every buffer record, by slot
	byAddr    []blockAddr  // metas' chunks by address, for slotOfLocked
	nslots    int32        // records ever made
	unused    int32        // first record free for reuse (after Shrink), -1 if none
	depot     int32        // first free buffer in the depot, -1 if none
	depotN    int64
	slabs     []slab // sorted by offset
	slowAlloc uint64 // allocations counted outside the CPUs' counters
}

// slab is one contiguous run of a class's buffers in the arena.
type slab struct {
	off   int64
	count int64
}

// newPool makes the pool of cfg, which Config.Validate accepted. Its max
// and grow_by are cut to its capacity: the default tuning of a class may
// ask for more than a small arena holds.
func newPool(p *Pond, idx int, cfg ClassConfig) *Pool {
	c := &Pool{pond: p, idx: idx, size: cfg.Size, unused: -1, depot: -1}
	c.min.Store(int64(cfg.Min))
	c.max.Store(min(int64(cfg.Max), c.capacity()))
	c.growBy.Store(min(int64(cfg.GrowBy), c.capacity()))
	c.fastCharge.Store(int64(cfg.Size))
	return c
}

func (c *Pool) depotPushLocked(m *meta) {
	m.state = freeState(c.depot)
	c.depot = c.slotOfLocked(m)
	c.depotN++
}

func (c *Pool) depotPopLocked() *meta {
	if c.depot < 0 {
		return nil
	}
	m := c.metaAt(c.depot)
	c.depot = m.next()
	m.state = freeState(-1)
	c.depotN--
	return m
}

// growLocked carves up to n more buffers (bounded by max and the arena)
// into the depot and reports how many it made.
func (c *Pool) growLocked(n int64) (int64, error) {
	n = min(n, c.max.Load()-c.buffers.Load())
	if n <= 0 {
		return 0, nil
	}
	off, ok, err := c.pond.arena.alloc(n * int64(c.size))
	if err != nil || !ok {
		return 0, err
	}
	for i := int64(0); i < n; i++ {
		m := c.newMetaLocked()
		m.off = uint32((off + i*int64(c.size)) / offAlign)
		c.depotPushLocked(m)
	}
	c.insertSlabLocked(slab{off: off, count: n})
	c.buffers.Add(n)
	c.grows.Add(1)
	return n, nil
}

func (c *Pool) insertSlabLocked(s slab) {
	i := sort.Search(len(c.slabs), func(i int) bool { return c.slabs[i].off > s.off })
	c.slabs = append(c.slabs, slab{})
	copy(c.slabs[i+1:], c.slabs[i:])
	c.slabs[i] = s
}

// slabOf returns the index of the slab holding arena offset off.
func (c *Pool) slabOf(off int64) int {
	return sort.Search(len(c.slabs), func(i int) bool { return c.slabs[i].off > off }) - 1
}

// refill serves a take whose magazine was empty: from the depot, else by
// growing, else by stealing every CPU's free buffers; on the way it refills
// the caller's magazine with up to half a magazine more. nil means the pool
// is exhausted.
func (c *Pool) refill() (*meta, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.depotN == 0 {
		if _, err := c.growLocked(c.growBy.Load()); err != nil {
			return nil, err
		}
	}
	if c.depotN == 0 {
		c.stealAllLocked()
	}
	m := c.depotPopLocked()
	if m == nil {
		return nil, nil
	}
	l, lk := c.pond.locals.own(procPin())
	for i := 0; i < magSize/2 && c.depotN > 0 && l.mags[c.idx].n < magSize; i++ {
		l.mags[c.idx].push(c.depotPopLocked())
	}
	l.disown(lk)
	procUnpin()
	return m, nil
}

// stealRounds bounds how often stealAllLocked rescans.
const stealRounds = 8

// stealAllLocked steals until it finds a buffer or a scan saw no free
// happen meanwhile. One scan visits the CPUs in turn, so a buffer freed on
// a CPU it has passed while others take the ones ahead of it would be out
// of reach; a free counted during the scan sends it round again.
func (c *Pool) stealAllLocked() {
	for range stealRounds {
		before := c.freesLocked()
		c.stealLocked()
		if c.depotN > 0 || c.freesLocked() == before {
			return
		}
	}
}

// freesLocked sums the pool's frees over every CPU.
func (c *Pool) freesLocked() (frees uint64) {
	for i := range c.pond.locals {
		c.pond.locals.peek(i, func(l *local) { frees += l.classFrees(c.idx) })
	}
	return frees
}

// stealLocked moves every CPU's free buffers of this class into the depot,
// so that a hard max stays hard: no free buffer is out of reach.
func (c *Pool) stealLocked() {
	var got [magSize]*meta
	for i := range c.pond.locals {
		l := c.pond.locals.lockAt(i)
		k := copy(got[:], l.mags[c.idx].m[:l.mags[c.idx].n])
		clear(l.mags[c.idx].m[:k])
		l.mags[c.idx].n = 0
		l.unlockAt()
		for _, m := range got[:k] {
			c.depotPushLocked(m)
		}
	}
}

// shrink gives back to the operating system every slab whose buffers are
// all free, newest (highest) first, as long as at least min buffers stay.
func (c *Pool) shrink() (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stealLocked()
	free := c.freePerSlabLocked()
	release := make(map[int64]bool)
	var released int64
	var firstErr error
	for i := len(c.slabs) - 1; i >= 0; i-- {
		s := c.slabs[i]
		if free[i] != s.count || c.buffers.Load()-released-s.count < c.min.Load() {
			continue
		}
		if err := c.pond.arena.release(s.off, s.count*int64(c.size)); err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		release[s.off] = true
		released += s.count
	}
	if released > 0 {
		c.dropSlabsLocked(release)
		c.buffers.Add(-released)
		c.shrinks.Add(1)
	}
	return released, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func (c *Pool) freePerSlabLocked() []int64 {
	free := make([]int64, len(c.slabs))
	for s := c.depot; s >= 0; s = c.metaAt(s).next() {
		free[c.slabOf(int64(c.metaAt(s).off)*offAlign)]++
	}
	return free
}

// dropSlabsLocked forgets the slabs at the given offsets: their records go
// to the unused list and the depot keeps only buffers of surviving slabs.
func (c *Pool) dropSlabsLocked(gone map[int64]bool) {
	inGone := func(m *meta) bool { return gone[c.slabs[c.slabOf(int64(m.off)*offAlign)].off] }
	var keep []*meta
	for m := c.depotPopLocked(); m != nil; m = c.depotPopLocked() {
		if inGone(m) {
			m.state = freeState(c.unused)
			c.unused = c.slotOfLocked(m)
			continue
		}
		keep = append(keep, m)
	}
	for i := len(keep) - 1; i >= 0; i-- {
		c.depotPushLocked(keep[i])
	}
	slabs := c.slabs[:0]
	for _, s := range c.slabs {
		if !gone[s.off] {
			slabs = append(slabs, s)
		}
	}
	c.slabs = slabs
}

// ensureMin grows the class until it holds at least min buffers.
func (c *Pool) ensureMin() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.buffers.Load() < c.min.Load() {
		n, err := c.growLocked(c.min.Load() - c.buffers.Load())
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("grow pool %d to min %d: %w", c.size, c.min.Load(), ErrExhausted)
		}
	}
	return nil
}
