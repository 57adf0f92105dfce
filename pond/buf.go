package pond

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// meta is the pond's whole bookkeeping for one buffer: 12 bytes, kept
// outside the buffer's own bytes so that a user who maps the arena sees only
// data. A record does not hold its own slot in the class's metadata table:
// the few operations that need it (the depot's free list, reached only
// under the pool's lock) compute it from the record's address (slotOf).
type meta struct {
	// state is, while the buffer is in use, the number of references in
	// its low refBits bits and the index of the account it is charged to
	// above them; it is never negative then. While the buffer is free it
	// is negative: freeState of the next slot in whatever free list holds
	// it. One word for both lets a release read the account it credits and
	// check the count in one load, and the sign alone tells a double
	// release. Get and Put set it without an atomic inside the owner
	// section of their CPU (nobody else can hold the buffer then; InUse
	// relies on the section), the slow path with an atomic, and it is
	// changed atomically while clones may share it.
	state int32
	off   uint32 // arena offset / offAlign
	// born is the pond's clock when the buffer was last handed out, for
	// InUse's ages; set with state.
	born uint32
}

// refBits is the width of a buffer's reference count within meta.state:
// 16M references to one buffer, with 7 bits left for maxAccounts.
const (
	refBits = 24
	refMask = 1<<refBits - 1
)

var _ [1<<(31-refBits) - maxAccounts]struct{} // account indexes must fit

// inUseState is the state of a buffer just taken for account ai.
func inUseState(ai int) int32 { return int32(ai)<<refBits | 1 }

// freeState is the state of a free buffer whose free list continues at
// slot next (-1: nowhere): always negative.
func freeState(next int32) int32 { return -2 - next }

// next is the slot after m in the free list holding it.
func (m *meta) next() int32 { return -2 - m.state }

// offAlign is the unit of meta.off; slabs are page-aligned and buffer sizes
// multiples of 8, so 8 bytes keeps a 32 GiB arena within 32 bits.
const offAlign = 8

var _ [12 - unsafe.Sizeof(meta{})]struct{} // meta must stay at 12 bytes

// Buf is a handle to one pond buffer. It is a small value: copying it does
// not copy the buffer or add a reference. The zero Buf is no buffer.
type Buf struct {
	c *Pool
	m *meta
}

// Valid reports whether b refers to a buffer.
func (b Buf) Valid() bool { return b.m != nil }

// Pond is the pond the buffer belongs to.
func (b Buf) Pond() *Pond { return b.c.pond }

// Size is the buffer's capacity in bytes (its class's size).
func (b Buf) Size() int { return b.c.size }

// Offset is the buffer's stable offset in the arena.
func (b Buf) Offset() int64 { return int64(b.m.off) * offAlign }

// Refs is the number of references held on the buffer.
func (b Buf) Refs() int { return int(max(atomic.LoadInt32(&b.m.state), 0) & refMask) }

// Bytes borrows the buffer's whole memory (len == cap == Size). The slice is
// valid while the caller holds a reference; never keep it past Put.
func (b Buf) Bytes() []byte {
	off := b.Offset()
	return b.c.pond.arena.mem[off : off+int64(b.c.size) : off+int64(b.c.size)]
}

// Ref adds a reference to b (for a clone that shares it) and returns b. The
// new reference is released with Put like the first.
func (b Buf) Ref() Buf {
	switch s := atomic.AddInt32(&b.m.state, 1); {
	case s <= 0:
		atomic.AddInt32(&b.m.state, -1) // leave the free buffer as it was
		panic(fmt.Sprintf("pond: reference taken on free buffer %s", b))
	case s&refMask == 0:
		atomic.AddInt32(&b.m.state, -1)
		panic(fmt.Sprintf("pond: more than %d references to buffer %s", refMask, b))
	}
	return b
}

// String names the buffer by class size and arena offset, as panics and
// logs do.
func (b Buf) String() string {
	if !b.Valid() {
		return "<no buffer>"
	}
	return fmt.Sprintf("%d@%d", b.c.size, b.Offset())
}
