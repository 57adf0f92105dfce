//go:build !race && amd64 && !pondlock

package pond

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The owner of a local works on it with no locked instruction; the rare
// side (stealing, reclaiming credit, auditing) pays a system call instead.
// This is the asymmetric form of Dekker's algorithm. The owner (own):
//
//	O1  owner = 1             plain store
//	O2  gate.Load() == 0 ?    if not: owner = 0, take the slow path
//	    ... owner work ...
//	O3  owner = 0             plain store (disown)
//
// A lock holder (exclude, after taking lock, which also orders it after
// every earlier lock holder):
//
//	S1  gate.Store(1)
//	S2  membarrier(PRIVATE_EXPEDITED)
//	S3  wait until owner == 0
//	    ... work ...
//	S4  gate.Store(0); lock.Store(0)   (unexclude)
//
// membarrier(2) returns only after every running thread of the process has
// passed a full memory barrier, at a point B of its program order between
// the call's entry and return (a thread not running passed one when it was
// switched out). For the owner's thread, B falls somewhere against O1 and
// O2:
//
//   - B before O2: S1 was globally visible before S2 began (it is a locked
//     exchange), so O2, executed after B, reads 1 and the owner backs off to
//     the slow path, where it waits for lock.
//   - B after O2: then O1, which precedes O2, is visible when membarrier
//     returns, so S3 reads 1 and waits for O3; everything the owner did in
//     between is visible by then (below).
//   - The owner not between O1 and O3 at all: S3 reads 0, and the owner's
//     next O2 reads 1 (the first case).
//
// After S4 the next owner's O2 reads 0 from S4's atomic store, which in
// Go's memory model makes the lock holder's work happen before the owner's.
// The slow path: an owner that read a raised gate clears its flag, waits for
// lock (so for S4), raises its flag holding the lock and releases it; the
// next lock holder's acquire sees the flag raised and waits for O3. Two
// lock holders never meet: lock orders them.
//
// What this relies on beyond Go's memory model, which says nothing about
// membarrier or plain stores raced by atomic loads:
//
//   - The pin: between procPin and procUnpin no other goroutine runs on the
//     P, so a local has one owner at a time, and the OS may move the thread
//     between CPUs only through a context switch, itself a full barrier.
//   - The compiler keeps program order among memory operations: Go's SSA
//     backend has one live memory state, so no load or store of the owner
//     work moves across O1, O2 (an atomic) or O3.
//   - A word-sized racing access is seen whole (Go's memory model grants
//     this for races on a single machine word).
//   - The hardware lets a store pass no earlier load or store, and lets a
//     load pass only earlier stores: x86-64's total store order. That makes
//     the owner work visible before O3 with a plain store, and the one
//     reordering it allows (O2 read before O1 is visible) is exactly what
//     membarrier closes; TestLocalExclusion fails without S2. arm64 would
//     need O3 as a store-release and is not argued here, so this file
//     builds on amd64 only and every other architecture, the race detector
//     (blind to membarrier's ordering) and the pondlock build tag (for
//     anyone who would rather not rely on the above) take local_lock.go.

// membarrier(2) commands (linux/membarrier.h).
const (
	membarrierPrivateExpedited         = 1 << 3
	membarrierRegisterPrivateExpedited = 1 << 4
)

// fastOwner is false where the kernel refuses membarrier; every gate then
// stays raised, so every owner takes the lock.
var fastOwner = registerMembarrier()

// gateAtRest is a gate's value while no lock holder is at work.
var gateAtRest = restingGate()

func restingGate() uint32 {
	if fastOwner {
		return 0
	}
	return 1
}

func registerMembarrier() bool {
	_, _, e := unix.RawSyscall(unix.SYS_MEMBARRIER, membarrierRegisterPrivateExpedited, 0, 0)
	return e == 0
}

// tryOwn is own's common case, or nil when it needs ownSlow. The pin stays
// with the caller, and the hot paths call tryOwn themselves, so that get
// and put make no call but the runtime's pin and unpin.
func (ls locals) tryOwn(pid int) *local {
	if pid < len(ls) {
		l := &ls[pid]
		l.owner = 1
		if l.gate.Load() == 0 {
			return l
		}
		l.owner = 0
	}
	return nil
}

func (ls locals) ownSlow(pid int) (*local, bool) {
	if pid >= len(ls) || !fastOwner {
		l := &ls[pid%len(ls)]
		l.exclude()
		return l, true
	}
	l := &ls[pid]
	l.owner = 0
	l.acquire()
	l.owner = 1
	l.lock.Store(0)
	return l, false
}

// disown ends owner work begun by own; the caller then unpins.
func (l *local) disown(locked bool) {
	if locked {
		l.unexcludeSlow()
		return
	}
	l.owner = 0
}

// exclude takes the local from its owner; see the file comment.
func (l *local) exclude() {
	l.acquire()
	if !fastOwner {
		return
	}
	l.gate.Store(1)
	unix.RawSyscall(unix.SYS_MEMBARRIER, membarrierPrivateExpedited, 0, 0)
	for atomic.LoadUint32(&l.owner) != 0 {
	}
}

func (l *local) unexclude() {
	l.gate.Store(gateAtRest)
	l.lock.Store(0)
}

// unexcludeSlow is unexclude kept out of line, so that disown inlines.
//
//go:noinline
func (l *local) unexcludeSlow() { l.unexclude() }

// peek runs f on CPU i's local for reading counters without stopping its
// owner: counters are single machine words, which Go's memory model lets a
// racing read see whole, and a stats snapshot is a moment anyway.
func (ls locals) peek(i int, f func(*local)) { f(&ls[i]) }
