package netdev_test

import (
	"testing"

	"github.com/pondfs/pondfs/netdev"
)

// TestFrameAgeStartsWithTheFrame: a received frame's buffer, taken by the
// receiver before the frame came, shows the frame's age in InUse, not the
// time it was kept waiting.
func TestFrameAgeStartsWithTheFrame(t *testing.T) {
	const waited = 100 // ms the staged buffer waits for a frame
	p := netdev.NewTestPond(t, 256)
	m := newMemPort(t, p, netdev.Config{})
	stagedAge := func() uint64 {
		for _, c := range p.Pools() {
			for _, in := range c.InUse() {
				return in.AgeMs // the only buffer in use: the staged one
			}
		}
		return 0
	}
	netdev.WaitFor(t, "the staged buffer to wait", func() bool { return stagedAge() >= waited })
	m.inject(t, netdev.Numbered(1))
	netdev.WaitSeen(t, m.Port, 1)
	var frameOff int64 = -1
	m.Holders(func(off int64, holder string) {
		if holder == "rx mem0 1" {
			frameOff = off
		}
	})
	for _, c := range p.Pools() {
		for _, in := range c.InUse() {
			if in.Offset == frameOff && in.AgeMs >= waited {
				t.Errorf("frame 1's buffer is %d ms old, received less than %d ms ago", in.AgeMs, waited)
			}
		}
	}
	if frameOff < 0 {
		t.Fatal("no buffer named for frame 1")
	}
}
