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
