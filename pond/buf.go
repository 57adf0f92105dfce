package pond

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// meta is the pond's whole bookkeeping for one buffer: 16 bytes, kept
// outside the buffer's own bytes so that a user who maps the arena sees only
// data.
type meta struct {
	// refs is 0 while the buffer is free. It is set without an atomic when
	// the buffer leaves a magazine (nobody else can hold it then) and changed
	// atomically afterwards, when clones may share it.
	refs int32
	// link is the next free slot while the buffer sits in its class's depot,
	// and the index of the account it is charged to while it is in use.
	link int32
	off  uint32 // arena offset / offAlign
	slot int32  // index in the class's metadata table
}

// offAlign is the unit of meta.off; slabs are page-aligned and buffer sizes
// multiples of 8, so 8 bytes keeps a 32 GiB arena within 32 bits.
const offAlign = 8

var _ [16 - unsafe.Sizeof(meta{})]struct{} // meta must stay at 16 bytes

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
func (b Buf) Refs() int { return int(atomic.LoadInt32(&b.m.refs)) }

// Bytes borrows the buffer's whole memory (len == cap == Size). The slice is
// valid while the caller holds a reference; never keep it past Put.
func (b Buf) Bytes() []byte {
	off := b.Offset()
	return b.c.pond.arena.mem[off : off+int64(b.c.size) : off+int64(b.c.size)]
}

// Ref adds a reference to b (for a clone that shares it) and returns b. The
// new reference is released with Put like the first.
func (b Buf) Ref() Buf {
	if atomic.AddInt32(&b.m.refs, 1) <= 1 {
		atomic.AddInt32(&b.m.refs, -1) // leave the free buffer as it was
		panic(fmt.Sprintf("pond: reference taken on free buffer %s", b))
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
