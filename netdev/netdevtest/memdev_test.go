package netdevtest

import (
	"bytes"
	"github.com/pondfs/pondfs/netdev"
	"testing"
	"time"
)

func TestMemPairCarriesFramesBothWays(t *testing.T) {
	dev, peer := NewMemPair("m", testMaxFrame, 4)
	defer dev.Close()
	defer peer.Close()
	if dev.Name() != "m" || peer.Name() != "m-peer" || dev.MaxFrame() != testMaxFrame {
		t.Fatalf("names %q %q, max frame %d", dev.Name(), peer.Name(), dev.MaxFrame())
	}
	frame := udpFrame([]byte("one frame in three pieces"))
	n, err := peer.Writev([][]byte{frame[:5], frame[5:20], frame[20:]})
	if err != nil || n != len(frame) {
		t.Fatalf("Writev: %d, %v", n, err)
	}
	buf := make([]byte, testMaxFrame+1)
	n, err = dev.Readv([][]byte{buf})
	if err != nil || !bytes.Equal(buf[:n], frame) {
		t.Fatalf("Read: %v, %x", err, buf[:n])
	}
	if _, err := dev.Writev([][]byte{frame}); err != nil {
		t.Fatal(err)
	}
	if n, err = peer.Readv([][]byte{buf}); err != nil || !bytes.Equal(buf[:n], frame) {
		t.Fatalf("peer Read: %v, %x", err, buf[:n])
	}
}

func TestMemPairFrameSize(t *testing.T) {
	dev, peer := NewMemPair("m", 100, 4)
	defer dev.Close()
	defer peer.Close()
	for _, n := range []int{0, netdev.EthHeaderLen - 1, 101} {
		_, err := peer.Writev([][]byte{make([]byte, n)})
		wantIs(t, "Writev of a bad size", err, netdev.ErrFrameSize)
	}
	for _, n := range []int{netdev.EthHeaderLen, 100} {
		if _, err := peer.Writev([][]byte{make([]byte, n)}); err != nil {
			t.Fatalf("Writev(%d bytes): %v", n, err)
		}
	}
	// A 14-byte frame fits a 15-byte buffer; a 100-byte one does not fit a
	// 100-byte buffer (a frame that fills the buffer may have been cut) and
	// is dropped.
	if n, err := dev.Readv([][]byte{make([]byte, netdev.EthHeaderLen+1)}); err != nil || n != netdev.EthHeaderLen {
		t.Fatalf("Read: %d, %v", n, err)
	}
	_, err := dev.Readv([][]byte{make([]byte, 100)})
	wantIs(t, "Read into a buffer the frame fills", err, netdev.ErrFrameSize)
	peer.Writev([][]byte{make([]byte, 20)})
	if n, err := dev.Readv([][]byte{make([]byte, 101)}); err != nil || n != 20 {
		t.Fatalf("Read after a dropped frame: %d, %v, want the next frame", n, err)
	}
}

func TestMemPairBounded(t *testing.T) {
	dev, peer := NewMemPair("m", testMaxFrame, 2)
	defer dev.Close()
	defer peer.Close()
	for i := range 5 {
		if _, err := peer.Writev([][]byte{numbered(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := dev.Dropped(); got != 3 {
		t.Fatalf("Dropped = %d, want 3", got)
	}
	buf := make([]byte, testMaxFrame+1)
	for i := range 2 {
		n, err := dev.Readv([][]byte{buf})
		if err != nil || !bytes.Equal(buf[:n], numbered(i)) {
			t.Fatalf("frame %d: %v %x", i, err, buf[:n])
		}
	}
}

func TestMemPairCloseUnblocksRead(t *testing.T) {
	dev, peer := NewMemPair("m", testMaxFrame, 2)
	defer peer.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := dev.Readv([][]byte{make([]byte, testMaxFrame+1)})
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond) // let Read block, if it is going to
	dev.Close()
	select {
	case err := <-errc:
		wantIs(t, "Read pending at Close", err, netdev.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
	_, err := dev.Readv([][]byte{make([]byte, 100)})
	wantIs(t, "Read after Close", err, netdev.ErrClosed)
	_, err = dev.Writev([][]byte{make([]byte, 20)})
	wantIs(t, "Writev after Close", err, netdev.ErrClosed)
	if err := dev.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestMemPairPeerGone(t *testing.T) {
	dev, peer := NewMemPair("m", testMaxFrame, 4)
	defer dev.Close()
	peer.Writev([][]byte{numbered(1)})
	peer.Close()
	buf := make([]byte, testMaxFrame+1)
	if n, err := dev.Readv([][]byte{buf}); err != nil || !bytes.Equal(buf[:n], numbered(1)) {
		t.Fatalf("frame queued before the peer closed: %v", err)
	}
	_, err := dev.Readv([][]byte{buf})
	wantIs(t, "Read once the peer closed", err, netdev.ErrDeviceGone)
	_, err = dev.Writev([][]byte{numbered(2)})
	wantIs(t, "Writev once the peer closed", err, netdev.ErrDeviceGone)
}
