package pond

import (
	"fmt"
	"sync/atomic"
)

// creditBatch is how much of an account's quota a CPU takes at once, so
// that most charges touch only that CPU's own counter; creditHigh is what a
// CPU may hold before it hands a batch back.
const (
	creditBatch = 64 << 10
	creditHigh  = 2 * creditBatch
)

// Account is a named byte limit that allocations are charged to, so that
// one subsystem (the file system's chains, a device's receive side) cannot
// starve another. An account lives as long as its pond.
//
// Quota moves from the account to CPUs in batches; a charge that finds its
// CPU's credit short takes a new batch, and one that finds the account short
// first reclaims every CPU's unused credit, so a limit is exact.
type Account struct {
	pond *Pond
	name string
	idx  int

	limit   atomic.Int64
	granted atomic.Int64 // charged to callers or held as CPU credit
	// tight (the pond's flag for this account, kept there so that a free
	// finds it without loading the account) is set while the account is near (or, after its limit was
	// lowered, over) its limit: charges then take exactly what they need
	// and frees go straight back to the account instead of becoming CPU
	// credit, so no quota hides on a CPU where a charge elsewhere could
	// not reach it.
	tight       *atomic.Bool
	highWater   atomic.Int64
	slowAllocs  atomic.Uint64 // allocations not counted by a CPU
	slowCharged atomic.Uint64 // their bytes
	fails       atomic.Uint64
	waits       atomic.Uint64
}

// Name is the account's name.
func (a *Account) Name() string { return a.name }

// Limit is the account's byte limit.
func (a *Account) Limit() int64 { return a.limit.Load() }

// SetLimit changes the account's byte limit. Lowering it below what is in
// use takes nothing back; further charges fail until use drops below it.
// Raising it wakes allocations waiting on this account.
func (a *Account) SetLimit(bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("set limit of account %s to %d: %w", a.name, bytes, ErrInvalid)
	}
	a.limit.Store(bytes)
	a.tight.Store(true)
	a.reclaim()
	a.loosen()
	a.pond.wake()
	return nil
}

// tightExit is the room an account needs before it leaves tight mode:
// enough that every CPU can hold its full credit at once.
const tightExit = 4 * creditHigh

// loosen leaves tight mode when the account has room again.
func (a *Account) loosen() {
	if a.limit.Load()-a.granted.Load() >= tightExit {
		a.tight.Store(false)
	}
}

// settle finishes a free of n bytes that its CPU could not absorb: in
// tight mode the bytes go straight back to the account, and a CPU holding
// surplus credit hands a batch back.
func (a *Account) settle(n int64, tight, surplus bool) {
	if tight {
		a.release(n)
	}
	if surplus {
		a.granted.Add(-creditBatch)
	}
}

// release returns n bytes that a free gave back in tight mode.
func (a *Account) release(n int64) {
	a.granted.Add(-n)
	a.loosen()
}

// grant charges n bytes to the account for one allocation, topping up the
// calling CPU's credit on the way when the account has room to spare. At
// the limit it turns tight, takes back every CPU's unused credit and tries
// once more for exactly n, so a charge fails only when the account really
// is full. It reports false then. It must be called with no local owned.
//
// Setting tight before the reclaim is what makes this exact: a free either
// finished before the reclaim looked at its CPU (its credit is taken) or
// sees tight and gives its bytes straight back.
func (a *Account) grant(n int64) bool {
	if !a.tight.Load() && a.grantBatch(n, max(n, creditBatch)) {
		return true
	}
	a.tight.Store(true)
	if a.grantBatch(n, n) {
		return true
	}
	a.reclaim()
	return a.grantBatch(n, n)
}

func (a *Account) grantBatch(n, want int64) bool {
	for {
		g, lim := a.granted.Load(), a.limit.Load()
		room := lim - g
		if room < n {
			return false
		}
		take := min(want, room)
		if !a.granted.CompareAndSwap(g, g+take) {
			continue
		}
		if extra := take - n; extra > 0 {
			a.deposit(extra)
		}
		return true
	}
}

// deposit puts quota granted beyond one charge on this CPU as credit, or
// back into the account if it turned tight meanwhile; tight is read inside
// the owner section for the reason given at grant.
func (a *Account) deposit(extra int64) {
	l, lk := a.pond.locals.own(procPin())
	tight := a.tight.Load()
	if !tight {
		l.credit[a.idx] += extra
	}
	l.disown(lk)
	procUnpin()
	if tight {
		a.granted.Add(-extra)
	}
}

// ungrant returns n bytes charged by grant that were not used.
func (a *Account) ungrant(n int64) { a.granted.Add(-n) }

// reclaim takes every CPU's unused credit back into the account.
func (a *Account) reclaim() {
	for i := range a.pond.locals {
		l := a.pond.locals.lockAt(i)
		c := l.credit[a.idx]
		l.credit[a.idx] = 0
		l.unlockAt()
		a.granted.Add(-c)
	}
}

// used is the bytes charged and not yet released: every CPU's charges
// summed before every CPU's releases, so a racing reader can understate use
// but never overstate it.
func (a *Account) used() (used int64, allocs uint64) {
	charged := a.slowCharged.Load()
	allocs = a.slowAllocs.Load()
	for i := range a.pond.locals {
		a.pond.locals.peek(i, func(l *local) {
			charged += acctBytes(&l.allocs[a.idx], a.pond.sizes)
			for _, n := range l.allocs[a.idx] {
				allocs += n
			}
		})
	}
	var released uint64
	for i := range a.pond.locals {
		a.pond.locals.peek(i, func(l *local) { released += acctBytes(&l.frees[a.idx], a.pond.sizes) })
	}
	return max(0, int64(charged)-int64(released)), allocs
}

// noteHighWater records the present use as the high-water mark if it is
// one. It runs on slow paths and stats reads, so a peak that rises and falls
// between two of them within one CPU's credit can go unrecorded.
func (a *Account) noteHighWater() {
	u, _ := a.used()
	for hw := a.highWater.Load(); u > hw && !a.highWater.CompareAndSwap(hw, u); hw = a.highWater.Load() {
	}
}
