package pond

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Fault injection: FailAfter makes a pool refuse allocations on purpose, so
// that the error paths of a program built on the pond can be tested. It is
// deterministic: the same sequence of allocations fails at the same place.
//
// It must be exact, yet cost the per-CPU fast path of Get nothing while no
// injection is armed. Get's fast path serves a buffer only when the CPU's
// credit covers the pool's fastCharge, which is the buffer size while
// unarmed; it loads fastCharge where it would load the size anyway, so
// unarmed it does no extra work. Arming stores a charge no credit can
// cover, so every Get that loads it afterwards takes getSlow, where the
// injection is counted under its mutex. A Get that loaded the old charge
// before the store runs concurrently with the arming and is ordered before
// it: it is not one of the "N more". Puts never look at it. Allocations
// that do not start at Get (GetList's plans) always go through getSlow.

// armedCharge is fastCharge while armed: no CPU's credit covers it.
const armedCharge = math.MaxInt64

// injection is a pool's fail-after state.
type injection struct {
	mu    sync.Mutex // guards pass and fail
	pass  int64      // allocations still to succeed before failures start
	fail  int64      // allocations to fail after those; 0: unarmed
	armed atomic.Bool
	fails atomic.Uint64 // allocations failed on purpose, ever
}

// FailAfter arms fault injection: after n more allocations from the pool
// succeed, the next count fail with ErrExhausted (also matching
// ErrInjected), as if the pool were at its max and nothing were freed in
// time, so they do not wait and do not fall back to a larger pool. Arming
// again replaces the previous setting. count 0 disarms.
func (c *Pool) FailAfter(n, count int) error {
	if n < 0 || count < 0 {
		return fmt.Errorf("pool %d: fail-after %d %d (want counts >= 0): %w", c.size, n, count, ErrInvalid)
	}
	f := &c.inject
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pass, f.fail = int64(n), int64(count)
	c.setArmedLocked(count > 0)
	return nil
}

// setArmedLocked switches Get's fast path for the pool off or on; f.mu is
// held, so the flag and the charge change together.
func (c *Pool) setArmedLocked(on bool) {
	c.inject.armed.Store(on)
	if on {
		c.fastCharge.Store(armedCharge)
		return
	}
	c.fastCharge.Store(int64(c.size))
}

// admit decides, for an allocation from the pool about to take a buffer,
// whether it may (ok) or fails on purpose; counted says it used one of the
// passes, which unadmit gives back if it then finds no buffer, since only
// successes count. Its callers check inject.armed first, so unarmed pools
// never take the mutex.
func (c *Pool) admit() (ok, counted bool) {
	f := &c.inject
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.fail == 0:
		return true, false
	case f.pass > 0:
		f.pass--
		return true, true
	}
	f.fail--
	if f.fail == 0 {
		c.setArmedLocked(false)
	}
	f.fails.Add(1)
	c.fails.Add(1)
	return false, false
}

// unadmit gives back the pass of an admitted allocation that failed for a
// real reason, unless the injection was replaced meanwhile.
func (c *Pool) unadmit() {
	f := &c.inject
	f.mu.Lock()
	if f.fail > 0 {
		f.pass++
	}
	f.mu.Unlock()
}

func (c *Pool) injectedErr() error {
	return fmt.Errorf("get %d-byte buffer: %w (%w)", c.size, ErrExhausted, ErrInjected)
}
