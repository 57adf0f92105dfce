package netdev

import (
	"bytes"
	"slices"
	"testing"

	"github.com/pondfs/pondfs/chain"
)

// receiveFrames has peer send frames and port receive them, one by one.
func receiveFrames(t *testing.T, port *Port, peer *MemDevice, frames ...[]byte) {
	t.Helper()
	for _, f := range frames {
		if _, err := peer.Writev([][]byte{f}); err != nil {
			t.Fatalf("peer Writev: %v", err)
		}
		if err := port.receiveOne(); err != nil {
			t.Fatalf("receiveOne: %v", err)
		}
	}
}

// madeChains reports, for each queued frame, whether its chain was made.
func madeChains(port *Port) []bool {
	port.mu.Lock()
	defer port.mu.Unlock()
	var made []bool
	for i := range port.q.n {
		f := port.q.at(i)
		f.mu.Lock()
		made = append(made, f.c != nil)
		f.mu.Unlock()
	}
	return made
}

// A frame's chain is made when the frame is first used, once; frames
// nobody used have none.
func TestChainMadeAtFirstUse(t *testing.T) {
	p := newTestPond(t, 64)
	port, peer := manualPort(t, p, Config{RxQueue: 4}, 4)
	receiveFrames(t, port, peer, udpFrame(hello), numbered(2))
	if got := madeChains(port); !slices.Equal(got, []bool{false, false}) {
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
			if got := chainBytes(t, c, 0); !bytes.Equal(got, udpFrame(hello)) || c.Depth() != 3 {
				t.Errorf("frame 1: %d layers over %x", c.Depth()+1, got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := madeChains(port); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("chains made: %v, want only frame 1's", got)
	}
	c, err := port.Take(2)
	if err != nil {
		t.Fatal(err)
	}
	if got := chainBytes(t, c, 0); !bytes.Equal(got, numbered(2)) {
		t.Errorf("frame 2 holds %x", got)
	}
	c.Free()
	if _, err := port.Take(2); err == nil {
		t.Error("frame 2 taken twice")
	}
	if !port.Queued(1) || port.Queued(2) || port.Queued(3) {
		t.Errorf("Queued(1, 2, 3) = %v, %v, %v, want true, false, false", port.Queued(1), port.Queued(2), port.Queued(3))
	}
	takeAll(t, port)
}

// A full queue drops its oldest frames, chain made or not, and their
// memory goes back at once: a made chain to the pond, the buffer of a
// frame dropped unread to the receiver, for the next frame.
func TestFullQueueFreesDroppedFrames(t *testing.T) {
	p := newTestPond(t, 64)
	port, peer := manualPort(t, p, Config{RxQueue: 2}, 4)
	receiveFrames(t, port, peer, numbered(1), numbered(2))
	if err := port.With(1, func(*chain.Chain) error { return nil }); err != nil {
		t.Fatal(err)
	}
	receiveFrames(t, port, peer, numbered(3), numbered(4), numbered(5))
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
	takeAll(t, port)
}
