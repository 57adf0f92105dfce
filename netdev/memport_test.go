package netdev_test

import (
	"log"
	"testing"

	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
	"github.com/pondfs/pondfs/pond"
)

// testMaxFrame is the max frame of the memory devices tests use: an MTU
// of 1500 with Ethernet header and VLAN tag.
const testMaxFrame = 1518

// memPort is a port over one end of a memory pair, and the other end.
type memPort struct {
	*netdev.Port
	dev  *netdevtest.MemDevice // the port's end
	peer *netdevtest.MemDevice
	log  *netdev.LogBuf
}

// newMemPort starts a port on a memory pair named mem0, returns once its
// receiver waits for the first frame, and closes both when the test ends.
func newMemPort(t testing.TB, p *pond.Pond, cfg netdev.Config) memPort {
	t.Helper()
	dev, peer := netdevtest.NewMemPair("mem0", testMaxFrame, 256)
	lb := &netdev.LogBuf{}
	cfg.Log = log.New(lb, "", 0)
	port, err := netdev.NewPort(p, dev, cfg)
	if err != nil {
		t.Fatalf("NewPort: %v", err)
	}
	t.Cleanup(func() {
		port.Close()
		peer.Close()
	})
	// The receiver stages its buffers and then waits for a frame: until it
	// waits, it may have looked for a ring before the test attaches one,
	// and put the next frame in the queue.
	netdev.WaitFor(t, "the receiver to wait for a frame", dev.Waiting)
	return memPort{port, dev, peer, lb}
}

// manualPort is a port on a memory device queueing depth frames, whose
// receive goroutine never runs: the test calls ReceiveOne itself, so that
// it knows what has been received. It is closed when t ends.
func manualPort(t testing.TB, p *pond.Pond, cfg netdev.Config, depth int) (*netdev.Port, *netdevtest.MemDevice) {
	t.Helper()
	dev, peer := netdevtest.NewMemPair("mem0", testMaxFrame, depth)
	return manualPortOn(t, p, dev, peer, cfg), peer
}

// manualPortOn is manualPort on dev, a memory device or one wrapping it,
// whose peer is closed with the port.
func manualPortOn(t testing.TB, p *pond.Pond, dev netdev.Device, peer *netdevtest.MemDevice, cfg netdev.Config) *netdev.Port {
	t.Helper()
	port, err := netdev.NewManualPort(p, dev, cfg)
	if err != nil {
		t.Fatalf("newPort: %v", err)
	}
	t.Cleanup(func() {
		port.ReceiverDone()
		port.Close()
		peer.Close()
	})
	return port
}

// inject writes frames from the peer's side, for the port to receive.
func (m memPort) inject(t testing.TB, frames ...[]byte) {
	t.Helper()
	for _, f := range frames {
		if _, err := m.peer.Writev([][]byte{f}); err != nil {
			t.Fatalf("peer Writev: %v", err)
		}
	}
}
