package netdev_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/netdev"
)

// holderNames is what Holders says of every buffer it names, by offset.
func holderNames(port *netdev.Port) map[int64]string {
	out := make(map[int64]string)
	port.Holders(func(off int64, holder string) { out[off] = holder })
	return out
}

// count is how many buffers holders gives to holder.
func count(holders map[int64]string, holder string) int {
	n := 0
	for _, h := range holders {
		if h == holder {
			n++
		}
	}
	return n
}

// TestHoldersNameFramesAndRings: Holders names the buffer of each queued
// frame, before and after its chain is made, and the header and every
// slot of each attached ring, until the ring is closed; everything it
// names is in use, and what it does not name is the one buffer the
// receiver keeps for the next frame.
func TestHoldersNameFramesAndRings(t *testing.T) {
	p := netdev.NewTestPond(t, 256)
	m := newMemPort(t, p, netdev.Config{})
	m.inject(t, netdev.Numbered(1), netdev.Numbered(2))
	netdev.WaitSeen(t, m.Port, 2)
	h := holderNames(m.Port)
	if count(h, "rx mem0 1") != 1 || count(h, "rx mem0 2") != 1 || len(h) != 2 {
		t.Fatalf("holders of two queued frames: %v", h)
	}
	var frameBufs []int64
	if err := m.With(1, func(c *chain.Chain) error {
		for _, b := range c.Buffers(nil) {
			frameBufs = append(frameBufs, b.Offset())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h = holderNames(m.Port)
	for _, off := range frameBufs {
		if h[off] != "rx mem0 1" {
			t.Errorf("buffer %d of frame 1's chain: holder %q", off, h[off])
		}
	}
	rx, tx := attach(t, m.Port, netdev.RxRing), attach(t, m.Port, netdev.TxRing)
	h = holderNames(m.Port)
	for _, r := range []*netdev.Ring{rx, tx} {
		name := "ring mem0 " + r.Kind().String()
		if n := count(h, name); n != r.Layout().Slots+1 {
			t.Errorf("%q names %d buffers, want %d slots and the header", name, n, r.Layout().Slots)
		}
		if h[r.Layout().HeaderOffset] != name {
			t.Errorf("the %s ring's header: holder %q", r.Kind(), h[r.Layout().HeaderOffset])
		}
	}
	inUse := inUseOffsets(t, m.Port)
	for off, holder := range h {
		if !inUse[off] {
			t.Errorf("buffer %d, named %q, is not in use", off, holder)
		}
	}
	if unnamed := len(inUse) - len(h); unnamed > 1 {
		t.Errorf("%d buffers in use that Holders does not name, want at most the staged one", unnamed)
	}
	rx.Close()
	tx.Close()
	netdev.TakeAll(t, m.Port)
	if h = holderNames(m.Port); len(h) != 0 {
		t.Errorf("holders with no frame queued and the rings closed: %v", slices.Collect(maps.Values(h)))
	}
}

// inUseOffsets is the offset of every buffer in use in the port's pond.
func inUseOffsets(t testing.TB, port *netdev.Port) map[int64]bool {
	t.Helper()
	out := make(map[int64]bool)
	for _, c := range port.PondOf().Pools() {
		for _, in := range c.InUse() {
			out[in.Offset] = true
		}
	}
	return out
}
