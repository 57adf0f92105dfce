//go:build !race && amd64

package pond

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The owner of a local works on it with no locked instruction: it raises
// its owner flag with a plain store and checks the gate. A lock holder
// raises the gate, then runs membarrier(2), which makes every running
// thread of the process pass a full memory barrier, and waits for the owner
// flag to fall. This is the asymmetric form of Dekker's algorithm: the rare
// side (stealing, reclaiming credit) pays a system call so the common side
// (every get and put) pays nothing. x86's total store order makes the
// owner's plain stores visible in program order, which is why this file is
// amd64 only.

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
