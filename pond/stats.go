package pond

// Field is one named counter of a stats snapshot, named as README.md names
// it (lower_snake_case). Every stats struct lists its fields in a fixed
// order through Fields, so one function can render any of them.
type Field struct {
	Name  string
	Value uint64
}

// PoolStats is a snapshot of one pool. Buffers == Free + InUse always.
type PoolStats struct {
	BufSize, Buffers, Free, InUse, HighWater uint64
	Min, Max, GrowBy                         uint64
	Allocs, Frees, Fails, Waits              uint64
	Grows, Shrinks                           uint64
	InjectedFails                            uint64 // also counted in Fails
}

// Fields lists the snapshot as README.md's pools/<size>/stats names it.
func (s PoolStats) Fields() []Field {
	return []Field{
		{"buf_size", s.BufSize}, {"buffers", s.Buffers}, {"free", s.Free}, {"in_use", s.InUse},
		{"high_water", s.HighWater}, {"min", s.Min}, {"max", s.Max}, {"grow_by", s.GrowBy},
		{"allocs", s.Allocs}, {"frees", s.Frees}, {"fails", s.Fails}, {"waits", s.Waits},
		{"grows", s.Grows}, {"shrinks", s.Shrinks}, {"injected_fails", s.InjectedFails},
	}
}

// AccountStats is a snapshot of one account.
type AccountStats struct {
	LimitBytes, UsedBytes, HighWaterBytes uint64
	Allocs, Fails, Waits                  uint64
}

// Fields lists the snapshot as README.md's accounts/<name>/stats names it.
func (s AccountStats) Fields() []Field {
	return []Field{
		{"limit_bytes", s.LimitBytes}, {"used_bytes", s.UsedBytes}, {"high_water_bytes", s.HighWaterBytes},
		{"allocs", s.Allocs}, {"fails", s.Fails}, {"waits", s.Waits},
	}
}

// Stats is a snapshot of the pond's totals. Chains are counted by whoever
// makes them, not by the pond, so they are not here.
type Stats struct {
	Pools, ArenaBytes, Buffers, Free, InUse, BytesInUse, Allocs, Fails uint64
}

// Fields lists the snapshot as README.md's top-level stats names it.
func (s Stats) Fields() []Field {
	return []Field{
		{"pools", s.Pools}, {"arena_bytes", s.ArenaBytes}, {"buffers", s.Buffers}, {"free", s.Free},
		{"in_use", s.InUse}, {"bytes_in_use", s.BytesInUse}, {"allocs", s.Allocs}, {"fails", s.Fails},
	}
}

// Stats snapshots the pool without stopping allocation: each CPU's
// counters are read under its lock for an instant.
func (c *Pool) Stats() PoolStats {
	allocs, frees := c.counts()
	buffers := c.buffers.Load()
	used := inUse(allocs, frees, buffers)
	c.raiseHighWater(used)
	return PoolStats{
		BufSize: uint64(c.size), Buffers: uint64(buffers), InUse: uint64(used),
		Free: uint64(buffers - used), HighWater: uint64(c.highWater.Load()),
		Min: uint64(c.min.Load()), Max: uint64(c.max.Load()), GrowBy: uint64(c.growBy.Load()),
		Allocs: allocs, Frees: frees, Fails: c.fails.Load(), Waits: c.waits.Load(),
		Grows: c.grows.Load(), Shrinks: c.shrinks.Load(), InjectedFails: c.inject.fails.Load(),
	}
}

// counts sums the pool's allocations and frees over every CPU.
func (c *Pool) counts() (allocs, frees uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.countsLocked()
}

// noteHighWater records the present use as the high-water mark if it is
// one. It runs on slow paths and stats reads, so a peak that rises and falls
// between two of them within one CPU's magazine can go unrecorded; the use
// it reads is never overstated, so the mark never exceeds a real peak.
func (c *Pool) noteHighWater() {
	allocs, frees := c.counts()
	c.raiseHighWater(inUse(allocs, frees, c.buffers.Load()))
}

func (c *Pool) raiseHighWater(u int64) {
	for hw := c.highWater.Load(); u > hw && !c.highWater.CompareAndSwap(hw, u); hw = c.highWater.Load() {
	}
}

// Stats snapshots the account without stopping allocation.
func (a *Account) Stats() AccountStats {
	a.noteHighWater()
	used, allocs := a.used()
	return AccountStats{
		LimitBytes: uint64(a.limit.Load()), UsedBytes: uint64(used), HighWaterBytes: uint64(a.highWater.Load()),
		Allocs: allocs, Fails: a.fails.Load(), Waits: a.waits.Load(),
	}
}

// Stats snapshots the pond's totals.
func (p *Pond) Stats() Stats {
	s := Stats{Pools: uint64(len(p.pools)), ArenaBytes: uint64(p.ArenaBytes())}
	for _, c := range p.pools {
		cs := c.Stats()
		s.Buffers += cs.Buffers
		s.Free += cs.Free
		s.InUse += cs.InUse
		s.BytesInUse += cs.InUse * cs.BufSize
		s.Allocs += cs.Allocs
		s.Fails += cs.Fails
	}
	return s
}
