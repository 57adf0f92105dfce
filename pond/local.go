package pond

import (
	"runtime"
	"sync/atomic"
	_ "unsafe" // for go:linkname
)

// procPin binds the goroutine to its P and returns the P's id; while pinned
// it cannot be preempted, so a short critical section on per-P data never
// stalls with its lock held. sync.Pool rests on the same primitive.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// Bounds on a pond's shape, so that per-CPU state is a flat struct.
const (
	maxClasses  = 16
	maxAccounts = 64
)

// magSize is how many free buffers one CPU keeps per class: enough that a
// burst of gets and puts stays on the CPU, few enough that stealing from
// every CPU stays cheap.
const magSize = 64

// magazine is a CPU's stack of free buffers of one class.
type magazine struct {
	n int
	m [magSize]*meta
}

func (g *magazine) pop() *meta {
	if g.n == 0 {
		return nil
	}
	g.n--
	m := g.m[g.n]
	g.m[g.n] = nil
	return m
}

func (g *magazine) push(m *meta) bool {
	if g.n == magSize {
		return false
	}
	g.m[g.n] = m
	g.n++
	return true
}

// takeHalf moves the older half of the magazine into out and returns how
// many it moved.
func (g *magazine) takeHalf(out *[magSize]*meta) int {
	k := (g.n + 1) / 2
	copy(out[:], g.m[:k])
	copy(g.m[:], g.m[k:g.n])
	clear(g.m[g.n-k : g.n])
	g.n -= k
	return k
}

// takeAll empties the magazine into out and returns how many it moved.
func (g *magazine) takeAll(out []*meta) []*meta {
	out = append(out, g.m[:g.n]...)
	clear(g.m[:g.n])
	g.n = 0
	return out
}

// local is one CPU's share of a pond: its magazines, the quota it holds for
// each account, and its counters. One lock guards all of it, so a get or a
// put costs one uncontended lock. The lock is only ever held by a pinned
// goroutine, so a holder is never descheduled and a waiter spins for a
// handful of instructions; nothing that can block may run while it is held.
type local struct {
	lock atomic.Uint32

	mags        [maxClasses]magazine
	credit      [maxAccounts]int64 // quota bytes granted to this CPU, unused
	classAllocs [maxClasses]uint64
	classFrees  [maxClasses]uint64
	acctAllocs  [maxAccounts]uint64

	_ [64]byte // keeps the next CPU's lock off this cache line
}

func (l *local) acquire() {
	for !l.lock.CompareAndSwap(0, 1) {
		// Reached only with GOMAXPROCS > 1: the holder is pinned on
		// another P and done in a few instructions.
		for l.lock.Load() != 0 {
		}
	}
}

// locals is a pond's per-CPU state, one entry per P.
type locals []local

func newLocals() locals { return make(locals, runtime.GOMAXPROCS(0)) }

// pinned pins the goroutine and returns its CPU's local, locked. Release
// with unpin before anything that can block or allocate.
func (ls locals) pinned() *local {
	l := &ls[procPin()%len(ls)]
	l.acquire()
	return l
}

// at pins the goroutine and locks CPU i's local, for stealing, reclaiming
// and reading stats. Release with unpin.
func (ls locals) at(i int) *local {
	procPin()
	l := &ls[i]
	l.acquire()
	return l
}

func unpin(l *local) {
	l.lock.Store(0)
	procUnpin()
}
