package pond

import "github.com/pondfs/pondfs/pond/stats"

// PoolStats is a snapshot of one pool. Buffers == Free + InUse always.
type PoolStats struct {
	BufSize, Buffers, Free, InUse, HighWater uint64
	Min, Max, GrowBy                         uint64
	Allocs, Frees, Fails, Waits              uint64
	Grows, Shrinks                           uint64
	InjectedFails                            uint64 // also counted in Fails
}

// Fields lists the snapshot as pools/<size>/stats shows it (README's
// reference), each value described.
func (s PoolStats) Fields() []stats.Field {
	return []stats.Field{
		{Name: "buf_size", Kind: stats.Gauge, Help: "Size of the pool's buffers in bytes.", Value: s.BufSize},
		{Name: "buffers", Kind: stats.Gauge, Help: "Buffers the pool holds; always free + in_use.", Value: s.Buffers},
		{Name: "free", Kind: stats.Gauge, Help: "Free buffers in the pool.", Value: s.Free},
		{Name: "in_use", Kind: stats.Gauge, Help: "Buffers of the pool in use.", Value: s.InUse},
		{Name: "high_water", Kind: stats.Gauge, Help: "Most buffers of the pool in use at once.", Value: s.HighWater},
		{Name: "min", Kind: stats.Gauge, Help: "Buffers the pool keeps through a shrink.", Value: s.Min},
		{Name: "max", Kind: stats.Gauge, Help: "Most buffers the pool may hold.", Value: s.Max},
		{Name: "grow_by", Kind: stats.Gauge, Help: "Buffers the pool adds when it runs dry.", Value: s.GrowBy},
		{Name: "allocs", Kind: stats.Counter, Help: "Buffers the pool handed out.", Value: s.Allocs},
		{Name: "frees", Kind: stats.Counter, Help: "Buffers returned to the pool.", Value: s.Frees},
		{Name: "fails", Kind: stats.Counter, Help: "Allocations from the pool that failed.", Value: s.Fails},
		{Name: "waits", Kind: stats.Counter, Help: "Allocations that waited for a buffer of the pool.", Value: s.Waits},
		{Name: "grows", Kind: stats.Counter, Help: "Times the pool grew.", Value: s.Grows},
		{Name: "shrinks", Kind: stats.Counter, Help: "Times the pool gave slabs back.", Value: s.Shrinks},
		{Name: "injected_fails", Kind: stats.Counter, Help: "Allocations failed on purpose by fail-after (also in fails).", Value: s.InjectedFails},
	}
}

// AccountStats is a snapshot of one account.
type AccountStats struct {
	LimitBytes, UsedBytes, HighWaterBytes uint64
	Allocs, Fails, Waits                  uint64
}

// Fields lists the snapshot as accounts/<name>/stats shows it (README's
// reference), each value described.
func (s AccountStats) Fields() []stats.Field {
	return []stats.Field{
		{Name: "limit_bytes", Kind: stats.Gauge, Help: "Byte limit of the account.", Value: s.LimitBytes},
		{Name: "used_bytes", Kind: stats.Gauge, Help: "Bytes of buffers charged to the account.", Value: s.UsedBytes},
		{Name: "high_water_bytes", Kind: stats.Gauge, Help: "Most bytes charged to the account at once.", Value: s.HighWaterBytes},
		{Name: "allocs", Kind: stats.Counter, Help: "Allocations charged to the account.", Value: s.Allocs},
		{Name: "fails", Kind: stats.Counter, Help: "Allocations refused because the account was at its limit.", Value: s.Fails},
		{Name: "waits", Kind: stats.Counter, Help: "Allocations that waited for the account to drop below its limit.", Value: s.Waits},
	}
}

// Stats is a snapshot of the pond's totals. Chains are counted by whoever
// makes them, not by the pond, so they are not here.
type Stats struct {
	Pools, ArenaBytes, Buffers, Free, InUse, BytesInUse, Allocs, Fails uint64
}

// Fields lists the snapshot as the top-level stats shows it (README's
// reference), each value described.
func (s Stats) Fields() []stats.Field {
	return []stats.Field{
		{Name: "pools", Kind: stats.Gauge, Help: "Pools (buffer size classes) in the pond.", Value: s.Pools},
		{Name: "arena_bytes", Kind: stats.Gauge, Help: "Bytes of arena carved so far (the size of the arena file).", Value: s.ArenaBytes},
		{Name: "buffers", Kind: stats.Gauge, Help: "Buffers held by all pools.", Value: s.Buffers},
		{Name: "free", Kind: stats.Gauge, Help: "Free buffers in all pools.", Value: s.Free},
		{Name: "in_use", Kind: stats.Gauge, Help: "Buffers in use in all pools.", Value: s.InUse},
		{Name: "bytes_in_use", Kind: stats.Gauge, Help: "Bytes of all buffers in use.", Value: s.BytesInUse},
		{Name: "allocs", Kind: stats.Counter, Help: "Buffers handed out by all pools.", Value: s.Allocs},
		{Name: "fails", Kind: stats.Counter, Help: "Allocations that failed, in all pools.", Value: s.Fails},
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
