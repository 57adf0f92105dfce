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

// fastOwner is false where the kernel refuses membarrier; every owner then
// takes the lock.
var fastOwner = registerMembarrier()

func registerMembarrier() bool {
	_, _, e := unix.RawSyscall(unix.SYS_MEMBARRIER, membarrierRegisterPrivateExpedited, 0, 0)
	return e == 0
}

// own pins the goroutine and returns its CPU's local for owner work. It
// reports whether the caller must pass true to disown (the lock was taken
// because a lock holder was at work, or this P has no local of its own).
// It is small enough to inline; the rest is in ownSlow.
func (ls locals) own() (*local, bool) {
	pid := procPin()
	if pid < len(ls) && fastOwner {
		l := &ls[pid]
		l.owner = 1
		if l.gate.Load() == 0 {
			return l, false
		}
	}
	return ls.ownSlow(pid)
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

// disown ends owner work begun by own.
func (l *local) disown(locked bool) {
	if locked {
		l.unexclude()
	} else {
		l.owner = 0
	}
	procUnpin()
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
	l.gate.Store(0)
	l.lock.Store(0)
}

// peek runs f on CPU i's local for reading counters without stopping its
// owner: counters are single machine words, which Go's memory model lets a
// racing read see whole, and a stats snapshot is a moment anyway.
func (ls locals) peek(i int, f func(*local)) { f(&ls[i]) }
