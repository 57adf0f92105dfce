package pond

import (
	"cmp"
	"slices"
	"sync/atomic"
)

// BufInfo describes one buffer in use, for finding what holds memory and
// for how long.
type BufInfo struct {
	Offset  int64  // arena offset
	Refs    int    // references held on it
	Account string // the account it is charged to
	AgeMs   uint64 // milliseconds since it was handed out, to clockTick
}

// InUse lists the pool's buffers in use, oldest first (then by offset).
// A buffer taken or given back meanwhile may be listed or not, and its
// age is the pond clock's, coarse to 10 ms. Who holds each buffer is
// known to the layers above (chains, devices), which match the offsets to
// their own buffers.
//
// Get and Put write a buffer's state and stamp with plain stores inside
// the owner section of the CPU they run on, and otherwise under the
// pool's lock or with atomics. So InUse reads the records a chunk at a
// time holding the pool's lock and every CPU's local, and with atomic
// loads (readBlockLocked): no plain store to a record is then under way,
// and the race detector sees why. Allocation stops while one chunk is
// read, never for the whole list.
func (c *Pool) InUse() []BufInfo {
	p := c.pond
	naccts := int(p.naccts.Load())
	var out []BufInfo
	var recs [metaChunk]record
	c.mu.Lock()
	for first := int32(0); first < c.nslots; first += metaChunk {
		for _, r := range recs[:c.readBlockLocked(first, &recs)] {
			// A free buffer's state is negative; one in use has a
			// reference and the index of its account.
			ai := int(r.state >> refBits)
			if r.state <= 0 || r.state&refMask == 0 || ai >= naccts {
				continue
			}
			out = append(out, BufInfo{
				Offset: int64(r.off) * offAlign, Refs: int(r.state & refMask),
				Account: p.accounts[ai].name, AgeMs: p.clock.ageMs(r.born),
			})
		}
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b BufInfo) int {
		return cmp.Or(cmp.Compare(b.AgeMs, a.AgeMs), cmp.Compare(a.Offset, b.Offset))
	})
	return out
}

// record is what InUse reads of one buffer's meta.
type record struct {
	state     int32
	off, born uint32
}

// readBlockLocked reads the records of the chunk starting at slot first
// into dst and returns how many there are, holding every CPU's local
// meanwhile (in index order; nobody else holds two at once).
func (c *Pool) readBlockLocked(first int32, dst *[metaChunk]record) int {
	ls := c.pond.locals
	for i := range ls {
		ls.lockAt(i)
	}
	b := c.metas[first/metaChunk][:min(metaChunk, c.nslots-first)]
	for i := range b {
		m := &b[i]
		dst[i] = record{atomic.LoadInt32(&m.state), m.off, atomic.LoadUint32(&m.born)}
	}
	for i := range ls {
		ls[i].unlockAt()
	}
	return len(b)
}

// ResetAge makes the buffer's age, as InUse reports it, count from now:
// for a holder that takes a buffer ahead of its use, or keeps one across
// uses, as a device's receiver does with the buffer of its next frame.
// The caller holds a reference to b.
func (b Buf) ResetAge() { atomic.StoreUint32(&b.m.born, b.c.pond.clock.now.Load()) }
