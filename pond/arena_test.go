package pond

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The mount's arena file is the memfd itself when FUSE passthrough is on,
// so a write past its end grows the file behind the pond's back; the pond
// must go on growing pools without truncating (the shrink seal forbids it).
func TestGrowAfterArenaExtendedOutside(t *testing.T) {
	p := newTestPond(t, DefaultConfig())
	if _, err := unix.Pwrite(p.Fd(), []byte{1}, p.ArenaBytes()+8<<20); err != nil {
		t.Fatal(err)
	}
	pool, err := p.Pool(2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.SetMin(1024); err != nil {
		t.Fatalf("grow after an outside write past the end: %v", err)
	}
	if got := pool.Stats().Buffers; got < 1024 {
		t.Fatalf("buffers %d after SetMin(1024)", got)
	}
}

// Pools that grow and shrink in turn leave holes of many sizes; the memory
// bound limits live bytes, so a pool can still grow when no hole fits it
// although little is in use.
func TestArenaFragmentationKeepsMemoryUsable(t *testing.T) {
	a, err := newArena(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })
	// Fill the bound with 1-page ranges, free every other one: half the
	// bound is free, in holes too small for a 2-page range.
	var offs []int64
	for {
		off, ok, err := a.alloc(pageSize)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		offs = append(offs, off)
	}
	if got := int64(len(offs)) * pageSize; got != a.max {
		t.Fatalf("filled %d bytes, bound %d", got, a.max)
	}
	for i := 0; i < len(offs); i += 2 {
		if err := a.release(offs[i], pageSize); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := a.alloc(2 * pageSize); err != nil || !ok {
		t.Fatalf("2-page range with half the bound free in 1-page holes: ok %v, err %v", ok, err)
	}
	if _, ok, _ := a.alloc(a.max); ok {
		t.Fatal("a range past the memory bound was handed out")
	}
}
