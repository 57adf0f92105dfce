//go:build race || !amd64 || pondlock

package pond

// The race detector cannot see the ordering that local_fast.go builds from
// membarrier, weaker memory models need release stores it does not make,
// and the pondlock build tag asks for this version: here every access takes
// the lock.

// gateAtRest is a gate's value while no lock holder is at work; this
// version never reads the gate.
const gateAtRest = 0

// tryOwn never succeeds here: every owner takes the lock.
func (ls locals) tryOwn(int) *local { return nil }

func (ls locals) ownSlow(pid int) (*local, bool) {
	l := &ls[pid%len(ls)]
	l.acquire()
	return l, true
}

// disown ends owner work begun by own; the caller then unpins.
func (l *local) disown(bool) { l.lock.Store(0) }

func (l *local) exclude()   { l.acquire() }
func (l *local) unexclude() { l.lock.Store(0) }

// peek runs f on CPU i's local for reading counters.
func (ls locals) peek(i int, f func(*local)) {
	l := ls.lockAt(i)
	f(l)
	l.unlockAt()
}
