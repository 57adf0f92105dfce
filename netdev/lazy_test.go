package netdev_test

import (
	"bytes"
	"github.com/pondfs/pondfs/netdev"
	"github.com/pondfs/pondfs/netdev/netdevtest"
	"slices"
	"testing"

	"github.com/pondfs/pondfs/chain"
)

// receiveFrames has peer send frames and port receive them, one by one.
func receiveFrames(t *testing.T, port *netdev.Port, peer *netdevtest.MemDevice, frames ...[]byte) {
	t.Helper()
	for _, f := range frames {
		if _, err := peer.Writev([][]byte{f}); err != nil {
			t.Fatalf("peer Writev: %v", err)
		}
		if err := port.ReceiveOne(); err != nil {
			t.Fatalf("receiveOne: %v", err)
		}
	}
}

// A frame's chain is made when the frame is first used, once; frames
// nobody used have none.
func TestChainMadeAtFirstUse(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	port, peer := manualPort(t, p, netdev.Config{RxQueue: 4}, 4)
	receiveFrames(t, port, peer, netdev.UDPFrame(netdev.Hello), netdev.Numbered(2))
	if got := port.MadeChains(); !slices.Equal(got, []bool{false, false}) {
		t.Fatalf("chains made before any use: %v", got)
	}
	var first *chain.Chain
	for range 2 {
		err := port.With(1, func(c *chain.Chain) error {
			if first == nil {
				first = c
			} else if c != first {
				t.Error("a second With made another chain")
			}
			// TestReceiveLayers checks the layers a chain is made with.
			if got := netdev.ChainBytes(t, c, 0); !bytes.Equal(got, netdev.UDPFrame(netdev.Hello)) || c.Depth() != 3 {
				t.Errorf("frame 1: %d layers over %x", c.Depth()+1, got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := port.MadeChains(); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("chains made: %v, want only frame 1's", got)
	}
	c, err := port.Take(2)
	if err != nil {
		t.Fatal(err)
	}
	if got := netdev.ChainBytes(t, c, 0); !bytes.Equal(got, netdev.Numbered(2)) {
		t.Errorf("frame 2 holds %x", got)
	}
	c.Free()
	if _, err := port.Take(2); err == nil {
		t.Error("frame 2 taken twice")
	}
	if !port.Queued(1) || port.Queued(2) || port.Queued(3) {
		t.Errorf("Queued(1, 2, 3) = %v, %v, %v, want true, false, false", port.Queued(1), port.Queued(2), port.Queued(3))
	}
	netdev.TakeAll(t, port)
}

// A full queue drops its oldest frames, chain made or not, and their
// memory goes back at once: a made chain to the pond, the buffer of a
// frame dropped unread to the receiver, for the next frame.
func TestFullQueueFreesDroppedFrames(t *testing.T) {
	p := netdev.NewTestPond(t, 64)
	port, peer := manualPort(t, p, netdev.Config{RxQueue: 2}, 4)
	receiveFrames(t, port, peer, netdev.Numbered(1), netdev.Numbered(2))
	if err := port.With(1, func(*chain.Chain) error { return nil }); err != nil {
		t.Fatal(err)
	}
	receiveFrames(t, port, peer, netdev.Numbered(3), netdev.Numbered(4), netdev.Numbered(5))
	if got := port.Seqs(nil); !slices.Equal(got, []uint64{4, 5}) {
		t.Fatalf("Seqs = %v, want [4 5]", got)
	}
	// Frames 1-4 took a buffer each, one of them frame 1's given back
	// with its chain; frame 2 was dropped unread, so frame 5 went in its
	// buffer, and frame 3's is staged for the next frame.
	if s := port.Account().Stats(); s.UsedBytes != 3*2048 || s.Allocs != 4 {
		t.Errorf("account %+v, want the 2 queued frames' and the staged buffer's %d bytes, 4 allocs", s, 3*2048)
	}
	if s := port.Stats(); s.RxPackets != 5 || s.RxDropped != 3 {
		t.Errorf("stats %+v, want 5 received, 3 dropped", s)
	}
	netdev.TakeAll(t, port)
}
