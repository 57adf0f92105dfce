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

// chainsOf returns the chains of the frames seqs, for identity only.
func chainsOf(t *testing.T, port *Port, seqs ...uint64) []*chain.Chain {
	t.Helper()
	var cs []*chain.Chain
	for _, seq := range seqs {
		if err := port.With(seq, func(c *chain.Chain) error { cs = append(cs, c); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return cs
}

// A full queue renews the chains of the frames it drops for the new
// ones, rather than freeing them and making new ones, and the renewed
// chains hold the new frames with their layers.
func TestFullQueueRenewsDroppedChains(t *testing.T) {
	p := newTestPond(t, 64)
	port, peer := manualPort(t, p, Config{RxQueue: 4}, 4)
	receiveFrames(t, port, peer, numbered(1), numbered(2), numbered(3), numbered(4))
	old := chainsOf(t, port, 1, 2)
	receiveFrames(t, port, peer, numbered(5), numbered(6))
	if got := chainsOf(t, port, 5, 6); !slices.Equal(got, old) {
		t.Errorf("frames 5 and 6 are in chains %p, want those of frames 1 and 2, %p", got, old)
	}
	if got := port.Seqs(nil); !slices.Equal(got, []uint64{3, 4, 5, 6}) {
		t.Fatalf("Seqs = %v, want [3 4 5 6]", got)
	}
	err := port.With(6, func(c *chain.Chain) error {
		if got := chainBytes(t, c, 0); !bytes.Equal(got, numbered(6)) {
			t.Errorf("frame 6 holds %x", got)
		}
		if info, err := c.Layer(c.Depth()); err != nil || info.Proto != ProtoPayload {
			t.Errorf("frame 6's top layer: %+v, %v", info, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := port.Stats(); s.RxPackets != 6 || s.RxDropped != 2 || s.RxQueue != 4 {
		t.Errorf("stats %+v, want 6 received, 2 dropped, 4 queued", s)
	}
	if used := port.Account().Stats().UsedBytes; used != 4*2048 {
		t.Errorf("account uses %d bytes, want the 4 queued frames' %d", used, 4*2048)
	}
	takeAll(t, port)
}

// A frame borrowed while the queue drops it keeps its chain and bytes;
// it is freed when the borrower is done, and its chain is not renewed.
func TestFullQueueDropsBorrowedFrame(t *testing.T) {
	p := newTestPond(t, 64)
	port, peer := manualPort(t, p, Config{RxQueue: 2}, 4)
	receiveFrames(t, port, peer, numbered(1), numbered(2))
	var borrowed *chain.Chain
	err := port.With(1, func(c *chain.Chain) error {
		borrowed = c
		receiveFrames(t, port, peer, numbered(3), numbered(4)) // drop 1 and 2
		if got := chainBytes(t, c, 0); !bytes.Equal(got, numbered(1)) {
			t.Errorf("the borrowed frame now holds %x", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := port.Seqs(nil); !slices.Equal(got, []uint64{3, 4}) {
		t.Fatalf("Seqs = %v, want [3 4]", got)
	}
	if cs := chainsOf(t, port, 3, 4); slices.Contains(cs, borrowed) {
		t.Error("a new frame renewed the chain of the borrowed one")
	}
	// The borrowed frame's buffer went back when With returned.
	if used := port.Account().Stats().UsedBytes; used != 2*2048 {
		t.Errorf("account uses %d bytes, want %d", used, 2*2048)
	}
	takeAll(t, port)
}
