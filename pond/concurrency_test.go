package pond

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentHardMax runs goroutines that Get, GetList, Ref and Put
// across classes and accounts against pools whose hard max is small enough
// that free buffers are often stranded in other CPUs' magazines. Each
// goroutine holds at most maxN/goroutines distinct buffers of a class, so
// whenever one asks for a buffer, fewer than maxN are held in all: no
// request may fail and none may fall back to a larger class, and a Shrink
// running alongside must not disturb that. A stats reader checks
// buffers == free + in_use in every snapshot.
func TestConcurrentHardMax(t *testing.T) {
	for _, procs := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			// The window that strands a free buffer is short; a few
			// fresh ponds make a run likely to hit it if it is there.
			for round := range 4 {
				runHardMax(t, 100*procs+round)
				if t.Failed() {
					break
				}
			}
		})
	}
}

func runHardMax(t *testing.T, seed int) {
	const (
		maxN       = 64
		goroutines = 8
		each       = maxN / goroutines // per class per goroutine
		ops        = 20000
	)
	sizes := []int{512, 2048, 9216}
	cfg := Config{ArenaMax: 16 << 20}
	for _, s := range sizes {
		cfg.Classes = append(cfg.Classes, ClassConfig{Size: s, Min: 0, Max: maxN, GrowBy: 8})
	}
	p := newTestPond(t, cfg)
	accts := []*Account{newAccount(t, p, "fs", unlimited), newAccount(t, p, "rx", unlimited)}
	classOf := map[int]int{512: 0, 2048: 1, 9216: 2}

	// Plans GetList must take exactly (no class is ever exhausted).
	plans := []struct {
		n     int
		sizes []int // one count per class
	}{
		{100, []int{1, 0, 0}},
		{1500, []int{0, 1, 0}},
		{9216 + 300, []int{1, 0, 1}},
		{9216 + 2048, []int{0, 1, 1}},
		{2 * 9216, []int{0, 0, 2}},
		{2*9216 + 1, []int{1, 0, 2}},
	}

	type held struct {
		b    Buf
		refs int
		id   uint64
	}
	var (
		wg        sync.WaitGroup
		stop      atomic.Bool
		failures  atomic.Int32
		snapshots atomic.Int64
	)
	errs := make(chan error, 64)
	report := func(err error) {
		if failures.Add(1) <= 16 {
			errs <- err
		}
		stop.Store(true)
	}

	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(seed), uint64(g)))
			var mine []*held
			var count [3]int // distinct buffers held per class
			nextID := uint64(g) << 32
			add := func(b Buf) {
				nextID++
				stamp(b, nextID)
				mine = append(mine, &held{b: b, refs: 1, id: nextID})
				count[classOf[b.Size()]]++
			}
			release := func(i int) {
				h := mine[i]
				if !stamped(h.b, h.id) {
					report(fmt.Errorf("buffer %s lost its stamp: handed out while held", h.b))
				}
				p.Put(h.b)
				h.refs--
				if h.refs == 0 {
					count[classOf[h.b.Size()]]--
					mine = append(mine[:i], mine[i+1:]...)
				}
			}
			defer func() {
				for len(mine) > 0 {
					release(len(mine) - 1)
				}
			}()
			for op := 0; op < ops && !stop.Load(); op++ {
				a := accts[r.IntN(len(accts))]
				switch k := r.IntN(10); {
				case k < 4: // Get
					ci := r.IntN(len(sizes))
					if count[ci] >= each {
						continue
					}
					want := sizes[ci] - r.IntN(sizes[ci]/2)
					b, err := p.Get(a, want)
					if err != nil {
						report(fmt.Errorf("goroutine %d: Get(%d) holding %v of %d per class: %w (%s)", g, want, count, each, err, poolsState(p)))
						return
					}
					if b.Size() != sizes[ci] {
						report(fmt.Errorf("goroutine %d: Get(%d) fell back to a %d-byte buffer while its class had free buffers (%s)", g, want, b.Size(), poolsState(p)))
					}
					if err := inArena(p, b); err != nil {
						report(err)
					}
					add(b)
				case k < 6: // GetList
					plan := plans[r.IntN(len(plans))]
					fits := true
					for ci, n := range plan.sizes {
						fits = fits && count[ci]+n <= each
					}
					if !fits {
						continue
					}
					bs, err := p.GetList(a, plan.n, nil)
					if err != nil {
						report(fmt.Errorf("goroutine %d: GetList(%d) holding %v of %d per class: %w (%s)", g, plan.n, count, each, err, poolsState(p)))
						return
					}
					var got [3]int
					for _, b := range bs {
						got[classOf[b.Size()]]++
						add(b)
					}
					if got != [3]int(plan.sizes) {
						report(fmt.Errorf("goroutine %d: GetList(%d) took %v buffers per class, want %v", g, plan.n, got, plan.sizes))
					}
				case k < 7: // Ref
					if len(mine) > 0 {
						h := mine[r.IntN(len(mine))]
						h.b.Ref()
						h.refs++
					}
				default: // Put
					if len(mine) > 0 {
						release(r.IntN(len(mine)))
					}
				}
				if r.IntN(16) == 0 {
					runtime.Gosched()
				}
			}
		}()
	}

	// Shrink now and then, and read stats all along.
	var side sync.WaitGroup
	done := make(chan struct{})
	side.Add(2)
	go func() {
		defer side.Done()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			c := p.Pools()[i%len(sizes)]
			n, err := c.Shrink()
			if err != nil {
				report(fmt.Errorf("Shrink: %w", err))
			}
			// The pool may grow between a stats read and the Shrink, so
			// the bound that holds is the pool's max.
			if n < 0 || n > maxN {
				report(fmt.Errorf("Shrink of pool %d released %d buffers, more than its max %d", c.Size(), n, maxN))
			}
			runtime.Gosched()
		}
	}()
	go func() {
		defer side.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, c := range p.Pools() {
				s := c.Stats()
				if err := checkPoolStats(s); err != nil {
					report(err)
				}
				if s.Buffers > maxN {
					report(fmt.Errorf("pool %d stats: buffers %d past max %d", s.BufSize, s.Buffers, maxN))
				}
			}
			if s := p.Stats(); s.Buffers != s.Free+s.InUse || s.Pools != uint64(len(sizes)) {
				report(fmt.Errorf("pond stats %+v: buffers != free + in_use", s))
			}
			for _, a := range accts {
				if s := a.Stats(); s.UsedBytes > uint64(maxN*(512+2048+9216)) {
					report(fmt.Errorf("account %s stats %+v: more used than the pools hold", a.Name(), s))
				}
			}
			snapshots.Add(1)
			runtime.Gosched()
		}
	}()
	wg.Wait()
	close(done)
	side.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := failures.Load(); n > 16 {
		t.Errorf("... %d failures in all", n)
	}
	t.Logf("%d stats snapshots", snapshots.Load())
	checkQuiet(t, p, nil)
	for _, a := range accts {
		if s := a.Stats(); s.UsedBytes != 0 {
			t.Errorf("account %s: used_bytes %d after every buffer came back", a.Name(), s.UsedBytes)
		}
	}
	for _, c := range p.Pools() {
		if s := c.Stats(); s.HighWater > maxN || s.Buffers > maxN {
			t.Errorf("pool %d: high_water %d buffers %d past max %d", c.Size(), s.HighWater, s.Buffers, maxN)
		}
	}
}

// poolsState describes the arena and every pool, for failure messages.
func poolsState(p *Pond) string {
	out := fmt.Sprintf("arena %d of %d bytes", p.ArenaBytes(), p.ArenaMax())
	for _, c := range p.Pools() {
		s := c.Stats()
		out += fmt.Sprintf("; pool %d: buffers %d free %d in_use %d slabs %d", s.BufSize, s.Buffers, s.Free, s.InUse, len(c.Slabs()))
	}
	return out
}

// checkPoolStats checks a snapshot's invariants.
func checkPoolStats(s PoolStats) error {
	switch {
	case s.Free > s.Buffers || s.InUse > s.Buffers:
		return fmt.Errorf("pool %d stats: free %d, in_use %d of %d buffers", s.BufSize, s.Free, s.InUse, s.Buffers)
	case s.Buffers != s.Free+s.InUse:
		return fmt.Errorf("pool %d stats: buffers %d != free %d + in_use %d", s.BufSize, s.Buffers, s.Free, s.InUse)
	case s.InUse > s.Allocs:
		return fmt.Errorf("pool %d stats: in_use %d past allocs %d", s.BufSize, s.InUse, s.Allocs)
	}
	return nil
}
