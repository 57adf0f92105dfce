package netdev_test

import (
	"bytes"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
	"sync/atomic"
	"testing"

	"github.com/pondfs/pondfs/chain"
	"github.com/pondfs/pondfs/pond"
)

// resizableDev is a memory device whose MaxFrame the test changes, as an
// MTU change does a TAP's.
type resizableDev struct {
	*netdevtest.MemDevice
	max atomic.Int64
}

func (d *resizableDev) MaxFrame() int { return int(d.max.Load()) }

// A buffer a dropped frame leaves for the next one is used only while it
// is the one the pond gives for the device's largest frame: once frames
// grow, or shrink, it goes back to the pond and the next frame gets a
// buffer that fits.
func TestStagedBufferFollowsMaxFrame(t *testing.T) {
	p := netdev.NewPondOf(t, pond.Config{
		Classes: []pond.ClassConfig{
			{Size: 2048, Max: 8, GrowBy: 8},
			{Size: 8192, Max: 8, GrowBy: 8},
		},
		ArenaMax: 4 << 20,
	})
	mem, peer := netdevtest.NewMemPair("mem0", 9000, 4)
	dev := &resizableDev{MemDevice: mem}
	dev.max.Store(1514)
	port := manualPortOn(t, p, dev, peer, netdev.Config{RxQueue: 1, AccountLimit: 64 << 10})
	receiveFrames(t, port, peer, netdev.Numbered(1), netdev.Numbered(2))
	if size := port.StagedSize(); size != 2048 {
		t.Fatalf("staged buffer of %d bytes after a dropped frame, want frame 1's 2048", size)
	}
	dev.max.Store(4000)
	jumbo := netdev.UDPFrame(bytes.Repeat([]byte{'j'}, 3000))
	receiveFrames(t, port, peer, jumbo, jumbo)
	if s := port.Stats(); s.RxPackets != 4 || s.RxDropped != 3 {
		t.Fatalf("stats %+v, want 4 received, 3 dropped from the queue of 1", s)
	}
	err := port.With(4, func(c *chain.Chain) error {
		if got := netdev.ChainBytes(t, c, 0); !bytes.Equal(got, jumbo) {
			t.Errorf("the jumbo frame came out as %d bytes", len(got))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if big := p.Pools()[1].Stats(); big.InUse != 2 {
		t.Errorf("8192-byte pool has %d buffers in use, want 2: frame 4's and frame 3's, staged", big.InUse)
	}

	dev.max.Store(1514)
	receiveFrames(t, port, peer, netdev.Numbered(5))
	if big := p.Pools()[1].Stats(); big.InUse != 0 {
		t.Errorf("8192-byte pool has %d buffers in use after frames shrank, want 0", big.InUse)
	}
	netdev.TakeAll(t, port)
}
