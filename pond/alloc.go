package pond

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// Get takes one buffer of at least size bytes, charged to a, without
// waiting: from the smallest pool that fits, or a larger one when that pool
// is at its max. It fails with ErrQuota when a is at its limit, ErrExhausted
// when no pool that could serve has a buffer, and ErrTooLarge when size
// exceeds the largest buffer (use GetList). The caller owns one reference
// to the buffer and releases it with Put.
func (p *Pond) Get(a *Account, size int) (Buf, error) {
	ci := p.fit(size)
	if ci < 0 {
		return Buf{}, fmt.Errorf("get %d bytes: %w (largest buffer %d)", size, ErrTooLarge, p.MaxBuf())
	}
	c := p.pools[ci]
	n := c.fastCharge.Load() // the size; more than any credit while injecting
	pid := procPin()
	l, lk := p.locals.tryOwn(pid), false
	if l == nil {
		l, lk = p.locals.ownSlow(pid)
	}
	if l.credit[a.idx] >= n {
		if m := l.mags[ci].pop(); m != nil {
			l.credit[a.idx] -= n
			l.allocs[a.idx][ci]++
			// Written in the owner section, so that InUse, holding
			// every CPU's local, reads them whole.
			m.state = inUseState(a.idx)
			m.born = p.clock.now.Load()
			l.disown(lk)
			procUnpin()
			return Buf{c, m}, nil
		}
	}
	l.disown(lk)
	procUnpin()
	return p.getSlow(a, ci, true)
}

// SizeFor is the size of the buffer Get(a, size) takes when the smallest
// pool that fits has one, or 0 when size exceeds every buffer.
func (p *Pond) SizeFor(size int) int {
	if ci := p.fit(size); ci >= 0 {
		return p.pools[ci].size
	}
	return 0
}

// fit is the index of the smallest pool whose buffers hold size bytes, or -1.
func (p *Pond) fit(size int) int {
	if size < 0 {
		return -1
	}
	for i, c := range p.pools {
		if c.size >= size {
			return i
		}
	}
	return -1
}

// getSlow serves a Get the CPU's magazine and credit could not: it charges
// the account (taking a new batch of credit) and takes a buffer from pool
// ci, or with fallback from the next larger pool that has one.
func (p *Pond) getSlow(a *Account, ci int, fallback bool) (Buf, error) {
	if p.closed.Load() {
		return Buf{}, fmt.Errorf("get: %w", ErrClosed)
	}
	last := ci
	if fallback {
		last = len(p.pools) - 1
	}
	for cj := ci; cj <= last; cj++ {
		c := p.pools[cj]
		n := int64(c.size)
		if !a.grant(n) {
			a.fails.Add(1)
			p.pools[ci].fails.Add(1)
			return Buf{}, fmt.Errorf("get %d-byte buffer for account %s (limit %d): %w", c.size, a.name, a.Limit(), ErrQuota)
		}
		counted := false
		if c.inject.armed.Load() {
			var ok bool
			if ok, counted = c.admit(); !ok {
				a.ungrant(n)
				return Buf{}, c.injectedErr()
			}
		}
		m, err := c.take()
		if err != nil || m == nil {
			a.ungrant(n)
			if counted {
				c.unadmit()
			}
			if err != nil {
				return Buf{}, fmt.Errorf("get %d-byte buffer: %w", c.size, err)
			}
			continue
		}
		// Outside any owner section: atomic stores, for InUse.
		atomic.StoreInt32(&m.state, inUseState(a.idx))
		atomic.StoreUint32(&m.born, p.clock.now.Load())
		c.countSlowAlloc()
		a.slowAllocs.Add(1)
		a.slowCharged.Add(uint64(n))
		a.noteHighWater()
		return Buf{c, m}, nil
	}
	p.pools[ci].fails.Add(1)
	return Buf{}, fmt.Errorf("get %d-byte buffer: %w", p.pools[ci].size, ErrExhausted)
}

// take removes one free buffer from the pool: from this CPU's magazine, else
// through refill. nil means the pool is exhausted.
func (c *Pool) take() (*meta, error) {
	l, lk := c.pond.locals.own(procPin())
	m := l.mags[c.idx].pop()
	l.disown(lk)
	procUnpin()
	if m != nil {
		return m, nil
	}
	return c.refill()
}

func (c *Pool) countSlowAlloc() {
	c.mu.Lock()
	c.slowAlloc++
	c.mu.Unlock()
	c.noteHighWater()
}

// Put releases one reference to b; the buffer returns to its pool, and its
// bytes stop counting against its account, when the last reference goes.
// Putting a buffer more often than it was referenced, or to a pond it does
// not belong to, panics.
func (p *Pond) Put(b Buf) {
	p.put(b)
	if p.nwait.Load() > 0 {
		p.wake()
	}
}

// put is Put without waking waiters, for rolling back inside a wake.
func (p *Pond) put(b Buf) {
	c, m := b.c, b.m
	if m == nil || c.pond != p {
		panic(fmt.Sprintf("pond: release of buffer %s that is not this pond's", b))
	}
	s := atomic.LoadInt32(&m.state)
	// One reference and in use (sign clear): a free buffer's state can
	// have the low bits of one.
	if uint32(s)&(1<<31|refMask) != 1 && !lastRef(b) {
		return
	}
	ai, ci := s>>refBits, c.idx
	n := int64(c.size)
	pid := procPin()
	l, lk := p.locals.tryOwn(pid), false
	if l == nil {
		l, lk = p.locals.ownSlow(pid)
	}
	// The caller held the only reference, so nobody can take another while
	// the buffer goes back: a plain store saves a locked instruction. It
	// is made in the owner section, as Get's, for InUse.
	m.state = freeState(-1)
	// tight is read inside the owner section; see Account.grant.
	tight := p.tight[ai].Load()
	l.frees[ai][ci]++
	if !tight {
		l.credit[ai] += n
	}
	surplus := l.credit[ai] > creditHigh
	if surplus {
		l.credit[ai] -= creditBatch
	}
	ok := l.mags[ci].push(m)
	l.disown(lk)
	procUnpin()
	if tight || surplus {
		p.accounts[ai].settle(n, tight, surplus)
	}
	if !ok {
		c.putFull(m)
	}
}

// lastRef drops one of several references and reports whether it was the
// last after all (another holder put theirs meanwhile).
func lastRef(b Buf) bool {
	switch s := atomic.AddInt32(&b.m.state, -1); {
	case s < 0:
		atomic.AddInt32(&b.m.state, 1) // leave the free buffer as it was
		panic(fmt.Sprintf("pond: double release of buffer %s", b))
	case s&refMask > 0:
		return false
	}
	atomic.AddInt32(&b.m.state, 1) // put back the one the caller's plain store clears
	return true
}

// putFull returns a buffer whose CPU magazine is full: half the magazine
// goes to the depot to make room. Buffers move between magazine and depot
// only under c.mu, so a stealer never misses one in transit.
func (c *Pool) putFull(m *meta) {
	c.mu.Lock()
	l, lk := c.pond.locals.own(procPin())
	g := &l.mags[c.idx]
	for g.n > magSize/2 {
		c.depotPushLocked(g.pop())
	}
	g.push(m)
	l.disown(lk)
	procUnpin()
	c.mu.Unlock()
}

// GetList takes buffers holding n bytes in all, charged to a, without
// waiting, and appends them to dst. It uses the fewest buffers it can, and
// among those the smallest (the rule of Symbian's comms pond); when a pool
// it would use is exhausted it tries the plans with smaller buffers. It is
// all or nothing: on error dst is returned unchanged and nothing is held.
// The caller owns one reference to each buffer appended.
func (p *Pond) GetList(a *Account, n int, dst []Buf) ([]Buf, error) {
	if n <= 0 {
		return dst, fmt.Errorf("get list of %d bytes: %w", n, ErrInvalid)
	}
	if int64(n) > p.ArenaMax() {
		return dst, fmt.Errorf("get list of %d bytes: %w (arena %d)", n, ErrTooLarge, p.ArenaMax())
	}
	if n <= p.MaxBuf() {
		if b, err := p.Get(a, n); err == nil || errors.Is(err, ErrQuota) || errors.Is(err, ErrInjected) {
			return appendOK(dst, b, err)
		}
	}
	err := ErrExhausted
	plans, k := p.plans(n)
	for _, pl := range plans[:k] {
		out, perr := p.getPlan(a, pl, dst)
		if perr == nil {
			return out, nil
		}
		if errors.Is(perr, ErrInjected) {
			return dst, fmt.Errorf("get list of %d bytes: %w", n, perr)
		}
		if errors.Is(perr, ErrQuota) {
			err = ErrQuota
		}
	}
	return dst, fmt.Errorf("get list of %d bytes: %w", n, err)
}

// plan is one way to hold n bytes: count-1 buffers of pool bulk and one of
// pool tail, total bytes in all.
type plan struct {
	bulk, tail, count, total int
}

// plans lists the ways to hold n bytes with one bulk size each, fewest
// buffers first, then fewest bytes. It fills a fixed array so that large
// chains cost no heap allocation.
func (p *Pond) plans(n int) ([maxClasses]plan, int) {
	var out [maxClasses]plan
	k := 0
	for bulk, c := range p.pools {
		count := (n + c.size - 1) / c.size
		tail := p.fit(n - (count-1)*c.size)
		pl := plan{bulk, tail, count, (count-1)*c.size + p.pools[tail].size}
		i := k
		for ; i > 0 && pl.before(out[i-1]); i-- {
			out[i] = out[i-1]
		}
		out[i] = pl
		k++
	}
	return out, k
}

func (pl plan) before(o plan) bool {
	return pl.count < o.count || pl.count == o.count && pl.total < o.total
}

// getPlan takes the buffers of a plan, the tail with fallback to larger
// pools, rolling back on failure.
func (p *Pond) getPlan(a *Account, pl plan, dst []Buf) ([]Buf, error) {
	out := dst
	for i := 0; i < pl.count; i++ {
		ci, fallback := pl.bulk, false
		if i == pl.count-1 {
			ci, fallback = pl.tail, true
		}
		b, err := p.getOne(a, ci, fallback)
		if err != nil {
			for _, got := range out[len(dst):] {
				p.put(got)
			}
			return dst, err
		}
		out = append(out, b)
	}
	return out, nil
}

// getOne is Get of pool ci with or without falling back to larger pools.
func (p *Pond) getOne(a *Account, ci int, fallback bool) (Buf, error) {
	if fallback {
		return p.Get(a, p.pools[ci].size)
	}
	return p.getSlow(a, ci, false)
}

func appendOK(dst []Buf, b Buf, err error) ([]Buf, error) {
	if err != nil {
		return dst, err
	}
	return append(dst, b), nil
}
