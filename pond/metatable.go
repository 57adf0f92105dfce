package pond

import (
	"sort"
	"unsafe"
)

// metaChunk is how many buffer records one metadata chunk holds; chunks
// never move, so a *meta stays valid while its class lives.
const metaChunk = 256

// metaBlock is one chunk of a pool's metadata table: 3 KiB, one of the Go
// allocator's size classes, so a chunk wastes nothing.
type metaBlock [metaChunk]meta

// blockAddr is where one chunk of the table lies in memory, and the slot
// of its first record.
type blockAddr struct {
	base  uintptr
	first int32
}

func (c *Pool) metaAt(slot int32) *meta { return &c.metas[slot/metaChunk][slot%metaChunk] }

// newMetaLocked returns a record for a new buffer, reusing one Shrink freed.
func (c *Pool) newMetaLocked() *meta {
	if c.unused >= 0 {
		m := c.metaAt(c.unused)
		c.unused = m.next()
		return m
	}
	if int(c.nslots)%metaChunk == 0 {
		c.addBlockLocked()
	}
	m := c.metaAt(c.nslots)
	c.nslots++
	return m
}

// addBlockLocked appends a chunk to the table and files its address.
func (c *Pool) addBlockLocked() {
	b := new(metaBlock)
	c.metas = append(c.metas, b)
	a := blockAddr{base: uintptr(unsafe.Pointer(b)), first: int32(len(c.metas)-1) * metaChunk}
	i := sort.Search(len(c.byAddr), func(i int) bool { return c.byAddr[i].base > a.base })
	c.byAddr = append(c.byAddr, blockAddr{})
	copy(c.byAddr[i+1:], c.byAddr[i:])
	c.byAddr[i] = a
}

// slotOfLocked is m's index in the table, found from its address: the
// chunk that starts last at or before m holds it, since chunks are
// separate allocations that never move (Go's heap does not move objects).
// Keeping the slot in each record instead would cost every buffer 4
// bytes; this costs a binary search over the chunks, and only the depot's
// free list, under the pool's lock, asks for it.
func (c *Pool) slotOfLocked(m *meta) int32 {
	a := uintptr(unsafe.Pointer(m))
	lo, hi := 0, len(c.byAddr) // the chunk is the last with base <= a
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if c.byAddr[mid].base <= a {
			lo = mid
		} else {
			hi = mid
		}
	}
	b := c.byAddr[lo]
	return b.first + int32((a-b.base)/unsafe.Sizeof(meta{}))
}
