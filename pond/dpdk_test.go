package pond

import (
	"encoding/binary"
	"errors"
	"testing"
)

// TestTakeEveryBuffer is the DPDK mempool test: take every buffer of a
// fixed-size class, stamp each with its index, verify every stamp, check
// that one more fails, put all back, and do it again: nothing may leak and
// the second round must see the same buffers.
func TestTakeEveryBuffer(t *testing.T) {
	for _, tc := range []struct {
		size, count, growBy int
	}{
		{size: 2048, count: 256, growBy: 64},
		{size: 64, count: 1000, growBy: 7},
		{size: 9216, count: 100, growBy: 100},
		{size: 65536, count: 16, growBy: 3},
	} {
		t.Run("", func(t *testing.T) {
			p := newTestPond(t, onePool(tc.size, tc.count, tc.count, tc.growBy, 64<<20))
			a := newAccount(t, p, "a", unlimited)
			c := mustPool(t, p, tc.size)
			buffers := c.Stats().Buffers
			if buffers != uint64(tc.count) {
				t.Fatalf("pool with min=max=%d holds %d buffers", tc.count, buffers)
			}
			var first map[int64]bool
			for round := range 2 {
				bufs := make([]Buf, 0, tc.count)
				for i := range tc.count {
					b, err := p.Get(a, tc.size)
					if err != nil {
						putAll(p, bufs)
						t.Fatalf("round %d: Get #%d of %d: %v", round, i, tc.count, err)
					}
					checkInArena(t, p, b)
					binary.LittleEndian.PutUint64(b.Bytes(), uint64(i))
					bufs = append(bufs, b)
				}
				offs := make(map[int64]bool, len(bufs))
				for i, b := range bufs {
					if got := binary.LittleEndian.Uint64(b.Bytes()); got != uint64(i) {
						t.Errorf("round %d: buffer %d (%s) holds stamp %d", round, i, b, got)
					}
					if offs[b.Offset()] {
						t.Errorf("round %d: buffer %s handed out twice", round, b)
					}
					offs[b.Offset()] = true
				}
				if b, err := p.Get(a, tc.size); !errors.Is(err, ErrExhausted) {
					if err == nil {
						p.Put(b)
					}
					t.Errorf("round %d: Get beyond max: %v, want ErrExhausted", round, err)
				}
				if s := c.Stats(); s.InUse != uint64(tc.count) || s.Free != 0 {
					t.Errorf("round %d: all taken: in_use %d free %d, want %d and 0", round, s.InUse, s.Free, tc.count)
				}
				putAll(p, bufs)
				checkQuiet(t, p, nil)
				if s := c.Stats(); s.Buffers != buffers {
					t.Errorf("round %d: pool holds %d buffers, want %d", round, s.Buffers, buffers)
				}
				if round == 0 {
					first = offs
					continue
				}
				for off := range offs {
					if !first[off] {
						t.Errorf("round %d: buffer at %d was not handed out in round 0", round, off)
					}
				}
			}
		})
	}
}

// TestBuffersInsideArena checks, over every class of the default
// configuration, that each buffer lies inside the arena file and Bytes is
// the arena's memory at its offset (so another process mapping the arena
// sees what the pond's user writes).
func TestBuffersInsideArena(t *testing.T) {
	p := newTestPond(t, DefaultConfig())
	a := newAccount(t, p, "a", unlimited)
	var bufs []Buf
	defer func() { putAll(p, bufs) }()
	for _, c := range p.Pools() {
		// More than min, so the pool grows at least once.
		n := int(c.Stats().Min) + int(c.Stats().GrowBy) + 1
		for i := range n {
			b := mustGet(t, p, a, c.Size())
			if b.Size() != c.Size() {
				t.Fatalf("Get(%d) #%d: buffer of %d", c.Size(), i, b.Size())
			}
			checkInArena(t, p, b)
			stamp(b, uint64(len(bufs)))
			bufs = append(bufs, b)
		}
	}
	arena := p.Arena()
	// The mapping reserves address space beyond the memory bound (see
	// arena.go); the file never outgrows the mapping.
	if int64(len(arena)) < p.ArenaMax() || p.ArenaBytes() > int64(len(arena)) {
		t.Errorf("arena mapping %d bytes, file %d, max %d", len(arena), p.ArenaBytes(), p.ArenaMax())
	}
	for i, b := range bufs {
		if !stamped(b, uint64(i)) {
			t.Errorf("buffer %s lost its stamp %d", b, i)
		}
		// Write through the arena, read through the buffer.
		arena[b.Offset()+1] = byte(i)
		if b.Bytes()[1] != byte(i) {
			t.Errorf("buffer %s: write through Arena() not seen in Bytes()", b)
		}
	}
}
