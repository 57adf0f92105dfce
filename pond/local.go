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

// local is one CPU's share of a pond: its magazines, the quota it holds for
// each account, and its counters. The goroutine running on that CPU (pinned
// to its P, so it cannot be preempted half-way) is its owner and works on it
// through own; anyone else (stealing, reclaiming credit, auditing) takes it
// exclusively through lockAt, and stats read it through peek. How own
// excludes the others without a locked instruction on the common path is
// the business of local_fast.go; local_lock.go is the plain spin-lock
// version used under the race detector and on other architectures.
type local struct {
	lock  atomic.Uint32 // held by whoever is not the owner
	gate  atomic.Uint32 // set while a lock holder needs the owner out
	owner uint32        // 1 while the owner works on the local

	mags        [maxClasses]magazine
	credit      [maxAccounts]int64 // quota bytes granted to this CPU, unused
	classAllocs [maxClasses]uint64
	classFrees  [maxClasses]uint64
	acctAllocs  [maxAccounts]uint64
	// Bytes charged and released here, per account: monotonic, so that a
	// reader summing all charges before all releases never overstates use.
	acctCharged  [maxAccounts]uint64
	acctReleased [maxAccounts]uint64

	_ [64]byte // keeps the next CPU's lock off this cache line
}

// acquire spins for the lock; its holder is always pinned, so it is never
// descheduled by Go and is done in a few instructions.
func (l *local) acquire() {
	for !l.lock.CompareAndSwap(0, 1) {
		for l.lock.Load() != 0 {
		}
	}
}

// locals is a pond's per-CPU state, one entry per P.
type locals []local

// newLocals sizes the table for every P the process may run; a P beyond it
// (GOMAXPROCS raised later) still works, through the slower lockAt path.
func newLocals() locals { return make(locals, max(runtime.GOMAXPROCS(0), runtime.NumCPU())) }

// lockAt pins the goroutine and takes CPU i's local exclusively, from any
// CPU. Release with unlockAt.
func (ls locals) lockAt(i int) *local {
	procPin()
	l := &ls[i]
	l.exclude()
	return l
}

func (l *local) unlockAt() {
	l.unexclude()
	procUnpin()
}
