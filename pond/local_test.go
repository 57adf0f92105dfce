package pond

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLocalExclusion is a litmus test of own against lockAt. In each round
// an owner, pinned to its P, and a stealer on the other P are released
// together, each after a short delay that varies from round to round so
// that their entries sweep across each other: the owner takes its local as
// Get and Put do, the stealer takes the same local as refill, credit
// reclaim and audits do. Inside, each side counts itself in and out with an
// atomic and increments a plain counter. Both inside at once, or an
// increment lost, means the exclusion failed. The interleaving that matters
// is the owner's plain store of its flag still in its CPU's store buffer
// while its load of the gate reads 0 and the stealer's load of the flag
// reads 0: the barrier in exclude is what closes it, and without it this
// test fails in the fast version (the lock version passes by construction).
func TestLocalExclusion(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const rounds = 10000
	ls := newLocals()
	var (
		ready, start atomic.Int64 // last round the owner is ready for, last round started
		target       atomic.Int64 // the owner's P
		inside       atomic.Int32
		overlaps     atomic.Int64
		wg           sync.WaitGroup
	)
	critical := func(l *local) {
		if inside.Add(1) != 1 {
			overlaps.Add(1)
		}
		l.credit[0]++
		for range 8 {
			if inside.Load() != 1 {
				overlaps.Add(1)
				break
			}
		}
		inside.Add(-1)
	}
	delay := func(n int) {
		for range n {
			inside.Load()
		}
	}
	wg.Go(func() {
		for n := int64(1); n <= rounds; n++ {
			pid := procPin()
			target.Store(int64(pid))
			ready.Store(n)
			for start.Load() < n {
			}
			delay(int(n * 7 % 32))
			l, lk := ls.own(pid)
			critical(l)
			l.disown(lk)
			procUnpin()
		}
	})
	wg.Go(func() {
		for n := int64(1); n <= rounds; n++ {
			for ready.Load() < n {
			}
			i := int(target.Load())
			start.Store(n)
			delay(int(n * 13 % 32))
			l := ls.lockAt(i)
			critical(l)
			l.unlockAt()
		}
	})
	wg.Wait()
	if n := overlaps.Load(); n > 0 {
		t.Fatalf("owner and stealer were inside the same local together %d times in %d rounds", n, rounds)
	}
	var sum int64
	for i := range ls {
		sum += ls[i].credit[0]
	}
	if sum != 2*rounds {
		t.Fatalf("%d increments counted, want %d: exclusion lost some", sum, 2*rounds)
	}
}
