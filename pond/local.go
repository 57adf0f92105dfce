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
// the business of local_fast.go, which carries the argument; local_lock.go
// is the plain spin-lock version used under the race detector, on other
// architectures and with the pondlock build tag.
type local struct {
	lock  atomic.Uint32 // held by whoever is not the owner
	gate  atomic.Uint32 // set while a lock holder needs the owner out
	owner uint32        // 1 while the owner works on the local

	mags   [maxClasses]magazine
	credit [maxAccounts]int64 // quota bytes granted to this CPU, unused
	// Gets served and buffers freed here, per account and class: one
	// counter per operation on the hot path, from which the class counts
	// and each account's bytes follow. They only grow, so a reader summing
	// every allocation before every free never overstates use.
	allocs [maxAccounts][maxClasses]uint64
	frees  [maxAccounts][maxClasses]uint64

	_ [64]byte // keeps the next CPU's lock off this cache line
}

// classAllocs is the gets of class ci served here, over every account.
func (l *local) classAllocs(ci int) (n uint64) {
	for a := range l.allocs {
		n += l.allocs[a][ci]
	}
	return n
}

// classFrees is the frees of class ci here, over every account.
func (l *local) classFrees(ci int) (n uint64) {
	for a := range l.frees {
		n += l.frees[a][ci]
	}
	return n
}

// acctBytes is the bytes of the buffers counted in per-class counts, given
// each class's buffer size.
func acctBytes(counts *[maxClasses]uint64, sizes []int) (bytes uint64) {
	for ci, size := range sizes {
		bytes += counts[ci] * uint64(size)
	}
	return bytes
}

// acquire spins for the lock; its holder is always pinned, so it is never
// descheduled by Go and is done in a few instructions.
func (l *local) acquire() {
	for !l.lock.CompareAndSwap(0, 1) {
		for l.lock.Load() != 0 {
		}
	}
}

// own returns the local of P pid, which the caller has pinned with
// procPin, for owner work. It reports whether the caller must pass true to
// disown (the lock was taken because a lock holder was at work, or this P
// has no local of its own). The pin stays with the caller so that tryOwn
// and disown fit Go's inlining budget.
func (ls locals) own(pid int) (*local, bool) {
	if l := ls.tryOwn(pid); l != nil {
		return l, false
	}
	return ls.ownSlow(pid)
}

// locals is a pond's per-CPU state, one entry per P.
type locals []local

// newLocals sizes the table for every P the process may run; a P beyond it
// (GOMAXPROCS raised later) still works, through the slower lockAt path.
func newLocals() locals {
	ls := make(locals, max(runtime.GOMAXPROCS(0), runtime.NumCPU()))
	for i := range ls {
		ls[i].gate.Store(gateAtRest)
	}
	return ls
}

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
