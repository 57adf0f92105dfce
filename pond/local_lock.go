//go:build race || !amd64

package pond

// The race detector cannot see the ordering that local_fast.go builds from
// membarrier, and weaker memory models need release stores it does not
// make, so here every access takes the lock.

// own pins the goroutine and returns its CPU's local for owner work. It
// reports whether the caller must pass true to disown.
func (ls locals) own() (*local, bool) {
	l := &ls[procPin()%len(ls)]
	l.acquire()
	return l, true
}

// disown ends owner work begun by own.
func (l *local) disown(bool) {
	l.lock.Store(0)
	procUnpin()
}

func (l *local) exclude()   { l.acquire() }
func (l *local) unexclude() { l.lock.Store(0) }

// peek runs f on CPU i's local for reading counters.
func (ls locals) peek(i int, f func(*local)) {
	l := ls.lockAt(i)
	f(l)
	l.unlockAt()
}
