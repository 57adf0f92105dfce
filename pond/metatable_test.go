package pond

import "testing"

// TestSlotOfRecord: every record's slot, as the depot's free list computes
// it from the record's address, is the slot the table holds it at: over
// many chunks, with two pools growing in turn so that their chunks lie
// interleaved in memory, and after Shrink has freed records and growth
// reused them.
func TestSlotOfRecord(t *testing.T) {
	const rounds = 6
	p := newTestPond(t, Config{Classes: []ClassConfig{
		{Size: 128, Max: rounds * metaChunk, GrowBy: metaChunk},
		{Size: 256, Max: rounds * metaChunk, GrowBy: metaChunk},
	}, ArenaMax: 64 << 20})
	a := newAccount(t, p, "a", unlimited)
	pools := []*Pool{mustPool(t, p, 128), mustPool(t, p, 256)}
	var bufs []Buf
	fill := func(chunks int) {
		for range chunks {
			for _, c := range pools {
				for range metaChunk {
					bufs = append(bufs, mustGet(t, p, a, c.Size()))
				}
			}
		}
	}
	fill(rounds / 2)
	putAll(p, bufs)
	bufs = bufs[:0]
	for _, c := range pools {
		if _, err := c.shrink(); err != nil {
			t.Fatal(err)
		}
	}
	fill(rounds)
	for _, c := range pools {
		c.mu.Lock()
		if len(c.metas) != rounds {
			t.Errorf("pool %d: %d chunks, want %d", c.Size(), len(c.metas), rounds)
		}
		for slot := range c.nslots {
			if got := c.slotOfLocked(c.metaAt(slot)); got != slot {
				t.Errorf("pool %d: slotOfLocked(record %d) = %d", c.Size(), slot, got)
				break
			}
		}
		c.mu.Unlock()
	}
	putAll(p, bufs)
	if err := p.Audit(); err != nil {
		t.Error(err)
	}
}
