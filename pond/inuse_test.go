package pond

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestInUse: the buffers in use are listed with their references and
// account, oldest first; their ages grow with the pond's clock, and
// ResetAge starts one's afresh; free buffers are not listed.
func TestInUse(t *testing.T) {
	p := newTestPond(t, twoPools())
	a := newAccount(t, p, "a", unlimited)
	b := newAccount(t, p, "b", unlimited)
	c := mustPool(t, p, 128)
	if got := c.InUse(); len(got) != 0 {
		t.Fatalf("InUse of an idle pool: %v", got)
	}
	old := mustGet(t, p, a, 100)
	waitFor(t, "the clock to tick", func() bool { return p.clock.ageMs(0) >= 2*uint64(clockTick.Milliseconds()) })
	young := mustGet(t, p, b, 100)
	young.Ref()
	gone := mustGet(t, p, a, 100)
	p.Put(gone)
	got := c.InUse()
	if len(got) != 2 || got[0].Offset != old.Offset() || got[1].Offset != young.Offset() {
		t.Fatalf("InUse = %+v, want %d then %d", got, old.Offset(), young.Offset())
	}
	if got[0].Refs != 1 || got[0].Account != "a" || got[1].Refs != 2 || got[1].Account != "b" {
		t.Errorf("InUse = %+v", got)
	}
	if got[0].AgeMs <= got[1].AgeMs {
		t.Errorf("ages %d and %d: the older is not older", got[0].AgeMs, got[1].AgeMs)
	}
	first := got[1].AgeMs
	waitFor(t, "the young buffer to age", func() bool { return c.InUse()[1].AgeMs > first })
	if n := len(mustPool(t, p, 2048).InUse()); n != 0 {
		t.Errorf("the other pool lists %d buffers", n)
	}
	old.ResetAge()
	waitFor(t, "the reset buffer to be the younger", func() bool {
		got := c.InUse()
		return got[0].Offset == young.Offset() && got[1].Offset == old.Offset() && got[0].AgeMs > got[1].AgeMs
	})
	putAll(p, []Buf{old, young, young})
	if got := c.InUse(); len(got) != 0 {
		t.Errorf("InUse after every Put: %v", got)
	}
}

// TestInUseWhileGetAndPut: InUse lists buffers while other goroutines take
// and give back buffers on the fast path and the slow one. Under the race
// detector it fails unless every store to a record that InUse reads is
// ordered with its reading: inside an owner section, under the pool's
// lock, or atomic. Each buffer listed is one in use by a known account.
func TestInUseWhileGetAndPut(t *testing.T) {
	p := newTestPond(t, twoPools())
	a := newAccount(t, p, "a", unlimited)
	c := mustPool(t, p, 128)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var rounds atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			held := make([]Buf, 0, 3*magSize)
			for {
				select {
				case <-stop:
					putAll(p, held)
					return
				default:
				}
				// More than a magazine holds, so that some come from
				// the depot through the slow path.
				for range cap(held) {
					held = append(held, mustGetNoT(p, a, 100))
				}
				putAll(p, held)
				held = held[:0]
				rounds.Add(1)
			}
		}()
	}
	waitFor(t, "rounds of gets and puts beside InUse", func() bool {
		for _, in := range c.InUse() {
			if in.Refs != 1 || in.Account != "a" {
				t.Errorf("InUse listed %+v", in)
			}
		}
		return rounds.Load() >= 300
	})
	close(stop)
	wg.Wait()
}
